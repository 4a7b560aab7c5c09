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
    /// E_PAGE_REQUEST uX / uW / uR / pX / pW / pR (anticipated unprivileged and privileged
    /// execute, write and read). Positions from the IHI 0070 G.b figure of §7.3.19.
    pub pr_ux, set_pr_ux: 97;
    pub pr_uw, set_pr_uw: 98;
    pub pr_ur, set_pr_ur: 99;
    pub pr_px, set_pr_px: 101;
    pub pr_pw, set_pr_pw: 102;
    pub pr_pr, set_pr_pr: 103;
    /// E_PAGE_REQUEST Span: the access span is Span * 4096 bytes.
    pub pr_span, set_pr_span: 115, 108;
    pub input_addr, set_input_addr: 191, 128;
    /// Words 6-7 as a whole: IPA[55:12] or FetchAddr[55:3] at their address bit positions.
    pub addr2, set_addr2: 255, 192;
}

/// Mask of the InputAddr field of E_PAGE_REQUEST (bits [63:12] of the address).
pub const PAGE_REQUEST_ADDR_MASK: u64 = genmask(63, 12);

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
    /// First and last IMPLEMENTATION DEFINED event numbers (§7.3.21).
    pub const IMPDEF_FIRST: u8 = 0xe0;
    pub const IMPDEF_LAST: u8 = 0xef;

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

/// The common fields of an event record, decoded. Which ones a record carries depends on its
/// type ([`layout`]); [`EventRecord::encode`] writes only those and masks words 6-7 as the type
/// requires (IPA[55:12] or FetchAddr[55:3]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct EventFields {
    pub id: u8,
    pub sid: u32,
    /// SubstreamID with SSV=1, or `None`.
    pub ssid: Option<u32>,
    /// STAG, or Reason for fetch/configuration events (bits [79:64]).
    pub stag: u16,
    pub gpcf: bool,
    pub stall: bool,
    pub pnu: bool,
    pub ind: bool,
    pub rnw: bool,
    pub nsipa: bool,
    pub s2: bool,
    /// CLASS (`class::CD`, `class::TT`, `class::IN`).
    pub class: u64,
    pub ttrnw: bool,
    pub input_addr: u64,
    /// IPA (translation faults) or FetchAddr (fetch events and F_WALK_EABT) for words 6-7.
    pub addr2: u64,
}

/// Whether words 6-7 of this event type hold a FetchAddr (else an IPA).
pub fn has_fetch_addr(id: u8) -> bool {
    matches!(id, id::F_STE_FETCH | id::F_CD_FETCH | id::F_WALK_EABT | id::F_VMS_FETCH)
}

/// How an event type carries its SubstreamID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SsidField {
    /// No SubstreamID: bits [31:8] are RES0.
    None,
    /// SSV (bit 11) qualifies SubstreamID [31:12].
    WithSsv,
    /// SubstreamID [31:12] always valid, no SSV (C_BAD_SUBSTREAMID).
    Always,
}

/// What words 6-7 of an event type hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Addr2Field {
    None,
    /// IPA, address bits [55:12].
    Ipa,
    /// FetchAddr, address bits [55:3].
    FetchAddr,
}

/// The fields an event type defines (IHI 0070 §7.3); every other bit of its record is RES0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventLayout {
    pub ssid: SsidField,
    /// STAG (stall events) or Reason (fetch, walk, conflict and F_UUT events), bits [79:64].
    pub stag_or_reason: bool,
    pub gpcf: bool,
    pub stall: bool,
    /// PnU (97) and InD (98).
    pub pnu_ind: bool,
    /// RnW (99).
    pub rnw: bool,
    pub nsipa: bool,
    pub s2: bool,
    pub class: bool,
    pub ttrnw: bool,
    pub input_addr: bool,
    pub addr2: Addr2Field,
}

/// The layout of an event type. Reserved and IMPLEMENTATION DEFINED numbers define every
/// field, so nothing given is dropped.
pub fn layout(event: u8) -> EventLayout {
    let none = EventLayout {
        ssid: SsidField::WithSsv,
        stag_or_reason: false,
        gpcf: false,
        stall: false,
        pnu_ind: false,
        rnw: false,
        nsipa: false,
        s2: false,
        class: false,
        ttrnw: false,
        input_addr: false,
        addr2: Addr2Field::None,
    };
    let fetch =
        EventLayout { stag_or_reason: true, gpcf: true, addr2: Addr2Field::FetchAddr, ..none };
    let translation = EventLayout {
        stag_or_reason: true,
        stall: true,
        pnu_ind: true,
        rnw: true,
        nsipa: true,
        s2: true,
        class: true,
        input_addr: true,
        addr2: Addr2Field::Ipa,
        ..none
    };
    match event {
        id::F_UUT => {
            EventLayout { stag_or_reason: true, pnu_ind: true, rnw: true, input_addr: true, ..none }
        }
        id::C_BAD_STREAMID | id::C_BAD_STE | id::C_BAD_CD => none,
        id::F_STE_FETCH | id::F_CD_FETCH | id::F_VMS_FETCH => fetch,
        id::F_BAD_ATS_TREQ => EventLayout { input_addr: true, ..none },
        id::F_STREAM_DISABLED => EventLayout { ssid: SsidField::None, ..none },
        id::F_TRANSL_FORBIDDEN => {
            EventLayout { ssid: SsidField::None, rnw: true, input_addr: true, ..none }
        }
        id::C_BAD_SUBSTREAMID => EventLayout { ssid: SsidField::Always, ..none },
        id::F_WALK_EABT => EventLayout {
            pnu_ind: true,
            rnw: true,
            s2: true,
            class: true,
            input_addr: true,
            ..fetch
        },
        id::F_TRANSLATION | id::F_ADDR_SIZE | id::F_ACCESS => translation,
        id::F_PERMISSION => EventLayout { ttrnw: true, ..translation },
        id::F_TLB_CONFLICT => EventLayout {
            stag_or_reason: true,
            pnu_ind: true,
            rnw: true,
            s2: true,
            input_addr: true,
            addr2: Addr2Field::Ipa,
            ..none
        },
        id::F_CFG_CONFLICT => EventLayout { stag_or_reason: true, ..none },
        id::E_PAGE_REQUEST => EventLayout { input_addr: true, ..none },
        _ => EventLayout {
            ssid: SsidField::WithSsv,
            gpcf: true,
            ttrnw: true,
            addr2: if has_fetch_addr(event) { Addr2Field::FetchAddr } else { Addr2Field::Ipa },
            ..translation
        },
    }
}

