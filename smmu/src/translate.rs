//! `Smmu::translate`: one DMA transaction from StreamID to output address (IHI 0070 ch. 15).
//!
//! The pipeline: SMMUEN / GBPA (§3.4, §6.3.14), STE fetch and validation (`stream`), SubstreamID
//! checks and CD fetch and validation (`context`), then the walk (`walk`). Every failure becomes
//! an [`Abort`], and the event it produces (if any) is written to the event queue of the
//! transaction's interface (`eventq`), in the priority order of §7.3.22.
//!
//! Caches (`tlb`): the outcome of the STE and CD checks for a (SEC_SID, StreamID, SubstreamID)
//! is kept in the configuration cache ([`CachedCfg`]), and each successful walk in the TLB, so a
//! warm translation is one configuration lookup and one TLB lookup, with no allocation and no
//! memory access. Configuration errors are not cached (the next transaction fetches again).
//! A TLB hit whose permissions deny the access may either report the Permission fault the cached
//! entry implies or walk again: both are architecturally allowed until an invalidation covering
//! the entry completes (IHI 0070 §3.21.1 follows the A-profile rules, under which a translation
//! that gives a Permission fault may be cached and used, with its permissions, until
//! invalidated). Under `CachePolicy::Normal` the pipeline walks again, so the fault (and its
//! stage) comes from the current tables; under `CachePolicy::Sticky` it faults from the entry
//! without walking (`cached_permission_fault`), so a permission upgrade that software does not
//! follow with a TLBI and CMD_SYNC keeps faulting. The caches follow `SmmuConfig::cache_policy`;
//! register writes (STRTAB_BASE, CR0, GBPA) do not empty them, as the architecture requires
//! software to issue CFGI/TLBI commands.
//!
//! Everything is keyed by `txn.sec_sid`: the register bank `banks[sec.index()]`, the Stream table
//! and queues in `sec.pas()`. Secure and Realm streams take the same path as Non-secure ones, with
//! their own bank and these differences: S_GBPA.NSCFG and STE.NSCFG choose the output PAS of a
//! bypass (`output_pas`), R_GBPA.ABORT is RES1, and Secure stage 2 needs S_IDR1.SEL2. Not
//! modelled: STE.S2SW/S2NSW (Secure stage-2 walks and output stay in the Secure PAS) and the
//! granule protection check (no `GpcFault` or `AccessDisabled` abort is produced).

use crate::bank::Bank;
use crate::config::CachePolicy;
use crate::context::{CdFetchError, decode_cd};
use crate::mem::PhysMem;
use crate::pas::{Pas, SecSid};
use crate::spec::event::{EventFields, EventRecord, class, has_fetch_addr, id};
use crate::spec::ste::nscfg;
use crate::stream::{
    AttrOverride, Rule, S1Dss, S1Ste, SteFetchError, StreamCfg, StreamWorld, TransCfg, decode_ste,
    ias_bits,
};
use crate::tlb::{self, El, Fill, Regime, StageKind, Tlb, TlbHit};
use crate::trace::{self, Perms, TraceEvent, TraceSink};
use crate::walk::{self, Access, Fault, Granule, S1Cfg, WalkResult, fits};
use crate::{Abort, AbortReason, Smmu, SmmuConfig, Translation, Txn};

/// Size reported for bypass translations (GBPA and STE.Config 0b100, and stage-1 bypass without
/// stage 2).
const BYPASS_SIZE: u64 = 4096;

/// Every permission: bypass does not restrict the access.
const BYPASS_PERMS: Perms = Perms { read: true, write: true, exec: true };

/// Why the pipeline stopped: the abort reason, and the event record to write if any.
struct Stop {
    reason: AbortReason,
    record: Option<EventRecord>,
    /// The configuration rule that fired, for the trace.
    rule: Option<Rule>,
    /// STE.MEV of the stream, once its STE is known (event merging).
    mev: bool,
}

impl Stop {
    fn silent(reason: AbortReason) -> Stop {
        Stop { reason, record: None, rule: None, mev: false }
    }

    fn event(rec: EventRecord, rule: Option<Rule>) -> Stop {
        let id = rec.bits().event_id() as u8;
        Stop { reason: AbortReason::Fault(id), record: Some(rec), rule, mev: false }
    }

    /// The same stop, for a stream whose STE has MEV = `mev`.
    fn with_mev(self, mev: bool) -> Stop {
        Stop { mev, ..self }
    }
}

/// Event record of a configuration error: StreamID and, if the transaction had one, SubstreamID
/// (§7.3.3, §7.3.5, §7.3.11 carry nothing else).
fn config_record(id: u8, txn: &Txn) -> EventRecord {
    EventRecord::encode(&EventFields { id, sid: txn.sid, ssid: txn.ssid, ..Default::default() })
}

/// The event record of a configuration rule.
fn rule_record(rule: Rule, txn: &Txn, index: u32) -> EventRecord {
    match rule.event() {
        // The SubstreamID field is always valid and there is no SSV (§7.3.9); it holds the index
        // that was being fetched (0 for S1DSS=0b10 traffic without a SubstreamID).
        id::C_BAD_SUBSTREAMID => {
            let mut r = config_record(id::C_BAD_SUBSTREAMID, &Txn { ssid: Some(index), ..*txn });
            r.bits_mut().set_ssv(false);
            r
        }
        // F_STREAM_DISABLED carries the StreamID only (§7.3.7).
        id::F_STREAM_DISABLED => config_record(id::F_STREAM_DISABLED, &Txn { ssid: None, ..*txn }),
        e => config_record(e, txn),
    }
}

/// Event record of a fetch abort (F_STE_FETCH, F_CD_FETCH): FetchAddr in words 6-7.
fn fetch_record(id: u8, txn: &Txn, fetch_addr: u64) -> EventRecord {
    EventRecord::encode(&EventFields {
        id,
        sid: txn.sid,
        ssid: txn.ssid,
        addr2: fetch_addr,
        ..Default::default()
    })
}

/// Event record of a translation-related fault or F_WALK_EABT.
fn fault_record(f: &Fault, txn: &Txn, acc: Access) -> EventRecord {
    EventRecord::encode(&EventFields {
        id: f.id,
        sid: txn.sid,
        ssid: txn.ssid,
        pnu: acc.pnu,
        ind: acc.rnw && acc.ind,
        rnw: acc.rnw,
        s2: f.s2,
        class: f.class,
        ttrnw: f.ttrnw,
        input_addr: txn.iova,
        addr2: if has_fetch_addr(f.id) { f.fetch_addr } else { f.ipa },
        ..Default::default()
    })
}

/// A walker fault: recorded or not, the transaction aborts.
fn fault_stop(f: &Fault, txn: &Txn, acc: Access) -> Stop {
    if f.record {
        Stop::event(fault_record(f, txn, acc), None)
    } else {
        Stop::silent(AbortReason::Fault(f.id))
    }
}

/// A stage-1 Address Size fault for an address that bypassed stage 1 (§3.4): always recorded,
/// S2=0, CLASS=IN.
fn bypass_addr_size(txn: &Txn, acc: Access) -> Stop {
    let f = Fault {
        id: id::F_ADDR_SIZE,
        s2: false,
        class: class::IN,
        ipa: 0,
        fetch_addr: 0,
        record: true,
        ttrnw: false,
    };
    fault_stop(&f, txn, acc)
}

fn reason_name(r: AbortReason) -> &'static str {
    match r {
        AbortReason::GlobalBypassAbort => "GBPA.ABORT",
        AbortReason::ConfigAbort => "STE.Config abort",
        AbortReason::Fault(e) => id::name(e),
        AbortReason::GpcFault => "GPC fault",
        AbortReason::AccessDisabled => "ROOT_CR0.ACCESSEN=0",
    }
}

/// What the configuration cache holds for one (SEC_SID, StreamID, SubstreamID): the outcome of
/// the STE, SubstreamID and CD checks, ready for the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CachedCfg {
    /// STE.Config 0b000 (or a reserved 0b0xx): abort without an event.
    Abort,
    /// STE.Config 0b100 (without a SubstreamID).
    Bypass { attrs: AttrOverride },
    /// Stage 1 bypasses (disabled, or S1DSS=0b01): stage 2 only, or no translation.
    S1Bypass { t: TransCfg, ctx: tlb::Context },
    /// Stage 1 translates with this CD's configuration (nested when `t.s2` is set).
    S1 { t: TransCfg, s1: S1Cfg, ctx: tlb::Context },
}

