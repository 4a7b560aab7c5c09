//! Walker unit tests over `SparseMem`. Descriptors are hand-assembled from the VMSAv8-64 bit
//! positions (Arm ARM D8.3), not built with `spec::desc` accessors.

use super::*;
use crate::mem::{PhysMem, SparseMem, Window};
use crate::spec::event::{class, id};
use crate::trace::{DescKind, NoTrace, Stage, TraceEvent, VecTrace};

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 256 << 20;
const SECURE_RAM: u64 = 0x0e00_0000;
/// Nothing is mapped here.
const HOLE: u64 = 0x2000_0000;

// Descriptor bits.
const TABLE: u64 = 0b11;
const PAGE: u64 = 0b11;
const BLOCK: u64 = 0b01;
const NS: u64 = 1 << 5;
const AP_EL0: u64 = 1 << 6;
const AP_RO: u64 = 1 << 7;
const S2AP_R: u64 = 1 << 6;
const S2AP_W: u64 = 1 << 7;
const AF: u64 = 1 << 10;
const NG: u64 = 1 << 11;
const PXN: u64 = 1 << 53;
const UXN: u64 = 1 << 54;
const XN0: u64 = 1 << 53;
const XN1: u64 = 1 << 54;
const PXN_TABLE: u64 = 1 << 59;
const UXN_TABLE: u64 = 1 << 60;
const APT_NO_EL0: u64 = 1 << 61;
const APT_NO_WRITE: u64 = 1 << 62;
const NS_TABLE: u64 = 1 << 63;
const ADDR_MASK: u64 = 0x0000_ffff_ffff_f000;

const READ: Access = Access { rnw: true, pnu: true, ind: false };
const WRITE: Access = Access { rnw: false, pnu: true, ind: false };
const FETCH: Access = Access { rnw: true, pnu: true, ind: true };
const UREAD: Access = Access { rnw: true, pnu: false, ind: false };
const UWRITE: Access = Access { rnw: false, pnu: false, ind: false };
const UFETCH: Access = Access { rnw: true, pnu: false, ind: true };

fn gsize(g: Granule) -> u64 {
    match g {
        Granule::G4K => 0x1000,
        Granule::G16K => 0x4000,
        Granule::G64K => 0x1_0000,
    }
}

/// Lowest input bit resolved at `level` (from the VMSA level tables).
fn lsb(g: Granule, level: u8) -> u32 {
    let table: [u32; 4] = match g {
        Granule::G4K => [39, 30, 21, 12],
        Granule::G16K => [47, 36, 25, 14],
        Granule::G64K => [55, 42, 29, 16],
    };
    table[usize::from(level)]
}

/// Memory with RAM, a Secure-only window, and a bump allocator of table pages.
struct Tt {
    mem: SparseMem,
    next: u64,
}

impl Tt {
    fn new() -> Tt {
        let mut mem = SparseMem::new();
        mem.add_window(Window { name: "ram", base: RAM, size: RAM_SIZE, pas_mask: 0xf }).unwrap();
        let secure = Pas::Secure.bit() | Pas::Root.bit();
        mem.add_window(Window { name: "sram", base: SECURE_RAM, size: 16 << 20, pas_mask: secure })
            .unwrap();
        Tt { mem, next: RAM + 0x10_0000 }
    }

    /// A zeroed, aligned block of `size` bytes.
    fn alloc(&mut self, size: u64) -> u64 {
        let a = self.next.next_multiple_of(size);
        self.next = a + size;
        a
    }

    fn put(&mut self, addr: u64, v: u64) {
        let pas = if addr < RAM { Pas::Secure } else { Pas::NonSecure };
        self.mem.write(addr, pas, &v.to_le_bytes()).unwrap();
    }

    fn get(&mut self, addr: u64) -> u64 {
        let pas = if addr < RAM { Pas::Secure } else { Pas::NonSecure };
        let mut b = [0; 8];
        self.mem.read(addr, pas, &mut b).unwrap();
        u64::from_le_bytes(b)
    }

    fn or(&mut self, addr: u64, bits: u64) {
        let v = self.get(addr);
        self.put(addr, v | bits);
    }

    /// Maps `input` with `leaf` at `leaf_level`, creating tables below `root` as needed. Returns
    /// the descriptor addresses from the start level to the leaf.
    #[allow(clippy::too_many_arguments)]
    fn map(
        &mut self,
        root: u64,
        g: Granule,
        start: u8,
        input_bits: u32,
        input: u64,
        leaf_level: u8,
        leaf: u64,
    ) -> Vec<u64> {
        let mut path = Vec::new();
        let mut table = root;
        for level in start..=leaf_level {
            let shift = lsb(g, level);
            let bits = if level == start { input_bits - shift } else { g.shift() - 3 };
            let idx = (input >> shift) & ((1 << bits) - 1);
            let a = table + idx * 8;
            path.push(a);
            if level == leaf_level {
                self.put(a, leaf);
                break;
            }
            let cur = self.get(a);
            if cur & 0b11 == TABLE {
                table = cur & ADDR_MASK;
            } else {
                table = self.alloc(gsize(g));
                self.put(a, table | TABLE);
            }
        }
        path
    }
}

fn s1_table(ttb: u64, tsz: u32, g: Granule) -> S1Table {
    S1Table { ttb, tsz, granule: g, had: false, walk_pas: Pas::NonSecure }
}

fn s1cfg(tables: [Option<S1Table>; 2]) -> S1Cfg {
    S1Cfg {
        tables,
        tbi: [false, false],
        oas_bits: 48,
        affd: false,
        record: true,
        asid: 1,
        wxn: false,
        pan: false,
        regime: Regime::El1,
    }
}

fn s2cfg(ttb: u64, t0sz: u32, sl0: u32, g: Granule) -> S2Cfg {
    S2Cfg {
        ttb,
        t0sz,
        sl0,
        granule: g,
        ps_bits: 48,
        affd: false,
        record: true,
        vmid: 1,
        xnx: false,
        walk_pas: Pas::NonSecure,
        out_pas: Pas::NonSecure,
    }
}

/// A 4K, 48-bit stage 1 over TTB0 with one page mapped; returns (tables, cfg, leaf path).
fn s1_4k_page(va: u64, pa: u64, attrs: u64) -> (Tt, S1Cfg, Vec<u64>) {
    let mut tt = Tt::new();
    let root = tt.alloc(0x1000);
    let path = tt.map(root, Granule::G4K, 0, 48, va, 3, pa | PAGE | AF | attrs);
    (tt, s1cfg([Some(s1_table(root, 16, Granule::G4K)), None]), path)
}

fn steps(trace: &VecTrace) -> Vec<(Stage, u8, u64, Pas, DescKind)> {
    trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::WalkStep { stage, level, addr, pas, kind, .. } => {
                Some((*stage, *level, *addr, *pas, *kind))
            }
            _ => None,
        })
        .collect()
}

fn s1(cfg: &S1Cfg, tt: &mut Tt, va: u64, acc: Access) -> Result<WalkResult, Fault> {
    walk_s1(cfg, None, va, acc, &mut tt.mem, &mut NoTrace)
}

fn fault_id(r: Result<WalkResult, Fault>) -> u8 {
    r.expect_err("expected a fault").id
}

const VA: u64 = 0x0000_1234_5678_9abc;
const PA: u64 = 0x4800_0000;

// ---- Stage 1: translation, geometry and granules ----

#[test]
fn s1_4k_page_translates_to_page_base_plus_offset() {
    let (mut tt, cfg, _) = s1_4k_page(VA, PA, AP_EL0 | NG);

    let r = s1(&cfg, &mut tt, VA, READ).unwrap();

    assert_eq!(r.oa, PA | 0xabc);
    assert_eq!(r.size, 0x1000);
    assert_eq!(r.level, 3);
    assert_eq!(r.pas, Pas::NonSecure);
    assert!(r.ng);
    assert_eq!(r.perms, Perms { read: true, write: true, exec: false });
}

