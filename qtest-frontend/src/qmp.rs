//! The QMP subset libqtest and people use: greeting, `qmp_capabilities`, `query-machines`,
//! `query-status`, `system_reset` (with its `RESET` event), `human-monitor-command` with
//! `info qom-tree`, `quit` (with its `SHUTDOWN` event); every other command answers
//! `CommandNotFound`. Output is QEMU's compact JSON (`": "` and `", "` separators, non-ASCII
//! escaped), one message per line ending in CR LF as QEMU's monitor writes them.

use std::io::{self, Read, Write};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Largest QMP message accepted (bytes); a longer one is answered with an error and skipped.
pub const MAX_MESSAGE: usize = 1 << 20;
/// Deepest JSON nesting accepted.
const MAX_DEPTH: usize = 64;

/// A parsed JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number as written.
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Compact text in QEMU's style.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_to(&mut s);
        s
    }

    fn write_to(&self, s: &mut String) {
        match self {
            Json::Null => s.push_str("null"),
            Json::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => s.push_str(n),
            Json::Str(t) => quote(t, s),
            Json::Arr(a) => {
                s.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    v.write_to(s);
                }
                s.push(']');
            }
            Json::Obj(m) => {
                s.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    quote(k, s);
                    s.push_str(": ");
                    v.write_to(s);
                }
                s.push('}');
            }
        }
    }
}

fn quote(t: &str, s: &mut String) {
    s.push('"');
    for c in t.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) >= 0x7f => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    s.push_str(&format!("\\u{u:04X}"));
                }
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

