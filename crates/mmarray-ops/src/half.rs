//! float16 sums without widening blocks first: the exact sum of each group of
//! [`GROUP`] values, straight from the file's bytes, with F16C (and AVX-512F
//! where the CPU has it).
//!
//! Why this gives the portable build's bits: a finite float16 is an integer
//! multiple of 2^-24 below 2^16 in magnitude, so any partial sum of at most
//! [`GROUP`] (128) of them is a multiple of 2^-24 below 2^23, which needs at
//! most 47 significant bits: every `f64` addition of such values is exact, in
//! whatever order. The portable kernel's 8-lane sum of a group (lanes starting at
//! +0.0) is therefore the exact sum, and so is a sum in any other order from
//! +0.0 accumulators (an exact zero comes out as +0.0 in both). A group holding
//! an infinity or a NaN (the one case where order could matter) has a sum that
//! is not finite (finite values cannot overflow), and such groups are left to
//! the portable kernel. (Which NaN a sum of NaNs gives, its sign and payload, is
//! unspecified in Rust, RFC 3514, for any build; NaN stays NaN.)

use mmarray_dtype::{ByteOrder, cast_slice, decode_prefix, f16};

use crate::engine::{BLOCK, SMALL};
use crate::kernels::GROUP;
#[cfg(target_arch = "x86_64")]
use crate::prefetch;

// The engine widens float16 in blocks of `BLOCK` (or one block of at most
// `SMALL` values) and the sum kernel cuts blocks into groups of `GROUP`: so its
// groups are the `GROUP`-value chunks of a piece, as `Halves::for_each_group`
// gives them.
const _: () = assert!(BLOCK.is_multiple_of(GROUP) && SMALL <= GROUP);

/// Proof that the CPU has AVX2 and F16C: only [`F16c::detect`] makes one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct F16c(Private);

/// Whether the CPU also has AVX-512F (then [`group_sums_avx512`] does the work).
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
struct Private {
    avx512: bool,
}

/// Uninhabited: there is no F16C off x86-64.
#[cfg(not(target_arch = "x86_64"))]
#[derive(Debug, Clone, Copy)]
enum Private {}

impl F16c {
    /// The proof, when the CPU has AVX2 and F16C.
    #[inline]
    pub(crate) fn detect() -> Option<F16c> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            return Some(F16c(Private {
                avx512: std::arch::is_x86_feature_detected!("avx512f"),
            }));
        }
        None
    }

    /// Sets `sums[g]` to the exact sum of the `g`-th group of [`GROUP`] float16
    /// values of `bytes` (in byte order `order`, any alignment; the last group
    /// may be shorter), or to `None` when that group holds an infinity or a NaN.
    /// `sums` has one entry per group.
    fn group_sums(self, bytes: &[u8], order: ByteOrder, sums: &mut [Option<f64>]) {
        #[cfg(target_arch = "x86_64")]
        {
            let F16c(Private { avx512 }) = self;
            let swap = !order.is_native();
            if avx512 {
                // SAFETY: `self` proves that the CPU has AVX2, F16C and AVX-512F.
                unsafe { group_sums_avx512(bytes, swap, sums) };
            } else {
                // SAFETY: `self` proves that the CPU has AVX2 and F16C.
                unsafe { group_sums_f16c(bytes, swap, sums) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        match self.0 {}
    }
}

/// The float16 values of one piece (its bytes, in a byte order), for kernels
/// that add them group by group without widening them to `f32` blocks first.
pub(crate) struct Halves<'a> {
    bytes: &'a [u8],
    order: ByteOrder,
    f16c: F16c,
}

impl<'a> Halves<'a> {
    /// The float16 values of `bytes` in byte order `order` (a trailing odd
    /// byte is ignored, as the widening path ignores it).
    pub(crate) fn new(bytes: &'a [u8], order: ByteOrder, f16c: F16c) -> Halves<'a> {
        let whole = bytes.len() - bytes.len() % size_of::<f16>();
        Halves {
            bytes: &bytes[..whole],
            order,
            f16c,
        }
    }

    /// Calls `f` with each group of [`GROUP`] values in order (the groups the
    /// widening path gives the sum kernel) and its exact sum (`None` when the
    /// group holds an infinity or a NaN).
    #[inline(always)]
    pub(crate) fn for_each_group(&self, mut f: impl FnMut(Option<f64>, HalfGroup<'_>)) {
        const BLOCK_BYTES: usize = BLOCK * size_of::<f16>();
        const GROUP_BYTES: usize = GROUP * size_of::<f16>();
        let mut sums = [None; BLOCK / GROUP];
        for block in self.bytes.chunks(BLOCK_BYTES) {
            let groups = block.len().div_ceil(GROUP_BYTES);
            self.f16c.group_sums(block, self.order, &mut sums[..groups]);
            for (&sum, bytes) in sums.iter().zip(block.chunks(GROUP_BYTES)) {
                f(
                    sum,
                    HalfGroup {
                        bytes,
                        order: self.order,
                    },
                );
            }
        }
    }
}

/// One group of at most [`GROUP`] float16 values.
pub(crate) struct HalfGroup<'a> {
    bytes: &'a [u8],
    order: ByteOrder,
}

impl HalfGroup<'_> {
    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len() / size_of::<f16>()
    }

    /// The values widened to `f32` into `buf`, as the engine's widening path
    /// gives them to kernels.
    pub(crate) fn widen<'b>(&self, buf: &'b mut [f32; GROUP]) -> &'b [f32] {
        let mut raw = [f16::ZERO; GROUP];
        let n = decode_prefix(self.bytes, self.order, &mut raw);
        let out = &mut buf[..n];
        // Same lengths: cannot fail.
        let _ = cast_slice(&raw[..n], out);
        out
    }
}

