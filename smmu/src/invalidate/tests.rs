//! Command scopes. Range commands are assembled from raw words laid out as IHI 0070 §4.4.1.1
//! and the Linux `CMDQ_TLBI_*` masks give them, independently of our accessors.

use super::*;
use crate::Translation;
use crate::config::CachePolicy;
use crate::pas::Pas;
use crate::tlb::{Context, El, Fill, Regime, StageKind, Tlb};
use crate::trace::{NoTrace, Perms};
use crate::walk::Granule;

const K4: u64 = 0x1000;
const K16: u64 = 0x4000;
const K64: u64 = 0x1_0000;
const M2: u64 = 0x20_0000;
const NS: SecSid = SecSid::NonSecure;
/// CR2.E2H clear on every interface.
const NO_E2H: [bool; 3] = [false; 3];

/// TLBI_NH_VA / NH_VAA / EL2_VA / S2_IPA-style command from raw fields.
#[allow(clippy::too_many_arguments)]
fn raw(op: u64, vmid: u64, asid: u64, addr: u64, num: u64, scale: u64, tg: u64, ttl: u64) -> Cmd {
    let w0 = op | (num << 12) | (scale << 20) | (vmid << 32) | (asid << 48);
    let w1 = 1 | (ttl << 8) | (tg << 10) | (addr & !0xfff);
    Cmd::from_words([w0, w1])
}

fn nh_va(asid: u64, addr: u64, num: u64, scale: u64, tg: u64, ttl: u64) -> Cmd {
    raw(0x12, 1, asid, addr, num, scale, tg, ttl)
}

fn fill(size: u64, global: bool, granule: Granule, level: u8) -> Fill {
    Fill {
        oa: 0x80_0000_0000,
        size,
        pas: Pas::NonSecure,
        perms: Perms { read: true, write: true, exec: false },
        privileged: false,
        global,
        granule,
        level,
        s1_perms: Some(Perms { read: true, write: true, exec: false }),
        s2_perms: None,
        ipa: 0,
    }
}

fn page() -> Fill {
    fill(K4, false, Granule::G4K, 3)
}

/// A TLB with one entry per `(ctx, va, fill)`.
fn tlb_with(entries: &[(Context, u64, Fill)]) -> Tlb {
    let mut t = Tlb::new(CachePolicy::Normal, 1024);
    for (ctx, va, f) in entries {
        assert!(t.fill(ctx, *va, f, &mut NoTrace));
    }
    t
}

fn run(cfg: &SmmuConfig, queue: SecSid, cmd: &Cmd, t: &mut Tlb) -> usize {
    run_e2h(cfg, queue, NO_E2H, cmd, t)
}

fn run_e2h(cfg: &SmmuConfig, queue: SecSid, e2h: [bool; 3], cmd: &Cmd, t: &mut Tlb) -> usize {
    match scope_of(cfg, queue, e2h, cmd) {
        Some(Invalidation::Tlb(s)) => t.invalidate(&s),
        other => panic!("not a TLB invalidation: {other:?}"),
    }
}

fn hit(t: &mut Tlb, ctx: &Context, va: u64) -> Option<Translation> {
    t.lookup(ctx, va, false, &mut NoTrace)
}

fn s1(vmid: u16, asid: u16) -> Context {
    Context::s1(NS, Some(vmid), asid)
}

fn qemu() -> SmmuConfig {
    SmmuConfig::qemu_virt()
}

/// Which of the 4 KiB pages `vas` of `ctx` survive `cmd`.
fn survivors(cmd: &Cmd, vas: &[u64]) -> Vec<u64> {
    let ctx = s1(1, 2);
    let mut t = tlb_with(&vas.iter().map(|&va| (ctx, va, page())).collect::<Vec<_>>());
    run(&qemu(), NS, cmd, &mut t);
    vas.iter().copied().filter(|&va| hit(&mut t, &ctx, va).is_some()).collect()
}

// ---- range math ----