impl CachedCfg {
    /// STE.MEV of the stream (false for streams that do not translate).
    fn mev(&self) -> bool {
        match self {
            CachedCfg::S1Bypass { t, .. } | CachedCfg::S1 { t, .. } => t.mev,
            CachedCfg::Abort | CachedCfg::Bypass { .. } => false,
        }
    }
}

/// The TLB tags of a stream: its regime, VMID (STE.S2VMID when stage 2 is implemented for the
/// Security state, §3.17), and for stage 1 the CD's ASID, ASET and TBI.
fn tlb_context(
    cfg: &SmmuConfig,
    sec: SecSid,
    t: &TransCfg,
    s1: Option<(&S1Cfg, bool)>,
) -> tlb::Context {
    let el = match t.world {
        StreamWorld::El1 => El::El1,
        StreamWorld::El2 => El::El2,
        StreamWorld::El2E2h => El::El2E2h,
        StreamWorld::El3 => El::El3,
    };
    let s2_implemented = match sec {
        SecSid::Secure => cfg.s_idr1().sel2(),
        SecSid::NonSecure | SecSid::Realm => cfg.idr0().s2p(),
    };
    let vmid = s2_implemented.then_some(t.vmid);
    let regime = Regime { sec, el };
    match s1 {
        Some((s1, aset)) => {
            let stage = if t.s2.is_some() { StageKind::Nested } else { StageKind::S1 };
            tlb::Context::new(regime, stage, vmid, Some(s1.asid), aset, s1.tbi)
        }
        None => tlb::Context::new(regime, StageKind::S2, vmid, None, false, [false; 2]),
    }
}

/// Whether each stage records its translation-related faults: CD.R (stage 1) and STE.S2R
/// (stage 2), as the walker's configurations say.
#[derive(Clone, Copy, Debug)]
struct Records {
    s1: bool,
    s2: bool,
}

/// The Permission fault a TLB hit implies for an access its permissions deny, as a walk of the
/// tables the entry was filled from reports it: the same descriptors were valid with the access
/// flag set, so the walk would reach the permission checks, stage 1 first (a nested walk checks
/// the stage-1 leaf before translating its output through stage 2), then stage 2 with the IPA of
/// the address. CLASS=IN, recorded as the stage's configuration says. `None` when neither
/// stage's cached permissions deny the access (an entry without per-stage permissions).
fn cached_permission_fault(hit: &TlbHit, acc: Access, records: Records) -> Option<Fault> {
    let denies = |p: Option<Perms>| p.is_some_and(|p| !walk::permits(p, acc));
    let fault = |s2: bool, ipa: u64, record: bool| Fault {
        id: id::F_PERMISSION,
        s2,
        class: class::IN,
        ipa,
        fetch_addr: 0,
        record,
        ttrnw: false,
    };
    if denies(hit.s1_perms) {
        Some(fault(false, 0, records.s1))
    } else if denies(hit.s2_perms) {
        hit.ipa.map(|ipa| fault(true, ipa, records.s2))
    } else {
        None
    }
}

/// A walk through the TLB: a hit that permits the access is the answer; a hit that denies it is,
/// under `Sticky`, the Permission fault the entry implies; otherwise `walk` runs and its result
/// is cached.
#[allow(clippy::too_many_arguments)]
fn cached_walk<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
    tlb: &mut Tlb,
    ctx: &tlb::Context,
    txn: &Txn,
    acc: Access,
    granule: Granule,
    records: Records,
    mem: &mut M,
    trace: &mut T,
    walk: impl FnOnce(&mut M, &mut T) -> Result<WalkResult, Fault>,
) -> Result<Translation, Stop> {
    if let Some(hit) = tlb.lookup_hit(ctx, txn.iova, acc.pnu, trace) {
        if walk::permits(hit.translation.perms, acc) {
            return Ok(hit.translation);
        }
        if tlb.policy() == CachePolicy::Sticky
            && let Some(f) = cached_permission_fault(&hit, acc, records)
        {
            trace::emit(trace, || {
                TraceEvent::Note(format!(
                    "tlb entry denies the access (sticky): stage {} F_PERMISSION without a walk",
                    if f.s2 { 2 } else { 1 }
                ))
            });
            return Err(fault_stop(&f, txn, acc));
        }
    }
    let r = walk(mem, trace).map_err(|f| fault_stop(&f, txn, acc))?;
    let fill = Fill {
        oa: r.oa,
        size: r.size,
        pas: r.pas,
        perms: r.perms,
        privileged: acc.pnu,
        global: !r.ng,
        granule,
        level: r.level,
        s1_perms: r.s1_perms,
        s2_perms: r.s2_perms,
        ipa: r.ipa,
    };
    tlb.fill(ctx, txn.iova, &fill, trace);
    Ok(Translation { pa: r.oa, pas: r.pas, perms: r.perms, size: r.size })
}

/// The per-transaction part of a translation, once the configuration is known.
fn translate_cfg<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
    cfg: &SmmuConfig,
    tlb: &mut Tlb,
    sec: SecSid,
    c: &CachedCfg,
    txn: &Txn,
    mem: &mut M,
    trace: &mut T,
) -> Result<Translation, Stop> {
    match c {
        CachedCfg::Abort => Err(Stop::silent(AbortReason::ConfigAbort)),
        CachedCfg::Bypass { attrs } => {
            if !fits(txn.iova, cfg.oas_bits()) {
                return Err(bypass_addr_size(txn, attrs.apply(txn)));
            }
            Ok(Translation {
                pa: txn.iova,
                pas: output_pas(sec, attrs.ns, txn),
                perms: BYPASS_PERMS,
                size: BYPASS_SIZE,
            })
        }
        CachedCfg::S1Bypass { t, ctx } => {
            let acc = t.attrs.apply(txn);
            // The input goes to stage 2 as an IPA, checked against the IAS (§3.4).
            if !fits(txn.iova, ias_bits(cfg)) {
                return Err(bypass_addr_size(txn, acc));
            }
            match &t.s2 {
                Some(s2) => {
                    let records = Records { s1: false, s2: s2.record };
                    cached_walk(
                        tlb,
                        ctx,
                        txn,
                        acc,
                        s2.granule,
                        records,
                        mem,
                        trace,
                        |mem, trace| walk::walk_s2(s2, txn.iova, acc, class::IN, mem, trace),
                    )
                }
                // Stage 2 bypass: the IPA is the PA, truncated to the OAS.
                None => Ok(Translation {
                    pa: txn.iova & cfg.oas_mask(),
                    pas: output_pas(sec, t.attrs.ns, txn),
                    perms: BYPASS_PERMS,
                    size: BYPASS_SIZE,
                }),
            }
        }
        CachedCfg::S1 { t, s1, ctx } => {
            let acc = t.attrs.apply(txn);
            let sel = ((txn.iova >> crate::spec::desc::va::TTB_SELECT_BIT) & 1) as usize;
            let granule = s1.tables[sel].map_or(Granule::G4K, |tt| tt.granule);
            let records = Records { s1: s1.record, s2: t.s2.is_some_and(|s2| s2.record) };
            cached_walk(tlb, ctx, txn, acc, granule, records, mem, trace, |mem, trace| {
                walk::walk_s1(s1, t.s2.as_ref(), txn.iova, acc, mem, trace)
            })
        }
    }
}

/// What stage 1 does for a transaction once its SubstreamID has been checked.
enum S1Plan {
    /// Stage 1 bypasses (disabled, or S1DSS=0b01).
    Bypass,
    /// Translate with the CD of this index.
    Cd(u32, S1Ste),
}

impl Smmu {
    /// The register bank of an interface, writable.
    ///
    /// A back door for tests and firmware models that set registers directly instead of going
    /// through the register interface (no Update protocols, no guards, no side effects).
    pub fn bank_mut(&mut self, sec: SecSid) -> &mut Bank {
        &mut self.banks[sec.index()]
    }

