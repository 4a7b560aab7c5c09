//! QEMU's `iommu-testdev` (`hw/misc/iommu-testdev.c`), bit for bit, plus extension registers.
//!
//! Software programs an IOVA, a length, attributes and a read-back GPA, rings the doorbell,
//! then reads DMA_TRIGGERING: the read runs the whole DMA synchronously (writes a pattern at the
//! IOVA through the IOMMU, then reads the GPA directly and compares) and DMA_RESULT holds the
//! outcome. The register map is in [`regs`].
//!
//! The extension registers at 0x100 reset to 0, which keeps QEMU's behaviour: DMA_CTRL adds a
//! read direction and the PnU/InD/SubstreamID attributes, DMA_PATTERN the written pattern,
//! DMA_FAULT and DMA_DONE report why and where the last DMA stopped.
//!
//! Differences from QEMU, all on paths QEMU's own tests never take:
//! - A DMA stops at the first transaction that fails; QEMU's memory core carries on with the
//!   following pages of the same DMA after a failed one (the result is TX_FAIL either way).
//! - Data moves in chunks of at most [`CHUNK`] bytes, never LEN bytes at once.
//! - Secure and Realm streams (`sec-sid=`) check DMA_ATTRS against the stream's security state
//!   (DESIGN.md's ATTRS table, in [`attrs`]); QEMU has no `sec-sid`. The read-back uses the PAS
//!   the attributes name, where QEMU always reads Non-secure system memory.

pub mod attrs;
pub mod regs;

use smmu::{Abort, AbortReason, BusError, Translation, Txn};

use crate::port::{DmaPort, StreamId};
use attrs::DmaAttrs;
use regs::*;

/// Largest piece of a DMA moved at once (one buffer on the stack).
pub const CHUNK: usize = 4096;

/// One iommu-testdev.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IommuTestdev {
    stream: StreamId,
    gva: u64,
    gpa: u64,
    len: u32,
    result: u32,
    armed: bool,
    attrs: u32,
    ctrl: u32,
    ssid: u32,
    pattern: u32,
    fault: u32,
    done: u32,
}

impl IommuTestdev {
    /// A device in its reset state whose transactions carry `stream`.
    pub fn new(stream: StreamId) -> Self {
        IommuTestdev {
            stream,
            gva: 0,
            gpa: 0,
            len: 0,
            result: result::IDLE,
            armed: false,
            attrs: ATTRS_RESET,
            ctrl: 0,
            ssid: 0,
            pattern: 0,
            fault: 0,
            done: 0,
        }
    }

    pub fn stream(&self) -> StreamId {
        self.stream
    }

    /// Whether a trigger would run a DMA now.
    pub fn is_armed(&self) -> bool {
        self.armed
    }

    /// DMA_RESULT.
    pub fn result(&self) -> u32 {
        self.result
    }

    /// Device reset: every register back to its reset value, disarmed.
    pub fn reset(&mut self) {
        *self = IommuTestdev::new(self.stream);
    }

    /// A BAR0 read. Only aligned 32-bit accesses are accepted; a read of DMA_TRIGGERING runs
    /// the DMA through `port` before returning 0.
    pub fn mmio_read<P: DmaPort + ?Sized>(
        &mut self,
        offset: u64,
        size: u8,
        port: &mut P,
    ) -> Result<u64, BusError> {
        check_access(offset, size)?;
        let v = match offset {
            DMA_TRIGGERING => {
                self.trigger(port);
                0
            }
            DMA_GVA_LO => self.gva as u32,
            DMA_GVA_HI => (self.gva >> 32) as u32,
            DMA_LEN => self.len,
            DMA_RESULT => self.result,
            DMA_ATTRS => self.attrs,
            DMA_GPA_LO => self.gpa as u32,
            DMA_GPA_HI => (self.gpa >> 32) as u32,
            DMA_CTRL => self.ctrl,
            DMA_SSID => self.ssid,
            DMA_PATTERN => self.pattern,
            DMA_FAULT => self.fault,
            DMA_DONE => self.done,
            _ => 0,
        };
        Ok(u64::from(v))
    }