#[test]
fn tg_0_names_the_single_page_holding_the_address() {
    let cmd = raw(0x12, 1, 2, 0x5000, 0, 0, 0, 0);

    assert_eq!(survivors(&cmd, &[0x4000, 0x5000, 0x6000]), [0x4000, 0x6000]);
}

#[test]
fn range_of_num_plus_one_4k_pages() {
    // NUM=2, SCALE=0: 3 pages from 0x10000.
    let cmd = nh_va(2, 0x10000, 2, 0, 1, 0);

    assert_eq!(survivors(&cmd, &[0xf000, 0x10000, 0x12000, 0x13000]), [0xf000, 0x13000]);
}

#[test]
fn range_with_a_non_power_of_two_page_count() {
    // NUM=4, SCALE=1: (4+1) * 2 = 10 pages from 0x20000: 0x20000..=0x29fff.
    let cmd = nh_va(2, 0x20000, 4, 1, 1, 0);
    let vas: Vec<u64> = (0x1f..=0x2a).map(|p| p * K4).collect();

    assert_eq!(survivors(&cmd, &vas), [0x1f000, 0x2a000]);
}

#[test]
fn range_with_an_unaligned_start() {
    // 32 pages from 0xff395000 (QEMU 219729cfbf): 0xff395000..=0xff3b4fff.
    let cmd = nh_va(2, 0xff39_5000, 31, 0, 1, 0);

    assert_eq!(
        survivors(&cmd, &[0xff39_4000, 0xff39_5000, 0xff3a_0000, 0xff3b_4000, 0xff3b_5000]),
        [0xff39_4000, 0xff3b_5000]
    );
}

#[test]
fn range_of_the_same_length_as_num_and_as_scale() {
    // NUM=0, SCALE=5 is 32 pages too.
    let cmd = nh_va(2, 0xff39_5000, 0, 5, 1, 0);

    assert_eq!(survivors(&cmd, &[0xff3b_4000, 0xff3b_5000]), [0xff3b_5000]);
}

#[test]
fn range_in_16k_granules() {
    // NUM=1, SCALE=0, TG=16K: 2 granules = 32 KiB from 0x40000.
    let cmd = nh_va(2, 0x40000, 1, 0, 2, 0);

    assert_eq!(survivors(&cmd, &[0x3f000, 0x40000, 0x47000, 0x48000]), [0x3f000, 0x48000]);
}

#[test]
fn range_in_64k_granules() {
    // NUM=1, SCALE=2, TG=64K: 8 granules = 512 KiB from 0x100000.
    let cmd = nh_va(2, 0x10_0000, 1, 2, 3, 0);

    assert_eq!(survivors(&cmd, &[0x10_0000, 0x17_f000, 0x18_0000]), [0x18_0000]);
}

fn with_ds() -> SmmuConfig {
    let mut cfg = qemu();
    let mut idr5 = cfg.idr5();
    idr5.set_ds(true);
    cfg.idr5 = idr5.0;
    cfg
}

#[test]
fn scale_is_five_bits_without_ds() {
    // SCALE = 0b10_0001: bit 25 is not part of the field without DS.
    let Some(Invalidation::Tlb(s)) = scope_of(&qemu(), NS, NO_E2H, &nh_va(2, 0, 0, 0x21, 1, 0))
    else {
        panic!()
    };

    assert_eq!(s.range, Some(AddrRange { first: 0, last: (2 << 12) - 1 }));
}

#[test]
fn scale_is_six_bits_with_ds_and_above_39_counts_as_39() {
    let big = scope_of(&with_ds(), NS, NO_E2H, &nh_va(2, 0, 0, 63, 1, 0));
    let at39 = scope_of(&with_ds(), NS, NO_E2H, &nh_va(2, 0, 0, 39, 1, 0));

    assert_eq!(big, at39);
    let Some(Invalidation::Tlb(s)) = at39 else { panic!() };
    assert_eq!(s.range, Some(AddrRange { first: 0, last: (1 << 51) - 1 }));
}

