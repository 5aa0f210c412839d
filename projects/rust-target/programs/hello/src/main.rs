//! Hello world for m68k-unknown-linux-gnu (hosted: glibc, 68020+).
#![no_std]
#![no_main]

use nextrust_rt::outln;

#[no_mangle]
pub extern "C" fn main(argc: i32, _argv: *const *const u8) -> i32 {
    outln!("Hello from Rust on the Motorola 68k!");
    outln!("{} argument(s), {:#010x}, {:?}", argc, 0xc0ffee_u32, [1u8, 2, 3]);
    0
}
