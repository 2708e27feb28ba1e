//! `show`: numpy's repr of an array, of a mapped view or of chunks (read into
//! memory: the corners that numpy prints of a summarised array, or the whole
//! selection up to [`IN_MEMORY_BYTES`](crate::chunks::IN_MEMORY_BYTES)).

use mmarray_core::chunk::{Chunked, ChunkedView};
use mmarray_core::print::{PrintOptions, repr_with, scalar_repr};
use mmarray_core::{Index, Order, Spec, View};
use mmarray_dtype::{DType, Native, dispatch};

use crate::out;

/// numpy's `repr()` of `view`, or of what numpy's indexing of a memmap with `spec`
/// gives: a scalar when integers select one element, a plain array when nothing
/// is selected; printed with `options` (numpy's `set_printoptions`).
pub(crate) fn repr_of<T: Native>(
    view: &View<'_, T>,
    spec: Option<&Spec>,
    options: &PrintOptions,
) -> Result<String, mmarray_core::Error> {
    let sub = match spec {
        Some(spec) => view.slice(spec.clone())?,
        None => view.clone(),
    };
    Ok(repr_selected(&sub, spec, options))
}

/// numpy's `repr()` of `sub`, what numpy's indexing of a memmap with `spec` gave.
pub(crate) fn repr_selected<T: Native>(
    sub: &View<'_, T>,
    spec: Option<&Spec>,
    options: &PrintOptions,
) -> String {
    let Some(spec) = spec else {
        return repr_with(sub, "memmap", options);
    };
    if sub.ndim() == 0 && !spec.indices().contains(&Index::Ellipsis) {
        match sub.get(&[]) {
            Ok(v) => scalar_repr(v.to_value()),
            Err(_) => repr_with(sub, "array", options),
        }
    } else if sub.is_empty() {
        // numpy's memmap turns views that share no memory with the file into
        // plain arrays, and an empty view shares none.
        repr_with(sub, "array", options)
    } else {
        repr_with(sub, "memmap", options)
    }
}

/// The corners of `view` that numpy prints when it summarises it (`edge` items
/// at each end of every axis longer than `2 * edge`), with one element between
/// the two ends of each such axis (a copy of the first element: never printed),
/// in C order, and their shape.
fn corners<T: Native>(
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
        .filter(|&n| n.saturating_mul(size_of::<T>()) <= crate::chunks::IN_MEMORY_BYTES)
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
/// [`crate::chunks::IN_MEMORY_BYTES`]) and printed as the same view of a `.npy` of `dtype` (the
/// input's, with its byte order) would be.
pub(crate) fn show_chunked(
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
            if nbytes > crate::chunks::IN_MEMORY_BYTES {
                return Err(mmarray_core::Error::Unsupported(format!(
                    "{}: the selection holds {} of data, more than the {} show reads into memory from chunks (a Zarr store or a deflated .npz member); select less with --slice or lower --threshold",
                    array.source().name(),
                    out::bytes_text(nbytes as u64),
                    out::bytes_text(crate::chunks::IN_MEMORY_BYTES as u64)
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
            let text = repr_selected(&view, spec, &compact);
            return Ok(real_shape(&text, &shape, sub.shape(), options.linewidth));
        }
        Ok(repr_selected(&view, spec, options))
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
