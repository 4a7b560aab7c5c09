//! Level-1 descriptors of two-level stream and CD tables (IHI 0070 §5.1, §5.3).

use super::wire_struct;

wire_struct!(
    /// Level-1 Stream Table Descriptor (8 bytes).
    L1Std,
    L1StdBits,
    1
);

bitfield::bitfield! {
    pub struct L1StdBits(pub [u8]);
    u64;
    /// Span: 0 invalid, 1..=11 the L2 array holds 2^(Span-1) STEs, 12..=31 behave as 0.
    pub span, set_span: 4, 0;
    /// L2Ptr, address bits [55:6].
    pub l2ptr, set_l2ptr: 55, 6;
}

/// Largest architected L1STD.Span.
pub const L1STD_SPAN_MAX: u64 = 11;
/// Byte size of an L1STD.
pub const L1STD_SIZE: u64 = 8;

wire_struct!(
    /// Level-1 Context Descriptor (8 bytes).
    L1Cd,
    L1CdBits,
    1
);

bitfield::bitfield! {
    pub struct L1CdBits(pub [u8]);
    u64;
    pub v, set_v: 0;
    /// L2Ptr, address bits [55:12].
    pub l2ptr, set_l2ptr: 55, 12;
}

/// Byte size of an L1CD.
pub const L1CD_SIZE: u64 = 8;
/// CDs in a 4 KiB leaf table (S1Fmt 0b01).
pub const CD_LEAF_4K_SHIFT: u32 = 6;
/// CDs in a 64 KiB leaf table (S1Fmt 0b10).
pub const CD_LEAF_64K_SHIFT: u32 = 10;

/// First reserved L1STD.Span value (12..=31 behave as 0).
pub const L1STD_SPAN_RESERVED_MIN: u64 = 12;
/// log2 of the L2 table alignment of a 2-level CD table with 4 KiB leaves (L2Ptr[11:0] are zero).
pub const L1CD_L2PTR_SHIFT: u32 = 12;
/// log2 of the size of a 64 KiB CD leaf table: L1CD.L2Ptr[15:12] are RES0 for S1Fmt 0b10.
pub const CD_LEAF_64K_BYTES_SHIFT: u32 = 16;
