//! The register interface and command queue through the public API, as a driver or a qtest
//! script sees them.

mod common;

use common::*;
use proptest::prelude::*;
use smmu::{Pas, SecSid, SmmuConfig, TraceEvent};

/// Appendix B of the QEMU reference: the command part of the interactive fault scenario,
/// observed on QEMU 11.0-dev (ece408818d27), with the same writes and the same results.
#[test]
fn qemu_appendix_b_command_queue_scenario() {
    let mut m = Machine::new(SmmuConfig::qemu_virt());
    m.writeq(STRTAB_BASE, 0x4800_0000);
    m.writel(STRTAB_BASE_CFG, 0x5);
    m.writeq(CMDQ_BASE, 0x4801_0004);
    m.writeq(EVENTQ_BASE, 0x4802_0004);
    m.writel(IRQ_CTRL, 0x5);
    m.writel(CR0, 0xd);
    assert_eq!(m.irqs(), Vec::<u8>::new());

    // CMD_SYNC CS=SIG_IRQ at CMDQ[0]: "IRQ raise 2", CONS = 1.
    m.ram_writeq(0x4801_0000, Pas::NonSecure, 0x1046);
    m.writel(CMDQ_PROD, 1);
    assert_eq!(m.irqs(), vec![2]);
    assert_eq!(m.readl(CMDQ_CONS), 0x1);

    // Opcode 0x07 at CMDQ[1]: "IRQ raise 3", CONS 0x01000001, GERROR 0x1.
    m.ram_writeq(0x4801_0010, Pas::NonSecure, 0x07);
    m.writel(CMDQ_PROD, 2);
    assert_eq!(m.irqs(), vec![3]);
    assert_eq!(m.readl(CMDQ_CONS), 0x0100_0001);
    assert_eq!(m.readl(GERROR), 0x1);

    // GERRORN := 1 runs the command again: IRQ 3, GERROR 0, GERRORN 1, CONS unchanged.
    m.writel(GERRORN, 1);
    assert_eq!(m.irqs(), vec![3]);
    assert_eq!(m.readl(GERROR), 0x0);
    assert_eq!(m.readl(GERRORN), 0x1);
    assert_eq!(m.readl(CMDQ_CONS), 0x0100_0001);

    // CONS := 2, then GERRORN := 0: clean.
    m.writel(CMDQ_CONS, 2);
    m.writel(GERRORN, 0);
    assert_eq!(m.irqs(), Vec::<u8>::new());
    assert_eq!(m.readl(GERROR), 0x0);
    assert_eq!(m.readl(GERRORN), 0x0);
    assert_eq!(m.readl(CMDQ_CONS), 0x2);
}

/// The probe and reset sequence of Linux's arm-smmu-v3 driver (`arm_smmu_device_reset`):
/// every Update is acknowledged at once and the initial invalidations complete without error.
fn linux_bring_up(cfg: SmmuConfig) {
    let mut m = Machine::new(cfg);
    let idr0 = m.readl(IDR0);
    let idr1 = m.readl(IDR1);
    assert_ne!(idr0 & 0x3, 0, "a stage is advertised");
    assert!((idr1 >> 21) & 0x1f >= 8, "CMDQS fits the queue below");

    m.writel(CR0, 0);
    assert_eq!(m.readl(CR0ACK), 0);
    // CR1: queues and tables inner/outer WB, inner shareable; CR2: RECINVSID.
    m.writel(CR1, 0xd75);
    m.writel(CR2, 0x2);
    m.writeq(STRTAB_BASE, 0x4000_0000);
    m.writel(STRTAB_BASE_CFG, 0x8);
    m.writeq(CMDQ_BASE, 0x4010_0000 | 8);
    m.writel(CMDQ_PROD, 0);
    m.writel(CMDQ_CONS, 0);
    m.writel(CR0, 0x8);
    assert_eq!(m.readl(CR0ACK), 0x8);

    // CFGI_ALL, TLBI_NSNH_ALL (after TLBI_EL2_ALL when Hyp), CMD_SYNC SIG_NONE.
    let cmds: &[(u64, u64)] = &[(0x04, 31), (0x30, 0), (0x46, 0)];
    for (i, (w0, w1)) in cmds.iter().enumerate() {
        let pa = 0x4010_0000 + 16 * i as u64;
        m.ram_writeq(pa, Pas::NonSecure, *w0);
        m.ram_writeq(pa + 8, Pas::NonSecure, *w1);
    }
    m.writel(CMDQ_PROD, cmds.len() as u64);
    assert_eq!(m.readl(CMDQ_CONS), cmds.len() as u64);

    m.writeq(EVENTQ_BASE, 0x4020_0000 | 7);
    m.writel(EVENTQ_PROD, 0);
    m.writel(EVENTQ_CONS, 0);
    m.writel(CR0, 0xc);
    assert_eq!(m.readl(CR0ACK), 0xc);
    m.writel(IRQ_CTRL, 0x5);
    assert_eq!(m.readl(IRQ_CTRLACK), 0x5);
    m.writel(CR0, 0xd);
    assert_eq!(m.readl(CR0ACK), 0xd);

    assert_eq!(m.readl(GERROR) ^ m.readl(GERRORN), 0);
    assert_eq!(m.readl(CR1), 0xd75);
    assert_eq!(m.irqs(), Vec::<u8>::new());
    let bank = m.smmu.bank(SecSid::NonSecure);
    assert!(bank.cr0().smmuen() && bank.cr0().cmdqen() && bank.cr0().eventqen());
}

