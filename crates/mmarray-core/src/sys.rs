//! The few operating-system calls that std and memmap2 do not offer.

use std::fs::File;
use std::io;

/// Reserves the blocks of `file` from byte `from` up to `len` bytes (growing the
/// file to `len` if it is shorter), so that writing through a mapping later cannot
/// fail for lack of space (which would be a SIGBUS). Blocks before `from` are left
/// alone, so that growing a sparse file does not allocate its holes.
///
/// Falls back to `set_len` where the filesystem cannot reserve space.
pub(crate) fn reserve(file: &File, from: u64, len: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let (Ok(from_off), Ok(len_off)) = (libc::off_t::try_from(from), libc::off_t::try_from(len))
        else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "file size too large",
            ));
        };
        if len_off <= from_off {
            return file.set_len(len.max(file.metadata()?.len()));
        }
        // SAFETY: posix_fallocate only reads its integer arguments and acts on the
        // open file descriptor, which `file` keeps alive for the call.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), from_off, len_off - from_off) };
        match rc {
            0 => return Ok(()),
            libc::EOPNOTSUPP | libc::EINVAL => {}
            e => return Err(io::Error::from_raw_os_error(e)),
        }
    }
    let _ = from;
    file.set_len(len.max(file.metadata()?.len()))
}

/// `(device, inode)` of an open file: its identity for the in-process registry.
pub(crate) fn file_id(file: &File) -> io::Result<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = file.metadata()?;
        Ok((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "file identity is only known on Unix",
        ))
    }
}

/// Writes all of `buf` at byte `offset` of `file` without moving its cursor.
pub(crate) fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.write_all_at(buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = file;
        f.seek(SeekFrom::Start(offset))?;
        f.write_all(buf)
    }
}

