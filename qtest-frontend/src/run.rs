//! `run SCRIPT`: replays a qtest script in-process and prints its transcript, optionally
//! with the translation trace, optionally next to a real QEMU's transcript (`--vs`).
//!
//! Script format: request lines as sent on the wire; `# args: ...` lines in the header (before
//! the first request, one or more, concatenated, split on whitespace) give the command line
//! (machine options; transport options are ignored); a line `# expect-error` marks the next
//! request as expected to get `ERR` or `FAIL`; other `#` lines and blank lines are comments.
//!
//! Transcript: `> request`, then (with a trace) the trace events of that request, then
//! `< reply` for each line the server sent (`IRQ` lines included).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use smmu::TraceEvent;
use smmu::trace::JsonLine;

use crate::bus::{Bus, MachineOpts};
use crate::cli::{self, Action, MachineApi};
use crate::protocol::{Protocol, Status};

/// Trace output of `run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TraceFormat {
    #[default]
    Off,
    /// `--trace`: one text line per event, indented by two spaces.
    Text,
    /// `--trace=json`: one JSON object per line.
    Json,
}

/// Options of [`run_script`].
#[derive(Clone, Copy)]
pub struct RunOptions {
    pub trace: TraceFormat,
    /// Builds the machine from the script's command line.
    pub build: fn(&MachineOpts) -> Result<Box<dyn Bus>, String>,
}

/// Transcript and failures of one replay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOutput {
    pub transcript: String,
    /// One message per unexpected `ERR`/`FAIL` or expected error that did not happen.
    pub failures: Vec<String>,
}

/// One request of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// 1-based line number in the script.
    pub line_no: usize,
    pub text: String,
    pub expect_error: bool,
}

/// A parsed script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    pub args: Vec<String>,
    pub requests: Vec<Request>,
    /// Problems in the script itself (e.g. `# args:` after the first request).
    pub problems: Vec<String>,
}

/// Splits a script into its command line and requests.
pub fn parse_script(text: &str) -> Script {
    let mut script = Script::default();
    let mut expect = None;
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        if raw.is_empty() {
            continue;
        }
        if let Some(c) = raw.strip_prefix('#') {
            let c = c.trim();
            if let Some(args) = c.strip_prefix("args:") {
                if script.requests.is_empty() {
                    script.args.extend(args.split_whitespace().map(String::from));
                } else {
                    script.problems.push(format!(
                        "line {line_no}: '# args:' after the first request is not allowed"
                    ));
                }
            } else if c == "expect-error" {
                expect = Some(line_no);
            }
            continue;
        }
        script.requests.push(Request {
            line_no,
            text: raw.to_string(),
            expect_error: expect.take().is_some(),
        });
    }
    if let Some(n) = expect {
        script.problems.push(format!("line {n}: '# expect-error' is not followed by a request"));
    }
    script
}

/// Machine options from a script's command line.
pub fn machine_opts(args: &[String]) -> Result<(MachineOpts, bool), String> {
    match cli::parse(args)? {
        Action::Serve(cfg) if cfg.machine_given => Ok((cfg.machine, cfg.accel_qtest)),
        Action::Serve(_) => Err("no machine specified (add '# args: -machine ...')".into()),
        _ => Err("the script's '# args:' must describe a machine, not ask for help".into()),
    }
}

fn render_trace(ev: &TraceEvent, fmt: TraceFormat, out: &mut String) {
    let _ = match fmt {
        TraceFormat::Off => Ok(()),
        TraceFormat::Text => writeln!(out, "  {ev}"),
        TraceFormat::Json => writeln!(out, "{}", JsonLine(ev)),
    };
}

