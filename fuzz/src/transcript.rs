//! Reading back what `qtest_frontend::run::run_script` printed: the transcript of a replay
//! with a JSON trace (`> request`, one JSON object per trace event, `< reply` lines).

use qtest_frontend::qmp::{self, Json};

use crate::Violation;

/// One request of a replay, with the trace events it caused and the lines it got back.
#[derive(Clone, Debug, Default)]
pub struct Exchange {
    pub request: String,
    pub trace: Vec<Json>,
    /// Reply lines in order (`IRQ` lines first, the reply last).
    pub replies: Vec<String>,
}

impl Exchange {
    /// The final reply line.
    pub fn reply(&self) -> &str {
        self.replies.last().map_or("", String::as_str)
    }

    /// The value of an `OK 0x...` reply (readb/w/l/q).
    pub fn value(&self) -> Option<u64> {
        let hex = self.reply().strip_prefix("OK 0x")?;
        u64::from_str_radix(hex, 16).ok()
    }

    /// Trace events of one kind.
    pub fn events<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Json> + 'a {
        self.trace.iter().filter(move |e| str_field(e, "kind") == Some(kind))
    }
}

/// Splits a transcript into exchanges. Every line is a request (`> `), a reply (`< `) or a
/// JSON trace event; anything else is a violation of the transcript format. Trace events of
/// the kinds in `skip` are left out (checked for being JSON objects of that kind, not parsed).
pub fn exchanges(transcript: &str, skip: &[&str]) -> Result<Vec<Exchange>, Violation> {
    let mut out: Vec<Exchange> = Vec::new();
    for line in transcript.lines() {
        if let Some(req) = line.strip_prefix("> ") {
            out.push(Exchange { request: req.to_string(), ..Default::default() });
            continue;
        }
        let Some(cur) = out.last_mut() else {
            return Err(Violation::new("transcript", format!("line before any request: {line}")));
        };
        if let Some(reply) = line.strip_prefix("< ") {
            cur.replies.push(reply.to_string());
        } else if skip.iter().any(|k| {
            line.strip_prefix("{\"kind\":\"")
                .and_then(|rest| rest.strip_prefix(k))
                .is_some_and(|rest| rest.starts_with("\",") && rest.ends_with('}'))
        }) {
            continue;
        } else {
            let ev = qmp::parse(line).map_err(|e| {
                Violation::new("transcript", format!("trace line is not JSON ({e}): {line}"))
            })?;
            cur.trace.push(ev);
        }
    }
    Ok(out)
}

/// A string field of a JSON object.
pub fn str_field<'a>(ev: &'a Json, key: &str) -> Option<&'a str> {
    match ev.get(key)? {
        Json::Str(s) => Some(s),
        _ => None,
    }
}

/// A `"0x..."` field of a JSON object.
pub fn hex_field(ev: &Json, key: &str) -> Option<u64> {
    parse_hex(str_field(ev, key)?)
}

/// A `["0x...", ...]` field of a JSON object.
pub fn hexes_field(ev: &Json, key: &str) -> Option<Vec<u64>> {
    match ev.get(key)? {
        Json::Arr(items) => items
            .iter()
            .map(|v| match v {
                Json::Str(s) => parse_hex(s),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// A number field of a JSON object.
pub fn num_field(ev: &Json, key: &str) -> Option<u64> {
    match ev.get(key)? {
        Json::Num(n) => n.parse().ok(),
        _ => None,
    }
}

/// A boolean field of a JSON object.
pub fn bool_field(ev: &Json, key: &str) -> Option<bool> {
    match ev.get(key)? {
        Json::Bool(b) => Some(*b),
        _ => None,
    }
}

fn parse_hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchanges_group_trace_and_replies_under_their_request() {
        let t = "> readl 0x9050024\n{\"kind\":\"mmio\",\"value\":\"0xd\"}\n< OK 0x000000000000000d\n\
                 > writel 0x10000014 0x1\n< IRQ raise 0\n< OK\n";
        let ex = exchanges(t, &[]).unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].value(), Some(0xd));
        assert_eq!(hex_field(&ex[0].trace[0], "value"), Some(0xd));
        assert_eq!(ex[1].replies, ["IRQ raise 0", "OK"]);
        assert_eq!(ex[1].value(), None);
    }

    #[test]
    fn a_line_that_is_neither_request_reply_nor_json_is_rejected() {
        assert_eq!(exchanges("> endianness\n  walk s1\n", &[]).unwrap_err().check, "transcript");
    }

    #[test]
    fn skipped_kinds_are_left_out() {
        let t = "> readl 0x9050024\n{\"kind\":\"mmio\",\"value\":\"0xd\"}\n{\"kind\":\"irq\",\"line\":3}\n< OK\n";
        let ex = exchanges(t, &["mmio"]).unwrap();
        assert_eq!(ex[0].trace.len(), 1);
        assert_eq!(str_field(&ex[0].trace[0], "kind"), Some("irq"));
    }
}
