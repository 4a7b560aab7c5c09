//! A machine as a list of regions behind the qtest [`Bus`]: memory (RAM, Secure RAM, flash),
//! the SMMU's register pages, the PCIe MMIO windows (BARs, and all-ones holes) and the ECAM
//! window, each access cut into device accesses as QEMU's memory core does.

use smmu::{
    Abort, BusError, NoTrace, Pas, Perms, PhysMem, SparseMem, TraceEvent, TraceSink, Translation,
    Txn, VecTrace, Window, trace,
};
use testdev::DmaPort;

use super::access::pieces;
use super::devices::PciBus;
use super::iommu::Iommu;
use super::pci::ones;
use crate::bus::{Attrs, Bus, IrqDevice};

/// Canonical QOM path of the SMMU (QEMU 11.0 virt with one CPU numbers it `device[6]`).
pub const SMMU_QOM_PATH: &str = "/machine/unattached/device[6]";
/// Alias of [`SMMU_QOM_PATH`].
pub const SMMU_QOM_ALIAS: &str = "/machine/smmuv3";
/// The SMMU's named GPIO-out list.
pub const SMMU_GPIO_OUT: &str = "sysbus-irq";

/// Largest access the SMMU's register pages accept (QEMU's `valid.max_access_size`).
const SMMU_MAX_ACCESS: usize = 8;
/// Largest configuration access (QEMU's ECAM region has no `valid` sizes: 1 to 4 bytes).
const ECAM_MAX_ACCESS: usize = 4;
/// Granule of an untranslated DMA (QEMU's IOMMU-less DMA goes straight to system memory).
const NO_IOMMU_GRANULE: u64 = 0x1000;

/// What a region of the address map is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Backed by [`SysMem`]: RAM, Secure RAM, flash.
    Memory,
    /// The SMMU's register pages.
    Smmu,
    /// A PCIe MMIO window: BARs decode here; the rest reads all-ones.
    PciMmio,
    /// A PCIe ECAM window (bus 0 is the root bus).
    Ecam,
}

/// One region of the address map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub name: &'static str,
    pub base: u64,
    pub size: u64,
    pub kind: Kind,
}

impl Region {
    fn end(&self) -> u128 {
        u128::from(self.base) + u128::from(self.size)
    }
}

/// Physical memory as DMA masters and the SMMU see it: the RAM windows (PAS-checked by
/// [`SparseMem`]) and flash (reads zero, writes ignored). Everything else, MMIO included, is a
/// bus error.
#[derive(Clone, Debug, Default)]
pub struct SysMem {
    pub ram: SparseMem,
    pub flash: Vec<Window>,
}

impl SysMem {
    fn flash_at(&self, pa: u64, len: u64) -> Option<&Window> {
        let len = len.max(1);
        self.flash.iter().find(|w| pa >= w.base && len <= w.size && pa - w.base <= w.size - len)
    }

    fn flash_check(&self, pa: u64, len: u64, pas: Pas) -> Option<Result<(), BusError>> {
        let w = self.flash_at(pa, len)?;
        Some(if w.pas_mask & pas.bit() == 0 { Err(BusError::Forbidden) } else { Ok(()) })
    }

    /// Fills `[pa, pa+len)` with `byte` (flash ignores it).
    pub fn fill(&mut self, pa: u64, pas: Pas, len: u64, byte: u8) -> Result<(), BusError> {
        match self.flash_check(pa, len, pas) {
            Some(r) => r,
            None => self.ram.fill(pa, pas, len, byte),
        }
    }
}

impl PhysMem for SysMem {
    fn read(&mut self, pa: u64, pas: Pas, buf: &mut [u8]) -> Result<(), BusError> {
        match self.flash_check(pa, buf.len() as u64, pas) {
            Some(r) => {
                buf.fill(0);
                r
            }
            None => self.ram.read(pa, pas, buf),
        }
    }

