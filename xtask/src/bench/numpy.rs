//! The numpy side: a helper script (written into the test folder) that makes the test files
//! and times one operation in-process: a warm-up and N runs of just the operation, each timed
//! with `time.perf_counter()`, printed as one JSON line. Interpreter start-up and `import numpy`
//! are not timed, which favours numpy over the whole-process timing of mmarray.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::json::Json;
use super::procs::{self, Mem, Samples, Wait};

/// The helper. `sys.argv[1]` is a JSON object: `{"mode": "normal"|"copy"|"bench", ...}`.
const SCRIPT: &str = r#"
import json, os, sys, time
import numpy as np
from numpy.lib.format import open_memmap


def rss_anon_kib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


BASE_RSS_ANON = rss_anon_kib()
CHUNK = 1 << 20  # items per step when making files: bounded memory


def fval(x):
    x = float(x)
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return x


def make_normal(cfg):
    dt = np.dtype(cfg["descr"])
    n = cfg["n"]
    a = open_memmap(cfg["output"], mode="w+", dtype=dt, shape=(n,))
    rng = np.random.default_rng(cfg["seed"])
    for i in range(0, n, CHUNK):
        rng.standard_normal(dtype=dt.type, out=a[i:i + CHUNK])
    a.flush()
    del a


def make_copy(cfg):
    src = np.load(cfg["input"], mmap_mode="r").reshape(-1)
    shape = tuple(cfg["shape"])
    d = open_memmap(cfg["output"], mode="w+", dtype=np.dtype(cfg["descr"]), shape=shape)
    flat = d.reshape(-1)
    count = flat.size
    for i in range(0, count, CHUNK):
        flat[i:i + CHUNK] = src[i:min(count, i + CHUNK)]
    d.flush()
    del flat, d


def save_synced(path, arr):
    with open(path, "wb") as f:
        np.save(f, arr)
        f.flush()
        os.fsync(f.fileno())


def bench(cfg):
    op = cfg["op"]
    src = cfg.get("input")
    out = cfg.get("output")
    dt = np.dtype(cfg["descr"])
    cold = cfg.get("cold", False)

    def prepare():
        if out and os.path.exists(out):
            os.remove(out)
        if cold:
            os.sync()
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3")

    def run():
        if op == "create":
            a = open_memmap(out, mode="w+", dtype=dt, shape=tuple(cfg["shape"]))
            a[:] = 1.5
            a.flush()
            del a
            return None
        if op == "normal":
            a = open_memmap(out, mode="w+", dtype=dt, shape=tuple(cfg["shape"]))
            a[:] = np.random.default_rng(1).standard_normal(a.shape, dtype=dt.type)
            a.flush()
            del a
            return None
        a = np.load(src, mmap_mode="r")
        if op in ("sum", "sum_be"):
            return fval(np.sum(a))
        if op == "sum_f16":
            return fval(np.sum(a, dtype=np.float64))
        if op == "min":
            return fval(np.min(a))
        if op == "max":
            return fval(np.max(a))
        if op == "mean":
            return fval(np.mean(a))
        if op == "std":
            return fval(np.std(a))
        if op == "stats":
            return {"count": int(a.size), "sum": fval(np.sum(a)), "mean": fval(np.mean(a)),
                    "min": fval(np.min(a)), "max": fval(np.max(a)), "std": fval(np.std(a))}
        if op == "axis0":
            save_synced(out, np.sum(a, axis=0))
            return None
        if op == "axis1":
            save_synced(out, np.sum(a, axis=1))
            return None
        if op == "astype":
            o = open_memmap(out, mode="w+", dtype=np.dtype(cfg["out_descr"]), shape=a.shape)
            o[:] = a
            o.flush()
            del o
            return None
        if op == "slice":
            save_synced(out, a[::2])
            return None
        raise SystemExit("unknown op " + op)

    times = []
    value = None
    first = 0 if cfg["warmup"] else 1
    for i in range(first, cfg["runs"] + 1):
        prepare()
        t0 = time.perf_counter()
        value = run()
        t1 = time.perf_counter()
        if i > 0:
            times.append(t1 - t0)
    if out and os.path.exists(out):
        os.remove(out)
    return {"times": times, "value": value}


def main():
    cfg = json.loads(sys.argv[1])
    mode = cfg["mode"]
    if mode == "normal":
        make_normal(cfg)
        result = {}
    elif mode == "copy":
        make_copy(cfg)
        result = {}
    else:
        result = bench(cfg)
    result["base_rss_anon_kib"] = BASE_RSS_ANON
    result["numpy"] = np.__version__
    print(json.dumps(result))


main()
"#;

/// The helper script written into the test folder, and the python that runs it.
pub(crate) struct Numpy {
    /// The interpreter (with numpy).
    python: PathBuf,
    /// The script file.
    script: PathBuf,
}

