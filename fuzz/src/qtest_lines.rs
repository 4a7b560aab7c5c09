//! Request lines into the qtest protocol.
//!
//! The input is a machine (QEMU's iommu-smmuv3-test command line, or the same with `secure=on`
//! and `-global arm-smmuv3.preset=full`) and a list of request lines: mostly commands of the
//! protocol with arguments drawn from what matters on that machine (SMMU registers, RAM,
//! iommu-testdev's BAR, the ECAM, attrs tokens, numbers in every base strtoull accepts, hex and
//! base64 payloads), sometimes raw bytes. Each line goes to
//! [`Protocol::execute`](qtest_frontend::protocol::Protocol::execute) on the machine
//! [`build_machine`] builds, as the server and `run` do.
//!
//! Oracle ([`check`]), for every line:
//! - no panic, no I/O error;
//! - a blank line or comment gets no output; any other line gets zero or more `IRQ raise N` /
//!   `IRQ lower N` lines (N < 256, raise and lower alternating per line) and then exactly one
//!   final reply line starting with `OK`, `ERR` or `FAIL`, matching the returned status;
//! - the output is bounded: the reply line is at most [`REPLY_SLACK`] bytes longer than the
//!   request (error messages echo tokens), except `read`/`b64read`, whose data is bounded by the
//!   machine's access limit;
//! - each request finishes within [`Limits::per_request`].
//!
//! Bulk sizes are capped at [`ACCESS_CAP`] bytes (the bus reports that as its largest access, so
//! a larger SIZE is answered `ERR` as it would be beyond the machine's RAM), which keeps one
//! execution short; the paths behind a larger size are the same chunked loops.

use std::fmt;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Result, Unstructured};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qtest_frontend::bus::{Attrs, Bus, IrqDevice};
use qtest_frontend::machine::build_machine;
use qtest_frontend::protocol::{Protocol, Sink, Status};
use qtest_frontend::run::machine_opts;
use smmu::{BusError, TraceEvent};

use crate::Violation;

/// Largest bulk access of the fuzzed machine (1 MiB), see the module documentation.
pub const ACCESS_CAP: u64 = 1 << 20;

/// How much longer than its request a non-bulk reply line may be.
pub const REPLY_SLACK: usize = 512;

/// Most lines in one input.
const MAX_LINES: u32 = 64;

/// The two machines of this target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Machine {
    /// QEMU's iommu-smmuv3-test command line.
    IommuTest,
    /// The same with the Secure world: `secure=on`, `preset=full`.
    SecureFull,
}

impl Machine {
    /// The `# args:` command line.
    pub fn args(self) -> &'static str {
        match self {
            Machine::IommuTest => {
                "-machine virt,acpi=off,gic-version=3,iommu=smmuv3 -m 512 -device iommu-testdev"
            }
            Machine::SecureFull => {
                "-machine virt,acpi=off,gic-version=3,iommu=smmuv3,secure=on -m 512 \
                 -global arm-smmuv3.preset=full -device iommu-testdev"
            }
        }
    }
}

/// One input: a machine and the request lines sent to it (without their newlines).
#[derive(Clone, PartialEq, Eq)]
pub struct Input {
    pub machine: Machine,
    pub lines: Vec<Vec<u8>>,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let machine = u.arbitrary()?;
        let mut lines = Vec::new();
        u.arbitrary_loop(Some(1), Some(MAX_LINES), |u| {
            // The count is drawn up front: stop when the bytes run out rather than
            // padding the input with default lines.
            if u.is_empty() {
                return Ok(ControlFlow::Break(()));
            }
            lines.push(line(u)?);
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(Input { machine, lines })
    }
}

/// Prints the input as a qtest script: `run` replays it as this target does (a line that is
/// not printable text is shown as a comment).
impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "# qtest_lines input")?;
        writeln!(f, "# args: {}", self.machine.args())?;
        for l in &self.lines {
            match std::str::from_utf8(l) {
                Ok(s) if !s.chars().any(|c| c.is_control() && c != '\t') => writeln!(f, "{s}")?,
                _ => writeln!(f, "# raw line (not printable): {:?}", String::from_utf8_lossy(l))?,
            }
        }
        Ok(())
    }
}

// ----- generator ------------------------------------------------------------------------------

const SMMU: u64 = 0x0905_0000;
const BAR: u64 = 0x1000_0000;
const ECAM_DEV1: u64 = 0x40_1000_8000;
const RAM: u64 = 0x4000_0000;
const SECURE_RAM: u64 = 0x0e00_0000;

