use smmu::spec::event::id as ty;
use smmu::{Pas, PhysMem, SecSid, SparseMem, Window};

use super::*;

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 16 << 20;
const SECURE_RAM: u64 = 0x0e00_0000;
/// The fake IOMMU maps IOVA `x` to PA `x + SHIFT`.
const SHIFT: u64 = 0x3000_0000;
const IOVA: u64 = 0x1000_0567;
const PA: u64 = IOVA + SHIFT;

/// An IOMMU that maps IOVAs by a fixed offset in pages of `page` bytes, in front of a sparse
/// memory with one RAM window (every PAS) and one Secure window (Secure and Root).
struct FakePort {
    mem: SparseMem,
    shift: u64,
    out_pas: Pas,
    page: u64,
    /// Transactions at or above this IOVA abort.
    abort_from: Option<(u64, Abort)>,
    txns: Vec<Txn>,
    /// (pa, pas, len) of every memory access.
    reads: Vec<(u64, Pas, usize)>,
    writes: Vec<(u64, Pas, usize)>,
}

impl FakePort {
    fn new() -> Self {
        let mut mem = SparseMem::new();
        mem.add_window(Window { name: "ram", base: RAM, size: RAM_SIZE, pas_mask: 0xf }).unwrap();
        mem.add_window(Window {
            name: "secure-ram",
            base: SECURE_RAM,
            size: 16 << 20,
            pas_mask: Pas::Secure.bit() | Pas::Root.bit(),
        })
        .unwrap();
        FakePort {
            mem,
            shift: SHIFT,
            out_pas: Pas::NonSecure,
            page: 0x1000,
            abort_from: None,
            txns: Vec::new(),
            reads: Vec::new(),
            writes: Vec::new(),
        }
    }

    fn peek(&mut self, pa: u64, n: usize) -> Vec<u8> {
        let mut b = vec![0; n];
        self.mem.read(pa, Pas::Root, &mut b).unwrap();
        b
    }

    fn poke(&mut self, pa: u64, data: &[u8]) {
        self.mem.write(pa, Pas::Root, data).unwrap();
    }
}

impl PhysMem for FakePort {
    fn read(&mut self, pa: u64, pas: Pas, buf: &mut [u8]) -> Result<(), BusError> {
        self.reads.push((pa, pas, buf.len()));
        self.mem.read(pa, pas, buf)
    }
    fn write(&mut self, pa: u64, pas: Pas, buf: &[u8]) -> Result<(), BusError> {
        self.writes.push((pa, pas, buf.len()));
        self.mem.write(pa, pas, buf)
    }
}

impl DmaPort for FakePort {
    fn translate(&mut self, txn: &Txn) -> Result<Translation, Abort> {
        self.txns.push(*txn);
        if let Some((from, abort)) = self.abort_from
            && txn.iova >= from
        {
            return Err(abort);
        }
        let perms = smmu::Perms { read: true, write: true, exec: false };
        Ok(Translation {
            pa: txn.iova.wrapping_add(self.shift),
            pas: self.out_pas,
            perms,
            size: self.page,
        })
    }
}

fn dev() -> IommuTestdev {
    IommuTestdev::new(StreamId::ns(8))
}

fn wr(d: &mut IommuTestdev, off: u64, v: u32) {
    d.mmio_write(off, 4, u64::from(v)).unwrap();
}

fn rd(d: &mut IommuTestdev, p: &mut FakePort, off: u64) -> u32 {
    d.mmio_read(off, 4, p).unwrap() as u32
}

/// QEMU's libqos order: GVA, GPA, LEN, ATTRS, then DBELL = 1.
fn program(d: &mut IommuTestdev, gva: u64, gpa: u64, len: u32, attrs: u32) {
    wr(d, DMA_GVA_LO, gva as u32);
    wr(d, DMA_GVA_HI, (gva >> 32) as u32);
    wr(d, DMA_GPA_LO, gpa as u32);
    wr(d, DMA_GPA_HI, (gpa >> 32) as u32);
    wr(d, DMA_LEN, len);
    wr(d, DMA_ATTRS, attrs);
    wr(d, DMA_DBELL, 1);
}

/// Triggers and returns DMA_RESULT.
fn run(d: &mut IommuTestdev, p: &mut FakePort) -> u32 {
    assert_eq!(rd(d, p, DMA_TRIGGERING), 0);
    rd(d, p, DMA_RESULT)
}

const ATTRS_NS: u32 = 0xa; // SPACE_VALID | SPACE=NS, as QEMU's test writes

// ---- identity and register map ----