/// The numpy side of one measurement.
#[derive(Debug, Clone)]
pub(crate) struct NumpyRun {
    /// Timed runs (the warm-up excluded).
    pub(crate) samples: Samples,
    /// Peak memory of the python process (warm-up and all runs).
    pub(crate) mem: Mem,
    /// `RssAnon` right after `import numpy`, KiB (the interpreter's own share).
    pub(crate) base_rss_anon_kib: Option<u64>,
    /// What the operation returned (reductions), for the cross-check.
    pub(crate) value: Json,
}

impl Numpy {
    /// Writes the script into `dir`.
    pub(crate) fn new(python: &Path, dir: &Path) -> Result<Numpy, String> {
        let script = dir.join("bench_numpy.py");
        fs::write(&script, SCRIPT)
            .map_err(|e| format!("could not write {}: {e}", script.display()))?;
        Ok(Numpy {
            python: python.to_path_buf(),
            script,
        })
    }

    /// Runs the script with `cfg`, polling its memory; returns its parsed output and memory.
    fn call(&self, cfg: &Json) -> Result<(Json, Mem), String> {
        let mut cmd = Command::new(&self.python);
        cmd.arg(&self.script).arg(cfg.compact());
        let done = procs::run(&mut cmd, Wait::Poll)?;
        let line = done.stdout.lines().last().unwrap_or("");
        let json = Json::parse(line).map_err(|e| {
            format!(
                "the numpy helper printed something unexpected ({e}): {}",
                done.stdout.trim()
            )
        })?;
        Ok((json, done.mem))
    }

    /// Makes a `.npy` of `n` standard normal values of type `descr` (seeded, chunk by chunk).
    pub(crate) fn make_normal(
        &self,
        out: &Path,
        descr: &str,
        n: u64,
        seed: u64,
    ) -> Result<(), String> {
        let cfg = Json::obj([
            ("mode", Json::str("normal")),
            ("output", path_json(out)),
            ("descr", Json::str(descr)),
            ("n", Json::num(n as f64)),
            ("seed", Json::num(seed as f64)),
        ]);
        self.call(&cfg).map(|_| ())
    }

    /// Copies the first `prod(shape)` items of `input` into a new `.npy` of type `descr` and
    /// that shape (numpy's casting), chunk by chunk.
    pub(crate) fn make_copy(
        &self,
        input: &Path,
        out: &Path,
        descr: &str,
        shape: &[u64],
    ) -> Result<(), String> {
        let cfg = Json::obj([
            ("mode", Json::str("copy")),
            ("input", path_json(input)),
            ("output", path_json(out)),
            ("descr", Json::str(descr)),
            ("shape", shape_json(shape)),
        ]);
        self.call(&cfg).map(|_| ())
    }

    /// Times `op` in one python process: a warm-up (if `warmup`) and `runs` timed runs; with
    /// `cold`, the page cache is dropped before every run.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn bench(
        &self,
        op: &str,
        input: Option<&Path>,
        output: Option<&Path>,
        descr: &str,
        out_descr: &str,
        shape: &[u64],
        runs: usize,
        warmup: bool,
        cold: bool,
    ) -> Result<NumpyRun, String> {
        let cfg = Json::obj([
            ("mode", Json::str("bench")),
            ("op", Json::str(op)),
            ("input", input.map_or(Json::Null, path_json)),
            ("output", output.map_or(Json::Null, path_json)),
            ("descr", Json::str(descr)),
            ("out_descr", Json::str(out_descr)),
            ("shape", shape_json(shape)),
            ("runs", Json::num(runs as f64)),
            ("warmup", Json::Bool(warmup)),
            ("cold", Json::Bool(cold)),
        ]);
        let (json, mem) = self.call(&cfg)?;
        let times = json
            .get("times")
            .and_then(Json::as_array)
            .ok_or("the numpy helper printed no times")?
            .iter()
            .map(Json::as_f64)
            .collect::<Option<Vec<f64>>>()
            .ok_or("the numpy helper printed a time that is not a number")?;
        Ok(NumpyRun {
            samples: Samples { times },
            mem,
            base_rss_anon_kib: json
                .get("base_rss_anon_kib")
                .and_then(Json::as_f64)
                .map(|k| k as u64),
            value: json.get("value").cloned().unwrap_or(Json::Null),
        })
    }
}

/// A path as a JSON string (our paths are UTF-8: the workspace and `--dir` are checked).
fn path_json(path: &Path) -> Json {
    Json::str(path.to_string_lossy())
}

/// A shape as a JSON array.
fn shape_json(shape: &[u64]) -> Json {
    Json::Arr(shape.iter().map(|&d| Json::num(d as f64)).collect())
}
