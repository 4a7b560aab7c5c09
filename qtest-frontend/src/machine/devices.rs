//! `-device` instantiation and the PCI functions of the root bus.

use smmu::{BusError, SecSid};
use testdev::iommu_testdev::regs as itd;
use testdev::{DmaPort, IommuTestdev, StreamId};

use super::pci::{self, BarDecl, ConfigSpace, PciIdentity};
use super::props::{parse_bool, parse_uint};
use crate::bus::{DeviceOpts, GlobalOpt};

/// The root bus QEMU's virt names `pcie.0`.
pub const ROOT_BUS: &str = "pcie.0";

/// The device behind a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// QEMU's `gpex-root` at 00:00.0.
    HostBridge,
    IommuTestdev(IommuTestdev),
}

impl Endpoint {
    pub fn qom_type(&self) -> &'static str {
        match self {
            Endpoint::HostBridge => "gpex-root",
            Endpoint::IommuTestdev(_) => IOMMU_TESTDEV,
        }
    }

    pub fn identity(&self) -> PciIdentity {
        match self {
            // PCI_VENDOR_ID_REDHAT, PCI_DEVICE_ID_REDHAT_PCIE_HOST, PCI_CLASS_BRIDGE_HOST.
            Endpoint::HostBridge => PciIdentity {
                vendor_id: 0x1b36,
                device_id: 0x0008,
                revision: 0,
                class_id: 0x0600,
                bars: Vec::new(),
            },
            Endpoint::IommuTestdev(_) => PciIdentity {
                vendor_id: itd::pci::VENDOR_ID,
                device_id: itd::pci::DEVICE_ID,
                revision: itd::pci::REVISION,
                class_id: itd::pci::CLASS_ID,
                bars: vec![BarDecl {
                    index: 0,
                    size: itd::pci::BAR0_SIZE,
                    is_64: false,
                    prefetchable: false,
                }],
            },
        }
    }

    /// Largest access a BAR accepts (the memory core cuts larger ones).
    pub fn bar_max_access(&self) -> usize {
        usize::from(itd::ACCESS_SIZE)
    }

    pub fn bar_read<P: DmaPort + ?Sized>(
        &mut self,
        _bar: usize,
        off: u64,
        size: usize,
        port: &mut P,
    ) -> Result<u64, BusError> {
        match self {
            Endpoint::HostBridge => Err(BusError::Unassigned),
            Endpoint::IommuTestdev(d) => d.mmio_read(off, size as u8, port),
        }
    }

    pub fn bar_write(
        &mut self,
        _bar: usize,
        off: u64,
        size: usize,
        value: u64,
    ) -> Result<(), BusError> {
        match self {
            Endpoint::HostBridge => Err(BusError::Unassigned),
            Endpoint::IommuTestdev(d) => d.mmio_write(off, size as u8, value),
        }
    }

    pub fn reset(&mut self) {
        match self {
            Endpoint::HostBridge => {}
            Endpoint::IommuTestdev(d) => d.reset(),
        }
    }
}

/// One function on the root bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciFunction {
    pub devfn: u8,
    pub config: ConfigSpace,
    pub dev: Endpoint,
    /// QOM path (`/machine/peripheral-anon/device[0]`, `/machine/peripheral/ID`).
    pub qom_path: Option<String>,
}

/// The root bus: functions by devfn.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PciBus {
    pub fns: Vec<PciFunction>,
}

impl PciBus {
    fn has(&self, devfn: u8) -> bool {
        self.fns.iter().any(|f| f.devfn == devfn)
    }

    /// The BAR decoding `addr`: (function index, BAR number, base, size).
    pub fn bar_at(&self, addr: u64) -> Option<(usize, usize, u64, u64)> {
        self.decoded().find(|&(_, _, base, size)| addr >= base && addr - base < size)
    }

    /// The lowest BAR base above `addr`, if any.
    pub fn next_bar_above(&self, addr: u64) -> Option<u64> {
        self.decoded().map(|(_, _, base, _)| base).filter(|&b| b > addr).min()
    }