#[test]
fn s1_only_result_has_stage_1_permissions_no_stage_2_permissions_and_no_ipa() {
    let (mut tt, cfg, _) = s1_4k_page(VA, PA, AP_RO);

    let r = s1(&cfg, &mut tt, VA, READ).unwrap();

    assert_eq!(r.s1_perms, Some(Perms { read: true, write: false, exec: true }));
    assert_eq!((r.s2_perms, r.ipa), (None, 0));
}

#[test]
fn s1_walk_traces_one_step_per_level_with_descriptor_addresses() {
    let (mut tt, cfg, path) = s1_4k_page(VA, PA, 0);
    let mut trace = VecTrace::new();

    walk_s1(&cfg, None, VA, READ, &mut tt.mem, &mut trace).unwrap();

    let kinds = [DescKind::Table, DescKind::Table, DescKind::Table, DescKind::Page];
    let expected: Vec<_> =
        (0..4).map(|l| (Stage::S1, l as u8, path[l], Pas::NonSecure, kinds[l])).collect();
    assert_eq!(steps(&trace), expected);
    let TraceEvent::WalkStep { desc, .. } = &trace.events[3] else { panic!() };
    assert_eq!(*desc, PA | PAGE | AF);
}

#[test]
fn s1_4k_block_at_level_1_maps_1g() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x1000);
    tt.map(root, Granule::G4K, 0, 48, VA, 1, 0x4000_0000 | BLOCK | AF);
    let cfg = s1cfg([Some(s1_table(root, 16, Granule::G4K)), None]);

    let r = s1(&cfg, &mut tt, VA, READ).unwrap();

    assert_eq!((r.oa, r.size, r.level), (0x4000_0000 | (VA & 0x3fff_ffff), 1 << 30, 1));
}

#[test]
fn s1_4k_block_at_level_2_maps_2m_and_ignores_res0_low_address_bits() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x1000);
    tt.map(root, Granule::G4K, 0, 48, VA, 2, 0x4820_0000 | 0x5000 | BLOCK | AF);
    let cfg = s1cfg([Some(s1_table(root, 16, Granule::G4K)), None]);

    let r = s1(&cfg, &mut tt, VA, READ).unwrap();

    assert_eq!((r.oa, r.size, r.level), (0x4820_0000 | (VA & 0x1f_ffff), 1 << 21, 2));
}

#[test]
fn s1_4k_block_at_level_0_is_a_translation_fault() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x1000);
    tt.map(root, Granule::G4K, 0, 48, VA, 0, BLOCK | AF);
    let cfg = s1cfg([Some(s1_table(root, 16, Granule::G4K)), None]);
    let mut trace = VecTrace::new();

    let f = walk_s1(&cfg, None, VA, READ, &mut tt.mem, &mut trace).unwrap_err();

    assert_eq!((f.id, f.s2, f.class), (id::F_TRANSLATION, false, class::IN));
    assert_eq!(steps(&trace)[0].4, DescKind::Reserved);
}

#[test]
fn s1_reserved_level_3_encoding_is_a_translation_fault() {
    let (mut tt, cfg, path) = s1_4k_page(VA, PA, 0);
    tt.put(path[3], PA | BLOCK | AF);

    assert_eq!(fault_id(s1(&cfg, &mut tt, VA, READ)), id::F_TRANSLATION);
}

#[test]
fn s1_invalid_descriptor_is_a_translation_fault_recorded_per_cd_r() {
    let (mut tt, mut cfg, path) = s1_4k_page(VA, PA, 0);
    tt.put(path[2], 0);

    let f = s1(&cfg, &mut tt, VA, READ).unwrap_err();
    cfg.record = false;
    let unrecorded = s1(&cfg, &mut tt, VA, READ).unwrap_err();

    assert_eq!(
        f,
        Fault {
            id: id::F_TRANSLATION,
            s2: false,
            class: class::IN,
            ipa: 0,
            fetch_addr: 0,
            record: true,
            ttrnw: false
        }
    );
    assert!(!unrecorded.record);
}

#[test]
fn s1_16k_page_walks_from_level_0_with_two_entries() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x4000);
    let va = 0x0000_8765_4321_0abc;
    let path = tt.map(root, Granule::G16K, 0, 48, va, 3, PA | PAGE | AF);
    let cfg = s1cfg([Some(s1_table(root, 16, Granule::G16K)), None]);

    let r = s1(&cfg, &mut tt, va, READ).unwrap();

    assert_eq!(path[0], root + 8);
    assert_eq!((r.oa, r.size, r.level), (PA | (va & 0x3fff), 0x4000, 3));
}

#[test]
fn s1_16k_block_only_at_level_2() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x4000);
    tt.map(root, Granule::G16K, 1, 47, VA, 2, 0x4200_0000 | BLOCK | AF);
    let cfg = s1cfg([Some(s1_table(root, 17, Granule::G16K)), None]);
    let l2 = s1(&cfg, &mut tt, VA, READ).unwrap();
    let mut tt1 = Tt::new();
    let root1 = tt1.alloc(0x4000);
    tt1.map(root1, Granule::G16K, 1, 47, VA, 1, BLOCK | AF);
    let cfg1 = s1cfg([Some(s1_table(root1, 17, Granule::G16K)), None]);

    assert_eq!((l2.oa, l2.size), (0x4200_0000 | (VA & 0x1ff_ffff), 1 << 25));
    assert_eq!(fault_id(s1(&cfg1, &mut tt1, VA, READ)), id::F_TRANSLATION);
}

#[test]
fn s1_64k_page_walks_from_level_1() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x1_0000);
    let path = tt.map(root, Granule::G64K, 1, 48, VA, 3, PA | PAGE | AF);
    let cfg = s1cfg([Some(s1_table(root, 16, Granule::G64K)), None]);
    let mut trace = VecTrace::new();

    let r = walk_s1(&cfg, None, VA, READ, &mut tt.mem, &mut trace).unwrap();

    assert_eq!((r.oa, r.size, r.level), (PA | (VA & 0xffff), 0x1_0000, 3));
    assert_eq!(steps(&trace).iter().map(|s| s.2).collect::<Vec<_>>(), path);
}

#[test]
fn s1_64k_block_at_level_2_maps_512m_but_not_at_level_1() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x1_0000);
    let path = tt.map(root, Granule::G64K, 1, 48, VA, 2, 0x4000_0000 | BLOCK | AF);
    let cfg = s1cfg([Some(s1_table(root, 16, Granule::G64K)), None]);
    let l2 = s1(&cfg, &mut tt, VA, READ).unwrap();
    tt.put(path[0], BLOCK | AF);

    assert_eq!((l2.oa, l2.size), (0x4000_0000 | (VA & 0x1fff_ffff), 1 << 29));
    assert_eq!(fault_id(s1(&cfg, &mut tt, VA, READ)), id::F_TRANSLATION);
}

#[test]
fn s1_start_table_base_is_aligned_to_the_table_size() {
    let (mut tt, mut cfg, _) = s1_4k_page(VA, PA, 0);
    cfg.tables[0].as_mut().unwrap().ttb |= 0xff8;

    assert_eq!(s1(&cfg, &mut tt, VA, READ).unwrap().oa, PA | 0xabc);
}

#[test]
fn s1_out_of_range_tsz_faults_without_walking() {
    let (mut tt, mut cfg, _) = s1_4k_page(VA, PA, 0);
    cfg.tables[0].as_mut().unwrap().tsz = 64;
    let mut trace = VecTrace::new();

    let f = walk_s1(&cfg, None, VA, READ, &mut tt.mem, &mut trace).unwrap_err();

    assert_eq!(f.id, id::F_TRANSLATION);
    assert!(trace.events.is_empty());
}

// ---- Stage 1: input range, TTB selection, TBI, EPD ----

#[test]
fn s1_address_above_ttb0_region_is_a_translation_fault_before_any_fetch() {
    let (mut tt, cfg, _) = s1_4k_page(VA, PA, 0);
    let mut trace = VecTrace::new();

    let f = walk_s1(&cfg, None, VA | 1 << 48, READ, &mut tt.mem, &mut trace).unwrap_err();

    assert_eq!(f.id, id::F_TRANSLATION);
    assert!(trace.events.is_empty());
}

