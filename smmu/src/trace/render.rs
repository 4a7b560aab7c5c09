//! Canonical renderings of trace events: one stable text line per event (for snapshots and
//! humans), and one JSON object per event (for tools).
//!
//! Addresses and raw values are hex; field names follow the spec.

use core::fmt::{self, Write as _};

use super::{DescKind, FetchKind, Stage, TraceEvent};
use crate::spec::cd::Cd;
use crate::spec::cmd::{Cmd, cerror, op};
use crate::spec::event::{EventRecord, class, has_fetch_addr, id};
use crate::spec::ste::{Ste, addr_55_4, addr_55_6, config};
use crate::spec::table::{L1Cd, L1Std};

fn stage(s: Stage) -> &'static str {
    match s {
        Stage::S1 => "s1",
        Stage::S2 => "s2",
    }
}

fn desc_kind(k: DescKind) -> &'static str {
    match k {
        DescKind::Invalid => "invalid",
        DescKind::Table => "table",
        DescKind::Block => "block",
        DescKind::Page => "page",
        DescKind::Reserved => "reserved",
    }
}

fn fetch_kind(k: FetchKind) -> &'static str {
    match k {
        FetchKind::L1Std => "L1STD",
        FetchKind::Ste => "STE",
        FetchKind::L1Cd => "L1CD",
        FetchKind::Cd => "CD",
    }
}

fn words<const N: usize>(raw: &[u64]) -> [u64; N] {
    let mut w = [0u64; N];
    for (d, s) in w.iter_mut().zip(raw) {
        *d = *s;
    }
    w
}

/// Decoded key fields of a fetched structure, as `Name=value` pairs.
fn fetch_fields(kind: FetchKind, raw: &[u64], out: &mut String) {
    match kind {
        FetchKind::L1Std => {
            let d = L1Std::from_words(words(raw));
            let b = d.bits();
            let _ = write!(out, " Span={} L2Ptr={:#x}", b.span(), addr_55_6(b.l2ptr()));
        }
        FetchKind::Ste => {
            let s = Ste::from_words(words(raw));
            let b = s.bits();
            let conf = b.config();
            let _ = write!(out, " V={} Config={:#05b}", u8::from(b.v()), conf);
            let translates = conf & config::TRANSLATE_BIT != 0;
            if translates && conf & config::S1_BIT != 0 {
                let _ = write!(
                    out,
                    " S1Fmt={} S1CDMax={} S1DSS={} S1ContextPtr={:#x}",
                    b.s1fmt(),
                    b.s1cdmax(),
                    b.s1dss(),
                    addr_55_6(b.s1_context_ptr())
                );
            }
            if translates && conf & config::S2_BIT != 0 {
                let _ = write!(
                    out,
                    " S2VMID={:#x} S2T0SZ={} S2SL0={} S2TG={} S2PS={} S2R={} S2TTB={:#x}",
                    b.s2vmid(),
                    b.s2t0sz(),
                    b.s2sl0(),
                    b.s2tg(),
                    b.s2ps(),
                    u8::from(b.s2r()),
                    addr_55_4(b.s2ttb())
                );
            }
        }
        FetchKind::L1Cd => {
            let d = L1Cd::from_words(words(raw));
            let b = d.bits();
            let _ = write!(
                out,
                " V={} L2Ptr={:#x}",
                u8::from(b.v()),
                b.l2ptr() << crate::spec::table::L1CD_L2PTR_SHIFT
            );
        }
        FetchKind::Cd => {
            let c = Cd::from_words(words(raw));
            let b = c.bits();
            let _ = write!(
                out,
                " V={} ASID={:#x} T0SZ={} TG0={} EPD0={} T1SZ={} TG1={} EPD1={} IPS={} AA64={} R={} A={} TTB0={:#x} TTB1={:#x}",
                u8::from(b.v()),
                b.asid(),
                b.t0sz(),
                b.tg0(),
                u8::from(b.epd0()),
                b.t1sz(),
                b.tg1(),
                u8::from(b.epd1()),
                b.ips(),
                u8::from(b.aa64()),
                u8::from(b.r()),
                u8::from(b.a()),
                addr_55_4(b.ttb0()),
                addr_55_4(b.ttb1())
            );
        }
    }
}

