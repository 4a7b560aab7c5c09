//! `cargo fuzz run --sanitizer none wire`: see `smmu_fuzz::wire` for the input and the oracle.
#![cfg_attr(fuzzing, no_main)]

smmu_fuzz::fuzz_target!(|input: smmu_fuzz::wire::Input| { smmu_fuzz::wire::oracle(&input) });
