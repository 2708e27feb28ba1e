//! `.npz` archives, as numpy's `np.savez` and `np.savez_compressed` write them: a zip
//! file whose members are `.npy` files (`NAME.npy`; `NAME` is the array's name).
//!
//! numpy's `np.load` ignores `mmap_mode` for archives (numpy issue #5976) and reads
//! every member into memory; mmarray maps them:
//!
//! - A **stored** (uncompressed) member's `.npy` data lies contiguously in the archive
//!   file, so the array maps the archive at that offset, zero-copy, exactly as a `.npy`
//!   file is mapped ([`Layout::data_offset`] counts from the start of the archive). It
//!   can be opened read-write: the archive keeps its size, and after each flush (and on
//!   close and drop) the member's CRC-32 is recomputed and rewritten in its local header
//!   and in the central directory, so that `np.load` still accepts the archive. A flush
//!   of a range only ([`DynArray::flush_range`]) leaves the CRC to the next full flush.
//! - A **deflated** member (`np.savez_compressed`) is read-only (copy-on-write works
//!   too): it is inflated once, streaming through fixed-size buffers, into an unnamed
//!   temporary file in the system's temporary folder (`$TMPDIR`), its CRC-32 and sizes
//!   checked as it goes, and that file is mapped. Memory use stays bounded (the page
//!   cache holds the pages, as for any mapped file), but the temporary file needs disk
//!   space for the whole member (on a `tmpfs` `$TMPDIR` that is memory: point `$TMPDIR`
//!   at a disk for large members). [`DeflatedMember`] reads the same member through
//!   the chunk seam instead, inflated chunk by chunk in order, with no temporary file
//!   and a few MiB of memory: every operation of `mmarray-ops` takes its views.
//!
//! Archives are written by [`NpzWriter`] (any number of members, as `np.savez` writes
//! them) or, for one array, [`write_array`].
//!
//! # What is checked
//!
//! The zip structure is parsed by the small strict parser in this module (the inflating
//! is `flate2`'s, the CRC-32 `crc32fast`'s). Opening refuses, naming the file and the
//! member (and the field or byte where it helps): a missing or malformed end of central
//! directory (also one followed by stray bytes, or with data before the archive), zip64
//! records that disagree with it, a central directory outside the file or not where the
//! end record says, more than [`MAX_MEMBERS`] members, multi-disk archives, encrypted
//! members, compression methods other than stored and deflate, names that are not
//! UTF-8, duplicate names, names without `.npy`, a local header that disagrees with the
//! central directory (signature, name, method, flags, CRC, sizes), member data that runs
//! past the central directory or overlaps another member, a stored member whose sizes
//! differ, a deflated member that claims more than deflate's maximum ratio (1032:1) of
//! its compressed size, a `.npy` header that is invalid (all the checks of
//! [`npy`], with the same header-size cap) or needs more bytes than the
//! member holds. Inflating stops at the declared size: a stream that produces more, less,
//! or a different CRC-32 is an error, and nothing is allocated in proportion to a size
//! the archive claims. The CRC-32 of a stored member is checked when it is opened for
//! writing (so that a damaged member is not given a fresh, valid CRC), not when it is
//! mapped read-only, which would read the whole member.
//!
//! ```
//! use mmarray_core::npz::{Archive, WriteOptions, write_array};
//! use mmarray_core::{DynArray, OpenOptions, ReadOnly, ReadWrite};
//! # let dir = tempfile::tempdir()?;
//! let npy = dir.path().join("a.npy");
//! // SAFETY: the files are private to this example.
//! let mut a = unsafe { DynArray::<ReadWrite>::create(&npy, "<f8".parse()?, &[3], Default::default())? };
//! a.view_mut::<f64>()?.fill(2.5);
//! let npz = dir.path().join("a.npz");
//! write_array(&npz, &a, &WriteOptions::new("x"))?;
//!
//! let archive = Archive::open(&npz)?;
//! assert_eq!(archive.members()[0].name, "x");
//! // SAFETY: as above.
//! let x = unsafe { DynArray::<ReadOnly>::open_with(&npz, &OpenOptions::new().member("x"))? };
//! assert_eq!(x.view::<f64>()?.to_vec(), [2.5; 3]);
//! assert_eq!(x.format_name(), "npz");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Layout::data_offset`]: crate::Layout::data_offset
//! [`DynArray::flush_range`]: crate::DynArray::flush_range

#[path = "npz_chunks.rs"]
mod chunks;
pub use chunks::{CHUNK_BYTES, DeflatedMember};

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use mmarray_dtype::DType;

use crate::format::{Format, Layout, Opened};
use crate::geometry::Order;
use crate::mode::Mode;
use crate::npy::{self, NpyHeader};
use crate::{DynArray, Error, Result, ShapeError, StagedFile, sys};

/// The first four bytes of a zip file with members (a local file header).
pub const LOCAL_MAGIC: &[u8; 4] = b"PK\x03\x04";
/// The first four bytes of an empty zip file (its end of central directory record).
pub const EMPTY_MAGIC: &[u8; 4] = b"PK\x05\x06";
/// Most members an archive may have (more is refused as hostile).
pub const MAX_MEMBERS: usize = 1 << 20;
/// The largest ratio of uncompressed to compressed size deflate can reach.
const MAX_DEFLATE_RATIO: u64 = 1032;

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_END: u32 = 0x0605_4b50;
const SIG_END64: u32 = 0x0606_4b50;
const SIG_LOCATOR64: u32 = 0x0706_4b50;
const LOCAL_LEN: u64 = 30;
const CENTRAL_LEN: usize = 46;
const END_LEN: usize = 22;
const END64_LEN: usize = 56;
const LOCATOR64_LEN: usize = 20;
const ZIP64_EXTRA: u16 = 0x0001;
/// Extra field used to align member data (the id Android's `zipalign` uses).
const ALIGN_EXTRA: u16 = 0xd935;
const FLAG_ENCRYPTED: u16 = 0x0001;
const FLAG_DESCRIPTOR: u16 = 0x0008;
const FLAG_STRONG: u16 = 0x0040;
const FLAG_UTF8: u16 = 0x0800;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
/// Size of the buffers used to copy, inflate and checksum.
const BUF: usize = 256 * 1024;
/// A block of zeros, to find zero blocks with one `memcmp`.
static ZEROS: [u8; BUF] = [0; BUF];

fn is_zero(bytes: &[u8]) -> bool {
    bytes.chunks(BUF).all(|c| c == &ZEROS[..c.len()])
}