#[test]
fn range_past_the_top_of_the_address_space_stops_there() {
    // 32 * 2^39 * 64 KiB = 2^60 bytes from near the top.
    let cmd = nh_va(2, 0xffff_ffff_fff0_0000, 31, 39, 3, 0);
    let Some(Invalidation::Tlb(s)) = scope_of(&with_ds(), NS, NO_E2H, &cmd) else { panic!() };

    assert_eq!(s.range, Some(AddrRange { first: 0xffff_ffff_fff0_0000, last: u64::MAX }));
}

#[test]
fn va_range_matches_tagged_addresses_in_canonical_form() {
    let cmd = nh_va(2, 0x5a00_0000_0000_3000, 0, 0, 0, 0);
    let Some(Invalidation::Tlb(s)) = scope_of(&qemu(), NS, NO_E2H, &cmd) else { panic!() };

    assert_eq!(s.range, Some(AddrRange::at(0x3000)));
}

#[test]
fn range_removes_a_block_larger_than_itself() {
    let ctx = s1(1, 2);
    let mut t = tlb_with(&[(ctx, 0x4020_0000, fill(M2, false, Granule::G4K, 2))]);

    let n = run(&qemu(), NS, &nh_va(2, 0x4030_0000, 0, 0, 1, 3), &mut t);

    assert_eq!(n, 1);
}

#[test]
fn level_hint_does_not_narrow_the_invalidation() {
    // TTL=3 names level-3 leaves; the level-2 block goes as well.
    let ctx = s1(1, 2);
    let mut t = tlb_with(&[(ctx, 0x4020_0000, fill(M2, false, Granule::G4K, 2))]);

    assert_eq!(run(&qemu(), NS, &nh_va(2, 0x4020_0000, 0, 0, 1, 3), &mut t), 1);
}

#[test]
fn granule_hint_does_not_narrow_the_invalidation() {
    // TG=4K; the entry came from a 64K-granule table.
    let ctx = s1(1, 2);
    let mut t = tlb_with(&[(ctx, 0x3_0000, fill(K64, false, Granule::G64K, 3))]);

    assert_eq!(run(&qemu(), NS, &nh_va(2, 0x3_f000, 0, 0, 1, 0), &mut t), 1);
}

#[test]
fn single_16k_granule_with_level_hint() {
    let ctx = s1(1, 2);
    let mut t = tlb_with(&[
        (ctx, 0x8000, fill(K16, false, Granule::G16K, 3)),
        (ctx, 0xc000, fill(K16, false, Granule::G16K, 3)),
    ]);

    assert_eq!(run(&qemu(), NS, &nh_va(2, 0x8000, 0, 0, 2, 3), &mut t), 1);
    assert!(hit(&mut t, &ctx, 0xc000).is_some());
}

// ---- stage-1 scopes ----

#[test]
fn nh_all_removes_stage1_and_nested_entries_of_its_vmid_only() {
    let s2 = Context::s2(NS, 1);
    let nested = Context::nested(NS, 1, 2);
    let mut t = tlb_with(&[
        (s1(1, 2), 0x1000, page()),
        (s1(1, 3), 0x1000, fill(K4, true, Granule::G4K, 3)),
        (nested, 0x1000, page()),
        (s2, 0x1000, page()),
        (s1(2, 2), 0x1000, page()),
    ]);

    let n = run(&qemu(), NS, &Cmd::tlbi_nh_all(1), &mut t);

    assert_eq!(n, 3);
    assert!(hit(&mut t, &s2, 0x1000).is_some());
    assert!(hit(&mut t, &s1(2, 2), 0x1000).is_some());
}

#[test]
fn nh_all_ignores_the_vmid_without_stage_2() {
    let mut cfg = qemu();
    let mut idr0 = cfg.idr0();
    idr0.set_s2p(false);
    cfg.idr0 = idr0.0;
    let no_vmid = Context::s1(NS, None, 2);
    let mut t = tlb_with(&[(no_vmid, 0x1000, page()), (no_vmid, 0x2000, page())]);

    assert_eq!(run(&cfg, NS, &Cmd::tlbi_nh_all(7), &mut t), 2);
}

