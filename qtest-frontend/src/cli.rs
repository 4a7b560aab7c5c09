//! A QEMU-style command line: the options libqtest passes (and the other common ones),
//! turned into [`MachineOpts`] for the machine builder and transport options for the server.
//!
//! Options are `-name` or `--name`, followed by their argument when they take one. Options
//! this model honours change its behaviour; options whose value is what the model does anyway
//! (`-display none`, `-audio none`, `-net none`, `-nodefaults`, ...) are accepted silently;
//! other known QEMU options cannot matter to a model without CPUs, disks or display and are
//! ignored with one warning on stderr listing them; anything else is an error.

use std::collections::HashMap;

use crate::bus::{Bus, DeviceOpts, GlobalOpt, MachineOpts};
use crate::transport::Endpoint;

/// The machine module's entry points, as a value so that the server and the runner can be
/// exercised with another machine.
#[derive(Clone, Copy)]
pub struct MachineApi {
    pub build: fn(&MachineOpts) -> Result<Box<dyn Bus>, String>,
    pub help_machines: fn() -> String,
    pub help_devices: fn() -> String,
    pub help_device: fn(&str) -> Option<String>,
}

/// QEMU's default `-m`.
pub const DEFAULT_RAM: u64 = 128 << 20;

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Action {
    Serve(Box<Config>),
    Version,
    Help,
    MachineHelp,
    DeviceHelp,
    /// `-device DRIVER,help`.
    DeviceProps(String),
}

/// A parsed command line.
#[derive(Debug, PartialEq, Default)]
pub struct Config {
    pub machine: MachineOpts,
    /// `-machine` was given (QEMU has no default machine for aarch64).
    pub machine_given: bool,
    /// `-qtest CHARDEV`.
    pub qtest: Option<Endpoint>,
    /// `-qtest-log`: `None` is stderr, `Some("none")` disables it.
    pub qtest_log: Option<String>,
    /// QMP monitors (`-mon chardev=ID,mode=control` or `-qmp`).
    pub qmp: Vec<Endpoint>,
    /// `-accel qtest` (or `-machine accel=qtest`).
    pub accel_qtest: bool,
    /// `-run-with exit-with-parent=on`.
    pub exit_with_parent: bool,
    pub pidfile: Option<String>,
    /// Options accepted without effect, for the warning.
    pub ignored: Vec<String>,
}

