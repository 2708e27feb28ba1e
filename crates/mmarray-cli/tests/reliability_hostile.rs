//! Hostile input: a corpus of bad files (`tests/hostile/`) that every subcommand that
//! reads a file must refuse cleanly: exit 1, a first line `error: <path>: ...`, no
//! panic, no signal, the file unchanged (bytes and mtime), nothing left behind, in
//! bounded time, and under an address-space limit (`RLIMIT_AS`, 1 GiB) so that an
//! allocation in proportion to a number read from the file fails the test instead of
//! the machine. Good files still work under the same limits.
//!
//! The corpus is data: `tests/hostile/*.npy` are `.npy` candidates, refused whatever
//! their name (those named `cap-*` are refused only under the default header-size cap,
//! the others also with the cap lifted); `tests/hostile/raw.txt` lists raw files with
//! the layout options to read them with. Most files are made by [`small_cases`] below
//! (`MMARRAY_REGENERATE_HOSTILE=1 cargo test -p mmarray-cli --test reliability_hostile`
//! rewrites them); files found by fuzzing can be dropped in as they are (and raw ones
//! listed in `raw.txt` by hand). The largest cases (100 000 nested brackets and the
//! like) are made at test time by [`large_cases`] instead of being committed.

mod reliability_util;
#[path = "../../mmarray-core/tests/support/zip.rs"]
mod zip;

use std::path::{Path, PathBuf};
use std::time::Duration;

use reliability_util::{names, run_limited, snapshot};

// ---------------------------------------------------------------- the corpus

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

/// A `.npy` file: magic, `version`, a length field of the version's width holding
/// `len`, then `text` and `data`.
fn npy_len(version: (u8, u8), len: u32, text: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version.0, version.1]);
    if version.0 == 1 {
        out.extend((len as u16).to_le_bytes());
    } else {
        out.extend(len.to_le_bytes());
    }
    out.extend_from_slice(text);
    out.extend_from_slice(data);
    out
}

/// A `.npy` file whose length field is the true length of `text`.
fn npy(version: (u8, u8), text: &[u8], data: &[u8]) -> Vec<u8> {
    npy_len(version, text.len() as u32, text, data)
}

/// The header dict numpy writes, with `descr`, `fortran_order` and `shape` as given
/// (literal Python text, so `descr` includes its quotes).
fn dict(descr: &str, fortran: &str, shape: &str) -> String {
    format!("{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}")
}

/// Version 1.0 with the given dict text, padded as numpy pads, and `data`.
fn v1(text: &str, data: &[u8]) -> Vec<u8> {
    let mut text = text.to_owned();
    let total = 10 + text.len() + 1;
    text.push_str(&" ".repeat((64 - total % 64) % 64));
    text.push('\n');
    npy((1, 0), text.as_bytes(), data)
}

/// A header of 3 little-endian float64 values whose `descr`/`fortran_order`/`shape`
/// are replaced as given.
fn f8x3(descr: &str, fortran: &str, shape: &str) -> Vec<u8> {
    v1(&dict(descr, fortran, shape), &[0; 24])
}

const D: &str = "'<f8'";
const F: &str = "False";
const S3: &str = "(3,)";

