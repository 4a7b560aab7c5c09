use super::*;
use crate::trace::{NoTrace, VecTrace};

const RW: Perms = Perms { read: true, write: true, exec: false };
const RO: Perms = Perms { read: true, write: false, exec: false };
const K4: u64 = 0x1000;
const M2: u64 = 0x20_0000;

fn page(oa: u64, size: u64) -> Fill {
    Fill {
        oa,
        size,
        pas: Pas::NonSecure,
        perms: RW,
        privileged: false,
        global: false,
        granule: Granule::G4K,
        level: if size == K4 { 3 } else { 2 },
        s1_perms: Some(RW),
        s2_perms: None,
        ipa: 0,
    }
}

fn global(oa: u64, size: u64) -> Fill {
    Fill { global: true, ..page(oa, size) }
}

fn tlb() -> Tlb {
    Tlb::new(CachePolicy::Normal, Tlb::DEFAULT_CAPACITY)
}

fn ns_s1(vmid: u16, asid: u16) -> Context {
    Context::s1(SecSid::NonSecure, Some(vmid), asid)
}

fn look(t: &mut Tlb, ctx: &Context, iova: u64) -> Option<u64> {
    t.lookup(ctx, iova, false, &mut NoTrace).map(|x| x.pa)
}

fn fill(t: &mut Tlb, ctx: &Context, iova: u64, f: Fill) -> bool {
    t.fill(ctx, iova, &f, &mut NoTrace)
}

// ---- lookup ----

#[test]
fn warm_lookup_returns_the_cached_output_plus_page_offset() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x4000_1000, page(0x8000_5000, K4));

    let hit = t.lookup(&ctx, 0x4000_1abc, false, &mut NoTrace);

    assert_eq!(
        hit,
        Some(Translation { pa: 0x8000_5abc, pas: Pas::NonSecure, perms: RW, size: K4 })
    );
}

#[test]
fn lookup_of_an_uncached_page_misses() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x4000_1000, page(0x8000_5000, K4));

    assert_eq!(look(&mut t, &ctx, 0x4000_2000), None);
}

#[test]
fn block_entry_serves_every_page_of_the_block_with_block_offsets() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x4020_3000, page(0x9060_3000, M2));

    assert_eq!(look(&mut t, &ctx, 0x4020_0000), Some(0x9060_0000));
    assert_eq!(look(&mut t, &ctx, 0x403f_fff8), Some(0x907f_fff8));
    assert_eq!(look(&mut t, &ctx, 0x4040_0000), None);
    assert_eq!(t.len(), 1);
}

#[test]
fn non_global_entry_does_not_match_another_asid() {
    let mut t = tlb();
    fill(&mut t, &ns_s1(1, 2), 0x1000, page(0x5000, K4));

    assert_eq!(look(&mut t, &ns_s1(1, 3), 0x1000), None);
}

#[test]
fn entry_does_not_match_another_vmid() {
    let mut t = tlb();
    fill(&mut t, &ns_s1(1, 2), 0x1000, global(0x5000, K4));

    assert_eq!(look(&mut t, &ns_s1(2, 2), 0x1000), None);
}

#[test]
fn global_entry_matches_every_asid_of_its_vmid() {
    let mut t = tlb();
    fill(&mut t, &ns_s1(1, 2), 0x1000, global(0x5000, K4));

    assert_eq!(look(&mut t, &ns_s1(1, 3), 0x1000), Some(0x5000));
    assert_eq!(look(&mut t, &ns_s1(1, 0xffff), 0x1000), Some(0x5000));
}

#[test]
fn global_entry_matches_only_lookups_of_the_same_aset() {
    let mut t = tlb();
    let r = Regime::el1(SecSid::NonSecure);
    let aset0 = Context::new(r, StageKind::S1, Some(1), Some(2), false, [false; 2]);
    let aset1 = Context::new(r, StageKind::S1, Some(1), Some(3), true, [false; 2]);
    fill(&mut t, &aset0, 0x1000, global(0x5000, K4));

    assert_eq!(look(&mut t, &aset1, 0x1000), None);
}

