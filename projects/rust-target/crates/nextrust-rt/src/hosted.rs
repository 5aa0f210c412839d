//! glibc bindings for the hosted programs (m68k-unknown-linux-gnu, 68020+; the
//! same code runs on the build host, which gives the programs' expected output).
use core::ffi::c_void;

/// `pthread_t` is an `unsigned long`: 32 bits on m68k (64 on x86_64, where the
/// corpus programs also run to produce their expected output).
pub type PthreadT = core::ffi::c_ulong;

#[link(name = "c")]
extern "C" {
    #[link_name = "write"]
    fn c_write(fd: i32, buf: *const u8, n: usize) -> isize;
    #[link_name = "exit"]
    fn c_exit(code: i32) -> !;
    fn pthread_create(
        thread: *mut PthreadT,
        attr: *const c_void,
        start: extern "C" fn(*mut c_void) -> *mut c_void,
        arg: *mut c_void,
    ) -> i32;
    fn pthread_join(thread: PthreadT, retval: *mut *mut c_void) -> i32;
}

/// Writes `buf` to `fd`; bytes written, or a negative value on error.
pub fn write(fd: i32, buf: &[u8]) -> isize {
    unsafe { c_write(fd, buf.as_ptr(), buf.len()) }
}

/// Ends the process through glibc's `exit` (flushes, runs atexit handlers).
pub fn exit(code: i32) -> ! {
    unsafe { c_exit(code) }
}

/// Starts a thread running `start(arg)`.
///
/// # Panics
/// When pthread_create fails.
pub fn spawn(start: extern "C" fn(*mut c_void) -> *mut c_void, arg: *mut c_void) -> PthreadT {
    let mut t: PthreadT = 0;
    let rc = unsafe { pthread_create(&mut t, core::ptr::null(), start, arg) };
    assert!(rc == 0, "pthread_create failed: {}", rc);
    t
}

/// Waits for a thread started by `spawn`.
///
/// # Panics
/// When pthread_join fails.
pub fn join(t: PthreadT) {
    let rc = unsafe { pthread_join(t, core::ptr::null_mut()) };
    assert!(rc == 0, "pthread_join failed: {}", rc);
}

/// Host builds only (the build host runs the same programs to produce their
/// expected output): the host's precompiled core refers to the unwinding
/// personality even under `panic = "abort"`; nothing ever calls it.
#[cfg(not(target_arch = "m68k"))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
