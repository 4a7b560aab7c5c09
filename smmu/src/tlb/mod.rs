//! The SMMU's caches: a configuration cache ([`ConfigCache`]) and a TLB ([`Tlb`]).
//!
//! Both are self-contained data structures: the pipeline looks up and fills them, the command
//! queue invalidates them (`invalidate`), and [`CachePolicy`] decides what they keep.
//!
//! # TLB entries and tags (§3.17)
//!
//! An entry caches one leaf mapping: the naturally aligned input block (page, block, or, when
//! nested, the smaller of the stage-1 and stage-2 mappings) and its output block, output PAS and
//! permissions. It is tagged with:
//!
//! - the translation regime ([`Regime`]): the Security state of the stream and its StreamWorld
//!   (EL1, EL2, EL2-E2H, EL3);
//! - the VMID, when the regime has VMIDs (EL1 regimes) and stage 2 is implemented for the
//!   Security state; `None` otherwise;
//! - the ASID, for non-global (nG=1) stage-1 entries of regimes with ASIDs (EL1, EL2-E2H);
//!   `None` for global entries, stage-2-only entries and regimes without ASIDs. A global entry
//!   also records the ASET of the CD that inserted it: it matches lookups with any ASID but only
//!   the same ASET (§3.17.1);
//! - the stage ([`StageKind`]): stage 1 only (VA), stage 2 only (IPA) or nested (VA, combined);
//! - the granule and level of the leaf, for diagnostics (the hints of TLBI commands only permit
//!   leaving other entries, and every invalidation removes everything its scope covers).
//!
//! VA-keyed entries of a context whose TBI applies to the VA's half are keyed by the VA with its
//! top byte replaced by copies of bit 55, so tagged addresses share an entry; TLBI addresses are
//! normalised the same way ([`canonical_va`]; §4.4.2 lets TBI apply to the parameter).
//!
//! Permissions depend on the privilege of the access (PAN, AP[1], XN splits), so an entry holds
//! them per privilege, filled by the walks made at that privilege; a lookup at a privilege the
//! entry has no permissions for is a miss. In the regimes with one privilege level (EL2, EL3)
//! they do not, and a fill gives the entry the same permissions for both. Besides the combined
//! permissions, an entry keeps each stage's own (stage 1, stage 2) and, when stage 2 is involved,
//! the IPA its input block maps to, so that a Permission fault can be reported from the entry with
//! the stage and IPA a walk would give ([`TlbHit`]).
//!
//! A lookup that hits but whose permissions deny the access is the pipeline's business: the
//! architecture allows either reporting the Permission fault the cached entry implies or walking
//! again. Under `Normal` the pipeline walks again, and the new walk's fill replaces the entry;
//! under `Sticky` it faults from the entry.
//!
//! # The warm path
//!
//! Entries live in a slab and are indexed exactly by `(tag, log2 size, input >> log2 size)`.
//! A lookup context also owns *aliases*: a map from `(lookup tag, 4 KiB page)` to the slab slot
//! holding that page, with the slot's generation. A warm translation is one alias lookup: hash
//! one 16-byte key, compare, check the generation, add the page offset. On an alias miss the
//! index is probed for each entry size present in the TLB (at most a handful), first the
//! context's ASID-tagged entries then its global ones, and a hit there creates the alias, so the
//! next access to the page (or the first access of another ASID to a global entry) is warm.
//!
//! Invalidation scans the slab (bounded by the capacity), removes the entries its scope covers
//! (any overlap of the entry's input block with the command's range counts, so a block larger
//! than the range goes too), and bumps each removed slot's generation: aliases to it go stale
//! and are dropped when next met. The alias map is bounded too (16 per slab slot); when full it
//! is emptied, which costs a few probes and changes nothing visible.
//!
//! # Policies
//!
//! - `Normal`: at `capacity` entries, a fill evicts one entry (round-robin over the slab).
//! - `Never`: nothing is ever inserted; every translation walks.
//! - `Sticky`: an entry stays until an invalidation covers it (or until a walk of an address it
//!   covers replaces it, which only happens when it has no permissions for the access's
//!   privilege). An entry whose permissions deny an access gives the Permission fault without a
//!   walk, so a permission upgrade not followed by a TLBI keeps faulting. At `capacity` fills
//!   are dropped instead of evicting, so a stale entry is never lost to capacity: the
//!   translations that could not be cached simply walk every time.

