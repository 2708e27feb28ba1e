//! The `.npy` header: read and validated strictly, written byte for byte as numpy writes it.
//!
//! # Layout
//!
//! ```text
//! offset 0   6 bytes  b"\x93NUMPY"                      (MAGIC)
//!        6   u8 major, u8 minor                         1.0, 2.0 or 3.0
//!        8   HEADER_LEN: <u2 in 1.0, <u4 in 2.0 / 3.0
//!   10 / 12  HEADER_LEN bytes of header text: latin-1 (1.0, 2.0) or UTF-8 (3.0)
//!            the data, `prod(shape) * itemsize` bytes, C or Fortran order
//! ```
//!
//! The header text is the `repr` of a Python dict with exactly the keys `descr`, `fortran_order`
//! and `shape`, for example `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
//!
//! # Reading
//!
//! [`read_header`] and [`parse_header`] parse the dict with a small strict parser of Python
//! literals — never an evaluator — and accept what numpy's reader (`ast.literal_eval`) accepts
//! for a valid header:
//!
//! - single- or double-quoted strings (optionally with a `u` prefix, with the escapes `\\`, `\'`,
//!   `\"`, `\n`, `\r`, `\t`, `\xNN` and backslash-newline; adjacent literals are joined as in
//!   Python), the keys in any order, whitespace and newlines between any two tokens, with or
//!   without trailing commas, `()`, `(3,)`, parentheses around any value (`((3, 4))`);
//! - integers in decimal, `0x`, `0o` or `0b` form, with `_` separators and one leading `+` or
//!   `-`; in versions 1.0 and 2.0 also with the Python 2 suffix `L` (`3L`), which numpy strips;
//! - any descr string that `np.dtype()` accepts for a supported kind (`'<f8'`, `'float64'`, ...);
//! - no padding, no final `'\n'`, data not aligned to 64 bytes;
//! - a key given twice: as in a Python dict, the last value wins.
//!
//! It rejects everything else with a [`HeaderError`] that gives the byte offset in the file:
//! expressions (`1+1`, calls, names, comprehensions), dicts anywhere but at the top, sets,
//! bytes, raw and f-strings, triple-quoted strings, comments, unsupported escapes, NUL bytes,
//! invalid UTF-8 in a 3.0 header, more than 100 nested brackets. mmarray is stricter than numpy
//! in a few corners no writer produces: comments, `3 L` (with a space), unknown escapes such as
//! `\d`, which Python keeps with a warning, and `-(3)`.
//!
//! The values are then checked as numpy checks them: `shape` must be a tuple of non-negative
//! ints (not bools, not floats, not a list, and `(3)` is the int 3, not a tuple),
//! `fortran_order` a bool, and `descr` a supported dtype (object, strings, datetimes and
//! structured dtypes are reported as [`DTypeError::Unsupported`]). Finally the byte size of the
//! data, `prod(shape) * itemsize` without the zero-length axes, must not exceed `isize::MAX`:
//! numpy refuses such shapes as "array is too big", and it guarantees that every element count,
//! byte size and stride of the array fits in `usize` and `isize`.
//!
//! The header text may be at most `max_header_size` bytes ([`MAX_HEADER_SIZE`], numpy's
//! default, unless the caller lifts the cap). numpy counts characters, which differs only for
//! non-ASCII 3.0 headers. The length is checked against the cap and the file's length before
//! anything of that size is read or allocated.
//!
//! # Writing
//!
//! [`header_bytes`] writes exactly what numpy >= 1.24 writes (`np.save`, `open_memmap`): the
//! keys sorted, growth-axis padding, spaces up to the next multiple of 64 and a `'\n'`, as
//! version 1.0 or, when the header does not fit a 16-bit length, 2.0. [`regrow_header`]
//! rewrites the shape of an existing header in place, as appending to the file needs.
//!
//! ```
//! use mmarray_core::npy::{header_bytes, parse_header, MAX_HEADER_SIZE};
//! use mmarray_dtype::DType;
//!
//! let dtype: DType = "<f8".parse()?;
//! let bytes = header_bytes(dtype, &[3, 4], false)?;
//! assert_eq!(bytes.len(), 128);
//! assert!(bytes.starts_with(b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"));
//!
//! let header = parse_header(&bytes, MAX_HEADER_SIZE)?;
//! assert_eq!((header.dtype, header.shape.as_slice(), header.data_offset), (dtype, &[3, 4][..], 128));
//! assert_eq!(header.data_len(), Some(96));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io::{self, Read};

use mmarray_dtype::{DType, DTypeError};

/// Default cap on the header text, as numpy's `_MAX_HEADER_SIZE`.
///
/// A file whose header is longer is refused with [`HeaderError::HeaderTooLarge`] unless the
/// caller explicitly passes a larger `max_header_size` (numpy: `max_header_size=` or
/// `allow_pickle=True`).
pub const MAX_HEADER_SIZE: usize = 10_000;

/// The six bytes every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The data of a file written by numpy (and by [`header_bytes`]) starts at a multiple of this
/// (numpy's `ARRAY_ALIGN`).
pub const ARRAY_ALIGN: usize = 64;

/// Room numpy leaves in the header for the length of the growth axis (numpy's
/// `GROWTH_AXIS_MAX_DIGITS`, `len(str(8 * 2**64 - 1))`).
pub const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// How deeply brackets may nest in a header (numpy's own structured descrs need about a dozen).
const MAX_DEPTH: usize = 100;

/// At most this many characters of the offending text are quoted in an error.
const SNIPPET_CHARS: usize = 48;

/// What the header's keys must be, in the order they are reported when missing.
const KEYS: [&str; 3] = ["descr", "fortran_order", "shape"];

/// A parsed and validated `.npy` header.
///
/// A header returned by [`read_header`] or [`parse_header`] always has a supported `dtype`
/// and a `shape` whose byte size fits in `isize`, so [`len`](Self::len) and
/// [`data_len`](Self::data_len) are `Some`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// Format version: `(1, 0)`, `(2, 0)` or `(3, 0)`.
    pub version: (u8, u8),
    /// The element type (`descr`).
    pub dtype: DType,
    /// Whether the data is in Fortran (column-major) order rather than C (row-major) order.
    pub fortran_order: bool,
    /// The logical shape; empty for a 0-d array, which holds one element.
    pub shape: Vec<usize>,
    /// Where the data starts: magic, version, length field and header text.
    pub data_offset: usize,
}

impl NpyHeader {
    /// Number of elements: the product of the shape, 1 for `()`, 0 when an axis has length 0.
    ///
    /// `None` if the product overflows `usize` (never for a header this module parsed).
    #[must_use]
    pub fn len(&self) -> Option<usize> {
        element_count(&self.shape)
    }

    /// Whether the array has no elements (some axis has length 0).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Bytes of data: [`len`](Self::len) times the item size.
    ///
    /// `None` on overflow of `usize` or `u64` (never for a header this module parsed).
    #[must_use]
    pub fn data_len(&self) -> Option<u64> {
        let len = u64::try_from(self.len()?).ok()?;
        len.checked_mul(u64::try_from(self.dtype.itemsize()).ok()?)
    }
}

