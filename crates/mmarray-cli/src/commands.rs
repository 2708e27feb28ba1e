//! The subcommands: each parses nothing (clap did), opens or creates files through
//! [`files`], calls `mmarray-ops` and prints.

use std::io::Write;
use std::path::Path;

use mmarray_core::print::{PrintOptions, repr};
use mmarray_core::{Order, Spec, View};
use mmarray_dtype::{ByteOrder, Class, DType, Kind, Native, Value, dispatch};
use mmarray_ops::{ConvertOptions, Dist, Op, ReduceOptions};
use serde_json::Value as Json;

use crate::args::{
    AppendArgs, ByteOrderArg, Cli, Command, CompletionsArgs, ConvertArgs, CreateArgs, DistArg,
    FillArgs, FloatDist, InfoArgs, OpArg, RandomArgs, ReduceArgs, ShowArgs, SliceArgs, StatsArgs,
};
use crate::error::{CliError, Context};
use crate::files::check_new;
use crate::input::{self, InPlace, Input};
use crate::progress::Ctx;
use crate::seed::{announce_seed, seed_or_random};
#[cfg(feature = "zarr")]
use crate::store;
use crate::{export, files, json, out, progress, tour};

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Ctx { quiet: cli.quiet };
    match cli.command {
        Command::Create(a) => create(&ctx, &a),
        Command::Info(a) => info(&a),
        Command::Show(a) => show(&a),
        Command::Export(a) => export::run(&a),
        Command::Completions(a) => completions(&a),
        Command::Fill(a) => fill(&ctx, &a),
        Command::Random(a) => random(&ctx, &a),
        Command::Reduce(a) => reduce(&ctx, &a),
        Command::Stats(a) => stats(&ctx, &a),
        Command::Slice(a) => slice(&ctx, &a),
        Command::Convert(a) => convert(&ctx, &a),
        Command::Append(a) => append(&ctx, &a),
        Command::Tour(a) => tour::run(&ctx, &a),
    }
}

impl From<OpArg> for Op {
    fn from(op: OpArg) -> Op {
        match op {
            OpArg::Sum => Op::Sum,
            OpArg::Mean => Op::Mean,
            OpArg::Min => Op::Min,
            OpArg::Max => Op::Max,
            OpArg::Argmin => Op::Argmin,
            OpArg::Argmax => Op::Argmax,
            OpArg::Var => Op::Var,
            OpArg::Std => Op::Std,
        }
    }
}

impl From<FloatDist> for Dist {
    fn from(d: FloatDist) -> Dist {
        match d {
            FloatDist::Normal => Dist::Normal,
            FloatDist::Uniform => Dist::Uniform,
        }
    }
}

fn create(ctx: &Ctx, a: &CreateArgs) -> Result<(), CliError> {
    let path = a.path.as_path();
    let kind = a.dtype.kind();
    let value = match &a.fill {
        Some(text) => {
            Some(Value::parse(kind, text).map_err(|e| CliError::Usage(format!("--fill: {e}")))?)
        }
        None => None,
    };
    if a.random.is_some() && matches!(kind.class(), Class::Signed | Class::Unsigned) {
        return Err(CliError::Usage(format!(
            "--random needs a float, complex or bool dtype, not {kind}; use `mmarray random --dist integers` on an integer file"
        )));
    }
    #[cfg(feature = "zarr")]
    if store::is_zarr_output(path) {
        return create_store(a, value);
    }
    check_not_store_options(&a.zarr, path)?;
    check_new(path, a.force)?;
    let mut array = files::create_staged(path, a.dtype, &a.shape.0, a.order, a.raw, a.force)?;
    {
        // The seed goes out before the progress bar can appear.
        let seed = a.random.map(|_| seed_or_random(a.seed));
        if let Some(seed) = seed {
            announce_seed(seed);
        }
        let _bar = progress::start("create", array.nbytes() as u64, ctx.quiet);
        if let Some(v) = value {
            mmarray_ops::fill_value(&mut array, Spec::default(), v).at(path)?;
        } else if let (Some(dist), Some(seed)) = (a.random, seed) {
            mmarray_ops::random_fill(&mut array, Spec::default(), dist.into(), seed.0).at(path)?;
        } else if a.arange {
            mmarray_ops::arange(&mut array).at(path)?;
        }
    }
    array.persist(a.force).at(path)?.close().at(path)
}

