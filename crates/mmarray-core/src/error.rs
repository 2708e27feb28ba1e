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
    /// A shape, a layout or a length that does not fit (two shapes that disagree,
    /// a buffer of the wrong length, strides outside the data, ...); what and
    /// where is in the [`ShapeError`].
    #[error("{0}")]
    Shape(ShapeError),
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

/// What does not fit in a shape, a layout or a length ([`Error::Shape`]), as data.
///
/// ```
/// use mmarray_core::{Error, Order, ShapeError, View};
/// use mmarray_dtype::ByteOrder;
/// let bytes = [0u8; 10];
/// let err = View::<u32>::from_bytes(&bytes, &[3], Order::C, ByteOrder::Little).unwrap_err();
/// assert!(matches!(
///     &err,
///     Error::Shape(ShapeError::BufferLength { expected: 12, found: 10, .. })
/// ));
/// assert_eq!(err.to_string(), "shape [3] of uint32 needs 12 bytes, the buffer has 10");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeError {
    /// A shape whose number of elements or bytes overflows.
    #[error(
        "shape {shape:?} is too large: its byte size does not fit in isize (numpy's \"array is too big\")"
    )]
    TooLarge {
        /// The shape.
        shape: Vec<usize>,
    },
    /// More dimensions than are supported ([`MAX_DIMS`](crate::MAX_DIMS)).
    #[error("{ndim} dimensions: at most {max} are supported")]
    TooManyDims {
        /// The number of dimensions given.
        ndim: usize,
        /// The most supported.
        max: usize,
    },
    /// A buffer whose length is not the byte size of the shape it is viewed as.
    #[error("shape {shape:?} of {kind} needs {expected} bytes, the buffer has {found}")]
    BufferLength {
        /// The shape.
        shape: Vec<usize>,
        /// The element type.
        kind: mmarray_dtype::Kind,
        /// Bytes the shape needs.
        expected: usize,
        /// Bytes the buffer has.
        found: usize,
    },
    /// Data bytes (of an archive member being written) that are not the byte
    /// size of their shape.
    #[error("{found} data bytes for shape {shape:?} of {dtype} ({expected} bytes)")]
    DataLength {
        /// The shape.
        shape: Vec<usize>,
        /// The dtype.
        dtype: DType,
        /// Bytes the shape needs.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// A number of values that is not the number of elements of the view they go to.
    #[error("{found} values given for a view of shape {shape:?} ({expected} elements)")]
    ValueCount {
        /// The view's shape.
        shape: Vec<usize>,
        /// Its number of elements.
        expected: usize,
        /// The number of values given.
        found: usize,
    },
    /// A source whose shape is not that of the destination of an assignment.
    #[error("cannot assign a view of shape {found:?} to one of shape {expected:?}")]
    Assign {
        /// The destination's shape.
        expected: Vec<usize>,
        /// The source's shape.
        found: Vec<usize>,
    },
    /// Values to append that are not whole entries along the growth axis.
    #[error("{found} values are not whole entries of {entry} elements for shape {shape:?}")]
    Entries {
        /// The array's shape.
        shape: Vec<usize>,
        /// Elements of one entry (the product of the other axes).
        entry: usize,
        /// The number of values given.
        found: usize,
    },
    /// A chunk shape with another number of dimensions than the array's shape.
    #[error(
        "chunk shape {chunk_shape:?} has {} dimensions, the array {shape:?} has {}",
        chunk_shape.len(),
        shape.len()
    )]
    ChunkDims {
        /// The array's shape.
        shape: Vec<usize>,
        /// The chunk shape.
        chunk_shape: Vec<usize>,
    },
    /// A chunk shape with a side of 0.
    #[error(
        "chunk shape {chunk_shape:?} is empty along axis {axis}: every chunk side must be at least 1"
    )]
    EmptyChunk {
        /// The chunk shape.
        chunk_shape: Vec<usize>,
        /// The first axis of length 0.
        axis: usize,
    },
    /// A chunk shape whose byte size overflows.
    #[error("chunk shape {chunk_shape:?} is too large")]
    ChunkTooLarge {
        /// The chunk shape.
        chunk_shape: Vec<usize>,
    },
    /// A grid of more chunks than can be counted.
    #[error("shape {shape:?} in chunks of {chunk_shape:?} makes too many chunks")]
    TooManyChunks {
        /// The array's shape.
        shape: Vec<usize>,
        /// The chunk shape.
        chunk_shape: Vec<usize>,
    },
    /// A chunk written with another number of bytes than a chunk has.
    #[error("chunk {coords:?} written with {found} bytes, {expected} expected")]
    ChunkLength {
        /// The chunk's grid coordinates.
        coords: Vec<usize>,
        /// Bytes of a chunk.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// A byte offset that is not a whole number of elements.
    #[error("offset {offset} is not a multiple of the item size {itemsize}")]
    Misaligned {
        /// The offset in bytes.
        offset: usize,
        /// The element size.
        itemsize: usize,
    },
    /// Strides and a shape with different numbers of dimensions.
    #[error("{strides} strides given for a shape of {ndim} dimensions")]
    StrideCount {
        /// The shape's number of dimensions.
        ndim: usize,
        /// The number of strides given.
        strides: usize,
    },
    /// A byte stride that is not a whole number of elements.
    #[error("stride {stride} is not a multiple of the item size {itemsize}")]
    Stride {
        /// The stride in bytes.
        stride: isize,
        /// The element size.
        itemsize: usize,
    },
    /// The offset of an empty view past the end of the data.
    #[error("offset {offset} is outside the {region} bytes")]
    Offset {
        /// The offset in bytes.
        offset: usize,
        /// Bytes of data.
        region: usize,
    },
    /// A strided layout that addresses bytes outside the data.
    #[error(
        "strided layout addresses bytes {low}..{high} outside the {region} bytes of the buffer"
    )]
    OutOfRegion {
        /// The first byte addressed (negative: before the data).
        low: i128,
        /// One past the last byte addressed.
        high: i128,
        /// Bytes of data.
        region: usize,
    },
    /// A strided layout in which two elements overlap.
    #[error("strided layout has overlapping elements")]
    Overlap,
}

