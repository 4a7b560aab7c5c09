//! The qtest wire protocol: one request line in, asynchronous `IRQ` lines and exactly one
//! reply line out, byte-identical to QEMU's `system/qtest.c` wherever QEMU answers.
//!
//! Where QEMU aborts (a `g_assert` on a missing argument, a bad number, `read` with SIZE 0, a
//! port above 0xffff, two spaces in a row, CR LF line ends), this server answers one
//! `ERR <reason>` line and keeps serving. The attrs token of the v2 extension (`secure`,
//! `space=non-secure|secure|root|realm`) is accepted as the last argument of every memory
//! command; a token after it is `ERR too many arguments`, as in the extension. Other commands
//! ignore trailing tokens, as QEMU's do.
//!
//! Stricter than QEMU, on purpose: `write` data must be `0x` plus hex digits and `b64write`
//! data valid padded base64 (QEMU writes garbage or skips bad characters); a short `b64write`
//! payload is zero-filled up to SIZE (QEMU over-reads its buffer, bug B11).
//!
//! Bounds: a request line is at most [`MAX_LINE`] bytes (2 GiB, enough for a `write` of
//! 512 MiB, which libqtest sends as 1 GiB of hex); sizes are bounded by [`Bus::max_access`]
//! before anything is allocated; `read`, `b64read`, `write` and `b64write` move data in
//! chunks of [`CHUNK`] bytes, so no buffer of SIZE bytes is ever allocated.

use std::io::{self, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::bus::{Attrs, Bus, IrqDevice};
use smmu::Pas;

/// Longest request line accepted, newline excluded (2^31 bytes). Longer lines are discarded
/// without being buffered and answered with one `ERR`.
pub const MAX_LINE: usize = 1 << 31;

/// Bulk transfers move at most this many bytes per bus access.
pub const CHUNK: usize = 64 * 1024;

/// Number of interrupt lines tracked per intercepted device (QEMU's `MAX_IRQ`).
pub const MAX_IRQ: usize = 256;

/// Longest prefix of a user token echoed back in an `ERR` reply.
const ECHO_MAX: usize = 40;

/// How a request was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Blank line or comment: no reply.
    Ignored,
    Ok,
    Fail,
    Err,
}

/// Where replies go. Besides the wire bytes, a sink may record notes that QEMU writes only to
/// its `-qtest-log` (e.g. the `b64write` length mismatch).
pub trait Sink: Write {
    /// A line for the log only, without its newline.
    fn log_note(&mut self, _note: &str) {}
}

impl Sink for Vec<u8> {}

enum Fault {
    Err(String),
    Fail(String),
    Io(io::Error),
}

impl From<io::Error> for Fault {
    fn from(e: io::Error) -> Self {
        Fault::Io(e)
    }
}

type Res<T> = Result<T, Fault>;

fn err<T>(msg: impl Into<String>) -> Res<T> {
    Err(Fault::Err(msg.into()))
}

/// An installed `irq_intercept_*`.
#[derive(Clone, Debug)]
struct Intercept {
    dev: IrqDevice,
    /// Output lines are forwarded as `IRQ` lines (`irq_intercept_out` with a matching list).
    out: bool,
}

/// The state of the qtest server for one machine: the virtual clock, the installed interrupt
/// interception (machine-wide, as in QEMU) and the levels last reported on the connection.
pub struct Protocol {
    accel_qtest: bool,
    clock_ns: i64,
    intercept: Option<Intercept>,
    irq_levels: [bool; MAX_IRQ],
}

impl Protocol {
    /// `accel_qtest`: the machine runs under `-accel qtest`, which is what makes `clock_step`
    /// and `clock_set` exist (without it they are unknown commands, as in QEMU).
    pub fn new(accel_qtest: bool) -> Self {
        Protocol { accel_qtest, clock_ns: 0, intercept: None, irq_levels: [false; MAX_IRQ] }
    }

    /// The virtual clock in nanoseconds.
    pub fn clock_ns(&self) -> i64 {
        self.clock_ns
    }