/// Decoded fields of an event record.
fn event_fields(record: &[u64; 4], out: &mut String) {
    let r = EventRecord::from_words(*record);
    let f = r.fields();
    let _ = write!(out, "{} sid={:#x}", id::name(f.id), f.sid);
    if let Some(ssid) = f.ssid {
        let _ = write!(out, " ssid={ssid:#x}");
    }
    match f.id {
        id::F_TRANSLATION | id::F_ADDR_SIZE | id::F_ACCESS | id::F_PERMISSION | id::F_WALK_EABT => {
            let class = match f.class {
                class::CD => "CD",
                class::TT => "TT",
                class::IN => "IN",
                _ => "reserved",
            };
            let _ = write!(
                out,
                " input={:#x} rnw={} pnu={} ind={} s2={} class={}",
                f.input_addr,
                u8::from(f.rnw),
                u8::from(f.pnu),
                u8::from(f.ind),
                u8::from(f.s2),
                class
            );
            if f.ttrnw {
                out.push_str(" ttrnw=1");
            }
        }
        _ => {
            if f.input_addr != 0 {
                let _ = write!(out, " input={:#x}", f.input_addr);
            }
        }
    }
    if f.gpcf {
        out.push_str(" gpcf=1");
    }
    if has_fetch_addr(f.id) {
        let _ = write!(out, " fetch={:#x}", f.addr2);
    } else if f.addr2 != 0 {
        let _ = write!(out, " ipa={:#x}", f.addr2);
    }
}

/// The name of a CMDQ_CONS.ERR code.
fn cerror_name(code: u32) -> &'static str {
    match code {
        cerror::NONE => "CERROR_NONE",
        cerror::ILL => "CERROR_ILL",
        cerror::ABT => "CERROR_ABT",
        cerror::ATC_INV_SYNC => "CERROR_ATC_INV_SYNC",
        _ => "CERROR_reserved",
    }
}

/// Decoded fields of a command.
fn command_fields(raw: &[u64; 2], out: &mut String) {
    let c = Cmd::from_words(*raw);
    let b = c.bits();
    let opcode = b.opcode() as u8;
    match op::name(opcode) {
        Some(n) => out.push_str(n),
        None => {
            let _ = write!(out, "opcode={opcode:#04x}");
        }
    }
    let _ = write!(out, " raw={:#018x}_{:#018x}", raw[0], raw[1]);
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        match self {
            TraceEvent::Mmio { write, offset, size, value, pas, reg } => {
                let dir = if *write { "write" } else { "read" };
                let _ = write!(
                    s,
                    "mmio {dir} {reg} off={offset:#x} size={size} value={value:#x} pas={pas}"
                );
            }
            TraceEvent::Dma(t) => {
                let _ = write!(
                    s,
                    "dma {} sid={:#x} iova={:#x} len={:#x} {} pnu={} ind={} ns={}",
                    t.sec_sid,
                    t.sid,
                    t.iova,
                    t.len,
                    if t.rnw { "read" } else { "write" },
                    u8::from(t.pnu),
                    u8::from(t.ind),
                    u8::from(t.ns)
                );
                if let Some(ssid) = t.ssid {
                    let _ = write!(s, " ssid={ssid:#x}");
                }
            }
            TraceEvent::Fetch { kind, index, addr, pas, raw } => {
                let what = match kind {
                    FetchKind::L1Std | FetchKind::Ste => "sid",
                    FetchKind::L1Cd | FetchKind::Cd => "ssid",
                };
                let _ = write!(
                    s,
                    "fetch {} {what}={index:#x} addr={addr:#x} pas={pas}",
                    fetch_kind(*kind)
                );
                fetch_fields(*kind, raw, &mut s);
            }
            TraceEvent::WalkStep { stage: st, level, addr, pas, desc, kind } => {
                let _ = write!(
                    s,
                    "walk {} L{level} addr={addr:#x} pas={pas} desc={desc:#018x} {}",
                    stage(*st),
                    desc_kind(*kind)
                );
            }
            TraceEvent::TlbHit { sec_sid, iova } => {
                let _ = write!(s, "tlb hit {sec_sid} iova={iova:#x}");
            }
            TraceEvent::TlbMiss { sec_sid, iova } => {
                let _ = write!(s, "tlb miss {sec_sid} iova={iova:#x}");
            }
            TraceEvent::TlbFill { sec_sid, iova, size } => {
                let _ = write!(s, "tlb fill {sec_sid} iova={iova:#x} size={size:#x}");
            }
            TraceEvent::TlbInvalidate { sec_sid, scope, removed } => {
                let _ = write!(s, "tlb invalidate {sec_sid} {scope} removed={removed}");
            }
            TraceEvent::Output { iova, pa, pas, perms, size } => {
                let _ = write!(
                    s,
                    "output iova={iova:#x} pa={pa:#x} pas={pas} perms={perms} size={size:#x}"
                );
            }
            TraceEvent::Abort { reason, event } => {
                let _ = write!(s, "abort {reason}");
                if let Some(e) = event {
                    let _ = write!(s, " event={}", id::name(*e));
                }
            }
            TraceEvent::Gpc { pa, pas, ok } => {
                let _ =
                    write!(s, "gpc pa={pa:#x} pas={pas} {}", if *ok { "pass" } else { "fault" });
            }
            TraceEvent::Event { sec_sid, addr, record } => {
                match addr {
                    Some(a) => {
                        let _ = write!(s, "event {sec_sid} slot={a:#x} ");
                    }
                    None => {
                        let _ = write!(s, "event {sec_sid} discarded ");
                    }
                }
                event_fields(record, &mut s);
            }
            TraceEvent::Gerror { sec_sid, bits, gerror } => {
                let _ = write!(s, "gerror {sec_sid} toggled={bits:#x} gerror={gerror:#x}");
            }
            TraceEvent::Irq { line } => {
                let _ = write!(s, "irq {line} {}", crate::irq::line_name(*line));
            }
            TraceEvent::Msi { source, addr, data, pas } => {
                let _ = write!(s, "msi {source} addr={addr:#x} data={data:#x} pas={pas}");
            }
            TraceEvent::Command { sec_sid, index, raw } => {
                let _ = write!(s, "cmd {sec_sid} index={index:#x} ");
                command_fields(raw, &mut s);
            }
            TraceEvent::CommandError { sec_sid, index, code } => {
                let _ = write!(s, "cmd-error {sec_sid} index={index:#x} {}", cerror_name(*code));
            }
            TraceEvent::Note(n) => {
                let _ = write!(s, "note {n}");
            }
        }
        f.write_str(&s)
    }
}

