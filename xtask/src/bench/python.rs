//! The Python rows: the `mmarray` Python package against numpy (and dask) in one python
//! process, in-process timing of just the call.
//!
//! Per row, one python process from the interop venv (with the package built into it, as
//! `cargo xtask test` does) opens the main file both ways (`np.load(..., mmap_mode="r")` and
//! `mm.open`), starts a `dask.distributed.LocalCluster` of 2 worker processes for the dask row,
//! and then runs one contender per request on its stdin (`numpy` or `mmarray`): an untimed
//! call, then the timed call(s) with `time.perf_counter()` around them, answered with one JSON
//! line. The rounds interleave the two like the CLI rows (numpy, mmarray; numpy, mmarray, ...:
//! an untimed warm-up round, then timed rounds until the spread of the ratio settles), with
//! the page cache checked with `mincore` before every run. The call-overhead row times
//! [`OVERHEAD_CALLS`] calls on a 10-element array per run and reports the time of one.
//!
//! dask's side of `py_dask_std` puts the whole memmap into the task graph: at 1 GiB a run
//! takes 10-13 s here, at 4 GiB its first `compute` had not finished after 7 minutes (9 GB
//! resident in the client). So that row reads the first [`DASK_BYTES`] of the main file
//! (both contenders), whatever `--size` is, and says so.

use std::fmt::Write as _;

/// The most of the main file the `py_dask_std` row reads (its first bytes).
pub(crate) const DASK_BYTES: u64 = 1 << 30;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::thread;

use super::json::Json;
use super::limits;
use super::ops::Op;
use super::procs::{Samples, Spread};
use super::report::{Verdict, ratio_text};
use super::rounds::{REWARM_BELOW, round_order, widened};
use super::sysstat::{self, Conditions};
use super::workdir;
use super::{ArrayFile, Cache, CacheState, Ctx, cross_check, step};

/// Calls per timed run of the call-overhead row.
pub(crate) const OVERHEAD_CALLS: u32 = 20_000;

/// One Python row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PyOp {
    /// `mm.sum(m)` vs `m.sum()` on the same `np.memmap`.
    Sum,
    /// `a.std()` of an `mm.Array` vs `np.std(m)`.
    Std,
    /// `mm.stats(m)` vs numpy's five calls.
    Stats,
    /// `mm.to_dask(a).std()` vs `da.from_array(m).std()` on a 2-process `LocalCluster`.
    DaskStd,
    /// `mm.sum(x)` vs `np.sum(x)` on a 10-element array: the call overhead.
    Overhead,
}

/// What a Python row must show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PyTarget {
    /// numpy's (or dask's) time over mmarray's, at least.
    Ratio(f64),
    /// mmarray's time per call, under this many microseconds.
    MaxMicros(f64),
}

impl PyOp {
    /// All rows, in run order.
    pub(crate) const ALL: [PyOp; 5] = [
        PyOp::Sum,
        PyOp::Std,
        PyOp::Stats,
        PyOp::DaskStd,
        PyOp::Overhead,
    ];

