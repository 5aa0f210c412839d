//! Linux m68k system calls without libc: `trap #0`, number in d0, arguments
//! in d1..d3, result in d0 (a negative errno on failure). Runs on every 680x0.
use core::arch::asm;

const SYS_EXIT: u32 = 1;
const SYS_WRITE: u32 = 4;

/// write(2): bytes written, or a negative errno.
pub fn write(fd: i32, buf: &[u8]) -> isize {
    let ret: i32;
    unsafe {
        asm!("trap #0",
             inlateout("d0") SYS_WRITE as i32 => ret,
             in("d1") fd,
             in("d2") buf.as_ptr(),
             in("d3") buf.len(),
             options(nostack));
    }
    ret as isize
}

/// exit(2).
pub fn exit(code: i32) -> ! {
    unsafe {
        asm!("trap #0", in("d0") SYS_EXIT, in("d1") code, options(noreturn, nostack));
    }
}

/// `abort`: LLVM's m68k backend lowers traps (`core::intrinsics::abort`, the
/// end of the panic path) to a call of `abort`, which libc would provide.
/// Exits with 134 (128 + SIGABRT), as a shell reports an aborted process.
#[no_mangle]
pub extern "C" fn abort() -> ! {
    exit(134)
}
