//! The descriptor loop shared by both stages: index, fetch, trace, classify, follow tables.
//!
//! Per level it raises, in this order, F_WALK_EABT (the fetch failed), F_TRANSLATION (invalid or
//! reserved descriptor) and F_ADDR_SIZE (next-level table or output address too wide). What a
//! descriptor address means (a PA, or an IPA to translate first) is the caller's `locate`.

use super::geometry::{FINAL_LEVEL, fits, low_mask};
use super::{Fault, Granule};
use crate::mem::{PhysMem, read_u64};
use crate::pas::Pas;
use crate::spec::desc::{DESC_SHIFT, Desc};
use crate::spec::event::id;
use crate::trace::{DescKind, Stage, TraceEvent, TraceSink, emit};

/// Where a walk starts.
#[derive(Clone, Copy, Debug)]
pub(super) struct Start {
    pub granule: Granule,
    pub level: u8,
    /// Input address bits resolved by the start level (concatenated tables included).
    pub bits: u32,
    /// Start table base, already aligned to the start table size.
    pub table: u64,
}

impl Start {
    /// Builds the start of a walk from an unaligned base: bits of the base below the start
    /// table's size are treated as zero.
    pub fn new(granule: Granule, level: u8, input_bits: u32, base: u64) -> Start {
        let bits = input_bits.saturating_sub(granule.level_shift(level));
        let table = base & !low_mask(bits + DESC_SHIFT);
        Start { granule, level, bits, table }
    }
}

/// The block or page descriptor a walk ended on.
#[derive(Clone, Copy, Debug)]
pub(super) struct Leaf {
    pub desc: Desc,
    pub level: u8,
    /// OR of the hierarchical attributes (APTable, PXNTable, UXNTable, NSTable) of the table
    /// descriptors walked through.
    pub tables: Desc,
    /// Output address of the block or page base.
    pub base: u64,
    /// log2 of the block or page size.
    pub size_shift: u32,
}

/// What a descriptor is at `level`.
pub(super) fn classify(d: Desc, level: u8, g: Granule) -> DescKind {
    if !d.valid() {
        DescKind::Invalid
    } else if level < FINAL_LEVEL {
        if d.table_or_page() {
            DescKind::Table
        } else if g.block_allowed(level) {
            DescKind::Block
        } else {
            DescKind::Reserved
        }
    } else if d.table_or_page() {
        DescKind::Page
    } else {
        DescKind::Reserved
    }
}

fn accumulate(mut acc: Desc, table: Desc) -> Desc {
    acc.set_ap_table(acc.ap_table() | table.ap_table());
    acc.set_pxn_table(acc.pxn_table() | table.pxn_table());
    acc.set_uxn_table(acc.uxn_table() | table.uxn_table());
    acc.set_ns_table(acc.ns_table() | table.ns_table());
    acc
}

/// Walks from `start` for `input`.
///
/// `locate(mem, trace, desc_addr, tables)` turns a descriptor address into the PA and PAS to read
/// it at (given the hierarchical attributes met so far), or fails with the fault to report.
/// `fault(id, fetch_addr)` builds this stage's fault records.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn walk<M, T, L, F>(
    stage: Stage,
    start: Start,
    input: u64,
    oa_bits: u32,
    mem: &mut M,
    trace: &mut T,
    mut locate: L,
    fault: F,
) -> Result<Leaf, Fault>
where
    M: PhysMem + ?Sized,
    T: TraceSink + ?Sized,
    L: FnMut(&mut M, &mut T, u64, Desc) -> Result<(u64, Pas), Fault>,
    F: Fn(u8, u64) -> Fault,
{
    let g = start.granule;
    let mut level = start.level.min(FINAL_LEVEL);
    let mut bits = start.bits;
    let mut table = start.table;
    let mut tables = Desc(0);
    loop {
        let shift = g.level_shift(level);
        let index = input.checked_shr(shift).unwrap_or(0) & low_mask(bits);
        let desc_addr = table.wrapping_add(index << DESC_SHIFT);
        let (pa, pas) = locate(mem, trace, desc_addr, tables)?;
        let raw = read_u64(mem, pa, pas).map_err(|_| fault(id::F_WALK_EABT, pa))?;
        let desc = Desc(raw);
        let kind = classify(desc, level, g);
        emit(trace, || TraceEvent::WalkStep { stage, level, addr: pa, pas, desc: raw, kind });
        match kind {
            DescKind::Invalid | DescKind::Reserved => return Err(fault(id::F_TRANSLATION, 0)),
            DescKind::Table => {
                let next = desc.address(g.shift());
                if !fits(next, oa_bits) {
                    return Err(fault(id::F_ADDR_SIZE, 0));
                }
                tables = accumulate(tables, desc);
                table = next;
                level += 1;
                bits = g.stride();
            }
            DescKind::Block | DescKind::Page => {
                let base = desc.address(shift);
                if !fits(base, oa_bits) {
                    return Err(fault(id::F_ADDR_SIZE, 0));
                }
                return Ok(Leaf { desc, level, tables, base, size_shift: shift });
            }
        }
    }
}
