//! `cargo fuzz run --sanitizer none smmu_ops`: see `smmu_fuzz::smmu_ops` for the input and the oracle.
#![cfg_attr(fuzzing, no_main)]

smmu_fuzz::fuzz_target!(|input: smmu_fuzz::smmu_ops::Input| {
    smmu_fuzz::smmu_ops::oracle(&input)
});
