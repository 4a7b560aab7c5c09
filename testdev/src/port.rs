//! The seam between a DMA master and the machine it sits in.

use smmu::{Abort, PhysMem, SecSid, Translation, Txn};

/// The identity a master presents on every transaction: fixed per device, like the wiring of a
/// real requester.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamId {
    pub sid: u32,
    /// The security state of the stream (`sec-sid=` device property).
    pub sec_sid: SecSid,
}

impl StreamId {
    /// A Non-secure stream.
    pub fn ns(sid: u32) -> Self {
        StreamId { sid, sec_sid: SecSid::NonSecure }
    }
}

/// What a DMA master sees of the machine: an IOMMU in front of physical memory.
///
/// [`DmaPort::translate`] is the IOMMU (the SMMU, or an identity map when the machine has
/// none). The [`PhysMem`] half is the physical memory the translated accesses, and the
/// master's direct (untranslated) accesses, go to; an access that reaches no memory is a
/// [`smmu::BusError`].
pub trait DmaPort: PhysMem {
    /// Translates the start of `txn`; the returned mapping says how far it extends.
    fn translate(&mut self, txn: &Txn) -> Result<Translation, Abort>;
}