/// SMMU register offsets worth hitting (Non-secure page 0 and 1, Secure page, Root page).
const SMMU_OFFSETS: &[u64] = &[
    0x0, 0x4, 0x14, 0x1c, 0x20, 0x24, 0x28, 0x2c, 0x44, 0x50, 0x54, 0x60, 0x64, 0x68, 0x80, 0x84,
    0x88, 0x90, 0x94, 0x98, 0x9c, 0xa0, 0xa8, 0xac, 0xb0, 0xc0, 0xfd0, 0xffc, 0x8020, 0x803c,
    0x8044, 0x8060, 0x8064, 0x8080, 0x8088, 0x8090, 0x8098, 0x80a0, 0x80a8, 0x100a8, 0x100ac,
    0x100c8, 0x20020, 0x20028, 0x40020,
];

/// iommu-testdev BAR0 offsets.
const BAR_OFFSETS: &[u64] =
    &[0x0, 0x4, 0x8, 0xc, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x100, 0x104, 0x108, 0x10c, 0x110, 0xffc];

const COMMANDS: &[&str] = &[
    "readb",
    "readw",
    "readl",
    "readq",
    "writeb",
    "writew",
    "writel",
    "writeq",
    "read",
    "b64read",
    "write",
    "b64write",
    "memset",
    "inb",
    "inw",
    "inl",
    "outb",
    "outw",
    "outl",
    "endianness",
    "clock_step",
    "clock_set",
    "irq_intercept_out",
    "irq_intercept_in",
    "set_irq_in",
    "module_load",
];

/// Lines from the iommu-smmuv3-test flow, so that DMA paths get reached.
const CANNED: &[&str] = &[
    "write 0x4010008004 0x2 0x0700",
    "write 0x4010008010 0x4 0x00000010",
    "writel 0x09050044 0x80000000",
    "writeq 0x09050090 0x4e16b00a",
    "writeq 0x090500a0 0x4e17000a",
    "writel 0x09050088 0x5",
    "writeq 0x09050080 0x4e179000",
    "writel 0x09050020 0xd",
    "writeq 0x4e179200 0x4e178fcb",
    "writeq 0x4e178fc0 0x1e206204c0000010",
    "writeq 0x4e178fc8 0x4e4d0001",
    "write 0x10000004 0x4 0x67456080",
    "write 0x10000008 0x4 0x80000000",
    "write 0x1000000c 0x4 0x04000000",
    "write 0x10000014 0x4 0x01000000",
    "read 0x10000000 0x4",
    "readl 0x10000010",
    "irq_intercept_out /machine/smmuv3 sysbus-irq",
];

fn line(u: &mut Unstructured) -> Result<Vec<u8>> {
    Ok(match u.int_in_range(0u8..=15)? {
        0 => {
            let raw: &[u8] = u.arbitrary()?;
            raw.iter().take(256).copied().filter(|&b| b != b'\n').collect()
        }
        1 => u.choose(CANNED)?.as_bytes().to_vec(),
        2 => {
            // A command word with arbitrary arguments.
            let mut s = pick_command(u)?;
            for _ in 0..u.int_in_range(0..=5)? {
                s.push(' ');
                s.push_str(&token(u)?);
            }
            s.into_bytes()
        }
        _ => structured(u)?.into_bytes(),
    })
}

fn pick_command(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0u8..=15)? {
        0 => ascii_word(u)?,
        1 => u.choose(&["", "READL", "readl\r", "#", " readl", "readl\t", "\u{e9}"])?.to_string(),
        _ => u.choose(COMMANDS)?.to_string(),
    })
}

/// A command with arguments of the right kinds (most of the time).
fn structured(u: &mut Unstructured) -> Result<String> {
    let cmd = *u.choose(COMMANDS)?;
    let mut args: Vec<String> = match cmd {
        "readb" | "readw" | "readl" | "readq" => vec![addr(u)?],
        "writeb" | "writew" | "writel" | "writeq" => vec![addr(u)?, number(u)?],
        "read" | "b64read" => vec![addr(u)?, size(u)?],
        "write" => vec![addr(u)?, size(u)?, hex_data(u)?],
        "b64write" => vec![addr(u)?, size(u)?, b64_data(u)?],
        "memset" => vec![addr(u)?, size(u)?, number(u)?],
        "inb" | "inw" | "inl" => vec![number(u)?],
        "outb" | "outw" | "outl" => vec![number(u)?, number(u)?],
        "clock_step" if u.arbitrary()? => vec![],
        "clock_step" | "clock_set" => vec![number(u)?],
        "irq_intercept_out" | "irq_intercept_in" => {
            let mut v = vec![qom_path(u)?];
            if u.arbitrary()? {
                v.push(u.choose(&["sysbus-irq", "", "x", "gpio"])?.to_string());
            }
            v
        }
        "set_irq_in" => vec![qom_path(u)?, ascii_word(u)?, number(u)?, number(u)?],
        "module_load" => vec![ascii_word(u)?, ascii_word(u)?],
        _ => vec![],
    };
    let memory = cmd.starts_with("read")
        || cmd.starts_with("write")
        || matches!(cmd, "b64read" | "b64write" | "memset");
    if memory && u.ratio(1u8, 4)? {
        args.push(attrs(u)?);
    }
    // Now and then one argument too many or too few.
    match u.int_in_range(0u8..=15)? {
        0 => args.push(token(u)?),
        1 => {
            args.pop();
        }
        _ => {}
    }
    let sep = if u.ratio(1u8, 32)? { "  " } else { " " };
    let mut s = cmd.to_string();
    for a in args {
        s.push_str(sep);
        s.push_str(&a);
    }
    if u.ratio(1u8, 32)? {
        s.push(' ');
    }
    Ok(s)
}

