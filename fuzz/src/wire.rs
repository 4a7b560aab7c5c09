//! Wire formats: STE, CD, command and event record bytes through the model's decoders.
//!
//! The STE and CD are either arbitrary bytes or a valid structure (the demo's stage-1 STE and
//! CD, QEMU's nested STE, a stage-2 STE, a bypass STE) with a few bits flipped, which reaches
//! the deep validation rules far more often than random bytes do.
//!
//! Oracle ([`check`]):
//! - `stream::decode_ste` and, for a stage-1 STE it accepts, `context::decode_cd` never panic,
//!   under both presets, for the Non-secure and Secure interfaces, with and without CR2.E2H;
//! - a command written to an enabled command queue of a fresh SMMU (Non-secure queue, and the
//!   Secure queue with `preset=full`) is either consumed (CMDQ_CONS.RD advances, CMDQ_ERR stays
//!   inactive) or refused with CERROR_ILL / CERROR_ABT (CONS.RD stays on it, CONS.ERR holds
//!   the code, GERROR.CMDQ_ERR becomes active), and never panics;
//! - `EventRecord::encode(&record.fields())` is stable: encoding the decoded fields of an
//!   encoded record gives the same record back (`encode ∘ fields` is idempotent);
//! - the trace renderings (text and JSON) of the command and the event record never panic.

use std::fmt;

use arbitrary::{Arbitrary, Result, Unstructured};
use smmu::context::decode_cd;
use smmu::spec::cd::Cd;
use smmu::spec::cmd::{Cmd, cerror};
use smmu::spec::event::EventRecord;
use smmu::spec::regs::{CMDQ_CONS_ERR_MASK, CMDQ_CONS_ERR_SHIFT, Cr0, S_OFFSET, gerror, off};
use smmu::spec::ste::Ste;
use smmu::stream::{StreamCfg, decode_ste};
use smmu::trace::JsonLine;
use smmu::{NoTrace, Pas, SecSid, Smmu, SmmuConfig, SparseMem, TraceEvent, Window};

use crate::Violation;

/// Valid STEs the generator starts from (64-bit words).
pub const STE_TEMPLATES: [[u64; 8]; 4] = [
    // Stage 1, one CD at 0x4e178fc0 (the demo script's STE).
    [0x4e17_8fcb, 0, 0, 0, 0, 0, 0, 0],
    // Nested: QEMU's iommu-smmuv3-test STE (S2T0SZ 0x14, S2SL0 2, S2PS 5, S2AA64, S2TTB).
    [0x4e17_8fcf, 0, 0x000d_0094_0000_0000, 0x4e4d_0000, 0, 0, 0, 0],
    // Stage 2 only, same stage-2 fields.
    [0x4e17_8fcd, 0, 0x000d_0094_0000_0000, 0x4e4d_0000, 0, 0, 0, 0],
    // Bypass.
    [0x9, 0, 0, 0, 0, 0, 0, 0],
];

/// Valid CDs the generator starts from: the demo script's CD (T0SZ 16, 4K, IPS 44 bits, AA64,
/// R, A, ASID 0x1e20, TTB0 0x4e4d0000).
pub const CD_TEMPLATES: [[u64; 8]; 1] = [[0x1e20_6204_c000_0010, 0x4e4d_0001, 0, 0, 0, 0, 0, 0]];

/// Bytes of a structure: a template with bits flipped, or raw bytes.
fn structure<const N: usize>(u: &mut Unstructured, templates: &[[u64; 8]]) -> Result<[u8; N]> {
    let mut out = [0u8; N];
    if u.ratio(1u8, 3)? {
        u.fill_buffer(&mut out)?;
        return Ok(out);
    }
    let t = u.choose(templates)?;
    for (i, w) in t.iter().enumerate() {
        let start = i * 8;
        if start + 8 <= N {
            out[start..start + 8].copy_from_slice(&w.to_le_bytes());
        }
    }
    for _ in 0..u.int_in_range(0..=6)? {
        let bit = u.int_in_range(0..=N * 8 - 1)?;
        out[bit / 8] ^= 1 << (bit % 8);
    }
    Ok(out)
}

