//! The walker against a slow reference walker written separately here, over random translation
//! tables for all three granules, stage 1, stage 2 and nested.
//!
//! Memory is procedural: every 8-byte word of the table pools is a pseudo-random descriptor
//! derived from (seed, address), so tables of any shape exist without being built, and table
//! pointers land back in the pools most of the time. The reference shares no code with the
//! walker: its geometry comes from the VMSA level tables, its descriptor fields from hand-written
//! bit positions, its permissions from the Arm ARM permission tables, and it walks recursively.
//! Results, faults and the traced descriptor reads must agree exactly.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use smmu::mem::{BusError, PhysMem};
use smmu::pas::Pas;
use smmu::spec::event::{class, id};
use smmu::trace::{DescKind, Perms, Stage, TraceEvent, VecTrace};
use smmu::walk::{
    Access, Fault, Granule, Regime, S1Cfg, S1Table, S2Cfg, WalkResult, s1_start_level, s2_start,
    walk_s1, walk_s2,
};

// ---------------------------------------------------------------------------------------------
// Procedural memory

/// Pool of table pages reachable from every PAS.
const POOL: u64 = 0x0400_0000;
const POOL_SIZE: u64 = 64 << 20;
/// Pool reachable only from Secure and Root.
const SPOOL: u64 = 0x0e00_0000;
const SPOOL_SIZE: u64 = 16 << 20;
/// Unmapped.
const HOLE: u64 = 0x2000_0000;

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A page-aligned address of one of the places a descriptor may point to; `near` in 32 picks
/// the table pool.
fn pick_address(h: u64, near: u64) -> u64 {
    let page = (h >> 8) >> 12;
    match h & 31 {
        k if k < near => POOL + ((page % (POOL_SIZE >> 12)) << 12),
        k if k < 30 => SPOOL + ((page % (SPOOL_SIZE >> 12)) << 12),
        30 => HOLE + ((page % 256) << 12),
        _ => (h >> 4) & 0x0000_ffff_ffff_f000,
    }
}

/// The descriptor-shaped word stored at `addr`. Odd seeds make benign tables (nearly always
/// valid, with the access flag, readable, pointing back into the pool), so that walks through
/// many levels and both stages also succeed; even seeds make every field a coin toss.
fn word(seed: u64, addr: u64) -> u64 {
    let h = mix(seed ^ addr.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let h2 = mix(h);
    let h3 = mix(h2);
    let benign = seed & 1 == 1;
    // P(x % n != 0) for the fields that decide whether walks get anywhere.
    let likely =
        |x: u64, n: u64, benign_n: u64| !x.is_multiple_of(if benign { benign_n } else { n });
    let rare = |x: u64| x.is_multiple_of(if benign { 8 } else { 4 });
    let mut d = pick_address(h2, if benign { 30 } else { 27 });
    d |= u64::from(likely(h, 16, 64)); // valid
    d |= u64::from(likely(h >> 6, 8, 32)) << 1; // table/page
    d |= (h3 & 0x1f) << 2; // AttrIndx, NS
    d |= u64::from(likely(h >> 12, 4, 16)) << 6; // AP[1] / S2AP read
    d |= (h >> 16 & 1) << 7; // AP[2] / S2AP write
    d |= (h3 >> 5 & 3) << 8; // SH
    d |= u64::from(likely(h >> 17, 8, 64)) << 10; // AF
    d |= (h >> 23 & 1) << 11; // nG
    if h >> 24 & 7 == 0 {
        d |= (h3 >> 7 & 0xf) << 48; // ignored OA[51:48]
    }
    d |= (h3 >> 11 & 3) << 51; // DBM, contiguous
    d |= u64::from(rare(h >> 27)) << 53; // PXN / XN[0]
    d |= u64::from(rare(h >> 31)) << 54; // UXN / XN[1]
    d |= (h3 >> 13 & 0xf) << 55; // software
    for (n, shift) in [(59, 35), (60, 39), (61, 43), (62, 47), (63, 51)] {
        d |= u64::from(rare(h >> shift)) << n; // table attributes
    }
    d
}

struct ProcMem {
    seed: u64,
}

impl PhysMem for ProcMem {
    fn read(&mut self, pa: u64, pas: Pas, buf: &mut [u8]) -> Result<(), BusError> {
        let len = buf.len() as u64;
        let inside = |base: u64, size: u64| pa >= base && pa - base <= size.saturating_sub(len);
        if inside(SPOOL, SPOOL_SIZE) {
            if !matches!(pas, Pas::Secure | Pas::Root) {
                return Err(BusError::Forbidden);
            }
        } else if !inside(POOL, POOL_SIZE) {
            return Err(BusError::Unassigned);
        }
        for (i, b) in buf.iter_mut().enumerate() {
            let a = pa + i as u64;
            *b = word(self.seed, a & !7).to_le_bytes()[(a & 7) as usize];
        }
        Ok(())
    }

    fn write(&mut self, _pa: u64, _pas: Pas, _buf: &[u8]) -> Result<(), BusError> {
        Err(BusError::Device)
    }
}

// ---------------------------------------------------------------------------------------------
// Reference walker

type Step = (Stage, u8, u64, Pas, u64, DescKind);

/// Bits of a 64-bit word from `lo` to `hi` inclusive, in place.
fn field(x: u64, hi: u32, lo: u32) -> u64 {
    let width = hi - lo + 1;
    let ones = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
    x & (ones << lo)
}

fn granule_bits(g: Granule) -> u32 {
    match g {
        Granule::G4K => 12,
        Granule::G16K => 14,
        Granule::G64K => 16,
    }
}

fn stride_of(g: Granule) -> u32 {
    granule_bits(g) - 3
}

/// Lowest input address bit resolved at each level (Arm ARM, VMSAv8-64 translation tables).
fn level_lsb(g: Granule, level: u8) -> u32 {
    let lsbs = match g {
        Granule::G4K => [39, 30, 21, 12],
        Granule::G16K => [47, 36, 25, 14],
        Granule::G64K => [55, 42, 29, 16],
    };
    lsbs[level as usize]
}

fn block_levels(g: Granule) -> &'static [u8] {
    match g {
        Granule::G4K => &[1, 2],
        Granule::G16K | Granule::G64K => &[2],
    }
}

