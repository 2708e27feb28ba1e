//! Operations as methods: [`ArrayOps`] (reductions, whole or along an axis) on
//! arrays and views (of mappings, of memory, and of chunked arrays such as Zarr
//! stores), [`ArrayOpsMut`] (parallel fills) on writable ones, and
//! [`OwnedArray`], the typed in-memory result of an axis reduction (or a new
//! `.npy` file: [`ArrayOps::reduce_axis_to_npy`]).
//!
//! The methods are the crate's functions ([`reduce`], [`reduce_axis_view`],
//! [`stats`](crate::stats), [`fill`](crate::fill), [`random_view`]) with typed
//! results: `view.sum()` is `reduce(&view, Op::Sum, &ReduceOptions::default())`
//! as numpy types the sum (`i64`, `u64`, `f64` or [`Complex64`](mmarray_dtype::Complex64),
//! see [`Elem::Sum`]). The `*_with` methods take [`ReduceOptions`] (`skipna`,
//! `ddof`) and an execution context ([`Exec`]: threads, access policy, progress);
//! the others use the defaults and the current context.

use std::fmt;
use std::mem::size_of;
use std::path::Path;

use mmarray_core::chunk::{ChunkedView, ChunkedViewMut};
use mmarray_core::{Array, Mode, Order, View, ViewMut, Writable, lowlevel::Advice};
use mmarray_dtype::{ByteOrder, Element, Native, Value};

use crate::{
    AxisResult, Dist, Elem, Exec, Input, InvalidArgument, Op, ReduceOptions, Result, Stats,
    random_view, reduce, reduce_axis_view, reduce_axis_view_to_npy,
};

/// An N-d array held in memory, native-endian: what axis reductions of
/// [`ArrayOps`] return. Its [`view`](OwnedArray::view) is a [`View`], so
/// everything that takes a view (slicing, the operations, printing) takes it.
///
/// ```
/// use mmarray_ops::{OwnedArray, prelude::*};
/// let a = OwnedArray::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3], Order::C)?;
/// assert_eq!(a.shape(), [2, 3]);
/// assert_eq!(a.get(&[1, 0])?, 4.0);
/// assert_eq!(a.view().slice(s![.., -1])?.to_vec(), [3.0, 6.0]);
/// assert_eq!(a.sum_axis(0)?.as_slice(), [5.0, 7.0, 9.0]);
/// assert_eq!(a.to_string(), "array([[1., 2., 3.],\n       [4., 5., 6.]])");
/// # Ok::<(), mmarray_ops::Error>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct OwnedArray<T> {
    shape: Vec<usize>,
    order: Order,
    data: Vec<T>,
}

impl<T: Element> OwnedArray<T> {
    /// An array of `shape` whose elements are `data`, in memory `order`; the
    /// length must be the shape's number of elements.
    pub fn from_vec(data: Vec<T>, shape: &[usize], order: Order) -> Result<OwnedArray<T>> {
        // The layout checks of a view over the data (length, element size).
        View::<T>::from_bytes(bytemuck::cast_slice(&data), shape, order, ByteOrder::NATIVE)?;
        Ok(OwnedArray {
            shape: shape.to_vec(),
            order,
            data,
        })
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    #[must_use]
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The memory order of [`as_slice`](Self::as_slice).
    #[must_use]
    pub fn order(&self) -> Order {
        self.order
    }

    /// The elements in memory order.
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The elements in memory order, by value.
    #[must_use]
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// A view of the whole array.
    ///
    /// # Panics
    ///
    /// Never: the layout was checked when the array was made.
    #[must_use]
    pub fn view(&self) -> View<'_, T> {
        View::from_bytes(
            bytemuck::cast_slice(&self.data),
            &self.shape,
            self.order,
            ByteOrder::NATIVE,
        )
        .expect("the layout was checked when the array was made")
    }

