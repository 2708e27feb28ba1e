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

mod literal;

use literal::Parser;

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
        crate::geometry::checked_len(&self.shape)
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

/// numpy's "array is too big": the byte size of the non-zero axes must fit in `isize`.
fn check_size(shape: &[usize], itemsize: usize) -> Result<(), HeaderError> {
    if crate::geometry::spans_fit(shape, itemsize) {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use mmarray_dtype::{ByteOrder, Kind};

    /// A version 1.0 file prefix around `text`.
    pub(crate) fn v1(text: &[u8]) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        out.extend_from_slice(text);
        out
    }

    pub(crate) fn v3(text: &[u8]) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x03\x00".to_vec();
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(text);
        out
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
        assert_eq!(
            crate::geometry::checked_len(&[1 << 40, 1 << 40, 0]),
            Some(0)
        );
        assert_eq!(crate::geometry::checked_len(&[1 << 40, 1 << 40]), None);
        assert_eq!(crate::geometry::checked_len(&[]), Some(1));
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
