//! `cargo fuzz run --sanitizer none qtest_lines`: see `smmu_fuzz::qtest_lines` for the input and the oracle.
#![cfg_attr(fuzzing, no_main)]

smmu_fuzz::fuzz_target!(|input: smmu_fuzz::qtest_lines::Input| {
    smmu_fuzz::qtest_lines::oracle(&input)
});
