//! `mmarray._native`: the Rust half of the `mmarray` Python package.
//!
//! The Python package (`python/mmarray/`) holds the user-facing `Array` class,
//! indexing arithmetic, pickling and the dask glue; this module holds what must
//! be fast or safe: opening and creating files through `mmarray-core`, handing
//! numpy zero-copy buffers that keep their mapping alive, and running
//! `mmarray-ops` kernels with the GIL released.
//!
//! Ownership: a `File` owns an `Arc` of the open array. `close()` drops the
//! `File`'s reference; every numpy array made from the mapping holds a
//! `Buffer` (its `base`) with another reference, so the mapping lives until
//! the last of them is gone, and no numpy array ever points into unmapped memory.

mod errors;
mod exact;
mod file;
mod ndarray_in;
mod threads;

use pyo3::prelude::*;

/// The module `mmarray._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<file::File>()?;
    m.add_class::<file::Buffer>()?;
    m.add_function(wrap_pyfunction!(file::open, m)?)?;
    m.add_function(wrap_pyfunction!(file::create, m)?)?;
    m.add_function(wrap_pyfunction!(file::identity, m)?)?;
    m.add_function(wrap_pyfunction!(ndarray_in::reduce_ndarray, m)?)?;
    m.add_function(wrap_pyfunction!(ndarray_in::stats_ndarray, m)?)?;
    m.add_function(wrap_pyfunction!(exact::exact_partials, m)?)?;
    m.add_function(wrap_pyfunction!(threads::set_threads, m)?)?;
    m.add_function(wrap_pyfunction!(threads::get_threads, m)?)?;
    Ok(())
}