#[test]
fn pci_identity_is_qemus() {
    assert_eq!((pci::VENDOR_ID, pci::DEVICE_ID, pci::REVISION), (0x1b36, 0x0005, 0));
    assert_eq!(pci::CLASS_ID, 0x00ff);
    assert_eq!(pci::BAR0_SIZE, 0x1000);
}

#[test]
fn registers_read_their_reset_values() {
    let (mut d, mut p) = (dev(), FakePort::new());
    let expected = [
        (DMA_GVA_LO, 0),
        (DMA_GVA_HI, 0),
        (DMA_LEN, 0),
        (DMA_RESULT, 0xffff_ffff),
        (DMA_DBELL, 0),
        (DMA_ATTRS, 0x2),
        (DMA_GPA_LO, 0),
        (DMA_GPA_HI, 0),
        (DMA_CTRL, 0),
        (DMA_SSID, 0),
        (DMA_PATTERN, 0),
        (DMA_FAULT, 0),
        (DMA_DONE, 0),
    ];
    for (off, v) in expected {
        assert_eq!(rd(&mut d, &mut p, off), v, "offset {off:#x}");
    }
    assert!(!d.is_armed());
}

#[test]
fn address_and_length_registers_read_back_what_was_written() {
    let (mut d, mut p) = (dev(), FakePort::new());
    let values = [
        (DMA_GVA_LO, 0x8060_4567),
        (DMA_GVA_HI, 0x0000_0080),
        (DMA_LEN, 0xffff_ffff),
        (DMA_GPA_LO, 0x4ecb_a567),
        (DMA_GPA_HI, 0x1234_5678),
        (DMA_ATTRS, 0xffff_fff5),
        (DMA_RESULT, 0x0bad_cafe),
        (DMA_PATTERN, 0xa5a5_0001),
    ];
    for (off, v) in values {
        wr(&mut d, off, v);
    }
    for (off, v) in values {
        assert_eq!(rd(&mut d, &mut p, off), v, "offset {off:#x}");
    }
}

#[test]
fn gva_halves_compose_a_64_bit_iova() {
    let (mut d, mut p) = (dev(), FakePort::new());
    wr(&mut d, DMA_GVA_HI, 0x80);
    wr(&mut d, DMA_GVA_LO, 0x8060_4567);
    wr(&mut d, DMA_LEN, 4);
    wr(&mut d, DMA_DBELL, 1);
    run(&mut d, &mut p);
    assert_eq!(p.txns[0].iova, 0x0000_0080_8060_4567);
}

#[test]
fn ctrl_and_ssid_keep_only_defined_bits() {
    let (mut d, mut p) = (dev(), FakePort::new());
    wr(&mut d, DMA_CTRL, 0xffff_ffff);
    wr(&mut d, DMA_SSID, 0xffff_ffff);
    assert_eq!(rd(&mut d, &mut p, DMA_CTRL), 0xf);
    assert_eq!(rd(&mut d, &mut p, DMA_SSID), 0x000f_ffff);
}

#[test]
fn fault_and_done_ignore_writes() {
    let (mut d, mut p) = (dev(), FakePort::new());
    wr(&mut d, DMA_FAULT, 0x7ff);
    wr(&mut d, DMA_DONE, 0x1234);
    assert_eq!(rd(&mut d, &mut p, DMA_FAULT), 0);
    assert_eq!(rd(&mut d, &mut p, DMA_DONE), 0);
}

#[test]
fn unlisted_offsets_read_zero_and_ignore_writes() {
    let (mut d, mut p) = (dev(), FakePort::new());
    for off in [0x24, 0x28, 0xfc, 0x114, 0xffc] {
        wr(&mut d, off, 0xffff_ffff);
        assert_eq!(rd(&mut d, &mut p, off), 0, "offset {off:#x}");
    }
    assert_eq!(d, dev());
}

#[test]
fn accesses_other_than_32_bits_are_rejected() {
    let (mut d, mut p) = (dev(), FakePort::new());
    for size in [1, 2, 8] {
        assert_eq!(d.mmio_read(DMA_RESULT, size, &mut p), Err(BusError::Unassigned));
        assert_eq!(d.mmio_write(DMA_LEN, size, 4), Err(BusError::Unassigned));
    }
    assert_eq!(rd(&mut d, &mut p, DMA_LEN), 0);
}

#[test]
fn unaligned_and_out_of_bar_accesses_are_rejected() {
    let (mut d, mut p) = (dev(), FakePort::new());
    assert_eq!(d.mmio_read(0x12, 4, &mut p), Err(BusError::Unassigned));
    assert_eq!(d.mmio_write(0x1000, 4, 1), Err(BusError::Unassigned));
}