/// The hostile `.npy` and raw files that are small enough to commit (name, bytes).
#[allow(clippy::too_many_lines)] // a table of cases
fn small_cases() -> Vec<(String, Vec<u8>)> {
    let good = f8x3(D, F, S3);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        // ---- the prefix: magic, version, length field
        ("empty.npy", vec![]),
        ("magic-partial.npy", b"\x93NUM".to_vec()),
        ("magic-only.npy", b"\x93NUMPY".to_vec()),
        ("magic-version-only.npy", b"\x93NUMPY\x01\x00".to_vec()),
        (
            "magic-half-length-v1.npy",
            b"\x93NUMPY\x01\x00\x40".to_vec(),
        ),
        (
            "magic-half-length-v2.npy",
            b"\x93NUMPY\x02\x00\x40\x00".to_vec(),
        ),
        (
            "magic-wrong-byte.npy",
            [b"\x94".as_slice(), &good[1..]].concat(),
        ),
        (
            "magic-lowercase.npy",
            [b"\x93numpy".as_slice(), &good[6..]].concat(),
        ),
        (
            "magic-npz-zip.npy",
            [b"PK\x03\x04".as_slice(), &[0; 60]].concat(),
        ),
        (
            "magic-pickle.npy",
            [b"\x80\x04\x95\x10".as_slice(), &[0; 60]].concat(),
        ),
        ("magic-missing.npy", good[10..].to_vec()),
        (
            "version-0-0.npy",
            [b"\x93NUMPY\x00\x00".as_slice(), &good[8..]].concat(),
        ),
        (
            "version-1-1.npy",
            [b"\x93NUMPY\x01\x01".as_slice(), &good[8..]].concat(),
        ),
        (
            "version-2-1.npy",
            [b"\x93NUMPY\x02\x01".as_slice(), &good[8..]].concat(),
        ),
        (
            "version-4-0.npy",
            [b"\x93NUMPY\x04\x00".as_slice(), &good[8..]].concat(),
        ),
        (
            "version-255-255.npy",
            [b"\x93NUMPY\xff\xff".as_slice(), &good[8..]].concat(),
        ),
        ("length-zero.npy", npy_len((1, 0), 0, &good[10..], &[])),
        ("length-one.npy", npy_len((1, 0), 1, &good[10..], &[])),
        (
            "length-ffff-v1.npy",
            npy_len((1, 0), 0xffff, &good[10..], &[]),
        ),
        (
            "length-ffffffff-v2.npy",
            npy_len((2, 0), u32::MAX, &good[10..], &[]),
        ),
        (
            "length-ffffffff-v3.npy",
            npy_len((3, 0), u32::MAX, &good[10..], &[]),
        ),
        (
            "length-80000000-v2.npy",
            npy_len((2, 0), 1 << 31, &good[10..], &[]),
        ),
        (
            "length-past-end-by-one.npy",
            npy_len((1, 0), (good.len() - 10 + 1) as u32, &good[10..], &[]),
        ),
        (
            "length-cuts-the-dict.npy",
            npy_len((1, 0), 20, &good[10..], &[]),
        ),
        (
            "length-swallows-data.npy",
            npy_len((1, 0), (good.len() - 10) as u32, &good[10..], &[]),
        ),
        ("header-cut.npy", good[..40].to_vec()),
        // ---- headers that are fine, data that is not there
        ("data-one-byte-short.npy", good[..good.len() - 1].to_vec()),
        ("data-missing.npy", good[..good.len() - 24].to_vec()),
        (
            "data-half-2d.npy",
            v1(&dict("'<i4'", F, "(4, 4)"), &[0; 32]),
        ),
        (
            "data-short-fortran.npy",
            v1(&dict("'>i2'", "True", "(3, 5)"), &[0; 29]),
        ),
        ("data-short-0d.npy", v1(&dict("'<c16'", F, "()"), &[0; 15])),
        (
            "data-terabyte.npy",
            v1(&dict(D, F, "(1099511627776,)"), &[0; 8]),
        ),
        (
            "data-exabyte-2d.npy",
            v1(&dict("'|u1'", F, "(1073741824, 1073741824)"), &[0; 8]),
        ),
        ("data-short-v2.npy", {
            let text = dict(D, F, "(3,)") + &" ".repeat(52) + "\n";
            npy((2, 0), text.as_bytes(), &[0; 16])
        }),
        ("data-short-v3.npy", {
            let text = dict(D, F, "(3,)") + &" ".repeat(52) + "\n";
            npy((3, 0), text.as_bytes(), &[0; 16])
        }),
        // ---- not a dict, or not the right dict
        ("not-dict-list.npy", v1("['<f8', False, (3,)]", &[0; 24])),
        ("not-dict-tuple.npy", v1("('<f8', False, (3,))", &[0; 24])),
        ("not-dict-string.npy", v1("'descr'", &[0; 24])),
        ("not-dict-int.npy", v1("3", &[0; 24])),
        ("not-dict-none.npy", v1("None", &[0; 24])),
        ("not-dict-set.npy", v1("{'descr', 'shape'}", &[0; 24])),
        ("not-dict-empty-dict.npy", v1("{}", &[0; 24])),
        ("not-dict-whitespace.npy", v1("   ", &[0; 24])),
        (
            "dict-unclosed.npy",
            v1(&dict(D, F, S3).replace('}', ""), &[0; 24]),
        ),
        (
            "dict-trailing-garbage.npy",
            v1(&(dict(D, F, S3) + " x"), &[0; 24]),
        ),
        ("dict-twice.npy", v1(&dict(D, F, S3).repeat(2), &[0; 24])),
        (
            "dict-missing-colon.npy",
            v1(
                "{'descr' '<f8', 'fortran_order': False, 'shape': (3,)}",
                &[0; 24],
            ),
        ),
        (
            "dict-missing-comma.npy",
            v1(
                "{'descr': '<f8' 'fortran_order': False, 'shape': (3,)}",
                &[0; 24],
            ),
        ),
        ("dict-only-comma.npy", v1("{,}", &[0; 24])),
        (
            "dict-int-key.npy",
            v1(
                "{1: '<f8', 'fortran_order': False, 'shape': (3,)}",
                &[0; 24],
            ),
        ),
        (
            "dict-bytes-key.npy",
            v1(
                "{b'descr': '<f8', 'fortran_order': False, 'shape': (3,)}",
                &[0; 24],
            ),
        ),
        (
            "dict-nested-value.npy",
            f8x3("{'names': ['a'], 'formats': ['<f8']}", F, S3),
        ),
        (
            "key-missing-descr.npy",
            v1("{'fortran_order': False, 'shape': (3,)}", &[0; 24]),
        ),
        (
            "key-missing-fortran.npy",
            v1("{'descr': '<f8', 'shape': (3,)}", &[0; 24]),
        ),
        (
            "key-missing-shape.npy",
            v1("{'descr': '<f8', 'fortran_order': False}", &[0; 24]),
        ),
        (
            "key-extra.npy",
            v1(&dict(D, F, S3).replace('}', "'x': 1}"), &[0; 24]),
        ),
        (
            "key-typo.npy",
            v1(&dict(D, F, S3).replace("shape", "shap"), &[0; 24]),
        ),
        (
            "key-case.npy",
            v1(&dict(D, F, S3).replace("descr", "Descr"), &[0; 24]),
        ),
        // ---- descr: unsupported kinds, non-dtypes, non-strings
        ("descr-object.npy", f8x3("'|O'", F, S3)),
        ("descr-object-name.npy", f8x3("'object'", F, S3)),
        ("descr-unicode.npy", f8x3("'<U3'", F, S3)),
        ("descr-bytes.npy", f8x3("'|S8'", F, S3)),
        ("descr-void.npy", f8x3("'|V8'", F, S3)),
        ("descr-datetime.npy", f8x3("'<M8[ns]'", F, S3)),
        ("descr-timedelta.npy", f8x3("'<m8[s]'", F, S3)),
        ("descr-longdouble.npy", f8x3("'<f16'", F, S3)),
        ("descr-clongdouble.npy", f8x3("'<c32'", F, S3)),
        (
            "descr-structured.npy",
            f8x3("[('a', '<i4'), ('b', '<f4')]", F, S3),
        ),
        ("descr-subarray.npy", f8x3("('<f8', (2,))", F, S3)),
        ("descr-comma-string.npy", f8x3("'f8,f8'", F, S3)),
        ("descr-int3.npy", f8x3("'<i3'", F, S3)),
        ("descr-unknown.npy", f8x3("'xyz'", F, S3)),
        ("descr-empty.npy", f8x3("''", F, S3)),
        ("descr-double-order.npy", f8x3("'<<f8'", F, S3)),
        ("descr-trailing-space.npy", f8x3("'<f8 '", F, S3)),
        ("descr-int.npy", f8x3("8", F, S3)),
        ("descr-none.npy", f8x3("None", F, S3)),
        ("descr-bool.npy", f8x3("True", F, S3)),
        ("descr-bytes-literal.npy", f8x3("b'<f8'", F, S3)),
        ("descr-raw-string.npy", f8x3("r'<f8'", F, S3)),
        ("descr-f-string.npy", f8x3("f'<f8'", F, S3)),
        ("descr-triple-quoted.npy", f8x3("'''<f8'''", F, S3)),
        (
            "descr-named-escape.npy",
            f8x3("'<f\\N{DIGIT EIGHT}'", F, S3),
        ),
        ("descr-unterminated.npy", f8x3("'<f8", F, S3)),
        // ---- fortran_order
        ("fortran-int.npy", f8x3(D, "0", S3)),
        ("fortran-one.npy", f8x3(D, "1", S3)),
        ("fortran-string.npy", f8x3(D, "'False'", S3)),
        ("fortran-none.npy", f8x3(D, "None", S3)),
        ("fortran-lowercase.npy", f8x3(D, "false", S3)),
        ("fortran-tuple.npy", f8x3(D, "(False,)", S3)),
        // ---- shape
        ("shape-negative.npy", f8x3(D, F, "(-1,)")),
        ("shape-negative-2d.npy", f8x3(D, F, "(3, -1)")),
        ("shape-float.npy", f8x3(D, F, "(3.0,)")),
        ("shape-exponent.npy", f8x3(D, F, "(1e3,)")),
        ("shape-bool.npy", f8x3(D, F, "(True,)")),
        ("shape-complex.npy", f8x3(D, F, "(3j,)")),
        ("shape-list.npy", f8x3(D, F, "[3]")),
        ("shape-int.npy", f8x3(D, F, "3")),
        ("shape-string.npy", f8x3(D, F, "'3'")),
        ("shape-string-entry.npy", f8x3(D, F, "('3',)")),
        ("shape-none.npy", f8x3(D, F, "None")),
        ("shape-none-entry.npy", f8x3(D, F, "(3, None)")),
        ("shape-nested-tuple.npy", f8x3(D, F, "((3,),)")),
        ("shape-double-comma.npy", f8x3(D, F, "(3,,)")),
        ("shape-only-comma.npy", f8x3(D, F, "(,)")),
        ("shape-no-comma.npy", f8x3(D, F, "(3 4)")),
        ("shape-leading-zero.npy", f8x3(D, F, "(03,)")),
        ("shape-bare-hex.npy", f8x3(D, F, "(0x,)")),
        (
            "shape-10e30.npy",
            f8x3(D, F, "(1000000000000000000000000000000,)"),
        ),
        ("shape-2e64.npy", f8x3(D, F, "(18446744073709551616,)")),
        ("shape-2e63.npy", f8x3(D, F, "(9223372036854775808,)")),
        ("shape-2e61-f8.npy", f8x3(D, F, "(2305843009213693952,)")),
        ("shape-2e60-f8.npy", f8x3(D, F, "(1152921504606846976,)")),
        (
            "shape-overflow-2d.npy",
            f8x3(D, F, "(4294967296, 4294967296)"),
        ),
        (
            "shape-overflow-many.npy",
            f8x3(D, F, "(65536, 65536, 65536, 65536, 65536)"),
        ),
        (
            "shape-zero-then-10e30.npy",
            f8x3(D, F, "(0, 1000000000000000000000000000000)"),
        ),
        (
            "shape-zero-then-2e64.npy",
            f8x3(D, F, "(0, 18446744073709551616)"),
        ),
        (
            "shape-zero-then-2e62-f8.npy",
            f8x3(D, F, "(0, 4611686018427387904)"),
        ),
        (
            "shape-2e62-then-zero-f8.npy",
            f8x3(D, F, "(4611686018427387904, 0)"),
        ),
        (
            "shape-zero-zero-2e63.npy",
            f8x3("'|u1'", F, "(0, 0, 9223372036854775808)"),
        ),
        (
            "shape-65-axes.npy",
            f8x3(D, F, &format!("({})", "1, ".repeat(65))),
        ),
        (
            "shape-65-empty-axes.npy",
            f8x3(D, F, &format!("({})", "0, ".repeat(65))),
        ),
        // ---- bytes that cannot be header text
        (
            "nul-in-text.npy",
            f8x3(D, F, S3)
                .iter()
                .map(|&b| if b == b'f' { 0 } else { b })
                .collect(),
        ),
        ("nul-in-descr.npy", f8x3("'<f8\0'", F, S3)),
        ("nul-instead-of-newline.npy", {
            let mut b = good.clone();
            let nl = b.iter().position(|&c| c == b'\n').unwrap();
            b[nl] = 0;
            b
        }),
        (
            "latin1-key.npy",
            v1(&dict(D, F, S3).replace('}', "'\u{e9}': 1}"), &[0; 24]),
        ),
        ("latin1-descr.npy", {
            let text = b"{'descr': '<f\xe9', 'fortran_order': False, 'shape': (3,), }\n";
            npy((1, 0), text, &[0; 24])
        }),
        ("v3-invalid-utf8.npy", v3_text(b"'<f8\xff'")),
        ("v3-overlong-utf8.npy", v3_text(b"'<f\xc0\xb8'")),
        ("v3-surrogate-utf8.npy", v3_text(b"'<f8\xed\xa0\x80'")),
        ("v3-cut-utf8.npy", v3_text(b"'<f8\xe2\x82'")),
        ("v3-beyond-unicode.npy", v3_text(b"'<f8\xf4\x90\x80\x80'")),
        ("v3-fullwidth-digit.npy", v3_text("'<f\u{ff18}'".as_bytes())),
        ("v3-python2-long.npy", {
            let text = dict(D, F, "(3L,)") + "\n";
            npy((3, 0), text.as_bytes(), &[0; 24])
        }),
        // ---- Python expressions: never evaluated
        ("expr-sum.npy", f8x3(D, F, "(1+2,)")),
        ("expr-product.npy", f8x3(D, F, "(3,)*2")),
        ("expr-negated.npy", f8x3(D, F, "(-(-3),)")),
        (
            "expr-import.npy",
            f8x3("__import__('os').system('false')", F, S3),
        ),
        ("expr-eval.npy", f8x3("eval('\"<f8\"')", F, S3)),
        ("expr-lambda.npy", f8x3("(lambda: '<f8')()", F, S3)),
        (
            "expr-comprehension.npy",
            f8x3(D, F, "tuple(x for x in (3,))"),
        ),
        (
            "expr-conditional.npy",
            f8x3("'<f8' if True else '<i8'", F, S3),
        ),
        ("expr-concatenation.npy", f8x3("'<' + 'f8'", F, S3)),
        ("expr-name.npy", f8x3("float64", F, S3)),
        ("expr-ellipsis.npy", f8x3(D, F, "(...,)")),
        (
            "expr-comment.npy",
            v1(&dict(D, F, S3).replace('}', "# x\n}"), &[0; 24]),
        ),
        ("expr-walrus.npy", f8x3(D, F, "((n := 3),)")),
        (
            "expr-unpacking.npy",
            v1(
                "{**{'descr': '<f8'}, 'fortran_order': False, 'shape': (3,)}",
                &[0; 24],
            ),
        ),
    ];
    // The header-size cap: valid headers, refused only because of their size.
    let padded_v2 = |len: usize| {
        let mut text = dict(D, F, S3);
        text.push_str(&" ".repeat(len - text.len() - 1));
        text.push('\n');
        npy((2, 0), text.as_bytes(), &[0; 24])
    };
    cases.push(("cap-10001-bytes-v2.npy", padded_v2(10_001)));
    cases.push(("cap-16000-bytes-v2.npy", padded_v2(16_000)));

    let mut out: Vec<(String, Vec<u8>)> = cases
        .into_iter()
        .map(|(name, bytes)| (name.to_owned(), bytes))
        .collect();
    for (name, bytes, _) in raw_cases() {
        out.push((name.to_owned(), bytes));
    }
    for (name, bytes, _) in zip::hostile_archives() {
        out.push((name.to_owned(), bytes));
    }
    out
}

