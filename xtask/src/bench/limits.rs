//! What the machine can do at all, measured in the same run as the benchmarks:
//! - mapped read bandwidth: map the (cached) file read-only, each thread sums the 64-bit words of
//!   its contiguous share with four independent accumulators;
//! - fill + flush bandwidth: create a new file, `posix_fallocate` it, and write it from all
//!   threads in 1 MiB pieces taken front to back, each a byte pattern written into the
//!   thread's buffer and `pwrite`n, starting the write-back of every 32 MiB once all threads
//!   are past it (`sync_file_range`); then `fsync` and close. That is the fastest way this
//!   machine was found to produce a new file (mmarray's whole-array fills do the same):
//!   filling a writable mapping instead pays a page fault and the kernel's zeroing for every
//!   fresh page and writes nothing back before the final `msync` (1 GiB, busy 2-CPU machine:
//!   1.28-1.37 s through a mapping, 0.65-0.83 s this way).
//!
//! The table of limits is one warm-up and `runs` timed runs of each (median, min, max); the
//! limit of an operation is one pass per round of its interleaved rounds (`read_once`,
//! `write_once`). Every pass maps afresh, so that page-table set-up and page faults are counted,
//! as they are for any program that maps a file.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::time::Instant;

use memmap2::{Advice, Mmap};
use rayon::prelude::*;

use super::procs::{Samples, remove_if_exists};
use super::workdir::check_interrupted;

/// A rayon pool with exactly `threads` threads.
pub(crate) fn pool(threads: usize) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("could not start {threads} threads: {e}"))
}

/// `parts` contiguous shares of `len` bytes, each a multiple of 4096 bytes except the last.
fn shares(len: usize, parts: usize) -> Vec<(usize, usize)> {
    let step = len.div_ceil(parts).next_multiple_of(4096).max(4096);
    (0..parts)
        .map(|i| ((i * step).min(len), ((i + 1) * step).min(len)))
        .filter(|(a, b)| a < b)
        .collect()
}

/// Sums the native-endian 64-bit words of `bytes` (the tail of fewer than 32 bytes is ignored)
/// with four accumulators, so the loop is bound by loads, not by one add chain.
fn sum_words(bytes: &[u8]) -> u64 {
    let mut acc = [0u64; 4];
    let mut chunks = bytes.chunks_exact(32);
    for c in &mut chunks {
        for (k, a) in acc.iter_mut().enumerate() {
            let word: [u8; 8] = c[8 * k..8 * k + 8].try_into().unwrap_or_default();
            *a = a.wrapping_add(u64::from_ne_bytes(word));
        }
    }
    acc.iter().fold(0, |s, &a| s.wrapping_add(a))
}

/// Maps `path` read-only and sums it on `threads` threads; returns the wall time in seconds.
pub(crate) fn read_once(
    path: &Path,
    pool: &rayon::ThreadPool,
    threads: usize,
) -> Result<f64, String> {
    let start = Instant::now();
    let file = File::open(path).map_err(|e| format!("could not open {}: {e}", path.display()))?;
    // SAFETY: the file lives in our private test folder and nothing writes to it while mapped.
    let map = unsafe { Mmap::map(&file) }
        .map_err(|e| format!("could not map {}: {e}", path.display()))?;
    // A hint only: mmarray gives the same one for streaming passes.
    let _ = map.advise(Advice::Sequential);
    let bytes: &[u8] = &map;
    let total = pool.install(|| {
        shares(bytes.len(), threads)
            .into_par_iter()
            .map(|(a, b)| sum_words(&bytes[a..b]))
            .reduce(|| 0, u64::wrapping_add)
    });
    black_box(total);
    drop(map);
    drop(file);
    Ok(start.elapsed().as_secs_f64())
}

/// Pieces of [`PIECE`] bytes per batch of [`disk_read_once`] (64 MiB, as mmarray's batches).
const DISK_BATCH: usize = 64;

