//! QEMU's own wire transcripts of iommu-smmuv3-test (tests/golden/, recorded on QEMU 11.0-dev)
//! replayed through the binary launched with that test's command line: every reply must be
//! byte-identical.

mod common;

use common::*;

fn replay(name: &str, transcript: &str) {
    let mut input = String::new();
    let mut expected = Vec::new();
    // (request, index of its first reply line)
    let mut owners = Vec::new();
    for line in transcript.lines() {
        if let Some(req) = line.strip_prefix("> ") {
            input.push_str(req);
            input.push('\n');
            owners.push((req, expected.len()));
        } else if let Some(rep) = line.strip_prefix("< ") {
            expected.push(rep.to_string());
        }
    }
    let args = format!("{SMMU_TEST_ARGS} -accel qtest");
    let out = run_stdio(&args, input.as_bytes());
    let got: Vec<&str> = out.lines().collect();
    for (i, want) in expected.iter().enumerate() {
        let req = owners.iter().rev().find(|(_, first)| *first <= i).map_or("", |r| r.0);
        assert_eq!(
            got.get(i).copied(),
            Some(want.as_str()),
            "{name}: reply {i} to `{req}` differs"
        );
    }
    assert_eq!(got.len(), expected.len(), "{name}: extra replies");
}

#[test]
fn golden_ns_s1_only() {
    replay("ns-s1-only", include_str!("golden/ns-s1-only.txt"));
}

#[test]
fn golden_ns_s2_only() {
    replay("ns-s2-only", include_str!("golden/ns-s2-only.txt"));
}

#[test]
fn golden_ns_nested() {
    replay("ns-nested", include_str!("golden/ns-nested.txt"));
}