/// `create OUT.zarr`.
#[cfg(feature = "zarr")]
fn create_store(a: &CreateArgs, value: Option<Value>) -> Result<(), CliError> {
    let path = a.path.as_path();
    if a.raw {
        return Err(CliError::Usage(
            "--raw cannot write a Zarr store (PATH ends in .zarr)".to_owned(),
        ));
    }
    check_new(path, a.force)?;
    let content = if let Some(dist) = a.random {
        let seed = seed_or_random(a.seed);
        announce_seed(seed);
        store::Content::Random(dist.into(), seed.0)
    } else if a.arange {
        store::Content::Arange
    } else {
        store::Content::Fill(value.unwrap_or(Value::U8(0)))
    };
    let out = store::Output {
        dtype: a.dtype,
        order: a.order,
        force: a.force,
        zarr: a.zarr.clone(),
    };
    store::create(path, &a.shape.0, content, &out)
}

/// `info ARCHIVE.npz` without `--member`: the members.
fn info_members(path: &Path, a: &InfoArgs) -> Result<Info, CliError> {
    let max_header = a
        .input
        .max_header_size
        .unwrap_or(mmarray_core::npy::MAX_HEADER_SIZE);
    let archive = mmarray_core::npz::Archive::open_with(path, max_header).at(path)?;
    let members = archive.members();
    if a.json {
        let list: Vec<Json> = members
            .iter()
            .map(|m| {
                json::object([
                    ("name", Json::from(m.name.clone())),
                    ("descr", Json::from(m.header.dtype.descr())),
                    ("shape", Json::from(m.header.shape.clone())),
                    ("fortran_order", Json::from(m.header.fortran_order)),
                    ("compressed", Json::from(m.compressed)),
                    ("nbytes", Json::from(m.nbytes())),
                ])
            })
            .collect();
        let obj = json::object([
            ("format", Json::from("npz")),
            ("members", Json::Array(list)),
        ]);
        return Ok(Info::Json(obj));
    }
    let count = match members.len() {
        1 => "1 member".to_owned(),
        n => format!("{n} members"),
    };
    let mut text = format!(
        "{}: .npz archive, {count}, file size {}",
        path.display(),
        out::bytes_text(archive.file_len())
    );
    for m in members {
        let order = if m.header.fortran_order { "F" } else { "C" };
        let storage = if m.compressed {
            format!(
                "deflated ({} in the archive)",
                out::bytes_text(m.compressed_size)
            )
        } else {
            format!("stored, data from byte {}", m.data_offset().unwrap_or(0))
        };
        text.push_str(&format!(
            "\n  {}: {} ('{}'), shape {}, {order} order, {} of data, {storage}",
            m.name,
            m.header.dtype.kind(),
            m.header.dtype.descr(),
            out::py_shape(&m.header.shape),
            out::bytes_text(m.nbytes()),
        ));
    }
    Ok(Info::Text(text))
}

fn info(a: &InfoArgs) -> Result<(), CliError> {
    let mut objects = Vec::new();
    let mut failed = false;
    for (i, path) in a.paths.iter().enumerate() {
        match info_one(path, a) {
            Ok(Info::Json(obj)) => objects.push(obj),
            Ok(Info::Text(text)) => {
                if i > 0 {
                    out::line("")?;
                }
                out::line(&text)?;
            }
            // One file alone: its error is the command's error.
            Err(e) if a.paths.len() == 1 => return Err(e),
            Err(CliError::BrokenPipe) => return Err(CliError::BrokenPipe),
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "{e}");
                failed = true;
            }
        }
    }
    if a.json {
        let json = if a.paths.len() == 1 {
            objects.pop().unwrap_or(Json::Null)
        } else {
            Json::Array(objects)
        };
        out::line(&json.to_string())?;
    }
    if failed {
        Err(CliError::Reported)
    } else {
        Ok(())
    }
}