#[test]
fn nh_asid_leaves_global_entries_and_other_asids() {
    let mut t = tlb_with(&[
        (s1(1, 2), 0x1000, page()),
        (s1(1, 2), 0x2000, fill(K4, true, Granule::G4K, 3)),
        (s1(1, 3), 0x1000, page()),
        (s1(2, 2), 0x1000, page()),
    ]);

    let n = run(&qemu(), NS, &Cmd::tlbi_nh_asid(1, 2), &mut t);

    assert_eq!(n, 1);
    assert!(hit(&mut t, &s1(1, 2), 0x2000).is_some());
    assert!(hit(&mut t, &s1(1, 3), 0x1000).is_some());
}

#[test]
fn nh_va_removes_its_asid_and_global_entries_at_the_address() {
    let mut t = tlb_with(&[
        (s1(1, 2), 0x1000, page()),
        (s1(1, 3), 0x1000, page()),
        (s1(1, 2), 0x2000, page()),
        // Last: a fill replaces the entry its own lookup would have found.
        (s1(1, 4), 0x1000, fill(K4, true, Granule::G4K, 3)),
    ]);

    let n = run(&qemu(), NS, &Cmd::tlbi_nh_va(1, 2, 0x1000, true), &mut t);

    assert_eq!(n, 2);
    assert!(hit(&mut t, &s1(1, 3), 0x1000).is_some());
    assert!(hit(&mut t, &s1(1, 2), 0x2000).is_some());
}

#[test]
fn nh_vaa_removes_every_asid_at_the_address() {
    let mut t = tlb_with(&[
        (s1(1, 2), 0x1000, page()),
        (s1(1, 3), 0x1000, page()),
        (s1(1, 3), 0x2000, page()),
        (s1(2, 3), 0x1000, page()),
    ]);

    let n = run(&qemu(), NS, &Cmd::tlbi_nh_vaa(1, 0x1000, false), &mut t);

    assert_eq!(n, 2);
    assert!(hit(&mut t, &s1(1, 3), 0x2000).is_some());
    assert!(hit(&mut t, &s1(2, 3), 0x1000).is_some());
}

#[test]
fn nh_commands_from_the_secure_queue_name_secure_entries() {
    let cfg = SmmuConfig::full();
    let sec = Context::s1(SecSid::Secure, None, 2);
    let mut t = tlb_with(&[(sec, 0x1000, page()), (s1(1, 2), 0x1000, page())]);

    let n = run(&cfg, SecSid::Secure, &Cmd::tlbi_nh_all(9), &mut t);

    assert_eq!(n, 1);
    assert!(hit(&mut t, &s1(1, 2), 0x1000).is_some());
}

#[test]
fn nh_commands_from_the_realm_queue_name_realm_entries() {
    let cfg = SmmuConfig::full();
    let realm = Context::s1(SecSid::Realm, Some(1), 2);
    let mut t = tlb_with(&[(realm, 0x1000, page()), (s1(1, 2), 0x1000, page())]);

    assert_eq!(run(&cfg, SecSid::Realm, &Cmd::tlbi_nh_asid(1, 2), &mut t), 1);
    assert!(hit(&mut t, &s1(1, 2), 0x1000).is_some());
}

// ---- EL2 / EL3 ----

fn el2(e2h: bool, asid: u16) -> Context {
    let el = if e2h { El::El2E2h } else { El::El2 };
    Context::new(Regime { sec: NS, el }, StageKind::S1, None, Some(asid), false, [false; 2])
}

#[test]
fn el2_all_removes_el2_and_el2_e2h_entries_only() {
    let mut t = tlb_with(&[
        (el2(false, 0), 0x1000, page()),
        (el2(true, 5), 0x1000, page()),
        (s1(1, 2), 0x1000, page()),
    ]);

    assert_eq!(run(&qemu(), NS, &Cmd::tlbi_el2_all(), &mut t), 2);
    assert!(hit(&mut t, &s1(1, 2), 0x1000).is_some());
}

