//! A cycle-agnostic functional model of the Arm SMMUv3 (IHI 0070).
//!
//! Every DMA is one synchronous call to [`Smmu::translate`]; nothing depends on time. The model
//! owns no memory: tables are read and events written through [`mem::PhysMem`].
#![forbid(unsafe_code)]

pub mod bank;
pub mod config;
pub mod invalidate;
pub mod irq;
pub mod mem;
pub mod pas;
pub mod spec;
pub mod tlb;
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

/// The SMMU: configuration, one register bank per programming interface, and pending
/// interrupt pulses. Register access lives in `regs`, translation in `translate`.
#[derive(Clone, Debug)]
pub struct Smmu {
    pub(crate) cfg: SmmuConfig,
    /// Indexed by [`SecSid::index`].
    pub(crate) banks: [Bank; 3],
    /// Wired interrupt pulses raised since the last [`Smmu::take_irqs`], in order.
    pub(crate) irqs: Vec<u8>,
    /// Decoded STE + CD per (SEC_SID, StreamID, SubstreamID).
    pub(crate) config_cache: tlb::ConfigCache<translate::CachedCfg>,
    pub(crate) tlb: tlb::Tlb,
    /// Per interface, the event record last written and still a candidate for merging.
    pub(crate) eventq_last: [Option<eventq::LastRecord>; 3],
}

impl Smmu {
    pub fn new(cfg: SmmuConfig) -> Self {
        let policy = cfg.cache_policy;
        let mut s = Smmu {
            cfg,
            banks: Default::default(),
            irqs: Vec::new(),
            config_cache: tlb::ConfigCache::new(policy, tlb::CONFIG_CACHE_CAPACITY),
            tlb: tlb::Tlb::new(policy, tlb::Tlb::DEFAULT_CAPACITY),
            eventq_last: Default::default(),
        };
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
        self.config_cache.clear();
        self.tlb.clear();
        self.eventq_last = Default::default();
    }

    /// Takes the wired interrupt pulses raised since the last call, in order.
    pub fn take_irqs(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.irqs)
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
