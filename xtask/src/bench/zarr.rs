//! The Zarr rows (issue 13): the `mmarray` CLI on a Zarr v3 store made from the benchmark's
//! float file (its square 2-D copy rounded to float16 precision, 1024x1024-element chunks,
//! zstd level 1), against
//! zarr-python (plain, and with the `zarrs` codec pipeline) and `dask.array.from_zarr` on the
//! same store, and against the codec's own speed on this machine measured in the same rounds
//! (zstd level-1 encode and decode of the same bytes on all threads) or, for an uncompressed
//! store, the mapped-read limit.
//!
//! Each row runs its contenders interleaved round by round (the Python contenders, mmarray,
//! the limit; ...), the order changing from round to round, as the numpy rows do (`rounds.rs`): one untimed warm-up round (mmarray's
//! polled for memory), then timed rounds until `--rounds` are done and the last one widened no
//! ratio's spread, or `--max-rounds` are done. Inputs are read into the page cache before a
//! row and again before a run when `mincore` finds less than 99.9% of them resident.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rayon::prelude::*;

use super::json::Json;
use super::numpy::{self as np_helper, Server};
use super::ops::{Op, RSS_ANON_TARGET_MIB};
use super::procs::{self, Mem, Samples, Spread, Wait, kib_to_mib};
use super::report::{self, Check, Verdict, ceiling_words, fmt_gbs, pct_text, ratio_text};
use super::rounds::{round_order, widened};
use super::sysstat::{self, Conditions};
use super::{ArrayFile, Ctx, Shapes2d, Side, cross_check, limits, shape_text, step, workdir};

/// The Python helper.
const SCRIPT: &str = include_str!("zarr_py.py");

/// Chunk edge of the stores, in elements (1024x1024 chunks).
const CHUNK: u64 = 1024;

/// Below this resident fraction an input is read again before the next run.
const REWARM_BELOW: f64 = 0.999;

/// One Zarr row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZarrOp {
    /// `.npy` -> Zarr (zstd level 1).
    Convert,
    /// Sum over the zstd store.
    Sum,
    /// count/sum/mean/min/max/std over the zstd store.
    Stats,
    /// Sum along axis 0 over the zstd store, saved as `.npy`.
    Axis0,
    /// Sum over the uncompressed store.
    SumRaw,
}

impl ZarrOp {
    /// All, in run order.
    pub(crate) const ALL: [ZarrOp; 5] = [
        ZarrOp::Convert,
        ZarrOp::Sum,
        ZarrOp::Stats,
        ZarrOp::Axis0,
        ZarrOp::SumRaw,
    ];

    /// The name on the command line (`--ops`), in tables and in JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ZarrOp::Convert => "zarr_convert",
            ZarrOp::Sum => "zarr_sum",
            ZarrOp::Stats => "zarr_stats",
            ZarrOp::Axis0 => "zarr_axis0",
            ZarrOp::SumRaw => "zarr_sum_raw",
        }
    }

    /// The operation called `name`.
    pub(crate) fn from_name(name: &str) -> Option<ZarrOp> {
        ZarrOp::ALL.into_iter().find(|op| op.name() == name)
    }

    /// What it does, for the docs.
    fn what(self) -> &'static str {
        match self {
            ZarrOp::Convert => "the square `.npy` into a new Zarr store (zstd 1, 1024x1024 chunks)",
            ZarrOp::Sum => "sum of the zstd store",
            ZarrOp::Stats => "count, sum, mean, min, max, std of the zstd store",
            ZarrOp::Axis0 => "sum along axis 0 of the zstd store, saved as .npy",
            ZarrOp::SumRaw => "sum of the uncompressed store",
        }
    }

    /// The Python contenders, in their order within a round.
    fn contenders(self) -> &'static [Py] {
        match self {
            ZarrOp::Convert => &[Py::Zarr, Py::Zarrs],
            _ => &[Py::Zarrs, Py::Dask],
        }
    }

    /// The limit it is compared with.
    fn limit(self) -> ZLimit {
        match self {
            ZarrOp::Convert => ZLimit::Encode,
            ZarrOp::SumRaw => ZLimit::Read,
            _ => ZLimit::Decode,
        }
    }

    /// Its target: at least `ratio` times the speed of the `vs` contender, and `pct` percent
    /// of the limit.
    fn target(self) -> (Option<(Py, f64)>, f64) {
        match self {
            ZarrOp::Convert => (Some((Py::Zarr, 1.5)), 85.0),
            ZarrOp::SumRaw => (None, 85.0),
            _ => (Some((Py::Zarrs, 1.2)), 85.0),
        }
    }

    /// The operation of the numpy rows whose result check it shares.
    fn check_as(self) -> Option<Op> {
        match self {
            ZarrOp::Sum | ZarrOp::SumRaw => Some(Op::Sum),
            ZarrOp::Stats => Some(Op::Stats),
            _ => None,
        }
    }
}

/// A Python contender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Py {
    /// zarr-python with its default codec pipeline.
    Zarr,
    /// zarr-python with the `zarrs` codec pipeline (`zarrs.ZarrsCodecPipeline`).
    Zarrs,
    /// `dask.array.from_zarr` on dask's threaded scheduler.
    Dask,
}

impl Py {
    /// Its name in the helper script's config.
    fn key(self) -> &'static str {
        match self {
            Py::Zarr => "zarr",
            Py::Zarrs => "zarrs",
            Py::Dask => "dask",
        }
    }

    /// Its name in tables.
    fn label(self) -> &'static str {
        match self {
            Py::Zarr => "zarr-python",
            Py::Zarrs => "zarrs pipeline",
            Py::Dask => "dask",
        }
    }

    /// The code it runs, for the docs.
    fn code(self, op: ZarrOp) -> &'static str {
        match (self, op) {
            (_, ZarrOp::Convert) => {
                "z = zarr.create_array(OUT, shape, chunks=(1024, 1024), dtype, \
                 compressors=ZstdCodec(level=1)); z[...] = np.load(IN, mmap_mode='r'); os.sync()"
            }
            (Py::Dask, ZarrOp::Stats) => {
                "a = da.from_zarr(S); da.compute(a.sum(), a.mean(), a.min(), a.max(), a.std())"
            }
            (Py::Dask, ZarrOp::Axis0) => "np.save(f, da.from_zarr(S).sum(axis=0).compute()); fsync",
            (Py::Dask, _) => "da.from_zarr(S).sum().compute()",
            (_, ZarrOp::Stats) => {
                "per band of 1024 rows z[i:i+1024]: np.sum, np.min, np.max, sum of squared \
                 deviations (merged as Chan et al.)"
            }
            (_, ZarrOp::Axis0) => "acc += np.sum(z[i:i+1024], axis=0) per band; np.save; fsync",
            (_, _) => "sum(np.sum(z[i:i+1024]) for each band of 1024 rows)",
        }
    }
}

/// The limit of a Zarr row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZLimit {
    /// zstd level-1 compression of the input's bytes in chunk-sized pieces, all threads.
    Encode,
    /// Reading and zstd-decoding every chunk file of the store, all threads.
    Decode,
    /// Mapped read of the `.npy` holding the same array (as the numpy rows' limit).
    Read,
}

impl ZLimit {
    fn word(self) -> &'static str {
        match self {
            ZLimit::Encode => "zstd-1 encode",
            ZLimit::Decode => "zstd decode",
            ZLimit::Read => "mapped read",
        }
    }
}

