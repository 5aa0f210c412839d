//! glibc bindings for the hosted programs (m68k-unknown-linux-gnu, 68020+).
use core::ffi::{c_char, c_void};

/// `pthread_t` is an `unsigned long`: 32 bits on m68k.
pub type PthreadT = u32;

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
    fn snprintf(buf: *mut c_char, n: usize, format: *const c_char, ...) -> i32;
}

/// A `u32` shown in decimal through glibc's `snprintf` (see the crate docs for
/// why not core's integer formatting).
#[derive(Clone, Copy)]
pub struct Dec(pub u32);

impl crate::Emit for Dec {
    fn emit(&self, fd: i32) {
        let mut buf = [0u8; 16];
        let n = unsafe { snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%u".as_ptr(), self.0) };
        if n > 0 && (n as usize) < buf.len() {
            crate::write_all(fd, unsafe { core::slice::from_raw_parts(buf.as_ptr(), n as usize) });
        }
    }
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
