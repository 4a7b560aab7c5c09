//! The contract between the qtest protocol and the machine behind it.

use smmu::{BusError, Pas, TraceEvent};

/// The security attributes of a qtest memory command (the v2 attrs token).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Attrs {
    /// No token: QEMU's `MEMTXATTRS_UNSPECIFIED`, the Non-secure CPU address space.
    #[default]
    Unspecified,
    /// `secure`: `.secure = 1`, `.space = 0` (Secure).
    Secure,
    /// `space=...`.
    Space(Pas),
}

impl Attrs {
    /// The PAS the access is issued in.
    pub fn pas(self) -> Pas {
        match self {
            Attrs::Unspecified => Pas::NonSecure,
            Attrs::Secure => Pas::Secure,
            Attrs::Space(p) => p,
        }
    }
}

/// A machine as the qtest protocol sees it: CPU-side memory accesses, interrupts, reset.
pub trait Bus {
    /// Reads `buf.len()` bytes at `addr`, split by region. Accesses to a device register must
    /// have the size the device accepts; an unassigned address or a rejected size is
    /// `BusError::Unassigned`. On error `buf` still holds what QEMU's memory core returns (the
    /// parts that map, zeros for the parts that fail), so callers never repeat the access.
    fn read(&mut self, addr: u64, buf: &mut [u8], attrs: Attrs) -> Result<(), BusError>;
    /// Writes `data` at `addr`, split by region: the parts that map are written even when
    /// another part fails.
    fn write(&mut self, addr: u64, data: &[u8], attrs: Attrs) -> Result<(), BusError>;
    /// Fills `[addr, addr+len)` with `byte` without allocating `len` bytes at once.
    fn fill(&mut self, addr: u64, len: u64, byte: u8, attrs: Attrs) -> Result<(), BusError>;
    /// Largest size accepted for `read`/`write`/`b64read`/`b64write`/`memset` (the machine's RAM size).
    fn max_access(&self) -> u64;
    /// Interrupt pulses raised since the last call, as (QOM path of the device, line) in order.
    fn take_irqs(&mut self) -> Vec<(String, u8)>;
    /// Devices whose out-GPIOs can be intercepted: (QOM path, aliases, number of lines).
    fn irq_devices(&self) -> Vec<IrqDevice>;
    /// `system_reset`: keeps RAM, resets devices.
    fn reset(&mut self);
    /// Turns trace recording on or off.
    fn set_tracing(&mut self, on: bool);
    /// Trace events recorded since the last call.
    fn take_trace(&mut self) -> Vec<TraceEvent>;
    /// `info qom-tree` text.
    fn qom_tree(&self) -> String;
}

/// A device with interceptable output interrupt lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IrqDevice {
    /// Canonical QOM path, e.g. `/machine/unattached/device[6]`.
    pub path: String,
    /// Other accepted paths, e.g. `/machine/smmuv3`.
    pub aliases: Vec<String>,
    /// Named GPIO-out lists accepted with `irq_intercept_out PATH NAME` (e.g. `sysbus-irq`).
    pub gpio_out_names: Vec<String>,
    pub lines: u8,
}

/// A machine as described by a QEMU-style command line.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MachineOpts {
    /// `-machine TYPE` (`virt`, `none`).
    pub machine: String,
    /// `-machine TYPE,key=value,...` properties in order.
    pub machine_props: Vec<(String, String)>,
    /// `-m` in bytes (QEMU's default is 128 MiB).
    pub ram_size: u64,
    /// `-device DRIVER,key=value,...` in command-line order.
    pub devices: Vec<DeviceOpts>,
    /// `-global DRIVER.PROP=VALUE`.
    pub globals: Vec<GlobalOpt>,
}

/// One `-device`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DeviceOpts {
    pub driver: String,
    pub props: Vec<(String, String)>,
}

/// One `-global DRIVER.PROP=VALUE`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GlobalOpt {
    pub driver: String,
    pub prop: String,
    pub value: String,
}
