//! Bulk codecs: byte swaps, decoding bytes of either byte order into values,
//! encoding them back, and casts between kinds.
//!
//! These are the hot path of every non-native file. The loops are written over
//! fixed-size byte arrays so that the compiler turns them into vector shuffles,
//! and float16 goes through `half`'s slice conversions (F16C where the CPU has it).

use std::any::TypeId;
use std::mem::size_of;

use half::f16;
use half::slice::HalfFloatSliceExt;

use crate::element::{cvtt_u32_vector, f32_round_to_odd};
use crate::{ByteOrder, Class, DType, DTypeError, Element, Kind, Native};

/// Reverses the bytes of every `unit`-byte group of `bytes` in place.
///
/// `unit` is 1, 2, 4, 8 or 16 (1 does nothing; 16 swaps whole 16-byte values, and a
/// complex dtype swaps its real and imaginary parts separately: use
/// [`Kind::swap_unit`]). Trailing bytes that do not fill a whole unit are left as
/// they are.
///
/// ```
/// let mut b = [1u8, 2, 3, 4, 5, 6, 7, 8];
/// mmarray_dtype::byteswap_bytes(&mut b, 4);
/// assert_eq!(b, [4, 3, 2, 1, 8, 7, 6, 5]);
/// ```
pub fn byteswap_bytes(bytes: &mut [u8], unit: usize) {
    match unit {
        2 => swap_in_place::<2>(bytes),
        4 => swap_in_place::<4>(bytes),
        8 => swap_in_place::<8>(bytes),
        16 => swap_in_place::<16>(bytes),
        _ if unit > 1 => bytes.chunks_exact_mut(unit).for_each(<[u8]>::reverse),
        _ => {}
    }
}

fn swap_in_place<const N: usize>(bytes: &mut [u8]) {
    let (units, _) = bytes.as_chunks_mut::<N>();
    for u in units {
        u.reverse();
    }
}

/// Copies `src` into `dst` (same length), reversing each `unit`-byte group; with
/// AVX2 byte shuffles where the CPU has them.
fn copy_swapped(src: &[u8], dst: &mut [u8], unit: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { copy_swapped_avx2(src, dst, unit) };
        return;
    }
    copy_swapped_any(src, dst, unit);
}

/// [`copy_swapped_any`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn copy_swapped_avx2(src: &[u8], dst: &mut [u8], unit: usize) {
    copy_swapped_any(src, dst, unit);
}

#[inline(always)]
fn copy_swapped_any(src: &[u8], dst: &mut [u8], unit: usize) {
    /// Swaps through integers, which the compiler turns into byte shuffles.
    macro_rules! go {
        ($t:ty) => {{
            const N: usize = size_of::<$t>();
            let (s, _) = src.as_chunks::<N>();
            let (d, _) = dst.as_chunks_mut::<N>();
            for (d, s) in d.iter_mut().zip(s) {
                *d = <$t>::from_ne_bytes(*s).swap_bytes().to_ne_bytes();
            }
        }};
    }
    match unit {
        2 => go!(u16),
        4 => go!(u32),
        8 => go!(u64),
        _ => {
            dst.copy_from_slice(src);
            byteswap_bytes(dst, unit);
        }
    }
}

/// float16 -> float32 in bulk (exact), eight at a time with F16C where the CPU
/// has it.
fn f16_to_f32_slice(src: &[f16], dst: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("f16c") && std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has F16C and AVX (checked just above).
        unsafe { f16_to_f32_f16c(src, dst) };
        return;
    }
    src.convert_to_f32_slice(dst);
}

