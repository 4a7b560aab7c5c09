//! `cargo fuzz run --sanitizer none smmu_ops`: the input and the oracle are `smmu_fuzz::smmu_ops`.
#![cfg_attr(fuzzing, no_main)]

use smmu_fuzz::smmu_ops::{Input, oracle};

smmu_fuzz::fuzz_target!(|input: Input| oracle(&input));