    fn write(&mut self, pa: u64, pas: Pas, buf: &[u8]) -> Result<(), BusError> {
        match self.flash_check(pa, buf.len() as u64, pas) {
            Some(r) => r,
            None => self.ram.write(pa, pas, buf),
        }
    }
}

/// The DMA side of the machine a device sees: the IOMMU (identity without one) in front of
/// [`SysMem`].
struct Port<'a, I, T: ?Sized> {
    iommu: Option<&'a mut I>,
    mem: &'a mut SysMem,
    trace: &'a mut T,
}

impl<I: Iommu, T: TraceSink + ?Sized> PhysMem for Port<'_, I, T> {
    fn read(&mut self, pa: u64, pas: Pas, buf: &mut [u8]) -> Result<(), BusError> {
        self.mem.read(pa, pas, buf)
    }
    fn write(&mut self, pa: u64, pas: Pas, buf: &[u8]) -> Result<(), BusError> {
        self.mem.write(pa, pas, buf)
    }
}

impl<I: Iommu, T: TraceSink + ?Sized> DmaPort for Port<'_, I, T> {
    fn translate(&mut self, txn: &Txn) -> Result<Translation, Abort> {
        match self.iommu.as_deref_mut() {
            Some(iommu) => iommu.translate(txn, &mut *self.mem, &mut *self.trace),
            None => {
                let t = Translation {
                    pa: txn.iova,
                    pas: Pas::NonSecure,
                    perms: Perms { read: true, write: true, exec: false },
                    size: NO_IOMMU_GRANULE,
                };
                trace::emit(self.trace, || TraceEvent::Dma(*txn));
                trace::emit(self.trace, || TraceEvent::Output {
                    iova: txn.iova,
                    pa: t.pa,
                    pas: t.pas,
                    perms: t.perms,
                    size: t.size,
                });
                Ok(t)
            }
        }
    }
}

/// Runs `$body` with `$t` bound to the trace sink: the recording one while tracing, else
/// [`NoTrace`].
macro_rules! traced {
    ($self:ident, |$t:ident| $body:expr) => {
        if $self.tracing {
            let $t = &mut $self.trace;
            $body
        } else {
            let $t = &mut NoTrace;
            $body
        }
    };
}

/// A machine: its regions, memory, IOMMU and PCI functions.
pub struct Board<I> {
    /// Sorted by base, not overlapping.
    regions: Vec<Region>,
    mem: SysMem,
    iommu: Option<I>,
    pci: PciBus,
    ram_size: u64,
    qom: String,
    tracing: bool,
    trace: VecTrace,
}

impl<I: Iommu> Board<I> {
    /// Assembles a machine; refuses overlapping regions.
    pub fn new(
        mut regions: Vec<Region>,
        mem: SysMem,
        iommu: Option<I>,
        pci: PciBus,
        ram_size: u64,
        qom: String,
    ) -> Result<Self, String> {
        regions.sort_by_key(|r| r.base);
        for w in regions.windows(2) {
            if w[0].end() > u128::from(w[1].base) {
                return Err(format!("{} overlaps {}", w[0].name, w[1].name));
            }
        }
        Ok(Board {
            regions,
            mem,
            iommu,
            pci,
            ram_size,
            qom,
            tracing: false,
            trace: VecTrace::new(),
        })
    }

    /// The region holding `addr` (or `None` for a hole) and where that stretch ends.
    fn region_at(&self, addr: u64) -> (Option<Region>, u128) {
        for r in &self.regions {
            if addr < r.base {
                return (None, u128::from(r.base));
            }
            if u128::from(addr) < r.end() {
                return (Some(*r), r.end());
            }
        }
        (None, 1 << 64)
    }

    /// Splits `[addr, addr+len)` at region boundaries: (address, length, region) in order;
    /// `None` for an address past 2^64 or a hole.
    fn stretches(&self, addr: u64, len: u64) -> Vec<(u64, u64, Option<Region>)> {
        let mut out = Vec::new();
        let end = u128::from(addr) + u128::from(len);
        let mut cur = u128::from(addr);
        while cur < end {
            if cur > u128::from(u64::MAX) {
                out.push((0, (end - cur) as u64, None));
                break;
            }
            let (r, r_end) = self.region_at(cur as u64);
            let n = r_end.min(end) - cur;
            out.push((cur as u64, n as u64, r));
            cur += n;
        }
        out
    }