fn within(addr: u64, bits: u32) -> bool {
    bits >= 64 || (u128::from(addr) >> bits) == 0
}

/// The start level is the one that resolves the top input bit.
fn ref_s1_start(tsz: u32, g: Granule) -> Option<u8> {
    if !(16..=39).contains(&tsz) {
        return None;
    }
    let top = 63 - tsz;
    (0..=3u8).rev().find(|&l| level_lsb(g, l) <= top && top < level_lsb(g, l) + stride_of(g))
}

fn ref_s2_start(cfg: &S2Cfg) -> Option<(u8, u32)> {
    if !(16..=39).contains(&cfg.t0sz) {
        return None;
    }
    let levels: [u8; 3] = if cfg.granule == Granule::G4K { [2, 1, 0] } else { [3, 2, 1] };
    let level = *levels.get(usize::try_from(cfg.sl0).ok()?)?;
    let deepest_needs = if cfg.granule == Granule::G16K { 42 } else { 44 };
    if cfg.sl0 == 2 && cfg.ps_bits < deepest_needs {
        return None;
    }
    let input_bits = 64 - cfg.t0sz;
    if input_bits <= level_lsb(cfg.granule, level) {
        return None;
    }
    let bits = input_bits - level_lsb(cfg.granule, level);
    if bits > stride_of(cfg.granule) + 4 {
        return None;
    }
    Some((level, 1 << bits.saturating_sub(stride_of(cfg.granule))))
}

fn kind_of(d: u64, level: u8, g: Granule) -> DescKind {
    let valid = d & 1 == 1;
    let bit1 = d & 2 == 2;
    match (valid, level, bit1) {
        (false, _, _) => DescKind::Invalid,
        (true, 3, true) => DescKind::Page,
        (true, 3, false) => DescKind::Reserved,
        (true, _, true) => DescKind::Table,
        (true, l, false) if block_levels(g).contains(&l) => DescKind::Block,
        _ => DescKind::Reserved,
    }
}

fn allowed(p: Perms, acc: Access) -> bool {
    match (acc.ind, acc.rnw) {
        (true, true) => p.exec,
        (_, true) => p.read,
        (_, false) => p.write,
    }
}

