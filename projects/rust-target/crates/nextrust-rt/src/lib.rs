//! nextrust-rt: what the no_std test programs share.
//!
//! - `hosted`: glibc's `write`, `exit`, `snprintf` and pthreads
//!   (m68k-unknown-linux-gnu, 68020+);
//! - `freestanding`: Linux m68k system calls through `trap #0` (d0 = number,
//!   d1..d3 = arguments), so it runs on every 680x0, the 68000 included.
//!
//! Output goes through `Emit` and the `out!`/`outln!` macros, not `core::fmt`:
//! LLVM's m68k backend (LLVM 22 in Debian's rustc 1.96, and LLVM 19 in
//! clang-19 alike) miscompiles ordinary loops, and core's formatting machinery
//! is full of them:
//!  - a register copy (`move.l`, which sets the condition codes on the 680x0)
//!    is placed between a compare and its conditional branch, so the branch
//!    tests the copied value (llvm/llvm-project#152816 and #213564; the CCR
//!    preservation of #168485 does not cover every case);
//!  - a store into a stack array at a variable index drops the index register
//!    (llvm/llvm-project#200984).
//! Integers are shown with `Dec`, which calls glibc's `snprintf` (built by
//! gcc; hosted only), or `Hex`, branch-free. See docs/toolchain-bugs.md.
#![no_std]
#![cfg_attr(feature = "freestanding", feature(asm_experimental_arch))]

#[cfg(all(feature = "hosted", feature = "freestanding"))]
compile_error!("enable one of the features `hosted` and `freestanding`, not both");

#[cfg(feature = "hosted")]
pub mod hosted;
#[cfg(feature = "hosted")]
use hosted as sys;
#[cfg(feature = "hosted")]
pub use hosted::Dec;

#[cfg(feature = "freestanding")]
pub mod freestanding;
#[cfg(feature = "freestanding")]
use freestanding as sys;

/// Exit code of a panicking program (the same as Rust's std).
pub const PANIC_EXIT_CODE: i32 = 101;

/// File descriptor of standard output.
pub const STDOUT: i32 = 1;
/// File descriptor of standard error.
pub const STDERR: i32 = 2;

/// Writes all of `bytes` to `fd`; false when a write fails.
pub fn write_all(fd: i32, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        let n = sys::write(fd, bytes);
        if n <= 0 {
            return false;
        }
        bytes = &bytes[n as usize..];
    }
    true
}

/// Something that can be written to a file descriptor.
pub trait Emit {
    /// Writes `self` to `fd`.
    fn emit(&self, fd: i32);
}

impl Emit for &str {
    fn emit(&self, fd: i32) {
        write_all(fd, self.as_bytes());
    }
}

/// A `u32` shown as `0x` and 8 hex digits, by straight-line code with no
/// compare or branch (immune to the CCR bug above); works without libc.
#[derive(Clone, Copy)]
pub struct Hex(pub u32);

impl Emit for Hex {
    fn emit(&self, fd: i32) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let v = self.0;
        let d = |shift: u32| DIGITS[((v >> shift) & 15) as usize];
        let text = [b'0', b'x', d(28), d(24), d(20), d(16), d(12), d(8), d(4), d(0)];
        write_all(fd, &text);
    }
}

/// Ends the process with `code`.
pub fn exit(code: i32) -> ! {
    sys::exit(code)
}

/// Writes each argument (anything `Emit`) to stdout: `out!("n=", Dec(n))`.
#[macro_export]
macro_rules! out {
    ($($e:expr),* $(,)?) => {{ $( $crate::Emit::emit(&$e, $crate::STDOUT); )* }};
}

/// `out!` and a newline.
#[macro_export]
macro_rules! outln {
    ($($e:expr),* $(,)?) => {{ $crate::out!($($e,)* "\n"); }};
}

/// Writes each argument to stderr, then a newline.
#[macro_export]
macro_rules! errln {
    ($($e:expr),* $(,)?) => {{ $( $crate::Emit::emit(&$e, $crate::STDERR); )* $crate::Emit::emit(&"\n", $crate::STDERR); }};
}

/// Prints `panicked at FILE:LINE:COLUMN: MESSAGE` (hosted; the freestanding
/// flavour has no number formatting and prints `FILE: MESSAGE`) on stderr and
/// exits with 101. Messages with format arguments show as `(formatted message)`.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let message = info.message().as_str().unwrap_or("(formatted message)");
    match info.location() {
        #[cfg(feature = "hosted")]
        Some(l) => errln!("panicked at ", l.file(), ":", Dec(l.line()), ":", Dec(l.column()), ": ", message),
        #[cfg(not(feature = "hosted"))]
        Some(l) => errln!("panicked at ", l.file(), ": ", message),
        None => errln!("panicked: ", message),
    }
    exit(PANIC_EXIT_CODE)
}
