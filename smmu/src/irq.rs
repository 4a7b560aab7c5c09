//! Interrupts: the wired lines of the SMMU, MSIs, and global errors (IHI 0070 §3.18, §7.5,
//! §6.3.16-6.3.23).
//!
//! # Lines
//!
//! Each interrupt is a pulse on a wired line (`IRQ raise N` then `IRQ lower N` on the qtest
//! wire), recorded in order by `Smmu::pulse_irq` and collected with [`Smmu::take_irqs`]. The
//! numbering is DESIGN.md's, with QEMU's 0-3 for the Non-secure interface: see the constants
//! below. Interrupt outputs are edge-triggered (§3.18.2: "The conditions that cause an
//! interrupt to be triggered are all transient events"); there is no level and no pending state
//! to clear.
//!
//! # Triggers (§3.18.2)
//!
//! | Source | Fires when | Enable |
//! |---|---|---|
//! | Event queue | a record is written to an **empty** queue (PROD == CONS before the write): the empty to non-empty transition, not every record | `IRQ_CTRLACK.EVENTQ_IRQEN` |
//! | GERROR | one call activates one or more errors (coalesced into one interrupt, §7.5.1), unless the only error activated is MSI_GERROR_ABT_ERR | `IRQ_CTRLACK.GERROR_IRQEN` |
//! | CMD_SYNC | a CMD_SYNC with CS=SIG_IRQ completes (`cmdq.rs`, §4.7.3) | none: IRQ_CTRL has no CMD_SYNC enable |
//!
//! QEMU pulses the event queue line for every record written; this model follows the
//! architecture, so a driver that leaves records in the queue sees no further event queue
//! interrupt until it has drained the queue (PROD == CONS) and a new record arrives. Merged
//! records (`eventq.rs`) and discarded records never signal; nor does an overflow (a full queue
//! is not empty).
//!
//! The enable is sampled when the occurrence happens: enabling a source later does not deliver
//! an interrupt for an earlier occurrence (§6.3.16, "It is not permitted to trigger an interrupt
//! that relates to an occurrence that happened before the source was enabled").
//!
//! # Wired and MSI
//!
//! This model has wired outputs for every source. An enabled interrupt always pulses its line,
//! and **in addition** sends an MSI when the interface advertises MSIs (`SMMU_IDR0.MSI`, or
//! `SMMU_S_IDR0.MSI` for the Secure interface) and `IRQ_CFG0.ADDR` is not zero. §3.18.2: "If
//! enabled, a pulse is asserted on a unique wired interrupt output, if this is implemented. If
//! enabled, an MSI is sent if MSIs are supported and if the MSI configuration of the source
//! enables the sending of an MSI by using an ADDR value that is not zero", which allows both to
//! be used concurrently. The command queue follows the same rule: its cmdq-sync line pulses
//! "regardless of the value of MSIAddress" (§4.7.3).
//!
//! The MSI is a 32-bit little-endian write of `IRQ_CFG1` to `IRQ_CFG0.ADDR[55:2]` truncated to
//! the OAS, in the interface's PAS (a Realm interface writes to the Non-secure PAS when
//! `R_*_IRQ_CFG0.NS` is set). The zero check applies to the whole ADDR field, before the OAS
//! truncation, as for CMD_SYNC's MSIAddress. `IRQ_CFG2` (Shareability, memory type) has no
//! effect: the model has no memory attributes. The MSI is written first, then the line is
//! pulsed, so the GERROR flag of an aborted MSI is visible when the pulse arrives.
//!
//! An MSI that ends in a bus error activates `MSI_EVENTQ_ABT_ERR`, `MSI_GERROR_ABT_ERR` or
//! `MSI_CMDQ_ABT_ERR` (§7.5). Activating `MSI_GERROR_ABT_ERR` triggers no GERROR interrupt
//! (§7.5.1: another MSI to the same address would likely abort again), so a failing GERROR MSI
//! cannot recurse.
//!
//! # Global errors (§7.5, §6.3.19)
//!
//! An error is active while `GERROR[x] != GERRORN[x]`. The SMMU toggles `GERROR[x]` only for an
//! inactive error; software acknowledges by toggling `GERRORN[x]` to match, after which a new
//! occurrence toggles `GERROR[x]` again. Bits an interface does not define are never raised.
//!
//! | Error | Raised by this model |
//! |---|---|
//! | CMDQ_ERR | a command error (CERROR_ILL, CERROR_ABT) in `cmdq.rs` |
//! | EVENTQ_ABT_ERR | an event record write that ends in a bus error (`eventq.rs`) |
//! | MSI_CMDQ_ABT_ERR | an aborted CMD_SYNC MSI |
//! | MSI_EVENTQ_ABT_ERR, MSI_GERROR_ABT_ERR | an aborted event queue or GERROR MSI |
//! | PRIQ_ABT_ERR, MSI_PRIQ_ABT_ERR | never: no PRI queue (IDR0.PRI is not advertised) |
//! | SFM_ERR | never: the model has no Service Failure Mode (no RAS errors to enter it) |
//! | CMDQP_ERR, DPT_ERR | never: no ECMDQ, no DPT |

