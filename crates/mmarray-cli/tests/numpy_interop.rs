//! The `mmarray` binary against numpy: files the CLI writes load in numpy with the
//! expected values, `info --json`, `reduce --json` and `stats --json` agree with
//! numpy on files numpy wrote, and `show` prints exactly numpy's `repr()`.

#[path = "../../mmarray-dtype/tests/support/numpy.rs"]
mod numpy;

mod common;

use std::ffi::OsStr;

use common::Scratch;
use serde_json::Value as Json;

/// Runs a numpy script with the scratch folder as `sys.argv[1]` and parses the
/// JSON it prints.
fn py_json(s: &Scratch, script: &str) -> Json {
    let out = numpy::run_py(script, &[s.dir.path().as_os_str()]);
    serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("python printed no JSON ({e}):\n{out}"))
}

/// Runs a numpy script that prints nothing but checks with `assert`.
fn py_check(s: &Scratch, script: &str, args: &[&str]) {
    let mut all: Vec<&OsStr> = vec![s.dir.path().as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    numpy::run_py(script, &all);
}

const DTYPES: [&str; 28] = [
    "?", "i1", "u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", ">u4", "<i8", ">i8", "<u8",
    ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16", "float64",
    "int", "D",
];

#[test]
fn created_files_load_in_numpy() {
    let s = Scratch::new();
    let mut cases = Vec::new();
    for (i, dtype) in DTYPES.iter().enumerate() {
        for (shape, order) in [
            ("3,4", "C"),
            ("3,4", "F"),
            ("2,3,5", "F"),
            ("7", "C"),
            ("", "C"),
            ("0,2", "C"),
        ] {
            let name = format!("a{i}_{order}_{}.npy", shape.replace(',', "x"));
            s.run(&[
                "create", &name, "--dtype", dtype, "--shape", shape, "--order", order, "--arange",
            ])
            .ok();
            cases.push(serde_json::json!([name, dtype, shape, order, false]));
        }
        let name = format!("r{i}.dat");
        s.run(&[
            "create", &name, "--raw", "--dtype", dtype, "--shape", "4,3", "--order", "F",
            "--arange",
        ])
        .ok();
        cases.push(serde_json::json!([name, dtype, "4,3", "F", true]));
        let name = format!("z{i}.npy");
        s.run(&["create", &name, "--dtype", dtype, "--shape", "5,2"])
            .ok();
        cases.push(serde_json::json!([name, dtype, "5,2", "C", false]));
    }
    py_check(
        &s,
        r#"
import json, os, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
d = sys.argv[1]
for name, dtype, shape, order, raw in json.loads(sys.argv[2]):
    shape = tuple(int(x) for x in shape.split(",") if x)
    dt = np.dtype(dtype)
    path = os.path.join(d, name)
    if raw:
        a = np.memmap(path, dtype=dt, mode="r", shape=shape, order=order)
    else:
        a = np.load(path, mmap_mode="r")
        assert a.dtype == dt and a.dtype.str == dt.str, (name, a.dtype.str, dt.str)
        assert a.shape == shape, (name, a.shape, shape)
        assert a.flags.f_contiguous if order == "F" else a.flags.c_contiguous, name
    n = int(np.prod(shape))
    want = np.zeros(shape, dt) if name.startswith("z") else np.arange(n).reshape(shape).astype(dt)
    assert np.array_equal(a, want), (name, a, want)
    assert os.path.getsize(path) == (0 if raw else 128) + n * dt.itemsize, name
    if not raw:
        # Byte-identical to what numpy writes for the same array.
        with open(path, "rb") as f:
            mine = f.read()
        import io
        buf = io.BytesIO()
        np.save(buf, np.asfortranarray(want) if order == "F" else want)
        assert mine == buf.getvalue(), name
"#,
        &[&serde_json::Value::Array(cases).to_string()],
    );
}

#[test]
fn filled_sliced_and_converted_files_load_in_numpy() {
    let s = Scratch::new();
    numpy::run_py(
        r#"
import os, sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(3)
for dt in ["<f8", ">f4", "<i4", ">u2", "|b1", "<c16", ">f2", "|i1"]:
    a = (rng.standard_normal((6, 5, 4)) * 50).astype(dt)
    np.save(os.path.join(d, "src_" + dt[1:] + ".npy"), a)
    np.save(os.path.join(d, "srcF_" + dt[1:] + ".npy"), np.asfortranarray(a))
"#,
        &[s.dir.path().as_os_str()],
    );
    let specs = [
        ":",
        "-1",
        "::-1",
        "1:-1, ..., 0",
        "::2, -3:, ::-2",
        "-2, 1",
        "..., -1",
        "5, 4, 3",
    ];
    let mut cases = Vec::new();
    for prefix in ["src", "srcF"] {
        for dt in ["f8", "f4", "i4", "u2", "b1", "c16", "f2", "i1"] {
            let src = format!("{prefix}_{dt}.npy");
            for (k, spec) in specs.iter().enumerate() {
                let out = format!("slice_{prefix}_{dt}_{k}.npy");
                s.run(&["slice", &src, &out, spec]).ok();
                cases.push(serde_json::json!(["slice", src, out, spec, ""]));
            }
            for (k, to) in ["float32", ">f8", "i2", "?", "c8", "<u8"]
                .iter()
                .enumerate()
            {
                let out = format!("conv_{prefix}_{dt}_{k}.npy");
                s.run(&["convert", &src, &out, "--out-dtype", to, "--out-order", "F"])
                    .ok();
                cases.push(serde_json::json!(["convert", src, out, "", to]));
            }
            let out = format!("fill_{prefix}_{dt}.npy");
            std::fs::copy(s.path(&src), s.path(&out)).unwrap();
            let value = match dt {
                "b1" => "true",
                "u2" => "65535",
                "i1" | "i4" => "-7",
                "c16" => "-1.5+2j",
                _ => "-2.5",
            };
            s.run(&["fill", &out, value, "--slice", "1:-1, ::2"]).ok();
            cases.push(serde_json::json!(["fill", src, out, "1:-1, ::2", value]));
        }
    }
    py_check(
        &s,
        r#"
import json, os, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
d = sys.argv[1]
p = lambda n: os.path.join(d, n)
for kind, src, out, spec, arg in json.loads(sys.argv[2]):
    a = np.load(p(src))
    b = np.load(p(out))
    if kind == "slice":
        want = a[eval("np.s_[" + spec + "]")]
        assert b.dtype.str == a.dtype.str, (out, b.dtype, a.dtype)
        assert b.flags.c_contiguous
    elif kind == "convert":
        want = np.asfortranarray(a.astype(np.dtype(arg)))
        if np.dtype(arg).kind in "iu" and a.dtype.kind == "f":
            # Out-of-range float -> int casts are undefined in C; mmarray saturates.
            ok = (a.real >= np.iinfo(arg).min) & (a.real <= np.iinfo(arg).max)
            b, want = b[ok], want[ok]
        elif np.dtype(arg).kind in "iu" and a.dtype.kind == "c":
            ok = (a.real >= np.iinfo(arg).min) & (a.real <= np.iinfo(arg).max)
            b, want = b[ok], want[ok]
        else:
            assert b.dtype.str == np.dtype(arg).str, (out, b.dtype.str)
            assert b.flags.f_contiguous or b.ndim < 2
    else:
        want = a.copy()
        value = True if arg == "true" else complex(arg) if "j" in arg else float(arg) if a.dtype.kind == "f" else int(arg)
        want[1:-1, ::2] = value
    assert b.shape == want.shape, (out, b.shape, want.shape)
    assert np.array_equal(b, want, equal_nan=b.dtype.kind in "fc"), (out, b, want)
"#,
        &[&Json::Array(cases).to_string()],
    );
}

#[test]
fn random_files_have_the_requested_distribution() {
    let s = Scratch::new();
    s.run(&[
        "create", "n.npy", "--dtype", "f8", "--shape", "200000", "--random", "normal", "--seed",
        "1",
    ])
    .ok();
    s.run(&[
        "create", "c.npy", "--dtype", "c8", "--shape", "100000", "--random", "normal", "--seed",
        "2",
    ])
    .ok();
    s.run(&[
        "create", "u.npy", "--dtype", ">f2", "--shape", "100000", "--random", "uniform", "--seed",
        "3",
    ])
    .ok();
    s.run(&["create", "i.npy", "--dtype", "i8", "--shape", "100000"])
        .ok();
    s.run(&[
        "random", "i.npy", "--low", "-3", "--high", "4", "--seed", "4",
    ])
    .ok();
    s.run(&["create", "b.npy", "--dtype", "bool", "--shape", "100000"])
        .ok();
    s.run(&["random", "b.npy", "--seed", "5", "--slice", "::2"])
        .ok();
    py_check(
        &s,
        r#"
import os, sys
import numpy as np
d = sys.argv[1]
l = lambda n: np.load(os.path.join(d, n))
n = l("n.npy"); assert abs(n.mean()) < 0.01 and abs(n.std() - 1) < 0.01, (n.mean(), n.std())
c = l("c.npy"); assert c.dtype == np.complex64
assert abs(c.real.std() - 1) < 0.02 and abs(c.imag.std() - 1) < 0.02 and abs(np.corrcoef(c.real, c.imag)[0, 1]) < 0.02
u = l("u.npy"); assert u.dtype.str == ">f2" and u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
i = l("i.npy"); assert set(np.unique(i)) == set(range(-3, 4)), np.unique(i)
b = l("b.npy"); assert not b[1::2].any() and 0.45 < b[::2].mean() < 0.55
"#,
        &[],
    );
}

#[test]
fn info_json_agrees_with_numpy() {
    let s = Scratch::new();
    let expected = py_json(
        &s,
        r#"
import json, os, sys
import numpy as np
from numpy.lib import format as fmt
d = sys.argv[1]
out = {}
arrays = {
    "f8.npy": np.zeros((10, 3)),
    "be.npy": np.zeros((4,), ">i4"),
    "f.npy": np.asfortranarray(np.zeros((3, 5, 2), "<c8")),
    "scalar.npy": np.array(1.5, "<f2"),
    "empty.npy": np.zeros((0, 7), "?"),
    "u8.npy": np.arange(1000, dtype=">u8"),
}
for name, a in arrays.items():
    np.save(os.path.join(d, name), a)
for version in [(1, 0), (2, 0), (3, 0)]:
    name = "v%d.npy" % version[0]
    arrays[name] = np.ones((2, 2), "<i2")
    with open(os.path.join(d, name), "wb") as f:
        fmt.write_array(f, arrays[name], version=version)
import ast, struct
for name, a in arrays.items():
    path = os.path.join(d, name)
    with open(path, "rb") as f:
        raw = f.read()
    major = raw[6]
    if major == 1:
        hlen, start = struct.unpack("<H", raw[8:10])[0], 10
    else:
        hlen, start = struct.unpack("<I", raw[8:12])[0], 12
    header = ast.literal_eval(raw[start:start + hlen].decode("latin1" if major < 3 else "utf8"))
    dtype = np.dtype(header["descr"])
    out[name] = {"format": "npy", "version": [major, raw[7]], "descr": dtype.str, "name": dtype.name,
                 "shape": list(header["shape"]),
                 "fortran_order": header["fortran_order"], "itemsize": dtype.itemsize, "size": a.size, "nbytes": a.nbytes,
                 "data_offset": start + hlen, "file_size": os.path.getsize(path)}
print(json.dumps(out))
"#,
    );
    let expected = expected.as_object().unwrap();
    for (name, want) in expected {
        assert_eq!(&s.json(&["info", name, "--json"]), want, "{name}");
    }
    // All at once: an array of the same objects, in the order given.
    let mut args = vec!["info", "--json"];
    args.extend(expected.keys().map(String::as_str));
    let all: Vec<Json> = expected.values().cloned().collect();
    assert_eq!(s.json(&args), Json::Array(all));
}

/// Compares JSON values: exactly, except floats within a relative tolerance.
fn close(got: &Json, want: &Json, rel: f64) -> bool {
    match (got, want) {
        (Json::Number(g), Json::Number(w)) if w.is_f64() || g.is_f64() => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            g == w || (g - w).abs() <= rel * w.abs().max(1e-300)
        }
        (Json::Array(g), Json::Array(w)) => {
            g.len() == w.len() && g.iter().zip(w).all(|(g, w)| close(g, w, rel))
        }
        _ => got == want,
    }
}

