//! Byte streams the qtest and QMP protocols run over (stdio, unix sockets, TCP), the
//! QEMU-style socket address syntax, and a bounded line reader.

use std::fs::File;
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

/// Where a protocol is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Standard input and output.
    Stdio,
    /// A unix socket; `server` listens, otherwise connect as a client (QEMU's default).
    Unix { path: PathBuf, server: bool, wait: bool },
    /// A TCP socket.
    Tcp { host: String, port: u16, server: bool, wait: bool },
}

impl Endpoint {
    /// Parses QEMU's short chardev syntax: `stdio`, `unix:PATH[,server=on][,wait=off]`,
    /// `tcp:HOST:PORT[,server=on][,wait=off]` (`server`, `nowait` and `nodelay` flags too).
    pub fn parse(spec: &str) -> Result<Endpoint, String> {
        if spec == "stdio" {
            return Ok(Endpoint::Stdio);
        }
        let (kind, rest) = spec
            .split_once(':')
            .ok_or_else(|| format!("'{spec}' is not a supported chardev (stdio, unix:, tcp:)"))?;
        let mut parts = rest.split(',');
        let addr = parts.next().unwrap_or_default();
        let mut server = false;
        let mut wait = true;
        for opt in parts {
            match opt.split_once('=') {
                Some(("server", v)) => server = parse_bool(v)?,
                Some(("wait", v)) => wait = parse_bool(v)?,
                Some((
                    "nodelay" | "reconnect" | "reconnect-ms" | "telnet" | "ipv4" | "ipv6",
                    _,
                )) => {}
                None if opt == "server" => server = true,
                None if opt == "nowait" => wait = false,
                None if opt == "nodelay" => {}
                _ => return Err(format!("unsupported socket option '{opt}' in '{spec}'")),
            }
        }
        match kind {
            "unix" => {
                if addr.is_empty() {
                    return Err(format!("'{spec}': missing socket path"));
                }
                Ok(Endpoint::Unix { path: PathBuf::from(addr), server, wait })
            }
            "tcp" => {
                let (host, port) = split_host_port(addr)
                    .ok_or_else(|| format!("'{spec}': expected tcp:HOST:PORT"))?;
                Ok(Endpoint::Tcp { host, port, server, wait })
            }
            _ => Err(format!("'{spec}' is not a supported chardev (stdio, unix:, tcp:)")),
        }
    }

    /// Listens (server) rather than connects (client).
    pub fn is_server(&self) -> bool {
        match self {
            Endpoint::Stdio => false,
            Endpoint::Unix { server, .. } | Endpoint::Tcp { server, .. } => *server,
        }
    }

    /// Text used in messages, in QEMU's syntax.
    pub fn describe(&self) -> String {
        let srv = |s: bool| if s { ",server=on" } else { "" };
        match self {
            Endpoint::Stdio => "stdio".into(),
            Endpoint::Unix { path, server, .. } => {
                format!("unix:{}{}", path.display(), srv(*server))
            }
            Endpoint::Tcp { host, port, server, .. } => {
                format!("tcp:{host}:{port}{}", srv(*server))
            }
        }
    }

    /// Opens a client connection (`stdio` included).
    pub fn connect(&self) -> io::Result<Connection> {
        match self {
            Endpoint::Stdio => Connection::stdio(),
            Endpoint::Unix { path, .. } => Connection::from_unix(UnixStream::connect(path)?),
            Endpoint::Tcp { host, port, .. } => {
                let s = TcpStream::connect((host.as_str(), *port))?;
                s.set_nodelay(true)?;
                Connection::from_tcp(s)
            }
        }
    }