    fn decoded(&self) -> impl Iterator<Item = (usize, usize, u64, u64)> + '_ {
        self.fns.iter().enumerate().flat_map(|(i, f)| {
            f.config
                .bars()
                .iter()
                .filter_map(move |b| f.config.bar_range(b.index).map(|(s, n)| (i, b.index, s, n)))
        })
    }

    /// Device reset of every function (configuration header and device state).
    pub fn reset(&mut self) {
        for f in &mut self.fns {
            f.config.reset();
            f.dev.reset();
        }
    }
}

pub const IOMMU_TESTDEV: &str = "iommu-testdev";

/// The drivers `-device` accepts.
pub const DRIVERS: &[&str] = &[IOMMU_TESTDEV];

/// A parsed `-device`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    pub driver: String,
    pub id: Option<String>,
    pub devfn: Option<u8>,
    pub multifunction: bool,
    pub sid: Option<u32>,
    pub sec_sid: SecSid,
}

/// Parses one `-device` with the `-global DRIVER.PROP` defaults of its driver applied first.
pub fn parse_device(d: &DeviceOpts, globals: &[GlobalOpt]) -> Result<DeviceSpec, String> {
    if !DRIVERS.contains(&d.driver.as_str()) {
        return Err(format!("'{}' is not a valid device model name", d.driver));
    }
    let mut spec = DeviceSpec {
        driver: d.driver.clone(),
        id: None,
        devfn: None,
        multifunction: false,
        sid: None,
        sec_sid: SecSid::NonSecure,
    };
    let defaults = globals.iter().filter(|g| g.driver == d.driver).map(|g| (&g.prop, &g.value));
    for (k, v) in defaults.chain(d.props.iter().map(|(k, v)| (k, v))) {
        let v = v.as_str();
        match k.as_str() {
            "id" => spec.id = Some(v.to_string()),
            "bus" => {
                if v != ROOT_BUS {
                    return Err(format!("Bus '{v}' not found"));
                }
            }
            "addr" => {
                spec.devfn = Some(pci::parse_devfn(v).ok_or_else(|| {
                    format!("Property '{}.addr' doesn't take value '{v}'", d.driver)
                })?);
            }
            "multifunction" => spec.multifunction = parse_bool(k, v)?,
            "sid" => spec.sid = Some(parse_uint(k, v, u64::from(u32::MAX))? as u32),
            "sec-sid" => {
                spec.sec_sid =
                    SecSid::ALL.into_iter().find(|s| s.name() == v).ok_or_else(|| {
                        format!(
                            "Property '{}.sec-sid' doesn't take value '{v}' (valid values: \
                         non-secure, secure, realm)",
                            d.driver
                        )
                    })?;
            }
            "rombar" => {
                if v.parse::<i32>().is_err() {
                    return Err("Parameter 'rombar' expects int32".into());
                }
            }
            "romfile" => {
                if !v.is_empty() {
                    return Err(format!("{}: romfile is not supported by this model", d.driver));
                }
            }
            "acpi-index" => {
                parse_uint(k, v, u64::from(u32::MAX))?;
            }
            _ => return Err(format!("Property '{}.{k}' not found", d.driver)),
        }
    }
    Ok(spec)
}

