//! Machine tests against a fake IOMMU that logs what the machine hands it.

use std::cell::RefCell;
use std::rc::Rc;

use smmu::{
    Abort, AbortReason, BusError, Pas, Perms, PhysMem, SecSid, TraceEvent, TraceSink, Translation,
    Txn, trace,
};

use super::*;
use crate::bus::{Attrs, DeviceOpts, GlobalOpt};

/// What the fake IOMMU saw and how it behaves.
#[derive(Default)]
struct FakeState {
    /// (write, offset, size, value, pas) of every register access.
    mmio: Vec<(bool, u64, u8, u64, Pas)>,
    txns: Vec<Txn>,
    /// When set, translations abort with this event type and pulse line 0.
    abort_event: Option<u8>,
    irqs: Vec<u8>,
    resets: usize,
}

/// An IOMMU with 0x60000 bytes of registers that read back `offset | pas << 32`, accept only
/// 4- and 8-byte accesses, and translate by identity in the Non-secure PAS (4 KiB pages).
/// A 4-byte write to offset 0x100 stores 0xa5 at the PA in its value through the machine's
/// memory, to show what the SMMU's table accesses reach.
struct FakeIommu(Rc<RefCell<FakeState>>);

impl Iommu for FakeIommu {
    fn mmio_size(&self) -> u64 {
        0x60000
    }
    fn mmio_read<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        offset: u64,
        size: u8,
        pas: Pas,
        _mem: &mut M,
        trace: &mut T,
    ) -> Result<u64, BusError> {
        let v = offset | (pas as u64) << 32;
        self.0.borrow_mut().mmio.push((false, offset, size, v, pas));
        trace::emit(trace, || TraceEvent::Note(format!("read {offset:#x}")));
        if size < 4 { Err(BusError::Unassigned) } else { Ok(v) }
    }
    fn mmio_write<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        offset: u64,
        size: u8,
        value: u64,
        pas: Pas,
        mem: &mut M,
        _trace: &mut T,
    ) -> Result<(), BusError> {
        self.0.borrow_mut().mmio.push((true, offset, size, value, pas));
        if size < 4 {
            return Err(BusError::Unassigned);
        }
        if offset == 0x100 {
            return mem.write(value, pas, &[0xa5]);
        }
        Ok(())
    }
    fn translate<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        txn: &Txn,
        _mem: &mut M,
        _trace: &mut T,
    ) -> Result<Translation, Abort> {
        let mut s = self.0.borrow_mut();
        s.txns.push(*txn);
        if let Some(ev) = s.abort_event {
            s.irqs.push(0);
            return Err(Abort { reason: AbortReason::Fault(ev), event: Some(ev) });
        }
        let perms = Perms { read: true, write: true, exec: false };
        Ok(Translation { pa: txn.iova, pas: Pas::NonSecure, perms, size: 0x1000 })
    }
    fn take_irqs(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.0.borrow_mut().irqs)
    }
    fn reset(&mut self) {
        self.0.borrow_mut().resets += 1;
    }
}

