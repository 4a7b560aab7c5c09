//! QEMU's three iommu-testdev translation cases (`ns-s1-only`, `ns-s2-only`, `ns-nested`), built
//! from the exact memory images the QEMU qtest writes (STE at 0x4e179200, CD at 0x4e178fc0, the
//! table qwords of its libqos setup) and the register values it programs. Each must translate
//! IOVA 0x8080604567 from StreamID 8 to PA 0x4ecba567.

use smmu::mem::read_u64;
use smmu::spec::regs::{Cr0, Gbpa};
use smmu::trace::FetchKind;
use smmu::{Pas, PhysMem, SecSid, Smmu, SmmuConfig, SparseMem, TraceEvent, Txn, VecTrace, Window};

const IOVA: u64 = 0x0000_0080_8060_4567;
const PA: u64 = 0x4ecb_a567;
const SID: u32 = 8;
const STE_ADDR: u64 = 0x4e17_9200;
const CD_ADDR: u64 = 0x4e17_8fc0;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    S1Only,
    S2Only,
    Nested,
}

/// STE word 0 (32-bit): V=1, Config 5 / 6 / 7, S1ContextPtr 0x4e178fc0.
fn ste_word0(mode: Mode) -> u32 {
    match mode {
        Mode::S1Only => 0x4e17_8fcb,
        Mode::S2Only => 0x4e17_8fcd,
        Mode::Nested => 0x4e17_8fcf,
    }
}

/// The table qwords QEMU's libqos writes (final memory image, later writes win).
fn tables(mode: Mode) -> Vec<(u64, u64)> {
    let mut t = vec![
        (0x4e4d_0000, 0x8000_0000_4e4d_1003),
        (0x4e4d_0008, 0x8000_0000_4e4d_1003),
        (0x4e4d_1008, 0x8000_0000_4e4d_2003),
        (0x4e4d_1010, 0x8000_0000_4e4d_2003),
        (0x4e4d_2018, 0x8000_0000_4e4d_3003),
        (0x4e4d_2390, 0x8000_0000_4e4d_3003),
        (0x4e4d_23b0, 0x8000_0000_4e4d_3003),
        (
            0x4e4d_3020,
            if mode == Mode::S2Only { 0x0400_0000_4ecb_a7e3 } else { 0x0400_0000_4ecb_a763 },
        ),
        (0x4e4d_35d0, 0x0400_0000_4ecb_a7e3),
        (0x4e4d_3680, 0x0400_0000_4e4d_0763),
        (0x4e4d_3688, 0x0400_0000_4e4d_1763),
        (0x4e4d_3690, 0x0400_0000_4e4d_2763),
        (0x4e4d_3698, 0x0400_0000_4e4d_3763),
    ];
    if mode == Mode::Nested {
        t.push((0x4e4d_2380, 0x8000_0000_4e4d_3003));
        t.push((0x4e4d_3bc0, 0x0400_0000_4e17_8763));
    }
    t
}

fn write32(mem: &mut SparseMem, addr: u64, v: u32) {
    mem.write(addr, Pas::NonSecure, &v.to_le_bytes()).unwrap();
}

fn write64(mem: &mut SparseMem, addr: u64, v: u64) {
    mem.write(addr, Pas::NonSecure, &v.to_le_bytes()).unwrap();
}

/// The machine after QEMU's `qsmmu_build_translation` and `qsmmu_program_bank`.
fn machine(mode: Mode) -> (Smmu, SparseMem) {
    let mut mem = SparseMem::new();
    mem.add_window(Window { name: "ram", base: 0x4000_0000, size: 512 << 20, pas_mask: 0xf })
        .unwrap();
    // STE, written as 32-bit words.
    write32(&mut mem, STE_ADDR, ste_word0(mode));
    write32(&mut mem, STE_ADDR + 5 * 4, 0x000d_0094);
    write32(&mut mem, STE_ADDR + 6 * 4, 0x4e4d_0000);
    if mode != Mode::S2Only {
        write32(&mut mem, CD_ADDR, 0xc000_0010);
        write32(&mut mem, CD_ADDR + 4, 0x1e20_6204);
        write32(&mut mem, CD_ADDR + 8, 0x4e4d_0001);
        write32(&mut mem, CD_ADDR + 16, 0x0000_0001);
    }
    for (addr, v) in tables(mode) {
        write64(&mut mem, addr, v);
    }
    let mut smmu = Smmu::new(SmmuConfig::qemu_virt());
    let b = smmu.bank_mut(SecSid::NonSecure);
    let mut gbpa = Gbpa(b.gbpa);
    gbpa.set_abort(false);
    b.gbpa = gbpa.0;
    b.cr1 = 0xd75;
    b.cmdq.base = 0x4e16_b00a;
    b.eventq.base = 0x4e17_000a;
    b.strtab_base_cfg = 0x5;
    b.strtab_base = 0x4e17_9000;
    let mut cr0 = Cr0(0);
    cr0.set_smmuen(true);
    cr0.set_eventqen(true);
    cr0.set_cmdqen(true);
    b.cr0 = cr0.0;
    b.cr0ack = cr0.0;
    (smmu, mem)
}