    /// A qtest connection opened: interrupt levels start low again; pulses raised while
    /// nobody was connected are dropped.
    pub fn connection_opened(&mut self, bus: &mut dyn Bus) {
        self.irq_levels = [false; MAX_IRQ];
        bus.take_irqs();
    }

    /// Answers a line that exceeded [`MAX_LINE`] (`len` bytes, discarded).
    pub fn line_too_long(&mut self, len: u64, out: &mut dyn Sink) -> io::Result<Status> {
        writeln!(out, "ERR line too long ({len} bytes; the limit is {MAX_LINE} bytes)")?;
        Ok(Status::Err)
    }

    /// Executes one request line (without its `\n`) and writes the IRQ lines it causes and
    /// its reply to `out`. Only I/O errors of `out` are returned as errors.
    pub fn execute(
        &mut self,
        bus: &mut dyn Bus,
        line: &[u8],
        out: &mut dyn Sink,
    ) -> io::Result<Status> {
        if line.is_empty() || line[0] == b'#' {
            return Ok(Status::Ignored);
        }
        let result = match std::str::from_utf8(line) {
            Err(_) => err("line is not valid UTF-8"),
            Ok(text) => self.dispatch(bus, text, out),
        };
        match result {
            Ok(status) => Ok(status),
            Err(Fault::Io(e)) => Err(e),
            Err(Fault::Err(msg)) => {
                self.flush_irqs(bus, out)?;
                writeln!(out, "ERR {msg}")?;
                Ok(Status::Err)
            }
            Err(Fault::Fail(msg)) => {
                self.flush_irqs(bus, out)?;
                if msg.is_empty() {
                    out.write_all(b"FAIL\n")?;
                } else {
                    writeln!(out, "FAIL {msg}")?;
                }
                Ok(Status::Fail)
            }
        }
    }

    fn dispatch(&mut self, bus: &mut dyn Bus, text: &str, out: &mut dyn Sink) -> Res<Status> {
        if text.contains('\r') {
            return err("carriage return in line (lines end with a bare LF)");
        }
        let (cmd, args) = split_words(text)?;
        let args = args.as_slice();
        let reply = match cmd {
            "readb" => self.read_sized(bus, args, 1, out)?,
            "readw" => self.read_sized(bus, args, 2, out)?,
            "readl" => self.read_sized(bus, args, 4, out)?,
            "readq" => self.read_sized(bus, args, 8, out)?,
            "writeb" => self.write_sized(bus, args, 1)?,
            "writew" => self.write_sized(bus, args, 2)?,
            "writel" => self.write_sized(bus, args, 4)?,
            "writeq" => self.write_sized(bus, args, 8)?,
            "read" => self.read_bulk(bus, args, out, Encoding::Hex)?,
            "b64read" => self.read_bulk(bus, args, out, Encoding::Base64)?,
            "write" => self.write_hex(bus, args)?,
            "b64write" => self.write_b64(bus, args, out)?,
            "memset" => self.memset(bus, args)?,
            "inb" | "inw" | "inl" => Self::port_in(cmd, args)?,
            "outb" | "outw" | "outl" => Self::port_out(args)?,
            "endianness" => {
                at_least(args, 0, "endianness")?;
                Reply::line("OK little")
            }
            "clock_step" if self.accel_qtest => self.clock_step(args)?,
            "clock_set" if self.accel_qtest => self.clock_set(args)?,
            "irq_intercept_out" | "irq_intercept_in" => self.irq_intercept(bus, cmd, args)?,
            "set_irq_in" => Self::set_irq_in(bus, args)?,
            "module_load" => {
                at_least(args, 2, "module_load PREFIX LIBNAME")?;
                return Err(Fault::Fail(String::new()));
            }
            _ => return Err(Fault::Fail(format!("Unknown command '{cmd}'"))),
        };
        match reply {
            Reply::Line(s) => {
                self.flush_irqs(bus, out)?;
                out.write_all(s.as_bytes())?;
                out.write_all(b"\n")?;
                Ok(if s.starts_with("FAIL") { Status::Fail } else { Status::Ok })
            }
            Reply::Sent => Ok(Status::Ok),
        }
    }

