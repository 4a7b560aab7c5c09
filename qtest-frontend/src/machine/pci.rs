//! Conventional PCI functions behind a PCIe ECAM window: the type 0 configuration header, BAR
//! sizing and assignment, the COMMAND register, and BAR decoding, generic over the device
//! behind the function.
//!
//! Each function has QEMU's 256-byte conventional configuration space: reads beyond it, and
//! reads of functions that do not exist, return all-ones; writes go through a write mask
//! (QEMU's `wmask`): COMMAND IO/MEM/MASTER/SERR/INTX_DISABLE, Cache Line Size, Interrupt
//! Line, the BARs' address bits, and the device-specific area 0x40..0xff.

/// Offsets in the type 0 header.
pub mod cfg {
    pub const VENDOR_ID: usize = 0x00;
    pub const DEVICE_ID: usize = 0x02;
    pub const COMMAND: usize = 0x04;
    pub const REVISION_ID: usize = 0x08;
    /// The 16-bit class field (sub-class, base class) as QEMU's `pci_config_set_class` writes it.
    pub const CLASS_DEVICE: usize = 0x0a;
    pub const CACHE_LINE_SIZE: usize = 0x0c;
    pub const HEADER_TYPE: usize = 0x0e;
    pub const BAR0: usize = 0x10;
    pub const SUBSYSTEM_VENDOR_ID: usize = 0x2c;
    pub const SUBSYSTEM_ID: usize = 0x2e;
    pub const INTERRUPT_LINE: usize = 0x3c;
    /// First byte of the device-specific area.
    pub const HEADER_SIZE: usize = 0x40;
    /// Size of a conventional function's configuration space.
    pub const SPACE_SIZE: usize = 0x100;

    pub const COMMAND_IO: u16 = 1 << 0;
    pub const COMMAND_MEMORY: u16 = 1 << 1;
    pub const COMMAND_MASTER: u16 = 1 << 2;
    pub const COMMAND_SERR: u16 = 1 << 8;
    pub const COMMAND_INTX_DISABLE: u16 = 1 << 10;
    /// COMMAND bits software can write (QEMU's `pci_init_wmask`).
    pub const COMMAND_WMASK: u16 =
        COMMAND_IO | COMMAND_MEMORY | COMMAND_MASTER | COMMAND_SERR | COMMAND_INTX_DISABLE;

    pub const HEADER_TYPE_MULTI_FUNCTION: u8 = 0x80;

    /// BAR bits [2:1] = 0b10: 64-bit memory BAR.
    pub const BAR_MEM_TYPE_64: u32 = 0b10 << 1;
    pub const BAR_MEM_PREFETCH: u32 = 1 << 3;
    /// Address bits of a memory BAR.
    pub const BAR_MEM_MASK: u32 = !0xf;

    /// QEMU's default subsystem IDs (`PCI_SUBVENDOR_ID_REDHAT_QUMRANET`, `PCI_SUBDEVICE_ID_QEMU`).
    pub const DEFAULT_SUBSYSTEM_VENDOR_ID: u16 = 0x1af4;
    pub const DEFAULT_SUBSYSTEM_ID: u16 = 0x1100;
}

/// A memory BAR a device declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarDecl {
    /// BAR number (0..5); a 64-bit BAR also takes the next one.
    pub index: usize,
    /// Size in bytes, a power of two of at least 16.
    pub size: u64,
    pub is_64: bool,
    pub prefetchable: bool,
}

/// What a function's header says about the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciIdentity {
    pub vendor_id: u16,
    pub device_id: u16,
    pub revision: u8,
    /// Written at 0x0a as a 16-bit value (QEMU's `class_id`).
    pub class_id: u16,
    pub bars: Vec<BarDecl>,
}

