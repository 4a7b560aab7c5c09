//! `-machine help`, `-device help` and `-device DRIVER,help` in QEMU's formats.

use super::devices::IOMMU_TESTDEV;

/// A machine type the model implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineType {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub desc: &'static str,
}

/// The machine types, sorted as QEMU lists them.
pub const MACHINES: &[MachineType] = &[
    MachineType { name: "none", alias: None, desc: "empty machine" },
    MachineType { name: "virt-11.0", alias: Some("virt"), desc: "QEMU 11.0 ARM Virtual Machine" },
];

/// `-machine help`.
pub fn machines() -> String {
    let mut s = String::from("Supported machines are:\n");
    for m in MACHINES {
        if let Some(a) = m.alias {
            s.push_str(&format!("{a:<20} {} (alias of {})\n", m.desc, m.name));
        }
        s.push_str(&format!("{:<20} {}\n", m.name, m.desc));
    }
    s
}

/// `-device help`: the user-creatable devices by category.
pub fn devices() -> String {
    format!("Misc devices:\nname \"{IOMMU_TESTDEV}\", bus PCI, desc \"A test device for IOMMU\"\n")
}

/// One property line of `-device DRIVER,help` (QEMU's `qdev_device_help` layout).
fn prop_line(name: &str, ty: &str, desc: Option<&str>, default: Option<&str>) -> String {
    let mut l = format!("  {name}=<{ty}>");
    if desc.is_some() || default.is_some() {
        if l.len() < 24 {
            l.push_str(&" ".repeat(24 - l.len()));
        }
        l.push_str(" - ");
        l.push_str(desc.unwrap_or(""));
        if let Some(d) = default {
            l.push_str(&format!(" (default: {d})"));
        }
    }
    l.push('\n');
    l
}

/// `-device DRIVER,help`, or `None` for a driver the model does not have.
pub fn device(driver: &str) -> Option<String> {
    if driver != IOMMU_TESTDEV {
        return None;
    }
    let mut s = format!("{driver} options:\n");
    s += &prop_line("acpi-index", "uint32", None, Some("0"));
    s += &prop_line(
        "addr",
        "int32",
        Some("Slot and optional function number, example: 06.0 or 06"),
        Some("-1"),
    );
    s += &prop_line("multifunction", "bool", Some("on/off"), Some("false"));
    s += &prop_line("rombar", "int32", None, Some("-1"));
    s += &prop_line("romfile", "str", None, None);
    s += &prop_line(
        "sec-sid",
        "str",
        Some("Security state of the stream: non-secure, secure or realm"),
        Some("\"non-secure\""),
    );
    s += &prop_line("sid", "uint32", Some("StreamID (the BDF when not set)"), None);
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_help_lists_none_and_virt_with_its_alias() {
        assert_eq!(
            machines(),
            "Supported machines are:\n\
             none                 empty machine\n\
             virt                 QEMU 11.0 ARM Virtual Machine (alias of virt-11.0)\n\
             virt-11.0            QEMU 11.0 ARM Virtual Machine\n"
        );
    }

    #[test]
    fn device_help_lists_iommu_testdev_under_misc() {
        assert_eq!(
            devices(),
            "Misc devices:\nname \"iommu-testdev\", bus PCI, desc \"A test device for IOMMU\"\n"
        );
    }

    #[test]
    fn device_property_help_pads_names_to_24_columns() {
        let h = device("iommu-testdev").unwrap();
        assert!(
            h.starts_with("iommu-testdev options:\n  acpi-index=<uint32>    -  (default: 0)\n")
        );
        assert!(h.contains(
            "  addr=<int32>           - Slot and optional function number, example: 06.0 or 06 \
             (default: -1)\n"
        ));
        assert!(h.contains("  multifunction=<bool>   - on/off (default: false)\n"));
        assert!(h.contains("  romfile=<str>\n"));
    }

    #[test]
    fn unknown_driver_has_no_help() {
        assert_eq!(device("e1000"), None);
    }
}