/// Reads `path` with `pread` on all `threads` threads after `POSIX_FADV_SEQUENTIAL`: for a
/// file not in the page cache, the disk's speed. The file is read in batches of 64 MiB, each
/// thread taking one contiguous part of every batch front to back in 1 MiB pieces (a
/// sequential stream of its own for the kernel's read-ahead), as mmarray's cold passes do.
/// On this machine's virtual disk the other ways measured were slower: the threads taking
/// the pieces in turn (one stream read by two) fell to about 0.8 GB/s for seconds in half
/// the cold passes, and each thread reading one half of the whole file took 1.2-3.5 s for 4
/// GiB where mmarray took 1.4-1.7 s. Returns the wall time in seconds.
pub(crate) fn disk_read_once(
    path: &Path,
    pool: &rayon::ThreadPool,
    threads: usize,
) -> Result<f64, String> {
    use std::os::unix::fs::FileExt;
    let start = Instant::now();
    let file = File::open(path).map_err(|e| format!("could not open {}: {e}", path.display()))?;
    let len = file
        .metadata()
        .map_err(|e| format!("could not stat {}: {e}", path.display()))?
        .len();
    let len = usize::try_from(len).map_err(|_| "size does not fit in memory".to_owned())?;
    // SAFETY: posix_fadvise only changes the read-ahead of the open file; no memory is passed.
    let _ = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL) };
    let pieces = len.div_ceil(PIECE);
    let threads = threads.max(1);
    let total = pool.install(|| {
        (0..threads)
            .into_par_iter()
            .map(|t| {
                let mut buf = vec![0u8; PIECE];
                let mut acc = 0u64;
                let batches = (0..pieces).step_by(DISK_BATCH);
                let mine = batches.flat_map(|b| {
                    let n = DISK_BATCH.min(pieces - b);
                    b + t * n / threads..b + (t + 1) * n / threads
                });
                for k in mine {
                    let n = PIECE.min(len - k * PIECE);
                    file.read_exact_at(&mut buf[..n], (k * PIECE) as u64)
                        .map_err(|e| format!("could not read {}: {e}", path.display()))?;
                    acc = acc.wrapping_add(u64::from(buf[n - 1]));
                }
                Ok::<u64, String>(acc)
            })
            .try_reduce(|| 0, |a, b| Ok(a.wrapping_add(b)))
    })?;
    black_box(total);
    Ok(start.elapsed().as_secs_f64())
}

/// Mapped read bandwidth over `path`: one warm-up, then `runs` timed passes.
pub(crate) fn read_bandwidth(path: &Path, threads: usize, runs: usize) -> Result<Samples, String> {
    let pool = pool(threads)?;
    let mut samples = Samples::default();
    for i in 0..=runs {
        check_interrupted()?;
        let t = read_once(path, &pool, threads)?;
        if i > 0 {
            samples.times.push(t);
        }
    }
    Ok(samples)
}

/// A single timed pass (for files larger than RAM, where every pass comes from disk).
pub(crate) fn read_bandwidth_once(path: &Path, threads: usize) -> Result<Samples, String> {
    let pool = pool(threads)?;
    check_interrupted()?;
    Ok(Samples {
        times: vec![read_once(path, &pool, threads)?],
    })
}

/// One pass over `path` on all threads with `read(2)` (as `cat` would read it), to bring it into
/// the page cache; returns GB/s. Reading rather than mapping matters: the kernel caches what
/// `read` brings in as large folios, and what page faults bring in as small ones, which makes
/// every later mapped pass over the file (numpy's and mmarray's alike) pay several times more
/// in page faults.
pub(crate) fn warm(path: &Path, threads: usize) -> Result<f64, String> {
    use std::os::unix::fs::FileExt;
    let pool = pool(threads)?;
    let file = File::open(path).map_err(|e| format!("could not open {}: {e}", path.display()))?;
    let len = file
        .metadata()
        .map_err(|e| format!("could not stat {}: {e}", path.display()))?
        .len();
    let start = Instant::now();
    let shares = shares(usize::try_from(len).unwrap_or(usize::MAX), threads);
    pool.install(|| {
        shares.par_iter().try_for_each(|&(from, to)| {
            let mut buf = vec![0u8; 1 << 20];
            let mut at = from;
            while at < to {
                let n = buf.len().min(to - at);
                file.read_exact_at(&mut buf[..n], at as u64)
                    .map_err(|e| format!("could not read {}: {e}", path.display()))?;
                at += n;
            }
            Ok::<(), String>(())
        })
    })?;
    Ok(len as f64 / start.elapsed().as_secs_f64() / 1e9)
}