mod config;
mod hash;
#[cfg(test)]
mod tests;

use core::fmt;

pub use config::{CONFIG_CACHE_CAPACITY, CfgScope, ConfigCache};
pub use hash::{BuildWordHasher, WordHasher, WordMap};

use crate::Translation;
use crate::config::CachePolicy;
use crate::pas::{Pas, SecSid};
use crate::spec::desc::va;
use crate::trace::{self, Perms, TraceEvent, TraceSink};
use crate::walk::Granule;

/// log2 of the alias granularity: the smallest translation granule.
const PAGE_SHIFT: u32 = 12;
/// Aliases allowed per slab slot before the alias map is emptied.
const ALIASES_PER_SLOT: usize = 16;

/// The Exception-level part of a StreamWorld.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum El {
    /// NS-EL1, Secure (S-EL1) or Realm-EL1: ASIDs and VMIDs.
    El1 = 0,
    /// any-EL2: no ASIDs, no VMIDs.
    El2 = 1,
    /// any-EL2-E2H: ASIDs, no VMIDs.
    El2E2h = 2,
    /// EL3 (Secure streams only): no ASIDs, no VMIDs.
    El3 = 3,
}

impl El {
    /// Whether entries of this regime carry ASIDs (when non-global).
    pub fn has_asid(self) -> bool {
        matches!(self, El::El1 | El::El2E2h)
    }

    /// Whether entries of this regime carry VMIDs (when stage 2 is implemented).
    pub fn has_vmid(self) -> bool {
        self == El::El1
    }

    /// Whether the regime has one privilege level (any-EL2 without E2H, EL3): permissions do
    /// not depend on the privilege of the access.
    pub fn one_privilege_level(self) -> bool {
        matches!(self, El::El2 | El::El3)
    }

    fn name(self) -> &'static str {
        match self {
            El::El1 => "el1",
            El::El2 => "el2",
            El::El2E2h => "el2-e2h",
            El::El3 => "el3",
        }
    }
}

/// A translation regime: the Security state of the stream and its StreamWorld.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Regime {
    pub sec: SecSid,
    pub el: El,
}

impl Regime {
    /// The EL1 regime of a Security state (NS-EL1, Secure, Realm-EL1).
    pub fn el1(sec: SecSid) -> Regime {
        Regime { sec, el: El::El1 }
    }
}

/// Which stages an entry holds, which decides what its input address is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StageKind {
    /// Stage 1 only: VA to PA.
    S1 = 0,
    /// Stage 2 only: IPA to PA.
    S2 = 1,
    /// Stage 1 and stage 2 combined: VA to PA.
    Nested = 2,
}

impl StageKind {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    fn name(self) -> &'static str {
        match self {
            StageKind::S1 => "s1",
            StageKind::S2 => "s2",
            StageKind::Nested => "nested",
        }
    }
}

/// A set of [`El`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ElSet(u8);

impl ElSet {
    pub const EL1: ElSet = ElSet(1 << El::El1 as u8);
    /// EL2 (without E2H) only.
    pub const EL2: ElSet = ElSet(1 << El::El2 as u8);
    /// EL2 and EL2-E2H.
    pub const EL2_ANY: ElSet = ElSet((1 << El::El2 as u8) | (1 << El::El2E2h as u8));
    pub const EL2_E2H: ElSet = ElSet(1 << El::El2E2h as u8);
    pub const EL3: ElSet = ElSet(1 << El::El3 as u8);

    pub fn contains(self, el: El) -> bool {
        self.0 & (1 << el as u8) != 0
    }
}

/// A set of [`StageKind`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StageSet(u8);

impl StageSet {
    /// Entries holding stage-1 information: stage 1 only and nested.
    pub const S1_ANY: StageSet = StageSet(1 | 4);
    /// Stage-2-only entries.
    pub const S2: StageSet = StageSet(2);
    pub const ALL: StageSet = StageSet(7);

    pub fn contains(self, s: StageKind) -> bool {
        self.0 & s.bit() != 0
    }
}

/// `va` with bits [63:56] replaced by copies of bit 55: the address TBI makes of it, and the
/// form in which TLBI VAs are matched.
#[inline(always)]
pub fn canonical_va(va: u64) -> u64 {
    let sh = 63 - va::TTB_SELECT_BIT;
    (((va << sh) as i64) >> sh) as u64
}