/// # Safety
///
/// The CPU must have F16C and AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "f16c,avx")]
unsafe fn f16_to_f32_f16c(src: &[f16], dst: &mut [f32]) {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm256_cvtph_ps, _mm256_storeu_ps};
    let (s8, s_rest) = src.as_chunks::<8>();
    let (d8, d_rest) = dst.as_chunks_mut::<8>();
    for (d, s) in d8.iter_mut().zip(s8) {
        // SAFETY: `s` is 16 readable bytes and `d` 32 writable bytes; both
        // intrinsics accept any alignment (hence the allowed pointer cast).
        #[allow(clippy::cast_ptr_alignment)]
        unsafe {
            let halves = _mm_loadu_si128(s.as_ptr().cast::<__m128i>());
            _mm256_storeu_ps(d.as_mut_ptr(), _mm256_cvtph_ps(halves));
        }
    }
    for (d, s) in d_rest.iter_mut().zip(s_rest) {
        *d = s.to_f32();
    }
}

fn check_element<T: Element>() -> Result<(), DTypeError> {
    let (size, itemsize) = (size_of::<T>(), T::KIND.itemsize());
    if size == itemsize {
        Ok(())
    } else {
        Err(DTypeError::ElementSize {
            dtype: DType::native(T::KIND),
            size,
            itemsize,
        })
    }
}

fn check_lengths(dtype: DType, src: usize, dst: usize) -> Result<(), DTypeError> {
    if src == dst {
        Ok(())
    } else {
        Err(DTypeError::LengthMismatch {
            dtype,
            src,
            dst,
            itemsize: dtype.itemsize(),
        })
    }
}

/// Byte-swaps every element in place (each half of a complex value separately).
///
/// Swapping twice gives back the original bytes.
///
/// ```
/// let mut v = [1u16, 0x0102];
/// mmarray_dtype::byteswap(&mut v);
/// assert_eq!(v, [0x0100, 0x0201]);
/// ```
pub fn byteswap<T: Element>(values: &mut [T]) {
    byteswap_bytes(bytemuck::cast_slice_mut(values), T::KIND.swap_unit());
}

/// Decodes `src`, elements stored in byte order `order`, into native values.
///
/// `src` must hold exactly `dst.len()` elements; it may have any alignment.
///
/// ```
/// use mmarray_dtype::{ByteOrder, decode};
/// let be = 1.5f64.to_be_bytes();
/// let mut out = [0.0f64];
/// decode(&be, ByteOrder::Big, &mut out)?;
/// assert_eq!(out, [1.5]);
/// # Ok::<(), mmarray_dtype::DTypeError>(())
/// ```
pub fn decode<T: Element>(src: &[u8], order: ByteOrder, dst: &mut [T]) -> Result<(), DTypeError> {
    check_element::<T>()?;
    let dst: &mut [u8] = bytemuck::cast_slice_mut(dst);
    check_lengths(DType::new(T::KIND, order), src.len(), dst.len())?;
    if order.is_native() {
        dst.copy_from_slice(src);
    } else {
        copy_swapped(src, dst, T::KIND.swap_unit());
    }
    Ok(())
}

/// Encodes native values into bytes of byte order `order` (the inverse of [`decode`]).
///
/// ```
/// use mmarray_dtype::{ByteOrder, encode};
/// let mut out = [0u8; 4];
/// encode(&[0x0102_0304u32], ByteOrder::Big, &mut out)?;
/// assert_eq!(out, [1, 2, 3, 4]);
/// # Ok::<(), mmarray_dtype::DTypeError>(())
/// ```
pub fn encode<T: Element>(src: &[T], order: ByteOrder, dst: &mut [u8]) -> Result<(), DTypeError> {
    check_element::<T>()?;
    let src: &[u8] = bytemuck::cast_slice(src);
    check_lengths(DType::new(T::KIND, order), src.len(), dst.len())?;
    if order.is_native() {
        dst.copy_from_slice(src);
    } else {
        copy_swapped(src, dst, T::KIND.swap_unit());
    }
    Ok(())
}