    fn smmu_read(&mut self, off: u64, buf: &mut [u8], pas: Pas) -> Result<(), BusError> {
        let mut res = Ok(());
        for (a, n) in pieces(off, buf.len(), SMMU_MAX_ACCESS) {
            let piece = &mut buf[(a - off) as usize..][..n];
            let Some(iommu) = self.iommu.as_mut() else {
                piece.fill(0);
                return Err(BusError::Unassigned);
            };
            let v = traced!(self, |t| iommu.mmio_read(a, n as u8, pas, &mut self.mem, t));
            match v {
                Ok(v) => piece.copy_from_slice(&v.to_le_bytes()[..n]),
                Err(e) => {
                    piece.fill(0);
                    res = res.and(Err(e));
                }
            }
        }
        res
    }

    fn smmu_write(&mut self, off: u64, data: &[u8], pas: Pas) -> Result<(), BusError> {
        let mut res = Ok(());
        for (a, n) in pieces(off, data.len(), SMMU_MAX_ACCESS) {
            let v = le_value(&data[(a - off) as usize..][..n]);
            let Some(iommu) = self.iommu.as_mut() else { return Err(BusError::Unassigned) };
            let r = traced!(self, |t| iommu.mmio_write(a, n as u8, v, pas, &mut self.mem, t));
            res = res.and(r);
        }
        res
    }

    fn ecam_read(&mut self, off: u64, buf: &mut [u8]) {
        for (a, n) in pieces(off, buf.len(), ECAM_MAX_ACCESS) {
            let v = match self.ecam_function(a) {
                Some((f, reg)) => self.pci.fns[f].config.read(reg, n),
                None => ones(n),
            };
            buf[(a - off) as usize..][..n].copy_from_slice(&v.to_le_bytes()[..n]);
        }
    }

    fn ecam_write(&mut self, off: u64, data: &[u8]) {
        for (a, n) in pieces(off, data.len(), ECAM_MAX_ACCESS) {
            if let Some((f, reg)) = self.ecam_function(a) {
                let v = le_value(&data[(a - off) as usize..][..n]) as u32;
                self.pci.fns[f].config.write(reg, n, v);
            }
        }
    }

    /// The function and register an ECAM offset addresses (bus 0 only).
    fn ecam_function(&self, off: u64) -> Option<(usize, usize)> {
        let bus = off >> 20;
        let devfn = ((off >> 12) & 0xff) as u8;
        let reg = (off & 0xfff) as usize;
        if bus != 0 {
            return None;
        }
        self.pci.fns.iter().position(|f| f.devfn == devfn).map(|i| (i, reg))
    }

