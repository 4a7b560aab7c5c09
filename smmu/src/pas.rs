//! Physical address spaces and security states of stream traffic.

use core::fmt;

/// A physical address space, numbered as Arm's `ARMSecuritySpace` (and the qtest `space=` token):
/// 0 Secure, 1 Non-secure, 2 Root, 3 Realm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pas {
    Secure = 0,
    NonSecure = 1,
    Root = 2,
    Realm = 3,
}

impl Pas {
    pub const ALL: [Pas; 4] = [Pas::Secure, Pas::NonSecure, Pas::Root, Pas::Realm];

    /// Decodes the two-bit `ARMSecuritySpace` number.
    pub fn from_armss(v: u8) -> Pas {
        match v & 3 {
            0 => Pas::Secure,
            1 => Pas::NonSecure,
            2 => Pas::Root,
            _ => Pas::Realm,
        }
    }

    /// The qtest `space=` spelling.
    pub fn name(self) -> &'static str {
        match self {
            Pas::Secure => "secure",
            Pas::NonSecure => "non-secure",
            Pas::Root => "root",
            Pas::Realm => "realm",
        }
    }

    /// One bit per PAS, for access masks.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Pas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The security state of a stream (`SEC_SID`): it selects the programming interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecSid {
    NonSecure = 0,
    Secure = 1,
    Realm = 2,
}

impl SecSid {
    pub const ALL: [SecSid; 3] = [SecSid::NonSecure, SecSid::Secure, SecSid::Realm];

    /// Index of this interface's register bank.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The PAS the interface's own structures (stream table, queues, MSIs) live in.
    pub fn pas(self) -> Pas {
        match self {
            SecSid::NonSecure => Pas::NonSecure,
            SecSid::Secure => Pas::Secure,
            SecSid::Realm => Pas::Realm,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SecSid::NonSecure => "non-secure",
            SecSid::Secure => "secure",
            SecSid::Realm => "realm",
        }
    }
}

impl fmt::Display for SecSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
