//! Translation table walks: AArch64 stage 1, stage 2, and nested (stage 1 table addresses and
//! output translated through stage 2). Granules 4K, 16K and 64K.
//!
//! The walker is pure: it takes validated, decoded configurations ([`S1Cfg`], [`S2Cfg`]) and
//! reads descriptors through [`PhysMem`](crate::mem::PhysMem). STE/CD validation happens before
//! (`stream`, `context`); caching happens around it (`tlb`).
//!
//! Entry points: [`walk_s1`] (stage 1, nested when given a stage-2 config), [`walk_s2`],
//! [`s2_start`] (also used by the STE validator) and [`s1_start_level`]. Every descriptor read is
//! traced as a `TraceEvent::WalkStep`; nothing allocates unless the trace sink does.
//!
//! Scope: VMSAv8-64 descriptors with 48-bit input and output addresses (no FEAT_LPA/LPA2, no
//! TTST, no HTTU), little-endian tables. Stage-1 permissions follow the configuration's
//! [`Regime`]: two privilege levels (EL1&0, EL2&0) checked by PnU, or one (EL2, EL3).

mod geometry;
mod s1;
mod s2;
mod ttw;

#[cfg(test)]
mod tests;

pub(crate) use geometry::fits;
pub use geometry::{S2_MAX_CONCAT, TSZ_MAX, TSZ_MIN, s1_start_level, s2_start};
pub use s1::walk_s1;
pub use s2::walk_s2;

use crate::pas::Pas;
use crate::trace::Perms;

/// Translation granule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Granule {
    G4K,
    G16K,
    G64K,
}

impl Granule {
    /// log2 of the granule size.
    pub fn shift(self) -> u32 {
        match self {
            Granule::G4K => 12,
            Granule::G16K => 14,
            Granule::G64K => 16,
        }
    }
}

/// The access being translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    /// Read (true) or write (false).
    pub rnw: bool,
    /// Privileged.
    pub pnu: bool,
    /// Instruction fetch. Writes are always data accesses (IHI 0070 §13.1.2): the walker ignores
    /// `ind` when `rnw` is false.
    pub ind: bool,
}

impl Access {
    /// Whether this access is an instruction fetch (an instruction read).
    pub fn is_fetch(self) -> bool {
        self.ind && self.rnw
    }
}

/// Whether `perms` allow `acc`: execute for an instruction fetch (read permission is not
/// needed), read for a data read, write for a write.
pub fn permits(perms: Perms, acc: Access) -> bool {
    if acc.is_fetch() {
        perms.exec
    } else if acc.rnw {
        perms.read
    } else {
        perms.write
    }
}

/// One stage-1 translation table (TTB0 or TTB1 region).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct S1Table {
    /// Table base address (an IPA when nested).
    pub ttb: u64,
    /// TxSZ: the region covers 2^(64-TxSZ) bytes.
    pub tsz: u32,
    pub granule: Granule,
    /// HADx: APTable (and the XN table bits) ignored.
    pub had: bool,
    /// PAS of the walk's first table (NSCFGx for Secure streams; NS otherwise).
    pub walk_pas: Pas,
}

/// The stage-1 translation regime a configuration belongs to, which selects the permission
/// model of its descriptors (IHI 0070 §3.3.4, §3.17.5, §5.4; the VMSAv8-64 stage 1 permission
/// model of the A-profile architecture).
///
/// - `El1` (NS-EL1, Secure, Realm-EL1) and `El2E2h` (any-EL2-E2H, EL2&0) have two privilege
///   levels: AP\[1\] grants unprivileged access, PXN and UXN split execute permission by PnU,
///   APTable\[0\] removes unprivileged access, PAN applies, and a location writable by
///   unprivileged accesses is never executable by privileged ones.
/// - `El2` (any-EL2 without E2H) and `El3` have one: privilege checks are ignored, so every
///   access gets the same permissions whatever its PnU. AP\[1\] is treated as 1 (read is always
///   permitted, AP\[2\] alone removes write), descriptor bit 54 is XN and table bit 60 XNTable,
///   while PXN (bit 53), PXNTable (bit 59) and APTable\[0\] (bit 61) are reserved and ignored;
///   PAN and UWXN have no effect. WXN still makes writable locations execute-never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Regime {
    #[default]
    El1,
    El2,
    El2E2h,
    El3,
}

