//! Translation table geometry (VMSAv8-64, 48-bit input and output, no FEAT_LPA2/TTST):
//! bits resolved per level, start levels, block levels and stage-2 concatenation.

use super::{Granule, S2Cfg};
use crate::spec::desc::{DESC_SHIFT, OA_BITS_48};

/// The last level of every walk.
pub const FINAL_LEVEL: u8 = 3;
/// Smallest TxSZ / S2T0SZ: a 48-bit input address space.
pub const TSZ_MIN: u32 = 64 - OA_BITS_48;
/// Largest TxSZ / S2T0SZ without small translation tables (SMMU_IDR3.STT = 0).
pub const TSZ_MAX: u32 = 39;
/// Most stage-2 start tables that may be concatenated.
pub const S2_MAX_CONCAT: u32 = 16;

impl Granule {
    /// Input address bits resolved by one level of lookup: log2(granule / descriptor size).
    pub fn stride(self) -> u32 {
        self.shift() - DESC_SHIFT
    }

    /// Lowest input address bit resolved at `level`, which is also log2 of the size mapped by a
    /// block or page descriptor at that level. Levels above 3 are treated as 3.
    pub fn level_shift(self, level: u8) -> u32 {
        let below = u32::from(FINAL_LEVEL - level.min(FINAL_LEVEL));
        self.shift() + below * self.stride()
    }

    /// Whether a block descriptor is permitted at `level` with a 48-bit output address.
    pub fn block_allowed(self, level: u8) -> bool {
        match self {
            Granule::G4K => level == 1 || level == 2,
            Granule::G16K | Granule::G64K => level == 2,
        }
    }
}

/// Start level of a stage-1 table, or None if TxSZ is out of range for the granule.
pub fn s1_start_level(tsz: u32, granule: Granule) -> Option<u8> {
    if !(TSZ_MIN..=TSZ_MAX).contains(&tsz) {
        return None;
    }
    let input_bits = 64 - tsz;
    // Levels needed to resolve everything above the page offset.
    let levels = (input_bits - granule.shift()).div_ceil(granule.stride());
    u8::try_from(4 - levels).ok()
}

/// Start level and number of concatenated start tables for a stage-2 config, or None if the
/// (S2T0SZ, S2SL0, granule, PS) combination is inconsistent (the STE validator uses this to
/// raise C_BAD_STE).
///
/// The rules are the Arm ARM's for VTCR_EL2.{T0SZ, SL0, TG0}: S2T0SZ in 16..=39; S2SL0 = 3 is
/// reserved (no TTST, no LPA2); a level-0 start with 4K (or level-1 with 16K/64K) needs a PA size
/// of at least 44 (42 for 16K) bits, where the effective S2PS (`ps_bits`) stands for the PA size;
/// and the IPA size must be resolvable from the start level with at most 16 concatenated tables.
pub fn s2_start(cfg: &S2Cfg) -> Option<(u8, u32)> {
    if !(TSZ_MIN..=TSZ_MAX).contains(&cfg.t0sz) {
        return None;
    }
    let g = cfg.granule;
    let (start, pa_bits_needed) = match (g, cfg.sl0) {
        (Granule::G4K, 0) => (2, 0),
        (Granule::G4K, 1) => (1, 0),
        (Granule::G4K, 2) => (0, 44),
        (Granule::G16K, 2) => (1, 42),
        (Granule::G64K, 2) => (1, 44),
        (Granule::G16K | Granule::G64K, 0) => (3, 0),
        (Granule::G16K | Granule::G64K, 1) => (2, 0),
        _ => return None,
    };
    if cfg.ps_bits < pa_bits_needed {
        return None;
    }
    let input_bits = 64 - cfg.t0sz;
    // At least one bit for the start level, at most a full stride plus 16-way concatenation.
    let min_bits = g.level_shift(start) + 1;
    let max_bits = g.level_shift(start) + g.stride() + S2_MAX_CONCAT.ilog2();
    if !(min_bits..=max_bits).contains(&input_bits) {
        return None;
    }
    let start_bits = input_bits - g.level_shift(start);
    let concat = 1u32 << start_bits.saturating_sub(g.stride());
    Some((start, concat))
}

/// Mask of the low `bits` bits (all ones for 64 and above).
pub(super) fn low_mask(bits: u32) -> u64 {
    u64::MAX.checked_shr(64u32.saturating_sub(bits)).unwrap_or(0)
}