#[test]
fn non_global_entry_matches_its_asid_whatever_the_aset() {
    let mut t = tlb();
    let r = Regime::el1(SecSid::NonSecure);
    let aset0 = Context::new(r, StageKind::S1, Some(1), Some(2), false, [false; 2]);
    let aset1 = Context::new(r, StageKind::S1, Some(1), Some(2), true, [false; 2]);
    fill(&mut t, &aset0, 0x1000, page(0x5000, K4));

    assert_eq!(look(&mut t, &aset1, 0x1000), Some(0x5000));
}

#[test]
fn entries_of_another_security_state_do_not_match() {
    let mut t = tlb();
    fill(&mut t, &ns_s1(1, 2), 0x1000, global(0x5000, K4));

    assert_eq!(look(&mut t, &Context::s1(SecSid::Secure, Some(1), 2), 0x1000), None);
    assert_eq!(look(&mut t, &Context::s1(SecSid::Realm, Some(1), 2), 0x1000), None);
}

#[test]
fn stage2_entry_of_an_ipa_does_not_serve_a_va_of_the_same_value() {
    let mut t = tlb();
    fill(&mut t, &Context::s2(SecSid::NonSecure, 1), 0x1000, page(0x5000, K4));

    assert_eq!(look(&mut t, &Context::nested(SecSid::NonSecure, 1, 2), 0x1000), None);
    assert_eq!(look(&mut t, &ns_s1(1, 2), 0x1000), None);
}

#[test]
fn el2_regime_ignores_asid_and_vmid() {
    let mut t = tlb();
    let r = Regime { sec: SecSid::NonSecure, el: El::El2 };
    let a = Context::new(r, StageKind::S1, Some(1), Some(2), false, [false; 2]);
    let b = Context::new(r, StageKind::S1, Some(7), Some(9), false, [false; 2]);
    fill(&mut t, &a, 0x1000, page(0x5000, K4));

    assert_eq!(look(&mut t, &b, 0x1000), Some(0x5000));
    assert_eq!(t.entries().next().map(|e| (e.vmid, e.asid)), Some((None, None)));
}

fn el2_ctx(el: El, asid: u16) -> Context {
    let r = Regime { sec: SecSid::NonSecure, el };
    Context::new(r, StageKind::S1, Some(1), Some(asid), false, [false; 2])
}

#[test]
fn el2_entries_do_not_match_el1_lookups_and_el1_entries_do_not_match_el2_lookups() {
    let mut t = tlb();
    fill(&mut t, &el2_ctx(El::El2, 0), 0x1000, global(0x5000, K4));
    fill(&mut t, &ns_s1(0, 0), 0x2000, global(0x6000, K4));

    assert_eq!(look(&mut t, &ns_s1(0, 0), 0x1000), None);
    assert_eq!(look(&mut t, &el2_ctx(El::El2, 0), 0x2000), None);
}

#[test]
fn el2_and_el2_e2h_entries_are_distinct_regimes() {
    let mut t = tlb();
    fill(&mut t, &el2_ctx(El::El2, 5), 0x1000, global(0x5000, K4));

    assert_eq!(look(&mut t, &el2_ctx(El::El2E2h, 5), 0x1000), None);
}

#[test]
fn el2_e2h_entries_carry_the_asid_but_no_vmid() {
    let mut t = tlb();
    fill(&mut t, &el2_ctx(El::El2E2h, 5), 0x1000, page(0x5000, K4));

    assert_eq!(look(&mut t, &el2_ctx(El::El2E2h, 5), 0x1000), Some(0x5000));
    assert_eq!(look(&mut t, &el2_ctx(El::El2E2h, 6), 0x1000), None);
    assert_eq!(t.entries().next().map(|e| (e.vmid, e.asid)), Some((None, Some(5))));
}

#[test]
fn el2_e2h_global_entry_matches_every_asid() {
    let mut t = tlb();
    fill(&mut t, &el2_ctx(El::El2E2h, 5), 0x1000, global(0x5000, K4));

    assert_eq!(look(&mut t, &el2_ctx(El::El2E2h, 6), 0x1000), Some(0x5000));
}

#[test]
fn one_privilege_level_fill_serves_both_privileges() {
    let mut t = tlb();
    let ctx = el2_ctx(El::El2, 0);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));

    assert_eq!(t.lookup(&ctx, 0x1000, true, &mut NoTrace).map(|x| x.perms), Some(RW));
    assert_eq!(t.lookup(&ctx, 0x1000, false, &mut NoTrace).map(|x| x.perms), Some(RW));
}

