//! A deflated `.npz` member read chunk by chunk: the member's data is cut into
//! chunks of about [`CHUNK_BYTES`] that are consecutive in the deflate stream
//! (bands of whole rows along the slowest axis, or pieces of one row when a row
//! is larger), and inflated in order through fixed-size buffers, with no
//! temporary file. The CRC-32 and the sizes are checked when the stream is
//! inflated to its end.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use mmarray_dtype::DType;

use super::{Archive, Ctx, MemberInfo};
use crate::chunk::{ChunkBytes, ChunkGrid, ChunkSource, Chunked};
use crate::{Error, Order, Result};

/// About how many bytes of data a chunk holds.
pub const CHUNK_BYTES: usize = 4 << 20;

/// Reads an owned file from `pos` up to `end` with `pread`.
struct FileRange {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for FileRange {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        #[cfg(unix)]
        let got = std::os::unix::fs::FileExt::read_at(&*self.file, &mut buf[..n], self.pos)?;
        #[cfg(not(unix))]
        let got = {
            crate::sys::read_at(&self.file, &mut buf[..n], self.pos)?;
            n
        };
        self.pos += got as u64;
        Ok(got)
    }
}

/// Where the inflating stands.
struct Stream {
    z: flate2::read::DeflateDecoder<FileRange>,
    /// The chunk (in stream order) the stream is at the start of.
    next: usize,
    crc: crc32fast::Hasher,
    /// Bytes of the member's `.npy` inflated so far.
    done: u64,
}

/// A deflated member of an `.npz` archive as a [`ChunkSource`] (read-only).
///
/// Chunks are read fastest in stream order ([`ChunkSource::in_order`]); a chunk
/// before the stream's position restarts the inflating from the member's start.
#[derive(Debug)]
pub struct DeflatedMember {
    path: PathBuf,
    file: Arc<File>,
    member: MemberInfo,
    dtype: DType,
    grid: ChunkGrid,
    order: Order,
    /// The inflating, between chunks.
    stream: Mutex<Option<StreamBox>>,
}

/// [`Stream`] behind a `Debug` that says nothing of the decoder.
struct StreamBox(Stream);

impl std::fmt::Debug for StreamBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stream at chunk {} ({} bytes)", self.0.next, self.0.done)
    }
}

/// The chunk shape for `shape` in `order`: whole along the fast axes while the
/// chunk stays within `budget` elements, then a part of the next axis, 1 along
/// the slower ones; consecutive chunks in `order` are consecutive in memory.
fn chunk_shape(shape: &[usize], order: Order, budget: usize) -> Vec<usize> {
    let nd = shape.len();
    let mut chunk = vec![1usize; nd];
    let mut inner = 1usize;
    for ax in order.axes_fastest_first(nd) {
        let n = shape[ax].max(1);
        if inner.saturating_mul(n) <= budget {
            chunk[ax] = n;
            inner *= n;
        } else {
            chunk[ax] = (budget / inner).clamp(1, n);
            break;
        }
    }
    chunk
}

