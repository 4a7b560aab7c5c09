//! Command queue consumption and command errors (IHI 0070 §4, §7.1).
//!
//! Consumption is synchronous: it runs from the register write that may give the queue work
//! (CMDQ_PROD, CR0 with CMDQEN set, GERRORN) and stops when the queue is empty, when CMDQEN is
//! clear, or at the first command error. It handles at most one queue's worth of commands per
//! call, so no PROD value can make it loop.
//!
//! Each command is read from `CMDQ_BASE.ADDR + 16 * index` in the interface's own PAS, traced
//! as [`TraceEvent::Command`], checked against what the ID registers advertise, executed, and
//! only then consumed (CONS advances). On an error, CONS keeps pointing at the command, CONS.ERR
//! holds the reason (CERROR_ILL or CERROR_ABT), GERROR.CMDQ_ERR toggles (with the gerror
//! interrupt when GERROR_IRQEN) and consumption stops until software acknowledges through
//! GERRORN. Software may fix the command in memory, or skip it by moving CONS (only while
//! CMDQEN=0 from SMMUv3.2 on: CMDQ_CONS is Guarded); an acknowledge without either runs the
//! same command again, as QEMU does and as the architecture implies.
//!
//! # Legality
//!
//! A command is CERROR_ILL when its opcode is reserved (everything not in §4.1.1, the IMPDEF
//! range 0x80-0x8f included) or when the interface does not advertise what it needs:
//!
//! | Command | Needs |
//! |---|---|
//! | CFGI_CD, CFGI_CD_ALL, TLBI_NH_*, TLBI_EL2_*, TLBI_EL3_* | IDR0.S1P |
//! | TLBI_EL2_* | IDR0.Hyp |
//! | TLBI_EL3_* | the Secure queue, and IDR0.RME_IMPL == 0 |
//! | TLBI_S12_VMALL, TLBI_S2_IPA | IDR0.S2P |
//! | TLBI_S_EL2_*, TLBI_S_S12_VMALL, TLBI_S_S2_IPA, TLBI_SNH_ALL | the Secure queue and S_IDR1.SEL2 |
//! | CFGI_VMS_PIDM | IDR3.MPAM (which this model takes as "VMS implemented") |
//! | ATC_INV | IDR0.ATS |
//! | PRI_RESP | IDR0.PRI |
//! | RESUME, STALL_TERM | a stall model: (S_)IDR0.STALL_MODEL != 0b01 (S_CR0.NSSTALLD makes the Non-secure one 0b01); never on the Realm queue |
//! | DPTI_ALL, DPTI_PA | IDR3.DPT, not on the Secure queue |
//!
//! Field checks: SSec=1 on the Non-secure or Realm queue (PREFETCH_*, CFGI_*, RESUME,
//! STALL_TERM); CMD_SYNC CS=0b11; PRI_RESP Resp=0b11; ATC_INV Size > 52 (permitted to be
//! ILLEGAL, chosen so). TLBI range fields (TG, TTL, TTL128, NUM, SCALE of the VA/IPA TLBIs),
//! §4.4.1.1:
//! - without IDR3.RIL they are RES0, and a non-zero value is ILLEGAL (the implementation's
//!   permitted choice to detect RES0 fields);
//! - with TG=0 (no range, no hint) NUM, SCALE, TTL and TTL128 are RES0: non-zero is ILLEGAL;
//! - SCALE bit 25 is RES0 without IDR5.DS: non-zero is ILLEGAL;
//! - TG=16K with TTL=0b01 without IDR5.DS is treated as TTL=0b00;
//! - TG!=0 with NUM=0, SCALE=0 and (effective) TTL=0 is Reserved: ILLEGAL;
//! - TTL128=1 with TTL=0 or without IDR5.D128 is ILLEGAL (RES0).
//!
//! Other RES0 fields are ignored (§4.1.5 lets an implementation do either).
//!
//! # Execution
//!
//! There are no configuration or TLB caches yet, so CFGI_*, TLBI_*, PREFETCH_*, ATC_INV,
//! PRI_RESP, RESUME, STALL_TERM and DPTI_* are validated and then have no effect. CMD_SYNC
//! with CS=SIG_IRQ sends an MSI of MSIData (32-bit) to MSIAddr in the interface's PAS when the
//! interface has MSIs and MSIAddr != 0 (an abort toggles GERROR.MSI_CMDQ_ABT_ERR), and, as
//! §4.7.3 says for implementations with wired interrupts, pulses the interface's cmdq-sync
//! line "regardless of the value of MSIAddress" (it is not gated by IRQ_CTRL). CS=SIG_SEV is
//! SIG_NONE without IDR0.SEV, and with it only traced (no PE is modelled).

