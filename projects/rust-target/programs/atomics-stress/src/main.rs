//! Multi-threaded stress of the atomics: THREADS threads each add 1,
//! ITERATIONS times, to each counter, and the totals must be exact:
//!
//! - `native`: a `cas.l` retry loop (the 68020+ compare-and-swap), in inline
//!   assembly;
//! - `spinlock`: `__sync_fetch_and_add_4`, the spinlock libcall;
//! - `cas`: a retry loop over `__sync_val_compare_and_swap_4` (spinlock CAS);
//! - `u16`, `u8`: `__sync_fetch_and_add_2` / `_1` (totals wrap modulo 2^16, 2^8).
//!
//! - `compiler`: `AtomicU32::fetch_add`, the `cas.l` retry loop rustc emits
//!   (with Debian's unpatched backend it lost updates: a flag-setting register
//!   copy between the loop's compare and its branch, docs/toolchain-bugs.md).
//!
//! A broken lock or loop loses updates, and a lost update changes the printed line.
#![no_std]
#![no_main]
#![feature(asm_experimental_arch)]

use core::arch::asm;
use core::ffi::c_void;
use core::sync::atomic::{AtomicU32, Ordering};
use nextrust_rt::hosted::{join, spawn};
use nextrust_rt::outln;

const THREADS: usize = 4;
const ITERATIONS: u32 = 50_000;

extern "C" {
    fn __sync_fetch_and_add_4(p: *mut u32, v: u32) -> u32;
    fn __sync_val_compare_and_swap_4(p: *mut u32, expected: u32, desired: u32) -> u32;
    fn __sync_fetch_and_add_2(p: *mut u16, v: u16) -> u16;
    fn __sync_fetch_and_add_1(p: *mut u8, v: u8) -> u8;
}

static mut NATIVE: u32 = 0;
static COMPILER: AtomicU32 = AtomicU32::new(0);
static mut SPINLOCK: u32 = 0;
static mut CAS: u32 = 0;
static mut WORD: u16 = 0;
static mut BYTE: u8 = 0;

/// Adds 1 to `*p` with a `cas.l` retry loop. clang/LLVM's integrated m68k
/// assembler has no `cas` mnemonic, so the instruction is emitted as data:
/// 0x0ed0 is `cas.l Dc,Du,(a0)`, extension word 0x0040 selects Dc = d0, Du = d1.
#[inline(always)]
unsafe fn native_increment(p: *mut u32) {
    asm!(
        "move.l (%a0), %d0",
        "2:",
        "move.l %d0, %d1",
        "add.l #1, %d1",
        ".short 0x0ed0, 0x0040",
        "bne 2b",
        in("a0") p,
        out("d0") _,
        out("d1") _,
    );
}

extern "C" fn worker(_: *mut c_void) -> *mut c_void {
    for _ in 0..ITERATIONS {
        unsafe {
            native_increment(&raw mut NATIVE);
            COMPILER.fetch_add(1, Ordering::SeqCst);
            __sync_fetch_and_add_4(&raw mut SPINLOCK, 1);
            loop {
                let seen = core::ptr::read_volatile(&raw const CAS);
                if __sync_val_compare_and_swap_4(&raw mut CAS, seen, seen + 1) == seen {
                    break;
                }
            }
            __sync_fetch_and_add_2(&raw mut WORD, 1);
            __sync_fetch_and_add_1(&raw mut BYTE, 1);
        }
    }
    core::ptr::null_mut()
}

#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let mut threads = [0; THREADS];
    for t in threads.iter_mut() {
        *t = spawn(worker, core::ptr::null_mut());
    }
    for t in threads {
        join(t);
    }
    let (native, spin, cas, word, byte) = unsafe {
        (
            core::ptr::read_volatile(&raw const NATIVE),
            core::ptr::read_volatile(&raw const SPINLOCK),
            core::ptr::read_volatile(&raw const CAS),
            core::ptr::read_volatile(&raw const WORD),
            core::ptr::read_volatile(&raw const BYTE),
        )
    };
    let compiler = COMPILER.load(Ordering::SeqCst);
    outln!(
        "threads={THREADS} iterations={ITERATIONS} native={native} spinlock={spin} cas={cas} u16={word} u8={byte} compiler={compiler}"
    );
    0
}
