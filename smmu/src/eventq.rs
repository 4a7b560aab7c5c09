//! The event queue writer (IHI 0070 §7.2, §7.3.1, §7.4, §6.3.29-6.3.31).
//!
//! Records are written at `EVENTQ_BASE.ADDR + 32 * PROD.WR` in the interface's own PAS.
//! PROD advances by one with the wrap bit at `[LOG2SIZE]`, LOG2SIZE capped at `IDR1.EVENTQS`.
//!
//! # Writable, discarded, overflow (§7.2.1, §7.4)
//!
//! The queue is writable while `CR0ACK.EVENTQEN` is set, `GERROR.EVENTQ_ABT_ERR` is not
//! active and the queue is not full (PROD and CONS on the same index with different wrap bits).
//! A record that cannot be written is discarded and traced as
//! [`TraceEvent::Event`] with `addr: None`:
//!
//! - EVENTQEN clear, or EVENTQ_ABT_ERR active: discarded, nothing else happens.
//! - Full queue: discarded, and the queue enters the overflow condition: `EVENTQ_PROD.OVFLG`
//!   toggles if the condition is not already present (OVFLG == `EVENTQ_CONS.OVACKFLG`). Further
//!   discards while OVFLG != OVACKFLG change nothing. Software acknowledges by writing
//!   OVACKFLG = OVFLG to EVENTQ_CONS, after which the next discard toggles OVFLG again. (QEMU
//!   raises GERROR.EVENTQ_ABT_ERR instead, its bug B5.) Stall records would never cause an
//!   overflow, but this model has no stall model and produces none.
//!
//! A write that ends in a bus error is a synchronous abort (§7.2.2): PROD does not move, the
//! record is lost, and `GERROR.EVENTQ_ABT_ERR` is activated. Nothing is written until software
//! acknowledges it through GERRORN.
//!
//! # Interrupt
//!
//! A record written to an empty queue (PROD == CONS before the write) triggers the event queue
//! interrupt (`irq.rs`: wired pulse and, with MSIs, the EVENTQ_IRQ_CFG MSI); records written to
//! a non-empty queue do not (§3.18.2, "Event queue transitions from empty to non-empty").
//!
//! # Merging (STE.MEV, §7.3.1)
//!
//! Merging is an implementation choice, off by default (QEMU never merges) and enabled by
//! `SmmuConfig::mev_merge`. When enabled, a record is merged into the record this interface
//! wrote last, and nothing is written (no PROD update, no interrupt), when all of these hold:
//!
//! - the two records are identical, ignoring InputAddr\[11:0\] for the types whose definition
//!   says so (F_TRANSL_FORBIDDEN, F_WALK_EABT, F_TRANSLATION, F_ADDR_SIZE, F_ACCESS,
//!   F_PERMISSION, F_TLB_CONFLICT; [`merge_ignores_input_addr_low`]);
//! - Stall == 0 (stall records are never merged);
//! - the stream's STE has MEV == 1, or the type is one that can occur before a valid STE is
//!   located (F_UUT, C_BAD_STREAMID, F_STE_FETCH, C_BAD_STE), which §7.3.1 lets an
//!   implementation always merge;
//! - the last record is still unconsumed and nothing has moved the queue since it was written:
//!   PROD is the value that write left (same base, same index and wrap) and PROD != CONS. This
//!   is the model's reading of "not separated by a significant amount of time": once software
//!   has consumed the record, the next occurrence gets a record of its own.
//!
//! Merging happens before the full check, so repeated identical faults on a full queue whose
//! last record matches are merged rather than counted as an overflow. A merge is traced as a
//! [`TraceEvent::Note`] naming the slot it merged into. [`Smmu::record_event`] is for callers
//! that do not know STE.MEV (treated as 0); [`Smmu::record_event_mev`] takes it.

use crate::Smmu;
use crate::irq::Source;
use crate::mem::{PhysMem, write_obj};
use crate::pas::SecSid;
use crate::spec::event::{
    EVENT_SIZE, EventRecord, MERGE_IGNORED_INPUT_ADDR, id, merge_ignores_input_addr_low,
};
use crate::spec::regs::{Q_OVERFLOW_FLAG, QueueBase, gerror, queue_index_mask};
use crate::trace::{self, TraceEvent, TraceSink};