/// Hierarchical attributes collected from table descriptors.
#[derive(Clone, Copy, Default)]
struct TableAttrs {
    ap_table: u64,
    pxn_table: bool,
    uxn_table: bool,
    ns_table: bool,
}

struct RefLeaf {
    desc: u64,
    level: u8,
    base: u64,
    size_bits: u32,
    attrs: TableAttrs,
}

struct Reference<'a> {
    mem: &'a mut ProcMem,
    steps: Vec<Step>,
}

fn s1_fault(cfg: &S1Cfg, fid: u8, fetch_addr: u64) -> Fault {
    let eabt = fid == id::F_WALK_EABT;
    Fault {
        id: fid,
        s2: false,
        class: if eabt { class::TT } else { class::IN },
        ipa: 0,
        fetch_addr,
        record: eabt || cfg.record,
        ttrnw: false,
    }
}

/// Arm ARM stage 1 permissions of a regime with two privilege levels (EL1&0, EL2&0), for an
/// access of privilege `pnu`.
fn two_level_perms(cfg: &S1Cfg, t: &S1Table, leaf: &RefLeaf, pnu: bool) -> Perms {
    let d = leaf.desc;
    // (privileged read, privileged write, unprivileged read, unprivileged write) by AP[2:1].
    let table = [(true, true, false, false), (true, true, true, true)];
    let table_ro = [(true, false, false, false), (true, false, true, false)];
    let ap = (d >> 6 & 3) as usize;
    let (pr, mut pw, mut ur, mut uw) = if ap < 2 { table[ap] } else { table_ro[ap - 2] };
    let hier = !t.had;
    if hier && leaf.attrs.ap_table & 1 == 1 {
        (ur, uw) = (false, false);
    }
    if hier && leaf.attrs.ap_table & 2 == 2 {
        (pw, uw) = (false, false);
    }
    let pxn = d >> 53 & 1 == 1 || (hier && leaf.attrs.pxn_table);
    let uxn = d >> 54 & 1 == 1 || (hier && leaf.attrs.uxn_table);
    // WXN: writable means not executable.
    let px = !(pxn || uw || (cfg.wxn && pw));
    let ux = !(uxn || (cfg.wxn && uw));
    let pan = cfg.pan && ur;
    if pnu {
        Perms { read: pr && !pan, write: pw && !pan, exec: px }
    } else {
        Perms { read: ur, write: uw, exec: ux }
    }
}

/// Arm ARM stage 1 permissions of a regime with one privilege level (EL2, EL3), the same for
/// every access: AP[2:1] = 0bx0 read/write, 0bx1 read-only (AP[1] does not matter), bit 54 is
/// XN and table bit 60 XNTable, APTable[1] (bit 62) removes write; bits 53 (PXN), 59
/// (PXNTable) and 61 (APTable[0]) are reserved and have no effect, nor has PAN.
fn one_level_perms(cfg: &S1Cfg, t: &S1Table, leaf: &RefLeaf) -> Perms {
    let d = leaf.desc;
    let hier = !t.had;
    let read_only = d >> 7 & 1 == 1 || (hier && leaf.attrs.ap_table & 2 == 2);
    let xn = d >> 54 & 1 == 1 || (hier && leaf.attrs.uxn_table);
    // WXN: writable means not executable.
    let wxn_xn = cfg.wxn && !read_only;
    Perms { read: true, write: !read_only, exec: !(xn || wxn_xn) }
}

fn s2_fault(cfg: &S2Cfg, fid: u8, ipa: u64, cls: u64, fetch_addr: u64) -> Fault {
    Fault {
        id: fid,
        s2: true,
        class: cls,
        ipa,
        fetch_addr,
        record: fid == id::F_WALK_EABT || cfg.record,
        ttrnw: false,
    }
}

