//! Structured SMMU programming and DMAs, replayed as a qtest script.
//!
//! # Input
//!
//! A machine (QEMU's virt SMMU, or `secure=on` with `preset=full`; one to three iommu-testdevs
//! with chosen StreamIDs, Non-secure or Secure) and a list of [`Op`]s biased toward meaningful
//! programming: the bring-up of an interface, register writes at architected offsets (4 or 8
//! bytes, sometimes random offsets), STEs, CDs and translation tables written where the
//! registers and structures written before point, commands pushed at the queue's PROD slot,
//! and DMAs through a testdev. Every address the SMMU is pointed at lies in a small window of
//! RAM ([`WIN`]) and DMA outputs in another ([`DATA`]), the generic-fuzz trick that makes the
//! tables actually get hit: the ops choose *which* structure to write, and the generator puts it
//! where the SMMU will look (it follows STRTAB_BASE, S1ContextPtr, TTB0 ... as software set them).
//!
//! The input's `Debug` is the qtest script it runs (`# args:` header, then the commands), so a
//! crash banner pastes straight into `tests/scripts/regressions/NAME.qtest`. The oracle replays
//! that very script through [`qtest_frontend::run::run_script`] (with a JSON trace), so a
//! reproducer behaves as the fuzz case did.
//!
//! After every op that reaches the SMMU the script reads the interface's registers back (a
//! "probe": CR0, CR0ACK, CR2, GBPA, GERROR, GERRORN, the command and event queue registers),
//! and after every DMA it reads DMA_RESULT, DMA_FAULT and DMA_DONE.
//!
//! # Oracles
//!
//! - No panic, and every request of the script gets `OK` (the generator only writes valid
//!   requests).
//! - `cr0ack`: after every probe, CR0ACK equals the last value written to CR0 masked with the
//!   implemented CR0 bits, which the oracle derives from the ID registers (IDR0.PRI, ATS, VMW,
//!   IDR3.DPT; S_IDR0.STALL_MODEL for S_CR0.NSSTALLD).
//! - `gerror-toggle`: GERROR only toggles bits whose error was inactive (GERROR == GERRORN for
//!   the bit, GERRORN as software last wrote it), and only architected bits; GERRORN changes only
//!   when software writes it.
//! - `queue-index`: CMDQ_CONS.RD and EVENTQ_PROD.WR (the SMMU-owned indexes) have no bits
//!   above their wrap bit, at `min(LOG2SIZE, IDR1.xQS)` (§6.3.28: "bits [19:QS+1] are RAZ").
//!   CMDQ_PROD and EVENTQ_CONS are not checked: software owns them, and the architecture lets
//!   bits above the wrap bit that software wrote be stored.
//! - `dma-abort`: a DMA the testdev reports aborted has exactly one `abort` in the trace, with
//!   the event type DMA_FAULT reports; a DMA that was not aborted has none.
//! - `dma-event`: an abort that names an event has exactly one record of that type for the
//!   device's StreamID, describing the transaction that faulted (InputAddr = IOVA + DMA_DONE,
//!   RnW, SubstreamID, where the type has them), written at `EVENTQ_BASE + 32 * PROD.WR` with
//!   PROD advancing by one, or discarded for an architected reason (EVENTQEN clear,
//!   EVENTQ_ABT_ERR active, a full queue, or a write that aborted and raised EVENTQ_ABT_ERR), or
//!   merged (`mev-merge`).
//! - `silent-abort`: an abort without an event has an architected reason: GBPA.ABORT with
//!   SMMUEN clear, STE.Config abort (the STE last fetched for the stream is valid with Config
//!   0b0xx), C_BAD_STREAMID with CR2.RECINVSID clear, an address-size fault in bypass (SMMUEN
//!   clear), or a translation fault with CD.R = 0 or STE.S2R = 0 in the structures last fetched
//!   for the stream.
//! - `cache-differential`: the script runs twice, with `-global arm-smmuv3.cache-policy=never`
//!   and with the default (`normal`) policy; every reply, abort and event record is the same in
//!   both runs until the first request that changes memory the SMMU has read as a table (a
//!   script write, a DMA output, an event record or MSI landing there), that writes
//!   STRTAB_BASE, STRTAB_BASE_CFG or CR2 after the SMMU has read tables, or whose DMA uses a
//!   configuration that may share TLB entries with a different one seen before (same VMID tag,
//!   and the same ASID, no ASID or a global leaf): with nothing changed since they were read,
//!   caches must be transparent.

use std::collections::{BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::ops::ControlFlow;

use arbitrary::{Arbitrary, Result, Unstructured};
use qtest_frontend::machine::build_machine;
use qtest_frontend::qmp::Json;
use qtest_frontend::run::{RunOptions, TraceFormat, run_script};
use smmu::spec::cd::Cd;
use smmu::spec::cmd::{Cmd, TlbiRange};
use smmu::spec::desc::{Desc, kind, s2ap};
use smmu::spec::event::{EVENT_SIZE, EventRecord, SsidField, id, layout};
use smmu::spec::regs::{
    Cr0, Cr2, Gbpa, Idr0, Idr1, Idr3, Idr5, Q_IDX_MASK, QueueBase, S_OFFSET, SIdr0,
    STRTAB_SPLIT_DEFAULT, STRTAB_SPLIT_VALID, gerror, off, pa_bits, queue_index_mask, stall_model,
};
use smmu::spec::ste::{Ste, config};
use smmu::spec::table::{L1Cd, L1Std};
use testdev::iommu_testdev::regs as itd;

use crate::Violation;
use crate::transcript::{Exchange, exchanges, hex_field, hexes_field, str_field};

/// Table window: stream tables, CDs, translation tables and queues live here (256 KiB, 64 KiB
/// aligned so 64 KiB-granule tables fit).
pub const WIN: u64 = 0x4800_0000;
pub const WIN_SIZE: u64 = 0x4_0000;
/// Data window: where mappings and DMA read-backs point (1 MiB, 2 MiB aligned).
pub const DATA: u64 = 0x4a00_0000;
pub const DATA_SIZE: u64 = 0x10_0000;

const SMMU_BASE: u64 = 0x0905_0000;
/// RAM of the machine (`-m 512`).
const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 512 << 20;
/// Non-secure page 1 (EVENTQ_PROD/CONS, PRIQ_PROD/CONS).
const PAGE1: u64 = 0x1_0000;
/// The high PCIe ECAM of virt: function `devfn` at `ECAM + (devfn << 12)`.
const ECAM: u64 = 0x40_1000_0000;
/// iommu-testdev BARs: device `i` at `BAR_BASE + i * 0x1000`.
const BAR_BASE: u64 = 0x1000_0000;

/// Most ops in one input.
const MAX_OPS: u32 = 48;

// ----- input ----------------------------------------------------------------------------------

/// Which SMMU the machine has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Preset {
    /// `virt,iommu=smmuv3`: QEMU's ID registers, Non-secure only.
    QemuVirt,
    /// `secure=on` and `-global arm-smmuv3.preset=full`: every feature, the Secure interface.
    SecureFull,
}

/// One iommu-testdev.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dev {
    pub sid: u32,
    /// `sec-sid=secure` (only with [`Preset::SecureFull`]).
    pub secure: bool,
}

/// The machine of an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    pub preset: Preset,
    pub mev_merge: bool,
    /// One to three devices, at slots 1, 2, 3.
    pub devs: Vec<Dev>,
}

/// A programming interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Arbitrary)]
pub enum Iface {
    Ns,
    S,
}

impl Iface {
    fn idx(self) -> usize {
        self as usize
    }
    fn page(self) -> u64 {
        match self {
            Iface::Ns => 0,
            Iface::S => S_OFFSET,
        }
    }
    fn attrs(self) -> &'static str {
        match self {
            Iface::Ns => "",
            Iface::S => " secure",
        }
    }
    fn pas(self) -> &'static str {
        match self {
            Iface::Ns => "non-secure",
            Iface::S => "secure",
        }
    }
}

/// A register write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegWrite {
    /// Offset from the SMMU base.
    pub offset: u64,
    /// 4 or 8.
    pub size: u8,
    pub value: u64,
    /// Issued with the `secure` attrs token.
    pub secure: bool,
}

/// The bring-up of one interface, in the order drivers use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bringup {
    pub iface: Iface,
    pub gbpa: u32,
    pub cmdq_base: u64,
    pub eventq_base: u64,
    pub strtab_base: u64,
    pub strtab_cfg: u32,
    pub cr2: u32,
    pub irq_ctrl: u32,
    pub cr0: u32,
}

/// STE fields the generator chooses; the rest of the STE is zero (plus `flips`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SteGen {
    pub v: bool,
    pub config: u64,
    pub s1fmt: u64,
    pub s1cdmax: u64,
    pub s1dss: u64,
    pub ctx: u64,
    pub strw: u64,
    pub mev: bool,
    pub s1stalld: bool,
    pub eats: u64,
    pub nscfg: u64,
    pub privcfg: u64,
    pub instcfg: u64,
    pub s2vmid: u64,
    pub s2t0sz: u64,
    pub s2sl0: u64,
    pub s2tg: u64,
    pub s2ps: u64,
    pub s2aa64: bool,
    pub s2r: bool,
    pub s2ptw: bool,
    pub s2affd: bool,
    pub s2ttb: u64,
    /// Bits of the 512 to flip after the fields are set.
    pub flips: Vec<u16>,
}

/// CD fields the generator chooses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdGen {
    pub v: bool,
    pub t0sz: u64,
    pub tg0: u64,
    pub epd0: bool,
    pub t1sz: u64,
    pub tg1: u64,
    pub epd1: bool,
    pub ips: u64,
    pub aa64: bool,
    pub r: bool,
    pub a: bool,
    pub s: bool,
    pub asid: u64,
    pub ttb0: u64,
    pub ttb1: u64,
    pub mair0: u64,
    pub flips: Vec<u16>,
}

/// Which stage a mapping is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Stage {
    S1,
    S2,
}

/// A chain of translation table descriptors for one address, from the root the stream's CD
/// (stage 1) or STE (stage 2) names down to a leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapGen {
    pub stage: Stage,
    pub dev: u8,
    pub ssid: u32,
    pub iova: u64,
    /// Output address (aligned down to the leaf size).
    pub out: u64,
    /// Leaf level (clamped to the levels the granule has).
    pub leaf: u8,
    /// The root when the stream has no CD (STE) written yet, then the next-level table of
    /// each level: `tables[l + 1]` is what the level-`l` table descriptor points to.
    pub tables: [u64; 4],
    /// Leaf attribute bits: 0 AF, 1 read-only (AP[2]; no S2AP write), 2 EL0 access (AP[1]),
    /// 3 XN, 4 nG, 5 NS, 6 no S2AP read.
    pub attrs: u8,
    /// Bits of the leaf descriptor to flip.
    pub flips: Vec<u8>,
}

/// A command pushed at PROD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdPush {
    pub iface: Iface,
    pub cmds: Vec<[u64; 2]>,
}

/// A DMA through a testdev.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmaOp {
    pub dev: u8,
    pub iova: u64,
    pub len: u32,
    pub read: bool,
    pub pnu: bool,
    pub ind: bool,
    pub ssid: Option<u32>,
    pub attrs: u32,
    /// Read-back address; `None` uses where the generator last mapped the IOVA.
    pub gpa: Option<u64>,
    pub pattern: u32,
}

/// A whole stream at once: its STE, for stage 1 its CD, for stage 2 an identity block mapping
/// of RAM (so CD and stage-1 table IPAs resolve), a mapping of one IOVA, and often a DMA of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSetup {
    pub dev: u8,
    pub ste: SteGen,
    pub cd: CdGen,
    /// The IOVA's mapping (stage 1 when the STE translates at stage 1, else stage 2).
    pub map: MapGen,
    /// Stage-2 tables shared by the identity block and a stage-2-only IOVA mapping.
    pub s2_tables: [u64; 4],
    pub dma: Option<DmaOp>,
}

/// One step of an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Stream(Box<StreamSetup>),
    Bringup(Bringup),
    Reg(RegWrite),
    /// An STE for a device's (or another) StreamID, where the Stream table holds it.
    Ste {
        iface: Iface,
        sid: u32,
        ste: SteGen,
    },
    /// A CD for (StreamID, SubstreamID), where the STE written for it points.
    Cd {
        iface: Iface,
        sid: u32,
        ssid: u32,
        cd: CdGen,
    },
    Map(MapGen),
    /// Arbitrary bytes somewhere the SMMU looks.
    Raw {
        addr: u64,
        bytes: Vec<u8>,
    },
    Cmd(CmdPush),
    Dma(DmaOp),
}

