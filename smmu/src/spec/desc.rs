//! VMSAv8-64 translation table descriptors (stage 1 and stage 2), as 64-bit words.

bitfield::bitfield! {
    /// A translation table descriptor. Which fields apply depends on stage and kind.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Desc(pub u64);
    impl Debug;
    u64;
    pub valid, set_valid: 0;
    /// Bit 1: 1 = table (levels 0-2) or page (level 3); 0 = block (levels 1-2).
    pub table_or_page, set_table_or_page: 1;
    /// Stage 1 AttrIndx[2:0].
    pub attr_indx, set_attr_indx: 4, 2;
    /// Stage 1 NS.
    pub ns, set_ns: 5;
    /// Stage 1 AP[2:1].
    pub ap, set_ap: 7, 6;
    /// Stage 2 MemAttr[3:0].
    pub s2_memattr, set_s2_memattr: 5, 2;
    /// Stage 2 S2AP[1:0]: bit 6 read, bit 7 write.
    pub s2ap, set_s2ap: 7, 6;
    pub sh, set_sh: 9, 8;
    pub af, set_af: 10;
    /// Stage 1 nG.
    pub ng, set_ng: 11;
    /// OA[51:50] (or next-level table address [51:50]) with DS = 1 (FEAT_LPA2, 4 KiB and
    /// 16 KiB granules), in place of SH.
    pub oa_51_50, set_oa_51_50: 9, 8;
    /// Output address bits [47:12] (the low bits below the granule are RES0 / reserved).
    pub oa_47_12, set_oa_47_12: 47, 12;
    /// OA[51:48] (or next-level table address [51:48]) with the 64 KiB granule and a 52-bit
    /// OA (FEAT_LPA).
    pub oa_51_48, set_oa_51_48: 15, 12;
    /// Block descriptor nT (FEAT_BBM).
    pub nt, set_nt: 16;
    /// OA[49:48] (or next-level table address [49:48]) with DS = 1 (FEAT_LPA2).
    pub oa_49_48, set_oa_49_48: 49, 48;
    /// Stage 1 GP (guarded page).
    pub gp, set_gp: 50;
    pub dbm, set_dbm: 51;
    pub contiguous, set_contiguous: 52;
    /// Stage 1 PXN.
    pub pxn, set_pxn: 53;
    /// Stage 1 UXN / XN.
    pub uxn, set_uxn: 54;
    /// Stage 2 XN[1:0] (bit 53 is XN[0], meaningful with FEAT_XNX).
    pub s2xn, set_s2xn: 54, 53;
    pub sw, set_sw: 58, 55;
    /// Realm stage 2 NS (FEAT_RME): the output is in the Non-secure PA space.
    pub s2_ns, set_s2_ns: 55;
    /// PBHA[3:0], bits [62:59] of block and page descriptors.
    pub pbha, set_pbha: 62, 59;
    /// Stage 1 AttrIndx[3] (CD.AIE with SMMU_IDR3.AIE), bit 59.
    pub attr_indx_3, set_attr_indx_3: 59;
    /// Table descriptor PXNTable.
    pub pxn_table, set_pxn_table: 59;
    /// Table descriptor UXNTable / XNTable.
    pub uxn_table, set_uxn_table: 60;
    /// Table descriptor APTable[1:0].
    pub ap_table, set_ap_table: 62, 61;
    /// Table descriptor NSTable.
    pub ns_table, set_ns_table: 63;
}

/// Output-address mask of a descriptor for a 48-bit OA.
pub const OA_MASK_48: u64 = super::genmask(47, 12);

impl Desc {
    /// The next-level table address or output address, for a granule of `2^granule_shift`.
    pub fn address(&self, granule_shift: u32) -> u64 {
        self.0 & OA_MASK_48 & !((1u64 << granule_shift) - 1)
    }

    /// The next-level table address or output address with up to 52 bits, for a granule of
    /// `2^granule_shift` bytes (12, 14 or 16): with the 64 KiB granule, OA[51:48] comes from
    /// bits [15:12]; with `ds` (FEAT_LPA2, 4 KiB and 16 KiB), OA[51:50] from bits [9:8] and
    /// OA[49:48] from bits [49:48].
    /// A `granule_shift` outside 12..=16 is clamped.
    pub fn address_52(&self, granule_shift: u32, ds: bool) -> u64 {
        let g = granule_shift.clamp(12, 16);
        let low = self.0 & super::genmask(47, g);
        if g == 16 {
            low | (self.oa_51_48() << 48)
        } else if ds {
            low | (self.oa_49_48() << 48) | (self.oa_51_50() << 50)
        } else {
            low
        }
    }

    /// Raw value.
    pub fn raw(&self) -> u64 {
        self.0
    }
}

/// Stage-1 AP[2:1] bit meanings.
pub mod ap {
    /// AP[1] (descriptor bit 6): EL0 access allowed.
    pub const EL0: u64 = 0b01;
    /// AP[2] (descriptor bit 7): read-only.
    pub const RO: u64 = 0b10;
}

/// APTable bit meanings.
pub mod ap_table {
    /// APTable[0]: no EL0 access below.
    pub const NO_EL0: u64 = 0b01;
    /// APTable[1]: no write access below.
    pub const NO_WRITE: u64 = 0b10;
}

/// Descriptor kinds from bits [1:0].
pub mod kind {
    /// Bits [1:0] of a block descriptor (levels 1-2; level 0 with FEAT_LPA2).
    pub const BLOCK: u64 = 0b01;
    /// Bits [1:0] of a table descriptor (levels 0-2) or a page descriptor (level 3).
    pub const TABLE_OR_PAGE: u64 = 0b11;
}

/// Stage-2 XN[1:0] values (XN[0] needs FEAT_XNX, SMMU_IDR3.XNX).
pub mod s2xn {
    /// Executable at EL1 and EL0.
    pub const EXEC: u64 = 0b00;
    /// Not executable at EL1, executable at EL0.
    pub const PXN: u64 = 0b01;
    /// Not executable at any level.
    pub const XN: u64 = 0b10;
    /// Executable at EL1, not at EL0.
    pub const UXN: u64 = 0b11;
    /// XN[1], the only bit that counts without FEAT_XNX.
    pub const XN1: u64 = 0b10;
}

/// Stage-2 S2AP bit meanings.
pub mod s2ap {
    pub const READ: u64 = 0b01;
    pub const WRITE: u64 = 0b10;
}

/// Size of a translation table descriptor.
pub const DESC_SIZE: u64 = 8;
/// log2 of [`DESC_SIZE`].
pub const DESC_SHIFT: u32 = 3;

/// Virtual address bits with an architectural meaning for stage 1.
pub mod va {
    /// VA[55] selects TTB0 (0) or TTB1 (1).
    pub const TTB_SELECT_BIT: u32 = 55;
    /// VA[63:56] is the top byte, ignored for the range check when TBIx = 1.
    pub const TOP_BYTE_SHIFT: u32 = 56;
}

/// Output address width of VMSAv8-64 descriptors without FEAT_LPA/LPA2.
pub const OA_BITS_48: u32 = 48;
