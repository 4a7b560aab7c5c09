//! A cycle-agnostic functional model of the Arm SMMUv3 (IHI 0070).
//!
//! Every DMA is one synchronous call to [`Smmu::translate`]; nothing depends on time. The model
//! owns no memory: tables are read and events written through [`mem::PhysMem`].
#![forbid(unsafe_code)]

pub mod bank;
pub mod config;
pub mod mem;
pub mod pas;
pub mod spec;
pub mod trace;
pub mod walk;

pub use bank::{Bank, Queue};
pub use config::{CachePolicy, Preset, SmmuConfig};
pub use mem::{BusError, PhysMem, SparseMem, Window};
pub use pas::{Pas, SecSid};
pub use trace::{NoTrace, Perms, TraceEvent, TraceSink, VecTrace};

/// A DMA transaction presented to the SMMU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Txn {
    /// Security state of the stream: selects the programming interface.
    pub sec_sid: SecSid,
    pub sid: u32,
    /// SubstreamID, when the transaction carries one (SSV=1).
    pub ssid: Option<u32>,
    /// Input NS attribute. For Non-secure streams it is always NS; for Secure streams it says
    /// NS vs Secure, for Realm streams NS vs Realm.
    pub ns: bool,
    /// Read (true) or write (false).
    pub rnw: bool,
    /// Privileged (true) or unprivileged.
    pub pnu: bool,
    /// Instruction (true) or data.
    pub ind: bool,
    pub iova: u64,
    /// Bytes the master wants to move from `iova`.
    pub len: u64,
}

impl Txn {
    /// A Non-secure data access without a SubstreamID.
    pub fn ns(sid: u32, iova: u64, len: u64, rnw: bool) -> Txn {
        Txn {
            sec_sid: SecSid::NonSecure,
            sid,
            ssid: None,
            ns: true,
            rnw,
            pnu: false,
            ind: false,
            iova,
            len,
        }
    }
}

/// A successful translation: where `iova` goes and how far the mapping extends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Translation {
    /// The physical address of `iova`.
    pub pa: u64,
    /// The output PAS.
    pub pas: Pas,
    pub perms: Perms,
    /// Size of the naturally aligned mapping (page, block, or bypass granule) holding `iova`.
    pub size: u64,
}

impl Translation {
    /// Bytes from `iova` to the end of its mapping.
    pub fn bytes_left(&self, iova: u64) -> u64 {
        self.size - (iova & (self.size - 1))
    }
}

/// Why a transaction was aborted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AbortReason {
    /// SMMUEN=0 and GBPA.ABORT=1 (no event).
    GlobalBypassAbort,
    /// STE.Config=0b000 or a reserved 0b0xx value (no event).
    ConfigAbort,
    /// A configuration or translation fault; the event type (whether or not it was recorded).
    Fault(u8),
    /// The output failed the granule protection check (no event).
    GpcFault,
    /// The SMMU is not allowed to make accesses (ROOT_CR0.ACCESSEN=0).
    AccessDisabled,
}

/// An aborted transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Abort {
    pub reason: AbortReason,
    /// The event type of the record this transaction produced, if one was produced.
    pub event: Option<u8>,
}

/// A wired interrupt line of the SMMU (numbering of DESIGN.md; 0-3 as QEMU).
pub mod irq {
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

    use crate::SecSid;

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
}

/// The SMMU: configuration, one register bank per programming interface, and pending
/// interrupt pulses. Register access lives in `regs`, translation in `translate`.
#[derive(Clone, Debug)]
pub struct Smmu {
    pub(crate) cfg: SmmuConfig,
    /// Indexed by [`SecSid::index`].
    pub(crate) banks: [Bank; 3],
    /// Wired interrupt pulses raised since the last [`Smmu::take_irqs`], in order.
    pub(crate) irqs: Vec<u8>,
}

impl Smmu {
    pub fn new(cfg: SmmuConfig) -> Self {
        let mut s = Smmu { cfg, banks: Default::default(), irqs: Vec::new() };
        s.reset();
        s
    }

    pub fn config(&self) -> &SmmuConfig {
        &self.cfg
    }

    /// The register bank of an interface.
    pub fn bank(&self, sec: SecSid) -> &Bank {
        &self.banks[sec.index()]
    }

    /// Puts every register at its reset value and empties every cache.
    pub fn reset(&mut self) {
        for b in &mut self.banks {
            *b = Bank::reset_value();
        }
        self.irqs.clear();
    }

    /// Takes the wired interrupt pulses raised since the last call, in order.
    pub fn take_irqs(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.irqs)
    }

    /// Toggles the GERROR bits in `bits` that are not already active (GERROR != GERRORN) and
    /// signals the gerror interrupt when GERROR_IRQEN is set.
    pub(crate) fn raise_gerror<T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        bits: u32,
        trace: &mut T,
    ) {
        let b = &mut self.banks[sec.index()];
        let new = bits & !b.active_gerrors();
        if new == 0 {
            return;
        }
        b.gerror ^= new;
        let gerror = b.gerror;
        let irqen = b.irq_ctrl().gerror_irqen();
        trace::emit(trace, || TraceEvent::Gerror { sec_sid: sec, bits: new, gerror });
        if irqen {
            self.pulse_irq(irq::gerror_line(sec), trace);
        }
    }

    /// Pulses a wired interrupt line.
    pub(crate) fn pulse_irq<T: TraceSink + ?Sized>(&mut self, line: u8, trace: &mut T) {
        trace::emit(trace, || TraceEvent::Irq { line });
        self.irqs.push(line);
    }
}

mod cmdq;
mod regs;

pub mod context;
mod eventq;
pub mod stream;
mod translate;
