//! Text the `mmarray` binary writes, against numpy: `export` byte for byte against
//! `np.savetxt` (and read back with `np.loadtxt`), `show --precision/--threshold/
//! --edgeitems/--linewidth` against `repr()` under `np.printoptions`.

#[path = "../../mmarray-dtype/tests/support/numpy.rs"]
mod numpy;

mod common;

use common::Scratch;
use serde_json::{Value as Json, json};

/// Runs a numpy script with the scratch folder as `sys.argv[1]` and parses the
/// JSON it prints.
fn py_json(s: &Scratch, script: &str) -> Json {
    let out = numpy::run_py(script, &[s.dir.path().as_os_str()]);
    serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("python printed no JSON ({e}):\n{out}"))
}

/// Arrays of every dtype in both byte orders, 0-d, 1-d and 2-d, with edge values.
const ARRAYS: &str = r#"
import os, sys
import numpy as np
d = sys.argv[1]
def save(name, a):
    np.save(os.path.join(d, name + ".npy"), a)
ints = {"i1": [-128, 127, 0, -1, 5, 100], "u1": [0, 255, 1, 7, 128, 3],
        "i2": [-32768, 32767, 0, -1, 5, 1000], "u2": [0, 65535, 1, 7, 4096, 3],
        "i4": [-2**31, 2**31 - 1, 0, -1, 5, 123456], "u4": [0, 2**32 - 1, 1, 7, 2**31, 3],
        "i8": [-2**63, 2**63 - 1, 0, -1, 2**53 + 1, 123456789],
        "u8": [0, 2**64 - 1, 2**63, 2**64 - 1025, 2**53 + 1, 3]}
for code, vals in ints.items():
    for e in ("<", ">"):
        dt = np.dtype(e + code)
        tag = code + ("b" if e == ">" and dt.itemsize > 1 else "")
        a = np.array(vals, dt)
        save("n_" + tag + "_1d", a)
        save("n_" + tag + "_2d", a.reshape(2, 3))
        save("n_" + tag + "_0d", a[1].reshape(()))
b = np.array([True, False, True, True, False, False])
save("n_b1_1d", b); save("n_b1_2d", b.reshape(3, 2)); save("n_b1_0d", np.array(True))
finite = [0.0, -0.0, 1.5, -2.25, 1e-7, 123456.789, 1e20, 0.1, 2.5, -1e-300, 65504.0, 1/3]
special = [np.nan, np.inf, -np.inf, 1.0, -0.0, 0.5]
for code in ("f2", "f4", "f8"):
    for e in ("<", ">"):
        dt = np.dtype(e + code)
        tag = code + ("b" if e == ">" else "")
        with np.errstate(over="ignore"):
            a = np.array(finite, dt)
        save("n_" + tag + "_1d", a)
        save("n_" + tag + "_2d", a.reshape(3, 4))
        save("n_" + tag + "_0d", a[2].reshape(()))
        save("x_" + tag + "_1d", np.array(special, dt))
for code in ("c8", "c16"):
    for e in ("<", ">"):
        dt = np.dtype(e + code)
        tag = code + ("b" if e == ">" else "")
        a = np.array([1 + 2j, -1.5 - 0.25j, 0j, -0.0 + 1e-5j, 1e20 - 3j, 0.1 + 0.1j], dt)
        save("n_" + tag + "_1d", a)
        save("n_" + tag + "_2d", a.reshape(2, 3))
        save("n_" + tag + "_0d", a[1].reshape(()))
        save("x_" + tag + "_1d", np.array([complex(np.nan, 1), complex(1, -np.inf), complex(-np.inf, np.nan)], dt))
save("e_f8_2d", np.zeros((3, 0)))
save("e_f8_1d", np.zeros(0))
"#;

/// Compares every case's output with `np.savetxt` (an error on both sides counts
/// as agreement) and reads the default-format ones back with `np.loadtxt`.
const SAVETXT_CHECK: &str = r#"
import io, json, os, sys, warnings
import numpy as np
d = sys.argv[1]
with open(os.path.join(d, "cases.json")) as f:
    cases = json.load(f)
