//! Stage-2 walks (IPA to PA).

use super::geometry::{fits, low_mask, s2_start};
use super::ttw::{self, Start};
use super::{Access, Fault, S2Cfg, WalkResult, permits};
use crate::mem::PhysMem;
use crate::spec::desc::{Desc, s2ap, s2xn};
use crate::spec::event::{class as event_class, id};
use crate::trace::{Perms, Stage, TraceSink};

/// Stage-2 permissions of a leaf for accesses of the given privilege.
pub(super) fn s2_perms(desc: Desc, xnx: bool, privileged: bool) -> Perms {
    let ap = desc.s2ap();
    let xn = desc.s2xn();
    let exec = if xnx {
        match xn {
            s2xn::EXEC => true,
            s2xn::PXN => !privileged,
            s2xn::UXN => privileged,
            _ => false,
        }
    } else {
        xn & s2xn::XN1 == 0
    };
    Perms { read: ap & s2ap::READ != 0, write: ap & s2ap::WRITE != 0, exec }
}

/// Translates `ipa` through stage 2 for `acc`.
///
/// `class` is the CLASS to report faults with: `IN` for a transaction's IPA, `TT` for a stage-1
/// descriptor fetch, `CD` for a CD fetch. Every fault has `s2 = true` and `ipa = ipa`; F_WALK_EABT
/// is always recorded, the others when STE.S2R is set. A configuration [`s2_start`] rejects (the
/// STE validator should not let one through) faults as a stage-2 F_TRANSLATION.
///
/// The result's `perms` (and `s2_perms`) hold for accesses with the privilege of `acc`; `pas` is
/// the configured output PAS, `ipa` is `ipa`.
pub fn walk_s2<M: PhysMem + ?Sized, T: TraceSink + ?Sized>(
    cfg: &S2Cfg,
    ipa: u64,
    acc: Access,
    class: u64,
    mem: &mut M,
    trace: &mut T,
) -> Result<WalkResult, Fault> {
    let fault = |fid: u8, fetch_addr: u64| Fault {
        id: fid,
        s2: true,
        class,
        ipa,
        fetch_addr,
        record: fid == id::F_WALK_EABT || cfg.record,
        ttrnw: false,
    };
    let Some((level, _concat)) = s2_start(cfg) else {
        return Err(fault(id::F_TRANSLATION, 0));
    };
    let input_bits = 64 - cfg.t0sz;
    if !fits(ipa, input_bits) {
        return Err(fault(id::F_TRANSLATION, 0));
    }
    let start = Start::new(cfg.granule, level, input_bits, cfg.ttb);
    let walk_pas = cfg.walk_pas;
    let leaf = ttw::walk(
        Stage::S2,
        start,
        ipa,
        cfg.ps_bits,
        mem,
        trace,
        |_, _, addr, _| Ok((addr, walk_pas)),
        fault,
    )?;
    if !leaf.desc.af() && !cfg.affd {
        return Err(fault(id::F_ACCESS, 0));
    }
    let perms = s2_perms(leaf.desc, cfg.xnx, acc.pnu);
    if !permits(perms, acc) {
        return Err(Fault {
            ttrnw: class == event_class::TT && acc.rnw,
            ..fault(id::F_PERMISSION, 0)
        });
    }
    Ok(WalkResult {
        oa: leaf.base | (ipa & low_mask(leaf.size_shift)),
        size: 1u64 << leaf.size_shift,
        perms,
        pas: cfg.out_pas,
        ng: false,
        level: leaf.level,
        s1_perms: None,
        s2_perms: Some(perms),
        ipa,
    })
}
