//! Stage-1 walks (VA to IPA or PA), alone or nested in stage 2.

use super::geometry::{low_mask, s1_start_level};
use super::s2::walk_s2;
use super::ttw::{self, Start};
use super::{Access, Fault, S1Cfg, S2Cfg, WalkResult, permits};
use crate::mem::PhysMem;
use crate::pas::Pas;
use crate::spec::desc::{Desc, ap, ap_table, va};
use crate::spec::event::{class, id};
use crate::spec::genmask;
use crate::trace::{Perms, Stage, TraceSink};

/// Stage-1 permissions (direct permissions) of a leaf for accesses of the given privilege, in
/// the configuration's regime. `tables` holds the hierarchical attributes, ignored when `had`.
pub(super) fn s1_perms(
    cfg: &S1Cfg,
    desc: Desc,
    tables: Desc,
    had: bool,
    privileged: bool,
) -> Perms {
    if cfg.regime.one_privilege_level() {
        return one_level_perms(cfg, desc, tables, had);
    }
    let ap = desc.ap();
    let mut ur = ap & ap::EL0 != 0;
    let mut pw = ap & ap::RO == 0;
    let mut uw = ur && pw;
    let (ap_tbl, pxn_tbl, uxn_tbl) = if had {
        (0, false, false)
    } else {
        (tables.ap_table(), tables.pxn_table(), tables.uxn_table())
    };
    if ap_tbl & ap_table::NO_EL0 != 0 {
        ur = false;
        uw = false;
    }
    if ap_tbl & ap_table::NO_WRITE != 0 {
        pw = false;
        uw = false;
    }
    // Locations writable by unprivileged accesses are never executable by privileged ones.
    let mut px = !(desc.pxn() || pxn_tbl || uw);
    let mut ux = !(desc.uxn() || uxn_tbl);
    if cfg.wxn {
        px &= !pw;
        ux &= !uw;
    }
    if privileged {
        // PAN removes privileged data access to anything unprivileged accesses may reach.
        let pan = cfg.pan && ur;
        Perms { read: !pan, write: pw && !pan, exec: px }
    } else {
        Perms { read: ur, write: uw, exec: ux }
    }
}

/// Permissions of a leaf in a regime with one privilege level (EL2 without E2H, EL3): AP\[1\]
/// is treated as 1, bit 54 is XN and table bit 60 XNTable; PXN, PXNTable and APTable\[0\] are
/// reserved and ignored; PAN does not apply. The result holds for every access.
fn one_level_perms(cfg: &S1Cfg, desc: Desc, tables: Desc, had: bool) -> Perms {
    let (ap_tbl, xn_tbl) = if had { (0, false) } else { (tables.ap_table(), tables.uxn_table()) };
    let write = desc.ap() & ap::RO == 0 && ap_tbl & ap_table::NO_WRITE == 0;
    let mut exec = !(desc.uxn() || xn_tbl);
    if cfg.wxn {
        exec &= !write;
    }
    Perms { read: true, write, exec }
}

/// A stage-1 descriptor fetch as stage 2 sees it: a privileged data read.
const TT_READ: Access = Access { rnw: true, pnu: true, ind: false };

/// Output PAS of a stage-1-only translation: a Secure walk turns Non-secure at an NSTable or a
/// leaf NS bit; any other walk PAS is the output PAS.
fn s1_out_pas(walk_pas: Pas, ns: bool) -> Pas {
    if walk_pas == Pas::Secure && ns { Pas::NonSecure } else { walk_pas }
}

/// Translates `va` through stage 1 for `acc`, and through stage 2 as well when `s2` is given.
///
/// With `s2`, the TTB, every table address and the output are IPAs: each descriptor address goes
/// through stage 2 with CLASS=TT (as a privileged data read, so a stage-2 permission fault there
/// has TTRnW=1), and the output with CLASS=IN and the access of `acc`. Stage-1 faults carry
/// `record = cfg.record` (F_WALK_EABT: always, with CLASS=TT and the descriptor's PA).
///
/// The result's `perms` hold for accesses with the privilege of `acc` (both stages intersected,
/// and each stage's own in `s1_perms` and `s2_perms`), `size` is the smaller of the two mappings,
/// `oa` is the output address of `va` itself and, when nested, `ipa` its stage-1 output.
pub fn walk_s1<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
    cfg: &S1Cfg,
    s2: Option<&S2Cfg>,
    va: u64,
    acc: Access,
    mem: &mut M,
    trace: &mut T,
) -> Result<WalkResult, Fault> {
    let fault = |fid: u8, fetch_addr: u64| Fault {
        id: fid,
        s2: false,
        class: if fid == id::F_WALK_EABT { class::TT } else { class::IN },
        ipa: 0,
        fetch_addr,
        record: fid == id::F_WALK_EABT || cfg.record,
        ttrnw: false,
    };
    let sel = ((va >> va::TTB_SELECT_BIT) & 1) as usize;
    let Some(tt) = cfg.tables[sel] else {
        return Err(fault(id::F_TRANSLATION, 0));
    };
    let Some(level) = s1_start_level(tt.tsz, tt.granule) else {
        return Err(fault(id::F_TRANSLATION, 0));
    };
    let input_bits = 64 - tt.tsz;
    let top = if cfg.tbi[sel] { va::TOP_BYTE_SHIFT } else { 64 };
    let upper = genmask(top - 1, input_bits);
    let expected = if sel == 1 { upper } else { 0 };
    if va & upper != expected {
        return Err(fault(id::F_TRANSLATION, 0));
    }

    let start = Start::new(tt.granule, level, input_bits, tt.ttb);
    let walk_pas = tt.walk_pas;
    // A descriptor address is a PA in the walk's PAS, or with stage 2 an IPA to translate first.
    let locate = |mem: &mut M, trace: &mut T, addr: u64, tables: Desc| match s2 {
        None => Ok((addr, s1_out_pas(walk_pas, tables.ns_table()))),
        Some(s2) => walk_s2(s2, addr, TT_READ, class::TT, mem, trace).map(|r| (r.oa, r.pas)),
    };
    let leaf = ttw::walk(Stage::S1, start, va, cfg.oas_bits, mem, trace, locate, fault)?;

    if !leaf.desc.af() && !cfg.affd {
        return Err(fault(id::F_ACCESS, 0));
    }
    let perms = s1_perms(cfg, leaf.desc, leaf.tables, tt.had, acc.pnu);
    if !permits(perms, acc) {
        return Err(fault(id::F_PERMISSION, 0));
    }
    let out = leaf.base | (va & low_mask(leaf.size_shift));
    let size = 1u64 << leaf.size_shift;
    let ng = leaf.desc.ng();
    match s2 {
        None => Ok(WalkResult {
            oa: out,
            size,
            perms,
            pas: s1_out_pas(walk_pas, leaf.tables.ns_table() || leaf.desc.ns()),
            ng,
            level: leaf.level,
            s1_perms: Some(perms),
            s2_perms: None,
            ipa: 0,
        }),
        Some(s2) => {
            let r = walk_s2(s2, out, acc, class::IN, mem, trace)?;
            Ok(WalkResult {
                oa: r.oa,
                size: size.min(r.size),
                perms: Perms {
                    read: perms.read && r.perms.read,
                    write: perms.write && r.perms.write,
                    exec: perms.exec && r.perms.exec,
                },
                pas: r.pas,
                ng,
                level: r.level,
                s1_perms: Some(perms),
                s2_perms: r.s2_perms,
                ipa: r.ipa,
            })
        }
    }
}