fn token(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0u8..=7)? {
        0 => addr(u)?,
        1 => number(u)?,
        2 => size(u)?,
        3 => hex_data(u)?,
        4 => b64_data(u)?,
        5 => attrs(u)?,
        6 => qom_path(u)?,
        _ => ascii_word(u)?,
    })
}

fn ascii_word(u: &mut Unstructured) -> Result<String> {
    let n = u.int_in_range(0..=12)?;
    (0..n).map(|_| Ok(char::from(u.int_in_range(0x21u8..=0x7e)?))).collect()
}

/// An integer in one of the spellings strtoull (base 0) and its near misses accept.
fn spell(u: &mut Unstructured, v: u64) -> Result<String> {
    Ok(match u.int_in_range(0u8..=15)? {
        0 => format!("{v}"),
        1 => format!("0{v:o}"),
        2 => format!("0X{v:X}"),
        3 => format!("-0x{v:x}"),
        4 => format!("+{v}"),
        5 => format!("0x{v:x}g"),
        6 => format!("0x{:x}{v:x}", u.int_in_range(1u8..=15)?),
        7 => "0x".to_string(),
        8 => format!("0{v}9"),
        _ => format!("0x{v:x}"),
    })
}

fn number(u: &mut Unstructured) -> Result<String> {
    let v = match u.int_in_range(0u8..=3)? {
        0 => u.int_in_range(0..=0x20)?,
        1 => u64::from(u.arbitrary::<u32>()?),
        2 => *u.choose(&[u64::MAX, 1 << 63, i64::MAX as u64, 0xffff, 0x1_0000])?,
        _ => u.arbitrary()?,
    };
    spell(u, v)
}

fn addr(u: &mut Unstructured) -> Result<String> {
    let v = match u.int_in_range(0u8..=9)? {
        0..=3 => SMMU + *u.choose(SMMU_OFFSETS)?,
        4 => BAR + *u.choose(BAR_OFFSETS)?,
        5 => RAM + u.int_in_range(0..=0x1_0000)?,
        6 => ECAM_DEV1 + *u.choose(&[0u64, 4, 0x10, 0x3c, 0xfff])?,
        7 => SECURE_RAM + u.int_in_range(0..=0x100)?,
        8 => *u.choose(&[0, RAM + (512 << 20) - 4, u64::MAX - 3, 0x0904_fffc, 0x1000_1000])?,
        _ => u.arbitrary()?,
    };
    if u.ratio(7u8, 8)? { Ok(format!("0x{v:x}")) } else { spell(u, v) }
}

fn size(u: &mut Unstructured) -> Result<String> {
    let v = match u.int_in_range(0u8..=5)? {
        0..=2 => u.int_in_range(0..=0x40)?,
        3 => *u.choose(&[0x1000, 0x1_0000, 0x1_0001, ACCESS_CAP, ACCESS_CAP + 1, 512 << 20])?,
        4 => u64::MAX,
        _ => u.arbitrary()?,
    };
    if u.ratio(7u8, 8)? { Ok(format!("0x{v:x}")) } else { spell(u, v) }
}

fn hex_data(u: &mut Unstructured) -> Result<String> {
    let bytes: &[u8] = u.arbitrary()?;
    let mut s = String::from(if u.ratio(1u8, 16)? { "0X" } else { "0x" });
    for b in bytes.iter().take(96) {
        s.push_str(&format!("{b:02x}"));
    }
    match u.int_in_range(0u8..=15)? {
        0 => s.push('7'),
        1 => s.push('z'),
        2 => s = s.replacen("0x", "", 1),
        _ => {}
    }
    Ok(s)
}