/// numpy's results in the contract's JSON value rules, as a python helper.
const PY_JSON_VALUE: &str = r#"
import json, math
import numpy as np
def jv(v):
    v = np.asarray(v)[()]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.complexfloating):
        return [jv(v.real), jv(v.imag)]
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, (np.float16, np.float32)):
        return float(str(v))
    return float(v)
"#;

/// numpy's reductions and stats of a set of arrays it writes, as JSON.
const PY_REDUCE: &str = r#"
import os, sys, warnings
warnings.simplefilter("ignore")
d = sys.argv[1]
rng = np.random.default_rng(11)
arrays = {
    "f8": rng.standard_normal((40, 30)) * 1e3,
    "f8nan": np.where(rng.random((25, 4)) < 0.2, np.nan, rng.standard_normal((25, 4))),
    "f4be": rng.standard_normal(5000).astype(">f4"),
    "f2": (rng.standard_normal(300) * 10).astype("<f2"),
    "i4": rng.integers(-1000, 1000, (17, 13)).astype("<i4"),
    "i1": rng.integers(-128, 128, 1000).astype("i1"),
    "u8": rng.integers(0, 2**63, 50, dtype=np.uint64) * np.uint64(3),
    "u1": rng.integers(0, 256, 999).astype("u1"),
    "b1": rng.random(77) < 0.3,
    "c16": rng.standard_normal(64) + 1j * rng.standard_normal(64),
    "c8nan": np.array([1 + 1j, np.nan + 0j, 2 - 5j, -3j], "<c8"),
    "F": np.asfortranarray(rng.standard_normal((6, 9))),
    "ties": np.array([3.0, -0.0, 0.0, 3.0, -7.0, -7.0]),
}
ops = {"sum": (np.sum, np.nansum), "mean": (np.mean, np.nanmean), "min": (np.min, np.nanmin),
        "max": (np.max, np.nanmax), "argmin": (np.argmin, np.nanargmin), "argmax": (np.argmax, np.nanargmax),
        "var": (np.var, np.nanvar), "std": (np.std, np.nanstd)}
