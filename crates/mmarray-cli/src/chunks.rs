//! Arrays read chunk by chunk (a Zarr store, a deflated `.npz` member): what
//! the commands do with them that is not a single call into `mmarray-ops`
//! (copying a selection with a byte-order change, reading the corners `show`
//! prints).

use std::path::Path;

use mmarray_core::chunk::{Chunked, ChunkedView};
use mmarray_core::print::PrintOptions;
use mmarray_core::{Index, Order, Spec, View};
use mmarray_dtype::{ByteOrder, DType, Native, dispatch};

use crate::error::{CliError, Context};
use crate::out;

/// The most data (in bytes) that `show` reads from a store into memory.
pub(crate) const IN_MEMORY_BYTES: usize = 256 << 20;

/// `slice IN OUT.npy` from chunks (of the input at `path`): the selection as a
/// new `.npy` file of `dtype` (the input's dtype and byte order: a store's `bytes`
/// codec endianness, while its chunks are decoded to native order).
pub(crate) fn slice_to_npy(
    array: &Chunked,
    dtype: DType,
    path: &Path,
    spec: &Spec,
    out: &Path,
    force: bool,
) -> Result<(), CliError> {
    if dtype == array.dtype() {
        return mmarray_ops::slice_chunked_to_file(array, spec, out, force).at(path);
    }
    // Block by block along the first axis: read (decoded to native order), then
    // copied into the new file in its byte order.
    dispatch!(dtype.kind(), T => {
        let view = array.view::<T>().at(path)?.slice(spec.clone()).at(path)?;
        let shape = view.shape().to_vec();
        let mut dst = crate::files::create_staged(out, dtype, &shape, Order::C, false, force)?;
        let row: usize = shape.iter().skip(1).product::<usize>().max(1) * dtype.itemsize();
        let rows = block_rows(&view, row);
        let n = shape.first().copied().unwrap_or(1);
        let mut start = 0;
        while start < n || (shape.is_empty() && start == 0) {
            let (block, bshape) = if shape.is_empty() {
                (Spec::default(), Vec::new())
            } else {
                let end = (start + rows).min(n);
                let mut b = shape.clone();
                b[0] = end - start;
                let spec = Spec::new(vec![Index::range(start as isize, end as isize)])
                    .map_err(mmarray_core::Error::from)
                    .at(path)?;
                (spec, b)
            };
            let values = view.slice(block.clone()).at(path)?.to_vec().at(path)?;
            let src = View::<T>::from_bytes(bytemuck::cast_slice(&values), &bshape, Order::C, ByteOrder::NATIVE).at(path)?;
            mmarray_ops::assign(dst.view_mut::<T>().at(out)?.into_slice(block).at(out)?, &src).at(out)?;
            start += rows;
            if shape.is_empty() {
                break;
            }
        }
        dst.persist(force).at(out)?.close().at(out)
    })
}

/// Bytes read from chunks at once by block-by-block copies (at least).
const BLOCK_BYTES: usize = 1 << 20;

/// Rows (entries of the first axis) of `view` to read at once, rows being
/// `row_bytes` long: about [`BLOCK_BYTES`], in whole chunks' rows when the view
/// keeps the array's axes (so that each chunk is decoded once), up to 8 times more.
pub(crate) fn block_rows<T: Native>(view: &ChunkedView<'_, T>, row_bytes: usize) -> usize {
    let row_bytes = row_bytes.max(1);
    let base = (BLOCK_BYTES / row_bytes).max(1);
    let array = view.array();
    if view.ndim() == array.grid().shape().len() {
        let chunk_rows = array
            .grid()
            .chunk_shape()
            .first()
            .copied()
            .unwrap_or(1)
            .max(1);
        if chunk_rows <= base {
            // Whole chunks' rows.
            base.div_ceil(chunk_rows).saturating_mul(chunk_rows)
        } else {
            chunk_rows.min((8 * BLOCK_BYTES / row_bytes).max(base))
        }
    } else {
        base
    }
}