/// Replays `text` against a machine built in-process.
pub fn run_script(text: &str, opts: &RunOptions) -> RunOutput {
    let script = parse_script(text);
    let mut out = RunOutput { failures: script.problems.clone(), ..Default::default() };
    let mut bus = match machine_opts(&script.args).and_then(|(m, _)| (opts.build)(&m)) {
        Ok(b) => b,
        Err(e) => {
            out.failures.push(format!("machine: {e}"));
            return out;
        }
    };
    bus.set_tracing(opts.trace != TraceFormat::Off);
    // Clock commands exist, as they do in QEMU under `--vs` (`-accel qtest`).
    let mut proto = Protocol::new(true);
    proto.connection_opened(bus.as_mut());
    for req in &script.requests {
        let mut reply = Vec::new();
        let status =
            proto.execute(bus.as_mut(), req.text.as_bytes(), &mut reply).unwrap_or(Status::Err);
        let _ = writeln!(out.transcript, "> {}", req.text);
        for ev in bus.take_trace() {
            render_trace(&ev, opts.trace, &mut out.transcript);
        }
        let reply = String::from_utf8_lossy(&reply);
        for line in reply.lines() {
            let _ = writeln!(out.transcript, "< {line}");
        }
        check(req, status, reply.lines().last().unwrap_or(""), &mut out.failures);
    }
    out
}

fn check(req: &Request, status: Status, last: &str, failures: &mut Vec<String>) {
    let failed = matches!(status, Status::Err | Status::Fail);
    if failed && !req.expect_error {
        failures.push(format!("line {}: {} -> {last}", req.line_no, req.text));
    } else if !failed && req.expect_error {
        failures
            .push(format!("line {}: {} -> {last} (an error was expected)", req.line_no, req.text));
    }
}

/// How long `--vs` waits for one reply from QEMU.
const VS_REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Replays the requests of `script` on `qemu` launched with the script's arguments and
/// `-qtest stdio`; returns QEMU's transcript (requests and replies only).
pub fn run_qemu(qemu: &str, script: &Script) -> Result<String, String> {
    let mut args = script.args.clone();
    args.extend(["-qtest", "stdio", "-qtest-log", "none", "-display", "none"].map(String::from));
    if !args.windows(2).any(|w| w[0] == "-accel" && w[1].starts_with("qtest")) {
        args.extend(["-accel".to_string(), "qtest".to_string()]);
    }
    let mut child = Command::new(qemu)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {qemu}: {e}"))?;
    let result = converse(&mut child, script);
    drop(child.stdin.take());
    stop(&mut child);
    result
}

fn converse(child: &mut Child, script: &Script) -> Result<String, String> {
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut transcript = String::new();
    for req in &script.requests {
        let _ = writeln!(transcript, "> {}", req.text);
        if stdin
            .write_all(format!("{}\n", req.text).as_bytes())
            .and_then(|()| stdin.flush())
            .is_err()
        {
            let _ = writeln!(transcript, "< (connection closed)");
            return Ok(transcript);
        }
        loop {
            match rx.recv_timeout(VS_REPLY_TIMEOUT) {
                Ok(Ok(line)) => {
                    let _ = writeln!(transcript, "< {line}");
                    if !line.starts_with("IRQ ") {
                        break;
                    }
                }
                Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = writeln!(transcript, "< (connection closed)");
                    return Ok(transcript);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = writeln!(transcript, "< (no reply within {VS_REPLY_TIMEOUT:?})");
                    return Ok(transcript);
                }
            }
        }
    }
    Ok(transcript)
}

/// Ends a child: SIGTERM, then SIGKILL if it does not exit within a few seconds.
fn stop(child: &mut Child) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Requests and replies only (trace lines dropped), for comparison.
fn wire_lines(transcript: &str) -> Vec<&str> {
    transcript.lines().filter(|l| l.starts_with("> ") || l.starts_with("< ")).collect()
}