/// A version 3.0 file of 3 float64 values whose descr is `descr` (bytes as given).
fn v3_text(descr: &[u8]) -> Vec<u8> {
    let mut text = b"{'descr': ".to_vec();
    text.extend_from_slice(descr);
    text.extend_from_slice(b", 'fortran_order': False, 'shape': (3,), }\n");
    npy((3, 0), &text, &[0; 24])
}

/// Raw (headerless) files and the layout options that do not fit them.
fn raw_cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        (
            "raw-offset-past-end.dat",
            vec![7; 10],
            "--dtype u1 --offset 11",
        ),
        (
            "raw-offset-u64-max.dat",
            vec![7; 10],
            "--dtype u1 --offset 18446744073709551615",
        ),
        (
            "raw-offset-i64-max-with-shape.dat",
            vec![7; 10],
            "--dtype f8 --offset 9223372036854775807 --shape 2",
        ),
        (
            "raw-offset-past-end-of-empty.dat",
            vec![],
            "--dtype f8 --offset 1",
        ),
        (
            "raw-shape-larger-than-file.dat",
            vec![7; 10],
            "--dtype f8 --shape 2",
        ),
        (
            "raw-shape-larger-2d-fortran.dat",
            vec![7; 16],
            "--dtype <i4 --shape 2,3 --order F",
        ),
        (
            "raw-shape-after-offset.dat",
            vec![7; 16],
            "--dtype f8 --shape 2 --offset 1",
        ),
        ("raw-shape-on-empty.dat", vec![], "--dtype u1 --shape 1"),
        (
            "raw-shape-0d-on-empty.dat",
            vec![],
            "--dtype c16 --shape ()",
        ),
        (
            "raw-shape-overflow.dat",
            vec![7; 16],
            "--dtype f8 --shape 4294967296,4294967296",
        ),
        (
            "raw-shape-isize.dat",
            vec![7; 16],
            "--dtype f8 --shape 1152921504606846976",
        ),
        (
            "raw-shape-zero-and-u64-max.dat",
            vec![7; 16],
            "--dtype f8 --shape 0,18446744073709551615",
        ),
        (
            "raw-shape-zero-and-2e62.dat",
            vec![7; 16],
            "--dtype >f8 --shape 4611686018427387904,0",
        ),
        (
            "raw-shape-65-axes.dat",
            vec![7; 16],
            "--dtype u1 --shape 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
        ),
        ("raw-not-whole-items.dat", vec![7; 10], "--dtype f8"),
        (
            "raw-not-whole-items-after-offset.dat",
            vec![7; 16],
            "--dtype c8 --offset 3",
        ),
    ]
}

