//! Interrupts through the public API: GERROR / GERRORN, IRQ_CTRL gating, MSIs and the wired
//! line of each interface (`smmu::irq`).
//!
//! Errors are provoked the way a driver meets them: an illegal command (opcode 0x07) gives
//! CMDQ_ERR, an event queue with no memory behind it gives EVENTQ_ABT_ERR, and an MSI address
//! with no memory behind it gives MSI_*_ABT_ERR.

mod common;

use common::*;
use smmu::irq;
use smmu::{Pas, SecSid, SmmuConfig, TraceEvent, Txn};

/// Offsets of the tables inside RAM (or Secure RAM).
const STRTAB: u64 = 0x80_0000;
const CMDQ: u64 = 0x81_0000;
const EVENTQ: u64 = 0x82_0000;
const MSI_TARGET: u64 = 0x83_0000;

const ILLEGAL: u64 = 0x07;
const CMD_SYNC_SIG_IRQ: u64 = 0x1046;

impl Machine {
    fn msis(&mut self) -> Vec<(u64, u32, Pas)> {
        self.trace
            .take()
            .into_iter()
            .filter_map(|e| match e {
                TraceEvent::Msi { addr, data, pas, .. } => Some((addr, data, pas)),
                _ => None,
            })
            .collect()
    }

    /// Non-secure interface: an all-invalid Stream table and an event queue at `eventq`.
    fn ns_translation(&mut self, eventq: u64) {
        self.writeq(STRTAB_BASE, RAM + STRTAB);
        self.writel(STRTAB_BASE_CFG, 5);
        self.writeq(EVENTQ_BASE, eventq | 4);
        self.writel(CR0, CR0_SMMUEN | CR0_EVENTQEN);
    }
    /// A DMA by Non-secure StreamID `sid` (C_BAD_STE with an all-invalid Stream table).
    fn fault(&mut self, sid: u32) {
        let txn = Txn::ns(sid, 0x1000, 4, true);
        self.smmu.translate(&txn, &mut self.mem, &mut self.trace).unwrap_err();
    }
    /// Runs one illegal command on the Non-secure command queue: CMDQ_ERR.
    fn cmdq_error(&mut self) {
        self.ram_writeq(RAM + CMDQ, Pas::NonSecure, ILLEGAL);
        self.writeq(CMDQ_BASE, (RAM + CMDQ) | 4);
        let cr0 = self.readl(CR0);
        self.writel(CR0, cr0 | CR0_CMDQEN);
        self.writel(CMDQ_PROD, 1);
    }
}

/// `SmmuConfig::full()`: MSIs, the Secure interface, SMMUv3.2 Guards.
fn full() -> Machine {
    Machine::new(SmmuConfig::full())
}

/// QEMU's virt ID registers with IDR0.MSI added.
fn qemu_virt_with_msi() -> Machine {
    let qemu = SmmuConfig::qemu_virt();
    Machine::new(SmmuConfig { idr0: qemu.idr0 | IDR0_MSI, ..qemu })
}

// ---------------------------------------------------------------------------------------------
// GERROR / GERRORN and IRQ_CTRL.