fn kv(props: &[(&str, &str)]) -> Vec<(String, String)> {
    props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn device(props: &[(&str, &str)]) -> DeviceOpts {
    DeviceOpts { driver: "iommu-testdev".into(), props: kv(props) }
}

fn opts(machine: &str, props: &[(&str, &str)], devices: Vec<DeviceOpts>) -> MachineOpts {
    MachineOpts {
        machine: machine.into(),
        machine_props: kv(props),
        ram_size: 512 << 20,
        devices,
        globals: Vec::new(),
    }
}

/// iommu-smmuv3-test's command line:
/// `-machine virt,acpi=off,gic-version=3,iommu=smmuv3 -m 512 -device iommu-testdev`.
fn golden_opts() -> MachineOpts {
    let props = [("acpi", "off"), ("gic-version", "3"), ("iommu", "smmuv3")];
    opts("virt", &props, vec![device(&[])])
}

fn build(o: &MachineOpts) -> (Box<dyn Bus>, Rc<RefCell<FakeState>>) {
    let state = Rc::new(RefCell::new(FakeState::default()));
    let s2 = state.clone();
    let bus = build_machine_with(o, move |_| FakeIommu(s2)).unwrap();
    (bus, state)
}

fn build_err(o: &MachineOpts) -> String {
    let state = Rc::new(RefCell::new(FakeState::default()));
    match build_machine_with(o, move |_| FakeIommu(state)) {
        Ok(_) => panic!("machine built"),
        Err(e) => e,
    }
}

/// `read ADDR SIZE` as the qtest reply shows it: hex in memory order.
fn read_hex(bus: &mut dyn Bus, addr: u64, size: usize) -> String {
    let mut b = vec![0u8; size];
    let _ = bus.read(addr, &mut b, Attrs::Unspecified);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `write ADDR SIZE 0xDATA` with DATA in memory order.
fn write_hex(bus: &mut dyn Bus, addr: u64, hex: &str) {
    let b: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    bus.write(addr, &b, Attrs::Unspecified).unwrap();
}

fn readl(bus: &mut dyn Bus, addr: u64, attrs: Attrs) -> (u32, Result<(), BusError>) {
    let mut b = [0u8; 4];
    let r = bus.read(addr, &mut b, attrs);
    (u32::from_le_bytes(b), r)
}

fn writel(bus: &mut dyn Bus, addr: u64, v: u32, attrs: Attrs) -> Result<(), BusError> {
    bus.write(addr, &v.to_le_bytes(), attrs)
}

const ECAM: u64 = 0x40_1000_0000;
const BAR: u64 = 0x1000_0000;

/// libqos's bring-up of the device at 00:01.0 (section 3.2): COMMAND, BAR0 = 0x10000000.
fn bring_up(bus: &mut dyn Bus) {
    write_hex(bus, ECAM + 0x8004, "0700");
    write_hex(bus, ECAM + 0x8010, "ffffffff");
    write_hex(bus, ECAM + 0x8010, "00000010");
}

/// Programs and triggers a DMA the way libqos does (section 3.7); returns DMA_RESULT.
fn dma(bus: &mut dyn Bus, gva: u64, gpa: u64, len: u32, attrs: u32) -> u32 {
    let u = Attrs::Unspecified;
    for (off, v) in [
        (0x04, gva as u32),
        (0x08, (gva >> 32) as u32),
        (0x1c, gpa as u32),
        (0x20, (gpa >> 32) as u32),
        (0x0c, len),
        (0x18, attrs),
        (0x14, 1),
    ] {
        writel(bus, BAR + off, v, u).unwrap();
    }
    assert_eq!(readl(bus, BAR, u).0, 0);
    readl(bus, BAR + 0x10, u).0
}

// ---- PCI bring-up on the wire (golden transcript) ----

#[test]
fn ecam_scan_reproduces_the_golden_transcript() {
    let (mut bus, _) = build(&golden_opts());
    let b = bus.as_mut();
    assert_eq!(read_hex(b, 0x4010000000, 2), "361b");
    assert_eq!(read_hex(b, 0x4010000002, 2), "0800");
    assert_eq!(read_hex(b, 0x4010001000, 2), "ffff");
    assert_eq!(read_hex(b, 0x4010007000, 2), "ffff");
    assert_eq!(read_hex(b, 0x4010008000, 2), "361b");
    assert_eq!(read_hex(b, 0x4010008002, 2), "0500");
    assert_eq!(read_hex(b, 0x4010009000, 2), "ffff");
    assert_eq!(read_hex(b, 0x40100ff000, 2), "ffff");
    assert_eq!(read_hex(b, 0x4010008004, 2), "0000");
    write_hex(b, 0x4010008004, "0700");
    assert_eq!(read_hex(b, 0x4010008004, 2), "0700");
    write_hex(b, 0x4010008010, "ffffffff");
    assert_eq!(read_hex(b, 0x4010008010, 4), "00f0ffff");
    write_hex(b, 0x4010008010, "00000010");
    assert_eq!(read_hex(b, 0x4010008010, 4), "00000010");
}

#[test]
fn ecam_scan_finds_only_the_host_bridge_and_the_device() {
    let (mut bus, _) = build(&golden_opts());
    let found: Vec<u64> = (0..256u64)
        .filter(|devfn| read_hex(bus.as_mut(), ECAM + (devfn << 12), 2) != "ffff")
        .collect();
    assert_eq!(found, [0, 8]);
}

#[test]
fn ecam_of_other_buses_reads_all_ones() {
    let (mut bus, _) = build(&golden_opts());
    assert_eq!(read_hex(bus.as_mut(), ECAM + (1 << 20), 4), "ffffffff");
}

#[test]
fn config_space_answers_one_two_four_and_split_eight_byte_reads() {
    let (mut bus, _) = build(&golden_opts());
    let b = bus.as_mut();
    assert_eq!(read_hex(b, ECAM + 0x8000, 1), "36");
    assert_eq!(read_hex(b, ECAM + 0x8001, 1), "1b");
    assert_eq!(read_hex(b, ECAM + 0x8000, 4), "361b0500");
    assert_eq!(read_hex(b, ECAM + 0x8008, 8), "0000ff0000000000");
    assert_eq!(read_hex(b, ECAM + 0x8100, 2), "ffff");
}

#[test]
fn host_bridge_has_host_bridge_class() {
    let (mut bus, _) = build(&golden_opts());
    assert_eq!(read_hex(bus.as_mut(), ECAM + 0x8, 4), "00000006");
}

#[test]
fn addr_property_moves_the_device_in_ecam() {
    let (mut bus, _) = build(&opts("virt", &[], vec![device(&[("addr", "3")])]));
    assert_eq!(read_hex(bus.as_mut(), ECAM + 0x8000, 2), "ffff");
    assert_eq!(read_hex(bus.as_mut(), ECAM + 0x18000, 2), "361b");
}

#[test]
fn low_ecam_is_used_with_highmem_off() {
    let (mut bus, _) = build(&opts("virt", &[("highmem", "off")], vec![device(&[])]));
    assert_eq!(read_hex(bus.as_mut(), 0x3f00_8000, 2), "361b");
    assert_eq!(bus.read(ECAM, &mut [0; 2], Attrs::Unspecified), Err(BusError::Unassigned));
}

// ---- PCIe MMIO window ----

#[test]
fn unclaimed_pcie_mmio_reads_all_ones() {
    let (mut bus, _) = build(&golden_opts());
    let b = bus.as_mut();
    assert_eq!(readl(b, BAR, Attrs::Unspecified), (0xffff_ffff, Ok(())));
    assert_eq!(readl(b, 0x3efe_fffc, Attrs::Unspecified), (0xffff_ffff, Ok(())));
    assert_eq!(readl(b, 0x80_0000_0000, Attrs::Unspecified), (0xffff_ffff, Ok(())));
    assert_eq!(writel(b, 0x2000_0000, 1, Attrs::Unspecified), Ok(()));
}

#[test]
fn bar_decodes_after_bring_up_and_reads_registers() {
    let (mut bus, _) = build(&golden_opts());
    bring_up(bus.as_mut());
    assert_eq!(read_hex(bus.as_mut(), BAR + 0x10, 4), "ffffffff");
    assert_eq!(read_hex(bus.as_mut(), BAR + 0x18, 4), "02000000");
    assert_eq!(read_hex(bus.as_mut(), BAR + 0x1000, 4), "ffffffff");
}

#[test]
fn bar_stops_decoding_when_memory_space_is_disabled() {
    let (mut bus, _) = build(&golden_opts());
    bring_up(bus.as_mut());
    write_hex(bus.as_mut(), ECAM + 0x8004, "0000");
    assert_eq!(read_hex(bus.as_mut(), BAR + 0x18, 4), "ffffffff");
}

#[test]
fn bar_rejects_two_byte_access_with_zero_data() {
    let (mut bus, _) = build(&golden_opts());
    bring_up(bus.as_mut());
    let mut b = [0xee; 2];
    assert_eq!(bus.read(BAR + 0x10, &mut b, Attrs::Unspecified), Err(BusError::Unassigned));
    assert_eq!(b, [0, 0]);
}

#[test]
fn eight_byte_bar_read_is_two_register_reads() {
    let (mut bus, _) = build(&golden_opts());
    bring_up(bus.as_mut());
    assert_eq!(read_hex(bus.as_mut(), BAR + 0x14, 8), "0000000002000000");
}

// ---- memory map and PAS ----

#[test]
fn ram_spans_ram_size_from_0x40000000() {
    let (mut bus, _) = build(&golden_opts());
    let b = bus.as_mut();
    assert_eq!(writel(b, 0x5fff_fffc, 0x1234_5678, Attrs::Unspecified), Ok(()));
    assert_eq!(readl(b, 0x5fff_fffc, Attrs::Unspecified), (0x1234_5678, Ok(())));
    assert_eq!(readl(b, 0x6000_0000, Attrs::Unspecified).1, Err(BusError::Unassigned));
    assert_eq!(readl(b, 0x4000_0000, Attrs::Space(Pas::Realm)), (0, Ok(())));
}

#[test]
fn read_across_ram_end_keeps_the_ram_part() {
    let (mut bus, _) = build(&golden_opts());
    writel(bus.as_mut(), 0x5fff_fffc, 0xaabb_ccdd, Attrs::Unspecified).unwrap();
    let mut b = [0xee; 8];
    assert_eq!(bus.read(0x5fff_fffc, &mut b, Attrs::Unspecified), Err(BusError::Unassigned));
    assert_eq!(b, [0xdd, 0xcc, 0xbb, 0xaa, 0, 0, 0, 0]);
}

#[test]
fn default_ram_size_is_128_mib() {
    let mut o = golden_opts();
    o.ram_size = 0;
    let (mut bus, _) = build(&o);
    assert_eq!(readl(bus.as_mut(), 0x47ff_fffc, Attrs::Unspecified).1, Ok(()));
    assert_eq!(readl(bus.as_mut(), 0x4800_0000, Attrs::Unspecified).1, Err(BusError::Unassigned));
}

#[test]
fn flash_reads_zero_and_ignores_writes() {
    let (mut bus, _) = build(&golden_opts());
    let b = bus.as_mut();
    assert_eq!(writel(b, 0x1000, 0xffff_ffff, Attrs::Unspecified), Ok(()));
    assert_eq!(readl(b, 0x1000, Attrs::Unspecified), (0, Ok(())));
    assert_eq!(readl(b, 0x07ff_fffc, Attrs::Unspecified), (0, Ok(())));
}

#[test]
fn other_virt_devices_are_unassigned() {
    let (mut bus, _) = build(&golden_opts());
    for addr in [0x0800_0000, 0x0900_0000, 0x0a00_0000, 0x0e00_0000, 0x3eff_0000, 0x3f00_0000] {
        let r = readl(bus.as_mut(), addr, Attrs::Unspecified);
        assert_eq!(r, (0, Err(BusError::Unassigned)), "{addr:#x}");
    }
}

#[test]
fn secure_ram_answers_secure_and_root_only() {
    let (mut bus, _) = build(&opts("virt", &[("secure", "on")], vec![]));
    let b = bus.as_mut();
    assert_eq!(writel(b, 0x0e00_0000, 0xfeed, Attrs::Secure), Ok(()));
    assert_eq!(readl(b, 0x0e00_0000, Attrs::Space(Pas::Root)), (0xfeed, Ok(())));
    assert_eq!(readl(b, 0x0e00_0000, Attrs::Unspecified), (0, Err(BusError::Forbidden)));
    assert_eq!(readl(b, 0x0e00_0000, Attrs::Space(Pas::Realm)), (0, Err(BusError::Forbidden)));
    assert_eq!(readl(b, 0x0eff_fffc, Attrs::Secure).1, Ok(()));
    assert_eq!(readl(b, 0x0f00_0000, Attrs::Secure).1, Err(BusError::Unassigned));
}

#[test]
fn secure_on_makes_flash_bank_0_secure_only() {
    let (mut bus, _) = build(&opts("virt", &[("secure", "yes")], vec![]));
    assert_eq!(readl(bus.as_mut(), 0, Attrs::Unspecified).1, Err(BusError::Forbidden));
    assert_eq!(readl(bus.as_mut(), 0, Attrs::Secure).1, Ok(()));
    assert_eq!(readl(bus.as_mut(), 0x0400_0000, Attrs::Unspecified).1, Ok(()));
}

#[test]
fn memset_fills_ram_and_reports_the_unassigned_part() {
    let (mut bus, _) = build(&golden_opts());
    assert_eq!(bus.fill(0x4ecb_a567, 4, 0x5a, Attrs::Unspecified), Ok(()));
    assert_eq!(read_hex(bus.as_mut(), 0x4ecb_a566, 6), "005a5a5a5a00");
    let r = bus.fill(0x5fff_fff0, 0x20, 1, Attrs::Unspecified);
    assert_eq!(r, Err(BusError::Unassigned));
    assert_eq!(read_hex(bus.as_mut(), 0x5fff_fffc, 4), "01010101");
}

#[test]
fn memset_over_a_bar_writes_its_registers_and_skips_the_hole_after_it() {
    let (mut bus, _) = build(&golden_opts());
    bring_up(bus.as_mut());
    assert_eq!(bus.fill(BAR + 0x1c, 0x2000, 0x22, Attrs::Unspecified), Ok(()));
    assert_eq!(read_hex(bus.as_mut(), BAR + 0x1c, 8), "2222222222222222");
}

#[test]
fn memset_of_a_whole_empty_pcie_window_returns_at_once() {
    // 512 GiB of holes: walking them 256 bytes at a time took tens of minutes.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut bus = build_machine(&golden_opts()).unwrap();
        let _ = tx.send(bus.fill(0x80_0000_0000, 0x80_0000_0000, 0, Attrs::Unspecified));
    });
    let r = rx.recv_timeout(std::time::Duration::from_secs(20));
    assert_eq!(r, Ok(Ok(())));
}

