//! QEMU 11.0's `virt` memory map and machine properties.

use smmu::{Pas, SmmuConfig, SparseMem, Window};

use super::board::{Board, Kind, Region, SMMU_QOM_PATH, SysMem, base_qom_nodes, render_qom_tree};
use super::devices::{PciBus, ROOT_BUS, parse_device, place_devices};
use super::iommu::Iommu;
use super::props::{SMMU_DRIVER, parse_bool, smmu_config};
use crate::bus::MachineOpts;

/// QOM type of the machine.
pub const TYPE_NAME: &str = "virt-11.0-machine";

/// `hw/arm/virt.c` `base_memmap` / `extended_memmap` (QEMU 11.0, RAM up to 255 GiB).
pub mod map {
    /// Two 64 MiB flash banks; the first is Secure-only with `secure=on`.
    pub const FLASH_BASE: u64 = 0x0000_0000;
    pub const FLASH_BANK_SIZE: u64 = 0x0400_0000;
    pub const SMMU_BASE: u64 = 0x0905_0000;
    pub const SECURE_RAM_BASE: u64 = 0x0e00_0000;
    pub const SECURE_RAM_SIZE: u64 = 0x0100_0000;
    pub const PCIE_MMIO_BASE: u64 = 0x1000_0000;
    pub const PCIE_MMIO_SIZE: u64 = 0x2eff_0000;
    pub const PCIE_ECAM_BASE: u64 = 0x3f00_0000;
    pub const PCIE_ECAM_SIZE: u64 = 0x0100_0000;
    pub const RAM_BASE: u64 = 0x4000_0000;
    /// QEMU's `-m` default.
    pub const RAM_DEFAULT_SIZE: u64 = 128 << 20;
    /// The legacy RAM limit (RAM ends at the 256 GiB mark).
    pub const RAM_LIMIT: u64 = 255 << 30;
    pub const HIGH_PCIE_ECAM_BASE: u64 = 0x40_1000_0000;
    pub const HIGH_PCIE_ECAM_SIZE: u64 = 0x1000_0000;
    pub const HIGH_PCIE_MMIO_BASE: u64 = 0x80_0000_0000;
    pub const HIGH_PCIE_MMIO_SIZE: u64 = 0x80_0000_0000;
}

/// The machine properties that change what the model builds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtOpts {
    pub secure: bool,
    pub iommu: bool,
    pub highmem: bool,
    pub highmem_ecam: bool,
    pub highmem_mmio: bool,
}

impl Default for VirtOpts {
    fn default() -> Self {
        VirtOpts {
            secure: false,
            iommu: false,
            highmem: true,
            highmem_ecam: true,
            highmem_mmio: true,
        }
    }
}

/// Boolean machine properties QEMU's virt (and every machine) has, accepted for command-line
/// compatibility; the model has nothing they would change (no CPU, GIC, firmware tables, USB,
/// display).
const IGNORED_BOOLS: &[&str] = &[
    "virtualization",
    "its",
    "ras",
    "mte",
    "highmem-redists",
    "compact-highmem",
    "dtb-randomness",
    "default-bus-bypass-iommu",
    "usb",
    "graphics",
    "dump-guest-core",
    "mem-merge",
    "suppress-vmdesc",
];

/// Parses `-machine virt,...` properties.
pub fn parse_props(props: &[(String, String)]) -> Result<VirtOpts, String> {
    let mut o = VirtOpts::default();
    for (k, v) in props {
        let (k, v) = (k.as_str(), v.as_str());
        match k {
            "secure" => o.secure = parse_bool(k, v)?,
            "highmem" => o.highmem = parse_bool(k, v)?,
            "highmem-ecam" => o.highmem_ecam = parse_bool(k, v)?,
            "highmem-mmio" => o.highmem_mmio = parse_bool(k, v)?,
            "iommu" => {
                o.iommu = match v {
                    "smmuv3" => true,
                    "none" => false,
                    _ => {
                        return Err("Invalid iommu value\nValid values are none, smmuv3.".into());
                    }
                }
            }
            "gic-version" => {
                if !matches!(v, "2" | "3" | "4" | "host" | "max") {
                    return Err(
                        "Invalid gic-version value\nValid values are 3, 2, 4, host, and max."
                            .into(),
                    );
                }
            }
            "acpi" => {
                if !matches!(v, "on" | "off" | "auto") {
                    return Err(format!("Parameter 'acpi' does not accept value '{v}'"));
                }
            }
            "accel" => {}
            _ if IGNORED_BOOLS.contains(&k) => {
                parse_bool(k, v)?;
            }
            _ => return Err(format!("Property '{TYPE_NAME}.{k}' not found")),
        }
    }
    Ok(o)
}

/// Rejects `-global` drivers the model does not have.
pub fn check_global_drivers(opts: &MachineOpts) -> Result<(), String> {
    for g in &opts.globals {
        if g.driver != SMMU_DRIVER && !super::devices::DRIVERS.contains(&g.driver.as_str()) {
            return Err(format!("global {}.{} has invalid class name", g.driver, g.prop));
        }
    }
    Ok(())
}

