//! Cost of one translation table walk over `SparseMem`, without tracing: a 4-level 4K stage-1
//! walk, a 4-level 4K stage-2 walk, and a nested 4K walk (stage 1 from level 0, stage 2 from
//! level 0, so 4 stage-1 fetches each behind a 4-level stage-2 walk, plus the output's).

use divan::{Bencher, black_box};
use smmu::spec::event::class::IN;
use smmu::walk::{Access, Granule, Regime, S1Cfg, S1Table, S2Cfg, walk_s1, walk_s2};
use smmu::{NoTrace, Pas, PhysMem, SparseMem, Window};

fn main() {
    divan::main();
}

const RAM: u64 = 0x4000_0000;
const VA: u64 = 0x0000_1234_5678_9abc;
const DATA: u64 = 0x4800_0000;
const TABLE: u64 = 0b11;
const PAGE: u64 = 0b11;
const AF: u64 = 1 << 10;
const S2AP_RW: u64 = 0b11 << 6;
const READ: Access = Access { rnw: true, pnu: true, ind: false };

struct Tables {
    mem: SparseMem,
    next: u64,
}

impl Tables {
    fn new() -> Tables {
        let mut mem = SparseMem::new();
        mem.add_window(Window { name: "ram", base: RAM, size: 256 << 20, pas_mask: 0xf }).unwrap();
        Tables { mem, next: RAM + 0x10_0000 }
    }

    fn alloc(&mut self) -> u64 {
        self.next += 0x1000;
        self.next - 0x1000
    }

    fn get(&mut self, a: u64) -> u64 {
        let mut b = [0; 8];
        self.mem.read(a, Pas::NonSecure, &mut b).unwrap();
        u64::from_le_bytes(b)
    }

    /// Maps the 4K page of `input` to `leaf` through a 4-level 4K table under `root`; returns
    /// the pages holding the tables walked.
    fn map4(&mut self, root: u64, input: u64, leaf: u64) -> [u64; 4] {
        let mut table = root;
        let mut pages = [0; 4];
        for (level, page) in pages.iter_mut().enumerate() {
            *page = table;
            let a = table + ((input >> (39 - 9 * level)) & 0x1ff) * 8;
            let v = if level == 3 {
                leaf
            } else {
                match self.get(a) {
                    d if d & 0b11 == TABLE => d,
                    _ => self.alloc() | TABLE,
                }
            };
            self.mem.write(a, Pas::NonSecure, &v.to_le_bytes()).unwrap();
            table = v & 0x0000_ffff_ffff_f000;
        }
        pages
    }
}

fn s1_cfg(ttb: u64) -> S1Cfg {
    let t = S1Table { ttb, tsz: 16, granule: Granule::G4K, had: false, walk_pas: Pas::NonSecure };
    S1Cfg {
        tables: [Some(t), None],
        tbi: [false; 2],
        oas_bits: 48,
        affd: false,
        record: true,
        asid: 1,
        wxn: false,
        pan: false,
        regime: Regime::El1,
    }
}

fn s2_cfg(ttb: u64) -> S2Cfg {
    S2Cfg {
        ttb,
        t0sz: 16,
        sl0: 2,
        granule: Granule::G4K,
        ps_bits: 48,
        affd: false,
        record: true,
        vmid: 1,
        xnx: false,
        walk_pas: Pas::NonSecure,
        out_pas: Pas::NonSecure,
    }
}

#[divan::bench]
fn s1_4k_4_levels(b: Bencher) {
    let mut t = Tables::new();
    let root = t.alloc();
    t.map4(root, VA, DATA | PAGE | AF);
    let cfg = s1_cfg(root);
    assert!(walk_s1(&cfg, None, VA, READ, &mut t.mem, &mut NoTrace).is_ok());

    b.bench_local(|| walk_s1(black_box(&cfg), None, black_box(VA), READ, &mut t.mem, &mut NoTrace));
}

#[divan::bench]
fn s2_4k_4_levels(b: Bencher) {
    let mut t = Tables::new();
    let root = t.alloc();
    t.map4(root, VA, DATA | PAGE | AF | S2AP_RW);
    let cfg = s2_cfg(root);
    assert!(walk_s2(&cfg, VA, READ, IN, &mut t.mem, &mut NoTrace).is_ok());

    b.bench_local(|| walk_s2(black_box(&cfg), black_box(VA), READ, IN, &mut t.mem, &mut NoTrace));
}

#[divan::bench]
fn nested_4k_4_plus_4_levels(b: Bencher) {
    let mut t = Tables::new();
    let s1_root = t.alloc();
    let ipa = 0x4c00_0000;
    let s1_pages = t.map4(s1_root, VA, ipa | PAGE | AF);
    let s2_root = t.alloc();
    for page in s1_pages {
        t.map4(s2_root, page, page | PAGE | AF | S2AP_RW);
    }
    t.map4(s2_root, ipa, DATA | PAGE | AF | S2AP_RW);
    let (s1, s2) = (s1_cfg(s1_root), s2_cfg(s2_root));
    assert_eq!(
        walk_s1(&s1, Some(&s2), VA, READ, &mut t.mem, &mut NoTrace).unwrap().oa,
        DATA | 0xabc
    );

    b.bench_local(|| {
        walk_s1(black_box(&s1), Some(black_box(&s2)), black_box(VA), READ, &mut t.mem, &mut NoTrace)
    });
}