#[test]
fn el2_e2h_fill_serves_only_its_privilege() {
    let mut t = tlb();
    let ctx = el2_ctx(El::El2E2h, 5);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));

    assert_eq!(t.lookup(&ctx, 0x1000, true, &mut NoTrace), None);
}

#[test]
fn lookup_at_a_privilege_without_permissions_misses() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));

    assert_eq!(t.lookup(&ctx, 0x1000, true, &mut NoTrace), None);
}

#[test]
fn refill_of_the_same_mapping_at_the_other_privilege_adds_its_permissions() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));

    fill(&mut t, &ctx, 0x1000, Fill { privileged: true, perms: RO, ..page(0x5000, K4) });

    assert_eq!(t.len(), 1);
    assert_eq!(t.lookup(&ctx, 0x1000, true, &mut NoTrace).map(|x| x.perms), Some(RO));
    assert_eq!(t.lookup(&ctx, 0x1000, false, &mut NoTrace).map(|x| x.perms), Some(RW));
}

/// A nested walk's fill: stage 1 read-only, stage 2 read-write, through `ipa`.
fn nested_page(oa: u64, size: u64, ipa: u64) -> Fill {
    Fill { perms: RO, s1_perms: Some(RO), s2_perms: Some(RW), ipa, ..page(oa, size) }
}

#[test]
fn hit_of_a_stage_1_entry_has_its_stage_1_permissions_and_no_ipa() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, Fill { perms: RO, s1_perms: Some(RO), ..page(0x5000, K4) });

    let hit = t.lookup_hit(&ctx, 0x1234, false, &mut NoTrace).unwrap();

    assert_eq!((hit.translation.perms, hit.s1_perms, hit.s2_perms), (RO, Some(RO), None));
    assert_eq!(hit.ipa, None);
}

#[test]
fn hit_of_a_nested_block_has_both_stages_and_the_ipa_of_the_address() {
    let mut t = tlb();
    let ctx = Context::nested(SecSid::NonSecure, 1, 2);
    fill(&mut t, &ctx, 0x4020_3000, nested_page(0x9060_3000, M2, 0x7720_3000));

    let hit = t.lookup_hit(&ctx, 0x4031_2345, false, &mut NoTrace).unwrap();

    assert_eq!(hit.translation.pa, 0x9071_2345);
    assert_eq!((hit.s1_perms, hit.s2_perms), (Some(RO), Some(RW)));
    assert_eq!(hit.ipa, Some(0x7731_2345));
}

#[test]
fn hit_of_a_stage_2_entry_has_its_input_as_ipa() {
    let mut t = tlb();
    let ctx = Context::s2(SecSid::NonSecure, 1);
    let f = Fill { s1_perms: None, s2_perms: Some(RW), ipa: 0x1000, ..page(0x5000, K4) };
    fill(&mut t, &ctx, 0x1000, f);

    let hit = t.lookup_hit(&ctx, 0x1abc, false, &mut NoTrace).unwrap();

    assert_eq!((hit.s1_perms, hit.s2_perms, hit.ipa), (None, Some(RW), Some(0x1abc)));
}

#[test]
fn refill_at_the_other_privilege_adds_its_stage_permissions() {
    let mut t = tlb();
    let ctx = Context::nested(SecSid::NonSecure, 1, 2);
    fill(&mut t, &ctx, 0x1000, nested_page(0x5000, K4, 0x9000));
    let privileged =
        Fill { privileged: true, perms: RW, s1_perms: Some(RW), ..nested_page(0x5000, K4, 0x9000) };

    fill(&mut t, &ctx, 0x1000, privileged);

    let hit = |t: &mut Tlb, p| t.lookup_hit(&ctx, 0x1000, p, &mut NoTrace).unwrap().s1_perms;
    assert_eq!(t.len(), 1);
    assert_eq!((hit(&mut t, true), hit(&mut t, false)), (Some(RW), Some(RO)));
}