/// How far ahead [`group_sums_f16c`] prefetches: 8 KiB (2 KiB gave +53%,
/// 8 KiB +62%, 16 KiB +56%, 32 KiB +38% over none, in `benches/sums.rs`' 1 GiB
/// mapped file on one thread).
#[cfg(target_arch = "x86_64")]
const PREFETCH: usize = 8 << 10;

/// [`F16c::group_sums`] with F16C: 16 values per step, converted to `f32` by
/// F16C (exact), then to `f64` and added into four accumulators of four lanes.
///
/// # Safety
///
/// The CPU must have AVX2 and F16C.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,f16c")]
unsafe fn group_sums_f16c(bytes: &[u8], swap: bool, sums: &mut [Option<f64>]) {
    use std::arch::x86_64::{
        __m128i, __m256d, _mm_add_pd, _mm_cvtsd_f64, _mm_loadu_si128, _mm_setr_epi8,
        _mm_shuffle_epi8, _mm_unpackhi_pd, _mm256_add_pd, _mm256_castpd256_pd128,
        _mm256_castps256_ps128, _mm256_cvtph_ps, _mm256_cvtps_pd, _mm256_extractf128_pd,
        _mm256_extractf128_ps, _mm256_setzero_pd,
    };
    // Swaps the two bytes of every 16-bit lane.
    let swap_mask = _mm_setr_epi8(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
    for (group, sum) in bytes.chunks(GROUP * size_of::<f16>()).zip(sums) {
        let mut acc: [__m256d; 4] = [_mm256_setzero_pd(); 4];
        // The lines `PREFETCH` bytes ahead (past the end of `bytes` too: the
        // segment goes on in memory), see `crate::prefetch`.
        for line in (0..GROUP * size_of::<f16>()).step_by(prefetch::LINE) {
            prefetch::line(group.as_ptr().wrapping_add(PREFETCH + line));
        }
        let mut step = |c: &[u8; 32]| {
            // SAFETY: `c` is 32 readable bytes; the loads accept any alignment
            // (hence the allowed pointer casts).
            #[allow(clippy::cast_ptr_alignment)]
            let (mut lo, mut hi) = unsafe {
                (
                    _mm_loadu_si128(c.as_ptr().cast::<__m128i>()),
                    _mm_loadu_si128(c[16..].as_ptr().cast::<__m128i>()),
                )
            };
            if swap {
                lo = _mm_shuffle_epi8(lo, swap_mask);
                hi = _mm_shuffle_epi8(hi, swap_mask);
            }
            let (lo, hi) = (_mm256_cvtph_ps(lo), _mm256_cvtph_ps(hi));
            acc[0] = _mm256_add_pd(acc[0], _mm256_cvtps_pd(_mm256_castps256_ps128(lo)));
            acc[1] = _mm256_add_pd(acc[1], _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(lo)));
            acc[2] = _mm256_add_pd(acc[2], _mm256_cvtps_pd(_mm256_castps256_ps128(hi)));
            acc[3] = _mm256_add_pd(acc[3], _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(hi)));
        };
        let (steps, rest) = group.as_chunks::<32>();
        for c in steps {
            step(c);
        }
        if !rest.is_empty() {
            // Padded with zeros, which add nothing (and stay +0.0 from +0.0).
            let mut pad = [0u8; 32];
            pad[..rest.len()].copy_from_slice(rest);
            step(&pad);
        }
        let all = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
        let two = _mm_add_pd(_mm256_castpd256_pd128(all), _mm256_extractf128_pd::<1>(all));
        let total = _mm_cvtsd_f64(_mm_add_pd(two, _mm_unpackhi_pd(two, two)));
        // Finite values never overflow: a sum that is not finite means an
        // infinity or a NaN in the group.
        *sum = total.is_finite().then_some(total);
    }
}