/// The testdev's DMA: a 4-byte write at IOVA (the data it then reads back at the GPA).
fn dma() -> Txn {
    Txn::ns(SID, IOVA, 4, false)
}

fn run(mode: Mode) -> (smmu::Translation, VecTrace, Smmu, SparseMem) {
    let (mut smmu, mut mem) = machine(mode);
    let mut trace = VecTrace::new();
    let t = smmu.translate(&dma(), &mut mem, &mut trace).expect("QEMU's translation succeeds");
    (t, trace, smmu, mem)
}

fn cd_fetches(trace: &VecTrace) -> Vec<u64> {
    trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Fetch { kind: FetchKind::Cd, addr, .. } => Some(*addr),
            _ => None,
        })
        .collect()
}

fn no_event_written(smmu: &Smmu, mem: &mut SparseMem) {
    assert_eq!(smmu.bank(SecSid::NonSecure).eventq.prod, 0);
    assert_eq!(read_u64(mem, 0x4e17_0000, Pas::NonSecure).unwrap(), 0);
}

#[test]
fn ns_s1_only_translates_to_qemu_pa() {
    let (t, trace, smmu, mut mem) = run(Mode::S1Only);
    assert_eq!((t.pa, t.pas), (PA, Pas::NonSecure));
    assert!(t.perms.write);
    assert_eq!(cd_fetches(&trace), vec![CD_ADDR]);
    no_event_written(&smmu, &mut mem);
}

#[test]
fn ns_s2_only_translates_to_qemu_pa() {
    let (t, trace, smmu, mut mem) = run(Mode::S2Only);
    assert_eq!((t.pa, t.pas), (PA, Pas::NonSecure));
    assert!(t.perms.write);
    assert!(cd_fetches(&trace).is_empty());
    no_event_written(&smmu, &mut mem);
}

#[test]
fn ns_nested_translates_to_qemu_pa() {
    let (t, trace, smmu, mut mem) = run(Mode::Nested);
    assert_eq!((t.pa, t.pas), (PA, Pas::NonSecure));
    assert!(t.perms.write);
    // The CD IPA goes through stage 2 (identity for the CD page).
    assert_eq!(cd_fetches(&trace), vec![CD_ADDR]);
    no_event_written(&smmu, &mut mem);
}

#[test]
fn ns_s1_only_is_a_4k_page_mapping() {
    let (t, ..) = run(Mode::S1Only);
    assert_eq!(t.size, 4096);
    assert_eq!(t.bytes_left(IOVA), 4096 - 0x567);
}

#[test]
fn ns_nested_without_the_cd_page_in_stage2_faults_on_the_cd_fetch() {
    let (mut smmu, mut mem) = machine(Mode::Nested);
    // Remove the stage-2 mapping of the CD page: the S2 walk of the CD IPA finds no leaf.
    write64(&mut mem, 0x4e4d_3bc0, 0);
    let out = smmu.translate(&dma(), &mut mem, &mut smmu::NoTrace);
    // STE.S2R is 0 in QEMU's STE: the stage-2 fault is not recorded, the DMA still fails.
    assert_eq!(
        out,
        Err(smmu::Abort {
            reason: smmu::AbortReason::Fault(smmu::spec::event::id::F_TRANSLATION),
            event: None
        })
    );
    no_event_written(&smmu, &mut mem);
}
