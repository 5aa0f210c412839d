//! Crates from Debian on the 68k: itoa's integer formatting and memchr's
//! byte search (its word-at-a-time fallback, no SIMD on m68k), compared with
//! std's own answers so that a wrong result shows in the output.
fn main() {
    let mut buf = itoa::Buffer::new();
    for n in [0i64, 7, -1, 42, 1_000_000, i64::MIN, i64::MAX] {
        let s = buf.format(n);
        println!("itoa {s:>20} std {:>20} same {}", n.to_string(), s == n.to_string());
    }
    let mut ubuf = itoa::Buffer::new();
    println!("itoa u128 max {}", ubuf.format(u128::MAX));

    let text: Vec<u8> = (0..1000u32).map(|i| b'a' + (i * 7 % 26) as u8).collect();
    for needle in [b'a', b'q', b'z', b'!'] {
        let fast = memchr::memchr(needle, &text);
        let slow = text.iter().position(|&b| b == needle);
        let last = memchr::memrchr(needle, &text);
        let count = memchr::memchr_iter(needle, &text).count();
        println!("memchr {:?} first {fast:?} (std {slow:?}) last {last:?} count {count}", needle as char);
    }
    let hay = "the quick brown fox jumps over the lazy dog";
    let found: Vec<usize> = memchr::memmem::find_iter(hay.as_bytes(), "the").collect();
    println!("memmem 'the' at {found:?}");
}

#[cfg(test)]
mod tests {
    //! Run on the 68k by `nx run rust-target:test` (libtest under qemu-m68k).
    #[test]
    fn itoa_agrees_with_std_at_every_width() {
        let mut buf = itoa::Buffer::new();
        for n in [0u64, 9, 10, 99, 100, 65_535, 65_536, u32::MAX as u64, u32::MAX as u64 + 1, u64::MAX] {
            assert_eq!(buf.format(n), n.to_string());
            assert_eq!(buf.format(n as i64), (n as i64).to_string());
        }
        assert_eq!(buf.format(i128::MIN), i128::MIN.to_string());
    }

    #[test]
    fn memchr_agrees_with_a_plain_scan() {
        let hay: Vec<u8> = (0..4099u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        for needle in [0u8, 1, 0x7f, 0x80, 0xff] {
            for start in [0, 1, 3, 7, 64] {
                let slice = &hay[start..];
                assert_eq!(memchr::memchr(needle, slice), slice.iter().position(|&b| b == needle), "needle {needle} from {start}");
                assert_eq!(memchr::memrchr(needle, slice), slice.iter().rposition(|&b| b == needle));
            }
        }
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn a_panicking_test_is_caught() {
        let v = vec![1, 2, 3];
        let i = std::hint::black_box(7);
        if i >= v.len() {
            panic!("index {i} out of range");
        }
    }
}