    /// The element at `index` (one entry per axis).
    pub fn get(&self, index: &[usize]) -> Result<T> {
        Ok(self.view().get(index)?)
    }

    /// The typed array of an [`AxisResult`], whose dtype must be `T`'s kind.
    pub fn from_axis_result(r: &AxisResult) -> Result<OwnedArray<T>> {
        if r.dtype.kind() != T::KIND || size_of::<T>() != T::KIND.itemsize() {
            return Err(InvalidArgument::ResultType {
                expected: T::KIND,
                found: r.dtype,
            }
            .into());
        }
        let mut data = vec![T::zeroed(); r.data.len() / size_of::<T>()];
        mmarray_dtype::decode(&r.data, ByteOrder::NATIVE, &mut data)?;
        OwnedArray::from_vec(data, &r.shape, r.order)
    }
}

impl<T: Native> fmt::Display for OwnedArray<T> {
    /// numpy's `repr()` of the array (see [`mmarray_core::print`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mmarray_core::print::repr(&self.view(), "array"))
    }
}

impl<T: Element> fmt::Debug for OwnedArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedArray")
            .field("dtype", &T::KIND.name())
            .field("shape", &self.shape)
            .field("order", &self.order)
            .finish_non_exhaustive()
    }
}

pub(crate) mod private {
    use crate::{Elem, Input};

    /// Seals [`ArrayOps`](super::ArrayOps) and gives its methods the view they work on.
    pub trait Sealed<T: Elem> {
        /// What the methods read: a [`View`](mmarray_core::View) or a
        /// [`ChunkedView`](mmarray_core::chunk::ChunkedView).
        type Input<'s>: Input<T>
        where
            Self: 's;
        /// The whole array or view, read-only.
        fn ops_view(&self) -> Self::Input<'_>;
        /// Called before a streaming pass (arrays advise the kernel).
        fn prepare(&self) {}
    }
}

/// `op` over `v` as a value of kind `R` (the kind [`result_kind`](crate::result_kind)
/// gives, so the cast is exact).
fn typed<T: Elem, R: Native>(
    v: &impl Input<T>,
    op: Op,
    opts: &ReduceOptions,
    exec: &Exec,
) -> Result<R> {
    exec.run(|| reduce(v, op, opts)).map(Value::cast::<R>)
}

/// `op` along `axis` as an [`OwnedArray`] of kind `R`.
fn typed_axis<T: Elem, R: Element>(
    v: &impl Input<T>,
    op: Op,
    axis: isize,
    opts: &ReduceOptions,
    exec: &Exec,
) -> Result<OwnedArray<R>> {
    OwnedArray::from_axis_result(&exec.run(|| reduce_axis_view(v, op, axis, opts))?)
}

