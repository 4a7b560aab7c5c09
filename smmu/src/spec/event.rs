//! Event records (IHI 0070 §7.3): 32 bytes, bit numbers record-absolute.

use super::{genmask, wire_struct};

wire_struct!(
    /// An event record as written to the event queue.
    EventRecord,
    EventBits,
    4
);

bitfield::bitfield! {
    /// Event record fields at their spec bit positions.
    pub struct EventBits(pub [u8]);
    u64;
    pub event_id, set_event_id: 7, 0;
    pub ssv, set_ssv: 11;
    pub substream_id, set_substream_id: 31, 12;
    pub stream_id, set_stream_id: 63, 32;
    /// STAG (stall tag) for translation faults.
    pub stag, set_stag: 79, 64;
    /// Reason, for fetch and configuration events.
    pub reason, set_reason: 79, 64;
    pub gpcf, set_gpcf: 80;
    pub stall, set_stall: 95;
    pub pnu, set_pnu: 97;
    pub ind, set_ind: 98;
    pub rnw, set_rnw: 99;
    pub nsipa, set_nsipa: 102;
    pub s2, set_s2: 103;
    pub class, set_class: 105, 104;
    pub ttrnw, set_ttrnw: 108;
    pub input_addr, set_input_addr: 191, 128;
    /// Words 6-7 as a whole: IPA[55:12] or FetchAddr[55:3] at their address bit positions.
    pub addr2, set_addr2: 255, 192;
}

/// Byte size of an event record.
pub const EVENT_SIZE: u64 = 32;

/// Mask of the IPA field in words 6-7.
pub const IPA_MASK: u64 = genmask(55, 12);
/// Mask of the FetchAddr field in words 6-7.
pub const FETCH_ADDR_MASK: u64 = genmask(55, 3);

/// Event type numbers (§7.3).
pub mod id {
    pub const F_UUT: u8 = 0x01;
    pub const C_BAD_STREAMID: u8 = 0x02;
    pub const F_STE_FETCH: u8 = 0x03;
    pub const C_BAD_STE: u8 = 0x04;
    pub const F_BAD_ATS_TREQ: u8 = 0x05;
    pub const F_STREAM_DISABLED: u8 = 0x06;
    pub const F_TRANSL_FORBIDDEN: u8 = 0x07;
    pub const C_BAD_SUBSTREAMID: u8 = 0x08;
    pub const F_CD_FETCH: u8 = 0x09;
    pub const C_BAD_CD: u8 = 0x0a;
    pub const F_WALK_EABT: u8 = 0x0b;
    pub const F_TRANSLATION: u8 = 0x10;
    pub const F_ADDR_SIZE: u8 = 0x11;
    pub const F_ACCESS: u8 = 0x12;
    pub const F_PERMISSION: u8 = 0x13;
    pub const F_TLB_CONFLICT: u8 = 0x20;
    pub const F_CFG_CONFLICT: u8 = 0x21;
    pub const E_PAGE_REQUEST: u8 = 0x24;
    pub const F_VMS_FETCH: u8 = 0x25;

    /// The spec name of an event type.
    pub fn name(id: u8) -> &'static str {
        match id {
            F_UUT => "F_UUT",
            C_BAD_STREAMID => "C_BAD_STREAMID",
            F_STE_FETCH => "F_STE_FETCH",
            C_BAD_STE => "C_BAD_STE",
            F_BAD_ATS_TREQ => "F_BAD_ATS_TREQ",
            F_STREAM_DISABLED => "F_STREAM_DISABLED",
            F_TRANSL_FORBIDDEN => "F_TRANSL_FORBIDDEN",
            C_BAD_SUBSTREAMID => "C_BAD_SUBSTREAMID",
            F_CD_FETCH => "F_CD_FETCH",
            C_BAD_CD => "C_BAD_CD",
            F_WALK_EABT => "F_WALK_EABT",
            F_TRANSLATION => "F_TRANSLATION",
            F_ADDR_SIZE => "F_ADDR_SIZE",
            F_ACCESS => "F_ACCESS",
            F_PERMISSION => "F_PERMISSION",
            F_TLB_CONFLICT => "F_TLB_CONFLICT",
            F_CFG_CONFLICT => "F_CFG_CONFLICT",
            E_PAGE_REQUEST => "E_PAGE_REQUEST",
            F_VMS_FETCH => "F_VMS_FETCH",
            _ => "IMPDEF_EVENT",
        }
    }
}

/// CLASS values of translation-related events.
pub mod class {
    pub const CD: u64 = 0b00;
    pub const TT: u64 = 0b01;
    pub const IN: u64 = 0b10;
}