fn b64_data(u: &mut Unstructured) -> Result<String> {
    let bytes: &[u8] = u.arbitrary()?;
    let mut s = STANDARD.encode(&bytes[..bytes.len().min(96)]);
    match u.int_in_range(0u8..=15)? {
        0 => s.push('!'),
        1 => s.push('='),
        2 => {
            s.pop();
        }
        _ => {}
    }
    Ok(s)
}

fn attrs(u: &mut Unstructured) -> Result<String> {
    Ok(u.choose(&[
        "secure",
        "space=secure",
        "space=non-secure",
        "space=root",
        "space=realm",
        "space=",
        "space=bogus",
        "nonsecure",
    ])?
    .to_string())
}

fn qom_path(u: &mut Unstructured) -> Result<String> {
    Ok(u.choose(&[
        "/machine/smmuv3",
        "/machine/unattached/device[6]",
        "smmuv3",
        "device[6]",
        "/machine/peripheral-anon/device[0]",
        "/machine/unattached/device[5]",
        "/machine",
        "machine",
        "/",
        "",
    ])?
    .to_string())
}

// ----- oracle ---------------------------------------------------------------------------------

/// Time limits of the oracle.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub per_request: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { per_request: Duration::from_secs(2) }
    }
}

/// The machine's bus with its largest access capped at [`ACCESS_CAP`].
struct CappedBus(Box<dyn Bus>);

impl Bus for CappedBus {
    fn read(&mut self, addr: u64, buf: &mut [u8], attrs: Attrs) -> Result<(), BusError> {
        self.0.read(addr, buf, attrs)
    }
    fn write(&mut self, addr: u64, data: &[u8], attrs: Attrs) -> Result<(), BusError> {
        self.0.write(addr, data, attrs)
    }
    fn fill(&mut self, addr: u64, len: u64, byte: u8, attrs: Attrs) -> Result<(), BusError> {
        self.0.fill(addr, len, byte, attrs)
    }
    fn max_access(&self) -> u64 {
        self.0.max_access().min(ACCESS_CAP)
    }
    fn take_irqs(&mut self) -> Vec<(String, u8)> {
        self.0.take_irqs()
    }
    fn irq_devices(&self) -> Vec<IrqDevice> {
        self.0.irq_devices()
    }
    fn reset(&mut self) {
        self.0.reset()
    }
    fn set_tracing(&mut self, on: bool) {
        self.0.set_tracing(on)
    }
    fn take_trace(&mut self) -> Vec<TraceEvent> {
        self.0.take_trace()
    }
    fn qom_tree(&self) -> String {
        self.0.qom_tree()
    }
}

/// What a request wrote back, without keeping bulk data: each line's first bytes and length.
#[derive(Default)]
struct LineSink {
    lines: Vec<(Vec<u8>, usize)>,
    open: bool,
}

/// Bytes of each output line kept for the checks.
const KEEP: usize = 64;

