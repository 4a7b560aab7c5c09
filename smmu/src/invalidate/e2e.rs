//! End to end: tables and structures in memory, translations through `Smmu::translate`, and
//! invalidations issued through the command queue and completed by a CMD_SYNC.
//!
//! Each scope test translates, changes the tables (or the STE/CD) without invalidating, checks
//! that the stale result survives (fresh under `never`), that a command of the wrong scope
//! leaves it, and that the right command removes it, under every cache policy.

use crate::mem::{PhysMem, SparseMem};
use crate::pas::Pas;
use crate::spec::cmd::{Cmd, TlbiRange, cs, tlbi_tg};
use crate::spec::desc::Desc;
use crate::spec::regs::{Cr0, S_OFFSET, SInit, gerror, off};
use crate::spec::ste::{Ste, config};
use crate::trace::{NoTrace, TraceEvent};
use crate::translate::rig::*;
use crate::{AbortReason, CachePolicy, SecSid, SmmuConfig, Translation, Txn};

const SID: u32 = 8;
const ASID: u16 = 0x1e;
const CMDQ: u64 = 0x4e16_0000;
const CMDQ_LOG2SIZE: u64 = 4;
const DATA2: u64 = 0x4ecc_0000;
const POLICIES: [CachePolicy; 3] = [CachePolicy::Normal, CachePolicy::Never, CachePolicy::Sticky];
/// The page of `IOVA`.
const PAGE: u64 = IOVA & !0xfff;

/// Physical memory that counts reads.
struct Counting<'a> {
    mem: &'a mut SparseMem,
    reads: usize,
}

impl PhysMem for Counting<'_> {
    fn read(&mut self, pa: u64, pas: Pas, buf: &mut [u8]) -> Result<(), crate::BusError> {
        self.reads += 1;
        self.mem.read(pa, pas, buf)
    }
    fn write(&mut self, pa: u64, pas: Pas, buf: &[u8]) -> Result<(), crate::BusError> {
        self.mem.write(pa, pas, buf)
    }
}

/// A rig with the policy and an enabled Non-secure command queue.
fn rig(policy: CachePolicy) -> Rig {
    rig_with(SmmuConfig { cache_policy: policy, ..SmmuConfig::qemu_virt() })
}

/// A rig of the configuration with an enabled Non-secure command queue.
fn rig_with(cfg: SmmuConfig) -> Rig {
    let mut r = Rig::new(cfg);
    let b = r.smmu.bank_mut(SecSid::NonSecure);
    let mut cr0 = Cr0(b.cr0);
    cr0.set_cmdqen(true);
    b.cr0 = cr0.0;
    b.cr0ack = cr0.0;
    b.cmdq.base = queue_base(CMDQ, CMDQ_LOG2SIZE);
    r
}

/// Issues `cmds` and a CMD_SYNC through the command queue and checks they were all consumed.
fn issue(r: &mut Rig, cmds: &[Cmd]) {
    let slots = 1u32 << CMDQ_LOG2SIZE;
    let mut prod = r.smmu.bank(SecSid::NonSecure).cmdq.prod;
    for cmd in cmds.iter().chain([&Cmd::sync(cs::SIG_NONE, 0, 0, 0)]) {
        let slot = CMDQ + 16 * u64::from(prod & (slots - 1));
        crate::mem::write_obj(&mut r.mem, slot, Pas::NonSecure, cmd).unwrap();
        prod = (prod + 1) & (2 * slots - 1);
    }
    r.smmu
        .mmio_write(off::CMDQ_PROD, 4, u64::from(prod), Pas::NonSecure, &mut r.mem, &mut r.trace)
        .unwrap();
    let b = r.smmu.bank(SecSid::NonSecure);
    assert_eq!(b.cmdq.cons, prod, "commands not all consumed (CONS.ERR?)");
    assert_eq!(b.active_gerrors() & gerror::CMDQ_ERR, 0);
}

/// What a read of `txn` gives: the PA, or why it aborted.
fn outcome(r: &mut Rig, txn: &Txn) -> Result<u64, AbortReason> {
    r.run(txn).map(|t| t.pa).map_err(|a| a.reason)
}

/// Translates with `NoTrace` and counts memory reads.
fn counted(r: &mut Rig, txn: &Txn) -> (Result<Translation, crate::Abort>, usize) {
    let mut m = Counting { mem: &mut r.mem, reads: 0 };
    let res = r.smmu.translate(txn, &mut m, &mut NoTrace);
    (res, m.reads)
}