    /// Translates one DMA transaction.
    ///
    /// Returns where `txn.iova` goes, or why the transaction aborts. Event records are written
    /// to the event queue of `txn.sec_sid` as a side effect, and every step is traced.
    pub fn translate<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        txn: &Txn,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<Translation, Abort> {
        trace::emit(trace, || TraceEvent::Dma(*txn));
        // Without SMMU_S_IDR1.SECURE_IMPL, SEC_SID is treated as Non-secure (§3.10.1).
        let ns_txn;
        let txn = if txn.sec_sid == SecSid::Secure && !self.cfg.secure_impl {
            ns_txn = Txn { sec_sid: SecSid::NonSecure, ns: true, ..*txn };
            &ns_txn
        } else {
            txn
        };
        match self.translate_txn(txn, mem, trace) {
            Ok(t) => {
                trace::emit(trace, || TraceEvent::Output {
                    iova: txn.iova,
                    pa: t.pa,
                    pas: t.pas,
                    perms: t.perms,
                    size: t.size,
                });
                Ok(t)
            }
            Err(stop) => {
                if let Some(rule) = stop.rule {
                    trace::emit(trace, || {
                        TraceEvent::Note(format!("{}: {}", id::name(rule.event()), rule.id()))
                    });
                }
                let event = stop.record.map(|rec| {
                    self.record_event_mev(txn.sec_sid, &rec, stop.mev, mem, trace);
                    rec.bits().event_id() as u8
                });
                let abort = Abort { reason: stop.reason, event };
                trace::emit(trace, || TraceEvent::Abort {
                    reason: reason_name(abort.reason),
                    event,
                });
                Err(abort)
            }
        }
    }

    fn translate_txn<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        txn: &Txn,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<Translation, Stop> {
        let sec = txn.sec_sid;
        let bank = &self.banks[sec.index()];
        if !bank.cr0().smmuen() {
            // R_GBPA.ABORT is RES1: a Realm stream never bypasses a disabled interface.
            if bank.gbpa().abort() || sec == SecSid::Realm {
                return Err(Stop::silent(AbortReason::GlobalBypassAbort));
            }
            // Bypass; an address beyond the OAS aborts without an event (§3.4).
            if !fits(txn.iova, self.cfg.oas_bits()) {
                return Err(Stop::silent(AbortReason::Fault(id::F_ADDR_SIZE)));
            }
            return Ok(Translation {
                pa: txn.iova,
                pas: output_pas(sec, gbpa_nscfg(sec, bank), txn),
                perms: BYPASS_PERMS,
                size: BYPASS_SIZE,
            });
        }
        if let Some(c) = self.config_cache.get(sec, txn.sid, txn.ssid) {
            return translate_cfg(&self.cfg, &mut self.tlb, sec, c, txn, mem, trace)
                .map_err(|s| s.with_mev(c.mev()));
        }
        let cr2 = self.banks[sec.index()].cr2();
        let c = self.resolve_cfg(sec, cr2.recinvsid(), cr2.e2h(), txn, mem, trace)?;
        self.config_cache.insert(sec, txn.sid, txn.ssid, c);
        translate_cfg(&self.cfg, &mut self.tlb, sec, &c, txn, mem, trace)
            .map_err(|s| s.with_mev(c.mev()))
    }

    /// The configuration as the programming interface of `sec` sees it, for STE and CD checks:
    /// the Non-secure interface's SMMU_IDR0.STALL_MODEL reads 0b01 while S_CR0.NSSTALLD is in
    /// effect, and stall configuration in Non-secure STEs and CDs is then ILLEGAL (§6.3.57.1).
    fn interface_cfg(&self, sec: SecSid) -> SmmuConfig {
        match sec {
            SecSid::NonSecure => SmmuConfig { idr0: self.ns_idr0().0, ..self.cfg.clone() },
            SecSid::Secure | SecSid::Realm => self.cfg.clone(),
        }
    }

    /// Fetches and checks the STE and, when stage 1 translates, the CD of a transaction.
    fn resolve_cfg<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        recinvsid: bool,
        e2h: bool,
        txn: &Txn,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<CachedCfg, Stop> {
        let ste = self.fetch_ste(sec, txn.sid, mem, trace).map_err(|e| match e {
            SteFetchError::BadStreamId(rule) if recinvsid => {
                Stop::event(rule_record(rule, txn, 0), Some(rule))
            }
            SteFetchError::BadStreamId(rule) => Stop {
                reason: AbortReason::Fault(id::C_BAD_STREAMID),
                record: None,
                rule: Some(rule),
                mev: false,
            },
            SteFetchError::Fetch(addr) => {
                Stop::event(fetch_record(id::F_STE_FETCH, txn, addr), None)
            }
        })?;
        let icfg = self.interface_cfg(sec);
        let stream = decode_ste(&icfg, sec, e2h, &ste)
            .map_err(|rule| Stop::event(rule_record(rule, txn, 0), Some(rule)))?;
        match stream {
            StreamCfg::Abort => Ok(CachedCfg::Abort),
            StreamCfg::Bypass { attrs } => {
                if let Some(ssid) = txn.ssid {
                    let rule = Rule::SsidS1Off;
                    return Err(Stop::event(rule_record(rule, txn, ssid), Some(rule)));
                }
                Ok(CachedCfg::Bypass { attrs })
            }
            StreamCfg::Translate(t) => {
                self.resolve_stream(sec, &icfg, &t, txn, mem, trace).map_err(|s| s.with_mev(t.mev))
            }
        }
    }

    /// SubstreamID checks and CD of a translating STE; `icfg` is [`Smmu::interface_cfg`].
    fn resolve_stream<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        sec: SecSid,
        icfg: &SmmuConfig,
        t: &TransCfg,
        txn: &Txn,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<CachedCfg, Stop> {
        let acc = t.attrs.apply(txn);
        let bad = |rule: Rule, index: u32| Stop::event(rule_record(rule, txn, index), Some(rule));
        let plan = match (txn.ssid, &t.s1) {
            (Some(ssid), None) => return Err(bad(Rule::SsidS1Off, ssid)),
            (Some(ssid), Some(_)) if self.cfg.idr1().ssidsize() == 0 => {
                return Err(bad(Rule::SsidNotSupported, ssid));
            }
            (Some(ssid), Some(s1)) if s1.cdmax == 0 => return Err(bad(Rule::SsidCdMax0, ssid)),
            (Some(ssid), Some(s1)) if !fits(u64::from(ssid), s1.cdmax) => {
                return Err(bad(Rule::SsidRange, ssid));
            }
            (Some(0), Some(s1)) if s1.dss == S1Dss::Substream0 => {
                return Err(bad(Rule::DssSsid0, 0));
            }
            (Some(ssid), Some(s1)) => S1Plan::Cd(ssid, *s1),
            (None, None) => S1Plan::Bypass,
            (None, Some(s1)) if s1.cdmax == 0 => S1Plan::Cd(0, *s1),
            (None, Some(s1)) => match s1.dss {
                S1Dss::Terminate => return Err(bad(Rule::DssTerminate, 0)),
                S1Dss::Bypass => S1Plan::Bypass,
                S1Dss::Substream0 => S1Plan::Cd(0, *s1),
            },
        };
        match plan {
            S1Plan::Bypass => {
                Ok(CachedCfg::S1Bypass { t: *t, ctx: tlb_context(&self.cfg, sec, t, None) })
            }
            S1Plan::Cd(index, s1) => {
                let cd = self.fetch_cd(sec, t, &s1, index, mem, trace).map_err(|e| match e {
                    CdFetchError::BadSubstream { rule, ssid } => bad(rule, ssid),
                    CdFetchError::S2(f) => fault_stop(&f, txn, acc),
                    CdFetchError::Fetch(addr) => {
                        Stop::event(fetch_record(id::F_CD_FETCH, txn, addr), None)
                    }
                })?;
                let s1cfg = decode_cd(icfg, sec, t, &s1, &cd)
                    .map_err(|rule| Stop::event(rule_record(rule, txn, index), Some(rule)))?;
                let ctx = tlb_context(&self.cfg, sec, t, Some((&s1cfg, cd.bits().aset())));
                Ok(CachedCfg::S1 { t: *t, s1: s1cfg, ctx })
            }
        }
    }
}

/// Output PAS of a transaction that bypasses translation (§3.10.2, §3.10.3): Non-secure
/// streams always output NS; Secure and Realm streams output NS or their own PAS as the
/// NSCFG override says (`Some(true)` NS), or as the incoming NS attribute says when it does
/// not override (`None`).
fn output_pas(sec: SecSid, nscfg: Option<bool>, txn: &Txn) -> Pas {
    if sec == SecSid::NonSecure || nscfg.unwrap_or(txn.ns) { Pas::NonSecure } else { sec.pas() }
}

/// GBPA.NSCFG (S_GBPA only) as an override: Secure, Non-secure, or (otherwise) incoming.
fn gbpa_nscfg(sec: SecSid, b: &Bank) -> Option<bool> {
    match (sec, u64::from(b.gbpa().nscfg())) {
        (SecSid::Secure, nscfg::SECURE_OR_REALM) => Some(false),
        (SecSid::Secure, nscfg::NON_SECURE) => Some(true),
        _ => None,
    }
}