#[test]
fn linux_bring_up_on_qemu_virt() {
    linux_bring_up(SmmuConfig::qemu_virt());
}

#[test]
fn linux_bring_up_on_full() {
    linux_bring_up(SmmuConfig::full());
}

/// TF-A `smmuv3_init` and `smmuv3_security_init`: S_INIT.INV_ALL polled to zero, then
/// S_GBPA.ABORT set with Update and Update polled to zero.
#[test]
fn tf_a_secure_init_sequence() {
    let mut m = Machine::new(SmmuConfig::full());
    assert_ne!(m.readl_s(S + IDR1) & (1 << 31), 0, "SECURE_IMPL");
    m.writel_s(S_INIT, 0x1);
    assert_eq!(m.readl_s(S_INIT) & 0x1, 0);
    m.writel_s(S + GBPA, (1 << 31) | (1 << 20));
    assert_eq!(m.readl_s(S + GBPA) & (1 << 31), 0);
    assert!(m.smmu.bank(SecSid::Secure).gbpa().abort());
    assert!(!m.smmu.bank(SecSid::NonSecure).gbpa().abort());
}

#[test]
fn every_mmio_access_has_a_trace_event() {
    let mut m = Machine::new(SmmuConfig::qemu_virt());
    m.writel(GBPA, 0x8000_1000);
    let _ = m.smmu.mmio_read(GBPA, 1, Pas::NonSecure, &mut m.mem, &mut m.trace);
    m.readl(GBPA);
    let mmio = m.trace.events.iter().filter(|e| matches!(e, TraceEvent::Mmio { .. })).count();
    assert_eq!(mmio, 3);
}

/// One register access of an arbitrary sequence.
#[derive(Clone, Debug)]
struct Access {
    write: bool,
    offset: u64,
    size: u8,
    value: u64,
    pas: Pas,
}

fn access() -> impl Strategy<Value = Access> {
    // Bias offsets towards the registers: page 0 registers, the Secure page, page 1, and
    // anything else in (or just past) the region.
    let offset = prop_oneof![
        4 => 0u64..0x100,
        2 => 0x8000u64..0x8100,
        1 => 0x10000u64..0x10100,
        1 => 0u64..0x30000,
    ];
    let size = prop_oneof![4 => Just(4u8), 2 => Just(8u8), 1 => 0u8..=9];
    let value = prop_oneof![any::<u64>(), (0u64..0x20), Just(0xd), Just(0x4801_0004)];
    (any::<bool>(), offset, size, value, 0u8..4).prop_map(|(write, offset, size, value, pas)| {
        Access { write, offset, size, value, pas: Pas::from_armss(pas) }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary register traffic, with the command queue pointed at RAM full of whatever the
    /// accesses leave there, never panics, and the synchronous Update protocols hold after
    /// every access.
    #[test]
    fn arbitrary_register_traffic_keeps_the_update_protocols(
        accesses in proptest::collection::vec(access(), 1..64),
        cfg in prop_oneof![Just(SmmuConfig::qemu_virt()), Just(SmmuConfig::full())],
    ) {
        let mut m = Machine::new(cfg);
        m.mem.fill(0x4801_0000, Pas::NonSecure, 0x1000, 0x46).unwrap();
        for a in accesses {
            if a.write {
                let _ = m.smmu.mmio_write(a.offset, a.size, a.value, a.pas, &mut m.mem, &mut m.trace);
            } else {
                let _ = m.smmu.mmio_read(a.offset, a.size, a.pas, &mut m.mem, &mut m.trace);
            }
            for sec in [SecSid::NonSecure, SecSid::Secure] {
                let b = m.smmu.bank(sec);
                prop_assert_eq!(b.cr0, b.cr0ack);
                prop_assert_eq!(b.irq_ctrl, b.irq_ctrlack);
                prop_assert_eq!(b.gbpa >> 31, 0);
            }
            m.trace.take();
        }
    }
}
