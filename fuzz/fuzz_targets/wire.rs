//! `cargo fuzz run --sanitizer none wire`: the input and the oracle are `smmu_fuzz::wire`.
#![cfg_attr(fuzzing, no_main)]

use smmu_fuzz::wire::{Input, oracle};

smmu_fuzz::fuzz_target!(|input: Input| oracle(&input));
