//! The fuzz oracles on fixed-seed inputs: what CI runs of the fuzz targets (campaigns use
//! `cargo fuzz run --sanitizer none TARGET`, see `fuzz/README.md`). Each test builds inputs
//! from a SplitMix64 byte stream the way libFuzzer does (`Arbitrary::arbitrary_take_rest`) and
//! fails with the first input that breaks an invariant, printed as a replayable script.

use smmu_fuzz::rng::sweep;
use smmu_fuzz::{qtest_lines, smmu_ops, wire};

/// Fails with the first violation, showing the input.
fn run<T: for<'a> smmu_fuzz::arbitrary::Arbitrary<'a> + std::fmt::Debug>(
    seed: u64,
    count: usize,
    max_len: usize,
    check: impl Fn(&T) -> Result<(), smmu_fuzz::Violation>,
) -> usize {
    match sweep(seed, count, max_len, check) {
        Ok(n) => n,
        Err(f) => panic!(
            "input {} of seed {seed:#x}: {}\n--- input ---\n{}",
            f.index, f.violation, f.input
        ),
    }
}

#[test]
fn qtest_lines_every_request_gets_one_bounded_reply() {
    let checked = run::<qtest_lines::Input>(0x5157_4c49, 4000, 512, qtest_lines::check);
    assert!(checked > 3000, "only {checked} inputs were built");
}

#[test]
fn smmu_ops_architectural_invariants_and_cache_differential_hold() {
    let checked = run::<smmu_ops::Input>(0x534d_4d55, 2500, 1024, smmu_ops::check);
    assert!(checked > 2000, "only {checked} inputs were built");
}

#[test]
fn wire_decoders_never_panic_and_event_encoding_is_stable() {
    let checked = run::<wire::Input>(0x5749_5245, 5000, 300, wire::check);
    assert!(checked > 4000, "only {checked} inputs were built");
}
