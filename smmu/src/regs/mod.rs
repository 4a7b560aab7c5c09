//! The SMMU's register interface (IHI 0070 §6).
//!
//! Every access is first turned into data by [`decode`]: `(offset, size, PAS)` becomes a
//! register of a programming interface and the part of it touched ([`Decoded::Reg`]), a
//! RAZ/WI location, or a rejected access. [`Smmu::mmio_read`] and [`Smmu::mmio_write`] then
//! do one flat `match` on the register (`page0.rs`). The register map is in `map.rs`.
//!
//! # Pages
//!
//! | Offsets | Page | Who may access it |
//! |---|---|---|
//! | 0x00000-0x07fff | Non-secure page 0 | every PAS (Non-secure, Secure, Root, Realm) |
//! | 0x08000-0x0ffff | Secure registers (`S_*`, +0x8000) | Secure and Root PAS, when `secure_impl`; otherwise RAZ/WI |
//! | 0x10000-0x1ffff | Non-secure page 1 (EVENTQ/PRIQ PROD/CONS) | every PAS |
//! | Root page, Realm pages | not implemented yet | RAZ/WI |
//!
//! The Non-secure EVENTQ_PROD/CONS and PRIQ_PROD/CONS also answer at page-0 offsets
//! 0xa8/0xac/0xc8/0xcc when `SmmuConfig::page0_alias` is set (QEMU does this); otherwise those
//! page-0 offsets are reserved. The Secure event queue's PROD/CONS are in page 0 (0x80a8,
//! 0x80ac).
//!
//! # CONSTRAINED UNPREDICTABLE and IMPLEMENTATION DEFINED choices
//!
//! | Case | This model | QEMU 11.0 |
//! |---|---|---|
//! | 1-, 2-byte or any size other than 4 and 8 | rejected (`Err(BusError::Unassigned)`, an abort) | rejected by the memory core (qtest `OK 0`) |
//! | 4- or 8-byte access not naturally aligned | rejected | rejected |
//! | offset at or beyond [`Smmu::mmio_size`] | rejected | outside the region |
//! | 32-bit access to either half of a 64-bit register | that half; a write merges into the register | same |
//! | 64-bit access to a 32-bit register (two adjacent 32-bit registers, or a register and a hole) | RAZ/WI | RAZ/WI |
//! | reserved offset in page 0, page 1 or between pages | RAZ/WI | page 1 aliases all of page 0 |
//! | Secure page from Non-secure or Realm PAS, or without `secure_impl` | RAZ/WI (architected) | no Secure page: RAZ/WI |
//! | PRIQ_* without IDR0.PRI | RAZ/WI (RES0) | RAZ/WI |
//! | `*_IRQ_CFG0/1/2` without IDR0.MSI | RAZ/WI (the registers are RES0) | GERROR_IRQ_CFG* stored, EVENTQ_IRQ_CFG* write-only |
//! | `*_IRQ_CFG0/1/2` with MSI: only ADDR\[55:2\], DATA, SH/MemAttr stored | bits above OAS are stored | — |
//! | AGBPA / S_AGBPA (IMPLEMENTATION DEFINED attributes) | none implemented: RAZ/WI | RAZ/WI |
//! | reserved (RES0) bits of CR0, CR2, IRQ_CTRL, GBPA, GERRORN, STRTAB_BASE_CFG, queue BASE / PROD / CONS | not stored (read as 0); CR0ACK / IRQ_CTRLACK reflect implemented bits only | CR0 stored whole, CR0ACK = CR0 & 0x3df; others stored whole |
//! | CR0 fields of absent features (PRIQEN w/o PRI, ATSCHK w/o ATS, VMW w/o VMW, DPT_WALK_EN w/o DPT; S_CR0.NSSTALLD unless STALL_MODEL 0b00) | RES0 | reflected |
//! | write to a Guarded register (or CR1 field) while its guard is set | SMMUv3.2+ (AIDR): IGNORED; SMMUv3.1 and earlier: the written value is stored ("takes on any value") | always stored |
//! | CR2 while SMMUEN=1 | read-only (every version) | stored |
//! | GBPA / S_GBPA written without Update=1 | IGNORED (the only v3.2 behaviour) | ignored |
//! | GBPA fields ATTR_TYPES_OVR / ATTR_PERMS_OVR make fixed | read back as written | stored |
//! | CMDQ_CONS.ERR written while CMDQEN=0 | takes the written value | same |
//! | CMDQ_CONS.RD bits above the wrap bit | RAZ (masked with the effective LOG2SIZE at write) | stored |
//! | GERRORN write toggling an inactive error | stored: the error becomes active | same |
//! | S_INIT.INV_ALL | completes at once; reads 0 | — |
//! | writes to read-only registers | ignored | ignored |
//!
//! Guards: CR0.SMMUEN guards STRTAB_BASE, STRTAB_BASE_CFG, CR1.TABLE_* and CR2; CMDQEN guards
//! CMDQ_BASE and CMDQ_CONS; EVENTQEN guards EVENTQ_BASE and EVENTQ_PROD; PRIQEN guards
//! PRIQ_BASE and PRIQ_PROD; all queue enables guard CR1.QUEUE_*; each `x_IRQEN` guards the
//! `x_IRQ_CFG*` registers. QEMU checks none of them.
//!
//! Command queue consumption (`cmdq.rs`) runs synchronously on CMDQ_PROD writes, on CR0 writes
//! leaving CMDQEN set, and on GERRORN writes.

