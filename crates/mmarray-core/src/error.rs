//! The error type of `mmarray-core`.

use std::io;
use std::path::PathBuf;

use mmarray_dtype::{DType, DTypeError};

use crate::SpecError;
use crate::npy::HeaderError;

/// Everything that can go wrong in `mmarray-core`.
///
/// Errors about a file name the file; errors about its contents say which byte or
/// field was wrong and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call failed.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What mmarray was doing, e.g. "open", "map", "flush".
        action: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The `.npy` header is malformed or unsupported.
    #[error("{path}: {source}")]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong with the header.
        source: HeaderError,
    },
    /// The file is shorter than its header (or the raw layout) says.
    #[error(
        "{path}: file is too short: the data needs {expected} bytes from byte {offset}, but the file has {found} bytes there (truncated file?)"
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where the data starts.
        offset: u64,
        /// Bytes of data the layout needs.
        expected: u64,
        /// Bytes of data the file has after `offset`.
        found: u64,
    },
    /// A raw layout that does not fit the file (offset past the end, size not a whole number of items, ...).
    #[error("{path}: {reason}")]
    Layout {
        /// The file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// A shape whose byte size does not fit in 64 bits or in the address space.
    #[error("{path}: shape {shape:?} of {dtype} is too large: its byte size overflows")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The shape.
        shape: Vec<usize>,
        /// The dtype.
        dtype: DType,
    },
    /// The file exists and replacing it was not asked for.
    #[error("{path}: file exists (ask to overwrite it explicitly)")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// A file this process already has mapped in a conflicting mode.
    #[error("{path}: already mapped by this process ({reason})")]
    Busy {
        /// The file.
        path: PathBuf,
        /// Which mappings conflict.
        reason: &'static str,
    },
    /// The array holds another dtype than the one asked for.
    #[error("{path}: array has dtype {found}, not {expected}")]
    DTypeMismatch {
        /// The file.
        path: PathBuf,
        /// The dtype asked for.
        expected: String,
        /// The dtype in the file.
        found: DType,
    },
    /// A dtype or value problem (parsing, range, element size).
    #[error(transparent)]
    DType(#[from] DTypeError),
    /// An index or slice that does not fit the array's shape; which one, where and
    /// why is in the [`IndexError`].
    #[error("index error: {0}")]
    Index(IndexError),
    /// Two arrays or a buffer and an array whose shapes or lengths disagree.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// An `.npz` archive (or one of its members) that is malformed or unsupported.
    #[error("{path}: {}{reason}", member.as_ref().map(|m| format!("member {m:?}: ")).unwrap_or_default())]
    Archive {
        /// The archive.
        path: PathBuf,
        /// The member concerned (its name without `.npy`), if any.
        member: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// A staged write stopped by [`abandon_staged`](crate::abandon_staged) (a
    /// program exiting on a signal): the file was not made or not moved into place.
    #[error("{path}: interrupted")]
    Interrupted {
        /// The file that was to be written.
        path: PathBuf,
    },
    /// A chunk of a chunked store (see [`chunk`](crate::chunk)) that is missing,
    /// malformed or could not be read or written.
    #[error("{store}: chunk {chunk}: {reason}")]
    Chunk {
        /// The store (its path).
        store: String,
        /// The chunk (its key in the store, or its grid coordinates).
        chunk: String,
        /// What is wrong.
        reason: String,
    },
    /// A zero-copy view (`View::to_ndarray`, feature `ndarray`) of data that
    /// cannot be read in place: not in this machine's byte order, or not aligned
    /// for its element type. Decode it with `to_vec` instead.
    #[error(
        "no zero-copy view of {dtype} data: {}; decode it with to_vec instead",
        if *native { "it is not aligned for its element type" } else { "its byte order is not this machine's" }
    )]
    NotInPlace {
        /// The data's dtype, its byte order included.
        dtype: DType,
        /// Whether the data is in this machine's byte order.
        native: bool,
        /// Whether every element is aligned for the element type.
        aligned: bool,
    },
    /// An operation this array or view cannot do (e.g. growing a raw file with an offset).
    #[error("{0}")]
    Unsupported(String),
}

/// What is wrong with an index ([`Error::Index`]), as data: the axis, the index
/// and the size, the number of indices, the spec text. The messages are numpy's.
///
/// ```
/// use mmarray_core::{Error, IndexError, Order, View};
/// use mmarray_dtype::ByteOrder;
/// let bytes = [0u8; 12];
/// let v = View::<u8>::from_bytes(&bytes, &[3, 4], Order::C, ByteOrder::Little)?;
/// let err = v.slice("1, 7").unwrap_err();
/// assert!(matches!(err, Error::Index(IndexError::OutOfBounds { index: 7, axis: 1, size: 4 })));
/// assert_eq!(err.to_string(), "index error: index 7 is out of bounds for axis 1 with size 4");
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// An integer index outside its axis (negative ones count from the end).
    #[error("index {index} is out of bounds for axis {axis} with size {size}")]
    OutOfBounds {
        /// The index as given.
        index: i128,
        /// The axis (after expanding `...`).
        axis: usize,
        /// The length of the axis.
        size: usize,
    },
    /// More indices than the array has axes (not counting `...`).
    #[error("too many indices for array: array is {ndim}-dimensional, but {given} were indexed")]
    TooMany {
        /// The array's number of dimensions.
        ndim: usize,
        /// The number of indices given.
        given: usize,
    },
    /// An element's index with another number of entries than the array has axes.
    #[error("{given} indices given for an array of {ndim} dimensions")]
    WrongCount {
        /// The array's number of dimensions.
        ndim: usize,
        /// The number of indices given.
        given: usize,
    },
    /// A slice whose step is 0.
    #[error("slice step cannot be zero")]
    ZeroStep,
    /// An index expression that does not parse or is not valid (see [`SpecError`]).
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A byte range of the data that is not inside it.
    #[error("flush range {offset}+{len} is outside the {nbytes} data bytes")]
    Range {
        /// First byte.
        offset: usize,
        /// Number of bytes.
        len: usize,
        /// Bytes of data.
        nbytes: usize,
    },
    /// Anything else, as text.
    #[error("{0}")]
    Other(String),
}

impl From<String> for IndexError {
    fn from(text: String) -> IndexError {
        IndexError::Other(text)
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }
}