/// The configuration space of one function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigSpace {
    bytes: [u8; cfg::SPACE_SIZE],
    wmask: [u8; cfg::SPACE_SIZE],
    /// The bytes after realize, restored for the registers a reset clears.
    initial: [u8; cfg::SPACE_SIZE],
    bars: Vec<BarDecl>,
}

impl ConfigSpace {
    /// The header QEMU builds for `id` (`do_pci_register_device`, `pci_register_bar`).
    pub fn new(id: &PciIdentity, multifunction: bool) -> Self {
        let mut bytes = [0u8; cfg::SPACE_SIZE];
        let mut wmask = [0u8; cfg::SPACE_SIZE];
        put16(&mut bytes, cfg::VENDOR_ID, id.vendor_id);
        put16(&mut bytes, cfg::DEVICE_ID, id.device_id);
        bytes[cfg::REVISION_ID] = id.revision;
        put16(&mut bytes, cfg::CLASS_DEVICE, id.class_id);
        if multifunction {
            bytes[cfg::HEADER_TYPE] = cfg::HEADER_TYPE_MULTI_FUNCTION;
        }
        put16(&mut bytes, cfg::SUBSYSTEM_VENDOR_ID, cfg::DEFAULT_SUBSYSTEM_VENDOR_ID);
        put16(&mut bytes, cfg::SUBSYSTEM_ID, cfg::DEFAULT_SUBSYSTEM_ID);

        put16(&mut wmask, cfg::COMMAND, cfg::COMMAND_WMASK);
        wmask[cfg::CACHE_LINE_SIZE] = 0xff;
        wmask[cfg::INTERRUPT_LINE] = 0xff;
        wmask[cfg::HEADER_SIZE..].fill(0xff);

        for b in &id.bars {
            let off = cfg::BAR0 + 4 * b.index;
            let mut ty = 0;
            if b.is_64 {
                ty |= cfg::BAR_MEM_TYPE_64;
            }
            if b.prefetchable {
                ty |= cfg::BAR_MEM_PREFETCH;
            }
            let addr_mask = !(b.size - 1);
            put32(&mut bytes, off, ty);
            put32(&mut wmask, off, addr_mask as u32 & cfg::BAR_MEM_MASK);
            if b.is_64 {
                put32(&mut wmask, off + 4, (addr_mask >> 32) as u32);
            }
        }
        ConfigSpace { bytes, wmask, initial: bytes, bars: id.bars.clone() }
    }

    /// A configuration read of 1, 2 or 4 bytes at `off` (naturally aligned): little-endian,
    /// all-ones beyond the 256-byte space.
    pub fn read(&self, off: usize, size: usize) -> u32 {
        if off + size > cfg::SPACE_SIZE {
            return ones(size);
        }
        self.bytes[off..off + size].iter().rev().fold(0, |v, &b| (v << 8) | u32::from(b))
    }

    /// A configuration write of 1, 2 or 4 bytes at `off`: each byte through the write mask.
    pub fn write(&mut self, off: usize, size: usize, value: u32) {
        for i in 0..size {
            let Some(&m) = self.wmask.get(off + i) else { return };
            let b = (value >> (8 * i)) as u8;
            self.bytes[off + i] = (self.bytes[off + i] & !m) | (b & m);
        }
    }

    pub fn command(&self) -> u16 {
        u16::from_le_bytes([self.bytes[cfg::COMMAND], self.bytes[cfg::COMMAND + 1]])
    }

    /// Where BAR `index` decodes, as QEMU's `pci_bar_address`: `None` when memory decoding is
    /// off, the BAR is not declared, or its address is one QEMU treats as unmapped (a 32-bit
    /// BAR reaching 0xffffffff, e.g. while it is being sized, or an address that wraps).
    pub fn bar_range(&self, index: usize) -> Option<(u64, u64)> {
        if self.command() & cfg::COMMAND_MEMORY == 0 {
            return None;
        }
        let b = self.bars.iter().find(|b| b.index == index)?;
        let off = cfg::BAR0 + 4 * index;
        let lo = u64::from(get32(&self.bytes, off) & cfg::BAR_MEM_MASK);
        let hi = if b.is_64 { u64::from(get32(&self.bytes, off + 4)) } else { 0 };
        let base = ((hi << 32) | lo) & !(b.size - 1);
        let last = base.checked_add(b.size - 1)?;
        if last == u64::MAX || (!b.is_64 && last >= u64::from(u32::MAX)) {
            return None;
        }
        Some((base, b.size))
    }

