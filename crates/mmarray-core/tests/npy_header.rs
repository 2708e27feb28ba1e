//! Black-box tests of `mmarray_core::npy`: byte-exact headers as numpy writes them, every bad
//! input the reader must refuse (each with its error variant and offset), what it must accept,
//! `regrow_header`, and property tests (round trip, no panics on any input).
//!
//! The expected bytes here were taken from numpy (2.x, and unchanged since 1.24); the
//! `npy_numpy` interop test checks the same and many more cases against a live numpy.

use std::io::{self, Cursor, Read};

use mmarray_core::npy::{
    ARRAY_ALIGN, GROWTH_AXIS_MAX_DIGITS, HeaderError, MAGIC, MAX_HEADER_SIZE, NpyHeader,
    header_bytes, parse_header, read_header, regrow_header,
};
use mmarray_dtype::{ByteOrder, DType, DTypeError, Kind};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Helpers

fn dt(descr: &str) -> DType {
    descr.parse().unwrap()
}

/// `magic + version + length field + text`, without any padding.
fn with_prefix(version: (u8, u8), text: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[version.0, version.1]);
    if version == (1, 0) {
        out.extend_from_slice(&u16::try_from(text.len()).unwrap().to_le_bytes());
    } else {
        out.extend_from_slice(&u32::try_from(text.len()).unwrap().to_le_bytes());
    }
    out.extend_from_slice(text);
    out
}

fn v1(text: &str) -> Vec<u8> {
    with_prefix((1, 0), text.as_bytes())
}

/// The usual dict with the given value texts.
fn dict(descr: &str, fortran_order: &str, shape: &str) -> String {
    format!("{{'descr': {descr}, 'fortran_order': {fortran_order}, 'shape': {shape}, }}")
}

/// Parses with both entry points (slice and reader) and checks that they agree.
fn parse_with(bytes: &[u8], max: usize) -> Result<NpyHeader, HeaderError> {
    let from_slice = parse_header(bytes, max);
    let mut cursor = Cursor::new(bytes);
    let from_reader = read_header(&mut cursor, bytes.len() as u64, max);
    assert_eq!(
        format!("{from_slice:?}"),
        format!("{from_reader:?}"),
        "parse_header and read_header disagree on {:?}",
        String::from_utf8_lossy(bytes)
    );
    if let Ok(h) = &from_reader {
        assert_eq!(
            cursor.position(),
            h.data_offset as u64,
            "reader left after the header"
        );
    }
    from_slice
}

fn parse(bytes: &[u8]) -> Result<NpyHeader, HeaderError> {
    parse_with(bytes, MAX_HEADER_SIZE)
}

fn ok(bytes: &[u8]) -> NpyHeader {
    parse(bytes).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(bytes)))
}

fn err(bytes: &[u8]) -> HeaderError {
    match parse(bytes) {
        Ok(h) => panic!("{:?} parsed: {h:?}", String::from_utf8_lossy(bytes)),
        Err(e) => e,
    }
}

/// The offset of the first occurrence of `needle` in `bytes`.
fn offset_of(bytes: &[u8], needle: &str) -> u64 {
    bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap() as u64
}

/// What numpy writes: `prefix + text + spaces + '\n'`, 128 bytes for all these small headers.
fn numpy_v1_128(text: &str) -> Vec<u8> {
    let mut out = b"\x93NUMPY\x01\x00v\x00".to_vec();
    out.extend_from_slice(text.as_bytes());
    out.resize(127, b' ');
    out.push(b'\n');
    out
}

// ---------------------------------------------------------------------------------------------
// Writing: exact bytes

#[test]
fn np_save_zeros_3x4_is_reproduced_byte_for_byte() {
    let bytes = header_bytes(dt("<f8"), &[3, 4], false).unwrap();
    assert_eq!(bytes.len(), 128);
    assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00v\x00");
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 118);
    let text = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }";
    assert_eq!(text.len(), 59);
    assert_eq!(&bytes[10..69], text.as_bytes());
    assert!(bytes[69..127].iter().all(|&b| b == b' '), "58 spaces");
    assert_eq!(bytes[127], b'\n');
    assert_eq!(bytes, numpy_v1_128(text));
}

#[test]
fn headers_numpy_writes_for_small_arrays() {
    // (dtype, shape, fortran_order, numpy's text), from np.save of np.zeros(shape, dtype, order).
    let cases: &[(&str, &[usize], bool, &str)] = &[
        (
            ">i4",
            &[],
            false,
            "{'descr': '>i4', 'fortran_order': False, 'shape': (), }",
        ),
        (
            "<c8",
            &[2, 3],
            true,
            "{'descr': '<c8', 'fortran_order': True, 'shape': (2, 3), }",
        ),
        (
            "|b1",
            &[0],
            false,
            "{'descr': '|b1', 'fortran_order': False, 'shape': (0,), }",
        ),
        (
            ">f2",
            &[5],
            false,
            "{'descr': '>f2', 'fortran_order': False, 'shape': (5,), }",
        ),
    ];
    for &(descr, shape, fortran, text) in cases {
        assert_eq!(
            header_bytes(dt(descr), shape, fortran).unwrap(),
            numpy_v1_128(text),
            "{descr} {shape:?} {fortran}"
        );
    }
    // One-byte kinds are written with '|' whatever byte order the DType holds.
    let u1 = DType::new(Kind::U8, ByteOrder::Big);
    assert!(
        header_bytes(u1, &[2], false)
            .unwrap()
            .starts_with(b"\x93NUMPY\x01\x00v\x00{'descr': '|u1',")
    );
}

#[test]
fn zero_d_arrays_get_no_growth_padding() {
    // 10 + 55 + 1 = 66 bytes used: numpy pads to 128 without any growth-axis padding; with the
    // 20 spaces of a 1-d shape the dict would still fit in 128, so look at the spaces directly.
    let bytes = header_bytes(dt("<f8"), &[], false).unwrap();
    let text = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }";
    assert_eq!(bytes, numpy_v1_128(text));
    let bytes = header_bytes(dt("<f8"), &[], true).unwrap();
    let text = "{'descr': '<f8', 'fortran_order': True, 'shape': (), }";
    assert_eq!(bytes, numpy_v1_128(text));
}