bad, compared, errors, loaded = [], 0, 0, 0
for name, fmt, delim, spec, out in cases:
    a = np.load(os.path.join(d, name), mmap_mode="r")
    if spec:
        a = a[eval("np.s_[" + spec + "]")]
    if a.ndim == 0:
        a = a.reshape(1)
    buf = io.BytesIO()
    try:
        np.savetxt(buf, a, fmt=fmt, delimiter=delim)
        want = buf.getvalue()
    except (TypeError, ValueError, OverflowError):
        want = None
    got = None
    if out is not None:
        with open(os.path.join(d, out), "rb") as f:
            got = f.read()
    if want != got:
        bad.append([name, fmt, delim, spec, None if want is None else want[:300].decode(),
                    None if got is None else got[:300].decode()])
        continue
    compared += 1
    errors += want is None
    if fmt == "%.18e" and got is not None and a.size and len(delim) == 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            back = np.loadtxt(os.path.join(d, out), delimiter=None if delim == " " else delim,
                              dtype=complex if a.dtype.kind == "c" else float, ndmin=a.ndim)
        want_back = np.asarray(a).astype(back.dtype)
        if back.shape != want_back.shape or not np.array_equal(back, want_back, equal_nan=True):
            bad.append([name, fmt, delim, spec, "loadtxt", repr(back)])
        loaded += 1
print(json.dumps({"bad": bad[:20], "nbad": len(bad), "compared": compared, "errors": errors,
                  "loaded": loaded}))
"#;

#[test]
fn export_writes_exactly_what_savetxt_writes() {
    let s = Scratch::new();
    numpy::run_py(ARRAYS, &[s.dir.path().as_os_str()]);
    let arrays: Vec<String> = s
        .files()
        .into_iter()
        .filter(|n| n.starts_with("n_") || n.starts_with("x_") || n.starts_with("e_"))
        .collect();
    assert!(arrays.len() > 80, "{}", arrays.len());
    let cases = run_exports(&s, &arrays);
    assert!(cases.len() > 2000, "{}", cases.len());
    s.write("cases.json", Json::Array(cases).to_string().as_bytes());
    let report = py_json(&s, SAVETXT_CHECK);
    assert_eq!(
        report["nbad"], 0,
        "export differs from np.savetxt: {report:#}"
    );
    assert!(report["compared"].as_u64().unwrap() > 2000, "{report}");
    // Both sides refused some (NaN with %d, %x of floats), and not all.
    let errors = report["errors"].as_u64().unwrap();
    assert!(errors > 20 && errors < 1000, "{report}");
    assert!(report["loaded"].as_u64().unwrap() > 100, "{report}");
}

/// Runs `export` on every array with every format (and some with each variant
/// of the options); returns the cases `[name, fmt, delimiter, slice, OUT or
/// null when it failed]`.
fn run_exports(s: &Scratch, arrays: &[String]) -> Vec<Json> {
    let fmts = [
        "%.18e", "%d", "%.3f", "%10.4e", "%g", "%+.6g", "%s", "%x", "%-12.5E|", "%#08.3f", "%05i",
        "% .2F", "%.0f", "%#o", "%G",
    ];
    // (options, output name suffix, the delimiter and slice they mean).
    let variants: [(&[&str], &str, &str, &str); 7] = [
        (&[], ".txt", " ", ""),
        (&[], ".csv", ",", ""),
        (&["--delimiter", ";"], ".txt", ";", ""),
        (
            &["--format", "csv", "--delimiter", " | "],
            ".dat",
            " | ",
            "",
        ),
        (&["--slice", "::-1"], ".txt", " ", "::-1"),
        (&["--format", "txt"], ".csv", " ", ""),
        (
            &["--slice", "1:, ::2", "--format", "csv"],
            ".out",
            ",",
            "1:, ::2",
        ),
    ];
    let mut cases = Vec::new();
    let mut k = 0;
    for name in arrays {
        for (f, fmt) in fmts.iter().enumerate() {
            // Every array with every format; the variants with a few formats.
            let chosen: Vec<usize> = if f < 3 {
                (0..variants.len()).collect()
            } else {
                vec![k % variants.len()]
            };
            for v in chosen {
                let (opts, ext, delimiter, slice) = variants[v];
                if !slice.is_empty() && !name.contains("_2d") && !name.contains("_1d") {
                    continue;
                }
                if slice.contains(',') && !name.contains("_2d") {
                    continue;
                }
                let out = format!("out{k}{ext}");
                k += 1;
                let mut args = vec!["export", name.as_str(), out.as_str(), "--fmt", fmt];
                args.extend_from_slice(opts);
                let run = s.run(&args);
                let result = match run.code {
                    0 => Json::from(out.clone()),
                    1 => {
                        run.fails(1, &[]);
                        assert!(
                            !s.path(&out).exists(),
                            "{args:?} failed but left {out} behind"
                        );
                        Json::Null
                    }
                    _ => panic!("{args:?}: exit {}: {}", run.code, run.stderr),
                };
                cases.push(json!([name, fmt, delimiter, slice, result]));
            }
        }
    }
    cases
}