/// What `info` says about one file.
enum Info {
    /// The `--json` object.
    Json(Json),
    /// The human summary.
    Text(String),
}

#[cfg_attr(not(feature = "zarr"), allow(clippy::infallible_destructuring_match))]
fn info_one(path: &Path, a: &InfoArgs) -> Result<Info, CliError> {
    if !a.input.raw && a.input.member.is_none() && files::is_archive(path) {
        return info_members(path, a);
    }
    let input = input::open(path, &a.input)?;
    let (format_name, layout, member) = match &input {
        Input::File(array) => (
            array.format_name(),
            array.layout().clone(),
            array.npz_member(),
        ),
        #[cfg(feature = "zarr")]
        Input::Store(s) => return Ok(info_store(path, s, a.json)),
        Input::Member(m) => ("npz", m.layout(), Some(&m.info)),
    };
    let file_size = std::fs::metadata(path)
        .map_err(|e| CliError::file(path, e))?
        .len();
    let dtype = layout.dtype;
    let size = input.shape().iter().product::<usize>() as u64;
    let nbytes = input.nbytes();
    if a.json {
        let version = layout
            .version
            .map_or(Json::Null, |(major, minor)| Json::from(vec![major, minor]));
        let obj = json::object([
            ("format", Json::from(format_name)),
            ("version", version),
            ("descr", Json::from(dtype.descr())),
            ("name", Json::from(dtype.kind().name())),
            ("shape", Json::from(layout.shape.clone())),
            ("fortran_order", Json::from(layout.order == Order::F)),
            ("itemsize", Json::from(dtype.itemsize())),
            ("size", Json::from(size)),
            ("nbytes", Json::from(nbytes)),
            (
                "data_offset",
                match member {
                    // A deflated member's data is not in the archive file.
                    Some(m) if m.compressed => Json::Null,
                    _ => Json::from(layout.data_offset),
                },
            ),
            ("file_size", Json::from(file_size)),
        ]);
        let obj = match member {
            Some(m) => {
                let mut obj = obj;
                if let Json::Object(map) = &mut obj {
                    map.insert("member".to_owned(), Json::from(m.name.clone()));
                    map.insert("compressed".to_owned(), Json::from(m.compressed));
                }
                obj
            }
            None => obj,
        };
        return Ok(Info::Json(obj));
    }
    let format = match (member, layout.version) {
        (Some(m), Some((major, minor))) => format!(
            ".npz archive member {:?} (.npy version {major}.{minor}, {})",
            m.name,
            if m.compressed { "deflated" } else { "stored" }
        ),
        (_, Some((major, minor))) => format!(".npy version {major}.{minor}"),
        (_, None) => "raw data (no header)".to_owned(),
    };
    let order = match layout.order {
        Order::C => "C order (row-major)",
        Order::F => "Fortran order (column-major)",
    };
    let trailing = if member.is_some() {
        0
    } else {
        file_size.saturating_sub(layout.data_offset + nbytes)
    };
    let location = match member {
        Some(m) if m.compressed => "(deflated in the archive)".to_owned(),
        _ => format!("from byte {}", layout.data_offset),
    };
    let mut text = format!(
        "{}: {format}\n\
         dtype:      {} ('{}', {} per item)\n\
         shape:      {}, {order}\n\
         size:       {}, {} of data {location}\n\
         file size:  {}",
        path.display(),
        dtype.kind(),
        dtype.descr(),
        out::count(dtype.itemsize() as u64, "byte"),
        out::py_shape(&layout.shape),
        out::count(size, "item"),
        out::bytes_text(nbytes),
        out::bytes_text(file_size),
    );
    if trailing > 0 {
        text.push_str(&format!(
            "\nafter data: {} (ignored)",
            out::count(trailing, "byte")
        ));
    }
    Ok(Info::Text(text))
}