/// What happened to an event record handed to [`Smmu::record_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventOutcome {
    /// Written at this address.
    Written(u64),
    /// Merged into the record already at this address (nothing written).
    Merged(u64),
    /// Not written: the queue is disabled, full, or in EVENTQ_ABT_ERR.
    Discarded,
    /// The write failed on the bus; GERROR.EVENTQ_ABT_ERR was raised.
    Aborted,
}

/// The record an interface wrote last, kept as a merge candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LastRecord {
    /// The record's merge key ([`merge_key`]).
    key: [u64; 4],
    /// Where it was written.
    addr: u64,
    /// The effective queue base when it was written.
    base: u64,
    /// EVENTQ_PROD index and wrap bit right after the write.
    prod: u32,
}

/// Event types that can occur before a valid STE is located: STE.MEV cannot govern them.
fn before_ste(event: u8) -> bool {
    matches!(event, id::F_UUT | id::C_BAD_STREAMID | id::F_STE_FETCH | id::C_BAD_STE)
}

/// Whether a record may be merged at all: Stall == 0, and STE.MEV == 1 unless the type
/// precedes the STE.
fn may_merge(rec: &EventRecord, ste_mev: bool) -> bool {
    let b = rec.bits();
    !b.stall() && (ste_mev || before_ste(b.event_id() as u8))
}

/// The record with the fields that do not count for merging cleared.
fn merge_key(rec: &EventRecord) -> [u64; 4] {
    let mut r = *rec;
    if merge_ignores_input_addr_low(r.bits().event_id() as u8) {
        let a = r.bits().input_addr();
        r.bits_mut().set_input_addr(a & !MERGE_IGNORED_INPUT_ADDR);
    }
    r.to_words()
}

impl Smmu {
    /// Base address and effective log2 size of the event queue of an interface: LOG2SIZE capped
    /// at `IDR1.EVENTQS`, the base aligned to the queue size (§6.3.29).
    pub(crate) fn eventq_geometry(&self, sec: SecSid) -> (u64, u32) {
        QueueBase(self.banks[sec.index()].eventq.base)
            .effective(EVENT_SIZE, self.cfg.idr1().eventqs())
    }

    /// Writes one event record to the event queue of `sec`, for a caller that does not know
    /// the STE.MEV of the stream (merged only if the type precedes the STE).
    #[cfg(test)]
    pub(crate) fn record_event<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        rec: &EventRecord,
        mem: &mut M,
        trace: &mut T,
    ) -> EventOutcome {
        self.record_event_mev(sec, rec, false, mem, trace)
    }

    /// Writes one event record to the event queue of `sec`. `ste_mev` is STE.MEV of the
    /// stream whose transaction produced the record (false when no valid STE was located).
    pub(crate) fn record_event_mev<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        rec: &EventRecord,
        ste_mev: bool,
        mem: &mut M,
        trace: &mut T,
    ) -> EventOutcome {
        let i = sec.index();
        let (base, log2size) = self.eventq_geometry(sec);
        let b = &self.banks[i];
        if !b.cr0().eventqen() || b.active_gerrors() & gerror::EVENTQ_ABT_ERR != 0 {
            return discard(sec, rec, trace);
        }
        let mask = queue_index_mask(log2size);
        let index_mask = mask >> 1;
        let (prod, cons) = (b.eventq.prod & mask, b.eventq.cons & mask);
        let empty = prod == cons;
        if !empty && self.cfg.mev_merge && may_merge(rec, ste_mev) {
            let key = merge_key(rec);
            if let Some(last) = self.eventq_last[i]
                && last.base == base
                && last.prod == prod
                && last.key == key
            {
                trace::emit(trace, || {
                    let name = id::name(rec.bits().event_id() as u8);
                    TraceEvent::Note(format!(
                        "{sec} {name} merged into the record at {:#x}",
                        last.addr
                    ))
                });
                return EventOutcome::Merged(last.addr);
            }
        }
        if prod ^ cons == mask & !index_mask {
            // Full: the record is discarded and the overflow condition entered.
            let q = &mut self.banks[i].eventq;
            if !rec.bits().stall() && (q.prod ^ q.cons) & Q_OVERFLOW_FLAG == 0 {
                q.prod ^= Q_OVERFLOW_FLAG;
                let value = q.prod;
                trace::emit(trace, || {
                    TraceEvent::Note(format!("{sec} event queue overflow: EVENTQ_PROD {value:#x}"))
                });
            }
            return discard(sec, rec, trace);
        }
        // Queue addresses beyond the OAS are truncated to it (§3.4.3).
        let addr = (base + EVENT_SIZE * u64::from(prod & index_mask)) & self.cfg.oas_mask();
        debug_assert_eq!(addr % EVENT_SIZE, 0);
        if write_obj(mem, addr, sec.pas(), rec).is_err() {
            self.eventq_last[i] = None;
            discard(sec, rec, trace);
            self.raise_gerror(sec, gerror::EVENTQ_ABT_ERR, mem, trace);
            return EventOutcome::Aborted;
        }
        let q = &mut self.banks[i].eventq;
        let new_prod = prod.wrapping_add(1) & mask;
        q.prod = (q.prod & !mask) | new_prod;
        self.eventq_last[i] = Some(LastRecord { key: merge_key(rec), addr, base, prod: new_prod });
        trace::emit(trace, || TraceEvent::Event {
            sec_sid: sec,
            addr: Some(addr),
            record: rec.to_words(),
        });
        if new_prod & index_mask == 0 {
            trace::emit(trace, || TraceEvent::Note(format!("{sec} event queue wrapped")));
        }
        if empty {
            self.signal_irq(sec, Source::Eventq, mem, trace);
        }
        EventOutcome::Written(addr)
    }
}

