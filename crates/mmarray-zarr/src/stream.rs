//! Chunks decoded as they are read ([`ChunkSource::stream_chunk`]): the zstd
//! chunks of a read-only store, through decoders a store keeps for reuse.
//!
//! [`ChunkSource::stream_chunk`]: mmarray_core::chunk::ChunkSource::stream_chunk

use std::io::BufRead;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use mmarray_core::chunk::MappedFile;
use zstd::zstd_safe::{DCtx, DParameter, InBuffer, OutBuffer, ResetDirective};

/// A store's idle zstd decoders. A decoder keeps its buffers (its window, its
/// input block) from chunk to chunk, so a pass over a store allocates them
/// once per open stream rather than once per chunk; the pool holds at most as
/// many decoders as were ever open at once.
#[derive(Default)]
pub(crate) struct Decoders(Mutex<Vec<DCtx<'static>>>);

impl Decoders {
    /// An idle decoder, ready for a new frame, that refuses windows larger than
    /// `2^log` bytes.
    fn take(&self, log: u32) -> Result<DCtx<'static>, String> {
        let idle = self.0.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut d = match idle {
            Some(d) => d,
            None => DCtx::try_create().ok_or("zstd: cannot create a decoder")?,
        };
        // A session reset also clears the error a failed stream left.
        d.reset(ResetDirective::SessionOnly)
            .and_then(|_| d.set_parameter(DParameter::WindowLogMax(log)))
            .map_err(|c| format!("zstd: {}", zstd::zstd_safe::get_error_name(c)))?;
        Ok(d)
    }

    fn give(&self, d: DCtx<'static>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(d);
    }
}

/// A chunk's zstd data decoded as it is read from its file: the file is mapped
/// or read through a small buffer, and the decoder holds its window (at most
/// the chunk's size, which the frame header states), never the chunk.
pub(crate) struct ZstdStream<'p> {
    input: Box<dyn BufRead + Send>,
    /// The decoder, until the stream is dropped (it then goes back to `pool`).
    decoder: Option<DCtx<'static>>,
    pool: &'p Decoders,
    /// The chunk's size in bytes.
    want: usize,
    /// Bytes handed out so far.
    done: usize,
    /// Whether the decoder is between frames (no frame begun, or the last call
    /// ended one).
    between: bool,
}

impl Drop for ZstdStream<'_> {
    fn drop(&mut self) {
        if let Some(d) = self.decoder.take() {
            self.pool.give(d);
        }
    }
}

/// What one decoding step did: bytes of input it took, bytes it wrote.
struct Progress {
    took: usize,
    wrote: usize,
}