/// Everything that can be wrong with a `.npy` header, and the two ways writing one can fail.
///
/// Offsets are byte offsets in the file (the header starts at offset 0).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The file does not start with [`MAGIC`]. The message says what to do instead: a
    /// zip archive (`PK\x03\x04`, as `np.savez` writes) is named as such, anything else
    /// gets the hint to read it as a raw (headerless) file.
    #[error("{}", bad_magic(found))]
    BadMagic {
        /// The first bytes of the file (at most 8).
        found: Vec<u8>,
    },
    /// The file ends inside the header: empty, magic only, or a header length past the end.
    #[error(
        "truncated .npy file: expected {expected} bytes of {what} at byte {offset}, found {found}"
    )]
    Truncated {
        /// Where the missing part starts.
        offset: u64,
        /// What is missing: "magic string", "format version", "header length" or "header".
        what: &'static str,
        /// How many bytes that part needs.
        expected: u64,
        /// How many bytes the file has from `offset` on.
        found: u64,
    },
    /// A format version other than 1.0, 2.0 and 3.0 (at byte 6).
    #[error("unsupported .npy format version {major}.{minor} at byte 6: expected 1.0, 2.0 or 3.0")]
    UnsupportedVersion {
        /// The major version byte.
        major: u8,
        /// The minor version byte.
        minor: u8,
    },
    /// The header text is longer than the cap.
    #[error(
        "the .npy header is {len} bytes long, over the limit of {max} bytes: headers this large \
         may be crafted to exhaust resources; if you trust the file, lift the limit \
         (max_header_size in the library, --max-header-size on the command line)"
    )]
    HeaderTooLarge {
        /// Length of the header text (`HEADER_LEN`).
        len: usize,
        /// The cap in force.
        max: usize,
    },
    /// Bytes that cannot be header text: a NUL byte, or invalid UTF-8 in a version 3.0 header.
    #[error("invalid .npy header text at byte {offset}: {reason}")]
    Encoding {
        /// Where the bad byte is.
        offset: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header text is not a Python literal that the strict parser accepts.
    #[error("invalid .npy header at byte {offset}: expected {expected}, found {found}")]
    Syntax {
        /// Where the parser stopped.
        offset: u64,
        /// What would have been accepted there.
        expected: &'static str,
        /// What is there instead.
        found: String,
    },
    /// The header is a literal, but not a dict.
    #[error("the .npy header at byte {offset} is not a dict: found {found}")]
    NotADict {
        /// Where the literal starts.
        offset: u64,
        /// Its text.
        found: String,
    },
    /// One of `descr`, `fortran_order` and `shape` is missing.
    #[error(
        "the .npy header has no '{0}' key: expected exactly 'descr', 'fortran_order' and 'shape'"
    )]
    MissingKey(&'static str),
    /// A key other than `descr`, `fortran_order` and `shape`.
    #[error(
        "the .npy header has an unexpected key {key} at byte {offset}: expected exactly \
         'descr', 'fortran_order' and 'shape'"
    )]
    ExtraKey {
        /// Where the key starts.
        offset: u64,
        /// Its text.
        key: String,
    },
    /// The `descr` is not a dtype, or one that mmarray does not support (then the message
    /// names the dtype as unsupported, not the header as invalid).
    #[error("{}", descr_message(*offset, source))]
    Descr {
        /// Where the descr value starts.
        offset: u64,
        /// Why it was refused; `DTypeError::Unsupported` names what it is (e.g. "object").
        source: DTypeError,
    },
    /// `fortran_order` is not `True` or `False`.
    #[error(
        "invalid fortran_order at byte {offset} of the .npy header: expected True or False, found {found}"
    )]
    FortranOrder {
        /// Where the value starts.
        offset: u64,
        /// Its text.
        found: String,
    },
    /// `shape` is not a tuple of non-negative ints that fit in `usize`.
    #[error("invalid shape at byte {offset} of the .npy header: {reason}, found {found}")]
    Shape {
        /// Where the offending value (the shape or one of its entries) starts.
        offset: u64,
        /// Its text.
        found: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The data of the shape would take more than `isize::MAX` bytes.
    #[error(
        "shape {shape:?} of {itemsize}-byte items is too big: its size in bytes overflows \
         (the limit is isize::MAX, as numpy's 'array is too big')"
    )]
    SizeOverflow {
        /// The shape.
        shape: Vec<usize>,
        /// The item size of the dtype.
        itemsize: usize,
    },
    /// [`regrow_header`]: the header for the new shape is longer than the existing one.
    #[error(
        "no room to rewrite the .npy header in place: the new header needs {needed} bytes, the \
         file has {available} before its data"
    )]
    NoRoomToGrow {
        /// Bytes the new header needs (prefix, text and the final newline).
        needed: u64,
        /// Bytes the existing header occupies (its data offset).
        available: u64,
    },
    /// [`header_bytes`]: the header does not fit even a version 2.0 (32-bit) length.
    #[error("the .npy header would be {len} bytes long, too large for any format version")]
    TooLargeToWrite {
        /// Length the header text would have.
        len: usize,
    },
    /// [`regrow_header`]: the header bytes given are not those of the header given.
    #[error("the .npy header bytes do not match the parsed header: {what}")]
    Mismatch {
        /// What differs.
        what: &'static str,
    },
    /// The reader failed (other than by ending early, which is [`HeaderError::Truncated`]).
    #[error("I/O error reading the .npy header at byte {offset}: {source}")]
    Io {
        /// Where the read started.
        offset: u64,
        /// The error.
        source: io::Error,
    },
}

/// Bytes shown as a Python bytes literal would show them: `b'\x93NUMPY\x01\x00'`.
struct EscapedBytes<'a>(&'a [u8]);

/// The message of [`HeaderError::BadMagic`]: the one place that says "not a .npy file".
fn bad_magic(found: &[u8]) -> String {
    if found.starts_with(b"PK\x03\x04") || found.starts_with(b"PK\x05\x06") {
        return format!(
            "not a .npy file but a zip archive (a .npz file, as np.savez writes), found {}",
            EscapedBytes(found)
        );
    }
    format!(
        "not a .npy file: expected the magic string \\x93NUMPY at byte 0, found {}; \
         to read a headerless file, give its layout (use --raw --dtype DTYPE on the command line)",
        EscapedBytes(found)
    )
}

/// The message of [`HeaderError::Descr`].
fn descr_message(offset: u64, source: &DTypeError) -> String {
    match source {
        DTypeError::Unsupported { .. } => {
            format!("{source} (the descr at byte {offset} of the .npy header)")
        }
        _ => format!("invalid descr at byte {offset} of the .npy header: {source}"),
    }
}