#[test]
fn s1_tsz_shrinks_the_ttb0_region() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x1000);
    let va = 0x7f_ffff_f000;
    tt.map(root, Granule::G4K, 1, 39, va, 3, PA | PAGE | AF);
    let cfg = s1cfg([Some(s1_table(root, 25, Granule::G4K)), None]);

    assert_eq!(s1(&cfg, &mut tt, va, READ).unwrap().oa, PA);
    assert_eq!(fault_id(s1(&cfg, &mut tt, va + 0x1000, READ)), id::F_TRANSLATION);
}

fn ttb1_setup(tbi1: bool) -> (Tt, S1Cfg) {
    let mut tt = Tt::new();
    let root0 = tt.alloc(0x1000);
    let root1 = tt.alloc(0x1000);
    tt.map(root1, Granule::G4K, 0, 48, 0xffff_ffff_ffff_f000, 3, PA | PAGE | AF);
    let mut cfg =
        s1cfg([Some(s1_table(root0, 16, Granule::G4K)), Some(s1_table(root1, 16, Granule::G4K))]);
    cfg.tbi[1] = tbi1;
    (tt, cfg)
}

#[test]
fn s1_va_bit_55_selects_ttb1() {
    let (mut tt, cfg) = ttb1_setup(false);

    assert_eq!(s1(&cfg, &mut tt, 0xffff_ffff_ffff_f123, READ).unwrap().oa, PA | 0x123);
}

#[test]
fn s1_ttb1_needs_all_ones_top_byte_without_tbi() {
    let (mut tt, cfg) = ttb1_setup(false);

    assert_eq!(fault_id(s1(&cfg, &mut tt, 0x12ff_ffff_ffff_f123, READ)), id::F_TRANSLATION);
    assert_eq!(fault_id(s1(&cfg, &mut tt, 0xfffe_ffff_ffff_f123, READ)), id::F_TRANSLATION);
}

#[test]
fn s1_ttb1_ignores_top_byte_with_tbi1() {
    let (mut tt, cfg) = ttb1_setup(true);

    assert_eq!(s1(&cfg, &mut tt, 0x12ff_ffff_ffff_f123, READ).unwrap().oa, PA | 0x123);
    assert_eq!(fault_id(s1(&cfg, &mut tt, 0x12fe_ffff_ffff_f123, READ)), id::F_TRANSLATION);
}

#[test]
fn s1_tbi0_ignores_top_byte_of_ttb0_addresses() {
    let (mut tt, mut cfg, _) = s1_4k_page(VA, PA, 0);
    let tagged = VA | 0xab << 56;
    let faults = s1(&cfg, &mut tt, tagged, READ).map(|r| r.oa);
    cfg.tbi[0] = true;

    assert_eq!(faults.unwrap_err().id, id::F_TRANSLATION);
    assert_eq!(s1(&cfg, &mut tt, tagged, READ).unwrap().oa, PA | 0xabc);
}

#[test]
fn s1_disabled_region_is_a_translation_fault_without_fetch() {
    let (mut tt, cfg, _) = s1_4k_page(VA, PA, 0);
    let mut trace = VecTrace::new();

    let f = walk_s1(&cfg, None, 0xffff_ffff_ffff_f000, READ, &mut tt.mem, &mut trace);

    assert_eq!(f.unwrap_err().id, id::F_TRANSLATION);
    assert!(trace.events.is_empty());
}

// ---- Stage 1: address size, access flag, external abort, priorities ----

#[test]
fn s1_table_address_beyond_oas_is_an_address_size_fault_at_that_level() {
    let (mut tt, mut cfg, path) = s1_4k_page(VA, PA, 0);
    cfg.oas_bits = 40;
    tt.put(path[1], 1 << 40 | TABLE);
    let mut trace = VecTrace::new();

    let f = walk_s1(&cfg, None, VA, READ, &mut tt.mem, &mut trace).unwrap_err();

    assert_eq!((f.id, f.s2, f.class), (id::F_ADDR_SIZE, false, class::IN));
    let last = *steps(&trace).last().unwrap();
    assert_eq!((last.1, last.2), (1, path[1]));
}

#[test]
fn s1_output_address_beyond_oas_is_an_address_size_fault() {
    let (mut tt, mut cfg, _) = s1_4k_page(VA, 1 << 44, 0);
    let within = s1(&cfg, &mut tt, VA, READ);
    cfg.oas_bits = 44;

    assert_eq!(within.unwrap().oa, 1 << 44 | 0xabc);
    assert_eq!(fault_id(s1(&cfg, &mut tt, VA, READ)), id::F_ADDR_SIZE);
}

#[test]
fn s1_af_clear_is_an_access_fault_unless_affd() {
    let (mut tt, mut cfg, path) = s1_4k_page(VA, PA, 0);
    tt.put(path[3], PA | PAGE);
    let f = s1(&cfg, &mut tt, VA, READ);
    cfg.affd = true;

    assert_eq!(fault_id(f), id::F_ACCESS);
    assert_eq!(s1(&cfg, &mut tt, VA, READ).unwrap().oa, PA | 0xabc);
}

#[test]
fn s1_address_size_takes_priority_over_access_flag() {
    let (mut tt, mut cfg, path) = s1_4k_page(VA, PA, 0);
    cfg.oas_bits = 40;
    tt.put(path[3], 1 << 42 | PAGE);

    assert_eq!(fault_id(s1(&cfg, &mut tt, VA, READ)), id::F_ADDR_SIZE);
}

#[test]
fn s1_access_flag_takes_priority_over_permission() {
    let (mut tt, cfg, path) = s1_4k_page(VA, PA, 0);
    tt.put(path[3], PA | PAGE | AP_RO);

    assert_eq!(fault_id(s1(&cfg, &mut tt, VA, WRITE)), id::F_ACCESS);
}

#[test]
fn s1_failed_descriptor_read_is_a_recorded_walk_abort_with_class_tt() {
    let (mut tt, mut cfg, path) = s1_4k_page(VA, PA, 0);
    cfg.record = false;
    tt.put(path[1], HOLE | TABLE);
    let l2_index = (VA >> 21) & 0x1ff;
    let mut trace = VecTrace::new();

    let f = walk_s1(&cfg, None, VA, READ, &mut tt.mem, &mut trace).unwrap_err();

    assert_eq!(
        f,
        Fault {
            id: id::F_WALK_EABT,
            s2: false,
            class: class::TT,
            ipa: 0,
            fetch_addr: HOLE + l2_index * 8,
            record: true,
            ttrnw: false
        }
    );
    assert_eq!(steps(&trace).len(), 2);
}

#[test]
fn s1_start_table_outside_memory_is_a_walk_abort() {
    let (mut tt, mut cfg, _) = s1_4k_page(VA, PA, 0);
    cfg.tables[0].as_mut().unwrap().ttb = HOLE;

    let f = s1(&cfg, &mut tt, VA, READ).unwrap_err();

    assert_eq!((f.id, f.fetch_addr), (id::F_WALK_EABT, HOLE + ((VA >> 39) & 0x1ff) * 8));
}

// ---- Stage 1: permissions ----

fn perm_ok(attrs: u64, acc: Access) -> bool {
    let (mut tt, cfg, _) = s1_4k_page(VA, PA, attrs);
    match s1(&cfg, &mut tt, VA, acc) {
        Ok(_) => true,
        Err(f) => {
            assert_eq!((f.id, f.s2, f.class), (id::F_PERMISSION, false, class::IN));
            false
        }
    }
}

#[test]
fn s1_ap_00_is_privileged_read_write_only() {
    let ok = [READ, WRITE, UREAD, UWRITE].map(|a| perm_ok(0, a));
    assert_eq!(ok, [true, true, false, false]);
}

#[test]
fn s1_ap_01_is_read_write_at_both_privileges() {
    let ok = [READ, WRITE, UREAD, UWRITE].map(|a| perm_ok(AP_EL0, a));
    assert_eq!(ok, [true, true, true, true]);
}