/// Builds `virt`; `make_iommu` turns the validated SMMU configuration into the IOMMU (only
/// called with `iommu=smmuv3`).
pub fn build<I: Iommu>(
    opts: &MachineOpts,
    make_iommu: impl FnOnce(SmmuConfig) -> I,
) -> Result<Board<I>, String> {
    let o = parse_props(&opts.machine_props)?;
    check_global_drivers(opts)?;
    let ram_size = if opts.ram_size == 0 { map::RAM_DEFAULT_SIZE } else { opts.ram_size };
    if ram_size > map::RAM_LIMIT {
        return Err("mach-virt: cannot model more than 255GB RAM".into());
    }
    if !o.highmem && map::RAM_BASE + ram_size > 1 << 32 {
        return Err("highmem=off, but memory crosses the 4GiB limit".into());
    }
    let cfg = smmu_config(&opts.globals)?;
    let specs = opts
        .devices
        .iter()
        .map(|d| parse_device(d, &opts.globals))
        .collect::<Result<Vec<_>, _>>()?;
    let pci = place_devices(&specs)?;
    let iommu = o.iommu.then(|| make_iommu(cfg));

    let mut mem = SysMem { ram: SparseMem::new(), flash: Vec::new() };
    let all = Pas::ALL.iter().fold(0, |m, p| m | p.bit());
    let secure_only = Pas::Secure.bit() | Pas::Root.bit();
    mem.flash.push(Window {
        name: "virt.flash0",
        base: map::FLASH_BASE,
        size: map::FLASH_BANK_SIZE,
        pas_mask: if o.secure { secure_only } else { all },
    });
    mem.flash.push(Window {
        name: "virt.flash1",
        base: map::FLASH_BASE + map::FLASH_BANK_SIZE,
        size: map::FLASH_BANK_SIZE,
        pas_mask: all,
    });
    mem.ram.add_window(Window {
        name: "mach-virt.ram",
        base: map::RAM_BASE,
        size: ram_size,
        pas_mask: all,
    })?;
    if o.secure {
        mem.ram.add_window(Window {
            name: "virt.secure-ram",
            base: map::SECURE_RAM_BASE,
            size: map::SECURE_RAM_SIZE,
            pas_mask: secure_only,
        })?;
    }

    let region = |name, base, size, kind| Region { name, base, size, kind };
    let mut regions: Vec<Region> =
        mem.flash.iter().map(|w| region(w.name, w.base, w.size, Kind::Memory)).collect();
    regions.push(region("mach-virt.ram", map::RAM_BASE, ram_size, Kind::Memory));
    if o.secure {
        regions.push(region(
            "virt.secure-ram",
            map::SECURE_RAM_BASE,
            map::SECURE_RAM_SIZE,
            Kind::Memory,
        ));
    }
    if let Some(i) = &iommu {
        regions.push(region("smmuv3", map::SMMU_BASE, i.mmio_size(), Kind::Smmu));
    }
    regions.push(region("pcie-mmio", map::PCIE_MMIO_BASE, map::PCIE_MMIO_SIZE, Kind::PciMmio));
    if o.highmem && o.highmem_ecam {
        regions.push(region(
            "pcie-ecam-high",
            map::HIGH_PCIE_ECAM_BASE,
            map::HIGH_PCIE_ECAM_SIZE,
            Kind::Ecam,
        ));
    } else {
        regions.push(region("pcie-ecam", map::PCIE_ECAM_BASE, map::PCIE_ECAM_SIZE, Kind::Ecam));
    }
    if o.highmem && o.highmem_mmio {
        regions.push(region(
            "pcie-mmio-high",
            map::HIGH_PCIE_MMIO_BASE,
            map::HIGH_PCIE_MMIO_SIZE,
            Kind::PciMmio,
        ));
    }
    let qom = qom_tree(&pci, o.iommu);
    Board::new(regions, mem, iommu, pci, ram_size, qom)
}

/// `info qom-tree` of the parts the model has. The unattached indices follow QEMU 11.0 virt's
/// creation order with one CPU (CPU 0, GIC 1, ITS 2, UART 3, RTC 4, PCIe host 5, SMMU 6).
fn qom_tree(pci: &PciBus, iommu: bool) -> String {
    let mut nodes = base_qom_nodes(TYPE_NAME);
    nodes.extend([
        ("/machine/unattached/device[5]".into(), "gpex-pcihost"),
        ("/machine/unattached/device[5]/gpex_root".into(), "gpex-root"),
        (format!("/machine/unattached/device[5]/{ROOT_BUS}"), "PCIE"),
        ("/machine/virt.flash0".into(), "cfi.pflash01"),
        ("/machine/virt.flash1".into(), "cfi.pflash01"),
    ]);
    if iommu {
        nodes.push((SMMU_QOM_PATH.into(), "arm-smmuv3"));
    }
    for f in &pci.fns {
        if let Some(p) = &f.qom_path {
            nodes.push((p.clone(), f.dev.qom_type()));
        }
    }
    render_qom_tree(&nodes)
}