/// Traces a record that was not written.
fn discard<T: TraceSink + ?Sized>(sec: SecSid, rec: &EventRecord, trace: &mut T) -> EventOutcome {
    trace::emit(trace, || TraceEvent::Event { sec_sid: sec, addr: None, record: rec.to_words() });
    EventOutcome::Discarded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SmmuConfig;
    use crate::irq;
    use crate::mem::{SparseMem, Window, read_obj};
    use crate::pas::Pas;
    use crate::spec::event::EventFields;
    use crate::spec::regs::IrqCtrl;
    use crate::trace::{NoTrace, VecTrace};
    use crate::translate::rig::{cr0_eventqen, queue_base};

    const RAM: u64 = 0x4000_0000;
    const QBASE: u64 = 0x4e17_0000;
    const OVFLG: u32 = 1 << 31;
    const NS: SecSid = SecSid::NonSecure;

    fn ram() -> SparseMem {
        let mut m = SparseMem::new();
        m.add_window(Window { name: "ram", base: RAM, size: 512 << 20, pas_mask: 0xf }).unwrap();
        m
    }

    fn smmu_cfg(cfg: SmmuConfig, log2size: u64) -> Smmu {
        let mut s = Smmu::new(cfg);
        let b = &mut s.banks[0];
        b.cr0 = cr0_eventqen();
        b.cr0ack = cr0_eventqen();
        b.eventq.base = queue_base(QBASE, log2size);
        s
    }

    /// An SMMU with the NS event queue enabled at `QBASE` with 2^log2size entries.
    fn smmu_with_queue(log2size: u64) -> Smmu {
        smmu_cfg(SmmuConfig::qemu_virt(), log2size)
    }

    /// The same with `mev_merge` on.
    fn merging(log2size: u64) -> Smmu {
        smmu_cfg(SmmuConfig { mev_merge: true, ..SmmuConfig::qemu_virt() }, log2size)
    }

    fn rec(sid: u32) -> EventRecord {
        EventRecord::encode(&EventFields { id: id::C_BAD_STE, sid, ..Default::default() })
    }

    fn translation_fault(iova: u64) -> EventRecord {
        EventRecord::encode(&EventFields {
            id: id::F_TRANSLATION,
            sid: 3,
            rnw: true,
            class: crate::spec::event::class::IN,
            input_addr: iova,
            ..Default::default()
        })
    }

    fn eventq_irqen() -> u32 {
        let mut irq = IrqCtrl(0);
        irq.set_eventq_irqen(true);
        irq.0
    }

    #[test]
    fn first_record_lands_at_queue_base_and_prod_advances() {
        let mut s = smmu_with_queue(2);
        let mut m = ram();
        let out = s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE));
        let back: EventRecord = read_obj(&mut m, QBASE, Pas::NonSecure).unwrap();
        // Word 0: event number 0x04; word 0 bits [63:32]: StreamID 8.
        assert_eq!(back.to_words()[0], 0x0000_0008_0000_0004);
        assert_eq!(s.banks[0].eventq.prod, 1);
    }

    #[test]
    fn prod_wraps_to_index_zero_and_toggles_wrap_bit() {
        let mut s = smmu_with_queue(2);
        let mut m = ram();
        s.banks[0].eventq.prod = 3;
        s.banks[0].eventq.cons = 3;
        let out = s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE + 3 * 32));
        assert_eq!(s.banks[0].eventq.prod, 0b100);
        s.banks[0].eventq.cons = 0b100;
        let out = s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE));
        assert_eq!(s.banks[0].eventq.prod, 0b101);
    }

    #[test]
    fn wrap_bit_set_wraps_back_to_clear() {
        let mut s = smmu_with_queue(1);
        let mut m = ram();
        s.banks[0].eventq.prod = 0b11;
        s.banks[0].eventq.cons = 0b11;
        s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(s.banks[0].eventq.prod, 0b00);
    }

    #[test]
    fn full_queue_discards_the_record_and_toggles_ovflg() {
        let mut s = smmu_with_queue(2);
        let mut m = ram();
        s.banks[0].eventq.prod = 0b100 | 2;
        s.banks[0].eventq.cons = 2;
        let out = s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Discarded);
        assert_eq!(s.banks[0].eventq.prod, OVFLG | 0b110);
        assert_eq!(m.resident_pages(), 0);
        assert_eq!(s.banks[0].gerror, 0, "no EVENTQ_ABT_ERR (QEMU's B5)");
    }

    #[test]
    fn overflow_toggles_ovflg_once_however_many_records_are_discarded() {
        let mut s = smmu_with_queue(0);
        let mut m = ram();
        for sid in 0..5 {
            s.record_event(NS, &rec(sid), &mut m, &mut NoTrace);
        }
        assert_eq!(s.banks[0].eventq.prod, OVFLG | 1);
    }

    #[test]
    fn an_unacknowledged_overflow_is_not_signalled_again() {
        let mut s = smmu_with_queue(0);
        let mut m = ram();
        // OVFLG already differs from OVACKFLG: the overflow condition is present.
        s.banks[0].eventq.prod = OVFLG | 1;
        s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(s.banks[0].eventq.prod, OVFLG | 1);
    }

    #[test]
    fn an_acknowledged_overflow_toggles_ovflg_back_on_the_next_discard() {
        let mut s = smmu_with_queue(0);
        let mut m = ram();
        s.banks[0].eventq.prod = OVFLG | 1;
        s.banks[0].eventq.cons = OVFLG;
        s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(s.banks[0].eventq.prod, 1);
    }

    #[test]
    fn one_entry_queue_holds_exactly_one_record() {
        let mut s = smmu_with_queue(0);
        let mut m = ram();
        let first = s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        let second = s.record_event(NS, &rec(2), &mut m, &mut NoTrace);
        assert_eq!(first, EventOutcome::Written(QBASE));
        assert_eq!(second, EventOutcome::Discarded);
        assert_eq!(s.banks[0].eventq.prod, OVFLG | 1);
    }

    #[test]
    fn log2size_is_capped_at_idr1_eventqs() {
        let mut cfg = SmmuConfig::qemu_virt();
        // EVENTQS = 1: a 2-entry queue whatever EVENTQ_BASE.LOG2SIZE says.
        let mut i1 = cfg.idr1();
        i1.set_eventqs(1);
        cfg.idr1 = i1.0;
        let mut s = Smmu::new(cfg);
        let b = &mut s.banks[0];
        b.cr0ack = cr0_eventqen();
        b.eventq.base = queue_base(QBASE, 5);
        b.eventq.prod = 1;
        b.eventq.cons = 1;
        let mut m = ram();
        s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(s.banks[0].eventq.prod, 0b10);
    }

    #[test]
    fn base_is_aligned_to_queue_size() {
        let mut s = smmu_with_queue(2);
        // ADDR bits below the 128-byte queue size are ignored.
        s.banks[0].eventq.base = queue_base(QBASE + 0x60, 2);
        let mut m = ram();
        let out = s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE));
    }

    #[test]
    fn prod_overflow_flag_is_preserved() {
        let mut s = smmu_with_queue(2);
        s.banks[0].eventq.prod = OVFLG;
        let mut m = ram();
        s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(s.banks[0].eventq.prod, OVFLG | 1);
    }

    #[test]
    fn disabled_queue_writes_nothing() {
        let mut s = smmu_with_queue(2);
        s.banks[0].cr0ack = 0;
        let mut m = ram();
        let out = s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Discarded);
        assert_eq!(s.banks[0].eventq.prod, 0);
        assert_eq!(s.banks[0].gerror, 0);
    }

    #[test]
    fn a_disabled_full_queue_discards_without_overflow() {
        let mut s = smmu_with_queue(0);
        s.banks[0].cr0ack = 0;
        s.banks[0].eventq.prod = 1;
        let out = s.record_event(NS, &rec(1), &mut ram(), &mut NoTrace);
        assert_eq!(out, EventOutcome::Discarded);
        assert_eq!(s.banks[0].eventq.prod, 1);
    }

    #[test]
    fn a_full_queue_in_eventq_abt_err_discards_without_overflow() {
        let mut s = smmu_with_queue(0);
        s.banks[0].gerror = gerror::EVENTQ_ABT_ERR;
        s.banks[0].eventq.prod = 1;
        s.record_event(NS, &rec(1), &mut ram(), &mut NoTrace);
        assert_eq!(s.banks[0].eventq.prod, 1);
    }

    #[test]
    fn failed_write_raises_eventq_abt_err_and_gerror_irq() {
        let mut s = smmu_with_queue(2);
        s.banks[0].eventq.base = queue_base(0x1000_0000, 2); // not backed
        let mut irq = IrqCtrl(0);
        irq.set_gerror_irqen(true);
        irq.set_eventq_irqen(true);
        s.banks[0].irq_ctrlack = irq.0;
        let mut m = ram();
        let out = s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Aborted);
        assert_eq!(s.banks[0].gerror, gerror::EVENTQ_ABT_ERR);
        assert_eq!(s.banks[0].eventq.prod, 0);
        // The queue stays empty: no event queue interrupt, only the GERROR one.
        assert_eq!(s.take_irqs(), vec![irq::NS_GERROR]);
    }

    #[test]
    fn nothing_is_written_while_eventq_abt_err_is_active() {
        let mut s = smmu_with_queue(2);
        s.banks[0].gerror = gerror::EVENTQ_ABT_ERR;
        let mut m = ram();
        let out = s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Discarded);
        assert_eq!(m.resident_pages(), 0);
        // Acknowledged (GERRORN toggled to match): writing resumes.
        s.banks[0].gerrorn = gerror::EVENTQ_ABT_ERR;
        let out = s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE));
    }

    #[test]
    fn eventq_irq_pulses_only_when_enabled() {
        let mut s = smmu_with_queue(2);
        let mut m = ram();
        s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert!(s.take_irqs().is_empty());
        s.banks[0].irq_ctrlack = eventq_irqen();
        s.banks[0].eventq.cons = s.banks[0].eventq.prod;
        s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        assert_eq!(s.take_irqs(), vec![irq::NS_EVENTQ]);
    }

    #[test]
    fn eventq_irq_fires_on_empty_to_non_empty_only() {
        let mut s = smmu_with_queue(2);
        s.banks[0].irq_ctrlack = eventq_irqen();
        let mut m = ram();
        s.record_event(NS, &rec(1), &mut m, &mut NoTrace);
        s.record_event(NS, &rec(2), &mut m, &mut NoTrace);
        s.record_event(NS, &rec(3), &mut m, &mut NoTrace);
        assert_eq!(s.take_irqs(), vec![irq::NS_EVENTQ]);
        // Software consumes two of three: still non-empty, no interrupt.
        s.banks[0].eventq.cons = 2;
        s.record_event(NS, &rec(4), &mut m, &mut NoTrace);
        assert_eq!(s.take_irqs(), Vec::<u8>::new());
        // Drained: the next record fires again.
        s.banks[0].eventq.cons = 4;
        s.record_event(NS, &rec(5), &mut m, &mut NoTrace);
        assert_eq!(s.take_irqs(), vec![irq::NS_EVENTQ]);
    }

    #[test]
    fn written_and_discarded_records_are_traced() {
        let mut s = smmu_with_queue(0);
        let mut m = ram();
        let mut t = VecTrace::new();
        s.record_event(NS, &rec(7), &mut m, &mut t);
        s.record_event(NS, &rec(7), &mut m, &mut t);
        let addrs: Vec<_> = t
            .events
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Event { addr, .. } => Some(*addr),
                _ => None,
            })
            .collect();
        assert_eq!(addrs, vec![Some(QBASE), None]);
    }

    // -----------------------------------------------------------------------------------------
    // Merging.

    #[test]
    fn identical_records_are_not_merged_by_default() {
        let mut s = smmu_with_queue(2);
        let mut m = ram();
        s.record_event_mev(NS, &rec(8), true, &mut m, &mut NoTrace);
        let out = s.record_event_mev(NS, &rec(8), true, &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE + 32));
    }

    #[test]
    fn c_bad_ste_merges_whatever_ste_mev_says() {
        let mut s = merging(2);
        let mut m = ram();
        s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        let out = s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Merged(QBASE));
        assert_eq!(s.banks[0].eventq.prod, 1);
    }

    #[test]
    fn records_of_different_streams_are_not_merged() {
        let mut s = merging(2);
        let mut m = ram();
        s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        let out = s.record_event(NS, &rec(9), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE + 32));
    }

    #[test]
    fn translation_faults_merge_only_with_ste_mev() {
        let mut s = merging(2);
        let mut m = ram();
        s.record_event_mev(NS, &translation_fault(0x1000), false, &mut m, &mut NoTrace);
        let out = s.record_event_mev(NS, &translation_fault(0x1000), false, &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE + 32));
        let out = s.record_event_mev(NS, &translation_fault(0x1000), true, &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Merged(QBASE + 32));
    }

    #[test]
    fn merging_ignores_input_addr_bits_11_to_0_only() {
        let mut s = merging(2);
        let mut m = ram();
        s.record_event_mev(NS, &translation_fault(0x1000), true, &mut m, &mut NoTrace);
        let out = s.record_event_mev(NS, &translation_fault(0x1ffc), true, &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Merged(QBASE));
        let out = s.record_event_mev(NS, &translation_fault(0x2000), true, &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE + 32));
    }

    #[test]
    fn stall_records_are_never_merged() {
        let mut s = merging(2);
        let mut m = ram();
        let mut r = translation_fault(0x1000);
        r.bits_mut().set_stall(true);
        s.record_event_mev(NS, &r, true, &mut m, &mut NoTrace);
        let out = s.record_event_mev(NS, &r, true, &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE + 32));
    }

    #[test]
    fn a_consumed_record_is_not_merged_into() {
        let mut s = merging(2);
        let mut m = ram();
        s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        s.banks[0].eventq.cons = 1;
        let out = s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE + 32));
    }

    #[test]
    fn only_the_last_record_is_a_merge_candidate() {
        let mut s = merging(2);
        let mut m = ram();
        s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        s.record_event(NS, &rec(9), &mut m, &mut NoTrace);
        let out = s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE + 64));
    }

    #[test]
    fn a_moved_queue_base_ends_merging() {
        let mut s = merging(2);
        let mut m = ram();
        s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        s.banks[0].eventq.base = queue_base(QBASE + 0x1000, 2);
        let out = s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Written(QBASE + 0x1000 + 32));
    }

    #[test]
    fn a_merge_on_a_full_queue_is_not_an_overflow() {
        let mut s = merging(0);
        let mut m = ram();
        s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        let out = s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Merged(QBASE));
        assert_eq!(s.banks[0].eventq.prod, 1);
        let out = s.record_event(NS, &rec(9), &mut m, &mut NoTrace);
        assert_eq!(out, EventOutcome::Discarded);
        assert_eq!(s.banks[0].eventq.prod, OVFLG | 1);
    }

    #[test]
    fn a_merge_signals_nothing_and_is_traced_as_a_note() {
        let mut s = merging(2);
        s.banks[0].irq_ctrlack = eventq_irqen();
        let mut m = ram();
        s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        s.take_irqs();
        let mut t = VecTrace::new();
        s.record_event(NS, &rec(8), &mut m, &mut t);
        assert_eq!(s.take_irqs(), Vec::<u8>::new());
        assert_eq!(
            t.events,
            vec![TraceEvent::Note(format!(
                "non-secure C_BAD_STE merged into the record at {QBASE:#x}"
            ))]
        );
    }

    #[test]
    fn reset_forgets_the_merge_candidate() {
        let mut s = merging(2);
        let mut m = ram();
        s.record_event(NS, &rec(8), &mut m, &mut NoTrace);
        s.reset();
        assert_eq!(s.eventq_last, [None; 3]);
    }
}
