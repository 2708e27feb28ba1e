//! Every bad input of the core issue, in every mode that applies: each must give the expected
//! typed error, name the file in its message, allocate nothing in proportion to a number read
//! from the file, and leave the file exactly as it was (bytes, length, mtime and ctime; in
//! read-write mode too, where numpy would grow a short file).
//!
//! The hostile files are built by hand in a temporary folder. Every `unsafe` open below maps a
//! file that only this test touches.
#![cfg(unix)] // file identities, pread and block counts come from std::os::unix

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use mmarray_core::npy::{HeaderError, MAX_HEADER_SIZE};
use mmarray_core::{
    CopyOnWrite, DynArray, Error, Mode, OpenOptions, Order, Raw, ReadOnly, ReadWrite,
};
use mmarray_dtype::{DType, DTypeError};

// ---------------------------------------------------------------------------------------------
// The largest single allocation made by the current thread, to check that nothing is allocated
// in proportion to a length or shape read from a file.

struct Tracking;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the thread-local may be gone while a thread shuts down.
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: forwards every call to the system allocator unchanged; only records sizes.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded from the caller.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded from the caller.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded from the caller.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Runs `f` and returns its result and the largest allocation it made on this thread.
fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|l| l.set(0));
    let r = f();
    (r, LARGEST.with(Cell::get))
}

/// No hostile file may make mmarray allocate more than this at once.
const ALLOCATION_LIMIT: usize = 256 * 1024;

// ---------------------------------------------------------------------------------------------
// Building and checking files

/// A `.npy` file: magic, `version`, the length field, `text` padded with spaces and a newline
/// to a multiple of 64 (as numpy writes), then `data` bytes.
fn npy(version: (u8, u8), text: &[u8], data: usize) -> Vec<u8> {
    let len_size = if version == (1, 0) { 2 } else { 4 };
    let mut body = text.to_vec();
    let total = 8 + len_size + body.len() + 1;
    body.resize(body.len() + (64 - total % 64) % 64, b' ');
    body.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version.0, version.1]);
    if len_size == 2 {
        out.extend_from_slice(&u16::try_from(body.len()).unwrap().to_le_bytes());
    } else {
        out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    }
    out.extend_from_slice(&body);
    out.extend((0..data).map(|i| (i % 251) as u8));
    out
}

/// A version 1.0 file with a header dict of `descr`, `fortran_order` and `shape` written as given.
fn dict(descr: &str, fortran: &str, shape: &str, data: usize) -> Vec<u8> {
    let text = format!("{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}");
    npy((1, 0), text.as_bytes(), data)
}

/// A valid version 1.0 header text for `<f8` of `shape`.
fn f8_text(shape: &str) -> String {
    format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}")
}

/// Everything about a file that opening it must not change.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    bytes: Option<Vec<u8>>,
    len: u64,
    mtime: SystemTime,
    ctime: (i64, i64),
    ino: u64,
}

fn snapshot(path: &Path) -> Snapshot {
    let m = fs::metadata(path).unwrap();
    Snapshot {
        bytes: m.is_file().then(|| fs::read(path).unwrap()),
        len: m.len(),
        mtime: m.modified().unwrap(),
        ctime: (m.ctime(), m.ctime_nsec()),
        ino: m.ino(),
    }
}

/// Writes `bytes` to `dir/name` with an mtime in the past, so that any write would show.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(old)
        .unwrap();
    path
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    R,
    RPlus,
    C,
}

const ALL_MODES: [Which; 3] = [Which::R, Which::RPlus, Which::C];

fn try_open<M: Mode>(path: &Path, options: &OpenOptions) -> Result<(), Error> {
    // SAFETY: the file is private to this test.
    unsafe { DynArray::<M>::open_with(path, options) }.map(drop)
}

fn open_in(mode: Which, path: &Path, options: &OpenOptions) -> Result<(), Error> {
    match mode {
        Which::R => try_open::<ReadOnly>(path, options),
        Which::RPlus => try_open::<ReadWrite>(path, options),
        Which::C => try_open::<CopyOnWrite>(path, options),
    }
}