/// One input: an STE, a CD, a command and an event record, and where to decode them.
#[derive(Clone, PartialEq, Eq)]
pub struct Input {
    /// `preset=full` instead of QEMU's virt ID registers.
    pub full: bool,
    /// Decode and queue on the Secure interface (with `full`).
    pub secure: bool,
    /// CR2.E2H for the STE decode.
    pub e2h: bool,
    pub ste: [u8; 64],
    pub cd: [u8; 64],
    pub cmd: [u8; 16],
    pub event: [u8; 32],
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let full = u.arbitrary()?;
        let secure = u.arbitrary()?;
        let e2h = u.arbitrary()?;
        let ste = structure(u, &STE_TEMPLATES)?;
        let cd = structure(u, &CD_TEMPLATES)?;
        let mut cmd = [0u8; 16];
        u.fill_buffer(&mut cmd)?;
        if u.ratio(3u8, 4)? {
            // Mostly architected opcodes, so the field checks run.
            cmd[0] = *u.choose(&[
                0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x18, 0x1a, 0x20,
                0x21, 0x22, 0x23, 0x28, 0x2a, 0x30, 0x40, 0x41, 0x44, 0x45, 0x46, 0x50, 0x51, 0x52,
                0x53, 0x58, 0x5a, 0x60, 0x70, 0x73, 0x80,
            ])?;
        }
        let mut event = [0u8; 32];
        u.fill_buffer(&mut event)?;
        if u.ratio(3u8, 4)? {
            event[0] = *u.choose(&[
                0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12,
                0x13, 0x20, 0x21, 0x24, 0x25, 0xe0,
            ])?;
        }
        Ok(Input { full, secure, e2h, ste, cd, cmd, event })
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ste = Ste::from_words(words(&self.ste));
        let cd = Cd::from_words(words(&self.cd));
        let cmd = Cmd::from_words(words(&self.cmd));
        let ev = EventRecord::from_words(words(&self.event));
        writeln!(f, "wire input: full={} secure={} e2h={}", self.full, self.secure, self.e2h)?;
        writeln!(f, "  {ste:?}\n  {cd:?}\n  {cmd:?}\n  {ev:?}")
    }
}

fn words<const N: usize, const B: usize>(bytes: &[u8; B]) -> [u64; N] {
    let mut w = [0u64; N];
    for (i, c) in bytes.chunks_exact(8).enumerate().take(N) {
        w[i] = u64::from_le_bytes(c.try_into().expect("8 bytes"));
    }
    w
}

fn configs(input: &Input) -> Vec<(SmmuConfig, SecSid)> {
    let mut v = vec![(SmmuConfig::qemu_virt(), SecSid::NonSecure)];
    if input.full {
        v.push((SmmuConfig::full(), SecSid::NonSecure));
        v.push((SmmuConfig::full(), SecSid::Secure));
    }
    v
}

/// Decodes the STE and CD; only panics can fail here.
fn decode_structures(input: &Input) {
    let ste = Ste::from_words(words(&input.ste));
    let cd = Cd::from_words(words(&input.cd));
    for (cfg, sec) in configs(input) {
        if let Ok(StreamCfg::Translate(t)) = decode_ste(&cfg, sec, input.e2h, &ste)
            && let Some(s1) = t.s1
        {
            let _ = decode_cd(&cfg, sec, &t, &s1, &cd);
        }
    }
}

/// Queue base of the command queue: RAM at 0x4000_0000, 4 entries.
const CMDQ_ADDR: u64 = 0x4000_0000;
const CMDQ_LOG2SIZE: u64 = 2;

/// CMDQ_CONS and the active GERROR bits after one command went through the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueOutcome {
    pub cons: u32,
    pub active_gerror: u32,
}

impl QueueOutcome {
    /// CONS.RD with its wrap bit.
    pub fn rd(self) -> u32 {
        self.cons & ((1 << (CMDQ_LOG2SIZE + 1)) - 1)
    }
    /// CONS.ERR.
    pub fn err(self) -> u32 {
        (self.cons & CMDQ_CONS_ERR_MASK) >> CMDQ_CONS_ERR_SHIFT
    }
    pub fn cmdq_err(self) -> bool {
        self.active_gerror & gerror::CMDQ_ERR != 0
    }
}