#[test]
fn growth_axis_padding_keeps_the_length_for_every_size() {
    // numpy's test_header_growth_axis, with '<f8' in place of its structured dtype: the header
    // is 128 bytes for every growth-axis length 10**0 .. 10**19.
    for fortran in [false, true] {
        for exp in 0..GROWTH_AXIS_MAX_DIGITS as u32 - 1 {
            let size = 10usize.pow(exp);
            let shape = if fortran { [2, size] } else { [size, 2] };
            let bytes = header_bytes(dt("<f8"), &shape, fortran).unwrap();
            assert_eq!(bytes.len(), 128, "{shape:?} fortran={fortran}");
            assert_eq!(bytes.len() % ARRAY_ALIGN, 0);
        }
    }
}

/// numpy's `test_header_growth_axis` table, adapted: `(fortran, descr, extra axes, total)`.
/// The extra axes bring the text to one byte below (128) and one byte over (192) the point
/// where another 64 bytes are needed; '<c16' is one byte longer than '<f8', and `True` one byte
/// shorter than `False`. The `npy_numpy` test checks these totals against numpy.
const GROWTH_TABLE: [(bool, &str, &[usize], usize); 4] = [
    (false, "<f8", &[100, 100, 100, 100, 100, 100, 10000], 128),
    (false, "<c16", &[100, 100, 100, 100, 100, 100, 10000], 192),
    (true, "<c16", &[100, 100, 100, 100, 100, 100, 10000], 128),
    (true, "<c16", &[100, 100, 100, 100, 100, 100, 100_000], 192),
];

#[test]
fn growth_axis_table_like_numpy() {
    for (fortran, descr, extra, total) in GROWTH_TABLE {
        for exp in 0..GROWTH_AXIS_MAX_DIGITS as u32 - 1 {
            let size = 10usize.pow(exp);
            let shape: Vec<usize> = if fortran {
                extra.iter().copied().chain([2, size]).collect()
            } else {
                [size, 2].into_iter().chain(extra.iter().copied()).collect()
            };
            let bytes = header_bytes(dt(descr), &shape, fortran).unwrap();
            assert_eq!(bytes.len(), total, "{descr} {shape:?} fortran={fortran}");
        }
    }
}

#[test]
fn version_2_when_the_header_needs_it() {
    let shape = vec![1usize; 22_000];
    let bytes = header_bytes(dt("<f8"), &shape, false).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x02\x00");
    assert_eq!(bytes.len() % ARRAY_ALIGN, 0);
    let header_len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    assert_eq!(header_len + 12, bytes.len());
    assert!(header_len > usize::from(u16::MAX));
    assert_eq!(*bytes.last().unwrap(), b'\n');

    assert!(matches!(
        err(&bytes),
        HeaderError::HeaderTooLarge { len, max: MAX_HEADER_SIZE } if len == header_len
    ));
    let h = parse_with(&bytes, usize::MAX).unwrap();
    assert_eq!(h.version, (2, 0));
    assert_eq!(h.shape, shape);
    assert_eq!(h.data_offset, bytes.len());

    // Just below the limit of version 1.0.
    let v1_bytes = header_bytes(dt("<f8"), &vec![1usize; 21_000], false).unwrap();
    assert_eq!(&v1_bytes[6..8], b"\x01\x00");
}

#[test]
fn header_bytes_round_trip_simple_cases() {
    for (descr, shape, fortran) in [
        ("<f8", vec![3, 4], false),
        (">c16", vec![], true),
        ("|b1", vec![0, 7], true),
        ("<u2", vec![1, 2, 3, 4, 5, 6], false),
    ] {
        let bytes = header_bytes(dt(descr), &shape, fortran).unwrap();
        let h = ok(&bytes);
        assert_eq!(
            h,
            NpyHeader {
                version: (1, 0),
                dtype: dt(descr),
                fortran_order: fortran,
                shape,
                data_offset: bytes.len(),
            }
        );
    }
}

// ---------------------------------------------------------------------------------------------
// NpyHeader

#[test]
fn len_is_empty_and_data_len() {
    let mut h = ok(&header_bytes(dt("<c16"), &[3, 4], false).unwrap());
    assert_eq!(
        (h.len(), h.is_empty(), h.data_len()),
        (Some(12), false, Some(192))
    );
    h.shape = vec![];
    assert_eq!(
        (h.len(), h.is_empty(), h.data_len()),
        (Some(1), false, Some(16))
    );
    h.shape = vec![5, 0, 3];
    assert_eq!(
        (h.len(), h.is_empty(), h.data_len()),
        (Some(0), true, Some(0))
    );
    h.shape = vec![usize::MAX, 2];
    assert_eq!((h.len(), h.is_empty(), h.data_len()), (None, false, None));
    h.shape = vec![usize::MAX / 2];
    assert_eq!(h.data_len(), None);
}

// ---------------------------------------------------------------------------------------------
// Reading: what numpy's reader accepts

#[test]
fn accepts_what_numpy_accepts() {
    let f8 = dt("<f8");
    let cases: &[(&str, DType, bool, &[usize])] = &[
        // Double quotes, other key order, no trailing comma, no padding, no newline.
        (
            r#"{"shape": (3, 4), "fortran_order": False, "descr": "<f8"}"#,
            f8,
            false,
            &[3, 4],
        ),
        // Whitespace and newlines everywhere.
        (
            "\n {\n 'shape' :\t( 3 ,\r\n 4 , ) ,\n'descr':'<f8','fortran_order':True\x0c}\n\n  ",
            f8,
            true,
            &[3, 4],
        ),
        (&dict("'<f8'", "False", "()"), f8, false, &[]),
        (&dict("'<f8'", "False", "( )"), f8, false, &[]),
        (&dict("'<f8'", "False", "(3,)"), f8, false, &[3]),
        (&dict("'<f8'", "False", "((3, 4))"), f8, false, &[3, 4]),
        (&dict("'<f8'", "(False)", "(3,)"), f8, false, &[3]),
        // Integers in every form Python has.
        (
            &dict("'<f8'", "False", "(+3, 0x10, 0o7, 0b11, 1_000, -0, 00)"),
            f8,
            false,
            &[3, 16, 7, 3, 1000, 0, 0],
        ),
        // Python 2 long suffix (numpy strips it in 1.0 and 2.0 headers).
        (&dict("'<f8'", "False", "(3L, 4L)"), f8, false, &[3, 4]),
        // Any spelling np.dtype() accepts, any string form.
        (&dict("'float64'", "False", "()"), f8, false, &[]),
        (&dict("'d'", "False", "()"), f8, false, &[]),
        (&dict("u'<f8'", "False", "()"), f8, false, &[]),
        (&dict("'<' \"f\" '8'", "False", "()"), f8, false, &[]),
        (&dict(r"'\x3cf8'", "False", "()"), f8, false, &[]),
        (&dict("'>i2'", "True", "(2, 0)"), dt(">i2"), true, &[2, 0]),
        (&dict("'|b1'", "False", "(1,)"), dt("|b1"), false, &[1]),
        (&dict("'<u1'", "False", "(1,)"), dt("|u1"), false, &[1]),
        // A key given twice: the last value wins, as in a Python dict (and in numpy).
        (
            "{'descr': '|u1', 'shape': (9,), 'descr': '<f8', 'fortran_order': True, \
             'fortran_order': False, 'shape': (3, 4)}",
            f8,
            false,
            &[3, 4],
        ),
    ];
    for &(text, dtype, fortran_order, shape) in cases {
        let bytes = v1(text);
        let h = ok(&bytes);
        assert_eq!(
            (h.dtype, h.fortran_order, h.shape.as_slice(), h.version),
            (dtype, fortran_order, shape, (1, 0)),
            "{text}"
        );
        assert_eq!(h.data_offset, bytes.len());
        // The same text in version 2.0 and 3.0 headers (3.0 without the `L` suffix).
        for version in [(2, 0), (3, 0)] {
            if version == (3, 0) && text.contains('L') {
                continue;
            }
            let h = ok(&with_prefix(version, text.as_bytes()));
            assert_eq!((h.dtype, h.shape.as_slice()), (dtype, shape), "{text}");
            assert_eq!(h.version, version);
        }
    }
}