/// Opens `path` in every mode of `modes` with `options`; each must fail with an error that
/// `expect` accepts and whose message names the file, without allocating much and without
/// changing the file. Returns the errors.
fn refused(
    path: &Path,
    options: &OpenOptions,
    modes: &[Which],
    expect: impl Fn(&Error) -> bool,
) -> Vec<Error> {
    let before = snapshot(path);
    let mut errors = Vec::new();
    for &mode in modes {
        let (result, largest) = largest_allocation(|| open_in(mode, path, options));
        let err = match result {
            Ok(()) => panic!("{}: opened in mode {mode:?}", path.display()),
            Err(e) => e,
        };
        assert!(
            expect(&err),
            "{}: mode {mode:?}: unexpected error {err:?}",
            path.display()
        );
        let text = err.to_string();
        assert!(
            text.contains(&*path.to_string_lossy()),
            "{}: mode {mode:?}: the message does not name the file: {text}",
            path.display()
        );
        assert!(
            largest <= ALLOCATION_LIMIT,
            "{}: mode {mode:?}: allocated {largest} bytes at once",
            path.display()
        );
        assert_eq!(
            snapshot(path),
            before,
            "{}: mode {mode:?} changed the file",
            path.display()
        );
        errors.push(err);
    }
    errors
}

fn npy_opts() -> OpenOptions {
    OpenOptions::new()
}

/// The `HeaderError` inside an `Error::Header` (panics on other errors; for use in `expect`).
fn header(e: &Error) -> Option<&HeaderError> {
    match e {
        Error::Header { source, .. } => Some(source),
        _ => None,
    }
}

fn is_truncated_header(what: &'static str) -> impl Fn(&Error) -> bool {
    move |e| matches!(header(e), Some(HeaderError::Truncated { what: w, .. }) if *w == what)
}

fn is_syntax(e: &Error) -> bool {
    matches!(header(e), Some(HeaderError::Syntax { .. }))
}

// ---------------------------------------------------------------------------------------------
// The start of the file

#[test]
fn empty_and_cut_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: &[(&str, &[u8], &'static str)] = &[
        ("empty", b"", "magic string"),
        ("magic_cut", b"\x93NUM", "magic string"),
        ("magic_only", b"\x93NUMPY", "format version"),
        ("half_version", b"\x93NUMPY\x01", "format version"),
        ("version_only", b"\x93NUMPY\x01\x00", "header length"),
        ("half_length", b"\x93NUMPY\x01\x00\x76", "header length"),
        (
            "v2_half_length",
            b"\x93NUMPY\x02\x00\x76\x00\x00",
            "header length",
        ),
        // numpy's `b'\x93NUMPY\x02\x00'`: a valid version and nothing after it.
        ("v2_nothing", b"\x93NUMPY\x02\x00", "header length"),
        ("v3_nothing", b"\x93NUMPY\x03\x00", "header length"),
    ];
    for &(name, bytes, what) in cases {
        let path = write(d, name, bytes);
        refused(&path, &npy_opts(), &ALL_MODES, is_truncated_header(what));
    }
}

