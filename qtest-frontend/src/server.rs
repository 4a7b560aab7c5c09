//! The emulator process: command line, machine, qtest connection loop, QMP threads, signals.
//!
//! One thread owns the machine and the qtest connection: it waits with `poll` on the qtest
//! stream (or listening socket) and on a wake-up socket, executes every complete request line
//! it has received before flushing the replies (so pipelined requests are answered in
//! batches), and serves requests the QMP threads queue for it (`system_reset`, `info
//! qom-tree`, exit). Each QMP monitor has its own thread. SIGTERM, SIGINT and SIGHUP end the
//! process with status 0, as QEMU's do.

use std::ffi::OsString;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::Pid;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::bus::Bus;
use crate::cli::{self, Action, Config, MachineApi};
use crate::log::{QtestLog, Wire};
use crate::protocol::{MAX_LINE, Protocol};
use crate::qmp::{self, Json};
use crate::transport::{Connection, Endpoint, LineEvent, LineReader, Listener};

/// How long a shutdown request may take before the process exits anyway.
const EXIT_GRACE: Duration = Duration::from_secs(2);
/// How often `exit-with-parent` checks that the parent is still the original one.
const PARENT_CHECK: Duration = Duration::from_millis(200);

/// Requests to the machine thread.
pub enum Control {
    Reset(Sender<Result<(), String>>),
    QomTree(Sender<Result<String, String>>),
    Exit(i32),
}

/// Queues a [`Control`] for the machine thread and wakes it.
#[derive(Clone)]
pub struct Waker {
    tx: Sender<Control>,
    wake: Arc<UnixStream>,
}

impl Waker {
    pub fn send(&self, c: Control) {
        if self.tx.send(c).is_ok() {
            // A full wake-up buffer already guarantees a wake-up.
            let _ = (&*self.wake).write(&[1]);
        }
    }

    fn call<T>(
        &self,
        make: impl FnOnce(Sender<Result<T, String>>) -> Control,
    ) -> Result<T, String> {
        let (tx, rx) = mpsc::channel();
        self.send(make(tx));
        rx.recv().unwrap_or_else(|_| Err("the machine is shutting down".into()))
    }
}

/// The binary's entry point: the `run` subcommand or a QEMU-style command line.
pub fn main(args: Vec<OsString>, api: &MachineApi) -> i32 {
    let ppid = rustix::process::getppid();
    let prog = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map_or("smmu-system-aarch64".into(), |n| n.to_string_lossy().into_owned());
    let mut strings = Vec::new();
    for a in args.iter().skip(1) {
        match a.to_str() {
            Some(s) => strings.push(s.to_string()),
            None => {
                eprintln!("{prog}: argument {a:?} is not valid UTF-8");
                return 1;
            }
        }
    }
    if strings.first().map(String::as_str) == Some("run") {
        return crate::run::main(&strings[1..], api, &prog);
    }
    let action = match cli::parse(&strings) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return 1;
        }
    };
    match action {
        Action::Version => print!("{}", cli::version_text()),
        Action::Help => print!("{}", cli::help_text(&prog)),
        Action::MachineHelp => print!("{}", (api.help_machines)()),
        Action::DeviceHelp => print!("{}", (api.help_devices)()),
        Action::DeviceProps(driver) => match (api.help_device)(&driver) {
            Some(text) => print!("{text}"),
            None => {
                eprintln!("{prog}: -device {driver},help: Device '{driver}' not found");
                return 1;
            }
        },
        Action::Serve(cfg) => return serve(*cfg, api, &prog, ppid),
    }
    0
}