    fn pci_mmio_read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), BusError> {
        let mut res = Ok(());
        let mut done = 0usize;
        while done < buf.len() {
            let cur = addr + done as u64;
            let left = (buf.len() - done) as u64;
            match self.pci.bar_at(cur) {
                Some((fi, bar, base, size)) => {
                    let n = left.min(base + size - cur) as usize;
                    for (a, sz) in pieces(cur - base, n, self.pci.fns[fi].dev.bar_max_access()) {
                        let piece = &mut buf[done + (a - (cur - base)) as usize..][..sz];
                        let f = &mut self.pci.fns[fi];
                        let v = traced!(self, |t| {
                            let mut port =
                                Port { iommu: self.iommu.as_mut(), mem: &mut self.mem, trace: t };
                            f.dev.bar_read(bar, a, sz, &mut port)
                        });
                        match v {
                            Ok(v) => piece.copy_from_slice(&v.to_le_bytes()[..sz]),
                            Err(e) => {
                                piece.fill(0);
                                res = res.and(Err(e));
                            }
                        }
                    }
                    done += n;
                }
                None => {
                    let hole_end = self.pci.next_bar_above(cur).map_or(left, |b| b - cur);
                    let n = left.min(hole_end) as usize;
                    buf[done..done + n].fill(0xff);
                    done += n;
                }
            }
        }
        res
    }

    fn pci_mmio_write(&mut self, addr: u64, data: &[u8]) -> Result<(), BusError> {
        let mut res = Ok(());
        let mut done = 0usize;
        while done < data.len() {
            let cur = addr + done as u64;
            let left = (data.len() - done) as u64;
            match self.pci.bar_at(cur) {
                Some((fi, bar, base, size)) => {
                    let n = left.min(base + size - cur) as usize;
                    let f = &mut self.pci.fns[fi];
                    for (a, sz) in pieces(cur - base, n, f.dev.bar_max_access()) {
                        let v = le_value(&data[done + (a - (cur - base)) as usize..][..sz]);
                        res = res.and(f.dev.bar_write(bar, a, sz, v));
                    }
                    done += n;
                }
                None => {
                    let hole_end = self.pci.next_bar_above(cur).map_or(left, |b| b - cur);
                    done += left.min(hole_end) as usize;
                }
            }
        }
        res
    }

    /// Fills `[addr, addr+len)` of a PCIe MMIO window with `chunk[0]`: the BARs in it get
    /// writes of at most `chunk.len()` bytes; the holes between them are skipped, not walked
    /// (a window is up to 512 GiB, and writes to a hole are ignored anyway).
    fn pci_mmio_fill(&mut self, addr: u64, len: u64, chunk: &[u8]) -> BusResult {
        let mut res = Ok(());
        let mut done = 0u64;
        while done < len {
            let cur = addr + done;
            let left = len - done;
            let n = match self.pci.bar_at(cur) {
                Some((_, _, base, size)) => {
                    let n = left.min(base + size - cur).min(chunk.len() as u64);
                    res = res.and(self.pci_mmio_write(cur, &chunk[..n as usize]));
                    n
                }
                None => self.pci.next_bar_above(cur).map_or(left, |b| left.min(b - cur)),
            };
            done += n;
        }
        res
    }

    fn write_stretch(&mut self, a: u64, data: &[u8], r: Option<Region>, pas: Pas) -> BusResult {
        match r.map(|r| (r.kind, r.base)) {
            None => Err(BusError::Unassigned),
            Some((Kind::Memory, _)) => self.mem.write(a, pas, data),
            Some((Kind::Smmu, base)) => self.smmu_write(a - base, data, pas),
            Some((Kind::PciMmio, _)) => self.pci_mmio_write(a, data),
            Some((Kind::Ecam, base)) => {
                self.ecam_write(a - base, data);
                Ok(())
            }
        }
    }
}

type BusResult = Result<(), BusError>;

/// The little-endian value of up to 8 bytes.
fn le_value(b: &[u8]) -> u64 {
    b.iter().rev().fold(0, |v, &x| (v << 8) | u64::from(x))
}

impl<I: Iommu> Bus for Board<I> {
    /// Reads like QEMU's memory core: on an error `buf` still holds what QEMU would return
    /// (zeros for the failed pieces, all-ones in a PCIe hole); the first error is returned.
    fn read(&mut self, addr: u64, buf: &mut [u8], attrs: Attrs) -> Result<(), BusError> {
        let pas = attrs.pas();
        let mut res = Ok(());
        let mut off = 0usize;
        for (a, n, r) in self.stretches(addr, buf.len() as u64) {
            let piece = &mut buf[off..off + n as usize];
            off += n as usize;
            let r = match r.map(|r| (r.kind, r.base)) {
                None => {
                    piece.fill(0);
                    Err(BusError::Unassigned)
                }
                Some((Kind::Memory, _)) => self.mem.read(a, pas, piece).inspect_err(|_| {
                    piece.fill(0);
                }),
                Some((Kind::Smmu, base)) => self.smmu_read(a - base, piece, pas),
                Some((Kind::PciMmio, _)) => self.pci_mmio_read(a, piece),
                Some((Kind::Ecam, base)) => {
                    self.ecam_read(a - base, piece);
                    Ok(())
                }
            };
            res = res.and(r);
        }
        res
    }