/// One measured Zarr row.
#[derive(Debug, Clone)]
pub(crate) struct ZarrRow {
    /// The operation.
    op: ZarrOp,
    /// Bytes of the array (the throughput's numerator).
    bytes: u64,
    /// Its shape.
    shape: Vec<u64>,
    /// mmarray.
    mmarray: Side,
    /// mmarray's command line.
    mmarray_cmd: String,
    /// The `--compare` binary's times, if one was given.
    compare: Option<Samples>,
    /// The Python contenders, or why one was skipped.
    others: Vec<(Py, Result<Side, String>)>,
    /// The limit and the bytes of one pass of it.
    limit: (ZLimit, u64, Samples),
    /// The conversion's second limit (same bytes as `limit`): zstd level-1 encode plus
    /// writing each piece's output as a new file, synced ([`encode_once`] with a folder).
    written: Option<Samples>,
    /// The result check against the Python contenders.
    check: String,
    /// Load and steal while it ran.
    conditions: Conditions,
}

impl ZarrRow {
    /// mmarray's speed over `who`'s, round by round.
    fn ratio(&self, who: Py) -> Option<Spread> {
        let (_, side) = self.others.iter().find(|(p, _)| *p == who)?;
        side.as_ref()
            .ok()?
            .samples
            .ratio_over(&self.mmarray.samples)
    }

    /// This build's speed over the `--compare` binary's, round by round.
    fn compare_ratio(&self) -> Option<Spread> {
        self.compare.as_ref()?.ratio_over(&self.mmarray.samples)
    }

    /// mmarray's throughput in percent of the limit, round by round.
    fn pct_of_limit(&self) -> Option<Spread> {
        let (_, bytes, samples) = &self.limit;
        let k = self.bytes as f64 / *bytes as f64 * 100.0;
        Some(samples.ratio_over(&self.mmarray.samples)?.scale(k))
    }

    /// mmarray's throughput in percent of the encode + write limit, round by round.
    fn pct_of_written(&self) -> Option<Spread> {
        let k = self.bytes as f64 / self.limit.1 as f64 * 100.0;
        Some(
            self.written
                .as_ref()?
                .ratio_over(&self.mmarray.samples)?
                .scale(k),
        )
    }
}

/// The Zarr part of a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct ZarrResults {
    /// The rows.
    pub(crate) rows: Vec<ZarrRow>,
    /// zarr, zarrs and dask versions.
    versions: String,
    /// The zstd store: chunks, stored bytes, compression ratio.
    store: String,
    /// Threads of the limits.
    threads: usize,
    /// The element type (`float64`, `float32`).
    dtype: &'static str,
    /// The chunk's bytes (for the memory target).
    chunk_bytes: u64,
}