/// Whether `first` (the first bytes of a file) is the start of a zip archive.
///
/// ```
/// assert!(mmarray_core::npz::is_archive(b"PK\x03\x04\x14\x00"));
/// assert!(!mmarray_core::npz::is_archive(b"\x93NUMPY"));
/// ```
#[must_use]
pub fn is_archive(first: &[u8]) -> bool {
    first.starts_with(LOCAL_MAGIC) || first.starts_with(EMPTY_MAGIC)
}

/// One member of an archive: its name, how it is stored, and its `.npy` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// The array's name: the member's file name without `.npy`.
    pub name: String,
    /// Whether the member is deflated (`np.savez_compressed`) rather than stored.
    pub compressed: bool,
    /// The member's `.npy` header (its `data_offset` counts from the member's start).
    pub header: NpyHeader,
    /// The CRC-32 the central directory gives.
    pub crc32: u32,
    /// Bytes of the member in the archive.
    pub compressed_size: u64,
    /// Bytes of the member's `.npy` file.
    pub size: u64,
    /// Where the member's local header starts in the archive.
    pub local_header_offset: u64,
    /// Where the member's `.npy` file starts in the archive (its compressed bytes for a
    /// deflated member).
    pub member_offset: u64,
    /// Whether a zip64 record gives any of its sizes or offsets.
    pub zip64: bool,
    central_offset: u64,
    descriptor: bool,
}

impl MemberInfo {
    /// Where the array's data starts in the archive: `Some` for a stored member only.
    #[must_use]
    pub fn data_offset(&self) -> Option<u64> {
        (!self.compressed).then(|| self.member_offset + self.header.data_offset as u64)
    }

    /// Bytes of array data.
    #[must_use]
    pub fn nbytes(&self) -> u64 {
        self.header.data_len().unwrap_or(0)
    }
}

/// The members of a `.npz` archive, read and checked (see the [module docs](self)).
#[derive(Debug)]
pub struct Archive {
    path: PathBuf,
    file_len: u64,
    members: Vec<MemberInfo>,
}

/// Reads `file` from `pos` up to `end` with `pread`, never past `end`.
struct RangeReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        #[cfg(unix)]
        let got = std::os::unix::fs::FileExt::read_at(self.file, &mut buf[..n], self.pos)?;
        #[cfg(not(unix))]
        let got = {
            sys::read_at(self.file, &mut buf[..n], self.pos)?;
            n
        };
        self.pos += got as u64;
        Ok(got)
    }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// Errors about the archive as a whole, or about one member of it.
struct Ctx<'a> {
    path: &'a Path,
}

impl Ctx<'_> {
    /// An error in the zip structure: the file starts like a zip archive (an `.npz`
    /// file) but is not a valid one.
    fn err(&self, reason: impl Into<String>) -> Error {
        Error::Archive {
            path: self.path.to_owned(),
            member: None,
            reason: format!("invalid .npz (zip) archive: {}", reason.into()),
        }
    }

    fn member_err(&self, member: &str, reason: impl Into<String>) -> Error {
        Error::Archive {
            path: self.path.to_owned(),
            member: Some(member.to_owned()),
            reason: reason.into(),
        }
    }

    fn read(&self, file: &File, buf: &mut [u8], at: u64, what: &str) -> Result<()> {
        sys::read_at(file, buf, at).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                self.err(format!("{what} at byte {at} runs past the end of the file"))
            } else {
                Error::io(self.path, "read archive", e)
            }
        })
    }
}

/// Where the central directory is, from the end records.
struct Directory {
    offset: u64,
    size: u64,
    count: u64,
}

fn method_name(method: u16) -> String {
    let name = match method {
        1 => "shrink",
        6 => "implode",
        9 => "deflate64",
        12 => "bzip2",
        14 => "lzma",
        93 => "zstandard",
        95 => "xz",
        98 => "ppmd",
        99 => "AES encryption",
        _ => "unknown",
    };
    format!("{name} (method {method})")
}

/// Values of a zip64 extra field, for the 32-bit fields that are 0xFFFFFFFF.
fn zip64_values(
    ctx: &Ctx<'_>,
    name: &str,
    extra: &[u8],
    want: &[bool],
    where_: &str,
) -> Result<Vec<Option<u64>>> {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = le16(extra, i);
        let len = le16(extra, i + 2) as usize;
        let body = extra.get(i + 4..i + 4 + len).ok_or_else(|| {
            ctx.member_err(
                name,
                format!("extra field {id:#06x} in the {where_} runs past its end"),
            )
        })?;
        if id == ZIP64_EXTRA {
            let mut out = Vec::with_capacity(want.len());
            let mut at = 0;
            for &w in want {
                if w {
                    if at + 8 > body.len() {
                        return Err(ctx.member_err(
                            name,
                            format!("the zip64 extra field in the {where_} is too short"),
                        ));
                    }
                    out.push(Some(le64(body, at)));
                    at += 8;
                } else {
                    out.push(None);
                }
            }
            return Ok(out);
        }
        i += 4 + len;
    }
    if want.iter().any(|&w| w) {
        return Err(ctx.member_err(
            name,
            format!("the {where_} has 0xFFFFFFFF sizes but no zip64 extra field"),
        ));
    }
    Ok(vec![None; want.len()])
}