/// Packs the tags of an entry or lookup into one word (an internal key, not a wire format).
fn pack(regime: Regime, stage: StageKind, vmid: Option<u16>, asid: Option<u16>, aset: bool) -> u64 {
    let opt = |v: Option<u16>| v.map_or(0, |v| 1 | (u64::from(v) << 1));
    regime.sec.index() as u64
        | ((regime.el as u64) << 2)
        | ((stage as u64) << 4)
        | (opt(vmid) << 6)
        | (opt(asid) << 23)
        | (u64::from(aset) << 40)
}

/// The tags a translation is looked up and filled with (from the stream's STE and CD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Context {
    regime: Regime,
    stage: StageKind,
    vmid: Option<u16>,
    asid: Option<u16>,
    aset: bool,
    /// Bit n: TBI applies to VAs with bit 55 == n.
    tbi: u8,
    /// Tag of the lookup (ASID and ASET): the alias key.
    lookup_tag: u64,
    /// Tag of a non-global entry of this context.
    ng_tag: u64,
    /// Tag of a global entry of this context (no ASID).
    g_tag: u64,
}

impl Context {
    /// A lookup context. `vmid` is STE.S2VMID when stage 2 is implemented for the Security
    /// state (also for stage-1-only streams, §3.17), `asid` CD.ASID, `aset` CD.ASET and `tbi`
    /// CD.TBI0/TBI1. Tags the regime or stage does not have are dropped: no VMID outside EL1,
    /// no ASID, ASET or TBI for stage-2-only, no ASID or ASET in regimes without ASIDs.
    pub fn new(
        regime: Regime,
        stage: StageKind,
        vmid: Option<u16>,
        asid: Option<u16>,
        aset: bool,
        tbi: [bool; 2],
    ) -> Context {
        let vmid = if regime.el.has_vmid() { vmid } else { None };
        let s1 = stage != StageKind::S2;
        let asid = if s1 && regime.el.has_asid() { asid } else { None };
        let aset = s1 && regime.el.has_asid() && aset;
        let tbi = if s1 { u8::from(tbi[0]) | (u8::from(tbi[1]) << 1) } else { 0 };
        Context {
            regime,
            stage,
            vmid,
            asid,
            aset,
            tbi,
            lookup_tag: pack(regime, stage, vmid, asid, aset),
            ng_tag: pack(regime, stage, vmid, asid, false),
            g_tag: pack(regime, stage, vmid, None, aset),
        }
    }

    /// A stage-1-only context of an EL1 regime.
    pub fn s1(sec: SecSid, vmid: Option<u16>, asid: u16) -> Context {
        Context::new(Regime::el1(sec), StageKind::S1, vmid, Some(asid), false, [false; 2])
    }

    /// A stage-2-only context of an EL1 regime.
    pub fn s2(sec: SecSid, vmid: u16) -> Context {
        Context::new(Regime::el1(sec), StageKind::S2, Some(vmid), None, false, [false; 2])
    }

    /// A nested context of an EL1 regime.
    pub fn nested(sec: SecSid, vmid: u16, asid: u16) -> Context {
        Context::new(Regime::el1(sec), StageKind::Nested, Some(vmid), Some(asid), false, [false; 2])
    }

    pub fn regime(&self) -> Regime {
        self.regime
    }

    pub fn stage(&self) -> StageKind {
        self.stage
    }

    pub fn vmid(&self) -> Option<u16> {
        self.vmid
    }

    pub fn asid(&self) -> Option<u16> {
        self.asid
    }

    /// The address entries are keyed by: `iova`, or its canonical form when TBI applies.
    #[inline(always)]
    fn key_addr(&self, iova: u64) -> u64 {
        if self.tbi & (1 << ((iova >> va::TTB_SELECT_BIT) & 1)) != 0 {
            canonical_va(iova)
        } else {
            iova
        }
    }

    /// Entry tags a lookup may match, ASID-tagged first.
    #[inline(always)]
    fn entry_tags(&self) -> ([u64; 2], usize) {
        if self.ng_tag == self.g_tag {
            ([self.g_tag, 0], 1)
        } else {
            ([self.ng_tag, self.g_tag], 2)
        }
    }
}