    /// The name on the command line (`--ops`), in tables and in JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            PyOp::Sum => "py_sum",
            PyOp::Std => "py_std",
            PyOp::Stats => "py_stats",
            PyOp::DaskStd => "py_dask_std",
            PyOp::Overhead => "py_overhead",
        }
    }

    /// The row called `name`.
    pub(crate) fn from_name(name: &str) -> Option<PyOp> {
        PyOp::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The mmarray contender, as Python (`m` the `np.memmap`, `a` `mm.open` of the file).
    pub(crate) fn mmarray_code(self) -> &'static str {
        match self {
            PyOp::Sum => "mm.sum(m)",
            PyOp::Std => "a.std()",
            PyOp::Stats => "mm.stats(m)",
            PyOp::DaskStd => "mm.to_dask(a).std().compute()",
            PyOp::Overhead => "mm.sum(x)",
        }
    }

    /// The numpy (or dask) contender, as Python.
    pub(crate) fn numpy_code(self) -> &'static str {
        match self {
            PyOp::Sum => "m.sum()",
            PyOp::Std => "np.std(m)",
            PyOp::Stats => "m.size, np.sum(m), np.mean(m), np.min(m), np.max(m), np.std(m)",
            PyOp::DaskStd => "da.from_array(m).std().compute()",
            PyOp::Overhead => "np.sum(x)",
        }
    }

    /// Its target (issue 14's, set for 4 GiB float64 in the page cache).
    pub(crate) fn target(self) -> PyTarget {
        match self {
            PyOp::Sum => PyTarget::Ratio(1.5),
            PyOp::Std => PyTarget::Ratio(6.0),
            PyOp::Stats => PyTarget::Ratio(10.0),
            PyOp::DaskStd => PyTarget::Ratio(2.0),
            PyOp::Overhead => PyTarget::MaxMicros(10.0),
        }
    }

    /// Whether it reads the main file.
    fn reads_main(self) -> bool {
        self != PyOp::Overhead
    }

    /// How many entries it reads: the main file's (its first [`DASK_BYTES`] for
    /// the dask row), or the 10 of the call-overhead row.
    fn elements(self, main: &ArrayFile) -> usize {
        let n = usize::try_from(main.shape.first().copied().unwrap_or(1)).unwrap_or(usize::MAX);
        match self {
            PyOp::Overhead => 10,
            PyOp::DaskStd => {
                let per = (main.nbytes / (n.max(1) as u64)).max(1);
                n.min(
                    usize::try_from(DASK_BYTES / per)
                        .unwrap_or(usize::MAX)
                        .max(1),
                )
            }
            _ => n,
        }
    }

    /// The CLI operation whose result check applies.
    fn check_as(self) -> Op {
        match self {
            PyOp::Sum | PyOp::Overhead => Op::Sum,
            PyOp::Std | PyOp::DaskStd => Op::Std,
            PyOp::Stats => Op::Stats,
        }
    }
}

/// One measured Python row.
#[derive(Debug, Clone)]
pub(crate) struct PyRow {
    /// Which.
    pub(crate) op: PyOp,
    /// Bytes of the input (0 for the call overhead).
    pub(crate) bytes: u64,
    /// mmarray's times (per call for the overhead row), one per timed round.
    pub(crate) mmarray: Samples,
    /// numpy's (or dask's) times, in the same rounds.
    pub(crate) numpy: Samples,
    /// Result cross-check.
    pub(crate) check: String,
    /// What the page cache held of the input.
    pub(crate) cache: Option<CacheState>,
    /// Load and steal while it ran.
    pub(crate) conditions: Conditions,
}

impl PyRow {
    /// numpy's time over mmarray's, round by round.
    pub(crate) fn ratio(&self) -> Option<Spread> {
        self.numpy.ratio_over(&self.mmarray)
    }

    /// mmarray's time per call in microseconds, over the rounds.
    fn micros(&self) -> Option<Spread> {
        Spread::of(&self.mmarray.times).map(|s| s.scale(1e6))
    }

    /// How the whole spread stands against the target.
    pub(crate) fn verdict(&self) -> Option<Verdict> {
        match self.op.target() {
            PyTarget::Ratio(min) => self.ratio().map(|r| Verdict::of(r, min)),
            PyTarget::MaxMicros(max) => self.micros().map(|us| {
                if us.max < max {
                    Verdict::Pass
                } else if us.median < max {
                    Verdict::MedianOnly
                } else {
                    Verdict::Miss
                }
            }),
        }
    }

    /// The target in words.
    fn target_text(&self) -> String {
        match self.op.target() {
            PyTarget::Ratio(r) => format!(">= {r}x numpy"),
            PyTarget::MaxMicros(us) => format!("mmarray < {us} µs a call"),
        }
    }

    /// What was measured against the target, in words.
    fn measured_text(&self) -> String {
        match self.op.target() {
            PyTarget::Ratio(_) => self.ratio().map_or_else(|| "-".into(), ratio_text),
            PyTarget::MaxMicros(_) => self.micros().map_or_else(
                || "-".into(),
                |s| format!("{:.2} µs [{:.2}-{:.2}]", s.median, s.min, s.max),
            ),
        }
    }
}

/// The helper script: `sys.argv[1]` is `{"op", "input", "elements", "threads", "repeat"}`
/// (`elements`: how many of the main file's first entries the row reads).
const SCRIPT: &str = r#"
import json, sys, time, warnings

import numpy as np


def stats_json(s):
    return {"count": int(s["count"]), "sum": fval(s["sum"]), "mean": fval(s["mean"]),
            "min": fval(s["min"]), "max": fval(s["max"]), "std": fval(s["std"])}


