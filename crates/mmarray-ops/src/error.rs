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
    /// An argument that does not fit the array (an axis out of range, `low >= high`, ...).
    #[error("{0}")]
    Invalid(String),
}

impl From<mmarray_dtype::DTypeError> for Error {
    fn from(e: mmarray_dtype::DTypeError) -> Error {
        Error::Core(e.into())
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