/// The result of a walk, as the TLB caches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fill {
    /// Output address of the walked address (not of the block base).
    pub oa: u64,
    /// Size of the mapping: a power of two of at least 4 KiB (smaller of the two when nested).
    pub size: u64,
    pub pas: Pas,
    /// Permissions for accesses of privilege `privileged`.
    pub perms: Perms,
    pub privileged: bool,
    /// nG=0 (for a Secure stream, a descriptor fetched from Non-secure memory is non-global
    /// whatever its nG, §3.17.1: the caller decides).
    pub global: bool,
    /// Granule of the leaf table (stage 1 for stage-1 and nested entries).
    pub granule: Granule,
    /// Level of the leaf descriptor.
    pub level: u8,
    /// Stage-1 permissions for accesses of privilege `privileged` (`None`: no stage 1).
    pub s1_perms: Option<Perms>,
    /// Stage-2 permissions for accesses of privilege `privileged` (`None`: no stage 2).
    pub s2_perms: Option<Perms>,
    /// IPA of the walked address (stage-2-only and nested contexts; ignored for stage 1 only).
    pub ipa: u64,
}

/// One cached translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TlbEntry {
    tag: u64,
    pub regime: Regime,
    pub stage: StageKind,
    pub vmid: Option<u16>,
    /// `None`: a global entry (or one of a regime or stage without ASIDs).
    pub asid: Option<u16>,
    /// ASET of a global entry.
    pub aset: bool,
    /// Input (VA or IPA) base, aligned to `size`.
    pub base: u64,
    pub size: u64,
    /// Output base, aligned to `size`.
    pub oa: u64,
    pub pas: Pas,
    /// Permissions for unprivileged (index 0) and privileged (index 1) accesses, where known.
    pub perms: [Option<Perms>; 2],
    pub granule: Granule,
    pub level: u8,
    /// Stage-1 permissions per privilege, as `perms` (`None` also for entries without stage 1).
    pub s1_perms: [Option<Perms>; 2],
    /// Stage-2 permissions per privilege, as `perms` (`None` also for entries without stage 2).
    pub s2_perms: [Option<Perms>; 2],
    /// IPA base the input block maps to, aligned to `size` (stage-2-only and nested entries).
    pub ipa: Option<u64>,
}

/// What a TLB hit gives: the translation, and what is needed to report a Permission fault from
/// the entry as a walk would (which stage denies, and the IPA of a stage-2 fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TlbHit {
    pub translation: Translation,
    /// Stage-1 permissions for the privilege looked up (`None` for stage-2-only entries).
    pub s1_perms: Option<Perms>,
    /// Stage-2 permissions for the privilege looked up (`None` for stage-1-only entries).
    pub s2_perms: Option<Perms>,
    /// IPA of the looked-up address (stage-2-only and nested entries).
    pub ipa: Option<u64>,
}

impl TlbEntry {
    /// The last input address the entry covers.
    pub fn last(&self) -> u64 {
        self.base + (self.size - 1)
    }

    fn same_mapping(&self, other: &TlbEntry) -> bool {
        self.tag == other.tag
            && self.base == other.base
            && self.size == other.size
            && self.oa == other.oa
            && self.pas == other.pas
            && self.granule == other.granule
            && self.level == other.level
            && self.ipa == other.ipa
    }

    /// Sets the permissions of a walk at privilege `privileged`, or of both privileges when
    /// the regime has one privilege level.
    fn set_perms(&mut self, f: &Fill, one_level: bool) {
        let set = |slot: &mut [Option<Perms>; 2], p: Option<Perms>| {
            if one_level {
                *slot = [p; 2];
            } else {
                slot[usize::from(f.privileged)] = p;
            }
        };
        set(&mut self.perms, Some(f.perms));
        set(&mut self.s1_perms, f.s1_perms);
        set(&mut self.s2_perms, f.s2_perms);
    }
}

/// An inclusive input-address range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddrRange {
    pub first: u64,
    pub last: u64,
}

impl AddrRange {
    /// The single address `a` (entries containing it).
    pub fn at(a: u64) -> AddrRange {
        AddrRange { first: a, last: a }
    }

    /// `len` bytes from `first`, ending at the top of the address space at the latest (a range
    /// does not wrap).
    pub fn sized(first: u64, len: u64) -> AddrRange {
        AddrRange { first, last: first.saturating_add(len.max(1) - 1) }
    }

    fn overlaps(&self, e: &TlbEntry) -> bool {
        e.base <= self.last && self.first <= e.last()
    }
}