/// Reductions as methods of arrays, views, [`OwnedArray`]s and views of chunked
/// arrays ([`ChunkedView`], [`ChunkedViewMut`]), in parallel, with numpy's
/// result types. A chunked view gives the same bits as a view of the same data
/// in the chunked array's [order](mmarray_core::chunk::Chunked::with_order).
///
/// ```
/// use mmarray_ops::prelude::*;
/// # let dir = tempfile::tempdir()?;
/// // SAFETY: the file is private to this example.
/// let mut a = unsafe { Array::<i32, ReadWrite>::create(dir.path().join("o.npy"), &[3, 4], Order::C)? };
/// a.view_mut().assign_slice(&(0..12).collect::<Vec<i32>>())?;
/// let v = a.view();
/// assert_eq!(v.sum()?, 66_i64);
/// assert_eq!(v.mean()?, 5.5);
/// assert_eq!((v.min()?, v.max()?, v.argmax()?), (0, 11, 11));
/// assert_eq!(v.slice(s![1..])?.sum_axis(0)?.as_slice(), [12_i64, 14, 16, 18]);
/// assert_eq!(v.mean_axis(-1)?.as_slice(), [1.5, 5.5, 9.5]);
/// assert_eq!(a.stats()?.count, 12);
///
/// // Options and an execution context go to the `*_with` methods.
/// let two = Exec::new().threads(2)?;
/// let opts = ReduceOptions { ddof: 1, ..ReduceOptions::default() };
/// assert!((v.var_with(&opts, &two)? - 13.0).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ArrayOps<T: Elem>: private::Sealed<T> {
    /// Sum, typed as numpy types it ([`Elem::Sum`]); integers wrap as numpy's do.
    fn sum(&self) -> Result<T::Sum> {
        self.sum_with(&ReduceOptions::default(), &Exec::current())
    }

    /// [`sum`](Self::sum) with options (`skipna`: numpy's `nansum`) and a context.
    fn sum_with(&self, opts: &ReduceOptions, exec: &Exec) -> Result<T::Sum> {
        self.prepare();
        typed(&self.ops_view(), Op::Sum, opts, exec)
    }

    /// Arithmetic mean ([`Elem::Mean`]: `f64`, or complex); NaN for no elements.
    fn mean(&self) -> Result<T::Mean> {
        self.mean_with(&ReduceOptions::default(), &Exec::current())
    }

    /// [`mean`](Self::mean) with options and a context.
    fn mean_with(&self, opts: &ReduceOptions, exec: &Exec) -> Result<T::Mean> {
        self.prepare();
        typed(&self.ops_view(), Op::Mean, opts, exec)
    }

    /// Smallest value (NaN if there is one, as numpy's `min`); an error for no elements.
    fn min(&self) -> Result<T> {
        self.min_with(&ReduceOptions::default(), &Exec::current())
    }

    /// [`min`](Self::min) with options (`skipna`: numpy's `nanmin`) and a context.
    fn min_with(&self, opts: &ReduceOptions, exec: &Exec) -> Result<T> {
        self.prepare();
        typed(&self.ops_view(), Op::Min, opts, exec)
    }

    /// Largest value (NaN if there is one); an error for no elements.
    fn max(&self) -> Result<T> {
        self.max_with(&ReduceOptions::default(), &Exec::current())
    }

    /// [`max`](Self::max) with options and a context.
    fn max_with(&self, opts: &ReduceOptions, exec: &Exec) -> Result<T> {
        self.prepare();
        typed(&self.ops_view(), Op::Max, opts, exec)
    }

    /// Flat C-order index of the first smallest value.
    fn argmin(&self) -> Result<usize> {
        self.argmin_with(&ReduceOptions::default(), &Exec::current())
    }

    /// [`argmin`](Self::argmin) with options and a context.
    fn argmin_with(&self, opts: &ReduceOptions, exec: &Exec) -> Result<usize> {
        self.prepare();
        typed::<T, i64>(&self.ops_view(), Op::Argmin, opts, exec).map(|i| i as usize)
    }

    /// Flat C-order index of the first largest value.
    fn argmax(&self) -> Result<usize> {
        self.argmax_with(&ReduceOptions::default(), &Exec::current())
    }

    /// [`argmax`](Self::argmax) with options and a context.
    fn argmax_with(&self, opts: &ReduceOptions, exec: &Exec) -> Result<usize> {
        self.prepare();
        typed::<T, i64>(&self.ops_view(), Op::Argmax, opts, exec).map(|i| i as usize)
    }

    /// Variance (`ddof` 0).
    fn var(&self) -> Result<f64> {
        self.var_with(&ReduceOptions::default(), &Exec::current())
    }

    /// [`var`](Self::var) with options (`ddof`, `skipna`) and a context.
    fn var_with(&self, opts: &ReduceOptions, exec: &Exec) -> Result<f64> {
        self.prepare();
        typed(&self.ops_view(), Op::Var, opts, exec)
    }

    /// Standard deviation (`ddof` 0).
    fn std(&self) -> Result<f64> {
        self.std_with(&ReduceOptions::default(), &Exec::current())
    }

    /// [`std`](Self::std) with options and a context.
    fn std_with(&self, opts: &ReduceOptions, exec: &Exec) -> Result<f64> {
        self.prepare();
        typed(&self.ops_view(), Op::Std, opts, exec)
    }

    /// Count, sum, mean, min, max and std in one pass.
    fn stats(&self) -> Result<Stats> {
        self.stats_with(false, &Exec::current())
    }

    /// [`stats`](Self::stats) skipping NaNs or not, in a context.
    fn stats_with(&self, skipna: bool, exec: &Exec) -> Result<Stats> {
        self.prepare();
        let v = self.ops_view();
        exec.run(|| crate::stats(&v, skipna))
    }

    /// Number of non-zero elements (NaN counts).
    fn count_nonzero(&self) -> Result<u64> {
        self.prepare();
        crate::count_nonzero(&self.ops_view())
    }

    /// Any reduction as a run-time typed [`Value`], with options and a context.
    fn reduce_with(&self, op: Op, opts: &ReduceOptions, exec: &Exec) -> Result<Value> {
        self.prepare();
        let v = self.ops_view();
        exec.run(|| reduce(&v, op, opts))
    }

    /// Sums along `axis` (negative counts from the end).
    fn sum_axis(&self, axis: isize) -> Result<OwnedArray<T::Sum>> {
        self.sum_axis_with(axis, &ReduceOptions::default(), &Exec::current())
    }

    /// [`sum_axis`](Self::sum_axis) with options and a context.
    fn sum_axis_with(
        &self,
        axis: isize,
        opts: &ReduceOptions,
        exec: &Exec,
    ) -> Result<OwnedArray<T::Sum>> {
        self.prepare();
        typed_axis(&self.ops_view(), Op::Sum, axis, opts, exec)
    }

    /// Means along `axis`.
    fn mean_axis(&self, axis: isize) -> Result<OwnedArray<T::Mean>> {
        self.mean_axis_with(axis, &ReduceOptions::default(), &Exec::current())
    }

    /// [`mean_axis`](Self::mean_axis) with options and a context.
    fn mean_axis_with(
        &self,
        axis: isize,
        opts: &ReduceOptions,
        exec: &Exec,
    ) -> Result<OwnedArray<T::Mean>> {
        self.prepare();
        typed_axis(&self.ops_view(), Op::Mean, axis, opts, exec)
    }

    /// Smallest values along `axis`.
    fn min_axis(&self, axis: isize) -> Result<OwnedArray<T>> {
        self.min_axis_with(axis, &ReduceOptions::default(), &Exec::current())
    }

    /// [`min_axis`](Self::min_axis) with options and a context.
    fn min_axis_with(
        &self,
        axis: isize,
        opts: &ReduceOptions,
        exec: &Exec,
    ) -> Result<OwnedArray<T>> {
        self.prepare();
        typed_axis(&self.ops_view(), Op::Min, axis, opts, exec)
    }

    /// Largest values along `axis`.
    fn max_axis(&self, axis: isize) -> Result<OwnedArray<T>> {
        self.max_axis_with(axis, &ReduceOptions::default(), &Exec::current())
    }

    /// [`max_axis`](Self::max_axis) with options and a context.
    fn max_axis_with(
        &self,
        axis: isize,
        opts: &ReduceOptions,
        exec: &Exec,
    ) -> Result<OwnedArray<T>> {
        self.prepare();
        typed_axis(&self.ops_view(), Op::Max, axis, opts, exec)
    }

    /// Variances along `axis` (`ddof` 0).
    fn var_axis(&self, axis: isize) -> Result<OwnedArray<f64>> {
        self.var_axis_with(axis, &ReduceOptions::default(), &Exec::current())
    }

    /// [`var_axis`](Self::var_axis) with options and a context.
    fn var_axis_with(
        &self,
        axis: isize,
        opts: &ReduceOptions,
        exec: &Exec,
    ) -> Result<OwnedArray<f64>> {
        self.prepare();
        typed_axis(&self.ops_view(), Op::Var, axis, opts, exec)
    }

    /// Standard deviations along `axis` (`ddof` 0).
    fn std_axis(&self, axis: isize) -> Result<OwnedArray<f64>> {
        self.std_axis_with(axis, &ReduceOptions::default(), &Exec::current())
    }

    /// [`std_axis`](Self::std_axis) with options and a context.
    fn std_axis_with(
        &self,
        axis: isize,
        opts: &ReduceOptions,
        exec: &Exec,
    ) -> Result<OwnedArray<f64>> {
        self.prepare();
        typed_axis(&self.ops_view(), Op::Std, axis, opts, exec)
    }

    /// Your own reduction over the elements, on the engine: see [`map_reduce`](crate::map_reduce).
    ///
    /// ```
    /// use mmarray_ops::prelude::*;
    /// let bytes: Vec<u8> = (1..=100u16).flat_map(u16::to_be_bytes).collect();
    /// let v = View::<u16>::from_bytes(&bytes, &[10, 10], Order::C, ByteOrder::Big)?;
    /// // The number of even values of the odd rows.
    /// let evens = v.slice(s![1..;2])?.map_reduce(
    ///     || 0u64,
    ///     |n, block: &[u16]| *n += block.iter().filter(|&&x| x % 2 == 0).count() as u64,
    ///     |n, next| *n += next,
    /// )?;
    /// assert_eq!(evens, 25);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn map_reduce<A, I, B, M>(&self, init: I, block: B, merge: M) -> Result<A>
    where
        A: Send,
        I: Fn() -> A + Sync,
        B: Fn(&mut A, &[T::Work]) + Sync,
        M: Fn(&mut A, A) + Sync,
    {
        self.prepare();
        crate::map_reduce(&self.ops_view(), init, block, merge)
    }

    /// Any reduction along `axis` as a run-time typed [`AxisResult`], with options
    /// and a context (`argmin`/`argmax` give `i64` indices along the axis).
    fn reduce_axis_with(
        &self,
        op: Op,
        axis: isize,
        opts: &ReduceOptions,
        exec: &Exec,
    ) -> Result<AxisResult> {
        self.prepare();
        let v = self.ops_view();
        exec.run(|| reduce_axis_view(&v, op, axis, opts))
    }

    /// `op` along `axis` into a new `.npy` file at `out` instead of memory
    /// (numpy's `np.save(out, a.<op>(axis=axis))`): see
    /// [`reduce_axis_view_to_npy`]. Replaces an existing file only if
    /// `overwrite`; the file is complete or absent, never partly written.
    ///
    /// ```
    /// use mmarray_ops::prelude::*;
    /// # let dir = tempfile::tempdir()?;
    /// // SAFETY: the files are private to this example.
    /// let mut a = unsafe { Array::<f64, ReadWrite>::create(dir.path().join("a.npy"), &[300, 4], Order::C)? };
    /// a.arange();
    /// // np.save("means.npy", a[100:200].mean(axis=0))
    /// let out = dir.path().join("means.npy");
    /// a.slice(s![100..200])?.reduce_axis_to_npy(Op::Mean, 0, &out, false)?;
    /// let means = unsafe { Array::<f64, ReadOnly>::open(&out)? };
    /// assert_eq!(means.view().to_vec(), a.slice(s![100..200])?.mean_axis(0)?.into_vec());
    /// assert_eq!(means.view().to_vec(), [598.0, 599.0, 600.0, 601.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn reduce_axis_to_npy(
        &self,
        op: Op,
        axis: isize,
        out: impl AsRef<Path>,
        overwrite: bool,
    ) -> Result<()> {
        self.reduce_axis_to_npy_with(
            op,
            axis,
            out,
            overwrite,
            &ReduceOptions::default(),
            &Exec::current(),
        )
    }

    /// [`reduce_axis_to_npy`](Self::reduce_axis_to_npy) with options and a context.
    fn reduce_axis_to_npy_with(
        &self,
        op: Op,
        axis: isize,
        out: impl AsRef<Path>,
        overwrite: bool,
        opts: &ReduceOptions,
        exec: &Exec,
    ) -> Result<()> {
        self.prepare();
        let v = self.ops_view();
        exec.run(|| reduce_axis_view_to_npy(&v, op, axis, opts, out.as_ref(), overwrite))
    }
}