#[test]
fn max_access_is_the_ram_size() {
    let (bus, _) = build(&golden_opts());
    assert_eq!(bus.max_access(), 512 << 20);
}

// ---- the SMMU's pages ----

#[test]
fn smmu_registers_see_offset_size_and_pas() {
    let (mut bus, st) = build(&golden_opts());
    let _ = readl(bus.as_mut(), 0x0905_8000, Attrs::Secure);
    writel(bus.as_mut(), 0x0905_0020, 0xd, Attrs::Space(Pas::Realm)).unwrap();
    let log = st.borrow().mmio.clone();
    assert_eq!(log, [(false, 0x8000, 4, 0x8000, Pas::Secure), (true, 0x20, 4, 0xd, Pas::Realm)]);
}

#[test]
fn smmu_maps_mmio_size_bytes() {
    let (mut bus, _) = build(&golden_opts());
    assert_eq!(readl(bus.as_mut(), 0x090a_fffc, Attrs::Unspecified), (0x5fffc, Ok(())));
    assert_eq!(readl(bus.as_mut(), 0x090b_0000, Attrs::Unspecified).1, Err(BusError::Unassigned));
}

#[test]
fn smmu_sixteen_byte_read_is_two_eight_byte_accesses() {
    let (mut bus, st) = build(&golden_opts());
    let mut b = [0u8; 16];
    bus.read(0x0905_0090, &mut b, Attrs::Unspecified).unwrap();
    let sizes: Vec<(u64, u8)> = st.borrow().mmio.iter().map(|m| (m.1, m.2)).collect();
    assert_eq!(sizes, [(0x90, 8), (0x98, 8)]);
    assert_eq!(&b[..8], &(0x90u64 | 1 << 32).to_le_bytes());
}