/// One fuzz input.
#[derive(Clone, PartialEq, Eq)]
pub struct Input {
    pub machine: Machine,
    pub ops: Vec<Op>,
}

// ----- generators -----------------------------------------------------------------------------

/// An address the SMMU is pointed at: inside [`WIN`], aligned, now and then somewhere wild.
fn place(u: &mut Unstructured, align: u64) -> Result<u64> {
    if u.ratio(1u8, 40)? {
        return Ok(*u.choose(&[
            0,
            SMMU_BASE,
            RAM + RAM_SIZE,
            0x0e00_0000,
            1 << 44,
            WIN + WIN_SIZE - 8,
        ])?);
    }
    let slots = WIN_SIZE / align;
    Ok(WIN + u.int_in_range(0..=slots - 1)? * align)
}

fn data_place(u: &mut Unstructured, align: u64) -> Result<u64> {
    if u.ratio(1u8, 16)? {
        return place(u, align.min(WIN_SIZE));
    }
    let slots = (DATA_SIZE / align).max(1);
    Ok(DATA + u.int_in_range(0..=slots - 1)? * align)
}

/// IOVAs drawn from a small set, so that mappings and DMAs meet.
fn iova(u: &mut Unstructured) -> Result<u64> {
    let page = u.int_in_range(0u64..=7)? << 12;
    let off = *u.choose(&[0u64, 0x40, 0x567, 0xff8, 0xffc])?;
    Ok(match u.int_in_range(0u8..=9)? {
        0..=4 => page | off,
        5 => 0x80_8060_4567,
        6 => (1 << 39) | page | off,
        7 => 0xffff_ff80_0000_0000 | page | off,
        8 => *u.choose(&[1 << 47, 1 << 48, 0x0001_0000_0000_0000 - 4, 1 << 55])?,
        _ => u.arbitrary()?,
    })
}

fn flips(u: &mut Unstructured, bits: u16) -> Result<Vec<u16>> {
    if u.ratio(3u8, 4)? {
        return Ok(Vec::new());
    }
    (0..u.int_in_range(1..=3)?).map(|_| u.int_in_range(0..=bits - 1)).collect()
}

fn machine(u: &mut Unstructured) -> Result<Machine> {
    let preset: Preset = u.arbitrary()?;
    let n = u.int_in_range(1..=3)?;
    let mut devs = Vec::new();
    for i in 0..n {
        let sid = match u.int_in_range(0u8..=15)? {
            0..=11 => 8 * (i + 1),
            12 | 13 => u.int_in_range(0..=31)?,
            14 => *u.choose(&[0x100, 0xffff, 1 << 20])?,
            _ => u.arbitrary()?,
        };
        let secure = preset == Preset::SecureFull && u.ratio(1u8, 3)?;
        devs.push(Dev { sid, secure });
    }
    Ok(Machine { preset, mev_merge: u.ratio(1u8, 4)?, devs })
}

/// Architected register offsets of page 0 (Non-secure; +0x8000 for Secure) and whether each
/// is 64 bits wide.
const REGS: &[(u64, bool)] = &[
    (off::CR0, false),
    (off::CR1, false),
    (off::CR2, false),
    (off::GBPA, false),
    (off::IRQ_CTRL, false),
    (off::GERRORN, false),
    (off::GERROR_IRQ_CFG0, true),
    (off::GERROR_IRQ_CFG1, false),
    (off::STRTAB_BASE, true),
    (off::STRTAB_BASE_CFG, false),
    (off::CMDQ_BASE, true),
    (off::CMDQ_PROD, false),
    (off::CMDQ_CONS, false),
    (off::EVENTQ_BASE, true),
    (off::EVENTQ_PROD, false),
    (off::EVENTQ_CONS, false),
    (off::EVENTQ_IRQ_CFG0, true),
    (off::PRIQ_BASE, true),
    (off::S_INIT, false),
    (off::CR0ACK, false),
    (off::GERROR, false),
    (off::IDR0, false),
];

fn small_index(u: &mut Unstructured) -> Result<u64> {
    Ok(match u.int_in_range(0u8..=7)? {
        0..=5 => u.int_in_range(0..=0x21)?,
        6 => u64::from(u.arbitrary::<u32>()?) & 0x800f_ffff,
        _ => u64::from(u.arbitrary::<u32>()?),
    })
}

fn queue_base(u: &mut Unstructured) -> Result<u64> {
    let log2 = if u.ratio(1u8, 8)? { u.int_in_range(0..=31)? } else { u.int_in_range(0..=5)? };
    let wa = if u.ratio(1u8, 8)? { 1 << 62 } else { 0 };
    Ok(place(u, 32)? | log2 | wa)
}

/// STRTAB_BASE_CFG, most of the time with a LOG2SIZE that covers StreamIDs of `sid_bits` bits.
fn strtab_cfg(u: &mut Unstructured, sid_bits: u32) -> Result<u64> {
    let fmt = if u.ratio(1u8, 3)? { 1 } else { u.int_in_range(0..=3)? & 0b10 };
    let split = *u.choose(&[6u64, 8, 10, 6, 0, 12])?;
    let log2 = match u.int_in_range(0u8..=7)? {
        0 => u.int_in_range(0..=63)?,
        1 => u.int_in_range(0..=8)?,
        _ => u64::from(sid_bits) + u.int_in_range(0..=2)?,
    };
    Ok((fmt << 16) | (split << 6) | log2)
}

/// Bits needed for the largest StreamID of the interface's devices.
fn sid_bits(machine: &Machine, iface: Iface) -> u32 {
    let max = machine.devs.iter().filter(|d| d.secure == (iface == Iface::S)).map(|d| d.sid);
    32 - max.max().unwrap_or(0).leading_zeros()
}

fn cr0_value(u: &mut Unstructured) -> Result<u64> {
    Ok(match u.int_in_range(0u8..=5)? {
        0..=2 => 0xd,
        3 => *u.choose(&[0, 0x1, 0x5, 0x9, 0xc, 0x8])?,
        _ => u64::from(u.arbitrary::<u32>()?) & 0x7ff,
    })
}

fn reg_value(u: &mut Unstructured, offset: u64) -> Result<u64> {
    let o = offset & 0x7fff;
    Ok(match o {
        off::CR0 => cr0_value(u)?,
        off::CR2 => u.int_in_range(0..=0xf)?,
        off::GBPA => {
            let update = if u.ratio(7u8, 8)? { 1 << 31 } else { 0 };
            let abort = if u.arbitrary()? { 1 << 20 } else { 0 };
            update | abort | (u64::from(u.arbitrary::<u32>()?) & 0x000f_f3ff & !(1 << 20))
        }
        off::GERRORN => match u.int_in_range(0u8..=3)? {
            0 => 1,
            1 => 1 << 2,
            2 => u64::from(u.arbitrary::<u32>()?) & 0x7fd,
            _ => u64::from(u.arbitrary::<u32>()?),
        },
        off::STRTAB_BASE => place(u, 64)? | if u.ratio(1u8, 8)? { 1 << 62 } else { 0 },
        off::STRTAB_BASE_CFG => strtab_cfg(u, 6)?,
        off::CMDQ_BASE | off::EVENTQ_BASE | off::PRIQ_BASE => queue_base(u)?,
        off::CMDQ_PROD | off::CMDQ_CONS | off::EVENTQ_PROD | off::EVENTQ_CONS => small_index(u)?,
        off::GERROR_IRQ_CFG0 | off::EVENTQ_IRQ_CFG0 => place(u, 4)?,
        off::IRQ_CTRL => u.int_in_range(0..=7)?,
        off::S_INIT => u.int_in_range(0..=1)?,
        _ => u.arbitrary()?,
    })
}

fn reg_write(u: &mut Unstructured, machine: &Machine) -> Result<RegWrite> {
    let iface = pick_iface(u, machine)?;
    let mut secure = iface == Iface::S;
    if u.ratio(1u8, 16)? {
        secure = !secure;
    }
    let (mut offset, wide) = match u.int_in_range(0u8..=15)? {
        0 => (u.int_in_range(0u64..=0x1_ffff)? & !3, false),
        1 => (PAGE1 + *u.choose(&[off::EVENTQ_PROD, off::EVENTQ_CONS, off::PRIQ_PROD])?, false),
        _ => {
            let (o, is64) = *u.choose(REGS)?;
            (iface.page() + o, is64)
        }
    };
    // EVENTQ_PROD/CONS of the Non-secure interface live in page 1 (page 0 aliases them).
    if iface == Iface::Ns
        && matches!(offset, off::EVENTQ_PROD | off::EVENTQ_CONS)
        && u.ratio(3u8, 4)?
    {
        offset += PAGE1;
    }
    let mut value = reg_value(u, offset)?;
    let size = if wide {
        if u.ratio(1u8, 4)? {
            // One 32-bit half.
            if u.arbitrary()? {
                value >>= 32;
                offset += 4;
            }
            4
        } else {
            8
        }
    } else if u.ratio(1u8, 16)? {
        offset &= !7;
        8
    } else {
        4
    };
    if size == 4 {
        value &= 0xffff_ffff;
    }
    Ok(RegWrite { offset, size, value, secure })
}

fn pick_iface(u: &mut Unstructured, machine: &Machine) -> Result<Iface> {
    Ok(if machine.preset == Preset::SecureFull && u.ratio(1u8, 3)? { Iface::S } else { Iface::Ns })
}

fn bringup(u: &mut Unstructured, machine: &Machine) -> Result<Bringup> {
    let iface = pick_iface(u, machine)?;
    Ok(Bringup {
        iface,
        gbpa: if u.ratio(1u8, 4)? { 0x8010_0000 } else { 0x8000_0000 },
        cmdq_base: queue_base(u)?,
        eventq_base: queue_base(u)?,
        strtab_base: place(u, 64)?,
        strtab_cfg: strtab_cfg(u, sid_bits(machine, iface))? as u32,
        cr2: *u.choose(&[0, 0x2, 0x2, 0x3, 0x6])?,
        irq_ctrl: u.int_in_range(0..=7)?,
        cr0: cr0_value(u)? as u32,
    })
}

fn sid_for(u: &mut Unstructured, machine: &Machine) -> Result<(Iface, u32)> {
    if u.ratio(1u8, 8)? {
        return Ok((pick_iface(u, machine)?, u.int_in_range(0..=40)?));
    }
    let d = *u.choose(&machine.devs)?;
    Ok((if d.secure { Iface::S } else { Iface::Ns }, d.sid))
}

fn ste_gen(u: &mut Unstructured) -> Result<SteGen> {
    let config = match u.int_in_range(0u8..=11)? {
        0..=4 => config::S1_TRANS,
        5 | 6 => config::NESTED,
        7 | 8 => config::S2_TRANS,
        9 => config::BYPASS,
        10 => config::ABORT,
        _ => u.int_in_range(0..=7)?,
    };
    Ok(SteGen {
        v: u.ratio(15u8, 16)?,
        config,
        s1fmt: if u.ratio(3u8, 4)? { 0 } else { u.int_in_range(0..=3)? },
        s1cdmax: if u.ratio(2u8, 3)? { 0 } else { u.int_in_range(0..=20)? },
        s1dss: u.int_in_range(0..=3)?,
        ctx: place(u, 64)?,
        strw: if u.ratio(3u8, 4)? { 0 } else { u.int_in_range(0..=3)? },
        mev: u.arbitrary()?,
        s1stalld: u.ratio(1u8, 32)?,
        eats: if u.ratio(7u8, 8)? { 0 } else { u.int_in_range(0..=3)? },
        nscfg: u.int_in_range(0..=3)?,
        privcfg: if u.ratio(3u8, 4)? { 0 } else { u.int_in_range(0..=3)? },
        instcfg: if u.ratio(3u8, 4)? { 0 } else { u.int_in_range(0..=3)? },
        s2vmid: u.int_in_range(0..=3)?,
        s2t0sz: if u.ratio(7u8, 8)? { 0x14 } else { u.int_in_range(0..=63)? },
        s2sl0: if u.ratio(7u8, 8)? { 2 } else { u.int_in_range(0..=3)? },
        s2tg: if u.ratio(7u8, 8)? { 0 } else { u.int_in_range(0..=3)? },
        s2ps: if u.ratio(7u8, 8)? { 5 } else { u.int_in_range(0..=7)? },
        s2aa64: u.ratio(15u8, 16)?,
        s2r: u.ratio(3u8, 4)?,
        s2ptw: u.ratio(1u8, 8)?,
        s2affd: u.ratio(1u8, 8)?,
        s2ttb: place(u, 0x1000)?,
        flips: flips(u, 512)?,
    })
}