/// Decodes as many whole elements as both `src` and `dst` hold (numpy's values
/// of bytes in byte order `order`) and returns how many: the form of [`decode`]
/// for loops whose lengths agree by construction, which cannot fail. An
/// `Element` whose size is not its kind's item size decodes nothing (0).
///
/// ```
/// use mmarray_dtype::{ByteOrder, decode_prefix};
/// let be: Vec<u8> = [1u16, 2, 3].iter().flat_map(|v| v.to_be_bytes()).collect();
/// let mut out = [0u16; 2];
/// assert_eq!(decode_prefix(&be, ByteOrder::Big, &mut out), 2);
/// assert_eq!(out, [1, 2]);
/// ```
pub fn decode_prefix<T: Element>(src: &[u8], order: ByteOrder, dst: &mut [T]) -> usize {
    if check_element::<T>().is_err() {
        return 0;
    }
    let size = size_of::<T>();
    let n = (src.len() / size).min(dst.len());
    let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut dst[..n]);
    if order.is_native() {
        dst.copy_from_slice(&src[..n * size]);
    } else {
        copy_swapped(&src[..n * size], dst, T::KIND.swap_unit());
    }
    n
}

/// Encodes as many whole elements as both `src` and `dst` hold into bytes of
/// byte order `order` and returns how many (the infallible form of [`encode`],
/// as [`decode_prefix`] is of [`decode`]).
///
/// ```
/// use mmarray_dtype::{ByteOrder, encode_prefix};
/// let mut out = [0u8; 4];
/// assert_eq!(encode_prefix(&[0x0102u16, 0x0304, 5], ByteOrder::Big, &mut out), 2);
/// assert_eq!(out, [1, 2, 3, 4]);
/// ```
pub fn encode_prefix<T: Element>(src: &[T], order: ByteOrder, dst: &mut [u8]) -> usize {
    if check_element::<T>().is_err() {
        return 0;
    }
    let size = size_of::<T>();
    let n = src.len().min(dst.len() / size);
    let src: &[u8] = bytemuck::cast_slice(&src[..n]);
    if order.is_native() {
        dst[..n * size].copy_from_slice(src);
    } else {
        copy_swapped(src, &mut dst[..n * size], T::KIND.swap_unit());
    }
    n
}

/// `Some(slice as &[U])` when `T` is `U`.
fn same_type<T: bytemuck::Pod, U: bytemuck::Pod>(s: &[T]) -> Option<&[U]> {
    if TypeId::of::<T>() == TypeId::of::<U>() {
        bytemuck::try_cast_slice(s).ok()
    } else {
        None
    }
}

fn same_type_mut<T: bytemuck::Pod, U: bytemuck::Pod>(s: &mut [T]) -> Option<&mut [U]> {
    if TypeId::of::<T>() == TypeId::of::<U>() {
        bytemuck::try_cast_slice_mut(s).ok()
    } else {
        None
    }
}

/// Casts native values of one kind into another with numpy's `astype`
/// (unsafe casting) semantics; see the [crate docs](crate#casting) for the cases
/// where Rust and numpy differ.
///
/// ```
/// let mut out = [0u8; 3];
/// mmarray_dtype::cast_slice(&[1.9f64, -1.0, 300.0], &mut out)?;
/// assert_eq!(out, [1, 255, 44]); // truncation toward zero, low bits out of range (as numpy)
/// # Ok::<(), mmarray_dtype::DTypeError>(())
/// ```
pub fn cast_slice<S: Native, D: Native>(src: &[S], dst: &mut [D]) -> Result<(), DTypeError> {
    if src.len() != dst.len() {
        return Err(DTypeError::LengthMismatch {
            dtype: DType::native(D::KIND),
            src: size_of_val(src),
            dst: size_of_val(dst),
            itemsize: size_of::<D>(),
        });
    }
    // A cast to the same type copies the bits, as numpy's `astype` does (a signaling
    // NaN stays signaling, a bool byte 2 stays 2).
    if let Some(s) = same_type::<S, D>(src) {
        dst.copy_from_slice(s);
        return Ok(());
    }
    // float16 goes through half's (SIMD where available) slice conversions.
    if let Some(h) = same_type::<S, f16>(src) {
        if let Some(d) = same_type_mut::<D, f32>(dst) {
            f16_to_f32_slice(h, d);
            return Ok(());
        }
        if let Some(d) = same_type_mut::<D, f64>(dst) {
            h.convert_to_f64_slice(d);
            return Ok(());
        }
    }
    if let Some(d) = same_type_mut::<D, f16>(dst) {
        if let Some(s) = same_type::<S, f32>(src) {
            d.convert_from_f32_slice(s);
            return Ok(());
        }
        if let Some(s) = same_type::<S, f64>(src) {
            f16_from_f64_slice(s, d);
            return Ok(());
        }
    }
    cast_elements(src, dst, Part::Whole);
    Ok(())
}