#[test]
fn rejected_smmu_access_reads_zero() {
    let (mut bus, _) = build(&golden_opts());
    let mut b = [0xee; 1];
    assert_eq!(bus.read(0x0905_0000, &mut b, Attrs::Unspecified), Err(BusError::Unassigned));
    assert_eq!(b, [0]);
}

#[test]
fn smmu_memory_accesses_reach_ram() {
    let (mut bus, _) = build(&golden_opts());
    writel(bus.as_mut(), 0x0905_0100, 0x4000_1000, Attrs::Unspecified).unwrap();
    assert_eq!(read_hex(bus.as_mut(), 0x4000_1000, 1), "a5");
}

#[test]
fn smmu_memory_accesses_to_mmio_are_bus_errors() {
    let (mut bus, _) = build(&golden_opts());
    let r = writel(bus.as_mut(), 0x0905_0100, 0x0905_0000, Attrs::Unspecified);
    assert_eq!(r, Err(BusError::Unassigned));
}

#[test]
fn no_smmu_without_iommu_property() {
    let (mut bus, _) = build(&opts("virt", &[], vec![device(&[])]));
    assert_eq!(readl(bus.as_mut(), 0x0905_0000, Attrs::Unspecified).1, Err(BusError::Unassigned));
    assert!(bus.irq_devices().is_empty());
}