impl Archive {
    /// Reads and checks the archive at `path` and the `.npy` header of every member
    /// (header text capped at [`npy::MAX_HEADER_SIZE`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Archive> {
        Archive::open_with(path, npy::MAX_HEADER_SIZE)
    }

    /// As [`open`](Archive::open), with another cap on the `.npy` headers.
    pub fn open_with(path: impl AsRef<Path>, max_header_size: usize) -> Result<Archive> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, "stat", e))?;
        if !meta.is_file() {
            return Err(Error::Layout {
                path: path.to_owned(),
                reason: "not a regular file".to_owned(),
            });
        }
        Archive::read(&file, path, meta.len(), max_header_size)
    }

    /// Reads and checks the archive in `file` (of `file_len` bytes).
    pub(crate) fn read(
        file: &File,
        path: &Path,
        file_len: u64,
        max_header_size: usize,
    ) -> Result<Archive> {
        let ctx = Ctx { path };
        let dir = find_directory(&ctx, file, file_len)?;
        let mut members = Vec::new();
        let mut names = HashSet::new();
        let mut reader = io::BufReader::with_capacity(
            64 * 1024,
            RangeReader {
                file,
                pos: dir.offset,
                end: dir.offset + dir.size,
            },
        );
        let mut pos = dir.offset;
        for index in 0..dir.count {
            let m = read_central(&ctx, &mut reader, pos, index, dir.offset + dir.size)?;
            pos = m.1;
            let m = m.0;
            if !names.insert(m.name.clone()) {
                return Err(ctx.member_err(&m.name, "the name appears twice in the archive"));
            }
            members.push(m);
        }
        if pos != dir.offset + dir.size {
            return Err(ctx.err(format!(
                "the central directory holds {} bytes after its {} entries (byte {pos})",
                dir.offset + dir.size - pos,
                dir.count
            )));
        }
        for m in &mut members {
            check_local(&ctx, file, m, dir.offset)?;
        }
        // No two members may share bytes.
        let mut spans: Vec<(u64, u64, &str)> = members
            .iter()
            .map(|m| {
                (
                    m.local_header_offset,
                    m.member_offset + m.compressed_size,
                    m.name.as_str(),
                )
            })
            .collect();
        spans.sort_unstable();
        for w in spans.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(ctx.member_err(
                    w[1].2,
                    format!(
                        "its local header at byte {} lies inside member {:?} (bytes {}..{}): overlapping members",
                        w[1].0, w[0].2, w[0].0, w[0].1
                    ),
                ));
            }
        }
        for m in &mut members {
            m.header = read_member_header(&ctx, file, m, max_header_size)?;
            let needed = m.header.data_offset as u64 + m.nbytes();
            if m.size < needed {
                return Err(ctx.member_err(
                    &m.name,
                    format!(
                        "the member holds {} bytes but its .npy header needs {needed} ({} of header, {} of data)",
                        m.size,
                        m.header.data_offset,
                        m.nbytes()
                    ),
                ));
            }
        }
        Ok(Archive {
            path: path.to_owned(),
            file_len,
            members,
        })
    }

    /// The archive's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The archive's size in bytes.
    #[must_use]
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The members, in the order of the central directory.
    #[must_use]
    pub fn members(&self) -> &[MemberInfo] {
        &self.members
    }

    /// The member called `name` (without `.npy`); an error lists the members.
    pub fn member(&self, name: &str) -> Result<&MemberInfo> {
        self.members
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::Archive {
                path: self.path.clone(),
                member: Some(name.to_owned()),
                reason: format!("no such member; the archive has {}", self.list()),
            })
    }

    /// The member to open: `name`, or the only member when `name` is `None`.
    pub fn select(&self, name: Option<&str>) -> Result<&MemberInfo> {
        match (name, self.members.as_slice()) {
            (Some(name), _) => self.member(name),
            (None, [only]) => Ok(only),
            (None, []) => Err(Error::Archive {
                path: self.path.clone(),
                member: None,
                reason: "the archive has no members".to_owned(),
            }),
            (None, _) => Err(Error::Archive {
                path: self.path.clone(),
                member: None,
                reason: format!(
                    "the archive has {}: choose one (--member NAME; OpenOptions::member in the library)",
                    self.list()
                ),
            }),
        }
    }

    fn list(&self) -> String {
        if self.members.is_empty() {
            return "no members".to_owned();
        }
        let names: Vec<&str> = self.members.iter().map(|m| m.name.as_str()).collect();
        format!(
            "{} member{}: {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        )
    }
}

/// Finds and checks the end of central directory records (and zip64 ones).
fn find_directory(ctx: &Ctx<'_>, file: &File, file_len: u64) -> Result<Directory> {
    let tail_len = file_len.min((END_LEN + 0xffff) as u64) as usize;
    if tail_len < END_LEN {
        return Err(ctx.err(format!(
            "not a complete zip archive: {file_len} bytes, too short for an end of central directory record"
        )));
    }
    let mut tail = vec![0u8; tail_len];
    let tail_start = file_len - tail_len as u64;
    ctx.read(file, &mut tail, tail_start, "the end of the archive")?;
    // The last record whose comment ends exactly at the end of the file.
    let found = (0..=tail_len - END_LEN).rev().find(|&i| {
        le32(&tail, i) == SIG_END && i + END_LEN + le16(&tail, i + 20) as usize == tail_len
    });
    let Some(i) = found else {
        return Err(ctx.err(
            "no end of central directory record at the end of the file (truncated or not a zip archive)",
        ));
    };
    let end_at = tail_start + i as u64;
    let r = &tail[i..i + END_LEN];
    let (disk, cd_disk) = (le16(r, 4), le16(r, 6));
    let (on_disk, total) = (u64::from(le16(r, 8)), u64::from(le16(r, 10)));
    let (mut size, mut offset) = (u64::from(le32(r, 12)), u64::from(le32(r, 16)));
    let mut count = total;
    let mut dir_end = end_at;
    let needs64 = total == 0xffff || size == 0xffff_ffff || offset == 0xffff_ffff;
    let mut loc = [0u8; LOCATOR64_LEN];
    let loc_at = end_at.saturating_sub(LOCATOR64_LEN as u64);
    let has_locator = end_at >= LOCATOR64_LEN as u64 && {
        ctx.read(file, &mut loc, loc_at, "the zip64 locator")?;
        le32(&loc, 0) == SIG_LOCATOR64
    };
    if has_locator {
        let (disk64, at64, disks) = (le32(&loc, 4), le64(&loc, 8), le32(&loc, 16));
        if disk64 != 0 || disks > 1 {
            return Err(ctx.err("multi-disk (split) archives are not supported"));
        }
        if at64.checked_add(END64_LEN as u64) != Some(loc_at) {
            return Err(ctx.err(format!(
                "the zip64 locator at byte {loc_at} points to byte {at64}, not to a zip64 end record just before it"
            )));
        }
        let mut e = [0u8; END64_LEN];
        ctx.read(file, &mut e, at64, "the zip64 end of central directory")?;
        if le32(&e, 0) != SIG_END64 {
            return Err(ctx.err(format!(
                "no zip64 end of central directory record at byte {at64}, where the locator points"
            )));
        }
        if le64(&e, 4) != (END64_LEN - 12) as u64 {
            return Err(ctx.err(format!(
                "the zip64 end record at byte {at64} has size {} (extensible data is not supported)",
                le64(&e, 4)
            )));
        }
        if le32(&e, 16) != 0 || le32(&e, 20) != 0 || le64(&e, 24) != le64(&e, 32) {
            return Err(ctx.err("multi-disk (split) archives are not supported"));
        }
        let (c64, s64, o64) = (le64(&e, 32), le64(&e, 40), le64(&e, 48));
        let agree = |v32: u64, v64: u64, max: u64| v32 == max || v32 == v64;
        if !agree(total, c64, 0xffff)
            || !agree(size, s64, 0xffff_ffff)
            || !agree(offset, o64, 0xffff_ffff)
        {
            return Err(ctx.err(format!(
                "the zip64 end record (byte {at64}) disagrees with the end record (byte {end_at})"
            )));
        }
        (count, size, offset, dir_end) = (c64, s64, o64, at64);
    } else if needs64 {
        return Err(ctx.err(format!(
            "the end record at byte {end_at} defers to zip64 records, but there are none"
        )));
    }
    if disk != 0 || cd_disk != 0 || on_disk != total {
        return Err(ctx.err("multi-disk (split) archives are not supported"));
    }
    if offset.checked_add(size) != Some(dir_end) {
        return Err(ctx.err(format!(
            "the central directory ({size} bytes from byte {offset}) does not end where the end record starts (byte {dir_end}): \
             truncated archive, or bytes before or inside it"
        )));
    }
    if count > MAX_MEMBERS as u64 {
        return Err(ctx.err(format!(
            "the archive claims {count} members, more than the {MAX_MEMBERS} supported"
        )));
    }
    if count.saturating_mul(CENTRAL_LEN as u64) > size {
        return Err(ctx.err(format!(
            "the end record claims {count} members, but the central directory has only {size} bytes"
        )));
    }
    Ok(Directory {
        offset,
        size,
        count,
    })
}

