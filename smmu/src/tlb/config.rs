//! The configuration cache: decoded STE + CD per (SEC_SID, StreamID, SubstreamID).
//!
//! It holds whatever the pipeline makes of a stream's configuration (`V`), keyed by the Security
//! state of the stream table, the StreamID and the SubstreamID of the transaction (`None` for
//! transactions without one). A value for `(sid, ssid)` may include the STE of `sid` and the CD
//! the transaction used, so every CFGI command removes the values that could hold the
//! structure it names (§4.3):
//!
//! | Command | Removes |
//! |---|---|
//! | CFGI_STE(SID) | every value of SID (the STE, and all CDs cached through it) |
//! | CFGI_STE_RANGE(SID, Range) | every value of the 2^(Range+1) StreamIDs of SID's aligned block; Range=31 is every StreamID of the Security state (CFGI_ALL) |
//! | CFGI_CD(SID, SSID) | the value of (SID, SSID); with SSID=0 also (SID, no SubstreamID), which uses CD 0 |
//! | CFGI_CD_ALL(SID) | every value of SID |
//!
//! Leaf is irrelevant: the cache holds no L1STD or L1CD separately, so the Leaf=1 scope already
//! removes everything Leaf=0 would. Removing the STE part along with a CD (CFGI_CD on a value
//! that holds both) is the over-invalidation §4.3 permits.

use super::hash::WordMap;
use crate::config::CachePolicy;
use crate::pas::SecSid;

/// Key of a cached configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    /// SEC_SID in bits [1:0], StreamID in bits [33:2].
    stream: u64,
    /// SubstreamID, or `u64::MAX` without one.
    ssid: u64,
}

impl Key {
    #[inline(always)]
    fn new(sec: SecSid, sid: u32, ssid: Option<u32>) -> Key {
        Key {
            stream: sec.index() as u64 | (u64::from(sid) << 2),
            ssid: ssid.map_or(u64::MAX, u64::from),
        }
    }

    fn sec(self) -> usize {
        (self.stream & 3) as usize
    }

    fn sid(self) -> u32 {
        (self.stream >> 2) as u32
    }
}

/// Which cached configurations an invalidation removes (one CFGI command's scope).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CfgScope {
    /// CFGI_STE and CFGI_CD_ALL: everything cached through one StreamID.
    Sid(u32),
    /// CFGI_STE_RANGE: the 2^(Range+1) StreamIDs of the aligned block holding `sid`.
    SidRange { sid: u32, range: u8 },
    /// CFGI_CD: one SubstreamID of one StreamID.
    Cd { sid: u32, ssid: u32 },
    /// Every StreamID (CFGI_ALL, CFGI_STE_RANGE with Range=31).
    All,
}

impl CfgScope {
    /// Whether a value cached for `(sid, ssid)` falls in this scope.
    pub fn covers(self, sid: u32, ssid: Option<u32>) -> bool {
        match self {
            CfgScope::Sid(s) => s == sid,
            CfgScope::SidRange { sid: s, range } => {
                let span = 1u64 << (u32::from(range.min(31)) + 1);
                let first = u64::from(s) & !(span - 1);
                (first..first + span).contains(&u64::from(sid))
            }
            CfgScope::Cd { sid: s, ssid: x } => {
                s == sid && (ssid == Some(x) || (x == 0 && ssid.is_none()))
            }
            CfgScope::All => true,
        }
    }
}

impl core::fmt::Display for CfgScope {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            CfgScope::Sid(sid) => write!(f, "[config sid={sid:#x}]"),
            CfgScope::SidRange { sid, range } => {
                let span = 1u64 << (u32::from(range.min(31)) + 1);
                let first = u64::from(sid) & !(span - 1);
                write!(f, "[config sid={first:#x}..={:#x}]", first + span - 1)
            }
            CfgScope::Cd { sid, ssid } => write!(f, "[config sid={sid:#x} ssid={ssid:#x}]"),
            CfgScope::All => f.write_str("[config all]"),
        }
    }
}

/// Default bound on the number of cached configurations.
pub const CONFIG_CACHE_CAPACITY: usize = 1024;

/// Cached stream configurations, bounded, under a [`CachePolicy`].
///
/// - `Normal`: at `capacity`, inserting evicts one other entry (deterministically: the first in
///   the map's fixed-hasher order).
/// - `Never`: nothing is kept; every translation fetches the STE and CD.
/// - `Sticky`: entries stay until an invalidation covers them; at `capacity` new values are not
///   inserted (the translation still works, it just fetches again next time).
#[derive(Clone, Debug)]
pub struct ConfigCache<V> {
    policy: CachePolicy,
    capacity: usize,
    map: WordMap<Key, V>,
}

impl<V> ConfigCache<V> {
    pub fn new(policy: CachePolicy, capacity: usize) -> Self {
        ConfigCache { policy, capacity: capacity.max(1), map: WordMap::default() }
    }

    pub fn policy(&self) -> CachePolicy {
        self.policy
    }

    /// Number of cached configurations.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The cached configuration of `(sec, sid, ssid)`: one hash lookup.
    #[inline]
    pub fn get(&self, sec: SecSid, sid: u32, ssid: Option<u32>) -> Option<&V> {
        if self.policy == CachePolicy::Never {
            return None;
        }
        self.map.get(&Key::new(sec, sid, ssid))
    }

    /// Caches `v` for `(sec, sid, ssid)`. Returns whether it was kept.
    pub fn insert(&mut self, sec: SecSid, sid: u32, ssid: Option<u32>, v: V) -> bool {
        let key = Key::new(sec, sid, ssid);
        match self.policy {
            CachePolicy::Never => return false,
            _ if self.map.contains_key(&key) => {}
            CachePolicy::Sticky if self.map.len() >= self.capacity => return false,
            CachePolicy::Normal if self.map.len() >= self.capacity => {
                if let Some(victim) = self.map.keys().next().copied() {
                    self.map.remove(&victim);
                }
            }
            _ => {}
        }
        self.map.insert(key, v);
        true
    }

    /// Removes the configurations of Security state `sec` that `scope` covers; returns how many.
    pub fn invalidate(&mut self, sec: SecSid, scope: CfgScope) -> usize {
        let before = self.map.len();
        self.map.retain(|k, _| !(k.sec() == sec.index() && scope.covers(k.sid(), ssid_of(*k))));
        before - self.map.len()
    }

    /// Empties the cache (reset, S_INIT.INV_ALL); returns how many entries were removed.
    pub fn clear(&mut self) -> usize {
        let n = self.map.len();
        self.map.clear();
        n
    }
}

fn ssid_of(k: Key) -> Option<u32> {
    (k.ssid != u64::MAX).then_some(k.ssid as u32)
}
