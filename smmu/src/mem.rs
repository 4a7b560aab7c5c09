//! Physical memory as the model sees it: every access is tagged with the PAS it is issued in.
//!
//! The model owns no memory. Tables are read and events written through [`PhysMem`], so the
//! machine, tests, fuzzers and benchmarks each plug in their own memory.

use std::collections::HashMap;

use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::pas::Pas;

/// Why a physical access failed. The qtest frontend reports these as `MemTxResult` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BusError {
    /// Nothing is mapped at the address (`MEMTX_DECODE_ERROR`, 0x2).
    Unassigned,
    /// Something is mapped there, but not for this PAS (also reported as 0x2, as QEMU does
    /// when an address space does not contain the region).
    Forbidden,
    /// The target answered with an error (`MEMTX_ERROR`, 0x1).
    Device,
}

impl BusError {
    /// The `MemTxResult` value QEMU would report.
    pub fn memtx(self) -> u32 {
        match self {
            BusError::Unassigned | BusError::Forbidden => 0x2,
            BusError::Device => 0x1,
        }
    }
}

/// Physical memory with PAS-tagged accesses.
pub trait PhysMem {
    fn read(&mut self, pa: u64, pas: Pas, buf: &mut [u8]) -> Result<(), BusError>;
    fn write(&mut self, pa: u64, pas: Pas, buf: &[u8]) -> Result<(), BusError>;
}

/// Reads a little-endian wire structure.
pub fn read_obj<T: FromBytes + IntoBytes>(
    mem: &mut (impl PhysMem + ?Sized),
    pa: u64,
    pas: Pas,
) -> Result<T, BusError> {
    let mut v = T::new_zeroed();
    mem.read(pa, pas, v.as_mut_bytes())?;
    Ok(v)
}

/// Writes a little-endian wire structure.
pub fn write_obj<T: IntoBytes + Immutable>(
    mem: &mut (impl PhysMem + ?Sized),
    pa: u64,
    pas: Pas,
    v: &T,
) -> Result<(), BusError> {
    mem.write(pa, pas, v.as_bytes())
}

