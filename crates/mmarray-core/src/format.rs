//! The file-format seam: [`Format`], with [`Npy`] and [`Raw`] as its implementations.
//!
//! A format reads the description of an existing file (dtype, shape, order, where
//! the data starts) and writes the bytes that precede the data of a new one. The
//! array and view types know nothing else about formats, so another format (a
//! chunked one, say) can plug in from a crate of its own.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use mmarray_dtype::DType;

use crate::geometry::{Order, checked_len, checked_nbytes};
use crate::npy::{self, HeaderError};
use crate::{Error, Result};

/// Where an array's data is in a file and how it is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Element type, with byte order.
    pub dtype: DType,
    /// Shape (`[]` for a 0-d array).
    pub shape: Vec<usize>,
    /// Memory order of the data.
    pub order: Order,
    /// Byte offset of the first element in the file.
    pub data_offset: u64,
    /// Format version, e.g. `(1, 0)` for `.npy` 1.0; `None` for formats without one.
    pub version: Option<(u8, u8)>,
}

impl Layout {
    /// Number of elements, `None` on overflow.
    #[must_use]
    pub fn len(&self) -> Option<usize> {
        checked_len(&self.shape)
    }

    /// Whether the array has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Bytes of data (`len * itemsize`), `None` when it overflows 64 bits.
    #[must_use]
    pub fn nbytes(&self) -> Option<u64> {
        u64::try_from(checked_nbytes(&self.shape, self.dtype.itemsize())?).ok()
    }

    /// The axis that can grow by appending: the first for C order, the last for F
    /// order; `None` for a 0-d array.
    #[must_use]
    pub fn growth_axis(&self) -> Option<usize> {
        match self.order {
            _ if self.shape.is_empty() => None,
            Order::C => Some(0),
            Order::F => Some(self.shape.len() - 1),
        }
    }
}

/// What [`Format::open_data`] found: the layout, and the file that holds the data
/// when it is not the file that was opened.
#[derive(Debug)]
pub struct Opened {
    /// Where the data is and how it is laid out (`data_offset` in `data_file` if set).
    pub layout: Layout,
    /// The file to map instead of the opened one (e.g. a member inflated into a
    /// temporary file); `None`: the opened file holds the data.
    pub data_file: Option<File>,
}

/// A file format that holds one array whose data is contiguous in a file.
pub trait Format: fmt::Debug + Send + Sync {
    /// A short name: `"npy"`, `"raw"`.
    fn name(&self) -> &'static str;

    /// Reads and validates the layout of an existing file of `file_len` bytes,
    /// reading only its header from `file` (positioned at byte 0). Checking that the
    /// data fits the file is left to the caller.
    fn read_layout(&self, file: &mut dyn Read, path: &Path, file_len: u64) -> Result<Layout>;

    /// Opens the data of an existing file of `file_len` bytes for reading, or for
    /// writing in place when `writable`. The default reads the layout with
    /// [`read_layout`](Format::read_layout) from the start of `file`, whose data is
    /// then mapped; a container format (an `.npz` archive) may point elsewhere in the
    /// file, or hand over another file.
    fn open_data(&self, file: &File, path: &Path, file_len: u64, writable: bool) -> Result<Opened> {
        let _ = writable;
        let mut reader = file;
        let layout = self.read_layout(&mut reader, path, file_len)?;
        Ok(Opened {
            layout,
            data_file: None,
        })
    }

    /// Called after the mapped data (`data`, at `layout.data_offset` of `file`) was
    /// flushed to the file, for formats that keep a checksum of it (an `.npz` member's
    /// CRC-32). The default does nothing.
    fn flushed(&self, file: &File, path: &Path, layout: &Layout, data: &[u8]) -> Result<()> {
        let _ = (file, path, layout, data);
        Ok(())
    }

    /// The archive member the array was opened from, for `.npz` archives.
    fn member(&self) -> Option<&crate::npz::MemberInfo> {
        None
    }

    /// The bytes that precede the data of a new file, and the layout they describe.
    fn new_file(&self, dtype: DType, shape: &[usize], order: Order) -> Result<(Vec<u8>, Layout)>;

    /// Whether the array can grow in place (checked before anything is read or
    /// changed); an error says why not. The default allows it.
    fn check_grow(&self, path: &Path) -> Result<()> {
        let _ = path;
        Ok(())
    }

    /// The bytes to write over `old_header` (the first `layout.data_offset` bytes of
    /// the file) when the array grows to `new_shape`. Must have the same length, so
    /// that the data does not move.
    fn grown_header(
        &self,
        layout: &Layout,
        old_header: &[u8],
        new_shape: &[usize],
    ) -> Result<Vec<u8>>;
}

/// numpy's `.npy` format, versions 1.0, 2.0 and 3.0 (see `docs/formats.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Npy {
    /// Largest header text accepted when reading (numpy's default is 10000 bytes).
    pub max_header_size: usize,
}

impl Default for Npy {
    fn default() -> Npy {
        Npy {
            max_header_size: npy::MAX_HEADER_SIZE,
        }
    }
}

fn header_error(path: &Path, source: HeaderError) -> Error {
    Error::Header {
        path: path.to_owned(),
        source,
    }
}