def main():
    # dask warns that from_array of an in-memory (here: mapped) array makes a large graph:
    # that is the point of the comparison.
    warnings.simplefilter("ignore")
    cfg = json.loads(sys.argv[1])
    op = cfg["op"]
    import mmarray as mm
    if cfg.get("threads"):
        mm.set_threads(cfg["threads"])
    hello = {"ready": True, "numpy": np.__version__}
    m = a = cluster = client = None
    if cfg.get("input"):
        m = np.load(cfg["input"], mmap_mode="r")
        a = mm.open(cfg["input"])
        k = int(cfg["elements"])
        if k < m.shape[0]:
            m, a = m[:k], a[:k]
    if op == "py_dask_std":
        import dask
        import dask.array as da
        from dask.distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        hello["dask"] = dask.__version__
    repeat = int(cfg.get("repeat", 1))
    x = np.arange(10.0)

    if op == "py_sum":
        runs = {"mmarray": lambda: fval(mm.sum(m)), "numpy": lambda: fval(m.sum())}
    elif op == "py_std":
        runs = {"mmarray": lambda: fval(a.std()), "numpy": lambda: fval(np.std(m))}
    elif op == "py_stats":
        runs = {"mmarray": lambda: stats_json(mm.stats(m)),
                "numpy": lambda: stats_json({"count": m.size, "sum": np.sum(m),
                                             "mean": np.mean(m), "min": np.min(m),
                                             "max": np.max(m), "std": np.std(m)})}
    elif op == "py_dask_std":
        runs = {"mmarray": lambda: fval(mm.to_dask(a).std().compute()),
                "numpy": lambda: fval(da.from_array(m).std().compute())}
    elif op == "py_overhead":
        runs = {"mmarray": lambda: fval(mm.sum(x)), "numpy": lambda: fval(np.sum(x))}
    else:
        raise SystemExit("unknown op " + op)

    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        f = runs.get(line.strip())
        if f is None:
            break
        if repeat > 1:
            f()  # the many-calls row: warm this contender's path first
        t0 = time.perf_counter()
        for _ in range(repeat):
            value = f()
        t1 = time.perf_counter()
        print(json.dumps({"time": (t1 - t0) / repeat, "value": value}), flush=True)
    if client is not None:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
"#;

/// A running helper.
struct Helper {
    /// The python process.
    child: Child,
    /// Requests.
    stdin: Option<ChildStdin>,
    /// Answers.
    stdout: BufReader<ChildStdout>,
    /// Its stderr, read to the end.
    stderr: Option<thread::JoinHandle<String>>,
}