impl Regime {
    /// Whether the regime has a single privilege level (PnU does not affect permissions).
    pub fn one_privilege_level(self) -> bool {
        matches!(self, Regime::El2 | Regime::El3)
    }
}

/// A validated stage-1 configuration (from a CD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct S1Cfg {
    /// TTB0 and TTB1 regions; `None` when EPDx=1 (walks of that region fault).
    pub tables: [Option<S1Table>; 2],
    /// TBI0 / TBI1, needed even for a disabled region to pick TTB0 or TTB1.
    pub tbi: [bool; 2],
    /// Effective output (IPA or PA) size in bits: min(CD.IPS, IDR5.OAS).
    pub oas_bits: u32,
    /// Access flag faults disabled (AFFD).
    pub affd: bool,
    /// CD.R: record stage-1 F_TRANSLATION/F_ADDR_SIZE/F_ACCESS/F_PERMISSION.
    pub record: bool,
    pub asid: u16,
    pub wxn: bool,
    pub pan: bool,
    /// The translation regime: the permission model of the descriptors.
    pub regime: Regime,
}

/// A validated stage-2 configuration (from an STE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct S2Cfg {
    pub ttb: u64,
    /// S2T0SZ: the IPA space covers 2^(64-S2T0SZ) bytes.
    pub t0sz: u32,
    /// S2SL0 as encoded in the STE.
    pub sl0: u32,
    pub granule: Granule,
    /// Effective output size in bits: min(S2PS, IDR5.OAS).
    pub ps_bits: u32,
    /// Access flag faults disabled (S2AFFD).
    pub affd: bool,
    /// STE.S2R: record stage-2 faults (including those met during stage-1 walks and CD fetches).
    pub record: bool,
    pub vmid: u16,
    /// FEAT_XNX: S2 XN[1:0] split by PnU (IDR3.XNX).
    pub xnx: bool,
    /// PAS of stage-2 table walks.
    pub walk_pas: Pas,
    /// PAS of stage-2 output.
    pub out_pas: Pas,
}

/// A successful walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WalkResult {
    /// Output address of the input address (not of the block base).
    pub oa: u64,
    /// Size of the mapping (page or block, combined minimum when nested).
    pub size: u64,
    /// What the mapping allows accesses of the walked access's privilege (PnU) to do: read and
    /// write for data, exec for instruction fetches. Both stages intersected when nested.
    pub perms: Perms,
    pub pas: Pas,
    /// Stage-1 nG (entries are ASID-specific).
    pub ng: bool,
    /// Level of the leaf descriptor (of the last stage walked).
    pub level: u8,
    /// Stage-1 permissions of the leaf for accesses of the walked access's privilege, before
    /// any intersection with stage 2; `None` when stage 1 was not walked (stage 2 only).
    pub s1_perms: Option<Perms>,
    /// Stage-2 permissions of the leaf for accesses of the walked access's privilege; `None`
    /// when stage 2 was not walked (stage 1 only).
    pub s2_perms: Option<Perms>,
    /// The IPA of the input address, the address stage 2 translated (the input address itself
    /// for a stage-2-only walk, the stage-1 output when nested); 0 when stage 2 was not walked.
    /// A stage-2 fault on this address reports it.
    pub ipa: u64,
}

/// A fault met while walking, before the pipeline fills in StreamID, SubstreamID and InputAddr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fault {
    /// Event type (F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION, F_WALK_EABT, ...).
    pub id: u8,
    /// The fault belongs to stage 2.
    pub s2: bool,
    /// CLASS: CD, TT or IN (`spec::event::class`).
    pub class: u64,
    /// IPA for stage-2 faults (words 6-7), or 0.
    pub ipa: u64,
    /// Descriptor address for F_WALK_EABT (words 6-7 FetchAddr), or 0.
    pub fetch_addr: u64,
    /// Whether the event is recorded (CD.R / STE.S2R; always for F_WALK_EABT).
    pub record: bool,
    /// TTRnW for a stage-2 permission fault on a stage-1 table walk (CLASS=TT).
    pub ttrnw: bool,
}
