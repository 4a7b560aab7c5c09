//! Cost of a translation through `Smmu::translate`, without tracing: warm (configuration cache
//! and TLB hits) and cold (`CachePolicy::Never`: STE and CD fetch and a 4-level 4K stage-1 walk
//! every time). Then the TLB alone: a warm lookup (one alias probe), a lookup that finds its
//! entry through the size index (first touch of a page of a cached block), and a lookup with
//! 4096 entries of mixed sizes and ASIDs present.

use divan::{Bencher, black_box};
use smmu::mem::write_obj;
use smmu::spec::cd::Cd;
use smmu::spec::regs::{Cr0, StrtabBaseCfg};
use smmu::spec::ste::{Ste, config};
use smmu::tlb::{Context, Fill, Tlb};
use smmu::walk::Granule;
use smmu::{
    CachePolicy, NoTrace, Pas, Perms, PhysMem, SecSid, Smmu, SmmuConfig, SparseMem, Txn, Window,
};

fn main() {
    divan::main();
}

const RW: Perms = Perms { read: true, write: true, exec: false };

const RAM: u64 = 0x4000_0000;
const STRTAB: u64 = 0x4e17_9000;
const CD_ADDR: u64 = 0x4e17_8fc0;
const DATA: u64 = 0x4ecb_a000;
const IOVA: u64 = 0x0000_0080_8060_4567;
const SID: u32 = 8;
/// Stage-1 page: AF, SH=11, AP=01, nG, valid page.
const S1_PAGE: u64 = 0xf63;

/// An SMMU with a linear Stream table, a stage-1 STE for `SID` and its CD, and 4-level 4K
/// tables mapping `IOVA` to `DATA`.
fn machine(policy: CachePolicy) -> (Smmu, SparseMem) {
    let mut mem = SparseMem::new();
    mem.add_window(Window { name: "ram", base: RAM, size: 512 << 20, pas_mask: 0xf }).unwrap();
    let mut smmu = Smmu::new(SmmuConfig { cache_policy: policy, ..SmmuConfig::qemu_virt() });
    let mut cr0 = Cr0(0);
    cr0.set_smmuen(true);
    let mut strtab_cfg = StrtabBaseCfg(0);
    strtab_cfg.set_log2size(5);
    let b = smmu.bank_mut(SecSid::NonSecure);
    (b.cr0, b.cr0ack) = (cr0.0, cr0.0);
    b.strtab_base = STRTAB;
    b.strtab_base_cfg = strtab_cfg.0;

    let mut ste = Ste::default();
    ste.bits_mut().set_v(true);
    ste.bits_mut().set_config(config::S1_TRANS);
    ste.bits_mut().set_s1_context_ptr(CD_ADDR >> 6);
    write_obj(&mut mem, STRTAB + 64 * u64::from(SID), Pas::NonSecure, &ste).unwrap();

    let root = 0x4800_0000;
    let mut cd = Cd::default();
    let mut c = cd.bits_mut();
    c.set_v(true);
    c.set_t0sz(16);
    c.set_epd1(true);
    c.set_ips(4);
    c.set_aa64(true);
    c.set_a(true);
    c.set_asid(1);
    c.set_ttb0(root >> 4);
    write_obj(&mut mem, CD_ADDR, Pas::NonSecure, &cd).unwrap();

    let mut table = root;
    for level in 0..4u64 {
        let slot = table + 8 * ((IOVA >> (39 - 9 * level)) & 511);
        let next = root + 0x1000 * (level + 1);
        let desc = if level == 3 { DATA | S1_PAGE } else { next | 0b11 };
        mem.write(slot, Pas::NonSecure, &desc.to_le_bytes()).unwrap();
        table = next;
    }
    (smmu, mem)
}

fn read() -> Txn {
    Txn::ns(SID, IOVA, 4, true)
}

#[divan::bench]
fn translate_warm(b: Bencher) {
    let (mut smmu, mut mem) = machine(CachePolicy::Normal);
    assert_eq!(smmu.translate(&read(), &mut mem, &mut NoTrace).unwrap().pa, DATA | 0x567);

    b.bench_local(|| smmu.translate(black_box(&read()), &mut mem, &mut NoTrace));
}

#[divan::bench]
fn translate_cold_4_level_walk(b: Bencher) {
    let (mut smmu, mut mem) = machine(CachePolicy::Never);
    assert_eq!(smmu.translate(&read(), &mut mem, &mut NoTrace).unwrap().pa, DATA | 0x567);

    b.bench_local(|| smmu.translate(black_box(&read()), &mut mem, &mut NoTrace));
}

fn fill(oa: u64, size: u64, global: bool) -> Fill {
    Fill {
        oa,
        size,
        pas: Pas::NonSecure,
        perms: RW,
        privileged: true,
        global,
        granule: Granule::G4K,
        level: if size == 0x1000 { 3 } else { 2 },
        s1_perms: Some(RW),
        s2_perms: None,
        ipa: 0,
    }
}

#[divan::bench]
fn tlb_lookup_warm(b: Bencher) {
    let mut t = Tlb::new(CachePolicy::Normal, Tlb::DEFAULT_CAPACITY);
    let ctx = Context::s1(SecSid::NonSecure, Some(1), 1);
    t.fill(&ctx, 0x1234_5000, &fill(0x8000_0000, 0x1000, false), &mut NoTrace);

    b.bench_local(|| t.lookup(black_box(&ctx), black_box(0x1234_5678), true, &mut NoTrace));
}

#[divan::bench]
fn tlb_lookup_full_mixed_sizes(b: Bencher) {
    let mut t = Tlb::new(CachePolicy::Normal, Tlb::DEFAULT_CAPACITY);
    for i in 0..Tlb::DEFAULT_CAPACITY as u64 {
        let ctx = Context::s1(SecSid::NonSecure, Some(1), (i % 7) as u16);
        let size = if i % 3 == 0 { 0x20_0000 } else { 0x1000 };
        t.fill(&ctx, i * 0x40_0000, &fill(0x8000_0000, size, i % 5 == 0), &mut NoTrace);
    }
    let ctx = Context::s1(SecSid::NonSecure, Some(1), 3);
    let va = 1234 * 0x40_0000 + 0x678;
    t.fill(&ctx, va, &fill(0x8000_0000, 0x1000, false), &mut NoTrace);
    assert!(t.lookup(&ctx, va, true, &mut NoTrace).is_some());

    b.bench_local(|| t.lookup(black_box(&ctx), black_box(va), true, &mut NoTrace));
}

#[divan::bench]
fn tlb_lookup_new_page_of_cached_block(b: Bencher) {
    // Each iteration touches a page of a 1 GiB block it has not touched yet: an alias miss,
    // one index probe per size present, and an alias insert.
    let mut t = Tlb::new(CachePolicy::Normal, Tlb::DEFAULT_CAPACITY);
    let ctx = Context::s1(SecSid::NonSecure, Some(1), 1);
    t.fill(&ctx, 0, &fill(0x4000_0000, 1 << 30, false), &mut NoTrace);
    t.fill(&ctx, 1 << 31, &fill(0x8000_0000, 0x1000, false), &mut NoTrace);
    let mut page = 0u64;

    b.bench_local(|| {
        page = (page + 1) % (1 << 18);
        t.lookup(black_box(&ctx), black_box(page << 12), true, &mut NoTrace)
    });
}