// ---- DMA ----

#[test]
fn dma_goes_through_the_iommu_with_the_bdf_as_stream_id() {
    let (mut bus, st) = build(&golden_opts());
    bring_up(bus.as_mut());
    assert_eq!(dma(bus.as_mut(), 0x4ecb_a567, 0x4ecb_a567, 4, 0xa), 0);
    assert_eq!(read_hex(bus.as_mut(), 0x4ecb_a567, 4), "78563412");
    let t = st.borrow().txns[0];
    assert_eq!(
        (t.sid, t.sec_sid, t.ns, t.iova, t.len),
        (8, SecSid::NonSecure, true, 0x4ecb_a567, 4)
    );
}

#[test]
fn sid_property_sets_the_stream_id() {
    let mut o = golden_opts();
    o.devices = vec![device(&[("sid", "0x42"), ("sec-sid", "secure")])];
    let (mut bus, st) = build(&o);
    bring_up(bus.as_mut());
    dma(bus.as_mut(), 0x4000_0000, 0x4000_0000, 4, 0xa);
    let t = st.borrow().txns[0];
    assert_eq!((t.sid, t.sec_sid), (0x42, SecSid::Secure));
}

#[test]
fn dma_abort_reports_tx_fail_and_the_smmu_interrupt() {
    let (mut bus, st) = build(&golden_opts());
    bring_up(bus.as_mut());
    st.borrow_mut().abort_event = Some(0x04);
    assert_eq!(dma(bus.as_mut(), 0x1000, 0x4803_0000, 4, 0xa), 0xdead_0002);
    assert_eq!(readl(bus.as_mut(), BAR + 0x10c, Attrs::Unspecified).0, 0x104);
    assert_eq!(bus.take_irqs(), [("/machine/unattached/device[6]".to_string(), 0)]);
    assert!(bus.take_irqs().is_empty());
}