#[test]
fn one_privilege_level_fill_gives_both_privileges_its_stage_permissions() {
    let mut t = tlb();
    let ctx = el2_ctx(El::El2, 0);
    fill(&mut t, &ctx, 0x1000, Fill { perms: RO, s1_perms: Some(RO), ..page(0x5000, K4) });

    let hit = t.lookup_hit(&ctx, 0x1000, true, &mut NoTrace).unwrap();

    assert_eq!(hit.s1_perms, Some(RO));
}

#[test]
fn refill_of_a_nested_mapping_through_another_ipa_replaces_the_entry() {
    let mut t = tlb();
    let ctx = Context::nested(SecSid::NonSecure, 1, 2);
    fill(&mut t, &ctx, 0x1000, nested_page(0x5000, K4, 0x9000));
    let privileged = Fill { privileged: true, ..nested_page(0x5000, K4, 0xa000) };

    fill(&mut t, &ctx, 0x1000, privileged);

    assert_eq!(t.len(), 1);
    assert_eq!(t.lookup_hit(&ctx, 0x1000, false, &mut NoTrace), None);
    let hit = t.lookup_hit(&ctx, 0x1000, true, &mut NoTrace).unwrap();
    assert_eq!(hit.ipa, Some(0xa000));
}

#[test]
fn refill_with_a_different_mapping_replaces_the_entry() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));
    assert_eq!(look(&mut t, &ctx, 0x1000), Some(0x5000));

    fill(&mut t, &ctx, 0x1000, page(0x7000, K4));

    assert_eq!(t.len(), 1);
    assert_eq!(look(&mut t, &ctx, 0x1000), Some(0x7000));
}

#[test]
fn refill_as_global_replaces_the_non_global_entry_of_the_context() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));

    fill(&mut t, &ctx, 0x1000, global(0x7000, K4));

    assert_eq!(t.len(), 1);
    assert_eq!(look(&mut t, &ctx, 0x1000), Some(0x7000));
    assert_eq!(look(&mut t, &ns_s1(1, 3), 0x1000), Some(0x7000));
}

#[test]
fn tbi_context_serves_tagged_addresses_from_one_entry() {
    let mut t = tlb();
    let r = Regime::el1(SecSid::NonSecure);
    let ctx = Context::new(r, StageKind::S1, Some(1), Some(2), false, [true, true]);
    fill(&mut t, &ctx, 0x5a00_0000_0000_1000, page(0x5000, K4));

    assert_eq!(look(&mut t, &ctx, 0x0000_0000_0000_1010), Some(0x5010));
    assert_eq!(look(&mut t, &ctx, 0xa500_0000_0000_1020), Some(0x5020));
    assert_eq!(t.entries().next().map(|e| e.base), Some(0x1000));
}

#[test]
fn context_without_tbi_does_not_ignore_the_top_byte() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));

    assert_eq!(look(&mut t, &ctx, 0x5a00_0000_0000_1000), None);
}

#[test]
fn tbi_applies_per_address_half() {
    let mut t = tlb();
    let r = Regime::el1(SecSid::NonSecure);
    let ttb1_only = Context::new(r, StageKind::S1, Some(1), Some(2), false, [false, true]);
    fill(&mut t, &ttb1_only, 0xffff_ffff_ffff_0000, page(0x5000, K4));
    fill(&mut t, &ttb1_only, 0x1000, page(0x6000, K4));

    assert_eq!(look(&mut t, &ttb1_only, 0x00ff_ffff_ffff_0000), Some(0x5000));
    assert_eq!(look(&mut t, &ttb1_only, 0x5a00_0000_0000_1000), None);
}

#[test]
fn lookup_traces_hits_and_misses_and_fill_traces_the_size() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    let mut tr = VecTrace::new();

    t.lookup(&ctx, 0x1000, false, &mut tr);
    t.fill(&ctx, 0x1000, &page(0x5000, K4), &mut tr);
    t.lookup(&ctx, 0x1008, false, &mut tr);

    let sec_sid = SecSid::NonSecure;
    assert_eq!(
        tr.take(),
        vec![
            TraceEvent::TlbMiss { sec_sid, iova: 0x1000 },
            TraceEvent::TlbFill { sec_sid, iova: 0x1000, size: K4 },
            TraceEvent::TlbHit { sec_sid, iova: 0x1008 },
        ]
    );
}