#[test]
fn el2_asid_removes_non_global_e2h_entries_of_the_asid() {
    let mut t = tlb_with(&[
        (el2(true, 5), 0x1000, page()),
        (el2(true, 5), 0x2000, fill(K4, true, Granule::G4K, 3)),
        (el2(true, 6), 0x1000, page()),
        (el2(false, 5), 0x3000, page()),
    ]);

    assert_eq!(run(&qemu(), NS, &Cmd::tlbi_el2_asid(5), &mut t), 1);
}

/// CR2.E2H set on the interface `sec` only.
fn e2h_on(sec: SecSid) -> [bool; 3] {
    let mut e = NO_E2H;
    e[sec.index()] = true;
    e
}

/// An EL2 entry, EL2-E2H entries of ASIDs 5 and 6 and a global EL2-E2H entry, all at 0x1000,
/// and an EL2 and an EL2-E2H entry at 0x2000.
fn el2_mix() -> Tlb {
    tlb_with(&[
        (el2(false, 0), 0x1000, page()),
        (el2(true, 5), 0x1000, page()),
        (el2(true, 6), 0x1000, page()),
        (el2(true, 7), 0x1000, fill(K4, true, Granule::G4K, 3)),
        (el2(false, 0), 0x2000, page()),
        (el2(true, 5), 0x2000, page()),
    ])
}

/// Which of the entries of [`el2_mix`] survive, in its order.
fn el2_survivors(t: &Tlb) -> [bool; 6] {
    let has =
        |el, asid, base| t.entries().any(|e| e.regime.el == el && e.asid == asid && e.base == base);
    [
        has(El::El2, None, 0x1000),
        has(El::El2E2h, Some(5), 0x1000),
        has(El::El2E2h, Some(6), 0x1000),
        has(El::El2E2h, None, 0x1000),
        has(El::El2, None, 0x2000),
        has(El::El2E2h, Some(5), 0x2000),
    ]
}

#[test]
fn el2_va_with_e2h_0_removes_el2_entries_at_the_address_whatever_the_asid() {
    let mut t = el2_mix();

    let n = run_e2h(&qemu(), NS, NO_E2H, &Cmd::tlbi_el2_va(9, 0x1000, false), &mut t);

    assert_eq!(n, 1);
    assert_eq!(el2_survivors(&t), [false, true, true, true, true, true]);
}

#[test]
fn el2_va_with_e2h_1_removes_e2h_entries_of_the_asid_and_global_ones_at_the_address() {
    let mut t = el2_mix();

    let n = run_e2h(&qemu(), NS, e2h_on(NS), &Cmd::tlbi_el2_va(5, 0x1000, false), &mut t);

    assert_eq!(n, 2);
    assert_eq!(el2_survivors(&t), [true, false, true, false, true, true]);
}

#[test]
fn el2_vaa_with_e2h_0_removes_el2_entries_at_the_address() {
    let mut t = el2_mix();

    let n = run_e2h(&qemu(), NS, NO_E2H, &Cmd::tlbi_el2_vaa(0x1000, false), &mut t);

    assert_eq!(n, 1);
    assert_eq!(el2_survivors(&t), [false, true, true, true, true, true]);
}

#[test]
fn el2_vaa_with_e2h_1_removes_e2h_entries_of_every_asid_at_the_address() {
    let mut t = el2_mix();

    let n = run_e2h(&qemu(), NS, e2h_on(NS), &Cmd::tlbi_el2_vaa(0x1000, false), &mut t);

    assert_eq!(n, 3);
    assert_eq!(el2_survivors(&t), [true, false, false, false, true, true]);
}