fn cd_gen(u: &mut Unstructured) -> Result<CdGen> {
    Ok(CdGen {
        v: u.ratio(15u8, 16)?,
        t0sz: if u.ratio(3u8, 4)? { 16 } else { u.int_in_range(0..=63)? },
        tg0: if u.ratio(3u8, 4)? { 0 } else { u.int_in_range(0..=3)? },
        epd0: u.ratio(1u8, 16)?,
        t1sz: if u.ratio(3u8, 4)? { 16 } else { u.int_in_range(0..=63)? },
        tg1: if u.ratio(3u8, 4)? { 2 } else { u.int_in_range(0..=3)? },
        epd1: u.ratio(3u8, 4)?,
        ips: if u.ratio(3u8, 4)? { 4 } else { u.int_in_range(0..=7)? },
        aa64: u.ratio(15u8, 16)?,
        r: u.ratio(3u8, 4)?,
        a: u.ratio(15u8, 16)?,
        s: u.ratio(1u8, 16)?,
        asid: u.int_in_range(0..=3)?,
        ttb0: place(u, 0x1000)?,
        ttb1: place(u, 0x1000)?,
        mair0: if u.arbitrary()? { 0 } else { 0x44ff },
        flips: flips(u, 512)?,
    })
}

fn map_gen(u: &mut Unstructured, machine: &Machine) -> Result<MapGen> {
    let stage = if u.ratio(2u8, 3)? { Stage::S1 } else { Stage::S2 };
    Ok(MapGen {
        stage,
        dev: u.int_in_range(0..=machine.devs.len() as u8 - 1)?,
        ssid: if u.ratio(3u8, 4)? { 0 } else { u.int_in_range(0..=3)? },
        iova: iova(u)?,
        out: data_place(u, 0x1000)?,
        leaf: if u.ratio(3u8, 4)? { 3 } else { u.int_in_range(0..=3)? },
        tables: [place(u, 0x1_0000)?, place(u, 0x1000)?, place(u, 0x1000)?, place(u, 0x1000)?],
        attrs: if u.ratio(3u8, 4)? { 0b1_0101 } else { u.arbitrary()? },
        flips: if u.ratio(7u8, 8)? {
            Vec::new()
        } else {
            (0..u.int_in_range(1..=2)?).map(|_| u.int_in_range(0..=63)).collect::<Result<_>>()?
        },
    })
}

fn command(u: &mut Unstructured, machine: &Machine, iface: Iface) -> Result<[u64; 2]> {
    let d = *u.choose(&machine.devs)?;
    let sid = d.sid;
    let iova = iova(u)?;
    let vmid = u.int_in_range(0..=3)?;
    let asid = u.int_in_range(0..=3)?;
    let leaf = u.arbitrary()?;
    let mut c = match u.int_in_range(0u8..=24)? {
        0..=2 => Cmd::sync(
            u.int_in_range(0..=3)?,
            if u.arbitrary()? { place(u, 4)? } else { 0 },
            u.arbitrary()?,
            0,
        ),
        3 | 4 => Cmd::cfgi_ste(sid, leaf),
        5 => Cmd::cfgi_ste_range(sid, u.int_in_range(0..=31)?),
        6 | 7 => Cmd::cfgi_all(),
        8 => Cmd::cfgi_cd(sid, u.int_in_range(0..=3)?, leaf),
        9 => Cmd::cfgi_cd_all(sid),
        10 => Cmd::tlbi_nh_all(vmid),
        11 => Cmd::tlbi_nh_asid(vmid, asid),
        12 => Cmd::tlbi_nh_va(vmid, asid, iova, leaf),
        13 => Cmd::tlbi_nh_vaa(vmid, iova, leaf),
        14 => Cmd::tlbi_el2_all(),
        15 => Cmd::tlbi_el2_va(asid, iova, leaf),
        16 => Cmd::tlbi_s12_vmall(vmid),
        17 => Cmd::tlbi_s2_ipa(vmid, iova, leaf),
        18 | 19 => Cmd::tlbi_nsnh_all(),
        20 => Cmd::prefetch_config(sid),
        21 => Cmd::tlbi_el3_all(),
        22 => Cmd::tlbi_snh_all(),
        23 => Cmd::from_words([u.arbitrary()?, u.arbitrary()?]),
        _ => Cmd::tlbi_s_el2_all(),
    };
    if matches!(c.op(), 0x12 | 0x13 | 0x2a | 0x22) && u.ratio(1u8, 4)? {
        c = c.with_range(TlbiRange {
            num: u.int_in_range(0..=31)?,
            scale: u.int_in_range(0..=3)?,
            tg: u.int_in_range(0..=3)?,
            ttl: u.int_in_range(0..=3)?,
            ttl128: false,
        });
    }
    if iface == Iface::S && d.secure && c.op() <= 0x06 && u.ratio(3u8, 4)? {
        c = c.with_ssec();
    }
    Ok(c.to_words())
}

fn dma(u: &mut Unstructured, machine: &Machine) -> Result<DmaOp> {
    let dev = u.int_in_range(0..=machine.devs.len() as u8 - 1)?;
    let secure = machine.devs[usize::from(dev)].secure;
    Ok(DmaOp {
        dev,
        iova: iova(u)?,
        len: match u.int_in_range(0u8..=9)? {
            0..=3 => 4,
            4 => 8,
            5 => 0x40,
            6 => 0x1000,
            7 => 0x2000,
            8 => *u.choose(&[0u32, 1, 0x1001, 0x100])?,
            _ => u.int_in_range(1..=0x3000)?,
        },
        read: u.ratio(1u8, 3)?,
        pnu: u.ratio(1u8, 4)?,
        ind: u.ratio(1u8, 8)?,
        ssid: if u.ratio(1u8, 4)? { Some(u.int_in_range(0..=3)?) } else { None },
        attrs: match u.int_in_range(0u8..=7)? {
            0..=4 if secure => *u.choose(&[0x1u32, 0x9, 0x9, 0xa])?,
            0..=5 => 0x2,
            6 => *u.choose(&[0x0u32, 0x1, 0x8, 0x9, 0xa, 0xb, 0xc, 0xe])?,
            _ => u.arbitrary()?,
        },
        gpa: if u.ratio(3u8, 4)? { None } else { Some(data_place(u, 4)?) },
        pattern: if u.ratio(3u8, 4)? { 0 } else { u.arbitrary()? },
    })
}

fn op(u: &mut Unstructured, machine: &Machine) -> Result<Op> {
    Ok(match u.int_in_range(0u8..=23)? {
        0 | 1 => Op::Bringup(bringup(u, machine)?),
        2..=4 => Op::Reg(reg_write(u, machine)?),
        5 | 6 => {
            let (iface, sid) = sid_for(u, machine)?;
            Op::Ste { iface, sid, ste: ste_gen(u)? }
        }
        7 | 8 => {
            let (iface, sid) = sid_for(u, machine)?;
            let ssid = if u.ratio(3u8, 4)? { 0 } else { u.int_in_range(0..=3)? };
            Op::Cd { iface, sid, ssid, cd: cd_gen(u)? }
        }
        9 | 10 => Op::Map(map_gen(u, machine)?),
        11 | 20..=23 => Op::Stream(Box::new(stream_setup(u, machine)?)),
        12 => {
            let addr = if u.arbitrary()? { place(u, 8)? } else { data_place(u, 8)? };
            let n = u.int_in_range(1..=64)?;
            let mut bytes = u.bytes(n.min(u.len()))?.to_vec();
            bytes.resize(n, 0);
            Op::Raw { addr, bytes }
        }
        13..=15 => {
            let iface = pick_iface(u, machine)?;
            let mut cmds = vec![command(u, machine, iface)?];
            if u.ratio(1u8, 2)? {
                cmds.push(Cmd::sync(0, 0, 0, 0).to_words());
            }
            Op::Cmd(CmdPush { iface, cmds })
        }
        _ => Op::Dma(dma(u, machine)?),
    })
}

fn stream_setup(u: &mut Unstructured, machine: &Machine) -> Result<StreamSetup> {
    let dev = u.int_in_range(0..=machine.devs.len() as u8 - 1)?;
    let mut ste = ste_gen(u)?;
    if u.ratio(3u8, 4)? {
        ste.config =
            *u.choose(&[config::S1_TRANS, config::S1_TRANS, config::NESTED, config::S2_TRANS])?;
    }
    let mut map = map_gen(u, machine)?;
    map.dev = dev;
    let mut dma = dma(u, machine)?;
    dma.dev = dev;
    dma.iova = map.iova;
    dma.gpa = None;
    let mut cd = cd_gen(u)?;
    if u.ratio(3u8, 4)? {
        // An ASID of the stream's own, so that address spaces do not share TLB entries.
        let sid = machine.devs[usize::from(dev)].sid;
        cd.asid = u64::from(sid.wrapping_mul(4).wrapping_add(map.ssid) & 0xff);
    }
    Ok(StreamSetup {
        dev,
        ste,
        cd,
        map,
        s2_tables: [place(u, 0x1000)?, place(u, 0x1000)?, place(u, 0x1000)?, place(u, 0x1000)?],
        dma: if u.ratio(3u8, 4)? { Some(dma) } else { None },
    })
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let machine = machine(u)?;
        let mut ops = Vec::new();
        // Most inputs start by bringing up the Non-secure interface.
        if u.ratio(7u8, 8)? {
            let mut b = bringup(u, &machine)?;
            b.iface = Iface::Ns;
            ops.push(Op::Bringup(b));
        }
        u.arbitrary_loop(None, Some(MAX_OPS), |u| {
            // The count is drawn up front: stop when the bytes run out rather than
            // padding the input with default ops.
            if u.is_empty() {
                return Ok(ControlFlow::Break(()));
            }
            ops.push(op(u, &machine)?);
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(Input { machine, ops })
    }
}

// ----- script ---------------------------------------------------------------------------------

/// Cache policy of a replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Normal,
    Never,
}

/// The registers a probe reads, in order.
const PROBE: [(u64, u8); 12] = [
    (off::CR0, 4),
    (off::CR0ACK, 4),
    (off::CR2, 4),
    (off::GBPA, 4),
    (off::GERROR, 4),
    (off::GERRORN, 4),
    (off::CMDQ_BASE, 8),
    (off::CMDQ_PROD, 4),
    (off::CMDQ_CONS, 4),
    (off::EVENTQ_BASE, 8),
    (off::EVENTQ_PROD, 4),
    (off::EVENTQ_CONS, 4),
];

/// ID registers read at the start: (offset, Secure).
const IDS: [(u64, bool); 6] = [
    (off::IDR0, false),
    (off::IDR1, false),
    (off::IDR3, false),
    (off::IDR5, false),
    (S_OFFSET + off::IDR0, true),
    (S_OFFSET + off::IDR1, true),
];

/// What a request of the script is, for the oracle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Meta {
    Other,
    /// The `i`-th entry of [`IDS`].
    Id(usize),
    /// Register `i` of [`PROBE`] of an interface.
    Probe(Iface, usize),
    /// A register write: the bank it reaches (`None`: RAZ/WI) and the register's offset in
    /// that bank's page 0.
    RegWrite {
        bank: Option<Iface>,
        offset: u64,
        size: u8,
        value: u64,
    },
    /// A write to memory of `[addr, addr+len)`.
    MemWrite {
        addr: u64,
        len: u64,
    },
    /// The read of DMA_TRIGGERING.
    DmaTrigger {
        dev: u8,
        iova: u64,
        read: bool,
        len: u32,
        ssid: Option<u32>,
    },
    DmaResult,
    DmaFault,
    DmaDone,
}

/// What the generator believes software programmed: where structures go.
#[derive(Clone, Debug, Default)]
struct IfaceShadow {
    strtab: u64,
    strtab_cfg: u32,
    /// L1 index -> L2 table of a 2-level Stream table.
    l1: HashMap<u32, u64>,
    cmdq: u64,
    cmdq_prod: u32,
}

#[derive(Clone, Copy, Debug)]
struct SteShadow {
    ctx: u64,
    s1fmt: u64,
    s2ttb: u64,
    s2tg: u64,
    s2sl0: u64,
    s2t0sz: u64,
}