#[test]
fn an_error_toggles_gerror_and_pulses_the_gerror_line() {
    let mut m = Machine::new(SmmuConfig::qemu_virt());
    m.writel(IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
    m.cmdq_error();
    assert_eq!(m.readl(GERROR), GERROR_CMDQ_ERR);
    assert_eq!(m.readl(GERRORN), 0);
    assert_eq!(m.irqs(), vec![irq::NS_GERROR]);
}

#[test]
fn an_active_error_is_raised_again_only_after_acknowledge() {
    let mut m = Machine::new(SmmuConfig::qemu_virt());
    m.writel(IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
    m.ns_translation(NO_MEMORY);
    m.fault(1);
    assert_eq!(m.readl(GERROR), GERROR_EVENTQ_ABT_ERR);
    assert_eq!(m.irqs(), vec![irq::NS_GERROR]);
    // Still active: another occurrence is not logged.
    m.fault(2);
    assert_eq!(m.readl(GERROR), GERROR_EVENTQ_ABT_ERR);
    assert_eq!(m.irqs(), Vec::<u8>::new());
    // Acknowledged (GERRORN toggled to match): the next abort toggles GERROR back to 0.
    m.writel(GERRORN, GERROR_EVENTQ_ABT_ERR);
    assert_eq!(m.readl(GERROR) ^ m.readl(GERRORN), 0);
    m.fault(3);
    assert_eq!(m.readl(GERROR), 0);
    assert_eq!(m.readl(GERROR) ^ m.readl(GERRORN), GERROR_EVENTQ_ABT_ERR, "active again");
    assert_eq!(m.irqs(), vec![irq::NS_GERROR]);
}

#[test]
fn gerror_irqen_clear_toggles_gerror_without_interrupt() {
    let mut m = Machine::new(SmmuConfig::qemu_virt());
    m.cmdq_error();
    assert_eq!(m.readl(GERROR), GERROR_CMDQ_ERR);
    assert_eq!(m.irqs(), Vec::<u8>::new());
}

#[test]
fn enabling_gerror_irqen_later_does_not_deliver_an_earlier_error() {
    let mut m = Machine::new(SmmuConfig::qemu_virt());
    m.cmdq_error();
    m.writel(IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
    assert_eq!(m.readl(IRQ_CTRLACK), IRQ_CTRL_GERROR_IRQEN);
    assert_eq!(m.irqs(), Vec::<u8>::new());
}

#[test]
fn irq_ctrlack_mirrors_the_implemented_enables() {
    let mut m = Machine::new(SmmuConfig::qemu_virt());
    // PRIQ_IRQEN (bit 1) is RES0 without IDR0.PRI.
    m.writel(IRQ_CTRL, 0x7);
    assert_eq!(m.readl(IRQ_CTRL), 0x5);
    assert_eq!(m.readl(IRQ_CTRLACK), 0x5);
}

#[test]
fn eventq_irqen_gates_the_eventq_line() {
    let mut m = Machine::new(SmmuConfig::qemu_virt());
    m.ns_translation(RAM + EVENTQ);
    m.fault(1);
    assert_eq!(m.irqs(), Vec::<u8>::new());
    m.writel(IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN);
    // Still non-empty: enabling does not deliver the earlier record, nor does the next one.
    m.fault(2);
    assert_eq!(m.irqs(), Vec::<u8>::new());
}

// ---------------------------------------------------------------------------------------------
// MSIs.

#[test]
fn eventq_msi_writes_irq_cfg1_at_irq_cfg0_and_the_line_still_pulses() {
    let mut m = full();
    m.writeq(EVENTQ_IRQ_CFG0, RAM + MSI_TARGET);
    m.writel(EVENTQ_IRQ_CFG1, 0xfeed_0001);
    m.writel(IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN);
    m.ns_translation(RAM + EVENTQ);
    m.trace.take();
    m.fault(1);
    assert_eq!(m.ram_readl(RAM + MSI_TARGET, Pas::NonSecure), 0xfeed_0001);
    assert_eq!(m.msis(), vec![(RAM + MSI_TARGET, 0xfeed_0001, Pas::NonSecure)]);
    assert_eq!(m.irqs(), vec![irq::NS_EVENTQ]);
}

#[test]
fn eventq_msi_works_on_qemu_virt_with_the_msi_bit() {
    let mut m = qemu_virt_with_msi();
    m.writeq(EVENTQ_IRQ_CFG0, RAM + MSI_TARGET);
    m.writel(EVENTQ_IRQ_CFG1, 0x42);
    m.writel(IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN);
    m.ns_translation(RAM + EVENTQ);
    m.fault(1);
    assert_eq!(m.ram_readl(RAM + MSI_TARGET, Pas::NonSecure), 0x42);
}

#[test]
fn gerror_msi_writes_irq_cfg1_at_irq_cfg0() {
    let mut m = full();
    m.writeq(GERROR_IRQ_CFG0, RAM + MSI_TARGET + 4);
    m.writel(GERROR_IRQ_CFG1, 0x6e77);
    m.writel(IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
    m.trace.take();
    m.cmdq_error();
    assert_eq!(m.ram_readl(RAM + MSI_TARGET + 4, Pas::NonSecure), 0x6e77);
    assert_eq!(m.msis(), vec![(RAM + MSI_TARGET + 4, 0x6e77, Pas::NonSecure)]);
    assert_eq!(m.irqs(), vec![irq::NS_GERROR]);
}

#[test]
fn msi_address_zero_sends_no_msi() {
    let mut m = full();
    m.writel(EVENTQ_IRQ_CFG1, 0x1234);
    m.writel(GERROR_IRQ_CFG1, 0x5678);
    m.writel(IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN | IRQ_CTRL_EVENTQ_IRQEN);
    m.ns_translation(RAM + EVENTQ);
    m.fault(1);
    m.cmdq_error();
    assert_eq!(m.msis(), vec![]);
    assert_eq!(m.irqs(), vec![irq::NS_EVENTQ, irq::NS_GERROR]);
}

#[test]
fn a_failed_eventq_msi_raises_msi_eventq_abt_err() {
    let mut m = full();
    m.writeq(EVENTQ_IRQ_CFG0, NO_MEMORY);
    m.writel(IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN | IRQ_CTRL_EVENTQ_IRQEN);
    m.ns_translation(RAM + EVENTQ);
    m.fault(1);
    assert_eq!(m.readl(GERROR), GERROR_MSI_EVENTQ_ABT_ERR);
    assert_eq!(m.irqs(), vec![irq::NS_GERROR, irq::NS_EVENTQ]);
}

#[test]
fn a_failed_gerror_msi_raises_msi_gerror_abt_err_without_recursing() {
    let mut m = full();
    m.writeq(GERROR_IRQ_CFG0, NO_MEMORY);
    m.writel(IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
    m.trace.take();
    m.cmdq_error();
    assert_eq!(m.readl(GERROR), GERROR_CMDQ_ERR | GERROR_MSI_GERROR_ABT_ERR);
    assert_eq!(m.msis().len(), 1);
    assert_eq!(m.irqs(), vec![irq::NS_GERROR]);
}

#[test]
fn irq_cfg_registers_are_guarded_by_their_enable() {
    let mut m = full();
    m.writeq(EVENTQ_IRQ_CFG0, RAM + MSI_TARGET);
    m.writel(IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN);
    // SMMUv3.2: IGNORED while EVENTQ_IRQEN is set.
    m.writeq(EVENTQ_IRQ_CFG0, RAM + MSI_TARGET + 0x40);
    m.ns_translation(RAM + EVENTQ);
    m.trace.take();
    m.fault(1);
    assert_eq!(m.msis(), vec![(RAM + MSI_TARGET, 0, Pas::NonSecure)]);
}

#[test]
fn without_idr0_msi_the_irq_cfg_registers_are_res0_and_no_msi_is_sent() {
    let mut m = Machine::new(SmmuConfig::qemu_virt());
    m.writeq(EVENTQ_IRQ_CFG0, RAM + MSI_TARGET);
    assert_eq!(m.readl(EVENTQ_IRQ_CFG0), 0);
    m.writel(IRQ_CTRL, IRQ_CTRL_EVENTQ_IRQEN);
    m.ns_translation(RAM + EVENTQ);
    m.fault(1);
    assert_eq!(m.msis(), vec![]);
    assert_eq!(m.irqs(), vec![irq::NS_EVENTQ]);
}

// ---------------------------------------------------------------------------------------------
// Lines per interface: the numbers a qtest `irq_intercept_out` sees.

#[test]
fn non_secure_lines_are_qemus_0_2_3() {
    let mut m = Machine::new(SmmuConfig::qemu_virt());
    m.writel(IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN | IRQ_CTRL_EVENTQ_IRQEN);
    m.ns_translation(RAM + EVENTQ);
    m.fault(1);
    m.ram_writeq(RAM + CMDQ, Pas::NonSecure, CMD_SYNC_SIG_IRQ);
    m.ram_writeq(RAM + CMDQ + 16, Pas::NonSecure, ILLEGAL);
    m.writeq(CMDQ_BASE, (RAM + CMDQ) | 4);
    m.writel(CR0, CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN);
    m.writel(CMDQ_PROD, 2);
    assert_eq!(m.irqs(), vec![0, 2, 3]);
}

#[test]
fn secure_lines_are_4_5_6_and_secure_msis_target_the_secure_pas() {
    let mut m = full();
    let sec = |m: &mut Machine, off: u64, size: u8, v: u64| m.write(S + off, size, v, Pas::Secure);
    m.ram_writeq(SRAM + CMDQ, Pas::Secure, CMD_SYNC_SIG_IRQ);
    m.ram_writeq(SRAM + CMDQ + 16, Pas::Secure, ILLEGAL);
    sec(&mut m, EVENTQ_IRQ_CFG0, 8, SRAM + MSI_TARGET);
    sec(&mut m, EVENTQ_IRQ_CFG1, 4, 0x5ec0);
    sec(&mut m, IRQ_CTRL, 4, IRQ_CTRL_GERROR_IRQEN | IRQ_CTRL_EVENTQ_IRQEN);
    sec(&mut m, STRTAB_BASE, 8, SRAM + STRTAB);
    sec(&mut m, STRTAB_BASE_CFG, 4, 5);
    sec(&mut m, EVENTQ_BASE, 8, (SRAM + EVENTQ) | 4);
    sec(&mut m, CMDQ_BASE, 8, (SRAM + CMDQ) | 4);
    sec(&mut m, CR0, 4, CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN);
    let txn = Txn { sec_sid: SecSid::Secure, ns: false, ..Txn::ns(1, 0x1000, 4, true) };
    m.smmu.translate(&txn, &mut m.mem, &mut m.trace).unwrap_err();
    sec(&mut m, CMDQ_PROD, 4, 2);
    assert_eq!(m.irqs(), vec![4, 5, 6]);
    assert_eq!(m.msis(), vec![(SRAM + MSI_TARGET, 0x5ec0, Pas::Secure)]);
    assert_eq!(m.ram_readl(SRAM + MSI_TARGET, Pas::Secure), 0x5ec0);
    assert_eq!(m.read(S + GERROR, Pas::Secure), GERROR_CMDQ_ERR);
    assert_eq!(m.readl(GERROR), 0, "the Non-secure GERROR is untouched");
}

#[test]
fn the_secure_gerror_is_invisible_to_the_non_secure_pas() {
    let mut m = full();
    m.write(S + CMDQ_BASE, 8, (RAM + CMDQ) | 4, Pas::Secure);
    m.write(S + CR0, 4, CR0_CMDQEN, Pas::Secure);
    m.ram_writeq(RAM + CMDQ, Pas::Secure, ILLEGAL);
    m.write(S + CMDQ_PROD, 4, 1, Pas::Secure);
    assert_eq!(m.read(S + GERROR, Pas::Secure), GERROR_CMDQ_ERR);
    assert_eq!(m.read(S + GERROR, Pas::NonSecure), 0, "RAZ from the Non-secure PAS");
    // A Non-secure write to S_GERRORN is ignored: the error stays active.
    m.write(S + GERRORN, 4, GERROR_CMDQ_ERR, Pas::NonSecure);
    assert_eq!(m.read(S + GERRORN, Pas::Secure), 0);
}

#[test]
fn the_realm_eventq_line_is_7() {
    // The Realm register pages are not modelled yet: program the Realm bank directly.
    let mut m = full();
    let b = m.smmu.bank_mut(SecSid::Realm);
    b.irq_ctrl = (IRQ_CTRL_GERROR_IRQEN | IRQ_CTRL_EVENTQ_IRQEN) as u32;
    b.irq_ctrlack = b.irq_ctrl;
    b.strtab_base = RAM + STRTAB;
    b.strtab_base_cfg = 5;
    b.eventq.base = (RAM + EVENTQ) | 4;
    b.cr0 = (CR0_SMMUEN | CR0_EVENTQEN) as u32;
    b.cr0ack = b.cr0;
    let txn = Txn { sec_sid: SecSid::Realm, ns: false, ..Txn::ns(1, 0x1000, 4, true) };
    m.smmu.translate(&txn, &mut m.mem, &mut m.trace).unwrap_err();
    assert_eq!(m.irqs(), vec![7]);
}