/// A JSON-lines rendering of an event: `{"kind":"walk",...}`.
pub struct JsonLine<'a>(pub &'a TraceEvent);

struct Obj {
    s: String,
}

impl Obj {
    fn new(kind: &str) -> Self {
        let mut s = String::from("{\"kind\":");
        push_str(&mut s, kind);
        Obj { s }
    }
    fn str(mut self, k: &str, v: &str) -> Self {
        self.s.push(',');
        push_str(&mut self.s, k);
        self.s.push(':');
        push_str(&mut self.s, v);
        self
    }
    fn hex(self, k: &str, v: u64) -> Self {
        self.str(k, &format!("{v:#x}"))
    }
    fn num(mut self, k: &str, v: u64) -> Self {
        self.s.push(',');
        push_str(&mut self.s, k);
        let _ = write!(self.s, ":{v}");
        self
    }
    fn bool(mut self, k: &str, v: bool) -> Self {
        self.s.push(',');
        push_str(&mut self.s, k);
        let _ = write!(self.s, ":{v}");
        self
    }
    fn hexes(mut self, k: &str, v: &[u64]) -> Self {
        self.s.push(',');
        push_str(&mut self.s, k);
        self.s.push_str(":[");
        for (i, w) in v.iter().enumerate() {
            if i > 0 {
                self.s.push(',');
            }
            push_str(&mut self.s, &format!("{w:#x}"));
        }
        self.s.push(']');
        self
    }
    fn end(mut self) -> String {
        self.s.push('}');
        self.s
    }
}