    /// The declared BARs.
    pub fn bars(&self) -> &[BarDecl] {
        &self.bars
    }

    /// Device reset (QEMU's `pci_do_device_reset`): COMMAND, STATUS, Cache Line Size and
    /// Interrupt Line back to their reset values, BARs unassigned; the device-specific area
    /// keeps its contents.
    pub fn reset(&mut self) {
        let header = cfg::HEADER_SIZE;
        let dev_area: Vec<u8> = self.bytes[header..].to_vec();
        self.bytes = self.initial;
        self.bytes[header..].copy_from_slice(&dev_area);
    }
}

/// All-ones of `size` bytes.
pub fn ones(size: usize) -> u32 {
    if size >= 4 { u32::MAX } else { (1u32 << (8 * size)) - 1 }
}

fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// `SLOT[.FN]` of the `addr=` property, hexadecimal as QEMU parses it (`06.0`, `0x1f`, `3`).
pub fn parse_devfn(s: &str) -> Option<u8> {
    let (slot, func) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let hex = |t: &str| {
        let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
        if t.is_empty() || !t.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(t, 16).ok()
    };
    let slot = hex(slot)?;
    let func = match func {
        Some(f) => hex(f)?,
        None => 0,
    };
    (slot <= 31 && func <= 7).then_some((slot << 3 | func) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// iommu-testdev's identity, hand-written from QEMU's class_init.
    fn testdev() -> ConfigSpace {
        let id = PciIdentity {
            vendor_id: 0x1b36,
            device_id: 0x0005,
            revision: 0,
            class_id: 0x00ff,
            bars: vec![BarDecl { index: 0, size: 0x1000, is_64: false, prefetchable: false }],
        };
        ConfigSpace::new(&id, false)
    }

    #[test]
    fn header_bytes_hold_ids_class_and_default_subsystem() {
        let c = testdev();
        assert_eq!(c.read(0x00, 4), 0x0005_1b36);
        assert_eq!(c.read(0x08, 4), 0x00ff_0000);
        assert_eq!(c.read(0x0e, 1), 0x00);
        assert_eq!(c.read(0x2c, 4), 0x1100_1af4);
        assert_eq!(c.read(0x3d, 1), 0);
    }

    #[test]
    fn command_keeps_only_writable_bits() {
        let mut c = testdev();
        c.write(0x04, 2, 0xffff);
        assert_eq!(c.read(0x04, 2), 0x0507);
    }

    #[test]
    fn bar_sizing_reads_back_the_size_mask() {
        let mut c = testdev();
        c.write(0x10, 4, 0xffff_ffff);
        assert_eq!(c.read(0x10, 4), 0xffff_f000);
    }

    #[test]
    fn undeclared_bars_and_rom_bar_read_zero_after_sizing() {
        let mut c = testdev();
        for off in [0x14, 0x18, 0x1c, 0x20, 0x24, 0x30] {
            c.write(off, 4, 0xffff_ffff);
            assert_eq!(c.read(off, 4), 0, "offset {off:#x}");
        }
    }

    #[test]
    fn prefetchable_64_bit_bar_shows_type_bits_and_sizes_across_two_dwords() {
        let id = PciIdentity {
            vendor_id: 1,
            device_id: 2,
            revision: 0,
            class_id: 0,
            bars: vec![BarDecl { index: 2, size: 1 << 33, is_64: true, prefetchable: true }],
        };
        let mut c = ConfigSpace::new(&id, false);
        assert_eq!(c.read(0x18, 4), 0xc);
        c.write(0x18, 4, 0xffff_ffff);
        c.write(0x1c, 4, 0xffff_ffff);
        assert_eq!((c.read(0x18, 4), c.read(0x1c, 4)), (0xc, 0xffff_fffe));
    }

    #[test]
    fn bar_decodes_only_with_memory_enabled() {
        let mut c = testdev();
        c.write(0x10, 4, 0x1000_0000);
        assert_eq!(c.bar_range(0), None);
        c.write(0x04, 2, 0x0002);
        assert_eq!(c.bar_range(0), Some((0x1000_0000, 0x1000)));
    }

    #[test]
    fn bar_being_sized_does_not_decode() {
        let mut c = testdev();
        c.write(0x04, 2, 0x0002);
        c.write(0x10, 4, 0xffff_ffff);
        assert_eq!(c.bar_range(0), None);
    }

    #[test]
    fn bar_at_address_zero_decodes() {
        let mut c = testdev();
        c.write(0x04, 2, 0x0002);
        assert_eq!(c.bar_range(0), Some((0, 0x1000)));
    }

    #[test]
    fn partial_writes_and_reads_touch_single_bytes() {
        let mut c = testdev();
        c.write(0x11, 1, 0xab);
        assert_eq!(c.read(0x10, 4), 0x0000_a000);
        assert_eq!(c.read(0x11, 1), 0xa0);
    }

    #[test]
    fn ids_and_class_are_read_only() {
        let mut c = testdev();
        c.write(0x00, 4, 0xffff_ffff);
        c.write(0x08, 4, 0xffff_ffff);
        assert_eq!((c.read(0x00, 4), c.read(0x08, 4)), (0x0005_1b36, 0x00ff_0000));
    }

    #[test]
    fn device_specific_area_is_writable() {
        let mut c = testdev();
        c.write(0x40, 4, 0x1234_5678);
        assert_eq!(c.read(0x40, 4), 0x1234_5678);
    }

    #[test]
    fn reads_beyond_conventional_space_are_all_ones() {
        let c = testdev();
        assert_eq!(c.read(0x100, 2), 0xffff);
        assert_eq!(c.read(0xffc, 4), 0xffff_ffff);
    }

    #[test]
    fn reset_clears_command_bars_and_interrupt_line_but_keeps_device_area() {
        let mut c = testdev();
        c.write(0x04, 2, 0x0007);
        c.write(0x10, 4, 0x1000_0000);
        c.write(0x3c, 1, 0x22);
        c.write(0x80, 4, 0xcafe);
        c.reset();
        assert_eq!((c.read(0x04, 2), c.read(0x10, 4), c.read(0x3c, 1)), (0, 0, 0));
        assert_eq!(c.read(0x80, 4), 0xcafe);
    }

    #[test]
    fn multifunction_sets_header_type_bit7() {
        let id = PciIdentity { vendor_id: 1, device_id: 2, revision: 0, class_id: 0, bars: vec![] };
        assert_eq!(ConfigSpace::new(&id, true).read(0x0e, 1), 0x80);
    }

    #[test]
    fn devfn_parses_qemu_slot_function_syntax() {
        assert_eq!(parse_devfn("1"), Some(8));
        assert_eq!(parse_devfn("06.0"), Some(0x30));
        assert_eq!(parse_devfn("1f.7"), Some(0xff));
        assert_eq!(parse_devfn("0x3.1"), Some(0x19));
        assert_eq!(parse_devfn("a"), Some(0x50));
    }

    #[test]
    fn devfn_rejects_out_of_range_and_garbage() {
        for s in ["20", "1.8", "", ".1", "1.", "x", "1.2.3", "-1", "+1"] {
            assert_eq!(parse_devfn(s), None, "{s:?}");
        }
    }
}