    /// Forwards the interrupt pulses raised so far as `IRQ raise N` / `IRQ lower N` lines,
    /// one per level change, when they come from the intercepted device's output lines.
    fn flush_irqs(&mut self, bus: &mut dyn Bus, out: &mut dyn Sink) -> io::Result<()> {
        let pulses = bus.take_irqs();
        let Some(ic) = self.intercept.as_ref().filter(|ic| ic.out) else {
            return Ok(());
        };
        for (path, line) in pulses {
            let n = usize::from(line);
            let ours = path == ic.dev.path || ic.dev.aliases.contains(&path);
            if !ours || n >= MAX_IRQ || line >= ic.dev.lines {
                continue;
            }
            for level in [true, false] {
                if self.irq_levels[n] != level {
                    self.irq_levels[n] = level;
                    let word = if level { "raise" } else { "lower" };
                    writeln!(out, "IRQ {word} {n}")?;
                }
            }
        }
        Ok(())
    }

    // ----- memory commands -------------------------------------------------------------

    fn read_sized(
        &mut self,
        bus: &mut dyn Bus,
        args: &[&str],
        width: usize,
        out: &mut dyn Sink,
    ) -> Res<Reply> {
        arity(args, 1, 2, "readX ADDR [ATTRS]")?;
        let addr = parse_u64(args[0])?;
        let attrs = parse_attrs(args.get(1).copied())?;
        let mut buf = [0u8; 8];
        let code = read_into(bus, addr, &mut buf[..width], attrs);
        check_memtx(attrs, code)?;
        self.flush_irqs(bus, out)?;
        writeln!(out, "OK 0x{:016x}", u64::from_le_bytes(buf))?;
        Ok(Reply::Sent)
    }

    fn write_sized(&mut self, bus: &mut dyn Bus, args: &[&str], width: usize) -> Res<Reply> {
        arity(args, 2, 3, "writeX ADDR VALUE [ATTRS]")?;
        let addr = parse_u64(args[0])?;
        let value = parse_u64(args[1])?;
        let attrs = parse_attrs(args.get(2).copied())?;
        let bytes = value.to_le_bytes();
        let code = write_from(bus, addr, &bytes[..width], attrs);
        check_memtx(attrs, code)?;
        Ok(Reply::line("OK"))
    }

    fn read_bulk(
        &mut self,
        bus: &mut dyn Bus,
        args: &[&str],
        out: &mut dyn Sink,
        enc: Encoding,
    ) -> Res<Reply> {
        let usage = match enc {
            Encoding::Hex => "read ADDR SIZE [ATTRS]",
            Encoding::Base64 => "b64read ADDR SIZE [ATTRS]",
        };
        arity(args, 2, 3, usage)?;
        let addr = parse_u64(args[0])?;
        let len = parse_u64(args[1])?;
        if len == 0 && enc == Encoding::Hex {
            return err("SIZE must not be zero");
        }
        let attrs = parse_attrs(args.get(2).copied())?;
        check_size(bus, len)?;
        let wraps = wraps(addr, len);
        let mut scratch = vec![0u8; chunk_cap(len)];
        if len as usize <= CHUNK {
            // One bus access: device registers see exactly the access that was asked for.
            let buf = &mut scratch[..len as usize];
            let code = if wraps { 0x2 } else { read_into(bus, addr, buf, attrs) };
            check_memtx(attrs, code)?;
            self.flush_irqs(bus, out)?;
            match enc {
                Encoding::Hex => {
                    out.write_all(b"OK 0x")?;
                    write_hex(out, buf)?;
                }
                Encoding::Base64 => {
                    out.write_all(b"OK ")?;
                    out.write_all(STANDARD.encode(&*buf).as_bytes())?;
                }
            }
            out.write_all(b"\n")?;
            return Ok(Reply::Sent);
        }
        if attrs != Attrs::Unspecified {
            // The outcome must be known before `OK` goes out: a first pass learns it.
            let code = if wraps {
                0x2
            } else {
                chunks(addr, len)
                    .fold(0, |code, (a, n)| code | read_into(bus, a, &mut scratch[..n], attrs))
            };
            check_memtx(attrs, code)?;
        }
        self.flush_irqs(bus, out)?;
        let mut b64 = B64Stream::default();
        out.write_all(match enc {
            Encoding::Hex => b"OK 0x",
            Encoding::Base64 => b"OK ",
        })?;
        for (a, n) in chunks(addr, len) {
            let buf = &mut scratch[..n];
            if wraps {
                buf.fill(0);
            } else {
                read_into(bus, a, buf, attrs);
            }
            match enc {
                Encoding::Hex => write_hex(out, buf)?,
                Encoding::Base64 => b64.push(buf, out)?,
            }
        }
        if enc == Encoding::Base64 {
            b64.finish(out)?;
        }
        out.write_all(b"\n")?;
        Ok(Reply::Sent)
    }

