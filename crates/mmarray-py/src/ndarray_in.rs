//! Reductions of numpy arrays (`np.memmap` included), read in place.

use mmarray_dtype::DType;
use mmarray_ops::{Op, ReduceOptions};
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::CoreExt;
use crate::file::{Reduced, reduce_bytes, stats_bytes, stats_result};
use crate::threads;

/// Where a numpy array's elements are: the start of the bytes its elements
/// span, how many, and the view geometry relative to that start.
struct Region {
    start: usize,
    len: usize,
    dtype: DType,
    geom: (usize, Vec<usize>, Vec<isize>),
}

/// The region of `arr`, or `None` when its layout is not one `View::from_strided`
/// takes (overlapping or broadcast elements, strides that are not a multiple of
/// the item size): the caller copies it then.
fn region(arr: &Bound<'_, PyUntypedArray>) -> PyResult<(Region, bool)> {
    let descr: String = arr.dtype().getattr("str")?.extract()?;
    let dtype = DType::parse(&descr).map_err(|e| {
        PyTypeError::new_err(format!(
            "mmarray cannot reduce arrays of dtype {descr}: {e}"
        ))
    })?;
    let shape = arr.shape().to_vec();
    let strides = arr.strides().to_vec();
    let itemsize = dtype.itemsize();
    // SAFETY: `arr` is a live numpy array (checked by the cast) and the GIL is
    // held: its fields can be read.
    let data =
        unsafe { (*numpy::npyffi::_PyArray_GET_ITEM_DATA(arr.as_array_ptr())).data } as usize;
    let empty = shape.contains(&0);
    let (mut low, mut high) = (0i128, itemsize as i128);
    if !empty {
        for (&n, &s) in shape.iter().zip(&strides) {
            let span = s as i128 * (n as i128 - 1).max(0);
            if span < 0 {
                low += span;
            } else {
                high += span;
            }
        }
    }
    let simple = strides
        .iter()
        .zip(&shape)
        .all(|(&s, &n)| n <= 1 || (s != 0 && s.unsigned_abs() % itemsize == 0));
    if empty {
        return Ok((
            Region {
                start: data,
                len: 0,
                dtype,
                geom: (0, shape, strides),
            },
            simple,
        ));
    }
    let start = (data as i128 + low) as usize;
    Ok((
        Region {
            start,
            len: (high - low) as usize,
            dtype,
            geom: ((-low) as usize, shape, strides),
        },
        simple,
    ))
}

/// `arr` itself if its layout can be read in place, else a C-contiguous copy.
fn readable<'py>(arr: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyUntypedArray>> {
    let a = arr
        .cast::<PyUntypedArray>()
        .map_err(|_| PyTypeError::new_err("expected a numpy array"))?
        .clone();
    let (_, simple) = region(&a)?;
    if simple {
        return Ok(a);
    }
    let np = arr.py().import("numpy")?;
    let copy = np.call_method1("ascontiguousarray", (arr,))?;
    Ok(copy
        .cast::<PyUntypedArray>()
        .map_err(|_| PyTypeError::new_err("expected a numpy array"))?
        .clone())
}

/// The bytes of a region.
///
/// # Safety
///
/// The numpy array the region was taken from must stay alive (and its memory
/// unchanged by others) while the slice is used.
unsafe fn bytes_of<'a>(r: &Region) -> &'a [u8] {
    if r.len == 0 {
        return &[];
    }
    // SAFETY: numpy's array addresses exactly the bytes `start..start + len`
    // (computed from its data pointer, shape and strides), which it owns or borrows
    // for as long as it lives; the caller keeps it alive.
    unsafe { std::slice::from_raw_parts(r.start as *const u8, r.len) }
}

/// A reduction of a numpy array, in place (no copy unless its layout is
/// overlapping or oddly strided): `(descr, bytes)` or `(descr, Buffer)` as
/// `File.reduce`.
#[pyfunction]
#[pyo3(signature = (arr, op, axis=None, ddof=0, skipna=false, threads=None))]
pub(crate) fn reduce_ndarray(
    py: Python<'_>,
    arr: &Bound<'_, PyAny>,
    op: &str,
    axis: Option<isize>,
    ddof: usize,
    skipna: bool,
    threads: Option<usize>,
) -> PyResult<Py<PyAny>> {
    let op: Op = op
        .parse()
        .map_err(|e: mmarray_ops::Error| PyValueError::new_err(e.to_string()))?;
    let opts = ReduceOptions { skipna, ddof };
    let a = readable(arr)?;
    let (r, _) = region(&a)?;
    let r: mmarray_ops::Result<Reduced> = threads::run_sized(py, threads, r.len, move || {
        // SAFETY: `a` (a reference to the array) lives until this function returns.
        let bytes = unsafe { bytes_of(&r) };
        reduce_bytes(bytes, r.dtype, &r.geom, op, axis, &opts)
    })?;
    r.py()?.into_py(py)
}

/// `stats` of a numpy array, in place: `(count, sum, mean, min, max, std)`.
#[pyfunction]
#[pyo3(signature = (arr, skipna=false, threads=None))]
pub(crate) fn stats_ndarray(
    py: Python<'_>,
    arr: &Bound<'_, PyAny>,
    skipna: bool,
    threads: Option<usize>,
) -> PyResult<Py<PyAny>> {
    let a = readable(arr)?;
    let (r, _) = region(&a)?;
    let s = threads::run_sized(py, threads, r.len, move || {
        // SAFETY: `a` lives until this function returns.
        let bytes = unsafe { bytes_of(&r) };
        stats_bytes(bytes, r.dtype, &r.geom, skipna)
    })?
    .py()?;
    stats_result(py, &s)
}
