//! SubstreamID to CD: CD table walk (S1Fmt linear, 2-level with 4 KiB and 64 KiB leaves,
//! S1CDMax; IHI 0070 §5.2 S1Fmt, §5.3, §5.4) and CD validation into a [`walk::S1Cfg`]
//! (pseudocode `CdIllegal()` of §5.4.2).
//!
//! With stage 2 enabled, STE.S1ContextPtr and L1CD.L2Ptr are IPAs: every L1CD and CD fetch is
//! translated through stage 2 with CLASS=CD first.

use crate::Smmu;
use crate::config::SmmuConfig;
use crate::mem::PhysMem;
use crate::pas::{Pas, SecSid};
use crate::spec::cd::{CD_SHIFT, Cd, tg1};
use crate::spec::event::class;
use crate::spec::genmask;
use crate::spec::regs::{httu, stall_model, ttendian, ttf};
use crate::spec::ste::addr_55_4;
use crate::spec::table::{CD_LEAF_64K_BYTES_SHIFT, L1CD_L2PTR_SHIFT, L1CD_SIZE, L1Cd};
use crate::stream::{
    CdTableFmt, Rule, S1Ste, StreamWorld, TransCfg, align_down, eff_ps, fetch, granule_supported,
    ias_bits, tg0_granule,
};
use crate::trace::{self, FetchKind, TraceEvent, TraceSink};
use crate::walk::{self, Access, Fault, Granule, S1Cfg, S1Table, S2Cfg, fits};

/// Why a CD could not be fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CdFetchError {
    /// C_BAD_SUBSTREAMID from the L1CD; `ssid` is the index that was being fetched.
    BadSubstream { rule: Rule, ssid: u32 },
    /// Stage-2 fault translating the IPA of an L1CD or CD (CLASS=CD).
    S2(Fault),
    /// The read of an L1CD or CD failed at this PA (F_CD_FETCH).
    Fetch(u64),
}

/// A CD fetch is a data read.
const CD_FETCH_ACCESS: Access = Access { rnw: true, pnu: false, ind: false };

impl Smmu {
    /// Fetches CD number `index` of the stream's CD table (§5.2 S1Fmt, S1CDMax; §5.3).
    pub(crate) fn fetch_cd<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &self,
        sec: SecSid,
        t: &TransCfg,
        s1: &S1Ste,
        index: u32,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<Cd, CdFetchError> {
        let s2 = t.s2.as_ref();
        let idx = u64::from(index);
        let cd_addr = match s1.fmt {
            _ if s1.cdmax == 0 => s1.ctx_ptr,
            CdTableFmt::Linear => {
                // The table is aligned to its size; S1ContextPtr[S1CDMax + 5:6] are treated as 0.
                align_down(s1.ctx_ptr, i64::from(s1.cdmax + CD_SHIFT) - 1) + (idx << CD_SHIFT)
            }
            CdTableFmt::TwoLevel { leaf_shift } => {
                // L1 table of 2^(S1CDMax - leaf_shift) L1CDs (at least one), aligned to its size
                // or 64 bytes, whichever is greater.
                let l1_bits = s1.cdmax.saturating_sub(leaf_shift);
                let align = (l1_bits + 3).max(CD_SHIFT);
                let l1_addr =
                    align_down(s1.ctx_ptr, i64::from(align) - 1) + (idx >> leaf_shift) * L1CD_SIZE;
                let (l1, pa, pas): (L1Cd, _, _) =
                    self.read_cd_structure(sec, s2, l1_addr, mem, trace)?;
                trace::emit(trace, || TraceEvent::Fetch {
                    kind: FetchKind::L1Cd,
                    index,
                    addr: pa,
                    pas,
                    raw: l1.to_words().to_vec(),
                });
                let lb = l1.bits();
                if !lb.v() {
                    return Err(CdFetchError::BadSubstream { rule: Rule::L1cdV, ssid: index });
                }
                let mut l2 = lb.l2ptr() << L1CD_L2PTR_SHIFT;
                if leaf_shift + CD_SHIFT == CD_LEAF_64K_BYTES_SHIFT {
                    // L2Ptr[15:12] are RES0 for 64 KiB leaves: treated as zero.
                    l2 = align_down(l2, i64::from(CD_LEAF_64K_BYTES_SHIFT) - 1);
                }
                let limit = if s2.is_some() { ias_bits(&self.cfg) } else { self.cfg.oas_bits() };
                if !fits(l2, limit) {
                    return Err(CdFetchError::BadSubstream { rule: Rule::L1cdL2Ptr, ssid: index });
                }
                l2 + ((idx & genmask(leaf_shift - 1, 0)) << CD_SHIFT)
            }
        };
        let (cd, pa, pas): (Cd, _, _) = self.read_cd_structure(sec, s2, cd_addr, mem, trace)?;
        trace::emit(trace, || TraceEvent::Fetch {
            kind: FetchKind::Cd,
            index,
            addr: pa,
            pas,
            raw: cd.to_words().to_vec(),
        });
        Ok(cd)
    }

