//! What operations read ([`Input`]) and write ([`Target`]): views of mapped or
//! in-memory data, and views of chunked arrays. The engine walks both the same
//! way (see [`crate::chunked`]), so every operation takes either.

use mmarray_core::chunk::{ChunkedView, ChunkedViewMut};
use mmarray_core::{Piece, Runs, View, ViewMut};
use mmarray_dtype::{DType, Element};

use crate::Result;
use crate::engine::{Kernel, Source, for_each_piece_mut, reduce_view};
use crate::num::Elem;

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for mmarray_core::View<'_, T> {}
    impl<T> Sealed for mmarray_core::chunk::ChunkedView<'_, T> {}
    impl<T> Sealed for mmarray_core::ViewMut<'_, T> {}
    impl<T> Sealed for mmarray_core::chunk::ChunkedViewMut<'_, T> {}
}

/// The data an [`Input`] stands for (what the engine walks).
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub enum Data<'a, T> {
    /// A view of bytes in memory or in a mapping.
    Mapped(&'a View<'a, T>),
    /// A view of a chunked array.
    Chunked(&'a ChunkedView<'a, T>),
}

/// What reductions read: a [`View`] (of a mapping or of memory) or a
/// [`ChunkedView`] (of a chunked array, e.g. a Zarr store). Both give the same
/// results, bit for bit, for the same data.
///
/// ```
/// use mmarray_core::chunk::{Chunked, MemoryChunks};
/// use mmarray_core::{Order, View};
/// use mmarray_dtype::ByteOrder;
/// use mmarray_ops::{Op, ReduceOptions, reduce};
/// let values: Vec<f64> = (0..1000).map(|i| (i as f64).sin()).collect();
/// let v = View::<f64>::from_bytes(bytemuck::cast_slice(&values), &[40, 25], Order::C, ByteOrder::NATIVE)?;
/// let chunked = Chunked::new(Box::new(MemoryChunks::from_view(&v, &[7, 6], Order::C)?));
/// let opts = ReduceOptions::default();
/// assert_eq!(reduce(&v, Op::Std, &opts)?, reduce(&chunked.view::<f64>()?, Op::Std, &opts)?);
/// # Ok::<(), mmarray_ops::Error>(())
/// ```
pub trait Input<T: Elem>: sealed::Sealed + Sync {
    /// The data to walk.
    #[doc(hidden)]
    fn data(&self) -> Data<'_, T>;
}

impl<T: Elem> Input<T> for View<'_, T> {
    fn data(&self) -> Data<'_, T> {
        Data::Mapped(self)
    }
}

impl<T: Elem> Input<T> for ChunkedView<'_, T> {
    fn data(&self) -> Data<'_, T> {
        Data::Chunked(self)
    }
}

impl<T: Elem> Source<T> for Data<'_, T> {
    fn run<K: Kernel<T::Work>>(&self, kernel: &K) -> Result<K::Acc> {
        match self {
            Data::Mapped(v) => Ok(reduce_view(v, kernel)),
            Data::Chunked(v) => crate::chunked::reduce_chunked(v, kernel),
        }
    }
}

/// What fills and in-place maps write: a [`ViewMut`] (of a mapping or of
/// memory), whose writes cannot fail, or a [`ChunkedViewMut`], whose changed
/// chunks are stored (and may fail: [`Target::Out`] is then a [`Result`]).
pub trait Target<T: Element>: sealed::Sealed + Sized + Send {
    /// What a write returns: `()` for views of memory and mappings,
    /// `Result<()>` for chunked arrays.
    type Out: Send;

    /// The element type and byte order written.
    #[doc(hidden)]
    fn target_dtype(&self) -> DType;

    /// Calls `f` for every piece of the target in parallel (with the old values
    /// in `bytes`), storing what it wrote.
    #[doc(hidden)]
    fn write_pieces(self, f: &(dyn Fn(&Runs, Piece, &mut [u8]) + Sync)) -> Self::Out;

    /// `out` as a result.
    #[doc(hidden)]
    fn into_result(out: Self::Out) -> Result<()>;
}

impl<T: Element> Target<T> for ViewMut<'_, T> {
    type Out = ();

    fn target_dtype(&self) -> DType {
        self.dtype()
    }

    fn write_pieces(self, f: &(dyn Fn(&Runs, Piece, &mut [u8]) + Sync)) {
        for_each_piece_mut(self, &f);
    }

    fn into_result((): ()) -> Result<()> {
        Ok(())
    }
}

impl<T: Element> Target<T> for ChunkedViewMut<'_, T> {
    type Out = Result<()>;

    fn target_dtype(&self) -> DType {
        self.view().dtype()
    }

    fn write_pieces(self, f: &(dyn Fn(&Runs, Piece, &mut [u8]) + Sync)) -> Result<()> {
        crate::chunked::write_chunked(&self, f)
    }

    fn into_result(out: Result<()>) -> Result<()> {
        out
    }
}