fn serve(cfg: Config, api: &MachineApi, prog: &str, ppid: Option<Pid>) -> i32 {
    let (ctl_tx, ctl_rx) = mpsc::channel();
    let (wake_rx, wake_tx) = match UnixStream::pair() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return 1;
        }
    };
    let _ = wake_tx.set_nonblocking(true);
    let waker = Waker { tx: ctl_tx, wake: Arc::new(wake_tx) };
    let chan = Arc::new(qmp::Channel::default());
    if let Err(e) = handle_signals(waker.clone(), chan.clone()) {
        eprintln!("{prog}: cannot install signal handlers: {e}");
        return 1;
    }
    if cfg.exit_with_parent
        && let Err(e) = exit_with_parent(ppid, waker.clone())
    {
        eprintln!("{prog}: -run-with exit-with-parent=on: {e}");
        return 1;
    }
    if let Some(w) = cfg.warning() {
        eprintln!("{prog}: {w}");
    }
    if !cfg.machine_given {
        eprintln!(
            "{prog}: No machine specified, and there is no default\n\
             Use -machine help to list supported machines"
        );
        return 1;
    }
    if let Some(path) = &cfg.pidfile
        && let Err(e) = std::fs::write(path, format!("{}\n", std::process::id()))
    {
        eprintln!("{prog}: cannot create PID file '{path}': {e}");
        return 1;
    }
    let log = match QtestLog::open(cfg.qtest_log.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            let f = cfg.qtest_log.as_deref().unwrap_or_default();
            eprintln!("{prog}: -qtest-log {f}: {e}");
            return 1;
        }
    };
    let bus = match (api.build)(&cfg.machine) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return 1;
        }
    };
    for ep in &cfg.qmp {
        if let Err(e) = start_qmp(ep, &waker, &chan, api) {
            eprintln!("{prog}: QMP {}: {e}", ep.describe());
            return 1;
        }
    }
    let source = match &cfg.qtest {
        None => Source::Nothing,
        Some(ep) if ep.is_server() => match ep.listen() {
            Ok(l) => {
                eprintln!("{prog}: -qtest {}: info: waiting for connection", ep.describe());
                Source::Listener(l)
            }
            Err(e) => {
                eprintln!("{prog}: -qtest {}: {e}", ep.describe());
                return 1;
            }
        },
        Some(ep) => match ep.connect() {
            Ok(c) => Source::Client(c),
            Err(e) => {
                eprintln!("{prog}: -qtest {}: Failed to connect: {e}", ep.describe());
                return 1;
            }
        },
    };
    let mut machine = MachineLoop { bus, proto: Protocol::new(cfg.accel_qtest), log };
    machine.run(source, &ctl_rx, wake_rx)
}

fn handle_signals(waker: Waker, chan: Arc<qmp::Channel>) -> io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    thread::Builder::new().name("signals".into()).spawn(move || {
        if signals.forever().next().is_some() {
            chan.event(
                "SHUTDOWN",
                Json::Obj(vec![
                    ("guest".into(), Json::Bool(false)),
                    ("reason".into(), Json::Str("host-signal".into())),
                ]),
            );
            waker.send(Control::Exit(0));
            thread::sleep(EXIT_GRACE);
            std::process::exit(0);
        }
    })?;
    Ok(())
}

/// `-run-with exit-with-parent=on`: the kernel sends SIGTERM when the parent dies
/// (PR_SET_PDEATHSIG); a parent that died before that was set, or a reparenting the signal
/// does not cover, is caught by comparing the parent with the one seen at startup.
fn exit_with_parent(ppid: Option<Pid>, waker: Waker) -> io::Result<()> {
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))?;
    let gone = move || rustix::process::getppid() != ppid;
    if gone() {
        std::process::exit(0);
    }
    thread::Builder::new().name("parent-watch".into()).spawn(move || {
        while !gone() {
            thread::sleep(PARENT_CHECK);
        }
        waker.send(Control::Exit(0));
        thread::sleep(EXIT_GRACE);
        std::process::exit(0);
    })?;
    Ok(())
}

struct QmpBackend {
    waker: Waker,
    help: fn() -> String,
}

impl qmp::Backend for QmpBackend {
    fn reset(&self) -> Result<(), String> {
        self.waker.call(Control::Reset)
    }
    fn qom_tree(&self) -> Result<String, String> {
        self.waker.call(Control::QomTree)
    }
    fn machines_help(&self) -> String {
        (self.help)()
    }
    fn quit(&self) {
        self.waker.send(Control::Exit(0));
    }
}

fn start_qmp(
    ep: &Endpoint,
    waker: &Waker,
    chan: &Arc<qmp::Channel>,
    api: &MachineApi,
) -> io::Result<()> {
    let backend = QmpBackend { waker: waker.clone(), help: api.help_machines };
    let chan = chan.clone();
    if ep.is_server() {
        let listener = ep.listen()?;
        thread::Builder::new().name("qmp".into()).spawn(move || {
            while let Ok(c) = listener.accept() {
                let _ = qmp::serve(c.rx, Box::new(c.tx), &chan, &backend);
            }
        })?;
    } else {
        let c = ep.connect()?;
        thread::Builder::new().name("qmp".into()).spawn(move || {
            let _ = qmp::serve(c.rx, Box::new(c.tx), &chan, &backend);
        })?;
    }
    Ok(())
}

