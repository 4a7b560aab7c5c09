//! The machines behind the qtest [`Bus`]: QEMU 11.0's `virt` (as far as SMMU qtests can
//! see it) and `none`.
//!
//! # `virt`
//!
//! | Region | Base | Size | Notes |
//! |---|---|---|---|
//! | Flash (2 banks) | 0x0000_0000 | 2 x 64 MiB | reads zero, writes ignored; bank 0 Secure/Root only with `secure=on` |
//! | SMMU | 0x0905_0000 | `Smmu::mmio_size()` | only with `iommu=smmuv3`; NS pages 0/1, Secure page at +0x8000, Root and Realm pages above |
//! | Secure RAM | 0x0e00_0000 | 16 MiB | only with `secure=on`; Secure and Root PAS only |
//! | PCIe MMIO | 0x1000_0000 | 0x2eff_0000 | BARs decode here; unclaimed reads return all-ones |
//! | PCIe ECAM | 0x3f00_0000 | 16 MiB | only with `highmem=off` or `highmem-ecam=off` |
//! | RAM | 0x4000_0000 | `-m` (128 MiB default, 255 GiB at most) | sparse, every PAS |
//! | High PCIe ECAM | 0x40_1000_0000 | 256 MiB | the default ECAM (what libqos uses) |
//! | High PCIe MMIO | 0x80_0000_0000 | 512 GiB | with `highmem` and `highmem-mmio` |
//!
//! Everything else is unassigned ([`smmu::BusError::Unassigned`]). The root bus has QEMU's
//! host bridge (`gpex-root`, 1b36:0008, class host bridge) at 00:00.0 and the `-device`s in
//! command-line order from 00:01.0 (or where `addr=SLOT[.FN]` puts them). A device's StreamID
//! is its BDF unless `sid=N` says otherwise; `sec-sid=non-secure|secure|realm` sets the
//! security state of its stream.
//!
//! CPU accesses carry the PAS of the qtest attrs token ([`crate::bus::Attrs::pas`]): the SMMU sees it on
//! every register access, memory windows check it against their PAS mask. Accesses are cut
//! into device accesses as QEMU's memory core cuts them (naturally aligned powers of two up to
//! the device's largest access: 8 for the SMMU, 4 for the ECAM and iommu-testdev's BAR). A
//! failed read still fills the buffer with what QEMU would return (zeros for the failed
//! pieces) and reports the first error.
//!
//! The SMMU and the devices see physical memory as the RAM windows and flash:
//! a DMA or table access to any MMIO region is a bus error. Without an SMMU a DMA goes to its
//! IOVA in the Non-secure PAS (QEMU's `address_space_memory`).
//!
//! The SMMU's wired interrupts (DESIGN.md's numbering, QEMU's 0-3 for the Non-secure
//! interface) are reported for `/machine/unattached/device[6]` (alias `/machine/smmuv3`,
//! GPIO-out list `sysbus-irq`, 13 lines). QEMU 11.0 virt with one CPU numbers the SMMU
//! `device[6]` (observed with the iommu-smmuv3-test command line); the model keeps that index
//! for every configuration, where QEMU's shifts with the number of devices created before the
//! SMMU (more CPUs, `secure=on`'s Secure UART, `its=off`). The alias does not move.
//!
//! # `none`
//!
//! No devices. RAM at address 0 when the RAM size is not 0: QEMU's `none` has RAM only when
//! `-m` is given, and [`MachineOpts::ram_size`] cannot tell a default from an explicit `-m`,
//! so a frontend that wants QEMU's exact behaviour passes 0 without `-m`.
//!
//! # Differences from QEMU
//!
//! - RAM starts zeroed. QEMU puts the device tree at the RAM base (`read 0x40000000 8` gives
//!   `OK 0xd00dfeed00100000` there); tests must not rely on either.
//! - Only the regions above exist: the GIC, UARTs, RTC, fw_cfg, GPIO, virtio-mmio, platform
//!   bus and PCIe PIO window are unassigned. Flash has no CFI command set.
//! - Secure RAM and Secure flash are reached in the Secure and Root PAS, by the CPU and by the
//!   SMMU and DMA masters alike; QEMU's SMMU and iommu-testdev only ever use Non-secure system
//!   memory.
//! - PCI: bus 0 only, conventional 256-byte configuration spaces, memory BARs only, no
//!   capabilities, INTx or MSI.
//! - Only `virt-11.0` (alias `virt`) and `none` exist. Machine properties QEMU accepts that
//!   change nothing here (`acpi`, `gic-version`, `virtualization`, `its`, ...) are accepted
//!   and checked; unknown ones are errors, as in QEMU. A `-global` for a driver the model does
//!   not have is an error (QEMU warns).

mod access;
mod board;
mod devices;
mod help;
mod iommu;
mod none;
mod pci;
mod props;
mod virt;

pub use board::{SMMU_GPIO_OUT, SMMU_QOM_ALIAS, SMMU_QOM_PATH};
pub use help::{MACHINES, MachineType};
pub use iommu::Iommu;

use smmu::{Smmu, SmmuConfig};

use crate::bus::{Bus, MachineOpts};

/// Builds the machine `opts` describe, with the SMMU model as its IOMMU.
///
/// Errors are QEMU's messages (without the program-name prefix) for an unknown machine,
/// device, property or property value.
pub fn build_machine(opts: &MachineOpts) -> Result<Box<dyn Bus>, String> {
    build_machine_with(opts, Smmu::new)
}

/// Builds the machine `opts` describe with `make_iommu` as its IOMMU (given the validated
/// `-global arm-smmuv3.*` configuration; called only for `virt,iommu=smmuv3`).
pub fn build_machine_with<I: Iommu + 'static>(
    opts: &MachineOpts,
    make_iommu: impl FnOnce(SmmuConfig) -> I,
) -> Result<Box<dyn Bus>, String> {
    Ok(match opts.machine.as_str() {
        "virt" | "virt-11.0" => Box::new(virt::build(opts, make_iommu)?),
        "none" => Box::new(none::build::<I>(opts)?),
        "" => {
            return Err("No machine specified, and there is no default\n\
                        Use -machine help to list supported machines"
                .into());
        }
        other => {
            return Err(format!(
                "unsupported machine type: \"{other}\"\nUse -machine help to list supported machines"
            ));
        }
    })
}

/// `-machine help`.
pub fn help_machines() -> String {
    help::machines()
}

/// `-device help`.
pub fn help_devices() -> String {
    help::devices()
}

/// `-device DRIVER,help`; `None` for a driver the model does not have.
pub fn help_device(driver: &str) -> Option<String> {
    help::device(driver)
}

#[cfg(test)]
mod e2e_tests;
#[cfg(test)]
mod tests;
