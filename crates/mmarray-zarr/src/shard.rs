//! Reading inner chunks out of shards (`sharding_indexed`): the shard's index is
//! read and checked here (its size, its checksum, every entry used inside the
//! shard), so that a lying index is an error, never a read outside the shard or
//! an allocation of what it claims.

use std::collections::HashMap;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use crate::meta::IndexLayout;

/// Index bytes kept in memory for read-only stores before the cache starts again.
const CACHE_BYTES: usize = 256 << 20;

/// Decoded shard indexes by shard coordinates, and their bytes in all.
type IndexCache = (HashMap<Vec<usize>, Arc<Vec<u64>>>, usize);

/// How to find inner chunks in the shards of one array.
#[derive(Debug)]
pub(crate) struct Shards {
    layout: IndexLayout,
    /// Chunks per shard along each axis.
    per: Vec<usize>,
    /// Chunks per shard.
    n: usize,
    /// Decoded indexes of shards already read (read-only stores only).
    cache: Option<Mutex<IndexCache>>,
}

impl Shards {
    pub(crate) fn new(layout: IndexLayout, per: Vec<usize>, cache: bool) -> Shards {
        let n = per.iter().product();
        Shards {
            layout,
            per,
            n,
            cache: cache.then(|| Mutex::new((HashMap::new(), 0))),
        }
    }

    /// Chunks per shard along each axis.
    pub(crate) fn per(&self) -> &[usize] {
        &self.per
    }

    /// The stored bytes of the chunk at grid `coords`, whose shard lies in the file
    /// `file` (`None`: the shard or the chunk is missing).
    pub(crate) fn read(&self, file: &Path, coords: &[usize]) -> Result<Option<Vec<u8>>, String> {
        let shard: Vec<usize> = coords.iter().zip(&self.per).map(|(&c, &p)| c / p).collect();
        let mut k = 0usize;
        for (&c, &p) in coords.iter().zip(&self.per) {
            k = k * p + c % p;
        }
        let f = match File::open(file) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot open the shard: {e}")),
        };
        let len = f
            .metadata()
            .map_err(|e| format!("cannot read the shard: {e}"))?
            .len();
        let index_len = self.n as u64 * 16 + if self.layout.crc32c { 4 } else { 0 };
        if len < index_len {
            return Err(format!(
                "the shard has {len} bytes, fewer than its index ({index_len} bytes for {} chunks)",
                self.n
            ));
        }
        let index = self.index(&f, &shard, len, index_len)?;
        let (offset, size) = (index[2 * k], index[2 * k + 1]);
        if offset == u64::MAX && size == u64::MAX {
            return Ok(None);
        }
        let data = if self.layout.at_end {
            0..len - index_len
        } else {
            index_len..len
        };
        let end = offset.checked_add(size);
        if offset < data.start || end.is_none_or(|e| e > data.end) {
            return Err(format!(
                "the shard index points outside the shard: {size} bytes at byte {offset}, \
                 the shard's chunks lie in bytes {}..{}",
                data.start, data.end
            ));
        }
        // Within the file, so the size is real, not claimed.
        let mut bytes = vec![0u8; size as usize];
        f.read_exact_at(&mut bytes, offset)
            .map_err(|e| format!("cannot read the shard: {e}"))?;
        Ok(Some(bytes))
    }

    /// The decoded index of `shard` (from the cache, or read and checked).
    fn index(
        &self,
        f: &File,
        shard: &[usize],
        len: u64,
        index_len: u64,
    ) -> Result<Arc<Vec<u64>>, String> {
        if let Some(cache) = &self.cache {
            let cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(index) = cache.0.get(shard) {
                return Ok(Arc::clone(index));
            }
        }
        let at = if self.layout.at_end {
            len - index_len
        } else {
            0
        };
        let mut raw = vec![0u8; index_len as usize];
        f.read_exact_at(&mut raw, at)
            .map_err(|e| format!("cannot read the shard index: {e}"))?;
        let entries = &raw[..self.n * 16];
        if self.layout.crc32c {
            let stored = u32::from_le_bytes(raw[self.n * 16..].try_into().unwrap_or_default());
            let actual = crc32c::crc32c(entries);
            if stored != actual {
                return Err(format!(
                    "the shard index's crc32c checksum is {stored:#010x}, its entries give {actual:#010x} (corrupt shard)"
                ));
            }
        }
        let index: Arc<Vec<u64>> = Arc::new(
            entries
                .chunks_exact(8)
                .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
                .collect(),
        );
        if let Some(cache) = &self.cache {
            let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
            if cache.1 + raw.len() > CACHE_BYTES {
                cache.0.clear();
                cache.1 = 0;
            }
            cache.1 += raw.len();
            cache.0.insert(shard.to_vec(), Arc::clone(&index));
        }
        Ok(index)
    }
}
