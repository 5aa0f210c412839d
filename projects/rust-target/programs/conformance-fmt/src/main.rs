//! Conformance corpus, formatting: ordinary `core::fmt` of every integer
//! width (decimal, hex, octal, binary, padding, signs), floats, chars and
//! strings, and `{:?}` of structs, enums, slices, tuples and Options.
//! Nothing here is written around a compiler bug: the output must equal the
//! same program's output on the build host, byte for byte.
#![no_std]
#![no_main]

use core::hint::black_box;
use nextrust_rt::outln;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Circle { radius: u16 },
    Rect(i32, i32),
    Empty,
}

// Read only through Debug.
#[allow(dead_code)]
#[derive(Debug)]
struct Record<'a> {
    name: &'a str,
    id: u64,
    score: i16,
    tags: &'a [&'a str],
    shape: Shape,
    parent: Option<u32>,
}

#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    // Every integer width, through black_box so nothing is folded at compile time.
    let u8s = black_box([0u8, 1, 9, 10, 99, 100, 255]);
    let i8s = black_box([i8::MIN, -1, 0, 1, i8::MAX]);
    let u16s = black_box([0u16, 7, 1000, 9999, 10000, u16::MAX]);
    let i16s = black_box([i16::MIN, -12345, -1, 0, 12345, i16::MAX]);
    let u32s = black_box([0u32, 1, 42, 65535, 65536, 1_000_000, 123_456_789, 4_000_000_000, u32::MAX]);
    let i32s = black_box([i32::MIN, -2_147_483_647, -1_000_000, -1, 0, 1, 1_000_000, i32::MAX]);
    let u64s = black_box([0u64, 1, u32::MAX as u64 + 1, 1_234_567_890_123, u64::MAX]);
    let i64s = black_box([i64::MIN, -9_876_543_210, -1, 0, 9_876_543_210, i64::MAX]);
    let u128s = black_box([0u128, 1, u64::MAX as u128 + 1, u128::MAX]);
    let i128s = black_box([i128::MIN, -1, 0, i128::MAX]);
    outln!("u8 {:?}", u8s);
    outln!("i8 {:?}", i8s);
    outln!("u16 {:?}", u16s);
    outln!("i16 {:?}", i16s);
    outln!("u32 {:?}", u32s);
    outln!("i32 {:?}", i32s);
    outln!("u64 {:?}", u64s);
    outln!("i64 {:?}", i64s);
    outln!("u128 {:?}", u128s);
    outln!("i128 {:?}", i128s);
    for v in u32s {
        outln!("[{v:>10}] [{v:<10}] [{v:^12}] [{v:010}] {v:#x} {v:#X} {v:o} {v:#b}");
    }
    for v in i32s {
        outln!("[{v:+}] [{v:>12}] [{v:08x}] {v:e}");
    }
    for v in u8s {
        outln!("{v:3} {v:02x} {v:08b} {:?}", (v as char).is_ascii_digit());
    }

    // Floats.
    let f64s = black_box([0.0f64, -0.0, 1.0, -1.5, 0.1, 2.5, 3.141592653589793, 1e-7, 6.02214076e23, 1e300, f64::MAX, f64::MIN_POSITIVE]);
    for v in f64s {
        outln!("f64 {v} {v:?} {v:.3} {v:e} {v:10.2}");
    }
    let f32s = black_box([0.0f32, 1.0, -2.75, 0.1, 3.1415927, 1e10, f32::MAX, f32::EPSILON]);
    for v in f32s {
        outln!("f32 {v} {v:?} {v:.4} {v:E}");
    }
    outln!("special {} {} {} {:?}", f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f32::INFINITY);

    // Chars and strings.
    let s = black_box("Motorola 68040 \u{e9}t\u{e9} \"quoted\"\n\ttab");
    outln!("{s}");
    outln!("{s:?}");
    outln!("[{:>8}] [{:<8}] [{:^8}] [{:.3}]", "ab", "cd", "ef", "truncate");
    outln!("{:?} {:?} {:?}", 'x', '\n', '\u{1f980}');

    // Debug of compound values.
    let tags = ["m68k", "nextstep"];
    let records = black_box([
        Record { name: "alpha", id: 1, score: -3, tags: &tags, shape: Shape::Circle { radius: 5 }, parent: None },
        Record { name: "beta", id: u64::MAX / 3, score: 700, tags: &tags[1..], shape: Shape::Rect(-4, 9), parent: Some(1) },
        Record { name: "", id: 0, score: i16::MIN, tags: &[], shape: Shape::Empty, parent: Some(u32::MAX) },
    ]);
    for r in &records {
        outln!("{r:?}");
    }
    outln!("{:#?}", records[1]);
    outln!("{:?}", (1u8, -2i64, "three", [4.5f32], Some(Shape::Empty), None::<()>));
    outln!("{:?}", &u16s[1..4]);
    outln!("{:>6?}|{:<6?}|{:06?}", Some(3), Ok::<i32, ()>(4), -5i32);
    outln!("width {:>w$} precision {:.p$} both {:>w2$.p2$}", 7, 2.0f64 / 3.0, 1.0f64 / 7.0, w = 5, p = 4, w2 = 12, p2 = 6);
    0
}
