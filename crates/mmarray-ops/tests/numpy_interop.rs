//! `mmarray-ops` against numpy itself: numpy writes `.npy` files of every kind
//! (both byte orders, C and F order, with NaNs in floats) and mmarray's
//! reductions must give numpy's results; files mmarray fills, converts or
//! reduces along an axis must load in numpy with the expected contents.
//!
//! Tolerances: integer results, min/max and arg ops are exact. Float sums and
//! means are compared with numpy's float64 result on the float64 (complex128)
//! values (`np.sum(a.astype(np.float64))`, since numpy sums float32/float16 in
//! their own precision) within `1e-12 * sum(|x|)` (relative to the sum of
//! magnitudes, as the sum itself can cancel); variances and standard
//! deviations within a relative `1e-10`.
//!
//! Each test runs one or two python processes (see `mmarray-dtype`'s
//! `tests/support/numpy.rs`; `cargo xtask test` creates the venv).

#[path = "../../mmarray-dtype/tests/support/numpy.rs"]
mod numpy;

mod common;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::Path;

use common::{Rng, encode_bytes, npy_with, numpy_sum, open, with_threads};
use mmarray_core::{DynArray, Order, ReadWrite};
use mmarray_dtype::{ByteOrder, DType, Kind, Value};
use mmarray_ops::{
    ConvertOptions, Dist, Op, ReduceOptions, Stats, convert_file, count_nonzero, random_fill,
    reduce_array, reduce_axis_to_npy, stats_array,
};

/// Imports numpy and silences its warnings (all-NaN slices, casts of complex to real).
const PRELUDE: &str =
    "import sys, os\nimport numpy as np\nimport warnings\nwarnings.simplefilter('ignore')\n";

fn py(script: &str, args: &[&Path]) -> String {
    let args: Vec<&OsStr> = args.iter().map(|p| p.as_os_str()).collect();
    numpy::run_py(&format!("{PRELUDE}{script}"), &args)
}

// ---------------------------------------------------------------------------
// Whole-array reductions of files numpy wrote.

/// Writes the files and prints, per file and result, `file name type values...`
/// (`i` signed, `u` unsigned, `f` float, `c` complex as two floats), with
/// float64 values as `repr` (which round-trips).
const REDUCE_SCRIPT: &str = r"
d = sys.argv[1]
rng = np.random.default_rng(20240601)
kinds = ['b1', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f2', 'f4', 'f8', 'c8', 'c16']

def gen(dt, n):
    if dt.kind == 'b':
        return rng.integers(0, 2, n).astype(bool)
    if dt.kind in 'iu':
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
    if dt.kind == 'f':
        return (rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3, n)).astype(dt)
    return (rng.standard_normal(n) * 100 + 1j * rng.standard_normal(n) * 100).astype(dt)

def fmt(x):
    x = np.asarray(x)[()]
    if isinstance(x, (np.bool_, bool)):
        return 'i ' + str(int(x))
    if isinstance(x, np.signedinteger):
        return 'i ' + str(int(x))
    if isinstance(x, np.unsignedinteger):
        return 'u ' + str(int(x))
    if isinstance(x, np.complexfloating):
        return 'c ' + repr(float(x.real)) + ' ' + repr(float(x.imag))
    return 'f ' + repr(float(x))

def results(a):
    k = a.dtype.kind
    r = {}
    if k in 'biu':
        acc = np.uint64 if k == 'u' else np.int64
        r['sum'] = np.sum(a, dtype=acc)
        w = a.astype(np.float64)
    else:
        w = a.astype(np.complex128 if k == 'c' else np.float64)
        r['sum'] = np.sum(w)
    r['abs'] = np.sum(np.abs(w))
    r['mean'] = np.mean(w)
    r['min'], r['max'] = np.min(a), np.max(a)
    r['argmin'], r['argmax'] = np.argmin(a), np.argmax(a)
    for ddof in (0, 1):
        r['var%d' % ddof], r['std%d' % ddof] = np.var(w, ddof=ddof), np.std(w, ddof=ddof)
    r['count_nonzero'] = np.int64(np.count_nonzero(a))
    if k in 'fc':
        r['nansum'], r['nanmean'] = np.nansum(w), np.nanmean(w)
        r['nanmin'], r['nanmax'] = np.nanmin(a), np.nanmax(a)
        r['nanargmin'], r['nanargmax'] = np.nanargmin(a), np.nanargmax(a)
        r['nanvar1'], r['nanstd0'] = np.nanvar(w, ddof=1), np.nanstd(w)
        r['nanabs'] = np.nansum(np.abs(w))
        r['nancount'] = np.int64(np.count_nonzero(~np.isnan(a)))
    return r

