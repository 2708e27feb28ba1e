//! The error type of `mmarray-ops`.

/// Everything that can go wrong in `mmarray-ops`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Opening, creating, viewing or writing an array failed.
    #[error(transparent)]
    Core(#[from] mmarray_core::Error),
    /// A reduction that has no identity (min, max, argmin, argmax) of an empty array.
    #[error("{op} of an empty array: the reduction has no identity")]
    Empty {
        /// The operation.
        op: &'static str,
    },
    /// `argmin`/`argmax` with `skipna` over values that are all NaN.
    #[error("{op}: all values are NaN")]
    AllNan {
        /// The operation.
        op: &'static str,
    },
    /// The operation was stopped by its context's stop flag
    /// ([`Exec::stop_when`](crate::Exec::stop_when)) before it finished.
    #[error("interrupted")]
    Interrupted,
    /// An argument that does not fit the array or the operation (an axis out of
    /// range, `low >= high`, ...); which and why is in the [`InvalidArgument`].
    #[error("{0}")]
    Invalid(InvalidArgument),
}

/// What is wrong with an argument ([`Error::Invalid`]), as data.
///
/// ```
/// use mmarray_ops::{Error, InvalidArgument, prelude::*};
/// let values = [1.0f64, 2.0, 3.0, 4.0];
/// let v = View::<f64>::from_bytes(bytemuck::cast_slice(&values), &[2, 2], Order::C, ByteOrder::NATIVE)?;
/// let err = v.sum_axis(2).unwrap_err();
/// assert!(matches!(err, Error::Invalid(InvalidArgument::Axis { axis: 2, ndim: 2 })));
/// assert_eq!(err.to_string(), "axis 2 is out of bounds for an array of dimension 2");
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidArgument {
    /// An axis outside the array's dimensions (negative ones count from the end).
    #[error("axis {axis} is out of bounds for an array of dimension {ndim}")]
    Axis {
        /// The axis as given.
        axis: isize,
        /// The array's number of dimensions.
        ndim: usize,
    },
    /// More threads than [`MAX_THREADS`](crate::MAX_THREADS).
    #[error("{threads} threads: at most {max} are supported")]
    TooManyThreads {
        /// The number asked for.
        threads: usize,
        /// The most supported.
        max: usize,
    },
    /// A thread pool that could not be started.
    #[error("cannot start {threads} threads: {source}")]
    ThreadPool {
        /// The number of threads asked for.
        threads: usize,
        /// Why rayon could not start them.
        source: rayon::ThreadPoolBuildError,
    },
    /// An operation name that is not one of [`Op`](crate::Op)'s.
    #[error(
        "unknown operation {name:?}: expected one of sum, mean, min, max, argmin, argmax, var, std"
    )]
    UnknownOp {
        /// The name given.
        name: String,
    },
    /// An axis result too large to hold in memory.
    #[error(
        "the result of {op} along axis {axis} has shape {shape:?} of {dtype}: too large for memory \
         (write it to a file instead)"
    )]
    ResultTooLarge {
        /// The operation.
        op: &'static str,
        /// The axis reduced.
        axis: usize,
        /// The result's shape.
        shape: Vec<usize>,
        /// The result's dtype.
        dtype: mmarray_dtype::DType,
    },
    /// An axis result read as another element type than its own.
    #[error("an axis result of {found} cannot be read as {expected}")]
    ResultType {
        /// The element type asked for.
        expected: mmarray_dtype::Kind,
        /// The result's dtype.
        found: mmarray_dtype::DType,
    },
    /// A buffer whose length is not the byte size of what is copied into it.
    #[error("a buffer of {found} bytes given for {expected} bytes (shape {shape:?} of {dtype})")]
    BufferLength {
        /// The shape copied.
        shape: Vec<usize>,
        /// The dtype copied to.
        dtype: mmarray_dtype::DType,
        /// Bytes needed.
        expected: usize,
        /// Bytes of the buffer.
        found: usize,
    },
    /// Random integers whose range is empty.
    #[error("integers: low ({low}) must be less than high ({high})")]
    EmptyRange {
        /// Smallest value asked for.
        low: i128,
        /// One past the largest.
        high: i128,
    },
    /// Random integers whose range does not fit the element type.
    #[error("integers: [{low}, {high}) does not fit {kind} ({min}..={max})")]
    RangeOutside {
        /// Smallest value asked for.
        low: i128,
        /// One past the largest.
        high: i128,
        /// The element type.
        kind: mmarray_dtype::Kind,
        /// The element type's smallest value.
        min: i128,
        /// Its largest value.
        max: i128,
    },
    /// A float distribution for an integer element type.
    #[error(
        "{dist:?} random numbers need a float or complex dtype, not {kind}; use integers with low and high"
    )]
    NeedsFloat {
        /// The distribution.
        dist: crate::Dist,
        /// The element type.
        kind: mmarray_dtype::Kind,
    },
    /// Random integers for an element type that is not an integer.
    #[error("integers need an integer dtype, not {kind}")]
    NeedsInteger {
        /// The element type.
        kind: mmarray_dtype::Kind,
    },
}

impl From<InvalidArgument> for Error {
    fn from(e: InvalidArgument) -> Error {
        Error::Invalid(e)
    }
}

impl From<mmarray_dtype::DTypeError> for Error {
    fn from(e: mmarray_dtype::DTypeError) -> Error {
        Error::Core(e.into())
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