impl From<ShapeError> for Error {
    fn from(e: ShapeError) -> Error {
        Error::Shape(e)
    }
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

#[cfg(test)]
mod tests {
    use mmarray_dtype::{ByteOrder, Kind};

    use super::{Error, ShapeError};
    use crate::chunk::{ChunkGrid, ChunkSource, MemoryChunks};
    use crate::npz::NpzWriter;
    use crate::{Array, Order, ReadWrite, View, ViewMut};

    /// The [`ShapeError`] of `r`, and its message (the same as [`Error::Shape`]'s).
    fn shape_error<T: std::fmt::Debug>(r: Result<T, Error>) -> (ShapeError, String) {
        match r {
            Err(e @ Error::Shape(_)) => {
                let text = e.to_string();
                let Error::Shape(s) = e else { unreachable!() };
                assert_eq!(text, s.to_string());
                (s, text)
            }
            other => panic!("not a shape error: {other:?}"),
        }
    }

    #[test]
    fn shape_errors_of_views_carry_their_fields() {
        let bytes = [0u8; 16];
        let (e, text) = shape_error(View::<u32>::from_bytes(
            &bytes,
            &[3],
            Order::C,
            ByteOrder::Little,
        ));
        assert_eq!(
            e,
            ShapeError::BufferLength {
                shape: vec![3],
                kind: Kind::U32,
                expected: 12,
                found: 16
            }
        );
        assert_eq!(
            text,
            "shape [3] of uint32 needs 12 bytes, the buffer has 16"
        );
        let (e, text) = shape_error(View::<u32>::from_bytes(
            &bytes,
            &[usize::MAX, 2],
            Order::C,
            ByteOrder::Little,
        ));
        assert_eq!(
            e,
            ShapeError::TooLarge {
                shape: vec![usize::MAX, 2]
            }
        );
        assert_eq!(
            text,
            format!(
                "shape [{}, 2] is too large: its byte size does not fit in isize \
                 (numpy's \"array is too big\")",
                usize::MAX
            )
        );
    }

    #[test]
    fn shape_errors_of_strided_views_carry_their_fields() {
        let bytes = [0u8; 16];
        let strided = |offset, shape: &[usize], strides: &[isize]| {
            shape_error(View::<u32>::from_strided(
                &bytes,
                offset,
                shape,
                strides,
                ByteOrder::Little,
            ))
        };
        let (e, text) = strided(0, &[2], &[4, 8]);
        assert_eq!(
            e,
            ShapeError::StrideCount {
                ndim: 1,
                strides: 2
            }
        );
        assert_eq!(text, "2 strides given for a shape of 1 dimensions");
        let (e, _) = strided(0, &[1; 65], &[4; 65]);
        assert_eq!(e, ShapeError::TooManyDims { ndim: 65, max: 64 });
        let (e, text) = strided(20, &[0], &[4]);
        assert_eq!(
            e,
            ShapeError::Offset {
                offset: 20,
                region: 16
            }
        );
        assert_eq!(text, "offset 20 is outside the 16 bytes");
        let (e, text) = strided(0, &[2], &[6]);
        assert_eq!(
            e,
            ShapeError::Stride {
                stride: 6,
                itemsize: 4
            }
        );
        assert_eq!(text, "stride 6 is not a multiple of the item size 4");
        let (e, text) = strided(4, &[2], &[-8]);
        assert_eq!(
            e,
            ShapeError::OutOfRegion {
                low: -4,
                high: 8,
                region: 16
            }
        );
        assert_eq!(
            text,
            "strided layout addresses bytes -4..8 outside the 16 bytes of the buffer"
        );
        let (e, text) = strided(0, &[2, 2], &[4, 4]);
        assert_eq!(e, ShapeError::Overlap);
        assert_eq!(text, "strided layout has overlapping elements");
    }

