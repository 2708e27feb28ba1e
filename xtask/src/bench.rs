//! `cargo xtask bench`: large-file benchmarks of the release `mmarray` CLI against numpy on the
//! same files in the same run, and against the machine's limits measured in that run.
//!
//! Outline: build the CLI, find numpy, make the test files with numpy in a temporary folder,
//! measure the mapped read and fill + flush bandwidth, then per operation: warm the input, run
//! mmarray once under memory polling, time it as a whole process (hyperfine or our own loop),
//! time numpy in one python process, cross-check the results; then the cold-cache, scaling and
//! larger-than-RAM runs when asked for, and the table, JSON, docs and plot.
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
mod report;
mod svg;
mod workdir;

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
use procs::{Mem, Prepare, Samples, Wait};
use workdir::WorkDir;

/// Page-cache handling of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cache {
    /// Input read once right before each tool's runs, one warm-up run.
    Warm,
    /// Page cache dropped before every run.
    Cold,
    /// File larger than RAM: no warming, no warm-up run (every pass comes from disk).
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

/// One tool's measurement of one operation.
#[derive(Debug, Clone)]
pub(crate) struct Side {
    /// Timed runs.
    pub(crate) samples: Samples,
    /// Peak memory.
    pub(crate) mem: Mem,
    /// numpy only: `RssAnon` of the bare interpreter with numpy imported, KiB.
    pub(crate) base_rss_anon_kib: Option<u64>,
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
    /// Which limit applies, and its median GB/s in this run (none for cold rows).
    pub(crate) limit: Option<(Limit, f64)>,
    /// mmarray.
    pub(crate) mmarray: Side,
    /// mmarray's command line.
    pub(crate) mmarray_cmd: String,
    /// numpy, or why it was skipped.
    pub(crate) numpy: Result<Side, String>,
    /// Result cross-check: `ok`, a mismatch, or `-` when not applicable.
    pub(crate) check: String,
}

impl Row {
    /// mmarray GB/s at the median.
    pub(crate) fn mm_gbs(&self) -> f64 {
        self.mmarray.samples.gbs(self.bytes).0
    }

    /// numpy GB/s at the median.
    pub(crate) fn np_gbs(&self) -> Option<f64> {
        self.numpy
            .as_ref()
            .ok()
            .map(|s| s.samples.gbs(self.bytes).0)
    }

    /// mmarray / numpy throughput.
    pub(crate) fn ratio(&self) -> Option<f64> {
        self.np_gbs().map(|np| self.mm_gbs() / np)
    }

    /// mmarray's throughput in percent of the applicable limit.
    pub(crate) fn pct_of_limit(&self) -> Option<f64> {
        self.limit.map(|(_, l)| self.mm_gbs() / l * 100.0)
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
    /// `hyperfine X` or `own loop`.
    pub(crate) timer: String,
    /// Cold-cache status.
    pub(crate) cold: String,
    /// Load average (1 min) at the start and at the end of the run.
    pub(crate) load: (Option<f64>, Option<f64>),
    /// The main file.
    pub(crate) main: ArrayFile,
    /// The 2-D copy's shape.
    pub(crate) shape_2d: Vec<u64>,
    /// Limits of the main run.
    pub(crate) limits: Limits,
    /// Main rows (and cold rows).
    pub(crate) rows: Vec<Row>,
    /// Scaling run.
    pub(crate) scaling: Vec<ScalePoint>,
    /// Things that were skipped or could not be done, one sentence each.
    pub(crate) notes: Vec<String>,
}

/// The run's fixed context.
struct Ctx<'a> {
    /// Options.
    opts: &'a Options,
    /// The release CLI.
    mmarray: PathBuf,
    /// The numpy helper.
    numpy: Numpy,
    /// hyperfine, if used.
    hyperfine: Option<PathBuf>,
    /// Threads for the limits.
    threads: usize,
    /// The test folder.
    dir: &'a WorkDir,
    /// Whether the page cache can be dropped.
    cold_ok: bool,
}