#[test]
fn dma_without_iommu_to_flash_then_readback_mismatches() {
    let (mut bus, _) = build(&opts("virt", &[], vec![device(&[])]));
    bring_up(bus.as_mut());
    assert_eq!(dma(bus.as_mut(), 0x1000, 0x4803_0000, 4, 0xa), 0xdead_0004);
}

#[test]
fn dma_to_mmio_is_a_bus_error() {
    let (mut bus, _) = build(&opts("virt", &[], vec![device(&[])]));
    bring_up(bus.as_mut());
    assert_eq!(dma(bus.as_mut(), 0x1000_0000, 0x4000_0000, 4, 0xa), 0xdead_0002);
    assert_eq!(readl(bus.as_mut(), BAR + 0x10c, Attrs::Unspecified).0, 0x400);
}

#[test]
fn dma_cannot_reach_secure_ram_without_an_iommu() {
    let (mut bus, _) = build(&opts("virt", &[("secure", "on")], vec![device(&[])]));
    bring_up(bus.as_mut());
    assert_eq!(dma(bus.as_mut(), 0x0e00_0000, 0x0e00_0000, 4, 0x9), 0xdead_0002);
}

// ---- interrupts, QOM, tracing, reset ----

#[test]
fn smmu_is_an_irq_device_with_qemus_path() {
    let (bus, _) = build(&golden_opts());
    let d = bus.irq_devices();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].path, "/machine/unattached/device[6]");
    assert_eq!(d[0].aliases, ["/machine/smmuv3"]);
    assert_eq!(d[0].gpio_out_names, ["sysbus-irq"]);
    assert_eq!(d[0].lines, 13);
}

