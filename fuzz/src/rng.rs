//! A fixed-seed byte source for running the oracles without libFuzzer (the smoke test).

use std::fmt::Debug;

use arbitrary::{Arbitrary, Unstructured};

use crate::Violation;

/// SplitMix64: tiny, fast, and the same sequence on every platform.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// The first input of a sweep that broke an invariant.
#[derive(Debug)]
pub struct Failure {
    /// Index of the input in the sweep (rerun with the same seed to get it back).
    pub index: usize,
    /// The input's `Debug` (a replayable script for the qtest targets).
    pub input: String,
    pub violation: Violation,
}

/// Builds `count` inputs of type `T` from seeded byte strings of up to `max_len` bytes (as
/// libFuzzer does: `Arbitrary::arbitrary_take_rest`) and runs `check` on each. Returns how many
/// inputs were checked, or the first failure.
pub fn sweep<T: for<'a> Arbitrary<'a> + Debug>(
    seed: u64,
    count: usize,
    max_len: usize,
    check: impl Fn(&T) -> Result<(), Violation>,
) -> Result<usize, Box<Failure>> {
    let mut rng = SplitMix64::new(seed);
    let mut checked = 0;
    for index in 0..count {
        let len = (rng.next_u64() % (max_len as u64 + 1)) as usize;
        let bytes = rng.bytes(len);
        let Ok(input) = T::arbitrary_take_rest(Unstructured::new(&bytes)) else {
            continue;
        };
        if let Err(violation) = check(&input) {
            return Err(Box::new(Failure { index, input: format!("{input:?}"), violation }));
        }
        checked += 1;
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // First outputs of the reference implementation (Vigna) for seed 0.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn bytes_have_the_requested_length() {
        assert_eq!(SplitMix64::new(1).bytes(13).len(), 13);
    }

    #[test]
    fn sweep_reports_the_first_failing_input() {
        let r = sweep::<u8>(7, 100, 4, |b| {
            if *b > 200 { Err(Violation::new("big", format!("{b}"))) } else { Ok(()) }
        });
        let f = r.expect_err("some byte exceeds 200 in 100 draws");
        assert_eq!(f.violation.check, "big");
    }
}