/// Which part of an array a slice being cast is (numpy's contiguous float ->
/// uint32 loops treat the end of an array differently from the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Not the end of the array (its first or a middle slice): no end rule.
    Middle,
    /// The end of an array that began in earlier slices.
    Last,
    /// The whole array.
    Whole,
}

/// The element loop of [`cast_slice`] over `src`, which is `part` of an array.
fn cast_elements<S: Native, D: Native>(src: &[S], dst: &mut [D], part: Part) {
    if let Some(d) = same_type_mut::<D, u32>(dst)
        && matches!(S::KIND.class(), Class::Float | Class::Complex)
        && S::KIND != Kind::F16
    {
        float_to_u32_like_numpy(src, d, part);
        return;
    }
    for (d, s) in dst.iter_mut().zip(src) {
        *d = s.cast();
    }
}

/// float32/float64/complex -> uint32 as numpy's contiguous cast loop gives it on
/// x86-64: groups of four through the vector sequence (see [`cvtt_u32_vector`]),
/// the rest through the scalar one; they differ only for values that do not fit.
/// At the end of an array of `n` items, float32 and float64 leave `n % 4` items to
/// the scalar loop, complex64 `(n - 1) % 4 + 1` (one to four), and complex128 the
/// same but all of them when `n <= 5` (numpy 2.4.6, measured).
fn float_to_u32_like_numpy<S: Native>(src: &[S], dst: &mut [u32], part: Part) {
    let n = src.len();
    let end = part != Part::Middle;
    let groups = match S::KIND {
        // "All of them when n <= 5" is about the whole array's n, not a slice's.
        Kind::C128 if part == Part::Whole && n <= 5 => 0,
        Kind::C64 | Kind::C128 if end => n.saturating_sub(1) / 4,
        _ => n / 4,
    };
    let (vector, scalar) = src.split_at(4 * groups);
    let (dst_vector, dst_scalar) = dst.split_at_mut(4 * groups);
    for (d, s) in dst_vector.iter_mut().zip(vector) {
        *d = cvtt_u32_vector(s.to_f64());
    }
    for (d, s) in dst_scalar.iter_mut().zip(scalar) {
        *d = s.cast();
    }
}

/// float64 -> float16 in bulk, rounded once (see [`crate::element::f16_from_f64`]): round to odd into a
/// float32 block, then half's (F16C where available) float32 conversion.
fn f16_from_f64_slice(src: &[f64], dst: &mut [f16]) {
    let mut wide = [0.0f32; 256];
    for (s, d) in src.chunks(wide.len()).zip(dst.chunks_mut(wide.len())) {
        let wide = &mut wide[..s.len()];
        for (w, &v) in wide.iter_mut().zip(s) {
            *w = f32_round_to_odd(v);
        }
        d.convert_from_f32_slice(wide);
    }
}

/// Elements per block of [`convert`]'s stack buffers (16 KiB for complex128).
const BLOCK: usize = 1024;

/// Converts encoded elements of dtype `from` into encoded elements of dtype `to`:
/// decode, [`cast_slice`], encode, in cache-sized blocks without allocating.
///
/// `src` and `dst` may have any alignment and must hold the same number of elements.
///
/// ```
/// use mmarray_dtype::{DType, convert};
/// let src = 2.5f64.to_be_bytes();
/// let mut dst = [0u8; 4];
/// convert(&src, ">f8".parse()?, &mut dst, "<f4".parse()?)?;
/// assert_eq!(f32::from_le_bytes(dst), 2.5);
/// # Ok::<(), mmarray_dtype::DTypeError>(())
/// ```
pub fn convert(src: &[u8], from: DType, dst: &mut [u8], to: DType) -> Result<(), DTypeError> {
    convert_part(src, from, dst, to, true, true)
}