    /// A BAR0 write. Only aligned 32-bit accesses are accepted.
    pub fn mmio_write(&mut self, offset: u64, size: u8, value: u64) -> Result<(), BusError> {
        check_access(offset, size)?;
        let v = value as u32;
        match offset {
            DMA_GVA_LO => self.gva = (self.gva & !0xffff_ffff) | u64::from(v),
            DMA_GVA_HI => self.gva = (self.gva & 0xffff_ffff) | (u64::from(v) << 32),
            DMA_LEN => self.len = v,
            DMA_RESULT => self.result = v,
            DMA_DBELL => {
                self.armed = v & DBELL_ARM != 0;
                self.result = if self.armed { result::BUSY } else { result::IDLE };
            }
            DMA_ATTRS => self.attrs = v,
            DMA_GPA_LO => self.gpa = (self.gpa & !0xffff_ffff) | u64::from(v),
            DMA_GPA_HI => self.gpa = (self.gpa & 0xffff_ffff) | (u64::from(v) << 32),
            DMA_CTRL => self.ctrl = v & CTRL_MASK,
            DMA_SSID => self.ssid = v & SSID_MASK,
            DMA_PATTERN => self.pattern = v,
            _ => {}
        }
        Ok(())
    }

    /// What a read of DMA_TRIGGERING does: runs the armed DMA and disarms.
    pub fn trigger<P: DmaPort + ?Sized>(&mut self, port: &mut P) {
        if !self.armed {
            self.result = result::NOT_ARMED;
            return;
        }
        self.armed = false;
        self.fault = 0;
        self.done = 0;
        self.result = self.run(port);
    }

    fn run<P: DmaPort + ?Sized>(&mut self, port: &mut P) -> u32 {
        if self.len == 0 {
            return result::BAD_LEN;
        }
        let Some(a) = attrs::decode(self.attrs, self.stream.sec_sid) else {
            return result::BAD_ATTRS;
        };
        if self.ctrl & CTRL_DIR_READ != 0 {
            self.dma_read(port, a)
        } else {
            self.dma_write(port, a)
        }
    }

    /// The transaction for the rest of the DMA from `iova`.
    fn txn(&self, a: DmaAttrs, rnw: bool, iova: u64, len: u64) -> Txn {
        Txn {
            sec_sid: self.stream.sec_sid,
            sid: self.stream.sid,
            ssid: (self.ctrl & CTRL_SSV != 0).then_some(self.ssid),
            ns: a.ns,
            rnw,
            pnu: self.ctrl & CTRL_PRIV != 0,
            ind: self.ctrl & CTRL_INSTR != 0,
            iova,
            len,
        }
    }

    /// Translates the transaction at byte `done` of the DMA; on an abort records it in
    /// DMA_FAULT and returns `None`.
    fn translate_at<P: DmaPort + ?Sized>(
        &mut self,
        port: &mut P,
        a: DmaAttrs,
        rnw: bool,
        done: u64,
    ) -> Option<(Translation, usize)> {
        let len = u64::from(self.len);
        let iova = self.gva.wrapping_add(done);
        match port.translate(&self.txn(a, rnw, iova, len - done)) {
            Ok(t) => {
                let n = chunk_len(&t, iova, len - done);
                Some((t, n))
            }
            Err(abort) => {
                self.fault = fault_bits(abort);
                None
            }
        }
    }