/// What `info` says about a Zarr store.
#[cfg(feature = "zarr")]
fn info_store(path: &Path, s: &store::Store, as_json: bool) -> Info {
    let info = &s.info;
    let dtype = info.dtype;
    let size = s.array.len() as u64;
    let nbytes = size * dtype.itemsize() as u64;
    let disk = store::Store::disk_size(path);
    if as_json {
        return Info::Json(json::object([
            ("format", Json::from("zarr")),
            ("version", Json::from(vec![info.version])),
            ("descr", Json::from(dtype.descr())),
            ("name", Json::from(dtype.kind().name())),
            ("shape", Json::from(info.shape.clone())),
            ("fortran_order", Json::from(info.order == Order::F)),
            ("itemsize", Json::from(dtype.itemsize())),
            ("size", Json::from(size)),
            ("nbytes", Json::from(nbytes)),
            ("data_offset", Json::Null),
            ("file_size", Json::from(disk)),
            ("chunks", Json::from(info.chunks.clone())),
            ("shards", info.shards.clone().map_or(Json::Null, Json::from)),
            ("codecs", Json::from(info.codecs.clone())),
            ("fill_value", info.fill_value.clone()),
        ]));
    }
    let order = match info.order {
        Order::C => "C order (row-major)",
        Order::F => "Fortran order (column-major, a transpose codec)",
    };
    let chunks = s.array.grid().len() as u64;
    let shards = info.shards.as_ref().map_or_else(String::new, |sh| {
        format!(", in shards of {}", out::py_shape(sh))
    });
    Info::Text(format!(
        "{}: Zarr v{} array\n\
         dtype:      {} ('{}', {} per item)\n\
         shape:      {}, {order}\n\
         size:       {}, {} of data\n\
         chunks:     {} of {}{shards}\n\
         codecs:     {}\n\
         fill value: {}\n\
         disk size:  {}",
        path.display(),
        info.version,
        dtype.kind(),
        dtype.descr(),
        out::count(dtype.itemsize() as u64, "byte"),
        out::py_shape(&info.shape),
        out::count(size, "item"),
        out::bytes_text(nbytes),
        out::count(chunks, "chunk"),
        out::py_shape(&info.chunks),
        info.codecs.join(", "),
        info.fill_value,
        out::bytes_text(disk),
    ))
}

fn show(a: &ShowArgs) -> Result<(), CliError> {
    let path = a.path.as_path();
    let defaults = PrintOptions::default();
    let options = PrintOptions {
        linewidth: a.linewidth.unwrap_or(defaults.linewidth),
        threshold: a.threshold.unwrap_or(defaults.threshold),
        edgeitems: a.edgeitems.unwrap_or(defaults.edgeitems),
        precision: a.precision.unwrap_or(defaults.precision),
    };
    let text = input::open(path, &a.input)?.repr(path, a.slice.as_ref(), &options)?;
    out::line(&text)
}

/// Prints the completion script of `a.shell`.
fn completions(a: &CompletionsArgs) -> Result<(), CliError> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "mmarray", &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&script)
        .and_then(|()| stdout.flush())
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                CliError::BrokenPipe
            } else {
                CliError::Failed(format!("standard output: {e}"))
            }
        })
}

fn fill(ctx: &Ctx, a: &FillArgs) -> Result<(), CliError> {
    let path = a.path.as_path();
    let mut array = input::open_write(path, &a.input)?;
    let value = Value::parse(array.dtype().kind(), &a.value).at(path)?;
    let spec = a.slice.clone().unwrap_or_default();
    let selected = array.selection(&spec).at(path)?;
    {
        let _bar = progress::start("fill", selected, ctx.quiet);
        array.fill(&spec, value).at(path)?;
    }
    array.close(path)
}