#[derive(Clone, Copy, Debug)]
struct CdShadow {
    ttb0: u64,
    tg0: u64,
    t0sz: u64,
    ttb1: u64,
    tg1: u64,
    t1sz: u64,
}

#[derive(Clone, Debug, Default)]
struct Shadow {
    iface: [IfaceShadow; 2],
    ste: HashMap<(Iface, u32), SteShadow>,
    cd: HashMap<(Iface, u32, u32), CdShadow>,
    /// (L1CD table, index) -> leaf table.
    l1cd: HashMap<(u64, u32), u64>,
    /// IOVA page -> output page of the last mapping written.
    maps: HashMap<u64, u64>,
}

/// A script under construction: request lines with their [`Meta`].
struct Builder<'a> {
    machine: &'a Machine,
    text: String,
    metas: Vec<Meta>,
    shadow: Shadow,
}

impl Builder<'_> {
    fn req(&mut self, line: String, meta: Meta) {
        self.text.push_str(&line);
        self.text.push('\n');
        self.metas.push(meta);
    }

    fn comment(&mut self, c: &str) {
        let _ = writeln!(self.text, "# {c}");
    }

    fn secure_impl(&self) -> bool {
        self.machine.preset == Preset::SecureFull
    }

    /// The register bank a write at `offset` with these attrs reaches, and the register's
    /// offset in page 0 of that bank; `None` for RAZ/WI locations.
    fn bank(&self, offset: u64, secure: bool) -> Option<(Iface, u64)> {
        match offset {
            o if o < S_OFFSET => Some((Iface::Ns, o)),
            o if o < PAGE1 => (secure && self.secure_impl()).then_some((Iface::S, o - S_OFFSET)),
            o if o < 2 * PAGE1 => {
                let r = o - PAGE1;
                matches!(r, off::EVENTQ_PROD | off::EVENTQ_CONS | off::PRIQ_PROD | off::PRIQ_CONS)
                    .then_some((Iface::Ns, r))
            }
            _ => None,
        }
    }

    fn reg(&mut self, offset: u64, size: u8, value: u64, secure: bool) {
        let cmd = if size == 8 { "writeq" } else { "writel" };
        let attrs = if secure { " secure" } else { "" };
        let line = format!("{cmd} {:#x} {value:#x}{attrs}", SMMU_BASE + offset);
        let target = self.bank(offset, secure);
        let (bank, reg) = match target {
            Some((b, r)) => (Some(b), r),
            None => (None, offset),
        };
        self.req(line, Meta::RegWrite { bank, offset: reg, size, value });
        // Follow what software programmed.
        if let Some(b) = bank {
            let sh = &mut self.shadow.iface[b.idx()];
            match (reg, size) {
                (off::STRTAB_BASE, 8) => sh.strtab = value & smmu::spec::genmask(55, 6),
                (off::STRTAB_BASE_CFG, 4) => {
                    sh.strtab_cfg = value as u32;
                    sh.l1.clear();
                }
                (off::CMDQ_BASE, 8) => sh.cmdq = value,
                (off::CMDQ_PROD, 4) => sh.cmdq_prod = value as u32,
                _ => {}
            }
        }
    }

    /// A memory write; one that would leave RAM (a table pointer aimed at MMIO or beyond the
    /// end of RAM) is left out, so that memory ops never reach device registers.
    fn mem(&mut self, addr: u64, bytes: &[u8]) {
        let in_ram = addr >= RAM && addr.saturating_add(bytes.len() as u64) <= RAM + RAM_SIZE;
        if !in_ram {
            self.comment(&format!(
                "(a write of {:#x} bytes at {addr:#x}, outside RAM)",
                bytes.len()
            ));
            return;
        }
        let mut hex = String::with_capacity(2 * bytes.len());
        for b in bytes {
            let _ = write!(hex, "{b:02x}");
        }
        let line = format!("write {addr:#x} {:#x} 0x{hex}", bytes.len());
        self.req(line, Meta::MemWrite { addr, len: bytes.len() as u64 });
    }

    fn mem_words(&mut self, addr: u64, words: &[u64]) {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.mem(addr, &bytes);
    }

    fn probe(&mut self, iface: Iface) {
        if iface == Iface::S && !self.secure_impl() {
            return;
        }
        for (i, (o, size)) in PROBE.iter().enumerate() {
            let mut offset = iface.page() + o;
            if iface == Iface::Ns && matches!(*o, off::EVENTQ_PROD | off::EVENTQ_CONS) {
                offset += PAGE1;
            }
            let cmd = if *size == 8 { "readq" } else { "readl" };
            let line = format!("{cmd} {:#x}{}", SMMU_BASE + offset, iface.attrs());
            self.req(line, Meta::Probe(iface, i));
        }
    }

    fn preamble(&mut self) {
        self.comment("PCI: memory decoding and bus mastering, BAR0 of each iommu-testdev");
        for i in 0..self.machine.devs.len() as u64 {
            let cfg = ECAM + ((i + 1) << 15);
            self.req(format!("writew {:#x} 0x6", cfg + 4), Meta::Other);
            self.req(format!("writel {:#x} {:#x}", cfg + 0x10, BAR_BASE + i * 0x1000), Meta::Other);
        }
        self.comment("ID registers and the initial state of each interface");
        for (i, (o, secure)) in IDS.iter().enumerate() {
            if *secure && !self.secure_impl() {
                continue;
            }
            let attrs = if *secure { " secure" } else { "" };
            self.req(format!("readl {:#x}{attrs}", SMMU_BASE + o), Meta::Id(i));
        }
        self.probe(Iface::Ns);
        self.probe(Iface::S);
    }

    fn op(&mut self, op: &Op) {
        match op {
            Op::Bringup(b) => self.bringup(b),
            Op::Reg(r) => {
                self.reg(r.offset, r.size, r.value, r.secure);
                if let Some((b, _)) = self.bank(r.offset, r.secure) {
                    self.probe(b);
                }
            }
            Op::Ste { iface, sid, ste } => self.ste(*iface, *sid, ste),
            Op::Cd { iface, sid, ssid, cd } => self.cd(*iface, *sid, *ssid, cd),
            Op::Map(m) => self.map(m),
            Op::Stream(st) => self.stream(st),
            Op::Raw { addr, bytes } => self.mem(*addr, bytes),
            Op::Cmd(c) => self.cmd(c),
            Op::Dma(d) => self.dma(d),
        }
    }

    fn bringup(&mut self, b: &Bringup) {
        let s = b.iface == Iface::S;
        let p = b.iface.page();
        self.reg(p + off::CR0, 4, 0, s);
        self.reg(p + off::GBPA, 4, u64::from(b.gbpa), s);
        self.reg(p + off::CMDQ_BASE, 8, b.cmdq_base, s);
        self.reg(p + off::CMDQ_PROD, 4, 0, s);
        self.reg(p + off::CMDQ_CONS, 4, 0, s);
        self.reg(p + off::EVENTQ_BASE, 8, b.eventq_base, s);
        let q = if s { p } else { PAGE1 };
        self.reg(q + off::EVENTQ_PROD, 4, 0, s);
        self.reg(q + off::EVENTQ_CONS, 4, 0, s);
        self.reg(p + off::STRTAB_BASE_CFG, 4, u64::from(b.strtab_cfg), s);
        self.reg(p + off::STRTAB_BASE, 8, b.strtab_base, s);
        self.reg(p + off::CR2, 4, u64::from(b.cr2), s);
        self.reg(p + off::IRQ_CTRL, 4, u64::from(b.irq_ctrl), s);
        self.reg(p + off::CR0, 4, u64::from(b.cr0), s);
        self.probe(b.iface);
    }

    /// Where the STE of `sid` is, writing the L1STD of a 2-level table when needed.
    fn ste_addr(&mut self, iface: Iface, sid: u32) -> u64 {
        let sh = &self.shadow.iface[iface.idx()];
        let cfg = smmu::spec::regs::StrtabBaseCfg(sh.strtab_cfg);
        let base = if sh.strtab == 0 { WIN } else { sh.strtab };
        // The SMMU ignores the address bits below the table's alignment (§6.3.24).
        let align = |base: u64, bits: u32| base & !(1u64 << bits.min(63)).wrapping_sub(1);
        let log2size = cfg.log2size();
        if cfg.fmt() != smmu::spec::regs::strtab_fmt::TWO_LEVEL {
            return align(base, log2size + 6).wrapping_add(u64::from(sid) << 6);
        }
        let split = if STRTAB_SPLIT_VALID.contains(&cfg.split()) {
            cfg.split()
        } else {
            STRTAB_SPLIT_DEFAULT
        };
        let base = align(base, (log2size + 3).saturating_sub(split).max(6));
        let l1 = sid >> split;
        let leaf = u64::from(sid & ((1 << split) - 1)) << 6;
        if let Some(l2) = sh.l1.get(&l1) {
            return l2 + leaf;
        }
        // A fresh leaf table at a deterministic place in the window, aligned to its size.
        let size = 64u64 << split;
        let l2 = WIN + (u64::from(l1).wrapping_mul(size) % WIN_SIZE) / size * size;
        let mut d = L1Std::default();
        d.bits_mut().set_span(u64::from(split + 1));
        d.bits_mut().set_l2ptr(l2 >> 6);
        self.mem_words(base.wrapping_add(u64::from(l1) * 8), &d.to_words());
        self.shadow.iface[iface.idx()].l1.insert(l1, l2);
        l2 + leaf
    }

    fn ste(&mut self, iface: Iface, sid: u32, g: &SteGen) {
        let mut ste = Ste::default();
        let mut b = ste.bits_mut();
        b.set_v(g.v);
        b.set_config(g.config);
        b.set_s1fmt(g.s1fmt);
        b.set_s1_context_ptr(g.ctx >> 6);
        b.set_s1cdmax(g.s1cdmax);
        b.set_s1dss(g.s1dss);
        b.set_strw(g.strw);
        b.set_mev(g.mev);
        b.set_s1stalld(g.s1stalld);
        b.set_eats(g.eats);
        b.set_nscfg(g.nscfg);
        b.set_privcfg(g.privcfg);
        b.set_instcfg(g.instcfg);
        b.set_shcfg(1);
        b.set_s2vmid(g.s2vmid);
        b.set_s2t0sz(g.s2t0sz);
        b.set_s2sl0(g.s2sl0);
        b.set_s2tg(g.s2tg);
        b.set_s2ps(g.s2ps);
        b.set_s2aa64(g.s2aa64);
        b.set_s2r(g.s2r);
        b.set_s2ptw(g.s2ptw);
        b.set_s2affd(g.s2affd);
        b.set_s2ttb(g.s2ttb >> 4);
        let mut bytes = ste.to_bytes();
        for &f in &g.flips {
            bytes[usize::from(f / 8) % 64] ^= 1 << (f % 8);
        }
        let addr = self.ste_addr(iface, sid);
        self.comment(&format!("STE {sid:#x} ({})", iface.pas()));
        self.mem(addr, &bytes);
        self.shadow.ste.insert(
            (iface, sid),
            SteShadow {
                ctx: g.ctx,
                s1fmt: g.s1fmt,
                s2ttb: g.s2ttb,
                s2tg: g.s2tg,
                s2sl0: g.s2sl0,
                s2t0sz: g.s2t0sz,
            },
        );
    }

    /// Where the CD of (sid, ssid) is, writing the L1CD of a 2-level CD table when needed.
    fn cd_addr(&mut self, iface: Iface, sid: u32, ssid: u32) -> u64 {
        let Some(ste) = self.shadow.ste.get(&(iface, sid)).copied() else {
            return WIN + 0x1_0000 + (u64::from(ssid) << 6);
        };
        let leaf_shift = match ste.s1fmt {
            1 => 6,
            2 => 10,
            _ => return ste.ctx.wrapping_add(u64::from(ssid) << 6),
        };
        let l1 = ssid >> leaf_shift;
        let leaf = u64::from(ssid & ((1 << leaf_shift) - 1)) << 6;
        if let Some(l2) = self.shadow.l1cd.get(&(ste.ctx, l1)) {
            return l2 + leaf;
        }
        let l2 = WIN + 0x2_0000 + (u64::from(l1) % 16) * 0x1_0000 % 0x2_0000;
        let mut d = L1Cd::default();
        d.bits_mut().set_v(true);
        d.bits_mut().set_l2ptr(l2 >> 12);
        self.mem_words(ste.ctx.wrapping_add(u64::from(l1) * 8), &d.to_words());
        self.shadow.l1cd.insert((ste.ctx, l1), l2);
        l2 + leaf
    }

    fn cd(&mut self, iface: Iface, sid: u32, ssid: u32, g: &CdGen) {
        let mut cd = Cd::default();
        let mut b = cd.bits_mut();
        b.set_v(g.v);
        b.set_t0sz(g.t0sz);
        b.set_tg0(g.tg0);
        b.set_epd0(g.epd0);
        b.set_t1sz(g.t1sz);
        b.set_tg1(g.tg1);
        b.set_epd1(g.epd1);
        b.set_ips(g.ips);
        b.set_aa64(g.aa64);
        b.set_r(g.r);
        b.set_a(g.a);
        b.set_s(g.s);
        b.set_sh0(3);
        b.set_ir0(1);
        b.set_or0(1);
        b.set_asid(g.asid);
        b.set_ttb0(g.ttb0 >> 4);
        b.set_ttb1(g.ttb1 >> 4);
        b.set_mair0(g.mair0);
        let mut bytes = cd.to_bytes();
        for &f in &g.flips {
            bytes[usize::from(f / 8) % 64] ^= 1 << (f % 8);
        }
        let addr = self.cd_addr(iface, sid, ssid);
        self.comment(&format!("CD sid {sid:#x} ssid {ssid:#x}"));
        self.mem(addr, &bytes);
        self.shadow.cd.insert(
            (iface, sid, ssid),
            CdShadow {
                ttb0: g.ttb0,
                tg0: g.tg0,
                t0sz: g.t0sz,
                ttb1: g.ttb1,
                tg1: g.tg1,
                t1sz: g.t1sz,
            },
        );
    }

    fn map(&mut self, m: &MapGen) {
        let dev = self.machine.devs[usize::from(m.dev) % self.machine.devs.len()];
        let iface = if dev.secure { Iface::S } else { Iface::Ns };
        // Root, granule shift, input size and start level of the walk.
        let (root, gshift, in_bits, start) = match m.stage {
            Stage::S1 => {
                let cd = self.shadow.cd.get(&(iface, dev.sid, m.ssid)).copied();
                let ttb1 = m.iova >> 55 & 1 == 1;
                let (root, tg, tsz) = match (cd, ttb1) {
                    (Some(c), false) => (c.ttb0, tg0_shift(c.tg0), c.t0sz),
                    (Some(c), true) => (c.ttb1, tg1_shift(c.tg1), c.t1sz),
                    (None, _) => (m.tables[0], 12, 16),
                };
                let in_bits = 64u64.saturating_sub(tsz).clamp(16, 52) as u32;
                (root, tg, in_bits, s1_start_level(tg, in_bits))
            }
            Stage::S2 => {
                let ste = self.shadow.ste.get(&(iface, dev.sid)).copied();
                let (root, tg, tsz, sl0) = match ste {
                    Some(s) => (s.s2ttb, tg0_shift(s.s2tg), s.s2t0sz, s.s2sl0),
                    None => (m.tables[0], 12, 0x14, 2),
                };
                let in_bits = 64u64.saturating_sub(tsz).clamp(16, 52) as u32;
                (root, tg, in_bits, s2_start_level(tg, sl0))
            }
        };
        let per_level = gshift - 3;
        let shift = |level: u32| gshift + (3 - level) * per_level;
        let leaf = u32::from(m.leaf).clamp(start, 3);
        let g = 1u64 << gshift;
        self.comment(&format!(
            "{:?} mapping of {:#x} for sid {:#x} (levels {start}..={leaf})",
            m.stage, m.iova, dev.sid
        ));
        let mut table = root & !(g - 1);
        for level in start..=leaf {
            let idx_bits =
                if level == start { in_bits.saturating_sub(shift(level)) } else { per_level };
            let idx = (m.iova >> shift(level)) & ((1u64 << idx_bits.min(16)) - 1);
            let at = table.wrapping_add(idx * 8);
            let mut d = Desc(0);
            if level < leaf {
                let next = m.tables[level as usize + 1] & !(g - 1);
                d.set_valid(true);
                d.set_table_or_page(true);
                d.set_oa_47_12(next >> 12);
                table = next;
            } else {
                let size = 1u64 << shift(level);
                let out = m.out & !(size - 1);
                d.0 = if level == 3 { kind::TABLE_OR_PAGE } else { kind::BLOCK };
                d.set_oa_47_12(out >> 12);
                d.set_af(m.attrs & 1 != 0);
                d.set_sh(3);
                match m.stage {
                    Stage::S1 => {
                        d.set_attr_indx(1);
                        let read_only = u64::from(m.attrs >> 1 & 1);
                        let el0 = u64::from(m.attrs >> 2 & 1);
                        d.set_ap(read_only << 1 | el0);
                        d.set_uxn(m.attrs & 8 != 0);
                        d.set_ng(m.attrs & 16 != 0);
                        d.set_ns(m.attrs & 32 != 0);
                    }
                    Stage::S2 => {
                        d.set_s2_memattr(0xf);
                        let read = if m.attrs & 64 == 0 { s2ap::READ } else { 0 };
                        let write = if m.attrs & 2 == 0 { s2ap::WRITE } else { 0 };
                        d.set_s2ap(read | write);
                        d.set_s2xn(if m.attrs & 8 != 0 { 0b10 } else { 0 });
                    }
                }
                for &f in &m.flips {
                    d.0 ^= 1 << (f % 64);
                }
                self.shadow.maps.insert(m.iova & !0xfff, (out | (m.iova & (size - 1))) & !0xfff);
            }
            self.mem_words(at, &[d.0]);
        }
    }

    fn stream(&mut self, st: &StreamSetup) {
        let i = usize::from(st.dev) % self.machine.devs.len();
        let dev = self.machine.devs[i];
        let iface = if dev.secure { Iface::S } else { Iface::Ns };
        self.ste(iface, dev.sid, &st.ste);
        let s1 = st.ste.config & config::S1_BIT != 0;
        let s2 = st.ste.config & config::S2_BIT != 0;
        if s2 {
            // IPA = PA for all of RAM: one block at the level that maps 1 GiB (4K granule).
            self.map(&MapGen {
                stage: Stage::S2,
                dev: i as u8,
                ssid: 0,
                iova: RAM,
                out: RAM,
                leaf: 1,
                tables: st.s2_tables,
                attrs: 0b101,
                flips: Vec::new(),
            });
        }
        if s1 {
            self.cd(iface, dev.sid, st.map.ssid, &st.cd);
        }
        let stage = if s1 { Stage::S1 } else { Stage::S2 };
        let tables = if s1 { st.map.tables } else { st.s2_tables };
        self.map(&MapGen { stage, dev: i as u8, tables, ..st.map.clone() });
        if let Some(d) = &st.dma {
            self.dma(&DmaOp { dev: i as u8, ..d.clone() });
        }
    }

    fn cmd(&mut self, c: &CmdPush) {
        let sh = &self.shadow.iface[c.iface.idx()];
        let q = QueueBase(sh.cmdq);
        let log2 = (q.log2size() as u32).min(19);
        let mask = queue_index_mask(log2);
        let base = (q.addr() << 5) & !((16u64 << log2).max(32) - 1);
        let mut prod = sh.cmdq_prod & mask;
        for words in &c.cmds {
            let slot = base.wrapping_add(u64::from(prod & (mask >> 1)) * 16);
            self.comment(&format!("command {:?}", Cmd::from_words(*words)));
            self.mem_words(slot, words);
            prod = (prod + 1) & mask;
        }
        let s = c.iface == Iface::S;
        self.reg(c.iface.page() + off::CMDQ_PROD, 4, u64::from(prod), s);
        self.probe(c.iface);
    }

    fn dma(&mut self, d: &DmaOp) {
        let i = usize::from(d.dev) % self.machine.devs.len();
        let bar = BAR_BASE + i as u64 * 0x1000;
        let iface = if self.machine.devs[i].secure { Iface::S } else { Iface::Ns };
        let gpa = d.gpa.unwrap_or_else(|| {
            // Where the generator mapped the IOVA, else the IOVA itself (bypass).
            match self.shadow.maps.get(&(d.iova & !0xfff)) {
                Some(page) => page | (d.iova & 0xfff),
                None => d.iova,
            }
        });
        let mut ctrl = 0;
        if d.read {
            ctrl |= itd::CTRL_DIR_READ;
        }
        if d.pnu {
            ctrl |= itd::CTRL_PRIV;
        }
        if d.ind {
            ctrl |= itd::CTRL_INSTR;
        }
        if d.ssid.is_some() {
            ctrl |= itd::CTRL_SSV;
        }
        self.comment(&format!("DMA of {:#x} bytes at {:#x} by device {i}", d.len, d.iova));
        let w = |b: &mut Self, o: u64, v: u64| {
            b.req(format!("writel {:#x} {v:#x}", bar + o), Meta::Other);
        };
        w(self, itd::DMA_GVA_LO, d.iova & 0xffff_ffff);
        w(self, itd::DMA_GVA_HI, d.iova >> 32);
        w(self, itd::DMA_LEN, u64::from(d.len));
        w(self, itd::DMA_GPA_LO, gpa & 0xffff_ffff);
        w(self, itd::DMA_GPA_HI, gpa >> 32);
        w(self, itd::DMA_ATTRS, u64::from(d.attrs));
        w(self, itd::DMA_CTRL, u64::from(ctrl));
        w(self, itd::DMA_SSID, u64::from(d.ssid.unwrap_or(0)));
        w(self, itd::DMA_PATTERN, u64::from(d.pattern));
        w(self, itd::DMA_DBELL, u64::from(itd::DBELL_ARM));
        let meta =
            Meta::DmaTrigger { dev: i as u8, iova: d.iova, read: d.read, len: d.len, ssid: d.ssid };
        self.req(format!("readl {:#x}", bar + itd::DMA_TRIGGERING), meta);
        self.req(format!("readl {:#x}", bar + itd::DMA_RESULT), Meta::DmaResult);
        self.req(format!("readl {:#x}", bar + itd::DMA_FAULT), Meta::DmaFault);
        self.req(format!("readl {:#x}", bar + itd::DMA_DONE), Meta::DmaDone);
        self.probe(iface);
    }
}