#[test]
fn rejected_read_of_trigger_runs_no_dma() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    assert_eq!(d.mmio_read(DMA_TRIGGERING, 2, &mut p), Err(BusError::Unassigned));
    assert!(d.is_armed());
    assert!(p.txns.is_empty());
}

// ---- doorbell and result codes ----

#[test]
fn doorbell_arm_sets_busy_and_disarm_sets_idle() {
    let (mut d, mut p) = (dev(), FakePort::new());
    wr(&mut d, DMA_DBELL, 1);
    assert!(d.is_armed());
    assert_eq!(rd(&mut d, &mut p, DMA_RESULT), 0xffff_fffe);
    wr(&mut d, DMA_DBELL, 0);
    assert!(!d.is_armed());
    assert_eq!(rd(&mut d, &mut p, DMA_RESULT), 0xffff_ffff);
}

#[test]
fn doorbell_looks_only_at_bit0() {
    let mut d = dev();
    wr(&mut d, DMA_DBELL, 0xffff_fffe);
    assert!(!d.is_armed());
    wr(&mut d, DMA_DBELL, 0x3);
    assert!(d.is_armed());
}

#[test]
fn trigger_without_arming_reports_not_armed() {
    let (mut d, mut p) = (dev(), FakePort::new());
    wr(&mut d, DMA_LEN, 4);
    assert_eq!(run(&mut d, &mut p), 0xdead_0005);
    assert!(p.txns.is_empty());
}

#[test]
fn zero_length_reports_bad_len_and_disarms() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA, 0, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0001);
    assert!(!d.is_armed());
    assert!(p.txns.is_empty());
}

#[test]
fn bad_len_is_checked_before_bad_attrs() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA, 0, 0x8);
    assert_eq!(run(&mut d, &mut p), 0xdead_0001);
}

#[test]
fn contradicting_attrs_report_bad_attrs_and_disarm() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA, 4, 0xb); // SPACE=NS with SECURE=1
    assert_eq!(run(&mut d, &mut p), 0xdead_0006);
    assert!(!d.is_armed());
    assert!(p.txns.is_empty());
}

#[test]
fn secure_stream_with_realm_space_reports_bad_attrs() {
    let mut d = IommuTestdev::new(StreamId { sid: 3, sec_sid: SecSid::Secure });
    let mut p = FakePort::new();
    program(&mut d, IOVA, PA, 4, 0xe);
    assert_eq!(run(&mut d, &mut p), 0xdead_0006);
}

#[test]
fn second_trigger_after_a_dma_reports_not_armed() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0);
    assert_eq!(run(&mut d, &mut p), 0xdead_0005);
}

// ---- the write DMA ----

#[test]
fn write_dma_stores_qemus_pattern_and_succeeds() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0);
    assert_eq!(p.peek(PA, 4), [0x78, 0x56, 0x34, 0x12]);
    assert_eq!(rd(&mut d, &mut p, DMA_DONE), 4);
    assert_eq!(rd(&mut d, &mut p, DMA_FAULT), 0);
}

#[test]
fn write_dma_pattern_restarts_every_four_bytes_and_handles_a_tail() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA, 7, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0);
    assert_eq!(p.peek(PA, 8), [0x78, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0]);
}

#[test]
fn write_dma_uses_programmed_pattern() {
    let (mut d, mut p) = (dev(), FakePort::new());
    wr(&mut d, DMA_PATTERN, 0xa1b2_c3d4);
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0);
    assert_eq!(p.peek(PA, 4), [0xd4, 0xc3, 0xb2, 0xa1]);
}

#[test]
fn write_dma_transaction_carries_qemus_default_attributes() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    run(&mut d, &mut p);
    let expected = Txn {
        sec_sid: SecSid::NonSecure,
        sid: 8,
        ssid: None,
        ns: true,
        rnw: false,
        pnu: false,
        ind: false,
        iova: IOVA,
        len: 4,
    };
    assert_eq!(p.txns, [expected]);
}

#[test]
fn ctrl_bits_set_pnu_ind_and_substream() {
    let (mut d, mut p) = (dev(), FakePort::new());
    wr(&mut d, DMA_CTRL, CTRL_PRIV | CTRL_INSTR | CTRL_SSV);
    wr(&mut d, DMA_SSID, 0x12345);
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    run(&mut d, &mut p);
    let t = p.txns[0];
    assert!(t.pnu && t.ind && !t.rnw);
    assert_eq!(t.ssid, Some(0x12345));
}