/// [`convert`] for one piece of a larger array converted piece by piece in order:
/// `first` says whether the array starts with this piece, `last` whether it ends
/// with it. numpy's contiguous
/// float/complex -> uint32 loops treat the end of an array differently from the
/// rest (see the [crate docs](crate#casting)), so the pieces of an array converted
/// with the right `last` give numpy's bytes for the whole array. Pieces other than
/// the last should hold a multiple of four items.
///
/// ```
/// use mmarray_dtype::{DType, Kind, convert_part};
/// let (c8, u4) = (DType::native(Kind::C64), DType::native(Kind::U32));
/// let src: Vec<u8> = [-3e9f32, 0.0].repeat(8).iter().flat_map(|v| v.to_ne_bytes()).collect();
/// let (mut whole, mut parts) = ([0u8; 32], [0u8; 32]);
/// mmarray_dtype::convert(&src, c8, &mut whole, u4)?;
/// convert_part(&src[..32], c8, &mut parts[..16], u4, true, false)?;
/// convert_part(&src[32..], c8, &mut parts[16..], u4, false, true)?;
/// assert_eq!(whole, parts);
/// # Ok::<(), mmarray_dtype::DTypeError>(())
/// ```
pub fn convert_part(
    src: &[u8],
    from: DType,
    dst: &mut [u8],
    to: DType,
    first: bool,
    last: bool,
) -> Result<(), DTypeError> {
    let n = src.len() / from.itemsize();
    check_lengths(from, src.len(), n * from.itemsize())?;
    check_lengths(to, n * to.itemsize(), dst.len())?;
    if from.kind() == to.kind() {
        if from.byte_order() == to.byte_order() {
            dst.copy_from_slice(src);
        } else {
            copy_swapped(src, dst, from.kind().swap_unit());
        }
        return Ok(());
    }
    crate::dispatch!(from.kind(), S => crate::dispatch!(to.kind(), D => {
        convert_blocks::<S, D>(src, from.byte_order(), dst, to.byte_order(), (first, last));
    }));
    Ok(())
}

fn convert_blocks<S: Native, D: Native>(
    src: &[u8],
    from: ByteOrder,
    dst: &mut [u8],
    to: ByteOrder,
    (first, last): (bool, bool),
) {
    let mut a = [S::zeroed(); BLOCK];
    let mut b = [D::zeroed(); BLOCK];
    let src_blocks = src.chunks(BLOCK * size_of::<S>());
    let dst_blocks = dst.chunks_mut(BLOCK * size_of::<D>());
    let blocks = src_blocks.len();
    for (i, (s, d)) in src_blocks.zip(dst_blocks).enumerate() {
        let k = s.len() / size_of::<S>();
        // The lengths agree by construction (`convert` checked them), so these cannot fail.
        let ok = decode(s, from, &mut a[..k]).is_ok();
        let part = match (first && i == 0, last && i + 1 == blocks) {
            (true, true) => Part::Whole,
            (_, true) => Part::Last,
            _ => Part::Middle,
        };
        cast_elements(&a[..k], &mut b[..k], part);
        let ok = ok && encode(&b[..k], to, d).is_ok();
        debug_assert!(ok);
    }
}