shape = (61, 43)
n = shape[0] * shape[1]
files = []
for code in kinds:
    base = np.dtype(code)
    orders = '|' if base.itemsize == 1 else '<>'
    for bo in orders:
        for order in 'CF':
            for nan in ([False, True] if base.kind in 'fc' else [False]):
                a = gen(base, n)
                if nan:
                    idx = rng.choice(n, 5, replace=False)
                    if base.kind == 'c':
                        a[idx[:3]] = complex(np.nan, 1.0)
                        a[idx[3:]] = complex(2.0, np.nan)
                    else:
                        a[idx] = np.nan
                a = a.reshape(shape).astype(base.newbyteorder(bo) if bo != '|' else base)
                a = np.asfortranarray(a) if order == 'F' else np.ascontiguousarray(a)
                name = '%s-%s-%s-%d.npy' % (code, {'<': 'le', '>': 'be', '|': 'na'}[bo], order, nan)
                files.append((name, a))
# One float64 array over several 1 MiB segments, big-endian.
big = (rng.standard_normal(400_000) * 1e3).reshape(800, 500).astype('>f8')
files.append(('big-f8-be-C-0.npy', big))
for name, a in files:
    np.save(os.path.join(d, name), a)
    for key, value in results(a).items():
        print(name, key, fmt(value))
";

/// A numpy result as parsed from the script's output.
#[derive(Debug, Clone, Copy)]
enum Np {
    Int(i128),
    Float(f64),
    Complex(f64, f64),
}

fn parse_np(kind: &str, rest: &[&str]) -> Np {
    match kind {
        "i" | "u" => Np::Int(rest[0].parse().unwrap()),
        "f" => Np::Float(rest[0].parse().unwrap()),
        "c" => Np::Complex(rest[0].parse().unwrap(), rest[1].parse().unwrap()),
        other => panic!("unknown type {other}"),
    }
}

