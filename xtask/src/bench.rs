//! `cargo xtask bench`: large-file benchmarks of the release `mmarray` CLI against numpy on the
//! same files in the same run, and against the machine's limits measured in that run.
//!
//! Outline: build the CLI, find numpy, make the test files with numpy in a temporary folder,
//! measure the mapped read and fill + flush bandwidth, then per operation: warm the input with
//! `read(2)`, and run the contenders interleaved, round by round (numpy, mmarray, the `--compare`
//! binary, the machine's limit; numpy, mmarray, ...): a warm-up round (mmarray's run of it under
//! memory polling), then timed rounds until the spread of every ratio is known (`rounds`), the
//! page cache checked with `mincore` before every run, load and steal sampled every round;
//! cross-check the results; then the cold-cache, scaling and larger-than-RAM runs when asked for,
//! and the table, JSON, docs and plot. A ratio is computed round by round (numpy's time over
//! mmarray's in the same round) and reported as its median and [min-max] over the rounds.
//!
//! The limits are measured by this process, so they must be optimised code: when xtask was built
//! without optimisations (the `cargo xtask` alias runs the dev profile), `bench` re-runs itself
//! with `cargo run --release`.

mod cli;
mod json;
mod limits;
mod machine;
mod numpy;
mod ops;
mod procs;
mod python;
mod report;
mod rounds;
mod svg;
mod sysstat;
mod workdir;
mod zarr;

/// What the Python helper scripts share (`rss_anon_kib`, `fval`), written in front of each.
const PY_COMMON: &str = include_str!("bench/common.py");

/// Writes the Python helper `script` (with [`PY_COMMON`] in front) to `path`.
fn write_py(path: &std::path::Path, script: &str) -> Result<(), String> {
    std::fs::write(path, [PY_COMMON, script].concat())
        .map_err(|e| format!("could not write {}: {e}", path.display()))
}

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use cli::{Float, Options, Parsed, format_size, format_size_compact};
use json::Json;
use machine::Machine;
use numpy::Numpy;
use ops::{Input, Limit, Op};
use procs::{Mem, Samples, Spread};
use rounds::measure_op;
use sysstat::Conditions;
use workdir::WorkDir;

/// Page-cache handling of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cache {
    /// Input read with `read(2)` before the first round, checked with `mincore` before every
    /// run and read again if the page cache lost any of it.
    Warm,
    /// Page cache dropped before every run.
    Cold,
    /// File larger than RAM: no warming (every pass comes from disk).
    Streaming,
}

/// Set in the environment of the optimised re-run, so that it does not re-run itself again.
const RELEASE_ENV: &str = "MMARRAY_XTASK_BENCH_RELEASE";

