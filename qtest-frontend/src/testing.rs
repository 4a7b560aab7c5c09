//! A small machine for unit tests: RAM, a register page that pulses an interrupt, a
//! Secure-only window and an address that answers with a device error.

use smmu::{BusError, Pas, TraceEvent};

use crate::bus::{Attrs, Bus, IrqDevice};

pub const RAM_BASE: u64 = 0x4000_0000;
pub const RAM_SIZE: u64 = 1 << 20;
/// 4-byte registers only: offset 0 holds a value, a write to offset 8 pulses line VALUE.
pub const DEV_BASE: u64 = 0x0905_0000;
pub const DEV_SIZE: u64 = 0x1000;
/// Visible to Secure and Root only.
pub const SECURE_BASE: u64 = 0x0e00_0000;
pub const SECURE_SIZE: u64 = 0x1000;
/// Every access answers `BusError::Device`.
pub const BROKEN_BASE: u64 = 0x0906_0000;

pub const SMMU_PATH: &str = "/machine/unattached/device[6]";

#[derive(Default)]
pub struct FakeBus {
    pub ram: Vec<u8>,
    pub secure: Vec<u8>,
    pub reg: u32,
    pub irqs: Vec<(String, u8)>,
    pub trace: Vec<TraceEvent>,
    pub tracing: bool,
    /// Largest single access seen.
    pub largest_access: usize,
    pub resets: u32,
}

impl FakeBus {
    pub fn new() -> Self {
        FakeBus {
            ram: vec![0; RAM_SIZE as usize],
            secure: vec![0; SECURE_SIZE as usize],
            ..Default::default()
        }
    }

    fn window(&mut self, addr: u64, len: usize, attrs: Attrs) -> Result<&mut [u8], BusError> {
        let end = addr.checked_add(len as u64).ok_or(BusError::Unassigned)?;
        if addr >= RAM_BASE && end <= RAM_BASE + RAM_SIZE {
            let o = (addr - RAM_BASE) as usize;
            return Ok(&mut self.ram[o..o + len]);
        }
        if addr >= SECURE_BASE && end <= SECURE_BASE + SECURE_SIZE {
            if !matches!(attrs.pas(), Pas::Secure | Pas::Root) {
                return Err(BusError::Forbidden);
            }
            let o = (addr - SECURE_BASE) as usize;
            return Ok(&mut self.secure[o..o + len]);
        }
        if addr >= BROKEN_BASE && end <= BROKEN_BASE + 0x1000 {
            return Err(BusError::Device);
        }
        Err(BusError::Unassigned)
    }

    fn is_dev(addr: u64, len: usize) -> bool {
        (DEV_BASE..DEV_BASE + DEV_SIZE).contains(&addr) && len == 4 && addr.is_multiple_of(4)
    }
}

impl Bus for FakeBus {
    fn read(&mut self, addr: u64, buf: &mut [u8], attrs: Attrs) -> Result<(), BusError> {
        self.largest_access = self.largest_access.max(buf.len());
        if self.tracing {
            self.trace.push(TraceEvent::Note(format!("read {addr:#x}")));
        }
        if Self::is_dev(addr, buf.len()) {
            let v = if addr == DEV_BASE { self.reg } else { 0 };
            buf.copy_from_slice(&v.to_le_bytes());
            return Ok(());
        }
        // Like the real machine: the parts that map are read, the rest reads as zero.
        let e = match self.window(addr, buf.len(), attrs) {
            Ok(w) => {
                buf.copy_from_slice(w);
                return Ok(());
            }
            Err(e) => e,
        };
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.window(addr.wrapping_add(i as u64), 1, attrs).map_or(0, |w| w[0]);
        }
        Err(e)
    }

    fn write(&mut self, addr: u64, data: &[u8], attrs: Attrs) -> Result<(), BusError> {
        self.largest_access = self.largest_access.max(data.len());
        if Self::is_dev(addr, data.len()) {
            let v = u32::from_le_bytes(data.try_into().unwrap());
            match addr - DEV_BASE {
                0 => self.reg = v,
                8 => self.irqs.push((SMMU_PATH.to_string(), v as u8)),
                _ => {}
            }
            return Ok(());
        }
        // Like the real machine: the parts that map are written.
        let e = match self.window(addr, data.len(), attrs) {
            Ok(w) => {
                w.copy_from_slice(data);
                return Ok(());
            }
            Err(e) => e,
        };
        for (i, b) in data.iter().enumerate() {
            if let Ok(w) = self.window(addr.wrapping_add(i as u64), 1, attrs) {
                w[0] = *b;
            }
        }
        Err(e)
    }

    fn fill(&mut self, addr: u64, len: u64, byte: u8, attrs: Attrs) -> Result<(), BusError> {
        let w = self.window(addr, len as usize, attrs)?;
        w.fill(byte);
        Ok(())
    }

    fn max_access(&self) -> u64 {
        RAM_SIZE
    }

    fn take_irqs(&mut self) -> Vec<(String, u8)> {
        std::mem::take(&mut self.irqs)
    }

    fn irq_devices(&self) -> Vec<IrqDevice> {
        vec![IrqDevice {
            path: SMMU_PATH.to_string(),
            aliases: vec!["/machine/smmuv3".to_string()],
            gpio_out_names: vec!["sysbus-irq".to_string()],
            lines: 4,
        }]
    }

    fn reset(&mut self) {
        self.reg = 0;
        self.resets += 1;
    }

    fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    fn take_trace(&mut self) -> Vec<TraceEvent> {
        std::mem::take(&mut self.trace)
    }

    fn qom_tree(&self) -> String {
        "/machine (virt-machine)\n  /unattached (container)\n    /device[6] (arm-smmuv3)\n"
            .to_string()
    }
}