#[test]
fn fill_rejects_sizes_that_are_not_a_power_of_two_of_at_least_4k() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);

    assert!(!fill(&mut t, &ctx, 0x1000, page(0x5000, 0x3000)));
    assert!(!fill(&mut t, &ctx, 0x1000, page(0x5000, 0x800)));
    assert!(t.is_empty());
}

// ---- invalidation (scopes built by hand; command decoding is tested in `invalidate`) ----

fn nh(vmid: Option<u16>, asid: AsidScope, range: Option<AddrRange>) -> TlbScope {
    TlbScope {
        sec: SecSid::NonSecure,
        els: ElSet::EL1,
        stages: StageSet::S1_ANY,
        vmid,
        asid,
        range,
    }
}

#[test]
fn invalidated_entry_is_not_served_from_its_warm_alias() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));
    assert_eq!(look(&mut t, &ctx, 0x1000), Some(0x5000));

    let n = t.invalidate(&nh(Some(1), AsidScope::Any, None));

    assert_eq!(n, 1);
    assert_eq!(look(&mut t, &ctx, 0x1000), None);
}

#[test]
fn a_reused_slot_does_not_answer_for_the_entry_it_used_to_hold() {
    let mut t = tlb();
    let a = ns_s1(1, 2);
    let b = ns_s1(1, 3);
    fill(&mut t, &a, 0x1000, page(0x5000, K4));
    assert_eq!(look(&mut t, &a, 0x1000), Some(0x5000));
    t.invalidate(&nh(None, AsidScope::NonGlobal(2), None));

    fill(&mut t, &b, 0x1000, page(0x9000, K4));

    assert_eq!(look(&mut t, &a, 0x1000), None);
    assert_eq!(look(&mut t, &b, 0x1000), Some(0x9000));
}

#[test]
fn asid_scope_leaves_global_entries() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));
    fill(&mut t, &ctx, 0x2000, global(0x6000, K4));

    let n = t.invalidate(&nh(Some(1), AsidScope::NonGlobal(2), None));

    assert_eq!(n, 1);
    assert_eq!(look(&mut t, &ctx, 0x1000), None);
    assert_eq!(look(&mut t, &ctx, 0x2000), Some(0x6000));
}

#[test]
fn asid_or_global_scope_removes_global_entries_and_leaves_other_asids() {
    let mut t = tlb();
    fill(&mut t, &ns_s1(1, 2), 0x1000, page(0x5000, K4));
    fill(&mut t, &ns_s1(1, 3), 0x1000, page(0x6000, K4));
    fill(&mut t, &ns_s1(1, 4), 0x1000, global(0x7000, K4));
    // The global entry also holds 0x1000 for ASID 3 and 2; their own entries are found first.

    let n = t.invalidate(&nh(Some(1), AsidScope::AsidOrGlobal(2), Some(AddrRange::at(0x1000))));

    assert_eq!(n, 2);
    assert_eq!(look(&mut t, &ns_s1(1, 2), 0x1000), None);
    assert_eq!(look(&mut t, &ns_s1(1, 3), 0x1000), Some(0x6000));
}

#[test]
fn vmid_scope_leaves_other_vmids() {
    let mut t = tlb();
    fill(&mut t, &ns_s1(1, 2), 0x1000, page(0x5000, K4));
    fill(&mut t, &ns_s1(2, 2), 0x1000, page(0x6000, K4));

    t.invalidate(&nh(Some(1), AsidScope::Any, None));

    assert_eq!(look(&mut t, &ns_s1(1, 2), 0x1000), None);
    assert_eq!(look(&mut t, &ns_s1(2, 2), 0x1000), Some(0x6000));
}

#[test]
fn vmid_scope_also_covers_entries_without_a_vmid_tag() {
    let mut t = tlb();
    let no_vmid = Context::s1(SecSid::NonSecure, None, 2);
    fill(&mut t, &no_vmid, 0x1000, page(0x5000, K4));

    assert_eq!(t.invalidate(&nh(Some(1), AsidScope::Any, None)), 1);
}