/// Reads exactly `buf.len()` bytes at byte `offset` of `file`.
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = file;
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(buf)
    }
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &std::path::Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// `posix_fadvise(POSIX_FADV_SEQUENTIAL)` over the whole file: a larger
/// read-ahead window for reads of `file` (only a hint; errors are ignored).
pub(crate) fn advise_sequential(file: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: posix_fadvise only changes the read-ahead state of the open file
        // description; the descriptor is valid while `file` is borrowed.
        unsafe {
            libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// `sync_file_range(SYNC_FILE_RANGE_WRITE)`: starts write-back of the dirty pages of
/// `len` bytes of `file` from byte `offset` without waiting for it (only a hint; errors
/// are ignored, the caller's later flush reports them). Nothing where Linux's call is missing.
pub(crate) fn start_writeback(file: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(len)) = (
            libc::off64_t::try_from(offset),
            libc::off64_t::try_from(len),
        ) else {
            return;
        };
        // SAFETY: sync_file_range only reads its integer arguments and acts on the open
        // descriptor, which `file` keeps alive for the call; it never changes file data.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

/// The pages of `bytes[start..end]` (clipped to `bytes`) as one page-aligned
/// range: its first address, its length and the page size; `None` if it is empty.
#[cfg(target_os = "linux")]
fn page_span(bytes: &[u8], start: usize, end: usize) -> Option<(usize, usize, usize)> {
    let start = start.min(bytes.len());
    let end = end.min(bytes.len());
    if start >= end {
        return None;
    }
    // SAFETY: sysconf only reads a configuration value.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .unwrap_or(4096)
        .max(1);
    let first = bytes.as_ptr() as usize + start;
    let aligned = first - first % page;
    Some((aligned, bytes.as_ptr() as usize + end - aligned, page))
}

/// `madvise(MADV_WILLNEED)` over the pages of `bytes[offset..offset + len]`.
pub(crate) fn will_need(bytes: &[u8], offset: usize, len: usize) {
    #[cfg(target_os = "linux")]
    if let Some((aligned, span, _)) = page_span(bytes, offset, offset.saturating_add(len)) {
        // SAFETY: MADV_WILLNEED only starts readahead of the pages; it never changes
        // their contents or the mapping. The range starts at most one page before
        // `bytes[offset]` (same mapping: mappings are page-aligned) and ends inside
        // `bytes`; an address outside any mapping only makes the call fail (ENOMEM),
        // which is ignored.
        unsafe {
            libc::madvise(aligned as *mut libc::c_void, span, libc::MADV_WILLNEED);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (bytes, offset, len);
}

/// Whether every page of `bytes[offset..offset + len]` (clipped to `bytes`) is in
/// memory, by `mincore` (Linux; elsewhere, or if the call fails, `false`: not
/// known); an empty range is. Asks [`RESIDENT_WINDOW`] pages at a time into a
/// fixed buffer and stops at the first page out of memory, so it allocates
/// nothing, whatever the length.
pub(crate) fn resident(bytes: &[u8], offset: usize, len: usize) -> bool {
    let end = offset.saturating_add(len);
    if offset.min(bytes.len()) >= end.min(bytes.len()) {
        return true; // nothing to be out of memory, on every platform
    }
    #[cfg(target_os = "linux")]
    {
        let Some((aligned, span, page)) = page_span(bytes, offset, end) else {
            return true;
        };
        let mut pages = [0u8; RESIDENT_WINDOW];
        let mut done = 0;
        while done < span {
            let window = (span - done).min(RESIDENT_WINDOW * page);
            let n = window.div_ceil(page);
            // SAFETY: mincore writes one byte per page of the window into `pages`,
            // which has room for `RESIDENT_WINDOW` >= `n` pages, and changes nothing
            // else. The window starts page-aligned inside the range, which starts at
            // most one page before `bytes[offset]` (same mapping) and ends inside
            // `bytes`, so it is mapped while `bytes` is borrowed.
            let rc = unsafe {
                libc::mincore(
                    (aligned + done) as *mut libc::c_void,
                    window,
                    pages.as_mut_ptr(),
                )
            };
            if rc != 0 || pages[..n].iter().any(|p| p & 1 == 0) {
                return false;
            }
            done += window;
        }
        true
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (bytes, offset, len);
        false
    }
}

/// Pages [`resident`] asks `mincore` about per call (16 MiB of 4 KiB pages).
#[cfg(target_os = "linux")]
const RESIDENT_WINDOW: usize = 4096;

/// Opens a new, unnamed regular file in the folder `dir` (`O_TMPFILE`), readable
/// and writable, that [`link_unnamed`] can give a name later; it disappears when
/// closed (or when the process dies) without one. An error where the filesystem or
/// the platform cannot do this (`EOPNOTSUPP`, `EISDIR`, `EINVAL` on old kernels,
/// no `/proc` to link through, not Linux): the caller then uses a named
/// temporary, which reports any real problem with the folder.
pub(crate) fn open_unnamed(dir: &std::path::Path) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::FromRawFd;
        use std::os::unix::ffi::OsStrExt;
        // Linking needs /proc/self/fd (linkat with AT_EMPTY_PATH needs a privilege).
        if std::fs::metadata("/proc/self/fd").is_err() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no /proc/self/fd to link an unnamed file through",
            ));
        }
        let c_dir = std::ffi::CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in path"))?;
        // SAFETY: `c_dir` is a NUL-terminated string that outlives the call; the
        // mode argument is read because O_TMPFILE is given. On success we own the
        // returned descriptor and hand it to a `File`, which closes it.
        let fd = unsafe {
            libc::open(
                c_dir.as_ptr(),
                libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
                0o666 as libc::c_uint,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        Ok(unsafe { File::from_raw_fd(fd) })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "unnamed files (O_TMPFILE) are Linux-only",
        ))
    }
}

/// Gives the unnamed file `file` (from [`open_unnamed`]) the name `dest`, which
/// must not exist (`AlreadyExists` otherwise): `linkat` of `/proc/self/fd/N`
/// with `AT_SYMLINK_FOLLOW`.
pub(crate) fn link_unnamed(file: &File, dest: &std::path::Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        use std::os::unix::ffi::OsStrExt;
        let from = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in path"))?;
        let to = std::ffi::CString::new(dest.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in path"))?;
        // SAFETY: both strings are NUL-terminated and outlive the call; linkat only
        // reads them. The descriptor named in `from` is kept open by `file`.
        let rc = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, dest);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "unnamed files (O_TMPFILE) are Linux-only",
        ))
    }
}

/// Whether the process `pid` may be alive: `kill(pid, 0)` fails with `ESRCH` only
/// when no such process exists. Anything uncertain (no permission to signal it, a
/// pid that does not fit, not Unix) counts as alive, so that its files are kept.
pub(crate) fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        if pid <= 0 {
            return true;
        }
        // SAFETY: signal 0 only checks that the process exists and may be signalled;
        // nothing is sent.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}
