//! DMA_ATTRS to transaction attributes (DESIGN.md's ATTRS table).

use smmu::{Pas, SecSid};

use super::regs::{ATTRS_SECURE, ATTRS_SPACE_MASK, ATTRS_SPACE_SHIFT, ATTRS_SPACE_VALID};

/// What a DMA_ATTRS value means for one DMA of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaAttrs {
    /// The transaction's input NS attribute.
    pub ns: bool,
    /// The PAS of the direct read-back at the GPA: SPACE if valid, else Secure if SECURE, else
    /// Non-secure.
    pub readback: Pas,
}

/// Decodes DMA_ATTRS for a stream of security state `sec_sid`; `None` is BAD_ATTRS.
///
/// QEMU's own rule comes first (SPACE Secure or Non-secure with a contradicting SECURE bit);
/// a Non-secure stream otherwise accepts every value and is always NS; Secure and Realm
/// streams accept only their own space and Non-secure.
pub fn decode(attrs: u32, sec_sid: SecSid) -> Option<DmaAttrs> {
    let secure = attrs & ATTRS_SECURE != 0;
    let valid = attrs & ATTRS_SPACE_VALID != 0;
    let space = Pas::from_armss(((attrs & ATTRS_SPACE_MASK) >> ATTRS_SPACE_SHIFT) as u8);

    if valid && matches!(space, Pas::Secure | Pas::NonSecure) && secure != (space == Pas::Secure) {
        return None;
    }
    let readback = match (valid, secure) {
        (true, _) => space,
        (false, true) => Pas::Secure,
        (false, false) => Pas::NonSecure,
    };
    let ns = match (sec_sid, valid) {
        (SecSid::NonSecure, _) => true,
        (SecSid::Secure | SecSid::Realm, false) => !secure,
        (SecSid::Secure, true) => match space {
            Pas::NonSecure => true,
            Pas::Secure => false,
            Pas::Realm | Pas::Root => return None,
        },
        (SecSid::Realm, true) => match space {
            Pas::NonSecure => true,
            Pas::Realm => false,
            Pas::Secure | Pas::Root => return None,
        },
    };
    Some(DmaAttrs { ns, readback })
}

#[cfg(test)]
mod tests {
    use super::*;

    // DMA_ATTRS values assembled from QEMU's layout: bit0 SECURE, bits[2:1] SPACE, bit3 VALID.
    const INVALID_NOT_SECURE: u32 = 0x0;
    const INVALID_SECURE: u32 = 0x1;
    const RESET_VALUE: u32 = 0x2;
    const SPACE_SECURE: u32 = 0x9; // VALID | SPACE 0 | SECURE
    const SPACE_SECURE_CONTRADICTED: u32 = 0x8; // VALID | SPACE 0, SECURE = 0
    const SPACE_NS: u32 = 0xa; // VALID | SPACE 1
    const SPACE_NS_CONTRADICTED: u32 = 0xb; // VALID | SPACE 1 | SECURE
    const SPACE_ROOT: u32 = 0xc; // VALID | SPACE 2
    const SPACE_ROOT_SECURE: u32 = 0xd;
    const SPACE_REALM: u32 = 0xe; // VALID | SPACE 3
    const SPACE_REALM_SECURE: u32 = 0xf;

    fn ns(readback: Pas) -> Option<DmaAttrs> {
        Some(DmaAttrs { ns: true, readback })
    }
    fn not_ns(readback: Pas) -> Option<DmaAttrs> {
        Some(DmaAttrs { ns: false, readback })
    }

    #[test]
    fn qemu_rule_rejects_space_secure_without_secure_bit_for_every_stream() {
        for s in SecSid::ALL {
            assert_eq!(decode(SPACE_SECURE_CONTRADICTED, s), None, "{s}");
        }
    }

    #[test]
    fn qemu_rule_rejects_space_ns_with_secure_bit_for_every_stream() {
        for s in SecSid::ALL {
            assert_eq!(decode(SPACE_NS_CONTRADICTED, s), None, "{s}");
        }
    }

    #[test]
    fn non_secure_stream_is_always_ns() {
        let s = SecSid::NonSecure;
        assert_eq!(decode(INVALID_NOT_SECURE, s), ns(Pas::NonSecure));
        assert_eq!(decode(INVALID_SECURE, s), ns(Pas::Secure));
        assert_eq!(decode(RESET_VALUE, s), ns(Pas::NonSecure));
        assert_eq!(decode(SPACE_SECURE, s), ns(Pas::Secure));
        assert_eq!(decode(SPACE_NS, s), ns(Pas::NonSecure));
        assert_eq!(decode(SPACE_ROOT, s), ns(Pas::Root));
        assert_eq!(decode(SPACE_ROOT_SECURE, s), ns(Pas::Root));
        assert_eq!(decode(SPACE_REALM, s), ns(Pas::Realm));
        assert_eq!(decode(SPACE_REALM_SECURE, s), ns(Pas::Realm));
    }

    #[test]
    fn secure_stream_without_valid_space_follows_secure_bit() {
        assert_eq!(decode(INVALID_NOT_SECURE, SecSid::Secure), ns(Pas::NonSecure));
        assert_eq!(decode(INVALID_SECURE, SecSid::Secure), not_ns(Pas::Secure));
    }

    #[test]
    fn secure_stream_accepts_space_ns_and_secure_only() {
        assert_eq!(decode(SPACE_NS, SecSid::Secure), ns(Pas::NonSecure));
        assert_eq!(decode(SPACE_SECURE, SecSid::Secure), not_ns(Pas::Secure));
        assert_eq!(decode(SPACE_REALM, SecSid::Secure), None);
        assert_eq!(decode(SPACE_REALM_SECURE, SecSid::Secure), None);
        assert_eq!(decode(SPACE_ROOT, SecSid::Secure), None);
        assert_eq!(decode(SPACE_ROOT_SECURE, SecSid::Secure), None);
    }

    #[test]
    fn realm_stream_without_valid_space_is_realm_when_secure_bit_set() {
        assert_eq!(decode(INVALID_NOT_SECURE, SecSid::Realm), ns(Pas::NonSecure));
        assert_eq!(decode(INVALID_SECURE, SecSid::Realm), not_ns(Pas::Secure));
    }

    #[test]
    fn realm_stream_accepts_space_ns_and_realm_only() {
        assert_eq!(decode(SPACE_NS, SecSid::Realm), ns(Pas::NonSecure));
        assert_eq!(decode(SPACE_REALM, SecSid::Realm), not_ns(Pas::Realm));
        assert_eq!(decode(SPACE_REALM_SECURE, SecSid::Realm), not_ns(Pas::Realm));
        assert_eq!(decode(SPACE_SECURE, SecSid::Realm), None);
        assert_eq!(decode(SPACE_ROOT, SecSid::Realm), None);
    }

    #[test]
    fn unused_attrs_bits_are_ignored() {
        assert_eq!(decode(0xffff_fff0 | SPACE_NS, SecSid::NonSecure), ns(Pas::NonSecure));
    }
}