/// A result of mmarray as an `Np` (bools and integers as integers, floats and
/// float16/float32 exactly as float64).
fn as_np(v: Value) -> Np {
    match v {
        Value::Bool(b) => Np::Int(i128::from(b)),
        Value::I8(x) => Np::Int(x.into()),
        Value::I16(x) => Np::Int(x.into()),
        Value::I32(x) => Np::Int(x.into()),
        Value::I64(x) => Np::Int(x.into()),
        Value::U8(x) => Np::Int(x.into()),
        Value::U16(x) => Np::Int(x.into()),
        Value::U32(x) => Np::Int(x.into()),
        Value::U64(x) => Np::Int(x.into()),
        Value::F16(x) => Np::Float(x.into()),
        Value::F32(x) => Np::Float(x.into()),
        Value::F64(x) => Np::Float(x),
        Value::C64(c) => Np::Complex(c.re.into(), c.im.into()),
        Value::C128(c) => Np::Complex(c.re, c.im),
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol
}

/// Compares mmarray's `got` with numpy's `want`: exactly, or within `tol` for floats.
fn assert_np(got: Value, want: Np, tol: f64, ctx: &str) {
    let ok = match (as_np(got), want) {
        (Np::Int(g), Np::Int(w)) => g == w,
        (Np::Float(g), Np::Float(w)) => close(g, w, tol),
        // numpy's complex NaN handling differs part by part: a NaN anywhere is NaN.
        (Np::Complex(gr, gi), Np::Complex(wr, wi)) if wr.is_nan() || wi.is_nan() => {
            gr.is_nan() || gi.is_nan()
        }
        (Np::Complex(gr, gi), Np::Complex(wr, wi)) => close(gr, wr, tol) && close(gi, wi, tol),
        _ => false,
    };
    assert!(
        ok,
        "{ctx}: mmarray {got:?}, numpy {want:?} (tolerance {tol:e})"
    );
}

fn float_of(v: Np) -> f64 {
    match v {
        Np::Int(i) => i as f64,
        Np::Float(f) => f,
        Np::Complex(re, im) => re.hypot(im),
    }
}

fn check_file(path: &Path, want: &HashMap<String, Np>) {
    let a = open(path);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let n = a.len() as f64;
    let get = |k: &str| {
        *want
            .get(k)
            .unwrap_or_else(|| panic!("{name}: numpy gave no {k}"))
    };
    let red = |op, skipna, ddof| reduce_array(&a, op, &ReduceOptions { skipna, ddof }).unwrap();
    let sum_tol = 1e-12 * float_of(get("abs"));
    let var_tol = |k: &str| 1e-10 * float_of(get(k)).abs();
    let ctx = |what: &str| format!("{name}: {what}");
    assert_np(red(Op::Sum, false, 0), get("sum"), sum_tol, &ctx("sum"));
    assert_np(
        red(Op::Mean, false, 0),
        get("mean"),
        sum_tol / n,
        &ctx("mean"),
    );
    for (op, k) in [
        (Op::Min, "min"),
        (Op::Max, "max"),
        (Op::Argmin, "argmin"),
        (Op::Argmax, "argmax"),
    ] {
        assert_np(red(op, false, 0), get(k), 0.0, &ctx(k));
    }
    for ddof in [0, 1] {
        let (v, s) = (format!("var{ddof}"), format!("std{ddof}"));
        assert_np(red(Op::Var, false, ddof), get(&v), var_tol(&v), &ctx(&v));
        assert_np(red(Op::Std, false, ddof), get(&s), var_tol(&s), &ctx(&s));
    }
    let count = mmarray_dtype::dispatch!(a.dtype().kind(), T => count_nonzero(&a.view::<T>().unwrap()).unwrap());
    assert_np(
        Value::I64(count as i64),
        get("count_nonzero"),
        0.0,
        &ctx("count_nonzero"),
    );
    check_stats(
        &stats_array(&a, false).unwrap(),
        want,
        "",
        a.len() as u64,
        &ctx("stats"),
    );

    if want.contains_key("nansum") {
        let nan_tol = 1e-12 * float_of(get("nanabs"));
        let Np::Int(used) = get("nancount") else {
            panic!()
        };
        assert_np(
            red(Op::Sum, true, 0),
            get("nansum"),
            nan_tol,
            &ctx("nansum"),
        );
        assert_np(
            red(Op::Mean, true, 0),
            get("nanmean"),
            nan_tol / used as f64,
            &ctx("nanmean"),
        );
        for (op, k) in [
            (Op::Min, "nanmin"),
            (Op::Max, "nanmax"),
            (Op::Argmin, "nanargmin"),
            (Op::Argmax, "nanargmax"),
        ] {
            assert_np(red(op, true, 0), get(k), 0.0, &ctx(k));
        }
        assert_np(
            red(Op::Var, true, 1),
            get("nanvar1"),
            var_tol("nanvar1"),
            &ctx("nanvar1"),
        );
        assert_np(
            red(Op::Std, true, 0),
            get("nanstd0"),
            var_tol("nanstd0"),
            &ctx("nanstd0"),
        );
        check_stats(
            &stats_array(&a, true).unwrap(),
            want,
            "nan",
            used as u64,
            &ctx("stats skipna"),
        );
    }
}

/// `stats` against numpy's sum, mean, min, max and std (ddof 0), or their `nan`
/// variants when `prefix` is `"nan"`.
fn check_stats(s: &Stats, want: &HashMap<String, Np>, prefix: &str, count: u64, ctx: &str) {
    let get = |k: &str| want[&format!("{prefix}{k}")];
    let abs = float_of(get("abs"));
    assert_eq!(s.count, count, "{ctx}: count");
    assert_np(s.sum, get("sum"), 1e-12 * abs, &format!("{ctx}: sum"));
    assert_np(
        s.mean,
        get("mean"),
        1e-12 * abs / count as f64,
        &format!("{ctx}: mean"),
    );
    assert_np(s.min.unwrap(), get("min"), 0.0, &format!("{ctx}: min"));
    assert_np(s.max.unwrap(), get("max"), 0.0, &format!("{ctx}: max"));
    assert_np(
        s.std,
        get("std0"),
        1e-10 * float_of(get("std0")),
        &format!("{ctx}: std"),
    );
}

#[test]
fn reductions_equal_numpy() {
    let dir = tempfile::tempdir().unwrap();
    let out = py(REDUCE_SCRIPT, &[dir.path()]);
    let mut expected: HashMap<String, HashMap<String, Np>> = HashMap::new();
    for line in out.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let value = parse_np(parts[2], &parts[3..]);
        expected
            .entry(parts[0].to_owned())
            .or_default()
            .insert(parts[1].to_owned(), value);
    }
    // 9 one-byte or integer kinds x orders, float kinds with and without NaN, one big file.
    assert_eq!(
        expected.len(),
        3 * 2 + 6 * 4 + 5 * 8 + 1,
        "{:?}",
        expected.keys()
    );
    let mut names: Vec<&String> = expected.keys().collect();
    names.sort();
    for name in names {
        check_file(&dir.path().join(name), &expected[name]);
    }
}

