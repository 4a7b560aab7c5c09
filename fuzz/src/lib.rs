//! Generators and oracles shared by the fuzz targets.
//!
//! Everything a fuzz target does lives here, as library code that stable `cargo test` can
//! drive (`tests/fuzz_smoke.rs` feeds fixed-seed inputs through every oracle); the targets in
//! `fuzz_targets/` are two lines of glue. Each module pairs an input type (`Arbitrary`, with a
//! `Debug` that prints something a person can replay) with a `check` function returning the
//! first broken invariant, and an `oracle` that panics on it (what libFuzzer reports):
//!
//! - [`qtest_lines`]: request lines into the qtest protocol of the iommu-smmuv3-test machine.
//! - [`smmu_ops`]: structured SMMU programming and DMAs, replayed as a qtest script.
//! - [`wire`]: STE, CD, command and event record decoders.
//!
//! Outside `cargo fuzz` (no `--cfg fuzzing`) [`fuzz_target!`] expands to a `main` that replays
//! the files named on its command line, so the targets build and run on stable without
//! libFuzzer.
#![forbid(unsafe_code)]

pub mod qtest_lines;
pub mod rng;
pub mod smmu_ops;
pub mod transcript;
pub mod wire;

pub use arbitrary;

#[cfg(fuzzing)]
pub use libfuzzer_sys::fuzz_target;

/// A broken invariant: which oracle saw it and what it saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant, as a stable short name (e.g. `cr0ack`, `silent-abort`).
    pub check: &'static str,
    pub detail: String,
}

impl Violation {
    pub fn new(check: &'static str, detail: impl Into<String>) -> Self {
        Violation { check, detail: detail.into() }
    }
}

impl core::fmt::Display for Violation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.check, self.detail)
    }
}

/// Replaying inputs outside libFuzzer: what the stable `fuzz_target!` runs.
pub mod replay {
    use std::fmt::Debug;
    use std::path::Path;

    /// Environment variable that makes a replay print each input's `Debug` (the qtest script
    /// for `smmu_ops` and `qtest_lines`) before running it.
    pub const PRINT_ENV: &str = "SMMU_FUZZ_PRINT";

    /// Prints `input` when [`PRINT_ENV`] is set.
    pub fn show<T: Debug>(input: &T) {
        if std::env::var_os(PRINT_ENV).is_some() {
            eprintln!("{input:?}");
        }
    }

    /// Runs `run` on the contents of every file named in the arguments (directories are
    /// walked one level deep); returns the process exit status.
    pub fn main(mut run: impl FnMut(&[u8])) -> i32 {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
            eprintln!(
                "usage: TARGET FILE|DIR...\n\
                 Replays fuzz inputs (crash artifacts, corpus entries) without libFuzzer;\n\
                 {PRINT_ENV}=1 prints each input first. Fuzzing itself needs\n\
                 `cargo fuzz run --sanitizer none TARGET`."
            );
            return 2;
        }
        let mut files = Vec::new();
        for a in &args {
            let p = Path::new(a);
            match std::fs::read_dir(p) {
                Ok(entries) => {
                    let mut v: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                    v.sort();
                    files.extend(v.into_iter().filter(|p| p.is_file()));
                }
                Err(_) => files.push(p.to_path_buf()),
            }
        }
        for f in &files {
            match std::fs::read(f) {
                Ok(bytes) => {
                    eprintln!("replaying {} ({} bytes)", f.display(), bytes.len());
                    run(&bytes);
                }
                Err(e) => {
                    eprintln!("{}: {e}", f.display());
                    return 2;
                }
            }
        }
        eprintln!("{} input(s) passed", files.len());
        0
    }
}

/// `fuzz_target!` without libFuzzer: a `main` that replays files (see [`replay::main`]).
/// Typed inputs are built with `Arbitrary::arbitrary_take_rest`, as libFuzzer's macro does, so a
/// crash artifact replays to the same input.
#[cfg(not(fuzzing))]
#[macro_export]
macro_rules! fuzz_target {
    (|$bytes:ident: &[u8]| $body:expr) => {
        fn main() {
            std::process::exit($crate::replay::main(|$bytes: &[u8]| {
                $body;
            }));
        }
    };
    (|$input:ident: $ty:ty| $body:expr) => {
        fn main() {
            std::process::exit($crate::replay::main(|bytes: &[u8]| {
                let u = $crate::arbitrary::Unstructured::new(bytes);
                let Ok($input) = <$ty as $crate::arbitrary::Arbitrary>::arbitrary_take_rest(u)
                else {
                    return;
                };
                $crate::replay::show(&$input);
                $body;
            }));
        }
    };
}