impl Config {
    /// The one warning line for ignored options, if any.
    pub fn warning(&self) -> Option<String> {
        (!self.ignored.is_empty()).then(|| {
            format!("warning: ignored (no effect on this model): {}", self.ignored.join(", "))
        })
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// The option is handled by name below.
    Handled,
    /// Known QEMU option without effect here.
    Ignored,
    /// Known QEMU option that is a no-op here (nothing to warn about).
    Silent,
}

/// Known options: (name, takes an argument, kind).
const OPTIONS: &[(&str, bool, Kind)] = &[
    ("qtest", true, Kind::Handled),
    ("qtest-log", true, Kind::Handled),
    ("chardev", true, Kind::Handled),
    ("mon", true, Kind::Handled),
    ("qmp", true, Kind::Handled),
    ("qmp-pretty", true, Kind::Handled),
    ("machine", true, Kind::Handled),
    ("M", true, Kind::Handled),
    ("m", true, Kind::Handled),
    ("device", true, Kind::Handled),
    ("global", true, Kind::Handled),
    ("accel", true, Kind::Handled),
    ("run-with", true, Kind::Handled),
    ("display", true, Kind::Handled),
    ("audio", true, Kind::Handled),
    ("net", true, Kind::Handled),
    ("nic", true, Kind::Handled),
    ("serial", true, Kind::Handled),
    ("monitor", true, Kind::Handled),
    ("parallel", true, Kind::Handled),
    ("pidfile", true, Kind::Handled),
    ("version", false, Kind::Handled),
    ("h", false, Kind::Handled),
    ("help", false, Kind::Handled),
    ("daemonize", false, Kind::Handled),
    ("nographic", false, Kind::Silent),
    ("nodefaults", false, Kind::Silent),
    ("no-user-config", false, Kind::Silent),
    ("nodefconfig", false, Kind::Silent),
    ("no-reboot", false, Kind::Silent),
    ("no-shutdown", false, Kind::Silent),
    ("enable-kvm", false, Kind::Ignored),
    ("S", false, Kind::Ignored),
    ("s", false, Kind::Ignored),
    ("snapshot", false, Kind::Ignored),
    ("usb", false, Kind::Ignored),
    ("full-screen", false, Kind::Ignored),
    ("only-migratable", false, Kind::Ignored),
    ("preconfig", false, Kind::Ignored),
    ("mem-prealloc", false, Kind::Ignored),
    ("semihosting", false, Kind::Ignored),
    ("cpu", true, Kind::Ignored),
    ("smp", true, Kind::Ignored),
    ("trace", true, Kind::Ignored),
    ("name", true, Kind::Ignored),
    ("uuid", true, Kind::Ignored),
    ("boot", true, Kind::Ignored),
    ("rtc", true, Kind::Ignored),
    ("icount", true, Kind::Ignored),
    ("kernel", true, Kind::Ignored),
    ("initrd", true, Kind::Ignored),
    ("append", true, Kind::Ignored),
    ("dtb", true, Kind::Ignored),
    ("bios", true, Kind::Ignored),
    ("L", true, Kind::Ignored),
    ("drive", true, Kind::Ignored),
    ("blockdev", true, Kind::Ignored),
    ("hda", true, Kind::Ignored),
    ("cdrom", true, Kind::Ignored),
    ("pflash", true, Kind::Ignored),
    ("netdev", true, Kind::Ignored),
    ("object", true, Kind::Ignored),
    ("d", true, Kind::Ignored),
    ("D", true, Kind::Ignored),
    ("msg", true, Kind::Ignored),
    ("vga", true, Kind::Ignored),
    ("vnc", true, Kind::Ignored),
    ("spice", true, Kind::Ignored),
    ("k", true, Kind::Ignored),
    ("audiodev", true, Kind::Ignored),
    ("incoming", true, Kind::Ignored),
    ("loadvm", true, Kind::Ignored),
    ("action", true, Kind::Ignored),
    ("watchdog-action", true, Kind::Ignored),
    ("overcommit", true, Kind::Ignored),
    ("compat", true, Kind::Ignored),
    ("sandbox", true, Kind::Ignored),
    ("numa", true, Kind::Ignored),
    ("mem-path", true, Kind::Ignored),
    ("fw_cfg", true, Kind::Ignored),
    ("smbios", true, Kind::Ignored),
    ("acpitable", true, Kind::Ignored),
    ("semihosting-config", true, Kind::Ignored),
    ("plugin", true, Kind::Ignored),
    ("gdb", true, Kind::Ignored),
    ("add-fd", true, Kind::Ignored),
    ("set", true, Kind::Ignored),
    ("readconfig", true, Kind::Ignored),
    ("tpmdev", true, Kind::Ignored),
    ("fsdev", true, Kind::Ignored),
    ("virtfs", true, Kind::Ignored),
    ("usbdevice", true, Kind::Ignored),
    ("option-rom", true, Kind::Ignored),
    ("prom-env", true, Kind::Ignored),
    ("echr", true, Kind::Ignored),
];

/// `-chardev` definitions by id.
#[derive(Debug)]
enum Chardev {
    Socket(Endpoint),
    Other(String),
}

/// Splits QEMU's `a,b=c,d=e` option string (`,,` is a literal comma).
pub fn split_opts(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                cur.push(',');
            } else {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Action, String> {
    let mut cfg = Config {
        machine: MachineOpts { ram_size: DEFAULT_RAM, ..Default::default() },
        ..Default::default()
    };
    let mut ram_given = false;
    let mut chardevs: HashMap<String, Chardev> = HashMap::new();
    let mut monitors: Vec<(String, String)> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(name) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            return Err(format!("{arg}: positional arguments (disk images) are not supported"));
        };
        let Some(&(_, takes_arg, kind)) = OPTIONS.iter().find(|(n, _, _)| *n == name) else {
            return Err(format!("{arg}: invalid option"));
        };
        let val = if takes_arg {
            Some(it.next().ok_or_else(|| format!("{arg}: requires an argument"))?.as_str())
        } else {
            None
        };
        let v = val.unwrap_or_default();
        let shown = || match val {
            Some(v) => format!("-{name} {v}"),
            None => format!("-{name}"),
        };
        match kind {
            Kind::Silent => continue,
            Kind::Ignored => {
                cfg.ignored.push(shown());
                continue;
            }
            Kind::Handled => {}
        }
        match name {
            "version" => return Ok(Action::Version),
            "h" | "help" => return Ok(Action::Help),
            "daemonize" => return Err("-daemonize is not supported".into()),
            "qtest" => {
                cfg.qtest = Some(Endpoint::parse(v).map_err(|e| format!("-qtest {v}: {e}"))?)
            }
            "qtest-log" => cfg.qtest_log = Some(v.to_string()),
            "chardev" => {
                let (id, dev) = parse_chardev(v).map_err(|e| format!("-chardev {v}: {e}"))?;
                chardevs.insert(id, dev);
            }
            "mon" => {
                let mut chardev = None;
                let mut mode = "readline".to_string();
                for o in split_opts(v) {
                    match o.split_once('=') {
                        Some(("chardev", c)) => chardev = Some(c.to_string()),
                        Some(("mode", m)) => mode = m.to_string(),
                        Some(("pretty", _)) => {}
                        _ => return Err(format!("-mon {v}: unsupported option '{o}'")),
                    }
                }
                let chardev = chardev.ok_or_else(|| format!("-mon {v}: chardev= is required"))?;
                if mode == "control" {
                    monitors.push((chardev, v.to_string()));
                } else {
                    cfg.ignored.push(shown());
                }
            }
            "qmp" | "qmp-pretty" => {
                cfg.qmp.push(Endpoint::parse(v).map_err(|e| format!("-{name} {v}: {e}"))?);
            }
            "machine" | "M" => {
                if v == "help" || v == "?" {
                    return Ok(Action::MachineHelp);
                }
                parse_machine(&mut cfg, v).map_err(|e| format!("-{name} {v}: {e}"))?;
            }
            "m" => {
                cfg.machine.ram_size = parse_mem(v).map_err(|e| format!("-m {v}: {e}"))?;
                ram_given = true;
            }
            "device" => {
                if v == "help" || v == "?" {
                    return Ok(Action::DeviceHelp);
                }
                let opts = split_opts(v);
                if opts.len() == 2 && (opts[1] == "help" || opts[1] == "?") {
                    return Ok(Action::DeviceProps(opts[0].clone()));
                }
                cfg.machine.devices.push(parse_device(&opts));
            }
            "global" => {
                cfg.machine.globals.push(parse_global(v).map_err(|e| format!("-global {v}: {e}"))?);
            }
            "accel" => {
                let opts = split_opts(v);
                let accel = opts[0].strip_prefix("accel=").unwrap_or(&opts[0]);
                if accel == "qtest" {
                    cfg.accel_qtest = true;
                } else {
                    cfg.ignored.push(shown());
                }
            }
            "run-with" => {
                for o in split_opts(v) {
                    match o.split_once('=') {
                        Some(("exit-with-parent", b)) => {
                            cfg.exit_with_parent = parse_bool(b)
                                .ok_or_else(|| format!("-run-with {v}: '{b}' is not on/off"))?;
                        }
                        _ => cfg.ignored.push(format!("-run-with {o}")),
                    }
                }
            }
            "display" | "audio" | "net" | "nic" | "serial" | "monitor" | "parallel" => {
                let none = matches!(v, "none" | "null" | "driver=none");
                if !none {
                    cfg.ignored.push(shown());
                }
            }
            "pidfile" => cfg.pidfile = Some(v.to_string()),
            _ => unreachable!("option table and handlers disagree on -{name}"),
        }
    }
    for (id, mon) in monitors {
        match chardevs.remove(&id) {
            Some(Chardev::Socket(ep)) => cfg.qmp.push(ep),
            Some(Chardev::Other(backend)) => {
                return Err(format!(
                    "-mon {mon}: chardev backend '{backend}' is not supported for QMP (use socket)"
                ));
            }
            None => return Err(format!("-mon {mon}: chardev '{id}' not found")),
        }
    }
    for (id, _) in chardevs {
        cfg.ignored.push(format!("-chardev id={id}"));
    }
    cfg.ignored.sort();
    // QEMU's `none` machine has no RAM unless `-m` asks for some.
    if cfg.machine.machine == "none" && !ram_given {
        cfg.machine.ram_size = 0;
    }
    Ok(Action::Serve(Box::new(cfg)))
}

