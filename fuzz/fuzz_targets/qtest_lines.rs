//! `cargo fuzz run --sanitizer none qtest_lines`: the input and the oracle are `smmu_fuzz::qtest_lines`.
#![cfg_attr(fuzzing, no_main)]

use smmu_fuzz::qtest_lines::{Input, oracle};

smmu_fuzz::fuzz_target!(|input: Input| oracle(&input));
