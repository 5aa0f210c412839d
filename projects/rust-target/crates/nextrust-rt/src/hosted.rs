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

/// The global allocator of hosted no_std programs: glibc's `malloc`, `free`,
/// `realloc`, and `posix_memalign` for alignments beyond malloc's. With it,
/// `alloc`'s `Vec`, `String`, `Box` and `BTreeMap` work without std.
/// Contract: <https://doc.rust-lang.org/core/alloc/trait.GlobalAlloc.html>.
pub struct Malloc;

/// An alignment glibc's malloc always gives: its MALLOC_ALIGNMENT is at least
/// `2 * sizeof(size_t)` on every target; larger alignments go through
/// `posix_memalign`.
const MALLOC_ALIGN: usize = core::mem::size_of::<usize>();

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn free(ptr: *mut c_void);
    fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> i32;
}

unsafe impl core::alloc::GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            return unsafe { malloc(layout.size()) }.cast();
        }
        let mut out: *mut c_void = core::ptr::null_mut();
        // posix_memalign wants a power of two multiple of the pointer size.
        let align = layout.align().max(core::mem::size_of::<usize>());
        if unsafe { posix_memalign(&mut out, align, layout.size()) } != 0 {
            return core::ptr::null_mut();
        }
        out.cast()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: core::alloc::Layout) {
        unsafe { free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: core::alloc::Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            return unsafe { realloc(ptr.cast(), new_size) }.cast();
        }
        // Over-aligned: a new block, a copy, and the old one freed.
        let new_layout = unsafe { core::alloc::Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Malloc = Malloc;