#[test]
fn bad_magic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rest = npy((1, 0), f8_text("(2,)").as_bytes(), 16);
    // numpy's malformed_magic (those that are not cut short), and other formats.
    let magics: &[&[u8]] = &[
        b"\x92NUMPY\x01\x00",
        b"\x00NUMPY\x01\x00",
        b"\x93numpy\x01\x00",
        b"\x93MATLB\x01\x00",
        b"\x80\x04\x95",
        b"\x93NUMPZ",
        b"NUMPY\x01\x00",
    ];
    for (i, magic) in magics.iter().enumerate() {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&rest[magic.len().min(8)..]);
        let path = write(d, &format!("magic{i}.npy"), &bytes);
        let errors = refused(&path, &npy_opts(), &ALL_MODES, |e| {
            matches!(header(e), Some(HeaderError::BadMagic { .. }))
        });
        let found = match header(&errors[0]) {
            Some(HeaderError::BadMagic { found }) => found.clone(),
            _ => unreachable!(),
        };
        assert_eq!(found, bytes[..8], "{i}");
    }
    // The zip magic makes an .npz archive (tests/npz.rs), here a broken one.
    let mut bytes = b"PK\x03\x04\x14\x00".to_vec();
    bytes.extend_from_slice(&rest[8..]);
    let path = write(d, "zip.npy", &bytes);
    refused(&path, &npy_opts(), &ALL_MODES, |e| {
        matches!(e, mmarray_core::Error::Archive { member: None, .. })
    });
    // A file shorter than the magic whose start is wrong.
    let path = write(d, "short", b"\x93X");
    refused(&path, &npy_opts(), &ALL_MODES, |e| {
        matches!(header(e), Some(HeaderError::BadMagic { .. }))
    });
    // Text.
    let path = write(d, "text", b"hello, world\n");
    refused(&path, &npy_opts(), &ALL_MODES, |e| {
        matches!(header(e), Some(HeaderError::BadMagic { .. }))
    });
}

#[test]
fn unknown_versions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // numpy's bad_version_magic (but 2.0, valid), and others.
    for (major, minor) in [
        (1, 1),
        (0, 0),
        (0, 1),
        (2, 2),
        (255, 255),
        (4, 0),
        (3, 1),
        (1, 255),
    ] {
        let mut bytes = npy((1, 0), f8_text("(2,)").as_bytes(), 16);
        bytes[6] = major;
        bytes[7] = minor;
        let path = write(d, &format!("v{major}.{minor}.npy"), &bytes);
        refused(&path, &npy_opts(), &ALL_MODES, |e| {
            matches!(header(e), Some(HeaderError::UnsupportedVersion { major: a, minor: b })
                if (*a, *b) == (major, minor))
        });
    }
}

#[test]
fn header_length_past_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = npy((1, 0), f8_text("(2,)").as_bytes(), 16);
    // One byte more than the whole file holds after the length field.
    let mut bytes = good.clone();
    let too_long = u16::try_from(good.len() - 10 + 1).unwrap();
    bytes[8..10].copy_from_slice(&too_long.to_le_bytes());
    let path = write(d, "plus_one.npy", &bytes);
    refused(
        &path,
        &npy_opts(),
        &ALL_MODES,
        is_truncated_header("header"),
    );

    // The largest 1.0 length, on a short file.
    let mut bytes = good.clone();
    bytes[8..10].copy_from_slice(&[0xff, 0xff]);
    let path = write(d, "ffff.npy", &bytes);
    refused(
        &path,
        &npy_opts(),
        &ALL_MODES,
        is_truncated_header("header"),
    );

    // The largest 2.0 / 3.0 length, even with the cap lifted: nothing of that size is read or
    // allocated, it is compared with the file's length first.
    for version in [2u8, 3] {
        let mut bytes = npy((version, 0), f8_text("(2,)").as_bytes(), 16);
        bytes[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        let path = write(d, &format!("v{version}_max.npy"), &bytes);
        refused(
            &path,
            &npy_opts(),
            &ALL_MODES,
            is_truncated_header("header"),
        );
        let lifted = OpenOptions::new().max_header_size(usize::MAX);
        refused(&path, &lifted, &ALL_MODES, is_truncated_header("header"));
    }

    // The header ends exactly at the end of the file: the header is complete (here: a valid
    // header of a 0-length array).
    let bytes = npy((1, 0), f8_text("(0,)").as_bytes(), 0);
    let path = write(d, "exact.npy", &bytes);
    for mode in ALL_MODES {
        open_in(mode, &path, &npy_opts()).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// The header dict

#[test]
fn header_not_a_dict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Literals that are not dicts.
    let not_dicts = [
        "['descr', '<f8']",
        "'<f8'",
        "(1, 2)",
        "None",
        "3",
        "True",
        "-1.5",
    ];
    for (i, text) in not_dicts.iter().enumerate() {
        let path = write(d, &format!("nd{i}.npy"), &npy((1, 0), text.as_bytes(), 16));
        refused(&path, &npy_opts(), &ALL_MODES, |e| {
            matches!(header(e), Some(HeaderError::NotADict { .. }))
        });
    }
    // A dict inside a list is refused by syntax: dicts are only accepted at the top.
    let text = "[{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}]";
    let path = write(d, "nested.npy", &npy((1, 0), text.as_bytes(), 16));
    refused(&path, &npy_opts(), &ALL_MODES, is_syntax);
    // Nothing but blanks, and nothing at all.
    for (name, text) in [("blank.npy", &b"   "[..]), ("none.npy", &b""[..])] {
        let path = write(d, name, &npy((1, 0), text, 16));
        refused(&path, &npy_opts(), &ALL_MODES, is_syntax);
    }
}

#[test]
fn missing_and_extra_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        ("{'fortran_order': False, 'shape': (2,), }", Some("descr")),
        ("{'descr': '<f8', 'shape': (2,), }", Some("fortran_order")),
        ("{'descr': '<f8', 'fortran_order': False, }", Some("shape")),
        ("{}", Some("descr")),
        // numpy's test_bad_header case: fortran_order missing (and a bad descr).
        ("{'descr': 'x', 'shape': (1, 2), }", Some("fortran_order")),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extrakey': -1}",
            None,
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'Descr': '<f8'}",
            None,
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 1: 2}",
            None,
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), None: None}",
            None,
        ),
    ];
    for (i, (text, missing)) in cases.iter().enumerate() {
        let path = write(
            d,
            &format!("keys{i}.npy"),
            &npy((1, 0), text.as_bytes(), 16),
        );
        refused(&path, &npy_opts(), &ALL_MODES, |e| {
            match (header(e), missing) {
                (Some(HeaderError::MissingKey(k)), Some(m)) => k == m,
                (Some(HeaderError::ExtraKey { .. }), None) => true,
                _ => false,
            }
        });
    }
}