impl Helper {
    /// Starts the helper for `op` and waits until it is ready.
    fn start(
        python: &Path,
        script: &Path,
        op: PyOp,
        input: Option<&Path>,
        threads: Option<usize>,
        elements: usize,
    ) -> Result<Helper, String> {
        let cfg = Json::obj([
            ("op", Json::str(op.name())),
            ("elements", Json::num(elements as f64)),
            (
                "input",
                input.map_or(Json::Null, |p| Json::str(p.to_string_lossy())),
            ),
            ("threads", Json::opt_num(threads.map(|t| t as f64))),
            (
                "repeat",
                Json::num(if op == PyOp::Overhead {
                    f64::from(OVERHEAD_CALLS)
                } else {
                    1.0
                }),
            ),
        ]);
        let mut child = Command::new(python)
            .arg(script)
            .arg(cfg.compact())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", python.display()))?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let stderr = child.stderr.take().map(|mut e| {
            thread::spawn(move || {
                let mut s = String::new();
                let _ = e.read_to_string(&mut s);
                s
            })
        });
        let mut helper = Helper {
            child,
            stdin,
            stdout,
            stderr,
        };
        helper.answer()?;
        Ok(helper)
    }

    /// The next JSON line; an error quotes the end of stderr when the process stopped.
    fn answer(&mut self) -> Result<Json, String> {
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .map_err(|e| format!("could not read from the Python helper: {e}"))?;
        workdir::check_interrupted()?;
        if n == 0 {
            drop(self.stdin.take());
            let _ = self.child.wait();
            let stderr = self
                .stderr
                .take()
                .and_then(|h| h.join().ok())
                .unwrap_or_default();
            let lines: Vec<&str> = stderr.lines().collect();
            let tail = lines[lines.len().saturating_sub(20)..].join("\n  ");
            return Err(format!("the Python helper stopped; its stderr:\n  {tail}"));
        }
        Json::parse(line.trim())
            .map_err(|e| format!("the Python helper printed something unexpected ({e}): {line}"))
    }

    /// One run of `who` (`numpy` or `mmarray`): its time in seconds and its result.
    fn run(&mut self, who: &str) -> Result<(f64, Json), String> {
        let stdin = self.stdin.as_mut().ok_or("the Python helper was closed")?;
        writeln!(stdin, "{who}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("could not talk to the Python helper: {e}"))?;
        let json = self.answer()?;
        let time = json
            .get("time")
            .and_then(Json::as_f64)
            .ok_or_else(|| format!("the Python helper printed no time: {}", json.compact()))?;
        Ok((time, json.get("value").cloned().unwrap_or(Json::Null)))
    }

    /// Asks it to stop (it shuts the dask cluster down) and waits.
    fn finish(mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            // Not finished (an error or Ctrl-C): stop it and reap it.
            drop(self.stdin.take());
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Builds the Python package into the venv when `--no-build` was not given (skipped when its
/// sources did not change since the last build into it, as in `cargo xtask test`).
pub(crate) fn prepare(
    root: &Path,
    python: &crate::python::Python,
    build: bool,
) -> Result<(), String> {
    let ours = python.source != crate::python::PYTHON_ENV;
    crate::pyext::ensure_test_deps(&python.path, ours)?;
    if build && ours {
        step("building the Python package into the venv (as `cargo xtask test` does)");
        crate::pyext::build_package(root, &python.path)?;
    }
    Ok(())
}

/// Measures the Python rows of `--ops` on `main` (in the page cache).
pub(crate) fn measure(
    ctx: &Ctx<'_>,
    python: &Path,
    main: &ArrayFile,
    notes: &mut Vec<String>,
) -> Result<Vec<PyRow>, String> {
    let script = ctx.dir.path().join("bench_python.py");
    super::write_py(&script, SCRIPT)?;
    let mut rows = Vec::new();
    for &op in &ctx.opts.py_ops {
        workdir::check_interrupted()?;
        let row = measure_one(ctx, python, &script, op, main)?;
        if row.bytes < main.nbytes && op != PyOp::Overhead {
            notes.push(format!(
                "{}: both contenders read the first {} of the main file ({} bytes): dask's \
                 from_array puts the whole memmap into its task graph, and at 4 GiB its first \
                 compute had not finished after 7 minutes here.",
                op.name(),
                super::cli::format_size(row.bytes),
                row.bytes
            ));
        }
        eprintln!(
            "bench: {}: {} (target {}: {}), check {}",
            op.name(),
            row.measured_text(),
            row.target_text(),
            row.verdict().map_or("n/a", Verdict::word),
            row.check
        );
        if row.check.starts_with("MISMATCH") {
            notes.push(format!("{}: {}.", op.name(), row.check));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// One Python row, by interleaved rounds.
fn measure_one(
    ctx: &Ctx<'_>,
    python: &Path,
    script: &Path,
    op: PyOp,
    main: &ArrayFile,
) -> Result<PyRow, String> {
    let opts = ctx.opts;
    step(&format!("{} ({})", op.name(), op.mmarray_code()));
    let input = op.reads_main().then_some(main.path.as_path());
    let n = op.elements(main);
    let mut helper = Helper::start(python, script, op, input, opts.threads, n)?;
    let mut cache = input.map(|_| CacheState {
        mode: Cache::Warm,
        resident_min: None,
        rewarmed: 0,
    });
    if let Some(f) = input {
        limits::warm(f, ctx.threads)?;
    }
    let mut conditions = Conditions::start();
    let (mut mm_t, mut np_t) = (Vec::new(), Vec::new());
    let (mut mm_value, mut np_value) = (None, None);
    let mut round = 0usize;
    loop {
        let timed = round > 0;
        for who in round_order(&["numpy", "mmarray"], round) {
            workdir::check_interrupted()?;
            if let (Some(f), Some(state)) = (input, cache.as_mut()) {
                let r = sysstat::resident_fraction(f)?;
                state.resident_min = Some(state.resident_min.map_or(r, |m: f64| m.min(r)));
                if r < REWARM_BELOW {
                    limits::warm(f, ctx.threads)?;
                    state.rewarmed += 1;
                }
            }
            let (t, value) = helper.run(who)?;
            if who == "numpy" {
                np_value.get_or_insert(value);
                if timed {
                    np_t.push(t);
                }
            } else {
                mm_value.get_or_insert(value);
                if timed {
                    mm_t.push(t);
                }
            }
        }
        conditions.sample();
        if timed {
            let ratios: Vec<f64> = np_t.iter().zip(&mm_t).map(|(n, m)| n / m).collect();
            let (mm, np) = (mm_t.last().copied(), np_t.last().copied());
            eprintln!(
                "bench:   round {}: mmarray {}, numpy {}",
                mm_t.len(),
                time_text(op, mm.unwrap_or(f64::NAN)),
                time_text(op, np.unwrap_or(f64::NAN)),
            );
            let done = mm_t.len();
            if done >= opts.max_rounds || (done >= opts.rounds && !widened(&ratios)) {
                break;
            }
        }
        round += 1;
    }
    helper.finish();
    conditions.finish(ctx.machine_cpus);
    let mm_json = mm_value.map(|v| match op.check_as() {
        Op::Stats => v,
        _ => Json::obj([("value", v)]),
    });
    let check = cross_check(
        op.check_as(),
        opts.dtype,
        n as u64,
        mm_json.as_ref(),
        np_value.as_ref(),
    );
    Ok(PyRow {
        op,
        bytes: if op.reads_main() {
            main.nbytes / (main.shape.first().copied().unwrap_or(1).max(1)) * n as u64
        } else {
            80
        },
        mmarray: Samples { times: mm_t },
        numpy: Samples { times: np_t },
        check,
        cache,
        conditions,
    })
}

/// A time as seconds, or µs for the call-overhead row.
fn time_text(op: PyOp, t: f64) -> String {
    if op == PyOp::Overhead {
        format!("{:.2} µs", t * 1e6)
    } else {
        format!("{t:.3} s")
    }
}

/// `median [min-max]` of a side's times (seconds, or µs for the call overhead).
fn times_cell(op: PyOp, s: &Samples) -> String {
    let (k, unit, digits) = if op == PyOp::Overhead {
        (1e6, "µs", 2)
    } else {
        (1.0, "s", 3)
    };
    format!(
        "{:.digits$} [{:.digits$}-{:.digits$}] {unit}",
        s.median() * k,
        s.min() * k,
        s.max() * k
    )
}

/// Column headings of the Python table.
const HEADERS: [&str; 9] = [
    "op",
    "mmarray",
    "numpy / dask",
    "rounds",
    "mmarray time",
    "numpy time",
    "target",
    "measured median [min-max]",
    "whole spread",
];

/// The cells of the Python table.
fn cells(rows: &[PyRow], code: impl Fn(&str) -> String) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            vec![
                r.op.name().to_owned(),
                code(r.op.mmarray_code()),
                code(r.op.numpy_code()),
                r.mmarray.times.len().to_string(),
                times_cell(r.op, &r.mmarray),
                times_cell(r.op, &r.numpy),
                r.target_text(),
                r.measured_text(),
                format!(
                    "{}{}",
                    r.verdict().map_or("n/a", Verdict::word),
                    if r.check == "ok" {
                        String::new()
                    } else {
                        format!(" (check: {})", r.check)
                    }
                ),
            ]
        })
        .collect()
}

/// The Python section of the text report (empty without Python rows).
pub(crate) fn text(rows: &[PyRow], table: impl Fn(&[&str], &[Vec<String>]) -> String) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nPython package, in-process (one python per row; m = np.load(IN, mmap_mode=\"r\"), \
         a = mm.open(IN), x = np.arange(10.0)):\n",
    );
    out.push_str(&table(&HEADERS, &cells(rows, str::to_owned)));
    out
}

/// The Python section of `docs/benchmarks.md` (empty without Python rows).
pub(crate) fn markdown(
    rows: &[PyRow],
    table: impl Fn(&[&str], &[Vec<String>]) -> String,
) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut md = String::from("\n## Python package (in-process)\n\n");
    let _ = writeln!(
        md,
        "The `mmarray` Python package (release build, from `crates/mmarray-py`) against numpy \
         and dask in the same python process of the interop venv, one process per row: `m = \
         np.load(IN, mmap_mode=\"r\")` (the main file, in the page cache, checked with \
         `mincore` before every run), `a = mm.open(IN)`, `x = np.arange(10.0)`. Each run \
         times just the call with `time.perf_counter()` (the call-overhead row: {OVERHEAD_CALLS} \
         calls, after one untimed call, per run, and gives the time of one call); the two \
         contenders run interleaved round by round after an untimed warm-up round, and the \
         ratio (numpy's time over mmarray's) is the median [min-max] of the rounds' ratios. \
         The dask row starts a `dask.distributed.LocalCluster` of 2 worker processes (1 thread \
         each) once and runs both contenders on it, graph construction (and dask's hashing of \
         the memmap) included. Targets are issue 14's; PASS when every round clears it.\n"
    );
    md.push_str(&table(&HEADERS, &cells(rows, |c| format!("`{c}`"))));
    let cond: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.op.name().to_owned(),
                r.check.clone(),
                r.cache
                    .and_then(|c| c.resident_min)
                    .map_or_else(|| "-".into(), |f| format!("{:.1}%", f * 100.0)),
                r.cache
                    .map_or_else(|| "-".into(), |c| c.rewarmed.to_string()),
                r.conditions
                    .load
                    .map_or_else(|| "-".into(), |(lo, hi)| format!("{lo:.1}-{hi:.1}")),
            ]
        })
        .collect();
    md.push('\n');
    md.push_str(&table(
        &[
            "op",
            "check",
            "input resident (min)",
            "read again",
            "load average",
        ],
        &cond,
    ));
    md
}