/// The distribution `random` uses for an array of `kind`.
fn resolve_dist(a: &RandomArgs, kind: Kind, path: &Path) -> Result<Dist, CliError> {
    let integers = |low: Option<i128>, high: Option<i128>| -> Result<Dist, CliError> {
        let Some(high) = high else {
            return Err(CliError::file(
                path,
                format!(
                    "random integers for a {kind} array need --high B (and --low A, default 0)"
                ),
            ));
        };
        Ok(Dist::Integers {
            low: low.unwrap_or(0),
            high,
        })
    };
    match a.dist {
        Some(DistArg::Normal) => Ok(Dist::Normal),
        Some(DistArg::Uniform) => Ok(Dist::Uniform),
        Some(DistArg::Integers) => integers(a.low, a.high),
        None => match kind.class() {
            Class::Signed | Class::Unsigned => integers(a.low, a.high),
            _ if a.low.is_some() || a.high.is_some() => Err(CliError::file(
                path,
                format!(
                    "--low and --high apply to --dist integers, which needs an integer array, not {kind}"
                ),
            )),
            _ => Ok(Dist::Normal),
        },
    }
}

fn random(ctx: &Ctx, a: &RandomArgs) -> Result<(), CliError> {
    let path = a.path.as_path();
    if matches!(a.dist, Some(DistArg::Normal | DistArg::Uniform))
        && (a.low.is_some() || a.high.is_some())
    {
        return Err(CliError::Usage(
            "--low and --high apply only to --dist integers".to_owned(),
        ));
    }
    if let (Some(low), Some(high)) = (a.low, a.high)
        && low >= high
    {
        return Err(CliError::Usage(format!(
            "--low ({low}) must be less than --high ({high})"
        )));
    }
    if a.dist == Some(DistArg::Integers) && a.high.is_none() {
        return Err(CliError::Usage(
            "--dist integers needs --high B (and --low A, default 0)".to_owned(),
        ));
    }
    let mut array = input::open_write(path, &a.input)?;
    let dist = resolve_dist(a, array.dtype().kind(), path)?;
    // Everything that can be refused is refused before the seed is printed.
    mmarray_ops::check_random(array.dtype().kind(), dist).at(path)?;
    let spec = a.slice.clone().unwrap_or_default();
    let selected = array.selection(&spec).at(path)?;
    let seed = seed_or_random(a.seed);
    // The seed goes out before the progress bar can appear (and so also when the
    // fill is interrupted).
    announce_seed(seed);
    {
        let _bar = progress::start("random", selected, ctx.quiet);
        array.random(&spec, dist, seed.0).at(path)?;
    }
    array.close(path)
}

/// The values of `view` as nested JSON lists (a bare value for 0-d).
fn nested_json<T: Native>(view: &View<'_, T>) -> Json {
    fn nest(values: &mut impl Iterator<Item = Json>, shape: &[usize]) -> Json {
        match shape.split_first() {
            None => values.next().unwrap_or(Json::Null),
            Some((&n, rest)) => Json::Array((0..n).map(|_| nest(values, rest)).collect()),
        }
    }
    let mut values = view.iter().map(|v| json::value(&v.to_value()));
    nest(&mut values, view.shape())
}