#[test]
fn unknown_and_unsupported_descrs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let unsupported = [
        "'|O'",
        "'O'",
        "'|S5'",
        "'<U3'",
        "'|V4'",
        "'<M8[ns]'",
        "'<m8[s]'",
        "'<f16'",
        "[('a', '<i4'), ('b', '>f8')]",
        "[('x', '<i4', (2,)), ('y', '<f8', (2, 2)), ('z', '|u1')]",
        "('<i4', (2, 3))",
    ];
    let unknown = [
        "'x'",
        "'<f3'",
        "''",
        "'<i4 '",
        "5",
        "None",
        "True",
        "'float128x'",
    ];
    for (i, descr) in unsupported.iter().enumerate() {
        let path = write(d, &format!("uns{i}.npy"), &dict(descr, "False", "(2,)", 64));
        refused(&path, &npy_opts(), &ALL_MODES, |e| {
            matches!(
                header(e),
                Some(HeaderError::Descr {
                    source: DTypeError::Unsupported { .. },
                    ..
                })
            )
        });
    }
    for (i, descr) in unknown.iter().enumerate() {
        let path = write(d, &format!("unk{i}.npy"), &dict(descr, "False", "(2,)", 64));
        refused(&path, &npy_opts(), &ALL_MODES, |e| {
            matches!(
                header(e),
                Some(HeaderError::Descr {
                    source: DTypeError::Unknown { .. },
                    ..
                })
            )
        });
    }
}

#[test]
fn fortran_order_not_a_bool() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (i, value) in [
        "0", "1", "'False'", "None", "'True'", "(False,)", "[True]", "1.0",
    ]
    .iter()
    .enumerate()
    {
        let path = write(d, &format!("fo{i}.npy"), &dict("'<f8'", value, "(2,)", 16));
        refused(&path, &npy_opts(), &ALL_MODES, |e| {
            matches!(header(e), Some(HeaderError::FortranOrder { .. }))
        });
    }
}

