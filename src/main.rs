//! The `healthprobe` binary: parse, run, exit. Everything else is in the library.

use std::alloc::{GlobalAlloc, Layout};
use std::process::ExitCode;

use healthprobe::ExitStatus;

/// The allocator: dlmalloc instead of musl's mallocng (a probe makes a few
/// hundred small allocations, which mallocng makes slowly), behind a spin
/// lock instead of dlmalloc's own pthread mutex, whose lock and unlock
/// weighed on every allocation (the figures are in BENCHMARKS.md). Threads
/// are few and hold the lock only inside one malloc or free, so a spin lock
/// is not contended for long.
struct Allocator(spin::Mutex<dlmalloc::Dlmalloc>);

// SAFETY: every call goes through the lock, so dlmalloc's state is used by
// one thread at a time; dlmalloc returns memory with the layout's size and
// alignment, or null.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { self.0.lock().malloc(layout.size(), layout.align()) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.lock().free(ptr, layout.size(), layout.align()) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { self.0.lock().calloc(layout.size(), layout.align()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe {
            self.0
                .lock()
                .realloc(ptr, layout.size(), layout.align(), new_size)
        }
    }
}

#[global_allocator]
static ALLOCATOR: Allocator = Allocator(spin::Mutex::new(dlmalloc::Dlmalloc::new()));

fn main() -> ExitCode {
    if let Err(e) = healthprobe::install_process_guards() {
        eprintln!("healthprobe: error: cannot install signal handlers: {e}");
        return ExitStatus::Unhealthy.into();
    }
    healthprobe::run(
        std::env::args_os(),
        Box::new(std::io::stdout()),
        Box::new(std::io::stderr()),
    )
    .into()
}
