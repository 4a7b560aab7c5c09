//! Context Descriptor (IHI 0070 §5.4): 64 bytes, bit numbers CD-absolute.

use super::wire_struct;

wire_struct!(
    /// A Context Descriptor as it sits in memory.
    Cd,
    CdBits,
    8
);

bitfield::bitfield! {
    /// CD fields at their spec bit positions.
    pub struct CdBits(pub [u8]);
    u64;
    pub t0sz, set_t0sz: 5, 0;
    pub tg0, set_tg0: 7, 6;
    pub ir0, set_ir0: 9, 8;
    pub or0, set_or0: 11, 10;
    pub sh0, set_sh0: 13, 12;
    pub epd0, set_epd0: 14;
    pub endi, set_endi: 15;
    pub t1sz, set_t1sz: 21, 16;
    pub tg1, set_tg1: 23, 22;
    pub ir1, set_ir1: 25, 24;
    pub or1, set_or1: 27, 26;
    pub sh1, set_sh1: 29, 28;
    pub epd1, set_epd1: 30;
    pub v, set_v: 31;
    pub ips, set_ips: 34, 32;
    pub affd, set_affd: 35;
    pub wxn, set_wxn: 36;
    pub uwxn, set_uwxn: 37;
    pub tbi0, set_tbi0: 38;
    pub tbi1, set_tbi1: 39;
    pub pan, set_pan: 40;
    pub aa64, set_aa64: 41;
    pub hd, set_hd: 42;
    pub ha, set_ha: 43;
    pub s, set_s: 44;
    pub r, set_r: 45;
    pub a, set_a: 46;
    pub aset, set_aset: 47;
    pub asid, set_asid: 63, 48;
    pub nscfg0, set_nscfg0: 64;
    pub had0, set_had0: 65;
    /// DisCH0 (same bit as HAD0, when SMMU_IDR5.D128).
    pub disch0, set_disch0: 65;
    pub e0pd0, set_e0pd0: 66;
    pub haft, set_haft: 67;
    /// TTB0, address bits [55:4].
    pub ttb0, set_ttb0: 119, 68;
    pub pnch, set_pnch: 122;
    pub epan, set_epan: 123;
    pub hwu0, set_hwu0: 127, 124;
    /// SKL0 (bits [127:126], when SMMU_IDR5.D128).
    pub skl0, set_skl0: 127, 126;
    pub nscfg1, set_nscfg1: 128;
    pub had1, set_had1: 129;
    /// DisCH1 (same bit as HAD1, when SMMU_IDR5.D128).
    pub disch1, set_disch1: 129;
    pub e0pd1, set_e0pd1: 130;
    pub aie, set_aie: 131;
    /// TTB1, address bits [55:4].
    pub ttb1, set_ttb1: 183, 132;
    pub ds, set_ds: 186;
    pub pie, set_pie: 187;
    pub hwu1, set_hwu1: 191, 188;
    /// SKL1 (bits [191:190], when SMMU_IDR5.D128).
    pub skl1, set_skl1: 191, 190;
    pub mair0, set_mair0: 223, 192;
    pub mair1, set_mair1: 255, 224;
    pub amair0, set_amair0: 287, 256;
    pub amair1, set_amair1: 319, 288;
    /// IMPLEMENTATION DEFINED bits [351:320].
    pub impdef, set_impdef: 351, 320;
    pub partid, set_partid: 367, 352;
    pub pmg, set_pmg: 375, 368;
    /// PIIU<p> for p = 0..=15 as one value: PIIU<p> is bits [3p+2:3p] (CD bits [3p+386:3p+384]).
    pub piiu, set_piiu: 431, 384;
    /// PIIP<p> for p = 0..=15 as one value: PIIP<p> is bits [3p+2:3p] (CD bits [3p+450:3p+448]).
    pub piip, set_piip: 495, 448;
}

/// Byte size of a CD.
pub const CD_SIZE: u64 = 64;
/// log2 of the CD size.
pub const CD_SHIFT: u32 = 6;

/// CD.TG0 encodings (same as STE.S2TG).
pub mod tg0 {
    pub const G4K: u64 = 0b00;
    pub const G64K: u64 = 0b01;
    pub const G16K: u64 = 0b10;
}

/// CD.TG1 encodings: not the TG0 encoding.
pub mod tg1 {
    pub const G16K: u64 = 0b01;
    pub const G4K: u64 = 0b10;
    pub const G64K: u64 = 0b11;
}