/// Reads one central directory entry at `pos`; returns it and where the next starts.
fn read_central(
    ctx: &Ctx<'_>,
    r: &mut impl Read,
    pos: u64,
    index: u64,
    end: u64,
) -> Result<(MemberInfo, u64)> {
    let short = || {
        ctx.err(format!(
            "central directory entry {index} at byte {pos} runs past the central directory's end (byte {end})"
        ))
    };
    let mut h = [0u8; CENTRAL_LEN];
    r.read_exact(&mut h).map_err(|_| short())?;
    if le32(&h, 0) != SIG_CENTRAL {
        return Err(ctx.err(format!(
            "no central directory entry signature at byte {pos} (entry {index})"
        )));
    }
    let (flags, method) = (le16(&h, 8), le16(&h, 10));
    let crc32 = le32(&h, 16);
    let (csize32, usize32) = (le32(&h, 20), le32(&h, 24));
    let (nlen, elen, clen) = (
        le16(&h, 28) as usize,
        le16(&h, 30) as usize,
        le16(&h, 32) as usize,
    );
    let disk = le16(&h, 34);
    let lho32 = le32(&h, 42);
    let mut var = vec![0u8; nlen + elen + clen];
    r.read_exact(&mut var).map_err(|_| short())?;
    let raw_name = &var[..nlen];
    let extra = &var[nlen..nlen + elen];
    let Ok(file_name) = std::str::from_utf8(raw_name) else {
        let shown = String::from_utf8_lossy(raw_name).into_owned();
        return Err(ctx.member_err(
            &shown,
            format!("the name of central directory entry {index} (byte {pos}) is not UTF-8"),
        ));
    };
    // Errors name the array, as the user does: the name without `.npy`.
    let shown = file_name.strip_suffix(".npy").unwrap_or(file_name);
    if flags & (FLAG_ENCRYPTED | FLAG_STRONG) != 0 {
        return Err(ctx.member_err(shown, "the member is encrypted"));
    }
    if method != METHOD_STORED && method != METHOD_DEFLATE {
        return Err(ctx.member_err(
            shown,
            format!(
                "unsupported compression {}: only stored and deflate members are read",
                method_name(method)
            ),
        ));
    }
    let Some(name) = file_name.strip_suffix(".npy") else {
        return Err(ctx.member_err(
            file_name,
            "not a .npy member (an .npz archive holds NAME.npy files only)",
        ));
    };
    if name.is_empty() || name.contains('\0') {
        return Err(ctx.member_err(file_name, "invalid member name"));
    }
    let want = [usize32 == u32::MAX, csize32 == u32::MAX, lho32 == u32::MAX];
    let v = zip64_values(ctx, name, extra, &want, "central directory entry")?;
    if disk != 0 && disk != 0xffff {
        return Err(ctx.err("multi-disk (split) archives are not supported"));
    }
    let size = v[0].unwrap_or(u64::from(usize32));
    let compressed_size = v[1].unwrap_or(u64::from(csize32));
    let lho = v[2].unwrap_or(u64::from(lho32));
    let next = pos + (CENTRAL_LEN + nlen + elen + clen) as u64;
    Ok((
        MemberInfo {
            name: name.to_owned(),
            compressed: method == METHOD_DEFLATE,
            header: NpyHeader {
                version: (1, 0),
                dtype: DType::native(mmarray_dtype::Kind::U8),
                fortran_order: false,
                shape: Vec::new(),
                data_offset: 0,
            },
            crc32,
            compressed_size,
            size,
            local_header_offset: lho,
            member_offset: 0,
            zip64: want.iter().any(|&w| w),
            central_offset: pos,
            descriptor: flags & FLAG_DESCRIPTOR != 0,
        },
        next,
    ))
}

