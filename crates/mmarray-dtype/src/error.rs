//! The error type of this crate.

use crate::{DType, Kind};

/// Everything that can go wrong in `mmarray-dtype`.
///
/// Each variant says what was given and what was expected, so that a caller can
/// turn it into one readable line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DTypeError {
    /// A dtype string that numpy itself would not accept.
    #[error("unknown dtype {text:?}: expected a numpy dtype such as '<f8', 'float32', 'i4' or 'd'")]
    Unknown {
        /// The text that was given.
        text: String,
    },
    /// A dtype numpy knows but mmarray does not support (object, strings, structured, ...).
    #[error(
        "unsupported dtype {text:?} ({what}): mmarray supports bool, int8..int64, uint8..uint64, float16/32/64 and complex64/128"
    )]
    Unsupported {
        /// The text that was given.
        text: String,
        /// What numpy would make of it, e.g. "object" or "longdouble".
        what: &'static str,
    },
    /// A scalar text that is not a number of the requested kind at all.
    #[error("invalid {kind} value {text:?}: {expected}")]
    InvalidValue {
        /// The text that was given.
        text: String,
        /// The kind it was meant for.
        kind: Kind,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A scalar that parses but does not fit the requested kind (e.g. `300` for uint8).
    #[error("value {text:?} is out of range for {kind} ({min}..={max})")]
    OutOfRange {
        /// The text that was given.
        text: String,
        /// The kind it was meant for.
        kind: Kind,
        /// The smallest value of the kind.
        min: String,
        /// The largest value of the kind.
        max: String,
    },
    /// A finite number that would round to infinity in a float kind (`1e300` for
    /// float32, `70000` for float16), or a part of a complex number that would.
    #[error(
        "value {text:?} is out of range for {kind}: it would round to infinity (largest finite {kind}: {max}; write inf for infinity)"
    )]
    FloatOverflow {
        /// The text that was given.
        text: String,
        /// The kind it was meant for.
        kind: Kind,
        /// The largest finite value of the kind (of a part, for complex kinds).
        max: &'static str,
    },
    /// Source and destination buffers of a codec do not hold the same number of items.
    #[error(
        "buffer length mismatch for {dtype}: source holds {src} bytes, destination {dst} bytes (itemsize {itemsize})"
    )]
    LengthMismatch {
        /// The dtype of the encoded side.
        dtype: DType,
        /// Length of the source in bytes.
        src: usize,
        /// Length of the destination in bytes.
        dst: usize,
        /// The item size that both must agree on.
        itemsize: usize,
    },
    /// A scalar that the requested type cannot hold exactly (e.g. `-1` as `u8`,
    /// `0.1` as `f32`, `nan` or `2.5` as an integer, a complex number with an
    /// imaginary part as a real type).
    #[error("value {value} cannot be converted to {kind} exactly")]
    Inexact {
        /// The value, as numpy's `str()` prints it.
        value: String,
        /// The kind that was asked for.
        kind: Kind,
    },
    /// An element type whose size does not match the dtype it claims.
    #[error("element type of {size} bytes cannot hold {dtype} (itemsize {itemsize})")]
    ElementSize {
        /// The dtype that was asked for.
        dtype: DType,
        /// `size_of` the Rust element type.
        size: usize,
        /// The dtype's item size.
        itemsize: usize,
    },
}