/// Reads a little-endian u64.
pub fn read_u64(mem: &mut (impl PhysMem + ?Sized), pa: u64, pas: Pas) -> Result<u64, BusError> {
    let mut b = [0u8; 8];
    mem.read(pa, pas, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

const PAGE_SHIFT: u32 = 12;
const PAGE_SIZE: usize = 1 << PAGE_SHIFT;

/// A declared window of backed memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub name: &'static str,
    pub base: u64,
    pub size: u64,
    /// One bit per [`Pas`] ([`Pas::bit`]) that may reach this window.
    pub pas_mask: u8,
}

impl Window {
    fn contains(&self, pa: u64, len: u64) -> bool {
        pa >= self.base && len <= self.size && pa - self.base <= self.size - len
    }
}

/// Sparse page-backed memory: a 512 MiB machine costs only the pages that were written.
/// Pages never written read as zero.
#[derive(Clone, Debug, Default)]
pub struct SparseMem {
    windows: Vec<Window>,
    /// Keyed by (window index, page number within the window).
    pages: HashMap<(usize, u64), Box<[u8; PAGE_SIZE]>>,
}

impl SparseMem {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a window. Windows must not overlap; an overlapping window is refused.
    pub fn add_window(&mut self, w: Window) -> Result<(), String> {
        let end = w.base.checked_add(w.size).ok_or("window wraps the address space")?;
        if w.size == 0 {
            return Err("empty window".into());
        }
        for o in &self.windows {
            if w.base < o.base + o.size && o.base < end {
                return Err(format!("window {} overlaps {}", w.name, o.name));
            }
        }
        self.windows.push(w);
        Ok(())
    }

    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    /// Number of pages that hold data.
    pub fn resident_pages(&self) -> usize {
        self.pages.len()
    }

    /// Finds the window holding `[pa, pa+len)` for `pas`.
    pub fn lookup(&self, pa: u64, len: u64, pas: Pas) -> Result<usize, BusError> {
        let idx = self
            .windows
            .iter()
            .position(|w| w.contains(pa, len.max(1)))
            .ok_or(BusError::Unassigned)?;
        if self.windows[idx].pas_mask & pas.bit() == 0 {
            return Err(BusError::Forbidden);
        }
        Ok(idx)
    }

    /// Fills `[pa, pa+len)` with `byte` without allocating pages for zeros that are not there.
    pub fn fill(&mut self, pa: u64, pas: Pas, len: u64, byte: u8) -> Result<(), BusError> {
        let w = self.lookup(pa, len, pas)?;
        let base = self.windows[w].base;
        let mut off = pa - base;
        let end = off + len;
        while off < end {
            let page = off >> PAGE_SHIFT;
            let in_page = (off as usize) & (PAGE_SIZE - 1);
            let n = ((PAGE_SIZE - in_page) as u64).min(end - off) as usize;
            if byte == 0 {
                if let Some(p) = self.pages.get_mut(&(w, page)) {
                    p[in_page..in_page + n].fill(0);
                }
            } else {
                let p = self.pages.entry((w, page)).or_insert_with(|| Box::new([0; PAGE_SIZE]));
                p[in_page..in_page + n].fill(byte);
            }
            off += n as u64;
        }
        Ok(())
    }
}

impl PhysMem for SparseMem {
    fn read(&mut self, pa: u64, pas: Pas, buf: &mut [u8]) -> Result<(), BusError> {
        let w = self.lookup(pa, buf.len() as u64, pas)?;
        let mut off = pa - self.windows[w].base;
        let mut done = 0;
        while done < buf.len() {
            let page = off >> PAGE_SHIFT;
            let in_page = (off as usize) & (PAGE_SIZE - 1);
            let n = (PAGE_SIZE - in_page).min(buf.len() - done);
            match self.pages.get(&(w, page)) {
                Some(p) => buf[done..done + n].copy_from_slice(&p[in_page..in_page + n]),
                None => buf[done..done + n].fill(0),
            }
            done += n;
            off += n as u64;
        }
        Ok(())
    }

    fn write(&mut self, pa: u64, pas: Pas, buf: &[u8]) -> Result<(), BusError> {
        let w = self.lookup(pa, buf.len() as u64, pas)?;
        let mut off = pa - self.windows[w].base;
        let mut done = 0;
        while done < buf.len() {
            let page = off >> PAGE_SHIFT;
            let in_page = (off as usize) & (PAGE_SIZE - 1);
            let n = (PAGE_SIZE - in_page).min(buf.len() - done);
            let chunk = &buf[done..done + n];
            match self.pages.get_mut(&(w, page)) {
                Some(p) => p[in_page..in_page + n].copy_from_slice(chunk),
                None if chunk.iter().all(|&b| b == 0) => {}
                None => {
                    let mut p = Box::new([0; PAGE_SIZE]);
                    p[in_page..in_page + n].copy_from_slice(chunk);
                    self.pages.insert((w, page), p);
                }
            }
            done += n;
            off += n as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ram() -> SparseMem {
        let mut m = SparseMem::new();
        m.add_window(Window { name: "ram", base: 0x4000_0000, size: 512 << 20, pas_mask: 0xf })
            .unwrap();
        m.add_window(Window {
            name: "secure-ram",
            base: 0x0e00_0000,
            size: 16 << 20,
            pas_mask: Pas::Secure.bit() | Pas::Root.bit(),
        })
        .unwrap();
        m
    }

    #[test]
    fn untouched_memory_reads_zero_without_allocating() {
        let mut m = ram();
        let mut b = [0xffu8; 16];
        m.read(0x4800_0000, Pas::NonSecure, &mut b).unwrap();
        assert_eq!(b, [0; 16]);
        assert_eq!(m.resident_pages(), 0);
    }

    #[test]
    fn write_crossing_a_page_reads_back() {
        let mut m = ram();
        let data: Vec<u8> = (0..32).collect();
        m.write(0x4000_0ff0, Pas::NonSecure, &data).unwrap();
        let mut b = [0u8; 32];
        m.read(0x4000_0ff0, Pas::Realm, &mut b).unwrap();
        assert_eq!(&b[..], &data[..]);
        assert_eq!(m.resident_pages(), 2);
    }

    #[test]
    fn secure_window_refuses_non_secure_and_realm() {
        let mut m = ram();
        let mut b = [0u8; 4];
        assert_eq!(m.read(0x0e00_0000, Pas::NonSecure, &mut b), Err(BusError::Forbidden));
        assert_eq!(m.read(0x0e00_0000, Pas::Realm, &mut b), Err(BusError::Forbidden));
        assert_eq!(m.read(0x0e00_0000, Pas::Root, &mut b), Ok(()));
    }

    #[test]
    fn access_past_window_end_is_unassigned() {
        let mut m = ram();
        let mut b = [0u8; 8];
        assert_eq!(m.read(0x5fff_fffc, Pas::NonSecure, &mut b), Err(BusError::Unassigned));
        assert_eq!(m.read(u64::MAX - 3, Pas::NonSecure, &mut b), Err(BusError::Unassigned));
    }

    #[test]
    fn zero_fill_of_untouched_memory_allocates_nothing() {
        let mut m = ram();
        m.fill(0x4000_0000, Pas::NonSecure, 256 << 20, 0).unwrap();
        assert_eq!(m.resident_pages(), 0);
    }

    #[test]
    fn overlapping_windows_are_refused() {
        let mut m = ram();
        let w = Window { name: "x", base: 0x5fff_f000, size: 0x2000, pas_mask: 0xf };
        assert!(m.add_window(w).is_err());
    }
}