use crate::Smmu;
use crate::mem::{BusError, PhysMem};
use crate::pas::{Pas, SecSid};
use crate::spec::regs::{IRQ_CFG0_ADDR_MASK, R_IRQ_CFG0_NS, gerror};
use crate::trace::{self, TraceEvent, TraceSink};

pub const NS_EVENTQ: u8 = 0;
pub const NS_PRIQ: u8 = 1;
pub const NS_CMDQ_SYNC: u8 = 2;
pub const NS_GERROR: u8 = 3;
pub const S_EVENTQ: u8 = 4;
pub const S_CMDQ_SYNC: u8 = 5;
pub const S_GERROR: u8 = 6;
pub const R_EVENTQ: u8 = 7;
pub const R_PRIQ: u8 = 8;
pub const R_CMDQ_SYNC: u8 = 9;
pub const R_GERROR: u8 = 10;
pub const GPF_FAR: u8 = 11;
pub const GPT_CFG_FAR: u8 = 12;
/// Number of wired lines.
pub const COUNT: u8 = 13;

/// The event queue line of an interface.
pub fn eventq_line(sec: SecSid) -> u8 {
    match sec {
        SecSid::NonSecure => NS_EVENTQ,
        SecSid::Secure => S_EVENTQ,
        SecSid::Realm => R_EVENTQ,
    }
}

/// The CMD_SYNC completion line of an interface.
pub fn cmdq_sync_line(sec: SecSid) -> u8 {
    match sec {
        SecSid::NonSecure => NS_CMDQ_SYNC,
        SecSid::Secure => S_CMDQ_SYNC,
        SecSid::Realm => R_CMDQ_SYNC,
    }
}

/// The global error line of an interface.
pub fn gerror_line(sec: SecSid) -> u8 {
    match sec {
        SecSid::NonSecure => NS_GERROR,
        SecSid::Secure => S_GERROR,
        SecSid::Realm => R_GERROR,
    }
}

/// An interrupt source whose MSI is programmed through `*_IRQ_CFG{0,1,2}` registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Eventq,
    Gerror,
}

/// The name of a wired line, as trace lines print it.
pub fn line_name(line: u8) -> &'static str {
    match line {
        NS_EVENTQ => "eventq",
        NS_PRIQ => "priq",
        NS_CMDQ_SYNC => "cmdq-sync",
        NS_GERROR => "gerror",
        S_EVENTQ => "s-eventq",
        S_CMDQ_SYNC => "s-cmdq-sync",
        S_GERROR => "s-gerror",
        R_EVENTQ => "r-eventq",
        R_PRIQ => "r-priq",
        R_CMDQ_SYNC => "r-cmdq-sync",
        R_GERROR => "r-gerror",
        GPF_FAR => "gpf-far",
        GPT_CFG_FAR => "gpt-cfg-far",
        _ => "unknown",
    }
}

/// Writes one MSI of `source`: the 32-bit `data`, little-endian, at `addr` in `pas`.
pub(crate) fn send_msi<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
    source: &'static str,
    addr: u64,
    data: u32,
    pas: Pas,
    mem: &mut M,
    trace: &mut T,
) -> Result<(), BusError> {
    trace::emit(trace, || TraceEvent::Msi { source, addr, data, pas });
    mem.write(addr, pas, &data.to_le_bytes())
}