/// The scope protocol: `old` before `change`; stale (`old`) after it until `right`, whatever
/// `wrong` does, except under `never` (`new` at once); `new` after `right`.
fn stale_until_right_command(
    setup: impl Fn(&mut Rig) -> Txn,
    change: impl Fn(&mut Rig),
    old: Result<u64, AbortReason>,
    new: Result<u64, AbortReason>,
    wrong: &[Cmd],
    right: &[Cmd],
) {
    stale_until_right_command_in(rig, setup, change, old, new, wrong, right)
}

/// [`stale_until_right_command`] on the rigs `make` builds for each policy.
fn stale_until_right_command_in(
    make: impl Fn(CachePolicy) -> Rig,
    setup: impl Fn(&mut Rig) -> Txn,
    change: impl Fn(&mut Rig),
    old: Result<u64, AbortReason>,
    new: Result<u64, AbortReason>,
    wrong: &[Cmd],
    right: &[Cmd],
) {
    for policy in POLICIES {
        let mut r = make(policy);
        let txn = setup(&mut r);
        assert_eq!(outcome(&mut r, &txn), old, "{policy:?}: before the change");
        change(&mut r);
        let cached = if policy == CachePolicy::Never { new } else { old };

        assert_eq!(outcome(&mut r, &txn), cached, "{policy:?}: after the change");
        issue(&mut r, wrong);
        assert_eq!(outcome(&mut r, &txn), cached, "{policy:?}: after {wrong:?}");
        issue(&mut r, right);
        assert_eq!(outcome(&mut r, &txn), new, "{policy:?}: after {right:?}");
    }
}

/// A stage-1 page descriptor's attributes: `S1_RW`, non-global (nG) or global.
fn s1_attrs(ng: bool) -> u64 {
    let mut d = Desc(S1_RW);
    d.set_ng(ng);
    d.raw()
}

/// Stage 1 only: IOVA -> DATA (non-global), STE.S2VMID = `vmid`. Returns the table root.
fn s1_stream(r: &mut Rig, vmid: u16) -> u64 {
    let root = r.alloc_table();
    r.map(root, IOVA, DATA | s1_attrs(true));
    let mut ste = ste_s1(CD_ADDR);
    ste.bits_mut().set_s2vmid(u64::from(vmid));
    r.write_ste(SID, &ste);
    r.write_cd(CD_ADDR, &cd(root));
    root
}

/// Remaps the page of IOVA to DATA2 in the stage-1 tables at `root`.
fn remap(r: &mut Rig, root: u64) {
    r.map(root, IOVA, DATA2 | s1_attrs(true));
}

fn s1_setup(vmid: u16) -> impl Fn(&mut Rig) -> Txn {
    move |r| {
        let root = s1_stream(r, vmid);
        assert_eq!(root, PT_POOL, "the remap below assumes the first table");
        read(SID, IOVA)
    }
}

fn s1_remap(r: &mut Rig) {
    remap(r, PT_POOL);
}

const OFF: u64 = IOVA & 0xfff;
const OLD: Result<u64, AbortReason> = Ok(DATA | OFF);
const NEW: Result<u64, AbortReason> = Ok(DATA2 | OFF);

/// A range TLBI_NH_VA (TG = 4K) of `(num + 1) << scale` pages from `addr`.
fn nh_va_range(asid: u16, addr: u64, num: u8, scale: u8) -> Cmd {
    Cmd::tlbi_nh_va(0, asid, addr, true).with_range(TlbiRange {
        num,
        scale,
        tg: tlbi_tg::G4K as u8,
        ttl: 0,
        ttl128: false,
    })
}

// ---- TLB scopes ----

#[test]
fn stale_translation_survives_until_tlbi_nh_asid_of_its_asid() {
    stale_until_right_command(
        s1_setup(0),
        s1_remap,
        OLD,
        NEW,
        &[Cmd::tlbi_nh_asid(0, ASID + 1), Cmd::tlbi_nh_asid(1, ASID)],
        &[Cmd::tlbi_nh_asid(0, ASID)],
    );
}

