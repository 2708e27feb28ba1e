//! Memory-mapped N-d arrays in `.npy` and raw files: `numpy.memmap` for Rust.
//!
//! Open a file ([`DynArray::open`], [`Array::open`]) or create one
//! ([`DynArray::create`]); look at it through [`View`]s and write through
//! [`ViewMut`]s, sliced with numpy's basic indexing ([`Spec`]). Files of any size
//! are mapped, not read: opening is instant and only the pages you touch are
//! loaded.
//!
//! - Formats: `.npy` 1.0/2.0/3.0 read, 1.0/2.0 written byte-identical to numpy
//!   ([`npy`]); raw headerless files as `numpy.memmap` reads them ([`Raw`]); members
//!   of `.npz` archives, mapped in place when stored (and writable, keeping the
//!   archive's CRC-32 right), deflated ones inflated once into a temporary file to
//!   be mapped or chunk by chunk with none ([`npz::DeflatedMember`]), and archives
//!   written ([`npz`]); more can plug in through the [`Format`]
//!   trait. The format of an existing file is chosen from the options and its first
//!   bytes ([`OpenOptions`]).
//! - Modes as types: [`ReadOnly`] (`r`), [`ReadWrite`] (`r+`/`w+`),
//!   [`CopyOnWrite`] (`c`); writing a read-only array does not compile.
//! - Any byte order and alignment: zero-copy `&[T]` where the data is native and
//!   aligned, decoding through `mmarray-dtype` everywhere else.
//! - Durability: [`DynArray::flush`] and [`DynArray::close`] report errors,
//!   creation reserves disk space up front, files that replace others are written
//!   under a temporary name and renamed, and appends keep the file loadable at
//!   every step.
//!
//! # Features
//!
//! - `ndarray` (off by default): [`View::to_ndarray`] turns a view whose data is
//!   native-endian and aligned (any strides, negative ones included) into an
//!   `ndarray::ArrayViewD` over the same memory, without copying
//!   ([`ViewMut::to_ndarray_mut`]: a writable `ArrayViewMutD`); for other
//!   views it is an [`Error::NotInPlace`] that says why (decode them with
//!   [`View::to_vec`]). Enable it with
//!   `mmarray-core = { version = "0.1", features = ["ndarray"] }`:
//!
//! ```
//! # #[cfg(feature = "ndarray")] {
//! use mmarray_core::{Array, Order, ReadOnly, ReadWrite, s};
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("nd.npy");
//! // SAFETY: the file is private to this example.
//! let mut a = unsafe { Array::<f64, ReadWrite>::create(&path, &[4, 3], Order::C)? };
//! a.view_mut().assign_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0])?;
//! a.close()?;
//!
//! // SAFETY: as above.
//! let a = unsafe { Array::<f64, ReadOnly>::open(&path)? };
//! let v = a.slice(s![1.., ..;-1])?;          // a[1:, ::-1]
//! let nd = v.to_ndarray()?;                   // ndarray::ArrayViewD<f64> into the mapping
//! assert_eq!(nd.shape(), [3, 3]);
//! let col_sums: Vec<f64> = nd.sum_axis(ndarray::Axis(0)).iter().copied().collect();
//! assert_eq!(col_sums, [27.0, 24.0, 21.0]);
//! assert_eq!(nd[[0, 0]], 6.0);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Safety
//!
//! Mapping a file is `unsafe`, as in `memmap2`: see
//! [`DynArray`'s safety section](DynArray#safety-of-mapping) and `docs/safety.md`.
//!
//! ```
//! use mmarray_core::{Array, Order, ReadOnly, ReadWrite};
//! # let dir = tempfile::tempdir()?;
//! let path = dir.path().join("walk.npy");
//! // SAFETY: nobody else touches this file while it is mapped.
//! let mut a = unsafe { Array::<f64, ReadWrite>::create(&path, &[1000, 1000], Order::C)? };
//! a.view_mut().slice_mut("0:5, :")?.fill(1.0);
//! a.close()?;
//!
//! // SAFETY: as above.
//! let a = unsafe { Array::<f64, ReadOnly>::open(&path)? };
//! assert_eq!(a.view().slice("4, :3")?.to_vec(), [1.0, 1.0, 1.0]);
//! assert_eq!(a.view().get(&[5, 0])?, 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// docs.rs (and `RUSTDOCFLAGS="--cfg docsrs"` on nightly) labels feature-gated items.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod array;
pub mod chunk;
mod error;
mod format;
mod geometry;
// The sealed mode trait's `map` returns the crate-private `Map`; outside code cannot
// name the sealing trait, so nothing private leaks.
#[allow(private_interfaces)]
mod mode;
pub mod npy;
pub mod npz;
pub mod print;
mod registry;
mod spec;
mod staged;
mod staging;
mod sys;
mod view;
mod writer;

pub use array::{Array, CreateOptions, DynArray, OpenOptions};
pub use error::{Error, IndexError, Result, ShapeError};
pub use format::{Format, Layout, Npy, Opened, Raw};
pub use geometry::{MAX_DIMS, Order, checked_len, checked_nbytes, contiguous_strides};
pub use mode::{CopyOnWrite, Mode, ReadOnly, ReadWrite, Writable};
pub use spec::{Index, SliceEnd, SliceRange, Spec, SpecError};
pub use staged::StagedFile;
pub use staging::{Abandoned, abandon_staged, set_unnamed_temporaries};
pub use view::{View, ViewMut};
pub use writer::DataWriter;

/// The machinery under views, for engines that walk the bytes themselves.
///
/// Operations (`mmarray-ops`) and format plugins use these to visit a view's data
/// in large contiguous pieces; programs that read and write arrays do not need
/// them. A view's bytes in memory order are [`Runs`](lowlevel::Runs) of equal
/// length (or, for the zero-copy typed path, [`Segments`](lowlevel::Segments) of
/// elements), and a run range cut for one thread is a [`Piece`](lowlevel::Piece).
///
/// ```
/// use mmarray_core::{View, Order, lowlevel::Runs};
/// use mmarray_dtype::ByteOrder;
/// let data: Vec<u8> = (0u8..24).collect();
/// // A 3x4 u16 array; its column 1..3 is 3 runs of 2 elements (4 bytes).
/// let v = View::<u16>::from_bytes(&data, &[3, 4], Order::C, ByteOrder::Little)?;
/// let runs: Runs = v.slice(":, 1:3")?.runs();
/// assert_eq!((runs.len(), runs.run_bytes()), (3, 4));
/// # Ok::<(), mmarray_core::Error>(())
/// ```
pub mod lowlevel {
    pub use crate::geometry::{Piece, Runs, Segments};
    pub use crate::view::SegmentsMut;
    pub use memmap2::Advice;
}

impl From<SpecError> for Error {
    fn from(e: SpecError) -> Error {
        Error::Index(IndexError::Spec(e))
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(e: std::convert::Infallible) -> Error {
        match e {}
    }
}
