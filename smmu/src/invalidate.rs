//! What each CFGI_* and TLBI_* command removes from the caches (IHI 0070 §4.3, §4.4).
//!
//! [`scope_of`] turns a command that the command queue has already found legal into the set of
//! cached configurations or TLB entries it covers, for the queue it was issued on. Every
//! invalidation removes everything its scope covers, under every cache policy: the TTL, TG and
//! Leaf hints only permit an implementation to leave other entries, and the TLB only holds leaf
//! entries anyway.
//!
//! # Which entries a command covers
//!
//! The queue's Security state decides the regime (§4.4.2-§4.4.4):
//!
//! | Command | Non-secure queue | Secure queue | Realm queue |
//! |---|---|---|---|
//! | TLBI_NH_ALL / _ASID / _VA / _VAA | NS-EL1 stage 1 | Secure (S-EL1) stage 1 | Realm-EL1 stage 1 |
//! | TLBI_EL2_ALL | NS-EL2, NS-EL2-E2H | NS-EL2, NS-EL2-E2H | Realm-EL2, Realm-EL2-E2H |
//! | TLBI_EL2_ASID | NS-EL2-E2H | NS-EL2-E2H | Realm-EL2-E2H |
//! | TLBI_EL2_VA / _VAA | NS-EL2 or NS-EL2-E2H (CR2.E2H) | NS-EL2 or NS-EL2-E2H (CR2.E2H) | Realm-EL2 or Realm-EL2-E2H (R_CR2.E2H) |
//! | TLBI_S_EL2_ALL | (illegal) | S-EL2, S-EL2-E2H | (illegal) |
//! | TLBI_S_EL2_ASID | (illegal) | S-EL2-E2H | (illegal) |
//! | TLBI_S_EL2_VA / _VAA | (illegal) | S-EL2 or S-EL2-E2H (S_CR2.E2H) | (illegal) |
//! | TLBI_EL3_ALL / _VA | (illegal) | EL3 | (illegal) |
//! | TLBI_S12_VMALL, TLBI_S2_IPA, TLBI_NSNH_ALL | NS-EL1 | NS-EL1 | Realm-EL1 |
//! | TLBI_S_S12_VMALL, TLBI_S_S2_IPA, TLBI_SNH_ALL | (illegal) | Secure EL1 | (illegal) |
//!
//! "Stage 1" means entries holding stage-1 information: stage-1-only and nested (combined)
//! entries. The VMID of a TLBI_NH_* is matched only when stage 2 is implemented for the queue's
//! Security state (IDR0.S2P, S_IDR1.SEL2 for Secure); otherwise it is ignored. TLBI_NH_ASID and
//! TLBI_EL2_ASID leave global entries; the VA forms cover global entries too.
//!
//! The EL2 commands follow §4.4.2.7-14: TLBI_EL2_ALL removes every EL2 and EL2-E2H entry;
//! TLBI_EL2_ASID the non-global EL2-E2H entries of the ASID (EL2 entries have no ASID). The VA
//! forms name one regime, by the E2H bit of the programming interface whose entries they
//! remove (SMMU_CR2.E2H for the Non-secure and Secure queues' TLBI_EL2_*, SMMU_S_CR2.E2H for
//! TLBI_S_EL2_*, SMMU_R_CR2.E2H on the Realm queue), read when the command executes: with
//! E2H = 1, TLBI_EL2_VA removes the EL2-E2H entries of the ASID and the global ones at the
//! address and TLBI_EL2_VAA those of every ASID; with E2H = 0 both remove the EL2 entries at the
//! address and the ASID is ignored. The other regime's entries are left (the spec does not
//! require their removal; software changing E2H must use TLBI_EL2_ALL, §6.3.12.3). None of the
//! EL2 commands matches a VMID (EL2 entries have none), and none of the EL1 commands
//! (TLBI_NH_*, TLBI_S12_VMALL, TLBI_S2_IPA, TLBI_NSNH_ALL: "non-NS-EL2, non-NS-EL2-E2H",
//! §4.4.4.1) removes EL2 entries.
//!
//! # Addresses
//!
//! With TG = 0 the command names one address: the entries holding it go. With TG != 0 it names
//! `(NUM + 1) * 2^SCALE` granules of TG (4K, 16K, 64K) from Address, which need not be aligned;
//! every entry overlapping that range goes, including blocks larger than it. The range stops at
//! the top of the address space (it does not wrap). SCALE above 39 counts as 39. VAs are
//! matched in canonical form (top byte from bit 55, as TBI makes them).
//!
//! # TLBI_S2_IPA and nested entries
//!
//! TLBI_S2_IPA removes the stage-2-only entries of the VMID overlapping the IPA range. It does
//! not remove nested (combined stage 1 + stage 2) entries: §4.4.3.1 says the command "is not
//! required to invalidate structures containing combined stage 1 and stage 2 information" and
//! that software pairs it with TLBI_NH_ALL or TLBI_NH_VAA (as Linux does for nesting parents,
//! and as QEMU's model behaves). The model keeps combined entries until such a command (or
//! TLBI_S12_VMALL, TLBI_NSNH_ALL) covers them, under every policy, so a driver that forgets the
//! stage-1 invalidation sees the stale combined translation. TLBI_S_S2_IPA's NS parameter is not
//! distinguished: Secure stage-2 entries of both IPA spaces in the range go.
//!
//! # Configuration
//!
//! CFGI_* from the Secure queue name the Secure stream table with SSec = 1 and the Non-secure
//! one with SSec = 0; from the other queues, their own. See [`crate::tlb::ConfigCache`] for
//! what each command removes. CFGI_VMS_PIDM has nothing to remove (no VMS is cached).