mod map;
mod page0;

use map::Reg;

use crate::mem::{BusError, PhysMem};
use crate::pas::{Pas, SecSid};
use crate::spec::regs::{PAGE_SIZE, S_OFFSET};
use crate::trace::{self, TraceEvent, TraceSink};
use crate::{Smmu, SmmuConfig};

/// Which part of a register an access touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// A 32-bit access to a 32-bit register.
    Word,
    /// A 64-bit access to a 64-bit register.
    Dword,
    /// A 32-bit access to bits \[31:0\] of a 64-bit register.
    Lo,
    /// A 32-bit access to bits \[63:32\] of a 64-bit register.
    Hi,
}

impl Part {
    /// The bits of `reg_value` a read of this part returns.
    fn extract(self, reg_value: u64) -> u64 {
        match self {
            Part::Word | Part::Lo => reg_value & 0xffff_ffff,
            Part::Dword => reg_value,
            Part::Hi => reg_value >> 32,
        }
    }

    /// The register value after writing `value` to this part of a register holding `old`.
    fn merge(self, old: u64, value: u64) -> u64 {
        match self {
            Part::Word => value & 0xffff_ffff,
            Part::Dword => value,
            Part::Lo => (old & !0xffff_ffff) | (value & 0xffff_ffff),
            Part::Hi => (old & 0xffff_ffff) | (value << 32),
        }
    }
}

/// What an access resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A register of an interface, or one half of it.
    Reg { sec: SecSid, reg: Reg, part: Part },
    /// Reads as zero, writes are ignored; the text names the location in traces.
    RazWi(&'static str),
    /// The access is refused with a bus error; the text says why.
    Reject(&'static str),
}

/// What must happen after a register write.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    None,
    /// The interface's command queue may have work: consume it.
    ConsumeCmdq,
}

/// The register page an offset falls in, with the offset inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Page {
    NsPage0(u64),
    Secure(u64),
    NsPage1(u64),
    Root(u64),
    Realm(u64),
    Hole,
}

/// Whether the Root control page and the Realm pages exist (SMMU_IDR0.RME_IMPL).
fn rme_pages(cfg: &SmmuConfig) -> bool {
    cfg.idr0().rme_impl()
}

/// Size of the SMMU's MMIO region for a configuration.
pub(crate) fn mmio_size(cfg: &SmmuConfig) -> u64 {
    let mut end = 2 * PAGE_SIZE;
    if rme_pages(cfg) {
        end = end.max(cfg.root_offset + PAGE_SIZE);
        end = end.max(cfg.realm_offset() + 2 * PAGE_SIZE);
    }
    end
}

fn page(cfg: &SmmuConfig, offset: u64) -> Page {
    if offset < S_OFFSET {
        Page::NsPage0(offset)
    } else if offset < PAGE_SIZE {
        Page::Secure(offset - S_OFFSET)
    } else if offset < 2 * PAGE_SIZE {
        Page::NsPage1(offset - PAGE_SIZE)
    } else if rme_pages(cfg) && (cfg.root_offset..cfg.root_offset + PAGE_SIZE).contains(&offset) {
        Page::Root(offset - cfg.root_offset)
    } else if rme_pages(cfg)
        && (cfg.realm_offset()..cfg.realm_offset() + 2 * PAGE_SIZE).contains(&offset)
    {
        Page::Realm(offset - cfg.realm_offset())
    } else {
        Page::Hole
    }
}

/// Whether a register exists in this configuration (else it is RES0: RAZ/WI).
fn present(cfg: &SmmuConfig, reg: Reg) -> bool {
    // S_IDR0.MSI follows IDR0.MSI (see `Smmu::s_idr0`).
    let idr0 = cfg.idr0();
    match reg {
        Reg::PriqBase | Reg::PriqProd | Reg::PriqCons => idr0.pri(),
        Reg::PriqIrqCfg0 | Reg::PriqIrqCfg1 | Reg::PriqIrqCfg2 => idr0.pri() && idr0.msi(),
        Reg::GerrorIrqCfg0
        | Reg::GerrorIrqCfg1
        | Reg::GerrorIrqCfg2
        | Reg::EventqIrqCfg0
        | Reg::EventqIrqCfg1
        | Reg::EventqIrqCfg2 => idr0.msi(),
        _ => true,
    }
}

