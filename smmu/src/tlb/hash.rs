//! A small, deterministic multiplicative hasher for the caches' integer keys.
//!
//! The keys are one or two `u64`s, so a rotate-xor-multiply per word is enough, much cheaper
//! than SipHash, and the same on every run (traces never depend on hash order anyway, but
//! eviction order of the configuration cache does, and it must be reproducible).

use core::hash::{BuildHasher, Hasher};

/// An odd constant with well-spread bits (the 64-bit golden ratio, rounded to odd).
const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// Hasher state: one word, mixed per input word.
#[derive(Clone, Copy, Debug, Default)]
pub struct WordHasher {
    h: u64,
}

impl WordHasher {
    #[inline(always)]
    fn mix(&mut self, w: u64) {
        self.h = (self.h.rotate_left(26) ^ w).wrapping_mul(K);
    }
}

impl Hasher for WordHasher {
    #[inline(always)]
    fn finish(&self) -> u64 {
        // Fold the well-mixed high half down so both ends of the hash are usable.
        self.h ^ (self.h >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline(always)]
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }

    #[inline(always)]
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }

    #[inline(always)]
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    #[inline(always)]
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
}

/// Builds [`WordHasher`]s.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuildWordHasher;

impl BuildHasher for BuildWordHasher {
    type Hasher = WordHasher;
    #[inline(always)]
    fn build_hasher(&self) -> WordHasher {
        WordHasher::default()
    }
}

/// A `HashMap` with the word hasher.
pub type WordMap<K, V> = std::collections::HashMap<K, V, BuildWordHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use core::hash::Hash;

    fn hash<T: Hash>(v: T) -> u64 {
        BuildWordHasher.hash_one(v)
    }

    #[test]
    fn same_key_hashes_the_same_on_every_build() {
        assert_eq!(hash((1u64, 2u64)), hash((1u64, 2u64)));
    }

    #[test]
    fn adjacent_pages_hash_apart_in_the_high_bits() {
        // hashbrown takes its control byte from the top 7 bits.
        let tops: std::collections::HashSet<u64> =
            (0..64u64).map(|p| hash((7u64, p)) >> 57).collect();
        assert!(tops.len() > 32, "only {} distinct top-7-bit values", tops.len());
    }

    #[test]
    fn byte_writes_of_different_lengths_differ() {
        let mut a = WordHasher::default();
        a.write(&[1, 0, 0]);
        let mut b = WordHasher::default();
        b.write(&[1, 0]);
        assert_ne!(a.finish(), b.finish());
    }
}
