//! The numpy side: a helper script (written into the test folder) that makes the test files
//! and times one operation in-process, one run per request on its stdin (so that the caller
//! can interleave numpy's runs with the other contenders'), each run of just the operation
//! timed with `time.perf_counter()` and answered with one JSON line. Interpreter start-up and
//! `import numpy` are not timed, which favours numpy over the whole-process timing of mmarray.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;

use super::json::Json;
use super::procs::{self, Mem, Wait};
use super::workdir;

/// The helper. `sys.argv[1]` is a JSON object: `{"mode": "normal"|"copy"|"serve", ...}`.
const SCRIPT: &str = r#"
import json, os, sys, time
import numpy as np
from numpy.lib.format import open_memmap


BASE_RSS_ANON = rss_anon_kib()
CHUNK = 1 << 20  # items per step when making files: bounded memory


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


def runner(cfg):
    op = cfg["op"]
    src = cfg.get("input")
    out = cfg.get("output")
    dt = np.dtype(cfg["descr"])

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
        if op.startswith("axis0"):
            save_synced(out, np.sum(a, axis=0))
            return None
        if op.startswith("axis1"):
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

    return run


def serve(cfg):
    # One timed run per line "run" on stdin, answered by one JSON line; the caller prepares
    # (deletes the output, drops the page cache) between runs, so that numpy's runs can be
    # interleaved with the other contenders' round by round.
    run = runner(cfg)
    print(json.dumps({"ready": True, "base_rss_anon_kib": BASE_RSS_ANON,
                      "numpy": np.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0 = time.perf_counter()
        value = run()
        t1 = time.perf_counter()
        print(json.dumps({"time": t1 - t0, "value": value}), flush=True)


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
        serve(cfg)
        return
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

/// A numpy process that times one operation, one run per request, so that its runs can be
/// interleaved with the other contenders' round by round. Its memory is polled while it runs.
pub(crate) struct Server {
    /// The python process.
    child: Child,
    /// Its pid (unreaped until [`Server::finish`]).
    pid: libc::pid_t,
    /// Requests.
    stdin: Option<ChildStdin>,
    /// Its output, line by line.
    lines: Receiver<String>,
    /// Its stderr, read to the end.
    stderr: Option<thread::JoinHandle<String>>,
    /// Peak memory so far.
    mem: Mem,
    /// `RssAnon` right after `import numpy`, KiB (the interpreter's own share).
    pub(crate) base_rss_anon_kib: Option<u64>,
}

/// What the numpy helper is asked to time.
pub(crate) struct Job<'a> {
    /// Operation name ([`super::ops::Op::name`]).
    pub(crate) op: &'a str,
    /// Input file.
    pub(crate) input: Option<&'a Path>,
    /// Output file.
    pub(crate) output: Option<&'a Path>,
    /// numpy descr of the input (or of the created array).
    pub(crate) descr: &'a str,
    /// descr that `astype` converts to.
    pub(crate) out_descr: &'a str,
    /// Shape of the input (or of the created array).
    pub(crate) shape: &'a [u64],
}

impl Server {
    /// The next line of output, polling memory while waiting; an error quotes stderr when the
    /// process ended instead.
    fn line(&mut self) -> Result<String, String> {
        loop {
            workdir::check_interrupted()?;
            match self.lines.recv_timeout(procs::POLL) {
                Ok(line) => return Ok(line),
                Err(RecvTimeoutError::Timeout) => procs::sample(self.pid, &mut self.mem),
                Err(RecvTimeoutError::Disconnected) => {
                    let stderr = self
                        .stderr
                        .take()
                        .and_then(|h| h.join().ok())
                        .unwrap_or_default();
                    let tail: Vec<&str> = stderr.lines().collect();
                    let tail = tail[tail.len().saturating_sub(20)..].join("\n  ");
                    return Err(format!("the Python helper stopped; its stderr:\n  {tail}"));
                }
            }
        }
    }

    /// One timed run: its time in seconds (as numpy's `perf_counter` measured just the
    /// operation) and what it returned.
    pub(crate) fn run(&mut self) -> Result<(f64, Json), String> {
        let stdin = self.stdin.as_mut().ok_or("the Python helper was closed")?;
        stdin
            .write_all(b"run\n")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("could not talk to the Python helper: {e}"))?;
        let line = self.line()?;
        let json = Json::parse(line.trim())
            .map_err(|e| format!("the Python helper printed something unexpected ({e}): {line}"))?;
        let time = json
            .get("time")
            .and_then(Json::as_f64)
            .ok_or_else(|| format!("the Python helper printed no time: {line}"))?;
        Ok((time, json.get("value").cloned().unwrap_or(Json::Null)))
    }

    /// Ends the process; returns its peak memory over all runs (`ru_maxrss` from `wait4`).
    pub(crate) fn finish(mut self) -> Mem {
        drop(self.stdin.take());
        // SAFETY: all-zero is a valid `rusage`.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let mut status: libc::c_int = 0;
        // SAFETY: `pid` is our own child, not reaped yet (std's `Child` never waits on drop and
        // we call none of its wait methods); the out-pointers are valid.
        let r = unsafe { libc::wait4(self.pid, &raw mut status, 0, &raw mut usage) };
        if r == self.pid {
            self.mem.max_rss_kib = u64::try_from(usage.ru_maxrss).ok();
        }
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
        self.mem
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            // Not finished (an error or Ctrl-C): stop it and reap it.
            drop(self.stdin.take());
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Numpy {
    /// Writes the script into `dir`.
    pub(crate) fn new(python: &Path, dir: &Path) -> Result<Numpy, String> {
        let script = dir.join("bench_numpy.py");
        super::write_py(&script, SCRIPT)?;
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

    /// Starts a numpy process that times `job` one run at a time.
    pub(crate) fn serve(&self, job: &Job<'_>) -> Result<Server, String> {
        let cfg = Json::obj([
            ("mode", Json::str("serve")),
            ("op", Json::str(job.op)),
            ("input", job.input.map_or(Json::Null, path_json)),
            ("output", job.output.map_or(Json::Null, path_json)),
            ("descr", Json::str(job.descr)),
            ("out_descr", Json::str(job.out_descr)),
            ("shape", shape_json(job.shape)),
        ]);
        serve_script(&self.python, &self.script, &cfg)
    }

    /// The interpreter (which has numpy).
    pub(crate) fn python(&self) -> &Path {
        &self.python
    }
}

/// Starts `python script CFG` as a server of timed runs (see [`Server`]): it prints one JSON
/// line when ready (with `base_rss_anon_kib`), then answers each `run` line on its stdin with
/// one JSON line `{"time": seconds, "value": ...}`. The numpy helper is one; the Zarr rows'
/// Python contenders are another (`zarr.rs`).
pub(crate) fn serve_script(python: &Path, script: &Path, cfg: &Json) -> Result<Server, String> {
    let mut child = Command::new(python)
        .arg(script)
        .arg(cfg.compact())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", python.display()))?;
    let pid = libc::pid_t::try_from(child.id()).map_err(|_| "pid out of range".to_owned())?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take().map(|mut e| {
        thread::spawn(move || {
            let mut s = String::new();
            let _ = e.read_to_string(&mut s);
            s
        })
    });
    let (tx, lines) = mpsc::channel();
    if let Some(stdout) = stdout {
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let mut server = Server {
        child,
        pid,
        stdin,
        lines,
        stderr,
        mem: Mem::default(),
        base_rss_anon_kib: None,
    };
    let hello = server.line()?;
    let hello = Json::parse(hello.trim())
        .map_err(|e| format!("the Python helper printed something unexpected ({e}): {hello}"))?;
    server.base_rss_anon_kib = hello
        .get("base_rss_anon_kib")
        .and_then(Json::as_f64)
        .map(|k| k as u64);
    Ok(server)
}

/// A path as a JSON string (our paths are UTF-8: the workspace and `--dir` are checked).
pub(crate) fn path_json(path: &Path) -> Json {
    Json::str(path.to_string_lossy())
}

/// A shape as a JSON array.
pub(crate) fn shape_json(shape: &[u64]) -> Json {
    Json::Arr(shape.iter().map(|&d| Json::num(d as f64)).collect())
}