#[test]
fn el2_va_follows_the_non_secure_e2h_from_the_secure_queue() {
    let cfg = SmmuConfig::full();
    let mut t = el2_mix();

    // S_CR2.E2H does not govern TLBI_EL2_*: with only it set, the EL2 entry goes.
    let n = run_e2h(
        &cfg,
        SecSid::Secure,
        e2h_on(SecSid::Secure),
        &Cmd::tlbi_el2_vaa(0x1000, false),
        &mut t,
    );
    assert_eq!(n, 1);
    let n = run_e2h(&cfg, SecSid::Secure, e2h_on(NS), &Cmd::tlbi_el2_vaa(0x2000, false), &mut t);
    assert_eq!(n, 1);

    assert_eq!(el2_survivors(&t), [false, true, true, true, true, false]);
}

#[test]
fn s_el2_va_follows_the_secure_e2h() {
    let sel2 = |e2h: bool, asid| {
        let el = if e2h { El::El2E2h } else { El::El2 };
        Context::new(
            Regime { sec: SecSid::Secure, el },
            StageKind::S1,
            None,
            Some(asid),
            false,
            [false; 2],
        )
    };
    let mut t = tlb_with(&[(sel2(false, 0), 0x1000, page()), (sel2(true, 5), 0x1000, page())]);
    let s_el2_va = raw(0x52, 0, 5, 0x1000, 0, 0, 0, 0);

    let n = run_e2h(&SmmuConfig::full(), SecSid::Secure, e2h_on(NS), &s_el2_va, &mut t);
    assert_eq!(n, 1);
    assert!(hit(&mut t, &sel2(true, 5), 0x1000).is_some());

    let n = run_e2h(&SmmuConfig::full(), SecSid::Secure, e2h_on(SecSid::Secure), &s_el2_va, &mut t);
    assert_eq!(n, 1);
    assert!(t.is_empty());
}

#[test]
fn el1_commands_leave_el2_entries() {
    let cfg = SmmuConfig::full();
    let cmds = [
        Cmd::tlbi_nh_all(0),
        Cmd::tlbi_nh_asid(0, 5),
        Cmd::tlbi_nh_va(0, 5, 0x1000, false),
        Cmd::tlbi_nh_vaa(0, 0x1000, false),
        Cmd::tlbi_s12_vmall(0),
        Cmd::tlbi_nsnh_all(),
    ];
    for cmd in cmds {
        for e2h in [NO_E2H, e2h_on(NS)] {
            let mut t = el2_mix();
            assert_eq!(run_e2h(&cfg, NS, e2h, &cmd, &mut t), 0, "{:#x}", cmd.op());
        }
    }
}

#[test]
fn el2_commands_leave_el1_entries() {
    let cfg = SmmuConfig::full();
    let cmds = [
        Cmd::tlbi_el2_all(),
        Cmd::tlbi_el2_asid(2),
        Cmd::tlbi_el2_va(2, 0x1000, false),
        Cmd::tlbi_el2_vaa(0x1000, false),
    ];
    for cmd in cmds {
        for e2h in [NO_E2H, e2h_on(NS)] {
            let mut t = tlb_with(&[
                (s1(0, 2), 0x1000, page()),
                (s1(0, 2), 0x2000, fill(K4, true, Granule::G4K, 3)),
            ]);
            assert_eq!(run_e2h(&cfg, NS, e2h, &cmd, &mut t), 0, "{:#x}", cmd.op());
        }
    }
}

#[test]
fn el2_commands_from_the_secure_queue_name_non_secure_el2() {
    let sel2 = Context::new(
        Regime { sec: SecSid::Secure, el: El::El2 },
        StageKind::S1,
        None,
        None,
        false,
        [false; 2],
    );
    let mut t = tlb_with(&[(el2(false, 0), 0x1000, page()), (sel2, 0x1000, page())]);

    assert_eq!(run(&SmmuConfig::full(), SecSid::Secure, &Cmd::tlbi_el2_all(), &mut t), 1);
    assert!(hit(&mut t, &sel2, 0x1000).is_some());
    assert_eq!(run(&SmmuConfig::full(), SecSid::Secure, &Cmd::tlbi_s_el2_all(), &mut t), 1);
}