/// A small machine for pipeline tests: RAM, a Non-secure interface with SMMUEN, EVENTQEN and
/// RECINVSID set, a linear Stream table, an event queue and a page-table allocator.
#[cfg(test)]
pub(crate) mod rig {
    use super::*;
    use crate::config::SmmuConfig;
    use crate::mem::{SparseMem, Window, read_obj, read_u64, write_obj};
    use crate::spec::cd::Cd;
    use crate::spec::regs::{Cr0, Cr2, QueueBase, StrtabBaseCfg, strtab_fmt};
    use crate::spec::ste::{Ste, config};
    use crate::trace::VecTrace;

    /// STRTAB_BASE_CFG of a 2-level Stream table.
    pub fn two_level_cfg(split: u32, log2size: u32) -> u32 {
        let mut c = StrtabBaseCfg(0);
        c.set_fmt(strtab_fmt::TWO_LEVEL);
        c.set_split(split);
        c.set_log2size(log2size);
        c.0
    }

    /// STRTAB_BASE_CFG of a linear Stream table.
    pub fn linear_cfg(log2size: u32) -> u32 {
        let mut c = StrtabBaseCfg(0);
        c.set_log2size(log2size);
        c.0
    }

    /// A queue base register value.
    pub fn queue_base(addr: u64, log2size: u64) -> u64 {
        let mut q = QueueBase(0);
        q.set_addr(addr >> 5);
        q.set_log2size(log2size);
        q.0
    }

    /// CR0 with only EVENTQEN set.
    pub fn cr0_eventqen() -> u32 {
        let mut c = Cr0(0);
        c.set_eventqen(true);
        c.0
    }

    pub const RAM: u64 = 0x4000_0000;
    pub const STRTAB: u64 = 0x4e17_9000;
    pub const EVENTQ: u64 = 0x4e17_0000;
    pub const CD_ADDR: u64 = 0x4e17_8fc0;
    /// Page tables are allocated from here.
    pub const PT_POOL: u64 = 0x4800_0000;
    pub const IOVA: u64 = 0x0000_0080_8060_4567;
    pub const DATA: u64 = 0x4ecb_a000;
    /// Table descriptor (valid, table).
    pub const TABLE: u64 = 0b11;
    /// Stage-1 page: AF, SH=11, AP=01 (read/write at EL1 and EL0), valid page.
    pub const S1_RW: u64 = 0x763;
    /// Stage-1 page: AF, SH=11, AP=11 (read-only).
    pub const S1_RO: u64 = 0x7e3;
    /// Stage-2 page: AF, SH=11, S2AP=11 (read/write), MemAttr normal.
    pub const S2_RW: u64 = 0x7e3;

    pub struct Rig {
        pub smmu: Smmu,
        pub mem: SparseMem,
        pub trace: VecTrace,
        next_table: u64,
    }

    impl Rig {
        pub fn new(cfg: SmmuConfig) -> Rig {
            let mut mem = SparseMem::new();
            mem.add_window(Window { name: "ram", base: RAM, size: 512 << 20, pas_mask: 0xf })
                .unwrap();
            let mut smmu = Smmu::new(cfg);
            let mut cr0 = Cr0(0);
            cr0.set_smmuen(true);
            cr0.set_eventqen(true);
            let mut cr2 = Cr2(0);
            cr2.set_recinvsid(true);
            let b = smmu.bank_mut(SecSid::NonSecure);
            b.cr0 = cr0.0;
            b.cr0ack = cr0.0;
            b.cr2 = cr2.0;
            b.strtab_base = STRTAB;
            b.strtab_base_cfg = linear_cfg(5);
            b.eventq.base = queue_base(EVENTQ, 4);
            Rig { smmu, mem, trace: VecTrace::new(), next_table: PT_POOL }
        }

        pub fn qemu() -> Rig {
            Rig::new(SmmuConfig::qemu_virt())
        }

        pub fn write_ste(&mut self, sid: u32, ste: &Ste) {
            write_obj(&mut self.mem, STRTAB + 64 * u64::from(sid), Pas::NonSecure, ste).unwrap();
        }

        pub fn write_cd(&mut self, addr: u64, cd: &Cd) {
            write_obj(&mut self.mem, addr, Pas::NonSecure, cd).unwrap();
        }

        pub fn write_u64(&mut self, addr: u64, v: u64) {
            self.mem.write(addr, Pas::NonSecure, &v.to_le_bytes()).unwrap();
        }

        pub fn alloc_table(&mut self) -> u64 {
            let t = self.next_table;
            self.next_table += 0x1000;
            t
        }

        /// Maps `va` with a 4 KiB leaf `leaf` (address and attributes) in the 4-level, 4 KiB
        /// granule tables rooted at `root`, allocating tables as needed.
        pub fn map(&mut self, root: u64, va: u64, leaf: u64) {
            let mut table = root;
            for level in 0..3u32 {
                let slot = table + 8 * ((va >> (39 - 9 * level)) & 511);
                let d = read_u64(&mut self.mem, slot, Pas::NonSecure).unwrap();
                table = if d & 1 == 1 {
                    d & 0x0000_ffff_ffff_f000
                } else {
                    let t = self.alloc_table();
                    self.write_u64(slot, t | TABLE);
                    t
                };
            }
            self.write_u64(table + 8 * ((va >> 12) & 511), leaf);
        }

        pub fn run(&mut self, txn: &Txn) -> Result<Translation, Abort> {
            self.smmu.translate(txn, &mut self.mem, &mut self.trace)
        }

        /// Event records written so far (from index 0 to PROD).
        pub fn events(&mut self) -> Vec<EventRecord> {
            let prod = self.smmu.bank(SecSid::NonSecure).eventq.prod & 0xf;
            (0..u64::from(prod))
                .map(|i| read_obj(&mut self.mem, EVENTQ + 32 * i, Pas::NonSecure).unwrap())
                .collect()
        }

        /// The one event record written so far.
        pub fn event(&mut self) -> EventRecord {
            let e = self.events();
            assert_eq!(e.len(), 1, "expected exactly one event, got {e:?}");
            e[0]
        }

        /// The configuration rule notes in the trace.
        pub fn notes(&self) -> Vec<String> {
            self.trace
                .events
                .iter()
                .filter_map(|e| match e {
                    TraceEvent::Note(n) => Some(n.clone()),
                    _ => None,
                })
                .collect()
        }
    }

    /// A valid stage-1-only STE (Config 0b101) pointing at one CD.
    pub fn ste_s1(cd: u64) -> Ste {
        let mut ste = Ste::default();
        let mut b = ste.bits_mut();
        b.set_v(true);
        b.set_config(config::S1_TRANS);
        b.set_s1_context_ptr(cd >> 6);
        ste
    }

    /// A valid stage-2 configuration: 44-bit IPA, 4 KiB granule, start level 0, S2PS 48, S2R.
    pub fn set_s2(ste: &mut Ste, ttb: u64) {
        let mut b = ste.bits_mut();
        b.set_s2t0sz(20);
        b.set_s2sl0(2);
        b.set_s2tg(0);
        b.set_s2ps(5);
        b.set_s2aa64(true);
        b.set_s2r(true);
        b.set_s2ttb(ttb >> 4);
    }

    /// A valid stage-2-only STE (Config 0b110).
    pub fn ste_s2(ttb: u64) -> Ste {
        let mut ste = Ste::default();
        ste.bits_mut().set_v(true);
        ste.bits_mut().set_config(config::S2_TRANS);
        set_s2(&mut ste, ttb);
        ste
    }

    /// A valid CD: TTB0 only (EPD1), 48-bit VA, 4 KiB granule, IPS 44, AA64, A, R.
    pub fn cd(ttb0: u64) -> Cd {
        let mut cd = Cd::default();
        let mut b = cd.bits_mut();
        b.set_v(true);
        b.set_t0sz(16);
        b.set_tg0(0);
        b.set_epd1(true);
        b.set_ips(4);
        b.set_aa64(true);
        b.set_a(true);
        b.set_r(true);
        b.set_asid(0x1e);
        b.set_ttb0(ttb0 >> 4);
        cd
    }

    /// A Non-secure read of 4 bytes at `iova` from `sid`.
    pub fn read(sid: u32, iova: u64) -> Txn {
        Txn::ns(sid, iova, 4, true)
    }