#[test]
fn stale_global_translation_survives_tlbi_nh_asid_until_a_va_invalidation_of_any_asid() {
    let setup = |r: &mut Rig| {
        let root = s1_stream(r, 0);
        r.map(root, IOVA, DATA | s1_attrs(false));
        read(SID, IOVA)
    };
    stale_until_right_command(
        setup,
        |r| r.map(PT_POOL, IOVA, DATA2 | s1_attrs(false)),
        OLD,
        NEW,
        &[Cmd::tlbi_nh_asid(0, ASID)],
        &[Cmd::tlbi_nh_va(0, ASID + 1, IOVA, true)],
    );
}

#[test]
fn stale_translation_survives_until_tlbi_nh_all_of_its_vmid() {
    stale_until_right_command(
        s1_setup(3),
        s1_remap,
        OLD,
        NEW,
        &[Cmd::tlbi_nh_all(4), Cmd::tlbi_s12_vmall(2)],
        &[Cmd::tlbi_nh_all(3)],
    );
}

#[test]
fn stale_translation_survives_until_tlbi_s12_vmall_of_its_vmid() {
    stale_until_right_command(
        s1_setup(3),
        s1_remap,
        OLD,
        NEW,
        &[Cmd::tlbi_s12_vmall(4)],
        &[Cmd::tlbi_s12_vmall(3)],
    );
}

#[test]
fn stale_translation_survives_until_a_va_range_covers_its_page() {
    stale_until_right_command(
        s1_setup(0),
        s1_remap,
        OLD,
        NEW,
        &[
            // (2 + 1) * 2^1 = 6 pages ending just below the page.
            nh_va_range(ASID, PAGE - 6 * 0x1000, 2, 1),
            // 32 pages starting just above it.
            nh_va_range(ASID, PAGE + 0x1000, 0, 5),
            // The right pages, another ASID.
            nh_va_range(ASID + 1, PAGE - 4 * 0x1000, 4, 0),
        ],
        // (4 + 1) * 2^0 = 5 pages, the last one being the page.
        &[nh_va_range(ASID, PAGE - 4 * 0x1000, 4, 0)],
    );
}

#[test]
fn stale_translation_survives_until_tlbi_nh_va_or_vaa_of_its_address() {
    stale_until_right_command(
        s1_setup(0),
        s1_remap,
        OLD,
        NEW,
        &[Cmd::tlbi_nh_va(0, ASID, PAGE + 0x1000, false)],
        &[Cmd::tlbi_nh_va(0, ASID, IOVA, true)],
    );
    stale_until_right_command(
        s1_setup(0),
        s1_remap,
        OLD,
        NEW,
        &[Cmd::tlbi_nh_vaa(0, PAGE - 0x1000, false)],
        &[Cmd::tlbi_nh_vaa(0, PAGE, false)],
    );
}

/// Stage 2 only: IPA IOVA -> DATA, VMID 5. Returns the table root.
fn s2_setup(r: &mut Rig) -> Txn {
    let root = r.alloc_table();
    r.map(root, IOVA, DATA | S2_RW);
    let mut ste = ste_s2(root);
    ste.bits_mut().set_s2vmid(5);
    r.write_ste(SID, &ste);
    read(SID, IOVA)
}

#[test]
fn stale_stage2_translation_survives_until_tlbi_s2_ipa_of_its_ipa_and_vmid() {
    stale_until_right_command(
        s2_setup,
        |r| r.map(PT_POOL, IOVA, DATA2 | S2_RW),
        OLD,
        NEW,
        &[
            Cmd::tlbi_s2_ipa(5, PAGE + 0x1000, true),
            Cmd::tlbi_s2_ipa(6, PAGE, true),
            Cmd::tlbi_nh_all(5),
        ],
        &[Cmd::tlbi_s2_ipa(5, PAGE, true)],
    );
}

#[test]
fn stale_nested_translation_survives_tlbi_s2_ipa_until_a_stage_1_invalidation() {
    // Nested: stage 1 maps IOVA -> IPA 0x4c00_0000, stage 2 identity-maps the tables and maps
    // that IPA to DATA; the change remaps the IPA to DATA2 at stage 2.
    const IPA: u64 = 0x4c00_0000;
    let setup = |r: &mut Rig| {
        let s1_root = r.alloc_table();
        r.map(s1_root, IOVA, IPA | S1_RW);
        let s2_root = r.alloc_table();
        assert_eq!(s2_root, PT_POOL + 0x4000);
        for page in [s1_root, PT_POOL + 0x1000, PT_POOL + 0x2000, PT_POOL + 0x3000, CD_ADDR] {
            r.map(s2_root, page, (page & !0xfff) | S2_RW);
        }
        r.map(s2_root, IPA, DATA | S2_RW);
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_config(config::NESTED);
        set_s2(&mut ste, s2_root);
        ste.bits_mut().set_s2vmid(5);
        r.write_ste(SID, &ste);
        r.write_cd(CD_ADDR, &cd(s1_root));
        read(SID, IOVA)
    };
    stale_until_right_command(
        setup,
        |r| r.map(PT_POOL + 0x4000, IPA, DATA2 | S2_RW),
        OLD,
        NEW,
        &[Cmd::tlbi_s2_ipa(5, IPA, true)],
        &[Cmd::tlbi_nh_vaa(5, PAGE, false)],
    );
}