use crate::Smmu;
use crate::config::SmmuConfig;
use crate::pas::SecSid;
use crate::spec::cmd::{CFGI_RANGE_ALL, Cmd, op, tg};
use crate::tlb::{AddrRange, AsidScope, CfgScope, ElSet, StageSet, TlbScope, canonical_va};
use crate::trace::{self, TraceEvent, TraceSink};

/// Largest SCALE honoured; larger values count as this (§4.4.1.1).
const SCALE_MAX: u64 = 39;

/// What one command removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Invalidation {
    /// Cached configurations of one Security state's stream table.
    Config { sec: SecSid, scope: CfgScope },
    /// TLB entries.
    Tlb(TlbScope),
}

/// The Security state whose stream table a CFGI_* from `queue` names.
pub fn cfgi_target(queue: SecSid, ssec: bool) -> SecSid {
    match queue {
        SecSid::Secure if !ssec => SecSid::NonSecure,
        q => q,
    }
}

/// Whether TLBI_NH_* from `queue` match the VMID: stage 2 is implemented for that Security
/// state.
fn vmid_matched(cfg: &SmmuConfig, queue: SecSid) -> bool {
    match queue {
        SecSid::Secure => cfg.s_idr1().sel2(),
        SecSid::NonSecure | SecSid::Realm => cfg.idr0().s2p(),
    }
}

/// The Security state of the EL1 and EL2 entries the "NS" commands (TLBI_EL2_*, S12_VMALL,
/// S2_IPA, NSNH_ALL) name from `queue`: Realm on the Realm queue, Non-secure otherwise.
fn ns_or_realm(queue: SecSid) -> SecSid {
    if queue == SecSid::Realm { SecSid::Realm } else { SecSid::NonSecure }
}

/// The input range of an address-based TLBI whose Address is `addr` (bits \[11:0\] zero);
/// SCALE is 6 bits wide with `ds` (SMMU_IDR5.DS), 5 otherwise.
fn tlbi_range(cmd: &Cmd, addr: u64, ds: bool) -> AddrRange {
    let b = cmd.bits();
    let scale = if ds { cmd.bits_ext().scale_ds() } else { b.scale() };
    let shift = match b.tg() {
        tg::G4K => 12,
        tg::G16K => 14,
        tg::G64K => 16,
        _ => return AddrRange::at(addr),
    };
    // At most 32 * 2^39 granules of 64 KiB: 2^60 bytes, no overflow.
    let granules = (b.num() + 1) << scale.min(SCALE_MAX);
    AddrRange::sized(addr, granules << shift)
}