/// Whether `kind`'s Rust type is `T` (for code that received a dtype at run time).
#[must_use]
pub fn is_kind<T: Element>(kind: Kind) -> bool {
    T::KIND == kind && size_of::<T>() == kind.itemsize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bool, Complex32, Complex64};

    #[test]
    fn block_ends_do_not_change_a_whole_array_cast_to_uint32() {
        // Out-of-range values, where numpy's vector and scalar loops differ; lengths
        // around convert's 1024-element blocks, so that the last block is short (the
        // complex128 "all scalar when n <= 5" rule is about the whole array).
        for n in [1, 5, 6, 1021, 1024, 1025, 1028, 1029, 1030, 2053] {
            let values: Vec<f64> = (0..2 * n).map(|i| -3e9 + i as f64 * 1e7).collect();
            let c16: Vec<Complex64> = values
                .chunks(2)
                .map(|c| Complex64::new(c[0], c[1]))
                .collect();
            let mut want = vec![0u32; n];
            cast_slice(&c16, &mut want).unwrap();
            let src: Vec<u8> = bytemuck::cast_slice(&c16).to_vec();
            let mut got = vec![0u8; 4 * n];
            convert(
                &src,
                DType::native(Kind::C128),
                &mut got,
                DType::native(Kind::U32),
            )
            .unwrap();
            assert_eq!(
                bytemuck::cast_slice::<u8, u32>(&got),
                want.as_slice(),
                "complex128 n={n}"
            );
            let f8 = &values[..n];
            let mut want = vec![0u32; n];
            cast_slice(f8, &mut want).unwrap();
            let mut got = vec![0u8; 4 * n];
            convert(
                bytemuck::cast_slice(f8),
                DType::native(Kind::F64),
                &mut got,
                DType::native(Kind::U32),
            )
            .unwrap();
            assert_eq!(
                bytemuck::cast_slice::<u8, u32>(&got),
                want.as_slice(),
                "float64 n={n}"
            );
        }
    }

    /// Says (SKIPPED line) when the CPU lacks `what`, so that `test` compares the
    /// portable code with itself.
    fn note_missing(test: &str, present: bool, what: &str) {
        if !present {
            crate::test_skip::skipped(
                test,
                &format!(
                    "the CPU lacks {what}: the dispatched code is the portable one, compared with itself"
                ),
            );
        }
    }

    fn has_avx2() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    fn has_f16c() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("f16c")
            && std::arch::is_x86_feature_detected!("avx");
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    #[test]
    fn swapped_copies_agree_with_reversing_each_unit() {
        note_missing(
            "codec::tests::swapped_copies_agree_with_reversing_each_unit",
            has_avx2(),
            "AVX2",
        );
        // Odd lengths leave a partial unit, which is not written.
        let src: Vec<u8> = (0..1003u32).map(|i| (i * 37 % 251) as u8).collect();
        for unit in [2, 4, 8, 16] {
            let mut want = src.clone();
            for u in want.chunks_exact_mut(unit) {
                u.reverse();
            }
            let whole = src.len() / unit * unit;
            let mut got = vec![0u8; src.len()];
            copy_swapped_any(&src, &mut got, unit);
            assert_eq!(got[..whole], want[..whole], "unit {unit}");
            let mut dispatched = vec![0u8; src.len()];
            copy_swapped(&src, &mut dispatched, unit);
            assert_eq!(dispatched[..whole], want[..whole], "unit {unit}");
        }
    }

    #[test]
    fn f16_to_f32_matches_the_scalar_conversion_for_every_pattern() {
        note_missing(
            "codec::tests::f16_to_f32_matches_the_scalar_conversion_for_every_pattern",
            has_f16c(),
            "F16C/AVX",
        );
        let halves: Vec<f16> = (0..=u16::MAX).map(f16::from_bits).collect();
        // Uneven length: the tail after the last group of 8 too.
        let halves = &halves[..halves.len() - 3];
        let mut got = vec![0.0f32; halves.len()];
        f16_to_f32_slice(halves, &mut got);
        for (h, g) in halves.iter().zip(&got) {
            let want = h.to_f32();
            assert!(
                want.to_bits() == g.to_bits() || (want.is_nan() && g.is_nan()),
                "{:#06x}: {g} != {want}",
                h.to_bits()
            );
        }
    }

    #[test]
    fn complex_swaps_each_part() {
        let mut v = [Complex32::new(1.0, 2.0)];
        byteswap(&mut v);
        assert_eq!(v[0].re.to_bits(), 1.0f32.to_bits().swap_bytes());
        assert_eq!(v[0].im.to_bits(), 2.0f32.to_bits().swap_bytes());
    }

    #[test]
    fn mismatched_lengths_are_errors() {
        let mut out = [0.0f64; 2];
        assert!(matches!(
            decode(&[0u8; 15], ByteOrder::Big, &mut out),
            Err(DTypeError::LengthMismatch { .. })
        ));
        assert!(matches!(
            encode(&[1.0f64], ByteOrder::Big, &mut [0u8; 9]),
            Err(DTypeError::LengthMismatch { .. })
        ));
        assert!(cast_slice(&[1i32, 2], &mut [0i64; 3]).is_err());
        let (f8, f4): (DType, DType) = ("<f8".parse().unwrap(), "<f4".parse().unwrap());
        assert!(convert(&[0u8; 12], f8, &mut [0u8; 4], f4).is_err());
        assert!(convert(&[0u8; 16], f8, &mut [0u8; 4], f4).is_err());
    }

    #[test]
    fn wrong_element_size_is_an_error_not_ub() {
        #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
        #[repr(transparent)]
        struct Liar(u32);
        impl Element for Liar {
            const KIND: Kind = Kind::F64;
        }
        let mut out = [Liar(0); 2];
        assert!(matches!(
            decode(&[0u8; 16], ByteOrder::Little, &mut out),
            Err(DTypeError::ElementSize { .. })
        ));
    }

    #[test]
    fn f16_paths_match_scalar_casts() {
        note_missing(
            "codec::tests::f16_paths_match_scalar_casts",
            has_f16c(),
            "F16C/AVX",
        );
        let halves: Vec<f16> = (0..=u16::MAX).map(f16::from_bits).collect();
        let mut f = vec![0.0f32; halves.len()];
        cast_slice(&halves, &mut f).unwrap();
        let mut back = vec![f16::ZERO; halves.len()];
        cast_slice(&f, &mut back).unwrap();
        for (a, b) in halves.iter().zip(&back) {
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{a:?} {b:?}"
            );
        }
        let wide = [1.0e-8f64, 65519.0, 65520.0, -0.0, 1.0 / 3.0];
        let mut h = [f16::ZERO; 5];
        cast_slice(&wide, &mut h).unwrap();
        let want: Vec<f16> = wide
            .iter()
            .map(|&x| crate::element::f16_from_f64(x))
            .collect();
        assert_eq!(
            h.map(f16::to_bits).to_vec(),
            want.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        // Rounded once, as numpy does (through float32 these would round twice).
        let tricky = [65519.999f64, 1.0 + 2f64.powi(-11) + 2f64.powi(-40)];
        let mut h = [f16::ZERO; 2];
        cast_slice(&tricky, &mut h).unwrap();
        assert_eq!(h.map(f16::to_bits), [0x7bff, 0x3c01]);
        assert_eq!(
            tricky.map(|x| <f16 as Native>::from_f64(x).to_bits()),
            [0x7bff, 0x3c01]
        );
    }

    #[test]
    fn convert_handles_every_pair_in_both_orders() {
        // 3 is representable in every kind; check the value survives every route.
        for from in Kind::ALL {
            for to in Kind::ALL {
                for (fo, to_o) in [
                    (ByteOrder::Little, ByteOrder::Big),
                    (ByteOrder::Big, ByteOrder::Little),
                ] {
                    let (fd, td) = (DType::new(from, fo), DType::new(to, to_o));
                    let n = BLOCK + 3; // crosses a block boundary
                    let mut src = vec![0u8; n * fd.itemsize()];
                    crate::dispatch!(from, S => {
                        let vals = vec![S::from_i64(1); n];
                        encode(&vals, fo, &mut src).unwrap();
                    });
                    let mut dst = vec![0u8; n * td.itemsize()];
                    convert(&src, fd, &mut dst, td).unwrap();
                    crate::dispatch!(to, D => {
                        let mut out = vec![D::default(); n];
                        decode(&dst, to_o, &mut out).unwrap();
                        assert!(out.iter().all(|v| *v == D::from_i64(1)), "{fd} -> {td}");
                    });
                }
            }
        }
        let _ = (Bool::TRUE, Complex64::new(0.0, 0.0));
    }
}
