//! Everything a program over memory-mapped arrays usually needs, in one `use`.
//!
//! ```
//! use mmarray_ops::prelude::*;
//! # let dir = tempfile::tempdir()?;
//! // SAFETY: the file is private to this example.
//! let mut a = unsafe { Array::<f64, ReadWrite>::create(dir.path().join("p.npy"), &[4, 3], Order::C)? };
//! a.view_mut().fill(2.0);
//! let v: View<'_, f64> = a.view();
//! assert_eq!(reduce(&v, Op::Sum, &ReduceOptions::default())?, Value::F64(24.0));
//! let half: f16 = f16::from_f64(0.5);
//! assert_eq!(DType::native(Kind::F16).itemsize(), 2);
//! # let _ = (half, ByteOrder::Big, Complex64::new(1.0, 0.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! It brings in the array and view types and their modes ([`Array`], [`DynArray`],
//! [`View`], [`ViewMut`], [`ReadOnly`], [`ReadWrite`], [`CopyOnWrite`]), what
//! creating and opening take ([`Order`], [`CreateOptions`], [`OpenOptions`],
//! [`Raw`]), indexing ([`Spec`], [`Index`]), the element types and scalars of
//! `mmarray-dtype` ([`DType`], [`Kind`], [`ByteOrder`], [`Value`], [`struct@f16`],
//! [`Bool`], [`Complex32`], [`Complex64`], and the traits [`Element`] and
//! [`Native`]), and this crate's operations: as methods ([`ArrayOps`]:
//! `view.sum()`, `view.mean_axis(0)`, ...; [`ArrayOpsMut`]: `view_mut.fill(x)`,
//! ...; axis results as [`OwnedArray`]s) and as functions ([`reduce`], [`stats`],
//! [`reduce_axis_view`], [`reduce_axis_view_to_npy`], [`fill`], [`random_view`], [`map_reduce`], [`Op`], [`ReduceOptions`],
//! [`Dist`], [`Exec`], [`Elem`]). Error and `Result` types are left out, so they
//! do not shadow the standard library's `Result`.

pub use mmarray_core::{
    Array, CopyOnWrite, CreateOptions, DynArray, Index, Mode, OpenOptions, Order, Raw, ReadOnly,
    ReadWrite, Spec, View, ViewMut, Writable, s,
};
pub use mmarray_dtype::{
    Bool, ByteOrder, Complex32, Complex64, DType, Element, Kind, Native, Value, f16,
};

pub use crate::{
    Access, ArrayOps, ArrayOpsMut, Dist, Elem, Exec, Op, OwnedArray, ReduceOptions, Stats, fill,
    map_reduce, random_view, reduce, reduce_axis_view, reduce_axis_view_to_npy, stats,
};