fn obj(pairs: Vec<(&str, Json)>) -> Json {
    Json::Obj(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn s(v: &str) -> Json {
    Json::Str(v.to_string())
}

fn num(v: impl ToString) -> Json {
    Json::Num(v.to_string())
}

/// Parses one JSON text; single-quoted strings are accepted, as QEMU's parser does.
pub fn parse(text: &str) -> Result<Json, String> {
    let mut p = Parser { b: text.as_bytes(), i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(format!("unexpected text at offset {}", p.i));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > MAX_DEPTH {
            return Err("nesting too deep".into());
        }
        self.ws();
        let at = self.i;
        match self.b.get(self.i) {
            None => Err("unexpected end of input".into()),
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                if self.eat(b'}') {
                    return Ok(Json::Obj(m));
                }
                loop {
                    self.ws();
                    let k = match self.value(depth + 1)? {
                        Json::Str(k) => k,
                        _ => return Err(format!("object key expected at offset {at}")),
                    };
                    if !self.eat(b':') {
                        return Err(format!("':' expected at offset {}", self.i));
                    }
                    m.push((k, self.value(depth + 1)?));
                    if self.eat(b'}') {
                        return Ok(Json::Obj(m));
                    }
                    if !self.eat(b',') {
                        return Err(format!("',' or '}}' expected at offset {}", self.i));
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                if self.eat(b']') {
                    return Ok(Json::Arr(a));
                }
                loop {
                    a.push(self.value(depth + 1)?);
                    if self.eat(b']') {
                        return Ok(Json::Arr(a));
                    }
                    if !self.eat(b',') {
                        return Err(format!("',' or ']' expected at offset {}", self.i));
                    }
                }
            }
            Some(&q @ (b'"' | b'\'')) => self.string(q).map(Json::Str),
            Some(b't') if self.b[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(Json::Bool(true))
            }
            Some(b'f') if self.b[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(Json::Bool(false))
            }
            Some(b'n') if self.b[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(Json::Null)
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let start = self.i;
                self.i += 1;
                while self.i < self.b.len()
                    && matches!(self.b[self.i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.b[start..self.i]).unwrap_or_default();
                t.parse::<f64>()
                    .map(|_| Json::Num(t.to_string()))
                    .map_err(|_| format!("invalid number at offset {start}"))
            }
            Some(_) => Err(format!("unexpected character at offset {at}")),
        }
    }

    fn string(&mut self, q: u8) -> Result<String, String> {
        self.i += 1;
        let mut out: Vec<u16> = Vec::new();
        let mut bytes: Vec<u8> = Vec::new();
        let flush = |bytes: &mut Vec<u8>, out: &mut Vec<u16>| {
            out.extend(String::from_utf8_lossy(bytes).encode_utf16());
            bytes.clear();
        };
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            if c == q {
                flush(&mut bytes, &mut out);
                return Ok(String::from_utf16_lossy(&out));
            }
            if c != b'\\' {
                bytes.push(c);
                continue;
            }
            let Some(&e) = self.b.get(self.i) else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            let ch = match e {
                b'"' | b'\'' | b'\\' | b'/' => e,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'b' => 8,
                b'f' => 12,
                b'u' => {
                    let hex = self
                        .b
                        .get(self.i..self.i + 4)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u16::from_str_radix(h, 16).ok())
                        .ok_or("invalid \\u escape")?;
                    self.i += 4;
                    flush(&mut bytes, &mut out);
                    out.push(hex);
                    continue;
                }
                _ => return Err("invalid escape".into()),
            };
            bytes.push(ch);
        }
    }
}

/// Splits a byte stream into top-level JSON texts by bracket depth, as QEMU's JSON streamer
/// does, so messages need no separator.
#[derive(Default)]
pub struct Streamer {
    cur: Vec<u8>,
    depth: usize,
    quote: Option<u8>,
    escape: bool,
    overflow: bool,
}

impl Streamer {
    /// Feeds bytes; returns the complete messages (or an error for an oversized one).
    pub fn feed(&mut self, data: &[u8]) -> Vec<Result<String, String>> {
        let mut done = Vec::new();
        for &c in data {
            if self.cur.is_empty() && !self.overflow && matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                continue;
            }
            if self.overflow {
                // Skip to the end of the oversized message.
            } else if self.cur.len() >= MAX_MESSAGE {
                self.overflow = true;
                self.cur.clear();
            } else {
                self.cur.push(c);
            }
            if let Some(q) = self.quote {
                if self.escape {
                    self.escape = false;
                } else if c == b'\\' {
                    self.escape = true;
                } else if c == q {
                    self.quote = None;
                }
                continue;
            }
            match c {
                b'"' | b'\'' => self.quote = Some(c),
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            let end = self.depth == 0 && (matches!(c, b'}' | b']') || c == b'\n');
            if end {
                if self.overflow {
                    done.push(Err(format!("JSON message longer than {MAX_MESSAGE} bytes")));
                } else {
                    done.push(Ok(String::from_utf8_lossy(&self.cur).trim().to_string()));
                }
                self.cur.clear();
                self.overflow = false;
            }
        }
        done
    }
}

/// What the QMP server needs from the machine.
pub trait Backend {
    /// `system_reset`.
    fn reset(&self) -> Result<(), String>;
    /// `info qom-tree`.
    fn qom_tree(&self) -> Result<String, String>;
    /// `-machine help` text, source of `query-machines`.
    fn machines_help(&self) -> String;
    /// Ends the process after `quit` has been answered.
    fn quit(&self);
}

/// The write side of a QMP connection, shared with whoever emits events.
#[derive(Default)]
pub struct Channel {
    inner: Mutex<ChannelState>,
}

#[derive(Default)]
struct ChannelState {
    tx: Option<Box<dyn Write + Send>>,
    negotiated: bool,
}

impl Channel {
    fn attach(&self, tx: Box<dyn Write + Send>) {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        st.tx = Some(tx);
        st.negotiated = false;
    }

    fn detach(&self) {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        st.tx = None;
        st.negotiated = false;
    }

    fn negotiate(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).negotiated = true;
    }

    fn send(&self, msg: &Json) {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = st.tx.as_mut() {
            let line = format!("{}\r\n", msg.to_text());
            if tx.write_all(line.as_bytes()).and_then(|()| tx.flush()).is_err() {
                st.tx = None;
            }
        }
    }

    /// Sends an event to a connected client that finished capabilities negotiation.
    pub fn event(&self, name: &str, data: Json) {
        let negotiated = self.inner.lock().unwrap_or_else(|e| e.into_inner()).negotiated;
        if negotiated {
            self.send(&event_message(name, data));
        }
    }
}

/// An event in QEMU's layout.
pub fn event_message(name: &str, data: Json) -> Json {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    obj(vec![
        (
            "timestamp",
            obj(vec![("seconds", num(now.as_secs())), ("microseconds", num(now.subsec_micros()))]),
        ),
        ("event", s(name)),
        ("data", data),
    ])
}

/// The greeting: QEMU 11.0.0.
pub fn greeting() -> Json {
    obj(vec![(
        "QMP",
        obj(vec![
            (
                "version",
                obj(vec![
                    ("qemu", obj(vec![("micro", num(0)), ("minor", num(0)), ("major", num(11))])),
                    ("package", s("")),
                ]),
            ),
            ("capabilities", Json::Arr(vec![])),
        ]),
    )])
}

fn error(class: &str, desc: &str) -> Json {
    obj(vec![("error", obj(vec![("class", s(class)), ("desc", s(desc))]))])
}

fn ret(v: Json) -> Json {
    obj(vec![("return", v)])
}

/// `query-machines` from the `-machine help` text (`NAME  DESCRIPTION`, where a description
/// ending in `(alias of X)` makes NAME an alias of X).
pub fn machines_from_help(help: &str) -> Json {
    let mut entries: Vec<(String, Option<String>)> = Vec::new();
    let mut aliases: Vec<(String, String)> = Vec::new();
    for line in help.lines().skip_while(|l| l.ends_with(':')) {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let desc = line[name.len()..].trim();
        if let Some(target) = desc.rsplit_once("(alias of ").and_then(|(_, t)| t.strip_suffix(')'))
        {
            aliases.push((name.to_string(), target.to_string()));
        } else {
            entries.push((name.to_string(), None));
        }
    }
    for (alias, target) in aliases {
        match entries.iter_mut().find(|(n, _)| *n == target) {
            Some(e) => e.1 = Some(alias),
            None => entries.push((alias, None)),
        }
    }
    Json::Arr(
        entries
            .into_iter()
            .map(|(name, alias)| {
                let mut m = vec![
                    ("hotpluggable-cpus", Json::Bool(false)),
                    ("name", s(&name)),
                    ("numa-mem-supported", Json::Bool(false)),
                    ("cpu-max", num(1)),
                    ("deprecated", Json::Bool(false)),
                    ("acpi", Json::Bool(false)),
                ];
                if let Some(a) = alias {
                    m.push(("alias", s(&a)));
                }
                obj(m)
            })
            .collect(),
    )
}

/// Serves one QMP connection until it closes (or `quit`).
pub fn serve(
    mut rx: impl Read,
    tx: Box<dyn Write + Send>,
    chan: &Channel,
    backend: &dyn Backend,
) -> io::Result<()> {
    chan.attach(tx);
    chan.send(&greeting());
    let mut streamer = Streamer::default();
    let mut buf = vec![0u8; 4096];
    let result = loop {
        let n = match rx.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        };
        for msg in streamer.feed(&buf[..n]) {
            if handle(msg, chan, backend) {
                backend.quit();
            }
        }
    };
    chan.detach();
    result
}