/// Puts `cmd` in slot 0 of an enabled 4-entry command queue of a fresh SMMU and rings PROD.
pub fn run_command(
    cfg: SmmuConfig,
    sec: SecSid,
    cmd: &Cmd,
) -> std::result::Result<QueueOutcome, Violation> {
    let mut smmu = Smmu::new(cfg);
    let mut mem = SparseMem::new();
    mem.add_window(Window {
        name: "ram",
        base: CMDQ_ADDR,
        size: 1 << 20,
        pas_mask: Pas::ALL.iter().fold(0, |m, p| m | p.bit()),
    })
    .map_err(|e| Violation::new("setup", e))?;
    let (page, pas) =
        if sec == SecSid::Secure { (S_OFFSET, Pas::Secure) } else { (0, Pas::NonSecure) };
    let w = |smmu: &mut Smmu, mem: &mut SparseMem, o: u64, size: u8, v: u64| {
        smmu.mmio_write(page + o, size, v, pas, mem, &mut NoTrace)
            .map_err(|e| Violation::new("setup", format!("write {o:#x}: {e:?}")))
    };
    w(&mut smmu, &mut mem, off::CMDQ_BASE, 8, CMDQ_ADDR | CMDQ_LOG2SIZE)?;
    w(&mut smmu, &mut mem, off::CMDQ_PROD, 4, 0)?;
    w(&mut smmu, &mut mem, off::CMDQ_CONS, 4, 0)?;
    let mut cr0 = Cr0(0);
    cr0.set_cmdqen(true);
    w(&mut smmu, &mut mem, off::CR0, 4, u64::from(cr0.0))?;
    smmu::mem::write_obj(&mut mem, CMDQ_ADDR, pas, cmd)
        .map_err(|e| Violation::new("setup", format!("{e:?}")))?;
    w(&mut smmu, &mut mem, off::CMDQ_PROD, 4, 1)?;
    let r = |smmu: &mut Smmu, mem: &mut SparseMem, o: u64| {
        smmu.mmio_read(page + o, 4, pas, mem, &mut NoTrace)
            .map(|v| v as u32)
            .map_err(|e| Violation::new("setup", format!("read {o:#x}: {e:?}")))
    };
    let cons = r(&mut smmu, &mut mem, off::CMDQ_CONS)?;
    let active_gerror =
        r(&mut smmu, &mut mem, off::GERROR)? ^ r(&mut smmu, &mut mem, off::GERRORN)?;
    Ok(QueueOutcome { cons, active_gerror })
}

/// Runs the command through each interface's queue and checks the outcome.
fn check_command(input: &Input) -> Result2 {
    let cmd = Cmd::from_words(words(&input.cmd));
    for (cfg, sec) in configs(input) {
        if sec == SecSid::Secure && !cfg.secure_impl {
            continue;
        }
        let o = run_command(cfg, sec, &cmd)?;
        let consumed = o.rd() == 1 && !o.cmdq_err();
        let refused =
            o.rd() == 0 && o.cmdq_err() && (o.err() == cerror::ILL || o.err() == cerror::ABT);
        if !consumed && !refused {
            return Err(Violation::new(
                "cmdq-outcome",
                format!(
                    "{sec} queue, {cmd:?}: CMDQ_CONS {:#x}, active GERROR {:#x} \
                     (neither consumed nor refused with CERROR_ILL/ABT)",
                    o.cons, o.active_gerror
                ),
            ));
        }
    }
    Ok(())
}

type Result2 = std::result::Result<(), Violation>;

/// Checks that encoding the decoded fields of a record is stable.
fn check_event(input: &Input) -> Result2 {
    let r0 = EventRecord::from_words(words(&input.event));
    let r1 = EventRecord::encode(&r0.fields());
    let r2 = EventRecord::encode(&r1.fields());
    if r1 != r2 {
        return Err(Violation::new(
            "event-encode-stable",
            format!(
                "encode(fields()) changes an encoded record: {r1:?} -> {r2:?}\n  fields {:?}\n  \
                 refields {:?}",
                r1.fields(),
                r2.fields()
            ),
        ));
    }
    Ok(())
}