/// QEMU's boolean spellings (`qapi_bool_parse`), shared by every option and property value.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "on" | "yes" | "true" | "y" => Some(true),
        "off" | "no" | "false" | "n" => Some(false),
        _ => None,
    }
}

fn parse_chardev(v: &str) -> Result<(String, Chardev), String> {
    let opts = split_opts(v);
    let backend = opts[0].as_str();
    let mut id = None;
    let mut path = None;
    let mut host = String::new();
    let mut port = None;
    let mut flags = Vec::new();
    for o in &opts[1..] {
        match o.split_once('=') {
            Some(("id", x)) => id = Some(x.to_string()),
            Some(("path", x)) => path = Some(x.to_string()),
            Some(("host", x)) => host = x.to_string(),
            Some(("port", x)) => port = Some(x.to_string()),
            _ => flags.push(o.clone()),
        }
    }
    let id = id.ok_or("id= is required")?;
    if backend != "socket" {
        return Ok((id, Chardev::Other(backend.to_string())));
    }
    let base = match (path, port) {
        (Some(p), None) => format!("unix:{p}"),
        (None, Some(port)) => format!("tcp:{host}:{port}"),
        _ => return Err("a socket chardev needs path= or host=/port=".into()),
    };
    let spec = std::iter::once(base).chain(flags).collect::<Vec<_>>().join(",");
    Ok((id, Chardev::Socket(Endpoint::parse(&spec)?)))
}