    fn write_hex(&mut self, bus: &mut dyn Bus, args: &[&str]) -> Res<Reply> {
        let (addr, len, data, attrs) =
            bulk_write_args(bus, args, "write ADDR SIZE 0xDATA [ATTRS]")?;
        if !(data.starts_with(b"0x") || data.starts_with(b"0X")) {
            return err("DATA must start with 0x");
        }
        if let Some(bad) = data[2..].iter().position(|c| !c.is_ascii_hexdigit()) {
            return err(format!("invalid hex digit at offset {} of DATA", bad + 2));
        }
        // Byte i comes from characters 2+2i and 3+2i when both exist (QEMU's rule: a short
        // DATA is zero-filled, a long one truncated, an odd last digit ignored).
        let decode = |off: u64, buf: &mut [u8]| {
            for (i, b) in buf.iter_mut().enumerate() {
                let idx = 2 + 2 * (off as usize + i);
                *b = if idx + 2 <= data.len() {
                    (nib(data[idx]) << 4) | nib(data[idx + 1])
                } else {
                    0
                };
            }
        };
        let code = write_chunked(bus, addr, len, attrs, decode);
        check_memtx(attrs, code)?;
        Ok(Reply::line("OK"))
    }

    fn write_b64(&mut self, bus: &mut dyn Bus, args: &[&str], out: &mut dyn Sink) -> Res<Reply> {
        let (addr, len, data, attrs) =
            bulk_write_args(bus, args, "b64write ADDR SIZE B64DATA [ATTRS]")?;
        // Validation pass: decode without keeping the bytes, to learn the decoded length.
        const IN_CHUNK: usize = 4 * (CHUNK / 3);
        let mut scratch = vec![0u8; IN_CHUNK / 4 * 3];
        let mut found: u64 = 0;
        for piece in data.chunks(IN_CHUNK) {
            match STANDARD.decode_slice(piece, &mut scratch) {
                Ok(n) => found += n as u64,
                Err(e) => return err(format!("invalid base64 data: {e}")),
            }
        }
        if found != len {
            out.log_note(&format!("b64write: data length mismatch (told {len}, found {found})"));
        }
        // Decoded bytes beyond SIZE are dropped; a short payload is zero-filled to SIZE.
        let mut decoded: Vec<u8> = Vec::new();
        let mut decoded_off: u64 = 0;
        let mut pieces = data.chunks(IN_CHUNK);
        let fetch = |off: u64, buf: &mut [u8]| {
            let mut filled = 0;
            while filled < buf.len() {
                let pos = off + filled as u64;
                if pos >= found {
                    buf[filled..].fill(0);
                    return;
                }
                if pos >= decoded_off + decoded.len() as u64 {
                    decoded_off += decoded.len() as u64;
                    decoded.resize(IN_CHUNK / 4 * 3, 0);
                    let piece = pieces.next().unwrap_or_default();
                    let n = STANDARD.decode_slice(piece, &mut decoded).unwrap_or(0);
                    decoded.truncate(n);
                    if n == 0 {
                        buf[filled..].fill(0);
                        return;
                    }
                    continue;
                }
                let start = (pos - decoded_off) as usize;
                let n = (decoded.len() - start).min(buf.len() - filled);
                buf[filled..filled + n].copy_from_slice(&decoded[start..start + n]);
                filled += n;
            }
        };
        let code = write_chunked(bus, addr, len, attrs, fetch);
        check_memtx(attrs, code)?;
        Ok(Reply::line("OK"))
    }

