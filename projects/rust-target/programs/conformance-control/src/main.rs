//! Conformance corpus, control flow and arithmetic: `if`/`match` selects,
//! loops over slices, NUL-terminated scans, stores into stack arrays at
//! variable indexes, 8/16/32/64-bit division and remainders, shifts,
//! sorting, `alloc` collections over nextrust-rt's malloc allocator, and
//! atomics from four threads. Written as ordinary Rust, not
//! around compiler bugs; its output must equal the same program's output on
//! the build host.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::hint::black_box;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use nextrust_rt::hosted::{join, spawn};
use nextrust_rt::outln;

#[inline(never)]
fn classify(n: i32) -> &'static str {
    if n < 0 {
        "negative"
    } else if n == 0 {
        "zero"
    } else if n == 5 {
        "five"
    } else if n % 2 == 0 {
        "even"
    } else {
        "odd"
    }
}

#[inline(never)]
fn select(a: u32, b: u32, c: u32) -> u32 {
    if a == 5 { b } else { c }
}

#[inline(never)]
fn weekday(d: u8) -> Option<&'static str> {
    match d {
        0 => Some("Sunday"),
        1 => Some("Monday"),
        2 => Some("Tuesday"),
        3 => Some("Wednesday"),
        4 => Some("Thursday"),
        5 => Some("Friday"),
        6 => Some("Saturday"),
        _ => None,
    }
}

/// Length of a NUL-terminated byte string, scanned by hand.
#[inline(never)]
fn c_len(p: &[u8]) -> usize {
    let mut n = 0;
    while p[n] != 0 {
        n += 1;
    }
    n
}

/// Decimal digits of `v` built in a stack array at a variable index.
#[inline(never)]
fn digits(mut v: u32) -> ([u8; 10], usize) {
    let mut tmp = [0u8; 10];
    let mut n = 0;
    loop {
        tmp[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut out = [0u8; 10];
    for i in 0..n {
        out[i] = tmp[n - 1 - i];
    }
    (out, n)
}

#[inline(never)]
fn histogram(data: &[u8]) -> [u16; 8] {
    let mut h = [0u16; 8];
    for &b in data {
        h[(b >> 5) as usize] += 1;
    }
    h
}

#[inline(never)]
fn checksum(data: &[u32]) -> u32 {
    data.iter().fold(0u32, |acc, &x| acc.rotate_left(5) ^ x.wrapping_mul(0x9e37_79b9))
}

static SHARED: AtomicU32 = AtomicU32::new(0);
static MAXIMUM: AtomicU32 = AtomicU32::new(0);
static ROUNDS: AtomicUsize = AtomicUsize::new(0);
const THREADS: usize = 4;
const PER_THREAD: u32 = 20_000;

extern "C" fn worker(arg: *mut c_void) -> *mut c_void {
    let id = arg as usize as u32;
    for i in 0..PER_THREAD {
        SHARED.fetch_add(1, Ordering::SeqCst);
        MAXIMUM.fetch_max(id * PER_THREAD + i, Ordering::SeqCst);
    }
    ROUNDS.fetch_add(1, Ordering::SeqCst);
    core::ptr::null_mut()
}

#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    for n in black_box([-7, 0, 5, 6, 9, 12]) {
        outln!("classify({n}) = {}", classify(n));
    }
    outln!("select = {} {}", select(black_box(5), 10, 20), select(black_box(6), 10, 20));
    for d in 0..black_box(8u8) {
        match weekday(d) {
            Some(name) => outln!("day {d}: {name}"),
            None => outln!("day {d}: none"),
        }
    }
    let text = black_box(b"NeXTSTEP on the 68040\0trailing");
    outln!("c_len = {}", c_len(text));
    for v in black_box([0u32, 7, 42, 65_536, 4_294_967_295]) {
        let (d, n) = digits(v);
        outln!("digits({v}) = {}", core::str::from_utf8(&d[..n]).unwrap_or("?"));
    }
    let mut bytes = [0u8; 200];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u32 * 37 % 251) as u8;
    }
    outln!("histogram = {:?}", histogram(black_box(&bytes)));
    let words: [u32; 16] = core::array::from_fn(|i| (i as u32 + 1) * 0x0101_0101);
    outln!("checksum = {:#010x}", checksum(black_box(&words)));

    // Division and remainder at every width, signed and unsigned.
    for (a, b) in black_box([(100u32, 7u32), (4_000_000_000, 3), (12345, 12346), (u32::MAX, 65_537)]) {
        outln!("u32 {a} / {b} = {} rem {}", a / b, a % b);
    }
    for (a, b) in black_box([(-100i32, 7i32), (i32::MIN, 3), (2_000_000_000, -13)]) {
        outln!("i32 {a} / {b} = {} rem {}", a / b, a % b);
    }
    for (a, b) in black_box([(250u8, 7u8), (99, 100)]) {
        outln!("u8 {a} / {b} = {} rem {}", a / b, a % b);
    }
    for (a, b) in black_box([(-30_000i16, 7i16), (32_767, -2)]) {
        outln!("i16 {a} / {b} = {} rem {}", a / b, a % b);
    }
    for (a, b) in black_box([(u64::MAX, 10u64), (1_000_000_000_000, 999_983)]) {
        outln!("u64 {a} / {b} = {} rem {}", a / b, a % b);
    }
    for (a, b) in black_box([(i64::MIN + 1, -7i64), (-9_000_000_000, 11)]) {
        outln!("i64 {a} / {b} = {} rem {}", a / b, a % b);
    }
    let x = black_box(0x8000_0001u32);
    outln!("shifts {:#x} {:#x} {:#x} {}", x << 3, x >> 7, (x as i32) >> 7, x.count_ones());

    // Sorting and searching a slice.
    let mut v: [i32; 24] = core::array::from_fn(|i| ((i as i32 * 7919) % 97) - 48);
    v.sort_unstable();
    outln!("sorted = {:?}", v);
    outln!("search 5 = {:?}, min = {:?}, max = {:?}", v.binary_search(&5), v.iter().min(), v.iter().max());

    // alloc over glibc's malloc: growing vectors, strings, a map, an over-aligned box.
    let mut squares: Vec<u64> = Vec::new();
    for i in 0..black_box(1000u64) {
        squares.push(i * i);
    }
    let mut text = String::new();
    for w in ["m68k", "next", "step", "rust"] {
        text.push_str(w);
        text.push('/');
    }
    let mut map = BTreeMap::new();
    for (i, b) in bytes.iter().enumerate().take(50) {
        *map.entry(b % 7).or_insert(0usize) += i;
    }
    #[repr(align(64))]
    struct Aligned([u8; 100]);
    let boxed = Box::new(Aligned([7; 100]));
    let addr = &*boxed as *const Aligned as usize;
    outln!(
        "alloc: squares {} sum {} text {:?} map {:?} aligned {} {}",
        squares.len(),
        squares.iter().sum::<u64>(),
        text,
        map,
        addr % 64 == 0,
        boxed.0.iter().map(|&b| b as u32).sum::<u32>()
    );

    // Atomics from four threads: the totals must be exact.
    let mut threads = [0; THREADS];
    for (i, t) in threads.iter_mut().enumerate() {
        *t = spawn(worker, i as *mut c_void);
    }
    for t in threads {
        join(t);
    }
    outln!(
        "atomics: shared={} max={} rounds={}",
        SHARED.load(Ordering::SeqCst),
        MAXIMUM.load(Ordering::SeqCst),
        ROUNDS.load(Ordering::SeqCst)
    );
    0
}