#[test]
fn bad_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shapes = [
        "(-1,)",
        "(3, -2)",
        "(3.0,)",
        "(2, 1.5)",
        "(True,)",
        "(3, False)",
        "3",
        "[3]",
        "('3',)",
        "None",
        "(None,)",
        "((2,),)",
        "(2j,)",
        "(18446744073709551616,)",
        "(99999999999999999999999999999999,)",
    ];
    for (i, shape) in shapes.iter().enumerate() {
        let path = write(
            d,
            &format!("shape{i}.npy"),
            &dict("'<f8'", "False", shape, 64),
        );
        refused(&path, &npy_opts(), &ALL_MODES, |e| {
            matches!(header(e), Some(HeaderError::Shape { .. }))
        });
    }
}

#[test]
fn shapes_whose_byte_size_overflows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shapes = [
        // 2^64 bytes and more.
        "(4294967296, 4294967296)",
        "(2305843009213693952,)",
        "(18446744073709551615,)",
        "(65536, 65536, 65536, 65536)",
        // More than isize::MAX bytes.
        "(1152921504606846976,)",
        // Zero-length axes do not hide an overflow of the others.
        "(0, 4294967296, 4294967296)",
    ];
    for (i, shape) in shapes.iter().enumerate() {
        let path = write(
            d,
            &format!("big{i}.npy"),
            &dict("'<f8'", "False", shape, 64),
        );
        refused(&path, &npy_opts(), &ALL_MODES, |e| {
            matches!(header(e), Some(HeaderError::SizeOverflow { .. }))
        });
    }
}

// ---------------------------------------------------------------------------------------------
// The data

#[test]
fn data_shorter_than_the_shape_needs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&str, usize, u64); 6] = [
        ("(10,)", 79, 80),
        ("(10,)", 0, 80),
        ("(3, 4)", 95, 96),
        ("()", 7, 8),
        ("()", 0, 8),
        // Within isize, far beyond the file: refused without mapping or allocating.
        ("(1099511627776,)", 64, 1 << 43),
    ];
    for (i, (shape, data, expected)) in cases.into_iter().enumerate() {
        let bytes = npy((1, 0), f8_text(shape).as_bytes(), data);
        let path = write(d, &format!("short{i}.npy"), &bytes);
        // In read-write mode too: numpy's r+ silently grows the file; mmarray must not.
        let errors = refused(&path, &npy_opts(), &ALL_MODES, |e| {
            matches!(e, Error::Truncated { expected: x, found, offset: 128, .. }
                if *x == expected && *found == data as u64)
        });
        assert!(errors[1].to_string().contains("too short"), "{}", errors[1]);
    }
    // Fortran order and big-endian make no difference.
    let text = "{'descr': '>i2', 'fortran_order': True, 'shape': (3, 5), }";
    let path = write(d, "short_f.npy", &npy((1, 0), text.as_bytes(), 29));
    refused(&path, &npy_opts(), &ALL_MODES, |e| {
        matches!(
            e,
            Error::Truncated {
                expected: 30,
                found: 29,
                ..
            }
        )
    });
    // Bytes after the data are fine (numpy ignores them), and so is exactly enough.
    for extra in [0, 1, 100] {
        let path = write(
            d,
            &format!("long{extra}.npy"),
            &npy((1, 0), f8_text("(2,)").as_bytes(), 16 + extra),
        );
        let before = snapshot(&path);
        for mode in ALL_MODES {
            open_in(mode, &path, &npy_opts()).unwrap();
        }
        assert_eq!(snapshot(&path), before);
    }
}

// ---------------------------------------------------------------------------------------------
// Header size and encoding

