//! A program that panics: the panic handler must print the message and
//! location on stderr and exit with code 101 (panic = "abort", no unwinding).
//! The panic is core's own bounds check of an ordinary slice index.
#![no_std]
#![no_main]

use core::hint::black_box;
use nextrust_rt::outln;

#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    outln!("about to panic");
    let table = [1u32, 2, 3];
    let index = black_box(7usize);
    let value = table[index];
    outln!("unreachable: {value}");
    0
}