#[cfg_attr(
    not(feature = "zarr"),
    allow(clippy::match_wildcard_for_single_variants)
)]
fn reduce(ctx: &Ctx, a: &ReduceArgs) -> Result<(), CliError> {
    let path = a.path.as_path();
    #[cfg(feature = "zarr")]
    let to_store = a.out.as_deref().is_some_and(store::is_zarr_output);
    #[cfg(not(feature = "zarr"))]
    let to_store = false;
    if !to_store && let Some(dest) = &a.out {
        check_not_store_options(&a.zarr, dest)?;
    }
    let array = input::open(path, &a.input)?;
    let op = Op::from(a.op);
    let opts = ReduceOptions {
        skipna: a.skipna,
        ddof: a.ddof,
    };
    let total = array.nbytes();
    match (a.axis, &a.out) {
        (None, _) => {
            let value = {
                let _bar = progress::start(op.name(), total, ctx.quiet);
                array.reduce(op, &opts).at(path)?
            };
            if a.json {
                out::line(
                    &json::object([
                        ("op", Json::from(op.name())),
                        ("value", json::value(&value)),
                    ])
                    .to_string(),
                )
            } else {
                out::line(&value.to_string())
            }
        }
        (Some(axis), Some(dest)) => {
            check_new(dest, a.force)?;
            {
                let _bar = progress::start(op.name(), total, ctx.quiet);
                let out = input::NewArray {
                    path: dest,
                    force: a.force,
                    zarr: &a.zarr,
                };
                array.reduce_axis_to(path, op, axis, &opts, &out)?;
            }
            if a.json {
                let mut shape = array.shape().to_vec();
                let k = if axis < 0 {
                    axis + shape.len() as isize
                } else {
                    axis
                };
                shape.remove(k as usize);
                let descr =
                    DType::native(mmarray_ops::result_kind(op, array.dtype().kind())).descr();
                let obj = json::object([
                    ("op", Json::from(op.name())),
                    ("axis", Json::from(axis)),
                    ("out", Json::from(dest.display().to_string())),
                    ("descr", Json::from(descr)),
                    ("shape", Json::from(shape)),
                ]);
                out::line(&obj.to_string())?;
            }
            Ok(())
        }
        (Some(axis), None) => {
            let result = {
                let _bar = progress::start(op.name(), total, ctx.quiet);
                array.reduce_axis(op, axis, &opts).at(path)?
            };
            let text = dispatch!(result.dtype.kind(), T => {
                let view = View::<T>::from_bytes(&result.data, &result.shape, result.order, ByteOrder::NATIVE).at(path)?;
                if a.json {
                    let obj = json::object([
                        ("op", Json::from(op.name())),
                        ("axis", Json::from(axis)),
                        ("value", nested_json(&view)),
                    ]);
                    obj.to_string()
                } else {
                    repr(&view, "array")
                }
            });
            out::line(&text)
        }
    }
}

/// Refuses the Zarr output options for an output that is not a store.
fn check_not_store_options(zarr: &crate::args::ZarrArgs, out: &Path) -> Result<(), CliError> {
    if zarr.chunks.is_some() || zarr.shards.is_some() || zarr.codec.is_some() {
        return Err(CliError::Usage(format!(
            "--chunks, --shards and --codec apply to a Zarr output (a path ending in .zarr), not {}",
            out.display()
        )));
    }
    Ok(())
}

fn stats(ctx: &Ctx, a: &StatsArgs) -> Result<(), CliError> {
    let path = a.path.as_path();
    let array = input::open(path, &a.input)?;
    let s = {
        let _bar = progress::start("stats", array.nbytes(), ctx.quiet);
        array.stats(a.skipna).at(path)?
    };
    if a.json {
        let opt = |v: &Option<Value>| v.as_ref().map_or(Json::Null, json::value);
        let obj = json::object([
            ("count", Json::from(s.count)),
            ("sum", json::value(&s.sum)),
            ("mean", json::value(&s.mean)),
            ("min", opt(&s.min)),
            ("max", opt(&s.max)),
            ("std", json::value(&s.std)),
        ]);
        return out::line(&obj.to_string());
    }
    let opt = |v: &Option<Value>| {
        v.as_ref()
            .map_or_else(|| "none (empty)".to_owned(), ToString::to_string)
    };
    out::line(&format!(
        "count: {}\nsum:   {}\nmean:  {}\nmin:   {}\nmax:   {}\nstd:   {}",
        s.count,
        s.sum,
        s.mean,
        opt(&s.min),
        opt(&s.max),
        s.std
    ))
}

fn slice(ctx: &Ctx, a: &SliceArgs) -> Result<(), CliError> {
    let path = a.input_path.as_path();
    #[cfg(feature = "zarr")]
    let to_store = store::is_zarr_output(&a.out);
    #[cfg(not(feature = "zarr"))]
    let to_store = false;
    if !to_store {
        check_not_store_options(&a.zarr, &a.out)?;
    }
    let src = input::open(path, &a.input)?;
    check_new(&a.out, a.force)?;
    let _bar = progress::start("slice", src.selected_bytes(&a.spec), ctx.quiet);
    let out = input::NewArray {
        path: &a.out,
        force: a.force,
        zarr: &a.zarr,
    };
    src.slice_to(path, &a.spec, &out)
}