#[test]
fn qom_tree_of_the_golden_command_line() {
    let (bus, _) = build(&golden_opts());
    assert_eq!(
        bus.qom_tree(),
        "/machine (virt-11.0-machine)\n\
         \x20 /peripheral (container)\n\
         \x20 /peripheral-anon (container)\n\
         \x20   /device[0] (iommu-testdev)\n\
         \x20 /unattached (container)\n\
         \x20   /device[5] (gpex-pcihost)\n\
         \x20     /gpex_root (gpex-root)\n\
         \x20     /pcie.0 (PCIE)\n\
         \x20   /device[6] (arm-smmuv3)\n\
         \x20 /virt.flash0 (cfi.pflash01)\n\
         \x20 /virt.flash1 (cfi.pflash01)\n"
    );
}

#[test]
fn tracing_records_only_while_on() {
    let (mut bus, _) = build(&golden_opts());
    let _ = readl(bus.as_mut(), 0x0905_0000, Attrs::Unspecified);
    assert!(bus.take_trace().is_empty());
    bus.set_tracing(true);
    let _ = readl(bus.as_mut(), 0x0905_0004, Attrs::Unspecified);
    bus.set_tracing(false);
    let _ = readl(bus.as_mut(), 0x0905_0008, Attrs::Unspecified);
    assert_eq!(bus.take_trace(), [TraceEvent::Note("read 0x4".into())]);
    assert!(bus.take_trace().is_empty());
}

#[test]
fn dma_without_iommu_is_traced_as_an_identity_translation() {
    let (mut bus, _) = build(&opts("virt", &[], vec![device(&[])]));
    bring_up(bus.as_mut());
    bus.set_tracing(true);
    dma(bus.as_mut(), 0x4000_0000, 0x4000_0000, 4, 0xa);
    let t = bus.take_trace();
    assert!(matches!(t[0], TraceEvent::Dma(Txn { iova: 0x4000_0000, len: 4, .. })), "{t:?}");
    assert!(matches!(t[1], TraceEvent::Output { pa: 0x4000_0000, pas: Pas::NonSecure, .. }));
}

#[test]
fn reset_keeps_ram_and_resets_smmu_bars_and_device() {
    let (mut bus, st) = build(&golden_opts());
    bring_up(bus.as_mut());
    writel(bus.as_mut(), BAR + 0x0c, 0x40, Attrs::Unspecified).unwrap();
    writel(bus.as_mut(), 0x4000_0000, 0xcafe, Attrs::Unspecified).unwrap();
    bus.reset();
    assert_eq!(st.borrow().resets, 1);
    assert_eq!(readl(bus.as_mut(), 0x4000_0000, Attrs::Unspecified).0, 0xcafe);
    assert_eq!(read_hex(bus.as_mut(), ECAM + 0x8004, 2), "0000");
    assert_eq!(read_hex(bus.as_mut(), ECAM + 0x8010, 4), "00000000");
    bring_up(bus.as_mut());
    assert_eq!(readl(bus.as_mut(), BAR + 0x0c, Attrs::Unspecified).0, 0);
}

// ---- errors ----

#[test]
fn unknown_machine_is_an_error() {
    let e = build_err(&opts("q35", &[], vec![]));
    assert_eq!(
        e,
        "unsupported machine type: \"q35\"\nUse -machine help to list supported machines"
    );
}

#[test]
fn unknown_machine_property_is_an_error() {
    let e = build_err(&opts("virt", &[("foo", "on")], vec![]));
    assert_eq!(e, "Property 'virt-11.0-machine.foo' not found");
}

