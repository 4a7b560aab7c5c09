//! Stream Table Entry (IHI 0070 §5.2): 64 bytes, bit numbers STE-absolute.

use super::wire_struct;

wire_struct!(
    /// A Stream Table Entry as it sits in memory.
    Ste,
    SteBits,
    8
);

bitfield::bitfield! {
    /// STE fields at their spec bit positions.
    pub struct SteBits(pub [u8]);
    u64;
    pub v, set_v: 0;
    pub config, set_config: 3, 1;
    pub s1fmt, set_s1fmt: 5, 4;
    /// S1ContextPtr, address bits [55:6].
    pub s1_context_ptr, set_s1_context_ptr: 55, 6;
    pub s1cdmax, set_s1cdmax: 63, 59;
    pub s1dss, set_s1dss: 65, 64;
    pub s1cir, set_s1cir: 67, 66;
    pub s1cor, set_s1cor: 69, 68;
    pub s1csh, set_s1csh: 71, 70;
    pub s2hwu59, set_s2hwu59: 72;
    pub s2hwu60, set_s2hwu60: 73;
    pub s2hwu61, set_s2hwu61: 74;
    pub s2hwu62, set_s2hwu62: 75;
    pub dre, set_dre: 76;
    pub cont, set_cont: 80, 77;
    pub dcp, set_dcp: 81;
    pub ppar, set_ppar: 82;
    pub mev, set_mev: 83;
    pub sw_reserved, set_sw_reserved: 87, 84;
    pub s1pie, set_s1pie: 88;
    pub s2fwb, set_s2fwb: 89;
    pub s1mpam, set_s1mpam: 90;
    pub s1stalld, set_s1stalld: 91;
    pub eats, set_eats: 93, 92;
    pub strw, set_strw: 95, 94;
    pub memattr, set_memattr: 99, 96;
    pub mtcfg, set_mtcfg: 100;
    pub alloccfg, set_alloccfg: 104, 101;
    pub shcfg, set_shcfg: 109, 108;
    pub nscfg, set_nscfg: 111, 110;
    pub privcfg, set_privcfg: 113, 112;
    pub instcfg, set_instcfg: 115, 114;
    pub impdef, set_impdef: 127, 116;
    pub s2vmid, set_s2vmid: 143, 128;
    /// IMPLEMENTATION DEFINED bits [159:144].
    pub impdef_159_144, set_impdef_159_144: 159, 144;
    pub s2t0sz, set_s2t0sz: 165, 160;
    pub s2sl0, set_s2sl0: 167, 166;
    pub s2ir0, set_s2ir0: 169, 168;
    pub s2or0, set_s2or0: 171, 170;
    pub s2sh0, set_s2sh0: 173, 172;
    pub s2tg, set_s2tg: 175, 174;
    pub s2ps, set_s2ps: 178, 176;
    pub s2aa64, set_s2aa64: 179;
    pub s2endi, set_s2endi: 180;
    pub s2affd, set_s2affd: 181;
    pub s2ptw, set_s2ptw: 182;
    pub s2hd, set_s2hd: 183;
    pub s2ha, set_s2ha: 184;
    pub s2s, set_s2s: 185;
    pub s2r, set_s2r: 186;
    pub s2haft, set_s2haft: 187;
    pub s2pie, set_s2pie: 188;
    pub s2poe, set_s2poe: 189;
    pub dpt_vmatch, set_dpt_vmatch: 191, 190;
    pub s2nsw, set_s2nsw: 192;
    pub s2nsa, set_s2nsa: 193;
    pub s2sl0_2, set_s2sl0_2: 194;
    pub s2ds, set_s2ds: 195;
    /// S2TTB, address bits [55:4].
    pub s2ttb, set_s2ttb: 247, 196;
    pub s2skl, set_s2skl: 254, 253;
    /// IMPLEMENTATION DEFINED bits [271:256].
    pub impdef_271_256, set_impdef_271_256: 271, 256;
    pub partid, set_partid: 287, 272;
    pub s_s2t0sz, set_s_s2t0sz: 293, 288;
    pub s_s2sl0, set_s_s2sl0: 295, 294;
    pub s_s2tg, set_s_s2tg: 303, 302;
    pub mecid, set_mecid: 319, 304;
    pub pmg, set_pmg: 327, 320;
    pub mpam_ns, set_mpam_ns: 328;
    pub assured_only, set_assured_only: 329;
    pub tl0, set_tl0: 330;
    pub tl1, set_tl1: 331;
    pub vmsptr, set_vmsptr: 375, 332;
    pub s2sw, set_s2sw: 384;
    pub s2sa, set_s2sa: 385;
    pub s_s2sl0_2, set_s_s2sl0_2: 386;
    /// S_S2TTB, address bits [55:4].
    pub s_s2ttb, set_s_s2ttb: 439, 388;
    pub s_s2skl, set_s_s2skl: 446, 445;
    /// S2POI<p> for p = 0..=15, as one value: S2POI<p> is bits [4p+3:4p] of it
    /// (STE bits [4p+451:4p+448]).
    pub s2poi, set_s2poi: 511, 448;
}