/// The Python rows as JSON.
pub(crate) fn json(rows: &[PyRow]) -> Json {
    let side = |s: &Samples| {
        Json::obj([
            ("runs", Json::num(s.times.len() as f64)),
            (
                "times_s",
                Json::Arr(s.times.iter().map(|&t| Json::num(t)).collect()),
            ),
            ("median_s", Json::num(s.median())),
            ("min_s", Json::num(s.min())),
            ("max_s", Json::num(s.max())),
        ])
    };
    Json::Arr(
        rows.iter()
            .map(|r| {
                Json::obj([
                    ("op", Json::str(r.op.name())),
                    ("mmarray_code", Json::str(r.op.mmarray_code())),
                    ("numpy_code", Json::str(r.op.numpy_code())),
                    ("bytes", Json::num(r.bytes as f64)),
                    (
                        "calls_per_run",
                        Json::num(if r.op == PyOp::Overhead {
                            f64::from(OVERHEAD_CALLS)
                        } else {
                            1.0
                        }),
                    ),
                    ("mmarray", side(&r.mmarray)),
                    ("numpy", side(&r.numpy)),
                    ("ratio", r.ratio().map_or(Json::Null, Spread::to_json)),
                    ("target", Json::str(r.target_text())),
                    ("measured", Json::str(r.measured_text())),
                    (
                        "whole_spread_clears",
                        Json::opt_str(r.verdict().map(Verdict::word)),
                    ),
                    ("check", Json::str(&r.check)),
                    (
                        "resident_min",
                        Json::opt_num(r.cache.and_then(|c| c.resident_min)),
                    ),
                    (
                        "load_average",
                        r.conditions.load.map_or(Json::Null, |(lo, hi)| {
                            Json::Arr(vec![Json::num(lo), Json::num(hi)])
                        }),
                    ),
                ])
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::{PyOp, PyRow, PyTarget, Samples, Verdict};
    use crate::bench::sysstat::Conditions;

    fn row(op: PyOp, mm: &[f64], np: &[f64]) -> PyRow {
        PyRow {
            op,
            bytes: 80,
            mmarray: Samples { times: mm.to_vec() },
            numpy: Samples { times: np.to_vec() },
            check: "ok".into(),
            cache: None,
            conditions: Conditions::default(),
        }
    }

    #[test]
    fn names_and_verdicts() {
        for op in PyOp::ALL {
            assert_eq!(PyOp::from_name(op.name()), Some(op));
        }
        assert_eq!(PyOp::Overhead.target(), PyTarget::MaxMicros(10.0));
        let r = row(PyOp::Overhead, &[8e-6, 9e-6, 9.5e-6], &[2e-6; 3]);
        assert_eq!(r.verdict(), Some(Verdict::Pass));
        let r = row(PyOp::Overhead, &[8e-6, 9e-6, 11e-6], &[2e-6; 3]);
        assert_eq!(r.verdict(), Some(Verdict::MedianOnly));
        let r = row(PyOp::Sum, &[1.0, 1.0], &[2.0, 1.6]);
        assert_eq!(r.verdict(), Some(Verdict::Pass));
        let r = row(PyOp::Sum, &[1.0, 1.0, 1.0], &[2.0, 1.6, 1.4]);
        assert_eq!(r.verdict(), Some(Verdict::MedianOnly));
    }
}
