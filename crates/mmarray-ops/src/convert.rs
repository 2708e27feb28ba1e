//! Out-of-core conversions: `astype` into a new file, slices into a new file,
//! byte swaps and functions applied in place.

use std::mem::size_of;
use std::path::Path;

use mmarray_core::chunk::{Chunked, ChunkedView};
use mmarray_core::npz::{WriteOptions, write_array, write_bytes};
use mmarray_core::{
    CreateOptions, DynArray, Mode, Order, ReadWrite, Spec, ViewMut, Writable,
    lowlevel::{Advice, Piece, Runs},
};
use mmarray_dtype::{
    DType, Element, byteswap_bytes, convert, convert_part, decode_prefix, dispatch, encode_prefix,
};
use rayon::prelude::*;

use crate::chunked::copy_chunked;
use crate::data::Target;
use crate::engine::{BLOCK, SEGMENT_BYTES};
use crate::exec::{Exec, with};
use crate::{Error, InvalidArgument, Result};

/// Options of [`convert_file`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvertOptions {
    /// Element type (and byte order) of the output.
    pub dtype: DType,
    /// Memory order of the output.
    pub order: Order,
    /// Write a raw (headerless) file instead of `.npy`.
    pub raw: bool,
    /// Replace an existing output file.
    pub overwrite: bool,
}

fn staged(
    out: &Path,
    dtype: DType,
    shape: &[usize],
    order: Order,
    raw: bool,
    overwrite: bool,
) -> Result<DynArray<ReadWrite>> {
    if !overwrite && out.exists() {
        return Err(mmarray_core::Error::Exists {
            path: out.to_owned(),
        }
        .into());
    }
    let options = if raw {
        CreateOptions::new().raw(0)
    } else {
        CreateOptions::new()
    };
    // SAFETY: the staged file is new, under a temporary name private to this call.
    Ok(unsafe { DynArray::create_staged(out, dtype, shape, order, &options) }?)
}

/// Writes a converted copy of `src` to `out` (numpy's `astype` with unsafe
/// casting, into a new file), in parallel and in bounded memory. The output is
/// written under a temporary name and renamed when complete.
pub fn convert_file<M: Mode>(src: &DynArray<M>, out: &Path, opts: &ConvertOptions) -> Result<()> {
    with(|_| convert_file_in(src, out, *opts))
}

fn convert_file_in<M: Mode>(src: &DynArray<M>, out: &Path, opts: ConvertOptions) -> Result<()> {
    let mut dst = staged(
        out,
        opts.dtype,
        src.shape(),
        opts.order,
        opts.raw,
        opts.overwrite,
    )?;
    convert_into(src, &mut dst, opts)?;
    dst.persist(opts.overwrite)?.close()?;
    Ok(())
}

/// Writes a converted copy of `src` (as [`convert_file`]) as the only member, named
/// `member`, of a new `.npz` archive `out`, stored or (with `compress`) deflated; see
/// [`mmarray_core::npz::write_array`]. When the dtype and memory order stay, the
/// archive is written straight from `src`; otherwise the conversion goes through a
/// temporary `.npy` file in the folder of `out`, removed afterwards. `opts.raw` is an
/// error (an archive member is a `.npy` file).
pub fn convert_to_npz<M: Mode>(
    src: &DynArray<M>,
    out: &Path,
    opts: &ConvertOptions,
    member: &str,
    compress: bool,
) -> Result<()> {
    with(|_| convert_to_npz_in(src, out, *opts, member, compress))
}

/// The archive's write options for `convert_*_to_npz`, after checking `opts`.
fn npz_options(
    out: &Path,
    opts: ConvertOptions,
    member: &str,
    compress: bool,
) -> Result<WriteOptions> {
    if opts.raw {
        return Err(mmarray_core::Error::Unsupported(format!(
            "{}: an .npz archive member cannot be raw",
            out.display()
        ))
        .into());
    }
    if !opts.overwrite && out.exists() {
        return Err(mmarray_core::Error::Exists {
            path: out.to_owned(),
        }
        .into());
    }
    Ok(WriteOptions::new(member)
        .compress(compress)
        .overwrite(opts.overwrite))
}

