//! The `run` subcommand of the binary, and `run --vs` against stand-ins for QEMU.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};

use common::*;

const SCRIPT: &str = "# args: -machine virt -m 512\n\
                      writel 0x40000000 0x12345678\n\
                      readl 0x40000000\n\
                      # expect-error\n\
                      readl 0x40000000 bogus\n";

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .arg("run")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.code().is_some(), "killed: {:?}", out.status);
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_prints_the_transcript_and_succeeds() {
    let out = run(&["-"], SCRIPT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "> writel 0x40000000 0x12345678\n< OK\n> readl 0x40000000\n< OK 0x0000000012345678\n\
         > readl 0x40000000 bogus\n< ERR invalid attrs argument\n"
    );
}

#[test]
fn run_fails_on_an_unexpected_error() {
    let out = run(&["-"], "# args: -M virt\nreadl 0x40000000 bogus\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("line 2: readl 0x40000000 bogus -> ERR"));
}

#[test]
fn run_vs_itself_reports_identical_transcripts() {
    let out = run(&["--vs", BIN, "-"], SCRIPT);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).starts_with("transcripts are identical"));
}

#[test]
fn run_vs_a_different_emulator_prints_a_diff_and_fails() {
    let fake = temp_path("sh");
    std::fs::write(&fake, "#!/bin/sh\nwhile read -r line; do echo OK; done\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run(&["--vs", fake.to_str().unwrap(), "-"], SCRIPT);
    let _ = std::fs::remove_file(&fake);
    assert_eq!(out.status.code(), Some(1));
    let diff = text(&out.stdout);
    assert!(diff.contains("-< OK 0x0000000012345678\n+< OK\n"), "{diff}");
    assert!(diff.contains("@@ "), "{diff}");
}