fn tg0_shift(tg: u64) -> u32 {
    match tg {
        1 => 16,
        2 => 14,
        _ => 12,
    }
}

fn tg1_shift(tg: u64) -> u32 {
    match tg {
        1 => 14,
        3 => 16,
        _ => 12,
    }
}

/// First level of a stage-1 walk of `in_bits` input bits with granule `2^gshift`.
fn s1_start_level(gshift: u32, in_bits: u32) -> u32 {
    let per = gshift - 3;
    let levels = in_bits.saturating_sub(gshift).div_ceil(per).clamp(1, 4);
    4 - levels
}

/// First level of a stage-2 walk from S2SL0.
fn s2_start_level(gshift: u32, sl0: u64) -> u32 {
    let sl0 = sl0.min(2) as u32;
    if gshift == 12 { 2 - sl0 } else { 3 - sl0 }
}

/// A built script: its `# args:` lines, its body and what each request is.
pub struct Script {
    pub args: String,
    pub body: String,
    pub metas: Vec<Meta>,
}

impl Script {
    /// The full text `run` replays.
    pub fn text(&self) -> String {
        format!("{}{}", self.args, self.body)
    }
}

/// The machine's command line as `# args:` lines.
fn args(m: &Machine, policy: Policy) -> String {
    let mut a = String::from("# args: -machine virt,acpi=off,gic-version=3,iommu=smmuv3");
    if m.preset == Preset::SecureFull {
        a.push_str(",secure=on");
    }
    a.push_str(" -m 512\n");
    if m.preset == Preset::SecureFull {
        a.push_str("# args: -global arm-smmuv3.preset=full\n");
    }
    if m.mev_merge {
        a.push_str("# args: -global arm-smmuv3.mev-merge=on\n");
    }
    if policy == Policy::Never {
        a.push_str("# args: -global arm-smmuv3.cache-policy=never\n");
    }
    for (i, d) in m.devs.iter().enumerate() {
        let sec = if d.secure { ",sec-sid=secure" } else { "" };
        let _ = writeln!(a, "# args: -device iommu-testdev,addr={},sid={:#x}{sec}", i + 1, d.sid);
    }
    a
}

