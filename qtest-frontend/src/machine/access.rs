//! How QEMU's memory core cuts a CPU access into device accesses.

/// The device accesses QEMU's memory core issues for `len` bytes at `addr` to a region whose
/// largest valid access is `max` bytes (`memory_access_size`): each a power of two, no larger
/// than the alignment of its address, in address order. Returns (address, size) pairs.
pub fn pieces(addr: u64, len: usize, max: usize) -> impl Iterator<Item = (u64, usize)> {
    let mut cur = addr;
    let mut left = len;
    core::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let align = if cur == 0 { max } else { 1usize << cur.trailing_zeros().min(16) };
        let l = left.min(max).min(align);
        let l = 1usize << l.ilog2();
        let piece = (cur, l);
        cur = cur.wrapping_add(l as u64);
        left -= l;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(addr: u64, len: usize, max: usize) -> Vec<(u64, usize)> {
        pieces(addr, len, max).collect()
    }

    #[test]
    fn aligned_access_within_max_is_one_piece() {
        assert_eq!(split(0x1000_0010, 4, 4), [(0x1000_0010, 4)]);
    }

    #[test]
    fn access_larger_than_max_is_cut_into_max_pieces() {
        assert_eq!(split(0x100, 8, 4), [(0x100, 4), (0x104, 4)]);
        assert_eq!(split(0x9050000, 16, 8), [(0x9050000, 8), (0x9050008, 8)]);
    }

    #[test]
    fn unaligned_access_is_cut_at_natural_alignment() {
        assert_eq!(split(0x1001, 4, 4), [(0x1001, 1), (0x1002, 2), (0x1004, 1)]);
    }

    #[test]
    fn odd_length_ends_with_smaller_pieces() {
        assert_eq!(split(0x1000, 3, 4), [(0x1000, 2), (0x1002, 1)]);
    }

    #[test]
    fn address_zero_counts_as_fully_aligned() {
        assert_eq!(split(0, 8, 8), [(0, 8)]);
    }
}