impl EventRecord {
    /// Encodes the fields into a record, writing only the fields the event type defines
    /// ([`layout`]): everything else stays RES0. Words 6-7 are masked to IPA[55:12] or
    /// FetchAddr[55:3], E_PAGE_REQUEST's InputAddr to bits [63:12].
    pub fn encode(f: &EventFields) -> EventRecord {
        let l = layout(f.id);
        let mut r = EventRecord::default();
        let mut b = r.bits_mut();
        b.set_event_id(u64::from(f.id));
        b.set_stream_id(u64::from(f.sid));
        match (l.ssid, f.ssid) {
            (SsidField::WithSsv, Some(ssid)) => {
                b.set_ssv(true);
                b.set_substream_id(u64::from(ssid));
            }
            (SsidField::Always, Some(ssid)) => b.set_substream_id(u64::from(ssid)),
            _ => {}
        }
        if l.stag_or_reason {
            b.set_stag(u64::from(f.stag));
        }
        b.set_gpcf(l.gpcf && f.gpcf);
        b.set_stall(l.stall && f.stall);
        b.set_pnu(l.pnu_ind && f.pnu);
        b.set_ind(l.pnu_ind && f.ind);
        b.set_rnw(l.rnw && f.rnw);
        b.set_nsipa(l.nsipa && f.nsipa);
        b.set_s2(l.s2 && f.s2);
        if l.class {
            b.set_class(f.class);
        }
        b.set_ttrnw(l.ttrnw && f.ttrnw);
        if l.input_addr {
            let mask = if f.id == id::E_PAGE_REQUEST { PAGE_REQUEST_ADDR_MASK } else { u64::MAX };
            b.set_input_addr(f.input_addr & mask);
        }
        match l.addr2 {
            Addr2Field::None => {}
            Addr2Field::Ipa => b.set_addr2(f.addr2 & IPA_MASK),
            Addr2Field::FetchAddr => b.set_addr2(f.addr2 & FETCH_ADDR_MASK),
        }
        r
    }

    /// Encodes every field regardless of the event type (SSV with any SubstreamID, all flags,
    /// InputAddr unmasked, words 6-7 masked by [`has_fetch_addr`]). For reproducing peers that
    /// fill fields the architecture leaves RES0.
    pub fn encode_unmasked(f: &EventFields) -> EventRecord {
        let mut r = EventRecord::default();
        let mut b = r.bits_mut();
        b.set_event_id(u64::from(f.id));
        if let Some(ssid) = f.ssid {
            b.set_ssv(true);
            b.set_substream_id(u64::from(ssid) & genmask(19, 0));
        }
        b.set_stream_id(u64::from(f.sid));
        b.set_stag(u64::from(f.stag));
        b.set_gpcf(f.gpcf);
        b.set_stall(f.stall);
        b.set_pnu(f.pnu);
        b.set_ind(f.ind);
        b.set_rnw(f.rnw);
        b.set_nsipa(f.nsipa);
        b.set_s2(f.s2);
        b.set_class(f.class);
        b.set_ttrnw(f.ttrnw);
        b.set_input_addr(f.input_addr);
        let mask = if has_fetch_addr(f.id) { FETCH_ADDR_MASK } else { IPA_MASK };
        b.set_addr2(f.addr2 & mask);
        r
    }

    /// Decodes the common fields.
    pub fn fields(&self) -> EventFields {
        let b = self.bits();
        EventFields {
            id: b.event_id() as u8,
            sid: b.stream_id() as u32,
            ssid: match layout(b.event_id() as u8).ssid {
                SsidField::Always => Some(b.substream_id() as u32),
                SsidField::WithSsv | SsidField::None => b.ssv().then(|| b.substream_id() as u32),
            },
            stag: b.stag() as u16,
            gpcf: b.gpcf(),
            stall: b.stall(),
            pnu: b.pnu(),
            ind: b.ind(),
            rnw: b.rnw(),
            nsipa: b.nsipa(),
            s2: b.s2(),
            class: b.class(),
            ttrnw: b.ttrnw(),
            input_addr: b.input_addr(),
            addr2: b.addr2(),
        }
    }
}

/// InputAddr bits that do not count when deciding whether two records are identical for
/// merging, for the types [`merge_ignores_input_addr_low`] names.
pub const MERGE_IGNORED_INPUT_ADDR: u64 = genmask(11, 0);

/// Whether "InputAddr\[11:0\] are IGNORED for the purposes of determining identical events for
/// merging" for this event type (§7.3.8, §7.3.12 to §7.3.17).
pub fn merge_ignores_input_addr_low(event: u8) -> bool {
    matches!(
        event,
        id::F_TRANSL_FORBIDDEN
            | id::F_WALK_EABT
            | id::F_TRANSLATION
            | id::F_ADDR_SIZE
            | id::F_ACCESS
            | id::F_PERMISSION
            | id::F_TLB_CONFLICT
    )
}