/// The script an input runs under `policy`.
pub fn script(input: &Input, policy: Policy) -> Script {
    let mut b = Builder {
        machine: &input.machine,
        text: String::new(),
        metas: Vec::new(),
        shadow: Shadow::default(),
    };
    b.preamble();
    for (i, op) in input.ops.iter().enumerate() {
        b.comment(&format!("op {i}"));
        b.op(op);
    }
    Script { args: args(&input.machine, policy), body: b.text, metas: b.metas }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = script(self, Policy::Normal);
        writeln!(f, "# smmu_ops input: SMMU programming and DMAs with register probes.")?;
        writeln!(
            f,
            "# The oracle also replays it with -global arm-smmuv3.cache-policy=never and compares."
        )?;
        write!(f, "{}", s.text())
    }
}

// ----- oracle ---------------------------------------------------------------------------------

/// Register values one probe read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Regs {
    cr0: u32,
    cr0ack: u32,
    cr2: u32,
    gbpa: u32,
    gerror: u32,
    gerrorn: u32,
    cmdq_base: u64,
    cmdq_prod: u32,
    cmdq_cons: u32,
    eventq_base: u64,
    eventq_prod: u32,
    eventq_cons: u32,
}

impl Regs {
    fn set(&mut self, i: usize, v: u64) {
        let w = v as u32;
        match i {
            0 => self.cr0 = w,
            1 => self.cr0ack = w,
            2 => self.cr2 = w,
            3 => self.gbpa = w,
            4 => self.gerror = w,
            5 => self.gerrorn = w,
            6 => self.cmdq_base = v,
            7 => self.cmdq_prod = w,
            8 => self.cmdq_cons = w,
            9 => self.eventq_base = v,
            10 => self.eventq_prod = w,
            _ => self.eventq_cons = w,
        }
    }
}

/// ID register values.
#[derive(Clone, Copy, Debug, Default)]
struct Ids {
    idr0: u32,
    idr1: u32,
    idr3: u32,
    idr5: u32,
    s_idr0: u32,
}

impl Ids {
    /// Implemented CR0 bits of an interface, from the ID registers alone.
    fn cr0_mask(&self, iface: Iface) -> u32 {
        let idr0 = Idr0(self.idr0);
        let mut m = Cr0(0);
        m.set_smmuen(true);
        m.set_eventqen(true);
        m.set_cmdqen(true);
        if idr0.vmw() {
            m.set_vmw(0b111);
        }
        match iface {
            Iface::S => {
                m.set_sif(true);
                m.set_nsstalld(
                    SIdr0(self.s_idr0).stall_model() == stall_model::STALL_AND_TERMINATE,
                );
            }
            Iface::Ns => {
                m.set_priqen(idr0.pri());
                m.set_atschk(idr0.ats());
                m.set_dpt_walk_en(Idr3(self.idr3).dpt());
            }
        }
        m.0
    }

    fn oas_bits(&self) -> u32 {
        pa_bits(u64::from(Idr5(self.idr5).oas())).unwrap_or(48)
    }
}

/// The architected GERROR bits.
const GERROR_BITS: u32 = gerror::CMDQ_ERR
    | gerror::EVENTQ_ABT_ERR
    | gerror::PRIQ_ABT_ERR
    | gerror::MSI_CMDQ_ABT_ERR
    | gerror::MSI_EVENTQ_ABT_ERR
    | gerror::MSI_PRIQ_ABT_ERR
    | gerror::MSI_GERROR_ABT_ERR
    | gerror::SFM_ERR
    | gerror::CMDQP_ERR
    | gerror::DPT_ERR;

/// A DMA waiting for the probe that follows it.
#[derive(Clone, Debug)]
struct PendingDma {
    dev: usize,
    iova: u64,
    read: bool,
    ssid: Option<u32>,
    /// Index of the trigger exchange.
    at: usize,
    result: u32,
    fault: u32,
    done: u32,
}

/// The oracle's view of one replay.
struct Checker<'a> {
    input: &'a Input,
    ids: Ids,
    /// Last complete probe per interface.
    regs: [Option<Regs>; 2],
    /// Probe being read.
    cur: Regs,
    /// Expected CR0 per interface (what software last wrote).
    cr0: [u32; 2],
    /// GERRORN written since the last probe, per interface.
    gerrorn_written: [bool; 2],
    /// Last STE and CD fetched for a DMA of (PAS, StreamID, SubstreamID): what the
    /// configuration cache holds for that key.
    ste: HashMap<(String, u32, Option<u32>), [u64; 8]>,
    cd: HashMap<(String, u32, Option<u32>), [u64; 8]>,
    dma: Option<PendingDma>,
}

fn eventq_qs(ids: &Ids, base: u64) -> u32 {
    (QueueBase(base).log2size() as u32).min(Idr1(ids.idr1).eventqs())
}

fn cmdq_qs(ids: &Ids, base: u64) -> u32 {
    (QueueBase(base).log2size() as u32).min(Idr1(ids.idr1).cmdqs())
}

impl<'a> Checker<'a> {
    fn new(input: &'a Input) -> Self {
        Checker {
            input,
            ids: Ids::default(),
            regs: [None, None],
            cur: Regs::default(),
            cr0: [0, 0],
            gerrorn_written: [false, false],
            ste: HashMap::new(),
            cd: HashMap::new(),
            dma: None,
        }
    }