#[test]
fn s1_ap_10_is_privileged_read_only() {
    let ok = [READ, WRITE, UREAD, UWRITE].map(|a| perm_ok(AP_RO, a));
    assert_eq!(ok, [true, false, false, false]);
}

#[test]
fn s1_ap_11_is_read_only_at_both_privileges() {
    let ok = [READ, WRITE, UREAD, UWRITE].map(|a| perm_ok(AP_RO | AP_EL0, a));
    assert_eq!(ok, [true, false, true, false]);
}

#[test]
fn s1_uxn_forbids_only_unprivileged_fetch_and_pxn_only_privileged() {
    assert_eq!([FETCH, UFETCH].map(|a| perm_ok(UXN, a)), [true, false]);
    assert_eq!([FETCH, UFETCH].map(|a| perm_ok(PXN, a)), [false, true]);
}

#[test]
fn s1_instruction_fetch_needs_execute_but_not_read() {
    // AP=00: no unprivileged data access, yet executable at EL0.
    assert!(perm_ok(PXN, UFETCH));
    assert!(!perm_ok(PXN, UREAD));
}

#[test]
fn s1_unprivileged_writable_page_is_never_privileged_executable() {
    assert_eq!([FETCH, UFETCH].map(|a| perm_ok(AP_EL0, a)), [false, true]);
}

#[test]
fn s1_instruction_write_is_checked_as_a_data_write() {
    let ifetch_write = Access { rnw: false, pnu: true, ind: true };
    assert!(perm_ok(PXN | UXN, ifetch_write));
}

#[test]
fn s1_wxn_makes_writable_pages_execute_never() {
    let (mut tt, mut cfg, path) = s1_4k_page(VA, PA, 0);
    cfg.wxn = true;
    let writable = s1(&cfg, &mut tt, VA, FETCH);
    tt.or(path[3], AP_RO);

    assert_eq!(fault_id(writable), id::F_PERMISSION);
    assert!(s1(&cfg, &mut tt, VA, FETCH).is_ok());
}

#[test]
fn s1_pan_blocks_privileged_data_access_to_unprivileged_pages() {
    let (mut tt, mut cfg, _) = s1_4k_page(VA, PA, AP_EL0 | AP_RO);
    cfg.pan = true;

    assert_eq!(fault_id(s1(&cfg, &mut tt, VA, READ)), id::F_PERMISSION);
    assert!(s1(&cfg, &mut tt, VA, UREAD).is_ok());
    assert!(s1(&cfg, &mut tt, VA, FETCH).is_ok());
}

#[test]
fn s1_result_perms_are_those_of_the_access_privilege() {
    let (mut tt, cfg, _) = s1_4k_page(VA, PA, AP_EL0 | AP_RO | PXN);

    let p = s1(&cfg, &mut tt, VA, READ).unwrap().perms;
    let u = s1(&cfg, &mut tt, VA, UREAD).unwrap().perms;

    assert_eq!(p, Perms { read: true, write: false, exec: false });
    assert_eq!(u, Perms { read: true, write: false, exec: true });
}

/// A page with `table_attrs` on its level-1 table descriptor, walked with HADx = `had`.
fn table_attr_ok(leaf_attrs: u64, table_attrs: u64, had: bool, acc: Access) -> bool {
    let (mut tt, mut cfg, path) = s1_4k_page(VA, PA, leaf_attrs);
    tt.or(path[1], table_attrs);
    cfg.tables[0].as_mut().unwrap().had = had;
    s1(&cfg, &mut tt, VA, acc).is_ok()
}

#[test]
fn s1_aptable_no_write_removes_write_unless_had() {
    assert!(!table_attr_ok(AP_EL0, APT_NO_WRITE, false, WRITE));
    assert!(!table_attr_ok(AP_EL0, APT_NO_WRITE, false, UWRITE));
    assert!(table_attr_ok(AP_EL0, APT_NO_WRITE, false, UREAD));
    assert!(table_attr_ok(AP_EL0, APT_NO_WRITE, true, WRITE));
}

#[test]
fn s1_aptable_no_el0_removes_unprivileged_access_unless_had() {
    assert!(!table_attr_ok(AP_EL0, APT_NO_EL0, false, UREAD));
    assert!(table_attr_ok(AP_EL0, APT_NO_EL0, false, WRITE));
    assert!(table_attr_ok(AP_EL0, APT_NO_EL0, true, UREAD));
}

#[test]
fn s1_aptable_no_el0_lifts_the_implicit_pxn_of_el0_writable_pages() {
    assert!(!table_attr_ok(AP_EL0, 0, false, FETCH));
    assert!(table_attr_ok(AP_EL0, APT_NO_EL0, false, FETCH));
}

#[test]
fn s1_xn_table_bits_apply_unless_had() {
    assert!(!table_attr_ok(0, PXN_TABLE, false, FETCH));
    assert!(table_attr_ok(0, PXN_TABLE, false, UFETCH));
    assert!(table_attr_ok(0, PXN_TABLE, true, FETCH));
    assert!(!table_attr_ok(0, UXN_TABLE, false, UFETCH));
    assert!(table_attr_ok(0, UXN_TABLE, true, UFETCH));
}

// ---- Stage 1: regimes with one privilege level (any-EL2, EL3) ----

/// Whether `acc` may use a page with `attrs` (and `table_attrs` on its level-1 table
/// descriptor) in `regime`, with CD.WXN and CD.PAN as given.
fn regime_ok(
    regime: Regime,
    attrs: u64,
    table_attrs: u64,
    wxn_pan: (bool, bool),
    acc: Access,
) -> bool {
    let (mut tt, mut cfg, path) = s1_4k_page(VA, PA, attrs);
    tt.or(path[1], table_attrs);
    cfg.regime = regime;
    (cfg.wxn, cfg.pan) = wxn_pan;
    match s1(&cfg, &mut tt, VA, acc) {
        Ok(_) => true,
        Err(f) => {
            assert_eq!((f.id, f.s2, f.class), (id::F_PERMISSION, false, class::IN));
            false
        }
    }
}

fn el2_ok(attrs: u64, acc: Access) -> bool {
    regime_ok(Regime::El2, attrs, 0, (false, false), acc)
}

const DATA: [Access; 4] = [READ, WRITE, UREAD, UWRITE];

#[test]
fn s1_el2_ignores_ap1_so_every_access_reads_and_writes() {
    assert_eq!(DATA.map(|a| el2_ok(0, a)), [true; 4]);
    assert_eq!(DATA.map(|a| el2_ok(AP_EL0, a)), [true; 4]);
}

#[test]
fn s1_el2_ap2_makes_the_page_read_only_for_every_access() {
    assert_eq!(DATA.map(|a| el2_ok(AP_RO, a)), [true, false, true, false]);
    assert_eq!(DATA.map(|a| el2_ok(AP_RO | AP_EL0, a)), [true, false, true, false]);
}

#[test]
fn s1_el2_bit_54_is_xn_for_every_access_and_bit_53_is_ignored() {
    assert_eq!([FETCH, UFETCH].map(|a| el2_ok(UXN, a)), [false, false]);
    assert_eq!([FETCH, UFETCH].map(|a| el2_ok(PXN, a)), [true, true]);
}

#[test]
fn s1_el2_writable_page_with_ap1_set_stays_executable() {
    // In EL1&0 an EL0-writable page is never privileged-executable; EL2 has no EL0.
    assert!(!perm_ok(AP_EL0, FETCH));
    assert!(el2_ok(AP_EL0, FETCH));
}

#[test]
fn s1_el2_wxn_makes_writable_pages_execute_never() {
    assert!(!regime_ok(Regime::El2, 0, 0, (true, false), FETCH));
    assert!(!regime_ok(Regime::El2, 0, 0, (true, false), UFETCH));
    assert!(regime_ok(Regime::El2, AP_RO, 0, (true, false), UFETCH));
}

#[test]
fn s1_el2_pan_has_no_effect() {
    assert!(regime_ok(Regime::El2, AP_EL0, 0, (false, true), READ));
    assert!(regime_ok(Regime::El2, AP_EL0, 0, (false, true), WRITE));
}