fn parse_machine(cfg: &mut Config, v: &str) -> Result<(), String> {
    for (i, o) in split_opts(v).into_iter().enumerate() {
        match o.split_once('=') {
            None if i == 0 => {
                cfg.machine.machine = o;
                cfg.machine_given = true;
            }
            Some(("type", t)) => {
                cfg.machine.machine = t.to_string();
                cfg.machine_given = true;
            }
            Some(("accel", a)) => {
                if a.split(':').any(|a| a == "qtest") {
                    cfg.accel_qtest = true;
                }
            }
            Some((k, val)) => cfg.machine.machine_props.push((k.to_string(), val.to_string())),
            None => cfg.machine.machine_props.push((o, "on".to_string())),
        }
    }
    Ok(())
}

fn parse_device(opts: &[String]) -> DeviceOpts {
    let mut dev = DeviceOpts::default();
    for (i, o) in opts.iter().enumerate() {
        match o.split_once('=') {
            None if i == 0 => dev.driver = o.clone(),
            Some(("driver", d)) => dev.driver = d.to_string(),
            Some((k, val)) => dev.props.push((k.to_string(), val.to_string())),
            None => dev.props.push((o.clone(), "on".to_string())),
        }
    }
    dev
}

fn parse_global(v: &str) -> Result<GlobalOpt, String> {
    let opts = split_opts(v);
    if opts.len() == 1 {
        let (lhs, value) = v.split_once('=').ok_or("expected DRIVER.PROP=VALUE")?;
        let (driver, prop) = lhs.split_once('.').ok_or("expected DRIVER.PROP=VALUE")?;
        return Ok(GlobalOpt { driver: driver.into(), prop: prop.into(), value: value.into() });
    }
    let mut g = GlobalOpt::default();
    for o in opts {
        match o.split_once('=') {
            Some(("driver", x)) => g.driver = x.into(),
            Some(("property", x)) => g.prop = x.into(),
            Some(("value", x)) => g.value = x.into(),
            _ => return Err(format!("unexpected '{o}'")),
        }
    }
    Ok(g)
}

