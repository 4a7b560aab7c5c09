//! Random bytes as STEs, CDs, L1 descriptors and translation tables: the pipeline never panics
//! and every transaction ends in a translation or an abort whose event, if any, was produced.
//!
//! Pointer fields are patched, with some probability, to point back into the randomised regions
//! so that walks go deep instead of stopping at the first unbacked address.

use proptest::prelude::*;
use smmu::mem::write_obj;
use smmu::spec::cd::Cd;
use smmu::spec::event::EventRecord;
use smmu::spec::regs::{Cr0, Cr2, QueueBase, StrtabBaseCfg, queue_index_mask, strtab_fmt};
use smmu::spec::ste::Ste;
use smmu::{
    Abort, AbortReason, NoTrace, Pas, PhysMem, SecSid, Smmu, SmmuConfig, SparseMem, Txn, VecTrace,
    Window,
};

const RAM: u64 = 0x4000_0000;
/// Stream table (linear STEs or L1STDs), 64 entries.
const STRTAB: u64 = 0x4100_0000;
/// Level-2 stream tables.
const L2STRTAB: u64 = 0x4110_0000;
/// CD tables (CDs or L1CDs) and CD leaf tables.
const CDS: u64 = 0x4200_0000;
/// Translation tables: 16 pages of random descriptors.
const POOL: u64 = 0x4300_0000;
const POOL_PAGES: u64 = 16;
const EVENTQ: u64 = 0x4400_0000;

/// EVENTQ_BASE: an 8-entry queue at `EVENTQ`.
fn eventq_base() -> u64 {
    let mut q = QueueBase(0);
    q.set_addr(EVENTQ >> 5);
    q.set_log2size(3);
    q.0
}

/// An S1ContextPtr: a CD (or CD table) in the CD region, or a random value.
fn cd_pointer() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => (0..64u64).prop_map(|i| CDS + i * 64),
        1 => any::<u64>(),
    ]
}

/// A translation table descriptor: a table pointing into the pool, a leaf in RAM, or raw bits.
fn descriptor() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => (0..POOL_PAGES, any::<u64>()).prop_map(|(p, hi)| (hi & 0xfff0_0000_0000_0000) | POOL | (p << 12) | 0b11),
        3 => (0..0x1000u64, prop_oneof![Just(0x763u64), Just(0x7e3), Just(0x761), 0..0x1000u64], any::<u64>())
            .prop_map(|(page, attrs, hi)| (hi & 0xfff0_0000_0000_0000) | RAM | (page << 12) | attrs),
        1 => any::<u64>(),
    ]
}

/// Up to three random bit flips of a 64-byte structure.
fn flips() -> impl Strategy<Value = Vec<(usize, u32)>> {
    proptest::collection::vec((0..8usize, 0..64u32), 0..4)
}

fn apply(mut w: [u64; 8], flips: &[(usize, u32)]) -> [u64; 8] {
    for &(word, bit) in flips {
        w[word] ^= 1 << bit;
    }
    w
}

/// A valid STE (stage 1, stage 2, nested or bypass, tables in the pool) with a few bits
/// flipped, or random bytes.
fn ste() -> impl Strategy<Value = Ste> {
    prop_oneof![
        3 => (0..4u64, 0..POOL_PAGES, cd_pointer(), flips()).prop_map(|(kind, page, ctx, f)| {
            let mut ste = Ste::default();
            let mut b = ste.bits_mut();
            b.set_v(true);
            b.set_config([0b100, 0b101, 0b110, 0b111][kind as usize]);
            b.set_s1_context_ptr((ctx >> 6) & ((1 << 38) - 1));
            b.set_s2t0sz(20);
            b.set_s2sl0(2);
            b.set_s2ps(5);
            b.set_s2aa64(true);
            b.set_s2r(true);
            b.set_s2ttb((POOL + page * 0x1000) >> 4);
            Ste::from_words(apply(ste.to_words(), &f))
        }),
        1 => any::<[u64; 8]>().prop_map(Ste::from_words),
    ]
}

