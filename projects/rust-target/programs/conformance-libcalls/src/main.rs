//! Libcalls back to back. On the 68k, 64-bit division, f64/f32 conversions
//! and all float arithmetic are calls into compiler_builtins (the backend is
//! soft-float). Each function below stores one call's result through a raw
//! pointer and then loads its operand again (the pointers may alias, so the
//! load cannot be reused) for a second call. Debian's M68k backend crashed
//! compiling this pattern: it folded the second load into the call's argument
//! store. Floats print as bits and with `{:?}`, so the output must equal the
//! build host's exactly.
use std::hint::black_box;

#[inline(never)]
unsafe fn div_twice(p: *const u64, q: *mut u64) -> u64 {
    *q = *p / 7;
    *p % 1_000_000_007
}

#[inline(never)]
unsafe fn sdiv_twice(p: *const i64, q: *mut i64) -> i64 {
    *q = *p / -13;
    *p % 65_537
}

#[inline(never)]
unsafe fn narrow_twice(p: *const f64, q: *mut f32) -> f32 {
    *q = *p as f32;
    (*p * 3.0) as f32
}

#[inline(never)]
unsafe fn widen_twice(p: *const f32, q: *mut f64) -> f64 {
    *q = *p as f64;
    (*p + 0.25) as f64
}

#[inline(never)]
unsafe fn arith_twice(p: *const f32, q: *mut f32) -> f32 {
    *q = *p * 1.5 + 2.0;
    *p / 3.0 - 0.5
}

fn main() {
    let longs: [u64; 5] = black_box([0, 7, 123_456_789_012_345, u64::MAX, 1 << 63]);
    for x in longs {
        let mut stored = 0;
        let r = unsafe { div_twice(&x, &mut stored) };
        let mut same = x;
        let aliased = unsafe { div_twice(&same, &mut same) };
        println!("u64 {x}: /7 {stored} %p {r} aliased {aliased} ({same})");
    }
    let signed: [i64; 4] = black_box([-98_765_432_109_876, 13, i64::MIN + 1, 4_611_686_018_427_387_903]);
    for x in signed {
        let mut stored = 0;
        let r = unsafe { sdiv_twice(&x, &mut stored) };
        println!("i64 {x}: /-13 {stored} %65537 {r}");
    }
    let doubles: [f64; 6] = black_box([0.1, -2.5e-3, std::f64::consts::PI, 1e30, -7.0, 3.4e38]);
    for x in doubles {
        let mut stored = 0.0f32;
        let r = unsafe { narrow_twice(&x, &mut stored) };
        println!("f64 {x:?}: as f32 {stored:?} ({:08x}) x3 as f32 {r:?} ({:08x})", stored.to_bits(), r.to_bits());
    }
    let floats: [f32; 5] = black_box([0.25, -1.75, 1e-3, 6.5e7, f32::MIN_POSITIVE]);
    for x in floats {
        let mut wide = 0.0f64;
        let w = unsafe { widen_twice(&x, &mut wide) };
        let mut stored = 0.0f32;
        let r = unsafe { arith_twice(&x, &mut stored) };
        let mut same = x;
        let aliased = unsafe { arith_twice(&same, &mut same) };
        println!("f32 {x:?}: as f64 {wide:?} +0.25 {w:?} | x1.5+2 {stored:?} /3-0.5 {r:?} aliased {aliased:?}");
    }
    // The loop the crash was first seen in: a conversion next to f32 libm calls.
    let mut sum = 0.0f32;
    for x in black_box([0.5f64, 1.0, 2.0]) {
        let y = x as f32;
        let (s, c) = (y.sin(), y.cos());
        sum += s * s + c * c;
        println!("{y:?} sin^2+cos^2 {:.5}", s * s + c * c);
    }
    println!("sum {sum:.5}");
}