impl<T: Elem> private::Sealed<T> for View<'_, T> {
    type Input<'s>
        = View<'s, T>
    where
        Self: 's;

    fn ops_view(&self) -> View<'_, T> {
        self.clone()
    }
}

impl<T: Elem> private::Sealed<T> for ViewMut<'_, T> {
    type Input<'s>
        = View<'s, T>
    where
        Self: 's;

    fn ops_view(&self) -> View<'_, T> {
        self.view()
    }
}

impl<T: Elem, M: Mode> private::Sealed<T> for Array<T, M> {
    type Input<'s>
        = View<'s, T>
    where
        Self: 's;

    fn ops_view(&self) -> View<'_, T> {
        self.view()
    }

    fn prepare(&self) {
        self.advise(Advice::Sequential);
    }
}

impl<T: Elem> private::Sealed<T> for OwnedArray<T> {
    type Input<'s>
        = View<'s, T>
    where
        Self: 's;

    fn ops_view(&self) -> View<'_, T> {
        self.view()
    }
}

impl<T: Elem> private::Sealed<T> for ChunkedView<'_, T> {
    type Input<'s>
        = ChunkedView<'s, T>
    where
        Self: 's;

    fn ops_view(&self) -> ChunkedView<'_, T> {
        self.clone()
    }
}