/// Places `-device`s on the root bus in command-line order, as QEMU does: `addr=` where it
/// says, otherwise function 0 of the lowest free slot; returns the functions with the host
/// bridge at 00:00.0 first.
pub fn place_devices(specs: &[DeviceSpec]) -> Result<PciBus, String> {
    let host = Endpoint::HostBridge;
    let mut bus = PciBus {
        fns: vec![PciFunction {
            devfn: 0,
            config: ConfigSpace::new(&host.identity(), false),
            dev: host,
            qom_path: None,
        }],
    };
    let mut anon = 0;
    let mut ids: Vec<&str> = Vec::new();
    for s in specs {
        let devfn = match s.devfn {
            Some(df) => {
                if bus.has(df) {
                    let who = bus.fns.iter().find(|f| f.devfn == df).map(|f| f.dev.qom_type());
                    return Err(format!(
                        "PCI: slot {} function {} not available for {}, in use by {}",
                        df >> 3,
                        df & 7,
                        s.driver,
                        who.unwrap_or("?")
                    ));
                }
                df
            }
            None => (0..32u8).map(|slot| slot << 3).find(|&df| !bus.has(df)).ok_or_else(|| {
                format!("PCI: no slot/function available for {}, all in use or reserved", s.driver)
            })?,
        };
        check_multifunction(&bus, devfn, s)?;
        let qom_path = match &s.id {
            Some(id) => {
                if ids.contains(&id.as_str()) {
                    return Err(format!("Duplicate device ID '{id}'"));
                }
                ids.push(id);
                format!("/machine/peripheral/{id}")
            }
            None => {
                anon += 1;
                format!("/machine/peripheral-anon/device[{}]", anon - 1)
            }
        };
        let stream = StreamId { sid: s.sid.unwrap_or(u32::from(devfn)), sec_sid: s.sec_sid };
        let dev = Endpoint::IommuTestdev(IommuTestdev::new(stream));
        let config = ConfigSpace::new(&dev.identity(), s.multifunction);
        bus.fns.push(PciFunction { devfn, config, dev, qom_path: Some(qom_path) });
    }
    bus.fns.sort_by_key(|f| f.devfn);
    Ok(bus)
}