/// Which ASIDs an invalidation covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AsidScope {
    /// Every entry, global or not.
    Any,
    /// Non-global entries of this ASID only (TLBI_NH_ASID, TLBI_EL2_ASID).
    NonGlobal(u16),
    /// Entries of this ASID and global entries (TLBI_NH_VA, TLBI_EL2_VA).
    AsidOrGlobal(u16),
}

/// The entries one TLBI command covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TlbScope {
    pub sec: SecSid,
    pub els: ElSet,
    pub stages: StageSet,
    /// `None`: any VMID. `Some(v)` also covers entries without a VMID tag (over-invalidation
    /// that only matters if an entry was inserted without one while stage 2 is implemented).
    pub vmid: Option<u16>,
    pub asid: AsidScope,
    /// Input addresses (VA for stage-1 entries, IPA for stage-2 entries); `None`: all.
    pub range: Option<AddrRange>,
}

impl TlbScope {
    /// Every entry of the EL1 regime of `sec`, all stages.
    pub fn all_el1(sec: SecSid) -> TlbScope {
        TlbScope {
            sec,
            els: ElSet::EL1,
            stages: StageSet::ALL,
            vmid: None,
            asid: AsidScope::Any,
            range: None,
        }
    }

    /// Whether `e` is in scope.
    pub fn covers(&self, e: &TlbEntry) -> bool {
        e.regime.sec == self.sec
            && self.els.contains(e.regime.el)
            && self.stages.contains(e.stage)
            && match (self.vmid, e.vmid) {
                (Some(v), Some(ev)) => v == ev,
                _ => true,
            }
            && match self.asid {
                AsidScope::Any => true,
                AsidScope::NonGlobal(a) => e.asid == Some(a),
                AsidScope::AsidOrGlobal(a) => e.asid.is_none_or(|ea| ea == a),
            }
            && self.range.is_none_or(|r| r.overlaps(e))
    }
}

impl fmt::Display for TlbScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let els: Vec<&str> = [El::El1, El::El2, El::El2E2h, El::El3]
            .into_iter()
            .filter(|e| self.els.contains(*e))
            .map(El::name)
            .collect();
        let stages: Vec<&str> = [StageKind::S1, StageKind::S2, StageKind::Nested]
            .into_iter()
            .filter(|s| self.stages.contains(*s))
            .map(StageKind::name)
            .collect();
        write!(f, "[{} {}", els.join("|"), stages.join("|"))?;
        if let Some(v) = self.vmid {
            write!(f, " vmid={v:#x}")?;
        }
        match self.asid {
            AsidScope::Any => {}
            AsidScope::NonGlobal(a) => write!(f, " asid={a:#x}")?,
            AsidScope::AsidOrGlobal(a) => write!(f, " asid={a:#x}+global")?,
        }
        if let Some(r) = self.range {
            write!(f, " {:#x}..={:#x}", r.first, r.last)?;
        }
        f.write_str("]")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct BlockKey {
    /// Entry tag, with log2 of the entry size in bits [54:48].
    tag_shift: u64,
    /// Input address >> log2 size.
    number: u64,
}

