//! The `mmarray` binary against real numpy where numpy's behaviour is easy to get
//! wrong: float -> int casts of NaN, infinities, negative and huge values
//! (`convert --out-dtype`), the bounds `random --dist integers` accepts, and bool
//! bytes other than 0 and 1. These tests fail when numpy is missing.

#[path = "../../mmarray-dtype/tests/support/numpy.rs"]
mod numpy;

mod common;

use std::ffi::OsStr;

use common::Scratch;
use serde_json::Value as Json;

/// Runs a numpy script with the scratch folder as `sys.argv[1]` and `args` after
/// it, and parses the JSON it prints.
fn py_json(s: &Scratch, script: &str, args: &[&str]) -> Json {
    let mut all: Vec<&OsStr> = vec![s.dir.path().as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    let out = numpy::run_py(script, &all);
    serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("python printed no JSON ({e}):\n{out}"))
}

const SOURCES: [&str; 5] = ["f2", "f4", "f8", "c8", "c16"];
const TARGETS: [&str; 8] = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"];

/// Every float and complex dtype converted into every integer dtype by
/// `mmarray convert --out-dtype` gives exactly numpy's `astype` (NaN, infinities,
/// negative, fractional and huge values included; complex through the real part).
#[test]
fn convert_float_to_int_gives_numpy_astype_values() {
    let s = Scratch::new();
    // numpy writes the sources (values cast from float64 into each type), and the
    // expected outputs of astype, as hex of their bytes.
    let expected = py_json(
        &s,
        r#"
import json, os, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
d = sys.argv[1]
sources, targets = sys.argv[2].split(","), sys.argv[3].split(",")
vals = [0.0, -0.0, 0.5, -0.5, 1.9, -1.9, -1.0, 127.9, 128.0, -129.0, 255.0, 256.0, 300.0,
        -300.0, 32768.0, 65504.0, 65536.0, -65537.0, 2.0**31, -2.0**31, -2.0**31 - 1, 3e9,
        -3e9, 2.0**32, 2.0**32 + 5, 2.0**53 + 2, 2.0**63, -2.0**63, -2.0**63 - 4096, 1e19,
        -1e19, 2.0**64, 1e20, -1e20, 1e300, -1e300, float("nan"), float("inf"),
        float("-inf"), 1e-300]
out = {}
for src in sources:
    a = np.array(vals, dtype=np.float64).astype(src)
    if src.startswith("c"):
        a = a + np.array(vals[::-1], dtype=np.float64).astype(src) * 1j
    np.save(os.path.join(d, src + ".npy"), a)
    out[src] = {t: a.astype(t).tobytes().hex() for t in targets}
print(json.dumps(out))
"#,
        &[&SOURCES.join(","), &TARGETS.join(",")],
    );
    let mut compared = 0;
    let mut wrong = Vec::new();
    for src in SOURCES {
        for target in TARGETS {
            let out = format!("{src}_{target}.npy");
            s.run(&[
                "convert",
                &format!("{src}.npy"),
                &out,
                "--out-dtype",
                target,
            ])
            .ok();
            let info = s.json(&["info", &out, "--json"]);
            let offset = info["data_offset"].as_u64().unwrap() as usize;
            let got = &s.read(&out)[offset..];
            let want = unhex(expected[src][target].as_str().unwrap());
            assert_eq!(got.len(), want.len(), "{src} -> {target}");
            let size = info["itemsize"].as_u64().unwrap() as usize;
            for (i, (g, w)) in got.chunks(size).zip(want.chunks(size)).enumerate() {
                compared += 1;
                if g != w {
                    wrong.push(format!(
                        "{src} -> {target} item {i}: mmarray {g:?}, numpy {w:?}"
                    ));
                }
            }
        }
    }
    println!("float -> int through convert: {compared} values compared with numpy");
    assert!(
        wrong.is_empty(),
        "{} of {compared} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(compared, SOURCES.len() * TARGETS.len() * 40);
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// `random --dist integers` accepts exactly the `[low, high)` bounds that numpy's
/// `Generator.integers(low, high, dtype=...)` accepts, up to 2^64 for uint64.
#[test]
fn random_integer_bounds_are_numpy_s() {
    let s = Scratch::new();
    let cases: &[(&str, &str, &str)] = &[
        ("u8", "0", "18446744073709551616"),
        ("u8", "0", "18446744073709551615"),
        ("u8", "18446744073709551615", "18446744073709551616"),
        ("u8", "0", "18446744073709551617"),
        ("u8", "-1", "10"),
        ("i8", "-9223372036854775808", "9223372036854775808"),
        ("i8", "-9223372036854775809", "0"),
        ("i8", "0", "9223372036854775809"),
        ("u4", "0", "4294967296"),
        ("u4", "0", "4294967297"),
        ("i1", "-128", "128"),
        ("i1", "-129", "0"),
        ("u1", "0", "257"),
        ("i2", "5", "5"),
        ("i2", "6", "5"),
    ];
    let arg = cases
        .iter()
        .map(|(d, l, h)| format!("{d}:{l}:{h}"))
        .collect::<Vec<_>>()
        .join(",");
    let numpy_ok = py_json(
        &s,
        r"
import json, sys
import numpy as np
rng = np.random.default_rng(0)
out = []
for case in sys.argv[2].split(','):
    d, low, high = case.split(':')
    try:
        v = rng.integers(int(low), int(high), size=100, dtype=d)
        assert int(v.min()) >= int(low) and int(v.max()) < int(high)
        out.append(True)
    except ValueError:
        out.append(False)
print(json.dumps(out))
",
        &[&arg],
    );
    for (i, &(dtype, low, high)) in cases.iter().enumerate() {
        let name = format!("r{i}.npy");
        s.run(&["create", &name, "--dtype", dtype, "--shape", "100"])
            .ok();
        let run = s.run(&[
            "random", &name, "--dist", "integers", "--low", low, "--high", high, "--seed", "5",
        ]);
        let want = numpy_ok[i].as_bool().unwrap();
        if want {
            run.ok();
            let min = s.json(&["reduce", &name, "--op", "min", "--json"])["value"].to_string();
            let max = s.json(&["reduce", &name, "--op", "max", "--json"])["value"].to_string();
            let (min, max): (i128, i128) = (min.parse().unwrap(), max.parse().unwrap());
            assert!(
                min >= low.parse().unwrap() && max < high.parse().unwrap(),
                "{dtype} [{low}, {high}): {min}..={max}"
            );
        } else {
            assert_ne!(
                run.code, 0,
                "{dtype} [{low}, {high}) accepted; numpy refuses it"
            );
            run.fails(run.code, &[]);
        }
    }
}

/// A bool byte other than 0 and 1 is True to numpy everywhere: reductions, stats,
/// arg-reductions, axis reductions and casts.
#[test]
fn bool_bytes_other_than_0_and_1_behave_as_in_numpy() {
    let s = Scratch::new();
    let want = py_json(
        &s,
        r#"
import json, os, sys
import numpy as np
d = sys.argv[1]
raw = bytes([0, 2, 255, 1, 0, 3, 128, 0, 0, 7, 1, 0])
a = np.frombuffer(raw, dtype=bool).reshape(3, 4)
np.save(os.path.join(d, "b.npy"), a)
with open(os.path.join(d, "b.npy"), "rb") as f:
    assert raw in f.read()  # the odd bytes are in the file as they are
flat = {
    "sum": int(a.sum()), "mean": float(a.mean()), "min": bool(a.min()), "max": bool(a.max()),
    "argmin": int(a.argmin()), "argmax": int(a.argmax()), "var": float(a.var()),
    "std": float(a.std()),
}
axis = {
    op: [getattr(a, op)(axis=k).tolist() for k in (0, 1)]
    for op in ("sum", "mean", "min", "max", "argmin", "argmax", "std")
}
casts = {t: a.astype(t).tobytes().hex() for t in ("u1", "i8", "f8", "c16", "f2")}
stats = {"count": int(a.size), "sum": int(a.sum()), "mean": float(a.mean()),
         "min": bool(a.min()), "max": bool(a.max()), "std": float(a.std()),
         "count_nonzero": int(np.count_nonzero(a))}
print(json.dumps({"flat": flat, "axis": axis, "casts": casts, "stats": stats}))
"#,
        &[],
    );
    for (op, value) in want["flat"].as_object().unwrap() {
        let got = s.json(&["reduce", "b.npy", "--op", op, "--json"]);
        assert_eq!(&got["value"], value, "{op}");
    }
    for (op, values) in want["axis"].as_object().unwrap() {
        for k in 0..2 {
            let got = s.json(&[
                "reduce",
                "b.npy",
                "--op",
                op,
                "--axis",
                &k.to_string(),
                "--json",
            ]);
            assert_eq!(got["value"], values[k], "{op} axis {k}");
        }
    }
    let stats = s.json(&["stats", "b.npy", "--json"]);
    for field in ["count", "sum", "mean", "min", "max", "std"] {
        assert_eq!(stats[field], want["stats"][field], "stats {field}");
    }
    // numpy's count_nonzero is the sum of a bool array.
    assert_eq!(stats["sum"], want["stats"]["count_nonzero"]);
    for (target, hex) in want["casts"].as_object().unwrap() {
        let out = format!("b_{target}.npy");
        s.run(&["convert", "b.npy", &out, "--out-dtype", target])
            .ok();
        let info = s.json(&["info", &out, "--json"]);
        let offset = info["data_offset"].as_u64().unwrap() as usize;
        assert_eq!(
            s.read(&out)[offset..],
            unhex(hex.as_str().unwrap()),
            "bool -> {target}"
        );
    }
}

/// Files larger than the pieces `convert` works in (1 MiB) give numpy's bytes too, where
/// numpy's float/complex -> uint32 loop treats the end of the array apart from the rest.
#[test]
fn convert_large_files_to_uint32_as_numpy() {
    let s = Scratch::new();
    let expected = py_json(
        &s,
        r#"
import json, os, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
d = sys.argv[1]
out = {}
for src, n in (("f4", 3 * 262144 + 3), ("f8", 2 * 131072 + 1), ("c8", 2 * 131072 + 2),
               ("c16", 3 * 65536 + 4), ("c16", 65536 * 2)):
    vals = np.array([-3e9, np.nan, 2.0**32 + 5, -np.inf, 1.0, -1e19, 3e9], dtype=np.float64)
    a = np.resize(vals, n).astype(src)
    name = f"{src}_{n}"
    np.save(os.path.join(d, name + ".npy"), a)
    u = a.astype("u4")
    out[name] = u.tobytes().hex()
print(json.dumps(out))
"#,
        &[],
    );
    for (name, hex) in expected.as_object().unwrap() {
        let out = format!("{name}_u4.npy");
        s.run(&["convert", &format!("{name}.npy"), &out, "--out-dtype", "u4"])
            .ok();
        let bytes = s.read(&out);
        let want = unhex(hex.as_str().unwrap());
        let got = &bytes[bytes.len() - want.len()..];
        let differ: Vec<usize> = got
            .chunks(4)
            .zip(want.chunks(4))
            .enumerate()
            .filter(|(_, (g, w))| g != w)
            .map(|(i, _)| i)
            .collect();
        assert!(
            differ.is_empty(),
            "{name}: items {differ:?} differ from numpy"
        );
    }
}