#[test]
fn header_over_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A valid header padded with spaces to just over the cap, in 1.0 and 2.0.
    for (version, pad) in [
        ((1, 0), MAX_HEADER_SIZE),
        ((2, 0), 70_000),
        ((3, 0), 20_000),
    ] {
        let mut text = f8_text("(2,)").into_bytes();
        text.resize(pad, b' ');
        let mut bytes = npy(version, &text, 0);
        bytes.extend_from_slice(&1.5f64.to_le_bytes());
        bytes.extend_from_slice(&(-2.0f64).to_le_bytes());
        let path = write(d, &format!("cap{}.npy", version.0), &bytes);
        let header_len = bytes.len() - 16 - if version == (1, 0) { 10 } else { 12 };
        assert!(header_len > MAX_HEADER_SIZE);
        refused(&path, &npy_opts(), &ALL_MODES, |e| {
            matches!(header(e), Some(HeaderError::HeaderTooLarge { len, max: MAX_HEADER_SIZE })
                if *len == header_len)
        });
        // A cap just below the length still refuses; lifting it opens the file.
        let below = OpenOptions::new().max_header_size(header_len - 1);
        refused(&path, &below, &[Which::R], |e| {
            matches!(header(e), Some(HeaderError::HeaderTooLarge { .. }))
        });
        let before = snapshot(&path);
        for options in [
            OpenOptions::new().max_header_size(header_len),
            OpenOptions::new().max_header_size(usize::MAX),
        ] {
            // SAFETY: the file is private to this test.
            let a = unsafe { DynArray::<ReadOnly>::open_with(&path, &options) }.unwrap();
            assert_eq!(a.version(), Some(version));
            assert_eq!(a.view::<f64>().unwrap().to_vec(), [1.5, -2.0]);
            drop(a);
            // SAFETY: as above.
            let a = unsafe { DynArray::<ReadWrite>::open_with(&path, &options) }.unwrap();
            assert_eq!(a.shape(), [2]);
        }
        assert_eq!(snapshot(&path), before);
    }
    // The cap can also be lowered below numpy's.
    let path = write(
        d,
        "small_cap.npy",
        &npy((1, 0), f8_text("(2,)").as_bytes(), 16),
    );
    refused(
        &path,
        &OpenOptions::new().max_header_size(100),
        &ALL_MODES,
        |e| {
            matches!(
                header(e),
                Some(HeaderError::HeaderTooLarge { len: 118, max: 100 })
            )
        },
    );
}

#[test]
fn invalid_text_encodings_and_nul_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let encoding = |e: &Error| matches!(header(e), Some(HeaderError::Encoding { .. }));
    // Invalid UTF-8 in a 3.0 header: in a string, outside one, a cut sequence, an overlong one.
    let bad_utf8: [&[u8]; 5] = [
        b"{'descr': '<f8\xff', 'fortran_order': False, 'shape': (2,), }",
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\xfe",
        b"{'descr': '\xe6\x95', 'fortran_order': False, 'shape': (2,), }",
        b"{'descr': '\xc0\xbc', 'fortran_order': False, 'shape': (2,), }",
        b"{'descr': '\xed\xa0\x80', 'fortran_order': False, 'shape': (2,), }",
    ];
    for (i, text) in bad_utf8.iter().enumerate() {
        let path = write(d, &format!("utf8_{i}.npy"), &npy((3, 0), text, 16));
        refused(&path, &npy_opts(), &ALL_MODES, encoding);
    }
    // The same bytes in 1.0 / 2.0 are latin-1 text: valid text, but not a dtype.
    let path = write(d, "latin1.npy", &npy((1, 0), bad_utf8[0], 16));
    refused(&path, &npy_opts(), &ALL_MODES, |e| {
        matches!(
            header(e),
            Some(HeaderError::Descr {
                source: DTypeError::Unknown { .. },
                ..
            })
        )
    });
    let path = write(d, "latin1_v2.npy", &npy((2, 0), bad_utf8[1], 16));
    refused(&path, &npy_opts(), &ALL_MODES, is_syntax);
    // Valid non-ASCII UTF-8 in 3.0 is text, but not a dtype either.
    let text = "{'descr': '整形', 'fortran_order': False, 'shape': (2,), }";
    let path = write(d, "utf8_ok.npy", &npy((3, 0), text.as_bytes(), 16));
    refused(&path, &npy_opts(), &ALL_MODES, |e| {
        matches!(header(e), Some(HeaderError::Descr { .. }))
    });

    // NUL bytes anywhere in the header text, in every version.
    for version in [(1, 0), (2, 0), (3, 0)] {
        let texts: [&[u8]; 3] = [
            b"{'descr': '<f8\0', 'fortran_order': False, 'shape': (2,), }",
            b"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\0",
            b"\0{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
        ];
        for (i, text) in texts.iter().enumerate() {
            let path = write(
                d,
                &format!("nul{}_{i}.npy", version.0),
                &npy(version, text, 16),
            );
            refused(&path, &npy_opts(), &ALL_MODES, encoding);
        }
    }
}

