//! A machine for register-level tests: an SMMU with RAM and Secure RAM behind it, driven
//! through [`Smmu::mmio_read`] and [`Smmu::mmio_write`].

use crate::{BusError, Pas, Smmu, SmmuConfig, SparseMem, VecTrace, Window};

pub struct Rig {
    pub smmu: Smmu,
    pub mem: SparseMem,
    pub trace: VecTrace,
}

impl Rig {
    /// An SMMU of `cfg` out of reset, with 256 MiB of RAM at 0x4000_0000 (every PAS) and
    /// 16 MiB of Secure RAM at 0x0e00_0000 (Secure and Root PAS).
    pub fn new(cfg: SmmuConfig) -> Self {
        let mut mem = SparseMem::new();
        mem.add_window(Window { name: "ram", base: 0x4000_0000, size: 1 << 28, pas_mask: 0xf })
            .unwrap();
        mem.add_window(Window {
            name: "secure-ram",
            base: 0x0e00_0000,
            size: 16 << 20,
            pas_mask: Pas::Secure.bit() | Pas::Root.bit(),
        })
        .unwrap();
        Rig { smmu: Smmu::new(cfg), mem, trace: VecTrace::new() }
    }
    pub fn read(&mut self, offset: u64, size: u8, pas: Pas) -> Result<u64, BusError> {
        self.smmu.mmio_read(offset, size, pas, &mut self.mem, &mut self.trace)
    }
    pub fn write(&mut self, offset: u64, size: u8, value: u64, pas: Pas) -> Result<(), BusError> {
        self.smmu.mmio_write(offset, size, value, pas, &mut self.mem, &mut self.trace)
    }
    pub fn r32(&mut self, offset: u64) -> u64 {
        self.read(offset, 4, Pas::NonSecure).unwrap()
    }
    pub fn w32(&mut self, offset: u64, value: u64) {
        self.write(offset, 4, value, Pas::NonSecure).unwrap()
    }
    pub fn r64(&mut self, offset: u64) -> u64 {
        self.read(offset, 8, Pas::NonSecure).unwrap()
    }
    pub fn w64(&mut self, offset: u64, value: u64) {
        self.write(offset, 8, value, Pas::NonSecure).unwrap()
    }
    /// A 32-bit read from the Secure PAS.
    pub fn rs(&mut self, offset: u64) -> u64 {
        self.read(offset, 4, Pas::Secure).unwrap()
    }
    /// A 32-bit write from the Secure PAS.
    pub fn ws(&mut self, offset: u64, value: u64) {
        self.write(offset, 4, value, Pas::Secure).unwrap()
    }
}
