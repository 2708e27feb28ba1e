//! Text the `mmarray` binary writes, against numpy: `show --precision/--threshold/
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