    fn memset(&mut self, bus: &mut dyn Bus, args: &[&str]) -> Res<Reply> {
        arity(args, 3, 4, "memset ADDR SIZE VALUE [ATTRS]")?;
        let addr = parse_u64(args[0])?;
        let len = parse_u64(args[1])?;
        let byte = parse_u64(args[2])? as u8;
        let attrs = parse_attrs(args.get(3).copied())?;
        check_size(bus, len)?;
        if len > 0 {
            let code = if wraps(addr, len) {
                0x2
            } else {
                bus.fill(addr, len, byte, attrs).map_or_else(|e| e.memtx(), |()| 0)
            };
            check_memtx(attrs, code)?;
        }
        Ok(Reply::line("OK"))
    }

    // ----- port I/O (an empty port space) --------------------------------------------

    fn port_in(cmd: &str, args: &[&str]) -> Res<Reply> {
        at_least(args, 1, "inX ADDR")?;
        parse_port(args[0])?;
        // Nothing decodes port I/O on this machine: reads float high, truncated to the width.
        let value: u32 = match cmd {
            "inb" => 0xff,
            "inw" => 0xffff,
            _ => 0xffff_ffff,
        };
        Ok(Reply::Line(format!("OK 0x{value:04x}")))
    }

    fn port_out(args: &[&str]) -> Res<Reply> {
        at_least(args, 2, "outX ADDR VALUE")?;
        parse_port(args[0])?;
        parse_u64(args[1])?;
        Ok(Reply::line("OK"))
    }

    // ----- virtual clock (no timers exist) -------------------------------------------

    fn clock_step(&mut self, args: &[&str]) -> Res<Reply> {
        at_least(args, 0, "clock_step [NS]")?;
        let Some(tok) = args.first() else {
            return Ok(Reply::line(
                "FAIL cannot advance clock to the next deadline because there is no pending deadline",
            ));
        };
        let ns = parse_i64(tok)?;
        let Some(dest) = self.clock_ns.checked_add(ns) else {
            return err("clock would overflow");
        };
        if dest > self.clock_ns {
            self.clock_ns = dest;
            Ok(Reply::Line(format!("OK {dest}")))
        } else {
            Ok(Reply::line("FAIL could not advance time"))
        }
    }

    fn clock_set(&mut self, args: &[&str]) -> Res<Reply> {
        at_least(args, 1, "clock_set NS")?;
        let ns = parse_i64(args[0])?;
        self.clock_ns = self.clock_ns.max(ns);
        let word = if self.clock_ns == ns { "OK" } else { "FAIL" };
        Ok(Reply::Line(format!("{word} {}", self.clock_ns)))
    }

    // ----- interrupts -----------------------------------------------------------------

    fn irq_intercept(&mut self, bus: &mut dyn Bus, cmd: &str, args: &[&str]) -> Res<Reply> {
        at_least(args, 1, "irq_intercept_out|irq_intercept_in QOM-PATH [NAME]")?;
        let outbound = cmd == "irq_intercept_out";
        let devices = bus.irq_devices();
        let Some(dev) = resolve(&devices, args[0]) else {
            return Ok(Reply::line("FAIL Unknown device"));
        };
        let name = args.get(1).copied();
        if name.is_some() && !outbound {
            return Ok(Reply::line("FAIL Interception of named in-GPIOs not yet supported"));
        }
        if let Some(ic) = &self.intercept {
            return Ok(Reply::line(if ic.dev.path == dev.path {
                "OK"
            } else {
                "FAIL IRQ intercept already enabled"
            }));
        }
        // An empty name in `gpio_out_names` stands for the unnamed list. Inbound interception
        // succeeds on any device that has GPIO lists at all, even with no input among them,
        // as QEMU's loop does; it then forwards nothing.
        let matched = if outbound {
            let want = name.unwrap_or("");
            dev.gpio_out_names.iter().any(|n| n == want)
        } else {
            !dev.gpio_out_names.is_empty()
        };
        if !matched {
            return Ok(Reply::line("FAIL No intercepts installed"));
        }
        self.intercept = Some(Intercept { dev: dev.clone(), out: outbound });
        Ok(Reply::line("OK"))
    }

