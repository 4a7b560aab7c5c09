//! The event queue through the public API, as a driver sees it: faulting DMAs fill the queue,
//! software reads and consumes records through EVENTQ_PROD / EVENTQ_CONS.
//!
//! Every fault here is C_BAD_STE: the Stream table is all zeroes (STE.V == 0), so each
//! StreamID gives one record `04 00 00 00 <sid> 00 00 00 0...` (QEMU Appendix B).

use smmu::{Pas, PhysMem, SecSid, Smmu, SmmuConfig, SparseMem, TraceEvent, Txn, VecTrace, Window};

// Register offsets (Linux arm-smmu-v3.h).
const CR0: u64 = 0x20;
const IRQ_CTRL: u64 = 0x50;
const GERROR: u64 = 0x60;
const GERRORN: u64 = 0x64;
const STRTAB_BASE: u64 = 0x80;
const STRTAB_BASE_CFG: u64 = 0x88;
const EVENTQ_BASE: u64 = 0xa0;
const EVENTQ_PROD: u64 = 0x100a8;
const EVENTQ_CONS: u64 = 0x100ac;

const CR0_SMMUEN: u64 = 1 << 0;
const CR0_EVENTQEN: u64 = 1 << 2;
const IRQ_CTRL_EVENTQ_IRQEN: u64 = 1 << 2;
const GERROR_EVENTQ_ABT_ERR: u64 = 1 << 2;
const OVFLG: u64 = 1 << 31;

const STRTAB: u64 = 0x4800_0000;
const EVENTQ: u64 = 0x4802_0000;
/// Not backed by memory: event queue writes there abort.
const NO_MEMORY: u64 = 0x1000_0000;
const C_BAD_STE: u64 = 0x04;

struct Machine {
    smmu: Smmu,
    mem: SparseMem,
    trace: VecTrace,
}

impl Machine {
    /// Stream table (32 invalid STEs) and a 2^`log2size`-entry event queue, SMMUEN and
    /// EVENTQEN set.
    fn new(cfg: SmmuConfig, log2size: u64) -> Self {
        let mut mem = SparseMem::new();
        mem.add_window(Window { name: "ram", base: 0x4000_0000, size: 512 << 20, pas_mask: 0xf })
            .unwrap();
        let mut m = Machine { smmu: Smmu::new(cfg), mem, trace: VecTrace::new() };
        m.writeq(STRTAB_BASE, STRTAB);
        m.writel(STRTAB_BASE_CFG, 5);
        m.writeq(EVENTQ_BASE, EVENTQ | log2size);
        m.writel(CR0, CR0_SMMUEN | CR0_EVENTQEN);
        m
    }
    fn readl(&mut self, offset: u64) -> u64 {
        self.smmu.mmio_read(offset, 4, Pas::NonSecure, &mut self.mem, &mut self.trace).unwrap()
    }
    fn writel(&mut self, offset: u64, value: u64) {
        self.smmu
            .mmio_write(offset, 4, value, Pas::NonSecure, &mut self.mem, &mut self.trace)
            .unwrap()
    }
    fn writeq(&mut self, offset: u64, value: u64) {
        self.smmu
            .mmio_write(offset, 8, value, Pas::NonSecure, &mut self.mem, &mut self.trace)
            .unwrap()
    }
    /// A DMA read by StreamID `sid`: it faults with C_BAD_STE.
    fn fault(&mut self, sid: u32) {
        let out =
            self.smmu.translate(&Txn::ns(sid, 0x1000, 4, true), &mut self.mem, &mut self.trace);
        assert_eq!(out.unwrap_err().event, Some(C_BAD_STE as u8));
    }
    /// Word 0 of the record in slot `index`: event number and StreamID.
    fn slot(&mut self, index: u64) -> u64 {
        let mut b = [0u8; 8];
        self.mem.read(EVENTQ + 32 * index, Pas::NonSecure, &mut b).unwrap();
        u64::from_le_bytes(b)
    }
    /// Queue slot addresses of the records traced since the last call (`None`: discarded).
    fn recorded(&mut self) -> Vec<Option<u64>> {
        self.trace
            .take()
            .into_iter()
            .filter_map(|e| match e {
                TraceEvent::Event { addr, .. } => Some(addr),
                _ => None,
            })
            .collect()
    }
}

fn c_bad_ste(sid: u64) -> u64 {
    sid << 32 | C_BAD_STE
}

#[test]
fn records_fill_the_queue_in_order_and_prod_wraps() {
    let mut m = Machine::new(SmmuConfig::qemu_virt(), 2);
    for sid in 1..=4 {
        m.fault(sid);
    }
    // Four entries: PROD is back at index 0 with the wrap bit (bit 2) set.
    assert_eq!(m.readl(EVENTQ_PROD), 0b100);
    assert_eq!(
        (0..4).map(|i| m.slot(i)).collect::<Vec<_>>(),
        (1..=4).map(c_bad_ste).collect::<Vec<_>>()
    );
    m.writel(EVENTQ_CONS, 0b100);
    m.fault(5);
    assert_eq!(m.readl(EVENTQ_PROD), 0b101);
    assert_eq!(m.slot(0), c_bad_ste(5));
}

