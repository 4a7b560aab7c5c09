//! Helpers for tests that launch the binary: every wait is bounded.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_smmu-system-aarch64");
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The iommu-smmuv3-test machine arguments (qemu-compatibility.md §3.1).
pub const SMMU_TEST_ARGS: &str = "-machine virt,acpi=off,gic-version=3,iommu=smmuv3 -smp 1 -m 512 -cpu max -net none -device iommu-testdev";

/// A fresh path in the temp dir, unique per process and call.
pub fn temp_path(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("qtest-{}-{n}.{tag}", std::process::id()))
}

/// Accepts one connection, giving up after `TIMEOUT`.
pub fn accept(l: &UnixListener) -> UnixStream {
    l.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(TIMEOUT)).unwrap();
                return s;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Waits for a child, killing it after `limit`.
pub fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

pub fn sigterm(child: &Child) {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
}

/// Reads one `\n`-terminated line (without it).
pub fn read_line(r: &mut impl BufRead) -> String {
    let mut s = String::new();
    r.read_line(&mut s).expect("read_line");
    assert!(s.ends_with('\n'), "connection closed early, got {s:?}");
    s.pop();
    s
}

/// Runs the binary over stdio with `input`, returning its stdout (bounded in time).
pub fn run_stdio(args: &str, input: &[u8]) -> String {
    let mut child = Command::new(BIN)
        .args(args.split_whitespace())
        .args(["-qtest", "stdio", "-qtest-log", "none"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let st = wait_timeout(&mut child, TIMEOUT).expect("server did not exit at end of input");
    assert!(st.success(), "{st:?}");
    writer.join().unwrap();
    String::from_utf8(reader.join().unwrap()).unwrap()
}

/// A QMP client on an accepted socket.
pub struct Qmp {
    pub r: BufReader<UnixStream>,
    pub w: UnixStream,
}

impl Qmp {
    pub fn new(s: UnixStream) -> Self {
        Qmp { w: s.try_clone().unwrap(), r: BufReader::new(s) }
    }

    pub fn recv(&mut self) -> String {
        let l = read_line(&mut self.r);
        l.strip_suffix('\r').unwrap_or(&l).to_string()
    }

    pub fn cmd(&mut self, json: &str) -> String {
        self.w.write_all(json.as_bytes()).unwrap();
        self.recv()
    }
}
