//! nextrust-rt: what the no_std test programs share.
//!
//! - `hosted`: glibc's `write`, `exit`, pthreads and `malloc` (the global allocator,
//!   so `alloc` works: `Vec`, `String`, `Box`, `BTreeMap`) (m68k-unknown-linux-gnu, 68020+);
//! - `freestanding`: Linux m68k system calls through `trap #0` (d0 = number,
//!   d1..d3 = arguments), so it runs on every 680x0, the 68000 included.
//!
//! Output is ordinary `core::fmt`: `outln!("n = {n:>5}")` writes to stdout,
//! `errln!` to stderr, with no allocation (each piece is written as it is
//! formatted). The panic handler prints `panicked at FILE:LINE:COLUMN: MESSAGE`
//! on stderr and exits with 101, as Rust's std does.
#![no_std]
#![cfg_attr(feature = "freestanding", feature(asm_experimental_arch))]

#[cfg(all(feature = "hosted", feature = "freestanding"))]
compile_error!("enable one of the features `hosted` and `freestanding`, not both");

#[cfg(feature = "hosted")]
pub mod hosted;
#[cfg(feature = "hosted")]
use hosted as sys;

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

/// A file descriptor as a `core::fmt::Write` sink (unbuffered).
pub struct Fd(pub i32);

impl core::fmt::Write for Fd {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if write_all(self.0, s.as_bytes()) {
            Ok(())
        } else {
            Err(core::fmt::Error)
        }
    }
}

/// Writes formatted text to `fd`: what the `out!`/`outln!`/`errln!` macros call.
pub fn write_fmt(fd: i32, args: core::fmt::Arguments) {
    let _ = core::fmt::Write::write_fmt(&mut Fd(fd), args);
}

/// Ends the process with `code`.
pub fn exit(code: i32) -> ! {
    sys::exit(code)
}

/// Like std's `print!`: formats to stdout.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{ $crate::write_fmt($crate::STDOUT, format_args!($($arg)*)); }};
}

/// Like std's `println!`: formats to stdout, then a newline.
#[macro_export]
macro_rules! outln {
    () => {{ $crate::write_fmt($crate::STDOUT, format_args!("\n")); }};
    ($($arg:tt)*) => {{ $crate::write_fmt($crate::STDOUT, format_args!("{}\n", format_args!($($arg)*))); }};
}

/// Like std's `eprintln!`: formats to stderr, then a newline.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{ $crate::write_fmt($crate::STDERR, format_args!("{}\n", format_args!($($arg)*))); }};
}

/// Prints `panicked at FILE:LINE:COLUMN: MESSAGE` on stderr and exits with 101.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(l) => errln!("panicked at {}:{}:{}: {}", l.file(), l.line(), l.column(), info.message()),
        None => errln!("panicked: {}", info.message()),
    }
    exit(PANIC_EXIT_CODE)
}