impl<'p> ZstdStream<'p> {
    /// The stream of the chunk file `file` of `want` bytes decoded, if it is
    /// one zstd frame whose header says it decodes to exactly `want` bytes and
    /// the file is no larger than `max_stored` bytes; `None` otherwise (a
    /// missing file, a frame without its size or claiming another one: the
    /// chunk is then read whole, and checked, as
    /// [`ChunkSource::read_chunk`] reads it). With `map`, the file is mapped
    /// (if it can be), which the caller of [`OpenOptions::map_chunks`] allowed.
    ///
    /// [`ChunkSource::read_chunk`]: mmarray_core::chunk::ChunkSource::read_chunk
    /// [`OpenOptions::map_chunks`]: crate::OpenOptions::map_chunks
    pub(crate) fn open(
        file: &Path,
        want: usize,
        max_stored: u64,
        map: bool,
        pool: &'p Decoders,
    ) -> Result<Option<ZstdStream<'p>>, String> {
        use std::io::{Read, Seek};
        let Some((mut f, len)) = crate::source::open_chunk_file(file)? else {
            return Ok(None);
        };
        if len > max_stored {
            return Ok(None);
        }
        // A frame header is at most 18 bytes.
        let mut head = [0u8; 18];
        let n = usize::try_from(len).map_or(head.len(), |l| l.min(head.len()));
        f.read_exact(&mut head[..n])
            .map_err(|e| format!("cannot read the chunk: {e}"))?;
        match zstd::zstd_safe::get_frame_content_size(&head[..n]) {
            Ok(Some(size)) if size == want as u64 => {}
            _ => return Ok(None),
        }
        // The decoder holds a window of the frame's choosing: at most the
        // chunk's size rounded up to a power of two, or the chunk is read whole.
        let log = want.next_power_of_two().trailing_zeros().clamp(10, 31);
        if frame_window(&head[..n]).is_none_or(|w| w > 1u64 << log) {
            return Ok(None);
        }
        let input: Box<dyn BufRead + Send> =
            if let Some(m) = map.then(|| crate::source::map_file(&f, len)).flatten() {
                Box::new(std::io::Cursor::new(Mapped(m)))
            } else {
                f.rewind()
                    .map_err(|e| format!("cannot read the chunk: {e}"))?;
                Box::new(std::io::BufReader::with_capacity(DCtx::in_size(), f))
            };
        // Frames after the first (which decode to more than the chunk unless
        // empty) get no larger window.
        let decoder = pool.take(log)?;
        Ok(Some(ZstdStream {
            input,
            decoder: Some(decoder),
            pool,
            want,
            done: 0,
            between: true,
        }))
    }

    /// One call of the decoder over the input at hand, writing into `out`.
    fn step(&mut self, out: &mut [u8]) -> Result<Progress, String> {
        let want = self.want;
        let input = self
            .input
            .fill_buf()
            .map_err(|e| format!("cannot read the chunk: {e}"))?;
        let Some(d) = self.decoder.as_mut() else {
            return Err("the stream's decoder is gone".to_owned());
        };
        let mut src = InBuffer::around(input);
        let mut dst = OutBuffer::around(out);
        let hint = d.decompress_stream(&mut dst, &mut src).map_err(|c| {
            format!(
                "corrupt zstd data or more than {want} bytes: {}",
                zstd::zstd_safe::get_error_name(c)
            )
        })?;
        let progress = Progress {
            took: src.pos(),
            wrote: dst.pos(),
        };
        self.input.consume(progress.took);
        // A call that did nothing (no input left) says nothing of the frame: it
        // asks for the header of a next one, even after a frame ended.
        if progress.took > 0 || progress.wrote > 0 {
            self.between = hint == 0;
        }
        Ok(progress)
    }

    /// Fills `buf` with the next `buf.len()` bytes of the chunk.
    pub(crate) fn read_next(&mut self, buf: &mut [u8]) -> Result<(), String> {
        if buf.len() > self.want - self.done {
            return Err(format!(
                "{} bytes asked after {} of a chunk of {}",
                buf.len(),
                self.done,
                self.want
            ));
        }
        let mut got = 0;
        while got < buf.len() {
            let p = self.step(&mut buf[got..])?;
            if p.took == 0 && p.wrote == 0 {
                // No input left and nothing buffered: the data ends early.
                return Err(format!(
                    "decodes to {} bytes, {} expected",
                    self.done + got,
                    self.want
                ));
            }
            got += p.wrote;
        }
        self.done += got;
        Ok(())
    }

    /// Checks, once every byte of the chunk was read, that the data ends with
    /// its frame (or with frames that decode to nothing).
    pub(crate) fn finish(&mut self) -> Result<(), String> {
        if self.done != self.want {
            return Err(format!(
                "{} bytes of a chunk of {} read",
                self.done, self.want
            ));
        }
        let mut more = [0u8; 1];
        loop {
            let p = self.step(&mut more)?;
            if p.wrote > 0 {
                return Err(format!(
                    "corrupt zstd data or more than {} bytes: it decodes to more",
                    self.want
                ));
            }
            if p.took == 0 {
                break;
            }
        }
        let left = self
            .input
            .fill_buf()
            .map_err(|e| format!("cannot read the chunk: {e}"))?;
        if !left.is_empty() {
            return Err(format!(
                "corrupt zstd data: {} bytes after the chunk's data",
                left.len()
            ));
        }
        if !self.between {
            return Err(format!(
                "the zstd data ends inside a frame (all {} bytes decoded)",
                self.want
            ));
        }
        Ok(())
    }
}

/// A mapped chunk file as the bytes of a [`std::io::Cursor`].
struct Mapped(MappedFile);

