//! The iommu-testdev register map: QEMU's BAR0 layout (`ITD_REG_*`, `ITD_DMA_*`, `ITD_ATTRS_*`)
//! and the extension registers at 0x100.
//!
//! All registers are 32-bit little-endian; every other access size is rejected. Offsets not
//! listed here read as zero and ignore writes.

/// PCI identity (QEMU's `PCI_VENDOR_ID_REDHAT`, `PCI_DEVICE_ID_REDHAT_TEST`, `PCI_CLASS_OTHERS`).
pub mod pci {
    pub const VENDOR_ID: u16 = 0x1b36;
    pub const DEVICE_ID: u16 = 0x0005;
    pub const REVISION: u8 = 0;
    /// The 16-bit class field at config offset 0x0a (sub-class 0xff, base class 0x00), as QEMU
    /// writes `PCI_CLASS_OTHERS` there.
    pub const CLASS_ID: u16 = 0x00ff;
    /// BAR0: 32-bit non-prefetchable memory.
    pub const BAR0_SIZE: u64 = 0x1000;
}

/// The only access size the registers accept.
pub const ACCESS_SIZE: u8 = 4;

/// A read runs the DMA synchronously and returns 0; writes are ignored.
pub const DMA_TRIGGERING: u64 = 0x00;
/// IOVA[31:0].
pub const DMA_GVA_LO: u64 = 0x04;
/// IOVA[63:32].
pub const DMA_GVA_HI: u64 = 0x08;
/// Transfer length in bytes.
pub const DMA_LEN: u64 = 0x0c;
/// Result/status ([`result`]); software may write it.
pub const DMA_RESULT: u64 = 0x10;
/// Doorbell (write only, reads 0): [`DBELL_ARM`] arms, 0 disarms.
pub const DMA_DBELL: u64 = 0x14;
/// Transaction attributes: [`ATTRS_SECURE`], [`ATTRS_SPACE_MASK`], [`ATTRS_SPACE_VALID`].
pub const DMA_ATTRS: u64 = 0x18;
/// Read-back physical address [31:0].
pub const DMA_GPA_LO: u64 = 0x1c;
/// Read-back physical address [63:32].
pub const DMA_GPA_HI: u64 = 0x20;

/// Extension: direction and transaction attributes ([`CTRL_DIR_READ`], [`CTRL_PRIV`],
/// [`CTRL_INSTR`], [`CTRL_SSV`]). 0 is QEMU's behaviour.
pub const DMA_CTRL: u64 = 0x100;
/// Extension: SubstreamID ([19:0]), sent when [`CTRL_SSV`] is set.
pub const DMA_SSID: u64 = 0x104;
/// Extension: the 32-bit pattern a write DMA repeats (0 means QEMU's [`DEFAULT_PATTERN`]).
pub const DMA_PATTERN: u64 = 0x108;
/// Extension, read only: what stopped the last DMA ([`FAULT_EVENT_MASK`], [`FAULT_ABORTED`],
/// [`FAULT_GPC`], [`FAULT_BUS_ERROR`]); cleared when a DMA starts.
pub const DMA_FAULT: u64 = 0x10c;
/// Extension, read only: bytes the last DMA moved before it stopped.
pub const DMA_DONE: u64 = 0x110;

/// DMA_DBELL bit 0: arm.
pub const DBELL_ARM: u32 = 1 << 0;

/// DMA_ATTRS bit 0: SECURE (`MemTxAttrs.secure`).
pub const ATTRS_SECURE: u32 = 1 << 0;
/// DMA_ATTRS bits [2:1]: SPACE (`ARMSecuritySpace`: 0 Secure, 1 Non-secure, 2 Root, 3 Realm).
pub const ATTRS_SPACE_SHIFT: u32 = 1;
pub const ATTRS_SPACE_MASK: u32 = 0b11 << ATTRS_SPACE_SHIFT;
/// DMA_ATTRS bit 3: SPACE is valid.
pub const ATTRS_SPACE_VALID: u32 = 1 << 3;
/// DMA_ATTRS at reset: SPACE = Non-secure, not valid, SECURE = 0.
pub const ATTRS_RESET: u32 = 1 << ATTRS_SPACE_SHIFT;

/// DMA_CTRL bit 0: 1 = read LEN bytes at the IOVA and compare them with the bytes at the GPA.
pub const CTRL_DIR_READ: u32 = 1 << 0;
/// DMA_CTRL bit 1: privileged transaction (PnU).
pub const CTRL_PRIV: u32 = 1 << 1;
/// DMA_CTRL bit 2: instruction fetch (InD).
pub const CTRL_INSTR: u32 = 1 << 2;
/// DMA_CTRL bit 3: the transaction carries DMA_SSID as its SubstreamID.
pub const CTRL_SSV: u32 = 1 << 3;
/// DMA_CTRL bits that exist; the others read as zero.
pub const CTRL_MASK: u32 = CTRL_DIR_READ | CTRL_PRIV | CTRL_INSTR | CTRL_SSV;

/// DMA_SSID bits that exist (a 20-bit SubstreamID).
pub const SSID_MASK: u32 = 0x000f_ffff;

/// QEMU's write pattern (`ITD_DMA_WRITE_VAL`): bytes 78 56 34 12 repeated.
pub const DEFAULT_PATTERN: u32 = 0x1234_5678;

/// DMA_FAULT [7:0]: event type of the first event record the DMA caused.
pub const FAULT_EVENT_MASK: u32 = 0xff;
/// DMA_FAULT bit 8: the SMMU aborted a transaction of the DMA.
pub const FAULT_ABORTED: u32 = 1 << 8;
/// DMA_FAULT bit 9: the abort was a granule protection check failure on the output.
pub const FAULT_GPC: u32 = 1 << 9;
/// DMA_FAULT bit 10: the translated access hit no memory (bus error on the output).
pub const FAULT_BUS_ERROR: u32 = 1 << 10;

/// DMA_RESULT values (`ITD_DMA_RESULT_*`, `ITD_DMA_ERR_*`).
pub mod result {
    pub const SUCCESS: u32 = 0;
    /// Not armed (reset value, and after a disarm).
    pub const IDLE: u32 = 0xffff_ffff;
    /// Armed, waiting for the trigger.
    pub const BUSY: u32 = 0xffff_fffe;
    /// DMA_LEN is 0.
    pub const BAD_LEN: u32 = 0xdead_0001;
    /// The DMA through the IOMMU failed (abort, or a bus error on the output).
    pub const TX_FAIL: u32 = 0xdead_0002;
    /// The direct read at the GPA failed.
    pub const RD_FAIL: u32 = 0xdead_0003;
    /// The bytes at the GPA differ from the bytes of the DMA.
    pub const MISMATCH: u32 = 0xdead_0004;
    /// Triggered without arming.
    pub const NOT_ARMED: u32 = 0xdead_0005;
    /// DMA_ATTRS contradict themselves or the stream's security state.
    pub const BAD_ATTRS: u32 = 0xdead_0006;
}
