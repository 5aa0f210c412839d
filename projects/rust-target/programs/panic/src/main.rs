//! A program that panics: the panic handler must print the message and
//! location on stderr and exit with code 101 (panic = "abort", no unwinding).
#![no_std]
#![no_main]

use core::hint::black_box;
use nextrust_rt::{outln, Dec};

#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    outln!("about to panic");
    let table = [1u32, 2, 3];
    let index = black_box(7usize);
    if index >= table.len() {
        // A static message: no core::fmt on m68k (see nextrust-rt).
        panic!("deliberate panic: index out of range");
    }
    outln!("unreachable: ", Dec(table[index]));
    0
}
