//! Element types of numpy arrays, in any byte order, for Rust.
//!
//! `mmarray-dtype` knows every numeric element type numpy writes to disk — bool,
//! int8..int64, uint8..uint64, float16/32/64 and complex64/128, little- or
//! big-endian — and converts them in bulk. It does no I/O and maps nothing; the
//! other mmarray crates build on it, and it is useful alone (e.g. to decode
//! big-endian float16 data from any file).
//!
//! - [`DType`] = [`Kind`] + [`ByteOrder`], parsed from and printed to numpy's
//!   descr strings (`<f8`, `>i4`, `|b1`) and every other spelling `np.dtype()`
//!   accepts for these kinds.
//! - [`Element`]: a Rust type whose bytes hold one element (open to your own `Pod`
//!   types); [`Native`]: the 14 types mmarray computes with; [`Bool`] is numpy's
//!   one-byte bool (never Rust `bool`, for which bytes other than 0/1 are UB).
//! - Codecs: [`decode`], [`encode`], [`byteswap`], [`cast_slice`], [`convert`],
//!   [`convert_part`].
//! - [`Value`]: one element of a kind known at run time, parsed from and printed
//!   as text the way numpy does.
//! - [`dispatch!`]: the one place where a run-time [`Kind`] becomes a Rust type.
//!
//! ```
//! use mmarray_dtype::{DType, convert};
//!
//! // Big-endian float16 bytes from some file, converted to native f32.
//! let src = [0x3c, 0x00, 0xc0, 0x00]; // 1.0, -2.0 as >f2
//! let mut dst = [0u8; 8];
//! convert(&src, ">f2".parse()?, &mut dst, DType::native(mmarray_dtype::Kind::F32))?;
//! let out: &[f32] = bytemuck::cast_slice(&dst);
//! assert_eq!(out, [1.0, -2.0]);
//! # Ok::<(), mmarray_dtype::DTypeError>(())
//! ```
//!
//! # Casting
//!
//! Casts follow numpy's `astype` with `casting='unsafe'`: integers wrap into
//! narrower integers (`300 -> uint8` is 44), floats truncate toward zero into
//! integers, anything non-zero (NaN included) is `True`, `True` is 1, and complex
//! to real keeps the real part (numpy warns with `ComplexWarning`; mmarray does not).
//!
//! Floats (and complex values' real parts) cast into integers exactly as numpy does on
//! x86-64, where C's casts compile to the `cvttsd2si` instruction: truncation toward
//! zero, and for NaN and values out of range the "integer indefinite" `0x80..0` of a
//! 32-bit (int8..int32, uint8, uint16) or 64-bit (int64, uint32) conversion, or its
//! low bits; uint64 converts values from 2^63 on as `v - 2^63` with the top bit set.
//!
//! | cast (numpy 2.4 on x86-64) | result |
//! |---|---|
//! | `-1.0`, `300.0`, `1e20`, NaN, inf → uint8 | 255, 44, 0, 0, 0 |
//! | `128.0`, NaN → int8 | -128, 0 |
//! | `3e9`, NaN, ±inf → int32 | `i32::MIN` |
//! | `1e19`, NaN, ±inf → int64 | `i64::MIN` |
//! | `-1.0`, `2^64`, `1e19`, NaN, inf, -inf → uint64 | `u64::MAX`, 0, 10000000000000000000, 2^63, 0, 2^63 |
//! | `-3e9`, `2^32 + 5`, NaN → uint32 | 1294967296, 5, 0 (scalars, strided data, the end of a contiguous array) |
//! | the same → uint32 in numpy's vectorised contiguous loop | 2147483648, 0, 2147483648 |
//!
//! float32 and complex → uint32 follow the same two rules; float16 always takes the
//! scalar one. [`cast_slice`] and [`convert`] treat their input as one contiguous
//! array, as numpy's `astype` does: groups of four from its start through the vector
//! rule, and at its end the items numpy's loop leaves to the scalar rule (`n % 4` for
//! float32/float64, one to four for complex; see `float_to_u32_like_numpy`).
//! Where mmarray and numpy still differ:
//!
//! | cast | numpy on x86-64 | mmarray |
//! |---|---|---|
//! | signaling NaN → another float or complex kind, to or from float16, or between float32 and complex64 | stays signaling (numpy converts float16 in software and copies float32) | quiet, with the same sign and payload (as IEEE 754 conversions do) |
//! | float/complex → uint32 of a value that does not fit, where numpy does not run one contiguous loop over the whole array (other memory order, byte-swapped or unaligned input) | the vector or the scalar result, depending on numpy's buffering | the rule of [`cast_slice`] / [`convert_part`] over the pieces mmarray converts |
//!
//! All other casts agree with numpy bit for bit, which the numpy interop tests check:
//! float64 → float16 rounds once (not through float32), and a cast to the same kind
//! copies the bits.
//!
//! # Dispatch
//!
//! ```
//! use mmarray_dtype::{dispatch, DType, Native};
//!
//! fn one_as_text(dtype: DType) -> String {
//!     dispatch!(dtype.kind(), T => T::from_i64(1).to_value().to_string())
//! }
//! assert_eq!(one_as_text("<f4".parse().unwrap()), "1.0");
//! assert_eq!(one_as_text("|b1".parse().unwrap()), "True");
//! ```