#[test]
fn python_expressions_in_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let texts = [
        "{'descr': __import__('os').system('touch pwned'), 'fortran_order': False, 'shape': (2,), }",
        "__import__('os').system('touch pwned')",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1+1,), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2*1,), }",
        "{'descr': '<f' + '8', 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '<f8', 'fortran_order': not True, 'shape': (2,), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': tuple([2]), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), **{}}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (x for x in (2,)), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (lambda: (2,))(), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), } if True else {}",
        "{'descr': np.float64, 'fortran_order': False, 'shape': (2,), }",
        "{'descr': f'<f8', 'fortran_order': False, 'shape': (2,), }",
        "{'descr': b'<f8', 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '''<f8''', 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), } # comment",
        "{'descr': '<f8', 'fortran_order': False, 'shape': {2}, }",
        "{'descr': {'a': 1}, 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}; import os",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }{}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'shape'}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': ((((((((((((2,)",
        "{'descr': '\\d8', 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (0x2 if 1 else 3,), }",
    ];
    for (i, text) in texts.iter().enumerate() {
        let path = write(
            d,
            &format!("expr{i}.npy"),
            &npy((1, 0), text.as_bytes(), 16),
        );
        refused(&path, &npy_opts(), &ALL_MODES, is_syntax);
    }
    // Deep nesting: an error, not a stack overflow.
    let deep = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': {}2{}, }}",
        "(".repeat(4000),
        ")".repeat(4000)
    );
    let path = write(d, "deep.npy", &npy((1, 0), deep.as_bytes(), 16));
    refused(&path, &npy_opts(), &ALL_MODES, is_syntax);
    assert!(!d.join("pwned").exists() && !Path::new("pwned").exists());
}

// ---------------------------------------------------------------------------------------------
// Raw files

fn raw(descr: &str) -> Raw {
    Raw::new(descr.parse::<DType>().unwrap())
}

#[test]
fn raw_offset_past_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = write(d, "16.raw", &[7; 16]);
    for offset in [17, 100, 1 << 40, u64::MAX] {
        for shape in [None, Some(vec![1]), Some(vec![0])] {
            let mut r = raw("<f8").offset(offset);
            r.shape = shape;
            refused(
                &path,
                &OpenOptions::new().raw(r),
                &ALL_MODES,
                |e| matches!(e, Error::Layout { reason, .. } if reason.contains("past the end")),
            );
        }
    }
    // An offset at the very end is fine: no data.
    let options = OpenOptions::new().raw(raw("<f8").offset(16));
    for mode in ALL_MODES {
        open_in(mode, &path, &options).unwrap();
    }
}

#[test]
fn raw_shape_larger_than_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = write(d, "16.raw", &[7; 16]);
    let cases: [(u64, Vec<usize>, Order, u64, u64); 6] = [
        (0, vec![3], Order::C, 24, 16),
        (1, vec![2], Order::C, 16, 15),
        (8, vec![2, 1], Order::F, 16, 8),
        (0, vec![1, 2, 3], Order::C, 48, 16),
        (16, vec![1], Order::C, 8, 0),
        (0, vec![1 << 40], Order::C, 1 << 43, 16),
    ];
    for (offset, shape, order, expected, found) in cases {
        let options = OpenOptions::new().raw(raw("<f8").offset(offset).shape(shape).order(order));
        // Read-write mode must not grow the file, as numpy's r+ would.
        refused(&path, &options, &ALL_MODES, |e| {
            matches!(e, Error::Truncated { expected: x, found: f, offset: o, .. }
                if (*x, *f, *o) == (expected, found, offset))
        });
    }
    // Shapes whose byte size overflows.
    for shape in [
        vec![usize::MAX, 2],
        vec![1 << 32, 1 << 32],
        vec![(isize::MAX as usize) / 8 + 1],
    ] {
        let options = OpenOptions::new().raw(raw("<f8").shape(shape));
        refused(&path, &options, &ALL_MODES, |e| {
            matches!(e, Error::TooLarge { .. })
        });
    }
    // Overflow of offset + size.
    let options = OpenOptions::new().raw(raw("|u1").offset(16).shape(vec![isize::MAX as usize]));
    refused(&path, &options, &ALL_MODES, |e| {
        matches!(
            e,
            Error::Truncated { .. } | Error::Layout { .. } | Error::TooLarge { .. }
        )
    });
}

