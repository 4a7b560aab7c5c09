//! The binary launched exactly as libqtest launches QEMU (qemu-compatibility.md §7), and
//! `exit-with-parent`.

mod common;

use std::io::{BufReader, Write};
use std::os::unix::net::UnixListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// Spawns the binary through `sh -c "exec ..."` with libqtest's arguments, accepts both
/// sockets and completes the handshake.
fn libqtest_session(extra: &str) {
    let sock = temp_path("sock");
    let qmp = temp_path("qmp");
    let qtest_l = UnixListener::bind(&sock).unwrap();
    let qmp_l = UnixListener::bind(&qmp).unwrap();
    let cmdline = format!(
        "exec {BIN} -qtest unix:{} -qtest-log /dev/null -chardev socket,path={},id=char0 \
         -mon chardev=char0,mode=control -display none -audio none \
         -run-with exit-with-parent=on {extra} -accel qtest",
        sock.display(),
        qmp.display()
    );
    let mut child =
        Command::new("sh").args(["-c", &cmdline]).stderr(Stdio::null()).spawn().unwrap();
    let qtest = accept(&qtest_l);
    let mut q = Qmp::new(accept(&qmp_l));
    let mut qr = BufReader::new(qtest.try_clone().unwrap());
    let mut qw = qtest;

    qw.write_all(b"endianness\n").unwrap();
    assert_eq!(read_line(&mut qr), "OK little");
    let greeting = q.recv();
    assert!(
        greeting
            .starts_with(r#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 11}"#),
        "{greeting}"
    );
    assert_eq!(q.cmd(r#"{ "execute": "qmp_capabilities" }"#), r#"{"return": {}}"#);
    let machines = q.cmd(r#"{ "execute": "query-machines" }"#);
    assert!(
        machines.contains(r#""name": "virt"#) || machines.contains(r#""alias": "virt""#),
        "{machines}"
    );

    sigterm(&child);
    let st = wait_timeout(&mut child, TIMEOUT).expect("no exit after SIGTERM");
    assert_eq!(st.code(), Some(0), "{st:?}");
    let _ = std::fs::remove_file(&sock);
    let _ = std::fs::remove_file(&qmp);
}

#[test]
fn libqtest_launch_with_machine_none() {
    libqtest_session("-machine none");
}

#[test]
fn libqtest_launch_with_the_smmu_test_machine() {
    libqtest_session(SMMU_TEST_ARGS);
}

#[test]
fn qmp_system_reset_answers_then_emits_reset_and_qom_tree_names_the_smmu() {
    let qmp = temp_path("qmp");
    let qmp_l = UnixListener::bind(&qmp).unwrap();
    let mut child = Command::new(BIN)
        .args(SMMU_TEST_ARGS.split_whitespace())
        .args(["-qtest-log", "none", "-qmp", &format!("unix:{}", qmp.display())])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut q = Qmp::new(accept(&qmp_l));
    q.recv();
    q.cmd(r#"{"execute": "qmp_capabilities"}"#);
    assert_eq!(q.cmd(r#"{"execute": "system_reset"}"#), r#"{"return": {}}"#);
    let ev = q.recv();
    assert!(ev.contains(r#""event": "RESET""#), "{ev}");
    let tree = q.cmd(
        r#"{"execute": "human-monitor-command", "arguments": {"command-line": "info qom-tree"}}"#,
    );
    assert!(tree.starts_with(r#"{"return": "/machine ("#), "{tree}");
    assert_eq!(
        q.cmd(r#"{"execute": "migrate"}"#),
        r#"{"error": {"class": "CommandNotFound", "desc": "The command migrate has not been found"}}"#
    );
    assert_eq!(q.cmd(r#"{"execute": "quit"}"#), r#"{"return": {}}"#);
    let st = wait_timeout(&mut child, TIMEOUT).expect("no exit after quit");
    assert_eq!(st.code(), Some(0));
    let _ = std::fs::remove_file(&qmp);
}

#[test]
fn qtest_server_socket_serves_connections_one_after_another() {
    let sock = temp_path("srv");
    let mut child = Command::new(BIN)
        .args(["-M", "none", "-qtest-log", "none", "-qtest"])
        .arg(format!("unix:{},server=on", sock.display()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..2 {
        let deadline = Instant::now() + TIMEOUT;
        let s = loop {
            match std::os::unix::net::UnixStream::connect(&sock) {
                Ok(s) => break s,
                Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Err(e) => panic!("{e}"),
            }
        };
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        (&s).write_all(b"endianness\n").unwrap();
        assert_eq!(read_line(&mut r), "OK little");
    }
    sigterm(&child);
    assert_eq!(wait_timeout(&mut child, TIMEOUT).and_then(|s| s.code()), Some(0));
}

/// Whether process `pid` has exited (gone, or a zombie waiting to be reaped).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        }
    }
}

/// An intermediate shell starts the server in the background, writes its pid and exits.
fn orphan_server(flag: &str) -> u32 {
    let pidfile = temp_path("pid");
    let script = format!(
        "{BIN} -M none -qtest-log none {flag} -pidfile {} 2>/dev/null & sleep 0.5; exit 0",
        pidfile.display()
    );
    let mut sh = Command::new("sh").args(["-c", &script]).spawn().unwrap();
    assert!(wait_timeout(&mut sh, TIMEOUT).unwrap().success());
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let _ = std::fs::remove_file(&pidfile);
    pid
}

#[test]
fn server_exits_when_its_parent_dies_with_exit_with_parent() {
    let pid = orphan_server("-run-with exit-with-parent=on");
    let deadline = Instant::now() + TIMEOUT;
    while !exited(pid) {
        assert!(Instant::now() < deadline, "server {pid} outlived its parent");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn server_without_exit_with_parent_outlives_its_parent() {
    let pid = orphan_server("");
    thread::sleep(Duration::from_millis(500));
    let alive = !exited(pid);
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).unwrap(),
        rustix::process::Signal::KILL,
    );
    assert!(alive);
}

#[test]
fn version_and_help_texts() {
    let out = Command::new(BIN).arg("-version").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("QEMU emulator version 11.0.0\n"));
    assert_eq!(text.lines().count(), 2);
    let out = Command::new(BIN).args(["-machine", "help"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("virt"));
    let out = Command::new(BIN).args(["-device", "iommu-testdev,help"]).output().unwrap();
    assert!(out.status.success() && !out.stdout.is_empty());
}

#[test]
fn unknown_option_is_an_error_with_a_clear_message() {
    let out = Command::new(BIN).args(["-M", "none", "-bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "smmu-system-aarch64: -bogus: invalid option\n"
    );
}

#[test]
fn unknown_machine_error_comes_from_the_machine_builder() {
    let out = Command::new(BIN).args(["-M", "pc", "-qtest", "stdio"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("pc"));
}

#[test]
fn qtest_over_tcp_client_and_log_file_in_qemu_format() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = temp_path("log");
    let mut child = Command::new(BIN)
        .args(["-M", "none", "-qtest", &format!("tcp:127.0.0.1:{port}")])
        .args(["-qtest-log", log.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let s = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("{e}"),
        }
    };
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    (&s).write_all(b"endianness\nfoo\n").unwrap();
    assert_eq!(read_line(&mut r), "OK little");
    assert_eq!(read_line(&mut r), "FAIL Unknown command 'foo'");
    drop(r);
    drop(s);
    let st = wait_timeout(&mut child, TIMEOUT).expect("no exit when the connection closed");
    assert_eq!(st.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let kinds: Vec<&str> = text.lines().map(|l| &l[..3]).collect();
    assert_eq!(kinds, ["[I ", "[R ", "[S ", "[R ", "[S ", "[I "], "{text}");
    assert!(text.contains("] endianness\n") && text.contains("] OK little\n"), "{text}");
    assert!(text.ends_with("] CLOSED\n"), "{text}");
}

#[test]
fn qtest_client_that_cannot_connect_is_an_error() {
    let missing = temp_path("missing");
    let out = Command::new(BIN)
        .args(["-M", "none", "-qtest", &format!("unix:{}", missing.display())])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("Failed to connect"));
}
