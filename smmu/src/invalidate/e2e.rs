//! End to end: tables and structures in memory, translations through `Smmu::translate`, and
//! invalidations issued through the command queue and completed by a CMD_SYNC.
//!
//! Each scope test translates, changes the tables (or the STE/CD) without invalidating, checks
//! that the stale result survives (fresh under `never`), that a command of the wrong scope
//! leaves it, and that the right command removes it, under every cache policy.

use crate::mem::{PhysMem, SparseMem};
use crate::pas::Pas;
use crate::spec::cmd::{Cmd, TlbiRange, cs, tlbi_tg};
use crate::spec::desc::{Desc, ap, s2ap};
use crate::spec::event::{EventRecord, class, id};
use crate::spec::regs::{Cr0, S_OFFSET, SInit, gerror, off};
use crate::spec::ste::{Ste, config};
use crate::trace::{NoTrace, TraceEvent};
use crate::translate::rig::*;
use crate::{Abort, AbortReason, CachePolicy, SecSid, SmmuConfig, Translation, Txn};

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
/// [`OLD`] as [`Smmu::translate`](crate::Smmu::translate) gives it.
const OLD_PA: Result<u64, Abort> = Ok(DATA | OFF);
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

/// The IPA stage 1 maps IOVA to in nested streams.
const IPA: u64 = 0x4c00_0000;
/// The stage-2 table root of [`nested_stream`].
const NESTED_S2_ROOT: u64 = PT_POOL + 0x4000;

/// Nested, VMID 5: stage 1 maps IOVA -> IPA with `s1_leaf` attributes, stage 2 identity-maps
/// the tables (read-write) and maps IPA to DATA with `s2_leaf` attributes. Returns the read.
fn nested_stream(r: &mut Rig, s1_leaf: u64, s2_leaf: u64) -> Txn {
    let s1_root = r.alloc_table();
    assert_eq!(s1_root, PT_POOL, "remaps assume the first table");
    r.map(s1_root, IOVA, IPA | s1_leaf);
    let s2_root = r.alloc_table();
    assert_eq!(s2_root, NESTED_S2_ROOT);
    for page in [s1_root, PT_POOL + 0x1000, PT_POOL + 0x2000, PT_POOL + 0x3000, CD_ADDR] {
        r.map(s2_root, page, (page & !0xfff) | S2_RW);
    }
    r.map(s2_root, IPA, DATA | s2_leaf);
    let mut ste = ste_s1(CD_ADDR);
    ste.bits_mut().set_config(config::NESTED);
    set_s2(&mut ste, s2_root);
    ste.bits_mut().set_s2vmid(5);
    r.write_ste(SID, &ste);
    r.write_cd(CD_ADDR, &cd(s1_root));
    read(SID, IOVA)
}