#[test]
fn data_after_the_header_is_not_part_of_it() {
    let mut bytes = header_bytes(dt("<i4"), &[2], false).unwrap();
    let offset = bytes.len();
    bytes.extend_from_slice(&[1, 0, 0, 0, 2, 0, 0, 0, 0xff]);
    let h = ok(&bytes);
    assert_eq!((h.data_offset, h.data_len()), (offset, Some(8)));
}

#[test]
fn unaligned_and_unpadded_headers_are_accepted() {
    for text in [
        "{'descr':'<f8','fortran_order':False,'shape':(1,)}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}\n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}   ",
    ] {
        let bytes = v1(text);
        assert_ne!(bytes.len() % ARRAY_ALIGN, 0);
        assert_eq!(ok(&bytes).data_offset, bytes.len());
    }
}

#[test]
fn version_3_headers_are_utf8() {
    let text = dict("'<f8'", "False", "(3,)");
    let h = ok(&with_prefix((3, 0), text.as_bytes()));
    assert_eq!(h.version, (3, 0));
    // Non-ASCII UTF-8 in a string is fine (and here not a dtype).
    let text = dict("'整形'", "False", "(3,)");
    let e = err(&with_prefix((3, 0), text.as_bytes()));
    assert!(
        matches!(&e, HeaderError::Descr { source: DTypeError::Unknown { text }, .. } if text == "整形"),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Reading: bad input

#[test]
fn empty_file() {
    assert!(matches!(
        err(b""),
        HeaderError::Truncated {
            offset: 0,
            what: "magic string",
            expected: 6,
            found: 0
        }
    ));
    // A partial magic string is a truncated file too.
    assert!(matches!(
        err(b"\x93NUM"),
        HeaderError::Truncated {
            offset: 0,
            found: 4,
            ..
        }
    ));
}

#[test]
fn magic_only() {
    assert!(matches!(
        err(b"\x93NUMPY"),
        HeaderError::Truncated {
            offset: 6,
            what: "format version",
            expected: 2,
            found: 0
        }
    ));
    assert!(matches!(
        err(b"\x93NUMPY\x01"),
        HeaderError::Truncated {
            offset: 6,
            found: 1,
            ..
        }
    ));
    assert!(matches!(
        err(b"\x93NUMPY\x01\x00"),
        HeaderError::Truncated {
            offset: 8,
            what: "header length",
            expected: 2,
            found: 0
        }
    ));
    assert!(matches!(
        err(b"\x93NUMPY\x03\x00\x10\x00"),
        HeaderError::Truncated {
            offset: 8,
            what: "header length",
            expected: 4,
            found: 2
        }
    ));
}

#[test]
fn bad_magic_numpys_malformed_magic_list() {
    let valid_rest = &header_bytes(dt("<f8"), &[1], false).unwrap()[8..];
    for magic in [
        &b"\x92NUMPY\x01\x00"[..],
        b"\x00NUMPY\x01\x00",
        b"\x93numpy\x01\x00",
        b"\x93MATLB\x01\x00",
    ] {
        let e = err(magic);
        assert!(
            matches!(&e, HeaderError::BadMagic { found } if found == magic),
            "{magic:?}: {e:?}"
        );
        let mut file = magic.to_vec();
        file.extend_from_slice(valid_rest);
        let e = err(&file);
        assert!(
            matches!(&e, HeaderError::BadMagic { found } if found == magic),
            "{magic:?}: {e:?}"
        );
    }
    // The rest of the list: b'\x93NUMPY\x01', b'\x93NUMPY' and b'' are truncated (above).
    for short in [&b"\x93NUMPY\x01"[..], b"\x93NUMPY", b""] {
        assert!(matches!(err(short), HeaderError::Truncated { .. }));
    }
    // numpy's test_bad_header: b'1' and b'\x01\x00' are not .npy files.
    assert!(matches!(err(b"1"), HeaderError::BadMagic { found } if found == b"1"));
    assert!(matches!(err(b"\x01\x00"), HeaderError::BadMagic { .. }));
    // A long file shows only its first 8 bytes, escaped like a Python bytes literal.
    let e = err(b"PK\x03\x04 a zip file, not an npy");
    assert!(matches!(&e, HeaderError::BadMagic { found } if found == b"PK\x03\x04 a z"));
    assert_eq!(
        e.to_string(),
        r"not a .npy file but a zip archive (a .npz file, as np.savez writes), found b'PK\x03\x04 a z'"
    );
    // Anything else gets the hint to read it as a raw file.
    let e = err(b"\xa8@\x00\x00\x00\x00\x00\x00\xf0?");
    assert_eq!(
        e.to_string(),
        r"not a .npy file: expected the magic string \x93NUMPY at byte 0, found b'\xa8@\x00\x00\x00\x00\x00\x00'; to read a headerless file, give its layout (use --raw --dtype DTYPE on the command line)"
    );
}

#[test]
fn unknown_versions_numpys_bad_version_magic_list() {
    let valid_rest = &header_bytes(dt("<f8"), &[1], false).unwrap()[8..];
    for (major, minor) in [(1, 1), (0, 0), (0, 1), (2, 2), (255, 255), (4, 0), (3, 1)] {
        let mut file = b"\x93NUMPY".to_vec();
        file.extend_from_slice(&[major, minor]);
        let e = err(&file);
        assert!(
            matches!(e, HeaderError::UnsupportedVersion { major: a, minor: b } if (a, b) == (major, minor)),
            "{e:?}"
        );
        file.extend_from_slice(valid_rest);
        assert!(matches!(err(&file), HeaderError::UnsupportedVersion { .. }));
    }
    // b'\x93NUMPY\x02\x00' is in numpy's list only because nothing follows it.
    assert!(matches!(
        err(b"\x93NUMPY\x02\x00"),
        HeaderError::Truncated { offset: 8, .. }
    ));
    assert_eq!(
        err(b"\x93NUMPY\x01\x01").to_string(),
        "unsupported .npy format version 1.1 at byte 6: expected 1.0, 2.0 or 3.0"
    );
}

#[test]
fn header_length_past_the_end_of_the_file() {
    let text = dict("'<f8'", "False", "(3,)");
    let mut bytes = v1(&text);
    bytes[8..10].copy_from_slice(&200u16.to_le_bytes());
    let e = err(&bytes);
    assert!(
        matches!(e, HeaderError::Truncated { offset: 10, what: "header", expected: 200, found } if found == text.len() as u64),
        "{e:?}"
    );
    // A 4 GiB header length in a version 2.0 file.
    let mut bytes = with_prefix((2, 0), text.as_bytes());
    bytes[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        err(&bytes),
        HeaderError::Truncated {
            offset: 12,
            expected: 4_294_967_295,
            ..
        }
    ));
    // A numpy-written file cut short inside its header.
    let full = header_bytes(dt("<f8"), &[3, 4], false).unwrap();
    for cut in [10, 11, 64, 127] {
        assert!(matches!(
            err(&full[..cut]),
            HeaderError::Truncated {
                offset: 10,
                expected: 118,
                ..
            }
        ));
    }
}

#[test]
fn header_not_a_dict() {
    for (text, found) in [
        ("[1, 2]", "[1, 2]"),
        ("'abc'", "'abc'"),
        ("  (1,)\n", "(1,)"),
        ("3", "3"),
        ("None", "None"),
        ("(\n{'descr': '<f8'})", "(\n{'descr': '<f8'})"),
    ] {
        // A dict inside parentheses is not at the top level: refused as a nested dict.
        if text.contains('{') {
            assert!(matches!(err(&v1(text)), HeaderError::Syntax { .. }));
            continue;
        }
        let e = err(&v1(text));
        assert!(
            matches!(&e, HeaderError::NotADict { offset, found: f } if f == found && *offset == 10 + text.find(found).unwrap() as u64),
            "{text}: {e:?}"
        );
    }
    // An empty or blank header is not a literal at all.
    for text in ["", "   \n"] {
        assert!(matches!(
            err(&v1(text)),
            HeaderError::Syntax {
                expected: "a dict '{'",
                ..
            }
        ));
    }
}

#[test]
fn missing_and_extra_keys() {
    // numpy's test_bad_header: no fortran_order.
    let text = format!("{{'descr': 'x', 'shape': (1, 2), }}{}\n", " ".repeat(20));
    assert!(matches!(
        err(&v1(&text)),
        HeaderError::MissingKey("fortran_order")
    ));
    assert!(matches!(err(&v1("{}")), HeaderError::MissingKey("descr")));
    assert!(matches!(
        err(&v1("{'descr': '<f8', 'fortran_order': False}")),
        HeaderError::MissingKey("shape")
    ));
    // numpy's test_bad_header: an extra key.
    let text = r#"{"shape": (1,2), "fortran_order": False, "descr": "x", "extrakey": -1}"#;
    let bytes = v1(text);
    let e = err(&bytes);
    assert!(
        matches!(&e, HeaderError::ExtraKey { offset, key } if key == "\"extrakey\"" && *offset == offset_of(&bytes, "\"extrakey\"")),
        "{e:?}"
    );
    // Keys that are not strings, or differ in case.
    for key in ["1", "(1, 2)", "None", "'Descr'", "'shape '"] {
        let text = format!("{{{key}: 1, 'descr': '<f8', 'fortran_order': False, 'shape': ()}}");
        let e = err(&v1(&text));
        assert!(
            matches!(&e, HeaderError::ExtraKey { key: k, offset: 11 } if k == key),
            "{key}: {e:?}"
        );
    }
}

fn descr_error(descr: &str) -> (u64, DTypeError) {
    let bytes = v1(&dict(descr, "False", "(3,)"));
    match err(&bytes) {
        HeaderError::Descr { offset, source } => {
            assert_eq!(offset, 20, "{descr}");
            (offset, source)
        }
        e => panic!("{descr}: {e:?}"),
    }
}

#[test]
fn unsupported_and_unknown_descr() {
    for (descr, what) in [
        ("'|O'", "object"),
        ("'<f16'", "longdouble"),
        ("'|S5'", "bytes string"),
        ("'<U3'", "unicode string"),
        ("'|V4'", "void"),
        ("'<M8[ns]'", "datetime64"),
        ("'<m8'", "timedelta64"),
        ("[('a', '<i4'), ('b', '>f8')]", "structured"),
        ("[('x', '<f8', (2,)), ('', '|V3')]", "structured"),
        ("[('a', [('b', '<i4')])]", "structured"),
        ("[]", "structured"),
        ("('<f8', (2, 3))", "subarray"),
    ] {
        let (_, source) = descr_error(descr);
        assert!(
            matches!(&source, DTypeError::Unsupported { what: w, .. } if *w == what),
            "{descr}: {source:?}"
        );
    }
    for descr in ["'x'", "''", "'<f8 '", "3", "None", "True", "1.5"] {
        let (_, source) = descr_error(descr);
        assert!(
            matches!(source, DTypeError::Unknown { .. }),
            "{descr}: {source:?}"
        );
    }
    let e = err(&v1(&dict("'|O'", "False", "(3,)")));
    let message = e.to_string();
    assert!(
        message.starts_with("unsupported dtype \"|O\" (object)")
            && message.ends_with("(the descr at byte 20 of the .npy header)"),
        "{message}"
    );
    // A descr that is no dtype at all is still an invalid header.
    let message = err(&v1(&dict("'x'", "False", "(3,)"))).to_string();
    assert!(
        message.starts_with("invalid descr at byte 20 of the .npy header: unknown dtype"),
        "{message}"
    );
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn fortran_order_not_a_bool() {
    for value in [
        "0", "1", "'False'", "None", "(False,)", "[True]", "1.0", "-1",
    ] {
        let bytes = v1(&dict("'<f8'", value, "(3,)"));
        let e = err(&bytes);
        assert!(
            matches!(&e, HeaderError::FortranOrder { offset: 44, found } if found == value),
            "{value}: {e:?}"
        );
    }
    // Python's names are case-sensitive: `false` is a name, not a literal.
    assert!(matches!(
        err(&v1(&dict("'<f8'", "false", "(3,)"))),
        HeaderError::Syntax { offset: 44, .. }
    ));
}

#[test]
fn shape_negative_non_integer_bool_or_huge() {
    let cases = [
        ("(-1,)", "-1", "negative dimension"),
        ("(3, -2)", "-2", "negative dimension"),
        ("(3, - 2)", "- 2", "negative dimension"),
        (
            "(-18446744073709551616,)",
            "-18446744073709551616",
            "negative dimension",
        ),
        ("(3.0,)", "3.0", "dimensions must be ints"),
        ("(3, 1e3)", "1e3", "dimensions must be ints"),
        ("(3j,)", "3j", "dimensions must be ints"),
        ("('3',)", "'3'", "dimensions must be ints"),
        ("(None,)", "None", "dimensions must be ints"),
        ("((3,),)", "(3,)", "dimensions must be ints"),
        ("([3],)", "[3]", "dimensions must be ints"),
        ("(True,)", "True", "a bool is not a dimension"),
        ("(2, False)", "False", "a bool is not a dimension"),
        (
            "(18446744073709551616,)",
            "18446744073709551616",
            "dimension too large for this platform",
        ),
        (
            "(3, 99999999999999999999999999999999999999999999)",
            "99999999999999999999999999999999999999999999",
            "dimension too large for this platform",
        ),
    ];
    for (shape, found, reason) in cases {
        let bytes = v1(&dict("'<f8'", "False", shape));
        let e = err(&bytes);
        let at = 60 + shape.rfind(found).unwrap() as u64;
        assert!(
            matches!(&e, HeaderError::Shape { offset, found: f, reason: r } if *offset == at && f == found && *r == reason),
            "{shape}: {e:?}"
        );
    }
    // Not a tuple at all.
    for shape in ["(3)", "3", "[3, 4]", "[]", "None", "'(3,)'", "True"] {
        let bytes = v1(&dict("'<f8'", "False", shape));
        let e = err(&bytes);
        assert!(
            matches!(&e, HeaderError::Shape { offset: 60, found, .. } if found == shape),
            "{shape}: {e:?}"
        );
    }
}

#[cfg(target_pointer_width = "64")]
#[test]
fn byte_size_overflowing_64_bits_and_the_largest_accepted() {
    for (descr, shape) in [
        ("'<f8'", "(4611686018427387904, 4)"),
        ("'|u1'", "(1099511627776, 1099511627776)"),
        ("'|u1'", "(9223372036854775808,)"),
        ("'|u1'", "(18446744073709551615,)"),
        ("'<c16'", "(1, 1152921504606846976)"),
        // numpy refuses these too ("array is too big"), although they hold no element.
        ("'|u1'", "(0, 4294967296, 4294967296)"),
        ("'<f8'", "(4294967296, 4294967296, 0)"),
    ] {
        let e = err(&v1(&dict(descr, "False", shape)));
        assert!(
            matches!(e, HeaderError::SizeOverflow { .. }),
            "{shape}: {e:?}"
        );
    }
    // The largest shapes whose data fits in isize are accepted.
    for (descr, shape, dims) in [
        (
            "'|u1'",
            "(9223372036854775807,)",
            &[9_223_372_036_854_775_807][..],
        ),
        (
            "'<f8'",
            "(0, 1152921504606846975)",
            &[0, 1_152_921_504_606_846_975],
        ),
        (
            "'<f8'",
            "(1152921504606846975, 0)",
            &[1_152_921_504_606_846_975, 0],
        ),
    ] {
        assert_eq!(ok(&v1(&dict(descr, "False", shape))).shape, dims);
    }
    let e = err(&v1(&dict("'<f8'", "False", "(4611686018427387904, 4)")));
    assert!(
        matches!(&e, HeaderError::SizeOverflow { shape, itemsize: 8 } if shape == &[1 << 62, 4])
    );
}

#[test]
fn header_over_the_cap_and_the_opt_in() {
    let base = dict("'<f8'", "False", "(3,)");
    let padded = |len: usize| {
        let mut text = base.clone();
        text.extend(std::iter::repeat_n(' ', len - 1 - base.len()));
        text.push('\n');
        text
    };
    let at_cap = v1(&padded(MAX_HEADER_SIZE));
    assert_eq!(ok(&at_cap).shape, [3]);
    let over = v1(&padded(MAX_HEADER_SIZE + 1));
    let e = err(&over);
    assert!(matches!(
        e,
        HeaderError::HeaderTooLarge {
            len: 10_001,
            max: MAX_HEADER_SIZE
        }
    ));
    let message = e.to_string();
    assert!(
        message.contains("--max-header-size") && message.contains("max_header_size"),
        "{message}"
    );
    assert_eq!(parse_with(&over, 10_001).unwrap().shape, [3]);
    assert_eq!(parse_with(&over, usize::MAX).unwrap().shape, [3]);
    // A smaller cap than numpy's is honoured too.
    let small = header_bytes(dt("<f8"), &[3], false).unwrap();
    assert!(matches!(
        parse_with(&small, 100),
        Err(HeaderError::HeaderTooLarge { len: 118, max: 100 })
    ));
}

#[test]
fn invalid_utf8_in_version_3() {
    // 0xff inside the descr string; 0xc3 starting a character that never ends, in the padding.
    let mut text = dict("'<f8\u{ff}'", "False", "(3,)").into_bytes();
    let pos = text.iter().position(|&b| b == 0xc3).unwrap();
    text[pos] = 0xff;
    text.remove(pos + 1);
    let e = err(&with_prefix((3, 0), &text));
    assert!(
        matches!(e, HeaderError::Encoding { offset, .. } if offset == 12 + pos as u64),
        "{e:?}"
    );
    let mut text = dict("'<f8'", "False", "(3,)").into_bytes();
    text.extend_from_slice(b"  \xc3\n");
    assert!(matches!(
        err(&with_prefix((3, 0), &text)),
        HeaderError::Encoding { .. }
    ));
    // Every byte is latin-1: in version 1.0 the same byte is the character 'ÿ'.
    let mut text = dict("'<f8\u{ff}'", "False", "(3,)").into_bytes();
    text[pos] = 0xff;
    text.remove(pos + 1);
    let e = err(&with_prefix((1, 0), &text));
    assert!(
        matches!(&e, HeaderError::Descr { source: DTypeError::Unknown { text }, .. } if text == "<f8\u{ff}"),
        "{e:?}"
    );
}

#[test]
fn nul_bytes() {
    for text in [
        "{'descr': '<f8\0', 'fortran_order': False, 'shape': (3,)}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}\0",
        "\0{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}",
    ] {
        let bytes = v1(text);
        for version in [(1, 0), (3, 0)] {
            let e = err(&with_prefix(version, text.as_bytes()));
            let prefix = if version == (1, 0) { 10 } else { 12 };
            assert!(
                matches!(e, HeaderError::Encoding { offset, reason: "NUL byte in the header text" } if offset == prefix + text.find('\0').unwrap() as u64),
                "{text:?}: {e:?}"
            );
        }
        assert!(matches!(err(&bytes), HeaderError::Encoding { .. }));
    }
}

#[test]
fn python_expressions_are_syntax_errors_at_their_offset() {
    // (header text, the text at the offset the error must point to)
    let cases = [
        (dict("'<f8'", "False", "(1+1,)"), "+1,)"),
        (dict("'<f8'", "False", "(2**64,)"), "**64"),
        (dict("'<f8'", "False", "(3,)[0]"), "[0]"),
        (dict("'<f8'", "False", "tuple([3])"), "tuple"),
        (dict("'<f8'", "False", "(len('abc'),)"), "len"),
        (dict("'<f8'", "False", "[x for x in (3,)]"), "x for"),
        (dict("'<f8'", "False", "(1 if True else 2,)"), "if"),
        (dict("'<f8'", "not True", "(3,)"), "not"),
        (dict("'<f8'", "False", "(...,)"), "...,"),
        (dict("'<f8'", "False", "(3,) # comment"), "# comment"),
        (dict("'<' + 'f8'", "False", "(3,)"), "+ 'f8'"),
        (dict("b'<f8'", "False", "(3,)"), "b'<f8'"),
        (dict("f'<f8'", "False", "(3,)"), "f'<f8'"),
        (dict("r'<f8'", "False", "(3,)"), "r'<f8'"),
        (dict("'''<f8'''", "False", "(3,)"), "'''<f8'''"),
        (dict(r"'\d'", "False", "(3,)"), r"\d"),
        // The string runs to the next quote; what follows it is not a ',' or '}'.
        (dict("'<f8", "False", "(3,)"), "fortran_order': False"),
        (dict("{'a': 1}", "False", "(3,)"), "{'a'"),
        (dict("'<f8'", "{1, 2}", "(3,)"), "{1, 2}"),
        (dict("'<f8'", "False", "(lambda: 3)()"), "lambda"),
        (
            dict("'<f8'", "__import__('os').system('true')", "(3,)"),
            "__import__",
        ),
        (
            dict("'<f8'", "False", "(3,)").replace(", }", ", **{}}"),
            "**{}",
        ),
        (dict("'<f8'", "False", "(3,)") + "{}", "{}"),
        (dict("'<f8'", "False", "(3,)") + ";", ";"),
        ("{'descr', 'shape'}".to_owned(), ", 'shape'"),
        (
            "{'descr': '<f8' 'fortran_order': False}".to_owned(),
            ": False",
        ),
        (
            "__import__('os').system('rm -rf /')".to_owned(),
            "__import__",
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,),,}".to_owned(),
            ",}",
        ),
        (dict("'<f8'", "False", "(3, 4").replace(", }", "}"), "}"),
        (dict("'<f8'", "False", "(3 4)"), "4)"),
        (dict("'<f8'", "False", "(07,)"), "07"),
        (dict("'<f8'", "False", "(3l,)"), "3l"),
    ];
    for (text, at) in &cases {
        let bytes = v1(text);
        let e = err(&bytes);
        let expected = offset_of(&bytes, at);
        assert!(
            matches!(e, HeaderError::Syntax { offset, .. } if offset == expected),
            "{text}: expected a syntax error at {expected} ({at:?}), got {e:?}"
        );
    }
    // `3L` is a syntax error in version 3.0, as in numpy (which strips it only for 1.0/2.0).
    let text = dict("'<f8'", "False", "(3L,)");
    assert!(matches!(
        err(&with_prefix((3, 0), text.as_bytes())),
        HeaderError::Syntax { offset: 63, .. }
    ));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let descr = format!("{}'<f8'{}", "[".repeat(50_000), "]".repeat(50_000));
    let bytes = with_prefix((2, 0), dict(&descr, "False", "()").as_bytes());
    assert!(matches!(
        parse_with(&bytes, usize::MAX),
        Err(HeaderError::Syntax {
            expected: "at most 100 nested brackets",
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// read_header specifics

/// A reader that returns one byte per call, and fails at `fail_at` if set.
struct Trickle<'a> {
    bytes: &'a [u8],
    pos: usize,
    fail_at: Option<usize>,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if Some(self.pos) == self.fail_at {
            return Err(io::Error::other("disk on fire"));
        }
        if self.pos == self.bytes.len() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.bytes[self.pos];
        self.pos += 1;
        Ok(1)
    }
}

#[test]
fn read_header_handles_short_reads_and_stops_at_the_data() {
    let mut bytes = header_bytes(dt(">i2"), &[4, 2], true).unwrap();
    let offset = bytes.len();
    bytes.extend_from_slice(&[0; 16]);
    let mut r = Trickle {
        bytes: &bytes,
        pos: 0,
        fail_at: None,
    };
    let h = read_header(&mut r, bytes.len() as u64, MAX_HEADER_SIZE).unwrap();
    assert_eq!((h.data_offset, r.pos), (offset, offset));
    assert_eq!(
        (h.dtype, h.fortran_order, h.shape),
        (dt(">i2"), true, vec![4, 2])
    );
}

#[test]
fn read_header_takes_a_dyn_reader() {
    let bytes = header_bytes(dt("<f8"), &[3], false).unwrap();
    let mut cursor = Cursor::new(&bytes);
    let reader: &mut dyn Read = &mut cursor;
    let h = read_header(reader, bytes.len() as u64, MAX_HEADER_SIZE).unwrap();
    assert_eq!((h.shape, cursor.position()), (vec![3], 128));
}

#[test]
fn read_header_reports_io_errors_with_their_offset() {
    let bytes = header_bytes(dt("<f8"), &[3], false).unwrap();
    for fail_at in [0, 7, 9, 50] {
        let mut r = Trickle {
            bytes: &bytes,
            pos: 0,
            fail_at: Some(fail_at),
        };
        let e = read_header(&mut r, bytes.len() as u64, MAX_HEADER_SIZE).unwrap_err();
        assert!(
            matches!(&e, HeaderError::Io { offset, .. } if *offset <= fail_at as u64),
            "{fail_at}: {e:?}"
        );
        assert!(e.to_string().contains("disk on fire"));
    }
}

#[test]
fn read_header_trusts_neither_the_file_nor_the_length_it_is_given() {
    let bytes = header_bytes(dt("<f8"), &[3], false).unwrap();
    // The file is shorter than the header says.
    let e = read_header(&mut Cursor::new(&bytes), 100, MAX_HEADER_SIZE).unwrap_err();
    assert!(matches!(
        e,
        HeaderError::Truncated {
            offset: 10,
            expected: 118,
            found: 90,
            ..
        }
    ));
    // The caller claims a longer file than the reader delivers.
    let e = read_header(&mut Cursor::new(&bytes[..100]), 1 << 40, MAX_HEADER_SIZE).unwrap_err();
    assert!(matches!(
        e,
        HeaderError::Truncated {
            offset: 10,
            expected: 118,
            found: 90,
            ..
        }
    ));
    // A 4 GiB header length is refused before anything of that size is read or allocated,
    // whether the cap is in force or lifted.
    let mut huge = b"\x93NUMPY\x02\x00".to_vec();
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    huge.extend_from_slice(b"{'descr'");
    let e = read_header(&mut Cursor::new(&huge), u64::MAX, MAX_HEADER_SIZE).unwrap_err();
    assert!(matches!(
        e,
        HeaderError::HeaderTooLarge {
            len: 4_294_967_295,
            ..
        }
    ));
    let e = read_header(&mut Cursor::new(&huge), u64::MAX, usize::MAX).unwrap_err();
    assert!(matches!(
        e,
        HeaderError::Truncated {
            offset: 12,
            found: 8,
            ..
        }
    ));
}

// ---------------------------------------------------------------------------------------------
// regrow_header

fn regrow(old_bytes: &[u8], new_shape: &[usize]) -> Result<Vec<u8>, HeaderError> {
    let old = parse_with(old_bytes, usize::MAX).unwrap();
    regrow_header(&old, old_bytes, new_shape)
}

#[test]
fn regrow_gives_numpys_header_for_the_new_shape() {
    for (descr, old, new, fortran) in [
        ("<f8", vec![3, 4], vec![1_000_000_000_000_000, 4], false),
        ("<f8", vec![0, 4], vec![7, 4], false),
        (">c16", vec![4, 3], vec![4, 12_345_678_901], true),
        ("|b1", vec![10], vec![usize::MAX / 2], false),
        ("<i4", vec![9, 9, 9], vec![8, 9, 9], false),
    ] {
        let old_bytes = header_bytes(dt(descr), &old, fortran).unwrap();
        let new_bytes = regrow(&old_bytes, &new).unwrap();
        assert_eq!(
            new_bytes,
            header_bytes(dt(descr), &new, fortran).unwrap(),
            "{descr} {old:?} -> {new:?}"
        );
        let h = ok(&new_bytes);
        assert_eq!(
            (h.shape, h.fortran_order, h.dtype),
            (new, fortran, dt(descr))
        );
    }
}

#[test]
fn regrow_keeps_version_and_length() {
    let text = dict("'<u2'", "False", "(3,)");
    for version in [(1, 0), (2, 0), (3, 0)] {
        // Aligned and padded like numpy, in each version.
        let prefix = if version == (1, 0) { 10 } else { 12 };
        let mut padded = text.clone().into_bytes();
        padded.resize(128 - prefix - 1, b' ');
        padded.push(b'\n');
        let old_bytes = with_prefix(version, &padded);
        assert_eq!(old_bytes.len(), 128);
        let new_bytes = regrow(&old_bytes, &[123_456_789_012]).unwrap();
        assert_eq!(new_bytes.len(), 128);
        assert_eq!(new_bytes[..prefix], old_bytes[..prefix]);
        assert_eq!(*new_bytes.last().unwrap(), b'\n');
        let h = ok(&new_bytes);
        assert_eq!(
            (h.version, h.shape.as_slice()),
            (version, &[123_456_789_012][..])
        );
    }
}

#[test]
fn regrow_without_room() {
    let old_bytes = header_bytes(dt("<f8"), &[3, 4], false).unwrap();
    let e = regrow(&old_bytes, &[1; 30]).unwrap_err();
    assert!(
        matches!(e, HeaderError::NoRoomToGrow { needed, available: 128 } if needed > 128),
        "{e:?}"
    );
    // A compact header written by another tool has no spare room at all.
    let compact = v1("{'descr':'<f8','fortran_order':False,'shape':(3,4)}");
    assert!(matches!(
        regrow(&compact, &[30, 4]),
        Err(HeaderError::NoRoomToGrow { .. })
    ));
    // Size checks apply to the new shape.
    assert!(matches!(
        regrow(&old_bytes, &[usize::MAX, 4]),
        Err(HeaderError::SizeOverflow { .. })
    ));
}

#[test]
fn regrow_refuses_bytes_of_another_header() {
    let a = header_bytes(dt("<f8"), &[3, 4], false).unwrap();
    let b = header_bytes(dt("<f4"), &[3, 4], false).unwrap();
    let old = ok(&a);
    assert!(matches!(
        regrow_header(&old, &b, &[5, 4]),
        Err(HeaderError::Mismatch { .. })
    ));
    assert!(matches!(
        regrow_header(&old, &a[..20], &[5, 4]),
        Err(HeaderError::Truncated { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Properties

fn any_dtype() -> impl Strategy<Value = DType> {
    (0..Kind::ALL.len(), any::<bool>()).prop_map(|(k, big)| {
        let order = if big {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        };
        DType::new(Kind::ALL[k], order)
    })
}

fn any_dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0..5usize,
        3 => 0..100_000usize,
        1 => any::<u32>().prop_map(|n| n as usize),
        1 => any::<usize>(),
    ]
}

fn any_shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(any_dim(), 0..=6)
}

/// Whether the data of `shape` fits in `isize` (the zero-length axes left out).
fn fits(shape: &[usize], itemsize: usize) -> bool {
    shape
        .iter()
        .filter(|&&n| n != 0)
        .try_fold(itemsize as u128, |acc, &n| acc.checked_mul(n as u128))
        .is_some_and(|bytes| bytes <= isize::MAX as u128)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn header_bytes_round_trips(dtype in any_dtype(), shape in any_shape(), fortran in any::<bool>(), tail in prop::collection::vec(any::<u8>(), 0..40)) {
        let mut bytes = header_bytes(dtype, &shape, fortran).unwrap();
        let data_offset = bytes.len();
        prop_assert_eq!(data_offset % ARRAY_ALIGN, 0);
        prop_assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        prop_assert_eq!(bytes[data_offset - 1], b'\n');
        bytes.extend_from_slice(&tail);
        match parse_with(&bytes, MAX_HEADER_SIZE) {
            Ok(h) => {
                prop_assert!(fits(&shape, dtype.itemsize()));
                let len: usize = shape.iter().product();
                prop_assert_eq!(h.len(), Some(len));
                prop_assert_eq!(h.data_len(), Some((len * dtype.itemsize()) as u64));
                prop_assert_eq!(h, NpyHeader { version: (1, 0), dtype, fortran_order: fortran, shape, data_offset });
            }
            Err(HeaderError::SizeOverflow { shape: s, itemsize }) => {
                prop_assert!(!fits(&shape, dtype.itemsize()));
                prop_assert_eq!((s, itemsize), (shape, dtype.itemsize()));
            }
            Err(e) => prop_assert!(false, "{e:?}"),
        }
    }

    #[test]
    fn regrow_round_trips_along_the_growth_axis(dtype in any_dtype(), shape in prop::collection::vec(0..1000usize, 1..=4), fortran in any::<bool>(), new_len in 0..(1usize << 40)) {
        let old_bytes = header_bytes(dtype, &shape, fortran).unwrap();
        let mut new_shape = shape.clone();
        let axis = if fortran { shape.len() - 1 } else { 0 };
        new_shape[axis] = new_len;
        prop_assume!(fits(&new_shape, dtype.itemsize()));
        let new_bytes = regrow(&old_bytes, &new_shape).unwrap();
        prop_assert_eq!(&new_bytes, &header_bytes(dtype, &new_shape, fortran).unwrap());
        prop_assert_eq!(ok(&new_bytes).shape, new_shape);
    }

    #[test]
    fn formatting_variants_parse_alike(
        dtype in any_dtype(),
        shape in prop::collection::vec(0..10_000usize, 0..=4),
        fortran in any::<bool>(),
        order in Just([0usize, 1, 2]).prop_shuffle(),
        double_quotes in prop::collection::vec(any::<bool>(), 8),
        spaces in prop::collection::vec(prop::sample::select(vec!["", " ", "\n", "\t", " \r\n  "]), 24),
        trailing_comma in any::<bool>(),
        long_suffix in any::<bool>(),
        version in prop::sample::select(vec![(1u8, 0u8), (2, 0), (3, 0)]),
    ) {
        let mut ws = spaces.iter().cycle();
        let mut quotes = double_quotes.iter().cycle();
        let mut q = |s: &str| if *quotes.next().unwrap() { format!("\"{s}\"") } else { format!("'{s}'") };
        let suffix = if long_suffix && version != (3, 0) { "L" } else { "" };
        let dims: Vec<String> = shape.iter().map(|n| format!("{n}{suffix}")).collect();
        let shape_text = match dims.len() {
            1 => format!("({},{})", dims[0], ws.next().unwrap()),
            _ => format!("({})", dims.join(&format!(",{}", ws.next().unwrap()))),
        };
        let values = [
            (q("descr"), q(&dtype.descr())),
            (q("fortran_order"), if fortran { "True".to_owned() } else { "False".to_owned() }),
            (q("shape"), shape_text),
        ];
        let mut text = format!("{}{{", ws.next().unwrap());
        for (i, &k) in order.iter().enumerate() {
            let (key, value) = &values[k];
            text.push_str(&format!("{}{key}{}:{}{value}{}", ws.next().unwrap(), ws.next().unwrap(), ws.next().unwrap(), ws.next().unwrap()));
            if i < 2 || trailing_comma {
                text.push(',');
            }
        }
        text.push_str(&format!("{}}}{}", ws.next().unwrap(), ws.next().unwrap()));
        let bytes = with_prefix(version, text.as_bytes());
        let h = parse_with(&bytes, usize::MAX).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        prop_assert_eq!(h, NpyHeader { version, dtype, fortran_order: fortran, shape, data_offset: bytes.len() });
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_with(&bytes, MAX_HEADER_SIZE);
    }

    #[test]
    fn arbitrary_text_after_a_valid_prefix_never_panics(
        version in prop::sample::select(vec![(1u8, 0u8), (2, 0), (3, 0)]),
        text in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let _ = parse_with(&with_prefix(version, &text), MAX_HEADER_SIZE);
    }

    #[test]
    fn token_soup_never_panics(
        version in prop::sample::select(vec![(1u8, 0u8), (2, 0), (3, 0)]),
        tokens in prop::collection::vec(prop::sample::select(vec![
            "{", "}", "(", ")", "[", "]", ",", ":", "'descr'", "'shape'", "'fortran_order'",
            "'<f8'", "\"|b1\"", "'|O'", "True", "False", "None", "3", "-1", "+", "0x", "0x1f", "1e",
            "1e-3", "3j", ".", "L", "'", "\"", "\\", "\\x4", " ", "\n", "u", "b", "_", "é",
            "\u{6574}", "18446744073709551616", "#", "\0", "\u{ff}",
        ]), 0..80),
    ) {
        let text: String = tokens.concat();
        let _ = parse_with(&with_prefix(version, text.as_bytes()), MAX_HEADER_SIZE);
    }

    #[test]
    fn mutated_valid_headers_never_panic(
        dtype in any_dtype(),
        shape in any_shape(),
        fortran in any::<bool>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..4u8), 1..6),
    ) {
        let mut bytes = header_bytes(dtype, &shape, fortran).unwrap();
        for (index, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = index.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                2 => { bytes.remove(i); }
                _ => bytes.truncate(i),
            }
        }
        let _ = parse_with(&bytes, MAX_HEADER_SIZE);
        let _ = parse_with(&bytes, usize::MAX);
    }
}