/// What `cmd`, legal on the command queue of `queue`, removes; `None` for commands that do not
/// invalidate a cache. `e2h` holds SMMU_(S_|R_)CR2.E2H of each programming interface, indexed
/// by [`SecSid::index`]: it selects the regime of the EL2 VA commands.
pub fn scope_of(
    cfg: &SmmuConfig,
    queue: SecSid,
    e2h: [bool; 3],
    cmd: &Cmd,
) -> Option<Invalidation> {
    let b = cmd.bits();
    let sid = b.stream_id() as u32;
    let vmid = b.vmid() as u16;
    let asid = b.asid() as u16;
    let ds = cfg.idr5().ds();
    let va = || Some(tlbi_range(cmd, canonical_va(cmd.tlbi_address()), ds));
    let config = |scope| Some(Invalidation::Config { sec: cfgi_target(queue, b.ssec()), scope });
    let tlb = |sec, els, stages, vmid, asid, range| {
        Some(Invalidation::Tlb(TlbScope { sec, els, stages, vmid, asid, range }))
    };
    let nh_vmid = vmid_matched(cfg, queue).then_some(vmid);
    let nsr = ns_or_realm(queue);
    let (el1, el2, s1, all) = (ElSet::EL1, ElSet::EL2_ANY, StageSet::S1_ANY, StageSet::ALL);
    use AsidScope::{Any, AsidOrGlobal, NonGlobal};
    // The regime and ASID scope of TLBI_(S_)EL2_VA (`by_asid`) or _VAA in Security state `sec`.
    let el2_va = |sec: SecSid, by_asid: bool| {
        let asid_scope = if by_asid { AsidOrGlobal(asid) } else { Any };
        if e2h[sec.index()] { (ElSet::EL2_E2H, asid_scope) } else { (ElSet::EL2, Any) }
    };
    match b.opcode() as u8 {
        op::CFGI_STE | op::CFGI_CD_ALL => config(CfgScope::Sid(sid)),
        op::CFGI_STE_RANGE if b.range() >= CFGI_RANGE_ALL => config(CfgScope::All),
        op::CFGI_STE_RANGE => config(CfgScope::SidRange { sid, range: b.range() as u8 }),
        op::CFGI_CD => config(CfgScope::Cd { sid, ssid: b.substream_id() as u32 }),
        op::TLBI_NH_ALL => tlb(queue, el1, s1, nh_vmid, Any, None),
        op::TLBI_NH_ASID => tlb(queue, el1, s1, nh_vmid, NonGlobal(asid), None),
        op::TLBI_NH_VA => tlb(queue, el1, s1, nh_vmid, AsidOrGlobal(asid), va()),
        op::TLBI_NH_VAA => tlb(queue, el1, s1, nh_vmid, Any, va()),
        op::TLBI_EL2_ALL => tlb(nsr, el2, all, None, Any, None),
        op::TLBI_EL2_ASID => tlb(nsr, ElSet::EL2_E2H, all, None, NonGlobal(asid), None),
        op::TLBI_EL2_VA | op::TLBI_EL2_VAA => {
            let (els, asids) = el2_va(nsr, b.opcode() as u8 == op::TLBI_EL2_VA);
            tlb(nsr, els, all, None, asids, va())
        }
        op::TLBI_S_EL2_ALL => tlb(SecSid::Secure, el2, all, None, Any, None),
        op::TLBI_S_EL2_ASID => {
            tlb(SecSid::Secure, ElSet::EL2_E2H, all, None, NonGlobal(asid), None)
        }
        op::TLBI_S_EL2_VA | op::TLBI_S_EL2_VAA => {
            let (els, asids) = el2_va(SecSid::Secure, b.opcode() as u8 == op::TLBI_S_EL2_VA);
            tlb(SecSid::Secure, els, all, None, asids, va())
        }
        op::TLBI_EL3_ALL => tlb(SecSid::Secure, ElSet::EL3, all, None, Any, None),
        op::TLBI_EL3_VA => tlb(SecSid::Secure, ElSet::EL3, all, None, Any, va()),
        op::TLBI_S12_VMALL => tlb(nsr, el1, all, Some(vmid), Any, None),
        op::TLBI_S_S12_VMALL => tlb(SecSid::Secure, el1, all, Some(vmid), Any, None),
        op::TLBI_S2_IPA | op::TLBI_S_S2_IPA => {
            let sec = if b.opcode() as u8 == op::TLBI_S2_IPA { nsr } else { SecSid::Secure };
            let range = tlbi_range(cmd, cmd.tlbi_ipa(), ds);
            tlb(sec, el1, StageSet::S2, Some(vmid), Any, Some(range))
        }
        op::TLBI_NSNH_ALL => tlb(nsr, el1, all, None, Any, None),
        op::TLBI_SNH_ALL => tlb(SecSid::Secure, el1, all, None, Any, None),
        _ => None,
    }
}

impl Smmu {
    /// Applies `cmd`, found legal on the command queue of `queue`, to the configuration cache
    /// or the TLB, and traces what it removed. Commands that invalidate nothing are ignored.
    ///
    /// The invalidation is complete when this returns, so a following CMD_SYNC has nothing to
    /// wait for.
    pub(crate) fn invalidate<T: TraceSink + ?Sized>(
        &mut self,
        queue: SecSid,
        cmd: &Cmd,
        trace: &mut T,
    ) {
        let e2h = self.banks.each_ref().map(|b| b.cr2().e2h());
        let Some(inv) = scope_of(&self.cfg, queue, e2h, cmd) else { return };
        let (sec_sid, removed) = match inv {
            Invalidation::Config { sec, scope } => (sec, self.config_cache.invalidate(sec, scope)),
            Invalidation::Tlb(scope) => (scope.sec, self.tlb.invalidate(&scope)),
        };
        trace::emit(trace, || {
            let name = op::name(cmd.op()).unwrap_or("?");
            let scope = match inv {
                Invalidation::Config { scope, .. } => scope.to_string(),
                Invalidation::Tlb(scope) => scope.to_string(),
            };
            TraceEvent::TlbInvalidate { sec_sid, scope: format!("{name} {scope}"), removed }
        });
    }

    /// Empties the configuration cache and the TLB of every Security state (SMMU_S_INIT.INV_ALL).
    pub(crate) fn invalidate_all<T: TraceSink + ?Sized>(&mut self, trace: &mut T) {
        let removed = self.config_cache.clear() + self.tlb.clear();
        trace::emit(trace, || TraceEvent::TlbInvalidate {
            sec_sid: SecSid::Secure,
            scope: "S_INIT.INV_ALL [all]".into(),
            removed,
        });
    }
}

#[cfg(test)]
mod e2e;
#[cfg(test)]
mod tests;
