//! A static library for the m68k-next-nextstep target spec: what a NeXTSTEP
//! program would link. Upstream LLVM writes ELF objects for m68k; the Mach-O
//! path comes with the source toolchain provider.
#![no_std]

use core::sync::atomic::{AtomicU32, Ordering};

static CALLS: AtomicU32 = AtomicU32::new(0);
const GREETING: &[u8] = b"Hello, NeXTSTEP, from Rust!";

/// Copies the greeting into `buf` (at most `len` bytes) and returns the number
/// of bytes copied; counts its calls in an atomic counter.
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn nextrust_hello(buf: *mut u8, len: usize) -> usize {
    CALLS.fetch_add(1, Ordering::Relaxed);
    let n = core::cmp::min(len, GREETING.len());
    core::ptr::copy_nonoverlapping(GREETING.as_ptr(), buf, n);
    n
}

/// How many times `nextrust_hello` ran.
#[no_mangle]
pub extern "C" fn nextrust_hello_calls() -> u32 {
    CALLS.load(Ordering::Relaxed)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