/// QEMU's `pci_init_multifunction` rules: a function other than 0 needs function 0 (when
/// present) to be multifunction; a single-function device at function 0 needs the slot's
/// other functions empty.
fn check_multifunction(bus: &PciBus, devfn: u8, s: &DeviceSpec) -> Result<(), String> {
    let slot = devfn >> 3;
    if devfn & 7 != 0 {
        let f0_single = bus
            .fns
            .iter()
            .any(|f| f.devfn == slot << 3 && f.config.read(pci::cfg::HEADER_TYPE, 1) & 0x80 == 0);
        if f0_single {
            return Err(format!(
                "PCI: single function device can't be populated in function {slot:x}.{:x}",
                devfn & 7
            ));
        }
    } else if !s.multifunction
        && let Some(f) = bus.fns.iter().find(|f| f.devfn >> 3 == slot && f.devfn & 7 != 0)
    {
        return Err(format!(
            "PCI: {slot:x}.0 indicates single function, but {slot:x}.{:x} is already populated.",
            f.devfn & 7
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(props: &[(&str, &str)]) -> DeviceOpts {
        DeviceOpts {
            driver: IOMMU_TESTDEV.into(),
            props: props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    fn place(devs: &[DeviceOpts]) -> Result<PciBus, String> {
        let specs: Vec<DeviceSpec> =
            devs.iter().map(|d| parse_device(d, &[])).collect::<Result<_, _>>()?;
        place_devices(&specs)
    }

    fn sid_of(f: &PciFunction) -> u32 {
        match &f.dev {
            Endpoint::IommuTestdev(d) => d.stream().sid,
            Endpoint::HostBridge => panic!("host bridge has no stream"),
        }
    }

    #[test]
    fn host_bridge_sits_at_devfn_0_and_first_device_at_slot_1() {
        let bus = place(&[dev(&[])]).unwrap();
        let devfns: Vec<u8> = bus.fns.iter().map(|f| f.devfn).collect();
        assert_eq!(devfns, [0, 8]);
        assert_eq!(bus.fns[0].config.read(0, 4), 0x0008_1b36);
        assert_eq!(bus.fns[0].config.read(0x0a, 2), 0x0600);
        assert_eq!(sid_of(&bus.fns[1]), 8);
    }

    #[test]
    fn devices_take_free_slots_in_command_line_order() {
        let bus = place(&[dev(&[("addr", "2")]), dev(&[]), dev(&[])]).unwrap();
        let devfns: Vec<u8> = bus.fns.iter().map(|f| f.devfn).collect();
        assert_eq!(devfns, [0, 8, 16, 24]);
        let paths: Vec<_> = bus.fns[1..].iter().map(|f| f.qom_path.clone().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "/machine/peripheral-anon/device[1]",
                "/machine/peripheral-anon/device[0]",
                "/machine/peripheral-anon/device[2]"
            ]
        );
    }

    #[test]
    fn addr_property_sets_the_bdf_and_stream_id() {
        let bus = place(&[dev(&[("addr", "1f.0")])]).unwrap();
        assert_eq!(bus.fns[1].devfn, 0xf8);
        assert_eq!(sid_of(&bus.fns[1]), 0xf8);
    }

    #[test]
    fn sid_property_overrides_the_bdf() {
        let bus = place(&[dev(&[("sid", "0x1234")])]).unwrap();
        assert_eq!((bus.fns[1].devfn, sid_of(&bus.fns[1])), (8, 0x1234));
    }

    #[test]
    fn sec_sid_property_sets_the_stream_security_state() {
        let bus = place(&[dev(&[("sec-sid", "secure")])]).unwrap();
        let Endpoint::IommuTestdev(d) = &bus.fns[1].dev else { panic!() };
        assert_eq!(d.stream().sec_sid, SecSid::Secure);
    }

    #[test]
    fn global_default_applies_before_device_properties() {
        let g = |p: &str, v: &str| GlobalOpt {
            driver: IOMMU_TESTDEV.into(),
            prop: p.into(),
            value: v.into(),
        };
        let s = parse_device(&dev(&[("sid", "5")]), &[g("sid", "7"), g("sec-sid", "realm")]);
        let s = s.unwrap();
        assert_eq!((s.sid, s.sec_sid), (Some(5), SecSid::Realm));
    }

    #[test]
    fn id_places_device_under_peripheral() {
        let bus = place(&[dev(&[("id", "dma0")])]).unwrap();
        assert_eq!(bus.fns[1].qom_path.as_deref(), Some("/machine/peripheral/dma0"));
    }

    #[test]
    fn occupied_address_is_an_error() {
        let e = place(&[dev(&[]), dev(&[("addr", "1")])]).unwrap_err();
        assert!(e.contains("slot 1 function 0 not available"), "{e}");
        assert!(place(&[dev(&[("addr", "0")])]).is_err());
    }

    #[test]
    fn function_beside_single_function_device_is_an_error() {
        let e = place(&[dev(&[("addr", "1")]), dev(&[("addr", "1.1")])]).unwrap_err();
        assert!(e.contains("single function device can't be populated in function 1.1"), "{e}");
    }

    #[test]
    fn multifunction_slot_accepts_more_functions() {
        let bus = place(&[dev(&[("addr", "1"), ("multifunction", "on")]), dev(&[("addr", "1.3")])]);
        assert_eq!(bus.unwrap().fns.iter().map(|f| f.devfn).collect::<Vec<_>>(), [0, 8, 11]);
    }

    #[test]
    fn single_function_after_populated_function_is_an_error() {
        let e = place(&[dev(&[("addr", "1.1")]), dev(&[])]).unwrap_err();
        assert!(e.contains("1.0 indicates single function, but 1.1 is already populated"), "{e}");
    }

    #[test]
    fn unknown_driver_property_and_values_are_errors() {
        let bad = DeviceOpts { driver: "e1000".into(), props: vec![] };
        assert_eq!(parse_device(&bad, &[]), Err("'e1000' is not a valid device model name".into()));
        assert_eq!(
            parse_device(&dev(&[("foo", "1")]), &[]),
            Err("Property 'iommu-testdev.foo' not found".into())
        );
        for (k, v) in [("addr", "32"), ("sec-sid", "root"), ("sid", "x"), ("bus", "pcie.1")] {
            assert!(parse_device(&dev(&[(k, v)]), &[]).is_err(), "{k}={v}");
        }
    }

    #[test]
    fn duplicate_ids_are_an_error() {
        assert!(place(&[dev(&[("id", "a")]), dev(&[("id", "a")])]).is_err());
    }

    #[test]
    fn full_bus_is_an_error() {
        let devs: Vec<DeviceOpts> = (0..32).map(|_| dev(&[])).collect();
        assert!(place(&devs).unwrap_err().contains("no slot/function available"));
    }
}
