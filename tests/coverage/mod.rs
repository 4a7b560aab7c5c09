//! The coverage table: which event types, command opcodes, STE configurations and translation
//! granules each scenario script reaches, read from the model's own trace lines.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use smmu::spec::cmd::op;
use smmu::spec::event::id;

/// What one script reaches: (dimension, item) pairs.
pub type Reached = BTreeSet<(&'static str, String)>;

const EVENTS: &str = "Event types";
const OPCODES: &str = "Command opcodes, legal form (consumed)";
const ILLEGAL: &str = "Command opcodes, illegal form (CERROR_ILL)";
const CERRORS: &str = "Command errors";
const GERRORS: &str = "GERROR errors raised";
const LINES: &str = "Wired interrupt lines";
const MSIS: &str = "MSIs";
const QUEUES: &str = "Queues";
const CONFIGS: &str = "STE configurations";
const GRANULES: &str = "Granules";

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(' ').find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

fn config_name(bits: &str) -> String {
    let v = u8::from_str_radix(bits.trim_start_matches("0b"), 2).unwrap_or(0xff);
    match v {
        0b000 => "0b000 abort".into(),
        0b001..=0b011 => format!("{bits} reserved (abort)"),
        0b100 => "0b100 bypass".into(),
        0b101 => "0b101 stage 1".into(),
        0b110 => "0b110 stage 2".into(),
        0b111 => "0b111 nested".into(),
        _ => format!("{bits} unknown"),
    }
}

fn tg0_name(tg: &str) -> Option<&'static str> {
    Some(match tg {
        "0" => "4K",
        "1" => "64K",
        "2" => "16K",
        _ => return None,
    })
}

fn tg1_name(tg: &str) -> Option<&'static str> {
    Some(match tg {
        "1" => "16K",
        "2" => "4K",
        "3" => "64K",
        _ => return None,
    })
}

/// Reads the trace lines of a transcript.
pub fn reached(transcript: &str) -> Reached {
    let mut r = Reached::new();
    // The last command consumed: legal unless a `cmd-error` line follows it.
    let mut pending: Option<String> = None;
    for line in transcript.lines() {
        let Some(t) = line.strip_prefix("  ") else { continue };
        let words: Vec<&str> = t.split(' ').collect();
        match words.first().copied() {
            Some("cmd") => {
                if let Some(name) = pending.take() {
                    r.insert((OPCODES, name));
                }
                pending = words.get(3).map(|n| (*n).to_string());
            }
            Some("cmd-error") => {
                let code = words.get(3).copied().unwrap_or("").to_string();
                if let Some(name) = pending.take()
                    && code == "CERROR_ILL"
                {
                    r.insert((ILLEGAL, name));
                }
                r.insert((CERRORS, code));
            }
            Some("gerror") => {
                let bits = field(t, "toggled")
                    .and_then(|v| u32::from_str_radix(v.trim_start_matches("0x"), 16).ok())
                    .unwrap_or(0);
                for (bit, name) in GERROR_BITS {
                    if bits & (1 << bit) != 0 {
                        r.insert((GERRORS, name.to_string()));
                    }
                }
            }
            Some("irq") => {
                if let (Some(n), Some(name)) = (words.get(1), words.get(2)) {
                    r.insert((LINES, format!("{n} {name}")));
                }
            }
            Some("msi") => {
                if let Some(source) = words.get(1) {
                    r.insert((MSIS, (*source).to_string()));
                }
            }
            Some("note")
                if t.ends_with("event queue overflow") || t.contains("event queue overflow:") =>
            {
                r.insert((QUEUES, "event queue overflow (OVFLG toggles)".into()));
            }
            Some("note") if t.ends_with("event queue wrapped") => {
                r.insert((QUEUES, "event queue wrap".into()));
            }
            Some("note") if t.ends_with("command queue wrapped") => {
                r.insert((QUEUES, "command queue wrap".into()));
            }
            Some("note") if t.contains("merged into the record") => {
                r.insert((QUEUES, "event records merged (STE.MEV)".into()));
            }
            Some("event") if words.get(2) == Some(&"discarded") => {
                r.insert((QUEUES, "event record discarded".into()));
            }
            Some("event") => {
                if let Some(name) =
                    words.iter().skip(2).find(|w| !w.contains('=') && **w != "discarded")
                {
                    r.insert((EVENTS, (*name).to_string()));
                }
            }
            Some("fetch") if words.get(1) == Some(&"STE") => {
                if field(t, "V") == Some("1")
                    && let Some(c) = field(t, "Config")
                {
                    r.insert((CONFIGS, config_name(c)));
                    let cfg = u8::from_str_radix(c.trim_start_matches("0b"), 2).unwrap_or(0);
                    if cfg & 0b110 == 0b110
                        && let Some(g) = field(t, "S2TG").and_then(tg0_name)
                    {
                        r.insert((GRANULES, format!("stage 2 {g}")));
                    }
                }
            }
            Some("fetch") if words.get(1) == Some(&"CD") && field(t, "V") == Some("1") => {
                if field(t, "EPD0") == Some("0")
                    && let Some(g) = field(t, "TG0").and_then(tg0_name)
                {
                    r.insert((GRANULES, format!("stage 1 {g}")));
                }
                if field(t, "EPD1") == Some("0")
                    && let Some(g) = field(t, "TG1").and_then(tg1_name)
                {
                    r.insert((GRANULES, format!("stage 1 {g}")));
                }
            }
            _ => {}
        }
    }
    if let Some(name) = pending {
        r.insert((OPCODES, name));
    }
    r
}