use crate::mem::{PhysMem, read_obj};
use crate::pas::{Pas, SecSid};
use crate::spec::cmd::{
    ATC_INV_SIZE_ALL, CMD_SIZE, CS_RESERVED, Cmd, PRI_RESP_RESERVED, cerror, cs, op, tg,
};
use crate::spec::regs::{CMDQ_CONS_ERR_MASK, CMDQ_CONS_ERR_SHIFT, gerror, queue_index_mask};
use crate::trace::{self, TraceEvent, TraceSink};
use crate::{Smmu, irq};

/// What the ID registers advertise to one command queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct QueueCaps {
    pub sec: SecSid,
    pub s1p: bool,
    pub s2p: bool,
    pub hyp: bool,
    pub ats: bool,
    pub pri: bool,
    /// A stall model is available to this queue (STALL_MODEL != 0b01 after NSSTALLD).
    pub stall: bool,
    pub ril: bool,
    pub ds: bool,
    pub d128: bool,
    pub dpt: bool,
    pub mpam: bool,
    pub sev: bool,
    pub msi: bool,
    pub rme_impl: bool,
    pub sel2: bool,
    /// Output address size in bits, for MSI addresses.
    pub oas_bits: u32,
}

impl Smmu {
    /// What the command queue of `sec` may use.
    pub(crate) fn queue_caps(&self, sec: SecSid) -> QueueCaps {
        let idr0 = self.cfg.idr0();
        let idr3 = self.cfg.idr3();
        let idr5 = self.cfg.idr5();
        let stall_model = match sec {
            SecSid::NonSecure => self.ns_idr0().stall_model(),
            SecSid::Secure => self.s_idr0().stall_model(),
            SecSid::Realm => crate::spec::regs::stall_model::TERMINATE_ONLY,
        };
        let realm = sec == SecSid::Realm;
        QueueCaps {
            sec,
            s1p: idr0.s1p(),
            s2p: idr0.s2p(),
            hyp: idr0.hyp(),
            // The Realm interface's ATS/PRI/DPT come from R_IDR0/R_IDR3, not modelled yet.
            ats: idr0.ats() && !realm,
            pri: idr0.pri() && !realm,
            stall: stall_model != crate::spec::regs::stall_model::TERMINATE_ONLY,
            ril: idr3.ril(),
            ds: idr5.ds(),
            d128: idr5.d128(),
            dpt: idr3.dpt() && sec == SecSid::NonSecure,
            mpam: idr3.mpam(),
            sev: idr0.sev(),
            msi: self.msi_impl(sec),
            rme_impl: idr0.rme_impl(),
            sel2: sec == SecSid::Secure && self.cfg.s_idr1().sel2(),
            oas_bits: self.cfg.oas_bits(),
        }
    }

    /// Consumes commands from the command queue of `sec` while it is enabled, not empty and
    /// free of errors.
    pub(crate) fn consume_cmdq<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        mem: &mut M,
        trace: &mut T,
    ) {
        let caps = self.queue_caps(sec);
        let (base, log2size) = self.cmdq_geometry(sec);
        let wrap_mask = queue_index_mask(log2size);
        let slots = 1u32 << log2size;
        for _ in 0..slots {
            let b = &self.banks[sec.index()];
            if !b.cr0().cmdqen() || b.active_gerrors() & gerror::CMDQ_ERR != 0 {
                return;
            }
            let cons = b.cmdq.cons & wrap_mask;
            if b.cmdq.prod & wrap_mask == cons {
                return;
            }
            let index = cons & (slots - 1);
            let addr = base + CMD_SIZE * u64::from(index);
            let result = match read_obj::<Cmd>(mem, addr, sec.pas()) {
                Ok(cmd) => {
                    trace::emit(trace, || TraceEvent::Command {
                        sec_sid: sec,
                        index,
                        raw: cmd.to_words(),
                    });
                    self.execute(sec, &cmd, &caps, mem, trace)
                }
                Err(_) => {
                    trace::emit(trace, || {
                        TraceEvent::Note(format!("{sec} CMDQ[{index}] read at {addr:#x} aborted"))
                    });
                    Err(cerror::ABT)
                }
            };
            let q = &mut self.banks[sec.index()].cmdq;
            match result {
                Ok(()) => {
                    q.cons = (q.cons & CMDQ_CONS_ERR_MASK) | (cons.wrapping_add(1) & wrap_mask)
                }
                Err(code) => {
                    q.cons = ((code << CMDQ_CONS_ERR_SHIFT) & CMDQ_CONS_ERR_MASK) | cons;
                    self.raise_gerror(sec, gerror::CMDQ_ERR, trace);
                    return;
                }
            }
        }
    }

    /// Checks and executes one command; `Err` carries the CERROR code.
    fn execute<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        cmd: &Cmd,
        caps: &QueueCaps,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<(), u32> {
        check(cmd, caps)?;
        if cmd.bits().opcode() == u64::from(op::SYNC) {
            self.cmd_sync(sec, cmd, caps, mem, trace);
        }
        Ok(())
    }

    /// Signals the completion of a CMD_SYNC.
    fn cmd_sync<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        cmd: &Cmd,
        caps: &QueueCaps,
        mem: &mut M,
        trace: &mut T,
    ) {
        let b = cmd.bits();
        match b.cs() {
            cs::SIG_IRQ => {
                // The zero check covers the whole MSIAddr field, before OAS truncation.
                if caps.msi && b.msiaddr() != 0 {
                    let addr = (b.msiaddr() << 2) & oas_mask(caps.oas_bits);
                    let pas =
                        if sec == SecSid::Realm && b.msi_ns() { Pas::NonSecure } else { sec.pas() };
                    let data = b.msidata() as u32;
                    trace::emit(trace, || TraceEvent::Msi { addr, data, pas });
                    if mem.write(addr, pas, &data.to_le_bytes()).is_err() {
                        self.raise_gerror(sec, gerror::MSI_CMDQ_ABT_ERR, trace);
                    }
                }
                self.pulse_irq(irq::cmdq_sync_line(sec), trace);
            }
            cs::SIG_SEV if caps.sev => {
                trace::emit(trace, || TraceEvent::Note(format!("{sec} CMD_SYNC: SEV")));
            }
            _ => {}
        }
    }
}