/// The whole benchmark.
#[allow(clippy::too_many_lines)]
fn bench(opts: &Options) -> Result<(), String> {
    let started = Instant::now();
    let load_start = load_average();
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

    let hyperfine = if opts.hyperfine {
        procs::which("hyperfine")
    } else {
        None
    };
    let hyperfine = hyperfine.filter(|h| machine::runs(h.as_os_str()));
    let timer = match &hyperfine {
        Some(h) => {
            procs::version_of(h.as_os_str(), &["--version"]).unwrap_or_else(|| "hyperfine".into())
        }
        None => "own loop (one warm-up, then N runs; spawn to exit)".into(),
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
    let need = opts.size.saturating_mul(3) + (256 << 20);
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
        hyperfine,
        threads,
        dir: &dir,
        cold_ok,
    };
    let machine = Machine::probe(
        &root,
        &python.path,
        &python.numpy_version,
        &ctx.mmarray,
        ctx.hyperfine.as_deref(),
    );
    let mut notes = Vec::new();

    // The main file and its limits.
    let main = make_main(&ctx, opts.size, "main")?;
    let limits = measure_limits(&ctx, &main, opts.runs, true)?;
    let shape_2d = shape_2d(main.shape[0]);

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
                    let f = make_derived(&ctx, &main, kind, &shape_2d)?;
                    derived.push((kind, f.clone()));
                    Some(f)
                }
            }
        };
        let row = measure_op(
            &ctx,
            op,
            &main,
            input.as_ref(),
            &limits,
            opts.runs,
            Cache::Warm,
            &mut notes,
        )?;
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
            let runs = opts.runs.min(3);
            let mut row = measure_op(
                &ctx,
                Op::Sum,
                &main,
                Some(&main),
                &limits,
                runs,
                Cache::Cold,
                &mut notes,
            )?;
            row.label = "sum (cold)".into();
            row.limit = None;
            report::print_progress(&row);
            rows.push(row);
        } else {
            notes.push(format!("Cold cache: {cold}."));
        }
    }
    if !dir.keep() {
        let _ = fs::remove_file(&main.path);
    }

    let scaling = scaling_run(&ctx, &rows, &limits, &mut notes)?;
    let load_end = load_average();
    let busy = [load_start, load_end]
        .into_iter()
        .flatten()
        .fold(0.0, f64::max);
    if busy > 1.5 {
        let cpus = machine.cpus;
        notes.push(format!(
            "The machine was busy (1-minute load average up to {busy:.1} on {cpus} logical \
             CPUs): these timings are noisy. Re-run on an idle machine for numbers to quote."
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
        timer,
        cold,
        load: (load_start, load_end),
        main,
        shape_2d,
        limits,
        rows,
        scaling,
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

/// The 1-minute load average.
pub(crate) fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Rows x columns of the 2-D copy: an exact factorisation of `n` with rows between sqrt(n)/2
/// and sqrt(n) if there is one (2^29 gives 16384 x 32768), else floor(sqrt(n)) rows and
/// rows * cols <= n.
fn shape_2d(n: u64) -> Vec<u64> {
    let root = ((n as f64).sqrt().floor() as u64).max(1);
    let exact = (root.div_ceil(2).max(1)..=root)
        .rev()
        .find(|&r| n.is_multiple_of(r));
    let rows = exact.unwrap_or(root);
    vec![rows, n / rows]
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
    shape_2d: &[u64],
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
        Input::TwoD => (
            "main-2d.npy",
            dtype.descr(),
            shape_2d.to_vec(),
            dtype.itemsize(),
        ),
        Input::Main | Input::Nothing => return Ok(main.clone()),
    };
    let path = ctx.dir.path().join(name);
    step(&format!(
        "numpy: making {name} ({descr}, shape {}) from the main file",
        shape
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("x")
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
        Op::Axis0 | Op::Axis1 => {
            push("reduce");
            a.push(input_path());
            let axis = if op == Op::Axis0 { "0" } else { "1" };
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

/// Measures one operation with both tools.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
fn measure_op(
    ctx: &Ctx<'_>,
    op: Op,
    main: &ArrayFile,
    input: Option<&ArrayFile>,
    limits: &Limits,
    runs: usize,
    cache: Cache,
    notes: &mut Vec<String>,
) -> Result<Row, String> {
    let cold = cache == Cache::Cold;
    let warm = cache == Cache::Warm;
    let opts = ctx.opts;
    let out = op.output().map(|name| ctx.dir.path().join(name));
    let bytes = input.map_or(main.nbytes, |f| f.nbytes);
    let size_label = format_size(main.nbytes);
    step(&format!(
        "{} ({size_label}){}",
        op.name(),
        if cold { ", cold" } else { "" }
    ));

    // Warm the input (or, cold, leave it to the per-run drop).
    if let Some(f) = input.filter(|_| warm) {
        limits::warm(&f.path, ctx.threads)?;
    }

    let mut args: Vec<OsString> = vec!["--quiet".into()];
    if let Some(t) = opts.threads {
        args.push("--threads".into());
        args.push(t.to_string().into());
    }
    args.extend(mmarray_args(op, opts.dtype, main, input, out.as_deref()));
    let prepare = Prepare {
        remove: out.clone(),
        drop_caches: cold,
    };

    // One run under memory polling (also the result for the cross-check).
    prepare.run()?;
    let mut cmd = Command::new(&ctx.mmarray);
    cmd.args(&args);
    let mmarray_cmd = procs::display(&cmd);
    let mem_run = procs::run(&mut cmd, Wait::Poll)?;
    let mm_value = Json::parse(mem_run.stdout.trim()).ok();
    if let Some(f) = input.filter(|_| warm) {
        limits::warm(&f.path, ctx.threads)?;
    }
    let samples = procs::time_process(
        &ctx.mmarray,
        &args,
        &prepare,
        runs,
        cache != Cache::Streaming,
        ctx.hyperfine.as_deref(),
        ctx.dir.path(),
    )?;
    let mmarray = Side {
        samples,
        mem: mem_run.mem,
        base_rss_anon_kib: None,
    };

    // numpy, unless it would need more memory than there is.
    let available = workdir::meminfo("MemAvailable").unwrap_or(u64::MAX);
    let numpy = if op.numpy_full_temporary() && bytes as f64 > 0.8 * available as f64 {
        let why = format!(
            "numpy skipped for {} at {}: np.{} makes a full-size temporary ({}) and only {} of \
             memory is available",
            op.name(),
            size_label,
            if op == Op::Normal {
                "random...standard_normal"
            } else {
                "std"
            },
            format_size(bytes),
            format_size(available)
        );
        notes.push(format!("{why}."));
        Err(why)
    } else {
        if let Some(f) = input.filter(|_| warm) {
            limits::warm(&f.path, ctx.threads)?;
        }
        let shape = match input {
            Some(f) => f.shape.clone(),
            None => main.shape.clone(),
        };
        let run = ctx.numpy.bench(
            op.name(),
            input.map(|f| f.path.as_path()),
            out.as_deref(),
            input.map_or(opts.dtype.descr(), |f| f.descr.as_str()),
            if opts.dtype == Float::F64 {
                "<f4"
            } else {
                "<f2"
            },
            &shape,
            runs,
            cache != Cache::Streaming,
            cold,
        )?;
        Ok((run.samples, run.mem, run.base_rss_anon_kib, run.value))
    };
    let (numpy, np_value) = match numpy {
        Ok((samples, mem, base, value)) => (
            Ok(Side {
                samples,
                mem,
                base_rss_anon_kib: base,
            }),
            Some(value),
        ),
        Err(why) => (Err(why), None),
    };
    if let Some(out) = &out {
        procs::remove_if_exists(out)?;
    }
    let check = cross_check(
        op,
        opts.dtype,
        input.map_or(0, |f| f.shape.iter().product()),
        mm_value.as_ref(),
        np_value.as_ref(),
    );
    if check.starts_with("MISMATCH") {
        eprintln!("bench: WARNING: {}: {check}", op.name());
        notes.push(format!("{} ({size_label}): {check}.", op.name()));
    }
    Ok(Row {
        op,
        label: op.name().into(),
        size: main.nbytes,
        bytes,
        limit: limits.gbs(op.limit()).map(|l| (op.limit(), l)),
        mmarray,
        mmarray_cmd,
        numpy,
        check,
    })
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
                measure_limits(ctx, &file, opts.runs.min(3), false)?
            };
            let runs = if huge { opts.runs.min(3) } else { opts.runs };
            let mut rows = Vec::new();
            for &op in &ops {
                let input = (op.input() == Input::Main).then_some(&file);
                let cache = if huge { Cache::Streaming } else { Cache::Warm };
                let row = measure_op(ctx, op, &file, input, &limits, runs, cache, notes)?;
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
    use super::{Float, Json, Op, cross_check, shape_2d};

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
        assert_eq!(shape_2d(1 << 29), vec![16_384, 32_768]);
        assert_eq!(shape_2d(1 << 24), vec![4096, 4096]);
        assert_eq!(shape_2d(10), vec![2, 5]);
        assert_eq!(shape_2d(1_000_003), vec![1000, 1000]);
    }
}