/// A valid CD (TTB0 and TTB1 in the pool) with a few bits flipped, or random bytes.
fn cd() -> impl Strategy<Value = Cd> {
    prop_oneof![
        3 => (0..POOL_PAGES, 0..POOL_PAGES, any::<bool>(), flips()).prop_map(|(p0, p1, epd1, f)| {
            let mut cd = Cd::default();
            let mut b = cd.bits_mut();
            b.set_v(true);
            b.set_t0sz(16);
            b.set_t1sz(16);
            b.set_tg1(0b10);
            b.set_epd1(epd1);
            b.set_ips(5);
            b.set_aa64(true);
            b.set_a(true);
            b.set_r(true);
            b.set_ttb0((POOL + p0 * 0x1000) >> 4);
            b.set_ttb1((POOL + p1 * 0x1000) >> 4);
            Cd::from_words(apply(cd.to_words(), &f))
        }),
        1 => any::<[u64; 8]>().prop_map(Cd::from_words),
    ]
}

#[derive(Debug, Clone)]
struct World {
    full: bool,
    strtab_cfg: u32,
    strtab_base: u64,
    eventq_base: u64,
    recinvsid: bool,
    stes: Vec<Ste>,
    l1: Vec<u64>,
    cds: Vec<Cd>,
    l1cds: Vec<u64>,
    pool: Vec<u64>,
    txns: Vec<Txn>,
}

fn txn() -> impl Strategy<Value = Txn> {
    (
        prop_oneof![4 => 0..64u32, 1 => any::<u32>()],
        prop_oneof![2 => Just(None), 1 => (0..256u32).prop_map(Some), 1 => any::<u32>().prop_map(Some)],
        any::<(bool, bool, bool)>(),
        prop_oneof![2 => any::<u64>(), 2 => 0..(1u64 << 48), 1 => Just(0x0000_0080_8060_4567)],
    )
        .prop_map(|(sid, ssid, (rnw, pnu, ind), iova)| Txn {
            sec_sid: SecSid::NonSecure,
            sid,
            ssid: ssid.map(|s| s & 0xf_ffff),
            ns: true,
            rnw,
            pnu,
            ind,
            iova,
            len: 4,
        })
}

fn world() -> impl Strategy<Value = World> {
    (
        any::<bool>(),
        prop_oneof![
            // Linear, 64 STEs.
            3 => Just(StrtabBaseCfg(6).0),
            // 2-level with a sane SPLIT and LOG2SIZE.
            2 => (prop_oneof![Just(6u32), Just(8), Just(10), 0..32u32], 6..=16u32)
                .prop_map(|(split, log2)| {
                    let mut c = StrtabBaseCfg(0);
                    c.set_fmt(strtab_fmt::TWO_LEVEL);
                    c.set_split(split);
                    c.set_log2size(log2);
                    c.0
                }),
            1 => any::<u32>(),
        ],
        prop_oneof![4 => Just(STRTAB), 1 => any::<u64>()],
        prop_oneof![4 => Just(eventq_base()), 1 => any::<u64>()],
        any::<bool>(),
        proptest::collection::vec(ste(), 4),
        proptest::collection::vec(
            prop_oneof![
                3 => (0..16u64, 1..=7u64).prop_map(|(p, span)| (L2STRTAB + p * 0x1000) | span),
                1 => any::<u64>(),
            ],
            4,
        ),
        proptest::collection::vec(cd(), 4),
        proptest::collection::vec(
            (any::<bool>(), 0..4u64)
                .prop_map(|(v, i)| (CDS + 0x1_0000 + i * 0x1_0000) | u64::from(v)),
            4,
        ),
        proptest::collection::vec(descriptor(), 64),
        proptest::collection::vec(txn(), 1..6),
    )
        .prop_map(
            |(
                full,
                strtab_cfg,
                strtab_base,
                eventq_base,
                recinvsid,
                stes,
                l1,
                cds,
                l1cds,
                pool,
                txns,
            )| {
                World {
                    full,
                    strtab_cfg,
                    strtab_base,
                    eventq_base,
                    recinvsid,
                    stes,
                    l1,
                    cds,
                    l1cds,
                    pool,
                    txns,
                }
            },
        )
}