    /// A Non-secure write of 4 bytes at `iova` from `sid`.
    pub fn write(sid: u32, iova: u64) -> Txn {
        Txn::ns(sid, iova, 4, false)
    }
}

#[cfg(test)]
mod tests {
    use super::rig::*;
    use super::*;
    use crate::config::SmmuConfig;
    use crate::spec::cd::Cd;
    use crate::spec::event::EventBits;
    use crate::spec::regs::{Gbpa, IrqCtrl};
    use crate::spec::ste::{Ste, config};
    use crate::trace::FetchKind;

    const SID: u32 = 8;

    /// Stage 1 mapping IOVA to DATA through tables at a fresh root; returns the root.
    fn s1_rig(leaf_attrs: u64) -> (Rig, u64) {
        let mut r = Rig::qemu();
        let root = r.alloc_table();
        r.map(root, IOVA, DATA | leaf_attrs);
        r.write_ste(SID, &ste_s1(CD_ADDR));
        r.write_cd(CD_ADDR, &cd(root));
        (r, root)
    }

    fn fault(id: u8) -> Abort {
        Abort { reason: AbortReason::Fault(id), event: Some(id) }
    }

    fn silent(id: u8) -> Abort {
        Abort { reason: AbortReason::Fault(id), event: None }
    }

    fn words(rec: &EventRecord) -> [u64; 4] {
        rec.to_words()
    }

    fn bits(rec: &EventRecord) -> EventBits<&[u8]> {
        rec.bits()
    }

    #[test]
    fn gbpa_abort_with_smmu_disabled_aborts_without_event() {
        let mut r = Rig::qemu();
        r.smmu.bank_mut(SecSid::NonSecure).cr0ack = cr0_eventqen();
        let mut g = Gbpa(r.smmu.bank(SecSid::NonSecure).gbpa);
        g.set_abort(true);
        r.smmu.bank_mut(SecSid::NonSecure).gbpa = g.0;
        let out = r.run(&read(SID, IOVA));
        assert_eq!(out, Err(Abort { reason: AbortReason::GlobalBypassAbort, event: None }));
        assert!(r.events().is_empty());
    }

    #[test]
    fn smmu_disabled_bypasses_to_identical_ns_address_in_4k_units() {
        let mut r = Rig::qemu();
        r.smmu.bank_mut(SecSid::NonSecure).cr0ack = 0;
        let out = r.run(&read(SID, IOVA)).unwrap();
        assert_eq!(out.pa, IOVA);
        assert_eq!(out.pas, Pas::NonSecure);
        assert_eq!(out.size, 4096);
        assert!(out.perms.read && out.perms.write);
    }

    /// A Secure-stream read with input NS attribute `ns`, on a configuration with the Secure
    /// interface implemented and every interface disabled.
    fn secure_bypass(ns: bool, s_gbpa_nscfg: u32) -> Result<Translation, Abort> {
        let mut r = Rig::new(SmmuConfig { secure_impl: true, ..SmmuConfig::qemu_virt() });
        r.smmu.bank_mut(SecSid::NonSecure).cr0ack = 0;
        let mut g = Gbpa(r.smmu.bank(SecSid::Secure).gbpa);
        g.set_nscfg(s_gbpa_nscfg);
        r.smmu.bank_mut(SecSid::Secure).gbpa = g.0;
        r.run(&Txn { sec_sid: SecSid::Secure, ns, ..read(SID, 0x4000_0000) })
    }

    #[test]
    fn secure_bypass_with_nscfg_incoming_follows_the_input_ns_attribute() {
        assert_eq!(secure_bypass(true, 0b00).unwrap().pas, Pas::NonSecure);
        assert_eq!(secure_bypass(false, 0b00).unwrap().pas, Pas::Secure);
    }

    #[test]
    fn secure_bypass_nscfg_overrides_the_input_ns_attribute() {
        assert_eq!(secure_bypass(true, 0b10).unwrap().pas, Pas::Secure);
        assert_eq!(secure_bypass(false, 0b11).unwrap().pas, Pas::NonSecure);
    }

    #[test]
    fn secure_sec_sid_without_secure_impl_is_a_non_secure_stream() {
        let mut r = Rig::qemu();
        r.write_ste(SID, &Ste::default());
        let out = r.run(&Txn { sec_sid: SecSid::Secure, ns: false, ..read(SID, IOVA) });
        assert_eq!(out.unwrap_err().event, Some(id::C_BAD_STE));
        assert_eq!(r.event().fields().sid, SID);
    }

    #[test]
    fn realm_stream_aborts_while_its_interface_is_disabled() {
        let mut r = Rig::qemu();
        let out = r.run(&Txn { sec_sid: SecSid::Realm, ns: false, ..read(SID, IOVA) });
        assert_eq!(out, Err(Abort { reason: AbortReason::GlobalBypassAbort, event: None }));
    }

    #[test]
    fn ste_bypass_of_a_secure_stream_honours_ste_nscfg() {
        let mut r = Rig::new(SmmuConfig { secure_impl: true, ..SmmuConfig::qemu_virt() });
        let mut cr0 = crate::spec::regs::Cr0(0);
        cr0.set_smmuen(true);
        let b = r.smmu.bank_mut(SecSid::Secure);
        b.cr0ack = cr0.0;
        b.strtab_base = STRTAB;
        b.strtab_base_cfg = linear_cfg(5);
        let mut ste = Ste::default();
        ste.bits_mut().set_v(true);
        ste.bits_mut().set_config(config::BYPASS);
        ste.bits_mut().set_nscfg(crate::spec::ste::nscfg::NON_SECURE);
        crate::mem::write_obj(&mut r.mem, STRTAB + 64 * u64::from(SID), Pas::Secure, &ste).unwrap();
        let out = r.run(&Txn { sec_sid: SecSid::Secure, ns: false, ..read(SID, 0x4000_0000) });
        assert_eq!(out.unwrap().pas, Pas::NonSecure);
    }

    #[test]
    fn smmu_disabled_bypass_beyond_oas_aborts_without_event() {
        let mut r = Rig::qemu();
        r.smmu.bank_mut(SecSid::NonSecure).cr0ack = cr0_eventqen();
        let out = r.run(&read(SID, 1 << 44));
        assert_eq!(out, Err(silent(id::F_ADDR_SIZE)));
        assert!(r.events().is_empty());
    }

    #[test]
    fn config_abort_ste_aborts_without_event() {
        let mut r = Rig::qemu();
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_config(config::ABORT);
        r.write_ste(SID, &ste);
        let out = r.run(&read(SID, IOVA));
        assert_eq!(out, Err(Abort { reason: AbortReason::ConfigAbort, event: None }));
        assert!(r.events().is_empty());
    }

    #[test]
    fn reserved_config_0b011_behaves_as_abort() {
        let mut r = Rig::qemu();
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_config(0b011);
        r.write_ste(SID, &ste);
        let out = r.run(&read(SID, IOVA));
        assert_eq!(out, Err(Abort { reason: AbortReason::ConfigAbort, event: None }));
    }

    #[test]
    fn ste_bypass_translates_to_identical_address() {
        let mut r = Rig::qemu();
        let mut ste = Ste::default();
        ste.bits_mut().set_v(true);
        ste.bits_mut().set_config(config::BYPASS);
        r.write_ste(SID, &ste);
        let out = r.run(&write(SID, 0x1234_5678)).unwrap();
        assert_eq!((out.pa, out.pas, out.size), (0x1234_5678, Pas::NonSecure, 4096));
    }

    #[test]
    fn ste_bypass_beyond_oas_records_stage1_addr_size_class_in() {
        let mut r = Rig::qemu();
        let mut ste = Ste::default();
        ste.bits_mut().set_v(true);
        ste.bits_mut().set_config(config::BYPASS);
        r.write_ste(SID, &ste);
        let iova = 1u64 << 44;
        assert_eq!(r.run(&read(SID, iova)), Err(fault(id::F_ADDR_SIZE)));
        let e = r.event();
        assert_eq!(bits(&e).event_id(), u64::from(id::F_ADDR_SIZE));
        assert!(!bits(&e).s2());
        assert_eq!(bits(&e).class(), class::IN);
        assert_eq!(bits(&e).input_addr(), iova);
        assert!(bits(&e).rnw());
    }