#[test]
fn stale_nested_translation_survives_tlbi_s2_ipa_until_a_stage_1_invalidation() {
    // The change remaps the IPA to DATA2 at stage 2.
    stale_until_right_command(
        |r| nested_stream(r, S1_RW, S2_RW),
        |r| r.map(NESTED_S2_ROOT, IPA, DATA2 | S2_RW),
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

// ---- permissions widened without invalidation (IHI 0070 §3.21.1) ----
//
// A page is read-only (at one stage or both) when a read fills the TLB, then software makes it
// writable without a TLBI. Under `sticky` the cached entry keeps denying the write: the
// Permission fault is the one a walk of the old tables gives, until the right TLBI and CMD_SYNC.
// Under `normal` the denied hit walks again (also allowed), and `never` always walks: the write
// succeeds at once.

/// CD.R and STE.S2R of a stream.
#[derive(Clone, Copy, Debug)]
struct Records {
    cd_r: bool,
    s2r: bool,
}

const RECORDED: Records = Records { cd_r: true, s2r: true };

/// A stage-1 page descriptor's attributes: AF, SH=11, non-global, AP[2:1] = `ap_bits`.
fn s1_page(ap_bits: u64) -> u64 {
    let mut d = Desc(S1_RW);
    d.set_ng(true);
    d.set_ap(ap_bits);
    d.raw()
}

/// A stage-2 page descriptor's attributes: AF, SH=11, normal memory, S2AP = `s2ap_bits`.
fn s2_page(s2ap_bits: u64) -> u64 {
    let mut d = Desc(S2_RW);
    d.set_s2ap(s2ap_bits);
    d.raw()
}

const S1_READ_ONLY: u64 = ap::EL0 | ap::RO;
const S1_READ_WRITE: u64 = ap::EL0;
const S2_READ_ONLY: u64 = s2ap::READ;
const S2_READ_WRITE: u64 = s2ap::READ | s2ap::WRITE;

/// A permission upgrade without invalidation.
struct Upgrade {
    /// Builds the stream with the page read-only where the scenario says; returns the read.
    setup: fn(&mut Rig, Records) -> Txn,
    /// Makes the page writable, without invalidating.
    upgrade: fn(&mut Rig),
    /// Commands that leave the cached entry.
    wrong: Vec<Cmd>,
    /// Commands that remove it.
    right: Vec<Cmd>,
}

/// Sets STE.S2R of STE SID when it has stage 2, and CD.R of the CD at CD_ADDR when it has
/// stage 1.
fn set_records(r: &mut Rig, rec: Records) {
    let ste_addr = STRTAB + 64 * u64::from(SID);
    let mut ste: Ste = crate::mem::read_obj(&mut r.mem, ste_addr, Pas::NonSecure).unwrap();
    let stages = ste.bits().config();
    if stages != config::S1_TRANS {
        ste.bits_mut().set_s2r(rec.s2r);
        r.write_ste(SID, &ste);
    }
    if stages != config::S2_TRANS {
        let mut c: crate::spec::cd::Cd =
            crate::mem::read_obj(&mut r.mem, CD_ADDR, Pas::NonSecure).unwrap();
        c.bits_mut().set_r(rec.cd_r);
        r.write_cd(CD_ADDR, &c);
    }
}

/// Stage 1 only: IOVA -> DATA read-only (non-global, ASID 0x1e, VMID 0).
fn s1_upgrade() -> Upgrade {
    Upgrade {
        setup: |r, rec| {
            let root = r.alloc_table();
            assert_eq!(root, PT_POOL, "the upgrade assumes the first table");
            r.map(root, IOVA, DATA | s1_page(S1_READ_ONLY));
            r.write_ste(SID, &ste_s1(CD_ADDR));
            r.write_cd(CD_ADDR, &cd(root));
            set_records(r, rec);
            read(SID, IOVA)
        },
        upgrade: |r| r.map(PT_POOL, IOVA, DATA | s1_page(S1_READ_WRITE)),
        wrong: vec![
            Cmd::tlbi_nh_va(0, ASID, PAGE + 0x1000, true),
            Cmd::tlbi_nh_asid(0, ASID + 1),
            Cmd::tlbi_s2_ipa(0, PAGE, false),
        ],
        right: vec![Cmd::tlbi_nh_va(0, ASID, PAGE, true)],
    }
}

/// Stage 2 only: IPA IOVA -> DATA read-only, VMID 5.
fn s2_upgrade() -> Upgrade {
    Upgrade {
        setup: |r, rec| {
            let root = r.alloc_table();
            assert_eq!(root, PT_POOL, "the upgrade assumes the first table");
            r.map(root, IOVA, DATA | s2_page(S2_READ_ONLY));
            let mut ste = ste_s2(root);
            ste.bits_mut().set_s2vmid(5);
            r.write_ste(SID, &ste);
            set_records(r, rec);
            read(SID, IOVA)
        },
        upgrade: |r| r.map(PT_POOL, IOVA, DATA | s2_page(S2_READ_WRITE)),
        wrong: vec![
            Cmd::tlbi_s2_ipa(5, PAGE + 0x1000, true),
            Cmd::tlbi_s2_ipa(6, PAGE, true),
            Cmd::tlbi_nh_all(5),
        ],
        right: vec![Cmd::tlbi_s2_ipa(5, PAGE, true)],
    }
}

/// Nested, stage 1 read-only (stage 2 read-write); the upgrade is at stage 1.
fn nested_s1_upgrade() -> Upgrade {
    Upgrade {
        setup: |r, rec| {
            let txn = nested_stream(r, S1_RO, S2_RW);
            set_records(r, rec);
            txn
        },
        upgrade: |r| r.map(PT_POOL, IOVA, IPA | S1_RW),
        wrong: vec![Cmd::tlbi_s2_ipa(5, IPA, true), Cmd::tlbi_nh_all(6)],
        right: vec![Cmd::tlbi_nh_va(5, ASID, PAGE, true)],
    }
}

/// Nested, stage 2 read-only (stage 1 read-write); the upgrade is at stage 2. A stage-2
/// invalidation alone leaves the combined entry: stage 1 must be invalidated too.
fn nested_s2_upgrade() -> Upgrade {
    Upgrade {
        setup: |r, rec| {
            let txn = nested_stream(r, S1_RW, s2_page(S2_READ_ONLY));
            set_records(r, rec);
            txn
        },
        upgrade: |r| r.map(NESTED_S2_ROOT, IPA, DATA | s2_page(S2_READ_WRITE)),
        wrong: vec![Cmd::tlbi_s2_ipa(5, IPA, true)],
        right: vec![Cmd::tlbi_s2_ipa(5, IPA, true), Cmd::tlbi_nh_all(5)],
    }
}

/// Nested, read-only at both stages; both are upgraded.
fn nested_both_upgrade() -> Upgrade {
    Upgrade {
        setup: |r, rec| {
            let txn = nested_stream(r, S1_RO, s2_page(S2_READ_ONLY));
            set_records(r, rec);
            txn
        },
        upgrade: |r| {
            r.map(PT_POOL, IOVA, IPA | S1_RW);
            r.map(NESTED_S2_ROOT, IPA, DATA | s2_page(S2_READ_WRITE));
        },
        wrong: vec![Cmd::tlbi_s2_ipa(5, IPA, true)],
        right: vec![Cmd::tlbi_s12_vmall(5)],
    }
}

/// The write of the same address, at the same privilege.
fn write_of(read: &Txn) -> Txn {
    Txn { rnw: false, ..*read }
}

/// What a transaction gives (output address or abort) and the event records it writes.
fn run_with_events(r: &mut Rig, txn: &Txn) -> (Result<u64, Abort>, Vec<EventRecord>) {
    let before = r.events().len();
    let out = r.run(txn).map(|t| t.pa);
    (out, r.events().split_off(before))
}

/// The reference: the write walked over the read-only tables (nothing cached).
fn walked_write(u: &Upgrade, rec: Records) -> (Result<u64, Abort>, Vec<EventRecord>) {
    let mut r = rig(CachePolicy::Never);
    let read = (u.setup)(&mut r, rec);
    run_with_events(&mut r, &write_of(&read))
}

/// Under `policy`: the read fills the TLB, the page is made writable, then the write. Returns
/// the rig, the write and what the write gave.
fn write_after_upgrade(
    policy: CachePolicy,
    u: &Upgrade,
    rec: Records,
) -> (Rig, Txn, (Result<u64, Abort>, Vec<EventRecord>)) {
    let mut r = rig(policy);
    let read = (u.setup)(&mut r, rec);
    assert_eq!(outcome(&mut r, &read), OLD, "{policy:?}: the read");
    (u.upgrade)(&mut r);
    let w = write_of(&read);
    let got = run_with_events(&mut r, &w);
    (r, w, got)
}

/// The upgrade protocol: under `sticky` the write gives what a walk of the read-only tables
/// gives, reading no memory, whatever `wrong` does, and succeeds after `right`; under `normal`
/// and `never` it succeeds at once. Returns the sticky fault's event record.
fn sticky_faults_until_right_command(u: &Upgrade) -> EventRecord {
    let walked = walked_write(u, RECORDED);
    assert_eq!(walked.0.map_err(|a| a.event), Err(Some(id::F_PERMISSION)), "the walk");
    for policy in [CachePolicy::Normal, CachePolicy::Never] {
        let (_, _, got) = write_after_upgrade(policy, u, RECORDED);
        assert_eq!(got, (OLD_PA, vec![]), "{policy:?}");
    }

    let (mut r, w, got) = write_after_upgrade(CachePolicy::Sticky, u, RECORDED);
    assert_eq!(got, walked, "sticky: the fault of the cached entry");
    let (again, reads) = counted(&mut r, &w);
    assert_eq!((again.map_err(|a| a.event), reads), (Err(Some(id::F_PERMISSION)), 0));
    issue(&mut r, &u.wrong);
    let denied = Err(AbortReason::Fault(id::F_PERMISSION));
    assert_eq!(outcome(&mut r, &w), denied, "sticky: after {:?}", u.wrong);
    issue(&mut r, &u.right);
    assert_eq!(outcome(&mut r, &w), OLD, "sticky: after {:?}", u.right);
    got.1[0]
}

#[test]
fn stage_1_write_after_an_upgrade_without_tlbi_faults_under_sticky_until_tlbi_nh_va() {
    let rec = sticky_faults_until_right_command(&s1_upgrade()).fields();

    let expected = (id::F_PERMISSION, false, class::IN, false, IOVA, 0);
    assert_eq!((rec.id, rec.s2, rec.class, rec.rnw, rec.input_addr, rec.addr2), expected);
}

#[test]
fn stage_2_write_after_an_upgrade_without_tlbi_faults_under_sticky_until_tlbi_s2_ipa() {
    let rec = sticky_faults_until_right_command(&s2_upgrade()).fields();

    // The IPA is the input address (IPA[55:12] in words 6-7).
    let expected = (id::F_PERMISSION, true, class::IN, false, IOVA, PAGE);
    assert_eq!((rec.id, rec.s2, rec.class, rec.rnw, rec.input_addr, rec.addr2), expected);
}

#[test]
fn nested_write_denied_at_stage_1_faults_under_sticky_until_a_stage_1_tlbi() {
    let rec = sticky_faults_until_right_command(&nested_s1_upgrade()).fields();

    let expected = (id::F_PERMISSION, false, class::IN, false, IOVA, 0);
    assert_eq!((rec.id, rec.s2, rec.class, rec.rnw, rec.input_addr, rec.addr2), expected);
}

#[test]
fn nested_write_denied_at_stage_2_faults_with_its_ipa_under_sticky_until_stage_1_and_2_tlbis() {
    let rec = sticky_faults_until_right_command(&nested_s2_upgrade()).fields();

    let expected = (id::F_PERMISSION, true, class::IN, false, IOVA, IPA);
    assert_eq!((rec.id, rec.s2, rec.class, rec.rnw, rec.input_addr, rec.addr2), expected);
}

#[test]
fn nested_write_denied_at_both_stages_faults_at_stage_1_under_sticky() {
    let rec = sticky_faults_until_right_command(&nested_both_upgrade()).fields();

    assert_eq!((rec.id, rec.s2, rec.addr2), (id::F_PERMISSION, false, 0));
}

#[test]
fn sticky_permission_fault_is_recorded_exactly_when_a_walk_would_record_it() {
    let scenarios = [
        ("s1", s1_upgrade()),
        ("s2", s2_upgrade()),
        ("nested s1", nested_s1_upgrade()),
        ("nested s2", nested_s2_upgrade()),
        ("nested both", nested_both_upgrade()),
    ];
    for (name, u) in &scenarios {
        for (cd_r, s2r) in [(false, false), (false, true), (true, false), (true, true)] {
            let rec = Records { cd_r, s2r };
            let walked = walked_write(u, rec);

            let (_, _, got) = write_after_upgrade(CachePolicy::Sticky, u, rec);

            assert_eq!(got, walked, "{name} {rec:?}");
        }
    }
}

#[test]
fn unrecorded_sticky_permission_fault_aborts_without_an_event() {
    let rec = Records { cd_r: true, s2r: false };

    let (_, _, got) = write_after_upgrade(CachePolicy::Sticky, &nested_s2_upgrade(), rec);

    let silent = Abort { reason: AbortReason::Fault(id::F_PERMISSION), event: None };
    assert_eq!(got, (Err(silent), vec![]));
}

/// Maps IOVA -> DATA in the stage-1 tables at PT_POOL, privileged read-write only (AP=00),
/// PXN = `pxn`.
fn map_privileged_page(r: &mut Rig, pxn: bool) {
    let mut leaf = Desc(s1_page(0));
    leaf.set_pxn(pxn);
    r.map(PT_POOL, IOVA, DATA | leaf.raw());
}

#[test]
fn sticky_fault_of_a_cached_entry_records_the_fetch_and_privilege_of_the_access() {
    // A privileged read fills an execute-never entry; PXN is then cleared without a TLBI and a
    // privileged instruction fetch hits the cached entry.
    let setup = |policy| {
        let mut r = rig(policy);
        assert_eq!(r.alloc_table(), PT_POOL);
        map_privileged_page(&mut r, true);
        r.write_ste(SID, &ste_s1(CD_ADDR));
        r.write_cd(CD_ADDR, &cd(PT_POOL));
        r
    };
    let read = Txn { pnu: true, ..read(SID, IOVA) };
    let fetch = Txn { ind: true, ..read };
    let walked = run_with_events(&mut setup(CachePolicy::Never), &fetch);
    let mut r = setup(CachePolicy::Sticky);
    assert_eq!(outcome(&mut r, &read), OLD);
    map_privileged_page(&mut r, false);

    let got = run_with_events(&mut r, &fetch);

    assert_eq!(got, walked);
    let f = got.1[0].fields();
    assert_eq!((f.id, f.s2, f.pnu, f.ind, f.rnw), (id::F_PERMISSION, false, true, true, true));
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