    fn set_irq_in(bus: &mut dyn Bus, args: &[&str]) -> Res<Reply> {
        at_least(args, 4, "set_irq_in QOM-PATH NAME NUM LEVEL")?;
        let devices = bus.irq_devices();
        let Some(dev) = resolve(&devices, args[0]) else {
            return Ok(Reply::line("FAIL Unknown device"));
        };
        let num = parse_i32(args[2])?;
        parse_i32(args[3])?;
        err(format!("{} has no input GPIO {} in list '{}'", dev.path, num, args[1]))
    }
}

enum Reply {
    /// A reply line (without newline) still to be written, after the IRQ lines.
    Line(String),
    /// The handler wrote IRQ lines and the reply itself (streamed replies).
    Sent,
}

impl Reply {
    fn line(s: &str) -> Reply {
        Reply::Line(s.to_string())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Hex,
    Base64,
}

/// Most arguments any command looks at (`write ADDR SIZE DATA ATTRS`, `set_irq_in`).
const MAX_ARGS: usize = 4;

/// The command word and its arguments, split on every single space as QEMU's `g_strsplit`
/// does (one trailing space is accepted, as QEMU accepts it). An empty argument (two spaces in
/// a row) anywhere is an error. Only the first `MAX_ARGS + 1` arguments are kept: enough for
/// [`arity`] to see one too many, so a long line of tokens allocates nothing per token.
fn split_words(text: &str) -> Res<(&str, Vec<&str>)> {
    let text = text.strip_suffix(' ').unwrap_or(text);
    let mut words = text.split(' ');
    let cmd = words.next().unwrap_or_default();
    if cmd.is_empty() {
        return Err(Fault::Fail("Unknown command ''".into()));
    }
    let mut args = Vec::with_capacity(MAX_ARGS + 1);
    for w in words {
        if w.is_empty() {
            return err("empty argument (two spaces in a row)");
        }
        if args.len() <= MAX_ARGS {
            args.push(w);
        }
    }
    Ok((cmd, args))
}

/// Argument count of a command that ignores extra trailing tokens, as every non-memory command
/// of QEMU's qtest does (only memory commands, which take the attrs token, reject them).
fn at_least(args: &[&str], min: usize, usage: &str) -> Res<()> {
    if args.len() < min {
        return err(format!("missing argument (usage: {usage})"));
    }
    Ok(())
}

fn arity(args: &[&str], min: usize, max: usize, usage: &str) -> Res<()> {
    if args.len() < min {
        return err(format!("missing argument (usage: {usage})"));
    }
    if args.len() > max {
        return err("too many arguments");
    }
    Ok(())
}

/// `ADDR SIZE DATA [ATTRS]` of `write` and `b64write`: ADDR, SIZE and ATTRS parsed, then
/// QEMU's `ERR invalid argument size` for DATA shorter than 3 characters, then SIZE checked
/// against the machine. DATA itself is left to the command.
fn bulk_write_args<'a>(
    bus: &dyn Bus,
    args: &[&'a str],
    usage: &str,
) -> Res<(u64, u64, &'a [u8], Attrs)> {
    arity(args, 3, 4, usage)?;
    let addr = parse_u64(args[0])?;
    let len = parse_u64(args[1])?;
    let attrs = parse_attrs(args.get(3).copied())?;
    let data = args[2].as_bytes();
    if data.len() < 3 {
        return err("invalid argument size");
    }
    check_size(bus, len)?;
    Ok((addr, len, data, attrs))
}

fn resolve<'a>(devices: &'a [IrqDevice], path: &str) -> Option<&'a IrqDevice> {
    let names = |d: &'a IrqDevice| std::iter::once(&d.path).chain(d.aliases.iter());
    if let Some(d) = devices.iter().find(|d| names(d).any(|n| n == path)) {
        return Some(d);
    }
    if path.starts_with('/') {
        return None;
    }
    // A partial path names the unique object whose path ends with it.
    let suffix = format!("/{path}");
    let mut hits = devices.iter().filter(|d| names(d).any(|n| n.ends_with(&suffix)));
    match (hits.next(), hits.next()) {
        (Some(d), None) => Some(d),
        _ => None,
    }
}

