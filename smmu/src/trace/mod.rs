//! Translation traces: an ordered list of [`TraceEvent`]s behind a [`TraceSink`].
//!
//! Recording costs nothing when nobody records: events are built inside a closure passed to
//! [`emit`], which [`NoTrace`] never calls.

use core::fmt;

use crate::pas::{Pas, SecSid};

/// Where a walk step or fetch happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    S1,
    S2,
}

/// What a fetched configuration structure was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchKind {
    L1Std,
    Ste,
    L1Cd,
    Cd,
}

/// Kind of a translation table descriptor met during a walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescKind {
    Invalid,
    Table,
    Block,
    Page,
    /// A descriptor encoding not allowed at this level (e.g. a block at level 0 with 4K).
    Reserved,
}

/// Access permissions of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Perms {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |b: bool, ch: char| if b { ch } else { '-' };
        write!(f, "{}{}{}", c(self.read, 'r'), c(self.write, 'w'), c(self.exec, 'x'))
    }
}

/// One traced event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// A register access on the SMMU.
    Mmio {
        write: bool,
        offset: u64,
        size: u8,
        value: u64,
        pas: Pas,
        reg: &'static str,
    },
    /// A DMA transaction presented to the SMMU.
    Dma(crate::Txn),
    /// A configuration structure fetch (L1STD, STE, L1CD, CD).
    Fetch {
        kind: FetchKind,
        /// StreamID for L1STD/STE, SubstreamID for L1CD/CD.
        index: u32,
        addr: u64,
        pas: Pas,
        /// The raw 64-bit words fetched (1 for L1 descriptors, 8 for STE/CD).
        raw: Vec<u64>,
    },
    /// One translation table descriptor read.
    WalkStep {
        stage: Stage,
        level: u8,
        addr: u64,
        pas: Pas,
        desc: u64,
        kind: DescKind,
    },
    TlbHit {
        sec_sid: SecSid,
        iova: u64,
    },
    TlbMiss {
        sec_sid: SecSid,
        iova: u64,
    },
    TlbFill {
        sec_sid: SecSid,
        iova: u64,
        size: u64,
    },
    TlbInvalidate {
        sec_sid: SecSid,
        scope: String,
        removed: usize,
    },
    /// The result of a translation.
    Output {
        iova: u64,
        pa: u64,
        pas: Pas,
        perms: Perms,
        size: u64,
    },
    /// A transaction was aborted; `event` names the record that was produced, if any.
    Abort {
        reason: &'static str,
        event: Option<u8>,
    },
    /// A granule protection check.
    Gpc {
        pa: u64,
        pas: Pas,
        ok: bool,
    },
    /// An event record written to an event queue (or discarded).
    Event {
        sec_sid: SecSid,
        /// Queue slot address, or `None` when the record was discarded.
        addr: Option<u64>,
        record: [u64; 4],
    },
    /// GERROR bits toggled.
    Gerror {
        sec_sid: SecSid,
        bits: u32,
        gerror: u32,
    },
    /// A wired interrupt pulse.
    Irq {
        line: u8,
    },
    /// An MSI write.
    Msi {
        /// The interrupt source: `cmdq-sync`, `eventq` or `gerror`.
        source: &'static str,
        addr: u64,
        data: u32,
        pas: Pas,
    },
    /// A command consumed from a command queue.
    Command {
        sec_sid: SecSid,
        index: u32,
        raw: [u64; 2],
    },
    /// Command consumption stopped on an error: CMDQ_CONS.ERR holds `code` (CERROR_*).
    CommandError {
        sec_sid: SecSid,
        index: u32,
        code: u32,
    },
    /// Free-form note for behaviour without a dedicated variant.
    Note(String),
}

/// Receives trace events.
pub trait TraceSink {
    /// Whether events are wanted at all; when false nothing is built.
    fn enabled(&self) -> bool;
    fn push(&mut self, ev: TraceEvent);
}

/// Records an event if the sink wants it; the closure runs only then.
#[inline(always)]
pub fn emit<T: TraceSink + ?Sized>(sink: &mut T, f: impl FnOnce() -> TraceEvent) {
    if sink.enabled() {
        sink.push(f());
    }
}

/// A sink that records nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTrace;

impl TraceSink for NoTrace {
    #[inline(always)]
    fn enabled(&self) -> bool {
        false
    }
    #[inline(always)]
    fn push(&mut self, _ev: TraceEvent) {}
}

/// A sink that keeps every event in order.
#[derive(Clone, Debug, Default)]
pub struct VecTrace {
    pub events: Vec<TraceEvent>,
}

impl VecTrace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the recorded events, leaving the sink empty.
    pub fn take(&mut self) -> Vec<TraceEvent> {
        core::mem::take(&mut self.events)
    }
}

impl TraceSink for VecTrace {
    fn enabled(&self) -> bool {
        true
    }
    fn push(&mut self, ev: TraceEvent) {
        self.events.push(ev);
    }
}

mod render;
pub use render::JsonLine;