    fn write(&mut self, addr: u64, data: &[u8], attrs: Attrs) -> Result<(), BusError> {
        let pas = attrs.pas();
        let mut res = Ok(());
        let mut off = 0usize;
        for (a, n, r) in self.stretches(addr, data.len() as u64) {
            let piece = &data[off..off + n as usize];
            res = res.and(self.write_stretch(a, piece, r, pas));
            off += n as usize;
        }
        res
    }

    fn fill(&mut self, addr: u64, len: u64, byte: u8, attrs: Attrs) -> Result<(), BusError> {
        let pas = attrs.pas();
        let chunk = [byte; 256];
        let mut res = Ok(());
        for (a, n, r) in self.stretches(addr, len) {
            let r = match r.map(|r| r.kind) {
                None => Err(BusError::Unassigned),
                Some(Kind::Memory) => self.mem.fill(a, pas, n, byte),
                Some(Kind::PciMmio) => self.pci_mmio_fill(a, n, &chunk),
                Some(_) => {
                    let mut r = Ok(());
                    let mut done = 0u64;
                    while done < n {
                        let k = (n - done).min(chunk.len() as u64) as usize;
                        let region = self.region_at(a + done).0;
                        r = r.and(self.write_stretch(a + done, &chunk[..k], region, pas));
                        done += k as u64;
                    }
                    r
                }
            };
            res = res.and(r);
        }
        res
    }

    fn max_access(&self) -> u64 {
        self.ram_size.max(1 << 20)
    }

    fn take_irqs(&mut self) -> Vec<(String, u8)> {
        let Some(iommu) = self.iommu.as_mut() else { return Vec::new() };
        iommu.take_irqs().into_iter().map(|l| (SMMU_QOM_PATH.to_string(), l)).collect()
    }

    fn irq_devices(&self) -> Vec<IrqDevice> {
        if self.iommu.is_none() {
            return Vec::new();
        }
        vec![IrqDevice {
            path: SMMU_QOM_PATH.into(),
            aliases: vec![SMMU_QOM_ALIAS.into()],
            gpio_out_names: vec![SMMU_GPIO_OUT.into()],
            lines: smmu::irq::COUNT,
        }]
    }

    fn reset(&mut self) {
        if let Some(iommu) = self.iommu.as_mut() {
            iommu.reset();
        }
        self.pci.reset();
    }

    fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    fn take_trace(&mut self) -> Vec<TraceEvent> {
        self.trace.take()
    }

    fn qom_tree(&self) -> String {
        self.qom.clone()
    }
}

/// The QOM nodes every machine has: `/machine` of type `machine_type` and its containers.
pub fn base_qom_nodes(machine_type: &'static str) -> Vec<(String, &'static str)> {
    vec![
        ("/machine".into(), machine_type),
        ("/machine/peripheral".into(), "container"),
        ("/machine/peripheral-anon".into(), "container"),
        ("/machine/unattached".into(), "container"),
    ]
}

/// Renders `info qom-tree` from (path, type) pairs: children sorted by name under their
/// parent, two spaces per level.
pub fn render_qom_tree(nodes: &[(String, &str)]) -> String {
    let mut sorted: Vec<(Vec<&str>, &str)> = nodes
        .iter()
        .map(|(p, ty)| (p.split('/').filter(|c| !c.is_empty()).collect(), *ty))
        .collect();
    sorted.sort();
    let mut out = String::new();
    for (comps, ty) in sorted {
        let depth = comps.len().saturating_sub(1);
        let name = comps.last().copied().unwrap_or("");
        out.push_str(&format!("{:indent$}/{name} ({ty})\n", "", indent = 2 * depth));
    }
    out
}