impl Reference<'_> {
    fn read(&mut self, pa: u64, pas: Pas) -> Option<u64> {
        let mut b = [0u8; 8];
        self.mem.read(pa, pas, &mut b).ok()?;
        Some(u64::from_le_bytes(b))
    }

    // ---- stage 2 ----

    #[allow(clippy::too_many_arguments)]
    fn s2_level(
        &mut self,
        cfg: &S2Cfg,
        table: u64,
        level: u8,
        index_bits: u32,
        ipa: u64,
        cls: u64,
    ) -> Result<RefLeaf, Fault> {
        let g = cfg.granule;
        let lsb = level_lsb(g, level);
        let index = (ipa >> lsb) & ((1u64 << index_bits) - 1);
        let addr = table.wrapping_add(index * 8);
        let Some(d) = self.read(addr, cfg.walk_pas) else {
            return Err(s2_fault(cfg, id::F_WALK_EABT, ipa, cls, addr));
        };
        let kind = kind_of(d, level, g);
        self.steps.push((Stage::S2, level, addr, cfg.walk_pas, d, kind));
        match kind {
            DescKind::Invalid | DescKind::Reserved => {
                Err(s2_fault(cfg, id::F_TRANSLATION, ipa, cls, 0))
            }
            DescKind::Table => {
                let next = field(d, 47, granule_bits(g));
                if !within(next, cfg.ps_bits) {
                    return Err(s2_fault(cfg, id::F_ADDR_SIZE, ipa, cls, 0));
                }
                self.s2_level(cfg, next, level + 1, stride_of(g), ipa, cls)
            }
            DescKind::Block | DescKind::Page => {
                let base = field(d, 47, lsb);
                if !within(base, cfg.ps_bits) {
                    return Err(s2_fault(cfg, id::F_ADDR_SIZE, ipa, cls, 0));
                }
                Ok(RefLeaf { desc: d, level, base, size_bits: lsb, attrs: TableAttrs::default() })
            }
        }
    }

    fn s2(&mut self, cfg: &S2Cfg, ipa: u64, acc: Access, cls: u64) -> Result<WalkResult, Fault> {
        let Some((level, _)) = ref_s2_start(cfg) else {
            return Err(s2_fault(cfg, id::F_TRANSLATION, ipa, cls, 0));
        };
        let input_bits = 64 - cfg.t0sz;
        if ipa >> input_bits != 0 {
            return Err(s2_fault(cfg, id::F_TRANSLATION, ipa, cls, 0));
        }
        let index_bits = input_bits - level_lsb(cfg.granule, level);
        let table = cfg.ttb & !((8u64 << index_bits) - 1);
        let leaf = self.s2_level(cfg, table, level, index_bits, ipa, cls)?;
        let d = leaf.desc;
        if d >> 10 & 1 == 0 && !cfg.affd {
            return Err(s2_fault(cfg, id::F_ACCESS, ipa, cls, 0));
        }
        let xn = d >> 53 & 3;
        // (privileged, unprivileged) executable, by XN[1:0]
        let (px, ux) = if cfg.xnx {
            [(true, true), (false, true), (false, false), (true, false)][xn as usize]
        } else {
            (xn & 2 == 0, xn & 2 == 0)
        };
        let perms = Perms {
            read: d >> 6 & 1 == 1,
            write: d >> 7 & 1 == 1,
            exec: if acc.pnu { px } else { ux },
        };
        if !allowed(perms, acc) {
            let mut f = s2_fault(cfg, id::F_PERMISSION, ipa, cls, 0);
            f.ttrnw = cls == class::TT && acc.rnw;
            return Err(f);
        }
        let size = 1u64 << leaf.size_bits;
        Ok(WalkResult {
            oa: leaf.base + (ipa % size),
            size,
            perms,
            pas: cfg.out_pas,
            ng: false,
            level: leaf.level,
            s1_perms: None,
            s2_perms: Some(perms),
            ipa,
        })
    }

    // ---- stage 1 ----

    #[allow(clippy::too_many_arguments)]
    fn s1_level(
        &mut self,
        cfg: &S1Cfg,
        s2: Option<&S2Cfg>,
        t: &S1Table,
        table: u64,
        level: u8,
        index_bits: u32,
        va: u64,
        attrs: TableAttrs,
    ) -> Result<RefLeaf, Fault> {
        let g = t.granule;
        let lsb = level_lsb(g, level);
        let index = (va >> lsb) & ((1u64 << index_bits) - 1);
        let desc_addr = table.wrapping_add(index * 8);
        let (pa, pas) = match s2 {
            Some(s2) => {
                let tt_read = Access { rnw: true, pnu: true, ind: false };
                let r = self.s2(s2, desc_addr, tt_read, class::TT)?;
                (r.oa, r.pas)
            }
            None if t.walk_pas == Pas::Secure && attrs.ns_table => (desc_addr, Pas::NonSecure),
            None => (desc_addr, t.walk_pas),
        };
        let Some(d) = self.read(pa, pas) else {
            return Err(s1_fault(cfg, id::F_WALK_EABT, pa));
        };
        let kind = kind_of(d, level, g);
        self.steps.push((Stage::S1, level, pa, pas, d, kind));
        match kind {
            DescKind::Invalid | DescKind::Reserved => Err(s1_fault(cfg, id::F_TRANSLATION, 0)),
            DescKind::Table => {
                let next = field(d, 47, granule_bits(g));
                if !within(next, cfg.oas_bits) {
                    return Err(s1_fault(cfg, id::F_ADDR_SIZE, 0));
                }
                let attrs = TableAttrs {
                    ap_table: attrs.ap_table | (d >> 61 & 3),
                    pxn_table: attrs.pxn_table || d >> 59 & 1 == 1,
                    uxn_table: attrs.uxn_table || d >> 60 & 1 == 1,
                    ns_table: attrs.ns_table || d >> 63 == 1,
                };
                self.s1_level(cfg, s2, t, next, level + 1, stride_of(g), va, attrs)
            }
            DescKind::Block | DescKind::Page => {
                let base = field(d, 47, lsb);
                if !within(base, cfg.oas_bits) {
                    return Err(s1_fault(cfg, id::F_ADDR_SIZE, 0));
                }
                Ok(RefLeaf { desc: d, level, base, size_bits: lsb, attrs })
            }
        }
    }

    fn s1(
        &mut self,
        cfg: &S1Cfg,
        s2: Option<&S2Cfg>,
        va: u64,
        acc: Access,
    ) -> Result<WalkResult, Fault> {
        let upper = va >> 55 & 1 == 1;
        let region = usize::from(upper);
        let Some(t) = cfg.tables[region] else {
            return Err(s1_fault(cfg, id::F_TRANSLATION, 0));
        };
        let Some(level) = ref_s1_start(t.tsz, t.granule) else {
            return Err(s1_fault(cfg, id::F_TRANSLATION, 0));
        };
        let input_bits = 64 - t.tsz;
        // Replace an ignored top byte by the sign extension, then all bits from input_bits up
        // must be copies of the region bit.
        let checked = match (cfg.tbi[region], upper) {
            (false, _) => va,
            (true, false) => va & 0x00ff_ffff_ffff_ffff,
            (true, true) => va | 0xff00_0000_0000_0000,
        };
        let high = if upper { !checked } else { checked };
        if high >> input_bits != 0 {
            return Err(s1_fault(cfg, id::F_TRANSLATION, 0));
        }
        let index_bits = input_bits - level_lsb(t.granule, level);
        let table = t.ttb & !((8u64 << index_bits) - 1);
        let leaf =
            self.s1_level(cfg, s2, &t, table, level, index_bits, va, TableAttrs::default())?;
        let d = leaf.desc;
        if d >> 10 & 1 == 0 && !cfg.affd {
            return Err(s1_fault(cfg, id::F_ACCESS, 0));
        }

        let perms = match cfg.regime {
            Regime::El1 | Regime::El2E2h => two_level_perms(cfg, &t, &leaf, acc.pnu),
            Regime::El2 | Regime::El3 => one_level_perms(cfg, &t, &leaf),
        };
        if !allowed(perms, acc) {
            return Err(s1_fault(cfg, id::F_PERMISSION, 0));
        }
        let size = 1u64 << leaf.size_bits;
        let out = leaf.base + (va % size);
        match s2 {
            None => {
                let ns = leaf.attrs.ns_table || d >> 5 & 1 == 1;
                let pas = if t.walk_pas == Pas::Secure && ns { Pas::NonSecure } else { t.walk_pas };
                Ok(WalkResult {
                    oa: out,
                    size,
                    perms,
                    pas,
                    ng: d >> 11 & 1 == 1,
                    level: leaf.level,
                    s1_perms: Some(perms),
                    s2_perms: None,
                    ipa: 0,
                })
            }
            Some(s2) => {
                let r = self.s2(s2, out, acc, class::IN)?;
                Ok(WalkResult {
                    oa: r.oa,
                    size: size.min(r.size),
                    perms: Perms {
                        read: perms.read && r.perms.read,
                        write: perms.write && r.perms.write,
                        exec: perms.exec && r.perms.exec,
                    },
                    pas: r.pas,
                    ng: d >> 11 & 1 == 1,
                    level: r.level,
                    s1_perms: Some(perms),
                    s2_perms: r.s2_perms,
                    ipa: out,
                })
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random configurations

fn granule() -> impl Strategy<Value = Granule> {
    prop_oneof![Just(Granule::G4K), Just(Granule::G16K), Just(Granule::G64K)]
}

fn out_bits() -> impl Strategy<Value = u32> {
    prop_oneof![Just(32u32), Just(36), Just(40), Just(42), Just(44), Just(48), Just(52)]
}

fn table_base() -> impl Strategy<Value = u64> {
    // Mostly an unaligned pool address (the walker aligns it), sometimes anywhere.
    prop_oneof![
        8 => (0..POOL_SIZE).prop_map(|o| POOL + o),
        1 => (0..SPOOL_SIZE).prop_map(|o| SPOOL + o),
        1 => any::<u64>().prop_map(|a| a & 0x0000_ffff_ffff_fff0),
    ]
}

fn tsz() -> impl Strategy<Value = u32> {
    prop_oneof![15 => 16u32..=39, 1 => 0u32..=63]
}

fn s1_table() -> BoxedStrategy<S1Table> {
    let pas = prop_oneof![6 => Just(Pas::NonSecure), 3 => Just(Pas::Secure), 1 => Just(Pas::Realm)];
    (table_base(), tsz(), granule(), any::<bool>(), pas)
        .prop_map(|(ttb, tsz, granule, had, walk_pas)| S1Table { ttb, tsz, granule, had, walk_pas })
        .boxed()
}

fn s1_cfg() -> BoxedStrategy<S1Cfg> {
    (
        proptest::option::weighted(0.9, s1_table()),
        proptest::option::weighted(0.9, s1_table()),
        any::<[bool; 2]>(),
        out_bits(),
        proptest::bool::weighted(0.25),
        any::<(bool, bool, bool, u16)>(),
        prop_oneof![Just(Regime::El1), Just(Regime::El2), Just(Regime::El2E2h), Just(Regime::El3)],
    )
        .prop_map(|(t0, t1, tbi, oas_bits, affd, (record, wxn, pan, asid), regime)| {
            // The one-privilege-level regimes have a single VA range (TTB0, TBI0), as the CD
            // decoder configures them.
            let one_level = matches!(regime, Regime::El2 | Regime::El3);
            S1Cfg {
                tables: [t0, if one_level { None } else { t1 }],
                tbi: [tbi[0], tbi[1] && !one_level],
                oas_bits,
                affd,
                record,
                asid,
                wxn,
                pan,
                regime,
            }
        })
        .boxed()
}

fn s2_cfg() -> BoxedStrategy<S2Cfg> {
    let walk_pas = prop_oneof![4 => Just(Pas::NonSecure), 1 => Just(Pas::Secure)];
    let out_pas = prop_oneof![Just(Pas::NonSecure), Just(Pas::Secure), Just(Pas::Realm)];
    (
        table_base(),
        tsz(),
        0u32..4,
        proptest::bool::weighted(0.8),
        granule(),
        out_bits(),
        proptest::bool::weighted(0.25),
        any::<(bool, bool)>(),
        (walk_pas, out_pas),
    )
        .prop_map(|(ttb, t0sz, sl0, fix_sl0, granule, ps_bits, affd, (record, xnx), (wp, op))| {
            let mut cfg = S2Cfg {
                ttb,
                t0sz,
                sl0,
                granule,
                ps_bits,
                affd,
                record,
                vmid: 1,
                xnx,
                walk_pas: wp,
                out_pas: op,
            };
            // Most of the time use a consistent S2SL0, if there is one.
            let consistent = |sl0| ref_s2_start(&S2Cfg { sl0, ..cfg }).is_some();
            if fix_sl0
                && !consistent(cfg.sl0)
                && let Some(sl0) = (0..3).find(|&sl0| consistent(sl0))
            {
                cfg.sl0 = sl0;
            }
            cfg
        })
        .boxed()
}

/// Stage 2 for nested cases: mostly consistent, so that stage 1 gets walked.
fn nested_s2_cfg() -> BoxedStrategy<S2Cfg> {
    prop_oneof![
        9 => s2_cfg().prop_filter("inconsistent stage 2", |c| ref_s2_start(c).is_some()),
        1 => s2_cfg(),
    ]
    .boxed()
}

fn access() -> impl Strategy<Value = Access> {
    any::<(bool, bool, bool)>().prop_map(|(rnw, pnu, ind)| Access { rnw, pnu, ind })
}

/// The raw material of a VA: random bits, the region, whether to fit the region's size, a tag.
#[derive(Clone, Copy, Debug)]
struct VaSeed {
    raw: u64,
    upper: bool,
    fit: bool,
    bits: u32,
    tag: Option<u8>,
}

fn va_seed() -> BoxedStrategy<VaSeed> {
    (any::<u64>(), any::<bool>(), proptest::bool::weighted(0.95), 25u32..=48, any::<Option<u8>>())
        .prop_map(|(raw, upper, fit, bits, tag)| VaSeed { raw, upper, fit, bits, tag })
        .boxed()
}

/// A VA in the chosen region, usually within its input size, sometimes tagged, sometimes raw.
fn make_va(cfg: &S1Cfg, s: VaSeed) -> u64 {
    if !s.fit && s.bits < 28 {
        return s.raw;
    }
    let region_bits = cfg.tables[usize::from(s.upper)].map(|t| 64 - t.tsz.clamp(16, 39));
    let bits = if s.fit { region_bits.unwrap_or(s.bits) } else { s.bits };
    let low = s.raw & ((1u64 << bits) - 1);
    let mut va = if s.upper { low | !((1u64 << bits) - 1) } else { low };
    if let Some(tag) = s.tag.filter(|t| t & 1 == 0) {
        va = (va & 0x00ff_ffff_ffff_ffff) | (u64::from(tag) << 56);
    }
    va
}

/// An IPA that is mostly in the low pools or below a random input size.
fn ipa() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => (0..POOL_SIZE).prop_map(|o| POOL + o),
        3 => (any::<u64>(), 25u32..=48).prop_map(|(raw, bits)| raw & ((1u64 << bits) - 1)),
        1 => any::<u64>(),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Case {
    S1 { cfg: S1Cfg, va: u64 },
    S2 { cfg: S2Cfg, ipa: u64, cls: u64 },
    Nested { s1: S1Cfg, s2: S2Cfg, va: u64 },
}

fn case() -> impl Strategy<Value = (u64, Case, Access)> {
    let cls = prop_oneof![Just(class::IN), Just(class::TT), Just(class::CD)];
    let c = prop_oneof![
        (s1_cfg(), va_seed()).prop_map(|(cfg, v)| Case::S1 { cfg, va: make_va(&cfg, v) }),
        (s2_cfg(), ipa(), cls).prop_map(|(cfg, ipa, cls)| Case::S2 { cfg, ipa, cls }),
        (s1_cfg(), nested_s2_cfg(), va_seed()).prop_map(|(s1, s2, v)| Case::Nested {
            s1,
            s2,
            va: make_va(&s1, v)
        }),
    ];
    // Nested walks need every stage-2 walk to succeed too: use mostly benign tables for them.
    (any::<u64>(), c, access()).prop_map(|(seed, c, acc)| match c {
        Case::Nested { .. } if seed & 6 != 0 => (seed | 1, c, acc),
        _ => (seed, c, acc),
    })
}

type Outcome = (Result<WalkResult, Fault>, Vec<Step>);

fn run_walker(seed: u64, c: &Case, acc: Access) -> Outcome {
    let mut mem = ProcMem { seed };
    let mut trace = VecTrace::new();
    let r = match *c {
        Case::S1 { cfg, va } => walk_s1(&cfg, None, va, acc, &mut mem, &mut trace),
        Case::S2 { cfg, ipa, cls } => walk_s2(&cfg, ipa, acc, cls, &mut mem, &mut trace),
        Case::Nested { s1, s2, va } => walk_s1(&s1, Some(&s2), va, acc, &mut mem, &mut trace),
    };
    let steps = trace
        .events
        .into_iter()
        .map(|e| match e {
            TraceEvent::WalkStep { stage, level, addr, pas, desc, kind } => {
                (stage, level, addr, pas, desc, kind)
            }
            other => panic!("unexpected trace event {other:?}"),
        })
        .collect();
    (r, steps)
}

fn run_reference(seed: u64, c: &Case, acc: Access) -> Outcome {
    let mut mem = ProcMem { seed };
    let mut rf = Reference { mem: &mut mem, steps: Vec::new() };
    let r = match *c {
        Case::S1 { cfg, va } => rf.s1(&cfg, None, va, acc),
        Case::S2 { cfg, ipa, cls } => rf.s2(&cfg, ipa, acc, cls),
        Case::Nested { s1, s2, va } => rf.s1(&s1, Some(&s2), va, acc),
    };
    (r, rf.steps)
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(Config { cases: 4000, failure_persistence: None, ..Config::default() })]

    #[test]
    fn walker_agrees_with_reference((seed, c, acc) in case()) {
        let fast = run_walker(seed, &c, acc);
        let slow = run_reference(seed, &c, acc);
        prop_assert_eq!(fast.0, slow.0);
        prop_assert_eq!(fast.1, slow.1);
    }

    #[test]
    fn start_levels_agree_with_reference(cfg in s2_cfg(), tsz in 0u32..=70, g in granule()) {
        prop_assert_eq!(s2_start(&cfg), ref_s2_start(&cfg));
        prop_assert_eq!(s1_start_level(tsz, g), ref_s1_start(tsz, g));
    }
}

/// The generated cases must reach every outcome, or the agreement above proves little.
#[test]
fn random_cases_cover_successes_and_every_fault_kind() {
    let mut runner = TestRunner::deterministic();
    let strategy = case();
    let mut ok = [0u32; 3];
    let mut total = [0u32; 3];
    let mut faults = std::collections::BTreeSet::new();
    // Stage-1-only cases of the one-privilege-level regimes: [successes, permission faults].
    let mut one_level = [0u32; 2];
    for _ in 0..4000 {
        let (seed, c, acc) = strategy.new_tree(&mut runner).unwrap().current();
        if let Case::S1 { cfg, .. } = &c
            && matches!(cfg.regime, Regime::El2 | Regime::El3)
        {
            match run_reference(seed, &c, acc).0 {
                Ok(_) => one_level[0] += 1,
                Err(f) if f.id == id::F_PERMISSION => one_level[1] += 1,
                Err(_) => {}
            }
        }
        let mode = match c {
            Case::S1 { .. } => 0,
            Case::S2 { .. } => 1,
            Case::Nested { .. } => 2,
        };
        total[mode] += 1;
        match run_reference(seed, &c, acc).0 {
            Ok(_) => ok[mode] += 1,
            Err(f) => {
                faults.insert((f.id, f.s2, f.class));
            }
        }
    }
    eprintln!("successes per mode (S1, S2, nested): {ok:?} of {total:?}");
    eprintln!("one-privilege-level stage 1 (successes, permission faults): {one_level:?}");
    assert!(one_level.iter().all(|&n| n >= 10), "one-level regimes: {one_level:?}");
    for mode in 0..3 {
        assert!(
            ok[mode] * 20 >= total[mode],
            "mode {mode}: {} of {} succeed",
            ok[mode],
            total[mode]
        );
    }
    for want in [
        (id::F_TRANSLATION, false, class::IN),
        (id::F_ADDR_SIZE, false, class::IN),
        (id::F_ACCESS, false, class::IN),
        (id::F_PERMISSION, false, class::IN),
        (id::F_WALK_EABT, false, class::TT),
        (id::F_TRANSLATION, true, class::IN),
        (id::F_ADDR_SIZE, true, class::IN),
        (id::F_ACCESS, true, class::IN),
        (id::F_PERMISSION, true, class::IN),
        (id::F_WALK_EABT, true, class::IN),
        (id::F_TRANSLATION, true, class::TT),
        (id::F_PERMISSION, true, class::TT),
        (id::F_WALK_EABT, true, class::TT),
    ] {
        assert!(faults.contains(&want), "no case produced {want:?}; got {faults:?}");
    }
}