#[test]
fn stage1_scope_leaves_stage2_only_entries() {
    let mut t = tlb();
    let s2 = Context::s2(SecSid::NonSecure, 1);
    fill(&mut t, &s2, 0x1000, page(0x5000, K4));
    fill(&mut t, &Context::nested(SecSid::NonSecure, 1, 2), 0x1000, page(0x6000, K4));

    let n = t.invalidate(&nh(Some(1), AsidScope::Any, None));

    assert_eq!(n, 1);
    assert_eq!(look(&mut t, &s2, 0x1000), Some(0x5000));
}

#[test]
fn range_removes_a_block_it_only_partly_overlaps() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x4020_0000, page(0x9000_0000, M2));

    let n = t.invalidate(&nh(None, AsidScope::Any, Some(AddrRange::sized(0x403f_f000, K4))));

    assert_eq!(n, 1);
    assert_eq!(look(&mut t, &ctx, 0x4020_0000), None);
}

#[test]
fn range_leaves_entries_just_outside_it() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    for va in [0x1000, 0x2000, 0x3000, 0x4000] {
        fill(&mut t, &ctx, va, page(va + 0x10_0000, K4));
    }

    let n = t.invalidate(&nh(None, AsidScope::Any, Some(AddrRange::sized(0x2000, 0x2000))));

    assert_eq!(n, 2);
    assert_eq!(look(&mut t, &ctx, 0x1000), Some(0x10_1000));
    assert_eq!(look(&mut t, &ctx, 0x2000), None);
    assert_eq!(look(&mut t, &ctx, 0x3000), None);
    assert_eq!(look(&mut t, &ctx, 0x4000), Some(0x10_4000));
}

#[test]
fn single_address_inside_a_block_removes_the_block() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x4020_0000, page(0x9000_0000, M2));

    assert_eq!(t.invalidate(&nh(None, AsidScope::Any, Some(AddrRange::at(0x4031_2000)))), 1);
}

#[test]
fn range_ending_at_the_top_of_the_address_space_covers_the_last_page() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0xffff_ffff_ffff_f000, page(0x5000, K4));

    let r = AddrRange::sized(0xffff_ffff_fff0_0000, 1 << 60);

    assert_eq!(r.last, u64::MAX);
    assert_eq!(t.invalidate(&nh(None, AsidScope::Any, Some(r))), 1);
}

#[test]
fn scope_of_another_security_state_or_regime_leaves_the_entry() {
    let mut t = tlb();
    fill(&mut t, &ns_s1(1, 2), 0x1000, page(0x5000, K4));
    let el2 = Regime { sec: SecSid::NonSecure, el: El::El2 };
    fill(
        &mut t,
        &Context::new(el2, StageKind::S1, None, None, false, [false; 2]),
        0x1000,
        page(0x6000, K4),
    );

    let secure = TlbScope::all_el1(SecSid::Secure);
    assert_eq!(t.invalidate(&secure), 0);
    assert_eq!(t.invalidate(&TlbScope::all_el1(SecSid::NonSecure)), 1);
    assert_eq!(t.len(), 1);
    assert_eq!(t.entries().next().map(|e| e.regime.el), Some(El::El2));
}

#[test]
fn removing_the_only_block_keeps_pages_of_other_sizes_reachable() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x4020_0000, page(0x9000_0000, M2));
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));
    t.invalidate(&nh(None, AsidScope::Any, Some(AddrRange::at(0x4020_0000))));

    t.invalidate(&nh(None, AsidScope::Any, Some(AddrRange::at(0x9999_0000))));

    assert_eq!(look(&mut t, &ctx, 0x1000), Some(0x5000));
    assert_eq!(look(&mut t, &ctx, 0x4020_0000), None);
}

#[test]
fn clear_empties_the_tlb() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));
    look(&mut t, &ctx, 0x1000);

    assert_eq!(t.clear(), 1);
    assert!(t.is_empty());
    assert_eq!(look(&mut t, &ctx, 0x1000), None);
}

#[test]
fn scope_renders_its_tags_and_range() {
    let s = nh(Some(1), AsidScope::AsidOrGlobal(2), Some(AddrRange::sized(0x1000, 0x3000)));

    assert_eq!(s.to_string(), "[el1 s1|nested vmid=0x1 asid=0x2+global 0x1000..=0x3fff]");
}

// ---- policies and bounds ----