/// Handles one message; true when the process must now end (`quit`).
fn handle(msg: Result<String, String>, chan: &Channel, backend: &dyn Backend) -> bool {
    let req = match msg.and_then(|t| parse(&t)) {
        Ok(v) => v,
        Err(e) => {
            chan.send(&error("GenericError", &format!("JSON parse error, {e}")));
            return false;
        }
    };
    if !matches!(req, Json::Obj(_)) {
        chan.send(&error("GenericError", "QMP input must be a JSON object"));
        return false;
    }
    let id = req.get("id").cloned();
    let with_id = |mut m: Json| {
        if let (Json::Obj(v), Some(id)) = (&mut m, &id) {
            v.push(("id".into(), id.clone()));
        }
        m
    };
    let Some(Json::Str(cmd)) = req.get("execute").or_else(|| req.get("exec-oob")) else {
        chan.send(&with_id(error("GenericError", "QMP input lacks member 'execute'")));
        return false;
    };
    let negotiated = chan.inner.lock().unwrap_or_else(|e| e.into_inner()).negotiated;
    if !negotiated && cmd != "qmp_capabilities" {
        chan.send(&with_id(error(
            "CommandNotFound",
            "Expecting capabilities negotiation with 'qmp_capabilities'",
        )));
        return false;
    }
    let reply = match cmd.as_str() {
        "qmp_capabilities" if negotiated => error(
            "CommandNotFound",
            "Capabilities negotiation is already complete, command ignored",
        ),
        "qmp_capabilities" => {
            chan.negotiate();
            ret(obj(vec![]))
        }
        "query-machines" => ret(machines_from_help(&backend.machines_help())),
        "query-status" => ret(obj(vec![("status", s("running")), ("running", Json::Bool(true))])),
        "system_reset" => match backend.reset() {
            Ok(()) => {
                chan.send(&with_id(ret(obj(vec![]))));
                chan.event(
                    "RESET",
                    obj(vec![("guest", Json::Bool(false)), ("reason", s("host-qmp-system-reset"))]),
                );
                return false;
            }
            Err(e) => error("GenericError", &e),
        },
        "human-monitor-command" => match req.get("arguments").and_then(|a| a.get("command-line")) {
            Some(Json::Str(line)) => ret(s(&hmp(line, backend))),
            _ => error("GenericError", "Parameter 'command-line' is missing"),
        },
        "quit" => {
            chan.send(&with_id(ret(obj(vec![]))));
            chan.event(
                "SHUTDOWN",
                obj(vec![("guest", Json::Bool(false)), ("reason", s("host-qmp-quit"))]),
            );
            return true;
        }
        other => error("CommandNotFound", &format!("The command {other} has not been found")),
    };
    chan.send(&with_id(reply));
    false
}

