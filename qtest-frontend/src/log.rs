//! `-qtest-log`: QEMU's qtest server log.
//!
//! Format, as QEMU writes it: `[I t] OPENED` when a connection opens (t is the connection
//! timer, so about 0), `[R +t] <request>` for every request line received, `[S +t] <line>`
//! for every line sent (IRQ lines included), `[I +t] CLOSED`; t in seconds with six
//! decimals since the connection opened. Without `-qtest-log` the log goes to stderr; `none`
//! disables it; a file is truncated when opened.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::Instant;

use crate::protocol::Sink;

/// The qtest log.
pub struct QtestLog {
    out: Option<Box<dyn Write + Send>>,
    start: Instant,
    at_line_start: bool,
    opened: bool,
}

impl QtestLog {
    /// A log that records nothing.
    pub fn none() -> Self {
        Self::to(None)
    }

    /// `-qtest-log` semantics: `None` (no option) is stderr, `"none"` disables the log, any
    /// other value is a file to create or truncate.
    pub fn open(spec: Option<&str>) -> io::Result<Self> {
        Ok(match spec {
            None => Self::to(Some(Box::new(io::stderr()))),
            Some("none") => Self::none(),
            Some(path) => Self::to(Some(Box::new(BufWriter::new(File::create(path)?)))),
        })
    }

    /// A log into any writer.
    pub fn to(out: Option<Box<dyn Write + Send>>) -> Self {
        QtestLog { out, start: Instant::now(), at_line_start: true, opened: false }
    }

    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Log errors never disturb the protocol; a log that fails is dropped.
    fn put(&mut self, f: impl FnOnce(&mut dyn Write, f64) -> io::Result<()>) {
        let t = self.elapsed();
        if let Some(out) = self.out.as_mut()
            && f(out.as_mut(), t).is_err()
        {
            self.out = None;
        }
    }

    pub fn opened(&mut self) {
        self.start = Instant::now();
        self.opened = true;
        self.at_line_start = true;
        self.put(|w, t| writeln!(w, "[I {t:.6}] OPENED"));
    }

    pub fn closed(&mut self) {
        if !self.opened {
            return;
        }
        self.opened = false;
        self.put(|w, t| writeln!(w, "[I +{t:.6}] CLOSED"));
        self.flush();
    }

    /// A request line as received (QEMU logs its space-separated words).
    pub fn received(&mut self, line: &[u8]) {
        self.put(|w, t| {
            write!(w, "[R +{t:.6}]")?;
            if !line.is_empty() {
                w.write_all(b" ")?;
                w.write_all(line)?;
            }
            w.write_all(b"\n")
        });
    }

    /// Bytes sent to the client; each line gets its `[S +t] ` prefix.
    pub fn sent(&mut self, mut bytes: &[u8]) {
        if self.out.is_none() || !self.opened {
            return;
        }
        while !bytes.is_empty() {
            let cut = bytes.iter().position(|&c| c == b'\n').map_or(bytes.len(), |i| i + 1);
            let (piece, rest) = bytes.split_at(cut);
            let prefix = self.at_line_start;
            self.put(|w, t| {
                if prefix {
                    write!(w, "[S +{t:.6}] ")?;
                }
                w.write_all(piece)
            });
            self.at_line_start = piece.ends_with(b"\n");
            bytes = rest;
        }
    }

    /// A line QEMU writes to the log only.
    pub fn note(&mut self, note: &str) {
        if self.opened {
            self.put(|w, t| writeln!(w, "[S +{t:.6}] {note}"));
        }
    }

    pub fn flush(&mut self) {
        self.put(|w, _| w.flush());
    }
}

/// The reply path of a connection: bytes go to the client and are mirrored into the log.
pub struct Wire<'a, W: Write> {
    pub tx: &'a mut W,
    pub log: &'a mut QtestLog,
}

impl<W: Write> Write for Wire<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx.write_all(buf)?;
        self.log.sent(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.log.flush();
        self.tx.flush()
    }
}

impl<W: Write> Sink for Wire<'_, W> {
    fn log_note(&mut self, note: &str) {
        self.log.note(note);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Replaces every timestamp by `T`.
    fn masked(s: &Shared) -> String {
        let text = String::from_utf8(s.0.lock().unwrap().clone()).unwrap();
        let mut out = String::new();
        for line in text.lines() {
            let (head, rest) = line.split_once(']').unwrap();
            let kind = &head[..3];
            let plus = if head[3..].starts_with('+') { "+" } else { "" };
            out.push_str(&format!("{kind}{plus}T]{rest}\n"));
        }
        out
    }

    #[test]
    fn records_qemu_format_with_prefix_per_sent_line() {
        let buf = Shared::default();
        let mut log = QtestLog::to(Some(Box::new(buf.clone())));
        log.opened();
        log.received(b"readl 0x0");
        let mut tx = Vec::new();
        let mut wire = Wire { tx: &mut tx, log: &mut log };
        wire.write_all(b"IRQ raise 0\nIRQ lower 0\nOK ").unwrap();
        wire.write_all(b"0x0\n").unwrap();
        wire.log_note("b64write: data length mismatch (told 4, found 3)");
        log.received(b"");
        log.closed();
        assert_eq!(
            masked(&buf),
            "[I T] OPENED\n[R +T] readl 0x0\n[S +T] IRQ raise 0\n[S +T] IRQ lower 0\n\
             [S +T] OK 0x0\n[S +T] b64write: data length mismatch (told 4, found 3)\n\
             [R +T]\n[I +T] CLOSED\n"
        );
        assert_eq!(tx, b"IRQ raise 0\nIRQ lower 0\nOK 0x0\n");
    }

    #[test]
    fn timestamps_have_six_decimals() {
        let buf = Shared::default();
        let mut log = QtestLog::to(Some(Box::new(buf.clone())));
        log.opened();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let t = text.strip_prefix("[I ").unwrap().split(']').next().unwrap();
        assert_eq!(t.split_once('.').unwrap().1.len(), 6, "{text}");
    }

    #[test]
    fn none_log_writes_nothing_and_file_log_truncates() {
        let dir = std::env::temp_dir().join(format!("qtest-log-{}", std::process::id()));
        std::fs::write(&dir, b"old contents\n").unwrap();
        let mut log = QtestLog::open(Some(dir.to_str().unwrap())).unwrap();
        log.opened();
        log.closed();
        let text = std::fs::read_to_string(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert!(text.starts_with("[I ") && !text.contains("old"), "{text}");
        assert!(QtestLog::open(Some("none")).unwrap().out.is_none());
    }
}