#[test]
fn s1_el2_table_bits_are_aptable_1_and_xntable_only() {
    let t = |table_attrs, acc| regime_ok(Regime::El2, 0, table_attrs, (false, false), acc);
    assert!(!t(APT_NO_WRITE, WRITE) && !t(APT_NO_WRITE, UWRITE) && t(APT_NO_WRITE, UREAD));
    // APTable[0] and PXNTable are reserved in a one-level regime.
    assert!(t(APT_NO_EL0, UREAD) && t(APT_NO_EL0, UWRITE));
    assert!(t(PXN_TABLE, FETCH));
    assert!(!t(UXN_TABLE, FETCH) && !t(UXN_TABLE, UFETCH));
}

#[test]
fn s1_el2_had_disables_the_table_bits() {
    let (mut tt, mut cfg, path) = s1_4k_page(VA, PA, 0);
    tt.or(path[1], APT_NO_WRITE | UXN_TABLE);
    cfg.regime = Regime::El2;
    cfg.tables[0].as_mut().unwrap().had = true;

    assert!(s1(&cfg, &mut tt, VA, WRITE).is_ok());
    assert!(s1(&cfg, &mut tt, VA, FETCH).is_ok());
}

#[test]
fn s1_el2_result_perms_are_the_same_at_both_privileges() {
    let (mut tt, mut cfg, _) = s1_4k_page(VA, PA, AP_RO | PXN);
    cfg.regime = Regime::El2;

    let p = s1(&cfg, &mut tt, VA, READ).unwrap().perms;
    let u = s1(&cfg, &mut tt, VA, UREAD).unwrap().perms;

    assert_eq!(p, Perms { read: true, write: false, exec: true });
    assert_eq!(u, p);
}

#[test]
fn s1_el3_has_one_privilege_level_like_el2() {
    let el3 = |attrs, acc| regime_ok(Regime::El3, attrs, 0, (false, false), acc);
    assert_eq!(DATA.map(|a| el3(0, a)), [true; 4]);
    assert_eq!([FETCH, UFETCH].map(|a| el3(UXN, a)), [false, false]);
}

#[test]
fn s1_el2_e2h_keeps_the_el1_permission_model() {
    let e2h = |attrs, acc| regime_ok(Regime::El2E2h, attrs, 0, (false, false), acc);
    assert_eq!(DATA.map(|a| e2h(0, a)), [true, true, false, false]);
    assert_eq!([FETCH, UFETCH].map(|a| e2h(UXN, a)), [true, false]);
    assert_eq!([FETCH, UFETCH].map(|a| e2h(AP_EL0, a)), [false, true]);
    assert!(!regime_ok(Regime::El2E2h, AP_EL0, 0, (false, true), READ));
}

// ---- Stage 1: physical address spaces ----

#[test]
fn s1_non_secure_walk_ignores_ns_bits() {
    let (mut tt, cfg, path) = s1_4k_page(VA, PA, 0);
    tt.or(path[0], NS_TABLE);

    assert_eq!(s1(&cfg, &mut tt, VA, READ).unwrap().pas, Pas::NonSecure);
}

/// A Secure stage 1 whose first two tables live in Secure RAM; the level-1 table descriptor
/// points to a level-2 table in RAM.
fn secure_walk(l1_ns_table: bool, leaf_ns: bool) -> (Result<WalkResult, Fault>, Vec<Pas>) {
    let mut tt = Tt::new();
    let (root, l1, l2, l3) = (SECURE_RAM, SECURE_RAM + 0x1000, RAM + 0x2000, RAM + 0x3000);
    tt.put(root + ((VA >> 39) & 0x1ff) * 8, l1 | TABLE);
    tt.put(l1 + ((VA >> 30) & 0x1ff) * 8, l2 | TABLE | if l1_ns_table { NS_TABLE } else { 0 });
    tt.put(l2 + ((VA >> 21) & 0x1ff) * 8, l3 | TABLE);
    tt.put(l3 + ((VA >> 12) & 0x1ff) * 8, PA | PAGE | AF | if leaf_ns { NS } else { 0 });
    let mut t = s1_table(root, 16, Granule::G4K);
    t.walk_pas = Pas::Secure;
    let cfg = s1cfg([Some(t), None]);
    let mut trace = VecTrace::new();
    let r = walk_s1(&cfg, None, VA, READ, &mut tt.mem, &mut trace);
    (r, steps(&trace).iter().map(|s| s.3).collect())
}

#[test]
fn s1_secure_walk_stays_secure_without_ns_bits() {
    let (r, pas) = secure_walk(false, false);

    assert_eq!(r.unwrap().pas, Pas::Secure);
    assert_eq!(pas, [Pas::Secure; 4]);
}

#[test]
fn s1_secure_leaf_ns_bit_outputs_non_secure() {
    let (r, _) = secure_walk(false, true);

    assert_eq!(r.unwrap().pas, Pas::NonSecure);
}

#[test]
fn s1_secure_nstable_makes_later_fetches_and_output_non_secure() {
    let (r, pas) = secure_walk(true, false);

    assert_eq!(r.unwrap().pas, Pas::NonSecure);
    assert_eq!(pas, [Pas::Secure, Pas::Secure, Pas::NonSecure, Pas::NonSecure]);
}

#[test]
fn s1_realm_walk_outputs_realm() {
    let (mut tt, mut cfg, _) = s1_4k_page(VA, PA, NS);
    cfg.tables[0].as_mut().unwrap().walk_pas = Pas::Realm;
    let mut trace = VecTrace::new();

    let r = walk_s1(&cfg, None, VA, READ, &mut tt.mem, &mut trace).unwrap();

    assert_eq!(r.pas, Pas::Realm);
    assert!(steps(&trace).iter().all(|s| s.3 == Pas::Realm));
}

// ---- Stage 2 ----

const IPA: u64 = 0x12_3456_7abc;

/// A 4K stage 2 with a 40-bit IPA starting at level 1 (two concatenated tables).
fn s2_4k_page(ipa: u64, pa: u64, attrs: u64) -> (Tt, S2Cfg, Vec<u64>) {
    let mut tt = Tt::new();
    let root = tt.alloc(0x2000);
    let path = tt.map(root, Granule::G4K, 1, 40, ipa, 3, pa | PAGE | AF | attrs);
    (tt, s2cfg(root, 24, 1, Granule::G4K), path)
}

fn s2(cfg: &S2Cfg, tt: &mut Tt, ipa: u64, acc: Access) -> Result<WalkResult, Fault> {
    walk_s2(cfg, ipa, acc, class::IN, &mut tt.mem, &mut NoTrace)
}

#[test]
fn s2_only_result_has_stage_2_permissions_and_the_input_as_ipa() {
    let (mut tt, cfg, _) = s2_4k_page(IPA, PA, S2AP_R | XN1);

    let r = s2(&cfg, &mut tt, IPA, READ).unwrap();

    assert_eq!(r.s2_perms, Some(Perms { read: true, write: false, exec: false }));
    assert_eq!((r.s1_perms, r.ipa), (None, IPA));
}

#[test]
fn s2_page_translates_with_s2ap_permissions_and_configured_output_pas() {
    let (mut tt, mut cfg, path) = s2_4k_page(IPA, PA, S2AP_R);
    cfg.out_pas = Pas::Realm;
    let mut trace = VecTrace::new();

    let r = walk_s2(&cfg, IPA, READ, class::IN, &mut tt.mem, &mut trace).unwrap();

    assert_eq!((r.oa, r.size, r.level, r.pas, r.ng), (PA | 0xabc, 0x1000, 3, Pas::Realm, false));
    assert_eq!(r.perms, Perms { read: true, write: false, exec: true });
    let expected: Vec<_> = path
        .iter()
        .zip(1u8..)
        .map(|(&a, l)| {
            (Stage::S2, l, a, Pas::NonSecure, if l == 3 { DescKind::Page } else { DescKind::Table })
        })
        .collect();
    assert_eq!(steps(&trace), expected);
}