/// Bytes per `pwrite` of the fill + flush limit.
const PIECE: usize = 1 << 20;
/// Pieces per write-back window of the fill + flush limit (32 MiB).
const WINDOW: usize = 32;

/// Creates, fallocates, fills (see the module notes) and flushes a new file of `size` bytes at
/// `path`, on `threads` threads; returns the wall time in seconds. The file is deleted
/// afterwards (untimed).
pub(crate) fn write_once(
    path: &Path,
    size: u64,
    pool: &rayon::ThreadPool,
    threads: usize,
) -> Result<f64, String> {
    use std::os::unix::fs::FileExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    remove_if_exists(path)?;
    let len = usize::try_from(size).map_err(|_| "size does not fit in memory".to_owned())?;
    let start = Instant::now();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("could not create {}: {e}", path.display()))?;
    let off_len = libc::off_t::try_from(size).map_err(|_| "size out of range".to_owned())?;
    // SAFETY: plain syscall on an fd we own.
    let r = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, off_len) };
    if r != 0 {
        // Some file systems cannot preallocate: fall back to a sparse file of the right size.
        file.set_len(size)
            .map_err(|e| format!("could not size {}: {e}", path.display()))?;
    }
    let pieces = len.div_ceil(PIECE);
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<usize>();
    let file = &file;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for window in rx {
                let (from, n) = ((window * WINDOW * PIECE) as i64, (WINDOW * PIECE) as i64);
                // SAFETY: plain syscall on an fd that outlives the scope; only a hint.
                unsafe {
                    libc::sync_file_range(file.as_raw_fd(), from, n, libc::SYNC_FILE_RANGE_WRITE);
                }
            }
        });
        pool.install(|| {
            (0..threads.max(1))
                .into_par_iter()
                .try_for_each_with(tx, |tx, t| {
                    let mut buf = vec![0u8; PIECE];
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= pieces {
                            return Ok::<(), String>(());
                        }
                        let n = PIECE.min(len - k * PIECE);
                        buf[..n].fill(0xA5 ^ (t as u8) ^ (k as u8));
                        file.write_all_at(&buf[..n], (k * PIECE) as u64)
                            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
                        if (k + 1).is_multiple_of(WINDOW) && k + 1 >= 2 * WINDOW {
                            let _ = tx.send((k + 1) / WINDOW - 2);
                        }
                    }
                })
        })
    })?;
    file.sync_all()
        .map_err(|e| format!("fsync of {} failed: {e}", path.display()))?;
    let t = start.elapsed().as_secs_f64();
    remove_if_exists(path)?;
    Ok(t)
}

/// Fill + flush bandwidth into a new file of `size` bytes in `dir`: one warm-up, `runs` timed.
pub(crate) fn write_bandwidth(
    dir: &Path,
    size: u64,
    threads: usize,
    runs: usize,
) -> Result<Samples, String> {
    let pool = pool(threads)?;
    let path = dir.join("limit-write.bin");
    let mut samples = Samples::default();
    let result = (0..=runs).try_for_each(|i| {
        check_interrupted()?;
        let t = write_once(&path, size, &pool, threads)?;
        if i > 0 {
            samples.times.push(t);
        }
        Ok::<(), String>(())
    });
    let _ = remove_if_exists(&path);
    result.map(|()| samples)
}

#[cfg(test)]
mod tests {
    use super::{shares, sum_words};

    #[test]
    fn shares_cover_everything() {
        for (len, parts) in [(10_000, 2), (4096, 3), (1 << 20, 7), (5, 2)] {
            let s = shares(len, parts);
            assert_eq!(s.first().unwrap().0, 0);
            assert_eq!(s.last().unwrap().1, len);
            assert!(s.windows(2).all(|w| w[0].1 == w[1].0));
            assert!(s.len() <= parts);
        }
        let bytes: Vec<u8> = (0..64u8).collect();
        let expect = bytes
            .chunks_exact(8)
            .map(|c| u64::from_ne_bytes(c.try_into().unwrap()))
            .fold(0u64, u64::wrapping_add);
        assert_eq!(sum_words(&bytes), expect);
    }
}
