//! The machine the register-level integration tests drive: an SMMU on the `virt` memory map,
//! reached through MMIO the way a driver or a qtest script reaches it.
//!
//! The register offsets and bits are written out as literals (named after Linux
//! `arm-smmu-v3.h` and TF-A `smmu_v3.h`) rather than taken from `smmu::spec`, so the tests check
//! the model against independently known values. Each test binary uses a subset of them.

#![allow(dead_code)]

use smmu::{Pas, PhysMem, Smmu, SmmuConfig, SparseMem, VecTrace, Window};

// Register offsets. The Secure copy of a page-0 register is at `S + offset`; S_INIT has no
// Non-secure counterpart and the Secure event queue pointers are in page 0, not page 1.
pub const IDR0: u64 = 0x00;
pub const IDR1: u64 = 0x04;
pub const CR0: u64 = 0x20;
pub const CR0ACK: u64 = 0x24;
pub const CR1: u64 = 0x28;
pub const CR2: u64 = 0x2c;
pub const GBPA: u64 = 0x44;
pub const IRQ_CTRL: u64 = 0x50;
pub const IRQ_CTRLACK: u64 = 0x54;
pub const GERROR: u64 = 0x60;
pub const GERRORN: u64 = 0x64;
pub const GERROR_IRQ_CFG0: u64 = 0x68;
pub const GERROR_IRQ_CFG1: u64 = 0x70;
pub const STRTAB_BASE: u64 = 0x80;
pub const STRTAB_BASE_CFG: u64 = 0x88;
pub const CMDQ_BASE: u64 = 0x90;
pub const CMDQ_PROD: u64 = 0x98;
pub const CMDQ_CONS: u64 = 0x9c;
pub const EVENTQ_BASE: u64 = 0xa0;
pub const EVENTQ_IRQ_CFG0: u64 = 0xb0;
pub const EVENTQ_IRQ_CFG1: u64 = 0xb8;
/// Page 1.
pub const EVENTQ_PROD: u64 = 0x100a8;
/// Page 1.
pub const EVENTQ_CONS: u64 = 0x100ac;
pub const S: u64 = 0x8000;
pub const S_INIT: u64 = 0x803c;
pub const S_EVENTQ_PROD: u64 = 0x80a8;

// Register bits.
pub const IDR0_MSI: u32 = 1 << 13;
pub const CR0_SMMUEN: u64 = 1 << 0;
pub const CR0_EVENTQEN: u64 = 1 << 2;
pub const CR0_CMDQEN: u64 = 1 << 3;
pub const IRQ_CTRL_GERROR_IRQEN: u64 = 1 << 0;
pub const IRQ_CTRL_EVENTQ_IRQEN: u64 = 1 << 2;
pub const GERROR_CMDQ_ERR: u64 = 1 << 0;
pub const GERROR_EVENTQ_ABT_ERR: u64 = 1 << 2;
pub const GERROR_MSI_EVENTQ_ABT_ERR: u64 = 1 << 5;
pub const GERROR_MSI_GERROR_ABT_ERR: u64 = 1 << 7;
/// EVENTQ_PROD.OVFLG (EVENTQ_CONS.OVACKFLG is the same bit).
pub const OVFLG: u64 = 1 << 31;

// The virt memory map.
/// RAM, accessible from every PAS.
pub const RAM: u64 = 0x4000_0000;
/// Secure RAM, accessible from the Secure and Root PAS only.
pub const SRAM: u64 = 0x0e00_0000;
/// Not backed by memory.
pub const NO_MEMORY: u64 = 0x1000_0000;

pub struct Machine {
    pub smmu: Smmu,
    pub mem: SparseMem,
    pub trace: VecTrace,
}

impl Machine {
    /// An SMMU of `cfg` out of reset, with 512 MiB of RAM and 16 MiB of Secure RAM.
    pub fn new(cfg: SmmuConfig) -> Self {
        let mut mem = SparseMem::new();
        mem.add_window(Window { name: "ram", base: RAM, size: 512 << 20, pas_mask: 0xf }).unwrap();
        mem.add_window(Window {
            name: "secure-ram",
            base: SRAM,
            size: 16 << 20,
            pas_mask: Pas::Secure.bit() | Pas::Root.bit(),
        })
        .unwrap();
        Machine { smmu: Smmu::new(cfg), mem, trace: VecTrace::new() }
    }

    /// A 32-bit register read from `pas`.
    pub fn read(&mut self, offset: u64, pas: Pas) -> u64 {
        self.smmu.mmio_read(offset, 4, pas, &mut self.mem, &mut self.trace).unwrap()
    }
    /// A register write of `size` bytes from `pas`.
    pub fn write(&mut self, offset: u64, size: u8, value: u64, pas: Pas) {
        self.smmu.mmio_write(offset, size, value, pas, &mut self.mem, &mut self.trace).unwrap()
    }
    pub fn readl(&mut self, offset: u64) -> u64 {
        self.read(offset, Pas::NonSecure)
    }
    pub fn writel(&mut self, offset: u64, value: u64) {
        self.write(offset, 4, value, Pas::NonSecure)
    }
    pub fn writeq(&mut self, offset: u64, value: u64) {
        self.write(offset, 8, value, Pas::NonSecure)
    }
    pub fn readl_s(&mut self, offset: u64) -> u64 {
        self.read(offset, Pas::Secure)
    }
    pub fn writel_s(&mut self, offset: u64, value: u64) {
        self.write(offset, 4, value, Pas::Secure)
    }
    pub fn writeq_s(&mut self, offset: u64, value: u64) {
        self.write(offset, 8, value, Pas::Secure)
    }

    /// A CPU store to memory (qtest `writeq` to RAM) from `pas`.
    pub fn ram_writeq(&mut self, pa: u64, pas: Pas, value: u64) {
        self.mem.write(pa, pas, &value.to_le_bytes()).unwrap();
    }
    /// A CPU load of `N` bytes from memory from `pas`.
    pub fn ram_read<const N: usize>(&mut self, pa: u64, pas: Pas) -> [u8; N] {
        let mut b = [0u8; N];
        self.mem.read(pa, pas, &mut b).unwrap();
        b
    }
    pub fn ram_readl(&mut self, pa: u64, pas: Pas) -> u32 {
        u32::from_le_bytes(self.ram_read(pa, pas))
    }
    pub fn ram_readq(&mut self, pa: u64, pas: Pas) -> u64 {
        u64::from_le_bytes(self.ram_read(pa, pas))
    }

    /// The interrupt lines pulsed since the last call.
    pub fn irqs(&mut self) -> Vec<u8> {
        self.smmu.take_irqs()
    }
}
