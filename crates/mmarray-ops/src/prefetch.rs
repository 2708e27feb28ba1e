//! Software prefetch: a hint that asks the CPU to start loading memory that a
//! kernel will read soon (x86-64; elsewhere [`lines`] does nothing).
//!
//! The hardware prefetchers follow a stream of loads only within one 4 KiB
//! page. A kernel that reads a mapped file page after page therefore waits on
//! memory at the start of every page; when its own arithmetic is not trivial
//! (float16 sums) these waits add to it rather than overlap it. (Where the
//! arithmetic is trivial, as in float64 sums, or where several streams are read
//! at once, as in axis sums, this was measured to give nothing or to slow down.)
//! Measured on this project's 2-core machine (criterion, `benches/sums.rs`, 1 GiB
//! mapped file in the page cache, one thread): the float16 sum went from 6.9 to
//! 11.2 GiB/s with the prefetch of 8 KiB ahead in [`crate::half`].
//!
//! A gather from the chunks of a chunked array jumps from chunk to chunk every
//! few KiB; there, asking for the next run while copying the current one made
//! the sum of an uncompressed Zarr store 12-22% faster (see `chunked::steps_ahead`).

/// Bytes in one cache line (the step between prefetches).
pub(crate) const LINE: usize = 64;

/// Asks the CPU to bring every cache line of `bytes` into its caches (see
/// [`line`]); a no-op on other architectures.
#[inline(always)]
pub(crate) fn lines(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for at in (0..bytes.len()).step_by(LINE) {
        line(bytes[at..].as_ptr());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// Asks the CPU to bring the cache line holding `p` into its caches. `p` need
/// not point into anything: a prefetch never faults and reads nothing the
/// program sees, so any address is sound (hence `wrapping_add` is enough to
/// make one).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn line(p: *const u8) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: a prefetch is a hint: it never faults, whatever the address, and
    // changes nothing the program can observe. SSE is part of x86-64.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
}