impl fmt::Display for EscapedBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("b'")?;
        for &b in self.0 {
            match b {
                b'\\' => f.write_str("\\\\")?,
                b'\'' => f.write_str("\\'")?,
                0x20..=0x7e => write!(f, "{}", b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_str("'")
    }
}

/// Reads and validates the header from the start of a file of `file_len` bytes.
///
/// Reads only the fixed prefix (magic, version, length field), then exactly `HEADER_LEN` bytes,
/// after checking `HEADER_LEN` against the file length and against `max_header_size`
/// ([`MAX_HEADER_SIZE`] unless the caller opts in to more): nothing is read or allocated in
/// proportion to a length the file claims before that. On success the reader is positioned at
/// [`NpyHeader::data_offset`].
///
/// A reader that ends before `file_len` says gives [`HeaderError::Truncated`]; other read errors
/// give [`HeaderError::Io`].
pub fn read_header<R: Read + ?Sized>(
    r: &mut R,
    file_len: u64,
    max_header_size: usize,
) -> Result<NpyHeader, HeaderError> {
    let mut prefix = [0u8; 12];
    let got = read_full(r, &mut prefix[..8], 0)?;
    let (version, len_size) = check_start(&prefix[..got])?;
    let got = 8 + read_full(r, &mut prefix[8..8 + len_size], 8)?;
    let layout = check_length(&prefix[..got], version, len_size, file_len, max_header_size)?;

    let prefix_len = 8 + len_size;
    let mut bytes = Vec::with_capacity(prefix_len + layout.header_len.min(1 << 20));
    bytes.extend_from_slice(&prefix[..prefix_len]);
    let wanted = layout.header_len as u64;
    let read = Read::take(&mut *r, wanted)
        .read_to_end(&mut bytes)
        .map_err(|source| HeaderError::Io {
            offset: prefix_len as u64,
            source,
        })?;
    if (read as u64) < wanted {
        return Err(HeaderError::Truncated {
            offset: prefix_len as u64,
            what: "header",
            expected: wanted,
            found: read as u64,
        });
    }
    parse_text(&bytes, version, prefix_len)
}

/// Parses a header from a byte slice holding at least the whole header (the data, or part of
/// it, may follow). Used by tests and fuzzing; the checks are those of [`read_header`] with
/// `file_len = bytes.len()`.
pub fn parse_header(bytes: &[u8], max_header_size: usize) -> Result<NpyHeader, HeaderError> {
    let start = &bytes[..bytes.len().min(8)];
    let (version, len_size) = check_start(start)?;
    let prefix = &bytes[..bytes.len().min(8 + len_size)];
    let layout = check_length(
        prefix,
        version,
        len_size,
        bytes.len() as u64,
        max_header_size,
    )?;
    parse_text(&bytes[..layout.data_offset], version, 8 + len_size)
}

/// The exact bytes numpy (`np.save` / `open_memmap`, numpy >= 1.24) writes before the data of
/// an array of this dtype, shape and order.
///
/// The header is version 1.0, or 2.0 when it does not fit a 16-bit length; its dict has the keys
/// sorted (`{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`), followed by
/// growth-axis padding (`21 - len(str(n))` spaces for the length `n` of axis 0 in C order or of
/// the last axis in Fortran order, none for a 0-d array) and by spaces up to the next multiple
/// of 64, the last of which is a `'\n'`.
///
/// numpy writes `fortran_order: True` only for arrays that are Fortran- and not C-contiguous;
/// for an array that is both (1-d, or with at most one axis longer than 1), pass `false` to get
/// numpy's bytes. This function formats; it does not check that the data of `shape` fits in
/// memory or on disk ([`parse_header`] does).
pub fn header_bytes(
    dtype: DType,
    shape: &[usize],
    fortran_order: bool,
) -> Result<Vec<u8>, HeaderError> {
    let mut text = dict_text(dtype, shape, fortran_order);
    if let Some(&n) = growth_axis(shape, fortran_order) {
        let pad = GROWTH_AXIS_MAX_DIGITS.saturating_sub(decimal_digits(n));
        text.extend(std::iter::repeat_n(' ', pad));
    }
    // As numpy's `_wrap_header`: at least one space of padding, then '\n', data aligned to 64.
    let wrap = |len_size: usize| {
        let hlen = text.len() + 1;
        let padlen = ARRAY_ALIGN - (8 + len_size + hlen) % ARRAY_ALIGN;
        (hlen + padlen, padlen)
    };
    let (version, len_size, (header_len, padlen)) = match wrap(2) {
        (len, pad) if u16::try_from(len).is_ok() => ((1, 0), 2, (len, pad)),
        _ => ((2, 0), 4, wrap(4)),
    };
    let len_field = u32::try_from(header_len)
        .map_err(|_| HeaderError::TooLargeToWrite { len: text.len() })?
        .to_le_bytes();
    let mut out = Vec::with_capacity(8 + len_size + header_len);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version.0, version.1]);
    out.extend_from_slice(&len_field[..len_size]);
    out.extend_from_slice(text.as_bytes());
    out.resize(out.len() + padlen, b' ');
    out.push(b'\n');
    Ok(out)
}

/// For appending: the header for the same dtype and order with `new_shape`, *if it has exactly
/// the same length* as the old one, so that it can be rewritten in place.
///
/// `old` is the file's current header and `old_bytes` its bytes (at least `old.data_offset`
/// of them, as read from the file). The result keeps the version and the length field of the
/// old header: the dict is rendered as numpy renders it, then padded with spaces up to the old
/// length, ending in `'\n'`. numpy's growth-axis padding leaves room for the growth axis to
/// reach any length that fits in `usize`, and for a header numpy wrote the result equals what
/// [`header_bytes`] gives for the new shape. If the new header does not fit, the error is
/// [`HeaderError::NoRoomToGrow`] (the file must then be rewritten).
///
/// `new_shape` is checked as a parsed header's shape is ([`HeaderError::SizeOverflow`]); which
/// axis grows is up to the caller.
pub fn regrow_header(
    old: &NpyHeader,
    old_bytes: &[u8],
    new_shape: &[usize],
) -> Result<Vec<u8>, HeaderError> {
    let reparsed = parse_header(old_bytes, usize::MAX)?;
    if reparsed != *old {
        return Err(HeaderError::Mismatch {
            what: "old_bytes do not parse to the header given as old",
        });
    }
    check_size(new_shape, old.dtype.itemsize())?;
    let prefix_len = if old.version == (1, 0) { 10 } else { 12 };
    let text = dict_text(old.dtype, new_shape, old.fortran_order);
    let needed = prefix_len + text.len() + 1;
    if needed > old.data_offset {
        return Err(HeaderError::NoRoomToGrow {
            needed: needed as u64,
            available: old.data_offset as u64,
        });
    }
    let mut out = Vec::with_capacity(old.data_offset);
    out.extend_from_slice(&old_bytes[..prefix_len]);
    out.extend_from_slice(text.as_bytes());
    out.resize(old.data_offset - 1, b' ');
    out.push(b'\n');
    Ok(out)
}

