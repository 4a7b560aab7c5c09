//! The machine's view of its IOMMU: the SMMU's register interface and translation entry.

use smmu::{Abort, BusError, Pas, PhysMem, Smmu, TraceSink, Translation, Txn};

/// What the machine needs of an IOMMU; implemented by [`Smmu`] (and by test doubles).
pub trait Iommu {
    /// Bytes of MMIO space the register pages span.
    fn mmio_size(&self) -> u64;
    fn mmio_read<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        offset: u64,
        size: u8,
        pas: Pas,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<u64, BusError>;
    #[allow(clippy::too_many_arguments)]
    fn mmio_write<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        offset: u64,
        size: u8,
        value: u64,
        pas: Pas,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<(), BusError>;
    fn translate<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        txn: &Txn,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<Translation, Abort>;
    /// Wired interrupt pulses since the last call, in order.
    fn take_irqs(&mut self) -> Vec<u8>;
    fn reset(&mut self);
}

impl Iommu for Smmu {
    fn mmio_size(&self) -> u64 {
        Smmu::mmio_size(self)
    }
    fn mmio_read<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        offset: u64,
        size: u8,
        pas: Pas,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<u64, BusError> {
        Smmu::mmio_read(self, offset, size, pas, mem, trace)
    }
    fn mmio_write<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        offset: u64,
        size: u8,
        value: u64,
        pas: Pas,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<(), BusError> {
        Smmu::mmio_write(self, offset, size, value, pas, mem, trace)
    }
    fn translate<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        txn: &Txn,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<Translation, Abort> {
        Smmu::translate(self, txn, mem, trace)
    }
    fn take_irqs(&mut self) -> Vec<u8> {
        Smmu::take_irqs(self)
    }
    fn reset(&mut self) {
        Smmu::reset(self)
    }
}