impl<T: Elem> private::Sealed<T> for ChunkedViewMut<'_, T> {
    type Input<'s>
        = ChunkedView<'s, T>
    where
        Self: 's;

    fn ops_view(&self) -> ChunkedView<'_, T> {
        self.view().clone()
    }
}

impl<T: Elem> ArrayOps<T> for View<'_, T> {}
impl<T: Elem> ArrayOps<T> for ViewMut<'_, T> {}
impl<T: Elem, M: Mode> ArrayOps<T> for Array<T, M> {}
impl<T: Elem> ArrayOps<T> for OwnedArray<T> {}
impl<T: Elem> ArrayOps<T> for ChunkedView<'_, T> {}
impl<T: Elem> ArrayOps<T> for ChunkedViewMut<'_, T> {}

/// Parallel writes as methods of writable views (taking the view, as
/// [`fill`](crate::fill) does), of writable arrays (`&mut`) and of writable
/// chunked views ([`ChunkedViewMut`], whose writes return a `Result`).
///
/// With this trait in scope, `view_mut.fill(x)` is the parallel fill: it takes
/// precedence over the sequential [`ViewMut::fill`], which borrows. To fill a
/// view and keep it, fill a reborrow: `v.view_mut().fill(x)`. To run in another
/// execution context, call the method in [`Exec::run`].
///
/// ```
/// use mmarray_ops::prelude::*;
/// # let dir = tempfile::tempdir()?;
/// // SAFETY: the file is private to this example.
/// let mut a = unsafe { Array::<f32, ReadWrite>::create(dir.path().join("f.npy"), &[100, 10], Order::C)? };
/// a.fill(1.0);
/// a.slice_mut(s![..5])?.random(Dist::Normal, 42)?;
/// a.slice_mut(s![-1, ..;2])?.fill(2.0);
/// assert_eq!(a.slice(s![5..])?.sum()?, 95.0 * 10.0 + 5.0);
/// Exec::new().threads(1)?.run(|| a.slice_mut(s![50])?.random(Dist::Uniform, 7))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Read-only arrays and views have none of these methods: this compiles,
///
/// ```
/// use mmarray_ops::prelude::*;
/// fn write(mut a: Array<f64, ReadWrite>) -> mmarray_ops::Result<()> {
///     a.fill(1.0);
///     a.random(Dist::Normal, 1)
/// }
/// ```
///
/// and each of these, the same with [`ReadOnly`](mmarray_core::ReadOnly) or a
/// [`View`], does not (error E0599: the trait bounds are not satisfied):
///
/// ```compile_fail,E0599
/// use mmarray_ops::prelude::*;
/// fn write(mut a: Array<f64, ReadOnly>) {
///     a.fill(1.0); // a read-only array is not written
/// }
/// ```
///
/// ```compile_fail,E0599
/// use mmarray_ops::prelude::*;
/// fn write(a: Array<f64, ReadWrite>) -> mmarray_ops::Result<()> {
///     a.view().random(Dist::Normal, 1) // a View only reads; view_mut() writes
/// }
/// ```
pub trait ArrayOpsMut<T: Elem>: Sized {
    /// What [`fill`](Self::fill) and [`arange`](Self::arange) return: `()` for
    /// arrays and views of memory or of a mapping, whose writes cannot fail;
    /// `Result<()>` for a [`ChunkedViewMut`], whose changed chunks are stored.
    type Out;