#[test]
fn el3_all_removes_el3_entries_only() {
    let el3 = Context::new(
        Regime { sec: SecSid::Secure, el: El::El3 },
        StageKind::S1,
        None,
        None,
        false,
        [false; 2],
    );
    let sec = Context::s1(SecSid::Secure, None, 2);
    let mut t = tlb_with(&[(el3, 0x1000, page()), (sec, 0x1000, page())]);

    assert_eq!(run(&SmmuConfig::full(), SecSid::Secure, &Cmd::tlbi_el3_all(), &mut t), 1);
    assert!(hit(&mut t, &sec, 0x1000).is_some());
}

// ---- stage 2 and all-stage scopes ----

#[test]
fn s2_ipa_removes_stage2_entries_of_its_vmid_in_the_ipa_range() {
    let s2 = Context::s2(NS, 1);
    let mut t = tlb_with(&[
        (s2, 0x1000, page()),
        (s2, 0x2000, page()),
        (Context::s2(NS, 2), 0x1000, page()),
        (s1(1, 2), 0x1000, page()),
    ]);

    let n = run(&qemu(), NS, &Cmd::tlbi_s2_ipa(1, 0x1000, true), &mut t);

    assert_eq!(n, 1);
    assert!(hit(&mut t, &s2, 0x2000).is_some());
    assert!(hit(&mut t, &s1(1, 2), 0x1000).is_some());
}

#[test]
fn s2_ipa_range_form_uses_the_ipa_field() {
    // S2_IPA: NUM=3, TG=4K: 4 pages from IPA 0xab_cdef_0000 (Address [55:12]).
    let s2 = Context::s2(NS, 1);
    let ipas = [0xab_cdee_f000, 0xab_cdef_0000, 0xab_cdef_3000, 0xab_cdef_4000];
    let mut t = tlb_with(&ipas.map(|ipa| (s2, ipa, page())));

    let n = run(&qemu(), NS, &raw(0x2a, 1, 0, 0xab_cdef_0000, 3, 0, 1, 0), &mut t);

    assert_eq!(n, 2);
    assert!(hit(&mut t, &s2, 0xab_cdee_f000).is_some());
    assert!(hit(&mut t, &s2, 0xab_cdef_4000).is_some());
}

#[test]
fn s2_ipa_leaves_nested_entries_for_a_stage_1_invalidation() {
    let nested = Context::nested(NS, 1, 2);
    let mut t = tlb_with(&[(nested, 0x1000, page())]);

    assert_eq!(run(&qemu(), NS, &Cmd::tlbi_s2_ipa(1, 0x1000, false), &mut t), 0);
    assert_eq!(run(&qemu(), NS, &Cmd::tlbi_nh_vaa(1, 0x1000, false), &mut t), 1);
}

#[test]
fn s12_vmall_removes_every_stage_of_its_vmid() {
    let mut t = tlb_with(&[
        (Context::s2(NS, 1), 0x1000, page()),
        (Context::nested(NS, 1, 2), 0x1000, page()),
        (s1(1, 2), 0x1000, fill(K4, true, Granule::G4K, 3)),
        (s1(2, 2), 0x1000, page()),
    ]);

    assert_eq!(run(&qemu(), NS, &Cmd::tlbi_s12_vmall(1), &mut t), 3);
    assert!(hit(&mut t, &s1(2, 2), 0x1000).is_some());
}

#[test]
fn nsnh_all_removes_every_non_secure_el1_entry_and_nothing_else() {
    let sec = Context::s1(SecSid::Secure, None, 2);
    let mut t = tlb_with(&[
        (Context::s2(NS, 1), 0x1000, page()),
        (s1(1, 2), 0x1000, page()),
        (s1(2, 3), 0x1000, page()),
        (el2(false, 0), 0x1000, page()),
        (sec, 0x1000, page()),
    ]);

    assert_eq!(run(&SmmuConfig::full(), NS, &Cmd::tlbi_nsnh_all(), &mut t), 3);
    assert_eq!(run(&SmmuConfig::full(), SecSid::Secure, &Cmd::tlbi_nsnh_all(), &mut t), 0);
    assert!(hit(&mut t, &sec, 0x1000).is_some());
}