// ---- EL2 StreamWorlds (IHI 0070 §4.4.2.7-10, §4.4.4.1) ----

/// The full preset (IDR0.Hyp) under `policy`, with CR2.E2H = `e2h`.
fn hyp_rig(e2h: bool) -> impl Fn(CachePolicy) -> Rig {
    move |policy| {
        let mut r = rig_with(SmmuConfig { cache_policy: policy, ..SmmuConfig::full() });
        let b = r.smmu.bank_mut(SecSid::NonSecure);
        let mut cr2 = crate::spec::regs::Cr2(b.cr2);
        cr2.set_e2h(e2h);
        b.cr2 = cr2.0;
        r
    }
}

/// A StreamWorld EL2 (or EL2-E2H, per CR2.E2H) stream: STE.STRW = 0b10, IOVA -> DATA with nG
/// = `ng`, CD.ASID = ASID.
fn el2_setup(ng: bool) -> impl Fn(&mut Rig) -> Txn {
    move |r| {
        let root = r.alloc_table();
        assert_eq!(root, PT_POOL, "the remap assumes the first table");
        r.map(root, IOVA, DATA | s1_attrs(ng));
        let mut ste = ste_s1(CD_ADDR);
        ste.bits_mut().set_strw(crate::spec::ste::strw::EL2);
        r.write_ste(SID, &ste);
        r.write_cd(CD_ADDR, &cd(root));
        read(SID, IOVA)
    }
}

/// Every EL1 TLB invalidation, of the stream's ASID, address and VMID 0 where they have one.
fn el1_commands() -> Vec<Cmd> {
    vec![
        Cmd::tlbi_nh_all(0),
        Cmd::tlbi_nh_asid(0, ASID),
        Cmd::tlbi_nh_va(0, ASID, PAGE, false),
        Cmd::tlbi_nh_vaa(0, PAGE, false),
        Cmd::tlbi_s12_vmall(0),
        Cmd::tlbi_s2_ipa(0, PAGE, false),
        Cmd::tlbi_nsnh_all(),
    ]
}

#[test]
fn stale_el2_translation_survives_el1_and_el2_asid_commands_until_tlbi_el2_va_of_any_asid() {
    let mut wrong = el1_commands();
    wrong.extend([Cmd::tlbi_el2_asid(ASID), Cmd::tlbi_el2_va(ASID, PAGE + 0x1000, false)]);
    stale_until_right_command_in(
        hyp_rig(false),
        el2_setup(true),
        s1_remap,
        OLD,
        NEW,
        &wrong,
        &[Cmd::tlbi_el2_va(ASID + 1, PAGE, false)],
    );
}

#[test]
fn stale_el2_translation_survives_until_tlbi_el2_vaa_or_el2_all() {
    for right in [Cmd::tlbi_el2_vaa(PAGE, true), Cmd::tlbi_el2_all()] {
        stale_until_right_command_in(
            hyp_rig(false),
            el2_setup(true),
            s1_remap,
            OLD,
            NEW,
            &[Cmd::tlbi_el2_vaa(PAGE + 0x1000, false)],
            &[right],
        );
    }
}

#[test]
fn stale_el2_e2h_translation_survives_other_asids_until_tlbi_el2_asid_or_va_of_its_asid() {
    let mut wrong = el1_commands();
    wrong.extend([
        Cmd::tlbi_el2_asid(ASID + 1),
        Cmd::tlbi_el2_va(ASID + 1, PAGE, false),
        Cmd::tlbi_el2_va(ASID, PAGE + 0x1000, false),
    ]);
    for right in [Cmd::tlbi_el2_asid(ASID), Cmd::tlbi_el2_va(ASID, PAGE, true)] {
        stale_until_right_command_in(
            hyp_rig(true),
            el2_setup(true),
            s1_remap,
            OLD,
            NEW,
            &wrong,
            &[right],
        );
    }
}

