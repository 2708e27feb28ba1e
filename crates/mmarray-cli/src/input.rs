//! The one place where an input is opened: a file (`.npy`, raw, a stored `.npz`
//! member), mapped, or chunks read one by one: a Zarr store (a folder) or a
//! deflated `.npz` member (inflated as it is read, with no temporary file).
//! Commands take an [`Input`] and ask it for what they need; operations that
//! differ between mapped and chunked inputs are here, not in every command.

use std::path::Path;

use mmarray_core::chunk::Chunked;
use mmarray_core::npz::{self, DeflatedMember, MemberInfo};
use mmarray_core::print::PrintOptions;
use mmarray_core::{DynArray, Order, ReadOnly, ReadWrite, Spec, View, ViewMut};
use mmarray_dtype::{ByteOrder, DType, Value, dispatch};
use mmarray_ops::{AxisResult, ConvertOptions, Op, ReduceOptions, Stats};

use crate::args::{InputArgs, ZarrArgs};
use crate::error::{CliError, Context};
use crate::files;
#[cfg(feature = "zarr")]
use crate::store::Store;

/// An array to read.
#[derive(Debug)]
pub(crate) enum Input {
    /// A mapped file.
    File(DynArray<ReadOnly>),
    /// A Zarr store.
    #[cfg(feature = "zarr")]
    Store(Store),
    /// A deflated `.npz` member, inflated chunk by chunk as it is read.
    Member(Member),
}

/// A deflated member of an `.npz` archive, read as chunks.
#[derive(Debug)]
pub(crate) struct Member {
    /// What the archive says about it.
    pub(crate) info: MemberInfo,
    /// Its data, inflated in stream order.
    pub(crate) array: Chunked,
}

impl Member {
    /// Its layout as its `.npy` header gives it (the data offset is within the
    /// member's inflated bytes).
    pub(crate) fn layout(&self) -> mmarray_core::Layout {
        let h = &self.info.header;
        mmarray_core::Layout {
            dtype: h.dtype,
            shape: h.shape.clone(),
            order: if h.fortran_order { Order::F } else { Order::C },
            data_offset: h.data_offset as u64,
            version: Some(h.version),
        }
    }
}

/// What an [`Input`] holds, for the operations that differ only between mapped
/// and chunked data.
pub(crate) enum Data<'a> {
    /// One mapping.
    File(&'a DynArray<ReadOnly>),
    /// Chunks (of a store or a deflated member).
    Chunks(&'a Chunked),
}

/// An array to write in place (`fill`, `random`).
#[derive(Debug)]
pub(crate) enum InPlace {
    /// A file mapped read-write.
    File(DynArray<ReadWrite>),
    /// A Zarr v3 store opened for writing chunks.
    #[cfg(feature = "zarr")]
    Store(Store),
}

/// Whether `path` is to be opened as a Zarr store: a folder (without `--raw`).
/// A folder that holds no Zarr array is then an error that says so.
#[cfg(feature = "zarr")]
fn is_store(path: &Path, input: &InputArgs) -> Result<bool, CliError> {
    if input.raw || !path.is_dir() {
        return Ok(false);
    }
    if input.member.is_some() {
        return Err(CliError::file(
            path,
            "--member applies to .npz archives, and this is a Zarr store (a folder)",
        ));
    }
    Ok(true)
}

/// Opens `path` (a file, or a Zarr store) read-only; it is never modified.
pub(crate) fn open(path: &Path, input: &InputArgs) -> Result<Input, CliError> {
    #[cfg(feature = "zarr")]
    if is_store(path, input)? {
        return Ok(Input::Store(Store::open(path, false)?));
    }
    if let Some(member) = deflated_member(path, input)? {
        return Ok(Input::Member(member));
    }
    files::open_read(path, input).map(Input::File)
}

/// The selected member of the `.npz` archive at `path` when it is deflated
/// (`None` for any other file, and for stored members, which are mapped).
fn deflated_member(path: &Path, input: &InputArgs) -> Result<Option<Member>, CliError> {
    if input.raw || !files::is_archive(path) {
        return Ok(None);
    }
    let max_header = input
        .max_header_size
        .unwrap_or(mmarray_core::npy::MAX_HEADER_SIZE);
    let archive = npz::Archive::open_with(path, max_header).at(path)?;
    if !archive.select(input.member.as_deref()).at(path)?.compressed {
        return Ok(None);
    }
    let source = DeflatedMember::open_with(path, input.member.as_deref(), max_header).at(path)?;
    let info = source.member().clone();
    Ok(Some(Member {
        info,
        array: source.into_chunked(),
    }))
}

/// Opens `path` (a file, or a Zarr v3 store) for writing in place.
pub(crate) fn open_write(path: &Path, input: &InputArgs) -> Result<InPlace, CliError> {
    #[cfg(feature = "zarr")]
    if is_store(path, input)? {
        return Ok(InPlace::Store(Store::open(path, true)?));
    }
    files::open_write(path, input).map(InPlace::File)
}

/// A new array a command writes (`slice`, `convert`): a file, or a Zarr store
/// when the path ends in `.zarr`.
#[derive(Debug)]
pub(crate) struct NewArray<'a> {
    /// Where.
    pub(crate) path: &'a Path,
    /// Replace an existing one.
    pub(crate) force: bool,
    /// How to write a store.
    #[cfg_attr(not(feature = "zarr"), allow(dead_code))]
    pub(crate) zarr: &'a ZarrArgs,
}

