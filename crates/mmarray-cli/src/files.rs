//! Opening and creating array files: the only places where the CLI maps files.
//!
//! Mapping a file is `unsafe` in `mmarray-core` (as in `memmap2`) because another
//! process could modify or truncate the file while it is mapped. The CLI maps each
//! file only for the duration of one command and documents, in `--help` and in its
//! README, that files must not be modified by other programs while a command runs.

use std::path::Path;

use mmarray_core::{CreateOptions, DynArray, OpenOptions, Order, Raw, ReadOnly, ReadWrite};
use mmarray_dtype::DType;

use crate::args::InputArgs;
use crate::error::{CliError, Context};

/// The core open options that `input` asks for (`.npy`, or raw with a layout).
pub(crate) fn open_options(input: &InputArgs) -> OpenOptions {
    let mut options = OpenOptions::new();
    if let Some(n) = input.max_header_size {
        options = options.max_header_size(n);
    }
    if let (true, Some(dtype)) = (input.raw, input.dtype) {
        let mut raw = Raw::new(dtype)
            .offset(input.offset.unwrap_or(0))
            .order(input.order.unwrap_or(Order::C));
        if let Some(shape) = &input.shape {
            raw = raw.shape(shape.0.clone());
        }
        options = options.raw(raw);
    }
    if let Some(member) = &input.member {
        options = options.member(member.clone());
    }
    options
}

/// Whether `path` starts with the zip magic, as `.npz` archives do (`false` for a
/// file that cannot be read: opening it reports why).
pub(crate) fn is_archive(path: &Path) -> bool {
    use std::io::Read;
    let mut first = [0u8; 4];
    // Only regular files: opening a FIFO would block.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut first))
        .is_ok_and(|()| mmarray_core::npz::is_archive(&first))
}

/// Opens an existing file read-only: it is never modified (bytes or mtime).
pub(crate) fn open_read(path: &Path, input: &InputArgs) -> Result<DynArray<ReadOnly>, CliError> {
    // SAFETY: the CLI maps the file only while this one command runs, and its help
    // and README state that files must not be modified or truncated by other
    // programs meanwhile; the mapping is read-only, so this process cannot change it.
    unsafe { DynArray::<ReadOnly>::open_with(path, &open_options(input)) }.at(path)
}

/// Opens an existing file for writing in place (`fill`, `random`).
pub(crate) fn open_write(path: &Path, input: &InputArgs) -> Result<DynArray<ReadWrite>, CliError> {
    // SAFETY: as in `open_read`: the mapping lives for this one command only, and the
    // documented precondition is that no other program modifies or truncates the file
    // meanwhile; core refuses a second conflicting mapping within this process.
    unsafe { DynArray::<ReadWrite>::open_with(path, &open_options(input)) }.at(path)
}

/// Creates a new file under a temporary name in the same folder; it appears under
/// `path` only when [`DynArray::persist`] is called, and a failure before that
/// leaves nothing behind.
pub(crate) fn create_staged(
    path: &Path,
    dtype: DType,
    shape: &[usize],
    order: Order,
    raw: bool,
    overwrite: bool,
) -> Result<DynArray<ReadWrite>, CliError> {
    let mut options = CreateOptions::new().overwrite(overwrite);
    if raw {
        options = options.raw(0);
    }
    // SAFETY: the file is new, under a unique temporary name that no other program
    // knows, and it is mapped only while this one command runs.
    unsafe { DynArray::create_staged(path, dtype, shape, order, &options) }.at(path)
}

/// Opens an existing file read-only with explicit core options.
pub(crate) fn open_read_with(
    path: &Path,
    options: &OpenOptions,
) -> Result<DynArray<ReadOnly>, CliError> {
    // SAFETY: as in `open_read`.
    unsafe { DynArray::<ReadOnly>::open_with(path, options) }.at(path)
}

/// Refuses to go on when `path` is a directory (with or without `--force`), or
/// exists and replacing it was not asked for (the final rename checks again, so a
/// file that appears meanwhile is not replaced), or exists and is not a regular
/// file (a symbolic link, a device, a FIFO, a socket: even with `--force`).
/// Every command that writes a new file calls this before it starts.
pub(crate) fn check_new(path: &Path, force: bool) -> Result<(), CliError> {
    // A Zarr output is a folder: an existing one is replaced with --force (if it is
    // a Zarr array; the store writer checks).
    #[cfg(feature = "zarr")]
    let folder_ok = crate::store::is_zarr_output(path);
    #[cfg(not(feature = "zarr"))]
    let folder_ok = false;
    if !folder_ok && std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(CliError::file(path, "is a directory"));
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !force {
        return Err(CliError::file(
            path,
            "file exists (use --force to replace it)",
        ));
    }
    // The new file is renamed over the old name: what is there goes, so only a
    // regular file (or a Zarr folder) may be replaced, never a link (its
    // target would not be written), a device, a FIFO or a socket.
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Err(CliError::file(
            path,
            "is a symbolic link: --force would replace the link, not write to its target              (give the target's path, or remove the link)",
        ));
    }
    if !(kind.is_file() || folder_ok && kind.is_dir()) {
        return Err(CliError::file(
            path,
            "is not a regular file (a device, a FIFO or a socket): --force replaces only files",
        ));
    }
    Ok(())
}