fn oas_mask(oas_bits: u32) -> u64 {
    if oas_bits >= 64 { u64::MAX } else { (1u64 << oas_bits) - 1 }
}

/// Whether `cmd` is legal on a queue with capabilities `c`; `Err(CERROR_ILL)` otherwise.
pub(crate) fn check(cmd: &Cmd, c: &QueueCaps) -> Result<(), u32> {
    let b = cmd.bits();
    let secure = c.sec == SecSid::Secure;
    let realm = c.sec == SecSid::Realm;
    // SSec=1 names a Secure stream: only the Secure queue may do that.
    let ssec_ok = secure || !b.ssec();
    let legal = match b.opcode() as u8 {
        op::PREFETCH_CONFIG | op::PREFETCH_ADDR | op::CFGI_STE | op::CFGI_STE_RANGE => ssec_ok,
        op::CFGI_CD | op::CFGI_CD_ALL => ssec_ok && c.s1p,
        op::CFGI_VMS_PIDM => ssec_ok && c.mpam,
        op::TLBI_NH_ALL | op::TLBI_NH_ASID => c.s1p,
        op::TLBI_NH_VA | op::TLBI_NH_VAA => c.s1p && range_ok(cmd, c),
        op::TLBI_EL3_ALL => secure && !c.rme_impl && c.s1p,
        op::TLBI_EL3_VA => secure && !c.rme_impl && c.s1p && range_ok(cmd, c),
        op::TLBI_EL2_ALL | op::TLBI_EL2_ASID => c.s1p && c.hyp,
        op::TLBI_EL2_VA | op::TLBI_EL2_VAA => c.s1p && c.hyp && range_ok(cmd, c),
        op::TLBI_S12_VMALL => c.s2p,
        op::TLBI_S2_IPA => c.s2p && range_ok(cmd, c),
        op::TLBI_NSNH_ALL => true,
        op::ATC_INV => c.ats && b.atc_size() <= ATC_INV_SIZE_ALL,
        op::PRI_RESP => c.pri && b.resp() != PRI_RESP_RESERVED,
        op::RESUME | op::STALL_TERM => !realm && c.stall && ssec_ok,
        op::SYNC => b.cs() != CS_RESERVED,
        op::TLBI_S_EL2_ALL | op::TLBI_S_EL2_ASID | op::TLBI_S_S12_VMALL | op::TLBI_SNH_ALL => {
            c.sel2
        }
        op::TLBI_S_EL2_VA | op::TLBI_S_EL2_VAA | op::TLBI_S_S2_IPA => c.sel2 && range_ok(cmd, c),
        op::DPTI_ALL | op::DPTI_PA => c.dpt,
        _ => false,
    };
    if legal { Ok(()) } else { Err(cerror::ILL) }
}

/// The range-invalidation and level-hint rules of §4.4.1.1 for an address-based TLBI.
fn range_ok(cmd: &Cmd, c: &QueueCaps) -> bool {
    let b = cmd.bits();
    let scale = cmd.bits_ext().scale_ds();
    let (tgv, ttl, num, ttl128) = (b.tg(), b.ttl(), b.num(), b.ttl128());
    if !c.ril || tgv == tg::ANY {
        return tgv == tg::ANY && ttl == 0 && num == 0 && scale == 0 && !ttl128;
    }
    if !c.ds && scale != b.scale() {
        return false;
    }
    let ttl = if tgv == tg::G16K && ttl == 0b01 && !c.ds { 0 } else { ttl };
    if num == 0 && scale == 0 && ttl == 0 {
        return false;
    }
    !ttl128 || (ttl != 0 && c.d128)
}

#[cfg(test)]
mod tests {}