#[test]
fn stale_el2_e2h_translation_goes_with_tlbi_el2_vaa_or_el2_all() {
    for right in [Cmd::tlbi_el2_vaa(PAGE, false), Cmd::tlbi_el2_all()] {
        stale_until_right_command_in(
            hyp_rig(true),
            el2_setup(true),
            s1_remap,
            OLD,
            NEW,
            &[Cmd::tlbi_nsnh_all()],
            &[right],
        );
    }
}

#[test]
fn stale_global_el2_e2h_translation_survives_tlbi_el2_asid_until_tlbi_el2_va_of_any_asid() {
    stale_until_right_command_in(
        hyp_rig(true),
        el2_setup(false),
        s1_remap,
        OLD,
        NEW,
        &[Cmd::tlbi_el2_asid(ASID)],
        &[Cmd::tlbi_el2_va(ASID + 1, PAGE, false)],
    );
}

#[test]
fn stale_el1_translation_survives_el2_commands_until_tlbi_nh_all() {
    let el1_setup = |r: &mut Rig| {
        s1_stream(r, 0);
        read(SID, IOVA)
    };
    for e2h in [false, true] {
        stale_until_right_command_in(
            hyp_rig(e2h),
            el1_setup,
            s1_remap,
            OLD,
            NEW,
            &[
                Cmd::tlbi_el2_all(),
                Cmd::tlbi_el2_asid(ASID),
                Cmd::tlbi_el2_va(ASID, PAGE, false),
                Cmd::tlbi_el2_vaa(PAGE, false),
            ],
            &[Cmd::tlbi_nh_all(0)],
        );
    }
}

// ---- configuration scopes ----

fn ste_abort(r: &mut Rig) {
    let mut ste = Ste::default();
    ste.bits_mut().set_v(true);
    ste.bits_mut().set_config(config::ABORT);
    r.write_ste(SID, &ste);
}

#[test]
fn stale_ste_survives_until_cfgi_ste_range_covers_its_sid() {
    stale_until_right_command(
        s1_setup(0),
        ste_abort,
        OLD,
        Err(AbortReason::ConfigAbort),
        &[Cmd::cfgi_ste_range(0x10, 2), Cmd::cfgi_ste(9, true), Cmd::cfgi_ste_range(6, 0)],
        // 2^(1+1) StreamIDs from 0xa aligned down: 8..=11.
        &[Cmd::cfgi_ste_range(0xa, 1)],
    );
}

#[test]
fn stale_ste_survives_until_cfgi_ste_or_cfgi_all() {
    stale_until_right_command(
        s1_setup(0),
        ste_abort,
        OLD,
        Err(AbortReason::ConfigAbort),
        &[Cmd::tlbi_nsnh_all()],
        &[Cmd::cfgi_ste(SID, true)],
    );
    stale_until_right_command(
        s1_setup(0),
        ste_abort,
        OLD,
        Err(AbortReason::ConfigAbort),
        &[Cmd::cfgi_cd_all(SID + 1)],
        &[Cmd::cfgi_all()],
    );
}

#[test]
fn stale_cd_survives_until_cfgi_cd_of_its_substream() {
    let invalidate_cd = |r: &mut Rig| {
        let mut c = cd(PT_POOL);
        c.bits_mut().set_v(false);
        r.write_cd(CD_ADDR, &c);
    };
    stale_until_right_command(
        s1_setup(0),
        invalidate_cd,
        OLD,
        Err(AbortReason::Fault(crate::spec::event::id::C_BAD_CD)),
        &[Cmd::cfgi_cd(SID, 1, true), Cmd::cfgi_cd(SID + 1, 0, true)],
        &[Cmd::cfgi_cd(SID, 0, true)],
    );
}

// ---- warm path ----

#[test]
fn warm_translation_reads_no_memory_and_never_policy_walks_every_time() {
    for policy in POLICIES {
        let mut r = rig(policy);
        let txn = s1_setup(0)(&mut r);
        let (first, cold_reads) = counted(&mut r, &txn);

        let (second, warm_reads) = counted(&mut r, &txn);

        assert_eq!(first.unwrap().pa, DATA | OFF);
        assert_eq!(second.unwrap().pa, DATA | OFF);
        // STE, CD, 4 descriptors.
        assert_eq!(cold_reads, 6, "{policy:?}");
        let expected = if policy == CachePolicy::Never { 6 } else { 0 };
        assert_eq!(warm_reads, expected, "{policy:?}");
    }
}

