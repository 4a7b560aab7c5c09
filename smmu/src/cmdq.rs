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
//! CFGI_* and TLBI_* remove what their scope covers from the configuration cache and the TLB
//! (`invalidate`), at once, so a CMD_SYNC completes them. PREFETCH_*, ATC_INV, PRI_RESP,
//! RESUME, STALL_TERM and DPTI_* are validated and then have no effect. CMD_SYNC
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
                    let next = cons.wrapping_add(1) & wrap_mask;
                    q.cons = (q.cons & CMDQ_CONS_ERR_MASK) | next;
                    if next & (slots - 1) == 0 {
                        trace::emit(trace, || {
                            TraceEvent::Note(format!("{sec} command queue wrapped"))
                        });
                    }
                }
                Err(code) => {
                    q.cons = ((code << CMDQ_CONS_ERR_SHIFT) & CMDQ_CONS_ERR_MASK) | cons;
                    trace::emit(trace, || TraceEvent::CommandError { sec_sid: sec, index, code });
                    self.raise_gerror(sec, gerror::CMDQ_ERR, mem, trace);
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
        } else {
            self.invalidate(sec, cmd, trace);
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
                    let addr = cmd.msi_address() & self.cfg.oas_mask();
                    let pas =
                        if sec == SecSid::Realm && b.msi_ns() { Pas::NonSecure } else { sec.pas() };
                    let data = b.msidata() as u32;
                    if irq::send_msi("cmdq-sync", addr, data, pas, mem, trace).is_err() {
                        self.raise_gerror(sec, gerror::MSI_CMDQ_ABT_ERR, mem, trace);
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
mod tests {
    //! Commands are hand-assembled from Linux `arm-smmu-v3.h` field positions (CMDQ_0_OP
    //! [7:0], CMDQ_SYNC_0_CS [13:12], CMDQ_SYNC_0_MSIDATA [63:32], CMDQ_SYNC_1_MSIADDR [51:2],
    //! CMDQ_TLBI_0_NUM [16:12], CMDQ_TLBI_0_SCALE [24:20], CMDQ_TLBI_1_{LEAF 0, TTL [9:8],
    //! TG [11:10]}, CMDQ_PRI_1_RESP [13:12], CMDQ_ATC_1_SIZE [5:0]) and the spec (SSec bit 10,
    //! TTL128 bit 71, SCALE[25] with DS).

    use super::*;
    use crate::SmmuConfig;
    use crate::regs::rig::Rig;

    const SSEC: u64 = 1 << 10;
    const SYNC_NONE: u64 = 0x0046;
    const SYNC_IRQ: u64 = 0x1046;
    const SYNC_SEV: u64 = 0x2046;

    fn cmd(w0: u64, w1: u64) -> Cmd {
        Cmd::from_words([w0, w1])
    }

    fn caps(cfg: SmmuConfig, sec: SecSid) -> QueueCaps {
        Smmu::new(cfg).queue_caps(sec)
    }

    fn qemu_ns() -> QueueCaps {
        caps(SmmuConfig::qemu_virt(), SecSid::NonSecure)
    }

    /// Everything advertised, on the Secure queue.
    fn everything() -> QueueCaps {
        QueueCaps {
            sec: SecSid::Secure,
            s1p: true,
            s2p: true,
            hyp: true,
            ats: true,
            pri: true,
            stall: true,
            ril: true,
            ds: true,
            d128: true,
            dpt: true,
            mpam: true,
            sev: true,
            msi: true,
            rme_impl: false,
            sel2: true,
        }
    }

    fn legal(w0: u64, w1: u64, c: &QueueCaps) -> bool {
        match check(&cmd(w0, w1), c) {
            Ok(()) => true,
            Err(code) => {
                assert_eq!(code, cerror::ILL);
                false
            }
        }
    }

    /// Opcodes of the §4.1.1 table.
    const DEFINED: [u64; 34] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x18, 0x1a, 0x20, 0x21,
        0x22, 0x23, 0x28, 0x2a, 0x30, 0x40, 0x41, 0x44, 0x45, 0x46, 0x50, 0x51, 0x52, 0x53, 0x58,
        0x5a, 0x60, 0x70, 0x73,
    ];

    // -----------------------------------------------------------------------------------------
    // Legality.

    #[test]
    fn every_reserved_opcode_is_illegal_even_with_everything_advertised() {
        let c = everything();
        for opcode in 0..=0xffu64 {
            if !DEFINED.contains(&opcode) {
                assert!(!legal(opcode, 0, &c), "opcode {opcode:#x}");
            }
        }
    }

    #[test]
    fn every_defined_opcode_is_legal_with_everything_advertised_on_the_secure_queue() {
        let c = everything();
        for opcode in DEFINED {
            if opcode == u64::from(op::DPTI_ALL) || opcode == u64::from(op::DPTI_PA) {
                continue; // DPT is checked per queue below.
            }
            assert!(legal(opcode, 0, &c), "opcode {opcode:#x}");
        }
    }

    #[test]
    fn impdef_opcodes_are_illegal() {
        for opcode in 0x80..=0x8f {
            assert!(!legal(opcode, 0, &everything()), "opcode {opcode:#x}");
        }
    }

    #[test]
    fn qemu_virt_non_secure_queue_accepts_its_commands() {
        let c = qemu_ns();
        let forms = [
            (0x01 | 8 << 32, 0),                    // PREFETCH_CONFIG sid 8
            (0x02 | 8 << 32, 0x1000),               // PREFETCH_ADDR
            (0x03 | 8 << 32, 1),                    // CFGI_STE leaf
            (0x04, 31),                             // CFGI_ALL
            (0x05 | 8 << 32, 1),                    // CFGI_CD
            (0x06 | 8 << 32, 0),                    // CFGI_CD_ALL
            (0x10 | 1 << 32, 0),                    // TLBI_NH_ALL vmid 1
            (0x11 | 1 << 32 | 2 << 48, 0),          // TLBI_NH_ASID
            (0x12 | 1 << 32 | 2 << 48, 0x1000 | 1), // TLBI_NH_VA leaf
            (0x13 | 1 << 32, 0x2000),               // TLBI_NH_VAA
            (0x28 | 1 << 32, 0),                    // TLBI_S12_VMALL
            (0x2a | 1 << 32, 0x4000_0000),          // TLBI_S2_IPA
            (0x30, 0),                              // TLBI_NSNH_ALL
            (SYNC_NONE, 0),
            (SYNC_IRQ, 0),
            (SYNC_SEV, 0),
        ];
        for (w0, w1) in forms {
            assert!(legal(w0, w1, &c), "{w0:#x} {w1:#x}");
        }
    }

    #[test]
    fn qemu_virt_non_secure_queue_rejects_what_it_does_not_advertise() {
        let c = qemu_ns();
        // VMS_PIDM (no MPAM), EL3 (NS queue), EL2 (no Hyp), ATC_INV (no ATS), PRI_RESP (no
        // PRI), RESUME / STALL_TERM (STALL_MODEL 0b01), Secure-only TLBIs, DPTI (no DPT).
        let illegal = [
            0x07, 0x18, 0x1a, 0x20, 0x21, 0x22, 0x23, 0x40, 0x41, 0x44, 0x45, 0x50, 0x51, 0x52,
            0x53, 0x58, 0x5a, 0x60, 0x70, 0x73,
        ];
        for opcode in illegal {
            assert!(!legal(opcode, 0, &c), "opcode {opcode:#x}");
        }
    }

    #[test]
    fn tlbi_el2_needs_hyp() {
        let c = QueueCaps { hyp: true, ..qemu_ns() };
        for opcode in 0x20..=0x23 {
            assert!(legal(opcode, 0, &c), "opcode {opcode:#x}");
        }
    }

    #[test]
    fn full_preset_makes_tlbi_el2_legal_on_the_non_secure_and_secure_queues() {
        // CMD_TLBI_EL2_ALL / _ASID / _VA / _VAA (§4.4.2.7-10): legal with IDR0.Hyp, and "the
        // same effect whether issued from the Secure or Non-secure command queues".
        for sec in [SecSid::NonSecure, SecSid::Secure] {
            let c = caps(SmmuConfig::full(), sec);
            for opcode in 0x20..=0x23 {
                assert!(legal(opcode, 0, &c), "{sec:?} opcode {opcode:#x}");
            }
        }
    }

    #[test]
    fn tlbi_el2_asid_field_is_not_checked_against_the_e2h_mode() {
        // The ASID of TLBI_EL2_VA is ignored with E2H = 0 (a scope matter, §4.4.2.8), never
        // a reason for CERROR_ILL.
        let c = caps(SmmuConfig::full(), SecSid::NonSecure);
        assert!(legal(0x22 | (0xffff << 48), 0, &c));
        assert!(legal(0x21 | (0xffff << 48), 0, &c));
    }

    #[test]
    fn stage_1_commands_need_s1p() {
        // IDR0 of QEMU's stage=2 (S2P only).
        let cfg = SmmuConfig { idr0: 0x0d44_1019, ..SmmuConfig::qemu_virt() };
        let c = caps(cfg, SecSid::NonSecure);
        for opcode in [0x05, 0x06, 0x10, 0x11, 0x12, 0x13] {
            assert!(!legal(opcode, 0, &c), "opcode {opcode:#x}");
        }
        assert!(!legal(0x20, 0, &QueueCaps { hyp: true, ..c }));
        assert!(legal(0x28, 0, &c));
        assert!(legal(0x03, 0, &c));
    }

    #[test]
    fn stage_2_commands_need_s2p() {
        // IDR0 of QEMU's stage=1 (S1P only).
        let cfg = SmmuConfig { idr0: 0x0d44_101a, ..SmmuConfig::qemu_virt() };
        let c = caps(cfg, SecSid::NonSecure);
        assert!(!legal(0x28, 0, &c));
        assert!(!legal(0x2a, 0, &c));
        assert!(legal(0x10, 0, &c));
    }

    #[test]
    fn tlbi_nsnh_all_is_legal_on_every_stage_configuration() {
        for idr0 in [0x0d44_101b, 0x0d44_101a, 0x0d44_1019] {
            let c = caps(SmmuConfig { idr0, ..SmmuConfig::qemu_virt() }, SecSid::NonSecure);
            assert!(legal(0x30, 0, &c), "idr0 {idr0:#x}");
        }
    }

    #[test]
    fn cfgi_vms_pidm_needs_mpam() {
        assert!(legal(0x07, 0, &QueueCaps { mpam: true, ..qemu_ns() }));
    }

    #[test]
    fn atc_inv_needs_ats_and_size_at_most_52() {
        let c = QueueCaps { ats: true, ..qemu_ns() };
        assert!(legal(0x40 | 8 << 32, 52, &c));
        assert!(!legal(0x40 | 8 << 32, 53, &c));
    }

    #[test]
    fn pri_resp_needs_pri_and_a_defined_response() {
        let c = QueueCaps { pri: true, ..qemu_ns() };
        for resp in 0..=2u64 {
            assert!(legal(0x41 | 8 << 32, resp << 12, &c), "resp {resp}");
        }
        assert!(!legal(0x41 | 8 << 32, 3 << 12, &c));
    }

    #[test]
    fn resume_and_stall_term_need_a_stall_model() {
        // STALL_MODEL 0b00 (bits 25:24 clear).
        let cfg = SmmuConfig { idr0: 0x0c44_101b, ..SmmuConfig::qemu_virt() };
        let c = caps(cfg, SecSid::NonSecure);
        assert!(legal(0x44 | 8 << 32 | 1 << 12, 0x7, &c));
        assert!(legal(0x45 | 8 << 32, 0, &c));
    }

    #[test]
    fn resume_and_stall_term_are_illegal_on_the_realm_queue() {
        let c = QueueCaps { sec: SecSid::Realm, ..everything() };
        assert!(!legal(0x44, 0, &c));
        assert!(!legal(0x45, 0, &c));
    }

    #[test]
    fn nsstalld_takes_the_stall_model_away_from_the_non_secure_queue() {
        let cfg = SmmuConfig { idr0: 0x0c4c_321b, ..SmmuConfig::full() };
        let mut smmu = Smmu::new(cfg);
        assert!(smmu.queue_caps(SecSid::NonSecure).stall);
        smmu.banks[SecSid::Secure.index()].cr0ack = 1 << 9;
        assert!(!smmu.queue_caps(SecSid::NonSecure).stall);
        assert!(smmu.queue_caps(SecSid::Secure).stall);
    }

    #[test]
    fn dpti_needs_dpt_and_the_non_secure_queue() {
        // IDR3.DPT is bit 15.
        let cfg =
            SmmuConfig { idr3: 0x1414 | 1 << 15, secure_impl: true, ..SmmuConfig::qemu_virt() };
        assert!(legal(0x70, 0, &caps(cfg.clone(), SecSid::NonSecure)));
        assert!(legal(0x73, 0x4000_0000, &caps(cfg.clone(), SecSid::NonSecure)));
        assert!(!legal(0x70, 0, &caps(cfg, SecSid::Secure)));
    }

    #[test]
    fn ssec_is_illegal_on_the_non_secure_queue() {
        let c = QueueCaps { stall: true, mpam: true, ..qemu_ns() };
        for opcode in [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x44, 0x45] {
            assert!(legal(opcode, 0, &c), "opcode {opcode:#x}");
            assert!(!legal(opcode | SSEC, 0, &c), "opcode {opcode:#x} with SSec");
        }
    }

    #[test]
    fn ssec_is_legal_on_the_secure_queue() {
        let c = everything();
        for opcode in [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x44, 0x45] {
            assert!(legal(opcode | SSEC, 0, &c), "opcode {opcode:#x}");
        }
    }

    #[test]
    fn ssec_is_illegal_on_the_realm_queue() {
        let c = QueueCaps { sec: SecSid::Realm, ..everything() };
        assert!(legal(0x03, 0, &c));
        assert!(!legal(0x03 | SSEC, 0, &c));
    }

    #[test]
    fn bit_10_of_commands_without_ssec_is_ignored() {
        // TLBI_NH_ALL and CMD_SYNC have no SSec: bit 10 is RES0, which this model ignores.
        assert!(legal(0x10 | SSEC, 0, &qemu_ns()));
        assert!(legal(SYNC_IRQ | SSEC, 0, &qemu_ns()));
    }

    #[test]
    fn tlbi_el3_is_legal_only_on_the_secure_queue_without_rme() {
        let c = everything();
        assert!(legal(0x18, 0, &c));
        assert!(legal(0x1a, 0x1000, &c));
        let rme = QueueCaps { rme_impl: true, ..c };
        assert!(!legal(0x18, 0, &rme));
        assert!(!legal(0x1a, 0x1000, &rme));
        let ns = QueueCaps { sec: SecSid::NonSecure, ..c };
        assert!(!legal(0x18, 0, &ns));
    }

    #[test]
    fn secure_only_tlbis_need_sel2() {
        let no_sel2 = QueueCaps { sel2: false, ..everything() };
        for opcode in [0x50, 0x51, 0x52, 0x53, 0x58, 0x5a, 0x60] {
            assert!(!legal(opcode, 0, &no_sel2), "opcode {opcode:#x}");
            assert!(legal(opcode, 0, &everything()), "opcode {opcode:#x}");
        }
    }

    #[test]
    fn sel2_follows_s_idr1_on_the_secure_queue_only() {
        assert!(!caps(SmmuConfig::full(), SecSid::Secure).sel2);
        // S_IDR1.SEL2 is bit 29.
        let cfg = SmmuConfig { s_idr1: 0xa000_0010, ..SmmuConfig::full() };
        assert!(caps(cfg.clone(), SecSid::Secure).sel2);
        assert!(!caps(cfg, SecSid::NonSecure).sel2);
    }

    #[test]
    fn cmd_sync_cs_3_is_illegal() {
        assert!(!legal(0x3046, 0, &everything()));
    }

    // -----------------------------------------------------------------------------------------
    // Range invalidation fields (§4.4.1.1).

    const TG_4K: u64 = 1 << 10;
    const TG_16K: u64 = 2 << 10;
    const TG_64K: u64 = 3 << 10;
    const TTL: [u64; 4] = [0, 1 << 8, 2 << 8, 3 << 8];
    const NUM1: u64 = 1 << 12;
    const SCALE1: u64 = 1 << 20;
    const SCALE_BIT25: u64 = 1 << 25;
    const TTL128: u64 = 1 << 7;
    const NH_VA: u64 = 0x12 | 1 << 32 | 2 << 48;

    #[test]
    fn range_fields_are_illegal_without_ril() {
        let c = QueueCaps { ril: false, ..qemu_ns() };
        assert!(legal(NH_VA, 0x1000, &c));
        assert!(!legal(NH_VA, 0x1000 | TG_4K | TTL[3], &c));
        assert!(!legal(NH_VA, 0x1000 | TTL[3], &c));
        assert!(!legal(NH_VA | NUM1, 0x1000, &c));
    }

    #[test]
    fn tg_0_makes_num_scale_and_ttl_res0() {
        let c = qemu_ns();
        assert!(!legal(NH_VA | NUM1, 0x1000, &c));
        assert!(!legal(NH_VA | SCALE1, 0x1000, &c));
        assert!(!legal(NH_VA, 0x1000 | TTL[2], &c));
    }

    #[test]
    fn a_granule_without_range_or_level_hint_is_reserved() {
        assert!(!legal(NH_VA, 0x1000 | TG_4K, &qemu_ns()));
    }

    #[test]
    fn range_or_level_hint_with_a_granule_is_legal() {
        let c = qemu_ns();
        assert!(legal(NH_VA, 0x1000 | TG_4K | TTL[3], &c));
        assert!(legal(NH_VA | NUM1, 0x1000 | TG_4K, &c));
        assert!(legal(NH_VA | SCALE1, 0x1000 | TG_4K, &c));
        assert!(legal(NH_VA | 31 << 12 | 31 << 20, 0x1_0000 | TG_64K | TTL[1], &c));
    }

    #[test]
    fn scale_bit_25_needs_ds() {
        let c = qemu_ns();
        assert!(!legal(NH_VA | SCALE_BIT25, 0x1000 | TG_4K, &c));
        assert!(legal(NH_VA | SCALE_BIT25, 0x1000 | TG_4K, &QueueCaps { ds: true, ..c }));
    }

    #[test]
    fn ttl_1_with_16k_granule_without_ds_counts_as_no_hint() {
        let c = qemu_ns();
        assert!(!legal(NH_VA, 0x4000 | TG_16K | TTL[1], &c));
        assert!(legal(NH_VA | NUM1, 0x4000 | TG_16K | TTL[1], &c));
        assert!(legal(NH_VA, 0x4000 | TG_16K | TTL[1], &QueueCaps { ds: true, ..c }));
    }

    #[test]
    fn ttl128_needs_d128_and_a_level_hint() {
        let c = qemu_ns();
        assert!(!legal(NH_VA, 0x1000 | TG_4K | TTL[3] | TTL128, &c));
        let d128 = QueueCaps { d128: true, ..c };
        assert!(legal(NH_VA, 0x1000 | TG_4K | TTL[3] | TTL128, &d128));
        assert!(!legal(NH_VA | NUM1, 0x1000 | TG_4K | TTL128, &d128));
    }

    #[test]
    fn range_rules_apply_to_every_address_based_tlbi() {
        let c = everything();
        for opcode in [0x12, 0x13, 0x1a, 0x22, 0x23, 0x2a, 0x52, 0x53, 0x5a] {
            assert!(legal(opcode, 0x1000 | TG_4K | TTL[3], &c), "opcode {opcode:#x}");
            assert!(!legal(opcode, 0x1000 | TG_4K, &c), "opcode {opcode:#x}");
        }
    }

    #[test]
    fn range_rules_do_not_apply_to_tlbis_without_an_address() {
        // TLBI_NH_ASID has no TG/NUM fields: its dword 1 is RES0 and ignored.
        assert!(legal(0x11 | 2 << 48, TG_4K, &qemu_ns()));
    }

    // -----------------------------------------------------------------------------------------
    // Consumption.

    const Q: u64 = 0x4801_0000;
    const SQ: u64 = 0x0e01_0000;

    impl Rig {
        /// Writes command `index` of a queue at `base` in `pas`.
        fn put_at(&mut self, base: u64, pas: Pas, index: u64, w0: u64, w1: u64) {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&w0.to_le_bytes());
            bytes[8..].copy_from_slice(&w1.to_le_bytes());
            self.mem.write(base + 16 * index, pas, &bytes).unwrap();
        }
        fn put(&mut self, index: u64, w0: u64, w1: u64) {
            self.put_at(Q, Pas::NonSecure, index, w0, w1);
        }
        /// CMDQ_BASE = `base` | LOG2SIZE, then CR0.CMDQEN.
        fn enable_at(&mut self, base: u64, log2size: u64) {
            self.w64(0x90, base | log2size);
            self.w32(0x20, 0x8);
        }
        fn enable(&mut self, log2size: u64) {
            self.enable_at(Q, log2size);
        }
        fn prod(&mut self, value: u64) {
            self.w32(0x98, value);
        }
        fn cons(&mut self) -> u64 {
            self.r32(0x9c)
        }
        fn gerror(&mut self) -> u64 {
            self.r32(0x60)
        }
        fn commands(&self) -> Vec<u32> {
            self.trace
                .events
                .iter()
                .filter_map(|e| match e {
                    TraceEvent::Command { index, .. } => Some(*index),
                    _ => None,
                })
                .collect()
        }
        fn msis(&self) -> Vec<(u64, u32, Pas)> {
            self.trace
                .events
                .iter()
                .filter_map(|e| match e {
                    TraceEvent::Msi { addr, data, pas, .. } => Some((*addr, *data, *pas)),
                    _ => None,
                })
                .collect()
        }
        fn word(&mut self, pa: u64, pas: Pas) -> [u8; 4] {
            let mut word = [0u8; 4];
            self.mem.read(pa, pas, &mut word).unwrap();
            word
        }
    }

    fn qemu() -> Rig {
        Rig::new(SmmuConfig::qemu_virt())
    }

    const NO_IRQS: Vec<u8> = Vec::new();

    #[test]
    fn cmd_sync_sig_none_is_consumed_without_a_signal() {
        let mut rig = qemu();
        rig.put(0, SYNC_NONE, 0);
        rig.enable(4);
        rig.prod(1);
        assert_eq!(rig.cons(), 1);
        assert_eq!(rig.smmu.take_irqs(), NO_IRQS);
    }

    #[test]
    fn cmd_sync_sig_irq_pulses_the_cmdq_sync_line_regardless_of_irq_ctrl() {
        let mut rig = qemu();
        rig.put(0, SYNC_IRQ, 0);
        rig.enable(4);
        rig.prod(1);
        assert_eq!(rig.cons(), 1);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_CMDQ_SYNC]);
    }

    #[test]
    fn cmd_sync_msi_fields_are_ignored_without_msi() {
        let mut rig = qemu();
        rig.put(0, SYNC_IRQ | 0xdead_beef << 32, 0x4000_1000);
        rig.enable(4);
        rig.prod(1);
        assert_eq!(rig.msis(), vec![]);
        assert_eq!(rig.word(0x4000_1000, Pas::NonSecure), [0; 4]);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_CMDQ_SYNC]);
    }

    #[test]
    fn cmd_sync_with_msi_writes_msidata_to_msiaddr_and_pulses_the_wired_line() {
        let mut rig = Rig::new(SmmuConfig::full());
        rig.put(0, SYNC_IRQ | 0xdead_beef << 32, 0x4000_1000);
        rig.enable(4);
        rig.prod(1);
        assert_eq!(rig.word(0x4000_1000, Pas::NonSecure), [0xef, 0xbe, 0xad, 0xde]);
        assert_eq!(rig.msis(), vec![(0x4000_1000, 0xdead_beef, Pas::NonSecure)]);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_CMDQ_SYNC]);
        assert_eq!(rig.cons(), 1);
    }

    #[test]
    fn cmd_sync_with_msiaddr_zero_sends_no_msi() {
        let mut rig = Rig::new(SmmuConfig::full());
        rig.put(0, SYNC_IRQ | 0x1234 << 32, 0);
        rig.enable(4);
        rig.prod(1);
        assert_eq!(rig.msis(), vec![]);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_CMDQ_SYNC]);
    }

    #[test]
    fn cmd_sync_msi_address_is_truncated_to_the_oas() {
        // full: OAS 48 bits. MSIAddr bit 50 is above it.
        let mut rig = Rig::new(SmmuConfig::full());
        rig.put(0, SYNC_IRQ | 0x55 << 32, 1 << 50 | 0x4000_2000);
        rig.enable(4);
        rig.prod(1);
        assert_eq!(rig.msis(), vec![(0x4000_2000, 0x55, Pas::NonSecure)]);
    }

    #[test]
    fn cmd_sync_msi_abort_activates_msi_cmdq_abt_err_and_consumption_goes_on() {
        let mut rig = Rig::new(SmmuConfig::full());
        rig.w32(0x50, 0x1);
        rig.put(0, SYNC_IRQ | 0x1 << 32, 0x1000);
        rig.put(1, SYNC_NONE, 0);
        rig.enable(4);
        rig.prod(2);
        assert_eq!(rig.gerror(), 0x10);
        assert_eq!(rig.cons(), 2);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_GERROR, irq::NS_CMDQ_SYNC]);
    }

    #[test]
    fn cmd_sync_sig_sev_without_sev_signals_nothing() {
        let mut rig = qemu();
        rig.put(0, SYNC_SEV, 0);
        rig.enable(4);
        rig.prod(1);
        assert_eq!(rig.cons(), 1);
        assert_eq!(rig.smmu.take_irqs(), NO_IRQS);
    }

    #[test]
    fn an_illegal_command_stops_consumption_with_cerror_ill() {
        let mut rig = qemu();
        rig.w32(0x50, 0x1);
        rig.put(0, SYNC_IRQ, 0);
        rig.put(1, 0x07, 0);
        rig.put(2, SYNC_IRQ, 0);
        rig.enable(4);
        rig.prod(3);
        assert_eq!(rig.cons(), 0x0100_0001);
        assert_eq!(rig.gerror(), 0x1);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_CMDQ_SYNC, irq::NS_GERROR]);
        assert_eq!(rig.commands(), vec![0, 1]);
    }

    #[test]
    fn the_gerror_line_pulses_only_with_gerror_irqen() {
        let mut rig = qemu();
        rig.put(0, 0x00, 0);
        rig.enable(4);
        rig.prod(1);
        assert_eq!(rig.gerror(), 0x1);
        assert_eq!(rig.smmu.take_irqs(), NO_IRQS);
    }

    #[test]
    fn an_unbacked_queue_gives_cerror_abt() {
        let mut rig = qemu();
        rig.enable_at(0x1000_0000, 4);
        rig.prod(1);
        assert_eq!(rig.cons(), 0x0200_0000);
        assert_eq!(rig.gerror(), 0x1);
    }

    #[test]
    fn the_non_secure_queue_reads_in_the_non_secure_pas() {
        let mut rig = Rig::new(SmmuConfig::full());
        rig.put_at(SQ, Pas::Secure, 0, SYNC_IRQ, 0);
        rig.enable_at(SQ, 4);
        rig.prod(1);
        assert_eq!(rig.cons(), 0x0200_0000);
    }

    #[test]
    fn acknowledging_without_a_fix_runs_the_command_again() {
        let mut rig = qemu();
        rig.w32(0x50, 0x1);
        rig.put(0, 0x07, 0);
        rig.enable(4);
        rig.prod(1);
        rig.smmu.take_irqs();
        rig.w32(0x64, 0x1);
        assert_eq!(rig.gerror(), 0x0);
        assert_eq!(rig.r32(0x64), 0x1);
        assert_eq!(rig.cons(), 0x0100_0000);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_GERROR]);
    }

    #[test]
    fn fixing_the_command_and_acknowledging_resumes_consumption() {
        let mut rig = qemu();
        rig.put(0, 0x07, 0);
        rig.put(1, SYNC_IRQ, 0);
        rig.enable(4);
        rig.prod(2);
        rig.put(0, SYNC_NONE, 0);
        rig.w32(0x64, 0x1);
        // ERR keeps its last value: it is UNKNOWN while no error is active.
        assert_eq!(rig.cons(), 0x0100_0002);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_CMDQ_SYNC]);
        assert_eq!(rig.gerror(), rig.r32(0x64));
    }

    #[test]
    fn skipping_a_command_by_moving_cons_on_v3_2_needs_cmdqen_clear() {
        let mut rig = Rig::new(SmmuConfig::full());
        rig.put(0, 0x07, 0);
        rig.put(1, SYNC_IRQ, 0);
        rig.enable(4);
        rig.prod(2);
        // Guarded: ignored while CMDQEN=1.
        rig.w32(0x9c, 0x1);
        assert_eq!(rig.cons(), 0x0100_0000);
        rig.w32(0x20, 0x0);
        rig.w32(0x9c, 0x1);
        rig.w32(0x20, 0x8);
        assert_eq!(rig.smmu.take_irqs(), NO_IRQS, "the error is still active");
        rig.w32(0x64, 0x1);
        assert_eq!(rig.cons(), 0x2);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_CMDQ_SYNC]);
    }

    #[test]
    fn nothing_is_consumed_while_cmdqen_is_clear() {
        let mut rig = qemu();
        rig.put(0, SYNC_IRQ, 0);
        rig.w64(0x90, Q | 4);
        rig.prod(1);
        assert_eq!(rig.cons(), 0);
        rig.w32(0x20, 0x8);
        assert_eq!(rig.cons(), 1);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_CMDQ_SYNC]);
    }

    #[test]
    fn nothing_is_consumed_while_cmdq_err_is_active() {
        let mut rig = qemu();
        rig.put(0, 0x07, 0);
        rig.put(1, SYNC_IRQ, 0);
        rig.enable(4);
        rig.prod(1);
        rig.prod(2);
        assert_eq!(rig.cons(), 0x0100_0000);
        assert_eq!(rig.commands(), vec![0]);
    }

    #[test]
    fn cons_wraps_with_the_wrap_bit() {
        let mut rig = qemu();
        rig.put(0, SYNC_NONE, 0);
        rig.put(1, SYNC_NONE, 0);
        rig.enable(1);
        rig.prod(0b10);
        assert_eq!(rig.cons(), 0b10);
        rig.prod(0b11);
        assert_eq!(rig.cons(), 0b11);
        rig.prod(0b00);
        assert_eq!(rig.cons(), 0b00);
        assert_eq!(rig.commands(), vec![0, 1, 0, 1]);
    }

    #[test]
    fn a_full_queue_is_consumed_in_one_kick() {
        let mut rig = qemu();
        for i in 0..4 {
            rig.put(i, SYNC_IRQ, 0);
        }
        rig.enable(2);
        // Wrap bit set, index 0: four commands.
        rig.prod(0b100);
        assert_eq!(rig.cons(), 0b100);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_CMDQ_SYNC; 4]);
    }

    #[test]
    fn one_kick_consumes_at_most_one_queue_of_commands() {
        let mut rig = qemu();
        for i in 0..4 {
            rig.put(i, SYNC_NONE, 0);
        }
        rig.enable(2);
        // PROD five entries ahead of CONS in a four-entry queue (software error): one kick
        // consumes four, the next kick the fifth.
        rig.prod(0b101);
        assert_eq!(rig.cons(), 0b100);
        rig.prod(0b101);
        assert_eq!(rig.cons(), 0b101);
    }

    #[test]
    fn log2size_is_capped_at_idr1_cmdqs() {
        // IDR1.CMDQS [25:21] = 2: four slots, whatever CMDQ_BASE.LOG2SIZE says.
        let cfg = SmmuConfig { idr1: 0x0053_0010, ..SmmuConfig::qemu_virt() };
        let mut rig = Rig::new(cfg);
        for i in 0..4 {
            rig.put(i, SYNC_IRQ, 0);
        }
        rig.put(4, 0x00, 0);
        rig.enable(5);
        assert_eq!(rig.r64(0x90), Q | 5, "LOG2SIZE reads back as written");
        // Wrap bit (bit 2) set, index 0: slots 0-3. Uncapped, 0b100 would be index 4.
        rig.prod(0b100);
        assert_eq!(rig.cons(), 0b100);
        rig.prod(0b101);
        assert_eq!(rig.cons(), 0b101);
        assert_eq!(rig.gerror(), 0);
        assert_eq!(rig.commands(), vec![0, 1, 2, 3, 0]);
    }

    #[test]
    fn the_queue_base_is_aligned_to_the_queue_size() {
        let mut rig = qemu();
        rig.put(0, SYNC_IRQ, 0);
        // 16 entries = 256 bytes: ADDR bits [7:5] are ignored.
        rig.enable_at(Q | 0xe0, 4);
        rig.prod(1);
        assert_eq!(rig.cons(), 1);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::NS_CMDQ_SYNC]);
    }

    #[test]
    fn commands_are_traced_with_their_index_and_words() {
        let mut rig = qemu();
        rig.put(0, SYNC_NONE, 0);
        rig.put(1, 0x30, 0x1234);
        rig.enable(4);
        rig.prod(2);
        let commands: Vec<_> =
            rig.trace.events.iter().filter(|e| matches!(e, TraceEvent::Command { .. })).collect();
        let expected = [
            TraceEvent::Command { sec_sid: SecSid::NonSecure, index: 0, raw: [SYNC_NONE, 0] },
            TraceEvent::Command { sec_sid: SecSid::NonSecure, index: 1, raw: [0x30, 0x1234] },
        ];
        assert_eq!(commands, expected.iter().collect::<Vec<_>>());
    }

    #[test]
    fn ssec_on_the_non_secure_queue_is_cerror_ill() {
        let mut rig = qemu();
        rig.put(0, 0x03 | SSEC | 8 << 32, 1);
        rig.enable(4);
        rig.prod(1);
        assert_eq!(rig.cons(), 0x0100_0000);
    }

    #[test]
    fn the_secure_queue_reads_secure_memory_and_signals_secure_lines() {
        let mut rig = Rig::new(SmmuConfig::full());
        rig.put_at(SQ, Pas::Secure, 0, SYNC_IRQ, 0);
        rig.put_at(SQ, Pas::Secure, 1, 0x07, 0);
        rig.ws(0x8050, 0x1);
        rig.write(0x8090, 8, SQ | 4, Pas::Secure).unwrap();
        rig.ws(0x8020, 0x8);
        rig.ws(0x8098, 2);
        assert_eq!(rig.rs(0x809c), 0x0100_0001);
        assert_eq!(rig.rs(0x8060), 0x1);
        assert_eq!(rig.smmu.take_irqs(), vec![irq::S_CMDQ_SYNC, irq::S_GERROR]);
        assert_eq!(rig.gerror(), 0, "the Non-secure interface is untouched");
    }

    #[test]
    fn a_secure_cmd_sync_msi_goes_to_the_secure_pas() {
        let mut rig = Rig::new(SmmuConfig::full());
        rig.put_at(SQ, Pas::Secure, 0, SYNC_IRQ | 0x7 << 32, 0x0e00_0100);
        rig.write(0x8090, 8, SQ | 4, Pas::Secure).unwrap();
        rig.ws(0x8020, 0x8);
        rig.ws(0x8098, 1);
        assert_eq!(rig.msis(), vec![(0x0e00_0100, 0x7, Pas::Secure)]);
        assert_eq!(rig.word(0x0e00_0100, Pas::Secure), [7, 0, 0, 0]);
    }
}