/// Cases too large to commit: made at test time (name, bytes).
fn large_cases() -> Vec<(String, Vec<u8>)> {
    let v2 = |shape_or_descr: &str, is_descr: bool| {
        let text = if is_descr {
            format!("{{'descr': {shape_or_descr}, 'fortran_order': False, 'shape': (3,), }}\n")
        } else {
            format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_or_descr}, }}\n")
        };
        npy((2, 0), text.as_bytes(), &[0; 24])
    };
    vec![
        ("nested-brackets-100k.npy", v2(&"[".repeat(100_000), false)),
        (
            "nested-parens-100k-balanced.npy",
            v2(
                &format!("{}3{}", "(".repeat(50_000), ")".repeat(50_000)),
                false,
            ),
        ),
        ("nested-dicts-100k.npy", v2(&"{".repeat(100_000), true)),
        (
            "nested-lists-in-descr-100k.npy",
            v2(&"[(".repeat(50_000), true),
        ),
        (
            "int-100k-digits.npy",
            v2(&format!("(1{},)", "0".repeat(100_000)), false),
        ),
        (
            "string-100k.npy",
            v2(&format!("'{}f8'", "<".repeat(100_000)), true),
        ),
        (
            "escapes-100k.npy",
            v2(&format!("'{}'", "\\x41".repeat(25_000)), true),
        ),
        (
            "axes-50k.npy",
            v2(&format!("({})", "1, ".repeat(50_000)), false),
        ),
        (
            "empty-axes-50k.npy",
            v2(&format!("({})", "0, ".repeat(50_000)), false),
        ),
        (
            "shape-entries-30k-huge.npy",
            v2(&format!("({})", "4294967296, ".repeat(30_000)), false),
        ),
    ]
    .into_iter()
    .map(|(name, bytes)| (name.to_owned(), bytes))
    .collect()
}