#[test]
fn warm_translation_traces_a_tlb_hit_and_no_fetch() {
    let mut r = rig(CachePolicy::Normal);
    let txn = s1_setup(0)(&mut r);
    r.run(&txn).unwrap();
    r.trace.take();

    r.run(&read(SID, IOVA + 8)).unwrap();

    let ev = r.trace.take();
    assert!(ev.contains(&TraceEvent::TlbHit { sec_sid: SecSid::NonSecure, iova: IOVA + 8 }));
    assert!(
        !ev.iter().any(|e| matches!(e, TraceEvent::Fetch { .. } | TraceEvent::WalkStep { .. }))
    );
}

#[test]
fn tlbi_through_the_queue_traces_its_scope_and_what_it_removed() {
    let mut r = rig(CachePolicy::Normal);
    let txn = s1_setup(0)(&mut r);
    r.run(&txn).unwrap();
    r.trace.take();

    issue(&mut r, &[Cmd::tlbi_nh_asid(0, ASID)]);

    let inv: Vec<_> = r
        .trace
        .take()
        .into_iter()
        .filter(|e| matches!(e, TraceEvent::TlbInvalidate { .. }))
        .collect();
    assert_eq!(
        inv,
        [TraceEvent::TlbInvalidate {
            sec_sid: SecSid::NonSecure,
            scope: "CMD_TLBI_NH_ASID [el1 s1|nested vmid=0x0 asid=0x1e]".into(),
            removed: 1,
        }]
    );
}

#[test]
fn a_cached_translation_that_denies_the_access_walks_again() {
    for policy in POLICIES {
        let mut r = rig(policy);
        let root = r.alloc_table();
        r.map(root, IOVA, DATA | S1_RO);
        r.write_ste(SID, &ste_s1(CD_ADDR));
        r.write_cd(CD_ADDR, &cd(root));
        assert!(r.run(&read(SID, IOVA)).is_ok());
        // Made writable without an invalidation: the cached read-only entry does not allow the
        // write, the walk does.
        r.map(root, IOVA, DATA | S1_RW);

        let w = r.run(&write(SID, IOVA));

        assert_eq!(w.map(|t| t.perms.write), Ok(true), "{policy:?}");
    }
}

// ---- what empties the caches, and what does not ----

#[test]
fn reset_empties_both_caches() {
    let mut r = rig(CachePolicy::Sticky);
    let txn = s1_setup(0)(&mut r);
    r.run(&txn).unwrap();
    s1_remap(&mut r);

    r.smmu.reset();

    assert_eq!((r.smmu.tlb.len(), r.smmu.config_cache.len()), (0, 0));
}

#[test]
fn moving_the_stream_table_keeps_cached_configuration_except_under_never() {
    for policy in POLICIES {
        let mut r = rig(policy);
        let txn = s1_setup(0)(&mut r);
        r.run(&txn).unwrap();

        // An empty table elsewhere: every STE there is invalid.
        r.smmu.bank_mut(SecSid::NonSecure).strtab_base = STRTAB + 0x10_0000;
        let got = outcome(&mut r, &txn);

        let expected = match policy {
            CachePolicy::Never => Err(AbortReason::Fault(crate::spec::event::id::C_BAD_STE)),
            _ => OLD,
        };
        assert_eq!(got, expected, "{policy:?}");
    }
}

#[test]
fn s_init_inv_all_empties_both_caches() {
    let mut r = Rig::new(SmmuConfig { cache_policy: CachePolicy::Sticky, ..SmmuConfig::full() });
    let txn = s1_setup(0)(&mut r);
    r.run(&txn).unwrap();
    assert_eq!((r.smmu.tlb.len(), r.smmu.config_cache.len()), (1, 1));
    let mut init = SInit(0);
    init.set_inv_all(true);

    r.smmu
        .mmio_write(
            S_OFFSET + off::S_INIT,
            4,
            u64::from(init.0),
            Pas::Secure,
            &mut r.mem,
            &mut r.trace,
        )
        .unwrap();

    assert_eq!((r.smmu.tlb.len(), r.smmu.config_cache.len()), (0, 0));
}