fn push_str(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl fmt::Display for JsonLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = match self.0 {
            TraceEvent::Mmio { write, offset, size, value, pas, reg } => Obj::new("mmio")
                .bool("write", *write)
                .str("reg", reg)
                .hex("offset", *offset)
                .num("size", u64::from(*size))
                .hex("value", *value)
                .str("pas", pas.name())
                .end(),
            TraceEvent::Dma(t) => {
                let mut o = Obj::new("dma")
                    .str("sec_sid", t.sec_sid.name())
                    .hex("sid", u64::from(t.sid))
                    .hex("iova", t.iova)
                    .hex("len", t.len)
                    .bool("rnw", t.rnw)
                    .bool("pnu", t.pnu)
                    .bool("ind", t.ind)
                    .bool("ns", t.ns);
                if let Some(ssid) = t.ssid {
                    o = o.hex("ssid", u64::from(ssid));
                }
                o.end()
            }
            TraceEvent::Fetch { kind, index, addr, pas, raw } => Obj::new("fetch")
                .str("what", fetch_kind(*kind))
                .hex("index", u64::from(*index))
                .hex("addr", *addr)
                .str("pas", pas.name())
                .hexes("raw", raw)
                .end(),
            TraceEvent::WalkStep { stage: st, level, addr, pas, desc, kind } => Obj::new("walk")
                .str("stage", stage(*st))
                .num("level", u64::from(*level))
                .hex("addr", *addr)
                .str("pas", pas.name())
                .hex("desc", *desc)
                .str("desc_kind", desc_kind(*kind))
                .end(),
            TraceEvent::TlbHit { sec_sid, iova } => {
                Obj::new("tlb_hit").str("sec_sid", sec_sid.name()).hex("iova", *iova).end()
            }
            TraceEvent::TlbMiss { sec_sid, iova } => {
                Obj::new("tlb_miss").str("sec_sid", sec_sid.name()).hex("iova", *iova).end()
            }
            TraceEvent::TlbFill { sec_sid, iova, size } => Obj::new("tlb_fill")
                .str("sec_sid", sec_sid.name())
                .hex("iova", *iova)
                .hex("size", *size)
                .end(),
            TraceEvent::TlbInvalidate { sec_sid, scope, removed } => Obj::new("tlb_invalidate")
                .str("sec_sid", sec_sid.name())
                .str("scope", scope)
                .num("removed", *removed as u64)
                .end(),
            TraceEvent::Output { iova, pa, pas, perms, size } => Obj::new("output")
                .hex("iova", *iova)
                .hex("pa", *pa)
                .str("pas", pas.name())
                .str("perms", &perms.to_string())
                .hex("size", *size)
                .end(),
            TraceEvent::Abort { reason, event } => {
                let mut o = Obj::new("abort").str("reason", reason);
                if let Some(e) = event {
                    o = o.str("event", id::name(*e));
                }
                o.end()
            }
            TraceEvent::Gpc { pa, pas, ok } => {
                Obj::new("gpc").hex("pa", *pa).str("pas", pas.name()).bool("ok", *ok).end()
            }
            TraceEvent::Event { sec_sid, addr, record } => {
                let mut o = Obj::new("event")
                    .str("sec_sid", sec_sid.name())
                    .str("type", id::name(EventRecord::from_words(*record).fields().id));
                if let Some(a) = addr {
                    o = o.hex("slot", *a);
                }
                o.hexes("record", record).end()
            }
            TraceEvent::Gerror { sec_sid, bits, gerror } => Obj::new("gerror")
                .str("sec_sid", sec_sid.name())
                .hex("toggled", u64::from(*bits))
                .hex("gerror", u64::from(*gerror))
                .end(),
            TraceEvent::Irq { line } => Obj::new("irq")
                .num("line", u64::from(*line))
                .str("name", crate::irq::line_name(*line))
                .end(),
            TraceEvent::Msi { source, addr, data, pas } => Obj::new("msi")
                .str("source", source)
                .hex("addr", *addr)
                .hex("data", u64::from(*data))
                .str("pas", pas.name())
                .end(),
            TraceEvent::Command { sec_sid, index, raw } => {
                let opcode = Cmd::from_words(*raw).bits().opcode() as u8;
                Obj::new("cmd")
                    .str("sec_sid", sec_sid.name())
                    .hex("index", u64::from(*index))
                    .str("op", op::name(opcode).unwrap_or("reserved"))
                    .hexes("raw", raw)
                    .end()
            }
            TraceEvent::CommandError { sec_sid, index, code } => Obj::new("cmd_error")
                .str("sec_sid", sec_sid.name())
                .hex("index", u64::from(*index))
                .str("error", cerror_name(*code))
                .end(),
            TraceEvent::Note(n) => Obj::new("note").str("text", n).end(),
        };
        f.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pas::{Pas, SecSid};

    #[test]
    fn walk_step_renders_as_one_hex_line() {
        let ev = TraceEvent::WalkStep {
            stage: Stage::S1,
            level: 0,
            addr: 0x4e4d_0008,
            pas: Pas::NonSecure,
            desc: 0x8000_0000_4e4d_1003,
            kind: DescKind::Table,
        };
        assert_eq!(
            ev.to_string(),
            "walk s1 L0 addr=0x4e4d0008 pas=non-secure desc=0x800000004e4d1003 table"
        );
    }

    #[test]
    fn c_bad_ste_event_renders_type_and_sid() {
        let ev = TraceEvent::Event {
            sec_sid: SecSid::NonSecure,
            addr: Some(0x4e17_0000),
            record: [0x0000_0008_0000_0004, 0, 0, 0],
        };
        assert_eq!(ev.to_string(), "event non-secure slot=0x4e170000 C_BAD_STE sid=0x8");
    }

    #[test]
    fn json_line_escapes_and_uses_hex_strings() {
        let ev = TraceEvent::Note("a \"q\"".into());
        assert_eq!(JsonLine(&ev).to_string(), r#"{"kind":"note","text":"a \"q\""}"#);
        let ev = TraceEvent::Irq { line: 3 };
        assert_eq!(JsonLine(&ev).to_string(), r#"{"kind":"irq","line":3,"name":"gerror"}"#);
    }

    #[test]
    fn ste_fetch_decodes_config_and_pointers() {
        let ev = TraceEvent::Fetch {
            kind: FetchKind::Ste,
            index: 8,
            addr: 0x4e17_9200,
            pas: Pas::NonSecure,
            raw: vec![0x4e17_8fcb, 0, 0, 0, 0, 0, 0, 0],
        };
        assert_eq!(
            ev.to_string(),
            "fetch STE sid=0x8 addr=0x4e179200 pas=non-secure V=1 Config=0b101 S1Fmt=0 S1CDMax=0 S1DSS=0 S1ContextPtr=0x4e178fc0"
        );
    }
}