/// The corners of `view` that numpy prints when it summarises it (`edge` items
/// at each end of every axis longer than `2 * edge`), with one element between
/// the two ends of each such axis (a copy of the first element: never printed),
/// in C order, and their shape.
pub(crate) fn corners<T: Native>(
    view: &ChunkedView<'_, T>,
    edge: usize,
) -> mmarray_core::Result<(Vec<T>, Vec<usize>)> {
    let shape = view.shape().to_vec();
    let cut: Vec<bool> = shape.iter().map(|&n| n > edge.saturating_mul(2)).collect();
    let compact: Vec<usize> = shape
        .iter()
        .zip(&cut)
        .map(|(&n, &c)| if c { 2 * edge + 1 } else { n })
        .collect();
    let len = mmarray_core::checked_len(&compact)
        .filter(|&n| n.saturating_mul(size_of::<T>()) <= IN_MEMORY_BYTES)
        .ok_or_else(|| {
            mmarray_core::Error::Unsupported(format!(
                "{}: the corners to show are too large; use a smaller --edgeitems",
                view.array().source().name()
            ))
        })?;
    let first = view
        .slice(Spec::new(vec![Index::Int(0); shape.len()])?)?
        .to_vec()?;
    let mut out = vec![
        first
            .first()
            .copied()
            .unwrap_or_else(<T as bytemuck::Zeroable>::zeroed);
        len
    ];
    let axes: Vec<usize> = (0..shape.len()).filter(|&ax| cut[ax]).collect();
    // Every corner: for each cut axis, its low or its high end.
    for mask in 0..1usize << axes.len() {
        let mut indices = Vec::with_capacity(shape.len());
        let mut at = vec![0usize; shape.len()];
        let mut extent = shape.clone();
        for (ax, &n) in shape.iter().enumerate() {
            match axes.iter().position(|&a| a == ax) {
                Some(k) if mask >> k & 1 == 1 => {
                    indices.push(Index::range((n - edge) as isize, n as isize));
                    at[ax] = edge + 1;
                    extent[ax] = edge;
                }
                Some(_) => {
                    indices.push(Index::range(0, edge as isize));
                    extent[ax] = edge;
                }
                None => indices.push(Index::range(0, n as isize)),
            }
        }
        let block = view.slice(Spec::new(indices)?)?.to_vec()?;
        // Into the compact C-order buffer at `at`.
        let mut index = vec![0usize; shape.len()];
        for v in block {
            let mut flat = 0;
            for ax in 0..shape.len() {
                flat = flat * compact[ax] + at[ax] + index[ax];
            }
            out[flat] = v;
            for ax in (0..shape.len()).rev() {
                index[ax] += 1;
                if index[ax] < extent[ax] {
                    break;
                }
                index[ax] = 0;
            }
        }
    }
    Ok((out, compact))
}

/// `show` on chunks: the selection is read into memory (at most
/// [`IN_MEMORY_BYTES`]) and printed as the same view of a `.npy` of `dtype` (the
/// input's, with its byte order) would be.
pub(crate) fn show(
    array: &Chunked,
    dtype: DType,
    spec: Option<&Spec>,
    options: &PrintOptions,
) -> Result<String, mmarray_core::Error> {
    dispatch!(dtype.kind(), T => {
        let whole = array.view::<T>()?;
        let sub = match spec {
            Some(spec) => whole.slice(spec.clone())?,
            None => whole,
        };
        // numpy prints only the corners of a summarised array (edgeitems at each
        // end of the longer axes): read those, with one more (unprinted) element
        // between them along each such axis, so that the printer summarises them
        // as it would the whole selection.
        let summarised = sub.len() > options.threshold && sub.ndim() > 0;
        let (mut values, shape) = if summarised {
            corners(&sub, options.edgeitems)?
        } else {
            let nbytes = sub.len() * size_of::<T>();
            if nbytes > IN_MEMORY_BYTES {
                return Err(mmarray_core::Error::Unsupported(format!(
                    "{}: the selection holds {} of data, more than the {} show reads into memory from chunks (a Zarr store or a deflated .npz member); select less with --slice or lower --threshold",
                    array.source().name(),
                    out::bytes_text(nbytes as u64),
                    out::bytes_text(IN_MEMORY_BYTES as u64)
                )));
            }
            (sub.to_vec()?, sub.shape().to_vec())
        };
        // In the store's byte order, so that numpy's repr names it as for a .npy.
        let order = dtype.byte_order();
        if !dtype.is_native() {
            mmarray_dtype::byteswap_bytes(bytemuck::cast_slice_mut(&mut values), <T as mmarray_dtype::Element>::KIND.swap_unit());
        }
        let view = View::<T>::from_bytes(bytemuck::cast_slice(&values), &shape, Order::C, order)?;
        if summarised {
            let compact = PrintOptions { threshold: 0, ..*options };
            let text = crate::commands::repr_selected(&view, spec, &compact);
            return Ok(real_shape(&text, &shape, sub.shape(), options.linewidth));
        }
        Ok(crate::commands::repr_selected(&view, spec, options))
    })
}

/// `text`, numpy's repr of the corners of an array (shape `compact`, printed
/// summarised), as the repr of the whole array (shape `real`): the same text with
/// the real shape, laid out as numpy lays out the closing `shape=..., dtype=...)`.
fn real_shape(text: &str, compact: &[usize], real: &[usize], linewidth: usize) -> String {
    let tag = format!("shape={}", out::py_shape(compact));
    let Some(at) = text.rfind(&tag) else {
        return text.to_owned();
    };
    let arr_str = text[..at].trim_end();
    let extra_str = format!("shape={}{}", out::py_shape(real), &text[at + tag.len()..]);
    let last_line_len = arr_str.len() - arr_str.rfind('\n').map_or(0, |i| i + 1);
    let prefix = text.find('(').map_or(0, |i| i + 1);
    let spacer = if last_line_len + extra_str.len() + 1 > linewidth {
        format!("\n{}", " ".repeat(prefix))
    } else {
        " ".to_owned()
    };
    format!("{arr_str}{spacer}{extra_str}")
}