    #[test]
    fn invalid_ste_record_is_event_4_with_stream_id_only() {
        let mut r = Rig::qemu();
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::C_BAD_STE)));
        // QEMU's observed bytes: 04 00 00 00 08 00 00 00, then zeros.
        assert_eq!(words(&r.event()), [0x0000_0008_0000_0004, 0, 0, 0]);
    }

    #[test]
    fn streamid_out_of_range_records_c_bad_streamid() {
        let mut r = Rig::qemu();
        assert_eq!(r.run(&read(32, IOVA)), Err(fault(id::C_BAD_STREAMID)));
        assert_eq!(words(&r.event()), [0x0000_0020_0000_0002, 0, 0, 0]);
    }

    #[test]
    fn streamid_out_of_range_without_recinvsid_aborts_silently() {
        let mut r = Rig::qemu();
        r.smmu.bank_mut(SecSid::NonSecure).cr2 = 0;
        assert_eq!(r.run(&read(32, IOVA)), Err(silent(id::C_BAD_STREAMID)));
        assert!(r.events().is_empty());
    }

    #[test]
    fn ste_fetch_abort_reports_fetch_address_in_words_6_7() {
        let mut r = Rig::qemu();
        r.smmu.bank_mut(SecSid::NonSecure).strtab_base = 0x1000_0000; // not RAM
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::F_STE_FETCH)));
        let w = words(&r.event());
        assert_eq!(w[0], 0x0000_0008_0000_0003);
        assert_eq!(w[2], 0);
        assert_eq!(w[3], 0x1000_0000 + 8 * 64);
    }

    #[test]
    fn stage1_translation_walks_to_the_mapped_page() {
        let (mut r, _) = s1_rig(S1_RW);
        let out = r.run(&write(SID, IOVA)).unwrap();
        assert_eq!(out.pa, DATA | (IOVA & 0xfff));
        assert_eq!(out.pas, Pas::NonSecure);
        assert_eq!(out.size, 4096);
        assert!(out.perms.read && out.perms.write);
        assert!(r.events().is_empty());
    }

    #[test]
    fn stage1_translation_fault_is_recorded_with_cd_r() {
        let (mut r, _) = s1_rig(S1_RW);
        let iova = IOVA + 0x1000; // unmapped page
        assert_eq!(r.run(&read(SID, iova)), Err(fault(id::F_TRANSLATION)));
        let e = r.event();
        assert_eq!(bits(&e).stream_id(), u64::from(SID));
        assert_eq!(bits(&e).input_addr(), iova);
        assert!(!bits(&e).s2());
        assert_eq!(bits(&e).class(), class::IN);
        assert!(bits(&e).rnw());
    }

    #[test]
    fn unrecorded_fault_still_aborts_the_transaction() {
        let (mut r, root) = s1_rig(S1_RW);
        let mut c = cd(root);
        c.bits_mut().set_r(false);
        r.write_cd(CD_ADDR, &c);
        assert_eq!(r.run(&read(SID, IOVA + 0x1000)), Err(silent(id::F_TRANSLATION)));
        assert!(r.events().is_empty());
    }

    #[test]
    fn access_flag_clear_gives_f_access() {
        let (mut r, _) = s1_rig(S1_RW & !(1 << 10));
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::F_ACCESS)));
    }

    #[test]
    fn write_to_read_only_page_gives_f_permission_with_rnw_0() {
        let (mut r, _) = s1_rig(S1_RO);
        assert_eq!(r.run(&write(SID, IOVA)), Err(fault(id::F_PERMISSION)));
        let e = r.event();
        assert!(!bits(&e).rnw());
        assert!(!bits(&e).ind());
    }

    #[test]
    fn walk_external_abort_is_recorded_even_without_cd_r() {
        let mut r = Rig::qemu();
        let mut c = cd(0x1000_0000); // table outside RAM
        c.bits_mut().set_r(false);
        r.write_ste(SID, &ste_s1(CD_ADDR));
        r.write_cd(CD_ADDR, &c);
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::F_WALK_EABT)));
        let e = r.event();
        assert_eq!(bits(&e).class(), class::TT);
        assert!(!bits(&e).s2());
        assert_eq!(bits(&e).addr2(), 0x1000_0000 + 8);
    }

    #[test]
    fn output_beyond_ips_gives_f_addr_size() {
        let (mut r, root) = s1_rig(S1_RW);
        r.map(root, IOVA, (1 << 44) | S1_RW);
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::F_ADDR_SIZE)));
    }

    #[test]
    fn cd_fetch_abort_reports_fetch_address_in_words_6_7() {
        let mut r = Rig::qemu();
        r.write_ste(SID, &ste_s1(0x1000_0000));
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::F_CD_FETCH)));
        let w = words(&r.event());
        assert_eq!(w[0], 0x0000_0008_0000_0009);
        // Words 4-5 (InputAddr) stay zero: QEMU's bug B3 puts the address there.
        assert_eq!(w[2], 0);
        assert_eq!(w[3], 0x1000_0000);
    }

    #[test]
    fn invalid_cd_records_c_bad_cd() {
        let mut r = Rig::qemu();
        r.write_ste(SID, &ste_s1(CD_ADDR));
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::C_BAD_CD)));
        assert_eq!(words(&r.event()), [0x0000_0008_0000_000a, 0, 0, 0]);
    }

    /// A stage-1 rig on an SMMU with the Stall model (STALL_MODEL 0b00), S_CR0.NSSTALLD as
    /// given, and an STE with S1STALLD and a CD with S as given.
    fn stall_rig(nsstalld: bool, s1stalld: bool, cd_s: bool) -> Rig {
        let mut cfg = SmmuConfig::full();
        let mut i0 = cfg.idr0();
        i0.set_stall_model(crate::spec::regs::stall_model::STALL_AND_TERMINATE);
        cfg.idr0 = i0.0;
        let mut r = Rig::new(cfg);
        let mut s_cr0 = crate::spec::regs::Cr0(0);
        s_cr0.set_nsstalld(nsstalld);
        r.smmu.bank_mut(SecSid::Secure).cr0ack = s_cr0.0;
        let root = r.alloc_table();
        r.map(root, IOVA, DATA | S1_RW);
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_s1stalld(s1stalld);
        r.write_ste(SID, &ste);
        let mut c = cd(root);
        c.bits_mut().set_s(cd_s);
        r.write_cd(CD_ADDR, &c);
        r
    }

    #[test]
    fn non_secure_ste_with_s1stalld_translates_while_the_stall_model_is_available() {
        let mut r = stall_rig(false, true, false);
        assert_eq!(r.run(&read(SID, IOVA)).map(|t| t.pa), Ok(DATA | 0x567));
    }

    #[test]
    fn s_cr0_nsstalld_makes_a_non_secure_ste_with_s1stalld_c_bad_ste() {
        // §6.3.57.1: with NSSTALLD, stall configuration renders Non-secure STEs ILLEGAL.
        let mut r = stall_rig(true, true, false);
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::C_BAD_STE)));
        assert_eq!(r.notes(), vec!["C_BAD_STE: STE-S1STALLD".to_string()]);
    }

    #[test]
    fn non_secure_stalling_cd_translates_while_the_stall_model_is_available() {
        let mut r = stall_rig(false, false, true);
        assert_eq!(r.run(&read(SID, IOVA)).map(|t| t.pa), Ok(DATA | 0x567));
    }

    #[test]
    fn s_cr0_nsstalld_makes_a_non_secure_stalling_cd_c_bad_cd() {
        let mut r = stall_rig(true, false, true);
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::C_BAD_CD)));
        assert_eq!(r.notes(), vec!["C_BAD_CD: CD-S-NOSTALL".to_string()]);
    }

    #[test]
    fn ssid_on_stream_without_substreams_records_c_bad_substreamid_without_ssv() {
        let (mut r, _) = s1_rig(S1_RW);
        let txn = Txn { ssid: Some(5), ..read(SID, IOVA) };
        assert_eq!(r.run(&txn), Err(fault(id::C_BAD_SUBSTREAMID)));
        let e = r.event();
        assert_eq!(bits(&e).substream_id(), 5);
        assert!(!bits(&e).ssv());
        assert_eq!(bits(&e).stream_id(), u64::from(SID));
    }

    /// A stage-1 rig with substreams: SSIDSIZE 20, S1CDMax 2, linear CD table.
    fn substream_rig(dss: u64) -> Rig {
        let mut r = Rig::new(SmmuConfig::full());
        let root = r.alloc_table();
        r.map(root, IOVA, DATA | S1_RW);
        let mut ste = ste_s1(CD_ADDR & !0xff);
        ste.bits_mut().set_s1cdmax(2);
        ste.bits_mut().set_s1dss(dss);
        r.write_ste(SID, &ste);
        for i in 0..4 {
            r.write_cd((CD_ADDR & !0xff) + 64 * i, &cd(root));
        }
        r
    }

    #[test]
    fn transaction_without_ssid_on_s1dss_terminate_records_f_stream_disabled() {
        let mut r = substream_rig(0b00);
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::F_STREAM_DISABLED)));
        assert_eq!(words(&r.event()), [0x0000_0008_0000_0006, 0, 0, 0]);
    }

    #[test]
    fn ssid_selects_its_cd_and_is_recorded_with_ssv() {
        let mut r = substream_rig(0b00);
        // CD 3 has R=0... make CD 3 invalid instead to see its SubstreamID in C_BAD_CD.
        r.write_cd((CD_ADDR & !0xff) + 64 * 3, &Cd::default());
        let txn = Txn { ssid: Some(3), ..read(SID, IOVA) };
        assert_eq!(r.run(&txn), Err(fault(id::C_BAD_CD)));
        let e = r.event();
        assert!(bits(&e).ssv());
        assert_eq!(bits(&e).substream_id(), 3);
        let txn = Txn { ssid: Some(2), ..read(SID, IOVA) };
        assert!(r.run(&txn).is_ok());
    }

    #[test]
    fn s1dss_bypass_skips_stage1_for_transactions_without_ssid() {
        let mut r = substream_rig(0b01);
        let out = r.run(&read(SID, 0x4321_0000)).unwrap();
        assert_eq!(out.pa, 0x4321_0000);
        assert!(
            r.trace
                .events
                .iter()
                .all(|e| !matches!(e, TraceEvent::Fetch { kind: FetchKind::Cd, .. }))
        );
    }

    #[test]
    fn s1dss_substream0_uses_cd_0_and_reserves_ssid_0() {
        let mut r = substream_rig(0b10);
        assert!(r.run(&read(SID, IOVA)).is_ok());
        let txn = Txn { ssid: Some(0), ..read(SID, IOVA) };
        assert_eq!(r.run(&txn), Err(fault(id::F_STREAM_DISABLED)));
    }

    #[test]
    fn stage2_only_translates_ipa() {
        let mut r = Rig::qemu();
        let root = r.alloc_table();
        r.map(root, IOVA, DATA | S2_RW);
        r.write_ste(SID, &ste_s2(root));
        let out = r.run(&write(SID, IOVA)).unwrap();
        assert_eq!(out.pa, DATA | 0x567);
    }

    #[test]
    fn stage2_only_input_beyond_ias_is_stage1_addr_size_fault() {
        let mut r = Rig::qemu();
        let root = r.alloc_table();
        r.write_ste(SID, &ste_s2(root));
        let iova = 1u64 << 44;
        assert_eq!(r.run(&read(SID, iova)), Err(fault(id::F_ADDR_SIZE)));
        let e = r.event();
        assert!(!bits(&e).s2());
        assert_eq!(bits(&e).class(), class::IN);
        assert_eq!(bits(&e).input_addr(), iova);
    }

    #[test]
    fn nested_cd_ipa_fault_is_stage2_with_class_cd_and_cd_ipa() {
        let mut r = Rig::qemu();
        let s2root = r.alloc_table();
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_config(config::NESTED);
        set_s2(&mut ste, s2root);
        r.write_ste(SID, &ste);
        assert_eq!(r.run(&read(SID, IOVA)), Err(fault(id::F_TRANSLATION)));
        let e = r.event();
        assert!(bits(&e).s2());
        assert_eq!(bits(&e).class(), class::CD);
        assert_eq!(bits(&e).addr2(), CD_ADDR & !0xfff);
        assert_eq!(bits(&e).input_addr(), IOVA);
    }

    #[test]
    fn nested_translation_goes_through_both_stages() {
        let mut r = Rig::qemu();
        let s2root = r.alloc_table();
        let s1root = r.alloc_table();
        // Stage 2 identity for the CD page, the stage-1 tables and the data page.
        r.map(s2root, CD_ADDR, (CD_ADDR & !0xfff) | S2_RW);
        r.map(s1root, IOVA, 0x4100_0000 | S1_RW);
        for t in (PT_POOL..PT_POOL + 0x10000).step_by(0x1000) {
            r.map(s2root, t, t | S2_RW);
        }
        r.map(s2root, 0x4100_0000, DATA | S2_RW);
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_config(config::NESTED);
        set_s2(&mut ste, s2root);
        r.write_ste(SID, &ste);
        r.write_cd(CD_ADDR, &cd(s1root));
        let out = r.run(&read(SID, IOVA)).unwrap();
        assert_eq!(out.pa, DATA | 0x567);
    }

    #[test]
    fn event_carries_pnu_ind_rnw_of_the_transaction() {
        let (mut r, _) = s1_rig(S1_RW);
        let txn = Txn { pnu: true, ind: true, ..read(SID, IOVA + 0x1000) };
        r.run(&txn).unwrap_err();
        let e = r.event();
        assert!(bits(&e).pnu() && bits(&e).ind() && bits(&e).rnw());
    }

    #[test]
    fn event_reports_ind_0_for_writes() {
        let (mut r, _) = s1_rig(S1_RW);
        let txn = Txn { ind: true, ..write(SID, IOVA + 0x1000) };
        r.run(&txn).unwrap_err();
        assert!(!bits(&r.event()).ind());
    }

    #[test]
    fn privcfg_overrides_pnu_when_attr_perms_ovr_is_advertised() {
        let mut cfg = SmmuConfig::qemu_virt();
        let mut i1 = cfg.idr1();
        i1.set_attr_perms_ovr(true);
        cfg.idr1 = i1.0;
        let mut r = Rig::new(cfg);
        let root = r.alloc_table();
        r.map(root, IOVA, DATA | S1_RW);
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_privcfg(0b11);
        r.write_ste(SID, &ste);
        r.write_cd(CD_ADDR, &cd(root));
        r.run(&read(SID, IOVA + 0x1000)).unwrap_err();
        assert!(bits(&r.event()).pnu());
    }

    #[test]
    fn privcfg_is_ignored_without_attr_perms_ovr() {
        let (mut r, _) = s1_rig(S1_RW);
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_privcfg(0b11);
        r.write_ste(SID, &ste);
        r.run(&read(SID, IOVA + 0x1000)).unwrap_err();
        assert!(!bits(&r.event()).pnu());
    }

    #[test]
    fn successful_translation_traces_dma_fetches_and_output_in_order() {
        let (mut r, _) = s1_rig(S1_RW);
        r.run(&read(SID, IOVA)).unwrap();
        let ev = &r.trace.events;
        assert!(matches!(ev.first(), Some(TraceEvent::Dma(t)) if t.iova == IOVA));
        let kinds: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Fetch { kind, addr, .. } => Some((*kind, *addr)),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, vec![(FetchKind::Ste, STRTAB + 8 * 64), (FetchKind::Cd, CD_ADDR)]);
        assert!(matches!(ev.last(), Some(TraceEvent::Output { pa, .. }) if *pa == DATA | 0x567));
    }

    #[test]
    fn aborted_translation_traces_rule_event_and_abort() {
        let mut r = Rig::qemu();
        r.run(&read(SID, IOVA)).unwrap_err();
        assert_eq!(r.notes(), vec!["C_BAD_STE: STE-V".to_string()]);
        let ev = &r.trace.events;
        assert!(
            ev.iter().any(|e| matches!(e, TraceEvent::Event { addr: Some(a), .. } if *a == EVENTQ))
        );
        assert!(matches!(
            ev.last(),
            Some(TraceEvent::Abort { reason: "C_BAD_STE", event: Some(id::C_BAD_STE) })
        ));
    }

    #[test]
    fn recorded_fault_pulses_eventq_irq_when_enabled() {
        let mut r = Rig::qemu();
        let mut irq = IrqCtrl(0);
        irq.set_eventq_irqen(true);
        r.smmu.bank_mut(SecSid::NonSecure).irq_ctrlack = irq.0;
        r.run(&read(SID, IOVA)).unwrap_err();
        assert_eq!(r.smmu.take_irqs(), vec![crate::irq::NS_EVENTQ]);
    }

    #[test]
    fn two_level_stream_table_finds_the_ste() {
        let (mut r, _) = s1_rig(S1_RW);
        // SPLIT 6, LOG2SIZE 16; SID 0x48 -> L1STD 1, STE 8 of a 16-entry L2 (Span 5).
        let l1 = 0x4e20_0000;
        let l2 = 0x4e21_0000;
        let b = r.smmu.bank_mut(SecSid::NonSecure);
        b.strtab_base = l1;
        b.strtab_base_cfg = two_level_cfg(6, 16);
        r.write_u64(l1 + 8, l2 | 5);
        let ste = ste_s1(CD_ADDR);
        crate::mem::write_obj(&mut r.mem, l2 + 8 * 64, Pas::NonSecure, &ste).unwrap();
        let out = r.run(&read(0x48, IOVA)).unwrap();
        assert_eq!(out.pa, DATA | 0x567);
    }

    // ---- EL2 StreamWorlds (IHI 0070 §3.3.3, §3.3.4, §3.17, §5.2 STRW, §5.4) ----

    /// The full preset (IDR0.Hyp) with CR2.E2H = `e2h`, and a stage-1 stream of StreamWorld
    /// `strw` mapping IOVA to DATA with `leaf_attrs` through TTB0; `edit` adjusts the CD.
    fn world_rig(strw: u64, e2h: bool, leaf_attrs: u64, edit: impl Fn(&mut Cd)) -> Rig {
        let mut r = Rig::new(SmmuConfig::full());
        let mut cr2 = crate::spec::regs::Cr2(r.smmu.bank(SecSid::NonSecure).cr2);
        cr2.set_e2h(e2h);
        r.smmu.bank_mut(SecSid::NonSecure).cr2 = cr2.0;
        let root = r.alloc_table();
        r.map(root, IOVA, DATA | leaf_attrs);
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_strw(strw);
        r.write_ste(SID, &ste);
        let mut c = cd(root);
        edit(&mut c);
        r.write_cd(CD_ADDR, &c);
        r
    }

    const EL1: u64 = crate::spec::ste::strw::EL1;
    const EL2: u64 = crate::spec::ste::strw::EL2;
    /// Stage-1 page: AF, SH=11, AP=00 (read/write for privileged accesses only), valid page.
    const S1_PRIV_RW: u64 = 0x723;

    fn unprivileged_write_outcome(strw: u64, e2h: bool) -> Result<u64, Option<u8>> {
        let mut r = world_rig(strw, e2h, S1_PRIV_RW, |_| {});
        r.run(&write(SID, IOVA)).map(|t| t.pa).map_err(|a| a.event)
    }

    #[test]
    fn el2_stream_ignores_privilege_so_an_unprivileged_write_reaches_an_ap_00_page() {
        assert_eq!(unprivileged_write_outcome(EL2, false), Ok(DATA | 0x567));
    }

    #[test]
    fn el1_and_el2_e2h_streams_check_privilege_on_an_ap_00_page() {
        assert_eq!(unprivileged_write_outcome(EL1, false), Err(Some(id::F_PERMISSION)));
        assert_eq!(unprivileged_write_outcome(EL2, true), Err(Some(id::F_PERMISSION)));
    }

    #[test]
    fn strw_el2_without_hyp_is_el1() {
        let mut r = world_rig(EL2, false, S1_PRIV_RW, |_| {});
        r.smmu.cfg = SmmuConfig::qemu_virt();
        let out = r.run(&write(SID, IOVA));
        assert_eq!(out.map_err(|a| a.event), Err(Some(id::F_PERMISSION)));
    }

    /// The TLB entries of the regime `el`, as (asid, vmid).
    fn entries_of(r: &Rig, el: El) -> Vec<(Option<u16>, Option<u16>)> {
        r.smmu.tlb.entries().filter(|e| e.regime.el == el).map(|e| (e.asid, e.vmid)).collect()
    }

    #[test]
    fn el2_entries_have_no_asid_and_no_vmid() {
        let mut r = world_rig(EL2, false, S1_RW | (1 << 11), |c| c.bits_mut().set_asid(0x77));
        r.run(&read(SID, IOVA)).unwrap();
        assert_eq!(entries_of(&r, El::El2), vec![(None, None)]);
    }

    #[test]
    fn el2_e2h_entries_have_the_cd_asid_when_non_global_and_no_vmid() {
        let mut r = world_rig(EL2, true, S1_RW | (1 << 11), |c| c.bits_mut().set_asid(0x77));
        r.run(&read(SID, IOVA)).unwrap();
        assert_eq!(entries_of(&r, El::El2E2h), vec![(Some(0x77), None)]);
    }

    #[test]
    fn el2_e2h_global_entries_have_no_asid() {
        let mut r = world_rig(EL2, true, S1_RW, |c| c.bits_mut().set_asid(0x77));
        r.run(&read(SID, IOVA)).unwrap();
        assert_eq!(entries_of(&r, El::El2E2h), vec![(None, None)]);
    }

    #[test]
    fn el1_entries_of_the_full_preset_carry_the_vmid() {
        let mut r = world_rig(EL1, false, S1_RW | (1 << 11), |_| {});
        r.run(&read(SID, IOVA)).unwrap();
        assert_eq!(entries_of(&r, El::El1), vec![(Some(0x1e), Some(0))]);
    }

    const UPPER: u64 = 0xffff_8080_8060_4567;

    /// A CD with TTB1 enabled (T1SZ 16, 4 KiB) over tables mapping UPPER to DATA.
    fn with_ttb1(r: &mut Rig) {
        let root1 = r.alloc_table();
        r.map(root1, UPPER, DATA | S1_RW);
        let mut c: Cd = crate::mem::read_obj(&mut r.mem, CD_ADDR, Pas::NonSecure).unwrap();
        let mut b = c.bits_mut();
        b.set_epd1(false);
        b.set_t1sz(16);
        b.set_tg1(crate::spec::cd::tg1::G4K);
        b.set_ttb1(root1 >> 4);
        r.write_cd(CD_ADDR, &c);
    }

    #[test]
    fn el2_e2h_stream_translates_ttb1_addresses() {
        let mut r = world_rig(EL2, true, S1_RW, |_| {});
        with_ttb1(&mut r);
        assert_eq!(r.run(&read(SID, UPPER)).map(|t| t.pa), Ok(DATA | 0x567));
    }

    #[test]
    fn el2_stream_has_one_va_range_and_never_walks_ttb1() {
        let mut r = world_rig(EL2, false, S1_RW, |_| {});
        with_ttb1(&mut r);
        assert_eq!(r.run(&read(SID, UPPER)).map_err(|a| a.event), Err(Some(id::F_TRANSLATION)));
        assert!(!r.trace.events.iter().any(|e| matches!(e, TraceEvent::WalkStep { .. })));
    }

    #[test]
    fn el2_stream_ignores_epd0() {
        let mut r = world_rig(EL2, false, S1_RW, |c| c.bits_mut().set_epd0(true));
        assert_eq!(r.run(&read(SID, IOVA)).map(|t| t.pa), Ok(DATA | 0x567));
        let mut r = world_rig(EL2, true, S1_RW, |c| c.bits_mut().set_epd0(true));
        assert_eq!(r.run(&read(SID, IOVA)).map_err(|a| a.event), Err(Some(id::F_TRANSLATION)));
    }

    #[test]
    fn el2_stream_ignores_pan() {
        let mut r = world_rig(EL2, false, S1_RW, |c| c.bits_mut().set_pan(true));
        let txn = Txn { pnu: true, ..read(SID, IOVA) };
        assert_eq!(r.run(&txn).map(|t| t.pa), Ok(DATA | 0x567));
        let mut r = world_rig(EL2, true, S1_RW, |c| c.bits_mut().set_pan(true));
        assert_eq!(r.run(&txn).map_err(|a| a.event), Err(Some(id::F_PERMISSION)));
    }

    #[test]
    fn el2_stream_serves_both_privileges_from_one_walk() {
        let mut r = world_rig(EL2, false, S1_RW, |_| {});
        r.run(&read(SID, IOVA)).unwrap();
        r.trace.events.clear();
        r.run(&Txn { pnu: true, ..read(SID, IOVA) }).unwrap();
        assert!(!r.trace.events.iter().any(|e| matches!(e, TraceEvent::WalkStep { .. })));
    }

    #[test]
    fn el2_permission_fault_records_the_transaction_pnu() {
        let mut r = world_rig(EL2, false, S1_RO, |_| {});
        let txn = Txn { pnu: true, ..write(SID, IOVA) };
        assert_eq!(r.run(&txn).map_err(|a| a.event), Err(Some(id::F_PERMISSION)));
        let rec = r.event();
        assert!(bits(&rec).pnu() && !bits(&rec).rnw());
    }
}