    /// Sets every element to `value`, in parallel.
    fn fill(self, value: T) -> Self::Out;

    /// Fills with random numbers from `dist`, the same for a seed whatever the
    /// thread count (see [`random_view`]).
    fn random(self, dist: Dist, seed: u64) -> Result<()>;

    /// `np.arange(n).reshape(shape)` cast to `T`, in parallel.
    fn arange(self) -> Self::Out;
}

impl<T: Elem> ArrayOpsMut<T> for ViewMut<'_, T> {
    type Out = ();

    fn fill(self, value: T) {
        crate::fill(self, value);
    }

    fn random(self, dist: Dist, seed: u64) -> Result<()> {
        random_view(self, dist, seed)
    }

    fn arange(self) {
        crate::arange_view(self);
    }
}

impl<T: Elem, M: Writable> ArrayOpsMut<T> for &mut Array<T, M> {
    type Out = ();

    fn fill(self, value: T) {
        crate::fill(self.view_mut(), value);
    }

    fn random(self, dist: Dist, seed: u64) -> Result<()> {
        random_view(self.view_mut(), dist, seed)
    }

    fn arange(self) {
        crate::arange_view(self.view_mut());
    }
}

/// The writes of a chunked view store the chunks they change, and say if that
/// failed.
///
/// ```
/// use mmarray_core::chunk::{Chunked, MemoryChunks};
/// use mmarray_ops::prelude::*;
/// let mut c = Chunked::new(Box::new(MemoryChunks::new(DType::native(Kind::F32), &[6, 5], &[4, 2], Order::C)?));
/// c.view_mut::<f32>()?.into_slice(s![1..;2])?.fill(2.0)?;
/// c.view_mut::<f32>()?.into_slice(s![0])?.random(Dist::Uniform, 7)?;
/// let v = c.view::<f32>()?;
/// assert_eq!(v.slice(s![1..])?.sum()?, 2.0 * 15.0);
/// assert_eq!(v.slice(s![1..])?.sum_axis(1)?.as_slice(), [10.0, 0.0, 10.0, 0.0, 10.0]);
/// assert!(v.slice(s![0])?.max()? < 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<T: Elem> ArrayOpsMut<T> for ChunkedViewMut<'_, T> {
    type Out = Result<()>;

    fn fill(self, value: T) -> Result<()> {
        crate::fill(self, value)
    }

    fn random(self, dist: Dist, seed: u64) -> Result<()> {
        random_view(self, dist, seed)
    }

    fn arange(self) -> Result<()> {
        crate::arange_view(self)
    }
}