impl NewArray<'_> {
    /// Whether the output is a Zarr store.
    #[cfg(feature = "zarr")]
    fn is_store(&self) -> bool {
        crate::store::is_zarr_output(self.path)
    }

    /// How to write it as a store of `dtype`, in `order`.
    #[cfg(feature = "zarr")]
    fn store(&self, dtype: DType, order: Order) -> crate::store::Output {
        crate::store::Output {
            dtype,
            order,
            force: self.force,
            zarr: self.zarr.clone(),
        }
    }
}

impl Input {
    /// The mapping, or the chunks.
    pub(crate) fn data(&self) -> Data<'_> {
        match self {
            Input::File(a) => Data::File(a),
            #[cfg(feature = "zarr")]
            Input::Store(s) => Data::Chunks(&s.array),
            Input::Member(m) => Data::Chunks(&m.array),
        }
    }

    /// `slice`: the elements `spec` selects, as a new `.npy` file or store (C
    /// order, the input's dtype and byte order).
    pub(crate) fn slice_to(
        &self,
        path: &Path,
        spec: &Spec,
        out: &NewArray<'_>,
    ) -> Result<(), CliError> {
        match self.data() {
            #[cfg(feature = "zarr")]
            Data::File(file) if out.is_store() => dispatch!(file.dtype().kind(), T => {
                let view = file.view::<T>().at(path)?.slice(spec.clone()).at(path)?;
                crate::store::write_view(&view, out.path, &out.store(file.dtype(), Order::C))
            }),
            Data::File(file) => {
                mmarray_ops::slice_to_file(file, spec, out.path, out.force).at(path)
            }
            #[cfg(feature = "zarr")]
            Data::Chunks(c) if out.is_store() => dispatch!(c.dtype().kind(), T => {
                let view = c.view::<T>().at(path)?.slice(spec.clone()).at(path)?;
                crate::store::write_chunked(&view, out.path, &out.store(self.dtype(), Order::C))
            }),
            Data::Chunks(c) => {
                crate::chunks::slice_to_npy(c, self.dtype(), path, spec, out.path, out.force)
            }
        }
    }

    /// `reduce --axis --out`: the reduction along `axis` as a new `.npy` file or
    /// store (native byte order, the input's order).
    pub(crate) fn reduce_axis_to(
        &self,
        path: &Path,
        op: Op,
        axis: isize,
        opts: &ReduceOptions,
        out: &NewArray<'_>,
    ) -> Result<(), CliError> {
        #[cfg(feature = "zarr")]
        let to_store = out.is_store();
        #[cfg(not(feature = "zarr"))]
        let to_store = false;
        match self.data() {
            Data::File(file) if !to_store => {
                return mmarray_ops::reduce_axis_to_npy(file, op, axis, opts, out.path, out.force)
                    .at(path);
            }
            // Straight into the file (C order: reduce_axis_chunked_to_npy's).
            Data::Chunks(c) if !to_store && c.order() == Order::C => {
                return mmarray_ops::reduce_axis_chunked_to_npy(
                    c, op, axis, opts, out.path, out.force,
                )
                .at(path);
            }
            _ => {}
        }
        // Through memory: the result, then written in the input's order.
        let result = self.reduce_axis(op, axis, opts).at(path)?;
        let dest = out.path;
        dispatch!(result.dtype.kind(), T => {
            let view = View::<T>::from_bytes(&result.data, &result.shape, result.order, ByteOrder::NATIVE)
                .at(dest)?;
            #[cfg(feature = "zarr")]
            if to_store {
                return crate::store::write_view(&view, dest, &out.store(result.dtype, result.order));
            }
            let mut dst = files::create_staged(dest, result.dtype, &result.shape, result.order, false, out.force)?;
            mmarray_ops::assign(dst.view_mut::<T>().at(dest)?, &view).at(dest)?;
            dst.persist(out.force).at(dest)?.close().at(dest)
        })
    }

    /// `convert`: a converted copy (`opts`) as a new file, store, or (with `npz`:
    /// member name and compression) one-member archive.
    pub(crate) fn convert_to(
        &self,
        path: &Path,
        out: &NewArray<'_>,
        opts: ConvertOptions,
        npz: Option<(&str, bool)>,
    ) -> Result<(), CliError> {
        match (self.data(), npz) {
            #[cfg(feature = "zarr")]
            (Data::File(file), _) if out.is_store() => dispatch!(file.dtype().kind(), T => {
                let view = file.view::<T>().at(path)?;
                crate::store::write_view(&view, out.path, &out.store(opts.dtype, opts.order))
            }),
            (Data::File(file), Some((member, compress))) => {
                mmarray_ops::convert_to_npz(file, out.path, &opts, member, compress).at(path)
            }
            (Data::File(file), None) => mmarray_ops::convert_file(file, out.path, &opts).at(path),
            #[cfg(feature = "zarr")]
            (Data::Chunks(c), _) if out.is_store() => dispatch!(c.dtype().kind(), T => {
                let view = c.view::<T>().at(path)?;
                crate::store::write_chunked(&view, out.path, &out.store(opts.dtype, opts.order))
            }),
            (Data::Chunks(c), Some((member, compress))) => {
                mmarray_ops::convert_chunked_to_npz(c, out.path, &opts, member, compress).at(path)
            }
            (Data::Chunks(c), None) => mmarray_ops::convert_chunked(c, out.path, &opts).at(path),
        }
    }

    /// The `.npz` member it is (stored and mapped, or deflated and read as chunks).
    pub(crate) fn npz_member(&self) -> Option<&MemberInfo> {
        match self {
            Input::File(a) => a.npz_member(),
            #[cfg(feature = "zarr")]
            Input::Store(_) => None,
            Input::Member(m) => Some(&m.info),
        }
    }

    /// The element type, with the byte order of the data in the file or the store.
    pub(crate) fn dtype(&self) -> DType {
        match self {
            Input::File(a) => a.dtype(),
            #[cfg(feature = "zarr")]
            Input::Store(s) => s.dtype(),
            Input::Member(m) => m.array.dtype(),
        }
    }

    /// The shape.
    pub(crate) fn shape(&self) -> &[usize] {
        match self.data() {
            Data::File(a) => a.shape(),
            Data::Chunks(c) => c.shape(),
        }
    }

    /// The memory order (of a store or member: the order of elements in its chunks).
    pub(crate) fn order(&self) -> Order {
        match self.data() {
            Data::File(a) => a.order(),
            Data::Chunks(c) => c.order(),
        }
    }

    /// Bytes of data (decoded, for a store).
    pub(crate) fn nbytes(&self) -> u64 {
        (self.shape().iter().product::<usize>() * self.dtype().itemsize()) as u64
    }

    /// Bytes of the elements `spec` selects (for progress bars; all of them if
    /// `spec` does not fit).
    pub(crate) fn selected_bytes(&self, spec: &Spec) -> u64 {
        match self.data() {
            Data::File(a) => crate::progress::selected_bytes(a, spec),
            Data::Chunks(c) => {
                let itemsize = self.dtype().itemsize() as u64;
                dispatch!(c.dtype().kind(), T => c
                    .view::<T>()
                    .and_then(|v| v.slice(spec.clone()))
                    .map_or(self.nbytes(), |v| v.len() as u64 * itemsize))
            }
        }
    }

    /// A whole-array reduction.
    pub(crate) fn reduce(&self, op: Op, opts: &ReduceOptions) -> mmarray_ops::Result<Value> {
        match self.data() {
            Data::File(a) => mmarray_ops::reduce_array(a, op, opts),
            Data::Chunks(c) => dispatch!(c.dtype().kind(), T => {
                mmarray_ops::reduce(&c.view::<T>()?, op, opts)
            }),
        }
    }

    /// Count, sum, mean, min, max and std in one pass.
    pub(crate) fn stats(&self, skipna: bool) -> mmarray_ops::Result<Stats> {
        match self.data() {
            Data::File(a) => mmarray_ops::stats_array(a, skipna),
            Data::Chunks(c) => dispatch!(c.dtype().kind(), T => {
                mmarray_ops::stats(&c.view::<T>()?, skipna)
            }),
        }
    }

    /// A reduction along `axis`, into memory (native byte order, the input's order).
    pub(crate) fn reduce_axis(
        &self,
        op: Op,
        axis: isize,
        opts: &ReduceOptions,
    ) -> mmarray_ops::Result<AxisResult> {
        match self.data() {
            Data::File(a) => mmarray_ops::reduce_axis(a, op, axis, opts),
            Data::Chunks(c) => dispatch!(c.dtype().kind(), T => {
                let result = mmarray_ops::reduce_axis_view(&c.view::<T>()?, op, axis, opts)?;
                // In the chunks' order, as reduce_axis gives a .npy's result in its order.
                in_order(result, c.order())
            }),
        }
    }

    /// `show`: numpy's repr of the selection `spec` (all of it when `None`).
    pub(crate) fn repr(
        &self,
        path: &Path,
        spec: Option<&Spec>,
        options: &PrintOptions,
    ) -> Result<String, CliError> {
        match self.data() {
            Data::File(array) => dispatch!(array.dtype().kind(), T => {
                let view = array.view::<T>().at(path)?;
                crate::repr::repr_of(&view, spec, options).at(path)
            }),
            Data::Chunks(c) => crate::repr::show_chunked(c, self.dtype(), spec, options).at(path),
        }
    }
}