/// Whether `addr` is representable in `bits` bits.
pub(crate) fn fits(addr: u64, bits: u32) -> bool {
    addr.checked_shr(bits).unwrap_or(0) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pas::Pas;

    fn s2(t0sz: u32, sl0: u32, granule: Granule, ps_bits: u32) -> S2Cfg {
        S2Cfg {
            ttb: 0,
            t0sz,
            sl0,
            granule,
            ps_bits,
            affd: false,
            record: false,
            vmid: 0,
            xnx: false,
            walk_pas: Pas::NonSecure,
            out_pas: Pas::NonSecure,
        }
    }

    #[test]
    fn level_shifts_match_the_vmsa_tables() {
        assert_eq!([0, 1, 2, 3].map(|l| Granule::G4K.level_shift(l)), [39, 30, 21, 12]);
        assert_eq!([0, 1, 2, 3].map(|l| Granule::G16K.level_shift(l)), [47, 36, 25, 14]);
        assert_eq!([1, 2, 3].map(|l| Granule::G64K.level_shift(l)), [42, 29, 16]);
    }

    #[test]
    fn blocks_are_allowed_only_at_l1_l2_for_4k_and_l2_otherwise() {
        let allowed = |g: Granule| [0, 1, 2, 3].map(|l| g.block_allowed(l));
        assert_eq!(allowed(Granule::G4K), [false, true, true, false]);
        assert_eq!(allowed(Granule::G16K), [false, false, true, false]);
        assert_eq!(allowed(Granule::G64K), [false, false, true, false]);
    }

    #[test]
    fn s1_start_level_follows_input_size() {
        assert_eq!(s1_start_level(16, Granule::G4K), Some(0));
        assert_eq!(s1_start_level(25, Granule::G4K), Some(1));
        assert_eq!(s1_start_level(33, Granule::G4K), Some(1));
        assert_eq!(s1_start_level(34, Granule::G4K), Some(2));
        assert_eq!(s1_start_level(16, Granule::G16K), Some(0));
        assert_eq!(s1_start_level(17, Granule::G16K), Some(1));
        assert_eq!(s1_start_level(16, Granule::G64K), Some(1));
        assert_eq!(s1_start_level(22, Granule::G64K), Some(2));
        assert_eq!(s1_start_level(39, Granule::G64K), Some(3));
    }

    #[test]
    fn s1_start_level_rejects_out_of_range_tsz() {
        assert_eq!(s1_start_level(15, Granule::G4K), None);
        assert_eq!(s1_start_level(40, Granule::G16K), None);
        assert_eq!(s1_start_level(u32::MAX, Granule::G64K), None);
    }

    #[test]
    fn s2_start_of_the_qemu_qtest_config_is_level_0_single_table() {
        assert_eq!(s2_start(&s2(20, 2, Granule::G4K, 44)), Some((0, 1)));
    }

    #[test]
    fn s2_start_concatenates_up_to_16_tables() {
        // 40-bit IPA from level 1 with 4K: 10 bits at level 1, two tables.
        assert_eq!(s2_start(&s2(24, 1, Granule::G4K, 48)), Some((1, 2)));
        // 43-bit IPA from level 1: 13 bits, sixteen tables.
        assert_eq!(s2_start(&s2(21, 1, Granule::G4K, 48)), Some((1, 16)));
        // 44-bit IPA from level 1 would need 32 tables.
        assert_eq!(s2_start(&s2(20, 1, Granule::G4K, 48)), None);
        // 48-bit IPA with 16K from level 1: 12 bits, two tables.
        assert_eq!(s2_start(&s2(16, 2, Granule::G16K, 48)), Some((1, 2)));
    }

    #[test]
    fn s2_start_rejects_a_start_level_with_nothing_to_resolve() {
        // 30-bit IPA cannot start at 4K level 0 (needs at least 40 bits).
        assert_eq!(s2_start(&s2(34, 2, Granule::G4K, 48)), None);
        // 25-bit IPA from 64K level 2 needs at least 30 bits.
        assert_eq!(s2_start(&s2(39, 1, Granule::G64K, 48)), None);
    }

    #[test]
    fn s2_start_rejects_reserved_sl0_and_small_pa_for_the_deepest_start() {
        assert_eq!(s2_start(&s2(16, 3, Granule::G4K, 48)), None);
        assert_eq!(s2_start(&s2(16, 3, Granule::G64K, 48)), None);
        assert_eq!(s2_start(&s2(24, 2, Granule::G4K, 40)), None);
        assert_eq!(s2_start(&s2(24, 2, Granule::G4K, 44)), Some((0, 1)));
        assert_eq!(s2_start(&s2(20, 2, Granule::G16K, 40)), None);
        assert_eq!(s2_start(&s2(20, 2, Granule::G16K, 42)), Some((1, 1)));
    }

    #[test]
    fn s2_start_rejects_out_of_range_t0sz() {
        assert_eq!(s2_start(&s2(15, 2, Granule::G4K, 48)), None);
        assert_eq!(s2_start(&s2(40, 0, Granule::G4K, 48)), None);
        assert_eq!(s2_start(&s2(u32::MAX, 0, Granule::G4K, 48)), None);
    }

    #[test]
    fn low_mask_and_fits_handle_every_width() {
        assert_eq!(low_mask(0), 0);
        assert_eq!(low_mask(12), 0xfff);
        assert_eq!(low_mask(64), u64::MAX);
        assert_eq!(low_mask(200), u64::MAX);
        assert!(fits(0xffff_ffff, 32));
        assert!(!fits(1 << 32, 32));
        assert!(fits(u64::MAX, 64));
        assert!(fits(u64::MAX, u32::MAX));
    }
}