fn convert_to_npz_in<M: Mode>(
    src: &DynArray<M>,
    out: &Path,
    opts: ConvertOptions,
    member: &str,
    compress: bool,
) -> Result<()> {
    let write = npz_options(out, opts, member, compress)?;
    let same_order = src.order() == opts.order || src.ndim() <= 1 || src.len() <= 1;
    if src.dtype() == opts.dtype && same_order {
        src.advise(Advice::Sequential);
        let layout = src.layout();
        write_bytes(
            out,
            opts.dtype,
            &layout.shape,
            opts.order,
            src.bytes(),
            &write,
        )?;
        Exec::current().advance(src.nbytes());
        return Ok(());
    }
    // The temporary .npy is staged (never persisted): dropping it removes it.
    let mut tmp = staged(out, opts.dtype, src.shape(), opts.order, false, true)?;
    convert_into(src, &mut tmp, opts)?;
    tmp.flush()?;
    write_array(out, &tmp, &write)?;
    Ok(())
}

/// Converts `src` into `dst`, a new array of the same shape.
fn convert_into<M: Mode>(
    src: &DynArray<M>,
    dst: &mut DynArray<ReadWrite>,
    opts: ConvertOptions,
) -> Result<()> {
    let ctx = Exec::current();
    src.advise(Advice::Sequential);
    let (from, to) = (src.dtype(), opts.dtype);
    let (si, di) = (from.itemsize(), to.itemsize());
    let per = (SEGMENT_BYTES / si.max(di)).max(1);
    if src.order() == opts.order || src.ndim() <= 1 || src.len() <= 1 {
        let pieces = src.len().div_ceil(per);
        dst.bytes_mut()
            .par_chunks_mut(per * di)
            .zip(src.bytes().par_chunks(per * si))
            .enumerate()
            .try_for_each(|(i, (d, s))| {
                ctx.check()?;
                // The whole array in pieces, as numpy's astype loops over it once.
                convert_part(s, from, d, to, i == 0, i + 1 == pieces)?;
                ctx.advance(s.len());
                Ok::<(), Error>(())
            })?;
    } else {
        // Memory orders differ: gather each output block's elements from the source.
        let shape = src.shape().to_vec();
        let src_strides: Vec<usize> = mmarray_core::contiguous_strides(&shape, si, src.order())
            .iter()
            .map(|&s| s.unsigned_abs())
            .collect();
        let (bytes, out_order) = (src.bytes(), opts.order);
        dst.bytes_mut()
            .par_chunks_mut(BLOCK * di)
            .enumerate()
            .try_for_each(|(b, d)| {
                ctx.check()?;
                let n = d.len() / di;
                let mut gathered = [0u8; BLOCK * 16];
                let mut index = out_order.unravel(b * BLOCK, &shape);
                for k in 0..n {
                    let off: usize = index.iter().zip(&src_strides).map(|(i, s)| i * s).sum();
                    gathered[k * si..(k + 1) * si].copy_from_slice(&bytes[off..off + si]);
                    step(&mut index, &shape, out_order);
                }
                convert(&gathered[..n * si], from, d, to)?;
                ctx.advance(n * si);
                Ok::<(), Error>(())
            })?;
    }
    Ok(())
}

/// Advances a multi-index by one position in memory order `order`.
fn step(index: &mut [usize], shape: &[usize], order: Order) {
    let axes: Box<dyn Iterator<Item = usize>> = match order {
        Order::C => Box::new((0..shape.len()).rev()),
        Order::F => Box::new(0..shape.len()),
    };
    for a in axes {
        index[a] += 1;
        if index[a] < shape[a] {
            return;
        }
        index[a] = 0;
    }
}

/// [`convert_file`] for a chunked array (a Zarr store, say): a converted copy of
/// `src` in a new `.npy` (or raw) file, written under a temporary name and
/// renamed when complete; chunks are read in parallel, a band at a time.
pub fn convert_chunked(src: &Chunked, out: &Path, opts: &ConvertOptions) -> Result<()> {
    with(|_| {
        let mut dst = staged(
            out,
            opts.dtype,
            src.shape(),
            opts.order,
            opts.raw,
            opts.overwrite,
        )?;
        dispatch!(src.dtype().kind(), T => copy_chunked(&src.view::<T>()?, dst.bytes_mut(), opts.dtype, opts.order)?);
        dst.persist(opts.overwrite)?.close()?;
        Ok(())
    })
}