/// The dict numpy writes, without any padding.
fn dict_text(dtype: DType, shape: &[usize], fortran_order: bool) -> String {
    let order = if fortran_order { "True" } else { "False" };
    format!(
        "{{'descr': '{}', 'fortran_order': {order}, 'shape': {}, }}",
        dtype.descr(),
        shape_repr(shape)
    )
}

/// Python's `repr` of a tuple of ints: `()`, `(3,)`, `(3, 4)`.
fn shape_repr(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_owned(),
        [n] => format!("({n},)"),
        [first, rest @ ..] => {
            let mut s = format!("({first}");
            for n in rest {
                s.push_str(&format!(", {n}"));
            }
            s.push(')');
            s
        }
    }
}

/// The axis that appending grows: the first in C order, the last in Fortran order.
fn growth_axis(shape: &[usize], fortran_order: bool) -> Option<&usize> {
    if fortran_order {
        shape.last()
    } else {
        shape.first()
    }
}

/// `len(str(n))`.
fn decimal_digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Product of the shape, 0 if any axis is 0, `None` on overflow of the non-zero axes.
fn element_count(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n))
}

/// numpy's "array is too big": the byte size of the non-zero axes must fit in `isize`.
fn check_size(shape: &[usize], itemsize: usize) -> Result<(), HeaderError> {
    let fits = shape
        .iter()
        .filter(|&&n| n != 0)
        .try_fold(itemsize, |acc, &n| acc.checked_mul(n))
        .is_some_and(|bytes| isize::try_from(bytes).is_ok());
    if fits {
        Ok(())
    } else {
        Err(HeaderError::SizeOverflow {
            shape: shape.to_vec(),
            itemsize,
        })
    }
}

/// Reads until `buf` is full or the reader ends; returns how many bytes were read.
fn read_full<R: Read + ?Sized>(
    r: &mut R,
    buf: &mut [u8],
    offset: u64,
) -> Result<usize, HeaderError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(HeaderError::Io {
                    offset: offset + got as u64,
                    source,
                });
            }
        }
    }
    Ok(got)
}

/// Checks the magic string and the version in the first (up to 8) bytes of the file; returns
/// the version and the size of the length field.
fn check_start(start: &[u8]) -> Result<((u8, u8), usize), HeaderError> {
    let n = start.len().min(MAGIC.len());
    if start[..n] != MAGIC[..n] {
        return Err(HeaderError::BadMagic {
            found: start[..start.len().min(8)].to_vec(),
        });
    }
    if start.len() < 6 {
        return Err(HeaderError::Truncated {
            offset: 0,
            what: "magic string",
            expected: 6,
            found: start.len() as u64,
        });
    }
    if start.len() < 8 {
        return Err(HeaderError::Truncated {
            offset: 6,
            what: "format version",
            expected: 2,
            found: start.len() as u64 - 6,
        });
    }
    match (start[6], start[7]) {
        (1, 0) => Ok(((1, 0), 2)),
        (major @ (2 | 3), 0) => Ok(((major, 0), 4)),
        (major, minor) => Err(HeaderError::UnsupportedVersion { major, minor }),
    }
}

/// Where the header text ends.
struct Layout {
    header_len: usize,
    data_offset: usize,
}

/// Checks the length field (in `prefix`, which holds up to `8 + len_size` bytes) against the
/// file length and then against the cap.
fn check_length(
    prefix: &[u8],
    version: (u8, u8),
    len_size: usize,
    file_len: u64,
    max_header_size: usize,
) -> Result<Layout, HeaderError> {
    let field = prefix.get(8..8 + len_size).ok_or(HeaderError::Truncated {
        offset: 8,
        what: "header length",
        expected: len_size as u64,
        found: prefix.len().saturating_sub(8) as u64,
    })?;
    let header_len = if version == (1, 0) {
        u64::from(u16::from_le_bytes([field[0], field[1]]))
    } else {
        u64::from(u32::from_le_bytes([field[0], field[1], field[2], field[3]]))
    };
    let prefix_len = (8 + len_size) as u64;
    let available = file_len.saturating_sub(prefix_len);
    if header_len > available {
        return Err(HeaderError::Truncated {
            offset: prefix_len,
            what: "header",
            expected: header_len,
            found: available,
        });
    }
    // On a 32-bit target a 4 GiB header cannot be held in memory at all: too large for any cap.
    let too_large = HeaderError::HeaderTooLarge {
        len: usize::try_from(header_len).unwrap_or(usize::MAX),
        max: max_header_size,
    };
    let Some((header_len, data_offset)) = usize::try_from(header_len)
        .ok()
        .and_then(|len| Some((len, (8 + len_size).checked_add(len)?)))
    else {
        return Err(too_large);
    };
    if header_len > max_header_size {
        return Err(too_large);
    }
    Ok(Layout {
        header_len,
        data_offset,
    })
}

/// Parses and validates the header text, `bytes[prefix_len..]`; `bytes` is the whole header.
fn parse_text(
    bytes: &[u8],
    version: (u8, u8),
    prefix_len: usize,
) -> Result<NpyHeader, HeaderError> {
    let text = &bytes[prefix_len..];
    if let Some(i) = text.iter().position(|&b| b == 0) {
        return Err(HeaderError::Encoding {
            offset: (prefix_len + i) as u64,
            reason: "NUL byte in the header text",
        });
    }
    let utf8 = version == (3, 0);
    if utf8 && let Err(e) = std::str::from_utf8(text) {
        return Err(HeaderError::Encoding {
            offset: (prefix_len + e.valid_up_to()) as u64,
            reason: "invalid UTF-8 in a version 3.0 header",
        });
    }
    let mut parser = Parser {
        bytes,
        pos: prefix_len,
        utf8,
        python2_long: !utf8,
    };
    let entries = parser.parse_header_dict()?;
    let (dtype, fortran_order, shape) = parser.interpret(&entries)?;
    check_size(&shape, dtype.itemsize())?;
    Ok(NpyHeader {
        version,
        dtype,
        fortran_order,
        shape,
        data_offset: bytes.len(),
    })
}

/// A syntax error at `pos` that describes what it found in words.
fn syntax_found(pos: usize, expected: &'static str, found: &str) -> HeaderError {
    HeaderError::Syntax {
        offset: pos as u64,
        expected,
        found: found.to_owned(),
    }
}

/// A Python literal as the header parser sees it.
#[derive(Debug)]
enum Val {
    /// A string (adjacent literals joined, escapes resolved).
    Str(String),
    /// An int; `magnitude` saturates at [`INT_CAP`].
    Int { negative: bool, magnitude: u128 },
    /// A float literal (its value does not matter).
    Float,
    /// An imaginary literal such as `3j`.
    Complex,
    /// `True` or `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A tuple.
    Tuple(Vec<Node>),
    /// A list (its items are checked, then dropped: no list is a valid value but a
    /// structured descr, which is reported as unsupported).
    List,
    /// A dict (only at the top level).
    Dict(Vec<(Node, Node)>),
}

/// A literal and where its text is (`start..end`, offsets in the file).
#[derive(Debug)]
struct Node {
    val: Val,
    start: usize,
    end: usize,
}

