//! Cost of the TLB itself, without tracing: a warm lookup (one alias probe), a lookup that finds
//! its entry through the size index (first touch of a page of a cached block), and a lookup
//! with 4096 entries of mixed sizes and ASIDs present.

use divan::{Bencher, black_box};
use smmu::tlb::{Context, Fill, Tlb};
use smmu::walk::Granule;
use smmu::{CachePolicy, NoTrace, Pas, Perms, SecSid};

fn main() {
    divan::main();
}

const RW: Perms = Perms { read: true, write: true, exec: false };

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