/// Runs the Zarr rows of `ops` (none: nothing).
pub(crate) fn run(
    ctx: &Ctx<'_>,
    main: &ArrayFile,
    ops: &[ZarrOp],
    notes: &mut Vec<String>,
) -> Result<ZarrResults, String> {
    let mut results = ZarrResults {
        threads: ctx.threads,
        dtype: ctx.opts.dtype.name(),
        chunk_bytes: CHUNK * CHUNK * ctx.opts.dtype.itemsize(),
        ..ZarrResults::default()
    };
    if ops.is_empty() {
        return Ok(results);
    }
    step("zarr: probing zarr-python, zarrs and dask");
    let script = ctx.dir.path().join("bench_zarr.py");
    super::write_py(&script, SCRIPT)?;
    let python = ctx.numpy.python().to_path_buf();
    let probe = {
        let mut cmd = Command::new(&python);
        cmd.arg(&script).arg(r#"{"mode":"probe"}"#);
        let done = procs::run(&mut cmd, Wait::Block)?;
        Json::parse(done.stdout.trim()).map_err(|e| format!("zarr probe: {e}: {}", done.stdout))?
    };
    let version = |k: &str| match probe.get(k) {
        Some(Json::Str(v)) => Some(v.clone()),
        _ => None,
    };
    let have = |p: Py| match p {
        Py::Zarr => version("zarr").is_some(),
        Py::Zarrs => version("zarrs").is_some(),
        Py::Dask => version("dask").is_some(),
    };
    results.versions = ["zarr", "zarrs", "dask"]
        .iter()
        .map(|k| format!("{k} {}", version(k).unwrap_or_else(|| "missing".into())))
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!("bench:   {}", results.versions);
    for p in [Py::Zarrs, Py::Dask] {
        if !have(p) {
            notes.push(format!(
                "Zarr rows: {} does not import in {} (`cargo xtask test` installs it): its \
                 column is skipped.",
                p.label(),
                python.display()
            ));
        }
    }

    let compare = compare_bin(ctx, notes);

    // The square copy (1024x1024 chunks need two axes), and the stores made from it by mmarray.
    let shapes = Shapes2d::of(main.shape[0]);
    let square = super::make_derived(ctx, main, super::ops::Input::Square, &shapes)?;
    let square = half_precision(ctx, square)?;
    let dir = ctx.dir.path();
    let zstd_store = dir.join("zarr-zstd1.zarr");
    let raw_store = dir.join("zarr-raw.zarr");
    let chunks = format!("{CHUNK},{CHUNK}");
    let outcome = (|| {
        let needs_store = ops
            .iter()
            .any(|o| !matches!(o, ZarrOp::Convert | ZarrOp::SumRaw));
        if needs_store {
            make_store(ctx, &square, &zstd_store, &chunks, "zstd:1")?;
            let stored = tree_bytes(&zstd_store)?;
            results.store = format!(
                "{} chunks of {CHUNK}x{CHUNK}, zstd level 1: {} stored, {:.2}x compression",
                chunk_files(&zstd_store)?.len(),
                super::cli::format_size(stored),
                square.nbytes as f64 / stored.max(1) as f64
            );
            eprintln!("bench:   {}", results.store);
        }
        if ops.contains(&ZarrOp::SumRaw) {
            make_store(ctx, &square, &raw_store, &chunks, "none")?;
        }
        for &op in ops {
            workdir::check_interrupted()?;
            let input = match op {
                ZarrOp::Convert => Input::Npy(&square),
                ZarrOp::SumRaw => Input::Store(&raw_store),
                _ => Input::Store(&zstd_store),
            };
            let row = measure(ctx, compare, op, &square, input, &python, &script, &have)?;
            eprintln!("bench:   {}", progress(&row, &results));
            if row.check.starts_with("MISMATCH") {
                notes.push(format!("{}: {}.", op.name(), row.check));
            }
            results.rows.push(row);
        }
        Ok::<(), String>(())
    })();
    if !ctx.dir.keep() {
        let _ = fs::remove_file(&square.path);
        let _ = fs::remove_dir_all(&zstd_store);
        let _ = fs::remove_dir_all(&raw_store);
    }
    outcome.map(|()| results)
}

/// The `--compare` binary, if it has the Zarr commands (one built before them
/// cannot time these rows: a note says so).
fn compare_bin<'a>(ctx: &'a Ctx<'_>, notes: &mut Vec<String>) -> Option<&'a Path> {
    ctx.compare.as_deref().filter(|bin| {
        let zarr = Command::new(bin)
            .args(["convert", "--help"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--chunks"));
        if !zarr {
            notes.push(format!(
                "Zarr rows: the --compare binary {} has no Zarr commands (its `convert` \
                 takes no --chunks): its column is left out.",
                bin.display()
            ));
        }
        zarr
    })
}

/// What a row reads.
#[derive(Clone, Copy)]
enum Input<'a> {
    /// The square `.npy`.
    Npy(&'a ArrayFile),
    /// A store.
    Store(&'a Path),
}

impl Input<'_> {
    fn path(&self) -> &Path {
        match self {
            Input::Npy(f) => &f.path,
            Input::Store(p) => p,
        }
    }

    /// The files to keep in the page cache.
    fn files(&self) -> Result<Vec<PathBuf>, String> {
        match self {
            Input::Npy(f) => Ok(vec![f.path.clone()]),
            Input::Store(p) => tree_files(p),
        }
    }
}

/// A copy of `square` (which it removes) whose values are rounded to float16
/// precision, held in the same type, made with the release CLI (untimed), as
/// `zarr-square.npy`. The issue's figures were measured on an array that zstd
/// level 1 compresses 2.8x (one core decoding it at about 0.85 GB/s); the main
/// file's random normals compress 1.04x, so zstd stores raw blocks and decoding
/// is little more than a copy. Rounded to float16 precision (10 mantissa bits
/// of 52), the same normals compress about as the issue's array did.
fn half_precision(ctx: &Ctx<'_>, square: ArrayFile) -> Result<ArrayFile, String> {
    let dir = ctx.dir.path();
    let half = dir.join("zarr-square-f2.npy");
    let out = dir.join("zarr-square.npy");
    step("zarr: rounding the square copy to float16 precision with mmarray convert");
    let outcome = [
        (&square.path, &half, "float16"),
        (&half, &out, ctx.opts.dtype.name()),
    ]
    .into_iter()
    .try_for_each(|(from, to, dtype)| {
        let mut cmd = Command::new(&ctx.mmarray);
        cmd.arg("--quiet")
            .arg("convert")
            .arg(from)
            .arg(to)
            .args(["--out-dtype", dtype, "--force"]);
        procs::run(&mut cmd, Wait::Block).map(|_| ())
    });
    let _ = fs::remove_file(&half);
    let _ = fs::remove_file(&square.path);
    outcome.map(|()| ArrayFile {
        path: out,
        ..square
    })
}

/// Makes a store from `square` with the release CLI (untimed).
fn make_store(
    ctx: &Ctx<'_>,
    square: &ArrayFile,
    store: &Path,
    chunks: &str,
    codec: &str,
) -> Result<(), String> {
    step(&format!(
        "zarr: making {} with mmarray convert (--codec {codec})",
        store.file_name().unwrap_or_default().to_string_lossy()
    ));
    let mut cmd = Command::new(&ctx.mmarray);
    cmd.arg("--quiet")
        .arg("convert")
        .arg(&square.path)
        .arg(store)
        .args(["--chunks", chunks, "--codec", codec, "--force"]);
    procs::run(&mut cmd, Wait::Block).map(|_| ())
}

/// Every file under `dir`, sorted.
fn tree_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let entries =
            fs::read_dir(&d).map_err(|e| format!("could not list {}: {e}", d.display()))?;
        for e in entries {
            let e = e.map_err(|e| format!("could not list {}: {e}", d.display()))?;
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The chunk files of a store (everything but `zarr.json`).
fn chunk_files(store: &Path) -> Result<Vec<PathBuf>, String> {
    Ok(tree_files(store)?
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "zarr.json"))
        .collect())
}

/// The bytes of every file under `dir`.
fn tree_bytes(dir: &Path) -> Result<u64, String> {
    tree_files(dir)?.iter().try_fold(0u64, |acc, p| {
        fs::metadata(p)
            .map(|m| acc + m.len())
            .map_err(|e| format!("could not stat {}: {e}", p.display()))
    })
}

/// The contenders of a row, in their order within a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// A Python contender (index into the row's list).
    Py(usize),
    /// This build's mmarray.
    Mmarray,
    /// The `--compare` binary, with the same arguments.
    Compare,
    /// The limit.
    Limit,
    /// The encode limit plus writing its output (the conversion only).
    Written,
}

/// Measures one row.
#[allow(clippy::too_many_lines)] // one loop over rounds and contenders, read top to bottom
/// Times `op` (`compare`: the `--compare` binary, if it can run it).
#[allow(clippy::too_many_arguments)]
fn measure(
    ctx: &Ctx<'_>,
    compare: Option<&Path>,
    op: ZarrOp,
    square: &ArrayFile,
    input: Input<'_>,
    python: &Path,
    script: &Path,
    have: &dyn Fn(Py) -> bool,
) -> Result<ZarrRow, String> {
    let opts = ctx.opts;
    step(&format!(
        "{} ({})",
        op.name(),
        super::cli::format_size(square.nbytes)
    ));
    let dir = ctx.dir.path();
    let out: Option<PathBuf> = match op {
        ZarrOp::Convert => Some(dir.join("out-convert.zarr")),
        ZarrOp::Axis0 => Some(dir.join("out-zarr-axis0.npy")),
        _ => None,
    };
    let mut args: Vec<OsString> = vec!["--quiet".into()];
    if let Some(t) = opts.threads {
        args.extend(["--threads".into(), t.to_string().into()]);
    }
    let in_path = input.path().as_os_str().to_owned();
    let out_path = out.clone().unwrap_or_default().into_os_string();
    match op {
        ZarrOp::Convert => {
            args.extend(["convert".into(), in_path, out_path]);
            let chunks = format!("{CHUNK},{CHUNK}");
            args.extend(["--chunks", &chunks, "--codec", "zstd:1", "--force"].map(OsString::from));
        }
        ZarrOp::Sum | ZarrOp::SumRaw => {
            args.extend(["reduce".into(), in_path]);
            args.extend(["--op", "sum", "--json"].map(OsString::from));
        }
        ZarrOp::Stats => args.extend(["stats".into(), in_path, "--json".into()]),
        ZarrOp::Axis0 => {
            args.extend(["reduce".into(), in_path]);
            args.extend(["--op", "sum", "--axis", "0", "--out"].map(OsString::from));
            args.push(out_path);
            args.extend(["--force", "--json"].map(OsString::from));
        }
    }
    let mmarray_cmd = {
        let mut cmd = Command::new(&ctx.mmarray);
        cmd.args(&args);
        procs::display(&cmd)
    };

    // The Python contenders that import here.
    let mut servers: Vec<(Py, Result<Server, String>)> = Vec::new();
    for &p in op.contenders() {
        if !have(p) {
            servers.push((p, Err(format!("{} does not import", p.label()))));
            continue;
        }
        let cfg = Json::obj([
            ("mode", Json::str("serve")),
            ("contender", Json::str(p.key())),
            ("op", Json::str(op.name())),
            ("input", np_helper::path_json(input.path())),
            (
                "output",
                out.as_deref().map_or(Json::Null, np_helper::path_json),
            ),
            ("chunks", np_helper::shape_json(&[CHUNK, CHUNK])),
            ("threads", Json::num(ctx.threads as f64)),
        ]);
        servers.push((p, Ok(np_helper::serve_script(python, script, &cfg)?)));
    }

    // The limit's input and bytes per pass.
    let limit_kind = op.limit();
    let pool = limits::pool(ctx.threads)?;
    let chunk_bytes = usize::try_from(CHUNK * CHUNK * opts.dtype.itemsize())
        .map_err(|_| "chunk size out of range".to_owned())?;
    let decode_files = match (limit_kind, input) {
        (ZLimit::Decode, Input::Store(s)) => chunk_files(s)?,
        _ => Vec::new(),
    };
    let limit_bytes = match limit_kind {
        ZLimit::Encode => square.nbytes,
        ZLimit::Decode => decode_files.len() as u64 * chunk_bytes as u64,
        ZLimit::Read => fs::metadata(&square.path)
            .map_err(|e| format!("could not stat {}: {e}", square.path.display()))?
            .len(),
    };
    let limit_files = if limit_kind == ZLimit::Read || limit_kind == ZLimit::Encode {
        vec![square.path.clone()]
    } else {
        Vec::new()
    };

    let mut order: Vec<Who> = (0..servers.len()).map(Who::Py).collect();
    order.push(Who::Mmarray);
    if compare.is_some() {
        order.push(Who::Compare);
    }
    order.push(Who::Limit);
    let written_dir = dir.join("limit-encode-write");
    if op == ZarrOp::Convert {
        order.push(Who::Written);
    }
    let mut cached = input.files()?;
    cached.extend(limit_files);
    for f in &cached {
        limits::warm(f, ctx.threads)?;
    }
    let mut conditions = Conditions::start();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); order.len()];
    let mut mm_mem = Mem::default();
    let mut values: Vec<Option<Json>> = vec![None; order.len()];
    let mut round = 0usize;
    loop {
        let timed = round > 0;
        for slot in round_order(&(0..order.len()).collect::<Vec<_>>(), round) {
            let who = order[slot];
            workdir::check_interrupted()?;
            if let Who::Py(i) = who
                && servers[i].1.is_err()
            {
                continue;
            }
            if let Some(out) = &out {
                remove_output(out)?;
            }
            remove_output(&written_dir)?;
            for f in &cached {
                if sysstat::resident_fraction(f)? < REWARM_BELOW {
                    limits::warm(f, ctx.threads)?;
                }
            }
            let (t, value) = match who {
                Who::Py(i) => {
                    let server = servers[i].1.as_mut().map_err(|e| e.clone())?;
                    let (t, v) = server.run()?;
                    (t, Some(v))
                }
                Who::Mmarray | Who::Compare => {
                    let bin = match (who, compare) {
                        (Who::Compare, Some(bin)) => bin,
                        _ => ctx.mmarray.as_path(),
                    };
                    let poll = !timed && who == Who::Mmarray;
                    let mut cmd = Command::new(bin);
                    cmd.args(&args);
                    let done = procs::run(&mut cmd, if poll { Wait::Poll } else { Wait::Block })?;
                    if poll {
                        mm_mem = done.mem;
                    }
                    (
                        done.elapsed.as_secs_f64(),
                        Json::parse(done.stdout.trim()).ok(),
                    )
                }
                Who::Limit => {
                    let t = match limit_kind {
                        ZLimit::Read => limits::read_once(&square.path, &pool, ctx.threads)?,
                        ZLimit::Encode => encode_once(&square.path, chunk_bytes, &pool, None)?,
                        ZLimit::Decode => decode_once(&decode_files, chunk_bytes, &pool)?,
                    };
                    (t, None)
                }
                Who::Written => (
                    encode_once(&square.path, chunk_bytes, &pool, Some(&written_dir))?,
                    None,
                ),
            };
            if values[slot].is_none() {
                values[slot] = value;
            }
            if timed {
                times[slot].push(t);
            }
        }
        conditions.sample();
        if timed {
            let mm_slot = order.iter().position(|&w| w == Who::Mmarray).unwrap_or(0);
            let mm = &times[mm_slot];
            let still_moving = times.iter().enumerate().any(|(i, t)| {
                i != mm_slot && {
                    let r: Vec<f64> = t.iter().zip(mm).map(|(a, b)| a / b).collect();
                    widened(&r)
                }
            });
            let done = mm.len();
            eprintln!(
                "bench:   round {done}: {}",
                order
                    .iter()
                    .zip(&times)
                    .filter_map(|(w, t)| t
                        .last()
                        .map(|t| format!("{} {t:.3} s", who_label(*w, &servers))))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if done >= opts.max_rounds || (done >= opts.rounds && !still_moving) {
                break;
            }
        }
        round += 1;
    }
    conditions.finish(ctx.machine_cpus);
    if let Some(out) = &out {
        remove_output(out)?;
    }
    remove_output(&written_dir)?;

    let mm_slot = order.iter().position(|&w| w == Who::Mmarray).unwrap_or(0);
    let limit_slot = order.iter().position(|&w| w == Who::Limit).unwrap_or(0);
    let written = order
        .iter()
        .position(|&w| w == Who::Written)
        .map(|i| Samples {
            times: std::mem::take(&mut times[i]),
        });
    let compare = order
        .iter()
        .position(|&w| w == Who::Compare)
        .map(|i| Samples {
            times: std::mem::take(&mut times[i]),
        });
    let mm_value = values[mm_slot].clone();
    let n = square.shape.iter().product();
    let mut checks = Vec::new();
    let mut others = Vec::new();
    for (i, (p, server)) in servers.into_iter().enumerate() {
        let side = server.map(|s| {
            let base = s.base_rss_anon_kib;
            Side {
                samples: Samples {
                    times: std::mem::take(&mut times[i]),
                },
                mem: s.finish(),
                base_rss_anon_kib: base,
            }
        });
        if let (Some(check_op), Ok(_)) = (op.check_as(), &side) {
            let c = cross_check(
                check_op,
                opts.dtype,
                n,
                mm_value.as_ref(),
                values[i].as_ref(),
            );
            checks.push(format!("{}: {c}", p.label()));
        }
        others.push((p, side));
    }
    let check = if checks.is_empty() {
        "-".to_owned()
    } else if checks.iter().all(|c| c.ends_with(": ok")) {
        "ok".to_owned()
    } else {
        format!("MISMATCH {}", checks.join("; "))
    };
    Ok(ZarrRow {
        op,
        bytes: square.nbytes,
        shape: square.shape.clone(),
        mmarray: Side {
            samples: Samples {
                times: std::mem::take(&mut times[mm_slot]),
            },
            mem: mm_mem,
            base_rss_anon_kib: None,
        },
        mmarray_cmd,
        compare,
        others,
        limit: (
            limit_kind,
            limit_bytes,
            Samples {
                times: std::mem::take(&mut times[limit_slot]),
            },
        ),
        written,
        check,
        conditions,
    })
}