fn convert(ctx: &Ctx, a: &ConvertArgs) -> Result<(), CliError> {
    let path = a.input_path.as_path();
    let to_npz = a
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
    if a.compress && !to_npz {
        return Err(CliError::Usage(
            "--compress applies to an .npz output (OUT.npz)".to_owned(),
        ));
    }
    if a.out_raw && to_npz {
        return Err(CliError::Usage(
            "--out-raw cannot write an .npz archive (its members are .npy files)".to_owned(),
        ));
    }
    #[cfg(feature = "zarr")]
    let to_store = store::is_zarr_output(&a.out);
    #[cfg(not(feature = "zarr"))]
    let to_store = false;
    if to_store && a.out_raw {
        return Err(CliError::Usage(
            "--out-raw cannot write a Zarr store (OUT ends in .zarr)".to_owned(),
        ));
    }
    if !to_store {
        check_not_store_options(&a.zarr, &a.out)?;
    }
    // With an input that is not an archive, --member names the output member.
    let from_archive = !a.input.raw && files::is_archive(path);
    let mut input = a.input.clone();
    let mut out_member = "arr_0".to_owned();
    if to_npz
        && !from_archive
        && let Some(name) = input.member.take()
    {
        out_member = name;
    }
    let src = input::open(path, &input)?;
    if let Some(m) = src.npz_member() {
        out_member.clone_from(&m.name);
    }
    let mut dtype = a.out_dtype.unwrap_or(src.dtype());
    if let Some(order) = a.out_byte_order {
        dtype = dtype.with_byte_order(match order {
            ByteOrderArg::Little => ByteOrder::Little,
            ByteOrderArg::Big => ByteOrder::Big,
            ByteOrderArg::Native => ByteOrder::NATIVE,
        });
    }
    let opts = ConvertOptions {
        dtype,
        order: a.out_order.unwrap_or(src.order()),
        raw: a.out_raw,
        overwrite: a.force,
    };
    check_new(&a.out, a.force)?;
    let _bar = progress::start("convert", src.nbytes(), ctx.quiet);
    let out = input::NewArray {
        path: &a.out,
        force: a.force,
        zarr: &a.zarr,
    };
    let npz = to_npz.then_some((out_member.as_str(), a.compress));
    src.convert_to(path, &out, opts, npz)
}

#[cfg_attr(not(feature = "zarr"), allow(clippy::infallible_destructuring_match))]
fn append(ctx: &Ctx, a: &AppendArgs) -> Result<(), CliError> {
    let path = a.path.as_path();
    let mut array = match input::open_write(path, &a.input)? {
        InPlace::File(array) => array,
        #[cfg(feature = "zarr")]
        InPlace::Store(s) => {
            let value = match &a.fill {
                Some(text) => Some(Value::parse(s.array.dtype().kind(), text).at(path)?),
                None => None,
            };
            let _bar = progress::start("append", 0, ctx.quiet);
            return store::append(path, &s, a.rows, value);
        }
    };
    // VALUE is checked against the file's type before anything changes, so that a
    // value that does not fit leaves the file as it was.
    let value = match &a.fill {
        Some(text) => Some(Value::parse(array.dtype().kind(), text).at(path)?),
        None => None,
    };
    // Extends the file, writes and flushes the new entries, then rewrites the
    // header: an interruption leaves the old length, or the new length with the
    // new entries written; never a header that promises more data than the file has.
    let dtype = array.dtype();
    let mut pattern = vec![0u8; dtype.itemsize()];
    if let Some(value) = value {
        mmarray_dtype::dispatch!(dtype.kind(), T => {
            mmarray_dtype::encode(&[value.cast::<T>()], dtype.byte_order(), &mut pattern)
        })
        .map_err(mmarray_core::Error::from)
        .at(path)?;
    }
    let _bar = progress::start("append", 0, ctx.quiet);
    array
        .append_with(a.rows, |bytes| {
            if value.is_some() {
                for item in bytes.chunks_exact_mut(pattern.len()) {
                    item.copy_from_slice(&pattern);
                }
            }
            Ok(())
        })
        .at(path)?;
    array.close().at(path)
}
