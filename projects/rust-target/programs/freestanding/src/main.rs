//! A freestanding program: no libc, `_start` as the entry point, Linux m68k
//! system calls through `trap #0`. Built for the 68000, where its atomics
//! become `__sync_*` libcalls served by the spinlock atomics; 68000 code runs
//! on every 680x0.
//!
//! It prints the values it computed in hex, with no compare or branch of its
//! own after the loop: LLVM's m68k backend miscompiles selects and branches
//! (a flag-setting register copy between a compare and its branch, see
//! docs/toolchain-bugs.md), so the checking is left to the test manifest.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering};
use nextrust_rt::{outln, Hex};

static COUNTER: AtomicU32 = AtomicU32::new(0);

#[no_mangle]
pub extern "C" fn _start() -> ! {
    let rounds = black_box(1000u32);
    for _ in 0..rounds {
        COUNTER.fetch_add(1, Ordering::SeqCst);
    }
    let counted = COUNTER.load(Ordering::SeqCst);
    // __sync_val_compare_and_swap_4: returns the value seen (1000), stores 42.
    let seen = match COUNTER.compare_exchange(1000, 42, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(v) | Err(v) => v,
    };
    let previous = COUNTER.swap(7, Ordering::SeqCst);
    let last = COUNTER.load(Ordering::SeqCst);
    outln!(
        "freestanding: counter=", Hex(counted),
        " cas=", Hex(seen),
        " swap=", Hex(previous),
        " final=", Hex(last),
    );
    nextrust_rt::exit(0)
}