out = {}
for name, a in arrays.items():
    np.save(os.path.join(d, name + ".npy"), a)
    res = {}
    for op, (f, nanf) in ops.items():
        for skip in (False, True):
            for ddof in ((0, 1) if op in ("var", "std") else (0,)):
                if name == "c8nan" and op in ("min", "max", "argmin", "argmax"):
                    continue
                g = nanf if skip and a.dtype.kind in "fc" else f
                kw = {"ddof": ddof} if op in ("var", "std") else {}
                if op in ("sum", "mean", "var", "std") and a.dtype.kind in "iub":
                    kw["dtype"] = {"sum": (np.int64 if a.dtype.kind in "ib" else np.uint64)}.get(op, np.float64)
                if op in ("sum", "mean", "var", "std") and a.dtype.kind == "f":
                    kw["dtype"] = np.float64
                if op in ("sum", "mean") and a.dtype.kind == "c":
                    kw["dtype"] = np.complex128
                x = a.astype(np.complex128) if a.dtype.kind == "c" and op in ("var", "std") else a
                if skip and op in ("var", "std") and a.dtype.kind in "fc":
                    # numpy's nanvar subtracts the mean in the array's own type
                    # (float16 here); compare with the accurate result instead.
                    g, x = f, x[~np.isnan(x)]
                try:
                    v = g(x, **kw)
                except ValueError:
                    continue
                res["%s %d %d" % (op, skip, ddof)] = jv(v)
    stats = {}
    for skip in (False, True):
        x = a[~np.isnan(a)] if skip and a.dtype.kind in "fc" else a
        sum_dtype = {"f": np.float64, "i": np.int64, "b": np.int64, "u": np.uint64, "c": np.complex128}[a.dtype.kind]
        mean_dtype = np.complex128 if a.dtype.kind == "c" else np.float64
        stats[str(skip)] = {"count": int(x.size), "sum": jv(np.sum(x, dtype=sum_dtype)), "mean": jv(np.mean(x, dtype=mean_dtype)),
                            "std": jv(np.std(x.astype(np.complex128)) if a.dtype.kind == "c" else np.std(x, dtype=np.float64))}
        if name != "c8nan":
            stats[str(skip)]["min"] = jv(np.min(x))
            stats[str(skip)]["max"] = jv(np.max(x))
    out[name] = {"reduce": res, "stats": stats}