/// Lays the random structures out: STEs and L1STDs at the table bases, CDs at the CD table
/// and at every L1CD leaf, descriptors spread over every pool page.
fn build(w: &World) -> (Smmu, SparseMem) {
    let mut mem = SparseMem::new();
    mem.add_window(Window { name: "ram", base: RAM, size: 256 << 20, pas_mask: 0xf }).unwrap();
    let put = |mem: &mut SparseMem, a: u64, v: u64| {
        mem.write(a, Pas::NonSecure, &v.to_le_bytes()).unwrap();
    };
    for sid in 0..64u64 {
        let ste = &w.stes[(sid % 4) as usize];
        write_obj(&mut mem, STRTAB + sid * 64, Pas::NonSecure, ste).unwrap();
    }
    // A few L1STDs over the first STEs (2-level tables read 8-byte entries from STRTAB).
    for (i, l1) in w.l1.iter().enumerate() {
        put(&mut mem, STRTAB + 8 * i as u64, *l1);
    }
    for p in 0..16u64 {
        for i in 0..16u64 {
            let ste = &w.stes[((p + i) % 4) as usize];
            write_obj(&mut mem, L2STRTAB + p * 0x1000 + i * 64, Pas::NonSecure, ste).unwrap();
        }
    }
    for i in 0..64u64 {
        write_obj(&mut mem, CDS + i * 64, Pas::NonSecure, &w.cds[(i % 4) as usize]).unwrap();
    }
    for (i, l1) in w.l1cds.iter().enumerate() {
        put(&mut mem, CDS + 8 * i as u64, *l1);
        let leaf = l1 & !0xfff;
        for j in 0..64u64 {
            write_obj(&mut mem, leaf + j * 64, Pas::NonSecure, &w.cds[(j % 4) as usize]).unwrap();
        }
    }
    for page in 0..POOL_PAGES {
        for slot in 0..512u64 {
            let d = w.pool[((page * 7 + slot) % 64) as usize];
            put(&mut mem, POOL + page * 0x1000 + slot * 8, d);
        }
    }
    let cfg = if w.full { SmmuConfig::full() } else { SmmuConfig::qemu_virt() };
    let mut smmu = Smmu::new(cfg);
    let b = smmu.bank_mut(SecSid::NonSecure);
    let mut cr0 = Cr0(0);
    cr0.set_smmuen(true);
    cr0.set_eventqen(true);
    b.cr0 = cr0.0;
    b.cr0ack = cr0.0;
    let mut cr2 = Cr2(0);
    cr2.set_recinvsid(w.recinvsid);
    b.cr2 = cr2.0;
    b.strtab_base = w.strtab_base;
    b.strtab_base_cfg = w.strtab_cfg;
    b.eventq.base = w.eventq_base;
    (smmu, mem)
}

fn check(w: &World, trace: bool) {
    let (mut smmu, mut mem) = build(w);
    let mut vt = VecTrace::new();
    for t in &w.txns {
        let before = smmu.bank(SecSid::NonSecure).eventq.prod;
        let out = if trace {
            smmu.translate(t, &mut mem, &mut vt)
        } else {
            smmu.translate(t, &mut mem, &mut NoTrace)
        };
        let after = smmu.bank(SecSid::NonSecure).eventq.prod;
        match out {
            Ok(tr) => {
                assert!(tr.size.is_power_of_two() && tr.size >= 4096, "{tr:?}");
                assert_eq!(before, after, "a translation wrote an event");
            }
            Err(Abort { reason, event }) => {
                if let Some(e) = event {
                    assert_eq!(reason, AbortReason::Fault(e));
                }
                if event.is_none() {
                    assert_eq!(before, after, "a silent abort wrote an event");
                }
            }
        }
        // PROD only moves within its index and wrap bits.
        let b = smmu.bank(SecSid::NonSecure);
        let log2 = QueueBase(b.eventq.base).log2size() as u32;
        let mask = queue_index_mask(log2.min(smmu.config().idr1().eventqs()));
        assert_eq!(after & !mask, before & !mask);
        if after != before {
            let rec: EventRecord = smmu::mem::read_obj(
                &mut mem,
                EVENTQ + 32 * u64::from(before & (mask >> 1)),
                Pas::NonSecure,
            )
            .unwrap_or_default();
            if w.eventq_base == eventq_base() {
                assert_eq!(rec.fields().sid, t.sid);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_configuration_never_panics_without_tracing(w in world()) {
        check(&w, false);
    }

    #[test]
    fn random_configuration_never_panics_with_tracing(w in world()) {
        check(&w, true);
    }
}