fn echo(tok: &str) -> String {
    if tok.len() <= ECHO_MAX {
        return tok.to_string();
    }
    let mut end = ECHO_MAX;
    while !tok.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &tok[..end])
}

fn parse_attrs(tok: Option<&str>) -> Res<Attrs> {
    let Some(tok) = tok else {
        return Ok(Attrs::Unspecified);
    };
    if tok == "secure" {
        return Ok(Attrs::Secure);
    }
    let Some(space) = tok.strip_prefix("space=") else {
        return err("invalid attrs argument");
    };
    let pas = match space {
        "non-secure" => Pas::NonSecure,
        "secure" => Pas::Secure,
        "root" => Pas::Root,
        "realm" => Pas::Realm,
        _ => return err("invalid space value. Valid space: secure/non-secure/root/realm"),
    };
    Ok(Attrs::Space(pas))
}

fn check_memtx(attrs: Attrs, code: u32) -> Res<()> {
    if attrs != Attrs::Unspecified && code != 0 {
        return err(format!("memory access failed 0x{code:x}"));
    }
    Ok(())
}

fn check_size(bus: &dyn Bus, len: u64) -> Res<()> {
    let max = bus.max_access();
    if len > max {
        return err(format!("SIZE 0x{len:x} exceeds the machine's memory (at most 0x{max:x})"));
    }
    Ok(())
}

fn parse_port(tok: &str) -> Res<u64> {
    let port = parse_u64(tok)?;
    if port > 0xffff {
        return err(format!("port 0x{port:x} is beyond 0xffff"));
    }
    Ok(port)
}

/// `[addr, addr+len)` runs past the top of the 64-bit address space.
fn wraps(addr: u64, len: u64) -> bool {
    u128::from(addr) + u128::from(len) > 1u128 << 64
}

fn chunk_cap(len: u64) -> usize {
    (len.min(CHUNK as u64)) as usize
}

/// Splits a bulk access into bus accesses: one access when it fits in [`CHUNK`], otherwise
/// pieces that end on `CHUNK`-aligned addresses.
fn chunks(addr: u64, len: u64) -> impl Iterator<Item = (u64, usize)> {
    let mut pos = 0u64;
    std::iter::from_fn(move || {
        if pos >= len {
            return None;
        }
        let a = addr.wrapping_add(pos);
        let n = if len <= CHUNK as u64 {
            len
        } else {
            let to_boundary = CHUNK as u64 - (a % CHUNK as u64);
            to_boundary.min(len - pos)
        };
        pos += n;
        Some((a, n as usize))
    })
}

/// Writes `len` bytes produced by `fill(offset, buf)` in chunks; returns the OR of the
/// `MemTxResult` codes.
fn write_chunked(
    bus: &mut dyn Bus,
    addr: u64,
    len: u64,
    attrs: Attrs,
    mut fill: impl FnMut(u64, &mut [u8]),
) -> u32 {
    if len == 0 {
        return 0;
    }
    if wraps(addr, len) {
        return 0x2;
    }
    let mut buf = vec![0u8; chunk_cap(len)];
    let mut code = 0;
    for (a, n) in chunks(addr, len) {
        let off = a.wrapping_sub(addr);
        fill(off, &mut buf[..n]);
        code |= write_from(bus, a, &buf[..n], attrs);
    }
    code
}

/// Reads into `buf`, returning the `MemTxResult` code. The bus splits the access by region
/// itself and leaves in `buf` what QEMU's memory core returns for the parts that fail (zeros
/// for unassigned memory), so a failed access is never repeated: registers with read side
/// effects see exactly one read.
fn read_into(bus: &mut dyn Bus, addr: u64, buf: &mut [u8], attrs: Attrs) -> u32 {
    bus.read(addr, buf, attrs).map_or_else(|e| e.memtx(), |()| 0)
}