    /// Reads an L1CD or CD at `addr`: a PA in the interface's PAS, or an IPA translated through
    /// stage 2 (CLASS=CD) when `s2` is given. Returns the structure, its PA and PAS.
    fn read_cd_structure<
        S: zerocopy::FromBytes + zerocopy::IntoBytes,
        M: PhysMem + ?Sized,
        T: TraceSink + ?Sized,
    >(
        &self,
        sec: SecSid,
        s2: Option<&S2Cfg>,
        addr: u64,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<(S, u64, Pas), CdFetchError> {
        let (pa, pas) = match s2 {
            Some(s2) => {
                let r = walk::walk_s2(s2, addr, CD_FETCH_ACCESS, class::CD, mem, trace)
                    .map_err(CdFetchError::S2)?;
                (r.oa, r.pas)
            }
            None => (addr, sec.pas()),
        };
        let v = fetch(mem, pa, pas, self.cfg.oas_bits()).map_err(CdFetchError::Fetch)?;
        Ok((v, pa, pas))
    }
}

/// The PAS of the first table of a stage-1 walk (§5.4 NSCFGx; Realm pointers are Realm PAs).
fn s1_walk_pas(sec: SecSid, nscfg: bool) -> Pas {
    match sec {
        SecSid::NonSecure => Pas::NonSecure,
        SecSid::Secure if nscfg => Pas::NonSecure,
        SecSid::Secure => Pas::Secure,
        SecSid::Realm => Pas::Realm,
    }
}

/// Decodes a TG1 encoding to a granule the SMMU supports (IDR5), or `None`.
fn tg1_granule(cfg: &SmmuConfig, enc: u64) -> Option<Granule> {
    let g = match enc {
        tg1::G4K => Granule::G4K,
        tg1::G16K => Granule::G16K,
        tg1::G64K => Granule::G64K,
        _ => return None,
    };
    granule_supported(cfg, g).then_some(g)
}

/// The valid TxSZ range `(min, max)` of a VMSAv8-64 stage-1 region (`CDTxSZInvalid()`).
fn txsz_range(cfg: &SmmuConfig, g: Option<Granule>, ds: bool) -> (u32, u32) {
    let big = g == Some(Granule::G64K);
    let max = match (cfg.idr3().stt(), big) {
        (false, _) => 39,
        (true, true) => 47,
        (true, false) => 48,
    };
    let va52 = cfg.idr5().vax() != 0 && (big || (cfg.idr5().ds() && ds));
    (if va52 { 12 } else { 16 }, max)
}

/// Validates a CD reached through the STE `t` (§5.4.2 `CdIllegal()`) and decodes it into the
/// stage-1 configuration the walker takes. `cfg` is the configuration as the interface of `sec`
/// sees it (its SMMU_IDR0.STALL_MODEL).
pub fn decode_cd(
    cfg: &SmmuConfig,
    sec: SecSid,
    t: &TransCfg,
    s1: &S1Ste,
    cd: &Cd,
) -> Result<S1Cfg, Rule> {
    let b = cd.bits();
    if !b.v() {
        return Err(Rule::CdV);
    }
    let idr0 = cfg.idr0();
    if s1.stalld && b.s() {
        return Err(Rule::CdS1Stalld);
    }
    if idr0.term_model() && !b.a() {
        return Err(Rule::CdA);
    }
    let stall = idr0.stall_model();
    if stall == stall_model::TERMINATE_ONLY && b.s() {
        return Err(Rule::CdSNoStall);
    }
    if stall == stall_model::STALL_FORCED && !b.s() {
        return Err(Rule::CdSForced);
    }
    // any-EL2 and EL3: EPDx are IGNORED (effectively 0) and TTB1 is unreachable (§5.4 EPD0,
    // §5.4.1).
    let el2 = t.world.single_table();
    let epd0 = !el2 && b.epd0();
    let epd1 = el2 || b.epd1();
    let te = idr0.ttendian();
    if !(epd0 && epd1) {
        if te == ttendian::LITTLE && b.endi() {
            return Err(Rule::CdEndiLe);
        }
        if te == ttendian::BIG && !b.endi() {
            return Err(Rule::CdEndiBe);
        }
    }
    let ttf = idr0.ttf();
    let vmsa32 = !b.aa64();
    let aa32_world = match t.world {
        StreamWorld::El1 => true,
        StreamWorld::El2 => sec != SecSid::Secure,
        StreamWorld::El2E2h | StreamWorld::El3 => false,
    };
    if vmsa32 && (ttf & ttf::AARCH32 == 0 || !aa32_world) {
        return Err(Rule::CdAa32);
    }
    if !vmsa32 && ttf & ttf::AARCH64 == 0 {
        return Err(Rule::CdAa64Ttf);
    }
    if !vmsa32 && t.s2_aa32 {
        return Err(Rule::CdAa64S2Aa32);
    }
    if !vmsa32 {
        let h = idr0.httu();
        if (b.ha() || b.hd()) && h == httu::NONE {
            return Err(Rule::CdHa);
        }
        if b.hd() && h == httu::AF {
            return Err(Rule::CdHd);
        }
        if h == httu::AF_DIRTY_HAFT && b.haft() && !b.ha() {
            return Err(Rule::CdHaft);
        }
    }
    if vmsa32 {
        return Err(Rule::ModelCdAa32);
    }
    if t.world.has_asid() && !idr0.asid16() && b.asid() >> 8 != 0 {
        return Err(Rule::CdAsid);
    }
    let ds = cfg.idr5().ds() && b.ds();
    let g0 = tg0_granule(cfg, b.tg0());
    let g1 = tg1_granule(cfg, b.tg1());
    let (t0sz, t1sz) = (b.t0sz() as u32, b.t1sz() as u32);
    if !epd0 {
        let (min, max) = txsz_range(cfg, g0, ds);
        if t0sz < min {
            return Err(Rule::CdT0szMin);
        }
        if t0sz > max {
            return Err(Rule::CdT0szMax);
        }
    }
    if !epd1 {
        let (min, max) = txsz_range(cfg, g1, ds);
        if t1sz < min {
            return Err(Rule::CdT1szMin);
        }
        if t1sz > max {
            return Err(Rule::CdT1szMax);
        }
    }
    let ips = eff_ps(cfg, b.ips());
    let ttb0 = addr_55_4(b.ttb0());
    let ttb1 = addr_55_4(b.ttb1());
    let region = |g: Option<Granule>, ttb: u64, rules: [Rule; 3]| -> Result<Granule, Rule> {
        let g = g.ok_or(rules[0])?;
        if !fits(ttb, ips) {
            return Err(rules[1]);
        }
        if g != Granule::G64K && !ds && !fits(ttb, 48) {
            return Err(rules[2]);
        }
        Ok(g)
    };
    let g0 = if epd0 {
        None
    } else {
        Some(region(g0, ttb0, [Rule::CdTg0, Rule::CdTtb0Ips, Rule::CdTtb0_48])?)
    };
    let g1 = if epd1 {
        None
    } else {
        Some(region(g1, ttb1, [Rule::CdTg1, Rule::CdTtb1Ips, Rule::CdTtb1_48])?)
    };
    if !(epd0 && epd1) && b.endi() {
        return Err(Rule::ModelCdBigEndian);
    }
    let had = cfg.idr3().had();
    let tbi = [b.tbi0(), !el2 && b.tbi1()];
    let table = |g: Option<Granule>, ttb, tsz, had_x: bool, nscfg| {
        g.map(|granule| S1Table {
            ttb,
            tsz,
            granule,
            had: had && had_x,
            walk_pas: s1_walk_pas(sec, nscfg),
        })
    };
    Ok(S1Cfg {
        tables: [
            table(g0, ttb0, t0sz, b.had0(), b.nscfg0()),
            table(g1, ttb1, t1sz, b.had1(), b.nscfg1()),
        ],
        tbi,
        oas_bits: ips,
        affd: b.affd(),
        // A stalling configuration is treated as terminating, with the event recorded (§3.12).
        record: b.r() || b.s(),
        asid: if t.world.has_asid() { b.asid() as u16 } else { 0 },
        // CD.UWXN is IGNORED for VMSAv8-64: EL0-writable locations are always privileged
        // execute-never (`walk::s1`).
        wxn: b.wxn(),
        pan: b.pan(),
        regime: match t.world {
            StreamWorld::El1 => walk::Regime::El1,
            StreamWorld::El2 => walk::Regime::El2,
            StreamWorld::El2E2h => walk::Regime::El2E2h,
            StreamWorld::El3 => walk::Regime::El3,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{S1Dss, StreamCfg, decode_ste};
    use crate::translate::rig::*;

    fn full_with_cd2l() -> SmmuConfig {
        let mut cfg = SmmuConfig::full();
        let mut i0 = cfg.idr0();
        i0.set_cd2l(true);
        cfg.idr0 = i0.0;
        cfg
    }

    fn trans(cfg: &SmmuConfig, ste: &crate::spec::ste::Ste) -> TransCfg {
        match decode_ste(cfg, SecSid::NonSecure, false, ste) {
            Ok(StreamCfg::Translate(t)) => t,
            other => panic!("{other:?}"),
        }
    }

    /// Fetches CD `index` through `ste` and returns the PA it was read from.
    fn cd_addr(r: &mut Rig, ste: &crate::spec::ste::Ste, index: u32) -> Result<u64, CdFetchError> {
        let t = trans(r.smmu.config(), ste);
        let s1 = t.s1.unwrap();
        r.trace.events.clear();
        r.smmu.fetch_cd(SecSid::NonSecure, &t, &s1, index, &mut r.mem, &mut r.trace)?;
        Ok(r.trace
            .events
            .iter()
            .find_map(|e| match e {
                TraceEvent::Fetch { kind: FetchKind::Cd, addr, .. } => Some(*addr),
                _ => None,
            })
            .unwrap())
    }

    fn ste_table(base: u64, cdmax: u64, fmt: u64) -> crate::spec::ste::Ste {
        let mut ste = ste_s1(base);
        ste.bits_mut().set_s1cdmax(cdmax);
        ste.bits_mut().set_s1fmt(fmt);
        ste
    }

    #[test]
    fn single_cd_ignores_s1fmt() {
        let mut r = Rig::new(full_with_cd2l());
        assert_eq!(cd_addr(&mut r, &ste_table(CD_ADDR, 0, 0b01), 0), Ok(CD_ADDR));
    }

    #[test]
    fn linear_cd_table_is_indexed_by_ssid_and_aligned_to_its_size() {
        let mut r = Rig::new(full_with_cd2l());
        // 2^4 CDs, 1 KiB: S1ContextPtr[9:6] are ignored.
        let ste = ste_table(0x4e30_03c0, 4, 0b00);
        assert_eq!(cd_addr(&mut r, &ste, 9), Ok(0x4e30_0000 + 9 * 64));
    }

    #[test]
    fn two_level_4k_leaves_index_l1_by_ssid_bits_above_6() {
        let mut r = Rig::new(full_with_cd2l());
        r.write_u64(0x4e30_0008, 0x4e31_0000 | 1);
        let ste = ste_table(0x4e30_0000, 8, 0b01);
        assert_eq!(cd_addr(&mut r, &ste, 0x45), Ok(0x4e31_0000 + 5 * 64));
    }

    #[test]
    fn two_level_64k_leaves_index_l1_by_ssid_bits_above_10_and_ignore_l2ptr_15_12() {
        let mut r = Rig::new(full_with_cd2l());
        r.write_u64(0x4e30_0008, 0x4e32_f000 | 1);
        let ste = ste_table(0x4e30_0000, 12, 0b10);
        assert_eq!(cd_addr(&mut r, &ste, 0x405), Ok(0x4e32_0000 + 5 * 64));
    }

    #[test]
    fn two_level_with_small_s1cdmax_uses_l1_index_0_only() {
        let mut r = Rig::new(full_with_cd2l());
        r.write_u64(0x4e30_0000, 0x4e31_0000 | 1);
        let ste = ste_table(0x4e30_0000, 5, 0b10);
        assert_eq!(cd_addr(&mut r, &ste, 31), Ok(0x4e31_0000 + 31 * 64));
    }

    #[test]
    fn reserved_s1fmt_behaves_as_linear() {
        let mut r = Rig::new(full_with_cd2l());
        let ste = ste_table(0x4e30_0000, 4, 0b11);
        assert_eq!(cd_addr(&mut r, &ste, 3), Ok(0x4e30_0000 + 3 * 64));
    }

    #[test]
    fn invalid_l1cd_reports_the_index_being_fetched() {
        let mut r = Rig::new(full_with_cd2l());
        let ste = ste_table(0x4e30_0000, 8, 0b01);
        assert_eq!(
            cd_addr(&mut r, &ste, 0x45),
            Err(CdFetchError::BadSubstream { rule: Rule::L1cdV, ssid: 0x45 })
        );
    }

    #[test]
    fn nested_l1cd_is_fetched_through_stage2() {
        let mut r = Rig::new(full_with_cd2l());
        let s2root = r.alloc_table();
        // IPA 0x1000_0000 (L1 table) -> PA 0x4e30_0000; IPA 0x1001_0000 (leaf) -> 0x4e31_0000.
        r.map(s2root, 0x1000_0000, 0x4e30_0000 | S2_RW);
        r.map(s2root, 0x1001_0000, 0x4e31_0000 | S2_RW);
        r.write_u64(0x4e30_0008, 0x1001_0000 | 1);
        let mut ste = ste_table(0x1000_0000, 8, 0b01);
        ste.bits_mut().set_config(crate::spec::ste::config::NESTED);
        set_s2(&mut ste, s2root);
        assert_eq!(cd_addr(&mut r, &ste, 0x45), Ok(0x4e31_0000 + 5 * 64));
    }

    #[test]
    fn nested_cd_stage2_fault_carries_class_cd() {
        let mut r = Rig::new(full_with_cd2l());
        let s2root = r.alloc_table();
        let mut ste = ste_table(0x1000_0000, 0, 0);
        ste.bits_mut().set_config(crate::spec::ste::config::NESTED);
        set_s2(&mut ste, s2root);
        let Err(CdFetchError::S2(f)) = cd_addr(&mut r, &ste, 0) else { panic!() };
        assert_eq!((f.s2, f.class, f.ipa), (true, class::CD, 0x1000_0000));
    }

    fn s1ste() -> S1Ste {
        S1Ste {
            ctx_ptr: CD_ADDR,
            fmt: CdTableFmt::Linear,
            cdmax: 0,
            dss: S1Dss::Terminate,
            stalld: false,
        }
    }

    fn trans_world(world: StreamWorld) -> TransCfg {
        TransCfg {
            s1: Some(s1ste()),
            s2: None,
            s2_aa32: false,
            world,
            vmid: 0,
            attrs: Default::default(),
            mev: false,
        }
    }

    #[test]
    fn decoded_cd_carries_ttb0_region_and_flags() {
        let cfg = SmmuConfig::qemu_virt();
        let mut c = cd(0x4e4d_0000);
        c.bits_mut().set_tbi0(true);
        c.bits_mut().set_affd(true);
        c.bits_mut().set_wxn(true);
        let s1 = decode_cd(&cfg, SecSid::NonSecure, &trans_world(StreamWorld::El1), &s1ste(), &c)
            .unwrap();
        let t0 = s1.tables[0].unwrap();
        assert_eq!((t0.ttb, t0.tsz, t0.granule, s1.tbi[0]), (0x4e4d_0000, 16, Granule::G4K, true));
        assert_eq!(t0.walk_pas, Pas::NonSecure);
        assert!(s1.tables[1].is_none());
        assert_eq!(
            (s1.oas_bits, s1.asid, s1.affd, s1.wxn, s1.record),
            (44, 0x1e, true, true, true)
        );
    }

    #[test]
    fn el2_streamworld_has_one_table_and_no_asid() {
        let cfg = SmmuConfig::qemu_virt();
        let mut c = cd(0x4e4d_0000);
        // EPD0 is IGNORED at EL2; TTB1 is unreachable even with EPD1 clear.
        c.bits_mut().set_epd0(true);
        c.bits_mut().set_epd1(false);
        let s1 = decode_cd(&cfg, SecSid::NonSecure, &trans_world(StreamWorld::El2), &s1ste(), &c)
            .unwrap();
        assert!(s1.tables[0].is_some());
        assert!(s1.tables[1].is_none());
        assert_eq!(s1.asid, 0);
    }

    #[test]
    fn secure_walk_starts_in_the_pas_nscfg_selects() {
        let cfg = SmmuConfig::qemu_virt();
        let mut c = cd(0x4e4d_0000);
        let t = trans_world(StreamWorld::El1);
        let pas = |c: &Cd| {
            decode_cd(&cfg, SecSid::Secure, &t, &s1ste(), c).unwrap().tables[0].unwrap().walk_pas
        };
        assert_eq!(pas(&c), Pas::Secure);
        c.bits_mut().set_nscfg0(true);
        assert_eq!(pas(&c), Pas::NonSecure);
    }

    #[test]
    fn stalling_cd_records_its_faults() {
        let mut cfg = SmmuConfig::qemu_virt();
        let mut i0 = cfg.idr0();
        i0.set_stall_model(stall_model::STALL_AND_TERMINATE);
        cfg.idr0 = i0.0;
        let mut c = cd(0x4e4d_0000);
        c.bits_mut().set_r(false);
        c.bits_mut().set_s(true);
        let s1 = decode_cd(&cfg, SecSid::NonSecure, &trans_world(StreamWorld::El1), &s1ste(), &c)
            .unwrap();
        assert!(s1.record);
    }
}