impl Smmu {
    /// Activates the errors of `bits` that are defined for the interface and not already
    /// active (toggling their GERROR bits), then triggers the GERROR interrupt once unless
    /// MSI_GERROR_ABT_ERR is the only error activated.
    pub(crate) fn raise_gerror<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        bits: u32,
        mem: &mut M,
        trace: &mut T,
    ) {
        let defined = self.gerror_mask(sec);
        let b = &mut self.banks[sec.index()];
        let new = bits & defined & !b.active_gerrors();
        if new == 0 {
            return;
        }
        b.gerror ^= new;
        let gerror = b.gerror;
        trace::emit(trace, || TraceEvent::Gerror { sec_sid: sec, bits: new, gerror });
        if new & !gerror::MSI_GERROR_ABT_ERR != 0 {
            self.signal_irq(sec, Source::Gerror, mem, trace);
        }
    }

    /// Triggers the interrupt of `source` on interface `sec`: nothing unless its
    /// `IRQ_CTRLACK` enable is set; then the MSI (if the interface has MSIs and the address is
    /// not zero) and the wired pulse.
    pub(crate) fn signal_irq<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        source: Source,
        mem: &mut M,
        trace: &mut T,
    ) {
        let b = &self.banks[sec.index()];
        let ctrl = b.irq_ctrl();
        let (enabled, cfg0, data, abort, line) = match source {
            Source::Eventq => (
                ctrl.eventq_irqen(),
                b.eventq.irq_cfg0,
                b.eventq.irq_cfg1,
                gerror::MSI_EVENTQ_ABT_ERR,
                eventq_line(sec),
            ),
            Source::Gerror => (
                ctrl.gerror_irqen(),
                b.gerror_irq_cfg0,
                b.gerror_irq_cfg1,
                gerror::MSI_GERROR_ABT_ERR,
                gerror_line(sec),
            ),
        };
        if !enabled {
            return;
        }
        if self.msi_impl(sec) && cfg0 & IRQ_CFG0_ADDR_MASK != 0 {
            let addr = cfg0 & IRQ_CFG0_ADDR_MASK & self.cfg.oas_mask();
            let pas = match sec {
                SecSid::Realm if cfg0 & R_IRQ_CFG0_NS != 0 => Pas::NonSecure,
                _ => sec.pas(),
            };
            let name = match source {
                Source::Eventq => "eventq",
                Source::Gerror => "gerror",
            };
            if send_msi(name, addr, data, pas, mem, trace).is_err() {
                self.raise_gerror(sec, abort, mem, trace);
            }
        }
        self.pulse_irq(line, trace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SmmuConfig;
    use crate::mem::{SparseMem, Window};
    use crate::spec::regs::IrqCtrl;
    use crate::trace::VecTrace;

    const RAM: u64 = 0x4000_0000;
    const MSI_ADDR: u64 = 0x4000_0100;
    /// Not backed by any window: a write there is a bus error.
    const HOLE: u64 = 0x1000;

    fn ram() -> SparseMem {
        let mut m = SparseMem::new();
        m.add_window(Window { name: "ram", base: RAM, size: 1 << 20, pas_mask: 0xf }).unwrap();
        m
    }

    fn irqen(gerror: bool, eventq: bool) -> u32 {
        let mut c = IrqCtrl(0);
        c.set_gerror_irqen(gerror);
        c.set_eventq_irqen(eventq);
        c.0
    }

    /// `SmmuConfig::full()` (MSIs) with GERROR_IRQEN and EVENTQ_IRQEN acknowledged on `sec`.
    fn smmu(sec: SecSid) -> Smmu {
        let mut s = Smmu::new(SmmuConfig::full());
        s.banks[sec.index()].irq_ctrlack = irqen(true, true);
        s
    }

    fn msis(t: &VecTrace) -> Vec<(u64, u32, Pas)> {
        t.events
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Msi { addr, data, pas, .. } => Some((*addr, *data, *pas)),
                _ => None,
            })
            .collect()
    }

    fn word(m: &mut SparseMem, addr: u64, pas: Pas) -> u32 {
        let mut b = [0u8; 4];
        m.read(addr, pas, &mut b).unwrap();
        u32::from_le_bytes(b)
    }

    #[test]
    fn raise_gerror_toggles_the_bit_and_pulses_the_gerror_line() {
        let mut s = smmu(SecSid::NonSecure);
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut ram(), &mut VecTrace::new());
        assert_eq!(s.banks[0].gerror, 0x1);
        assert_eq!(s.take_irqs(), vec![NS_GERROR]);
    }

    #[test]
    fn an_active_error_is_not_toggled_again() {
        let mut s = smmu(SecSid::NonSecure);
        let mut m = ram();
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut m, &mut VecTrace::new());
        s.take_irqs();
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut m, &mut VecTrace::new());
        assert_eq!(s.banks[0].gerror, 0x1);
        assert_eq!(s.take_irqs(), Vec::<u8>::new());
    }

    #[test]
    fn an_acknowledged_error_toggles_back_on_the_next_occurrence() {
        let mut s = smmu(SecSid::NonSecure);
        let mut m = ram();
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut m, &mut VecTrace::new());
        s.banks[0].gerrorn = 0x1;
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut m, &mut VecTrace::new());
        assert_eq!(s.banks[0].gerror, 0x0);
        assert_eq!(s.banks[0].active_gerrors(), 0x1);
        assert_eq!(s.take_irqs(), vec![NS_GERROR, NS_GERROR]);
    }

    #[test]
    fn errors_activated_together_give_one_interrupt() {
        let mut s = smmu(SecSid::NonSecure);
        let bits = gerror::CMDQ_ERR | gerror::EVENTQ_ABT_ERR;
        s.raise_gerror(SecSid::NonSecure, bits, &mut ram(), &mut VecTrace::new());
        assert_eq!(s.banks[0].gerror, 0x5);
        assert_eq!(s.take_irqs(), vec![NS_GERROR]);
    }

    #[test]
    fn bits_the_interface_does_not_define_are_not_raised() {
        // qemu-virt: no MSI, so MSI_*_ABT_ERR are RES0.
        let mut s = Smmu::new(SmmuConfig::qemu_virt());
        s.banks[0].irq_ctrlack = irqen(true, false);
        s.raise_gerror(
            SecSid::NonSecure,
            gerror::MSI_CMDQ_ABT_ERR,
            &mut ram(),
            &mut VecTrace::new(),
        );
        assert_eq!(s.banks[0].gerror, 0);
        assert_eq!(s.take_irqs(), Vec::<u8>::new());
    }

    #[test]
    fn gerror_without_gerror_irqen_toggles_silently() {
        let mut s = smmu(SecSid::NonSecure);
        s.banks[0].irq_ctrlack = irqen(false, true);
        s.banks[0].gerror_irq_cfg0 = MSI_ADDR;
        let mut t = VecTrace::new();
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut ram(), &mut t);
        assert_eq!(s.banks[0].gerror, 0x1);
        assert_eq!(s.take_irqs(), Vec::<u8>::new());
        assert_eq!(msis(&t), vec![]);
    }

    #[test]
    fn gerror_msi_writes_irq_cfg1_at_irq_cfg0_then_pulses_the_line() {
        let mut s = smmu(SecSid::NonSecure);
        s.banks[0].gerror_irq_cfg0 = MSI_ADDR;
        s.banks[0].gerror_irq_cfg1 = 0xcafe_f00d;
        let mut m = ram();
        let mut t = VecTrace::new();
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut m, &mut t);
        assert_eq!(word(&mut m, MSI_ADDR, Pas::NonSecure), 0xcafe_f00d);
        assert_eq!(msis(&t), vec![(MSI_ADDR, 0xcafe_f00d, Pas::NonSecure)]);
        assert_eq!(s.take_irqs(), vec![NS_GERROR]);
        let order: Vec<_> = t
            .events
            .iter()
            .filter(|e| matches!(e, TraceEvent::Msi { .. } | TraceEvent::Irq { .. }))
            .collect();
        assert!(matches!(order[..], [TraceEvent::Msi { .. }, TraceEvent::Irq { line: NS_GERROR }]));
    }

    #[test]
    fn msi_address_zero_sends_no_msi_but_still_pulses() {
        let mut s = smmu(SecSid::NonSecure);
        s.banks[0].gerror_irq_cfg1 = 0x55;
        let mut t = VecTrace::new();
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut ram(), &mut t);
        assert_eq!(msis(&t), vec![]);
        assert_eq!(s.take_irqs(), vec![NS_GERROR]);
    }

    #[test]
    fn no_msi_without_idr0_msi_even_with_an_address() {
        let mut s = Smmu::new(SmmuConfig::qemu_virt());
        s.banks[0].irq_ctrlack = irqen(true, false);
        s.banks[0].gerror_irq_cfg0 = MSI_ADDR;
        let mut t = VecTrace::new();
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut ram(), &mut t);
        assert_eq!(msis(&t), vec![]);
        assert_eq!(s.take_irqs(), vec![NS_GERROR]);
    }

    #[test]
    fn msi_address_is_truncated_to_the_oas() {
        // full: OAS 48 bits; bit 50 of ADDR lies above it.
        let mut s = smmu(SecSid::NonSecure);
        s.banks[0].gerror_irq_cfg0 = 1 << 50 | MSI_ADDR;
        let mut t = VecTrace::new();
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut ram(), &mut t);
        assert_eq!(msis(&t), vec![(MSI_ADDR, 0, Pas::NonSecure)]);
    }

    #[test]
    fn a_failed_gerror_msi_activates_msi_gerror_abt_err_without_another_interrupt() {
        let mut s = smmu(SecSid::NonSecure);
        s.banks[0].gerror_irq_cfg0 = HOLE;
        let mut t = VecTrace::new();
        s.raise_gerror(SecSid::NonSecure, gerror::CMDQ_ERR, &mut ram(), &mut t);
        assert_eq!(s.banks[0].gerror, gerror::CMDQ_ERR | gerror::MSI_GERROR_ABT_ERR);
        assert_eq!(msis(&t).len(), 1, "one MSI attempt, no retry");
        assert_eq!(s.take_irqs(), vec![NS_GERROR]);
    }

    #[test]
    fn msi_gerror_abt_err_alone_triggers_no_gerror_interrupt() {
        let mut s = smmu(SecSid::NonSecure);
        s.banks[0].gerror_irq_cfg0 = MSI_ADDR;
        let mut t = VecTrace::new();
        s.raise_gerror(SecSid::NonSecure, gerror::MSI_GERROR_ABT_ERR, &mut ram(), &mut t);
        assert_eq!(s.banks[0].gerror, gerror::MSI_GERROR_ABT_ERR);
        assert_eq!(msis(&t), vec![]);
        assert_eq!(s.take_irqs(), Vec::<u8>::new());
    }

    #[test]
    fn a_failed_eventq_msi_activates_msi_eventq_abt_err_and_signals_gerror_first() {
        let mut s = smmu(SecSid::NonSecure);
        s.banks[0].eventq.irq_cfg0 = HOLE;
        s.banks[0].gerror_irq_cfg0 = MSI_ADDR;
        s.banks[0].gerror_irq_cfg1 = 0x77;
        let mut m = ram();
        let mut t = VecTrace::new();
        s.signal_irq(SecSid::NonSecure, Source::Eventq, &mut m, &mut t);
        assert_eq!(s.banks[0].gerror, gerror::MSI_EVENTQ_ABT_ERR);
        assert_eq!(msis(&t), vec![(HOLE, 0, Pas::NonSecure), (MSI_ADDR, 0x77, Pas::NonSecure)]);
        assert_eq!(s.take_irqs(), vec![NS_GERROR, NS_EVENTQ]);
    }

    #[test]
    fn eventq_interrupt_needs_eventq_irqen() {
        let mut s = smmu(SecSid::NonSecure);
        s.banks[0].irq_ctrlack = irqen(true, false);
        s.banks[0].eventq.irq_cfg0 = MSI_ADDR;
        let mut t = VecTrace::new();
        s.signal_irq(SecSid::NonSecure, Source::Eventq, &mut ram(), &mut t);
        assert_eq!(msis(&t), vec![]);
        assert_eq!(s.take_irqs(), Vec::<u8>::new());
    }

    #[test]
    fn secure_msis_target_the_secure_pas_and_secure_lines() {
        let mut s = smmu(SecSid::Secure);
        s.banks[SecSid::Secure.index()].eventq.irq_cfg0 = MSI_ADDR;
        s.banks[SecSid::Secure.index()].eventq.irq_cfg1 = 0x5ec;
        let mut m = ram();
        let mut t = VecTrace::new();
        s.signal_irq(SecSid::Secure, Source::Eventq, &mut m, &mut t);
        assert_eq!(msis(&t), vec![(MSI_ADDR, 0x5ec, Pas::Secure)]);
        assert_eq!(word(&mut m, MSI_ADDR, Pas::Secure), 0x5ec);
        assert_eq!(s.take_irqs(), vec![S_EVENTQ]);
    }

    #[test]
    fn realm_msis_go_to_the_realm_pas_unless_ns_is_set() {
        let mut s = smmu(SecSid::Realm);
        let r = SecSid::Realm.index();
        s.banks[r].gerror_irq_cfg0 = MSI_ADDR;
        s.banks[r].eventq.irq_cfg0 = R_IRQ_CFG0_NS | MSI_ADDR;
        let mut t = VecTrace::new();
        s.signal_irq(SecSid::Realm, Source::Gerror, &mut ram(), &mut t);
        s.signal_irq(SecSid::Realm, Source::Eventq, &mut ram(), &mut t);
        assert_eq!(msis(&t), vec![(MSI_ADDR, 0, Pas::Realm), (MSI_ADDR, 0, Pas::NonSecure)]);
        assert_eq!(s.take_irqs(), vec![R_GERROR, R_EVENTQ]);
    }

    #[test]
    fn lines_follow_the_design_numbering() {
        let per_sec: Vec<_> = SecSid::ALL
            .iter()
            .map(|&s| (eventq_line(s), cmdq_sync_line(s), gerror_line(s)))
            .collect();
        assert_eq!(per_sec, vec![(0, 2, 3), (4, 5, 6), (7, 9, 10)]);
        assert_eq!((NS_PRIQ, R_PRIQ, GPF_FAR, GPT_CFG_FAR, COUNT), (1, 8, 11, 12, 13));
    }
}