impl DeflatedMember {
    /// The member `name` of the archive at `path` (`None`: its only member), which
    /// must be deflated; its header is read and checked, nothing else yet.
    ///
    /// ```
    /// use mmarray_core::npz::{DeflatedMember, WriteOptions};
    /// use mmarray_core::{Order, View};
    /// use mmarray_dtype::ByteOrder;
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("z.npz");
    /// let values: Vec<i32> = (0..1000).collect();
    /// let v = View::<i32>::from_bytes(bytemuck::cast_slice(&values), &[10, 100], Order::C, ByteOrder::NATIVE)?;
    /// mmarray_core::npz::write_bytes(&path, v.dtype(), &[10, 100], Order::C,
    ///     bytemuck::cast_slice(&values), &WriteOptions::new("a").compress(true))?;
    /// let a = DeflatedMember::open(&path, None)?.into_chunked();
    /// assert_eq!(a.view::<i32>()?.slice("9, -1")?.to_vec()?, [999]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>, name: Option<&str>) -> Result<DeflatedMember> {
        DeflatedMember::open_with(path, name, crate::npy::MAX_HEADER_SIZE)
    }

    /// As [`open`](DeflatedMember::open), accepting member headers of up to
    /// `max_header_size` bytes (as `OpenOptions::max_header_size`).
    pub fn open_with(
        path: impl AsRef<Path>,
        name: Option<&str>,
        max_header_size: usize,
    ) -> Result<DeflatedMember> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(path, "stat", e))?
            .len();
        let archive = Archive::read(&file, path, len, max_header_size)?;
        let m = archive.select(name)?.clone();
        let ctx = Ctx { path };
        if !m.compressed {
            return Err(ctx.member_err(
                &m.name,
                "the member is stored, not deflated: map it instead",
            ));
        }
        let h = &m.header;
        let order = if h.fortran_order { Order::F } else { Order::C };
        let itemsize = h.dtype.itemsize().max(1);
        let shape = if h.shape.is_empty() {
            vec![1]
        } else {
            h.shape.clone()
        };
        let chunk = chunk_shape(&shape, order, (CHUNK_BYTES / itemsize).max(1));
        let grid = ChunkGrid::new(&h.shape, &chunk[..h.shape.len()], itemsize)?;
        Ok(DeflatedMember {
            path: path.to_owned(),
            file: Arc::new(file),
            dtype: h.dtype,
            grid,
            order,
            member: m,
            stream: Mutex::new(None),
        })
    }

    /// The member as a chunked array (walked in the member's memory order).
    #[must_use]
    pub fn into_chunked(self) -> Chunked {
        let order = self.order;
        Chunked::new(Box::new(self)).with_order(order)
    }

    /// The member.
    #[must_use]
    pub fn member(&self) -> &MemberInfo {
        &self.member
    }

    fn err(&self, reason: String) -> Error {
        Ctx { path: &self.path }.member_err(&self.member.name, reason)
    }

    /// A stream at the start of the data (its header read and checksummed).
    fn start(&self) -> Result<Stream> {
        let m = &self.member;
        let raw = FileRange {
            file: self.file.clone(),
            pos: m.member_offset,
            end: m.member_offset + m.compressed_size,
        };
        let mut s = Stream {
            z: flate2::read::DeflateDecoder::new_with_buf(raw, vec![0; 64 * 1024]),
            next: 0,
            crc: crc32fast::Hasher::new(),
            done: 0,
        };
        let mut header = vec![0u8; m.header.data_offset];
        self.inflate(&mut s, &mut header)?;
        Ok(s)
    }

    /// Fills `buf` from the stream, checking that it does not end early.
    fn inflate(&self, s: &mut Stream, buf: &mut [u8]) -> Result<()> {
        let mut got = 0;
        while got < buf.len() {
            match s.z.read(&mut buf[got..]) {
                Ok(0) => {
                    return Err(self.err(format!(
                        "inflates to {} bytes, not its declared {}",
                        s.done + got as u64,
                        self.member.size
                    )));
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(self.err(format!(
                        "invalid deflate data after {} inflated bytes: {e}",
                        s.done + got as u64
                    )));
                }
            }
        }
        s.crc.update(buf);
        s.done += buf.len() as u64;
        Ok(())
    }

    /// Chunk `k` in stream order: its data bytes (shorter at the edge).
    fn chunk_bytes(&self, k: usize) -> usize {
        let grid = &self.grid;
        let coords = self.coords_of(k);
        let mut n = self.dtype.itemsize();
        for (ax, &c) in coords.iter().enumerate() {
            let size = grid.chunk_shape()[ax];
            n *= size.min(grid.shape()[ax] - c * size);
        }
        n
    }

    /// The grid coordinates of chunk `k` in stream (memory) order.
    fn coords_of(&self, k: usize) -> Vec<usize> {
        self.order.unravel(k, self.grid.grid_shape())
    }

    /// The position in stream order of the chunk at `coords`.
    fn rank_of(&self, coords: &[usize]) -> usize {
        self.order.ravel(coords, self.grid.grid_shape())
    }

    /// After the last chunk: the stream must end here, with the archive's CRC-32.
    fn finish(&self, s: &mut Stream) -> Result<()> {
        let m = &self.member;
        let mut tail = vec![0u8; (m.size - s.done.min(m.size)).min(1 << 16) as usize + 1];
        let mut extra = 0u64;
        loop {
            match s.z.read(&mut tail) {
                Ok(0) => break,
                Ok(n) => {
                    // Bytes after the data (numpy writes none) count into the CRC.
                    s.crc.update(&tail[..n]);
                    extra += n as u64;
                    if s.done + extra > m.size {
                        return Err(self.err(format!(
                            "inflates to more than its declared {} bytes (zip bomb?)",
                            m.size
                        )));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.err(format!("invalid deflate data at its end: {e}"))),
            }
        }
        if s.done + extra != m.size {
            return Err(self.err(format!(
                "inflates to {} bytes, not its declared {}",
                s.done + extra,
                m.size
            )));
        }
        let crc = s.crc.clone().finalize();
        if crc != m.crc32 {
            return Err(self.err(format!(
                "CRC-32 mismatch: the inflated data has {crc:#010x}, the archive says {:#010x}",
                m.crc32
            )));
        }
        Ok(())
    }
}

impl ChunkSource for DeflatedMember {
    fn dtype(&self) -> DType {
        self.dtype
    }

    fn grid(&self) -> &ChunkGrid {
        &self.grid
    }

    fn chunk_order(&self) -> Order {
        self.order
    }

    fn name(&self) -> String {
        format!("{} (member {:?})", self.path.display(), self.member.name)
    }

    fn in_order(&self) -> Option<Order> {
        Some(self.order)
    }

    fn read_chunk(&self, coords: &[usize], mut buf: Vec<u8>) -> Result<ChunkBytes<'_>> {
        let k = self.rank_of(coords);
        let mut guard = self.stream.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.as_ref().is_none_or(|s| s.0.next > k) {
            *guard = Some(StreamBox(self.start()?));
        }
        let Some(StreamBox(s)) = guard.as_mut() else {
            return Err(self.err("the stream could not start".to_owned()));
        };
        let mut skip = Vec::new();
        while s.next < k {
            skip.resize(self.chunk_bytes(s.next), 0);
            self.inflate(s, &mut skip)?;
            s.next += 1;
        }
        let full = self.grid.chunk_len() * self.dtype.itemsize();
        let n = self.chunk_bytes(k);
        buf.clear();
        buf.resize(full, 0);
        let result = self.inflate(s, &mut buf[..n]);
        if let Err(e) = result {
            *guard = None;
            return Err(e);
        }
        s.next += 1;
        if s.next == self.grid.len() {
            let end = self.finish(s);
            *guard = None;
            end?;
        }
        Ok(ChunkBytes::Owned(buf))
    }
}