/// [`F16c::group_sums`] with AVX-512F: 8 values per step, converted to `f32` by
/// F16C (exact), then to 8 `f64` lanes and added into four accumulators. Half
/// the conversion instructions of [`group_sums_f16c`], whose conversions (not
/// memory) bound a float16 sum: the exact sums, so the same results.
///
/// # Safety
///
/// The CPU must have AVX2, F16C and AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,f16c,avx512f")]
unsafe fn group_sums_avx512(bytes: &[u8], swap: bool, sums: &mut [Option<f64>]) {
    use std::arch::x86_64::{
        __m128i, __m512d, _mm_loadu_si128, _mm_setr_epi8, _mm_shuffle_epi8, _mm256_cvtph_ps,
        _mm512_add_pd, _mm512_cvtps_pd, _mm512_reduce_add_pd, _mm512_setzero_pd,
    };
    // Swaps the two bytes of every 16-bit lane.
    let swap_mask = _mm_setr_epi8(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
    for (group, sum) in bytes.chunks(GROUP * size_of::<f16>()).zip(sums) {
        let mut acc: [__m512d; 4] = [_mm512_setzero_pd(); 4];
        // As in `group_sums_f16c`.
        for line in (0..GROUP * size_of::<f16>()).step_by(prefetch::LINE) {
            prefetch::line(group.as_ptr().wrapping_add(PREFETCH + line));
        }
        let step = |c: &[u8; 16]| {
            // SAFETY: `c` is 16 readable bytes; the load accepts any alignment
            // (hence the allowed pointer cast).
            #[allow(clippy::cast_ptr_alignment)]
            let mut x = unsafe { _mm_loadu_si128(c.as_ptr().cast::<__m128i>()) };
            if swap {
                x = _mm_shuffle_epi8(x, swap_mask);
            }
            _mm512_cvtps_pd(_mm256_cvtph_ps(x))
        };
        let (steps, rest) = group.as_chunks::<16>();
        let (fours, ones) = steps.as_chunks::<4>();
        for c in fours {
            for (a, c) in acc.iter_mut().zip(c) {
                *a = _mm512_add_pd(*a, step(c));
            }
        }
        for (a, c) in acc.iter_mut().zip(ones) {
            *a = _mm512_add_pd(*a, step(c));
        }
        if !rest.is_empty() {
            // Padded with zeros, which add nothing (and stay +0.0 from +0.0).
            let mut pad = [0u8; 16];
            pad[..rest.len()].copy_from_slice(rest);
            acc[3] = _mm512_add_pd(acc[3], step(&pad));
        }
        let all = _mm512_add_pd(_mm512_add_pd(acc[0], acc[1]), _mm512_add_pd(acc[2], acc[3]));
        let total = _mm512_reduce_add_pd(all);
        // As in `group_sums_f16c`.
        *sum = total.is_finite().then_some(total);
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The group sums (as bits) of both x86 kernels for `bytes`, AVX2 first,
    /// or `None` (and a `SKIPPED:` line) when the CPU lacks AVX-512F. The
    /// engine's tests check the dispatched kernel against the portable one;
    /// this checks the kernel the dispatch does not pick here.
    fn both_kernels(bytes: &[u8], swap: bool) -> Option<[Vec<Option<u64>>; 2]> {
        if !(std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("f16c")
            && std::arch::is_x86_feature_detected!("avx512f"))
        {
            crate::test_skip::skipped(
                "half::tests",
                "the CPU lacks AVX2, F16C or AVX-512F: the two float16 kernels are not compared",
            );
            return None;
        }
        let groups = bytes.len().div_ceil(GROUP * size_of::<f16>());
        let (mut avx2, mut avx512) = (vec![None; groups], vec![None; groups]);
        // SAFETY: the CPU has AVX2, F16C and AVX-512F (checked above).
        unsafe {
            group_sums_f16c(bytes, swap, &mut avx2);
            group_sums_avx512(bytes, swap, &mut avx512);
        }
        let bits = |v: Vec<Option<f64>>| v.into_iter().map(|s| s.map(f64::to_bits)).collect();
        Some([bits(avx2), bits(avx512)])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The AVX-512 kernel gives every group the AVX2 kernel's sum, bit for
        /// bit (and `None` for the same groups), for any bits, lengths (partial
        /// groups and steps), byte orders and alignments.
        #[test]
        fn avx512_group_sums_are_the_avx2_ones(
            bits in prop::collection::vec(any::<u16>(), 0..1100),
            swap in any::<bool>(),
            shift in 0usize..2,
        ) {
            let mut buf = vec![0u8; shift];
            buf.extend(bits.iter().flat_map(|b| b.to_le_bytes()));
            if let Some([avx2, avx512]) = both_kernels(&buf[shift..], swap) {
                prop_assert_eq!(avx2, avx512);
            }
        }
    }

    /// The same over every float16 bit pattern in order, and over the largest
    /// finite values of both signs (the largest exact sums).
    #[test]
    fn avx512_group_sums_of_every_pattern_are_the_avx2_ones() {
        let every: Vec<u16> = (0..=u16::MAX).collect();
        let largest = [0x7bffu16, 0x7bff, 0xfbff, 0x7bff].repeat(300);
        for bits in [&every, &largest] {
            // `swap`: the bytes are in the other order than the CPU's.
            for swap in [false, true] {
                let bytes: Vec<u8> = bits
                    .iter()
                    .flat_map(|&b| if swap { b.swap_bytes() } else { b }.to_ne_bytes())
                    .collect();
                if let Some([avx2, avx512]) = both_kernels(&bytes, swap) {
                    assert_eq!(avx2, avx512, "swap {swap}");
                    assert!(
                        avx2.iter().any(Option::is_some),
                        "finite groups were summed"
                    );
                }
            }
        }
    }
}