#[test]
fn s2_permission_fault_reports_stage_2_class_and_ipa() {
    let (mut tt, mut cfg, _) = s2_4k_page(IPA, PA, S2AP_R);
    cfg.record = false;

    let f = s2(&cfg, &mut tt, IPA, WRITE).unwrap_err();

    assert_eq!(
        f,
        Fault {
            id: id::F_PERMISSION,
            s2: true,
            class: class::IN,
            ipa: IPA,
            fetch_addr: 0,
            record: false,
            ttrnw: false
        }
    );
}

#[test]
fn s2_s2ap_bits_grant_read_and_write_separately() {
    let ok = |attrs: u64, acc: Access| {
        let (mut tt, cfg, _) = s2_4k_page(IPA, PA, attrs);
        s2(&cfg, &mut tt, IPA, acc).is_ok()
    };
    assert_eq!([READ, WRITE].map(|a| ok(0, a)), [false, false]);
    assert_eq!([READ, WRITE].map(|a| ok(S2AP_R, a)), [true, false]);
    assert_eq!([READ, WRITE].map(|a| ok(S2AP_W, a)), [false, true]);
    assert_eq!([READ, WRITE].map(|a| ok(S2AP_R | S2AP_W, a)), [true, true]);
}

#[test]
fn s2_ipa_beyond_t0sz_is_a_translation_fault_before_any_fetch() {
    let (mut tt, cfg, _) = s2_4k_page(IPA, PA, S2AP_R);
    let mut trace = VecTrace::new();

    let f = walk_s2(&cfg, 1 << 40, READ, class::IN, &mut tt.mem, &mut trace).unwrap_err();

    assert_eq!((f.id, f.s2, f.ipa), (id::F_TRANSLATION, true, 1 << 40));
    assert!(trace.events.is_empty());
}

#[test]
fn s2_concatenated_start_tables_are_indexed_by_the_extra_ipa_bits() {
    let ipa = 1 << 39 | IPA;
    let (mut tt, cfg, path) = s2_4k_page(ipa, PA, S2AP_R);

    let r = s2(&cfg, &mut tt, ipa, READ).unwrap();

    assert_eq!(r.oa, PA | 0xabc);
    assert_eq!(path[0], cfg.ttb + 0x1000 + ((ipa >> 30) & 0x1ff) * 8);
}

#[test]
fn s2_16k_and_64k_pages_translate() {
    for (g, t0sz, sl0, start, bits) in
        [(Granule::G16K, 16, 2, 1, 48), (Granule::G64K, 22, 1, 2, 42)]
    {
        let mut tt = Tt::new();
        let root = tt.alloc(0x2_0000);
        tt.map(root, g, start, bits, IPA, 3, PA | PAGE | AF | S2AP_R);
        let cfg = s2cfg(root, t0sz, sl0, g);

        let r = s2(&cfg, &mut tt, IPA, READ).unwrap();

        assert_eq!((r.oa, r.size), (PA | (IPA & (gsize(g) - 1)), gsize(g)), "{g:?}");
    }
}

#[test]
fn s2_block_at_level_2_maps_2m() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x2000);
    tt.map(root, Granule::G4K, 1, 40, IPA, 2, 0x4820_0000 | BLOCK | AF | S2AP_R);
    let cfg = s2cfg(root, 24, 1, Granule::G4K);

    let r = s2(&cfg, &mut tt, IPA, READ).unwrap();

    assert_eq!((r.oa, r.size, r.level), (0x4820_0000 | (IPA & 0x1f_ffff), 1 << 21, 2));
}

fn s2_xn_ok(xn: u64, xnx: bool, acc: Access) -> bool {
    let (mut tt, mut cfg, _) = s2_4k_page(IPA, PA, S2AP_R | xn);
    cfg.xnx = xnx;
    s2(&cfg, &mut tt, IPA, acc).is_ok()
}

#[test]
fn s2_xn_without_xnx_uses_only_xn1() {
    assert_eq!([FETCH, UFETCH].map(|a| s2_xn_ok(0, false, a)), [true, true]);
    assert_eq!([FETCH, UFETCH].map(|a| s2_xn_ok(XN0, false, a)), [true, true]);
    assert_eq!([FETCH, UFETCH].map(|a| s2_xn_ok(XN1, false, a)), [false, false]);
    assert_eq!([FETCH, UFETCH].map(|a| s2_xn_ok(XN1 | XN0, false, a)), [false, false]);
}

#[test]
fn s2_xn_with_xnx_splits_by_privilege() {
    assert_eq!([FETCH, UFETCH].map(|a| s2_xn_ok(0, true, a)), [true, true]);
    assert_eq!([FETCH, UFETCH].map(|a| s2_xn_ok(XN0, true, a)), [false, true]);
    assert_eq!([FETCH, UFETCH].map(|a| s2_xn_ok(XN1, true, a)), [false, false]);
    assert_eq!([FETCH, UFETCH].map(|a| s2_xn_ok(XN1 | XN0, true, a)), [true, false]);
}

#[test]
fn s2_execute_only_page_allows_fetch_but_not_read() {
    let (mut tt, cfg, _) = s2_4k_page(IPA, PA, 0);

    assert!(s2(&cfg, &mut tt, IPA, FETCH).is_ok());
    assert_eq!(fault_id(s2(&cfg, &mut tt, IPA, READ)), id::F_PERMISSION);
}

#[test]
fn s2_af_clear_is_an_access_fault_unless_s2affd() {
    let (mut tt, mut cfg, path) = s2_4k_page(IPA, PA, S2AP_R);
    tt.put(path[2], PA | PAGE | S2AP_R);
    let f = s2(&cfg, &mut tt, IPA, READ).unwrap_err();
    cfg.affd = true;

    assert_eq!((f.id, f.s2, f.ipa), (id::F_ACCESS, true, IPA));
    assert!(s2(&cfg, &mut tt, IPA, READ).is_ok());
}

#[test]
fn s2_output_and_table_addresses_beyond_ps_are_address_size_faults() {
    let (mut tt, mut cfg, path) = s2_4k_page(IPA, 1 << 40, S2AP_R);
    cfg.ps_bits = 40;
    let out = s2(&cfg, &mut tt, IPA, READ).unwrap_err();
    tt.put(path[1], 1 << 41 | TABLE);
    let table = s2(&cfg, &mut tt, IPA, READ).unwrap_err();

    assert_eq!((out.id, out.s2), (id::F_ADDR_SIZE, true));
    assert_eq!((table.id, table.s2), (id::F_ADDR_SIZE, true));
}

#[test]
fn s2_failed_descriptor_read_is_recorded_with_the_callers_class() {
    let (mut tt, mut cfg, path) = s2_4k_page(IPA, PA, S2AP_R);
    cfg.record = false;
    tt.put(path[1], HOLE | TABLE);

    let f = walk_s2(&cfg, IPA, READ, class::CD, &mut tt.mem, &mut NoTrace).unwrap_err();

    assert_eq!(
        f,
        Fault {
            id: id::F_WALK_EABT,
            s2: true,
            class: class::CD,
            ipa: IPA,
            fetch_addr: HOLE + ((IPA >> 12) & 0x1ff) * 8,
            record: true,
            ttrnw: false
        }
    );
}

#[test]
fn s2_walks_tables_in_the_configured_walk_pas() {
    let mut tt = Tt::new();
    let root = SECURE_RAM;
    tt.put(root + ((IPA >> 30) & 0x3ff) * 8, (SECURE_RAM + 0x1000) | TABLE);
    tt.put(SECURE_RAM + 0x1000 + ((IPA >> 21) & 0x1ff) * 8, 0x4820_0000 | BLOCK | AF | S2AP_R);
    let mut cfg = s2cfg(root, 24, 1, Granule::G4K);
    let ns_walk = s2(&cfg, &mut tt, IPA, READ).unwrap_err();
    cfg.walk_pas = Pas::Secure;

    assert_eq!(ns_walk.id, id::F_WALK_EABT);
    assert!(s2(&cfg, &mut tt, IPA, READ).is_ok());
}

