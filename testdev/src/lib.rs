//! DMA masters that issue tagged transactions through the SMMU model.
//!
//! A master talks to the rest of the machine through a [`DmaPort`]: the port translates a
//! [`smmu::Txn`] (normally through [`smmu::Smmu::translate`]) and moves bytes to and from
//! physical memory. The machine builds the port; tests plug in their own.
//!
//! - [`iommu_testdev`]: QEMU's `iommu-testdev` (bit-exact BAR0 register map), extended with a
//!   read direction, SubstreamIDs, privilege/instruction attributes, a programmable pattern, a
//!   fault report and a progress counter.
#![forbid(unsafe_code)]

pub mod iommu_testdev;
pub mod port;

pub use iommu_testdev::IommuTestdev;
pub use port::{DmaPort, StreamId};