    /// Binds a listening socket. A stale unix socket file at the path is replaced, as QEMU
    /// does.
    pub fn listen(&self) -> io::Result<Listener> {
        match self {
            Endpoint::Stdio => Err(io::Error::other("stdio cannot listen")),
            Endpoint::Unix { path, .. } => {
                if let Ok(meta) = std::fs::symlink_metadata(path)
                    && meta.file_type().is_socket()
                {
                    std::fs::remove_file(path)?;
                }
                Ok(Listener::Unix(UnixListener::bind(path)?))
            }
            Endpoint::Tcp { host, port, .. } => {
                let host = if host.is_empty() { "0.0.0.0" } else { host };
                let addrs: Vec<_> = (host, *port).to_socket_addrs()?.collect();
                Ok(Listener::Tcp(TcpListener::bind(&addrs[..])?))
            }
        }
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    crate::cli::parse_bool(v).ok_or_else(|| format!("'{v}' is not a boolean (on/off)"))
}

fn split_host_port(addr: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let (h, p) = rest.split_once("]:")?;
        (h, p)
    } else {
        addr.rsplit_once(':')?
    };
    Some((host.to_string(), port.parse().ok()?))
}

/// One open byte stream, as separate read and write handles on the same channel.
pub struct Connection {
    pub rx: File,
    pub tx: File,
}

impl Connection {
    fn from_fd(fd: OwnedFd) -> io::Result<Connection> {
        let tx = fd.try_clone()?;
        Ok(Connection { rx: File::from(fd), tx: File::from(tx) })
    }

    pub fn from_unix(s: UnixStream) -> io::Result<Connection> {
        Connection::from_fd(OwnedFd::from(s))
    }

    pub fn from_tcp(s: TcpStream) -> io::Result<Connection> {
        Connection::from_fd(OwnedFd::from(s))
    }

    /// Duplicates of the process's standard input and output.
    pub fn stdio() -> io::Result<Connection> {
        let rx = io::stdin().as_fd().try_clone_to_owned()?;
        let tx = io::stdout().as_fd().try_clone_to_owned()?;
        Ok(Connection { rx: File::from(rx), tx: File::from(tx) })
    }
}

/// A listening socket.
pub enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Listener {
    pub fn accept(&self) -> io::Result<Connection> {
        match self {
            Listener::Unix(l) => Connection::from_unix(l.accept()?.0),
            Listener::Tcp(l) => {
                let (s, _) = l.accept()?;
                s.set_nodelay(true)?;
                Connection::from_tcp(s)
            }
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Unix(l) => l.as_fd(),
            Listener::Tcp(l) => l.as_fd(),
        }
    }
}

/// One event of a [`LineReader`].
#[derive(Debug, PartialEq, Eq)]
pub enum LineEvent<'a> {
    /// A complete line, without its `\n`.
    Line(&'a [u8]),
    /// A line longer than the bound was discarded; this many bytes (newline excluded).
    TooLong(u64),
}

const READ_SIZE: usize = 64 * 1024;

/// Splits a byte stream into `\n`-terminated lines, holding at most `max_line` bytes of a
/// line (plus one read) in memory: a longer line is dropped as it arrives and reported once
/// its newline is seen. Bytes after the last newline at end of stream are not a line.
pub struct LineReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes in `buf[start..scanned]` are known to hold no newline.
    scanned: usize,
    max_line: usize,
    discarded: Option<u64>,
}

impl LineReader {
    pub fn new(max_line: usize) -> Self {
        LineReader {
            buf: vec![0; READ_SIZE],
            start: 0,
            end: 0,
            scanned: 0,
            max_line,
            discarded: None,
        }
    }