/// The raw layout options of each raw file of the corpus, from `tests/hostile/raw.txt`.
fn raw_manifest() -> Vec<(String, Vec<String>)> {
    let text =
        std::fs::read_to_string(corpus_dir().join("raw.txt")).expect("tests/hostile/raw.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split_whitespace().map(str::to_owned);
            let name = words.next().unwrap();
            (name, words.collect())
        })
        .collect()
}

fn raw_manifest_text() -> String {
    let mut text = String::from(
        "# Raw (headerless) files of the hostile corpus and the layout options that do not\n\
         # fit them: `<file> <options>`; the test adds --raw. Made by reliability_hostile.rs.\n",
    );
    for (name, _, options) in raw_cases() {
        text.push_str(&format!("{name} {options}\n"));
    }
    text
}

#[test]
fn the_committed_corpus_is_what_the_generator_makes() {
    let dir = corpus_dir();
    let regenerate = std::env::var_os("MMARRAY_REGENERATE_HOSTILE").is_some();
    let manifest = dir.join("raw.txt");
    let generated = raw_manifest_text();
    if regenerate {
        std::fs::create_dir_all(&dir).unwrap();
        // Keep the lines added by hand (e.g. for files found by fuzzing).
        let mut text = generated.clone();
        for line in std::fs::read_to_string(&manifest)
            .unwrap_or_default()
            .lines()
        {
            if !generated.lines().any(|g| g == line) {
                text.push_str(line);
                text.push('\n');
            }
        }
        std::fs::write(&manifest, text).unwrap();
    }
    let mut stale = Vec::new();
    for (name, bytes) in small_cases() {
        assert!(bytes.len() <= 16 * 1024, "{name} is too large to commit");
        let path = dir.join(&name);
        if regenerate {
            std::fs::write(&path, &bytes).unwrap();
        }
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            stale.push(name);
        }
    }
    let committed = std::fs::read_to_string(&manifest).unwrap_or_default();
    if !generated.lines().all(|g| committed.lines().any(|c| c == g)) {
        stale.push("raw.txt".to_owned());
    }
    assert!(
        stale.is_empty(),
        "tests/hostile is out of date for {stale:?}: run \
         MMARRAY_REGENERATE_HOSTILE=1 cargo test -p mmarray-cli --test reliability_hostile"
    );
}