/// The strict parser of Python literals. Positions are offsets in the file.
struct Parser<'a> {
    /// The whole header (prefix and text); the text ends at `bytes.len()`.
    bytes: &'a [u8],
    pos: usize,
    /// Whether the text is UTF-8 (3.0) rather than latin-1 (1.0, 2.0).
    utf8: bool,
    /// Whether Python 2 long literals (`3L`) are accepted (1.0, 2.0).
    python2_long: bool,
}

/// What a value may be, for syntax errors.
const EXPECTED_VALUE: &str = "a literal (string, number, True, False, None, tuple or list)";

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')) {
            self.pos += 1;
        }
    }

    /// Decodes part of the text (latin-1 or UTF-8) without failing.
    fn decode(&self, raw: &[u8]) -> String {
        if self.utf8 {
            String::from_utf8_lossy(raw).into_owned()
        } else {
            raw.iter().map(|&b| b as char).collect()
        }
    }

    /// The text of `start..end`, shortened for an error message.
    fn snippet(&self, start: usize, end: usize) -> String {
        let end = end.min(self.bytes.len());
        let text = self.decode(&self.bytes[start.min(end)..end]);
        if text.chars().count() > SNIPPET_CHARS {
            let mut short: String = text.chars().take(SNIPPET_CHARS).collect();
            short.push_str("...");
            short
        } else {
            text
        }
    }

    /// What is at `pos`, for "found ..." in a syntax error.
    fn found_at(&self, pos: usize) -> String {
        if pos >= self.bytes.len() {
            return "end of header".to_owned();
        }
        let end = self.bytes[pos..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(self.bytes.len(), |n| pos + n)
            .min(pos + 16);
        // Do not cut a UTF-8 character in two.
        let mut end = end.max(pos + 1);
        while self.utf8 && end < self.bytes.len() && self.bytes[end] & 0xc0 == 0x80 {
            end += 1;
        }
        format!("{:?}", self.decode(&self.bytes[pos..end]))
    }

    fn syntax(&self, pos: usize, expected: &'static str) -> HeaderError {
        HeaderError::Syntax {
            offset: pos as u64,
            expected,
            found: self.found_at(pos),
        }
    }

    /// The whole text: one dict and nothing else but whitespace.
    fn parse_header_dict(&mut self) -> Result<Vec<(Node, Node)>, HeaderError> {
        self.skip_ws();
        if self.peek().is_none() {
            return Err(self.syntax(self.pos, "a dict '{'"));
        }
        let top = self.parse_value(0)?;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(self.syntax(self.pos, "the end of the header after the dict"));
        }
        match top.val {
            Val::Dict(entries) => Ok(entries),
            _ => Err(HeaderError::NotADict {
                offset: top.start as u64,
                found: self.snippet(top.start, top.end),
            }),
        }
    }

    /// One literal, after optional whitespace. `depth` counts the enclosing brackets.
    fn parse_value(&mut self, depth: usize) -> Result<Node, HeaderError> {
        self.skip_ws();
        let start = self.pos;
        if depth > MAX_DEPTH {
            return Err(syntax_found(
                start,
                "at most 100 nested brackets",
                "deeper nesting",
            ));
        }
        let Some(c) = self.peek() else {
            return Err(self.syntax(start, EXPECTED_VALUE));
        };
        let val = match c {
            b'{' if depth == 0 => {
                self.pos += 1;
                Val::Dict(self.parse_dict_entries(depth + 1)?)
            }
            b'{' => {
                return Err(syntax_found(
                    start,
                    EXPECTED_VALUE,
                    "a nested dict or set '{'",
                ));
            }
            b'(' => return self.parse_parenthesized(depth),
            b'[' => {
                self.pos += 1;
                self.parse_items(b']', depth + 1, Vec::new())?;
                Val::List
            }
            b'\'' | b'"' => Val::Str(self.parse_strings()?),
            b'+' | b'-' => {
                self.pos += 1;
                self.skip_ws();
                if !self.at_number() {
                    return Err(self.syntax(self.pos, "a number after a sign"));
                }
                self.parse_number(c == b'-')?
            }
            _ if self.at_number() => self.parse_number(false)?,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => self.parse_name()?,
            _ => return Err(self.syntax(start, EXPECTED_VALUE)),
        };
        Ok(Node {
            val,
            start,
            end: self.pos,
        })
    }

    /// `(`: the empty tuple, a parenthesised value, or a tuple.
    fn parse_parenthesized(&mut self, depth: usize) -> Result<Node, HeaderError> {
        let start = self.pos;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(Node {
                val: Val::Tuple(Vec::new()),
                start,
                end: self.pos,
            });
        }
        let first = self.parse_value(depth + 1)?;
        self.skip_ws();
        match self.peek() {
            Some(b')') => {
                // `(x)` is just `x`.
                self.pos += 1;
                Ok(Node {
                    val: first.val,
                    start,
                    end: self.pos,
                })
            }
            Some(b',') => {
                self.pos += 1;
                let items = self.parse_items(b')', depth + 1, vec![first])?;
                Ok(Node {
                    val: Val::Tuple(items),
                    start,
                    end: self.pos,
                })
            }
            _ => Err(self.syntax(self.pos, "',' or ')'")),
        }
    }

    /// Items up to `close`, separated by commas, optionally with a trailing comma; the opening
    /// bracket (and any items in `items`, with the comma after them) are consumed already.
    fn parse_items(
        &mut self,
        close: u8,
        depth: usize,
        mut items: Vec<Node>,
    ) -> Result<Vec<Node>, HeaderError> {
        let expected = if close == b')' {
            "',' or ')'"
        } else {
            "',' or ']'"
        };
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.parse_value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.syntax(self.pos, expected)),
            }
        }
    }

    /// `key: value` pairs up to `}`; the `{` is consumed already.
    fn parse_dict_entries(&mut self, depth: usize) -> Result<Vec<(Node, Node)>, HeaderError> {
        let mut entries = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(entries);
            }
            let key = self.parse_value(depth)?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.syntax(self.pos, "':' after a dict key"));
            }
            self.pos += 1;
            let value = self.parse_value(depth)?;
            entries.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(entries);
                }
                _ => return Err(self.syntax(self.pos, "',' or '}'")),
            }
        }
    }

    /// Whether a string literal (with an optional `u` prefix) starts at `pos`.
    fn at_string(&self) -> bool {
        match self.peek() {
            Some(b'\'' | b'"') => true,
            Some(b'u' | b'U') => matches!(self.peek_at(1), Some(b'\'' | b'"')),
            _ => false,
        }
    }

    /// One or more adjacent string literals, joined as Python joins them.
    fn parse_strings(&mut self) -> Result<String, HeaderError> {
        let mut out = String::new();
        loop {
            if matches!(self.peek(), Some(b'u' | b'U')) {
                self.pos += 1;
            }
            self.parse_string(&mut out)?;
            let after = self.pos;
            self.skip_ws();
            if !self.at_string() {
                self.pos = after;
                return Ok(out);
            }
        }
    }

    /// One quoted string at `pos`, appended to `out`.
    fn parse_string(&mut self, out: &mut String) -> Result<(), HeaderError> {
        let start = self.pos;
        let Some(quote) = self.peek() else {
            return Err(self.syntax(start, "a string"));
        };
        if self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote) {
            return Err(syntax_found(
                start,
                "a single- or double-quoted string",
                "a triple-quoted string",
            ));
        }
        self.pos += 1;
        let mut run = self.pos;
        loop {
            let Some(c) = self.peek() else {
                return Err(syntax_found(
                    self.pos,
                    "the closing quote of the string",
                    "end of header",
                ));
            };
            match c {
                _ if c == quote => {
                    out.push_str(&self.decode(&self.bytes[run..self.pos]));
                    self.pos += 1;
                    return Ok(());
                }
                b'\n' | b'\r' => {
                    return Err(syntax_found(
                        self.pos,
                        "the closing quote of the string",
                        "end of line",
                    ));
                }
                b'\\' => {
                    out.push_str(&self.decode(&self.bytes[run..self.pos]));
                    self.parse_escape(out)?;
                    run = self.pos;
                }
                _ => self.pos += 1,
            }
        }
    }

    /// A backslash escape at `pos`, appended to `out`.
    fn parse_escape(&mut self, out: &mut String) -> Result<(), HeaderError> {
        let start = self.pos;
        let unsupported =
            "a supported escape (\\\\, \\', \\\", \\n, \\r, \\t, \\xNN or \\ at the end of a line)";
        let c = self
            .peek_at(1)
            .ok_or_else(|| self.syntax(start, unsupported))?;
        self.pos += 2;
        match c {
            b'\\' => out.push('\\'),
            b'\'' => out.push('\''),
            b'"' => out.push('"'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'\n' => {}
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            b'x' => {
                let hex = |c: Option<u8>| c.and_then(|c| (c as char).to_digit(16));
                match (hex(self.peek()), hex(self.peek_at(1))) {
                    (Some(hi), Some(lo)) => {
                        self.pos += 2;
                        out.push(char::from(((hi << 4) | lo) as u8));
                    }
                    _ => return Err(self.syntax(start, unsupported)),
                }
            }
            _ => return Err(self.syntax(start, unsupported)),
        }
        Ok(())
    }

    /// Whether a number literal starts at `pos`: a digit, or `.` and a digit.
    fn at_number(&self) -> bool {
        match self.peek() {
            Some(b'0'..=b'9') => true,
            Some(b'.') => matches!(self.peek_at(1), Some(b'0'..=b'9')),
            _ => false,
        }
    }

    /// A number literal at `pos` (after any sign).
    fn parse_number(&mut self, negative: bool) -> Result<Val, HeaderError> {
        let start = self.pos;
        let prefixed = self.peek() == Some(b'0')
            && matches!(
                self.peek_at(1),
                Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')
            );
        while let Some(c) = self.peek() {
            let exponent_sign = matches!(c, b'+' | b'-')
                && !prefixed
                && matches!(self.bytes[self.pos - 1], b'e' | b'E');
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exponent_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
        let token = &self.bytes[start..self.pos];
        let (digits, long) = match token {
            [rest @ .., b'L'] if self.python2_long => (rest, true),
            _ => (token, false),
        };
        if let Some(magnitude) = int_literal(digits) {
            return Ok(Val::Int {
                negative,
                magnitude,
            });
        }
        if !long {
            if float_literal(token) {
                return Ok(Val::Float);
            }
            if let [rest @ .., b'j' | b'J'] = token
                && (digit_part(rest, 0) == Some(rest.len()) || float_literal(rest))
            {
                return Ok(Val::Complex);
            }
        }
        Err(syntax_found(
            start,
            "a number literal",
            &format!("{:?}", self.snippet(start, self.pos)),
        ))
    }

    /// `True`, `False`, `None` or a `u'...'` string; any other name is an error.
    fn parse_name(&mut self) -> Result<Val, HeaderError> {
        let start = self.pos;
        if self.at_string() {
            return Ok(Val::Str(self.parse_strings()?));
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.pos += 1;
        }
        match &self.bytes[start..self.pos] {
            b"True" => Ok(Val::Bool(true)),
            b"False" => Ok(Val::Bool(false)),
            b"None" => Ok(Val::None),
            name => {
                let found = if matches!(self.peek(), Some(b'\'' | b'"')) && name.len() <= 2 {
                    format!(
                        "a {}-prefixed string literal (only str literals are accepted)",
                        self.snippet(start, self.pos)
                    )
                } else {
                    format!("the name {}", self.snippet(start, self.pos))
                };
                Err(syntax_found(start, EXPECTED_VALUE, &found))
            }
        }
    }

    /// Checks the dict's keys and values as numpy's reader does: keys, `shape`, `fortran_order`,
    /// `descr`, in that order. A key given twice takes its last value, as in a Python dict.
    fn interpret(
        &self,
        entries: &[(Node, Node)],
    ) -> Result<(DType, bool, Vec<usize>), HeaderError> {
        let mut values: [Option<&Node>; 3] = [None; 3];
        for (key, value) in entries {
            let slot = match &key.val {
                Val::Str(name) => KEYS.iter().position(|k| k == name),
                _ => None,
            };
            let Some(slot) = slot else {
                return Err(HeaderError::ExtraKey {
                    offset: key.start as u64,
                    key: self.snippet(key.start, key.end),
                });
            };
            values[slot] = Some(value);
        }
        let [Some(descr), Some(fortran), Some(shape)] = values else {
            let missing = values.iter().position(Option::is_none).unwrap_or(0);
            return Err(HeaderError::MissingKey(KEYS[missing]));
        };
        let shape = self.shape(shape)?;
        let Val::Bool(fortran_order) = fortran.val else {
            return Err(HeaderError::FortranOrder {
                offset: fortran.start as u64,
                found: self.snippet(fortran.start, fortran.end),
            });
        };
        let dtype = self.descr(descr)?;
        Ok((dtype, fortran_order, shape))
    }

    fn shape(&self, node: &Node) -> Result<Vec<usize>, HeaderError> {
        let error = |at: &Node, reason| HeaderError::Shape {
            offset: at.start as u64,
            found: self.snippet(at.start, at.end),
            reason,
        };
        let items = match &node.val {
            Val::Tuple(items) => items,
            Val::List => return Err(error(node, "expected a tuple, not a list")),
            Val::Int { .. } => {
                return Err(error(
                    node,
                    "expected a tuple, not an int (a 1-d shape is written (n,))",
                ));
            }
            _ => {
                return Err(error(
                    node,
                    "expected a tuple of ints such as (3, 4), (3,) or ()",
                ));
            }
        };
        items
            .iter()
            .map(|item| match item.val {
                Val::Int {
                    negative: false,
                    magnitude: n,
                }
                | Val::Int {
                    negative: true,
                    magnitude: n @ 0,
                } => usize::try_from(n)
                    .map_err(|_| error(item, "dimension too large for this platform")),
                Val::Int { negative: true, .. } => Err(error(item, "negative dimension")),
                Val::Bool(_) => Err(error(item, "a bool is not a dimension")),
                _ => Err(error(item, "dimensions must be ints")),
            })
            .collect()
    }

    fn descr(&self, node: &Node) -> Result<DType, HeaderError> {
        let text = || self.snippet(node.start, node.end);
        let result = match &node.val {
            Val::Str(s) => DType::parse(s),
            Val::List => Err(DTypeError::Unsupported {
                text: text(),
                what: "structured",
            }),
            Val::Tuple(_) => Err(DTypeError::Unsupported {
                text: text(),
                what: "subarray",
            }),
            _ => Err(DTypeError::Unknown { text: text() }),
        };
        result.map_err(|source| HeaderError::Descr {
            offset: node.start as u64,
            source,
        })
    }
}

/// Python's `digitpart` (`digit (["_"] digit)*`) at `s[i..]`: where it ends, or `None`.
fn digit_part(s: &[u8], i: usize) -> Option<usize> {
    let mut end = None;
    let mut j = i;
    while j < s.len() {
        match s[j] {
            b'0'..=b'9' => {
                j += 1;
                end = Some(j);
            }
            b'_' if end == Some(j) && s.get(j + 1).is_some_and(u8::is_ascii_digit) => j += 1,
            _ => break,
        }
    }
    end
}

/// Magnitudes of int literals saturate here, above any `u64`.
const INT_CAP: u128 = u64::MAX as u128 + 1;

/// The magnitude of a Python int literal (without sign), saturated at [`INT_CAP`]; `None` if
/// `token` is not an int literal.
fn int_literal(token: &[u8]) -> Option<u128> {
    let (radix, digits) = match token {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', b'o' | b'O', rest @ ..] => (8, rest),
        [b'0', b'b' | b'B', rest @ ..] => (2, rest),
        _ => (10, token),
    };
    // One `_` may follow the radix prefix; elsewhere `_` only between digits.
    let digits = match digits {
        [b'_', rest @ ..] if radix != 10 => rest,
        _ => digits,
    };
    if digits.is_empty()
        || digits.first() == Some(&b'_')
        || digits.last() == Some(&b'_')
        || digits.windows(2).any(|w| w == b"__")
    {
        return None;
    }
    let mut magnitude = 0u128;
    let mut nonzero = false;
    for &c in digits.iter().filter(|&&c| c != b'_') {
        let d = (c as char).to_digit(radix)?;
        nonzero |= d != 0;
        magnitude = (magnitude * u128::from(radix) + u128::from(d)).min(INT_CAP);
    }
    // Python forbids leading zeros in a non-zero decimal literal (`07`).
    if radix == 10 && digits[0] == b'0' && nonzero {
        return None;
    }
    Some(magnitude)
}

/// Whether `token` is a Python float literal (`1.`, `.5`, `1.5e-3`, `1e5`, `1_0.0`).
fn float_literal(token: &[u8]) -> bool {
    let int_end = digit_part(token, 0);
    let mut i = int_end.unwrap_or(0);
    let mut point = false;
    if token.get(i) == Some(&b'.') {
        point = true;
        i += 1;
        match digit_part(token, i) {
            Some(end) => i = end,
            None if int_end.is_none() => return false,
            None => {}
        }
    } else if int_end.is_none() {
        return false;
    }
    let mut exponent = false;
    if matches!(token.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(token.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        match digit_part(token, i) {
            Some(end) => i = end,
            None => return false,
        }
        exponent = true;
    }
    i == token.len() && (point || exponent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmarray_dtype::{ByteOrder, Kind};

    /// A version 1.0 file prefix around `text`.
    fn v1(text: &[u8]) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        out.extend_from_slice(text);
        out
    }

    fn v3(text: &[u8]) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x03\x00".to_vec();
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(text);
        out
    }

    /// Parses `text` as a lone literal (v1 rules) and returns it.
    fn literal(text: &str) -> Result<Val, HeaderError> {
        let bytes = v1(text.as_bytes());
        let mut p = Parser {
            bytes: &bytes,
            pos: 10,
            utf8: false,
            python2_long: true,
        };
        let node = p.parse_value(1)?;
        p.skip_ws();
        if p.pos != bytes.len() {
            return Err(p.syntax(p.pos, "end"));
        }
        Ok(node.val)
    }

    fn int(text: &str) -> Option<(bool, u128)> {
        match literal(text) {
            Ok(Val::Int {
                negative,
                magnitude,
            }) => Some((negative, magnitude)),
            _ => None,
        }
    }

    #[test]
    fn int_literals_follow_python() {
        assert_eq!(int("0"), Some((false, 0)));
        assert_eq!(int("000"), Some((false, 0)));
        assert_eq!(int("0_0"), Some((false, 0)));
        assert_eq!(int("12"), Some((false, 12)));
        assert_eq!(int("1_000"), Some((false, 1000)));
        assert_eq!(int("-5"), Some((true, 5)));
        assert_eq!(int("+ 5"), Some((false, 5)));
        assert_eq!(int("0x1F"), Some((false, 31)));
        assert_eq!(int("0X_ff"), Some((false, 255)));
        assert_eq!(int("0o17"), Some((false, 15)));
        assert_eq!(int("0b101"), Some((false, 5)));
        assert_eq!(int("3L"), Some((false, 3)));
        assert_eq!(
            int("18446744073709551615"),
            Some((false, u128::from(u64::MAX)))
        );
        assert_eq!(int("18446744073709551616"), Some((false, INT_CAP)));
        assert_eq!(int(&"9".repeat(400)), Some((false, INT_CAP)));
        for bad in [
            "07", "1__0", "1_", "_1", "0x", "0x_", "0b2", "0o8", "1a", "3l", "0x1.5", "--1", "+-1",
            "- -1", "3 L", "1+1", "1 1",
        ] {
            assert!(
                !matches!(literal(bad), Ok(Val::Int { .. })),
                "{bad}: {:?}",
                literal(bad)
            );
        }
    }

    #[test]
    fn float_and_complex_literals_are_recognised() {
        for f in [
            "1.", ".5", "1.5", "1e5", "1E+5", "1.5e-3", "1_0.0_1", "00.5", "0e0",
        ] {
            assert!(
                matches!(literal(f), Ok(Val::Float)),
                "{f}: {:?}",
                literal(f)
            );
        }
        for c in ["3j", "1.5J", "07j", "1e3j"] {
            assert!(
                matches!(literal(c), Ok(Val::Complex)),
                "{c}: {:?}",
                literal(c)
            );
        }
        for bad in [
            "1e", "1.e", "1._5", "1e_5", "1.5.5", "1ee5", "1.5L", "1jj", "3.0L",
        ] {
            assert!(
                matches!(literal(bad), Err(HeaderError::Syntax { .. })),
                "{bad}: {:?}",
                literal(bad)
            );
        }
    }

    #[test]
    fn strings_support_quotes_escapes_prefix_and_concatenation() {
        let s = |t: &str| match literal(t) {
            Ok(Val::Str(s)) => Some(s),
            _ => None,
        };
        assert_eq!(s("'<f8'").as_deref(), Some("<f8"));
        assert_eq!(s("\"<f8\"").as_deref(), Some("<f8"));
        assert_eq!(s("u'<f8'").as_deref(), Some("<f8"));
        assert_eq!(s("'<' \"f\"\n'8'").as_deref(), Some("<f8"));
        assert_eq!(
            s(r#"'a\\b\'c\"d\n\t\r'"#).as_deref(),
            Some("a\\b'c\"d\n\t\r")
        );
        assert_eq!(s(r"'\x3cf8'").as_deref(), Some("<f8"));
        assert_eq!(s("'a\\\nb'").as_deref(), Some("ab"));
        assert_eq!(s("\"it's\"").as_deref(), Some("it's"));
        assert_eq!(s("''").as_deref(), Some(""));
        for bad in [
            "'abc",
            "'a\nb'",
            r"'\d'",
            r"'\x3'",
            r"'\u0041'",
            "'''a'''",
            "b'<f8'",
            "r'<f8'",
            "f'<f8'",
            "br'x'",
            "'a' + 'b'",
            "'a' b",
        ] {
            assert!(
                matches!(literal(bad), Err(HeaderError::Syntax { .. })),
                "{bad}: {:?}",
                literal(bad)
            );
        }
    }

    #[test]
    fn latin1_and_utf8_strings_decode_per_version() {
        // v1: byte 0xe9 is latin-1 'é'; v3: the UTF-8 bytes of 'é'.
        let mut t1 = b"{'descr': '\xe9', 'fortran_order': False, 'shape': ()}".to_vec();
        let err = parse_header(&v1(&t1), MAX_HEADER_SIZE).unwrap_err();
        assert!(
            matches!(&err, HeaderError::Descr { source: DTypeError::Unknown { text }, .. } if text == "é"),
            "{err:?}"
        );
        t1 = "{'descr': 'é', 'fortran_order': False, 'shape': ()}"
            .as_bytes()
            .to_vec();
        let err = parse_header(&v3(&t1), MAX_HEADER_SIZE).unwrap_err();
        assert!(
            matches!(&err, HeaderError::Descr { source: DTypeError::Unknown { text }, .. } if text == "é"),
            "{err:?}"
        );
    }

    #[test]
    fn nesting_is_limited_and_does_not_overflow_the_stack() {
        // The helper parses at depth 1, as a value in the header dict.
        let ok = format!(
            "{}3{}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        assert!(
            matches!(literal(&ok), Ok(Val::Int { .. })),
            "{:?}",
            literal(&ok)
        );
        let over = format!("{}3{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(matches!(literal(&over), Err(HeaderError::Syntax { .. })));
        let deep = format!("{}3{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            literal(&deep),
            Err(HeaderError::Syntax {
                expected: "at most 100 nested brackets",
                ..
            })
        ));
    }

    #[test]
    fn parentheses_make_tuples_only_with_a_comma() {
        assert!(matches!(literal("(3)"), Ok(Val::Int { .. })));
        assert!(matches!(literal("((3))"), Ok(Val::Int { .. })));
        assert!(matches!(literal("(3,)"), Ok(Val::Tuple(v)) if v.len() == 1));
        assert!(matches!(literal("( )"), Ok(Val::Tuple(v)) if v.is_empty()));
        assert!(matches!(literal("((3, 4))"), Ok(Val::Tuple(v)) if v.len() == 2));
        assert!(matches!(literal("[]"), Ok(Val::List)));
        assert!(matches!(literal("[1, (2, 'a'), [None],]"), Ok(Val::List)));
        for bad in [
            "(,)", "(3,,)", "[,]", "(3 4)", "(3", "[3", "()()", "{}", "{1}", "[{}]",
        ] {
            assert!(
                matches!(literal(bad), Err(HeaderError::Syntax { .. })),
                "{bad}: {:?}",
                literal(bad)
            );
        }
    }

    #[test]
    fn growth_padding_matches_numpy_formula() {
        assert_eq!(decimal_digits(0), 1);
        assert_eq!(decimal_digits(9), 1);
        assert_eq!(decimal_digits(10), 2);
        assert_eq!(decimal_digits(usize::MAX), 20);
        assert_eq!(shape_repr(&[]), "()");
        assert_eq!(shape_repr(&[3]), "(3,)");
        assert_eq!(shape_repr(&[3, 4, 5]), "(3, 4, 5)");
        assert_eq!(growth_axis(&[1, 2, 3], false), Some(&1));
        assert_eq!(growth_axis(&[1, 2, 3], true), Some(&3));
        assert_eq!(growth_axis(&[], true), None);
    }

    #[test]
    fn size_check_ignores_zero_axes_but_not_their_neighbours() {
        assert!(check_size(&[], 16).is_ok());
        assert!(check_size(&[0, usize::MAX], 1).is_err());
        assert!(check_size(&[0, 1 << 40], 8).is_ok());
        assert!(check_size(&[isize::MAX as usize], 1).is_ok());
        assert!(check_size(&[isize::MAX as usize], 2).is_err());
        assert!(check_size(&[1 << 32, 1 << 32], 1).is_err());
        assert_eq!(element_count(&[1 << 40, 1 << 40, 0]), Some(0));
        assert_eq!(element_count(&[1 << 40, 1 << 40]), None);
        assert_eq!(element_count(&[]), Some(1));
    }

    #[test]
    fn syntax_errors_quote_what_they_found() {
        let text = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1+1,)}";
        let err = parse_header(&v1(text), MAX_HEADER_SIZE).unwrap_err();
        let HeaderError::Syntax {
            offset,
            expected,
            found,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*offset, 10 + 52);
        assert_eq!(*expected, "',' or ')'");
        assert_eq!(found, "\"+1,)}\"");
        assert_eq!(
            err.to_string(),
            "invalid .npy header at byte 62: expected ',' or ')', found \"+1,)}\""
        );
        // found_at never splits a UTF-8 character.
        let text = "{'descr': '<f8', 'fortran_order': False, 'shape': ééééééééééé}";
        let err = parse_header(&v3(text.as_bytes()), MAX_HEADER_SIZE).unwrap_err();
        assert!(
            matches!(&err, HeaderError::Syntax { found, .. } if found == "\"éééééééé\""),
            "{err:?}"
        );
    }

    #[test]
    fn escaped_bytes_display_like_python() {
        assert_eq!(
            EscapedBytes(b"\x93NUMPY\x01'\\").to_string(),
            r"b'\x93NUMPY\x01\'\\'"
        );
    }

    #[test]
    fn one_byte_dtypes_are_written_with_a_pipe() {
        let h = header_bytes(DType::new(Kind::U8, ByteOrder::Big), &[2], false).unwrap();
        assert!(h.starts_with(
            b"\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }"
        ));
    }
}