/// `-m` as QEMU reads it: a size with an optional B/K/M/G/T/P/E suffix (default MiB), a
/// decimal fraction allowed, optionally as `size=...`; rounded up to 8 KiB; 0 is the default.
pub fn parse_mem(v: &str) -> Result<u64, String> {
    let mut size = None;
    for o in split_opts(v) {
        match o.split_once('=') {
            None => size = Some(o),
            Some(("size", s)) => size = Some(s.to_string()),
            Some(("slots" | "maxmem", _)) => {}
            _ => return Err(format!("unexpected '{o}'")),
        }
    }
    let s = size.ok_or("missing size")?;
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "B" => 0,
        "K" => 10,
        "" | "M" => 20,
        "G" => 30,
        "T" => 40,
        "P" => 50,
        "E" => 60,
        _ => return Err(format!("invalid size suffix '{suffix}'")),
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() {
        return Err("invalid size".into());
    }
    let int: u128 = if int.is_empty() { 0 } else { int.parse().map_err(|_| "invalid size")? };
    let unit = 1u128 << shift;
    let mut bytes = int.checked_mul(unit).ok_or("size too large")?;
    if !frac.is_empty() {
        // Digits past the 19th are below a byte for every unit up to 2^60, and keeping at
        // most 19 keeps `digits * unit` inside u128.
        let frac = &frac[..frac.len().min(19)];
        let digits: u128 = frac.parse().map_err(|_| "invalid size")?;
        let scale = 10u128.pow(frac.len() as u32);
        bytes = bytes.checked_add(digits * unit / scale).ok_or("size too large")?;
    }
    let bytes = u64::try_from(bytes).map_err(|_| "size too large")?;
    if bytes == 0 {
        return Ok(DEFAULT_RAM);
    }
    bytes.checked_next_multiple_of(8192).ok_or_else(|| "size too large".into())
}

