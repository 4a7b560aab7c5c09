//! What each register does: read values, write masks, Guards and update protocols of the
//! Non-secure page 0 / page 1 registers and the Secure page (IHI 0070 §6.3).
//!
//! Updates complete synchronously: a write to CR0, IRQ_CTRL or GBPA is acknowledged (CR0ACK,
//! IRQ_CTRLACK, GBPA.Update == 0) before the write returns.

use super::Effect;
use super::map::Reg;
use crate::spec::cmd::CMD_SIZE;
use crate::spec::regs::QueueBase;
use crate::spec::regs::{
    Aidr, CMDQ_CONS_ERR_MASK, Cr0, Cr1, Cr2, GBPA_MASK, Gbpa, ID_BLOCK_WORDS, IRQ_CFG0_ADDR_MASK,
    IRQ_CFG2_MASK, Idr0, IrqCtrl, PRIQ_ENTRY_SIZE, Q_IDX_MASK, Q_OVERFLOW_FLAG, QUEUE_BASE_MASK,
    S_GBPA_MASK, SIdr0, SInit, STRTAB_BASE_CFG_MASK, STRTAB_BASE_MASK, gerror, queue_index_mask,
    stall_model,
};
use crate::trace::TraceSink;
use crate::{Queue, SecSid, Smmu};

impl Smmu {
    /// SMMU_IDR0 as the Non-secure interface sees it: STALL_MODEL reads 0b01 while
    /// SMMU_S_CR0.NSSTALLD is in effect.
    pub(crate) fn ns_idr0(&self) -> Idr0 {
        let mut idr0 = self.cfg.idr0();
        if self.cfg.secure_impl && self.banks[SecSid::Secure.index()].cr0().nsstalld() {
            idr0.set_stall_model(stall_model::TERMINATE_ONLY);
        }
        idr0
    }

    /// SMMU_S_IDR0: the physical stall model and MSI support (no ECMDQ).
    pub(crate) fn s_idr0(&self) -> SIdr0 {
        let idr0 = self.cfg.idr0();
        let mut s = SIdr0(0);
        s.set_stall_model(idr0.stall_model());
        s.set_msi(idr0.msi());
        s
    }

    /// Whether the interface can send MSIs (SMMU_IDR0.MSI / SMMU_S_IDR0.MSI).
    pub(crate) fn msi_impl(&self, sec: SecSid) -> bool {
        match sec {
            SecSid::Secure => self.s_idr0().msi(),
            _ => self.cfg.idr0().msi(),
        }
    }

    /// SMMUv3.2 and later IGNORE writes to Guarded registers while their guard is set; v3.1
    /// and earlier may instead let the register "take on any value". This model stores the
    /// written value there, as QEMU (which advertises v3.1) does.
    fn guards_ignore_writes(&self) -> bool {
        let aidr = Aidr(self.cfg.aidr);
        aidr.arch_major_rev() != 0 || aidr.arch_minor_rev() >= 2
    }

    /// Whether a write to a register Guarded by a flag that is `enabled` takes effect.
    fn guard_open(&self, enabled: bool) -> bool {
        !enabled || !self.guards_ignore_writes()
    }

    /// Implemented CR0 / S_CR0 bits: the rest are RES0, stored as zero and not acknowledged.
    pub(crate) fn cr0_mask(&self, sec: SecSid) -> u32 {
        let idr0 = self.cfg.idr0();
        let mut m = Cr0(0);
        m.set_smmuen(true);
        m.set_eventqen(true);
        m.set_cmdqen(true);
        if idr0.vmw() {
            m.set_vmw(0b111);
        }
        match sec {
            SecSid::Secure => {
                m.set_sif(true);
                m.set_nsstalld(self.s_idr0().stall_model() == stall_model::STALL_AND_TERMINATE);
            }
            _ => {
                m.set_priqen(idr0.pri());
                m.set_atschk(idr0.ats());
                m.set_dpt_walk_en(self.cfg.idr3().dpt());
            }
        }
        m.0
    }

    /// Implemented CR2 / S_CR2 bits.
    fn cr2_mask(&self, sec: SecSid) -> u32 {
        let idr0 = self.cfg.idr0();
        let mut m = Cr2(0);
        m.set_recinvsid(true);
        m.set_ptm(idr0.btm());
        match sec {
            SecSid::Secure => m.set_e2h(idr0.hyp() && self.cfg.s_idr1().sel2()),
            _ => {
                m.set_e2h(idr0.hyp());
                m.set_rec_cfg_ats(idr0.atsrecerr());
            }
        }
        m.0
    }