// Bulk loops are inlined into one build per CPU feature set.
#![allow(clippy::inline_always)]

mod codec;
pub mod dragon4;
mod dtype;
mod element;
mod error;
// `SKIPPED:` lines for unit tests that cannot check something on this machine.
#[cfg(test)]
#[path = "../../../testing/skip.rs"]
mod test_skip;
pub mod text;
mod value;

pub use codec::{
    byteswap, byteswap_bytes, cast_slice, convert, convert_part, decode, decode_prefix, encode,
    encode_prefix, is_kind,
};
pub use dtype::{ByteOrder, Class, DType, Kind};
pub use element::{Bool, Complex32, Complex64, Element, Native};
pub use error::DTypeError;
pub use half::f16;
pub use value::Value;

/// Runs generic code with the Rust type of a run-time [`Kind`].
///
/// `dispatch!(kind, T => expr)` expands to a match over all 14 kinds; in each arm
/// `T` names the kind's [`Native`] type ([`Bool`], `i8`, ..., [`struct@f16`], `f32`, `f64`,
/// [`Complex32`], [`Complex64`]) and `expr` is evaluated with it. Every crate of
/// mmarray uses this instead of writing the match again.
///
/// ```
/// use mmarray_dtype::{dispatch, Kind};
/// let size = dispatch!(Kind::C128, T => std::mem::size_of::<T>());
/// assert_eq!(size, 16);
/// ```
#[macro_export]
macro_rules! dispatch {
    ($kind:expr, $T:ident => $body:expr) => {{
        match $kind {
            $crate::Kind::Bool => {
                type $T = $crate::Bool;
                $body
            }
            $crate::Kind::I8 => {
                type $T = i8;
                $body
            }
            $crate::Kind::I16 => {
                type $T = i16;
                $body
            }
            $crate::Kind::I32 => {
                type $T = i32;
                $body
            }
            $crate::Kind::I64 => {
                type $T = i64;
                $body
            }
            $crate::Kind::U8 => {
                type $T = u8;
                $body
            }
            $crate::Kind::U16 => {
                type $T = u16;
                $body
            }
            $crate::Kind::U32 => {
                type $T = u32;
                $body
            }
            $crate::Kind::U64 => {
                type $T = u64;
                $body
            }
            $crate::Kind::F16 => {
                type $T = $crate::f16;
                $body
            }
            $crate::Kind::F32 => {
                type $T = f32;
                $body
            }
            $crate::Kind::F64 => {
                type $T = f64;
                $body
            }
            $crate::Kind::C64 => {
                type $T = $crate::Complex32;
                $body
            }
            $crate::Kind::C128 => {
                type $T = $crate::Complex64;
                $body
            }
        }
    }};
}
