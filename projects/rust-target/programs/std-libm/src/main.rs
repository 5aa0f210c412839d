//! libm on the 68k: std's float methods that call glibc's libm (which returns
//! results in the FPU register %fp0) and those compiler_builtins provides.
//!
//! IEEE-exact operations (sqrt, floor, round, %, mul_add, powi) print in full
//! (`{:?}`: the shortest string that reads back as the same bits) and must
//! match the build host bit for bit. glibc's libm is not correctly rounded, and
//! m68k's glibc computes several functions with the 68881's extended-precision
//! instructions, so transcendental results may differ from x86_64's in the
//! last bits: they print to 12 significant digits. A wrong float ABI gives 0,
//! a denormal or garbage, never a last-bit difference.
use std::hint::black_box;

fn main() {
    let xs: [f64; 6] = black_box([0.5, -1.75, 3.0, 10.0, 1e-3, 123.456]);
    let libm: [(&str, fn(f64) -> f64); 20] = [
        ("sin", f64::sin),
        ("cos", f64::cos),
        ("tan", f64::tan),
        ("asin", |x| (x / 200.0).asin()),
        ("acos", |x| (x / 200.0).acos()),
        ("atan", f64::atan),
        ("sinh", f64::sinh),
        ("cosh", f64::cosh),
        ("tanh", f64::tanh),
        ("asinh", f64::asinh),
        ("acosh", |x| (x.abs() + 1.0).acosh()),
        ("atanh", |x| (x / 200.0).atanh()),
        ("exp", f64::exp),
        ("exp2", f64::exp2),
        ("exp_m1", f64::exp_m1),
        ("ln", |x| x.abs().ln()),
        ("log2", |x| x.abs().log2()),
        ("log10", |x| x.abs().log10()),
        ("ln_1p", |x| x.abs().ln_1p()),
        ("cbrt", f64::cbrt),
    ];
    for (name, f) in libm {
        let results: Vec<String> = xs.iter().map(|&x| format!("{:.11e}", f(x))).collect();
        println!("{name:7} {}", results.join(" "));
    }
    let exact: [(&str, fn(f64) -> f64); 5] = [
        ("sqrt", |x| x.abs().sqrt()),
        ("floor", f64::floor),
        ("round", f64::round),
        ("rem", |x| x % 0.7),
        ("mul_add", |x| x.mul_add(2.0, 0.25)),
    ];
    for (name, f) in exact {
        let results: Vec<f64> = xs.iter().map(|&x| f(x)).collect();
        println!("{name:7} {results:?}");
    }
    for &x in &xs {
        println!("x={x:?} powi {:?} powf {:.11e} atan2 {:.11e} hypot {:.11e}", x.powi(3), x.powf(1.5), x.atan2(2.0), x.hypot(2.0));
    }
    let fs: [f32; 5] = black_box([0.5, -1.75, 3.0, 10.0, 0.001]);
    let libm32: [(&str, fn(f32) -> f32); 7] = [
        ("sin", f32::sin),
        ("cos", f32::cos),
        ("tan", f32::tan),
        ("exp", |x| (x / 8.0).exp()),
        ("ln", |x| x.abs().ln()),
        ("atan", f32::atan),
        ("tanh", f32::tanh),
    ];
    for (name, f) in libm32 {
        let results: Vec<String> = fs.iter().map(|&x| format!("{:.5e}", f(x))).collect();
        println!("f32 {name:5} {}", results.join(" "));
    }
    for &x in &fs {
        println!("f32 x={x:?} sqrt {:?} powf {:.5e} atan2 {:.5e} hypot {:.5e}", x.abs().sqrt(), x.abs().powf(0.3), x.atan2(1.5), x.hypot(2.0));
    }
    println!("{:.3} {:.11e} {:.10e} {} {}", std::f64::consts::PI.sin(), 1.0f64.exp(), 2.0f64.ln(), f64::NAN.sin(), f64::INFINITY.exp());
}