/// Renders the command and the event record as trace lines (text and JSON).
fn render(input: &Input) {
    let evs = [
        TraceEvent::Command { sec_sid: SecSid::NonSecure, index: 0, raw: words(&input.cmd) },
        TraceEvent::Event {
            sec_sid: SecSid::Secure,
            addr: Some(0x40),
            record: words(&input.event),
        },
        TraceEvent::Event { sec_sid: SecSid::Realm, addr: None, record: words(&input.event) },
    ];
    for ev in &evs {
        let _ = ev.to_string();
        let _ = JsonLine(ev).to_string();
    }
}

/// Runs every decoder on the input (see the module documentation).
pub fn check(input: &Input) -> Result2 {
    decode_structures(input);
    render(input);
    check_event(input)?;
    check_command(input)
}

/// [`check`], panicking on a violation (what a fuzz target calls).
pub fn oracle(input: &Input) {
    if let Err(v) = check(input) {
        panic!("wire oracle: {v}\n--- input ---\n{input:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Input {
        let mut ste = [0u8; 64];
        ste[..8].copy_from_slice(&STE_TEMPLATES[0][0].to_le_bytes());
        let mut cd = [0u8; 64];
        cd[..8].copy_from_slice(&CD_TEMPLATES[0][0].to_le_bytes());
        cd[8..16].copy_from_slice(&CD_TEMPLATES[0][1].to_le_bytes());
        let mut event = [0u8; 32];
        // F_TRANSLATION, StreamID 8.
        event[0] = 0x10;
        event[4] = 0x08;
        Input { full: true, secure: false, e2h: false, ste, cd, cmd: [0; 16], event }
    }

    #[test]
    fn the_templates_decode_as_translating_configurations() {
        let i = input();
        let ste = Ste::from_words(words(&i.ste));
        let cfg = SmmuConfig::qemu_virt();
        let Ok(StreamCfg::Translate(t)) = decode_ste(&cfg, SecSid::NonSecure, false, &ste) else {
            panic!("template STE is valid");
        };
        let s1 = t.s1.expect("stage 1");
        assert!(decode_cd(&cfg, SecSid::NonSecure, &t, &s1, &Cd::from_words(words(&i.cd))).is_ok());
    }

    #[test]
    fn cmd_sync_is_consumed() {
        // CMD_SYNC with CS=SIG_NONE: opcode 0x46 in byte 0, nothing else.
        let o =
            run_command(SmmuConfig::qemu_virt(), SecSid::NonSecure, &Cmd::from_words([0x46, 0]))
                .unwrap();
        assert_eq!((o.rd(), o.cmdq_err()), (1, false));
    }

    #[test]
    fn reserved_opcode_is_refused_with_cerror_ill() {
        // Opcode 0x00 is reserved.
        let o = run_command(SmmuConfig::qemu_virt(), SecSid::NonSecure, &Cmd::from_words([0, 0]))
            .unwrap();
        assert_eq!((o.rd(), o.err(), o.cmdq_err()), (0, 0x01, true));
    }

    #[test]
    fn a_translation_fault_record_encodes_stably() {
        assert_eq!(check_event(&input()), Ok(()));
    }

    /// Found by this oracle: a C_BAD_SUBSTREAMID record keeps its SubstreamID (no SSV) through
    /// decode and re-encode (§7.3.9), as `regressions/c-bad-substreamid-fields.qtest` shows.
    #[test]
    fn c_bad_substreamid_keeps_its_substream_id_through_decode_and_encode() {
        let mut i = input();
        // C_BAD_SUBSTREAMID, SSV=1, SubstreamID 5, StreamID 8.
        i.event[..8].copy_from_slice(&0x0000_0008_0000_5808u64.to_le_bytes());
        assert_eq!(check_event(&i), Ok(()));
    }
}