/// Entry point of `cargo xtask bench ARGS`.
pub(crate) fn run(args: &[OsString]) -> ExitCode {
    let opts = match cli::parse(args) {
        Ok(Parsed::Help) => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Run(opts)) => opts,
        Err(e) => {
            eprintln!("xtask bench: {e}\n(see `cargo xtask bench --help`)");
            return ExitCode::from(2);
        }
    };
    workdir::install_signal_handlers();
    if cfg!(debug_assertions) && env::var_os(RELEASE_ENV).is_none() {
        return rerun_optimised(args);
    }
    match bench(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `cargo run --release -p xtask -- bench ARGS` and forwards its exit status. Our signal
/// handler is installed, so Ctrl-C reaches the child (same process group) and we wait for its
/// cleanup instead of dying first.
fn rerun_optimised(args: &[OsString]) -> ExitCode {
    eprintln!("xtask bench: re-running optimised (cargo run --release -p xtask) for the limits");
    let status = Command::new(crate::cargo())
        .args([
            "run",
            "--quiet",
            "--release",
            "--package",
            "xtask",
            "--",
            "bench",
        ])
        .args(args)
        .env(RELEASE_ENV, "1")
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(e) => {
            eprintln!("xtask bench: could not run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A test or output array file.
#[derive(Debug, Clone)]
pub(crate) struct ArrayFile {
    /// Where it is.
    pub(crate) path: PathBuf,
    /// numpy descr.
    pub(crate) descr: String,
    /// Shape.
    pub(crate) shape: Vec<u64>,
    /// Bytes of data.
    pub(crate) nbytes: u64,
}

/// One contender's measurement of one operation.
#[derive(Debug, Clone)]
pub(crate) struct Side {
    /// One time per timed round, in round order (so that index `i` of two sides pairs the
    /// runs of one round).
    pub(crate) samples: Samples,
    /// Peak memory.
    pub(crate) mem: Mem,
    /// numpy only: `RssAnon` of the bare interpreter with numpy imported, KiB.
    pub(crate) base_rss_anon_kib: Option<u64>,
}

/// The machine's limit as a contender of one operation: one pass per round.
#[derive(Debug, Clone)]
pub(crate) struct LimitRuns {
    /// Which limit.
    pub(crate) kind: Limit,
    /// Bytes per pass.
    pub(crate) bytes: u64,
    /// One time per timed round.
    pub(crate) samples: Samples,
}

impl LimitRuns {
    /// The median GB/s.
    pub(crate) fn gbs(&self) -> f64 {
        self.samples.gbs(self.bytes).0
    }
}

/// What the page cache held of an operation's input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CacheState {
    /// How it was handled.
    pub(crate) mode: Cache,
    /// The smallest resident fraction `mincore` found before a run (before any re-warming),
    /// for warm inputs.
    pub(crate) resident_min: Option<f64>,
    /// How often the input was read again because the page cache had lost some of it.
    pub(crate) rewarmed: u32,
}

/// One line of a result table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The operation.
    pub(crate) op: Op,
    /// Label: the op name, with ` (cold)` for cold-cache rows.
    pub(crate) label: String,
    /// The size of the main file of this run (`--size` or a scaling size).
    pub(crate) size: u64,
    /// Bytes the throughput is computed from (the input array, or the created one).
    pub(crate) bytes: u64,
    /// The input's shape (or the created array's).
    pub(crate) shape: Vec<u64>,
    /// The machine's limit, timed in the same rounds (for cold rows, the disk's read).
    pub(crate) limit: Option<LimitRuns>,
    /// mmarray.
    pub(crate) mmarray: Side,
    /// The `--compare` binary, if any.
    pub(crate) compare: Option<Side>,
    /// mmarray's command line.
    pub(crate) mmarray_cmd: String,
    /// numpy, or why it was skipped.
    pub(crate) numpy: Result<Side, String>,
    /// Result cross-check: `ok`, a mismatch, or `-` when not applicable.
    pub(crate) check: String,
    /// What the page cache held of the input.
    pub(crate) cache: CacheState,
    /// Load and steal while it ran.
    pub(crate) conditions: Conditions,
}

impl Row {
    /// mmarray / numpy throughput, round by round.
    pub(crate) fn ratio(&self) -> Option<Spread> {
        let np = self.numpy.as_ref().ok()?;
        np.samples.ratio_over(&self.mmarray.samples)
    }

    /// mmarray's throughput in percent of the limit, round by round.
    pub(crate) fn pct_of_limit(&self) -> Option<Spread> {
        let l = self.limit.as_ref()?;
        // (bytes / t_mm) / (l.bytes / t_limit) = (t_limit / t_mm) * bytes / l.bytes.
        let k = self.bytes as f64 / l.bytes as f64 * 100.0;
        Some(l.samples.ratio_over(&self.mmarray.samples)?.scale(k))
    }

    /// This build's throughput over the `--compare` binary's, round by round.
    pub(crate) fn compare_ratio(&self) -> Option<Spread> {
        self.compare
            .as_ref()?
            .samples
            .ratio_over(&self.mmarray.samples)
    }
}

/// The machine's limits in one run.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Bytes per pass.
    pub(crate) bytes: u64,
    /// Threads used.
    pub(crate) threads: usize,
    /// Mapped read on all threads.
    pub(crate) read_all: Samples,
    /// Mapped read on one thread.
    pub(crate) read_one: Option<Samples>,
    /// Fill + flush into a new file on all threads.
    pub(crate) write: Option<Samples>,
}

impl Limits {
    /// The median GB/s of `kind`.
    pub(crate) fn gbs(&self, kind: Limit) -> Option<f64> {
        match kind {
            Limit::Read => Some(self.read_all.gbs(self.bytes).0),
            Limit::Write => self.write.as_ref().map(|w| w.gbs(self.bytes).0),
            Limit::Disk => None,
        }
    }
}

/// One size of the scaling run.
#[derive(Debug, Clone)]
pub(crate) struct ScalePoint {
    /// File size.
    pub(crate) size: u64,
    /// Larger than RAM.
    pub(crate) huge: bool,
    /// Limits at this size.
    pub(crate) limits: Limits,
    /// The rows.
    pub(crate) rows: Vec<Row>,
}

/// Everything a report is made of.
#[derive(Debug, Clone)]
pub(crate) struct Results {
    /// The command line.
    pub(crate) command: String,
    /// Options.
    pub(crate) opts: Options,
    /// Threads of the limits (mmarray uses its default when `--threads` was not given).
    pub(crate) threads: usize,
    /// The machine.
    pub(crate) machine: Machine,
    /// Cold-cache status.
    pub(crate) cold: String,
    /// Load and steal over the whole run.
    pub(crate) conditions: Conditions,
    /// The `--compare` binary: its path and `--version`, if any.
    pub(crate) compare: Option<String>,
    /// The main file.
    pub(crate) main: ArrayFile,
    /// The 2-D copies' shapes: wide, tall, square.
    pub(crate) shapes_2d: Shapes2d,
    /// Limits of the main run.
    pub(crate) limits: Limits,
    /// Main rows (and cold rows).
    pub(crate) rows: Vec<Row>,
    /// Scaling run.
    pub(crate) scaling: Vec<ScalePoint>,
    /// The Python package's in-process rows.
    pub(crate) python: Vec<python::PyRow>,
    /// The Zarr rows (issue 13).
    pub(crate) zarr: zarr::ZarrResults,
    /// Things that were skipped or could not be done, one sentence each.
    pub(crate) notes: Vec<String>,
}

/// The run's fixed context.
struct Ctx<'a> {
    /// Options.
    opts: &'a Options,
    /// The release CLI.
    mmarray: PathBuf,
    /// The `--compare` binary.
    compare: Option<PathBuf>,
    /// The numpy helper.
    numpy: Numpy,
    /// Threads for the limits.
    threads: usize,
    /// The test folder.
    dir: &'a WorkDir,
    /// Whether the page cache can be dropped.
    cold_ok: bool,
    /// Logical CPUs (for the busy time).
    machine_cpus: usize,
}

