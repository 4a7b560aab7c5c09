//! Scenario scripts: every `tests/scripts/**/*.qtest` replays in-process, and its transcript
//! plus translation trace is held by an insta snapshot in `snapshots/`. The same run feeds the
//! coverage table `tests/COVERAGE.md` (regenerate it with `UPDATE_COVERAGE=1 cargo test`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use qtest_frontend::machine::build_machine;
use qtest_frontend::run::{RunOptions, TraceFormat, run_script};

mod coverage;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// All scripts, relative to `tests/scripts/`, sorted.
fn scripts() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("scripts dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "qtest") {
                out.push(p);
            }
        }
    }
    let base = root().join("tests/scripts");
    let mut out = Vec::new();
    walk(&base, &mut out);
    out.into_iter().map(|p| p.strip_prefix(&base).expect("under base").to_path_buf()).collect()
}

/// The snapshot name of a script: its path under `tests/scripts/` with `/` as `__`.
fn snapshot_name(rel: &Path) -> String {
    rel.to_string_lossy().trim_end_matches(".qtest").replace(['/', '\\'], "__")
}

#[test]
fn scenario_scripts_match_their_snapshots_and_coverage_table() {
    let opts = RunOptions { trace: TraceFormat::Text, build: build_machine };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let mut reached = BTreeMap::new();
    let mut failures = Vec::new();
    for rel in scripts() {
        let text = std::fs::read_to_string(root().join("tests/scripts").join(&rel))
            .expect("script readable");
        let out = run_script(&text, &opts);
        for f in &out.failures {
            failures.push(format!("{}: {f}", rel.display()));
        }
        reached.insert(rel.to_string_lossy().into_owned(), coverage::reached(&out.transcript));
        settings.set_input_file(root().join("tests/scripts").join(&rel));
        settings.bind(|| insta::assert_snapshot!(snapshot_name(&rel), out.transcript));
    }
    assert!(failures.is_empty(), "unexpected ERR/FAIL replies:\n{}", failures.join("\n"));

    let table = coverage::table(&reached);
    let path = root().join("tests/COVERAGE.md");
    if std::env::var_os("UPDATE_COVERAGE").is_some() {
        std::fs::write(&path, &table).expect("write coverage table");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == table,
        "tests/COVERAGE.md is stale: run `UPDATE_COVERAGE=1 cargo test --test scripts` and commit it"
    );
}

#[test]
fn every_snapshot_belongs_to_a_script() {
    let names: BTreeSet<String> = scripts().iter().map(|p| snapshot_name(p)).collect();
    let mut orphans = Vec::new();
    for e in std::fs::read_dir(root().join("snapshots")).expect("snapshots dir") {
        let p = e.expect("entry").path();
        let file = p.file_name().expect("name").to_string_lossy().into_owned();
        let Some(stem) = file.strip_suffix(".snap") else {
            orphans.push(file);
            continue;
        };
        if !names.contains(stem) {
            orphans.push(file);
        }
    }
    assert!(orphans.is_empty(), "snapshots without a script (delete them): {orphans:?}");
}

#[test]
fn every_script_opens_with_a_comment_saying_what_it_shows() {
    let mut bad = Vec::new();
    for rel in scripts() {
        let text = std::fs::read_to_string(root().join("tests/scripts").join(&rel)).expect("read");
        if !text.starts_with("# ") {
            bad.push(rel.display().to_string());
        }
    }
    assert!(bad.is_empty(), "scripts without a leading comment: {bad:?}");
}
