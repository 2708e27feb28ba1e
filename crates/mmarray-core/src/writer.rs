//! Writing an array's data straight to its file, past the mapping.

use std::fs::File;
use std::path::Path;

use crate::{Error, IndexError, Result, sys};

/// Writes the data bytes of a writable array ([`DynArray::data_writer`](crate::DynArray::data_writer))
/// to its file with `pwrite`, and starts their write-back early.
///
/// The mapping shows what is written (a shared mapping is the file's page cache), and the
/// array's [`flush`](crate::DynArray::flush), [`persist`](crate::DynArray::persist) and
/// [`close`](crate::DynArray::close) make it durable as they do writes through the mapping.
/// Writing a whole array this way costs no page faults and no zeroing of fresh pages
/// before they are overwritten, and [`start_writeback`](Self::start_writeback) lets the
/// disk work while later parts are still being computed. A `DataWriter` borrows the
/// array mutably, so no view of it (which would see its bytes change) can be alive at the
/// same time; the writer itself can be shared between threads.
///
/// ```
/// use mmarray_core::{DynArray, Order, ReadWrite};
/// # let dir = tempfile::tempdir()?;
/// // SAFETY: the file is private to this example.
/// let mut a = unsafe { DynArray::<ReadWrite>::create(dir.path().join("w.npy"), "<u2".parse()?, &[4], Order::C)? };
/// let w = a.data_writer().expect("a read-write array writes its file");
/// w.write_at(2, &[7, 0, 9, 0])?;       // elements 1 and 2
/// w.start_writeback(0, w.len());
/// assert!(w.write_at(6, &[1, 0, 0]).is_err()); // past the end of the data
/// let v = a.view::<u16>()?; // the writer's borrow has ended
/// assert_eq!(v.to_vec(), [0, 7, 9, 0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct DataWriter<'a> {
    file: &'a File,
    path: &'a Path,
    /// File offset of the first data byte.
    base: u64,
    /// Bytes of data.
    len: usize,
}

impl<'a> DataWriter<'a> {
    pub(crate) fn new(file: &'a File, path: &'a Path, base: u64, len: usize) -> DataWriter<'a> {
        DataWriter {
            file,
            path,
            base,
            len,
        }
    }

    /// Bytes of data (what [`write_at`](Self::write_at) offsets count within).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no data bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes `bytes` (in the file's byte order) at byte `offset` of the data; an error if
    /// they do not fit inside the data, or if the write fails.
    pub fn write_at(&self, offset: usize, bytes: &[u8]) -> Result<()> {
        if offset
            .checked_add(bytes.len())
            .is_none_or(|end| end > self.len)
        {
            return Err(Error::Index(IndexError::Range {
                offset,
                len: bytes.len(),
                nbytes: self.len,
            }));
        }
        sys::write_at(self.file, bytes, self.base + offset as u64)
            .map_err(|e| Error::io(self.path, "write", e))
    }

    /// Asks the kernel to start writing `len` bytes of data from byte `offset` to the disk
    /// now, without waiting for it (`sync_file_range(SYNC_FILE_RANGE_WRITE)` on Linux, nothing
    /// elsewhere). Only a hint, clipped to the data: errors are ignored here and reported
    /// by the flush that makes the data durable.
    pub fn start_writeback(&self, offset: usize, len: usize) {
        let start = offset.min(self.len);
        let end = offset.saturating_add(len).min(self.len);
        if start < end {
            sys::start_writeback(self.file, self.base + start as u64, (end - start) as u64);
        }
    }
}