// ---------------------------------------------------------------- running them

/// Every subcommand that opens an existing file, on `name` (`out.npy` as the output
/// of those that write one).
fn every_reader(name: &str) -> Vec<Vec<String>> {
    let commands: [&[&str]; 12] = [
        &["info", name],
        &["info", name, "--json"],
        &["show", name],
        &["reduce", name, "--op", "sum"],
        &[
            "reduce", name, "--op", "max", "--axis", "0", "--out", "out.npy",
        ],
        &["reduce", name, "--op", "mean", "--axis", "-1"],
        &["stats", name, "--json"],
        &["slice", name, "out.npy", ":"],
        &["convert", name, "out.npy", "--out-dtype", "f8"],
        &["fill", name, "0"],
        &["random", name, "--seed", "1"],
        &["append", name, "--rows", "3", "--fill", "1"],
    ];
    commands
        .iter()
        .map(|c| c.iter().map(|s| (*s).to_owned()).collect())
        .collect()
}

/// The few commands that cover the three ways of opening (read-only, read-write in
/// place, read-write growing), for the second pass with the header cap lifted.
fn each_opening(name: &str) -> Vec<Vec<String>> {
    [
        vec!["show", name],
        vec!["fill", name, "0"],
        vec!["append", name, "--rows", "1"],
    ]
    .into_iter()
    .map(|c| c.into_iter().map(str::to_owned).collect())
    .collect()
}

/// Copies `bytes` to `name` in a fresh folder and runs each command on it under the
/// limits, asserting a clean refusal that changes nothing and leaves nothing.
/// Returns the number of runs.
#[track_caller]
fn refuse_everywhere(name: &str, bytes: &[u8], commands: &[Vec<String>]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let before = snapshot(&path);
    for args in commands {
        let run = run_limited(dir.path(), args);
        run.fails_cleanly(name);
        assert_eq!(snapshot(&path), before, "{args:?} changed {name}");
        assert_eq!(names(dir.path()), [name], "{args:?} left files behind");
    }
    commands.len()
}

/// Runs `f` over `items` on two threads (the machine has two cores).
fn on_two_threads<T: Sync>(items: &[T], check: impl Fn(&T) -> usize + Sync) -> usize {
    let (first, second) = items.split_at(items.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| first.iter().map(&check).sum::<usize>());
        let runs: usize = second.iter().map(&check).sum();
        runs + other.join().unwrap()
    })
}

/// The `.npy` files of the committed corpus (name, bytes), all of them, whether the
/// generator made them or not.
fn committed_npy_files() -> Vec<(String, Vec<u8>)> {
    committed_files("npy")
}