#[test]
fn ssid_is_not_sent_without_ssv() {
    let (mut d, mut p) = (dev(), FakePort::new());
    wr(&mut d, DMA_SSID, 0x5);
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    run(&mut d, &mut p);
    assert_eq!(p.txns[0].ssid, None);
}

#[test]
fn secure_stream_with_secure_space_sends_a_secure_transaction() {
    let mut d = IommuTestdev::new(StreamId { sid: 8, sec_sid: SecSid::Secure });
    let mut p = FakePort::new();
    p.out_pas = Pas::Secure;
    p.shift = SECURE_RAM.wrapping_sub(0x1000_0000);
    program(&mut d, IOVA, IOVA.wrapping_add(p.shift), 4, 0x9);
    assert_eq!(run(&mut d, &mut p), 0);
    assert_eq!((p.txns[0].sec_sid, p.txns[0].ns), (SecSid::Secure, false));
    assert_eq!(p.reads, [(SECURE_RAM + 0x567, Pas::Secure, 4)]);
}

#[test]
fn readback_goes_to_the_gpa_in_the_attrs_pas() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA, 4, 0xe); // SPACE=Realm: a Non-secure stream still sends NS
    assert_eq!(run(&mut d, &mut p), 0);
    assert!(p.txns[0].ns);
    assert_eq!(p.reads, [(PA, Pas::Realm, 4)]);
}

#[test]
fn readback_different_from_the_pattern_reports_mismatch() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA + 0x1000, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0004);
    assert!(!d.is_armed());
}

#[test]
fn readback_that_fails_reports_rd_fail() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, 0x1000, 4, ATTRS_NS); // no memory at the GPA
    assert_eq!(run(&mut d, &mut p), 0xdead_0003);
    assert!(!d.is_armed());
}

#[test]
fn readback_of_secure_window_in_ns_pas_reports_rd_fail() {
    let (mut d, mut p) = (dev(), FakePort::new());
    p.shift = SECURE_RAM.wrapping_sub(0x1000_0000);
    p.out_pas = Pas::Secure;
    program(&mut d, IOVA, IOVA.wrapping_add(p.shift), 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0003);
}

#[test]
fn abort_reports_tx_fail_with_the_event_type_and_skips_readback() {
    let (mut d, mut p) = (dev(), FakePort::new());
    let abort = Abort { reason: AbortReason::Fault(ty::C_BAD_STE), event: Some(ty::C_BAD_STE) };
    p.abort_from = Some((0, abort));
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0002);
    assert_eq!(rd(&mut d, &mut p, DMA_FAULT), 0x104);
    assert_eq!(rd(&mut d, &mut p, DMA_DONE), 0);
    assert!(p.reads.is_empty());
    assert!(!d.is_armed());
}

#[test]
fn abort_without_event_sets_only_the_aborted_bit() {
    let (mut d, mut p) = (dev(), FakePort::new());
    p.abort_from = Some((0, Abort { reason: AbortReason::GlobalBypassAbort, event: None }));
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0002);
    assert_eq!(rd(&mut d, &mut p, DMA_FAULT), 0x100);
}

#[test]
fn gpc_abort_sets_the_gpc_bit() {
    let (mut d, mut p) = (dev(), FakePort::new());
    p.abort_from = Some((0, Abort { reason: AbortReason::GpcFault, event: None }));
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0002);
    assert_eq!(rd(&mut d, &mut p, DMA_FAULT), 0x300);
}

#[test]
fn output_bus_error_reports_tx_fail_and_the_bus_error_bit() {
    let (mut d, mut p) = (dev(), FakePort::new());
    p.shift = 0; // IOVA 0x10000567 is not memory
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0002);
    assert_eq!(rd(&mut d, &mut p, DMA_FAULT), 0x400);
    assert!(p.reads.is_empty());
}

#[test]
fn abort_mid_dma_reports_the_bytes_done_before_it() {
    let (mut d, mut p) = (dev(), FakePort::new());
    let abort = Abort { reason: AbortReason::Fault(ty::F_TRANSLATION), event: Some(0x10) };
    p.abort_from = Some((0x1000_2000, abort));
    program(&mut d, 0x1000_0000, RAM, 0x3000, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0002);
    assert_eq!(rd(&mut d, &mut p, DMA_DONE), 0x2000);
    assert_eq!(rd(&mut d, &mut p, DMA_FAULT), 0x110);
}

#[test]
fn a_new_dma_clears_fault_and_done() {
    let (mut d, mut p) = (dev(), FakePort::new());
    p.abort_from = Some((0, Abort { reason: AbortReason::GlobalBypassAbort, event: None }));
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    run(&mut d, &mut p);
    program(&mut d, IOVA, PA, 0, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0001);
    assert_eq!(rd(&mut d, &mut p, DMA_FAULT), 0);
}