/// `result` (native elements) laid out in `order`.
fn in_order(result: AxisResult, order: Order) -> mmarray_ops::Result<AxisResult> {
    if result.shape.len() < 2 {
        // 0-d and 1-d data are the same in either order; C, as np.save writes them.
        return Ok(AxisResult {
            order: Order::C,
            ..result
        });
    }
    if result.order == order {
        return Ok(result);
    }
    let mut data = vec![0u8; result.data.len()];
    dispatch!(result.dtype.kind(), R => {
        let src = View::<R>::from_bytes(&result.data, &result.shape, result.order, ByteOrder::NATIVE)?;
        let dst = ViewMut::<R>::from_bytes(&mut data, &result.shape, order, ByteOrder::NATIVE)?;
        mmarray_ops::assign(dst, &src)?;
    });
    Ok(AxisResult {
        order,
        data,
        ..result
    })
}

impl InPlace {
    /// The element type of the data (its kind is what VALUEs must fit).
    pub(crate) fn dtype(&self) -> DType {
        match self {
            InPlace::File(a) => a.dtype(),
            #[cfg(feature = "zarr")]
            InPlace::Store(s) => s.dtype(),
        }
    }

    /// Bytes of the elements `spec` selects, or why `spec` does not fit the shape.
    pub(crate) fn selection(&self, spec: &Spec) -> Result<u64, mmarray_core::Error> {
        match self {
            InPlace::File(a) => crate::progress::selection(a, spec),
            #[cfg(feature = "zarr")]
            InPlace::Store(s) => {
                let itemsize = s.dtype().itemsize() as u64;
                dispatch!(s.array.dtype().kind(), T => s
                    .array
                    .view::<T>()
                    .and_then(|v| v.slice(spec.clone()))
                    .map(|v| v.len() as u64 * itemsize))
            }
        }
    }