/// [`convert_to_npz`] from a chunked array (a Zarr store, a deflated `.npz`
/// member): converted into a temporary `.npy` file in the folder of `out`
/// (removed afterwards), which is then archived.
///
/// ```
/// use mmarray_core::chunk::{Chunked, MemoryChunks};
/// use mmarray_core::{Order, View};
/// use mmarray_dtype::ByteOrder;
/// use mmarray_ops::ConvertOptions;
/// # let dir = tempfile::tempdir()?;
/// let values: Vec<i16> = (0..30).collect();
/// let v = View::<i16>::from_bytes(bytemuck::cast_slice(&values), &[5, 6], Order::C, ByteOrder::NATIVE)?;
/// let c = Chunked::new(Box::new(MemoryChunks::from_view(&v, &[2, 4], Order::C)?));
/// let out = dir.path().join("a.npz");
/// let opts = ConvertOptions { dtype: "<f4".parse()?, order: Order::F, raw: false, overwrite: false };
/// mmarray_ops::convert_chunked_to_npz(&c, &out, &opts, "x", true)?;
/// let archive = mmarray_core::npz::Archive::open(&out)?;
/// assert_eq!(archive.members()[0].name, "x");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn convert_chunked_to_npz(
    src: &Chunked,
    out: &Path,
    opts: &ConvertOptions,
    member: &str,
    compress: bool,
) -> Result<()> {
    with(|_| {
        let write = npz_options(out, *opts, member, compress)?;
        // Staged (never persisted): dropping it removes it.
        let mut tmp = staged(out, opts.dtype, src.shape(), opts.order, false, true)?;
        dispatch!(src.dtype().kind(), T => copy_chunked(&src.view::<T>()?, tmp.bytes_mut(), opts.dtype, opts.order)?);
        tmp.flush()?;
        write_array(out, &tmp, &write)?;
        Ok(())
    })
}

/// Copies the elements of the chunked `view` into `dst`, a contiguous array of
/// the view's shape in `order` with dtype `to` (numpy's `np.asarray(view,
/// dtype=to, order=order)` into a buffer the caller owns), converting as
/// `astype` does; in parallel, a band of chunks at a time, when the view's
/// memory order is `order`. This is how a view of a store becomes an array in
/// memory.
///
/// ```
/// use mmarray_core::chunk::{Chunked, MemoryChunks};
/// use mmarray_core::{Order, View};
/// use mmarray_dtype::{ByteOrder, DType};
/// let values: Vec<i16> = (0..30).collect();
/// let v = View::<i16>::from_bytes(bytemuck::cast_slice(&values), &[5, 6], Order::C, ByteOrder::NATIVE)?;
/// let c = Chunked::new(Box::new(MemoryChunks::from_view(&v, &[2, 4], Order::C)?));
/// let view = c.view::<i16>()?.slice("1:4, ::-2")?;
/// let mut out = vec![0u8; view.len() * 8];
/// mmarray_ops::copy_chunked_into(&view, &mut out, "<f8".parse()?, Order::C)?;
/// let got: Vec<f64> = bytemuck::cast_slice(&out).to_vec();
/// assert_eq!(got, [11.0, 9.0, 7.0, 17.0, 15.0, 13.0, 23.0, 21.0, 19.0]);
/// assert!(mmarray_ops::copy_chunked_into(&view, &mut out[8..], DType::native(mmarray_dtype::Kind::F64), Order::C).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn copy_chunked_into<T: Element>(
    view: &ChunkedView<'_, T>,
    dst: &mut [u8],
    to: DType,
    order: Order,
) -> Result<()> {
    let want = view.len() * to.itemsize();
    if dst.len() != want {
        return Err(InvalidArgument::BufferLength {
            shape: view.shape().to_vec(),
            dtype: to,
            expected: want,
            found: dst.len(),
        }
        .into());
    }
    with(|_| copy_chunked(view, dst, to, order))
}