/// GERROR bits the model raises (§7.5), by bit number.
const GERROR_BITS: [(u32, &str); 5] = [
    (0, "CMDQ_ERR"),
    (2, "EVENTQ_ABT_ERR"),
    (4, "MSI_CMDQ_ABT_ERR"),
    (5, "MSI_EVENTQ_ABT_ERR"),
    (7, "MSI_GERROR_ABT_ERR"),
];

/// Opcodes no configuration of this model accepts: their features (ATS, PRI, stalls, VMS,
/// DPT, Secure stage 2) are not implemented, so the ID registers never advertise them and
/// the command is always CERROR_ILL.
const NEVER_LEGAL: [u8; 14] = [
    op::CFGI_VMS_PIDM,
    op::ATC_INV,
    op::PRI_RESP,
    op::RESUME,
    op::STALL_TERM,
    op::TLBI_S_EL2_ALL,
    op::TLBI_S_EL2_ASID,
    op::TLBI_S_EL2_VA,
    op::TLBI_S_EL2_VAA,
    op::TLBI_S_S12_VMALL,
    op::TLBI_S_S2_IPA,
    op::TLBI_SNH_ALL,
    op::DPTI_ALL,
    op::DPTI_PA,
];

/// Event types this model never produces: they belong to features it does not implement
/// (ATS, PRI, VMS, untranslated-transaction errors, conflict detection).
const NOT_EMITTED: [u8; 7] = [
    id::F_UUT,
    id::F_BAD_ATS_TREQ,
    id::F_TRANSL_FORBIDDEN,
    id::F_TLB_CONFLICT,
    id::F_CFG_CONFLICT,
    id::E_PAGE_REQUEST,
    id::F_VMS_FETCH,
];

/// Every item of each dimension the model implements, so unreached ones show up.
fn universe() -> Vec<(&'static str, Vec<String>)> {
    let events = (0u8..=0xff)
        .filter(|&i| id::name(i) != "IMPDEF_EVENT" && !NOT_EMITTED.contains(&i))
        .map(|i| id::name(i).to_string())
        .collect();
    let opcodes = (0u8..=0xff)
        .filter(|o| !NEVER_LEGAL.contains(o))
        .filter_map(op::name)
        .map(str::to_string)
        .collect();
    // CMD_TLBI_NSNH_ALL has no field or feature condition that makes it illegal.
    let illegal = (0u8..=0xff)
        .filter(|&o| o != op::TLBI_NSNH_ALL)
        .filter_map(op::name)
        .map(str::to_string)
        .collect();
    let cerrors = ["CERROR_ILL", "CERROR_ABT"].map(str::to_string).to_vec();
    let configs = ["0b000", "0b100", "0b101", "0b110", "0b111"].map(config_name).to_vec();
    let granules =
        ["stage 1 4K", "stage 1 16K", "stage 1 64K", "stage 2 4K", "stage 2 16K", "stage 2 64K"]
            .map(str::to_string)
            .to_vec();
    let gerrors = GERROR_BITS.map(|(_, n)| n.to_string()).to_vec();
    // Lines of the interfaces the model implements (no PRI queue, no Realm or Root page yet).
    let lines = [0u8, 2, 3, 4, 5, 6].map(|l| format!("{l} {}", smmu::irq::line_name(l))).to_vec();
    let msis = ["cmdq-sync", "eventq", "gerror"].map(str::to_string).to_vec();
    let queues = [
        "command queue wrap",
        "event queue wrap",
        "event queue overflow (OVFLG toggles)",
        "event record discarded",
        "event records merged (STE.MEV)",
    ]
    .map(str::to_string)
    .to_vec();
    vec![
        (EVENTS, events),
        (OPCODES, opcodes),
        (ILLEGAL, illegal),
        (CERRORS, cerrors),
        (CONFIGS, configs),
        (GRANULES, granules),
        (GERRORS, gerrors),
        (LINES, lines),
        (MSIS, msis),
        (QUEUES, queues),
    ]
}

/// Renders the table: per dimension, each item and the scripts that reach it.
pub fn table(per_script: &BTreeMap<String, Reached>) -> String {
    let mut by_item: BTreeMap<(&str, String), Vec<&str>> = BTreeMap::new();
    for (script, reached) in per_script {
        for (dim, item) in reached {
            by_item.entry((dim, item.clone())).or_default().push(script);
        }
    }
    let mut out = String::from(
        "# Scenario coverage\n\nGenerated from the trace of every script in `tests/scripts/` by \
         `tests/scripts.rs`; a test fails when this file is stale\n(regenerate with \
         `UPDATE_COVERAGE=1 cargo test --test scripts`). Opcodes whose feature the model does \
         not implement\n(ATS, PRI, stalls, VMS, DPT, Secure stage 2) have no legal form: the \
         ID registers never advertise them,\nso they appear only under the illegal form.\n",
    );
    for (dim, items) in universe() {
        let _ = write!(out, "\n## {dim}\n\n| Item | Scripts |\n|---|---|\n");
        let mut all: BTreeSet<String> = items.into_iter().collect();
        all.extend(by_item.keys().filter(|(d, _)| *d == dim).map(|(_, i)| i.clone()));
        for item in all {
            let scripts = by_item.get(&(dim, item.clone()));
            let cell = match scripts {
                Some(s) => s.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
                None => "not reached".into(),
            };
            let _ = writeln!(out, "| {item} | {cell} |");
        }
    }
    out
}