#[test]
fn export_to_stdout_matches_savetxt() {
    let s = Scratch::new();
    numpy::run_py(ARRAYS, &[s.dir.path().as_os_str()]);
    let mut got = Vec::new();
    for name in [
        "n_f8_2d.npy",
        "n_c16b_2d.npy",
        "n_u8b_1d.npy",
        "n_b1_0d.npy",
    ] {
        let dash = s.run(&["export", name, "-"]);
        let none = s.run(&["export", name]);
        assert_eq!(dash.ok(), none.ok());
        let csv = s.run(&["export", name, "--format", "csv", "--fmt", "%.5g"]);
        got.push(json!([name, dash.stdout, csv.ok()]));
    }
    s.write("got.json", Json::Array(got).to_string().as_bytes());
    let bad = py_json(
        &s,
        r#"
import io, json, os, sys
import numpy as np
d = sys.argv[1]
bad = []
for name, txt, csv in json.load(open(os.path.join(d, "got.json"))):
    a = np.load(os.path.join(d, name))
    if a.ndim == 0:
        a = a.reshape(1)
    for text, kw in ((txt, {}), (csv, {"fmt": "%.5g", "delimiter": ","})):
        buf = io.BytesIO()
        np.savetxt(buf, a, **kw)
        if buf.getvalue().decode() != text:
            bad.append([name, kw, buf.getvalue().decode(), text])
print(json.dumps(bad))
"#,
    );
    assert_eq!(bad, json!([]));
}

/// numpy arrays for `show` with print options: several dtypes and shapes, small
/// and large (summarised).
const SHOW_ARRAYS: &str = r#"
import os, sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
def save(name, a):
    np.save(os.path.join(d, name + ".npy"), a)
x = rng.standard_normal(2000) * 100
save("f8_1d", x)
save("f8_2d", x.reshape(40, 50))
save("f8_3d", x.reshape(10, 10, 20))
save("f8_small", x[:12].reshape(3, 4))
save("f4_1d", x[:30].astype(">f4"))
save("f2_2d", (x[:60] / 50).astype("f2").reshape(6, 10))
save("f8_tiny", np.array([1e-5, 1.0, 123.456, np.nan, -np.inf]))
save("i8_1d", np.arange(2000) - 1000)
save("u2_2d", np.arange(600, dtype=">u2").reshape(20, 30))
save("b1_1d", rng.random(50) > 0.5)
save("c16_1d", (x[:40] + 1j * x[40:80]))
save("c8_2d", (x[:24] - 1j * x[24:48]).astype("c8").reshape(4, 6))
save("f8_0d", np.array(np.pi))
"#;

#[test]
fn show_print_options_match_numpy() {
    let s = Scratch::new();
    numpy::run_py(SHOW_ARRAYS, &[s.dir.path().as_os_str()]);
    let names = s.files();
    assert_eq!(names.len(), 13);
    let options: [&[(&str, usize)]; 8] = [
        &[],
        &[("precision", 3)],
        &[("precision", 0)],
        &[("threshold", 10)],
        &[("threshold", 10), ("edgeitems", 1)],
        &[("threshold", 0), ("edgeitems", 5), ("precision", 2)],
        &[("threshold", 100_000), ("precision", 4), ("linewidth", 120)],
        &[("edgeitems", 2), ("linewidth", 40), ("precision", 12)],
    ];
    let mut got = Vec::new();
    for name in &names {
        for opts in options {
            let mut args = vec!["show".to_owned(), name.clone()];
            for (k, v) in opts {
                args.push(format!("--{k}"));
                args.push(v.to_string());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = s.run(&args);
            let text = run
                .ok()
                .strip_suffix('\n')
                .unwrap_or(&run.stdout)
                .to_owned();
            let opts: serde_json::Map<String, Json> = opts
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            got.push(json!([name, opts, text]));
        }
    }
    s.write("got.json", Json::Array(got).to_string().as_bytes());
    let report = py_json(
        &s,
        r#"
import json, os, sys
import numpy as np
d = sys.argv[1]
bad, n = [], 0
for name, opts, text in json.load(open(os.path.join(d, "got.json"))):
    with np.printoptions(**opts):
        want = repr(np.load(os.path.join(d, name), mmap_mode="r"))
    n += 1
    if want != text:
        bad.append([name, opts, want, text])
print(json.dumps({"bad": bad[:10], "nbad": len(bad), "n": n}))
"#,
    );
    assert_eq!(report["nbad"], 0, "show differs from numpy: {report:#}");
    assert_eq!(report["n"], 13 * 8);
}