/// `-version`.
pub fn version_text() -> String {
    format!(
        "QEMU emulator version 11.0.0\n\
         smmu-suite {}: an Arm SMMUv3 reference model behind a QEMU-compatible qtest server (not QEMU)\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// `-help`.
pub fn help_text(prog: &str) -> String {
    format!(
        "usage: {prog} [options]\n       {prog} run [--trace[=text|json]] [--vs QEMU-BINARY] SCRIPT|-\n\n\
         A QEMU-compatible qtest server for the SMMUv3 model.\n\n\
         -machine TYPE[,prop=value,...]   machine (-machine help lists them)\n\
         -m SIZE[K|M|G|T]                 RAM size (default 128M)\n\
         -device DRIVER[,prop=value,...]  add a device (-device help, -device DRIVER,help)\n\
         -global DRIVER.PROP=VALUE        set a device property default\n\
         -accel qtest                     enable clock_step/clock_set\n\
         -qtest stdio|unix:PATH[,server=on]|tcp:HOST:PORT[,server=on]\n\
         -qtest-log FILE|none             qtest log (default stderr)\n\
         -chardev socket,path=P,id=X -mon chardev=X,mode=control   QMP monitor\n\
         -qmp unix:PATH[,server=on]|tcp:HOST:PORT[,server=on]       QMP monitor\n\
         -run-with exit-with-parent=on    exit when the parent process exits\n\
         -pidfile FILE                    write the process id to FILE\n\
         -version                         print the version\n\n\
         Other QEMU options are accepted and ignored with a warning.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn serve(s: &str) -> Config {
        match parse(&args(s)) {
            Ok(Action::Serve(c)) => *c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn libqtest_command_line_is_understood() {
        let c = serve(
            "-qtest unix:/tmp/qtest-1.sock -qtest-log /dev/null \
             -chardev socket,path=/tmp/qtest-1.qmp,id=char0 -mon chardev=char0,mode=control \
             -display none -audio none -run-with exit-with-parent=on \
             -machine virt,acpi=off,gic-version=3,iommu=smmuv3 -smp 1 -m 512 -cpu max \
             -net none -device iommu-testdev -accel qtest",
        );
        assert_eq!(
            c.qtest,
            Some(Endpoint::Unix { path: "/tmp/qtest-1.sock".into(), server: false, wait: true })
        );
        assert_eq!(c.qtest_log.as_deref(), Some("/dev/null"));
        assert_eq!(
            c.qmp,
            [Endpoint::Unix { path: "/tmp/qtest-1.qmp".into(), server: false, wait: true }]
        );
        assert!(c.exit_with_parent && c.accel_qtest && c.machine_given);
        assert_eq!(c.machine.machine, "virt");
        assert_eq!(
            c.machine.machine_props,
            [
                ("acpi".to_string(), "off".to_string()),
                ("gic-version".into(), "3".into()),
                ("iommu".into(), "smmuv3".into())
            ]
        );
        assert_eq!(c.machine.ram_size, 512 << 20);
        assert_eq!(c.machine.devices[0].driver, "iommu-testdev");
        assert_eq!(c.ignored, ["-cpu max", "-smp 1"]);
    }

    #[test]
    fn unknown_option_and_missing_argument_are_errors() {
        assert_eq!(parse(&args("-frobnicate")), Err("-frobnicate: invalid option".into()));
        assert_eq!(parse(&args("-m")), Err("-m: requires an argument".into()));
    }

    #[test]
    fn memory_sizes_take_qemu_suffixes() {
        assert_eq!(parse_mem("512"), Ok(512 << 20));
        assert_eq!(parse_mem("1G"), Ok(1 << 30));
        assert_eq!(parse_mem("1.5g"), Ok(3 << 29));
        assert_eq!(parse_mem("size=64M,slots=2,maxmem=1G"), Ok(64 << 20));
        assert_eq!(parse_mem("100K"), Ok(106496));
        assert!(parse_mem("12Q").is_err());
    }

    #[test]
    fn memory_sizes_whose_digits_overflow_are_errors_not_wrapped_values() {
        // 2^68 EiB is 2^128 bytes: it must not wrap to 0 (the default) or to 2^60 (+1).
        assert_eq!(parse_mem("295147905179352825856E"), Err("size too large".into()));
        assert_eq!(parse_mem("295147905179352825857E"), Err("size too large".into()));
        assert_eq!(parse_mem("0.99999999999999999999999999999999999999E"), Ok(1 << 60));
    }

    #[test]
    fn help_requests_are_recognised() {
        assert_eq!(parse(&args("-machine help")), Ok(Action::MachineHelp));
        let none = |a: &str| match parse(&args(a)) {
            Ok(Action::Serve(c)) => c.machine.ram_size,
            other => panic!("{other:?}"),
        };
        assert_eq!(none("-machine none -qtest stdio"), 0);
        assert_eq!(none("-machine none -m 64M -qtest stdio"), 64 << 20);
        assert_eq!(parse(&args("-M ?")), Ok(Action::MachineHelp));
        assert_eq!(parse(&args("-device help")), Ok(Action::DeviceHelp));
        assert_eq!(
            parse(&args("-device iommu-testdev,help")),
            Ok(Action::DeviceProps("iommu-testdev".into()))
        );
        assert_eq!(parse(&args("--version")), Ok(Action::Version));
    }

    #[test]
    fn device_global_and_machine_forms() {
        let c = serve(
            "-M type=virt,secure=on,accel=qtest -device driver=iommu-testdev,sec-sid=secure \
             -global arm-smmuv3.secure-impl=true -global driver=d,property=p,value=v",
        );
        assert_eq!(c.machine.machine, "virt");
        assert!(c.accel_qtest);
        assert_eq!(c.machine.devices[0].props, [("sec-sid".into(), "secure".into())]);
        assert_eq!(
            c.machine.globals,
            [
                GlobalOpt {
                    driver: "arm-smmuv3".into(),
                    prop: "secure-impl".into(),
                    value: "true".into()
                },
                GlobalOpt { driver: "d".into(), prop: "p".into(), value: "v".into() }
            ]
        );
    }

    #[test]
    fn no_op_options_do_not_warn_and_others_do_once() {
        let c = serve("-M none -display none -nodefaults -serial none -trace foo -display gtk");
        assert_eq!(c.ignored, ["-display gtk", "-trace foo"]);
        assert_eq!(
            c.warning().unwrap(),
            "warning: ignored (no effect on this model): -display gtk, -trace foo"
        );
    }

    #[test]
    fn mon_without_its_chardev_is_an_error() {
        assert!(parse(&args("-mon chardev=x,mode=control")).is_err());
        assert!(parse(&args("-chardev stdio,id=x -mon chardev=x,mode=control")).is_err());
    }

    #[test]
    fn option_strings_unescape_double_commas() {
        assert_eq!(split_opts("a,b=c,,d,e"), ["a", "b=c,d", "e"]);
    }
}
