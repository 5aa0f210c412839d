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