#[test]
fn never_policy_keeps_nothing() {
    let mut t = Tlb::new(CachePolicy::Never, 16);
    let ctx = ns_s1(1, 2);

    assert!(!fill(&mut t, &ctx, 0x1000, page(0x5000, K4)));
    assert_eq!(look(&mut t, &ctx, 0x1000), None);
    assert!(t.is_empty());
}

#[test]
fn normal_policy_evicts_at_capacity_and_never_grows_past_it() {
    let mut t = Tlb::new(CachePolicy::Normal, 4);
    let ctx = ns_s1(1, 2);

    for i in 0..10u64 {
        assert!(fill(&mut t, &ctx, i * K4, page(0x10_0000 + i * K4, K4)));
    }

    assert_eq!(t.len(), 4);
    assert_eq!(look(&mut t, &ctx, 9 * K4), Some(0x10_9000));
    assert_eq!(look(&mut t, &ctx, 0), None);
}

#[test]
fn sticky_policy_keeps_old_entries_and_drops_new_fills_at_capacity() {
    let mut t = Tlb::new(CachePolicy::Sticky, 4);
    let ctx = ns_s1(1, 2);

    let kept: Vec<bool> =
        (0..6u64).map(|i| fill(&mut t, &ctx, i * K4, page(0x10_0000 + i * K4, K4))).collect();

    assert_eq!(kept, [true, true, true, true, false, false]);
    assert_eq!(t.len(), 4);
    assert_eq!(look(&mut t, &ctx, 0), Some(0x10_0000));
    assert_eq!(look(&mut t, &ctx, 5 * K4), None);
}

#[test]
fn sticky_policy_accepts_fills_again_once_an_invalidation_frees_room() {
    let mut t = Tlb::new(CachePolicy::Sticky, 2);
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));
    fill(&mut t, &ctx, 0x2000, page(0x6000, K4));
    t.invalidate(&nh(None, AsidScope::Any, Some(AddrRange::at(0x1000))));

    assert!(fill(&mut t, &ctx, 0x3000, page(0x7000, K4)));
    assert_eq!(look(&mut t, &ctx, 0x2000), Some(0x6000));
}

#[test]
fn sticky_fill_at_capacity_is_traced_as_not_cached() {
    let mut t = Tlb::new(CachePolicy::Sticky, 1);
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x1000, page(0x5000, K4));
    let mut tr = VecTrace::new();

    t.fill(&ctx, 0x2000, &page(0x6000, K4), &mut tr);

    assert!(matches!(&tr.events[..], [TraceEvent::Note(n)] if n.contains("not cached")));
}

#[test]
fn many_pages_of_one_huge_block_overflow_the_aliases_and_still_hit() {
    let mut t = Tlb::new(CachePolicy::Normal, 1);
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0, page(0x4000_0000, 1 << 30));

    let misses =
        (0..(4 * ALIASES_PER_SLOT as u64)).filter(|i| look(&mut t, &ctx, i * K4).is_none()).count();

    assert_eq!(misses, 0);
    assert!(t.alias.len() <= ALIASES_PER_SLOT);
}

#[test]
fn warm_lookup_is_served_by_the_alias_without_probing() {
    let mut t = tlb();
    let ctx = ns_s1(1, 2);
    fill(&mut t, &ctx, 0x4020_0000, page(0x9000_0000, M2));
    look(&mut t, &ctx, 0x4030_0000);
    // Drop the index: only the alias can answer now.
    let index = core::mem::take(&mut t.index);

    assert_eq!(look(&mut t, &ctx, 0x4030_0010), Some(0x9010_0010));
    t.index = index;
}

// ---- configuration cache ----

fn cc() -> ConfigCache<u32> {
    ConfigCache::new(CachePolicy::Normal, 64)
}

const NS: SecSid = SecSid::NonSecure;

#[test]
fn config_is_cached_per_security_state_sid_and_ssid() {
    let mut c = cc();
    c.insert(NS, 5, None, 1);
    c.insert(NS, 5, Some(0), 2);
    c.insert(SecSid::Secure, 5, None, 3);

    assert_eq!(c.get(NS, 5, None), Some(&1));
    assert_eq!(c.get(NS, 5, Some(0)), Some(&2));
    assert_eq!(c.get(SecSid::Secure, 5, None), Some(&3));
    assert_eq!(c.get(NS, 5, Some(1)), None);
    assert_eq!(c.get(NS, 6, None), None);
}

