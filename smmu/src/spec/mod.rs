//! Wire formats: every bit position of the project lives here and nowhere else.
//!
//! Each in-memory structure is a zerocopy `#[repr(C)]` little-endian struct (read straight out of
//! guest memory) with a `bitfield!` view over its bytes whose bit numbers are the ones printed in
//! IHI 0070 (structure-absolute, bit *i* is byte `i/8`, bit `i%8`). Field names follow the spec,
//! in snake case (`S1ContextPtr` is `s1_context_ptr`).

pub mod cd;
pub mod cmd;
pub mod desc;
pub mod event;
pub mod gpt;
pub mod regs;
pub mod ste;
pub mod table;

/// A mask of bits `[msb:lsb]`.
pub const fn genmask(msb: u32, lsb: u32) -> u64 {
    (u64::MAX >> (63 - msb)) & (u64::MAX << lsb)
}

/// Declares a zerocopy little-endian wire struct of `N` 64-bit words with a bitfield view.
macro_rules! wire_struct {
    ($(#[$m:meta])* $name:ident, $bits:ident, $words:expr) => {
        $(#[$m])*
        #[derive(
            zerocopy::FromBytes,
            zerocopy::IntoBytes,
            zerocopy::KnownLayout,
            zerocopy::Immutable,
            zerocopy::Unaligned,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            Default,
        )]
        #[repr(C)]
        pub struct $name {
            pub words: [zerocopy::little_endian::U64; $words],
        }

        const _: () = assert!(core::mem::size_of::<$name>() == $words * 8);

        impl $name {
            /// Builds the structure from its 64-bit words (word 0 first).
            pub fn from_words(w: [u64; $words]) -> Self {
                Self { words: w.map(zerocopy::little_endian::U64::new) }
            }
            /// The 64-bit words, word 0 first.
            pub fn to_words(&self) -> [u64; $words] {
                self.words.map(|w| w.get())
            }
            /// The bytes as they sit in memory.
            pub fn to_bytes(&self) -> [u8; $words * 8] {
                let mut out = [0u8; $words * 8];
                out.copy_from_slice(zerocopy::IntoBytes::as_bytes(self));
                out
            }
            /// Read-only view with spec bit numbers.
            pub fn bits(&self) -> $bits<&[u8]> {
                $bits(zerocopy::IntoBytes::as_bytes(self))
            }
            /// Writable view with spec bit numbers.
            pub fn bits_mut(&mut self) -> $bits<&mut [u8]> {
                $bits(zerocopy::IntoBytes::as_mut_bytes(self))
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}[", stringify!($name))?;
                for (i, w) in self.words.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{:#018x}", w.get())?;
                }
                f.write_str("]")
            }
        }
    };
}
pub(crate) use wire_struct;

#[cfg(test)]
mod tests {
    use super::genmask;

    #[test]
    fn genmask_covers_inclusive_range() {
        assert_eq!(genmask(3, 1), 0b1110);
        assert_eq!(genmask(63, 0), u64::MAX);
        assert_eq!(genmask(55, 12), 0x00ff_ffff_ffff_f000);
    }
}