/// Writes `data`, returning the `MemTxResult` code; the bus writes the parts that map.
fn write_from(bus: &mut dyn Bus, addr: u64, data: &[u8], attrs: Attrs) -> u32 {
    bus.write(addr, data, attrs).map_or_else(|e| e.memtx(), |()| 0)
}

fn nib(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

fn write_hex(out: &mut dyn Sink, data: &[u8]) -> io::Result<()> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut line = [0u8; 2 * 4096];
    for piece in data.chunks(4096) {
        for (i, b) in piece.iter().enumerate() {
            line[2 * i] = DIGITS[usize::from(b >> 4)];
            line[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
        }
        out.write_all(&line[..2 * piece.len()])?;
    }
    Ok(())
}

/// Base64 over a stream of chunks: encodes whole 3-byte groups as they arrive.
#[derive(Default)]
struct B64Stream {
    pending: Vec<u8>,
}

impl B64Stream {
    fn push(&mut self, data: &[u8], out: &mut dyn Sink) -> io::Result<()> {
        self.pending.extend_from_slice(data);
        let whole = self.pending.len() / 3 * 3;
        out.write_all(STANDARD.encode(&self.pending[..whole]).as_bytes())?;
        self.pending.drain(..whole);
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Sink) -> io::Result<()> {
        out.write_all(STANDARD.encode(&self.pending).as_bytes())?;
        self.pending.clear();
        Ok(())
    }
}

// ----- numbers, as glibc's strtoull/strtoll with base 0 inside qemu_strto* ---------------

fn bad_number(tok: &str) -> Fault {
    Fault::Err(format!("invalid number '{}'", echo(tok)))
}

/// Magnitude and sign of a number in strtoull's base-0 syntax: leading whitespace, an
/// optional sign, `0x` hex / leading-`0` octal / decimal, nothing after the digits.
/// `None` inside `Some` means the digits overflowed 64 bits.
fn parse_magnitude(tok: &str) -> Option<(bool, Option<u64>)> {
    let s = tok.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let b = s.as_bytes();
    let (radix, digits) = if b.len() > 2
        && b[0] == b'0'
        && (b[1] == b'x' || b[1] == b'X')
        && b[2].is_ascii_hexdigit()
    {
        (16, &s[2..])
    } else if b.first() == Some(&b'0') {
        (8, s)
    } else {
        (10, s)
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: Option<u64> = Some(0);
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        v = v
            .and_then(|v| v.checked_mul(u64::from(radix)))
            .and_then(|v| v.checked_add(u64::from(d)));
    }
    Some((neg, v))
}

/// `qemu_strtou64(tok, NULL, 0, &v)`: a leading `-` negates modulo 2^64; `None` for a
/// malformed number or one that overflows. Also what QEMU's keyval visitor uses for integer
/// properties, so the machine's property parser shares it.
pub(crate) fn strtou64(tok: &str) -> Option<u64> {
    match parse_magnitude(tok)? {
        (neg, Some(v)) => Some(if neg { v.wrapping_neg() } else { v }),
        (_, None) => None,
    }
}

/// [`strtou64`] with the protocol's error replies.
fn parse_u64(tok: &str) -> Res<u64> {
    strtou64(tok).ok_or_else(|| match parse_magnitude(tok) {
        Some(_) => Fault::Err(format!("number out of range '{}'", echo(tok))),
        None => bad_number(tok),
    })
}

/// `qemu_strtoi64`.
fn parse_i64(tok: &str) -> Res<i64> {
    let range = || Fault::Err(format!("number out of range '{}'", echo(tok)));
    match parse_magnitude(tok) {
        Some((false, Some(v))) => i64::try_from(v).map_err(|_| range()),
        Some((true, Some(v))) if v <= 1 << 63 => Ok((v as i64).wrapping_neg()),
        Some(_) => Err(range()),
        None => Err(bad_number(tok)),
    }
}

/// `qemu_strtoi`.
fn parse_i32(tok: &str) -> Res<i32> {
    let v = parse_i64(tok)?;
    i32::try_from(v).map_err(|_| Fault::Err(format!("number out of range '{}'", echo(tok))))
}

#[cfg(test)]
mod tests;