/// Checks a member's local header against its central directory entry, and sets
/// where its bytes start.
fn check_local(ctx: &Ctx<'_>, file: &File, m: &mut MemberInfo, cd_offset: u64) -> Result<()> {
    let at = m.local_header_offset;
    let name = m.name.clone();
    let bad = |what: String| ctx.member_err(&name, what);
    if at.checked_add(LOCAL_LEN).is_none_or(|e| e > cd_offset) {
        return Err(bad(format!(
            "its local header offset {at} is not before the central directory (byte {cd_offset})"
        )));
    }
    let mut h = [0u8; LOCAL_LEN as usize];
    ctx.read(file, &mut h, at, "a local header")?;
    if le32(&h, 0) != SIG_LOCAL {
        return Err(bad(format!("no local header signature at byte {at}")));
    }
    let (flags, method) = (le16(&h, 6), le16(&h, 8));
    let (crc, csize32, usize32) = (le32(&h, 14), le32(&h, 18), le32(&h, 22));
    let (nlen, elen) = (le16(&h, 26) as usize, le16(&h, 28) as usize);
    let mut var = vec![0u8; nlen + elen];
    ctx.read(file, &mut var, at + LOCAL_LEN, "a local header")?;
    if var[..nlen] != *format!("{}.npy", m.name).as_bytes() {
        return Err(bad(format!(
            "the local header at byte {at} names {:?}, the central directory {:?}",
            String::from_utf8_lossy(&var[..nlen]),
            format!("{}.npy", m.name)
        )));
    }
    if method
        != if m.compressed {
            METHOD_DEFLATE
        } else {
            METHOD_STORED
        }
    {
        return Err(bad(format!(
            "the local header at byte {at} gives compression method {method}, the central directory another"
        )));
    }
    if flags & (FLAG_ENCRYPTED | FLAG_STRONG) != 0 {
        return Err(bad("the member is encrypted (local header)".to_owned()));
    }
    let descriptor = flags & FLAG_DESCRIPTOR != 0;
    if descriptor != m.descriptor {
        return Err(bad(format!(
            "the local header at byte {at} and the central directory disagree about a data descriptor (flag bit 3)"
        )));
    }
    let want = [usize32 == u32::MAX, csize32 == u32::MAX];
    // A local zip64 extra carries both sizes when either is 0xFFFFFFFF.
    let want = if want[0] || want[1] {
        [true, true]
    } else {
        want
    };
    let v = zip64_values(ctx, &m.name, &var[nlen..], &want, "local header")?;
    let size = v[0].unwrap_or(u64::from(usize32));
    let csize = v[1].unwrap_or(u64::from(csize32));
    let zero_sizes = crc == 0 && size == 0 && csize == 0;
    if !(descriptor && zero_sizes)
        && (crc != m.crc32 || size != m.size || csize != m.compressed_size)
    {
        return Err(bad(format!(
            "the local header at byte {at} (CRC-32 {crc:#010x}, {csize} bytes, {size} uncompressed) \
             disagrees with the central directory (CRC-32 {:#010x}, {} bytes, {} uncompressed)",
            m.crc32, m.compressed_size, m.size
        )));
    }
    m.member_offset = at + LOCAL_LEN + (nlen + elen) as u64;
    if m.member_offset
        .checked_add(m.compressed_size)
        .is_none_or(|e| e > cd_offset)
    {
        return Err(bad(format!(
            "its {} bytes from byte {} run past the start of the central directory (byte {cd_offset})",
            m.compressed_size, m.member_offset
        )));
    }
    if !m.compressed && m.size != m.compressed_size {
        return Err(bad(format!(
            "a stored member whose sizes differ ({} bytes, {} uncompressed)",
            m.compressed_size, m.size
        )));
    }
    if m.compressed && m.size > m.compressed_size.saturating_mul(MAX_DEFLATE_RATIO) + 64 {
        return Err(bad(format!(
            "claims {} uncompressed bytes from {} deflated bytes, beyond deflate's maximum ratio (zip bomb?)",
            m.size, m.compressed_size
        )));
    }
    Ok(())
}

/// The member's `.npy` bytes, inflated when compressed, never past its declared size.
fn member_reader<'a>(file: &'a File, m: &MemberInfo) -> Box<dyn Read + 'a> {
    let raw = RangeReader {
        file,
        pos: m.member_offset,
        end: m.member_offset + m.compressed_size,
    };
    if m.compressed {
        Box::new(flate2::read::DeflateDecoder::new_with_buf(raw, vec![0; 64 * 1024]).take(m.size))
    } else {
        Box::new(raw)
    }
}

fn read_member_header(
    ctx: &Ctx<'_>,
    file: &File,
    m: &MemberInfo,
    max_header_size: usize,
) -> Result<NpyHeader> {
    let mut r = member_reader(file, m);
    npy::read_header(&mut r, m.size, max_header_size)
        .map_err(|e| ctx.member_err(&m.name, format!("{e}")))
}

/// CRC-32 of `len` bytes of `file` from `at`.
fn crc_of(file: &File, at: u64, len: u64) -> io::Result<crc32fast::Hasher> {
    let mut h = crc32fast::Hasher::new();
    let mut r = RangeReader {
        file,
        pos: at,
        end: at + len,
    };
    let mut buf = vec![0u8; BUF];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    if r.pos != at + len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(h)
}

/// Inflates member `m` into an unnamed temporary file, checking its size and CRC-32.
fn inflate_to_temp(ctx: &Ctx<'_>, file: &File, m: &MemberInfo) -> Result<File> {
    let temp_dir = std::env::temp_dir();
    let mut out =
        tempfile::tempfile().map_err(|e| Error::io(&temp_dir, "create temporary file", e))?;
    let raw = RangeReader {
        file,
        pos: m.member_offset,
        end: m.member_offset + m.compressed_size,
    };
    let mut z = flate2::read::DeflateDecoder::new_with_buf(raw, vec![0; 64 * 1024]);
    let mut buf = vec![0u8; BUF];
    let mut crc = crc32fast::Hasher::new();
    let mut done = 0u64;
    let bad = |what: String| ctx.member_err(&m.name, what);
    loop {
        // Ask for at most one byte more than declared: enough to see a stream that is too long.
        let want = (m.size - done + 1).min(BUF as u64) as usize;
        let n = match z.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(bad(format!(
                    "invalid deflate data after {done} inflated bytes: {e}"
                )));
            }
        };
        if n == 0 {
            break;
        }
        if done + n as u64 > m.size {
            return Err(bad(format!(
                "inflates to more than its declared {} bytes (zip bomb?)",
                m.size
            )));
        }
        crc.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| Error::io(&temp_dir, "write temporary file (disk full?)", e))?;
        done += n as u64;
    }
    if done != m.size {
        return Err(bad(format!(
            "inflates to {done} bytes, not its declared {}",
            m.size
        )));
    }
    let crc = crc.finalize();
    if crc != m.crc32 {
        return Err(bad(format!(
            "CRC-32 mismatch: the inflated data has {crc:#010x}, the archive says {:#010x}",
            m.crc32
        )));
    }
    Ok(out)
}

/// The [`Format`] of a member of an `.npz` archive; chosen by
/// [`DynArray::open_with`](crate::DynArray::open_with) for files that start with the
/// zip magic.
#[derive(Debug)]
pub(crate) struct Npz {
    pub(crate) member: Option<String>,
    pub(crate) max_header_size: usize,
    opened: OnceLock<MemberInfo>,
    crc: AtomicU32,
}

impl Npz {
    pub(crate) fn new(member: Option<String>, max_header_size: usize) -> Npz {
        Npz {
            member,
            max_header_size,
            opened: OnceLock::new(),
            crc: AtomicU32::new(0),
        }
    }
}