/// The human monitor: `info qom-tree` only. Output lines end in CR LF, as QEMU's monitor
/// writes them.
fn hmp(line: &str, backend: &dyn Backend) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let text = match words.as_slice() {
        ["info", "qom-tree"] => backend.qom_tree().unwrap_or_else(|e| format!("{e}\n")),
        [] => String::new(),
        _ => format!("unknown command: '{}'\n", words.join(" ")),
    };
    text.replace('\n', "\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::sync::{Arc, Mutex as StdMutex};

    #[derive(Default)]
    struct Fake {
        resets: Cell<u32>,
        quits: Cell<u32>,
    }

    impl Backend for Fake {
        fn reset(&self) -> Result<(), String> {
            self.resets.set(self.resets.get() + 1);
            Ok(())
        }
        fn qom_tree(&self) -> Result<String, String> {
            Ok("/machine (virt-machine)\n  /smmuv3 (arm-smmuv3)\n".into())
        }
        fn machines_help(&self) -> String {
            "Supported machines are:\nnone                 empty machine\n\
             virt                 QEMU 11.0 ARM Virtual Machine (alias of virt-11.0)\n\
             virt-11.0            QEMU 11.0 ARM Virtual Machine\n"
                .into()
        }
        fn quit(&self) {
            self.quits.set(self.quits.get() + 1);
        }
    }

    #[derive(Clone, Default)]
    struct Out(Arc<StdMutex<Vec<u8>>>);
    impl Write for Out {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn session(input: &str) -> (Vec<String>, Fake) {
        let out = Out::default();
        let chan = Channel::default();
        let fake = Fake::default();
        serve(input.as_bytes(), Box::new(out.clone()), &chan, &fake).unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(text.ends_with("\r\n"));
        let lines = text.split("\r\n").filter(|l| !l.is_empty()).map(String::from);
        (lines.collect(), fake)
    }

    #[test]
    fn greeting_and_capabilities_match_qemu() {
        let (lines, _) = session("{ \"execute\": \"qmp_capabilities\" }");
        assert_eq!(
            lines,
            [
                r#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 11}, "package": ""}, "capabilities": []}}"#,
                r#"{"return": {}}"#
            ]
        );
    }

    #[test]
    fn commands_before_negotiation_are_refused() {
        let (lines, _) = session(r#"{"execute": "query-status"}"#);
        assert_eq!(
            lines[1],
            r#"{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}"#
        );
    }

    #[test]
    fn query_machines_lists_virt_with_its_alias() {
        let (lines, _) =
            session("{'execute': 'qmp_capabilities'}{\"execute\": \"query-machines\", \"id\": 7}");
        let v = parse(&lines[2]).unwrap();
        let list = match v.get("return") {
            Some(Json::Arr(l)) => l.clone(),
            other => panic!("{other:?}"),
        };
        let virt = list.iter().find(|m| m.get("alias") == Some(&s("virt"))).unwrap();
        assert_eq!(virt.get("name"), Some(&s("virt-11.0")));
        assert!(list.iter().any(|m| m.get("name") == Some(&s("none"))));
        assert_eq!(v.get("id"), Some(&num(7)));
    }

    #[test]
    fn system_reset_resets_then_emits_reset_event() {
        let (lines, fake) =
            session("{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"system_reset\"}\n");
        assert_eq!(fake.resets.get(), 1);
        assert_eq!(lines[2], r#"{"return": {}}"#);
        let ev = parse(&lines[3]).unwrap();
        assert_eq!(ev.get("event"), Some(&s("RESET")));
        assert_eq!(
            ev.get("data").unwrap().to_text(),
            r#"{"guest": false, "reason": "host-qmp-system-reset"}"#
        );
        assert!(ev.get("timestamp").unwrap().get("microseconds").is_some());
    }

    #[test]
    fn info_qom_tree_returns_crlf_text() {
        let (lines, _) = session(
            r#"{"execute":"qmp_capabilities"}{"execute":"human-monitor-command","arguments":{"command-line":"info qom-tree"}}"#,
        );
        assert_eq!(
            lines[2],
            r#"{"return": "/machine (virt-machine)\r\n  /smmuv3 (arm-smmuv3)\r\n"}"#
        );
    }

    #[test]
    fn unknown_command_and_bad_json_get_errors() {
        let (lines, _) =
            session(r#"{"execute":"qmp_capabilities"}{"execute":"device_add"}{"execute": ]"#);
        assert_eq!(
            lines[2],
            r#"{"error": {"class": "CommandNotFound", "desc": "The command device_add has not been found"}}"#
        );
        assert!(
            lines[3]
                .starts_with(r#"{"error": {"class": "GenericError", "desc": "JSON parse error"#)
        );
    }

    #[test]
    fn quit_answers_emits_shutdown_and_ends() {
        let (lines, fake) = session(r#"{"execute":"qmp_capabilities"}{"execute":"quit"}"#);
        assert_eq!(lines[2], r#"{"return": {}}"#);
        assert!(lines[3].contains(
            r#""event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}"#
        ));
        assert_eq!(fake.quits.get(), 1);
    }

    #[test]
    fn strings_escape_like_qemu() {
        assert_eq!(s("a\"b\\\n\u{1}é").to_text(), r#""a\"b\\\n\u0001\u00E9""#);
    }

    #[test]
    fn oversized_message_is_reported_and_skipped() {
        let mut st = Streamer::default();
        let mut big = b"{\"x\": \"".to_vec();
        big.resize(MAX_MESSAGE + 10, b'a');
        big.extend_from_slice(b"\"}{\"execute\": \"quit\"}");
        let got = st.feed(&big);
        assert!(got[0].is_err());
        assert_eq!(got[1].as_deref(), Ok("{\"execute\": \"quit\"}"));
    }
}