print(json.dumps(out))
"#;

#[test]
fn reduce_and_stats_json_agree_with_numpy() {
    let s = Scratch::new();
    let script = format!("{PY_JSON_VALUE}{PY_REDUCE}");
    let expected = py_json(&s, &script);
    let mut wrong = Vec::new();
    for (name, want) in expected.as_object().unwrap() {
        let file = format!("{name}.npy");
        for (key, value) in want["reduce"].as_object().unwrap() {
            let parts: Vec<&str> = key.split(' ').collect();
            let mut args = vec![
                "reduce",
                file.as_str(),
                "--op",
                parts[0],
                "--json",
                "--ddof",
                parts[2],
            ];
            if parts[1] == "1" {
                args.push("--skipna");
            }
            let got = s.json(&args);
            assert_eq!(got["op"], parts[0]);
            if name == "c8nan" && parts[0] == "mean" && parts[1] == "0" {
                continue; // see complex_mean_propagates_nan_to_both_parts
            }
            if !close(&got["value"], value, 1e-9) {
                wrong.push(format!(
                    "{name} {key}: mmarray {} numpy {value}",
                    got["value"]
                ));
            }
        }
        for (skip, stats) in want["stats"].as_object().unwrap() {
            let mut args = vec!["stats", file.as_str(), "--json"];
            if skip == "True" {
                args.push("--skipna");
            }
            let got = s.json(&args);
            for (field, value) in stats.as_object().unwrap() {
                if name == "c8nan" && field == "mean" && skip == "False" {
                    continue; // see complex_mean_propagates_nan_to_both_parts
                }
                if !close(&got[field], value, 1e-9) {
                    wrong.push(format!(
                        "{name} stats skipna={skip} {field}: mmarray {} numpy {value}",
                        got[field]
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "mmarray and numpy disagree:\n{}",
        wrong.join("\n")
    );
}

/// numpy divides a complex sum by the count as a complex number, so a NaN in
/// either part of the sum makes both parts of the mean NaN: `np.mean([nan+0j,
/// 2-5j])` is `nan+nanj`; mmarray follows numpy.
#[test]
fn complex_mean_propagates_nan_to_both_parts() {
    let s = Scratch::new();
    s.run(&[
        "create", "c.npy", "--dtype", "c16", "--shape", "2", "--fill", "2-5j",
    ])
    .ok();
    s.run(&["fill", "c.npy", "nan", "--slice", "0"]).ok();
    let want = py_json(
        &s,
        r#"
import json, os, sys
import numpy as np
m = np.load(os.path.join(sys.argv[1], "c.npy")).mean()
print(json.dumps([str(m.real), str(m.imag)]))
"#,
    );
    assert_eq!(want, serde_json::json!(["nan", "nan"]));
    assert_eq!(
        s.json(&["reduce", "c.npy", "--op", "mean", "--json"])["value"],
        serde_json::json!(["nan", "nan"])
    );
    assert_eq!(
        s.json(&["stats", "c.npy", "--json"])["mean"],
        serde_json::json!(["nan", "nan"])
    );
}

/// Arrays of every kind, in both byte orders, with the shapes and values that
/// exercise numpy's printing rules.
const SHOW_ARRAYS: &str = r#"
import os, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
d = sys.argv[1]
rng = np.random.default_rng(0)
arrays = []
for k in ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]:
    for bo in "<>":
        dt = np.dtype(k).newbyteorder(bo) if np.dtype(k).itemsize > 1 else np.dtype(k)
        arrays += [np.arange(12).astype(dt).reshape(3, 4), np.arange(1500).astype(dt), np.array(7).astype(dt),
                   np.zeros((0, 3), dt), np.zeros(0, dt), np.arange(7 * 7 * 7 * 3).astype(dt).reshape(7, 7, 7, 3),
                   np.asfortranarray(np.arange(30).astype(dt).reshape(5, 6))]
for k in ["f2", "f4", "f8"]:
    for scale in [1e-6, 1e-3, 0.1, 1, 1e3, 1e5, 1e7, 1e9, 1e20]:
        arrays += [(rng.standard_normal(20) * scale).astype(k), (rng.uniform(0, 1, (4, 5)) * scale).astype(k)]
    arrays += [np.array(v, k) for v in ([np.nan, 1, -np.inf], [np.nan, np.nan], [np.inf], [-0.0, 0.0], [1.5, np.nan, 1e-8],
               [0.1, 0.25, 100], [123456.7, 0.001], [1e-4, 1e-3], [99999999, 1], [0.3, 1 / 3, 2 / 3], [65504, -65504],
               [1000, 1], [1001, 1], [999999, 1], [1e6, 1], [0.015625, 2169.65625], [14704, 41216])]
    arrays += [rng.standard_normal(3000).astype(k), np.array(np.finfo(k).tiny, k), np.array([np.finfo(k).max, np.finfo(k).min], k)]
for k in ["c8", "c16"]:
    arrays += [(rng.standard_normal(10) + 1j * rng.standard_normal(10)).astype(k),
               (rng.standard_normal((3, 3)) * 1e-5 + 1j * rng.standard_normal((3, 3)) * 10).astype(k),
               np.array([complex(np.nan, 1), complex(1, np.inf), complex(-np.inf, -np.nan)], k), np.array([1j, -1j, 0], k),
               np.array(1 + 2j, k), (rng.standard_normal(2000) + 1j).astype(k)]
for k in ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]:
    info = np.iinfo(k)
    arrays += [np.array([info.min, info.max, 0], k), rng.integers(info.min, info.max, 50, dtype=k, endpoint=True)]
arrays += [np.array([True, False, True]), np.array(False), np.ones((40, 40), bool), np.zeros((3, 0, 2)), np.zeros((1, 1, 1, 1)),
           np.arange(50.).reshape(1, 50), np.arange(100.).reshape(100, 1), np.arange(5000.).reshape(5, 1000) * 1.123456,
           np.arange(2 * 3 * 1001, dtype="i2").reshape(2, 3, 1001), np.linspace(-1, 1, 30).reshape(2, 15) ** 9]
for i, a in enumerate(arrays):
    np.save(os.path.join(d, "s%03d.npy" % i), a)
"#;

#[test]
fn show_prints_exactly_numpy_repr() {
    let s = Scratch::new();
    numpy::run_py(SHOW_ARRAYS, &[s.dir.path().as_os_str()]);
    let names: Vec<String> = s
        .files()
        .into_iter()
        .filter(|n| n.starts_with('s'))
        .collect();
    assert!(names.len() > 250, "{}", names.len());
    let mut got = serde_json::Map::new();
    for name in &names {
        let run = s.run(&["show", name]);
        got.insert(
            name.clone(),
            Json::from(run.ok().strip_suffix('\n').unwrap_or(&run.stdout)),
        );
    }
    s.write("got.json", Json::Object(got).to_string().as_bytes());
    let mismatches = py_json(
        &s,
        r#"
import json, os, sys
import numpy as np
d = sys.argv[1]
with open(os.path.join(d, "got.json")) as f:
    got = json.load(f)
bad = {}
for name, text in got.items():
    want = repr(np.load(os.path.join(d, name), mmap_mode="r"))
    if want != text:
        bad[name] = [want, text]
print(json.dumps(bad))
"#,
    );
    assert_eq!(
        mismatches,
        serde_json::json!({}),
        "show differs from numpy's repr"
    );
}

#[test]
fn show_slices_print_like_numpy_indexing() {
    let s = Scratch::new();
    numpy::run_py(
        r#"
import os, sys
import numpy as np
d = sys.argv[1]
np.save(os.path.join(d, "a.npy"), (np.arange(4 * 5 * 6).reshape(4, 5, 6) - 50) / 7)
np.save(os.path.join(d, "b.npy"), np.arange(20, dtype=">i2").reshape(4, 5))
np.save(os.path.join(d, "c.npy"), np.array([1 + 2j, 3 - 4j], "<c8"))
np.save(os.path.join(d, "t.npy"), np.array([True, False]))
"#,
        &[s.dir.path().as_os_str()],
    );
    let cases = [
        ("a.npy", "-1"),
        ("a.npy", "::-1, 1:3, -2"),
        ("a.npy", "1, 2, 3"),
        ("a.npy", "1, 2, 3, ..."),
        ("a.npy", "..., ::2"),
        ("a.npy", "5:"),
        ("a.npy", ""),
        ("b.npy", "-1, -1"),
        ("b.npy", "::-2"),
        ("c.npy", "1"),
        ("t.npy", "0"),
        ("t.npy", "-1"),
    ];
    let mut got = Vec::new();
    for (file, spec) in cases {
        let run = s.run(&["show", file, "--slice", spec]);
        got.push(serde_json::json!([file, spec, run.ok().trim_end()]));
    }
    s.write("got.json", Json::Array(got).to_string().as_bytes());
    let mismatches = py_json(
        &s,
        r#"
import json, os, sys
import numpy as np
d = sys.argv[1]
with open(os.path.join(d, "got.json")) as f:
    got = json.load(f)
bad = []
for name, spec, text in got:
    m = np.load(os.path.join(d, name), mmap_mode="r")
    want = repr(m[eval("np.s_[" + spec + "]")] if spec else m[()])
    if want != text:
        bad.append([name, spec, want, text])
print(json.dumps(bad))
"#,
    );
    assert_eq!(
        mismatches,
        serde_json::json!([]),
        "show --slice differs from numpy"
    );
}