#[test]
fn large_dma_moves_in_bounded_chunks_across_pages() {
    let (mut d, mut p) = (dev(), FakePort::new());
    let len = 1 << 20;
    program(&mut d, 0x1000_0000, RAM, len, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0);
    assert_eq!(p.txns.len(), 256);
    assert!(p.writes.iter().chain(&p.reads).all(|&(_, _, n)| n <= CHUNK));
    assert_eq!(p.peek(RAM + u64::from(len) - 4, 8), [0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0]);
    assert_eq!(rd(&mut d, &mut p, DMA_DONE), len);
}

#[test]
fn dma_chunks_end_at_mapping_boundaries_and_keep_the_pattern_phase() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, 0x1000_0ffe, RAM + 0xffe, 6, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0);
    let lens: Vec<u64> = p.txns.iter().map(|t| t.len).collect();
    assert_eq!(lens, [6, 4]);
    assert_eq!(p.writes.iter().map(|w| w.2).collect::<Vec<_>>(), [2, 4]);
    assert_eq!(p.peek(RAM + 0xffe, 6), [0x78, 0x56, 0x34, 0x12, 0x78, 0x56]);
}

#[test]
fn large_mapping_is_still_moved_through_the_fixed_buffer() {
    let (mut d, mut p) = (dev(), FakePort::new());
    p.page = 2 << 20;
    program(&mut d, 0x1000_0000, RAM, 0x3000, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0);
    assert_eq!(p.writes.len(), 3);
}

#[test]
fn maximal_length_into_missing_memory_fails_quickly() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, 0x1000_0000, RAM, u32::MAX, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0002);
    assert_eq!(rd(&mut d, &mut p, DMA_DONE), RAM_SIZE as u32);
}

// ---- the read DMA (DMA_CTRL.DIR = 1) ----

#[test]
fn read_dma_of_equal_bytes_succeeds() {
    let (mut d, mut p) = (dev(), FakePort::new());
    p.poke(PA, &[1, 2, 3, 4, 5]);
    wr(&mut d, DMA_CTRL, CTRL_DIR_READ);
    program(&mut d, IOVA, PA, 5, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0);
    assert!(p.txns[0].rnw);
    assert!(p.writes.is_empty());
    assert_eq!(rd(&mut d, &mut p, DMA_DONE), 5);
}

#[test]
fn read_dma_of_different_bytes_reports_mismatch() {
    let (mut d, mut p) = (dev(), FakePort::new());
    p.poke(PA, &[1, 2, 3, 4]);
    p.poke(PA + 0x1000, &[1, 2, 3, 5]);
    wr(&mut d, DMA_CTRL, CTRL_DIR_READ);
    program(&mut d, IOVA, PA + 0x1000, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0004);
}

#[test]
fn read_dma_abort_reports_tx_fail() {
    let (mut d, mut p) = (dev(), FakePort::new());
    p.abort_from = Some((0, Abort { reason: AbortReason::ConfigAbort, event: None }));
    wr(&mut d, DMA_CTRL, CTRL_DIR_READ);
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0002);
    assert_eq!(rd(&mut d, &mut p, DMA_FAULT), 0x100);
}

#[test]
fn read_dma_with_unreadable_gpa_reports_rd_fail() {
    let (mut d, mut p) = (dev(), FakePort::new());
    wr(&mut d, DMA_CTRL, CTRL_DIR_READ);
    program(&mut d, IOVA, 0x2000, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0003);
}

#[test]
fn read_dma_output_bus_error_reports_tx_fail() {
    let (mut d, mut p) = (dev(), FakePort::new());
    p.shift = 0;
    wr(&mut d, DMA_CTRL, CTRL_DIR_READ);
    program(&mut d, IOVA, PA, 4, ATTRS_NS);
    assert_eq!(run(&mut d, &mut p), 0xdead_0002);
    assert_eq!(rd(&mut d, &mut p, DMA_FAULT), 0x400);
}

// ---- reset ----

#[test]
fn reset_restores_every_register_and_disarms() {
    let (mut d, mut p) = (dev(), FakePort::new());
    program(&mut d, IOVA, PA, 4, 0xf);
    wr(&mut d, DMA_CTRL, 0xf);
    wr(&mut d, DMA_PATTERN, 7);
    d.reset();
    assert_eq!(d, dev());
    assert_eq!(rd(&mut d, &mut p, DMA_RESULT), 0xffff_ffff);
}
