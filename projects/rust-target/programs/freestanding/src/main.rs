//! A freestanding program: no libc, `_start` as the entry point, Linux m68k
//! system calls through `trap #0`. Built for the 68000, where its atomics
//! become `__sync_*` libcalls served by the spinlock atomics; 68000 code runs
//! on every 680x0. It checks its own results (ordinary compares, branches and
//! `core::fmt`) and exits 1 when one is wrong.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering};
use nextrust_rt::{exit, outln};

static COUNTER: AtomicU32 = AtomicU32::new(0);

#[no_mangle]
pub extern "C" fn _start() -> ! {
    let rounds = black_box(1000u32);
    for _ in 0..rounds {
        COUNTER.fetch_add(1, Ordering::SeqCst);
    }
    let counted = COUNTER.load(Ordering::SeqCst);
    let seen = match COUNTER.compare_exchange(1000, 42, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(v) | Err(v) => v,
    };
    let previous = COUNTER.swap(7, Ordering::SeqCst);
    let last = COUNTER.load(Ordering::SeqCst);
    outln!("freestanding: counter={counted} cas={seen} swap={previous} final={last:#x}");
    let ok = counted == 1000 && seen == 1000 && previous == 42 && last == 7;
    outln!("{}", if ok { "freestanding: ok" } else { "freestanding: WRONG" });
    exit(if ok { 0 } else { 1 })
}