impl Format for Npy {
    fn name(&self) -> &'static str {
        "npy"
    }

    fn read_layout(&self, file: &mut dyn Read, path: &Path, file_len: u64) -> Result<Layout> {
        let mut reader = file;
        let h =
            npy::read_header(&mut reader, file_len, self.max_header_size).map_err(|e| match e {
                HeaderError::Io { source, .. } => Error::io(path, "read header", source),
                e => header_error(path, e),
            })?;
        Ok(Layout {
            dtype: h.dtype,
            shape: h.shape,
            order: if h.fortran_order { Order::F } else { Order::C },
            data_offset: h.data_offset as u64,
            version: Some(h.version),
        })
    }

    fn new_file(&self, dtype: DType, shape: &[usize], order: Order) -> Result<(Vec<u8>, Layout)> {
        let bytes = npy::header_bytes(dtype, shape, order == Order::F)
            .map_err(|e| header_error(Path::new(""), e))?;
        let version = (bytes[6], bytes[7]);
        let layout = Layout {
            dtype,
            shape: shape.to_vec(),
            order,
            data_offset: bytes.len() as u64,
            version: Some(version),
        };
        Ok((bytes, layout))
    }

    fn grown_header(
        &self,
        layout: &Layout,
        old_header: &[u8],
        new_shape: &[usize],
    ) -> Result<Vec<u8>> {
        let old = npy::NpyHeader {
            version: layout.version.unwrap_or((1, 0)),
            dtype: layout.dtype,
            fortran_order: layout.order == Order::F,
            shape: layout.shape.clone(),
            data_offset: layout.data_offset as usize,
        };
        npy::regrow_header(&old, old_header, new_shape)
            .map_err(|e| Error::Unsupported(format!("cannot grow: {e}")))
    }
}

/// A headerless file, read as `numpy.memmap` reads it: a dtype, an optional shape
/// (1-D and inferred from the file size when omitted), a byte offset and an order.
///
/// ```
/// use mmarray_core::{Order, Raw};
/// let raw = Raw::new(">f8".parse()?).shape(vec![100, 3]).offset(16).order(Order::F);
/// assert_eq!(raw.offset, 16);
/// # Ok::<(), mmarray_dtype::DTypeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    /// Element type.
    pub dtype: DType,
    /// Shape; `None` means 1-D with the length inferred from the file size.
    pub shape: Option<Vec<usize>>,
    /// Byte offset of the data (any value).
    pub offset: u64,
    /// Memory order.
    pub order: Order,
}

impl Raw {
    /// Raw data of `dtype`, 1-D, inferred length, offset 0, C order.
    #[must_use]
    pub fn new(dtype: DType) -> Raw {
        Raw {
            dtype,
            shape: None,
            offset: 0,
            order: Order::C,
        }
    }

    /// With an explicit shape.
    #[must_use]
    pub fn shape(mut self, shape: Vec<usize>) -> Raw {
        self.shape = Some(shape);
        self
    }

    /// With a byte offset.
    #[must_use]
    pub fn offset(mut self, offset: u64) -> Raw {
        self.offset = offset;
        self
    }

    /// With a memory order.
    #[must_use]
    pub fn order(mut self, order: Order) -> Raw {
        self.order = order;
        self
    }
}

impl Format for Raw {
    fn name(&self) -> &'static str {
        "raw"
    }

    fn read_layout(&self, _file: &mut dyn Read, path: &Path, file_len: u64) -> Result<Layout> {
        let layout_err = |reason: String| Error::Layout {
            path: path.to_owned(),
            reason,
        };
        if self.offset > file_len {
            return Err(layout_err(format!(
                "offset {} is past the end of the file ({file_len} bytes)",
                self.offset
            )));
        }
        let shape = if let Some(shape) = &self.shape {
            shape.clone()
        } else {
            let avail = file_len - self.offset;
            let itemsize = self.dtype.itemsize() as u64;
            if !avail.is_multiple_of(itemsize) {
                return Err(layout_err(format!(
                    "{avail} bytes after offset {} are not a whole number of {}-byte {} items",
                    self.offset,
                    itemsize,
                    self.dtype.kind()
                )));
            }
            let n = usize::try_from(avail / itemsize)
                .map_err(|_| layout_err("file too large".to_owned()))?;
            vec![n]
        };
        Ok(Layout {
            dtype: self.dtype,
            shape,
            order: self.order,
            data_offset: self.offset,
            version: None,
        })
    }

    fn new_file(&self, dtype: DType, shape: &[usize], order: Order) -> Result<(Vec<u8>, Layout)> {
        let offset = usize::try_from(self.offset)
            .map_err(|_| Error::Unsupported("offset too large".to_owned()))?;
        let layout = Layout {
            dtype,
            shape: shape.to_vec(),
            order,
            data_offset: self.offset,
            version: None,
        };
        Ok((vec![0; offset], layout))
    }

    fn grown_header(
        &self,
        _layout: &Layout,
        old_header: &[u8],
        _new_shape: &[usize],
    ) -> Result<Vec<u8>> {
        Ok(old_header.to_vec())
    }
}
