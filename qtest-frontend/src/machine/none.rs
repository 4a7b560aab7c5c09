//! QEMU's `none` machine: no devices; RAM at address 0 only when a RAM size is given.

use smmu::{Pas, SparseMem, Window};

use super::board::{Board, Kind, Region, SysMem, base_qom_nodes, render_qom_tree};
use super::devices::PciBus;
use super::iommu::Iommu;
use super::props::parse_bool;
use crate::bus::MachineOpts;

pub const TYPE_NAME: &str = "none-machine";

/// Machine properties every QEMU machine has; none changes anything here.
const GENERIC_BOOLS: &[&str] =
    &["usb", "graphics", "dump-guest-core", "mem-merge", "suppress-vmdesc"];

/// Builds `none`. `opts.ram_size` of 0 means no RAM (QEMU's default for `none`).
pub fn build<I: Iommu>(opts: &MachineOpts) -> Result<Board<I>, String> {
    for (k, v) in &opts.machine_props {
        match k.as_str() {
            "accel" => {}
            k if GENERIC_BOOLS.contains(&k) => {
                parse_bool(k, v)?;
            }
            _ => return Err(format!("Property '{TYPE_NAME}.{k}' not found")),
        }
    }
    if let Some(d) = opts.devices.first() {
        if !super::devices::DRIVERS.contains(&d.driver.as_str()) {
            return Err(format!("'{}' is not a valid device model name", d.driver));
        }
        return Err(format!("No 'PCI' bus found for device '{}'", d.driver));
    }
    super::virt::check_global_drivers(opts)?;
    let mut mem = SysMem { ram: SparseMem::new(), flash: Vec::new() };
    let mut regions = Vec::new();
    if opts.ram_size > 0 {
        let all = Pas::ALL.iter().fold(0, |m, p| m | p.bit());
        let w = Window { name: "ram", base: 0, size: opts.ram_size, pas_mask: all };
        mem.ram.add_window(w)?;
        regions.push(Region { name: "ram", base: 0, size: opts.ram_size, kind: Kind::Memory });
    }
    let qom = render_qom_tree(&base_qom_nodes(TYPE_NAME));
    Board::new(regions, mem, None, PciBus::default(), opts.ram_size, qom)
}