    /// Implemented IRQ_CTRL / S_IRQ_CTRL bits.
    fn irq_ctrl_mask(&self, sec: SecSid) -> u32 {
        let mut m = IrqCtrl(0);
        m.set_gerror_irqen(true);
        m.set_eventq_irqen(true);
        m.set_priq_irqen(sec == SecSid::NonSecure && self.cfg.idr0().pri());
        m.0
    }

    /// The GERROR / GERRORN bits defined for an interface.
    pub(crate) fn gerror_mask(&self, sec: SecSid) -> u32 {
        let idr0 = self.cfg.idr0();
        let mut m = gerror::CMDQ_ERR | gerror::EVENTQ_ABT_ERR | gerror::SFM_ERR;
        if self.msi_impl(sec) {
            m |= gerror::MSI_CMDQ_ABT_ERR | gerror::MSI_EVENTQ_ABT_ERR | gerror::MSI_GERROR_ABT_ERR;
        }
        if sec == SecSid::NonSecure {
            if idr0.pri() {
                m |= gerror::PRIQ_ABT_ERR;
                if idr0.msi() {
                    m |= gerror::MSI_PRIQ_ABT_ERR;
                }
            }
            if self.cfg.idr1().ecmdq() {
                m |= gerror::CMDQP_ERR;
            }
            if self.cfg.idr3().dpt() {
                m |= gerror::DPT_ERR;
            }
        }
        m
    }

    /// Where the command queue of an interface is: `(base address, effective LOG2SIZE)`.
    pub(crate) fn cmdq_geometry(&self, sec: SecSid) -> (u64, u32) {
        QueueBase(self.banks[sec.index()].cmdq.base).effective(CMD_SIZE, self.cfg.idr1().cmdqs())
    }

    /// Index-and-wrap bits of the PROD/CONS registers of each queue of an interface, for its
    /// current effective LOG2SIZE: the bits above the wrap bit are RAZ (§6.3.31 and
    /// siblings), whatever was written and however LOG2SIZE changed since.
    fn queue_index_masks(&self, sec: SecSid) -> [u32; 3] {
        let b = &self.banks[sec.index()];
        let idr1 = self.cfg.idr1();
        [
            queue_index_mask(self.cmdq_geometry(sec).1),
            queue_index_mask(self.eventq_geometry(sec).1),
            queue_index_mask(QueueBase(b.priq.base).effective(PRIQ_ENTRY_SIZE, idr1.priqs()).1),
        ]
    }

    /// The value a read of `reg` returns (the whole register for 64-bit ones).
    pub(crate) fn read_reg(&self, sec: SecSid, reg: Reg) -> u64 {
        let secure = sec == SecSid::Secure;
        let b = &self.banks[sec.index()];
        let [cmdq_idx, eventq_idx, priq_idx] = self.queue_index_masks(sec);
        let v32 = match reg {
            Reg::Idr0 if secure => self.s_idr0().0,
            Reg::Idr0 => self.ns_idr0().0,
            Reg::Idr1 if secure => self.cfg.s_idr1().0,
            Reg::Idr1 => self.cfg.idr1,
            Reg::Idr2 | Reg::Idr3 | Reg::Idr4 if secure => 0,
            Reg::Idr2 => self.cfg.idr2,
            Reg::Idr3 => self.cfg.idr3,
            Reg::Idr4 => self.cfg.idr4,
            Reg::Idr5 => self.cfg.idr5,
            Reg::Iidr => self.cfg.iidr,
            Reg::Aidr => self.cfg.aidr,
            Reg::Cr0 => b.cr0,
            Reg::Cr0Ack => b.cr0ack,
            Reg::Cr1 => b.cr1,
            Reg::Cr2 => b.cr2,
            // INV_ALL completes before the write that sets it returns.
            Reg::Init => 0,
            // No DORMHINT: DORMANT is RES0.
            Reg::Statusr => 0,
            Reg::Gbpa => b.gbpa,
            Reg::Agbpa => 0,
            Reg::IrqCtrl => b.irq_ctrl,
            Reg::IrqCtrlAck => b.irq_ctrlack,
            Reg::Gerror => b.gerror,
            Reg::Gerrorn => b.gerrorn,
            Reg::GerrorIrqCfg0 => return b.gerror_irq_cfg0,
            Reg::GerrorIrqCfg1 => b.gerror_irq_cfg1,
            Reg::GerrorIrqCfg2 => b.gerror_irq_cfg2,
            Reg::StrtabBase => return b.strtab_base,
            Reg::StrtabBaseCfg => b.strtab_base_cfg,
            Reg::CmdqBase => return b.cmdq.base,
            Reg::CmdqProd => b.cmdq.prod & cmdq_idx,
            Reg::CmdqCons => b.cmdq.cons & (CMDQ_CONS_ERR_MASK | cmdq_idx),
            Reg::EventqBase => return b.eventq.base,
            Reg::EventqProd => b.eventq.prod & (Q_OVERFLOW_FLAG | eventq_idx),
            Reg::EventqCons => b.eventq.cons & (Q_OVERFLOW_FLAG | eventq_idx),
            Reg::EventqIrqCfg0 => return b.eventq.irq_cfg0,
            Reg::EventqIrqCfg1 => b.eventq.irq_cfg1,
            Reg::EventqIrqCfg2 => b.eventq.irq_cfg2,
            Reg::PriqBase => return b.priq.base,
            Reg::PriqProd => b.priq.prod & (Q_OVERFLOW_FLAG | priq_idx),
            Reg::PriqCons => b.priq.cons & (Q_OVERFLOW_FLAG | priq_idx),
            Reg::PriqIrqCfg0 => return b.priq.irq_cfg0,
            Reg::PriqIrqCfg1 => b.priq.irq_cfg1,
            Reg::PriqIrqCfg2 => b.priq.irq_cfg2,
            Reg::IdBlock(n) => ID_BLOCK_WORDS.get(usize::from(n)).copied().unwrap_or(0),
        };
        u64::from(v32)
    }

