//! A freestanding program: no libc, `_start` as the entry point, Linux m68k
//! system calls through `trap #0`. It runs on every 680x0, the 68000 included,
//! where its atomics become `__sync_*` libcalls served by the spinlock atomics.
//! It checks its own results and prints `ok` or `BAD` for each (no integer
//! formatting without libc: see nextrust-rt's docs). Built for the 68000 only:
//! on the 68020+ rustc lowers these atomics to `cas.l` loops, which LLVM's m68k
//! backend miscompiles (docs/toolchain-bugs.md); 68000 code runs on every 680x0.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering};
use nextrust_rt::outln;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "BAD"
    }
}

#[no_mangle]
pub extern "C" fn _start() -> ! {
    let rounds = black_box(1000u32);
    for _ in 0..rounds {
        COUNTER.fetch_add(1, Ordering::SeqCst);
    }
    let counted = COUNTER.load(Ordering::SeqCst) == 1000;
    let swapped = COUNTER.compare_exchange(1000, 42, Ordering::SeqCst, Ordering::SeqCst).is_ok();
    let previous = COUNTER.swap(7, Ordering::SeqCst) == 42;
    let last = COUNTER.load(Ordering::SeqCst) == 7;
    outln!(
        "freestanding: counter=", verdict(counted),
        " cas=", verdict(swapped),
        " swap=", verdict(previous),
        " final=", verdict(last),
    );
    nextrust_rt::exit(if counted && swapped && previous && last { 0 } else { 1 })
}