/// A contender's name in progress lines.
fn who_label(who: Who, servers: &[(Py, Result<Server, String>)]) -> &'static str {
    match who {
        Who::Py(i) => servers.get(i).map_or("?", |(p, _)| p.label()),
        Who::Mmarray => "mmarray",
        Who::Compare => "--compare",
        Who::Limit => "limit",
        Who::Written => "encode + write",
    }
}

/// Deletes an output file or store; a missing one is fine.
fn remove_output(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        fs::remove_dir_all(path).map_err(|e| format!("could not delete {}: {e}", path.display()))
    } else {
        procs::remove_if_exists(path)
    }
}

thread_local! {
    /// The limits' per-thread buffers: stored bytes and decoded (or encoded) bytes.
    static BUFS: std::cell::RefCell<(Vec<u8>, Vec<u8>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// The encode limit: zstd level 1 over the data of the `.npy` at `path` (read with `pread`
/// from the page cache, in pieces of `piece` bytes, as many as there are chunks' worth), on
/// the pool's threads, into a reused buffer per thread; returns the wall time. The pieces are
/// runs of the file rather than 1024x1024 blocks of the array: the same values' kind (i.i.d.
/// standard normal rounded to float16 precision), so the same work for the codec, without a
/// gather.
///
/// With `write_to`, the conversion's second limit: each piece's output is also written as a
/// new file in that new folder (buffered, its writeback started at once with
/// `sync_file_range`, so that the disk works while the CPUs encode), then one `syncfs` (as a
/// store is made durable before it is renamed into place). The work a conversion cannot
/// skip, with no gather and no Zarr metadata.
fn encode_once(
    path: &Path,
    piece: usize,
    pool: &rayon::ThreadPool,
    write_to: Option<&Path>,
) -> Result<f64, String> {
    let start = Instant::now();
    if let Some(dir) = write_to {
        fs::create_dir(dir).map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    }
    let file = File::open(path).map_err(|e| format!("could not open {}: {e}", path.display()))?;
    let len = file
        .metadata()
        .map_err(|e| format!("could not stat {}: {e}", path.display()))?
        .len();
    let pieces = len.div_ceil(piece as u64);
    let bound = zstd::zstd_safe::compress_bound(piece);
    pool.install(|| {
        (0..pieces).into_par_iter().try_for_each(|i| {
            BUFS.with_borrow_mut(|(src, dst)| {
                let at = i * piece as u64;
                let n = usize::try_from((len - at).min(piece as u64)).unwrap_or(piece);
                src.resize(n, 0);
                file.read_exact_at(src, at)
                    .map_err(|e| format!("could not read {}: {e}", path.display()))?;
                if dst.len() < bound {
                    dst.resize(bound, 0);
                }
                let m = zstd::bulk::compress_to_buffer(src, dst, 1)
                    .map_err(|e| format!("zstd: {e}"))?;
                match write_to {
                    Some(dir) => write_piece(&dir.join(i.to_string()), &dst[..m]),
                    None => Ok(()),
                }
            })
        })
    })?;
    if let Some(dir) = write_to {
        let d = File::open(dir).map_err(|e| format!("could not open {}: {e}", dir.display()))?;
        // SAFETY: `syncfs` only reads its argument, a descriptor that `d` keeps open.
        if unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&d)) } != 0 {
            return Err(format!(
                "could not sync {}: {}",
                dir.display(),
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(start.elapsed().as_secs_f64())
}

/// Writes `bytes` as the new file `out` and starts its writeback (see [`encode_once`]).
fn write_piece(out: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut f =
        File::create(out).map_err(|e| format!("could not create {}: {e}", out.display()))?;
    std::io::Write::write_all(&mut f, bytes)
        .map_err(|e| format!("could not write {}: {e}", out.display()))?;
    // SAFETY: `sync_file_range` only reads its arguments; `f` keeps the descriptor open. A
    // failure only leaves the writeback to `syncfs`.
    unsafe {
        libc::sync_file_range(
            std::os::fd::AsRawFd::as_raw_fd(&f),
            0,
            0,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
    Ok(())
}

/// The decode limit: reads every chunk file of the store (`pread`, from the page cache) and
/// zstd-decodes it into a reused buffer per thread, on the pool's threads; returns the wall
/// time.
fn decode_once(files: &[PathBuf], chunk: usize, pool: &rayon::ThreadPool) -> Result<f64, String> {
    let start = Instant::now();
    pool.install(|| {
        files.par_iter().try_for_each(|path| {
            BUFS.with_borrow_mut(|(src, dst)| {
                let file = File::open(path)
                    .map_err(|e| format!("could not open {}: {e}", path.display()))?;
                let len = file
                    .metadata()
                    .map_err(|e| format!("could not stat {}: {e}", path.display()))?
                    .len();
                src.resize(usize::try_from(len).unwrap_or(0), 0);
                file.read_exact_at(src, 0)
                    .map_err(|e| format!("could not read {}: {e}", path.display()))?;
                if dst.len() < chunk {
                    dst.resize(chunk, 0);
                }
                zstd::bulk::decompress_to_buffer(src, dst)
                    .map_err(|e| format!("{}: zstd: {e}", path.display()))?;
                Ok::<(), String>(())
            })
        })
    })?;
    Ok(start.elapsed().as_secs_f64())
}

/// The memory target of a Zarr row, MiB: issue 13's 64 MiB plus two chunks per thread.
fn rss_target_mib(results: &ZarrResults) -> f64 {
    RSS_ANON_TARGET_MIB + 2.0 * results.threads as f64 * results.chunk_bytes as f64 / 1_048_576.0
}

/// `median [slowest-fastest]` GB/s.
fn gbs_cell(samples: &Samples, bytes: u64) -> String {
    let (m, lo, hi) = samples.gbs(bytes);
    format!("{} [{}-{}]", fmt_gbs(m), fmt_gbs(lo), fmt_gbs(hi))
}

/// The targets of every row.
fn checks(results: &ZarrResults) -> Vec<Check> {
    let mut out = Vec::new();
    for row in &results.rows {
        let (ratio, pct) = row.op.target();
        if let Some((who, min)) = ratio {
            let r = row.ratio(who);
            out.push(Check {
                op: row.op.name().to_owned(),
                target: format!("mmarray/{} >= {min}x", who.label()),
                measured: r.map_or_else(|| format!("{} skipped", who.label()), ratio_text),
                verdict: r.map(|r| Verdict::of(r, min)),
            });
        }
        let p = row.pct_of_limit();
        out.push(Check {
            op: row.op.name().to_owned(),
            target: format!(
                ">= {pct:.0}% of the {}-thread {} limit",
                results.threads,
                row.limit.0.word()
            ),
            measured: p.map_or_else(|| "-".into(), pct_text),
            verdict: p.map(|p| Verdict::of(p, pct)),
        });
        out.push(report::rss_check(
            row.op.name().to_owned(),
            &row.mmarray.mem,
            rss_target_mib(results),
            " (64 + 2 chunks per thread)",
        ));
    }
    out
}

/// One finished row in a line.
fn progress(row: &ZarrRow, results: &ZarrResults) -> String {
    let mut s = format!(
        "{}: mmarray {} GB/s",
        row.op.name(),
        gbs_cell(&row.mmarray.samples, row.bytes)
    );
    for (p, side) in &row.others {
        match side {
            Ok(side) => {
                let _ = write!(
                    s,
                    ", {} {} GB/s (mmarray {})",
                    p.label(),
                    gbs_cell(&side.samples, row.bytes),
                    row.ratio(*p).map_or_else(|| "-".into(), ratio_text)
                );
            }
            Err(why) => {
                let _ = write!(s, ", {}: {why}", p.label());
            }
        }
    }
    if let Some(r) = row.compare_ratio() {
        let _ = write!(s, ", vs --compare {}", ratio_text(r));
    }
    let _ = write!(
        s,
        ", {} limit {} GB/s ({} of it), RssAnon {}, check {}",
        row.limit.0.word(),
        gbs_cell(&row.limit.2, row.limit.1),
        row.pct_of_limit().map_or_else(|| "-".into(), pct_text),
        rss_text(&row.mmarray),
        row.check
    );
    if let Some(w) = &row.written {
        let _ = write!(
            s,
            "; encode + write {} GB/s ({} of it)",
            gbs_cell(w, row.limit.1),
            row.pct_of_written().map_or_else(|| "-".into(), pct_text)
        );
    }
    let _ = results;
    s
}

/// A note for each row whose target over a contender is above what this machine allows in
/// some round: the limit that the row's work cannot beat (for a conversion, which must write
/// its store, the encode + write limit) ran at less than the target's ratio over that
/// contender's speed (see [`report::ceiling_words`]). None for a row whose every round cleared
/// its target.
fn contender_notes(results: &ZarrResults) -> String {
    let mut out = String::new();
    for row in &results.rows {
        let (Some((who, min)), _) = row.op.target() else {
            continue;
        };
        if row.ratio(who).is_some_and(|r| r.min >= min) {
            continue;
        }
        let Some(Ok(side)) = row.others.iter().find(|(p, _)| *p == who).map(|(_, s)| s) else {
            continue;
        };
        let (limit, name, pct) = match &row.written {
            Some(w) => (w, "zstd-1 encode + write", row.pct_of_written()),
            None => (&row.limit.2, row.limit.0.word(), row.pct_of_limit()),
        };
        // The limit's speed over the contender's, round by round.
        let Some(ceiling) = side
            .samples
            .ratio_over(limit)
            .map(|r| r.scale(row.limit.1 as f64 / row.bytes.max(1) as f64))
        else {
            continue;
        };
        if let Some(words) = ceiling_words(ceiling, min) {
            let _ = writeln!(
                out,
                "{}: the target {min}x {} {words}: the {}-thread {name} limit itself, timed in the \
                 same rounds, is only {} its speed, and mmarray runs at {} of that limit.",
                row.op.name(),
                who.label(),
                results.threads,
                ratio_text(ceiling),
                pct.map_or_else(|| "-".into(), pct_text),
            );
        }
    }
    out
}

/// What would have to change (in the design) for each row whose % of its limit fell short of
/// the target in some round, where the reason is the design's and not the machine's: the
/// whole-array reductions keep the `.npy`'s bits whatever the chunking, so they walk the
/// array in C order, a band of chunks at a time. Empty when no such row fell short.
fn design_notes(results: &ZarrResults) -> String {
    let mut out = String::new();
    for row in &results.rows {
        let target = row.op.target().1;
        if row.pct_of_limit().is_none_or(|p| p.min >= target) {
            continue;
        }
        let width = row.shape.last().copied().unwrap_or(0);
        let band = width.div_ceil(CHUNK);
        let band_mib = band as f64 * results.chunk_bytes as f64 / 1_048_576.0;
        let change = "What would have to change: kernels whose partial results are kept per \
             fixed block of the array and combined in a fixed order at the end, so that chunks \
             can be reduced one at a time, whole and in place, with the same bits (a redesign of \
             the kernels' seam, not done).";
        let why = match row.op {
            ZarrOp::Sum | ZarrOp::Stats => format!(
                "a whole-array reduction gives the `.npy`'s bits whatever the chunking, so it \
                 walks the array in C order: each band of {band} chunks ({width} columns of \
                 {CHUNK}-column chunks) is decoded as {band} zstd streams side by side, each \
                 through its own window (one more copy of every byte, and {band} decoders and \
                 windows sharing the cache), where the limit decodes every chunk whole into one \
                 buffer. Decoding a band's chunks whole would hold {band_mib:.0} MiB, over the \
                 {:.0} MiB memory target.",
                rss_target_mib(results)
            ),
            ZarrOp::SumRaw => format!(
                "the uncompressed chunks are mapped, but the C-order walk copies each row's \
                 {band} pieces into a small buffer before the kernel reads them: fed in place, \
                 the pieces would cut the kernel's blocks elsewhere than over the `.npy` (a row \
                 of {width} elements does not start at a multiple of the kernel's block), and \
                 the bits would differ."
            ),
            // Chunk by chunk already (axis sums), or a conversion (see the notes above).
            ZarrOp::Axis0 | ZarrOp::Convert => continue,
        };
        let _ = writeln!(
            out,
            "{}: {} of the {}-thread {} limit, short of {target:.0}% by design: {why} {change}",
            row.op.name(),
            row.pct_of_limit().map_or_else(|| "-".into(), pct_text),
            results.threads,
            row.limit.0.word(),
        );
    }
    out
}

/// What the conversion's encode + write limit shows (none without it).
fn written_note(results: &ZarrResults) -> Option<String> {
    let row = results.rows.iter().find(|r| r.written.is_some())?;
    let w = row.written.as_ref()?;
    // The encode + write limit's speed in percent of the encode limit's, round by round.
    let of_encode = row.limit.2.ratio_over(w).map(|r| r.scale(100.0));
    Some(format!(
        "{}: {} of the {}-thread zstd-1 encode + write limit ({} GB/s, timed in the same rounds: \
         the encode limit's work plus writing each piece's output as a new file, its writeback \
         started at once, and one syncfs: work a conversion cannot skip and the encode limit \
         leaves out). That limit itself runs at {} of the encode limit: where it is under the \
         target's {:.0}%, the target is above what this machine allows for a conversion.\n",
        row.op.name(),
        row.pct_of_written().map_or_else(|| "-".into(), pct_text),
        results.threads,
        gbs_cell(w, row.limit.1),
        of_encode.map_or_else(|| "-".into(), pct_text),
        row.op.target().1,
    ))
}

/// Peak `RssAnon` of a side in MiB.
fn rss_text(side: &Side) -> String {
    side.mem
        .rss_anon_peak_kib
        .map_or_else(|| "-".into(), |k| format!("{:.1} MiB", kib_to_mib(k)))
}

/// The result table's cells.
fn row_cells(row: &ZarrRow) -> Vec<String> {
    let side = |p: Py| {
        row.others.iter().find(|(q, _)| *q == p).map_or_else(
            || "-".into(),
            |(_, s)| match s {
                Ok(s) => format!(
                    "{} ({})",
                    gbs_cell(&s.samples, row.bytes),
                    row.ratio(p).map_or_else(|| "-".into(), ratio_text)
                ),
                Err(_) => "skipped".into(),
            },
        )
    };
    vec![
        row.op.name().into(),
        shape_text(&row.shape),
        row.mmarray.samples.times.len().to_string(),
        gbs_cell(&row.mmarray.samples, row.bytes),
        side(Py::Zarr),
        side(Py::Zarrs),
        side(Py::Dask),
        format!(
            "{} {}",
            gbs_cell(&row.limit.2, row.limit.1),
            row.limit.0.word()
        ),
        row.pct_of_limit().map_or_else(|| "-".into(), pct_text),
        rss_text(&row.mmarray),
        row.check.clone(),
    ]
}

/// Headings of [`row_cells`].
const HEADERS: [&str; 11] = [
    "op",
    "shape",
    "rounds",
    "mmarray GB/s",
    "zarr-python GB/s (mmarray/it)",
    "zarrs pipeline GB/s (mmarray/it)",
    "dask GB/s (mmarray/it)",
    "limit GB/s",
    "% of limit",
    "mmarray RssAnon",
    "check",
];

/// The before/after rows (`--compare`; empty without it).
fn compare_rows(results: &ZarrResults) -> Vec<Vec<String>> {
    results
        .rows
        .iter()
        .filter_map(|row| {
            let cmp = row.compare.as_ref()?;
            Some(vec![
                row.op.name().into(),
                gbs_cell(&row.mmarray.samples, row.bytes),
                gbs_cell(cmp, row.bytes),
                row.compare_ratio().map_or_else(|| "-".into(), ratio_text),
            ])
        })
        .collect()
}

/// Headings of [`compare_rows`].
const COMPARE_HEADERS: [&str; 4] = [
    "op",
    "this build GB/s",
    "--compare GB/s",
    "this / --compare",
];

/// The target table's cells.
fn check_cells(results: &ZarrResults) -> Vec<Vec<String>> {
    report::check_cells(&checks(results))
}

/// A table renderer of the report (`text_table` or `md_table`): headings and rows to text.
pub(crate) type Table<'a> = &'a dyn Fn(&[&str], &[Vec<String>]) -> String;

/// The Zarr part of the text report (empty without Zarr rows).
pub(crate) fn text(results: &ZarrResults, table: Table<'_>) -> String {
    if results.rows.is_empty() {
        return String::new();
    }
    let mut out = format!("\nZarr ({}; {}):\n", results.versions, results.store);
    let rows: Vec<Vec<String>> = results.rows.iter().map(row_cells).collect();
    out.push_str(&table(&HEADERS, &rows));
    out.push_str(
        "(ratios: mmarray/contender round by round, median [min-max]; limits timed in the same \
         rounds on the same threads: zstd-1 encode of the same bytes, read + zstd decode of \
         every chunk of the store, or a mapped read of the same array)\n",
    );
    let before_after = compare_rows(results);
    if !before_after.is_empty() {
        out.push_str("Zarr before/after (this build against --compare, same rounds):\n");
        out.push_str(&table(&COMPARE_HEADERS, &before_after));
    }
    out.push_str("Zarr targets (issue 13; whole spread: PASS when every round clears it):\n");
    out.push_str(&table(
        &["op", "target", "measured", "result"],
        &check_cells(results),
    ));
    if let Some(note) = written_note(results) {
        out.push_str(&note);
    }
    out.push_str(&contender_notes(results));
    out.push_str(&design_notes(results));
    out
}

/// The Zarr section of `docs/benchmarks.md` (empty without Zarr rows).
pub(crate) fn markdown(results: &ZarrResults, table: Table<'_>) -> String {
    if results.rows.is_empty() {
        return String::new();
    }
    let mut md = String::from("\n## Zarr\n\n");
    let _ = writeln!(
        md,
        "Issue 13's rows: the square 2-D copy of the main file, its values rounded to float16 \
         precision (held as {}: the main file's random normals compress 1.04x, so zstd stores \
         raw blocks and decoding is little more than a copy; rounded, they compress about as \
         the 2.8x array of the issue's figures), converted by mmarray into a Zarr \
         v3 store ({}), read by mmarray, by zarr-python with the `zarrs` codec pipeline \
         (`zarr.config.set({{\"codec_pipeline.path\": \"zarrs.ZarrsCodecPipeline\"}})`) and by \
         `dask.array.from_zarr` on dask's threaded scheduler with {} workers; the conversion \
         against zarr-python writing the same array (plain, and with the `zarrs` pipeline). \
         Python contenders are timed in-process (imports untimed), mmarray as a whole process. \
         The limits are timed in the same rounds on {} threads: zstd level-1 compression of \
         the same bytes in chunk-sized pieces (`encode`; for the conversion also `encode + write`, \
         which writes each piece's output as a new file and syncs them, as a conversion must), reading and zstd-decoding every chunk \
         file of the store into a reused buffer per thread (`decode`), or the mapped read of \
         the `.npy` holding the same array (`read`, for the uncompressed store). Versions: {}.\n",
        results.dtype, results.store, results.threads, results.threads, results.versions
    );
    let rows: Vec<Vec<String>> = results.rows.iter().map(row_cells).collect();
    md.push_str(&table(&HEADERS, &rows));
    md.push('\n');
    let ops: Vec<Vec<String>> = results
        .rows
        .iter()
        .map(|r| {
            let mut code: Vec<String> =
                r.op.contenders()
                    .iter()
                    .map(|p| format!("{}: `{}`", p.label(), p.code(r.op)))
                    .collect();
            code.dedup();
            vec![
                r.op.name().into(),
                r.op.what().into(),
                format!(
                    "`{}`",
                    file_names(r.mmarray_cmd.rsplit("mmarray ").next().unwrap_or(""))
                ),
                code.join("<br>"),
            ]
        })
        .collect();
    md.push_str(&table(&["op", "what", "mmarray", "Python"], &ops));
    let before_after = compare_rows(results);
    if !before_after.is_empty() {
        md.push_str(
            "\nBefore/after: this build against the `--compare` binary, timed in the same \
             rounds with the same arguments (ratio = this build's speed over its, round by \
             round, median [min-max]):\n\n",
        );
        md.push_str(&table(&COMPARE_HEADERS, &before_after));
    }
    md.push_str("\n### Zarr targets\n\n");
    md.push_str(&table(
        &["op", "target", "measured median [min-max]", "result"],
        &check_cells(results),
    ));
    if let Some(note) = written_note(results) {
        md.push('\n');
        md.push_str(&note);
    }
    let notes = contender_notes(results) + &design_notes(results);
    if !notes.is_empty() {
        md.push('\n');
        md.push_str(&notes.replace('\n', "\n\n"));
    }
    md
}

/// A row's limit (and the conversion's encode + write limit) as JSON.
fn limit_json(r: &ZarrRow) -> Json {
    let spread = |s: Option<Spread>| s.map_or(Json::Null, Spread::to_json);
    Json::obj([
        ("kind", Json::str(r.limit.0.word())),
        ("bytes", Json::num(r.limit.1 as f64)),
        ("timing", r.limit.2.to_json(r.limit.1)),
        (
            "encode_write",
            r.written.as_ref().map_or(Json::Null, |w| {
                Json::obj([
                    ("timing", w.to_json(r.limit.1)),
                    ("pct", spread(r.pct_of_written())),
                ])
            }),
        ),
    ])
}

/// The Zarr rows as JSON.
pub(crate) fn json(results: &ZarrResults) -> Json {
    let side = |s: &Side, bytes: u64| {
        Json::obj([
            ("timing", s.samples.to_json(bytes)),
            ("memory", s.mem.to_json()),
        ])
    };
    let spread = |s: Option<Spread>| s.map_or(Json::Null, Spread::to_json);
    Json::obj([
        ("versions", Json::str(&results.versions)),
        ("store", Json::str(&results.store)),
        (
            "rows",
            Json::Arr(
                results
                    .rows
                    .iter()
                    .map(|r| {
                        Json::obj([
                            ("op", Json::str(r.op.name())),
                            ("bytes_counted", Json::num(r.bytes as f64)),
                            ("mmarray_command", Json::str(&r.mmarray_cmd)),
                            ("mmarray", side(&r.mmarray, r.bytes)),
                            (
                                "compare",
                                r.compare.as_ref().map_or(Json::Null, |c| {
                                    Json::obj([
                                        ("timing", c.to_json(r.bytes)),
                                        ("ratio", spread(r.compare_ratio())),
                                    ])
                                }),
                            ),
                            (
                                "contenders",
                                Json::Obj(
                                    r.others
                                        .iter()
                                        .map(|(p, s)| {
                                            let v = match s {
                                                Ok(s) => Json::obj([
                                                    ("side", side(s, r.bytes)),
                                                    ("ratio", spread(r.ratio(*p))),
                                                ]),
                                                Err(why) => {
                                                    Json::obj([("skipped", Json::str(why))])
                                                }
                                            };
                                            (p.label().to_owned(), v)
                                        })
                                        .collect(),
                                ),
                            ),
                            ("limit", limit_json(r)),
                            ("pct_of_limit", spread(r.pct_of_limit())),
                            ("check", Json::str(&r.check)),
                            (
                                "conditions",
                                Json::obj([
                                    (
                                        "load_average_min",
                                        Json::opt_num(r.conditions.load.map(|l| l.0)),
                                    ),
                                    (
                                        "load_average_max",
                                        Json::opt_num(r.conditions.load.map(|l| l.1)),
                                    ),
                                    ("steal_pct", Json::opt_num(r.conditions.steal_pct)),
                                    ("busy_cpus", Json::opt_num(r.conditions.busy_cpus)),
                                ]),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "targets",
            Json::Arr(
                checks(results)
                    .into_iter()
                    .map(|c| {
                        Json::obj([
                            ("op", Json::str(c.op)),
                            ("target", Json::str(c.target)),
                            ("measured", Json::str(c.measured)),
                            ("result", Json::opt_str(c.verdict.map(Verdict::word))),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

/// `cmd` with its absolute paths (the run's temporary folder) cut to their file names.
fn file_names(cmd: &str) -> String {
    cmd.split(' ')
        .map(|t| match t.rsplit_once('/') {
            Some((_, name)) if t.starts_with('/') => name,
            _ => t,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::{
        Py, ZLimit, ZarrOp, ZarrResults, ZarrRow, contender_notes, design_notes, file_names,
    };
    use crate::bench::Side;
    use crate::bench::procs::{Mem, Samples};
    use crate::bench::sysstat::Conditions;

    /// A side whose rounds took `times` seconds.
    fn side(times: &[f64]) -> Side {
        Side {
            samples: Samples {
                times: times.to_vec(),
            },
            mem: Mem::default(),
            base_rss_anon_kib: None,
        }
    }

    #[test]
    fn a_contender_target_above_the_limit_gets_a_note_that_says_so() {
        // 1 GB converted: zarr-python 3 s a round, mmarray 2.2-2.4 s (1.25-1.36x: short of 1.5x),
        // the encode limit 1.9 s (above 1.5x), encode + write 2.1-2.2 s (1.36-1.43x).
        let results = |write: &[f64]| ZarrResults {
            rows: vec![ZarrRow {
                op: ZarrOp::Convert,
                bytes: 1_000_000_000,
                shape: vec![1000, 125_000],
                mmarray: side(&[2.2, 2.4, 2.3]),
                mmarray_cmd: String::new(),
                compare: None,
                others: vec![(Py::Zarr, Ok(side(&[3.0, 3.0, 3.0])))],
                limit: (
                    ZLimit::Encode,
                    1_000_000_000,
                    Samples {
                        times: vec![1.9, 1.9, 1.9],
                    },
                ),
                written: Some(Samples {
                    times: write.to_vec(),
                }),
                check: String::new(),
                conditions: Conditions::default(),
            }],
            threads: 2,
            ..ZarrResults::default()
        };
        let note = contender_notes(&results(&[2.1, 2.2, 2.1]));
        assert!(
            note.starts_with(
                "zarr_convert: the target 1.5x zarr-python is above what this machine allows: \
                 the 2-thread zstd-1 encode + write limit itself"
            ),
            "{note}"
        );
        assert!(note.contains("1.43x [1.36-1.43]"), "{note}");
        // One round of the limit fast enough: still above the machine in most rounds.
        let note = contender_notes(&results(&[2.1, 1.9, 2.1]));
        assert!(
            note.contains("above what this machine allows in most rounds"),
            "{note}"
        );
        // Every round of the limit fast enough: the target is within reach, no note.
        assert_eq!(contender_notes(&results(&[1.9, 1.9, 1.9])), "");
        // Every round of mmarray clearing the target: no note either.
        let mut r = results(&[2.1, 2.2, 2.1]);
        r.rows[0].mmarray = side(&[1.9, 1.95, 1.99]);
        assert_eq!(contender_notes(&r), "");
    }

    #[test]
    fn a_row_short_of_its_limit_by_design_gets_a_note_that_says_what_would_change() {
        // 4 GB summed in 4-5 s against a decode limit of 3.6 s: 72-90%, short of 85%.
        let results = |op: ZarrOp, times: &[f64]| ZarrResults {
            rows: vec![ZarrRow {
                op,
                bytes: 4_000_000_000,
                shape: vec![23170, 23170],
                mmarray: side(times),
                mmarray_cmd: String::new(),
                compare: None,
                others: Vec::new(),
                limit: (
                    ZLimit::Decode,
                    4_000_000_000,
                    Samples {
                        times: vec![3.6, 3.6, 3.6],
                    },
                ),
                written: None,
                check: String::new(),
                conditions: Conditions::default(),
            }],
            threads: 2,
            chunk_bytes: 8 << 20,
            ..ZarrResults::default()
        };
        let note = design_notes(&results(ZarrOp::Sum, &[4.0, 5.0, 4.5]));
        assert!(
            note.starts_with(
                "zarr_sum: 80% [72-90] of the 2-thread zstd decode limit, short of 85% by design"
            ),
            "{note}"
        );
        assert!(
            note.contains("each band of 23 chunks (23170 columns"),
            "{note}"
        );
        assert!(
            note.contains("would hold 184 MiB, over the 96 MiB"),
            "{note}"
        );
        assert!(note.contains("What would have to change"), "{note}");
        let note = design_notes(&results(ZarrOp::SumRaw, &[4.0, 5.0, 4.5]));
        assert!(note.contains("copies each row's 23 pieces"), "{note}");
        // Every round at 85% or more: no note; nor for the axis sum, which goes chunk by chunk.
        assert_eq!(design_notes(&results(ZarrOp::Sum, &[4.0, 4.1, 4.2])), "");
        assert_eq!(design_notes(&results(ZarrOp::Axis0, &[4.0, 5.0, 4.5])), "");
    }

    #[test]
    fn commands_show_file_names_not_the_temporary_folder() {
        assert_eq!(
            file_names("--quiet reduce /tmp/run-1/zarr-zstd1.zarr --op sum --out /a/b.npy --json"),
            "--quiet reduce zarr-zstd1.zarr --op sum --out b.npy --json"
        );
        assert_eq!(
            file_names("--chunks 1024,1024 --codec zstd:1"),
            "--chunks 1024,1024 --codec zstd:1"
        );
    }

    #[test]
    fn names_round_trip() {
        for op in ZarrOp::ALL {
            assert_eq!(ZarrOp::from_name(op.name()), Some(op));
        }
        assert_eq!(ZarrOp::from_name("sum"), None);
    }
}