#[test]
fn cfgi_ste_scope_removes_every_substream_of_the_sid_only() {
    let mut c = cc();
    for (sid, ssid) in [(5, None), (5, Some(0)), (5, Some(9)), (6, None)] {
        c.insert(NS, sid, ssid, 0);
    }
    c.insert(SecSid::Secure, 5, None, 0);

    assert_eq!(c.invalidate(NS, CfgScope::Sid(5)), 3);
    assert_eq!(c.get(NS, 6, None), Some(&0));
    assert_eq!(c.get(SecSid::Secure, 5, None), Some(&0));
}

#[test]
fn cfgi_cd_scope_removes_one_substream() {
    let mut c = cc();
    for ssid in [None, Some(0), Some(3), Some(4)] {
        c.insert(NS, 5, ssid, 0);
    }

    assert_eq!(c.invalidate(NS, CfgScope::Cd { sid: 5, ssid: 3 }), 1);
    assert_eq!(c.get(NS, 5, Some(4)), Some(&0));
    assert_eq!(c.get(NS, 5, None), Some(&0));
}

#[test]
fn cfgi_cd_of_substream_0_also_removes_the_no_substream_configuration() {
    let mut c = cc();
    for ssid in [None, Some(0), Some(3)] {
        c.insert(NS, 5, ssid, 0);
    }

    assert_eq!(c.invalidate(NS, CfgScope::Cd { sid: 5, ssid: 0 }), 2);
    assert_eq!(c.get(NS, 5, Some(3)), Some(&0));
}

#[test]
fn sid_range_covers_two_to_the_range_plus_one_aligned_sids() {
    let r = |sid, range| CfgScope::SidRange { sid, range };

    assert!(r(5, 0).covers(4, None) && r(5, 0).covers(5, None));
    assert!(!r(5, 0).covers(6, None) && !r(5, 0).covers(3, None));
    assert!(r(0x123, 3).covers(0x120, None) && r(0x123, 3).covers(0x12f, Some(1)));
    assert!(!r(0x123, 3).covers(0x130, None) && !r(0x123, 3).covers(0x11f, None));
}

#[test]
fn sid_range_30_covers_half_the_sid_space_and_31_all_of_it() {
    let r = |sid, range| CfgScope::SidRange { sid, range };

    assert!(r(0x8000_0001, 30).covers(u32::MAX, None));
    assert!(!r(0x8000_0001, 30).covers(0x7fff_ffff, None));
    assert!(r(0x8000_0001, 31).covers(0, None) && r(0, 31).covers(u32::MAX, None));
}

#[test]
fn config_cache_never_policy_keeps_nothing() {
    let mut c = ConfigCache::new(CachePolicy::Never, 64);

    assert!(!c.insert(NS, 5, None, 1));
    assert_eq!(c.get(NS, 5, None), None);
}

#[test]
fn config_cache_normal_policy_is_bounded() {
    let mut c = ConfigCache::new(CachePolicy::Normal, 8);

    for sid in 0..100 {
        assert!(c.insert(NS, sid, None, sid));
    }

    assert_eq!(c.len(), 8);
    assert_eq!(c.get(NS, 99, None), Some(&99));
}

#[test]
fn config_cache_sticky_policy_stops_inserting_at_its_bound() {
    let mut c = ConfigCache::new(CachePolicy::Sticky, 8);

    let kept = (0..10).filter(|&sid| c.insert(NS, sid, None, sid)).count();

    assert_eq!(kept, 8);
    assert_eq!(c.get(NS, 0, None), Some(&0));
    assert_eq!(c.get(NS, 9, None), None);
}

#[test]
fn config_cache_replacing_a_value_at_capacity_evicts_nothing() {
    let mut c = ConfigCache::new(CachePolicy::Sticky, 2);
    c.insert(NS, 1, None, 1);
    c.insert(NS, 2, None, 2);

    assert!(c.insert(NS, 2, None, 3));
    assert_eq!((c.get(NS, 1, None), c.get(NS, 2, None)), (Some(&1), Some(&3)));
}