/// Byte size of an STE.
pub const STE_SIZE: u64 = 64;
/// log2 of the STE size.
pub const STE_SHIFT: u32 = 6;

/// STE.Config values (§5.2).
pub mod config {
    /// 0b000: abort without an event.
    pub const ABORT: u64 = 0b000;
    pub const BYPASS: u64 = 0b100;
    pub const S1_TRANS: u64 = 0b101;
    pub const S2_TRANS: u64 = 0b110;
    pub const NESTED: u64 = 0b111;
    /// Bit 0 of Config enables stage 1, bit 1 stage 2, bit 2 translation at all.
    pub const S1_BIT: u64 = 0b001;
    pub const S2_BIT: u64 = 0b010;
    pub const TRANSLATE_BIT: u64 = 0b100;
}

/// STE.S1Fmt values.
pub mod s1fmt {
    pub const LINEAR: u64 = 0b00;
    pub const TWO_LEVEL_4K: u64 = 0b01;
    pub const TWO_LEVEL_64K: u64 = 0b10;
}

/// STE.S1DSS values.
pub mod s1dss {
    pub const TERMINATE: u64 = 0b00;
    pub const BYPASS: u64 = 0b01;
    pub const SSID0: u64 = 0b10;
}

/// STE.STRW values (Non-secure and Realm: EL1, EL2; Secure: Secure, EL3, S-EL2).
pub mod strw {
    pub const EL1: u64 = 0b00;
    pub const EL2: u64 = 0b10;
    /// Secure Stream table only; ILLEGAL with SMMU_IDR0.RME_IMPL.
    pub const EL3: u64 = 0b01;
    /// Secure Stream table only: always ILLEGAL.
    pub const SECURE_RESERVED: u64 = 0b11;
    /// Bit 0: set in the encodings reserved for Non-secure and Realm STEs (0b01, 0b11).
    pub const RESERVED_BIT: u64 = 0b01;
}

/// STE.EATS values.
pub mod eats {
    pub const ABORT: u64 = 0b00;
    pub const FULL: u64 = 0b01;
    pub const SPLIT: u64 = 0b10;
    /// Full ATS with DPT checks (RME DA).
    pub const FULL_DPT: u64 = 0b11;
}

/// STE.NSCFG values (Secure and Realm streams; 0b01 is Reserved for Secure, Check for Realm
/// with SMMU_R_IDR3.XT). S_GBPA.NSCFG uses the same encoding.
pub mod nscfg {
    pub const INCOMING: u64 = 0b00;
    pub const REALM_CHECK: u64 = 0b01;
    /// Secure (Secure STE) or Realm (Realm STE).
    pub const SECURE_OR_REALM: u64 = 0b10;
    pub const NON_SECURE: u64 = 0b11;
}

/// STE.SHCFG (and GBPA.SHCFG) values.
pub mod shcfg {
    pub const NSH: u64 = 0b00;
    pub const INCOMING: u64 = 0b01;
    pub const OSH: u64 = 0b10;
    pub const ISH: u64 = 0b11;
}

/// STE.PRIVCFG / INSTCFG values (0b01 is Reserved, behaves as 0b00).
pub mod privcfg {
    pub const INCOMING: u64 = 0b00;
    /// Unprivileged (PRIVCFG) or Data (INSTCFG).
    pub const UNPRIV_OR_DATA: u64 = 0b10;
    /// Privileged (PRIVCFG) or Instruction (INSTCFG).
    pub const PRIV_OR_INST: u64 = 0b11;
}

/// STE.S2TG encodings (same as CD.TG0).
pub mod s2tg {
    pub const G4K: u64 = 0b00;
    pub const G64K: u64 = 0b01;
    pub const G16K: u64 = 0b10;
}

/// Address held by a [55:4] pointer field.
pub fn addr_55_4(field: u64) -> u64 {
    field << 4
}

/// Address held by a [55:6] pointer field.
pub fn addr_55_6(field: u64) -> u64 {
    field << 6
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Word 5 0x000d0094 / word 6 0x4e4d0000 of QEMU's qtest STE (32-bit words, so 64-bit
    /// word 2 = 0x000d0094_00000000 and word 3 = 0x4e4d0000): S2T0SZ 0x14, S2SL0 2, S2PS 5,
    /// S2AA64 1, S2TTB 0x4e4d0000.
    #[test]
    fn qemu_qtest_ste_stage2_words_decode() {
        let ste = Ste::from_words([0x4e17_8fcf, 0, 0x000d_0094_0000_0000, 0x4e4d_0000, 0, 0, 0, 0]);
        let b = ste.bits();
        assert!(b.v());
        assert_eq!(b.config(), config::NESTED);
        assert_eq!(addr_55_6(b.s1_context_ptr()), 0x4e17_8fc0);
        assert_eq!(b.s2t0sz(), 0x14);
        assert_eq!(b.s2sl0(), 2);
        assert_eq!(b.s2tg(), 0);
        assert_eq!(b.s2ps(), 5);
        assert!(b.s2aa64());
        assert!(!b.s2r());
        assert_eq!(addr_55_4(b.s2ttb()), 0x4e4d_0000);
    }
}