impl AsRef<[u8]> for Mapped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The window size the zstd frame whose header starts `head` declares (its
/// content size for single-segment frames); `None` if `head` is not a whole
/// zstd frame header.
fn frame_window(head: &[u8]) -> Option<u64> {
    if head.get(..4)? != [0x28, 0xb5, 0x2f, 0xfd] {
        return None;
    }
    let descriptor = *head.get(4)?;
    if descriptor & 0x20 != 0 {
        // Single segment: the window is the content size.
        return zstd::zstd_safe::get_frame_content_size(head).ok().flatten();
    }
    let w = *head.get(5)?;
    let base = 1u64 << (10 + u32::from(w >> 3));
    Some(base + base / 8 * u64::from(w & 7))
}

#[cfg(test)]
mod tests {
    use super::{Decoders, ZstdStream};

    /// A chunk's values: 64 KiB that compress (a ramp) but not to nothing.
    fn chunk() -> Vec<u8> {
        (0..1u32 << 14)
            .flat_map(|i| (i.wrapping_mul(2_654_435_761) >> 20).to_le_bytes())
            .collect()
    }

    fn frame(data: &[u8], checksum: bool) -> Vec<u8> {
        let mut c = zstd::bulk::Compressor::new(1).unwrap();
        c.include_checksum(checksum).unwrap();
        c.compress(data).unwrap()
    }

    /// Streams the chunk file holding `stored` (of `want` bytes) through `pool`,
    /// in pieces of `piece` bytes: the bytes, or the first error.
    fn stream(
        stored: &[u8],
        want: usize,
        piece: usize,
        pool: &Decoders,
    ) -> Result<Vec<u8>, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c");
        std::fs::write(&file, stored).unwrap();
        let mut out = vec![0u8; want];
        let mut s = ZstdStream::open(&file, want, u64::MAX, false, pool)?.ok_or("not streamed")?;
        for part in out.chunks_mut(piece) {
            s.read_next(part)?;
        }
        s.finish()?;
        Ok(out)
    }

    /// Streams whose decoders come from one pool: the pool keeps one decoder
    /// for chunks streamed one after the other, two for two open at once, and a
    /// decoder that failed on corrupt data decodes the next chunk right.
    #[test]
    fn decoders_are_kept_and_reset_between_chunks() {
        let data = chunk();
        let stored = frame(&data, false);
        let pool = Decoders::default();
        let idle = |pool: &Decoders| pool.0.lock().unwrap().len();
        for piece in [1000, 8192, data.len()] {
            assert!(stream(&stored, data.len(), piece, &pool).unwrap() == data);
            assert_eq!(idle(&pool), 1);
        }
        // Damaged data its checksum catches.
        let mut bad = frame(&data, true);
        let mid = bad.len() / 2;
        for b in &mut bad[mid..mid + 64] {
            *b ^= 0xa5;
        }
        match stream(&bad, data.len(), 4096, &pool) {
            Err(e) => assert!(e.contains("corrupt zstd data"), "{e}"),
            Ok(_) => panic!("damaged data decoded"),
        }
        assert_eq!(idle(&pool), 1);
        assert!(stream(&stored, data.len(), 4096, &pool).unwrap() == data);
        // Two at once.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c");
        std::fs::write(&file, &stored).unwrap();
        let a = ZstdStream::open(&file, data.len(), u64::MAX, false, &pool).unwrap();
        let b = ZstdStream::open(&file, data.len(), u64::MAX, true, &pool).unwrap();
        assert_eq!(idle(&pool), 0);
        drop((a, b));
        assert_eq!(idle(&pool), 2);
    }

    /// What may follow a chunk's frame: empty and skippable frames (nothing
    /// more to decode) are accepted; a frame cut inside its checksum, bytes of a
    /// frame header, or a frame with more data are refused.
    #[test]
    fn a_chunk_ends_with_its_frame() {
        let data = chunk();
        let pool = Decoders::default();
        let want = data.len();
        let with_sum = frame(&data, true);
        assert!(stream(&with_sum, want, 4096, &pool).unwrap() == data);
        let mut empty_after = with_sum.clone();
        empty_after.extend(frame(&[], false));
        assert!(stream(&empty_after, want, 4096, &pool).unwrap() == data);
        let mut skippable = with_sum.clone();
        skippable.extend([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        assert!(stream(&skippable, want, 4096, &pool).unwrap() == data);
        let refused = |stored: &[u8], says: &str| match stream(stored, want, 4096, &pool) {
            Err(e) => assert!(e.contains(says), "{says}: {e}"),
            Ok(_) => panic!("{says}: accepted"),
        };
        refused(&with_sum[..with_sum.len() - 2], "ends inside a frame");
        refused(
            &[&with_sum[..], &[0x28, 0xb5, 0x2f]].concat(),
            "ends inside a frame",
        );
        refused(
            &[&with_sum[..], &frame(b"more", false)].concat(),
            "decodes to more",
        );
        refused(&with_sum[..with_sum.len() / 2], &format!("{want} expected"));
        let mut damaged = with_sum.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        refused(&damaged, "corrupt zstd data");
    }
}