/// Resolves an access of `size` bytes at `offset` inside an interface's page, with `lookup`
/// giving the register that starts at an offset.
fn resolve(
    cfg: &SmmuConfig,
    sec: SecSid,
    offset: u64,
    size: u8,
    lookup: impl Fn(u64) -> Option<Reg>,
) -> Decoded {
    let (reg, part) = match lookup(offset) {
        Some(reg) => match (reg.is_64(), size) {
            (true, 8) => (reg, Part::Dword),
            (true, _) => (reg, Part::Lo),
            (false, 4) => (reg, Part::Word),
            (false, _) => return Decoded::RazWi("(64-bit access to 32-bit registers)"),
        },
        None => match lookup(offset.wrapping_sub(4)) {
            Some(reg) if size == 4 && offset % 8 == 4 && reg.is_64() => (reg, Part::Hi),
            _ => return Decoded::RazWi("(reserved)"),
        },
    };
    if !present(cfg, reg) {
        return Decoded::RazWi(reg.name(sec));
    }
    Decoded::Reg { sec, reg, part }
}

/// Turns an access into data: which register of which interface, and which part of it.
pub(crate) fn decode(cfg: &SmmuConfig, offset: u64, size: u8, pas: Pas) -> Decoded {
    if size != 4 && size != 8 {
        return Decoded::Reject("(unsupported access size)");
    }
    if !offset.is_multiple_of(u64::from(size)) {
        return Decoded::Reject("(unaligned access)");
    }
    if offset >= mmio_size(cfg) {
        return Decoded::Reject("(outside the SMMU)");
    }
    match page(cfg, offset) {
        Page::NsPage0(o) => resolve(cfg, SecSid::NonSecure, o, size, |o| {
            map::ns_page0(o).or_else(|| if cfg.page0_alias { map::page1(o) } else { None })
        }),
        Page::Secure(o) => {
            if !cfg.secure_impl {
                Decoded::RazWi("(Secure page: not implemented)")
            } else if !matches!(pas, Pas::Secure | Pas::Root) {
                Decoded::RazWi("(Secure page: RAZ/WI to this PAS)")
            } else {
                resolve(cfg, SecSid::Secure, o, size, map::s_page0)
            }
        }
        Page::NsPage1(o) => resolve(cfg, SecSid::NonSecure, o, size, map::page1),
        Page::Root(_) => Decoded::RazWi("(Root page: not implemented)"),
        Page::Realm(_) => Decoded::RazWi("(Realm page: not implemented)"),
        Page::Hole => Decoded::RazWi("(reserved)"),
    }
}

impl Smmu {
    /// Size of the SMMU's MMIO region: two 64 KiB pages, extended to cover the Root page
    /// (`root_offset` + 64 KiB) and the Realm pages (`realm_offset()` + 128 KiB) when
    /// SMMU_IDR0.RME_IMPL is advertised.
    pub fn mmio_size(&self) -> u64 {
        mmio_size(&self.cfg)
    }

    /// A register read of `size` bytes at `offset` from the SMMU base, issued in `pas`.
    ///
    /// Returns the value (zero-extended), or a bus error for an access the model rejects
    /// (see the module documentation). Reads have no side effects.
    pub fn mmio_read<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        offset: u64,
        size: u8,
        pas: Pas,
        _mem: &mut M,
        trace: &mut T,
    ) -> Result<u64, BusError> {
        let (result, reg) = match decode(&self.cfg, offset, size, pas) {
            Decoded::Reject(why) => (Err(BusError::Unassigned), why),
            Decoded::RazWi(what) => (Ok(0), what),
            Decoded::Reg { sec, reg, part } => {
                (Ok(part.extract(self.read_reg(sec, reg))), reg.name(sec))
            }
        };
        let value = *result.as_ref().unwrap_or(&0);
        trace::emit(trace, || TraceEvent::Mmio { write: false, offset, size, value, pas, reg });
        result
    }

    /// A register write of `size` bytes at `offset` from the SMMU base, issued in `pas`.
    ///
    /// Side effects (command consumption, interrupts, MSIs) happen before this returns.
    pub fn mmio_write<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
        &mut self,
        offset: u64,
        size: u8,
        value: u64,
        pas: Pas,
        mem: &mut M,
        trace: &mut T,
    ) -> Result<(), BusError> {
        let decoded = decode(&self.cfg, offset, size, pas);
        let reg = match decoded {
            Decoded::Reject(why) | Decoded::RazWi(why) => why,
            Decoded::Reg { sec, reg, .. } => reg.name(sec),
        };
        trace::emit(trace, || TraceEvent::Mmio { write: true, offset, size, value, pas, reg });
        match decoded {
            Decoded::Reject(_) => Err(BusError::Unassigned),
            Decoded::RazWi(_) => Ok(()),
            Decoded::Reg { sec, reg, part } => {
                let merged = part.merge(self.read_reg(sec, reg), value);
                match self.write_reg(sec, reg, merged, trace) {
                    Effect::None => {}
                    Effect::ConsumeCmdq => self.consume_cmdq(sec, mem, trace),
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod rig;
#[cfg(test)]
mod tests;