impl Format for Npz {
    fn name(&self) -> &'static str {
        "npz"
    }

    fn read_layout(&self, _file: &mut dyn Read, path: &Path, _file_len: u64) -> Result<Layout> {
        Err(Error::Unsupported(format!(
            "{}: an .npz member is opened with open_data",
            path.display()
        )))
    }

    fn open_data(&self, file: &File, path: &Path, file_len: u64, writable: bool) -> Result<Opened> {
        let ctx = Ctx { path };
        let archive = Archive::read(file, path, file_len, self.max_header_size)?;
        let m = archive.select(self.member.as_deref())?.clone();
        let h = &m.header;
        let order = if h.fortran_order { Order::F } else { Order::C };
        let mut layout = Layout {
            dtype: h.dtype,
            shape: h.shape.clone(),
            order,
            data_offset: h.data_offset as u64,
            version: Some(h.version),
        };
        let data_file = if m.compressed {
            if writable {
                return Err(ctx.member_err(
                    &m.name,
                    "the member is compressed (deflate), so it is read-only: \
                     convert it to a stored archive or to .npy to write to it",
                ));
            }
            Some(inflate_to_temp(&ctx, file, &m)?)
        } else {
            layout.data_offset += m.member_offset;
            if writable {
                if m.descriptor {
                    return Err(ctx.member_err(
                        &m.name,
                        "the member has a data descriptor (written by a streaming zip writer): \
                         writing to it in place is not supported",
                    ));
                }
                let crc = crc_of(file, m.member_offset, m.size)
                    .map_err(|e| Error::io(path, "read archive", e))?
                    .finalize();
                if crc != m.crc32 {
                    return Err(ctx.member_err(
                        &m.name,
                        format!(
                            "CRC-32 mismatch: the member's bytes have {crc:#010x}, the archive says {:#010x} \
                             (damaged archive; refusing to write to it)",
                            m.crc32
                        ),
                    ));
                }
            }
            None
        };
        self.crc.store(m.crc32, Ordering::Relaxed);
        let _ = self.opened.set(m);
        Ok(Opened { layout, data_file })
    }

    fn flushed(&self, file: &File, path: &Path, layout: &Layout, data: &[u8]) -> Result<()> {
        let Some(m) = self.opened.get() else {
            return Ok(());
        };
        if m.compressed {
            return Ok(());
        }
        let io_err = |e| Error::io(path, "update the archive's CRC-32", e);
        let mut h =
            crc_of(file, m.member_offset, layout.data_offset - m.member_offset).map_err(io_err)?;
        h.update(data);
        let data_end = layout.data_offset + data.len() as u64;
        let after = m.member_offset + m.size - data_end;
        if after > 0 {
            h.combine(&crc_of(file, data_end, after).map_err(io_err)?);
        }
        let crc = h.finalize();
        if crc == self.crc.load(Ordering::Relaxed) {
            return Ok(());
        }
        let bytes = crc.to_le_bytes();
        sys::write_at(file, &bytes, m.local_header_offset + 14).map_err(io_err)?;
        sys::write_at(file, &bytes, m.central_offset + 16).map_err(io_err)?;
        file.sync_data().map_err(io_err)?;
        self.crc.store(crc, Ordering::Relaxed);
        Ok(())
    }

    fn member(&self) -> Option<&MemberInfo> {
        self.opened.get()
    }

    fn new_file(&self, _: DType, _: &[usize], _: Order) -> Result<(Vec<u8>, Layout)> {
        Err(Error::Unsupported(
            "new .npz archives are written with npz::write_array".to_owned(),
        ))
    }

    fn check_grow(&self, path: &Path) -> Result<()> {
        let name = self.opened.get().map_or("", |m| m.name.as_str());
        Err(Error::Archive {
            path: path.to_owned(),
            member: Some(name.to_owned()),
            reason: "an .npz archive member cannot grow: archives cannot grow in place \
                     (convert the member to .npy to append to it)"
                .to_owned(),
        })
    }

    fn grown_header(&self, _: &Layout, _: &[u8], _: &[usize]) -> Result<Vec<u8>> {
        Err(Error::Unsupported(
            "an .npz archive member cannot grow in place".to_owned(),
        ))
    }
}

// ---------------------------------------------------------------- writing

/// How [`write_array`] writes an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// The member's name (the array's name, without `.npy`).
    pub member: String,
    /// Deflate the member (`np.savez_compressed`) instead of storing it (`np.savez`).
    pub compress: bool,
    /// Replace an existing file at the output path.
    pub overwrite: bool,
}

impl WriteOptions {
    /// A stored member called `member`; an existing output is an error.
    #[must_use]
    pub fn new(member: impl Into<String>) -> WriteOptions {
        WriteOptions {
            member: member.into(),
            compress: false,
            overwrite: false,
        }
    }

    /// Deflate the member.
    #[must_use]
    pub fn compress(mut self, yes: bool) -> WriteOptions {
        self.compress = yes;
        self
    }

    /// Replace an existing output file.
    #[must_use]
    pub fn overwrite(mut self, yes: bool) -> WriteOptions {
        self.overwrite = yes;
        self
    }
}

/// Writes `array` as the only member of a new archive at `out`, which `np.load` reads:
/// stored (data 64-byte aligned in the archive, so that it maps zero-copy) or deflated,
/// with zip64 records where sizes or offsets need them. The archive is written under a
/// temporary name in the folder of `out` and linked (or, with `overwrite`, renamed)
/// into place only when complete; a failure leaves nothing behind. Runs of zero bytes of
/// a stored member are not written (the archive is sparse where the array is).
///
/// ```
/// use mmarray_core::npz::{Archive, WriteOptions, write_array};
/// use mmarray_core::{DynArray, ReadWrite};
/// # let dir = tempfile::tempdir()?;
/// # let npy = dir.path().join("a.npy");
/// // SAFETY: the files are private to this example.
/// let a = unsafe { DynArray::<ReadWrite>::create(&npy, "<i4".parse()?, &[1000], Default::default())? };
/// let out = dir.path().join("small.npz");
/// write_array(&out, &a, &WriteOptions::new("zeros").compress(true))?;
/// let archive = Archive::open(&out)?;
/// let m = &archive.members()[0];
/// assert!(m.compressed && m.compressed_size < 100);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_array<M: Mode>(out: &Path, array: &DynArray<M>, options: &WriteOptions) -> Result<()> {
    let layout = array.layout();
    write_bytes(
        out,
        layout.dtype,
        &layout.shape,
        layout.order,
        array.bytes(),
        options,
    )
}

/// As [`write_array`], from the data bytes of an array of `dtype`, `shape` and `order`
/// (`data` in the dtype's byte order and in that memory order).
pub fn write_bytes(
    out: &Path,
    dtype: DType,
    shape: &[usize],
    order: Order,
    data: &[u8],
    options: &WriteOptions,
) -> Result<()> {
    let mut writer = NpzWriter::create(out)?.overwrite(options.overwrite);
    writer.add_bytes(&options.member, dtype, shape, order, data, options.compress)?;
    writer.finish()
}