    /// Performs one `read` into the buffer; returns the byte count (0 at end of stream).
    pub fn fill(&mut self, src: &mut dyn Read) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            self.scanned = 0;
            if self.buf.len() > 16 * READ_SIZE {
                self.buf = vec![0; READ_SIZE];
            }
        } else if self.start > 0 && self.buf.len() - self.end < READ_SIZE {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.scanned -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_SIZE {
            // Doubling, but never past what a line at the bound and one read need: the
            // pending part of a line is at most `max_line` bytes (a longer one is dropped).
            let cap = self.max_line.saturating_add(READ_SIZE);
            let want = (self.buf.len() * 2).min(cap).max(self.end + READ_SIZE);
            self.buf.resize(want, 0);
        }
        let n = loop {
            match src.read(&mut self.buf[self.end..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        self.end += n;
        Ok(n)
    }

    /// The next complete line (or discarded overlong line) in the buffer.
    pub fn next_line(&mut self) -> Option<LineEvent<'_>> {
        let found = self.buf[self.scanned..self.end]
            .iter()
            .position(|&c| c == b'\n')
            .map(|i| self.scanned + i);
        let Some(nl) = found else {
            self.scanned = self.end;
            if let Some(d) = self.discarded.as_mut() {
                *d += (self.end - self.start) as u64;
                self.start = self.end;
            } else if self.end - self.start > self.max_line {
                self.discarded = Some((self.end - self.start) as u64);
                self.start = self.end;
            }
            return None;
        };
        let line_start = self.start;
        self.start = nl + 1;
        self.scanned = self.start;
        if let Some(d) = self.discarded.take() {
            return Some(LineEvent::TooLong(d + (nl - line_start) as u64));
        }
        if nl - line_start > self.max_line {
            return Some(LineEvent::TooLong((nl - line_start) as u64));
        }
        Some(LineEvent::Line(&self.buf[line_start..nl]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<String> {
        let mut r = LineReader::new(max);
        let mut src = input;
        let mut got = Vec::new();
        loop {
            while let Some(ev) = r.next_line() {
                got.push(match ev {
                    LineEvent::Line(l) => String::from_utf8_lossy(l).into_owned(),
                    LineEvent::TooLong(n) => format!("<too long {n}>"),
                });
            }
            if r.fill(&mut src).unwrap() == 0 {
                return got;
            }
        }
    }

    #[test]
    fn splits_on_newlines_and_drops_an_unterminated_tail() {
        assert_eq!(lines(b"a b\n\nc\nd", 100), ["a b", "", "c"]);
    }

    #[test]
    fn overlong_line_is_reported_once_and_the_next_line_survives() {
        let mut input = vec![b'x'; 300_000];
        input.extend_from_slice(b"\nreadl 0x0\n");
        assert_eq!(lines(&input, 1000), ["<too long 300000>", "readl 0x0"]);
    }

    #[test]
    fn line_at_the_bound_is_kept() {
        let mut input = vec![b'y'; 1000];
        input.push(b'\n');
        assert_eq!(lines(&input, 1000)[0].len(), 1000);
    }

    #[test]
    fn overlong_line_is_not_buffered() {
        let mut r = LineReader::new(1000);
        let chunk = vec![b'z'; 50_000];
        for _ in 0..100 {
            r.fill(&mut &chunk[..]).unwrap();
            assert!(r.next_line().is_none());
        }
        assert!(r.buf.len() <= 4 * READ_SIZE);
    }

    #[test]
    fn buffer_of_a_line_near_the_bound_grows_no_further_than_the_bound_and_one_read() {
        let max = 2 * READ_SIZE + READ_SIZE / 2;
        let mut r = LineReader::new(max);
        let mut input = vec![b'a'; max];
        input.push(b'\n');
        let mut src = &input[..];
        let mut got = None;
        while got.is_none() {
            assert!(r.fill(&mut src).unwrap() > 0, "line not complete at end of input");
            got = r.next_line().map(|ev| matches!(ev, LineEvent::Line(l) if l.len() == max));
        }
        assert_eq!(got, Some(true));
        assert!(r.buf.len() <= max + READ_SIZE, "buffer of {} bytes", r.buf.len());
    }

    #[test]
    fn endpoint_syntax_follows_qemu() {
        assert_eq!(Endpoint::parse("stdio"), Ok(Endpoint::Stdio));
        assert_eq!(
            Endpoint::parse("unix:/tmp/q.sock"),
            Ok(Endpoint::Unix { path: "/tmp/q.sock".into(), server: false, wait: true })
        );
        assert_eq!(
            Endpoint::parse("tcp:127.0.0.1:4444,server=on,wait=off"),
            Ok(Endpoint::Tcp { host: "127.0.0.1".into(), port: 4444, server: true, wait: false })
        );
        assert_eq!(Endpoint::parse("tcp:[::1]:5,server,nowait").map(|e| e.is_server()), Ok(true));
        assert!(Endpoint::parse("pty").is_err());
        assert!(Endpoint::parse("tcp:host").is_err());
        assert!(Endpoint::parse("unix:/x,frob=1").is_err());
    }
}