    /// Writes the whole register `reg` (halves of 64-bit registers are merged by the caller)
    /// and says what must happen next.
    pub(crate) fn write_reg<T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        reg: Reg,
        value: u64,
        trace: &mut T,
    ) -> Effect {
        let v32 = value as u32;
        let i = sec.index();
        let cr0 = Cr0(self.banks[i].cr0 | self.banks[i].cr0ack);
        let irq = IrqCtrl(self.banks[i].irq_ctrl | self.banks[i].irq_ctrlack);
        match reg {
            // Read-only registers.
            Reg::Idr0
            | Reg::Idr1
            | Reg::Idr2
            | Reg::Idr3
            | Reg::Idr4
            | Reg::Idr5
            | Reg::Iidr
            | Reg::Aidr
            | Reg::Cr0Ack
            | Reg::Statusr
            | Reg::IrqCtrlAck
            | Reg::Gerror
            | Reg::IdBlock(_) => {}
            // IMPLEMENTATION DEFINED attributes: none are implemented, so RES0.
            Reg::Agbpa => {}
            Reg::Cr0 => {
                let v = v32 & self.cr0_mask(sec);
                let b = &mut self.banks[i];
                b.cr0 = v;
                b.cr0ack = v;
                if Cr0(v).cmdqen() {
                    return Effect::ConsumeCmdq;
                }
            }
            Reg::Cr1 => {
                let mut table = Cr1(0);
                table.set_table_ic(0b11);
                table.set_table_oc(0b11);
                table.set_table_sh(0b11);
                let mut queue = Cr1(0);
                queue.set_queue_ic(0b11);
                queue.set_queue_oc(0b11);
                queue.set_queue_sh(0b11);
                let queues_on = cr0.cmdqen() || cr0.eventqen() || cr0.priqen();
                let mut writable = 0;
                if self.guard_open(cr0.smmuen()) {
                    writable |= table.0;
                }
                if self.guard_open(queues_on) {
                    writable |= queue.0;
                }
                let b = &mut self.banks[i];
                b.cr1 = (b.cr1 & !writable) | (v32 & writable);
            }
            Reg::Cr2 => {
                // Read-only once SMMUEN is set, in every version.
                if !cr0.smmuen() {
                    self.banks[i].cr2 = v32 & self.cr2_mask(sec);
                }
            }
            Reg::Init => {
                if SInit(v32).inv_all() {
                    // The invalidation is complete at once.
                    self.invalidate_all(trace);
                }
            }
            Reg::Gbpa => {
                // Only a write with Update=1 counts (the only v3.2 behaviour, a permitted one
                // before); the update completes at once, so Update reads back 0.
                if Gbpa(v32).update() {
                    let mask = if sec == SecSid::Secure { S_GBPA_MASK } else { GBPA_MASK };
                    self.banks[i].gbpa = v32 & mask;
                }
            }
            Reg::IrqCtrl => {
                let v = v32 & self.irq_ctrl_mask(sec);
                let b = &mut self.banks[i];
                b.irq_ctrl = v;
                b.irq_ctrlack = v;
            }
            Reg::Gerrorn => {
                self.banks[i].gerrorn = v32 & self.gerror_mask(sec);
                return Effect::ConsumeCmdq;
            }
            Reg::GerrorIrqCfg0 | Reg::GerrorIrqCfg1 | Reg::GerrorIrqCfg2 => {
                if self.guard_open(irq.gerror_irqen()) {
                    let b = &mut self.banks[i];
                    match reg {
                        Reg::GerrorIrqCfg0 => b.gerror_irq_cfg0 = value & IRQ_CFG0_ADDR_MASK,
                        Reg::GerrorIrqCfg1 => b.gerror_irq_cfg1 = v32,
                        _ => b.gerror_irq_cfg2 = v32 & IRQ_CFG2_MASK,
                    }
                }
            }
            Reg::StrtabBase => {
                if self.guard_open(cr0.smmuen()) {
                    self.banks[i].strtab_base = value & STRTAB_BASE_MASK;
                }
            }
            Reg::StrtabBaseCfg => {
                if self.guard_open(cr0.smmuen()) {
                    self.banks[i].strtab_base_cfg = v32 & STRTAB_BASE_CFG_MASK;
                }
            }
            Reg::CmdqBase => {
                if self.guard_open(cr0.cmdqen()) {
                    self.banks[i].cmdq.base = value & QUEUE_BASE_MASK;
                }
            }
            Reg::CmdqProd => {
                self.banks[i].cmdq.prod = v32 & Q_IDX_MASK;
                return Effect::ConsumeCmdq;
            }
            Reg::CmdqCons => {
                if self.guard_open(cr0.cmdqen()) {
                    // ERR takes the written value (permitted); RD bits above the wrap bit are
                    // RAZ.
                    let idx = queue_index_mask(self.cmdq_geometry(sec).1);
                    self.banks[i].cmdq.cons = v32 & (CMDQ_CONS_ERR_MASK | idx);
                }
            }
            Reg::EventqBase => {
                if self.guard_open(cr0.eventqen()) {
                    self.banks[i].eventq.base = value & QUEUE_BASE_MASK;
                }
            }
            Reg::EventqProd => {
                if self.guard_open(cr0.eventqen()) {
                    self.banks[i].eventq.prod = v32 & (Q_OVERFLOW_FLAG | Q_IDX_MASK);
                }
            }
            Reg::EventqCons => self.banks[i].eventq.cons = v32 & (Q_OVERFLOW_FLAG | Q_IDX_MASK),
            Reg::PriqBase => {
                if self.guard_open(cr0.priqen()) {
                    self.banks[i].priq.base = value & QUEUE_BASE_MASK;
                }
            }
            Reg::PriqProd => {
                if self.guard_open(cr0.priqen()) {
                    self.banks[i].priq.prod = v32 & (Q_OVERFLOW_FLAG | Q_IDX_MASK);
                }
            }
            Reg::PriqCons => self.banks[i].priq.cons = v32 & (Q_OVERFLOW_FLAG | Q_IDX_MASK),
            Reg::EventqIrqCfg0 | Reg::EventqIrqCfg1 | Reg::EventqIrqCfg2 => {
                if self.guard_open(irq.eventq_irqen()) {
                    write_irq_cfg(&mut self.banks[i].eventq, reg, value);
                }
            }
            Reg::PriqIrqCfg0 | Reg::PriqIrqCfg1 | Reg::PriqIrqCfg2 => {
                if self.guard_open(irq.priq_irqen()) {
                    write_irq_cfg(&mut self.banks[i].priq, reg, value);
                }
            }
        }
        Effect::None
    }
}

/// Stores one of a queue's IRQ_CFG0/1/2 registers, keeping only architected bits.
fn write_irq_cfg(queue: &mut Queue, reg: Reg, value: u64) {
    match reg {
        Reg::EventqIrqCfg0 | Reg::PriqIrqCfg0 => queue.irq_cfg0 = value & IRQ_CFG0_ADDR_MASK,
        Reg::EventqIrqCfg1 | Reg::PriqIrqCfg1 => queue.irq_cfg1 = value as u32,
        _ => queue.irq_cfg2 = value as u32 & IRQ_CFG2_MASK,
    }
}