#[test]
fn raw_size_not_a_whole_number_of_items() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = write(d, "17.raw", &[1; 17]);
    for (descr, offset) in [
        ("<f8", 0),
        ("<f8", 2),
        ("<i4", 0),
        ("<c16", 0),
        ("<f2", 0),
        (">u2", 2),
    ] {
        let options = OpenOptions::new().raw(raw(descr).offset(offset));
        refused(
            &path,
            &options,
            &ALL_MODES,
            |e| matches!(e, Error::Layout { reason, .. } if reason.contains("whole number")),
        );
    }
    // ... while an explicit shape that fits is fine, as is an offset that leaves whole items.
    for options in [
        OpenOptions::new().raw(raw("<f8").shape(vec![2])),
        OpenOptions::new().raw(raw("<f8").offset(1)),
        OpenOptions::new().raw(raw("<i4").offset(1)),
        OpenOptions::new().raw(raw("|u1")),
    ] {
        for mode in ALL_MODES {
            open_in(mode, &path, &options).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Not a file

#[test]
fn a_directory_instead_of_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("folder.npy");
    fs::create_dir(&sub).unwrap();
    for options in [npy_opts(), OpenOptions::new().raw(raw("<f8"))] {
        refused(&sub, &options, &ALL_MODES, |e| {
            matches!(e, Error::Layout { .. } | Error::Io { .. })
        });
    }
}

#[test]
fn a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.npy");
    for options in [npy_opts(), OpenOptions::new().raw(raw("<f8").offset(3))] {
        for mode in ALL_MODES {
            let err = open_in(mode, &path, &options).unwrap_err();
            match &err {
                Error::Io {
                    path: p, source, ..
                } => {
                    assert_eq!(p, &path);
                    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
                }
                other => panic!("{mode:?}: expected Io, got {other:?}"),
            }
            let text = err.to_string();
            assert!(text.contains(&*path.to_string_lossy()), "{text}");
            // Opening, in any mode, never creates the file.
            assert!(!path.exists(), "{mode:?} created the file");
        }
    }
    // A missing folder too.
    let path = dir.path().join("no/such/folder/a.npy");
    let err = open_in(Which::RPlus, &path, &npy_opts()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }) && err.to_string().contains("no/such/folder/a.npy"));
}

#[test]
fn messages_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("m1.npy", b"\x93NUMPX\x01\x00".to_vec(), "magic"),
        ("m2.npy", npy((7, 0), b"{}", 0), "version 7.0"),
        ("m3.npy", dict("'|O'", "False", "(2,)", 16), "object"),
        ("m4.npy", dict("'<f8'", "False", "(True,)", 16), "bool"),
        (
            "m5.npy",
            npy((1, 0), f8_text("(3,)").as_bytes(), 16),
            "24 bytes",
        ),
    ];
    for (name, bytes, what) in cases {
        let path = write(d, name, &bytes);
        let errors = refused(&path, &npy_opts(), &ALL_MODES, |_| true);
        for e in errors {
            let text = e.to_string();
            assert!(
                text.contains(what),
                "{name}: {text:?} should mention {what:?}"
            );
        }
    }
}

#[test]
fn the_allocation_tracker_sees_large_allocations() {
    let (v, largest) = largest_allocation(|| vec![0u8; 2 * ALLOCATION_LIMIT]);
    assert!(largest >= 2 * ALLOCATION_LIMIT, "{largest}");
    drop(v);
    let ((), largest) = largest_allocation(|| ());
    assert_eq!(largest, 0);
}
