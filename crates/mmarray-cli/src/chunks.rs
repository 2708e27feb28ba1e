//! Arrays read chunk by chunk (a Zarr store, a deflated `.npz` member): what
//! the commands do with them that is not a single call into `mmarray-ops`
//! (copying a selection with a byte-order change, reading rows a block at a
//! time). `show` of chunks is in [`crate::repr`].

use std::path::Path;

use mmarray_core::chunk::{Chunked, ChunkedView};
use mmarray_core::{Index, Order, Spec, View};
use mmarray_dtype::{ByteOrder, DType, Native, dispatch};

use crate::error::{CliError, Context};

/// The most data (in bytes) that `show` reads from chunks into memory.
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