    /// Follows the configuration fetches of an exchange, keyed by the DMA that made them.
    fn track_fetches(&mut self, ex: &Exchange) {
        let mut txn = None;
        for ev in &ex.trace {
            match str_field(ev, "kind") {
                Some("dma") => {
                    txn = hex_field(ev, "sid")
                        .map(|s| (s as u32, hex_field(ev, "ssid").map(|s| s as u32)));
                }
                Some("fetch") => {
                    let (Some((sid, ssid)), Some(what), Some(pas), Some(raw)) =
                        (txn, str_field(ev, "what"), str_field(ev, "pas"), hexes_field(ev, "raw"))
                    else {
                        continue;
                    };
                    let mut w = [0u64; 8];
                    for (d, s) in w.iter_mut().zip(&raw) {
                        *d = *s;
                    }
                    let key = (pas.to_string(), sid, ssid);
                    match what {
                        "STE" => {
                            self.ste.insert(key, w);
                        }
                        "CD" => {
                            self.cd.insert(key, w);
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }

    fn step(&mut self, i: usize, ex: &Exchange, meta: &Meta, all: &[Exchange]) -> Result2 {
        self.track_fetches(ex);
        match meta {
            Meta::Other | Meta::MemWrite { .. } => {}
            Meta::Id(k) => {
                let v = value(ex)? as u32;
                match IDS[*k].0 {
                    off::IDR0 => self.ids.idr0 = v,
                    off::IDR1 => self.ids.idr1 = v,
                    off::IDR3 => self.ids.idr3 = v,
                    off::IDR5 => self.ids.idr5 = v,
                    o if o == S_OFFSET + off::IDR0 => self.ids.s_idr0 = v,
                    _ => {}
                }
            }
            Meta::RegWrite { bank: Some(b), offset, size, value } => match (*offset, size) {
                (off::CR0, 4) => self.cr0[b.idx()] = *value as u32,
                (off::GERRORN, 4) => self.gerrorn_written[b.idx()] = true,
                _ => {}
            },
            Meta::RegWrite { bank: None, .. } => {}
            Meta::DmaTrigger { dev, iova, read, ssid, .. } => {
                self.dma = Some(PendingDma {
                    dev: usize::from(*dev),
                    iova: *iova,
                    read: *read,
                    ssid: *ssid,
                    at: i,
                    result: 0,
                    fault: 0,
                    done: 0,
                });
            }
            Meta::DmaResult => {
                if let Some(d) = &mut self.dma {
                    d.result = value(ex)? as u32;
                }
            }
            Meta::DmaFault => {
                if let Some(d) = &mut self.dma {
                    d.fault = value(ex)? as u32;
                }
            }
            Meta::DmaDone => {
                if let Some(d) = &mut self.dma {
                    d.done = value(ex)? as u32;
                }
            }
            Meta::Probe(iface, k) => {
                self.cur.set(*k, value(ex)?);
                if *k == PROBE.len() - 1 {
                    let new = self.cur;
                    self.probe_done(*iface, new, all)?;
                }
            }
        }
        Ok(())
    }

    fn probe_done(&mut self, iface: Iface, new: Regs, all: &[Exchange]) -> Result2 {
        let x = iface.idx();
        let name = iface.pas();
        // CR0ACK: the implemented bits of what software wrote.
        let mask = self.ids.cr0_mask(iface);
        let want = self.cr0[x] & mask;
        if new.cr0ack != want || new.cr0 & mask != want {
            return Err(Violation::new(
                "cr0ack",
                format!(
                    "{name}: CR0 written {:#x}, implemented bits {mask:#x}: read CR0 {:#x} \
                     CR0ACK {:#x} (want {want:#x})",
                    self.cr0[x], new.cr0, new.cr0ack
                ),
            ));
        }
        // GERROR toggles only inactive, architected bits.
        if new.gerror & !GERROR_BITS != 0 {
            return Err(Violation::new(
                "gerror-toggle",
                format!("{name}: GERROR {:#x} has bits outside the architected ones", new.gerror),
            ));
        }
        if let Some(old) = self.regs[x] {
            let toggled = old.gerror ^ new.gerror;
            let n = if self.gerrorn_written[x] {
                new.gerrorn
            } else {
                if new.gerrorn != old.gerrorn {
                    return Err(Violation::new(
                        "gerror-toggle",
                        format!(
                            "{name}: GERRORN changed {:#x} -> {:#x} without a write",
                            old.gerrorn, new.gerrorn
                        ),
                    ));
                }
                old.gerrorn
            };
            let was_active = (old.gerror ^ n) & toggled;
            if was_active != 0 {
                return Err(Violation::new(
                    "gerror-toggle",
                    format!(
                        "{name}: GERROR {:#x} -> {:#x} toggled {was_active:#x} while active \
                         (GERRORN {n:#x})",
                        old.gerror, new.gerror
                    ),
                ));
            }
        }
        self.gerrorn_written[x] = false;
        // SMMU-owned queue indexes stay within their wrap bit.
        let cq = cmdq_qs(&self.ids, new.cmdq_base);
        let eq = eventq_qs(&self.ids, new.eventq_base);
        let checks = [("CMDQ_CONS.RD", new.cmdq_cons, cq), ("EVENTQ_PROD.WR", new.eventq_prod, eq)];
        for (reg, v, qs) in checks {
            let high = v & Q_IDX_MASK & !queue_index_mask(qs);
            if high != 0 {
                return Err(Violation::new(
                    "queue-index",
                    format!(
                        "{name}: {reg} {:#x} has bits above the wrap bit of a queue of 2^{qs} \
                         entries (RAZ)",
                        v & Q_IDX_MASK
                    ),
                ));
            }
        }
        let before = self.regs[x];
        self.regs[x] = Some(new);
        if let Some(d) = self.dma.take()
            && let Some(before) = before
        {
            self.check_dma(&d, iface, &before, &new, &all[d.at])?;
        }
        Ok(())
    }

    fn check_dma(
        &self,
        d: &PendingDma,
        iface: Iface,
        b: &Regs,
        a: &Regs,
        ex: &Exchange,
    ) -> Result2 {
        let dev = self.input.machine.devs[d.dev];
        let pas = iface.pas();
        let fail = |check, what: String| {
            Err(Violation::new(
                check,
                format!("DMA by device {} (sid {:#x}, {pas}): {what}", d.dev, dev.sid),
            ))
        };
        let aborts: Vec<&Json> = ex.events("abort").collect();
        let events: Vec<&Json> =
            ex.events("event").filter(|e| str_field(e, "sec_sid") == Some(pas)).collect();
        let merged = ex
            .events("note")
            .filter(|e| str_field(e, "text").is_some_and(|t| t.contains("merged into")))
            .count();
        let aborted = d.result == itd::result::TX_FAIL && d.fault & itd::FAULT_ABORTED != 0;
        if aborted != (aborts.len() == 1) || aborts.len() > 1 {
            return fail(
                "dma-abort",
                format!(
                    "DMA_RESULT {:#x} DMA_FAULT {:#x} but {} abort(s) in the trace",
                    d.result,
                    d.fault,
                    aborts.len()
                ),
            );
        }
        let Some(abort) = aborts.first() else {
            if !events.is_empty() || merged != 0 {
                return fail("dma-abort", "an event record without an abort".into());
            }
            return Ok(());
        };
        let reason = str_field(abort, "reason").unwrap_or("");
        let ev = (d.fault & itd::FAULT_EVENT_MASK) as u8;
        let traced = str_field(abort, "event");
        if traced != (ev != 0).then(|| id::name(ev)) {
            return fail(
                "dma-abort",
                format!("DMA_FAULT names event {ev:#x}, the trace's abort names {traced:?}"),
            );
        }
        let qs = eventq_qs(&self.ids, b.eventq_base);
        let mask = queue_index_mask(qs);
        let (bp, bc, ap) = (b.eventq_prod & mask, b.eventq_cons & mask, a.eventq_prod & mask);
        let en = Cr0(b.cr0ack).eventqen();
        let abt_before = (b.gerror ^ b.gerrorn) & gerror::EVENTQ_ABT_ERR != 0;
        let abt_after = (a.gerror ^ a.gerrorn) & gerror::EVENTQ_ABT_ERR != 0;
        let full = (bp ^ bc) == mask & !(mask >> 1);
        if ev != 0 {
            // The record was written, discarded for an architected reason, or merged.
            match (events.as_slice(), merged) {
                ([e], 0) => {
                    let rec = EventRecord::from_words(words4(e));
                    let f = rec.fields();
                    if f.id != ev || f.sid != dev.sid {
                        return fail(
                            "dma-event",
                            format!("record {rec:?} is not {} for this StreamID", id::name(ev)),
                        );
                    }
                    // The fields the type defines describe the transaction that faulted: the
                    // one at byte DMA_DONE of the DMA.
                    let l = layout(ev);
                    let iova = d.iova.wrapping_add(u64::from(d.done));
                    let bad_input = l.input_addr && f.input_addr != iova;
                    let bad_rnw = l.rnw && f.rnw != d.read;
                    let bad_ssid = l.ssid == SsidField::WithSsv && f.ssid != d.ssid;
                    if bad_input || bad_rnw || bad_ssid {
                        return fail(
                            "dma-event",
                            format!(
                                "record {rec:?} ({f:?}) does not describe the transaction: IOVA \
                                 {iova:#x}, read {}, SubstreamID {:?}",
                                d.read, d.ssid
                            ),
                        );
                    }
                    match hex_field(e, "slot") {
                        Some(slot) => {
                            let (base, _) = QueueBase(b.eventq_base)
                                .effective(EVENT_SIZE, Idr1(self.ids.idr1).eventqs());
                            let oas = self.ids.oas_bits();
                            let want = (base + u64::from(bp & (mask >> 1)) * EVENT_SIZE)
                                & smmu::spec::genmask(oas - 1, 0);
                            if !en || abt_before || full || slot != want || ap != (bp + 1) & mask {
                                return fail(
                                    "dma-event",
                                    format!(
                                        "record written at {slot:#x} (want {want:#x}), EVENTQ_PROD \
                                         {bp:#x} -> {ap:#x}, CONS {bc:#x}, EVENTQEN {en}, \
                                         EVENTQ_ABT_ERR {abt_before}"
                                    ),
                                );
                            }
                        }
                        None => {
                            let aborted_write = abt_after && !abt_before;
                            if !(!en || abt_before || full || aborted_write) || ap != bp {
                                return fail(
                                    "dma-event",
                                    format!(
                                        "{} discarded without a reason: EVENTQEN {en}, \
                                         EVENTQ_ABT_ERR {abt_before}->{abt_after}, PROD {bp:#x} \
                                         -> {ap:#x}, CONS {bc:#x}",
                                        id::name(ev)
                                    ),
                                );
                            }
                        }
                    }
                }
                ([], 1) => {
                    if !self.input.machine.mev_merge || ap != bp {
                        return fail(
                            "dma-event",
                            format!(
                                "merged record without mev-merge or with PROD {bp:#x} -> {ap:#x}"
                            ),
                        );
                    }
                }
                _ => {
                    return fail(
                        "dma-event",
                        format!(
                            "abort names {} but the trace has {} record(s) and {merged} merge(s)",
                            id::name(ev),
                            events.len()
                        ),
                    );
                }
            }
            return Ok(());
        }
        // No event: the reason must be one the architecture lets go unrecorded.
        if !events.is_empty() || merged != 0 {
            return fail("silent-abort", format!("silent abort ({reason}) with a record"));
        }
        let smmuen = Cr0(b.cr0ack).smmuen();
        let key = (pas.to_string(), dev.sid, d.ssid);
        let ste = self.ste.get(&key).map(|w| Ste::from_words(*w));
        let cd = self.cd.get(&key).map(|w| Cd::from_words(*w));
        let s2_unrecorded = ste.is_some_and(|s| {
            let b = s.bits();
            b.config() & config::S2_BIT != 0 && !b.s2r()
        });
        let s1_unrecorded = cd.is_some_and(|c| !c.bits().r());
        let ok = match reason {
            "GBPA.ABORT" => !smmuen && Gbpa(b.gbpa).abort(),
            "STE.Config abort" => {
                smmuen
                    && ste.is_some_and(|s| {
                        s.bits().v() && s.bits().config() & config::TRANSLATE_BIT == 0
                    })
            }
            "C_BAD_STREAMID" => smmuen && !Cr2(b.cr2).recinvsid(),
            "F_ADDR_SIZE" if !smmuen => true,
            "F_TRANSLATION" | "F_ADDR_SIZE" | "F_ACCESS" | "F_PERMISSION" => {
                smmuen && (s1_unrecorded || s2_unrecorded)
            }
            _ => false,
        };
        if !ok {
            return fail(
                "silent-abort",
                format!(
                    "aborted ({reason}) without an event record and without an architected \
                     reason: SMMUEN {smmuen}, GBPA {:#x}, CR2 {:#x}, last STE {ste:?}, last CD \
                     {cd:?}",
                    b.gbpa, b.cr2
                ),
            );
        }
        Ok(())
    }
}

type Result2 = std::result::Result<(), Violation>;

fn value(ex: &Exchange) -> std::result::Result<u64, Violation> {
    ex.value().ok_or_else(|| {
        Violation::new("reply", format!("`{}` got `{}`, not a value", ex.request, ex.reply()))
    })
}

fn words4(e: &Json) -> [u64; 4] {
    let mut w = [0u64; 4];
    for (d, s) in w.iter_mut().zip(hexes_field(e, "record").unwrap_or_default()) {
        *d = s;
    }
    w
}

/// One replay: its exchanges.
fn replay(s: &Script) -> std::result::Result<Vec<Exchange>, Violation> {
    let out = run_script(&s.text(), &RunOptions { trace: TraceFormat::Json, build: build_machine });
    if let Some(f) = out.failures.first() {
        return Err(Violation::new("script", format!("replay failed: {f}")));
    }
    // Register accesses are known from the script itself.
    let ex = exchanges(&out.transcript, &["mmio"])?;
    if ex.len() != s.metas.len() {
        return Err(Violation::new(
            "script",
            format!("{} exchanges for {} requests", ex.len(), s.metas.len()),
        ));
    }
    Ok(ex)
}

/// Runs the architectural checks over one replay.
fn check_run(input: &Input, s: &Script, ex: &[Exchange]) -> Result2 {
    let mut c = Checker::new(input);
    for (i, (e, m)) in ex.iter().zip(&s.metas).enumerate() {
        c.step(i, e, m, ex).map_err(|mut v| {
            v.detail = format!("request {} `{}`: {}", i + 1, e.request, v.detail);
            v
        })?;
    }
    Ok(())
}

/// Byte ranges an exchange read as configuration or translation tables.
fn table_reads(ex: &Exchange) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    for e in &ex.trace {
        let len = match (str_field(e, "kind"), str_field(e, "what")) {
            (Some("fetch"), Some("STE" | "CD")) => 64,
            (Some("fetch"), _) | (Some("walk"), _) => 8,
            _ => continue,
        };
        if let Some(a) = hex_field(e, "addr") {
            v.push((a, len));
        }
    }
    v
}

/// Byte ranges an exchange wrote to memory (script writes, DMA outputs, records, MSIs).
fn memory_writes(ex: &Exchange, meta: &Meta) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    if let Meta::MemWrite { addr, len } = meta {
        v.push((*addr, *len));
    }
    let dma_write = match meta {
        Meta::DmaTrigger { read, len, .. } => (!read).then_some(u64::from(*len)),
        _ => None,
    };
    for e in &ex.trace {
        match str_field(e, "kind") {
            Some("output") => {
                if let (Some(len), Some(pa)) = (dma_write, hex_field(e, "pa")) {
                    v.push((pa, len));
                }
            }
            Some("event") => {
                if let Some(slot) = hex_field(e, "slot") {
                    v.push((slot, EVENT_SIZE));
                }
            }
            Some("msi") => {
                if let Some(a) = hex_field(e, "addr") {
                    v.push((a, 4));
                }
            }
            _ => {}
        }
    }
    v
}

/// Whether a request rewrites what locates the tables (STRTAB_BASE, STRTAB_BASE_CFG, CR2).
fn relocates_tables(meta: &Meta) -> bool {
    let Meta::RegWrite { bank: Some(_), offset, size, .. } = meta else {
        return false;
    };
    let o = *offset;
    let end = o + u64::from(*size);
    let hit = |start: u64, len: u64| o < start + len && start < end;
    hit(off::STRTAB_BASE, 8) || hit(off::STRTAB_BASE_CFG, 4) || hit(off::CR2, 4)
}

/// The translation configuration one DMA used, from the STE and CD it fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Context {
    pas: String,
    /// VMID tag: S2VMID with stage 2 (its low byte, to group coarsely), else 0.
    vmid: u64,
    /// ASID tag; `None` when entries carry none (stage 2 only, EL2 and EL3 StreamWorlds).
    asid: Option<u64>,
    /// What decides the translation: the STE without S1ContextPtr, then the CD.
    key: Vec<u64>,
    /// A stage-1 walk ended at a global (nG = 0) leaf.
    global: bool,
}

impl Context {
    /// Whether TLB entries of the two may match each other's lookups: the same VMID tag and
    /// the same ASID, or an entry without ASID (global, or a world without ASIDs).
    fn may_share_tlb(&self, other: &Context) -> bool {
        self.pas == other.pas
            && self.vmid == other.vmid
            && (self.asid.is_none()
                || other.asid.is_none()
                || self.asid == other.asid
                || self.global
                || other.global)
    }
}

/// The translation configurations the DMAs of an exchange used.
fn dma_contexts(ex: &Exchange) -> Vec<Context> {
    let mut out = Vec::new();
    let mut cur: Option<Context> = None;
    for ev in &ex.trace {
        match (str_field(ev, "kind"), str_field(ev, "what")) {
            (Some("dma"), _) => out.extend(cur.take()),
            (Some("fetch"), Some(what @ ("STE" | "CD"))) => {
                let (Some(pas), Some(raw)) = (str_field(ev, "pas"), hexes_field(ev, "raw")) else {
                    continue;
                };
                let mut w = [0u64; 8];
                for (d, s) in w.iter_mut().zip(&raw) {
                    *d = *s;
                }
                if what == "STE" {
                    let ste = Ste::from_words(w);
                    let b = ste.bits();
                    cur = Some(Context {
                        pas: pas.to_string(),
                        vmid: if b.config() & config::S2_BIT != 0 { b.s2vmid() & 0xff } else { 0 },
                        asid: None,
                        key: vec![w[0] & !smmu::spec::genmask(55, 6), w[1], w[2], w[3]],
                        global: false,
                    });
                } else if let Some(c) = &mut cur {
                    let ste = Ste::from_words([c.key[0], c.key[1], 0, 0, 0, 0, 0, 0]);
                    let el1 = ste.bits().strw() == smmu::spec::ste::strw::EL1;
                    c.asid = el1.then(|| Cd::from_words(w).bits().asid());
                    c.key.extend_from_slice(&w);
                }
            }
            (Some("walk"), _) => {
                let leaf = matches!(str_field(ev, "desc_kind"), Some("page" | "block"));
                if let (Some(c), Some("s1"), true, Some(d)) =
                    (&mut cur, str_field(ev, "stage"), leaf, hex_field(ev, "desc"))
                {
                    c.global |= !Desc(d).ng();
                }
            }
            _ => {}
        }
    }
    out.extend(cur);
    out
}

/// Index of the first request after which the two replays may legitimately differ.
fn divergence_point(metas: &[Meta], runs: [&[Exchange]; 2]) -> usize {
    // Table bytes read so far, as 8-byte granules.
    let mut read: BTreeSet<u64> = BTreeSet::new();
    // Every translation configuration seen so far.
    let mut contexts: Vec<Context> = Vec::new();
    for (i, meta) in metas.iter().enumerate() {
        // A different configuration whose TLB entries may serve this one (or the reverse):
        // software must keep such address spaces consistent, so caches may show either.
        for run in runs {
            for c in dma_contexts(&run[i]) {
                match contexts.iter_mut().find(|s| s.key == c.key && s.pas == c.pas) {
                    Some(seen) => seen.global |= c.global,
                    None => contexts.push(c),
                }
            }
        }
        let aliased = contexts
            .iter()
            .enumerate()
            .any(|(a, x)| contexts[a + 1..].iter().any(|y| x.key != y.key && x.may_share_tlb(y)));
        if aliased {
            return i;
        }
        for run in runs {
            for (a, len) in table_reads(&run[i]) {
                for g in (a & !7..a.saturating_add(len)).step_by(8) {
                    read.insert(g);
                }
            }
        }
        if !read.is_empty() && relocates_tables(meta) {
            return i;
        }
        for run in runs {
            for (a, len) in memory_writes(&run[i], meta) {
                let end = a.saturating_add(len);
                if read.range(a & !7..end).next().is_some() {
                    return i;
                }
            }
        }
    }
    metas.len()
}

/// Replays the input under both cache policies and checks every oracle (see the module
/// documentation).
pub fn check(input: &Input) -> Result2 {
    let never = script(input, Policy::Never);
    let normal = script(input, Policy::Normal);
    let ex_never = replay(&never)?;
    let ex_normal = replay(&normal)?;
    check_run(input, &normal, &ex_normal)?;
    check_run(input, &never, &ex_never).map_err(|mut v| {
        v.detail = format!("(cache-policy=never) {}", v.detail);
        v
    })?;
    let stop = divergence_point(&normal.metas, [&ex_normal, &ex_never]);
    for i in 0..stop {
        let outcome = |e: &Exchange| -> Vec<String> {
            e.trace
                .iter()
                .filter(|ev| matches!(str_field(ev, "kind"), Some("abort" | "event")))
                .map(Json::to_text)
                .collect()
        };
        let (a, b) = (outcome(&ex_normal[i]), outcome(&ex_never[i]));
        if a != b {
            return Err(Violation::new(
                "cache-differential",
                format!(
                    "request {} `{}`: aborts and records {a:?} with caches, {b:?} with \
                     cache-policy=never, and no table memory changed since the SMMU read it",
                    i + 1,
                    ex_normal[i].request,
                ),
            ));
        }
        if ex_normal[i].replies != ex_never[i].replies {
            return Err(Violation::new(
                "cache-differential",
                format!(
                    "request {} `{}`: {:?} with caches, {:?} with cache-policy=never, and no \
                     table memory changed since the SMMU read it",
                    i + 1,
                    ex_normal[i].request,
                    ex_normal[i].replies,
                    ex_never[i].replies
                ),
            ));
        }
    }
    Ok(())
}

/// [`check`], panicking on a violation (what a fuzz target calls).
pub fn oracle(input: &Input) {
    if let Err(v) = check(input) {
        panic!("smmu_ops oracle: {v}\n--- reproducer script ---\n{input:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Machine {
        Machine {
            preset: Preset::QemuVirt,
            mev_merge: false,
            devs: vec![Dev { sid: 8, secure: false }],
        }
    }

    fn bringup() -> Bringup {
        Bringup {
            iface: Iface::Ns,
            gbpa: 0x8000_0000,
            cmdq_base: (WIN + 0x3_0000) | 4,
            eventq_base: (WIN + 0x3_1000) | 4,
            strtab_base: WIN,
            strtab_cfg: 5,
            cr2: 2,
            irq_ctrl: 0,
            cr0: 0xd,
        }
    }

    /// The demo's stage-1 translation: STE, CD, a 4-level mapping of 0x4567, a DMA.
    fn translated_dma() -> Input {
        let ste = SteGen {
            v: true,
            config: config::S1_TRANS,
            s1fmt: 0,
            s1cdmax: 0,
            s1dss: 0,
            ctx: WIN + 0x1000,
            strw: 0,
            mev: false,
            s1stalld: false,
            eats: 0,
            nscfg: 0,
            privcfg: 0,
            instcfg: 0,
            s2vmid: 0,
            s2t0sz: 0,
            s2sl0: 0,
            s2tg: 0,
            s2ps: 0,
            s2aa64: false,
            s2r: false,
            s2ptw: false,
            s2affd: false,
            s2ttb: 0,
            flips: vec![],
        };
        let cd = CdGen {
            v: true,
            t0sz: 16,
            tg0: 0,
            epd0: false,
            t1sz: 16,
            tg1: 2,
            epd1: true,
            ips: 4,
            aa64: true,
            r: true,
            a: true,
            s: false,
            asid: 1,
            ttb0: WIN + 0x2000,
            ttb1: 0,
            mair0: 0,
            flips: vec![],
        };
        let map = MapGen {
            stage: Stage::S1,
            dev: 0,
            ssid: 0,
            iova: 0x4567,
            out: DATA,
            leaf: 3,
            tables: [WIN + 0x2000, WIN + 0x3000, WIN + 0x4000, WIN + 0x5000],
            attrs: 0b101,
            flips: vec![],
        };
        let dma = DmaOp {
            dev: 0,
            iova: 0x4567,
            len: 4,
            read: false,
            pnu: false,
            ind: false,
            ssid: None,
            attrs: 2,
            gpa: None,
            pattern: 0,
        };
        Input {
            machine: machine(),
            ops: vec![
                Op::Bringup(bringup()),
                Op::Ste { iface: Iface::Ns, sid: 8, ste },
                Op::Cd { iface: Iface::Ns, sid: 8, ssid: 0, cd },
                Op::Map(map),
                Op::Dma(dma.clone()),
                Op::Dma(dma),
            ],
        }
    }

    fn dma_results(input: &Input, policy: Policy) -> Vec<u64> {
        let s = script(input, policy);
        let ex = replay(&s).unwrap();
        ex.iter()
            .zip(&s.metas)
            .filter(|(_, m)| matches!(m, Meta::DmaResult))
            .map(|(e, _)| e.value().unwrap())
            .collect()
    }

    #[test]
    fn the_demo_translation_succeeds_twice_and_passes_every_oracle() {
        let i = translated_dma();
        assert_eq!(dma_results(&i, Policy::Normal), [0, 0]);
        assert_eq!(check(&i), Ok(()));
    }

    #[test]
    fn debug_is_the_script_with_its_command_line() {
        let text = format!("{:?}", translated_dma());
        assert!(
            text.contains("# args: -machine virt,acpi=off,gic-version=3,iommu=smmuv3 -m 512\n")
        );
        assert!(text.contains("# args: -device iommu-testdev,addr=1,sid=0x8\n"));
        assert!(text.contains("writel 0x9050020 0xd\n"), "{text}");
    }

    #[test]
    fn a_fault_without_a_stream_table_is_recorded() {
        // STE 8 never written: V=0 reads as C_BAD_STE, recorded in the event queue.
        let mut i = translated_dma();
        i.ops.remove(1);
        let s = script(&i, Policy::Normal);
        let ex = replay(&s).unwrap();
        let fault = ex.iter().zip(&s.metas).find(|(_, m)| matches!(m, Meta::DmaFault)).unwrap();
        assert_eq!(fault.0.value(), Some(u64::from(itd::FAULT_ABORTED) | 0x04));
        assert_eq!(check(&i), Ok(()));
    }

    #[test]
    fn a_record_with_eventqen_clear_must_be_discarded_and_is() {
        let mut i = translated_dma();
        let Op::Bringup(b) = &mut i.ops[0] else { unreachable!() };
        b.cr0 = 0x9;
        i.ops.remove(1);
        assert_eq!(check(&i), Ok(()));
    }

    #[test]
    fn without_table_changes_the_differential_covers_every_request() {
        let i = translated_dma();
        let s = script(&i, Policy::Normal);
        let ex = replay(&s).unwrap();
        assert_eq!(divergence_point(&s.metas, [&ex, &ex]), s.metas.len());
    }

    #[test]
    fn a_table_write_after_a_walk_stops_the_differential() {
        let mut i = translated_dma();
        // Rewrite the level-3 descriptor of 0x4567 after the first DMA walked it.
        i.ops.insert(5, Op::Raw { addr: WIN + 0x5000 + 4 * 8, bytes: vec![0; 8] });
        let s = script(&i, Policy::Normal);
        let ex = replay(&s).unwrap();
        let at = divergence_point(&s.metas, [&ex, &ex]);
        assert!(matches!(s.metas[at], Meta::MemWrite { addr, .. } if addr == WIN + 0x5020));
    }

    /// The demo translation for StreamID 8, then StreamID 16 with its own CD (ASID 2, another
    /// TTB0) and a DMA of the same IOVA; the mapping's leaf is global unless `ng`.
    fn two_address_spaces(ng: bool) -> Input {
        let mut i = translated_dma();
        i.machine.devs.push(Dev { sid: 16, secure: false });
        let Op::Ste { ste, .. } = i.ops[1].clone() else { unreachable!() };
        let Op::Cd { mut cd, .. } = i.ops[2].clone() else { unreachable!() };
        let Op::Map(map) = &mut i.ops[3] else { unreachable!() };
        if ng {
            map.attrs |= 1 << 4;
        }
        let Op::Dma(mut dma) = i.ops[4].clone() else { unreachable!() };
        cd.asid = 2;
        cd.ttb0 = WIN + 0x6000;
        dma.dev = 1;
        i.ops.push(Op::Ste { iface: Iface::Ns, sid: 16, ste: SteGen { ctx: WIN + 0x1040, ..ste } });
        i.ops.push(Op::Cd { iface: Iface::Ns, sid: 16, ssid: 0, cd });
        i.ops.push(Op::Dma(dma));
        i
    }

    #[test]
    fn a_global_entry_of_another_address_space_under_the_same_vmid_stops_the_differential() {
        let i = two_address_spaces(false);
        let s = script(&i, Policy::Never);
        let ex = replay(&s).unwrap();
        let at = divergence_point(&s.metas, [&ex, &ex]);
        assert!(matches!(s.metas[at], Meta::DmaTrigger { dev: 1, .. }), "{:?}", s.metas[at]);
    }

    #[test]
    fn address_spaces_with_distinct_asids_and_no_global_entries_stay_compared() {
        let i = two_address_spaces(true);
        let s = script(&i, Policy::Never);
        let ex = replay(&s).unwrap();
        assert_eq!(divergence_point(&s.metas, [&ex, &ex]), s.metas.len());
    }

    /// Found by this oracle: EVENTQ_PROD bits above the wrap bit that software wrote must read
    /// as zero (§6.3.31), as `regressions/queue-index-high-bits-raz.qtest` shows.
    #[test]
    fn eventq_prod_bits_above_the_wrap_bit_that_software_wrote_read_as_zero() {
        let mut i = translated_dma();
        // EVENTQEN clear, then EVENTQ_PROD = 0x100 on a 16-entry queue (wrap bit 4).
        i.ops.push(Op::Reg(RegWrite { offset: off::CR0, size: 4, value: 0x1, secure: false }));
        i.ops.push(Op::Reg(RegWrite {
            offset: PAGE1 + off::EVENTQ_PROD,
            size: 4,
            value: 0x100,
            secure: false,
        }));
        let s = script(&i, Policy::Normal);
        let ex = replay(&s).unwrap();
        assert_eq!(check_run(&i, &s, &ex), Ok(()));
    }

    #[test]
    fn cr0_mask_of_qemu_virt_is_smmuen_eventqen_cmdqen() {
        // QEMU 11.0 virt IDR0 0x0d44101b: no PRI, ATS or VMW; IDR3 0x1414: no DPT.
        let ids = Ids { idr0: 0x0d44_101b, idr3: 0x1414, ..Ids::default() };
        assert_eq!(ids.cr0_mask(Iface::Ns), 0xd);
    }

    #[test]
    fn start_levels_follow_the_granule_and_input_size() {
        assert_eq!(s1_start_level(12, 48), 0);
        assert_eq!(s1_start_level(12, 39), 1);
        assert_eq!(s1_start_level(16, 48), 1);
        assert_eq!(s1_start_level(14, 48), 0);
        assert_eq!(s1_start_level(14, 47), 1);
        assert_eq!(s2_start_level(12, 2), 0);
        assert_eq!(s2_start_level(16, 0), 3);
    }
}