/// A unified line diff (3 lines of context); empty when equal.
pub fn diff(ours: &str, theirs: &str, ours_name: &str, theirs_name: &str) -> String {
    let a = wire_lines(ours);
    let b = wire_lines(theirs);
    let ops = edit_script(&a, &b);
    if ops.iter().all(|op| matches!(op, Op::Same(..))) {
        return String::new();
    }
    let mut out = format!("--- {ours_name}\n+++ {theirs_name}\n");
    const CTX: usize = 3;
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut i = 0;
    while i < changed.len() {
        let start = changed[i].saturating_sub(CTX);
        let mut end = changed[i];
        while i < changed.len() && changed[i] <= end + 2 * CTX {
            end = changed[i];
            i += 1;
        }
        let end = (end + CTX + 1).min(ops.len());
        let (mut la, mut lb) = (0, 0);
        for op in &ops[..start] {
            match op {
                Op::Same(..) => {
                    la += 1;
                    lb += 1;
                }
                Op::Del(_) => la += 1,
                Op::Ins(_) => lb += 1,
            }
        }
        let na = ops[start..end].iter().filter(|o| !matches!(o, Op::Ins(_))).count();
        let nb = ops[start..end].iter().filter(|o| !matches!(o, Op::Del(_))).count();
        let _ = writeln!(out, "@@ -{},{na} +{},{nb} @@", la + 1, lb + 1);
        for op in &ops[start..end] {
            let _ = match op {
                Op::Same(x) => writeln!(out, " {}", a[*x]),
                Op::Del(x) => writeln!(out, "-{}", a[*x]),
                Op::Ins(y) => writeln!(out, "+{}", b[*y]),
            };
        }
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Same(usize),
    Del(usize),
    Ins(usize),
}

/// Most differences cost this much work before the diff falls back to a coarse one.
const MAX_EDIT: usize = 2000;

/// Myers' shortest edit script; beyond [`MAX_EDIT`] differences the common prefix and suffix
/// are kept and the middle is reported as replaced.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = ((n + m) as usize).min(MAX_EDIT) as isize;
    let off = max + 1;
    let mut v = vec![0isize; 2 * off as usize + 1];
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let mut found = false;
    'outer: for d in 0..=max {
        trace.push(v.clone());
        let mut k = -d;
        while k <= d {
            let idx = (k + off) as usize;
            let mut x = if k == -d || (k != d && v[idx - 1] < v[idx + 1]) {
                v[idx + 1]
            } else {
                v[idx - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[idx] = x;
            if x >= n && y >= m {
                found = true;
                break 'outer;
            }
            k += 2;
        }
    }
    if !found {
        let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let suf =
            a[pre..].iter().rev().zip(b[pre..].iter().rev()).take_while(|(x, y)| x == y).count();
        let mut ops: Vec<Op> = (0..pre).map(Op::Same).collect();
        ops.extend((pre..a.len() - suf).map(Op::Del));
        ops.extend((pre..b.len() - suf).map(Op::Ins));
        ops.extend((0..suf).map(|i| Op::Same(a.len() - suf + i)));
        return ops;
    }
    // Backtrack.
    let mut ops = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (0..trace.len() as isize).rev() {
        let v = &trace[d as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && v[(k - 1 + off) as usize] < v[(k + 1 + off) as usize])
        {
            k + 1
        } else {
            k - 1
        };
        let prev_x = if d == 0 { 0 } else { v[(prev_k + off) as usize] };
        let prev_y = prev_x - prev_k;
        while x > prev_x.max(0) && y > prev_y.max(0) && x > 0 && y > 0 {
            x -= 1;
            y -= 1;
            ops.push(Op::Same(x as usize));
        }
        if d > 0 {
            if x == prev_x {
                y -= 1;
                ops.push(Op::Ins(y as usize));
            } else {
                x -= 1;
                ops.push(Op::Del(x as usize));
            }
        }
    }
    ops.reverse();
    ops
}

/// `run [--trace[=text|json]] [--vs QEMU] SCRIPT|-`.
pub fn main(args: &[String], api: &MachineApi, prog: &str) -> i32 {
    let usage = format!("usage: {prog} run [--trace[=text|json]] [--vs QEMU-BINARY] SCRIPT|-");
    let mut trace = TraceFormat::Off;
    let mut vs = None;
    let mut path = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--trace" | "--trace=text" => trace = TraceFormat::Text,
            "--trace=json" => trace = TraceFormat::Json,
            "--vs" => match it.next() {
                Some(q) => vs = Some(q.clone()),
                None => {
                    eprintln!("{prog}: run: --vs requires an argument\n{usage}");
                    return 2;
                }
            },
            "-h" | "--help" => {
                println!("{usage}");
                return 0;
            }
            s if s.starts_with("--") => {
                eprintln!("{prog}: run: unknown option {s}\n{usage}");
                return 2;
            }
            s if path.is_none() => path = Some(s.to_string()),
            s => {
                eprintln!("{prog}: run: unexpected argument {s}\n{usage}");
                return 2;
            }
        }
    }
    let Some(path) = path else {
        eprintln!("{prog}: run: missing SCRIPT\n{usage}");
        return 2;
    };
    let text = if path == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(&path)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{prog}: run: {path}: {e}");
            return 2;
        }
    };
    let opts = RunOptions { trace, build: api.build };
    let ours = run_script(&text, &opts);
    let mut status = 0;
    match vs {
        None => print!("{}", ours.transcript),
        Some(qemu) => {
            let script = parse_script(&text);
            match run_qemu(&qemu, &script) {
                Ok(theirs) => {
                    let d = diff(&ours.transcript, &theirs, "smmu-system-aarch64", &qemu);
                    if d.is_empty() {
                        println!("transcripts are identical ({} requests)", script.requests.len());
                    } else {
                        print!("{d}");
                        status = 1;
                    }
                }
                Err(e) => {
                    eprintln!("{prog}: run: {e}");
                    return 2;
                }
            }
        }
    }
    for f in &ours.failures {
        eprintln!("{prog}: run: {f}");
    }
    if !ours.failures.is_empty() {
        status = 1;
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeBus;

    fn fake(opts: &MachineOpts) -> Result<Box<dyn Bus>, String> {
        if opts.machine == "fake" {
            Ok(Box::new(FakeBus::new()))
        } else {
            Err(format!("unsupported machine type '{}'", opts.machine))
        }
    }

    fn opts(trace: TraceFormat) -> RunOptions {
        RunOptions { trace, build: fake }
    }

    #[test]
    fn transcript_has_requests_trace_then_replies() {
        let script = "# args: -machine fake\n# args: -m 1M\nwritel 0x9050008 2\n\
                      irq_intercept_out /machine/smmuv3 sysbus-irq\nwritel 0x9050008 1\n\
                      readb 0x40000000\n";
        let out = run_script(script, &opts(TraceFormat::Text));
        assert_eq!(
            out.transcript,
            "> writel 0x9050008 2\n< OK\n> irq_intercept_out /machine/smmuv3 sysbus-irq\n< OK\n\
             > writel 0x9050008 1\n< IRQ raise 1\n< IRQ lower 1\n< OK\n\
             > readb 0x40000000\n  note read 0x40000000\n< OK 0x0000000000000000\n"
        );
        assert!(out.failures.is_empty());
    }

    #[test]
    fn unexpected_errors_and_missing_expected_errors_are_failures() {
        let script = "# args: -M fake\nreadl\n# expect-error\nfoo\n# expect-error\nendianness\n";
        let out = run_script(script, &opts(TraceFormat::Off));
        assert_eq!(out.failures.len(), 2, "{:?}", out.failures);
        assert!(out.failures[0].starts_with("line 2: readl -> ERR"));
        assert!(out.failures[1].contains("an error was expected"));
    }

    #[test]
    fn missing_or_unknown_machine_is_a_failure() {
        assert!(
            run_script("endianness\n", &opts(TraceFormat::Off)).failures[0].contains("no machine")
        );
        assert!(
            run_script("# args: -M nope\n", &opts(TraceFormat::Off)).failures[0]
                .contains("unsupported machine")
        );
    }

    #[test]
    fn json_trace_lines_are_json_objects() {
        let out = run_script("# args: -M fake\nreadb 0x40000000\n", &opts(TraceFormat::Json));
        let line = out.transcript.lines().nth(1).unwrap();
        assert!(crate::qmp::parse(line).is_ok(), "{line}");
    }

    #[test]
    fn diff_is_empty_for_equal_transcripts_and_shows_changed_replies() {
        let a = "> readl 0x0\n< OK 0x1\n> readl 0x4\n< OK 0x2\n";
        assert_eq!(diff(a, a, "a", "b"), "");
        let b = "> readl 0x0\n< OK 0x1\n> readl 0x4\n< OK 0x3\n";
        assert_eq!(
            diff(a, b, "ours", "qemu"),
            "--- ours\n+++ qemu\n@@ -1,4 +1,4 @@\n > readl 0x0\n < OK 0x1\n > readl 0x4\n-< OK 0x2\n+< OK 0x3\n"
        );
    }

    #[test]
    fn diff_ignores_trace_lines_and_handles_insertions() {
        let a = "> w\n  trace\n< OK\n> r\n< OK 1\n";
        let b = "> w\n< IRQ raise 0\n< OK\n> r\n< OK 1\n";
        let d = diff(a, b, "a", "b");
        assert!(d.contains("+< IRQ raise 0\n"), "{d}");
        assert!(!d.contains("trace"));
    }
}
