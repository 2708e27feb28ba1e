//! `mmarray tour`: numpy's `memmap` walkthrough, step by step, with timings.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mmarray_core::print::repr;
use mmarray_core::{DynArray, Mode, OpenOptions, Order, Raw, Spec};
use mmarray_dtype::{DType, Kind};
use mmarray_ops::Dist;

use crate::args::TourArgs;
use crate::error::{CliError, Context};
use crate::files::check_new;
use crate::progress::{Ctx, selected_bytes};
use crate::seed::random_seed;
use crate::{files, out, progress};

/// A temporary folder, removed with everything in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, CliError> {
        let base = std::env::temp_dir();
        for attempt in 0..100u32 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let dir = base.join(format!(
                "mmarray-tour-{}-{nanos}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(CliError::file(&dir, format!("create folder: {e}"))),
            }
        }
        Err(CliError::file(&base, "cannot create a temporary folder"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A duration for people: `850 µs`, `12.3 ms`, `1.42 s`.
fn took(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else if secs >= 1e-3 {
        format!("{:.1} ms", secs * 1e3)
    } else {
        format!("{:.0} µs", secs * 1e6)
    }
}

fn show_f64<M: Mode>(array: &DynArray<M>, path: &Path) -> Result<(), CliError> {
    out::line(&repr(&array.view::<f64>().at(path)?, "memmap"))
}

/// The folder to work in: `--dir` (created if needed), or a temporary one that
/// is removed when the returned guard is dropped.
fn work_dir(a: &TourArgs) -> Result<(PathBuf, Option<TempDir>), CliError> {
    if let Some(dir) = &a.dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::file(dir, format!("create folder: {e}")))?;
        Ok((dir.clone(), None))
    } else {
        let temp = TempDir::new()?;
        Ok((temp.0.clone(), Some(temp)))
    }
}

/// Runs the walkthrough.
pub(crate) fn run(ctx: &Ctx, a: &TourArgs) -> Result<(), CliError> {
    let shape = a.shape.0.as_slice();
    let Some(&rows) = shape.first() else {
        return Err(CliError::Usage(
            "tour needs a shape with at least one axis, e.g. --shape 20,30".to_owned(),
        ));
    };
    let (dir, _temp) = work_dir(a)?;
    let path = dir.join("data.npy");
    check_new(&path, a.force)?;
    let seed = a.seed.unwrap_or_else(random_seed);
    let dtype = DType::native(Kind::F64);
    let py_shape = out::py_shape(shape);
    let cli_shape: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let cli_shape = cli_shape.join(",");
    let mut head_shape = shape.to_vec();
    head_shape[0] = rows.min(5);
    let mut times: Vec<(&str, Duration)> = Vec::new();

    let kept = if a.dir.is_some() {
        "kept"
    } else {
        "removed at the end; --dir DIR keeps it"
    };
    out::line(&format!(
        "numpy.memmap, step by step, with mmarray (in {}, {kept})\n\
         Each numpy line is followed by the mmarray command that does the same.\n",
        dir.display()
    ))?;

    // 1. Create the file and look at it.
    let start = Instant::now();
    let mut fp = files::create_staged(&path, dtype, shape, Order::C, false, a.force)?
        .persist(a.force)
        .at(&path)?;
    times.push(("create", start.elapsed()));
    let offset = fp.layout().data_offset;
    out::line(&format!(
        ">>> fp = np.lib.format.open_memmap('data.npy', mode='w+', dtype='float64', shape={py_shape})\n\
         # mmarray create data.npy --dtype float64 --shape {cli_shape}    [{}]\n\
         >>> fp",
        took(times[0].1)
    ))?;
    show_f64(&fp, &path)?;

    // 2. Standard normal values into the first five rows.
    let start = Instant::now();
    {
        let head = Spec::parse(":5").map_err(|e| CliError::Failed(e.to_string()))?;
        let _bar = progress::start("random", selected_bytes(&fp, &head), ctx.quiet);
        mmarray_ops::random_fill(&mut fp, &head, Dist::Normal, seed).at(&path)?;
    }
    times.push(("random", start.elapsed()));
    out::line(&format!(
        ">>> fp[:5] = np.random.standard_normal({})\n\
         # mmarray random data.npy --slice :5 --seed {seed}    [{}]",
        out::py_shape(&head_shape),
        took(start.elapsed())
    ))?;

    // 3. Flush and close.
    let start = Instant::now();
    fp.flush().at(&path)?;
    times.push(("flush", start.elapsed()));
    let start = Instant::now();
    fp.close().at(&path)?;
    times.push(("close", start.elapsed()));
    out::line(&format!(
        ">>> fp.flush()    [{}]\n>>> del fp    [{}]\n",
        took(times[2].1),
        took(times[3].1)
    ))?;

    // 4. Reopen with an explicit dtype and shape, as numpy.memmap does.
    let start = Instant::now();
    let raw = Raw::new(dtype).shape(shape.to_vec()).offset(offset);
    let newfp = files::open_read_with(&path, &OpenOptions::new().raw(raw))?;
    times.push(("reopen (dtype and shape given)", start.elapsed()));
    out::line(&format!(
        ">>> newfp = np.memmap('data.npy', dtype='float64', mode='r', offset={offset}, shape={py_shape})\n\
         # mmarray show data.npy --raw --dtype float64 --offset {offset} --shape {cli_shape}    [{}]\n\
         >>> newfp",
        took(start.elapsed())
    ))?;
    show_f64(&newfp, &path)?;
    drop(newfp);

    // 5. A .npy file knows its dtype and shape.
    let start = Instant::now();
    let npy = files::open_read_with(&path, &OpenOptions::new())?;
    times.push(("reopen (.npy header)", start.elapsed()));
    out::line(&format!(
        "\n>>> np.load('data.npy', mmap_mode='r')    # the .npy header holds dtype, shape and order\n\
         # mmarray show data.npy    [{}]",
        took(start.elapsed())
    ))?;
    show_f64(&npy, &path)?;
    let nbytes = npy.nbytes() as u64;
    drop(npy);

    // 6. Sizes and timings.
    let file_size = std::fs::metadata(&path)
        .map_err(|e| CliError::file(&path, e))?
        .len();
    let mut summary = format!(
        "\ndata.npy: {}: a {offset}-byte header and {nbytes} bytes of data\ntimings:",
        out::bytes_text(file_size)
    );
    for (what, d) in &times {
        summary.push_str(&format!("\n  {what:<31} {}", took(*d)));
    }
    out::line(&summary)
}