/// The committed files of the corpus whose names end in `.ext`.
fn committed_files(ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_hostile_npy_file_is_refused_by_every_reading_subcommand() {
    let files = committed_npy_files();
    assert!(
        files.len() >= 150,
        "only {} hostile .npy files",
        files.len()
    );
    let runs = on_two_threads(&files, |(name, bytes)| {
        let mut n = refuse_everywhere(name, bytes, &every_reader(name));
        if !name.starts_with("cap-") {
            let lifted: Vec<Vec<String>> = each_opening(name)
                .into_iter()
                .map(|mut c| {
                    c.extend(["--max-header-size".to_owned(), "4294967295".to_owned()]);
                    c
                })
                .collect();
            n += refuse_everywhere(name, bytes, &lifted);
        }
        n
    });
    eprintln!("{} hostile .npy files, {runs} refused runs", files.len());
}

#[test]
fn every_hostile_npz_archive_is_refused_by_every_reading_subcommand() {
    let files = committed_files("npz");
    assert!(files.len() >= 30, "only {} hostile .npz files", files.len());
    let runs = on_two_threads(&files, |(name, bytes)| {
        let mut commands = every_reader(name);
        if name.starts_with("inflate-") {
            // The damage is in the deflated data, seen when the data is read:
            // `info` reads headers only, of the archive (as np.load lists the
            // members) and of a member (as `info` of a .npy does not read its
            // data), so it describes the member; every command that reads the
            // data refuses it.
            commands.retain(|c| c[0] != "info");
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(name), bytes).unwrap();
            let run = run_limited(
                dir.path(),
                &["info".into(), name.clone(), "--member".into(), "z".into()],
            );
            assert!(
                run.status.success(),
                "info --member z of {name}: {}",
                run.stderr
            );
            assert!(run.stdout.contains("deflated"), "{name}: {}", run.stdout);
        }
        let with_member: Vec<Vec<String>> = [
            vec!["show", name, "--member", "x"],
            vec!["fill", name, "1", "--member", "x"],
            vec!["convert", name, "out.npz", "--member", "x", "--compress"],
        ]
        .into_iter()
        .map(|c| c.into_iter().map(str::to_owned).collect())
        .collect();
        commands.extend(with_member);
        refuse_everywhere(name, bytes, &commands)
    });
    eprintln!("{} hostile .npz files, {runs} refused runs", files.len());
}

#[test]
fn large_hostile_headers_are_refused_with_and_without_the_cap() {
    let cases = large_cases();
    on_two_threads(&cases, |(name, bytes)| {
        let mut n = refuse_everywhere(name, bytes, &each_opening(name));
        let lifted: Vec<Vec<String>> = every_reader(name)
            .into_iter()
            .map(|mut c| {
                c.extend(["--max-header-size".to_owned(), "4294967295".to_owned()]);
                c
            })
            .collect();
        n += refuse_everywhere(name, bytes, &lifted);
        n
    });
}

#[test]
fn every_hostile_raw_layout_is_refused_by_every_reading_subcommand() {
    let manifest = raw_manifest();
    assert!(manifest.len() >= 15);
    on_two_threads(&manifest, |(name, options)| {
        let bytes = std::fs::read(corpus_dir().join(name)).unwrap();
        let commands: Vec<Vec<String>> = every_reader(name)
            .into_iter()
            .map(|mut c| {
                c.push("--raw".to_owned());
                c.extend(options.iter().cloned());
                c
            })
            .collect();
        refuse_everywhere(name, &bytes, &commands)
    });
}

#[test]
fn what_is_not_a_regular_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("folder.npy")).unwrap();
    let fifo = std::ffi::CString::new(d.join("fifo.npy").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    std::os::unix::fs::symlink("nowhere.npy", d.join("dangling.npy")).unwrap();
    std::os::unix::fs::symlink("loop.npy", d.join("loop.npy")).unwrap();
    for name in [
        "folder.npy",
        "fifo.npy",
        "dangling.npy",
        "loop.npy",
        "missing.npy",
    ] {
        for args in every_reader(name) {
            // A FIFO would block `open` until a writer came: the time limit catches it.
            let run = run_limited(d, &args);
            run.fails_cleanly(name);
            assert!(run.elapsed < Duration::from_secs(2), "{args:?}");
        }
    }
    for args in every_reader("/dev/zero") {
        run_limited(d, &args).fails_cleanly("/dev/zero");
    }
}

/// `--force` replaces regular files only: an output path that is a FIFO or a
/// symbolic link (to a file the command would not write) is refused by every
/// command that writes a file, and left as it was, as is the link's target.
#[test]
fn force_replaces_files_but_not_links_fifos_or_devices() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_limited(
        d,
        &[
            "create", "a.npy", "--dtype", "f8", "--shape", "4", "--arange",
        ],
    )
    .ok();
    std::fs::write(d.join("target.npy"), b"not written").unwrap();
    std::os::unix::fs::symlink("target.npy", d.join("link.npy")).unwrap();
    let fifo = std::ffi::CString::new(d.join("fifo.npy").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    for (out, needle) in [
        ("link.npy", "symbolic link"),
        ("fifo.npy", "not a regular file"),
    ] {
        for args in [
            vec!["create", out, "--dtype", "f8", "--shape", "4", "--force"],
            vec!["convert", "a.npy", out, "--force"],
            vec!["slice", "a.npy", out, ":2", "--force"],
            vec![
                "reduce", "a.npy", "--op", "sum", "--axis", "0", "--out", out, "--force",
            ],
            vec!["export", "a.npy", out, "--force"],
        ] {
            let run = run_limited(d, &args);
            let err = run.fails_cleanly(out);
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }
    let link = std::fs::symlink_metadata(d.join("link.npy")).unwrap();
    assert!(link.file_type().is_symlink());
    assert_eq!(std::fs::read(d.join("target.npy")).unwrap(), b"not written");
    let fifo = std::fs::symlink_metadata(d.join("fifo.npy")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fifo.file_type()));
    // A regular file is replaced.
    run_limited(d, &["convert", "a.npy", "target.npy", "--force"]).ok();
    assert_ne!(std::fs::read(d.join("target.npy")).unwrap(), b"not written");
}

// ---------------------------------------------------------------- good files, same limits

