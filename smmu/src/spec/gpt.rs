//! Granule Protection Table descriptors (Arm ARM DDI 0487 §D9.6), 64-bit little-endian words.
//!
//! The GPT has two levels. A level 0 entry is a Block descriptor (one GPI for the whole
//! L0GPTSZ region) or a Table descriptor (pointer to a level 1 table). A level 1 entry is a
//! Contiguous descriptor (one GPI for a 2 MiB / 32 MiB / 512 MiB region) or a Granules
//! descriptor (sixteen 4-bit GPIs, one per physical granule). Anything else is invalid.

bitfield::bitfield! {
    /// A level 0 GPT descriptor.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct GptL0Desc(pub u64);
    impl Debug;
    u64;
    /// Bits [3:0]: `L0_TYPE_BLOCK` or `L0_TYPE_TABLE`; other values are invalid.
    pub desc_type, set_desc_type: 3, 0;
    /// Block descriptor GPI, bits [7:4].
    pub gpi, set_gpi: 7, 4;
    /// Table descriptor next-level table address bits [51:12].
    pub l1addr, set_l1addr: 51, 12;
    /// Table descriptor next-level table address bits [55:52] (FEAT_RME_GPC3 with a 56-bit
    /// PPS, RES0 otherwise).
    pub l1addr_55_52, set_l1addr_55_52: 55, 52;
}

/// Level 0 descriptor type: Block.
pub const L0_TYPE_BLOCK: u64 = 0b0001;
/// Level 0 descriptor type: Table.
pub const L0_TYPE_TABLE: u64 = 0b0011;

/// RES0 bits of a level 0 Block descriptor: [63:8].
pub const L0_BLOCK_RES0: u64 = super::genmask(63, 8);
/// RES0 bits of a level 0 Table descriptor (48- and 52-bit PPS): [63:52] and [11:4].
pub const L0_TABLE_RES0: u64 = super::genmask(63, 52) | super::genmask(11, 4);

impl GptL0Desc {
    /// Whether this is a Block descriptor.
    pub fn is_block(&self) -> bool {
        self.desc_type() == L0_TYPE_BLOCK
    }

    /// Whether this is a Table descriptor.
    pub fn is_table(&self) -> bool {
        self.desc_type() == L0_TYPE_TABLE
    }

    /// The level 1 table address of a Table descriptor (bits [51:12] in place).
    pub fn table_address(&self) -> u64 {
        self.l1addr() << 12
    }
}

bitfield::bitfield! {
    /// A level 1 GPT descriptor.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct GptL1Desc(pub u64);
    impl Debug;
    u64;
    /// Bits [3:0]: `L1_TYPE_CONTIG` for a Contiguous descriptor, else the first GPI of a
    /// Granules descriptor.
    pub desc_type, set_desc_type: 3, 0;
    /// Contiguous descriptor GPI, bits [7:4].
    pub contig_gpi, set_contig_gpi: 7, 4;
    /// Contiguous descriptor Contig, bits [9:8] (`contig`).
    pub contig, set_contig: 9, 8;
}

/// Level 1 descriptor type of a Contiguous descriptor (0b0001 is a reserved GPI, so a
/// Granules descriptor never starts with it).
pub const L1_TYPE_CONTIG: u64 = 0b0001;
/// RES0 bits of a level 1 Contiguous descriptor: [63:10].
pub const L1_CONTIG_RES0: u64 = super::genmask(63, 10);

/// Contiguous descriptor Contig values (0b00 is Reserved).
pub mod contig {
    pub const SIZE_2M: u64 = 0b01;
    pub const SIZE_32M: u64 = 0b10;
    pub const SIZE_512M: u64 = 0b11;

    /// log2 of the region a Contig value covers, or `None` if reserved.
    pub fn shift(contig: u64) -> Option<u32> {
        match contig {
            SIZE_2M => Some(21),
            SIZE_32M => Some(25),
            SIZE_512M => Some(29),
            _ => None,
        }
    }
}

impl GptL1Desc {
    /// Whether this is a Contiguous descriptor.
    pub fn is_contiguous(&self) -> bool {
        self.desc_type() == L1_TYPE_CONTIG
    }

    /// GPI number `i` (0..=15) of a Granules descriptor: bits [4i+3:4i].
    pub fn granule_gpi(&self, i: u32) -> u64 {
        (self.0 >> (4 * (i & 0xf))) & 0xf
    }

    /// A Granules descriptor giving all sixteen granules the same GPI.
    pub fn granules_all(gpi: u64) -> GptL1Desc {
        GptL1Desc((gpi & 0xf).wrapping_mul(0x1111_1111_1111_1111))
    }
}

/// GPI encodings (Arm ARM §D9.6.5).
pub mod gpi {
    /// No accesses permitted.
    pub const NO_ACCESS: u64 = 0b0000;
    /// System Agent PA space only (reserved unless GPCCR.SA).
    pub const SA: u64 = 0b0100;
    /// Non-secure Protected PA space only (reserved unless GPCCR.NSP).
    pub const NSP: u64 = 0b0101;
    /// No accesses permitted (reserved unless GPCCR.NA6).
    pub const NA6: u64 = 0b0110;
    /// No accesses permitted (reserved unless GPCCR.NA7).
    pub const NA7: u64 = 0b0111;
    /// Secure PA space only.
    pub const SECURE: u64 = 0b1000;
    /// Non-secure PA space only.
    pub const NON_SECURE: u64 = 0b1001;
    /// Root PA space only.
    pub const ROOT: u64 = 0b1010;
    /// Realm PA space only.
    pub const REALM: u64 = 0b1011;
    /// Non-secure PA space, by Non-secure or Root Security states (reserved unless GPCCR.NSO).
    pub const NSO: u64 = 0b1101;
    /// All accesses permitted.
    pub const ANY: u64 = 0b1111;

    /// Whether a GPI is one of the encodings the SMMU GPC accepts with ROOT_GPT_BASE_CFG as
    /// architected (no SA, NSP, NA6, NA7 or NSO controls): everything else is reserved and
    /// makes the entry invalid.
    pub fn is_valid(gpi: u64) -> bool {
        matches!(gpi, NO_ACCESS | SECURE | NON_SECURE | ROOT | REALM | ANY)
    }
}

/// log2 of the region a level 0 entry covers for a L0GPTSZ encoding, or `None` if reserved.
pub fn l0gptsz_bits(l0gptsz: u64) -> Option<u32> {
    match l0gptsz {
        0b0000 => Some(30),
        0b0100 => Some(34),
        0b0110 => Some(36),
        0b1001 => Some(39),
        _ => None,
    }
}

/// log2 of the physical granule for a PGS encoding (note 0b01 is 64 KiB), or `None` if
/// reserved.
pub fn pgs_shift(pgs: u64) -> Option<u32> {
    match pgs {
        0b00 => Some(12),
        0b01 => Some(16),
        0b10 => Some(14),
        _ => None,
    }
}

/// Byte size of a GPT descriptor.
pub const GPT_DESC_SIZE: u64 = 8;