#[test]
fn bad_machine_property_values_are_errors() {
    for (k, v) in [("secure", "maybe"), ("iommu", "virtio"), ("gic-version", "5"), ("acpi", "x")] {
        let e = build_err(&opts("virt", &[(k, v)], vec![]));
        assert!(!e.is_empty(), "{k}={v}");
    }
}

#[test]
fn golden_and_libqtest_machine_properties_are_accepted() {
    let props = [
        ("acpi", "off"),
        ("gic-version", "max"),
        ("iommu", "none"),
        ("secure", "true"),
        ("virtualization", "on"),
        ("highmem", "on"),
        ("its", "off"),
    ];
    build(&opts("virt-11.0", &props, vec![]));
}

#[test]
fn unknown_device_is_an_error() {
    let d = DeviceOpts { driver: "e1000".into(), props: vec![] };
    assert_eq!(build_err(&opts("virt", &[], vec![d])), "'e1000' is not a valid device model name");
}

#[test]
fn unknown_device_property_is_an_error() {
    let e = build_err(&opts("virt", &[], vec![device(&[("speed", "1")])]));
    assert_eq!(e, "Property 'iommu-testdev.speed' not found");
}

#[test]
fn bad_smmu_global_is_an_error() {
    let mut o = golden_opts();
    o.globals.push(GlobalOpt {
        driver: "arm-smmuv3".into(),
        prop: "preset".into(),
        value: "x".into(),
    });
    assert!(build_err(&o).contains("arm-smmuv3.preset"));
}

#[test]
fn global_of_unknown_driver_is_an_error() {
    let mut o = golden_opts();
    o.globals.push(GlobalOpt { driver: "arm-smmu".into(), prop: "x".into(), value: "1".into() });
    assert_eq!(build_err(&o), "global arm-smmu.x has invalid class name");
}

#[test]
fn smmu_globals_reach_the_iommu_constructor() {
    let mut o = golden_opts();
    o.globals.push(GlobalOpt {
        driver: "arm-smmuv3".into(),
        prop: "preset".into(),
        value: "full".into(),
    });
    let seen = Rc::new(RefCell::new(None));
    let s2 = seen.clone();
    let state = Rc::new(RefCell::new(FakeState::default()));
    build_machine_with(&o, move |cfg| {
        *s2.borrow_mut() = Some(cfg);
        FakeIommu(state)
    })
    .unwrap();
    assert_eq!(seen.borrow().as_ref().map(|c| c.preset), Some(smmu::Preset::Full));
}

#[test]
fn too_much_ram_is_an_error() {
    let mut o = golden_opts();
    o.ram_size = 256 << 30;
    assert!(build_err(&o).contains("cannot model more than 255GB"));
    let mut o = opts("virt", &[("highmem", "off")], vec![]);
    o.ram_size = 4 << 30;
    assert!(build_err(&o).contains("4GiB"));
}

// ---- none ----

#[test]
fn none_machine_has_no_devices_and_ram_at_zero() {
    let (mut bus, _) = build(&opts("none", &[], vec![]));
    assert_eq!(writel(bus.as_mut(), 0x1000, 7, Attrs::Unspecified), Ok(()));
    assert_eq!(readl(bus.as_mut(), 0x1000, Attrs::Unspecified), (7, Ok(())));
    assert_eq!(readl(bus.as_mut(), ECAM, Attrs::Unspecified).1, Err(BusError::Unassigned));
    assert!(bus.irq_devices().is_empty());
}

#[test]
fn none_machine_without_ram_is_all_unassigned() {
    let mut o = opts("none", &[], vec![]);
    o.ram_size = 0;
    let (mut bus, _) = build(&o);
    assert_eq!(readl(bus.as_mut(), 0, Attrs::Unspecified), (0, Err(BusError::Unassigned)));
    assert_eq!(
        bus.qom_tree(),
        "/machine (none-machine)\n  /peripheral (container)\n  /peripheral-anon (container)\n  \
         /unattached (container)\n"
    );
}

#[test]
fn none_machine_refuses_pci_devices() {
    let e = build_err(&opts("none", &[], vec![device(&[])]));
    assert_eq!(e, "No 'PCI' bus found for device 'iommu-testdev'");
}
