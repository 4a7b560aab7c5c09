//! The event queue through the public API, as a driver sees it: faulting DMAs fill the queue,
//! software reads and consumes records through EVENTQ_PROD / EVENTQ_CONS.
//!
//! Every fault here is C_BAD_STE: the Stream table is all zeroes (STE.V == 0), so each
//! StreamID gives one record `04 00 00 00 <sid> 00 00 00 0...` (QEMU Appendix B).

mod common;

use common::*;
use smmu::{Pas, SecSid, SmmuConfig, TraceEvent, Txn};

const STRTAB: u64 = 0x4800_0000;
const EVENTQ: u64 = 0x4802_0000;
const C_BAD_STE: u64 = 0x04;

impl Machine {
    /// Stream table (32 invalid STEs) and a 2^`log2size`-entry event queue, SMMUEN and
    /// EVENTQEN set.
    fn with_eventq(cfg: SmmuConfig, log2size: u64) -> Self {
        let mut m = Machine::new(cfg);
        m.writeq(STRTAB_BASE, STRTAB);
        m.writel(STRTAB_BASE_CFG, 5);
        m.writeq(EVENTQ_BASE, EVENTQ | log2size);
        m.writel(CR0, CR0_SMMUEN | CR0_EVENTQEN);
        m
    }
    /// A DMA read by StreamID `sid`: it faults with C_BAD_STE.
    fn fault(&mut self, sid: u32) {
        let out =
            self.smmu.translate(&Txn::ns(sid, 0x1000, 4, true), &mut self.mem, &mut self.trace);
        assert_eq!(out.unwrap_err().event, Some(C_BAD_STE as u8));
    }
    /// Word 0 of the record in slot `index`: event number and StreamID.
    fn slot(&mut self, index: u64) -> u64 {
        self.ram_readq(EVENTQ + 32 * index, Pas::NonSecure)
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
    let mut m = Machine::with_eventq(SmmuConfig::qemu_virt(), 2);
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
    let mut m = Machine::with_eventq(SmmuConfig::qemu_virt(), 1);
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
    let mut m = Machine::with_eventq(SmmuConfig::qemu_virt(), 1);
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
    let mut m = Machine::with_eventq(SmmuConfig::qemu_virt(), 1);
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
    let mut m = Machine::with_eventq(SmmuConfig::qemu_virt(), 0);
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
    let mut m = Machine::with_eventq(SmmuConfig::qemu_virt(), 2);
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
    let mut m = Machine::with_eventq(SmmuConfig::qemu_virt(), 2);
    m.writel(IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN);
    m.fault(1);
    m.fault(2);
    m.fault(3);
    assert_eq!(m.irqs(), vec![smmu::irq::NS_EVENTQ]);
    m.writel(EVENTQ_CONS, 3);
    m.fault(4);
    assert_eq!(m.irqs(), vec![smmu::irq::NS_EVENTQ]);
}

#[test]
fn mev_merge_folds_repeated_identical_faults_into_one_record() {
    let cfg = SmmuConfig { mev_merge: true, ..SmmuConfig::qemu_virt() };
    let mut m = Machine::with_eventq(cfg, 2);
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
    let mut m = Machine::with_eventq(SmmuConfig::qemu_virt(), 2);
    m.fault(8);
    m.fault(8);
    assert_eq!(m.readl(EVENTQ_PROD), 2);
}

#[test]
fn secure_faults_go_to_the_secure_queue_only() {
    let mut m = Machine::with_eventq(SmmuConfig::full(), 1);
    m.writeq_s(S + STRTAB_BASE, SRAM);
    m.writel_s(S + STRTAB_BASE_CFG, 5);
    m.writeq_s(S + EVENTQ_BASE, (SRAM + 0x10000) | 1);
    m.writel_s(S + CR0, CR0_SMMUEN | CR0_EVENTQEN);
    for sid in 1..=3 {
        let txn = Txn { sec_sid: SecSid::Secure, ns: false, ..Txn::ns(sid, 0x1000, 4, true) };
        m.smmu.translate(&txn, &mut m.mem, &mut m.trace).unwrap_err();
    }
    assert_eq!(m.readl_s(S_EVENTQ_PROD), OVFLG | 0b10);
    assert_eq!(m.readl(EVENTQ_PROD), 0, "the Non-secure queue is untouched");
    assert_eq!(m.ram_readq(SRAM + 0x10020, Pas::Secure), c_bad_ste(2));
}

/// STE 8: V=1, Config=stage 1, S1ContextPtr outside memory (so every DMA gives F_CD_FETCH,
/// an event found after the STE), and STE.MEV (bit 83, word 1 bit 19) as given.
fn cd_fetch_faults_with_mev(mev: bool) -> u64 {
    let cfg = SmmuConfig { mev_merge: true, ..SmmuConfig::qemu_virt() };
    let mut m = Machine::with_eventq(cfg, 2);
    let w1: u64 = if mev { 1 << 19 } else { 0 };
    m.ram_writeq(STRTAB + 8 * 64, Pas::NonSecure, NO_MEMORY | 0xb);
    m.ram_writeq(STRTAB + 8 * 64 + 8, Pas::NonSecure, w1);
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
