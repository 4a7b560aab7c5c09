//! End to end through the real SMMU: QEMU's golden iommu-smmuv3-test transcripts replayed
//! request by request, and the interactive fault scenario of qemu-compatibility.md
//! Appendix B.

use smmu::Pas;

use super::*;
use crate::bus::{Attrs, DeviceOpts};

/// iommu-smmuv3-test's command line.
fn golden_machine() -> Box<dyn Bus> {
    let props = [("acpi", "off"), ("gic-version", "3"), ("iommu", "smmuv3")];
    let opts = MachineOpts {
        machine: "virt".into(),
        machine_props: props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ram_size: 512 << 20,
        devices: vec![DeviceOpts { driver: "iommu-testdev".into(), props: vec![] }],
        globals: Vec::new(),
    };
    build_machine(&opts).unwrap()
}

fn num(tok: &str) -> u64 {
    match tok.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap(),
        None => tok.parse().unwrap(),
    }
}

fn hex_bytes(h: &str) -> Vec<u8> {
    let h = h.strip_prefix("0x").unwrap();
    (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect()
}

/// Executes one request of the subset of the qtest protocol the transcripts use and returns
/// QEMU's reply text (failed bus accesses still answer OK, with zeros, as QEMU does).
fn execute(bus: &mut dyn Bus, line: &str) -> String {
    let t: Vec<&str> = line.split(' ').collect();
    let a = Attrs::Unspecified;
    match t[0] {
        "endianness" => "OK little".into(),
        "read" => {
            let mut b = vec![0u8; num(t[2]) as usize];
            let _ = bus.read(num(t[1]), &mut b, a);
            format!("OK 0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
        }
        "readl" | "readq" => {
            let mut b = vec![0u8; if t[0] == "readl" { 4 } else { 8 }];
            let _ = bus.read(num(t[1]), &mut b, a);
            let v = b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x));
            format!("OK 0x{v:016x}")
        }
        "write" => {
            let mut data = hex_bytes(t[3]);
            data.resize(num(t[2]) as usize, 0);
            let _ = bus.write(num(t[1]), &data, a);
            "OK".into()
        }
        "writel" | "writeq" => {
            let v = num(t[2]).to_le_bytes();
            let _ = bus.write(num(t[1]), &v[..if t[0] == "writel" { 4 } else { 8 }], a);
            "OK".into()
        }
        "memset" => {
            let _ = bus.fill(num(t[1]), num(t[2]), num(t[3]) as u8, a);
            "OK".into()
        }
        other => panic!("transcript uses {other}"),
    }
}

/// Replays a `> request` / `< reply` transcript and checks every reply.
fn replay(transcript: &str) {
    let mut bus = golden_machine();
    let mut lines = transcript.lines().peekable();
    let mut n = 0;
    while let Some(req) = lines.next() {
        let req = req.strip_prefix("> ").expect("request line");
        let want = lines.next().and_then(|l| l.strip_prefix("< ")).expect("reply line");
        assert_eq!(execute(bus.as_mut(), req), want, "request {n}: {req}");
        assert!(bus.take_irqs().is_empty(), "request {n}: {req} raised an interrupt");
        n += 1;
    }
    assert!(n > 300);
}

#[test]
fn golden_ns_s1_only_transcript_replays_byte_for_byte() {
    replay(include_str!("testdata/ns-s1-only.txt"));
}

#[test]
fn golden_ns_s2_only_transcript_replays_byte_for_byte() {
    replay(include_str!("testdata/ns-s2-only.txt"));
}

#[test]
fn golden_ns_nested_transcript_replays_byte_for_byte() {
    replay(include_str!("testdata/ns-nested.txt"));
}

// ---- Appendix B: the interactive fault scenario ----

const SMMU: u64 = 0x0905_0000;
const BAR: u64 = 0x1000_0000;
const ECAM: u64 = 0x40_1000_0000;
const STRTAB: u64 = 0x4800_0000;
const CMDQ: u64 = 0x4801_0000;
const EVENTQ: u64 = 0x4802_0000;
const GPA: u64 = 0x4803_0000;
const SMMU_PATH: &str = "/machine/unattached/device[6]";

fn wl(bus: &mut dyn Bus, addr: u64, v: u32) {
    bus.write(addr, &v.to_le_bytes(), Attrs::Unspecified).unwrap();
}

fn wq(bus: &mut dyn Bus, addr: u64, v: u64) {
    bus.write(addr, &v.to_le_bytes(), Attrs::Unspecified).unwrap();
}

fn rl(bus: &mut dyn Bus, addr: u64) -> u32 {
    let mut b = [0u8; 4];
    bus.read(addr, &mut b, Attrs::Unspecified).unwrap();
    u32::from_le_bytes(b)
}

/// Appendix B's setup: a linear stream table of zero STEs, command and event queues of 16
/// entries, event and gerror interrupts enabled, SMMU on; the device's BAR at 0x10000000.
fn appendix_b() -> Box<dyn Bus> {
    let mut bus = golden_machine();
    let b = bus.as_mut();
    b.write(ECAM + 0x8004, &[0x07, 0x00], Attrs::Unspecified).unwrap();
    wl(b, ECAM + 0x8010, BAR as u32);
    wq(b, SMMU + 0x80, STRTAB); // STRTAB_BASE
    wl(b, SMMU + 0x88, 5); // STRTAB_BASE_CFG: linear, 32 STEs
    wq(b, SMMU + 0x90, CMDQ | 4); // CMDQ_BASE, LOG2SIZE 4
    wq(b, SMMU + 0xa0, EVENTQ | 4); // EVENTQ_BASE, LOG2SIZE 4
    wl(b, SMMU + 0x50, 0x5); // IRQ_CTRL: GERROR_IRQEN | EVENTQ_IRQEN
    wl(b, SMMU + 0x20, 0xd); // CR0: SMMUEN | EVENTQEN | CMDQEN
    bus
}

