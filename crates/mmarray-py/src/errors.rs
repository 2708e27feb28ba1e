//! One place that turns the Rust crates' errors into Python exceptions.

use std::io;
use std::path::Path;

use pyo3::PyErr;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyIndexError, PyIsADirectoryError, PyKeyError,
    PyOSError, PyPermissionError, PyValueError,
};

/// The exception for an OS error on `path`: `FileNotFoundError`, `PermissionError`,
/// `FileExistsError`, `IsADirectoryError` or `OSError`, with `errno`, `strerror`
/// and `filename` set as Python's own `open` sets them.
pub(crate) fn os_error(path: &Path, action: &str, source: &io::Error) -> PyErr {
    let errno = source.raw_os_error().unwrap_or(0);
    let strerror = format!("{action}: {source}");
    let filename = path.to_string_lossy().into_owned();
    let args = (errno, strerror, filename);
    match source.kind() {
        io::ErrorKind::NotFound => PyFileNotFoundError::new_err(args),
        io::ErrorKind::PermissionDenied => PyPermissionError::new_err(args),
        io::ErrorKind::AlreadyExists => PyFileExistsError::new_err(args),
        io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(args),
        _ => PyOSError::new_err(args),
    }
}

/// The exception for an error of `mmarray-core`.
pub(crate) fn core_error(e: &mmarray_core::Error) -> PyErr {
    use mmarray_core::Error as E;
    match e {
        E::Io {
            path,
            action,
            source,
        } => os_error(path, action, source),
        E::Exists { path } if path.is_dir() => PyIsADirectoryError::new_err((
            libc_eisdir(),
            "is a directory".to_owned(),
            path.to_string_lossy().into_owned(),
        )),
        E::Exists { path } => PyFileExistsError::new_err((
            libc_eexist(),
            "file exists (pass overwrite=True to replace it)".to_owned(),
            path.to_string_lossy().into_owned(),
        )),
        E::Layout { path, .. } if path.is_dir() => PyIsADirectoryError::new_err((
            libc_eisdir(),
            "is a directory, not an array file".to_owned(),
            path.to_string_lossy().into_owned(),
        )),
        E::Index(_) => PyIndexError::new_err(e.to_string()),
        E::Archive {
            member: Some(_),
            reason,
            ..
        } if reason.starts_with("no such member") => PyKeyError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// The exception for an error of opening or creating a Zarr store: as
/// [`core_error`], except that a store's folder is no reason for
/// `IsADirectoryError` (bad metadata is a `ValueError`, an existing store a
/// `FileExistsError`).
pub(crate) fn zarr_error(e: &mmarray_core::Error) -> PyErr {
    use mmarray_core::Error as E;
    match e {
        E::Exists { path } => PyFileExistsError::new_err((
            libc_eexist(),
            "a Zarr store exists (pass overwrite=True to replace it)".to_owned(),
            path.to_string_lossy().into_owned(),
        )),
        E::Layout { .. } => PyValueError::new_err(e.to_string()),
        _ => core_error(e),
    }
}

/// The exception for an error of `mmarray-ops`.
pub(crate) fn ops_error(e: &mmarray_ops::Error) -> PyErr {
    match e {
        mmarray_ops::Error::Core(c) => core_error(c),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// `EEXIST` (17 on Linux, macOS and the BSDs).
fn libc_eexist() -> i32 {
    io::Error::from(io::ErrorKind::AlreadyExists)
        .raw_os_error()
        .unwrap_or(17)
}

/// `EISDIR` (21 on Linux, macOS and the BSDs).
fn libc_eisdir() -> i32 {
    21
}

/// `Result` with a Python exception.
pub(crate) type PyResult<T> = Result<T, PyErr>;

/// Converts a core result.
pub(crate) trait CoreExt<T> {
    /// The result with the error as a Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> CoreExt<T> for Result<T, mmarray_core::Error> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| core_error(&e))
    }
}

impl<T> CoreExt<T> for Result<T, mmarray_ops::Error> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| ops_error(&e))
    }
}

impl<T> CoreExt<T> for Result<T, mmarray_dtype::DTypeError> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| PyValueError::new_err(e.to_string()))
    }
}