    #[test]
    fn shape_errors_of_assignments_carry_their_fields() {
        let bytes = [0u8; 16];
        let mut buf = [0u8; 16];
        let mut w =
            ViewMut::<u32>::from_bytes(&mut buf, &[2, 2], Order::C, ByteOrder::Big).unwrap();
        let (e, text) = shape_error(w.assign_slice(&[1, 2, 3]));
        assert_eq!(
            e,
            ShapeError::ValueCount {
                shape: vec![2, 2],
                expected: 4,
                found: 3
            }
        );
        assert_eq!(
            text,
            "3 values given for a view of shape [2, 2] (4 elements)"
        );
        let src = View::<u32>::from_bytes(&bytes[..8], &[2], Order::C, ByteOrder::Little).unwrap();
        let (e, text) = shape_error(w.assign(&src));
        assert_eq!(
            e,
            ShapeError::Assign {
                expected: vec![2, 2],
                found: vec![2]
            }
        );
        assert_eq!(
            text,
            "cannot assign a view of shape [2] to one of shape [2, 2]"
        );
    }

    #[test]
    fn shape_errors_of_chunks_carry_their_fields() {
        let (e, text) = shape_error(ChunkGrid::new(&[4, 4], &[2], 8));
        assert_eq!(
            e,
            ShapeError::ChunkDims {
                shape: vec![4, 4],
                chunk_shape: vec![2]
            }
        );
        assert_eq!(
            text,
            "chunk shape [2] has 1 dimensions, the array [4, 4] has 2"
        );
        let (e, text) = shape_error(ChunkGrid::new(&[4, 4], &[2, 0], 8));
        assert_eq!(
            e,
            ShapeError::EmptyChunk {
                chunk_shape: vec![2, 0],
                axis: 1
            }
        );
        assert!(
            text.ends_with("every chunk side must be at least 1"),
            "{text}"
        );
        let (e, _) = shape_error(ChunkGrid::new(&[4, 4], &[usize::MAX, 2], 8));
        assert_eq!(
            e,
            ShapeError::ChunkTooLarge {
                chunk_shape: vec![usize::MAX, 2]
            }
        );
        let (e, _) = shape_error(ChunkGrid::new(&[usize::MAX, 2], &[1, 1], 8));
        assert_eq!(
            e,
            ShapeError::TooLarge {
                shape: vec![usize::MAX, 2]
            }
        );
        let (e, _) = shape_error(ChunkGrid::new(&[1; 65], &[1; 65], 1));
        assert_eq!(e, ShapeError::TooManyDims { ndim: 65, max: 64 });

        let chunks = MemoryChunks::new("<f8".parse().unwrap(), &[4, 4], &[2, 2], Order::C).unwrap();
        let (e, text) = shape_error(chunks.write_chunk(&[1, 0], &[0u8; 8]));
        assert_eq!(
            e,
            ShapeError::ChunkLength {
                coords: vec![1, 0],
                expected: 32,
                found: 8
            }
        );
        assert_eq!(text, "chunk [1, 0] written with 8 bytes, 32 expected");
        let chunked = crate::chunk::Chunked::new(Box::new(chunks));
        let (e, text) = shape_error(chunked.view_strided::<f64>(4, &[2], &[8]));
        assert_eq!(
            e,
            ShapeError::Misaligned {
                offset: 4,
                itemsize: 8
            }
        );
        assert_eq!(text, "offset 4 is not a multiple of the item size 8");
    }

    #[test]
    fn shape_errors_of_files_carry_their_fields() {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: the file is private to this test.
        let mut a =
            unsafe { Array::<u16, ReadWrite>::create(dir.path().join("a.npy"), &[0, 3], Order::C) }
                .unwrap();
        let (e, text) = shape_error(a.append(&[1, 2, 3, 4]));
        assert_eq!(
            e,
            ShapeError::Entries {
                shape: vec![0, 3],
                entry: 3,
                found: 4
            }
        );
        assert_eq!(
            text,
            "4 values are not whole entries of 3 elements for shape [0, 3]"
        );

        let mut w = NpzWriter::create(dir.path().join("a.npz")).unwrap();
        let dtype = "<i2".parse().unwrap();
        let (e, text) = shape_error(w.add_bytes("x", dtype, &[3], Order::C, &[0; 4], false));
        assert_eq!(
            e,
            ShapeError::DataLength {
                shape: vec![3],
                dtype,
                expected: 6,
                found: 4
            }
        );
        assert_eq!(text, "4 data bytes for shape [3] of <i2 (6 bytes)");
    }

    #[test]
    fn a_shape_error_converts_to_the_crate_error() {
        let e: Error = ShapeError::Overlap.into();
        assert!(matches!(e, Error::Shape(ShapeError::Overlap)));
        assert_eq!(e.to_string(), "strided layout has overlapping elements");
    }
}