/// Good files of every kind of layout, made by the CLI, and every command on them
/// under the same address-space and time limits.
#[test]
fn good_files_work_under_the_same_limits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let make = |args: &[&str]| run_limited(d, args).ok().to_owned();
    make(&[
        "create", "f8.npy", "--dtype", "f8", "--shape", "20,30", "--arange",
    ]);
    make(&[
        "create", "be.npy", "--dtype", ">i4", "--shape", "7,3,2", "--order", "F", "--arange",
    ]);
    make(&[
        "create", "c.npy", "--dtype", "c8", "--shape", "5", "--random", "normal", "--seed", "3",
    ]);
    make(&[
        "create", "h.npy", "--dtype", "f2", "--shape", "4,4", "--fill", "0.5",
    ]);
    make(&[
        "create", "b.npy", "--dtype", "?", "--shape", "9", "--fill", "true",
    ]);
    make(&[
        "create",
        "zero-d.npy",
        "--dtype",
        "u8",
        "--shape",
        "()",
        "--fill",
        "7",
    ]);
    make(&["create", "empty.npy", "--dtype", "f8", "--shape", "0,4"]);
    make(&[
        "create", "raw.dat", "--dtype", "<u2", "--shape", "6,2", "--raw", "--arange",
    ]);
    // 32 MiB, mapped and streamed (debug build: kept small for time).
    make(&["create", "big.npy", "--dtype", "f4", "--shape", "1024,8192"]);
    // An empty array whose other axis is huge (numpy allows it): fine to describe.
    std::fs::write(
        d.join("wide-empty.npy"),
        v1(&dict(D, F, "(0, 1099511627776)"), &[]),
    )
    .unwrap();
    for name in [
        "f8.npy",
        "be.npy",
        "c.npy",
        "h.npy",
        "b.npy",
        "zero-d.npy",
        "empty.npy",
        "big.npy",
        "wide-empty.npy",
    ] {
        let before = snapshot(&d.join(name));
        let info: serde_json::Value =
            serde_json::from_str(run_limited(d, &["info", name, "--json"]).ok()).unwrap();
        let ndim = info["shape"].as_array().unwrap().len();
        let mut commands: Vec<Vec<&str>> = vec![
            vec!["info", name],
            vec!["show", name],
            vec!["stats", name, "--json"],
            vec!["reduce", name, "--op", "sum", "--json"],
            vec!["slice", name, "s.npy", "...", "--force"],
            vec!["convert", name, "c8.npy", "--out-dtype", "c8", "--force"],
        ];
        if ndim > 0 {
            commands.push(vec![
                "reduce", name, "--op", "mean", "--axis", "-1", "--out", "m.npy", "--force",
            ]);
        }
        for args in &commands {
            run_limited(d, args).ok();
        }
        assert_eq!(snapshot(&d.join(name)), before, "{name} changed");
    }
    let raw = ["--raw", "--dtype", "<u2", "--shape", "6,2"];
    for cmd in [
        vec!["show", "raw.dat"],
        vec!["stats", "raw.dat"],
        vec!["fill", "raw.dat", "3"],
    ] {
        let args: Vec<&str> = cmd.iter().chain(raw.iter()).copied().collect();
        run_limited(d, &args).ok();
    }
    // Writing in place and growing, under the limits too.
    run_limited(d, &["fill", "big.npy", "1.5", "--slice", "::2"]).ok();
    run_limited(d, &["random", "f8.npy", "--seed", "9"]).ok();
    run_limited(d, &["append", "be.npy", "--rows", "5", "--fill", "-1"]).ok();
    run_limited(d, &["append", "big.npy", "--rows", "128", "--fill", "2"]).ok();
    let info = run_limited(d, &["info", "big.npy", "--json"])
        .ok()
        .to_owned();
    assert!(info.contains("\"shape\":[1152,8192]"), "{info}");
}

/// Limits that good files meet and requests can exceed: numpy's 64 dimensions, and
/// results larger than memory.
#[test]
fn dimensions_and_results_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // numpy's 64 dimensions work; more are refused, when creating as when opening.
    let dims = |n: usize| vec!["1"; n].join(",");
    let (d64, d65) = (dims(64), dims(65));
    run_limited(
        d,
        &[
            "create", "d64.npy", "--dtype", "u1", "--shape", &d64, "--fill", "5",
        ],
    )
    .ok();
    let shown = run_limited(d, &["show", "d64.npy"]).ok().to_owned();
    assert!(shown.starts_with(&format!("memmap({}5{}", "[".repeat(64), "]".repeat(64))));
    run_limited(d, &["create", "d65.npy", "--dtype", "u1", "--shape", &d65])
        .fails_cleanly("d65.npy");
    assert!(!d.join("d65.npy").exists());
    std::fs::write(
        d.join("wide-empty.npy"),
        v1(&dict(D, F, "(0, 1099511627776)"), &[]),
    )
    .unwrap();
    // A result far larger than memory is refused, not attempted.
    run_limited(
        d,
        &["reduce", "wide-empty.npy", "--op", "sum", "--axis", "0"],
    )
    .fails_cleanly("wide-empty.npy");
}