#[test]
fn s2_inconsistent_config_faults_without_walking() {
    let (mut tt, mut cfg, _) = s2_4k_page(IPA, PA, S2AP_R);
    cfg.sl0 = 3;
    let mut trace = VecTrace::new();

    let f = walk_s2(&cfg, IPA, READ, class::IN, &mut tt.mem, &mut trace).unwrap_err();

    assert_eq!((f.id, f.s2), (id::F_TRANSLATION, true));
    assert!(trace.events.is_empty());
}

// ---- Nested ----

const IPA_DATA: u64 = 0x4800_0000;
const PA_DATA: u64 = 0x4900_0000;

/// Stage 1 (4K, 48-bit) tables at identical IPA and PA, mapped read-only by stage 2 (4K, 40-bit
/// IPA); the stage-1 output IPA `IPA_DATA` maps to `PA_DATA` read-write.
struct Nested {
    tt: Tt,
    s1: S1Cfg,
    s2: S2Cfg,
    /// Stage-1 descriptor addresses (IPA = PA), level 0 to 3.
    s1_path: Vec<u64>,
    /// Stage-2 leaf descriptor addresses mapping each stage-1 table page, level 0 to 3.
    s2_table_leaves: Vec<u64>,
    /// Stage-2 leaf descriptor address of the data page.
    s2_data_leaf: u64,
}

fn nested(s1_leaf_attrs: u64) -> Nested {
    let mut tt = Tt::new();
    let s1_root = tt.alloc(0x1000);
    let s1_path = tt.map(s1_root, Granule::G4K, 0, 48, VA, 3, IPA_DATA | PAGE | AF | s1_leaf_attrs);
    let s2_root = tt.alloc(0x2000);
    let s2_table_leaves = s1_path
        .iter()
        .map(|&a| {
            let page = a & !0xfff;
            *tt.map(s2_root, Granule::G4K, 1, 40, page, 3, page | PAGE | AF | S2AP_R)
                .last()
                .unwrap()
        })
        .collect();
    let data = PA_DATA | PAGE | AF | S2AP_R | S2AP_W;
    let s2_data_leaf = *tt.map(s2_root, Granule::G4K, 1, 40, IPA_DATA, 3, data).last().unwrap();
    Nested {
        tt,
        s1: s1cfg([Some(s1_table(s1_root, 16, Granule::G4K)), None]),
        s2: s2cfg(s2_root, 24, 1, Granule::G4K),
        s1_path,
        s2_table_leaves,
        s2_data_leaf,
    }
}

impl Nested {
    fn walk(&mut self, va: u64, acc: Access, trace: &mut VecTrace) -> Result<WalkResult, Fault> {
        walk_s1(&self.s1, Some(&self.s2), va, acc, &mut self.tt.mem, trace)
    }
}

#[test]
fn nested_translates_through_both_stages_and_intersects_permissions() {
    let mut n = nested(AP_EL0);

    let r = n.walk(VA, WRITE, &mut VecTrace::new()).unwrap();

    assert_eq!((r.oa, r.size, r.level, r.pas), (PA_DATA | 0xabc, 0x1000, 3, Pas::NonSecure));
    // Stage 1 AP=01 denies privileged execution; stage 2 allows everything.
    assert_eq!(r.perms, Perms { read: true, write: true, exec: false });
}

#[test]
fn nested_result_keeps_each_stage_permissions_and_the_ipa_of_the_input_address() {
    let mut n = nested(AP_EL0 | AP_RO);
    n.tt.put(n.s2_data_leaf, PA_DATA | PAGE | AF | S2AP_R | XN1);

    let r = n.walk(VA, UREAD, &mut VecTrace::new()).unwrap();

    // Stage 1 AP=11: read-only, executable unprivileged; stage 2 S2AP=01, XN: read only.
    assert_eq!(r.s1_perms, Some(Perms { read: true, write: false, exec: true }));
    assert_eq!(r.s2_perms, Some(Perms { read: true, write: false, exec: false }));
    assert_eq!(r.perms, Perms { read: true, write: false, exec: false });
    assert_eq!(r.ipa, IPA_DATA | (VA & 0xfff));
}

#[test]
fn nested_trace_interleaves_stage_2_walks_before_each_stage_1_fetch() {
    let mut n = nested(0);
    let mut trace = VecTrace::new();

    n.walk(VA, READ, &mut trace).unwrap();

    let st = steps(&trace);
    let stages: Vec<_> = st.iter().map(|s| s.0).collect();
    let mut expected = Vec::new();
    for _ in 0..4 {
        expected.extend([Stage::S2, Stage::S2, Stage::S2, Stage::S1]);
    }
    expected.extend([Stage::S2, Stage::S2, Stage::S2]);
    assert_eq!(stages, expected);
    let s1_addrs: Vec<_> = st.iter().filter(|s| s.0 == Stage::S1).map(|s| s.2).collect();
    assert_eq!(s1_addrs, n.s1_path);
}

#[test]
fn nested_size_is_the_smaller_of_both_mappings() {
    let mut n = nested(0);
    n.tt.put(n.s1_path[2], IPA_DATA | BLOCK | AF);
    let ipa_page = IPA_DATA | (VA & 0x1f_f000);
    n.tt.map(n.s2.ttb, Granule::G4K, 1, 40, ipa_page, 3, PA_DATA | PAGE | AF | S2AP_R);

    let r = n.walk(VA, READ, &mut VecTrace::new()).unwrap();

    assert_eq!((r.size, r.oa), (0x1000, PA_DATA | (VA & 0xfff)));
}

#[test]
fn nested_block_output_is_translated_at_the_offset_inside_the_block() {
    let mut n = nested(0);
    n.tt.put(n.s1_path[2], IPA_DATA | BLOCK | AF);
    let mut trace = VecTrace::new();

    let f = n.walk(VA, READ, &mut trace).unwrap_err();

    // VA's offset inside the 2M block lands outside the single mapped stage-2 page.
    assert_eq!(
        (f.id, f.s2, f.class, f.ipa),
        (id::F_TRANSLATION, true, class::IN, IPA_DATA | (VA & 0x1f_ffff))
    );
}

#[test]
fn nested_ttb_is_an_ipa() {
    let mut n = nested(0);
    let ttb_ipa = 0x4a00_0000;
    let s1_root = n.s1.tables[0].unwrap().ttb;
    n.tt.map(n.s2.ttb, Granule::G4K, 1, 40, ttb_ipa, 3, s1_root | PAGE | AF | S2AP_R);
    n.s1.tables[0].as_mut().unwrap().ttb = ttb_ipa;
    let mut trace = VecTrace::new();

    let r = n.walk(VA, READ, &mut trace).unwrap();

    assert_eq!(r.oa, PA_DATA | 0xabc);
    assert_eq!(steps(&trace)[3].2, n.s1_path[0]);
}

#[test]
fn nested_stage_2_fault_on_a_table_fetch_has_class_tt_and_the_descriptor_ipa() {
    let mut n = nested(0);
    n.tt.put(n.s2_table_leaves[2], 0);
    n.s2.record = false;

    let f = n.walk(VA, READ, &mut VecTrace::new()).unwrap_err();

    assert_eq!(
        f,
        Fault {
            id: id::F_TRANSLATION,
            s2: true,
            class: class::TT,
            ipa: n.s1_path[2],
            fetch_addr: 0,
            record: false,
            ttrnw: false
        }
    );
}

#[test]
fn nested_stage_2_permission_fault_on_a_table_fetch_is_a_read_ttrnw() {
    let mut n = nested(0);
    let page = n.s1_path[1] & !0xfff;
    n.tt.put(n.s2_table_leaves[1], page | PAGE | AF);

    let f = n.walk(VA, WRITE, &mut VecTrace::new()).unwrap_err();

    assert_eq!(
        (f.id, f.s2, f.class, f.ipa, f.ttrnw),
        (id::F_PERMISSION, true, class::TT, n.s1_path[1], true)
    );
}