    /// DIR=0 (QEMU's DMA): the pattern through the IOMMU, then the direct read-back.
    fn dma_write<P: DmaPort + ?Sized>(&mut self, port: &mut P, a: DmaAttrs) -> u32 {
        let pattern = self.pattern_bytes();
        let len = u64::from(self.len);
        let mut buf = [0u8; CHUNK];
        let mut done = 0u64;
        while done < len {
            let Some((t, n)) = self.translate_at(port, a, false, done) else {
                return result::TX_FAIL;
            };
            fill_pattern(&mut buf[..n], pattern, done);
            if port.write(t.pa, t.pas, &buf[..n]).is_err() {
                self.fault = FAULT_BUS_ERROR;
                return result::TX_FAIL;
            }
            done += n as u64;
            self.done = done as u32;
        }

        let mut mismatch = false;
        let mut off = 0u64;
        while off < len {
            let n = (len - off).min(CHUNK as u64) as usize;
            if port.read(self.gpa.wrapping_add(off), a.readback, &mut buf[..n]).is_err() {
                return result::RD_FAIL;
            }
            mismatch |= !matches_pattern(&buf[..n], pattern, off);
            off += n as u64;
        }
        if mismatch { result::MISMATCH } else { result::SUCCESS }
    }

    /// DIR=1: LEN bytes read at the IOVA through the IOMMU, compared with the bytes at the GPA.
    fn dma_read<P: DmaPort + ?Sized>(&mut self, port: &mut P, a: DmaAttrs) -> u32 {
        let len = u64::from(self.len);
        let mut dma = [0u8; CHUNK];
        let mut direct = [0u8; CHUNK];
        let (mut mismatch, mut rd_fail) = (false, false);
        let mut done = 0u64;
        while done < len {
            let Some((t, n)) = self.translate_at(port, a, true, done) else {
                return result::TX_FAIL;
            };
            if port.read(t.pa, t.pas, &mut dma[..n]).is_err() {
                self.fault = FAULT_BUS_ERROR;
                return result::TX_FAIL;
            }
            if !rd_fail {
                match port.read(self.gpa.wrapping_add(done), a.readback, &mut direct[..n]) {
                    Ok(()) => mismatch |= dma[..n] != direct[..n],
                    Err(_) => rd_fail = true,
                }
            }
            done += n as u64;
            self.done = done as u32;
        }
        if rd_fail {
            result::RD_FAIL
        } else if mismatch {
            result::MISMATCH
        } else {
            result::SUCCESS
        }
    }

    fn pattern_bytes(&self) -> [u8; 4] {
        let p = if self.pattern == 0 { DEFAULT_PATTERN } else { self.pattern };
        p.to_le_bytes()
    }
}

/// Rejects everything but aligned 32-bit accesses inside BAR0.
fn check_access(offset: u64, size: u8) -> Result<(), BusError> {
    if size != ACCESS_SIZE
        || !offset.is_multiple_of(u64::from(ACCESS_SIZE))
        || offset >= pci::BAR0_SIZE
    {
        return Err(BusError::Unassigned);
    }
    Ok(())
}

/// Bytes to move from `iova` in one go: up to the end of its mapping, the end of the DMA, and
/// the buffer size.
fn chunk_len(t: &Translation, iova: u64, remaining: u64) -> usize {
    let in_mapping = if t.size == 0 { 1 } else { t.bytes_left(iova) };
    remaining.min(in_mapping).min(CHUNK as u64) as usize
}

/// DMA_FAULT for an abort.
fn fault_bits(abort: Abort) -> u32 {
    let gpc = if abort.reason == AbortReason::GpcFault { FAULT_GPC } else { 0 };
    FAULT_ABORTED | gpc | abort.event.map_or(0, u32::from)
}

/// Fills `buf` with the bytes of the pattern stream that start at byte `offset` of the DMA.
fn fill_pattern(buf: &mut [u8], pattern: [u8; 4], offset: u64) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = pattern[((offset + i as u64) % 4) as usize];
    }
}

fn matches_pattern(buf: &[u8], pattern: [u8; 4], offset: u64) -> bool {
    buf.iter().enumerate().all(|(i, &b)| b == pattern[((offset + i as u64) % 4) as usize])
}

#[cfg(test)]
mod tests;