/// [`slice_to_file`] for a chunked array: the elements selected by `spec` in a
/// new C-order `.npy` file with the same dtype (`np.save(out, a[spec])`).
pub fn slice_chunked_to_file(
    src: &Chunked,
    spec: &Spec,
    out: &Path,
    overwrite: bool,
) -> Result<()> {
    with(|_| {
        dispatch!(src.dtype().kind(), T => {
            let view = src.view::<T>()?.slice(spec.clone())?;
            let mut dst = staged(out, src.dtype(), view.shape(), Order::C, false, overwrite)?;
            copy_chunked(&view, dst.bytes_mut(), src.dtype(), Order::C)?;
            dst.persist(overwrite)?.close()?;
        });
        Ok(())
    })
}

/// Writes the elements of `src` selected by `spec` to a new C-order `.npy` file
/// `out` with the same dtype and byte order (numpy's `np.save(out, a[spec])`),
/// written under a temporary name and renamed when complete.
pub fn slice_to_file<M: Mode>(
    src: &DynArray<M>,
    spec: &Spec,
    out: &Path,
    overwrite: bool,
) -> Result<()> {
    with(|ctx| slice_to_file_in(src, spec, out, overwrite, ctx))
}

fn slice_to_file_in<M: Mode>(
    src: &DynArray<M>,
    spec: &Spec,
    out: &Path,
    overwrite: bool,
    ctx: &Exec,
) -> Result<()> {
    dispatch!(src.dtype().kind(), T => {
        let view = src.view::<T>()?.slice(spec.clone())?;
        let mut dst = staged(out, src.dtype(), view.shape(), Order::C, false, overwrite)?;
        if view.ndim() <= 1 || view.shape()[0] <= 1 {
            dst.view_mut::<T>()?.assign(&view)?;
        } else {
            let rows = view.shape()[0];
            let row_shape = view.shape()[1..].to_vec();
            let row_bytes = dst.nbytes() / rows;
            let order = src.dtype().byte_order();
            dst.bytes_mut().par_chunks_mut(row_bytes.max(1)).enumerate().try_for_each(|(r, chunk)| {
                let mut d = ViewMut::<T>::from_bytes(chunk, &row_shape, Order::C, order)?;
                d.assign(&view.slice(vec![mmarray_core::Index::Int(r as isize)])?)?;
                ctx.advance(chunk.len());
                Ok::<(), Error>(())
            })?;
        }
        dst.persist(overwrite)?.close()?;
    });
    Ok(())
}

/// Reverses the bytes of every element in place (numpy's `a.byteswap(inplace=True)`:
/// the dtype stays, so the values change), in parallel.
pub fn byteswap_in_place<M: Writable>(array: &mut DynArray<M>) {
    let unit = array.dtype().kind().swap_unit();
    let itemsize = array.dtype().itemsize();
    let bytes = array.bytes_mut();
    with(|ctx| {
        bytes
            .par_chunks_mut((SEGMENT_BYTES / itemsize).max(1) * itemsize)
            .for_each(|chunk| {
                byteswap_bytes(chunk, unit);
                ctx.advance(chunk.len());
            });
    });
}

/// Replaces each element `x` of `view` by `f(x)`, in parallel (decoding and
/// encoding non-native data block by block).
///
/// ```
/// use mmarray_core::{Order, ViewMut};
/// use mmarray_dtype::ByteOrder;
/// let mut bytes: Vec<u8> = [1.0f64, 4.0, 9.0].iter().flat_map(|v| v.to_be_bytes()).collect();
/// let v = ViewMut::<f64>::from_bytes(&mut bytes, &[3], Order::C, ByteOrder::Big)?;
/// mmarray_ops::map_in_place(v, f64::sqrt);
/// assert_eq!(f64::from_be_bytes(bytes[16..].try_into().unwrap()), 3.0);
/// # Ok::<(), mmarray_core::Error>(())
/// ```
pub fn map_in_place<T: Element, V: Target<T>>(view: V, f: impl Fn(T) -> T + Sync) -> V::Out {
    let order = view.target_dtype().byte_order();
    let f = &f;
    with(move |_| {
        view.write_pieces(&|_: &Runs, _: Piece, bytes: &mut [u8]| {
            let mut buf = [T::zeroed(); BLOCK];
            for chunk in bytes.chunks_mut(BLOCK * size_of::<T>()) {
                let n = chunk.len() / size_of::<T>();
                decode_prefix(chunk, order, &mut buf[..n]);
                for v in &mut buf[..n] {
                    *v = f(*v);
                }
                encode_prefix(&buf[..n], order, chunk);
            }
        })
    })
}