/// Where qtest connections come from.
pub enum Source {
    /// No `-qtest`: only QMP and signals.
    Nothing,
    /// A connection made at startup (stdio or client socket); its end ends the process.
    Client(Connection),
    /// A listening socket; connections are served one after another.
    Listener(Listener),
}

struct Conn {
    rx: std::fs::File,
    tx: BufWriter<std::fs::File>,
    reader: LineReader,
}

/// The machine thread.
pub struct MachineLoop {
    pub bus: Box<dyn Bus>,
    pub proto: Protocol,
    pub log: QtestLog,
}

impl MachineLoop {
    fn open(&mut self, c: Connection) -> Conn {
        self.log.opened();
        self.proto.connection_opened(self.bus.as_mut());
        Conn {
            rx: c.rx,
            tx: BufWriter::with_capacity(64 * 1024, c.tx),
            reader: LineReader::new(MAX_LINE),
        }
    }

    /// Serves until the client connection ends or an exit is requested; returns the exit
    /// status.
    pub fn run(&mut self, source: Source, ctl: &Receiver<Control>, mut wake: UnixStream) -> i32 {
        let _ = wake.set_nonblocking(true);
        let (mut conn, listener, client) = match source {
            Source::Nothing => (None, None, false),
            Source::Client(c) => (Some(self.open(c)), None, true),
            Source::Listener(l) => (None, Some(l), false),
        };
        loop {
            let (woken, ready) = {
                let mut fds = vec![PollFd::new(&wake, PollFlags::IN)];
                if let Some(c) = &conn {
                    fds.push(PollFd::new(&c.rx, PollFlags::IN));
                } else if let Some(l) = &listener {
                    fds.push(PollFd::new(l, PollFlags::IN));
                }
                match poll(&mut fds, None) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(_) => return self.finish(1, conn.is_some()),
                }
                (!fds[0].revents().is_empty(), fds.get(1).is_some_and(|f| !f.revents().is_empty()))
            };
            if woken {
                let mut sink = [0u8; 64];
                while matches!(wake.read(&mut sink), Ok(n) if n > 0) {}
                while let Ok(msg) = ctl.try_recv() {
                    match msg {
                        Control::Reset(r) => {
                            self.bus.reset();
                            let _ = r.send(Ok(()));
                        }
                        Control::QomTree(r) => {
                            let _ = r.send(Ok(self.bus.qom_tree()));
                        }
                        Control::Exit(code) => return self.finish(code, conn.is_some()),
                    }
                }
            }
            if !ready {
                continue;
            }
            if let Some(c) = conn.as_mut() {
                if !matches!(self.service(c), Ok(true)) {
                    self.log.closed();
                    conn = None;
                    if client {
                        return self.finish(0, false);
                    }
                }
            } else if let Some(l) = &listener
                && let Ok(c) = l.accept()
            {
                conn = Some(self.open(c));
            }
        }
    }

    fn finish(&mut self, code: i32, open: bool) -> i32 {
        if open {
            self.log.closed();
        }
        self.log.flush();
        code
    }

    /// Reads once and answers every complete line; false at end of stream.
    fn service(&mut self, c: &mut Conn) -> io::Result<bool> {
        let Conn { rx, tx, reader } = c;
        if reader.fill(rx)? == 0 {
            return Ok(false);
        }
        while let Some(ev) = reader.next_line() {
            match ev {
                LineEvent::Line(line) => {
                    self.log.received(line);
                    let mut wire = Wire { tx: &mut *tx, log: &mut self.log };
                    self.proto.execute(self.bus.as_mut(), line, &mut wire)?;
                }
                LineEvent::TooLong(n) => {
                    self.log.received(format!("<line of {n} bytes discarded>").as_bytes());
                    let mut wire = Wire { tx: &mut *tx, log: &mut self.log };
                    self.proto.line_too_long(n, &mut wire)?;
                }
            }
        }
        tx.flush()?;
        self.log.flush();
        Ok(true)
    }
}