impl BlockKey {
    #[inline(always)]
    fn new(tag: u64, shift: u32, addr: u64) -> BlockKey {
        BlockKey { tag_shift: tag | (u64::from(shift) << 48), number: addr >> shift }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct AliasKey {
    tag: u64,
    page: u64,
}

#[derive(Clone, Copy, Debug)]
struct Alias {
    slot: u32,
    generation: u64,
}

#[derive(Clone, Debug, Default)]
struct Slot {
    entry: Option<TlbEntry>,
    /// Bumped whenever the slot is emptied, so aliases to its old entry go stale.
    generation: u64,
}

/// The TLB: bounded, tagged, leaf entries under a [`CachePolicy`].
#[derive(Clone, Debug)]
pub struct Tlb {
    policy: CachePolicy,
    capacity: usize,
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    /// Next eviction victim (`Normal`).
    hand: usize,
    index: WordMap<BlockKey, u32>,
    alias: WordMap<AliasKey, Alias>,
    /// Live entries per log2 size, and the sizes present as a bit mask.
    size_count: [u32; 64],
    sizes: u64,
}

impl Tlb {
    /// Default bound on the number of entries.
    pub const DEFAULT_CAPACITY: usize = 4096;

    pub fn new(policy: CachePolicy, capacity: usize) -> Tlb {
        let capacity = capacity.clamp(1, u32::MAX as usize);
        Tlb {
            policy,
            capacity,
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            hand: 0,
            index: WordMap::default(),
            alias: WordMap::default(),
            size_count: [0; 64],
            sizes: 0,
        }
    }

    pub fn policy(&self) -> CachePolicy {
        self.policy
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The entries, in slab order.
    pub fn entries(&self) -> impl Iterator<Item = &TlbEntry> {
        self.slots.iter().filter_map(|s| s.entry.as_ref())
    }

    /// Translates `iova` from a cached entry of `ctx` with permissions for `privileged`
    /// accesses. Traces a hit or a miss.
    #[inline]
    pub fn lookup<T: TraceSink + ?Sized>(
        &mut self,
        ctx: &Context,
        iova: u64,
        privileged: bool,
        trace: &mut T,
    ) -> Option<Translation> {
        self.lookup_hit(ctx, iova, privileged, trace).map(|h| h.translation)
    }

    /// [`Tlb::lookup`], with the entry's per-stage permissions and IPA.
    #[inline]
    pub fn lookup_hit<T: TraceSink + ?Sized>(
        &mut self,
        ctx: &Context,
        iova: u64,
        privileged: bool,
        trace: &mut T,
    ) -> Option<TlbHit> {
        let addr = ctx.key_addr(iova);
        let hit = self.find(ctx, addr).and_then(|slot| {
            let e = self.slots[slot].entry.as_ref()?;
            let p = usize::from(privileged);
            let perms = e.perms[p]?;
            let offset = addr & (e.size - 1);
            Some(TlbHit {
                translation: Translation { pa: e.oa | offset, pas: e.pas, perms, size: e.size },
                s1_perms: e.s1_perms[p],
                s2_perms: e.s2_perms[p],
                ipa: e.ipa.map(|base| base | offset),
            })
        });
        let sec_sid = ctx.regime.sec;
        if hit.is_some() {
            trace::emit(trace, || TraceEvent::TlbHit { sec_sid, iova });
        } else {
            trace::emit(trace, || TraceEvent::TlbMiss { sec_sid, iova });
        }
        hit
    }

    /// The slot of the entry of `ctx` holding `addr`, creating an alias when found by probing.
    #[inline(always)]
    fn find(&mut self, ctx: &Context, addr: u64) -> Option<usize> {
        if self.live == 0 {
            return None;
        }
        let key = AliasKey { tag: ctx.lookup_tag, page: addr >> PAGE_SHIFT };
        if let Some(a) = self.alias.get(&key) {
            let s = &self.slots[a.slot as usize];
            if s.generation == a.generation && s.entry.is_some() {
                return Some(a.slot as usize);
            }
            self.alias.remove(&key);
        }
        let slot = self.probe(ctx, addr)?;
        self.add_alias(key, slot);
        Some(slot)
    }

    /// Searches the index for an entry of `ctx` holding `addr`: each size present, smallest
    /// first, ASID-tagged before global.
    fn probe(&self, ctx: &Context, addr: u64) -> Option<usize> {
        let (tags, n) = ctx.entry_tags();
        let mut sizes = self.sizes;
        while sizes != 0 {
            let shift = sizes.trailing_zeros();
            sizes &= sizes - 1;
            for &tag in &tags[..n] {
                if let Some(&slot) = self.index.get(&BlockKey::new(tag, shift, addr)) {
                    return Some(slot as usize);
                }
            }
        }
        None
    }

    fn add_alias(&mut self, key: AliasKey, slot: usize) {
        if self.alias.len() >= self.capacity.saturating_mul(ALIASES_PER_SLOT) {
            self.alias.clear();
        }
        let generation = self.slots[slot].generation;
        self.alias.insert(key, Alias { slot: slot as u32, generation });
    }

    /// Caches the walk of `iova` in `ctx`. Returns whether the TLB now holds it.
    ///
    /// An entry of `ctx` already holding `iova` either is the same mapping (same output, and
    /// same IPA when stage 2 is involved: the permissions for `f.privileged` are added to it)
    /// or is replaced.
    pub fn fill<T: TraceSink + ?Sized>(
        &mut self,
        ctx: &Context,
        iova: u64,
        f: &Fill,
        trace: &mut T,
    ) -> bool {
        if self.policy == CachePolicy::Never
            || !f.size.is_power_of_two()
            || f.size < 1 << PAGE_SHIFT
        {
            return false;
        }
        let addr = ctx.key_addr(iova);
        let global = f.global || ctx.asid.is_none();
        let mut new = TlbEntry {
            tag: if global { ctx.g_tag } else { ctx.ng_tag },
            regime: ctx.regime,
            stage: ctx.stage,
            vmid: ctx.vmid,
            asid: if global { None } else { ctx.asid },
            aset: global && ctx.aset,
            base: addr & !(f.size - 1),
            size: f.size,
            oa: f.oa & !(f.size - 1),
            pas: f.pas,
            perms: [None; 2],
            granule: f.granule,
            level: f.level,
            s1_perms: [None; 2],
            s2_perms: [None; 2],
            ipa: (ctx.stage != StageKind::S1).then_some(f.ipa & !(f.size - 1)),
        };
        let one_level = ctx.regime.el.one_privilege_level();
        new.set_perms(f, one_level);
        let sec_sid = ctx.regime.sec;
        let key = AliasKey { tag: ctx.lookup_tag, page: addr >> PAGE_SHIFT };
        // At most one entry per tag and size can hold `addr`: the loop ends after as many
        // rounds as there are sizes and tags.
        for _ in 0..2 * 64 {
            let Some(slot) = self.probe(ctx, addr) else { break };
            if let Some(e) = self.slots[slot].entry.as_mut()
                && e.same_mapping(&new)
            {
                e.set_perms(f, one_level);
                self.add_alias(key, slot);
                trace::emit(trace, || TraceEvent::TlbFill { sec_sid, iova, size: f.size });
                return true;
            }
            self.remove(slot);
        }
        if self.live >= self.capacity {
            match self.policy {
                CachePolicy::Normal => self.evict_one(),
                _ => {
                    trace::emit(trace, || {
                        TraceEvent::Note(format!(
                            "tlb full ({} entries, sticky): {sec_sid} iova={iova:#x} not cached",
                            self.live
                        ))
                    });
                    return false;
                }
            }
        }
        let slot = match self.free.pop() {
            Some(s) => s as usize,
            None => {
                self.slots.push(Slot::default());
                self.slots.len() - 1
            }
        };
        let shift = f.size.trailing_zeros();
        self.index.insert(BlockKey::new(new.tag, shift, new.base), slot as u32);
        self.size_count[shift as usize] += 1;
        self.sizes |= 1 << shift;
        self.slots[slot].entry = Some(new);
        self.live += 1;
        self.add_alias(key, slot);
        trace::emit(trace, || TraceEvent::TlbFill { sec_sid, iova, size: f.size });
        true
    }

    /// Evicts the next live entry after the round-robin hand.
    fn evict_one(&mut self) {
        for _ in 0..self.slots.len() {
            let slot = self.hand % self.slots.len();
            self.hand = slot + 1;
            if self.slots[slot].entry.is_some() {
                self.remove(slot);
                return;
            }
        }
    }

    /// Empties a slot.
    fn remove(&mut self, slot: usize) {
        let s = &mut self.slots[slot];
        let Some(e) = s.entry.take() else { return };
        s.generation += 1;
        let shift = e.size.trailing_zeros();
        self.index.remove(&BlockKey::new(e.tag, shift, e.base));
        self.size_count[shift as usize] -= 1;
        if self.size_count[shift as usize] == 0 {
            self.sizes &= !(1 << shift);
        }
        self.free.push(slot as u32);
        self.live -= 1;
    }

    /// Removes every entry `scope` covers; returns how many.
    pub fn invalidate(&mut self, scope: &TlbScope) -> usize {
        let mut n = 0;
        for slot in 0..self.slots.len() {
            if self.slots[slot].entry.as_ref().is_some_and(|e| scope.covers(e)) {
                self.remove(slot);
                n += 1;
            }
        }
        n
    }

    /// Empties the TLB (reset, S_INIT.INV_ALL); returns how many entries were removed.
    pub fn clear(&mut self) -> usize {
        let n = self.live;
        self.slots.clear();
        self.free.clear();
        self.index.clear();
        self.alias.clear();
        self.size_count = [0; 64];
        self.sizes = 0;
        self.live = 0;
        self.hand = 0;
        n
    }
}