#[test]
fn a_full_queue_discards_and_toggles_ovflg_once() {
    let mut m = Machine::new(SmmuConfig::qemu_virt(), 1);
    m.fault(1);
    m.fault(2);
    assert_eq!(m.readl(EVENTQ_PROD), 0b10, "full: same index, wrap bits differ");
    m.trace.take();
    for sid in 3..=6 {
        m.fault(sid);
    }
    assert_eq!(m.readl(EVENTQ_PROD), OVFLG | 0b10);
    assert_eq!(m.recorded(), vec![None; 4]);
    assert_eq!([m.slot(0), m.slot(1)], [c_bad_ste(1), c_bad_ste(2)]);
    assert_eq!(m.readl(GERROR), 0, "an overflow is not EVENTQ_ABT_ERR (QEMU's B5)");
}

#[test]
fn acknowledged_overflow_is_signalled_again_by_the_next_overflow() {
    let mut m = Machine::new(SmmuConfig::qemu_virt(), 1);
    for sid in 1..=3 {
        m.fault(sid);
    }
    assert_eq!(m.readl(EVENTQ_PROD), OVFLG | 0b10);
    // Software drains the queue and acknowledges: CONS.RD = PROD.WR, OVACKFLG = OVFLG.
    m.writel(EVENTQ_CONS, OVFLG | 0b10);
    m.fault(6);
    m.fault(7);
    assert_eq!(m.readl(EVENTQ_PROD), OVFLG, "index 0, wrap clear");
    assert_eq!([m.slot(0), m.slot(1)], [c_bad_ste(6), c_bad_ste(7)]);
    m.fault(8);
    assert_eq!(m.readl(EVENTQ_PROD), 0b00, "OVFLG toggled back: a new overflow");
}

#[test]
fn an_unacknowledged_overflow_hides_a_second_one() {
    let mut m = Machine::new(SmmuConfig::qemu_virt(), 1);
    for sid in 1..=3 {
        m.fault(sid);
    }
    // Software consumes without copying OVFLG to OVACKFLG.
    m.writel(EVENTQ_CONS, 0b10);
    for sid in 4..=6 {
        m.fault(sid);
    }
    assert_eq!(m.readl(EVENTQ_PROD), OVFLG, "index 0, wrap clear");
    assert_eq!([m.slot(0), m.slot(1)], [c_bad_ste(4), c_bad_ste(5)]);
}

#[test]
fn eventqen_clear_discards_without_overflow() {
    let mut m = Machine::new(SmmuConfig::qemu_virt(), 0);
    m.writel(CR0, CR0_SMMUEN);
    m.trace.take();
    for sid in 1..=3 {
        m.fault(sid);
    }
    assert_eq!(m.recorded(), vec![None, None, None]);
    assert_eq!(m.readl(EVENTQ_PROD), 0);
    assert_eq!(m.readl(GERROR), 0);
    assert_eq!(m.mem.resident_pages(), 0);
}

#[test]
fn eventq_abt_err_blocks_writes_until_acknowledged() {
    let mut m = Machine::new(SmmuConfig::qemu_virt(), 2);
    // Move the queue to an address with no memory behind it.
    m.writel(CR0, CR0_SMMUEN);
    m.writeq(EVENTQ_BASE, NO_MEMORY | 2);
    m.writel(CR0, CR0_SMMUEN | CR0_EVENTQEN);
    m.fault(1);
    assert_eq!(m.readl(GERROR), GERROR_EVENTQ_ABT_ERR);
    assert_eq!(m.readl(EVENTQ_PROD), 0, "a synchronous abort leaves PROD");
    // Back to memory; the error is still active, so nothing is written.
    m.writel(CR0, CR0_SMMUEN);
    m.writeq(EVENTQ_BASE, EVENTQ | 2);
    m.writel(CR0, CR0_SMMUEN | CR0_EVENTQEN);
    m.trace.take();
    m.fault(2);
    assert_eq!(m.recorded(), vec![None]);
    assert_eq!(m.readl(EVENTQ_PROD), 0);
    // Acknowledged: records are written again.
    m.writel(GERRORN, GERROR_EVENTQ_ABT_ERR);
    m.fault(3);
    assert_eq!(m.recorded(), vec![Some(EVENTQ)]);
    assert_eq!(m.readl(EVENTQ_PROD), 1);
    assert_eq!(m.slot(0), c_bad_ste(3));
}

