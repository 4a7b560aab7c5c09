//! Throughput of the qtest server over a unix socket, in-process (`cargo run --release -p
//! qtest-frontend --example throughput`): sequential round trips per second, pipelined
//! commands per second, and DMAs per second for libqos' 9-command DMA sequence
//! (qemu-compatibility.md §3.7) after the ns-s1-only setup of iommu-smmuv3-test.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use qtest_frontend::bus::{DeviceOpts, MachineOpts};
use qtest_frontend::log::QtestLog;
use qtest_frontend::protocol::Protocol;
use qtest_frontend::server::{MachineLoop, Source};
use qtest_frontend::transport::Connection;

const DMA: [&str; 9] = [
    "write 0x10000004 0x4 0x67456080",
    "write 0x10000008 0x4 0x80000000",
    "write 0x1000001c 0x4 0x67a5cb4e",
    "write 0x10000020 0x4 0x00000000",
    "write 0x1000000c 0x4 0x04000000",
    "write 0x10000018 0x4 0x0a000000",
    "write 0x10000014 0x4 0x01000000",
    "read 0x10000000 0x4",
    "read 0x10000010 0x4",
];

fn machine_opts() -> MachineOpts {
    let props = [("acpi", "off"), ("gic-version", "3"), ("iommu", "smmuv3")];
    MachineOpts {
        machine: "virt".into(),
        machine_props: props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ram_size: 512 << 20,
        devices: vec![DeviceOpts { driver: "iommu-testdev".into(), props: vec![] }],
        globals: vec![],
    }
}

struct Client {
    r: BufReader<UnixStream>,
    w: UnixStream,
    line: String,
}

impl Client {
    fn call(&mut self, req: &str) -> &str {
        self.w.write_all(req.as_bytes()).unwrap();
        self.w.write_all(b"\n").unwrap();
        self.line.clear();
        self.r.read_line(&mut self.line).unwrap();
        self.line.trim_end()
    }
}

fn rate(n: u64, t: Duration) -> String {
    format!("{:.0}/s ({n} in {:.2?})", n as f64 / t.as_secs_f64(), t)
}

fn main() {
    let (server_end, client_end) = UnixStream::pair().unwrap();
    let (wake_rx, _wake_tx) = UnixStream::pair().unwrap();
    let (_ctl_tx, ctl_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        // The machine is not `Send`: it lives on the thread that serves it.
        let bus = qtest_frontend::machine::build_machine(&machine_opts()).expect("machine");
        let mut m = MachineLoop { bus, proto: Protocol::new(true), log: QtestLog::none() };
        let conn = Connection::from_unix(server_end).unwrap();
        m.run(Source::Client(conn), &ctl_rx, wake_rx)
    });
    let mut c = Client {
        r: BufReader::new(client_end.try_clone().unwrap()),
        w: client_end,
        line: String::new(),
    };

    // Sequential round trips.
    let n = 100_000u64;
    let t = Instant::now();
    for _ in 0..n {
        c.call("readl 0x40000000");
    }
    println!("sequential round trips: {}", rate(n, t.elapsed()));

    // Pipelined: a writer thread streams requests while this thread reads replies.
    let n = 1_000_000u64;
    let mut w = c.w.try_clone().unwrap();
    let t = Instant::now();
    let writer = thread::spawn(move || {
        let batch = "readl 0x40000000\n".repeat(1000);
        for _ in 0..n / 1000 {
            w.write_all(batch.as_bytes()).unwrap();
        }
    });
    for _ in 0..n {
        c.line.clear();
        c.r.read_line(&mut c.line).unwrap();
    }
    writer.join().unwrap();
    println!("pipelined commands:     {}", rate(n, t.elapsed()));

    // DMA: the ns-s1-only setup, then the 9-command sequence in a loop.
    let setup = include_str!("../tests/golden/ns-s1-only.txt");
    for req in setup.lines().filter_map(|l| l.strip_prefix("> ")) {
        c.call(req);
    }
    let n = 20_000u64;
    let t = Instant::now();
    for _ in 0..n {
        for req in &DMA[..8] {
            c.call(req);
        }
        let result = c.call(DMA[8]).to_string();
        assert_eq!(result, "OK 0x00000000", "DMA failed");
    }
    println!("DMAs (9 commands each): {}", rate(n, t.elapsed()));

    drop(c);
    let _ = server.join();
}