impl Write for LineSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for piece in buf.split_inclusive(|&b| b == b'\n') {
            if !self.open {
                self.lines.push((Vec::new(), 0));
                self.open = true;
            }
            let (head, len) = self.lines.last_mut().expect("a line is open");
            let room = KEEP.saturating_sub(head.len());
            head.extend_from_slice(&piece[..piece.len().min(room)]);
            *len += piece.len();
            if piece.last() == Some(&b'\n') {
                self.open = false;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for LineSink {}

/// Runs the input and checks every request's output (see the module documentation).
pub fn check(input: &Input) -> Result<(), Violation> {
    check_with(input, Limits::default())
}

/// [`check`] with explicit limits.
pub fn check_with(input: &Input, limits: Limits) -> Result<(), Violation> {
    let args: Vec<String> = input.machine.args().split_whitespace().map(String::from).collect();
    let (opts, _) = machine_opts(&args).map_err(|e| Violation::new("machine", e))?;
    let mut bus = CappedBus(build_machine(&opts).map_err(|e| Violation::new("machine", e))?);
    let mut proto = Protocol::new(true);
    proto.connection_opened(&mut bus);
    let mut levels = [false; 256];
    for (i, line) in input.lines.iter().enumerate() {
        let shown = String::from_utf8_lossy(line);
        let shown: String = shown.chars().take(80).collect();
        let fail = |check: &'static str, what: String| {
            Violation::new(check, format!("line {} `{shown}`: {what}", i + 1))
        };
        let mut sink = LineSink::default();
        let start = Instant::now();
        let status = proto
            .execute(&mut bus, line, &mut sink)
            .map_err(|e| fail("io", format!("I/O error from an infallible sink: {e}")))?;
        let took = start.elapsed();
        if took > limits.per_request {
            return Err(fail("time", format!("took {took:?} (limit {:?})", limits.per_request)));
        }
        if sink.open {
            return Err(fail("reply", "output does not end with a newline".into()));
        }
        if line.is_empty() || line[0] == b'#' {
            if status != Status::Ignored || !sink.lines.is_empty() {
                return Err(fail("reply", format!("comment answered {status:?}")));
            }
            continue;
        }
        let Some(((last, last_len), irqs)) = sink.lines.split_last() else {
            return Err(fail("reply", format!("no reply line (status {status:?})")));
        };
        for (head, _) in irqs {
            let text = String::from_utf8_lossy(head);
            let text = text.trim_end();
            let parsed = text
                .strip_prefix("IRQ raise ")
                .map(|n| (true, n))
                .or_else(|| text.strip_prefix("IRQ lower ").map(|n| (false, n)));
            let Some((raise, n)) = parsed else {
                return Err(fail("reply", format!("line before the reply is not an IRQ: {text}")));
            };
            let Ok(n) = n.parse::<usize>() else {
                return Err(fail("reply", format!("bad IRQ number: {text}")));
            };
            if n >= levels.len() || levels[n] == raise {
                return Err(fail("irq", format!("{text} repeats the line's level")));
            }
            levels[n] = raise;
        }
        let word =
            |w: &[u8]| last.starts_with(w) && matches!(last.get(w.len()), Some(b' ' | b'\n'));
        let expected = if word(b"OK") {
            Status::Ok
        } else if word(b"ERR") {
            Status::Err
        } else if word(b"FAIL") {
            Status::Fail
        } else {
            return Err(fail("reply", format!("reply `{}`", String::from_utf8_lossy(last))));
        };
        if expected != status {
            return Err(fail("status", format!("reply {expected:?} but status {status:?}")));
        }
        let bulk = line.starts_with(b"read ") || line.starts_with(b"b64read ");
        let bound = line.len()
            + REPLY_SLACK
            + if bulk && status == Status::Ok { 2 * ACCESS_CAP as usize } else { 0 };
        if *last_len > bound {
            return Err(fail("size", format!("reply of {last_len} bytes (bound {bound})")));
        }
    }
    Ok(())
}

/// [`check`], panicking on a violation (what a fuzz target calls).
pub fn oracle(input: &Input) {
    if let Err(v) = check(input) {
        panic!("qtest_lines oracle: {v}\n--- input ---\n{input:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(lines: &[&str]) -> Input {
        Input {
            machine: Machine::IommuTest,
            lines: lines.iter().map(|l| l.as_bytes().to_vec()).collect(),
        }
    }

    #[test]
    fn well_formed_session_passes() {
        let i = input(&["readl 0x09050000", "", "# note", "bogus", "readl"]);
        assert_eq!(check(&i), Ok(()));
    }

    #[test]
    fn irq_lines_before_the_reply_pass() {
        let i = input(&[
            "irq_intercept_out /machine/smmuv3 sysbus-irq",
            "writel 0x09050050 0x1",
            "writel 0x09050064 0x1",
        ]);
        assert_eq!(check(&i), Ok(()));
    }

    #[test]
    fn bulk_read_beyond_the_cap_is_refused() {
        let i = input(&["read 0x40000000 0x100001"]);
        assert_eq!(check(&i), Ok(()));
    }

    #[test]
    fn a_sink_line_keeps_its_head_and_full_length() {
        let mut s = LineSink::default();
        s.write_all(&[b'x'; 200]).unwrap();
        s.write_all(b"\nIRQ raise 1\n").unwrap();
        assert_eq!(s.lines.len(), 2);
        assert_eq!(s.lines[0].1, 201);
        assert_eq!(s.lines[0].0.len(), KEEP);
        assert!(!s.open);
    }

    #[test]
    fn zero_time_limit_is_a_violation() {
        let i = input(&["endianness"]);
        let v = check_with(&i, Limits { per_request: Duration::ZERO }).unwrap_err();
        assert_eq!(v.check, "time");
    }

    #[test]
    fn debug_prints_a_replayable_script() {
        let mut i = input(&["endianness"]);
        i.lines.push(vec![0xff, b'\r']);
        let text = format!("{i:?}");
        assert!(text.contains("# args: -machine virt,acpi=off"), "{text}");
        assert!(text.contains("\nendianness\n"), "{text}");
        assert!(text.contains("# raw line (not printable)"), "{text}");
    }
}