// ---------------------------------------------------------------------------
// Random fills.

const RANDOM_SCRIPT: &str = r"
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    if not name.endswith('-1.npy'):
        continue
    a = np.load(os.path.join(d, name))
    b = np.load(os.path.join(d, name.replace('-1.npy', '-4.npy')))
    assert a.dtype == b.dtype and a.shape == b.shape
    same = a.tobytes() == b.tobytes()
    if a.dtype.kind == 'c':
        w = np.concatenate([a.real.ravel(), a.imag.ravel()]).astype(np.float64)
        corr = np.corrcoef(a.real.ravel(), a.imag.ravel())[0, 1]
    else:
        w = a.ravel().astype(np.float64)
        corr = 0.0
    print(name, a.dtype.str, 'x'.join(map(str, a.shape)), int(a.flags.f_contiguous and not a.flags.c_contiguous),
          int(same), repr(float(w.mean())), repr(float(w.std())), repr(float(w.min())), repr(float(w.max())),
          len(np.unique(w)), repr(float(corr)))
";

#[test]
fn random_fills_load_in_numpy_with_the_right_statistics() {
    let dir = tempfile::tempdir().unwrap();
    // (name, dtype, shape, order, dist)
    let cases: [(&str, &str, &[usize], Order, Dist); 7] = [
        ("normal-f8", "<f8", &[300, 400], Order::C, Dist::Normal),
        ("normal-f4", ">f4", &[400, 300], Order::F, Dist::Normal),
        ("normal-c16", ">c16", &[100_000], Order::C, Dist::Normal),
        ("uniform-f2", "<f2", &[500, 200], Order::F, Dist::Uniform),
        ("uniform-f8", ">f8", &[120_000], Order::C, Dist::Uniform),
        (
            "integers-i2",
            ">i2",
            &[300, 300],
            Order::C,
            Dist::Integers { low: -5, high: 7 },
        ),
        ("bool", "|b1", &[200, 500], Order::F, Dist::Uniform),
    ];
    for &(name, descr, shape, order, dist) in &cases {
        for threads in [1, 4] {
            let path = dir.path().join(format!("{name}-{threads}.npy"));
            let dtype: DType = descr.parse().unwrap();
            // SAFETY: the file is new and private to the test.
            let mut a =
                unsafe { DynArray::<ReadWrite>::create(&path, dtype, shape, order) }.unwrap();
            with_threads(threads, || random_fill(&mut a, .., dist, 1234)).unwrap();
            a.close().unwrap();
        }
    }
    let out = py(RANDOM_SCRIPT, &[dir.path()]);
    let lines: HashMap<&str, Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .map(|p| (p[0], p))
        .collect();
    assert_eq!(lines.len(), cases.len(), "{out}");
    for &(name, descr, shape, order, dist) in &cases {
        let p = &lines[format!("{name}-1.npy").as_str()];
        let f = |i: usize| p[i].parse::<f64>().unwrap();
        let shape_text = shape
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("x");
        let dtype: DType = descr.parse().unwrap();
        assert_eq!(p[1], dtype.descr(), "{name}: dtype");
        assert_eq!(p[2], shape_text, "{name}: shape");
        assert_eq!(
            p[3],
            if order == Order::F { "1" } else { "0" },
            "{name}: order"
        );
        assert_eq!(p[4], "1", "{name}: bytes differ between 1 and 4 threads");
        let (mean, std, min, max, distinct, corr) = (f(5), f(6), f(7), f(8), f(9), f(10));
        match dist {
            Dist::Normal => {
                assert!(
                    mean.abs() < 0.01 && (std - 1.0).abs() < 0.01,
                    "{name}: mean {mean}, std {std}"
                );
                assert!(min < -3.5 && max > 3.5, "{name}: range {min}..{max}");
                assert!(
                    corr.abs() < 0.01,
                    "{name}: real and imaginary parts correlate ({corr})"
                );
            }
            Dist::Uniform if descr == "|b1" => {
                assert!(
                    (mean - 0.5).abs() < 0.01 && distinct == 2.0,
                    "{name}: mean {mean}, {distinct} values"
                );
            }
            Dist::Uniform => {
                assert!((mean - 0.5).abs() < 0.01, "{name}: mean {mean}");
                assert!(
                    (std - (1.0f64 / 12.0).sqrt()).abs() < 0.01,
                    "{name}: std {std}"
                );
                assert!(min >= 0.0 && max < 1.0, "{name}: range {min}..{max}");
            }
            Dist::Integers { low, high } => {
                assert_eq!((min, max), (low as f64, (high - 1) as f64), "{name}");
                assert_eq!(distinct, (high - low) as f64, "{name}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Conversions.

const SOURCES_SCRIPT: &str = r"
d = sys.argv[1]
rng = np.random.default_rng(7)
shape = (37, 23)
n = shape[0] * shape[1]
def save(name, a, order):
    a = a.reshape(shape)
    a = np.asfortranarray(a) if order == 'F' else np.ascontiguousarray(a)
    np.save(os.path.join(d, name + '.npy'), a)
# Floats that every target holds without NaN or out-of-range casts to integers.
u = rng.uniform(0, 120, n)
save('f8-le-C', u.astype('<f8'), 'C')
save('f8-be-F', u.astype('>f8'), 'F')
save('f4-be-C', rng.standard_normal(n).astype('>f4'), 'C')
save('f2-le-F', rng.uniform(0, 100, n).astype('<f2'), 'F')
save('i8-be-C', rng.integers(-2**63, 2**63 - 1, n, dtype=np.int64, endpoint=True).astype('>i8'), 'C')
save('u2-le-F', rng.integers(0, 2**16, n, dtype=np.uint16).astype('<u2'), 'F')
save('i4-le-C', rng.integers(-70000, 70000, n, dtype=np.int32).astype('<i4'), 'C')
save('b1-F', rng.integers(0, 2, n).astype(bool), 'F')
save('c8-be-C', (rng.uniform(0, 120, n) + 1j * rng.uniform(-50, 50, n)).astype('>c8'), 'C')
save('c16-le-F', (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype('<c16'), 'F')
";

const CHECK_SCRIPT: &str = r"
d = sys.argv[1]
for line in open(os.path.join(d, 'jobs.txt')):
    src, out, descr, order = line.split()
    a = np.load(os.path.join(d, src))
    b = np.load(os.path.join(d, out))
    want = a.astype(np.dtype(descr))
    problems = []
    if b.dtype.str != np.dtype(descr).str:
        problems.append('dtype %s' % b.dtype.str)
    if b.shape != a.shape:
        problems.append('shape %s' % (b.shape,))
    if order == 'F' and a.ndim > 1 and not b.flags.f_contiguous:
        problems.append('not F order')
    if order == 'C' and not b.flags.c_contiguous:
        problems.append('not C order')
    if not np.array_equal(b, want):
        bad = np.argwhere(b != want)[:3]
        problems.append('values differ at %s: %s vs %s' % (bad.tolist(), b[tuple(bad.T)], want[tuple(bad.T)]))
    print(out, 'ok' if not problems else '; '.join(problems))
";

#[test]
fn converted_files_equal_numpy_astype() {
    let dir = tempfile::tempdir().unwrap();
    py(SOURCES_SCRIPT, &[dir.path()]);
    let jobs: [(&str, &[(&str, Order)]); 10] = [
        (
            "f8-le-C",
            &[
                ("<f4", Order::C),
                (">f2", Order::F),
                (">f8", Order::F),
                ("<i2", Order::C),
                ("|u1", Order::F),
                ("<c8", Order::C),
                ("|b1", Order::C),
            ],
        ),
        (
            "f8-be-F",
            &[("<f8", Order::C), ("<f4", Order::F), (">i8", Order::C)],
        ),
        (
            "f4-be-C",
            &[("<f8", Order::F), ("<f2", Order::C), ("<c16", Order::C)],
        ),
        (
            "f2-le-F",
            &[(">f4", Order::C), ("<f8", Order::F), ("|u1", Order::C)],
        ),
        (
            "i8-be-C",
            &[
                ("<i2", Order::C),
                ("|u1", Order::F),
                ("<f8", Order::C),
                ("<f4", Order::F),
                ("|b1", Order::C),
            ],
        ),
        (
            "u2-le-F",
            &[("|i1", Order::C), (">i4", Order::F), (">f2", Order::C)],
        ),
        ("i4-le-C", &[(">f2", Order::C), ("<u2", Order::F)]),
        (
            "b1-F",
            &[("<f8", Order::C), ("|u1", Order::F), (">c8", Order::C)],
        ),
        (
            "c8-be-C",
            &[("<c16", Order::F), ("<f4", Order::C), ("<i4", Order::F)],
        ),
        ("c16-le-F", &[("<c8", Order::C), (">f8", Order::F)]),
    ];
    let mut list = String::new();
    for (src, targets) in jobs {
        let a = open(&dir.path().join(format!("{src}.npy")));
        for (k, &(descr, order)) in targets.iter().enumerate() {
            let out = format!("{src}-to-{k}.npy");
            let opts = ConvertOptions {
                dtype: descr.parse().unwrap(),
                order,
                raw: false,
                overwrite: false,
            };
            convert_file(&a, &dir.path().join(&out), &opts).unwrap();
            let o = if order == Order::F { "F" } else { "C" };
            list.push_str(&format!("{src}.npy {out} {descr} {o}\n"));
        }
    }
    std::fs::write(dir.path().join("jobs.txt"), &list).unwrap();
    let out = py(CHECK_SCRIPT, &[dir.path()]);
    assert_eq!(out.lines().count(), list.lines().count(), "{out}");
    let bad: Vec<&str> = out.lines().filter(|l| !l.ends_with(" ok")).collect();
    assert!(
        bad.is_empty(),
        "conversions that differ from numpy's astype:\n{}",
        bad.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Axis reductions written to .npy.

const AXIS_SCRIPT: &str = r"
d = sys.argv[1]
for line in open(os.path.join(d, 'jobs.txt')):
    src, out, op, axis, skipna, ddof = line.split()
    axis, skipna, ddof = int(axis), skipna == '1', int(ddof)
    a = np.load(os.path.join(d, src))
    b = np.load(os.path.join(d, out))
    k = a.dtype.kind
    wide = a.astype(np.complex128 if k == 'c' else np.float64)
    nan = 'nan' if skipna else ''
    exact = True
    if op == 'sum' and k in 'biu':
        want = a.sum(axis=axis, dtype=np.uint64 if k == 'u' else np.int64)
    elif op == 'sum':
        want, exact = getattr(np, nan + 'sum')(wide, axis=axis), False
    elif op == 'mean':
        want, exact = getattr(np, nan + 'mean')(wide, axis=axis), False
    elif op in ('var', 'std'):
        want, exact = getattr(np, nan + op)(wide, axis=axis, ddof=ddof), False
    else:
        want = getattr(np, nan + op)(a, axis=axis)
    problems = []
    if b.dtype != want.dtype.newbyteorder('='):
        problems.append('dtype %s, numpy %s' % (b.dtype.str, want.dtype.str))
    if b.shape != want.shape:
        problems.append('shape %s, numpy %s' % (b.shape, want.shape))
    elif exact and not np.array_equal(b, want, equal_nan=(k in 'fc' and op in ('min', 'max'))):
        problems.append('values differ')
    elif not exact:
        scale = np.nansum(np.abs(wide), axis=axis) if op in ('sum', 'mean') else np.abs(want)
        if op == 'mean':
            scale = scale / a.shape[axis]
        if not np.allclose(b, want, rtol=1e-10, atol=0, equal_nan=True) and not np.all((np.abs(b - want) <= 1e-12 * scale) | (np.isnan(b) & np.isnan(want))):
            problems.append('values differ by %s' % np.nanmax(np.abs(b - want)))
    print(out, 'ok' if not problems else '; '.join(problems))
";

/// Sources for the axis reductions: `(file name, array, whether it is float)`.
fn axis_sources(dir: &Path) -> Vec<(&'static str, DynArray<ReadWrite>, bool)> {
    use mmarray_dtype::{Bool, Complex32, f16};
    let mut rng = Rng::new(77);
    let shape = [13, 7, 5];
    let n = 13 * 7 * 5;
    let (c, f) = (Order::C, Order::F);
    let (le, be) = (ByteOrder::Little, ByteOrder::Big);
    let mut f8: Vec<f64> = (0..n).map(|_| rng.wide_f64()).collect();
    f8[17] = f64::NAN;
    f8[300] = f64::NAN;
    let f4: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
    let f2: Vec<f16> = (0..n).map(|_| f16::from_f64(rng.normal() * 10.0)).collect();
    let i2: Vec<i16> = (0..n).map(|_| rng.next_u64() as i16).collect();
    let u8s: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
    let b1: Vec<Bool> = (0..n)
        .map(|_| Bool::from(rng.next_u64() & 1 == 1))
        .collect();
    let c8: Vec<Complex32> = (0..n)
        .map(|_| Complex32::new(rng.normal() as f32, rng.normal() as f32))
        .collect();
    vec![
        ("f8.npy", npy_with(dir, "f8.npy", &f8, &shape, c, be), true),
        ("f4.npy", npy_with(dir, "f4.npy", &f4, &shape, f, le), true),
        ("f2.npy", npy_with(dir, "f2.npy", &f2, &shape, f, be), true),
        ("i2.npy", npy_with(dir, "i2.npy", &i2, &shape, c, be), false),
        (
            "u8.npy",
            npy_with(dir, "u8.npy", &u8s, &shape, f, le),
            false,
        ),
        ("b1.npy", npy_with(dir, "b1.npy", &b1, &shape, f, le), false),
        ("c8.npy", npy_with(dir, "c8.npy", &c8, &shape, c, be), true),
    ]
}

#[test]
fn axis_reductions_to_npy_equal_numpy() {
    let dir = tempfile::tempdir().unwrap();
    let sources = axis_sources(dir.path());
    let mut list = String::new();
    let mut count = 0;
    for (name, a, float) in &sources {
        for op in Op::ALL {
            for axis in [0isize, 1, 2, -1, -3] {
                let skips: &[bool] = if *float { &[false, true] } else { &[false] };
                for &skipna in skips {
                    let ddof = if matches!(op, Op::Var | Op::Std) {
                        (count % 2) as usize
                    } else {
                        0
                    };
                    let out = format!("out-{count}.npy");
                    count += 1;
                    let opts = ReduceOptions { skipna, ddof };
                    reduce_axis_to_npy(a, op, axis, &opts, &dir.path().join(&out), false)
                        .unwrap_or_else(|e| panic!("{name} {op} axis {axis} skipna {skipna}: {e}"));
                    let skip = u8::from(skipna);
                    list.push_str(&format!("{name} {out} {op} {axis} {skip} {ddof}\n"));
                }
            }
        }
    }
    std::fs::write(dir.path().join("jobs.txt"), &list).unwrap();
    let out = py(AXIS_SCRIPT, &[dir.path()]);
    assert_eq!(out.lines().count(), list.lines().count(), "{out}");
    let bad: Vec<&str> = out.lines().filter(|l| !l.ends_with(" ok")).collect();
    assert!(
        bad.is_empty(),
        "axis reductions that differ from numpy:\n{}\n(jobs:\n{list})",
        bad.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The model of numpy's summation used by the accuracy tests.

#[test]
fn numpy_sum_model_is_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(5);
    let mut arrays: Vec<Vec<f64>> = vec![
        (0..1000).map(|_| rng.uniform()).collect(),
        (0..100_003).map(|_| rng.wide_f64()).collect(),
        (0..30_000).map(|i| [1e16, 1.0, -1e16][i % 3]).collect(),
        (0..7).map(|_| rng.normal()).collect(),
        (0..129).map(|_| rng.normal() * 1e10).collect(),
        vec![-0.0],
    ];
    arrays.push((0..257).map(|i| 0.1 * f64::from(i)).collect());
    for (k, values) in arrays.iter().enumerate() {
        npy_with(
            dir.path(),
            &format!("{k}.npy"),
            values,
            &[values.len()],
            Order::C,
            ByteOrder::Little,
        )
        .close()
        .unwrap();
    }
    let script = "d = sys.argv[1]\nfor k in range(int(sys.argv[2])):\n    print(np.sum(np.load(os.path.join(d, '%d.npy' % k))).hex())\n";
    let count = dir.path().join(arrays.len().to_string());
    let out = py(script, &[dir.path(), Path::new(count.file_name().unwrap())]);
    let sums: Vec<&str> = out.lines().collect();
    assert_eq!(sums.len(), arrays.len());
    for (k, (values, np_hex)) in arrays.iter().zip(sums).enumerate() {
        let model = numpy_sum(values);
        let np = parse_hex_float(np_hex);
        assert_eq!(
            model.to_bits(),
            np.to_bits(),
            "array {k}: model {model:e}, numpy {np:e}"
        );
    }
    let _ = encode_bytes(&[0u8], ByteOrder::Little);
    let _ = Kind::F64;
}

/// Parses Python's `float.hex()` output (`-0x1.8p+3`, `0x0.0p+0`, `inf`, `nan`).
fn parse_hex_float(s: &str) -> f64 {
    match s {
        "inf" => return f64::INFINITY,
        "-inf" => return f64::NEG_INFINITY,
        "nan" => return f64::NAN,
        _ => {}
    }
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let s = s.strip_prefix("0x").expect("0x");
    let (mant, exp) = s.split_once('p').expect("p");
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let mut m = u64::from_str_radix(int, 16).unwrap() as f64;
    for (i, c) in frac.chars().enumerate() {
        m += f64::from(c.to_digit(16).unwrap()) * 16f64.powi(-(i as i32 + 1));
    }
    let v = m * 2f64.powi(exp.parse().unwrap());
    if neg { -v } else { v }
}
