//! What operations read ([`Input`]) and write ([`Target`]): views of mapped or
//! in-memory data, and views of chunked arrays. The engine walks both the same
//! way (see [`crate::chunked`]), so every operation takes either.

use mmarray_core::chunk::{ChunkedView, ChunkedViewMut};
use mmarray_core::{
    View, ViewMut,
    lowlevel::{Piece, Runs},
};
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

impl<T: Element> Data<'_, T> {
    /// The shape of the view.
    pub(crate) fn shape(&self) -> &[usize] {
        match self {
            Data::Mapped(v) => v.shape(),
            Data::Chunked(v) => v.shape(),
        }
    }
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
            Data::Mapped(v) => reduce_view(v, kernel),
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

    /// The shape written.
    #[doc(hidden)]
    fn target_shape(&self) -> &[usize];

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

    fn target_shape(&self) -> &[usize] {
        self.shape()
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

    fn target_shape(&self) -> &[usize] {
        self.view().shape()
    }

    fn write_pieces(self, f: &(dyn Fn(&Runs, Piece, &mut [u8]) + Sync)) -> Result<()> {
        crate::chunked::write_chunked(&self, f)
    }

    fn into_result(out: Result<()>) -> Result<()> {
        out
    }
}

/// Copies the elements of `src` into `dst`, which must have the same shape
/// (numpy's `dst[...] = src`), in parallel; byte orders and layouts may differ.
/// This is how an array in a file becomes a chunked store and back.
///
/// ```
/// use mmarray_core::chunk::{Chunked, MemoryChunks};
/// use mmarray_core::{Order, View};
/// use mmarray_dtype::ByteOrder;
/// let values: Vec<i32> = (0..30).collect();
/// let v = View::<i32>::from_bytes(bytemuck::cast_slice(&values), &[5, 6], Order::C, ByteOrder::NATIVE)?;
/// let mut c = Chunked::new(Box::new(MemoryChunks::new(v.dtype(), &[5, 6], &[2, 4], Order::C)?));
/// mmarray_ops::assign(c.view_mut::<i32>()?, &v)?;
/// assert_eq!(c.view::<i32>()?.to_vec()?, values);
/// assert!(mmarray_ops::assign(c.view_mut::<i32>()?, &v.slice("1:")?).is_err());
/// # Ok::<(), mmarray_ops::Error>(())
/// ```
pub fn assign<T: Element, V: Target<T>>(dst: V, src: &View<'_, T>) -> Result<()> {
    if dst.target_shape() != src.shape() {
        return Err(crate::Error::Core(
            mmarray_core::ShapeError::Assign {
                expected: dst.target_shape().to_vec(),
                found: src.shape().to_vec(),
            }
            .into(),
        ));
    }
    let size = size_of::<T>();
    let swap = src.dtype().byte_order() != dst.target_dtype().byte_order();
    let unit = T::KIND.swap_unit();
    let src_runs = src.runs();
    let region = src.region();
    let (offset, strides) = (src.offset() as isize, src.strides().to_vec());
    let out = crate::exec::with(|_| {
        dst.write_pieces(&|runs: &Runs, p: Piece, bytes: &mut [u8]| {
            let order = [mmarray_core::Order::C, mmarray_core::Order::F]
                .into_iter()
                .find(|&o| runs.is_linear(o) && src_runs.is_linear(o));
            if let Some(_order) = order {
                // Both walk the same logical order: flat position q is element
                // q % run_len of run q / run_len on either side.
                let (srl, mut q) = (src_runs.run_len(), p.run * runs.run_len() + p.start);
                let mut done = 0;
                while done < p.len {
                    let (k, j) = (q / srl, q % srl);
                    let m = (p.len - done).min(srl - j);
                    let from = src_runs.offset(k) + j * size;
                    bytes[done * size..(done + m) * size]
                        .copy_from_slice(&region[from..from + m * size]);
                    done += m;
                    q += m;
                }
            } else {
                let mut index = vec![0usize; strides.len()];
                for (j, item) in bytes.chunks_exact_mut(size).enumerate() {
                    runs.multi_index(p.run, p.start + j, &mut index);
                    let at: isize = offset
                        + index
                            .iter()
                            .zip(&strides)
                            .map(|(&i, &s)| i as isize * s)
                            .sum::<isize>();
                    let at = at.unsigned_abs();
                    item.copy_from_slice(&region[at..at + size]);
                }
            }
            if swap {
                mmarray_dtype::byteswap_bytes(bytes, unit);
            }
        })
    });
    V::into_result(out)
}