#[test]
fn nsnh_all_from_the_realm_queue_removes_realm_entries_only() {
    let realm = Context::s1(SecSid::Realm, Some(1), 2);
    let mut t = tlb_with(&[(realm, 0x1000, page()), (s1(1, 2), 0x1000, page())]);

    assert_eq!(run(&SmmuConfig::full(), SecSid::Realm, &Cmd::tlbi_nsnh_all(), &mut t), 1);
    assert!(hit(&mut t, &s1(1, 2), 0x1000).is_some());
}

#[test]
fn secure_s12_vmall_and_snh_all_name_secure_el1() {
    let sec =
        Context::new(Regime::el1(SecSid::Secure), StageKind::S2, Some(3), None, false, [false; 2]);
    let mut t = tlb_with(&[(sec, 0x1000, page()), (Context::s2(NS, 3), 0x1000, page())]);
    let cfg = SmmuConfig::full();

    assert_eq!(run(&cfg, SecSid::Secure, &Cmd::tlbi_s_s12_vmall(3), &mut t), 1);
    assert_eq!(run(&cfg, SecSid::Secure, &Cmd::tlbi_snh_all(), &mut t), 0);
    assert_eq!(t.len(), 1);
}

// ---- configuration ----

#[test]
fn cfgi_on_the_secure_queue_names_the_table_ssec_selects() {
    let cfg = SmmuConfig::full();

    assert_eq!(
        scope_of(&cfg, SecSid::Secure, NO_E2H, &Cmd::cfgi_ste(7, true)),
        Some(Invalidation::Config { sec: NS, scope: CfgScope::Sid(7) })
    );
    assert_eq!(
        scope_of(&cfg, SecSid::Secure, NO_E2H, &Cmd::cfgi_ste(7, true).with_ssec()),
        Some(Invalidation::Config { sec: SecSid::Secure, scope: CfgScope::Sid(7) })
    );
    assert_eq!(
        scope_of(&cfg, SecSid::Realm, NO_E2H, &Cmd::cfgi_cd_all(7)),
        Some(Invalidation::Config { sec: SecSid::Realm, scope: CfgScope::Sid(7) })
    );
}

#[test]
fn cfgi_ste_range_31_is_cfgi_all() {
    assert_eq!(
        scope_of(&qemu(), NS, NO_E2H, &Cmd::cfgi_all()),
        Some(Invalidation::Config { sec: NS, scope: CfgScope::All })
    );
    assert_eq!(
        scope_of(&qemu(), NS, NO_E2H, &Cmd::cfgi_ste_range(0x35, 2)),
        Some(Invalidation::Config { sec: NS, scope: CfgScope::SidRange { sid: 0x35, range: 2 } })
    );
}

#[test]
fn cfgi_cd_names_its_substream() {
    // CFGI_CD from raw words: SubstreamID [31:12], StreamID [63:32], Leaf bit 64.
    let cmd = Cmd::from_words([0x05 | (0x1234 << 12) | (0x42 << 32), 1]);

    assert_eq!(
        scope_of(&qemu(), NS, NO_E2H, &cmd),
        Some(Invalidation::Config { sec: NS, scope: CfgScope::Cd { sid: 0x42, ssid: 0x1234 } })
    );
}

#[test]
fn commands_that_invalidate_nothing_have_no_scope() {
    for cmd in [
        Cmd::sync(0, 0, 0, 0),
        Cmd::prefetch_config(1),
        Cmd::prefetch_addr(1, 0x1000, 0),
        Cmd::cfgi_vms_pidm(1),
    ] {
        assert_eq!(scope_of(&qemu(), NS, NO_E2H, &cmd), None, "{:#x}", cmd.op());
    }
}
