//! The state of one programming interface (Non-secure, Secure or Realm): raw register values.
//!
//! Register decode and the update protocols live in `regs`; the translation pipeline reads the
//! values through the typed views in `spec::regs`.

use crate::spec::regs::{Cr0, Cr2, GBPA_RESET, Gbpa, IrqCtrl, StrtabBaseCfg};

/// One queue's registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Queue {
    pub base: u64,
    pub prod: u32,
    pub cons: u32,
    pub irq_cfg0: u64,
    pub irq_cfg1: u32,
    pub irq_cfg2: u32,
}

/// One interface's registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bank {
    pub cr0: u32,
    pub cr0ack: u32,
    pub cr1: u32,
    pub cr2: u32,
    pub gbpa: u32,
    pub agbpa: u32,
    pub irq_ctrl: u32,
    pub irq_ctrlack: u32,
    pub gerror: u32,
    pub gerrorn: u32,
    pub gerror_irq_cfg0: u64,
    pub gerror_irq_cfg1: u32,
    pub gerror_irq_cfg2: u32,
    pub strtab_base: u64,
    pub strtab_base_cfg: u32,
    pub cmdq: Queue,
    pub eventq: Queue,
    pub priq: Queue,
}

impl Bank {
    /// Register values after reset.
    pub fn reset_value() -> Self {
        Bank { gbpa: GBPA_RESET, ..Default::default() }
    }

    /// CR0 as acknowledged (the configuration in effect).
    pub fn cr0(&self) -> Cr0 {
        Cr0(self.cr0ack)
    }

    pub fn cr2(&self) -> Cr2 {
        Cr2(self.cr2)
    }

    pub fn gbpa(&self) -> Gbpa {
        Gbpa(self.gbpa)
    }

    pub fn irq_ctrl(&self) -> IrqCtrl {
        IrqCtrl(self.irq_ctrlack)
    }

    pub fn strtab_base_cfg(&self) -> StrtabBaseCfg {
        StrtabBaseCfg(self.strtab_base_cfg)
    }

    /// Global errors currently active (GERROR xor GERRORN).
    pub fn active_gerrors(&self) -> u32 {
        self.gerror ^ self.gerrorn
    }
}