/// Writes an archive of several members, as `np.savez(out, a=..., b=...)` does: each
/// member is written as it is added (stored or deflated, streaming, in bounded memory),
/// the central directory on [`finish`](NpzWriter::finish). The archive is written under
/// a temporary name next to `out` and appears there only when finished; dropping the
/// writer unfinished (or after an error) removes it.
///
/// ```
/// use mmarray_core::npz::{Archive, NpzWriter};
/// use mmarray_core::Order;
/// # let dir = tempfile::tempdir()?;
/// let out = dir.path().join("ab.npz");
/// let mut w = NpzWriter::create(&out)?;
/// w.add_bytes("a", "<i2".parse()?, &[2], Order::C, &[1, 0, 2, 0], false)?;
/// w.add_bytes("b", "|u1".parse()?, &[], Order::C, &[7], true)?;
/// w.finish()?;
/// let names: Vec<_> = Archive::open(&out)?.members().iter().map(|m| m.name.clone()).collect();
/// assert_eq!(names, ["a", "b"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct NpzWriter {
    staged: StagedFile,
    out: PathBuf,
    pos: u64,
    members: Vec<Written>,
    names: HashSet<String>,
    overwrite: bool,
    failed: bool,
}

/// A member already written, as the central directory describes it.
#[derive(Debug)]
struct Written {
    name: Vec<u8>,
    flags: u16,
    method: u16,
    crc: u32,
    csize: u64,
    size: u64,
    lho: u64,
}

impl NpzWriter {
    /// Starts a new archive that will appear at `out`; an existing `out` is an error
    /// when finishing unless [`overwrite`](NpzWriter::overwrite).
    pub fn create(out: impl AsRef<Path>) -> Result<NpzWriter> {
        let out = out.as_ref();
        if out.is_dir() {
            return Err(Error::Layout {
                path: out.to_owned(),
                reason: "is a directory".to_owned(),
            });
        }
        Ok(NpzWriter {
            staged: StagedFile::create(out)?,
            out: out.to_owned(),
            pos: 0,
            members: Vec::new(),
            names: HashSet::new(),
            overwrite: false,
            failed: false,
        })
    }

    /// Replace an existing file at the output path when finishing.
    #[must_use]
    pub fn overwrite(mut self, yes: bool) -> NpzWriter {
        self.overwrite = yes;
        self
    }

    /// Adds `array` as member `name` (without `.npy`), deflated if `compress`.
    pub fn add_array<M: Mode>(
        &mut self,
        name: &str,
        array: &DynArray<M>,
        compress: bool,
    ) -> Result<()> {
        let layout = array.layout();
        self.add_bytes(
            name,
            layout.dtype,
            &layout.shape,
            layout.order,
            array.bytes(),
            compress,
        )
    }

    /// Adds member `name` from the data bytes of an array of `dtype`, `shape` and
    /// `order` (in the dtype's byte order and in that memory order).
    pub fn add_bytes(
        &mut self,
        name: &str,
        dtype: DType,
        shape: &[usize],
        order: Order,
        data: &[u8],
        compress: bool,
    ) -> Result<()> {
        let out = self.out.clone();
        if name.is_empty() || name.contains('\0') || name.len() > 0xffff - 4 {
            return Err(Error::Unsupported(format!(
                "{}: invalid member name {name:?}",
                out.display()
            )));
        }
        // Unzipped, a member lands at its name: it must stay inside the folder.
        if name.starts_with(['/', '\\']) || name.split(['/', '\\']).any(|part| part == "..") {
            return Err(Error::Unsupported(format!(
                "{}: invalid member name {name:?}: an absolute path or a '..' part would \
                 put the file outside the folder it is unzipped into",
                out.display()
            )));
        }
        if self.names.contains(name) {
            return Err(Error::Archive {
                path: out,
                member: Some(name.to_owned()),
                reason: "a member of this name was already added".to_owned(),
            });
        }
        if self.members.len() >= MAX_MEMBERS {
            return Err(Error::Unsupported(format!(
                "{}: more than {MAX_MEMBERS} members",
                out.display()
            )));
        }
        let header =
            npy::header_bytes(dtype, shape, order == Order::F).map_err(|e| Error::Header {
                path: out.clone(),
                source: e,
            })?;
        let expected =
            crate::geometry::checked_nbytes(shape, dtype.itemsize()).ok_or_else(|| {
                Error::TooLarge {
                    path: out.clone(),
                    shape: shape.to_vec(),
                    dtype,
                }
            })?;
        if expected != data.len() {
            return Err(ShapeError::DataLength {
                shape: shape.to_vec(),
                dtype,
                expected,
                found: data.len(),
            }
            .into());
        }
        if self.failed {
            return Err(Error::Unsupported(format!(
                "{}: an earlier member failed to be written",
                out.display()
            )));
        }
        self.failed = true;
        let (written, end) = write_member(
            self.staged.file(),
            &out,
            self.pos,
            name,
            &header,
            data,
            compress,
        )?;
        self.failed = false;
        self.pos = end;
        self.names.insert(name.to_owned());
        self.members.push(written);
        Ok(())
    }

    /// Writes the central directory and moves the archive to its name.
    pub fn finish(self) -> Result<()> {
        if self.failed {
            return Err(Error::Unsupported(format!(
                "{}: a member failed to be written",
                self.out.display()
            )));
        }
        let cd = central_directory(&self.members, self.pos);
        let file = self.staged.file();
        let io_err = |e| Error::io(&self.out, "write", e);
        sys::write_at(file, &cd, self.pos).map_err(io_err)?;
        file.set_len(self.pos + cd.len() as u64).map_err(io_err)?;
        self.staged.persist(self.overwrite)
    }
}

/// Writes at increasing offsets of a file, skipping (not writing) zero runs when asked.
struct Sink<'a> {
    file: &'a File,
    pos: u64,
    sparse: bool,
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !(self.sparse && is_zero(buf)) {
            sys::write_at(self.file, buf, self.pos)?;
        }
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// 32-bit value of a size or offset, 0xFFFFFFFF when zip64 must carry it.
fn field32(x: u64) -> u32 {
    u32::try_from(x)
        .ok()
        .filter(|&v| v != u32::MAX)
        .unwrap_or(u32::MAX)
}

/// 1980-01-01, the date reproducible zip writers use.
const DOS_DATE: u16 = 0x21;
/// "Made by": Unix, zip 4.5.
const MADE_BY: u16 = 0x032d;