/// GVA 0x1000, GPA 0x48030000, LEN 4, ATTRS 0xa; returns (trigger value, RESULT, interrupts).
fn appendix_b_dma(bus: &mut dyn Bus) -> (u32, u32, Vec<(String, u8)>) {
    for (off, v) in [(0x04, 0x1000), (0x08, 0), (0x1c, GPA as u32), (0x20, 0), (0x0c, 4)] {
        wl(bus, BAR + off, v);
    }
    wl(bus, BAR + 0x18, 0xa);
    wl(bus, BAR + 0x14, 1);
    let trigger = rl(bus, BAR);
    let irqs = bus.take_irqs();
    (trigger, rl(bus, BAR + 0x10), irqs)
}

#[test]
fn appendix_b_bad_ste_records_c_bad_ste_for_sid_8_and_raises_eventq_irq() {
    let mut bus = appendix_b();
    let (trigger, result, irqs) = appendix_b_dma(bus.as_mut());
    assert_eq!((trigger, result), (0, 0xdead_0002));
    assert_eq!(irqs, [(SMMU_PATH.to_string(), 0)]);
    assert_eq!(rl(bus.as_mut(), SMMU + 0xa8), 1); // EVENTQ_PROD
    let mut rec = [0xeeu8; 32];
    bus.read(EVENTQ, &mut rec, Attrs::Unspecified).unwrap();
    let mut want = [0u8; 32];
    want[0] = 0x04; // C_BAD_STE
    want[4] = 0x08; // StreamID 8
    assert_eq!(rec, want);
    assert_eq!(rl(bus.as_mut(), BAR + 0x10c), 0x104); // DMA_FAULT: aborted, C_BAD_STE
}

#[test]
fn appendix_b_cmd_sync_pulses_line_2() {
    let mut bus = appendix_b();
    wq(bus.as_mut(), CMDQ, 0x1046); // CMD_SYNC, CS = SIG_IRQ
    wl(bus.as_mut(), SMMU + 0x98, 1); // CMDQ_PROD
    assert_eq!(bus.take_irqs(), [(SMMU_PATH.to_string(), 2)]);
    assert_eq!(rl(bus.as_mut(), SMMU + 0x9c), 1); // CMDQ_CONS
}

#[test]
fn appendix_b_bypass_writes_flash_and_the_readback_mismatches() {
    let mut bus = appendix_b();
    wl(bus.as_mut(), SMMU + 0x20, 0); // CR0 = 0, GBPA.ABORT = 0 (reset)
    let (_, result, irqs) = appendix_b_dma(bus.as_mut());
    assert_eq!(result, 0xdead_0004);
    assert!(irqs.is_empty());
}

#[test]
fn appendix_b_gbpa_abort_fails_the_dma_without_event_or_irq() {
    let mut bus = appendix_b();
    wl(bus.as_mut(), SMMU + 0x20, 0);
    wl(bus.as_mut(), SMMU + 0x44, 0x8010_0000); // GBPA: UPDATE | ABORT
    let (_, result, irqs) = appendix_b_dma(bus.as_mut());
    assert_eq!(result, 0xdead_0002);
    assert!(irqs.is_empty());
    assert_eq!(rl(bus.as_mut(), SMMU + 0xa8), 0);
    assert_eq!(rl(bus.as_mut(), BAR + 0x10c), 0x100); // aborted, no event
}

// ---- the Secure side the model adds ----

#[test]
fn secure_register_page_is_raz_wi_for_non_secure_accesses() {
    let opts = MachineOpts {
        machine: "virt".into(),
        machine_props: vec![("iommu".into(), "smmuv3".into()), ("secure".into(), "on".into())],
        ram_size: 512 << 20,
        devices: vec![],
        globals: vec![crate::bus::GlobalOpt {
            driver: "arm-smmuv3".into(),
            prop: "secure-impl".into(),
            value: "on".into(),
        }],
    };
    let mut bus = build_machine(&opts).unwrap();
    let mut b = [0u8; 4];
    bus.read(SMMU + 0x8004, &mut b, Attrs::Space(Pas::Secure)).unwrap(); // S_IDR1
    assert_ne!(u32::from_le_bytes(b) & (1 << 31), 0, "SECURE_IMPL");
    assert_eq!(bus.read(SMMU + 0x8004, &mut b, Attrs::Unspecified), Ok(()));
    assert_eq!(u32::from_le_bytes(b), 0);
}

#[test]
fn tracing_records_smmu_register_accesses_and_dmas() {
    let mut bus = appendix_b();
    bus.set_tracing(true);
    let (_, result, _) = appendix_b_dma(bus.as_mut());
    let trace = bus.take_trace();
    assert_eq!(result, 0xdead_0002);
    assert!(trace.iter().any(|e| matches!(e, smmu::TraceEvent::Dma(t) if t.sid == 8)));
    assert!(trace.iter().any(|e| matches!(e, smmu::TraceEvent::Event { .. })));
    rl(bus.as_mut(), SMMU + 0xa8);
    let trace = bus.take_trace();
    assert!(matches!(
        trace.as_slice(),
        [smmu::TraceEvent::Mmio { write: false, offset: 0xa8, size: 4, value: 1, .. }]
    ));
}