#[test]
fn nested_stage_2_fault_on_the_output_has_class_in_and_the_output_ipa() {
    let mut n = nested(0);
    n.tt.put(n.s2_data_leaf, PA_DATA | PAGE | AF | S2AP_R);

    let f = n.walk(VA, WRITE, &mut VecTrace::new()).unwrap_err();

    assert_eq!(
        (f.id, f.s2, f.class, f.ipa, f.ttrnw),
        (id::F_PERMISSION, true, class::IN, IPA_DATA | 0xabc, false)
    );
}

#[test]
fn nested_stage_1_permission_fault_comes_before_the_output_translation() {
    let mut n = nested(AP_RO);
    n.tt.put(n.s2_data_leaf, 0);
    let mut trace = VecTrace::new();

    let f = n.walk(VA, WRITE, &mut trace).unwrap_err();

    assert_eq!((f.id, f.s2, f.class), (id::F_PERMISSION, false, class::IN));
    assert_eq!(steps(&trace).last().unwrap().0, Stage::S1);
}

#[test]
fn nested_stage_1_descriptor_abort_after_stage_2_is_a_stage_1_walk_abort() {
    let mut n = nested(0);
    n.tt.put(n.s2_table_leaves[3], HOLE | PAGE | AF | S2AP_R);

    let f = n.walk(VA, READ, &mut VecTrace::new()).unwrap_err();

    let offset = n.s1_path[3] & 0xfff;
    assert_eq!(
        (f.id, f.s2, f.class, f.fetch_addr, f.record),
        (id::F_WALK_EABT, false, class::TT, HOLE | offset, true)
    );
}

#[test]
fn nested_stage_2_walk_abort_on_a_table_fetch_has_class_tt() {
    let mut n = nested(0);
    n.s2.ttb = HOLE;

    let f = n.walk(VA, READ, &mut VecTrace::new()).unwrap_err();

    assert_eq!((f.id, f.s2, f.class, f.ipa), (id::F_WALK_EABT, true, class::TT, n.s1_path[0]));
}

// ---- QEMU's qtest tables (iommu-smmuv3-test, qos-smmuv3.c) ----

const QSMMU_IOVA: u64 = 0x0000_0080_8060_4567;
const QSMMU_PA: u64 = 0x4ecb_a567;

#[derive(Clone, Copy, PartialEq)]
enum QMode {
    S1Only,
    S2Only,
    Nested,
}

/// The final memory image of the qtest table setup, qword by qword.
fn qemu_image(mode: QMode) -> Tt {
    let mut tt = Tt::new();
    let mut image = vec![
        (0x4e4d_0000, 0x8000_0000_4e4d_1003),
        (0x4e4d_0008, 0x8000_0000_4e4d_1003),
        (0x4e4d_1008, 0x8000_0000_4e4d_2003),
        (0x4e4d_1010, 0x8000_0000_4e4d_2003),
        (0x4e4d_2018, 0x8000_0000_4e4d_3003),
        (0x4e4d_2390, 0x8000_0000_4e4d_3003),
        (0x4e4d_23b0, 0x8000_0000_4e4d_3003),
        (
            0x4e4d_3020,
            if mode == QMode::S2Only { 0x0400_0000_4ecb_a7e3 } else { 0x0400_0000_4ecb_a763 },
        ),
        (0x4e4d_35d0, 0x0400_0000_4ecb_a7e3),
        (0x4e4d_3680, 0x0400_0000_4e4d_0763),
        (0x4e4d_3688, 0x0400_0000_4e4d_1763),
        (0x4e4d_3690, 0x0400_0000_4e4d_2763),
        (0x4e4d_3698, 0x0400_0000_4e4d_3763),
    ];
    if mode == QMode::Nested {
        image.push((0x4e4d_2380, 0x8000_0000_4e4d_3003));
        image.push((0x4e4d_3bc0, 0x0400_0000_4e17_8763));
    }
    for (a, v) in image {
        tt.put(a, v);
    }
    tt
}

/// CD words 0-2: T0SZ 16, TG0 4K, EPD1, IPS 44-bit, R, ASID 0x1e20, TTB0 0x4e4d0000.
fn qemu_s1() -> S1Cfg {
    let mut cfg = s1cfg([Some(s1_table(0x4e4d_0000, 16, Granule::G4K)), None]);
    cfg.oas_bits = 44;
    cfg.asid = 0x1e20;
    cfg
}

/// STE words 5-6: S2T0SZ 20, S2SL0 2, 4K, S2PS 48 capped to the 44-bit OAS, S2R 0.
fn qemu_s2() -> S2Cfg {
    let mut cfg = s2cfg(0x4e4d_0000, 20, 2, Granule::G4K);
    cfg.ps_bits = 44;
    cfg.record = false;
    cfg.vmid = 0;
    cfg
}

#[test]
fn qemu_qtest_s1_only_tables_translate_the_iova() {
    let mut tt = qemu_image(QMode::S1Only);

    for acc in [READ, WRITE] {
        let r = walk_s1(&qemu_s1(), None, QSMMU_IOVA, acc, &mut tt.mem, &mut NoTrace).unwrap();
        assert_eq!((r.oa, r.pas), (QSMMU_PA, Pas::NonSecure));
    }
}

#[test]
fn qemu_qtest_s2_only_tables_translate_the_iova() {
    let mut tt = qemu_image(QMode::S2Only);

    for acc in [READ, WRITE] {
        let r = walk_s2(&qemu_s2(), QSMMU_IOVA, acc, class::IN, &mut tt.mem, &mut NoTrace).unwrap();
        assert_eq!(r.oa, QSMMU_PA);
    }
}

#[test]
fn qemu_qtest_nested_tables_translate_the_iova_and_the_cd_address() {
    let mut tt = qemu_image(QMode::Nested);
    let s2 = qemu_s2();

    let cd = walk_s2(&s2, 0x4e17_8fc0, READ, class::CD, &mut tt.mem, &mut NoTrace).unwrap();
    for acc in [READ, WRITE] {
        let r = walk_s1(&qemu_s1(), Some(&s2), QSMMU_IOVA, acc, &mut tt.mem, &mut NoTrace).unwrap();
        assert_eq!(r.oa, QSMMU_PA);
    }
    assert_eq!(cd.oa, 0x4e17_8fc0);
}

// ---- Robustness ----

#[test]
fn all_ones_descriptors_and_extreme_configs_never_panic() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x1_0000);
    for i in 0..0x2000 {
        tt.put(root + i * 8, u64::MAX);
    }
    let accs = [READ, WRITE, FETCH, UREAD, UWRITE, UFETCH];
    for g in [Granule::G4K, Granule::G16K, Granule::G64K] {
        for tsz in [0, 15, 16, 25, 39, 40, 63, 64, u32::MAX] {
            for oas in [0, 32, 44, 48, 63, 64, u32::MAX] {
                let mut s1c = s1cfg([Some(s1_table(root, tsz, g)), Some(s1_table(root, tsz, g))]);
                s1c.oas_bits = oas;
                let mut s2c = s2cfg(root, tsz, 1, g);
                s2c.ps_bits = oas;
                for va in [0, VA, u64::MAX, 1 << 63, 0xff00_0000_0000_0000] {
                    for acc in accs {
                        let _ = walk_s1(&s1c, None, va, acc, &mut tt.mem, &mut VecTrace::new());
                        let _ = walk_s1(&s1c, Some(&s2c), va, acc, &mut tt.mem, &mut NoTrace);
                        for sl0 in [0, 1, 2, 3, u32::MAX] {
                            s2c.sl0 = sl0;
                            let _ = walk_s2(&s2c, va, acc, class::IN, &mut tt.mem, &mut NoTrace);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn all_ones_table_descriptor_beyond_oas_is_an_address_size_fault() {
    let mut tt = Tt::new();
    let root = tt.alloc(0x1000);
    tt.put(root, u64::MAX);
    let mut cfg = s1cfg([Some(s1_table(root, 16, Granule::G4K)), None]);
    cfg.oas_bits = 44;

    assert_eq!(fault_id(s1(&cfg, &mut tt, 0, READ)), id::F_ADDR_SIZE);
}