/// The whole benchmark.
#[allow(clippy::too_many_lines)]
fn bench(opts: &Options) -> Result<(), String> {
    let started = Instant::now();
    let mut conditions = Conditions::start();
    let root = crate::workspace_root()?;
    let target_dir =
        env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let target_dir = if target_dir.is_relative() {
        root.join(target_dir)
    } else {
        target_dir
    };

    if opts.build {
        step("building the release CLI: cargo build --release -p mmarray-cli");
        let status = Command::new(crate::cargo())
            .args(["build", "--release", "--package", "mmarray-cli"])
            .current_dir(&root)
            .status()
            .map_err(|e| format!("could not run cargo: {e}"))?;
        if !status.success() {
            return Err(format!(
                "`cargo build --release -p mmarray-cli` failed ({status}); see its output above"
            ));
        }
    }
    let mmarray = target_dir.join("release").join("mmarray");
    if !mmarray.is_file() {
        return Err(format!(
            "{} does not exist; build it with `cargo build --release -p mmarray-cli`",
            mmarray.display()
        ));
    }

    step("finding numpy (target/interop-venv or $MMARRAY_PYTHON)");
    let python = crate::python::ensure(&root)
        .map_err(|e| format!("the benchmarks need numpy (it is not optional):\n{e}"))?;
    eprintln!(
        "bench: numpy {} from {} ({})",
        python.numpy_version,
        python.path.display(),
        python.source
    );
    if !opts.py_ops.is_empty() {
        python::prepare(&root, &python, opts.build)?;
    }

    let compare = match &opts.compare {
        Some(bin) => {
            let bin = if bin.is_relative() {
                env::current_dir().map_err(|e| e.to_string())?.join(bin)
            } else {
                bin.clone()
            };
            let version = procs::version_of(bin.as_os_str(), &["--version"]).ok_or_else(|| {
                format!(
                    "--compare {}: `{0} --version` does not run; give the path of an mmarray \
                     binary",
                    bin.display()
                )
            })?;
            eprintln!("bench: comparing with {} ({version})", bin.display());
            let label = format!("{} ({version})", bin.display());
            Some((bin, label))
        }
        None => None,
    };
    let threads = opts
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));

    let parent = opts
        .dir
        .clone()
        .unwrap_or_else(|| target_dir.join("bench-tmp"));
    let parent = if parent.is_relative() {
        env::current_dir().map_err(|e| e.to_string())?.join(parent)
    } else {
        parent
    };
    if parent.to_str().is_none() {
        return Err(format!(
            "the test folder {} is not valid UTF-8",
            parent.display()
        ));
    }
    fs::create_dir_all(&parent)
        .map_err(|e| format!("could not create {}: {e}", parent.display()))?;
    // The main file, one derived copy (the wide one is as large) and one output; for the Zarr
    // rows, the square copy, an uncompressed store and two compressed ones.
    let copies = if opts.zarr_ops.is_empty() { 3 } else { 4 };
    let need = opts.size.saturating_mul(copies) + (256 << 20);
    let free = workdir::free_disk(&parent)?;
    if free < need {
        return Err(format!(
            "not enough disk space in {}: a {} run needs about {} (the file, one derived copy, \
             one output), {} is free; use --size or --dir",
            parent.display(),
            format_size(opts.size),
            format_size(need),
            format_size(free)
        ));
    }

    let cold = match procs::drop_caches() {
        Ok(()) => "measured for sum (page cache dropped before every run)".to_owned(),
        Err(e) => format!("not possible here (no permission: {e})"),
    };
    let cold_ok = !cold.starts_with("not possible");
    eprintln!("bench: cold cache: {cold}");

    let dir = WorkDir::create(&parent, opts.keep)?;
    eprintln!("bench: test folder {}", dir.path().display());
    let ctx = Ctx {
        opts,
        numpy: Numpy::new(&python.path, dir.path())?,
        mmarray,
        compare: compare.as_ref().map(|(bin, _)| bin.clone()),
        threads,
        dir: &dir,
        cold_ok,
        machine_cpus: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    };
    let machine = Machine::probe(&root, &python.path, &python.numpy_version, &ctx.mmarray);
    let mut notes = Vec::new();

    // The main file and its limits.
    let main = make_main(&ctx, opts.size, "main")?;
    let limits = measure_limits(&ctx, &main, opts.rounds.min(3), true)?;
    let shapes_2d = Shapes2d::of(main.shape[0]);

    // Operations, deriving files just before their first user and deleting them after the last.
    let mut rows = Vec::new();
    let mut derived: Vec<(Input, ArrayFile)> = Vec::new();
    for (i, &op) in opts.ops.iter().enumerate() {
        workdir::check_interrupted()?;
        let input = match op.input() {
            Input::Nothing => None,
            Input::Main => Some(main.clone()),
            kind => {
                if let Some((_, f)) = derived.iter().find(|(k, _)| *k == kind) {
                    Some(f.clone())
                } else {
                    let f = make_derived(&ctx, &main, kind, &shapes_2d)?;
                    derived.push((kind, f.clone()));
                    Some(f)
                }
            }
        };
        let row = measure_op(&ctx, op, &main, input.as_ref(), Cache::Warm, &mut notes)?;
        report::print_progress(&row);
        rows.push(row);
        // Derived files no later operation needs.
        derived.retain(|(kind, f)| {
            let needed = opts.ops[i + 1..].iter().any(|o| o.input() == *kind);
            if !needed && !dir.keep() {
                let _ = fs::remove_file(&f.path);
            }
            needed || dir.keep()
        });
    }
    drop(derived);

    if opts.ops.contains(&Op::Sum) {
        if ctx.cold_ok {
            step("cold cache: sum with the page cache dropped before every run");
            let mut row = measure_op(&ctx, Op::Sum, &main, Some(&main), Cache::Cold, &mut notes)?;
            row.label = "sum (cold)".into();
            report::print_progress(&row);
            rows.push(row);
        } else {
            notes.push(format!("Cold cache: {cold}."));
        }
    }
    let python_rows = python::measure(&ctx, &python.path, &main, &mut notes)?;
    let zarr = zarr::run(&ctx, &main, &opts.zarr_ops, &mut notes)?;
    if !dir.keep() {
        let _ = fs::remove_file(&main.path);
    }

    let scaling = scaling_run(&ctx, &rows, &limits, &mut notes)?;
    for row in rows.iter().chain(scaling.iter().flat_map(|p| &p.rows)) {
        if let Some((lo, hi)) = row.conditions.load {
            conditions.load = Some(
                conditions
                    .load
                    .map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))),
            );
        }
    }
    conditions.finish(machine.cpus);
    notes.extend(rows.iter().filter_map(report::above_machine));
    let busy = conditions.load.map_or(0.0, |(_, hi)| hi);
    if busy > 1.5 {
        let cpus = machine.cpus;
        notes.push(format!(
            "The machine was busy (1-minute load average up to {busy:.1} on {cpus} logical \
             CPUs, this run's own work included): the rounds are interleaved so that every \
             contender sees the same load, and the ratios' spreads show what it did to them."
        ));
    }
    if let Some(steal) = conditions.steal_pct.filter(|&s| s >= 1.0) {
        notes.push(format!(
            "The hypervisor took {steal:.1}% of the CPU time (steal) during the run."
        ));
    }

    let mut command = String::from("cargo xtask bench");
    for a in env::args_os().skip(2) {
        command.push(' ');
        command.push_str(&procs::shell_quote(&a));
    }
    let results = Results {
        command,
        opts: opts.clone(),
        threads,
        machine,
        cold,
        conditions,
        compare: compare.map(|(_, v)| v),
        main,
        shapes_2d,
        limits,
        rows,
        scaling,
        python: python_rows,
        zarr,
        notes,
    };
    print!("{}", report::text(&results));
    if let Some(path) = &opts.json {
        fs::write(path, report::json(&results).pretty())
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    if opts.update_docs {
        let docs = root.join("docs");
        let md = docs.join("benchmarks.md");
        let svg_path = docs.join("benchmarks.svg");
        fs::write(&md, report::markdown(&results))
            .map_err(|e| format!("could not write {}: {e}", md.display()))?;
        fs::write(&svg_path, svg::chart(&results))
            .map_err(|e| format!("could not write {}: {e}", svg_path.display()))?;
        eprintln!("bench: wrote {} and {}", md.display(), svg_path.display());
    }
    eprintln!("bench: done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Prints a step heading on stderr.
fn step(what: &str) {
    eprintln!("bench: {what}");
}

/// The shapes of the 2-D copies of a main file of `n` items, each of all of its items (or as
/// many as the shape holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shapes2d {
    /// 1024 rows (1024 x 262144 at 2 GiB float64).
    pub(crate) wide: Vec<u64>,
    /// 1024 columns (262144 x 1024 at 2 GiB float64, the tall shape of issue 15).
    pub(crate) tall: Vec<u64>,
    /// Square (16384 x 16384 at 2 GiB float64).
    pub(crate) square: Vec<u64>,
}

impl Shapes2d {
    /// The shapes for `n` items.
    pub(crate) fn of(n: u64) -> Shapes2d {
        let n = n.max(1);
        let side = ((n as f64).sqrt().floor() as u64).max(1);
        let short = n.min(1024);
        Shapes2d {
            wide: vec![short, n / short],
            tall: vec![n / short, short],
            square: vec![side, side],
        }
    }
}

/// `16384x32768`.
pub(crate) fn shape_text(shape: &[u64]) -> String {
    shape
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

/// Makes the main file (`size` bytes of standard normal values, numpy, seed 0).
fn make_main(ctx: &Ctx<'_>, size: u64, tag: &str) -> Result<ArrayFile, String> {
    let dtype = ctx.opts.dtype;
    let n = size / dtype.itemsize();
    let path = ctx
        .dir
        .path()
        .join(format!("{tag}-{}.npy", format_size_compact(size)));
    step(&format!(
        "numpy: making {} ({} {}, standard normal, seed 0)",
        path.file_name().unwrap_or_default().to_string_lossy(),
        format_size(size),
        dtype.name()
    ));
    let t = Instant::now();
    ctx.numpy.make_normal(&path, dtype.descr(), n, 0)?;
    eprintln!("bench:   {:.1} s", t.elapsed().as_secs_f64());
    Ok(ArrayFile {
        path,
        descr: dtype.descr().into(),
        shape: vec![n],
        nbytes: n * dtype.itemsize(),
    })
}

/// Makes a derived copy of the main file with numpy.
fn make_derived(
    ctx: &Ctx<'_>,
    main: &ArrayFile,
    kind: Input,
    shapes: &Shapes2d,
) -> Result<ArrayFile, String> {
    let dtype = ctx.opts.dtype;
    let (name, descr, shape, item) = match kind {
        Input::BigEndian => (
            "main-be.npy",
            dtype.descr_be(),
            main.shape.clone(),
            dtype.itemsize(),
        ),
        Input::Half => ("main-f16.npy", "<f2", main.shape.clone(), 2),
        Input::Wide => (
            "main-wide.npy",
            dtype.descr(),
            shapes.wide.clone(),
            dtype.itemsize(),
        ),
        Input::Tall => (
            "main-tall.npy",
            dtype.descr(),
            shapes.tall.clone(),
            dtype.itemsize(),
        ),
        Input::Square => (
            "main-square.npy",
            dtype.descr(),
            shapes.square.clone(),
            dtype.itemsize(),
        ),
        Input::Main | Input::Nothing => return Ok(main.clone()),
    };
    let path = ctx.dir.path().join(name);
    step(&format!(
        "numpy: making {name} ({descr}, shape {}) from the main file",
        shape_text(&shape)
    ));
    let t = Instant::now();
    ctx.numpy.make_copy(&main.path, &path, descr, &shape)?;
    eprintln!("bench:   {:.1} s", t.elapsed().as_secs_f64());
    let nbytes = shape.iter().product::<u64>() * item;
    Ok(ArrayFile {
        path,
        descr: descr.into(),
        shape,
        nbytes,
    })
}

/// Measures the limits over `file` (read) and a new file of its size (write).
fn measure_limits(
    ctx: &Ctx<'_>,
    file: &ArrayFile,
    runs: usize,
    one_thread: bool,
) -> Result<Limits, String> {
    let bytes = fs::metadata(&file.path).map_err(|e| e.to_string())?.len();
    step(&format!("limit: mapped read, {} threads", ctx.threads));
    let read_all = limits::read_bandwidth(&file.path, ctx.threads, runs)?;
    let read_one = if one_thread {
        step("limit: mapped read, 1 thread");
        Some(limits::read_bandwidth(&file.path, 1, runs)?)
    } else {
        None
    };
    step(&format!(
        "limit: fill + flush into a new file, {} threads",
        ctx.threads
    ));
    let write = limits::write_bandwidth(ctx.dir.path(), bytes, ctx.threads, runs)?;
    let l = Limits {
        bytes,
        threads: ctx.threads,
        read_all,
        read_one,
        write: Some(write),
    };
    eprintln!(
        "bench:   read {:.2} GB/s ({} threads){}, fill + flush {:.2} GB/s",
        l.gbs(Limit::Read).unwrap_or(f64::NAN),
        ctx.threads,
        l.read_one
            .as_ref()
            .map(|s| format!(", {:.2} GB/s (1 thread)", s.gbs(bytes).0))
            .unwrap_or_default(),
        l.gbs(Limit::Write).unwrap_or(f64::NAN)
    );
    Ok(l)
}

/// The arguments of mmarray for `op` (without the global flags).
fn mmarray_args(
    op: Op,
    dtype: Float,
    main: &ArrayFile,
    input: Option<&ArrayFile>,
    out: Option<&Path>,
) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |s: &str| a.push(s.into());
    let input_path = || {
        input
            .map(|f| f.path.clone().into_os_string())
            .unwrap_or_default()
    };
    let out_path = || out.map(|p| p.as_os_str().to_owned()).unwrap_or_default();
    match op {
        Op::Create | Op::Normal => {
            push("create");
            a.push(out_path());
            a.extend([
                "--dtype".into(),
                dtype.descr().into(),
                "--shape".into(),
                main.shape[0].to_string().into(),
            ]);
            if op == Op::Create {
                a.extend(["--fill".into(), "1.5".into()]);
            } else {
                a.extend(["--random", "normal", "--seed", "1"].map(OsString::from));
            }
            a.push("--force".into());
        }
        Op::Sum | Op::Min | Op::Max | Op::Mean | Op::Std | Op::SumBe | Op::SumF16 => {
            let name = match op {
                Op::Min => "min",
                Op::Max => "max",
                Op::Mean => "mean",
                Op::Std => "std",
                _ => "sum",
            };
            push("reduce");
            a.push(input_path());
            a.extend(["--op", name, "--json"].map(OsString::from));
        }
        Op::Stats => {
            push("stats");
            a.push(input_path());
            a.push("--json".into());
        }
        Op::Axis0Wide
        | Op::Axis1Wide
        | Op::Axis0Tall
        | Op::Axis1Tall
        | Op::Axis0Square
        | Op::Axis1Square => {
            push("reduce");
            a.push(input_path());
            let axis = if op.axis() == Some(0) { "0" } else { "1" };
            a.extend(["--op", "sum", "--axis", axis, "--out"].map(OsString::from));
            a.push(out_path());
            a.extend(["--force", "--json"].map(OsString::from));
        }
        Op::Astype => {
            push("convert");
            a.push(input_path());
            a.push(out_path());
            a.extend([
                "--out-dtype".into(),
                dtype.narrower().into(),
                "--force".into(),
            ]);
        }
        Op::Slice => {
            push("slice");
            a.push(input_path());
            a.push(out_path());
            a.extend(["::2", "--force"].map(OsString::from));
        }
    }
    a
}

/// Compares mmarray's JSON output with numpy's value: `ok`, `MISMATCH ...` or `-`.
fn cross_check(op: Op, dtype: Float, n: u64, mm: Option<&Json>, np: Option<&Json>) -> String {
    let (Some(mm), Some(np)) = (mm, np) else {
        return "-".into();
    };
    // Sums of standard normal values: the error of a pairwise or blocked sum is a few eps per
    // item at most; a lost or doubled chunk would be off by far more.
    let eps = if op == Op::SumF16 {
        f64::EPSILON
    } else {
        dtype.eps()
    };
    let sum_tol = 1e4 * eps * n as f64;
    let close =
        |a: f64, b: f64, tol: f64| a == b || (a - b).abs() <= tol || (a.is_nan() && b.is_nan());
    let fields: Vec<(&str, Option<f64>, Option<f64>, f64)> = match op {
        Op::Sum | Op::SumBe | Op::SumF16 => vec![(
            "sum",
            mm.get("value").and_then(Json::as_float),
            np.as_float(),
            sum_tol,
        )],
        Op::Mean => vec![(
            "mean",
            mm.get("value").and_then(Json::as_float),
            np.as_float(),
            sum_tol / n.max(1) as f64,
        )],
        Op::Std => {
            let np = np.as_float();
            vec![(
                "std",
                mm.get("value").and_then(Json::as_float),
                np,
                1e6 * eps * np.unwrap_or(1.0).abs(),
            )]
        }
        Op::Min | Op::Max => vec![(
            op.name(),
            mm.get("value").and_then(Json::as_float),
            np.as_float(),
            0.0,
        )],
        Op::Stats => {
            let f = |j: &Json, k: &str| j.get(k).and_then(Json::as_float);
            let sd = f(np, "std").unwrap_or(1.0).abs();
            vec![
                ("count", f(mm, "count"), f(np, "count"), 0.0),
                ("sum", f(mm, "sum"), f(np, "sum"), sum_tol),
                (
                    "mean",
                    f(mm, "mean"),
                    f(np, "mean"),
                    sum_tol / n.max(1) as f64,
                ),
                ("min", f(mm, "min"), f(np, "min"), 0.0),
                ("max", f(mm, "max"), f(np, "max"), 0.0),
                ("std", f(mm, "std"), f(np, "std"), 1e6 * eps * sd),
            ]
        }
        _ => return "-".into(),
    };
    let mut bad = Vec::new();
    for (name, a, b, tol) in fields {
        match (a, b) {
            (Some(a), Some(b)) if close(a, b, tol) => {}
            (Some(a), Some(b)) => bad.push(format!("{name}: mmarray {a:?} vs numpy {b:?}")),
            _ => bad.push(format!("{name}: missing in the output")),
        }
    }
    if bad.is_empty() {
        "ok".into()
    } else {
        format!("MISMATCH {}", bad.join(", "))
    }
}

/// The size of the `--huge` file (1.25 x RAM), or `None` with a note when the disk lacks room.
fn huge_size(ctx: &Ctx<'_>, notes: &mut Vec<String>) -> Result<Option<u64>, String> {
    let ram = workdir::meminfo("MemTotal").unwrap_or(0);
    let item = ctx.opts.dtype.itemsize();
    let huge = (ram as f64 * 1.25) as u64 / (1 << 20) * (1 << 20) / item * item;
    let free = workdir::free_disk(ctx.dir.path())?;
    if huge == 0 {
        notes.push("--huge: RAM size unknown (/proc/meminfo), skipped.".into());
        return Ok(None);
    }
    if free < huge + (1 << 30) {
        let msg = format!(
            "--huge: skipped: a file larger than RAM ({} = 1.25 x {} RAM) needs {} free on {}, \
             only {} is",
            format_size(huge),
            format_size(ram),
            format_size(huge + (1 << 30)),
            ctx.dir.path().display(),
            format_size(free)
        );
        eprintln!("bench: {msg}");
        notes.push(format!("{msg}."));
        return Ok(None);
    }
    Ok(Some(huge))
}

/// The `--sizes` and `--huge` runs.
fn scaling_run(
    ctx: &Ctx<'_>,
    main_rows: &[Row],
    main_limits: &Limits,
    notes: &mut Vec<String>,
) -> Result<Vec<ScalePoint>, String> {
    let opts = ctx.opts;
    let mut points = Vec::new();
    let mut sizes: Vec<(u64, bool)> = opts.sizes.iter().map(|&s| (s, false)).collect();
    if opts.huge
        && let Some(huge) = huge_size(ctx, notes)?
    {
        sizes.push((huge, true));
    }
    for (size, huge) in sizes {
        workdir::check_interrupted()?;
        let ops: Vec<Op> = if huge {
            vec![Op::Sum]
        } else {
            Op::SCALING.to_vec()
        };
        step(&format!(
            "scaling: {}{}",
            format_size(size),
            if huge { " (larger than RAM)" } else { "" }
        ));
        // Reuse the main run where it measured the same thing.
        if size == opts.size
            && !huge
            && ops.iter().all(|op| {
                main_rows
                    .iter()
                    .any(|r| r.op == *op && r.label == op.name())
            })
        {
            let rows = ops
                .iter()
                .filter_map(|op| {
                    main_rows
                        .iter()
                        .find(|r| r.op == *op && r.label == op.name())
                        .cloned()
                })
                .collect();
            points.push(ScalePoint {
                size,
                huge,
                limits: main_limits.clone(),
                rows,
            });
            continue;
        }
        let need = if huge {
            size + (1 << 30)
        } else {
            size * 5 / 2 + (256 << 20)
        };
        let free = workdir::free_disk(ctx.dir.path())?;
        if free < need {
            let msg = format!(
                "scaling at {}: skipped: needs about {} free disk, {} is free",
                format_size(size),
                format_size(need),
                format_size(free)
            );
            eprintln!("bench: {msg}");
            notes.push(format!("{msg}."));
            continue;
        }
        let tag = if huge { "huge" } else { "scale" };
        let file = make_main(ctx, size, tag)?;
        let result = (|| {
            let limits = if huge {
                // Each pass reads the whole file from disk: one pass, no write limit.
                step("limit: mapped read of the larger-than-RAM file (from disk), 1 pass");
                let read_all = limits::read_bandwidth_once(&file.path, ctx.threads)?;
                Limits {
                    bytes: file.nbytes,
                    threads: ctx.threads,
                    read_all,
                    read_one: None,
                    write: None,
                }
            } else {
                measure_limits(ctx, &file, opts.rounds.min(3), false)?
            };
            let mut rows = Vec::new();
            for &op in &ops {
                let input = (op.input() == Input::Main).then_some(&file);
                let cache = if huge { Cache::Streaming } else { Cache::Warm };
                let row = measure_op(ctx, op, &file, input, cache, notes)?;
                report::print_progress(&row);
                rows.push(row);
            }
            Ok::<_, String>(ScalePoint {
                size,
                huge,
                limits,
                rows,
            })
        })();
        if !ctx.dir.keep() {
            let _ = fs::remove_file(&file.path);
        }
        points.push(result?);
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::{Float, Json, Op, Shapes2d, cross_check};

    #[test]
    fn checks_and_shapes() {
        let mm = Json::parse(r#"{"op":"sum","value":12.5}"#).unwrap();
        let n = 1 << 20;
        assert_eq!(
            cross_check(Op::Sum, Float::F64, n, Some(&mm), Some(&Json::num(12.5))),
            "ok"
        );
        assert!(
            cross_check(Op::Sum, Float::F64, n, Some(&mm), Some(&Json::num(13.5)))
                .starts_with("MISMATCH")
        );
        assert!(
            cross_check(
                Op::Min,
                Float::F64,
                n,
                Some(&mm),
                Some(&Json::num(12.500_000_1))
            )
            .starts_with("MISMATCH")
        );
        assert_eq!(cross_check(Op::Astype, Float::F64, n, Some(&mm), None), "-");
        let stats =
            Json::parse(r#"{"count":4,"sum":1.0,"mean":0.25,"min":-1.0,"max":"inf","std":0.5}"#)
                .unwrap();
        assert_eq!(
            cross_check(Op::Stats, Float::F64, 4, Some(&stats), Some(&stats)),
            "ok"
        );
        // 2 GiB of float64: issue 15's tall shape, its transpose, and a square one as large.
        let s = Shapes2d::of(1 << 28);
        assert_eq!(s.wide, vec![1024, 262_144]);
        assert_eq!(s.tall, vec![262_144, 1024]);
        assert_eq!(s.square, vec![16_384, 16_384]);
        let s = Shapes2d::of(1 << 29);
        assert_eq!(s.square, vec![23_170, 23_170]);
        // Fewer items than a shape holds: as many as it does.
        let s = Shapes2d::of(1_000_003);
        assert_eq!((s.wide, s.tall), (vec![1024, 976], vec![976, 1024]));
        let s = Shapes2d::of(1000);
        assert_eq!(
            (s.wide, s.tall, s.square),
            (vec![1000, 1], vec![1, 1000], vec![31, 31])
        );
    }
}