    /// Writes `value` into the elements `spec` selects.
    pub(crate) fn fill(&mut self, spec: &Spec, value: Value) -> mmarray_ops::Result<()> {
        match self {
            InPlace::File(a) => mmarray_ops::fill_value(a, spec, value),
            #[cfg(feature = "zarr")]
            InPlace::Store(s) => dispatch!(s.array.dtype().kind(), T => {
                let view = s.array.view_mut::<T>()?.into_slice(spec.clone())?;
                mmarray_ops::fill(view, value.cast::<T>())
            }),
        }
    }

    /// Writes random values into the elements `spec` selects.
    pub(crate) fn random(
        &mut self,
        spec: &Spec,
        dist: mmarray_ops::Dist,
        seed: u64,
    ) -> mmarray_ops::Result<()> {
        match self {
            InPlace::File(a) => mmarray_ops::random_fill(a, spec, dist, seed),
            #[cfg(feature = "zarr")]
            InPlace::Store(s) => dispatch!(s.array.dtype().kind(), T => {
                let view = s.array.view_mut::<T>()?.into_slice(spec.clone())?;
                mmarray_ops::random_view(view, dist, seed)
            }),
        }
    }

    /// Flushes and closes.
    pub(crate) fn close(self, path: &Path) -> Result<(), CliError> {
        match self {
            InPlace::File(a) => a.close().at(path),
            #[cfg(feature = "zarr")]
            InPlace::Store(s) => s.array.flush().at(path),
        }
    }
}