fn local_header(
    name: &[u8],
    flags: u16,
    method: u16,
    crc: u32,
    csize: u64,
    size: u64,
    pad: usize,
) -> Vec<u8> {
    let mut v = Vec::with_capacity(30 + name.len() + 20 + pad);
    put32(&mut v, SIG_LOCAL);
    put16(&mut v, 45);
    put16(&mut v, flags);
    put16(&mut v, method);
    put16(&mut v, 0);
    put16(&mut v, DOS_DATE);
    put32(&mut v, crc);
    // As np.savez (force_zip64): the sizes live in the zip64 extra field.
    put32(&mut v, u32::MAX);
    put32(&mut v, u32::MAX);
    put16(&mut v, name.len() as u16);
    let extra_len = 20 + if pad > 0 { pad } else { 0 };
    put16(&mut v, extra_len as u16);
    v.extend_from_slice(name);
    put16(&mut v, ZIP64_EXTRA);
    put16(&mut v, 16);
    put64(&mut v, size);
    put64(&mut v, csize);
    if pad > 0 {
        put16(&mut v, ALIGN_EXTRA);
        put16(&mut v, (pad - 4) as u16);
        v.resize(v.len() + pad - 4, 0);
    }
    v
}

/// Writes one member at byte `at`; returns it and where its bytes end.
fn write_member(
    file: &File,
    out: &Path,
    at: u64,
    name: &str,
    header: &[u8],
    data: &[u8],
    compress: bool,
) -> Result<(Written, u64)> {
    let io_err = |e| Error::io(out, "write", e);
    let file_name = format!("{name}.npy");
    let name_bytes = file_name.as_bytes();
    let flags = if file_name.is_ascii() { 0 } else { FLAG_UTF8 };
    let method = if compress {
        METHOD_DEFLATE
    } else {
        METHOD_STORED
    };
    // Align the stored data to 64 bytes (the .npy header keeps that alignment).
    let unpadded = ((at % 64) as usize + 30 + name_bytes.len() + 20) % 64;
    let pad = match (64 - unpadded) % 64 {
        p if compress || p == 0 => 0,
        p if p < 4 => p + 64,
        p => p,
    };
    let size = (header.len() + data.len()) as u64;
    let first = local_header(name_bytes, flags, method, 0, 0, size, pad);
    sys::write_at(file, &first, at).map_err(io_err)?;
    let start = at + first.len() as u64;
    let mut crc = crc32fast::Hasher::new();
    let csize = if compress {
        let sink = Sink {
            file,
            pos: start,
            sparse: false,
        };
        let mut z = flate2::write::DeflateEncoder::new(
            io::BufWriter::with_capacity(BUF, sink),
            flate2::Compression::default(),
        );
        z.write_all(header).map_err(io_err)?;
        crc.update(header);
        for chunk in data.chunks(BUF) {
            crc.update(chunk);
            z.write_all(chunk).map_err(io_err)?;
        }
        let sink = z
            .finish()
            .map_err(io_err)?
            .into_inner()
            .map_err(|e| io_err(e.into_error()))?;
        sink.pos - start
    } else {
        let mut sink = Sink {
            file,
            pos: start,
            sparse: true,
        };
        sink.write_all(header).map_err(io_err)?;
        crc.update(header);
        let mut zeros: Option<crc32fast::Hasher> = None;
        for chunk in data.chunks(BUF) {
            if chunk.len() == BUF && is_zero(chunk) {
                // The CRC of a zero block, computed once and combined; not written.
                let z = zeros.get_or_insert_with(|| {
                    let mut h = crc32fast::Hasher::new();
                    h.update(&ZEROS);
                    h
                });
                crc.combine(z);
                sink.pos += BUF as u64;
            } else {
                crc.update(chunk);
                sink.write_all(chunk).map_err(io_err)?;
            }
        }
        size
    };
    let crc = crc.finalize();
    let local = local_header(name_bytes, flags, method, crc, csize, size, pad);
    sys::write_at(file, &local, at).map_err(io_err)?;
    let written = Written {
        name: name_bytes.to_vec(),
        flags,
        method,
        crc,
        csize,
        size,
        lho: at,
    };
    Ok((written, start + csize))
}

/// The central directory of `members`, starting at `cd_offset`, and the end records
/// (zip64 ones when a count, size or offset needs them).
fn central_directory(members: &[Written], cd_offset: u64) -> Vec<u8> {
    let mut cd = Vec::new();
    for m in members {
        let big = |x: u64| field32(x) == u32::MAX;
        let zip64 = big(m.size) || big(m.csize) || big(m.lho);
        put32(&mut cd, SIG_CENTRAL);
        put16(&mut cd, MADE_BY);
        put16(&mut cd, if zip64 { 45 } else { 20 });
        put16(&mut cd, m.flags);
        put16(&mut cd, m.method);
        put16(&mut cd, 0);
        put16(&mut cd, DOS_DATE);
        put32(&mut cd, m.crc);
        put32(&mut cd, field32(m.csize));
        put32(&mut cd, field32(m.size));
        put16(&mut cd, m.name.len() as u16);
        let mut extra = Vec::new();
        if zip64 {
            // In the order of the zip format: size, compressed size, offset.
            let mut body = Vec::new();
            for x in [m.size, m.csize, m.lho] {
                if big(x) {
                    put64(&mut body, x);
                }
            }
            put16(&mut extra, ZIP64_EXTRA);
            put16(&mut extra, body.len() as u16);
            extra.extend_from_slice(&body);
        }
        put16(&mut cd, extra.len() as u16);
        put16(&mut cd, 0); // comment
        put16(&mut cd, 0); // disk
        put16(&mut cd, 0); // internal attributes
        put32(&mut cd, 0o100_644 << 16); // external attributes: a regular file, rw-r--r--
        put32(&mut cd, field32(m.lho));
        cd.extend_from_slice(&m.name);
        cd.extend_from_slice(&extra);
    }
    let cd_size = cd.len() as u64;
    let count = members.len() as u64;
    let end_at = cd_offset + cd_size;
    let count16 = u16::try_from(count).ok().filter(|&c| c != u16::MAX);
    if field32(cd_offset) == u32::MAX || field32(cd_size) == u32::MAX || count16.is_none() {
        put32(&mut cd, SIG_END64);
        put64(&mut cd, (END64_LEN - 12) as u64);
        put16(&mut cd, MADE_BY);
        put16(&mut cd, 45);
        put32(&mut cd, 0);
        put32(&mut cd, 0);
        put64(&mut cd, count);
        put64(&mut cd, count);
        put64(&mut cd, cd_size);
        put64(&mut cd, cd_offset);
        put32(&mut cd, SIG_LOCATOR64);
        put32(&mut cd, 0);
        put64(&mut cd, end_at);
        put32(&mut cd, 1);
    }
    let count16 = count16.unwrap_or(u16::MAX);
    put32(&mut cd, SIG_END);
    put16(&mut cd, 0);
    put16(&mut cd, 0);
    put16(&mut cd, count16);
    put16(&mut cd, count16);
    put32(&mut cd, field32(cd_size));
    put32(&mut cd, field32(cd_offset));
    put16(&mut cd, 0);
    cd
}