#[test]
fn the_eventq_line_pulses_when_the_queue_becomes_non_empty() {
    let mut m = Machine::new(SmmuConfig::qemu_virt(), 2);
    m.writel(IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN);
    m.fault(1);
    m.fault(2);
    m.fault(3);
    assert_eq!(m.smmu.take_irqs(), vec![smmu::irq::NS_EVENTQ]);
    m.writel(EVENTQ_CONS, 3);
    m.fault(4);
    assert_eq!(m.smmu.take_irqs(), vec![smmu::irq::NS_EVENTQ]);
}

#[test]
fn mev_merge_folds_repeated_identical_faults_into_one_record() {
    let cfg = SmmuConfig { mev_merge: true, ..SmmuConfig::qemu_virt() };
    let mut m = Machine::new(cfg, 2);
    m.fault(8);
    m.fault(8);
    m.fault(8);
    assert_eq!(m.readl(EVENTQ_PROD), 1);
    m.fault(9);
    assert_eq!(m.readl(EVENTQ_PROD), 2);
    assert_eq!([m.slot(0), m.slot(1)], [c_bad_ste(8), c_bad_ste(9)]);
}

#[test]
fn without_mev_merge_every_fault_has_its_record() {
    let mut m = Machine::new(SmmuConfig::qemu_virt(), 2);
    m.fault(8);
    m.fault(8);
    assert_eq!(m.readl(EVENTQ_PROD), 2);
}

#[test]
fn secure_faults_go_to_the_secure_queue_only() {
    const S_CR0: u64 = 0x8020;
    const S_STRTAB_BASE: u64 = 0x8080;
    const S_STRTAB_BASE_CFG: u64 = 0x8088;
    const S_EVENTQ_BASE: u64 = 0x80a0;
    const S_EVENTQ_PROD: u64 = 0x80a8;
    const SRAM: u64 = 0x0e00_0000;
    let mut m = Machine::new(SmmuConfig::full(), 1);
    m.mem
        .add_window(Window {
            name: "secure-ram",
            base: SRAM,
            size: 16 << 20,
            pas_mask: Pas::Secure.bit() | Pas::Root.bit(),
        })
        .unwrap();
    let mut ws = |off: u64, size: u8, v: u64| {
        m.smmu.mmio_write(off, size, v, Pas::Secure, &mut m.mem, &mut m.trace).unwrap()
    };
    ws(S_STRTAB_BASE, 8, SRAM);
    ws(S_STRTAB_BASE_CFG, 4, 5);
    ws(S_EVENTQ_BASE, 8, (SRAM + 0x10000) | 1);
    ws(S_CR0, 4, CR0_SMMUEN | CR0_EVENTQEN);
    for sid in 1..=3 {
        let txn = Txn { sec_sid: SecSid::Secure, ns: false, ..Txn::ns(sid, 0x1000, 4, true) };
        m.smmu.translate(&txn, &mut m.mem, &mut m.trace).unwrap_err();
    }
    let s_prod = m.smmu.mmio_read(S_EVENTQ_PROD, 4, Pas::Secure, &mut m.mem, &mut m.trace);
    assert_eq!(s_prod, Ok(OVFLG | 0b10));
    assert_eq!(m.readl(EVENTQ_PROD), 0, "the Non-secure queue is untouched");
    let mut b = [0u8; 8];
    m.mem.read(SRAM + 0x10020, Pas::Secure, &mut b).unwrap();
    assert_eq!(u64::from_le_bytes(b), c_bad_ste(2));
}

/// STE 8: V=1, Config=stage 1, S1ContextPtr outside memory (so every DMA gives F_CD_FETCH,
/// an event found after the STE), and STE.MEV (bit 83, word 1 bit 19) as given.
fn cd_fetch_faults_with_mev(mev: bool) -> u64 {
    let cfg = SmmuConfig { mev_merge: true, ..SmmuConfig::qemu_virt() };
    let mut m = Machine::new(cfg, 2);
    let w1: u64 = if mev { 1 << 19 } else { 0 };
    m.mem.write(STRTAB + 8 * 64, Pas::NonSecure, &(NO_MEMORY | 0xb).to_le_bytes()).unwrap();
    m.mem.write(STRTAB + 8 * 64 + 8, Pas::NonSecure, &w1.to_le_bytes()).unwrap();
    for _ in 0..3 {
        let out = m.smmu.translate(&Txn::ns(8, 0x1000, 4, true), &mut m.mem, &mut m.trace);
        assert_eq!(out.unwrap_err().event, Some(0x09));
    }
    m.readl(EVENTQ_PROD)
}

#[test]
fn ste_mev_lets_faults_found_after_the_ste_merge() {
    assert_eq!(cd_fetch_faults_with_mev(true), 1);
}

#[test]
fn without_ste_mev_faults_found_after_the_ste_do_not_merge() {
    assert_eq!(cd_fetch_faults_with_mev(false), 3);
}
