//! Command-line options of `cargo xtask bench` and the size syntax (`4GiB`, `256MiB`, `1GB`).

use std::ffi::OsString;
use std::path::PathBuf;

use super::ops::Op;
use super::python::PyOp;
use super::zarr::ZarrOp;

/// Usage text of `cargo xtask bench`.
pub(crate) const USAGE: &str = "\
usage: cargo xtask bench [options]

Large-file benchmarks of the release `mmarray` CLI (timed as whole processes) against numpy
(from target/interop-venv or $MMARRAY_PYTHON) on the same files, and against the machine's
mapped read and fill+flush bandwidth measured in the same run. The contenders run interleaved,
round by round (numpy, mmarray, [--compare BIN], limit; numpy, mmarray, ...), and every ratio
is reported as median [min-max] over the rounds' ratios.

options:
  --size SIZE        size of the main float file (default 4GiB)
  --sizes LIST       also a scaling run of sum, std, normal and astype at each size, e.g.
                     256MiB,1GiB,4GiB,16GiB
  --huge             add a scaling point larger than RAM (1.25 x MemTotal), if the disk has room
  --dtype DTYPE      element type of the main file: f64 (default) or f32
  --ops LIST         operations to run (default: all): create,normal,sum,min,max,mean,std,
                     stats,sum_be,sum_f16,astype,axis0_wide,axis1_wide,slice,axis0_tall,
                     axis1_tall,axis0_square,axis1_square, and the Python package's
                     in-process rows py_sum,py_std,py_stats,py_dask_std,py_overhead
                     and the Zarr rows zarr_convert,zarr_sum,zarr_stats,zarr_axis0,
                     zarr_sum_raw (against zarr-python, its zarrs codec pipeline and
                     dask, on 1024x1024 chunks) (a list without py_* or zarr_* names
                     skips those; one of only such names runs just those)
  --threads N        pass --threads N to mmarray and use N threads for the limits
                     (default: mmarray's default, one per core)
  --rounds N         timed rounds per operation after one warm-up round (default 5)
  --max-rounds N     keep adding rounds, up to N in all, while the last round still widened
                     a ratio's spread (default: twice --rounds)
  --compare BIN      also time a second mmarray binary BIN (one built from another commit)
                     in every round: a before/after table with spreads
  --keep             keep the test files (printed at the end)
  --dir DIR          put the test folder in DIR (default target/bench-tmp)
  --json FILE        also write all results as JSON to FILE
  --update-docs      write docs/benchmarks.md and docs/benchmarks.svg
  --no-build         do not run `cargo build --release -p mmarray-cli` first
  -h, --help         print this message

SIZE is a number with an optional unit, in any letter case: B, KiB, MiB, GiB, TiB or K, M, G,
T (powers of 1024), KB, MB, GB, TB (powers of 1000). Fractions are allowed: 1.5GiB.
";

/// The element type of the main file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Float {
    /// float64, `<f8`.
    F64,
    /// float32, `<f4`.
    F32,
}

impl Float {
    /// numpy's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Float::F64 => "float64",
            Float::F32 => "float32",
        }
    }

    /// Little-endian descr.
    pub(crate) fn descr(self) -> &'static str {
        match self {
            Float::F64 => "<f8",
            Float::F32 => "<f4",
        }
    }

    /// Big-endian descr.
    pub(crate) fn descr_be(self) -> &'static str {
        match self {
            Float::F64 => ">f8",
            Float::F32 => ">f4",
        }
    }

    /// Bytes per item.
    pub(crate) fn itemsize(self) -> u64 {
        match self {
            Float::F64 => 8,
            Float::F32 => 4,
        }
    }

    /// The type `astype` converts to: the next narrower float.
    pub(crate) fn narrower(self) -> &'static str {
        match self {
            Float::F64 => "float32",
            Float::F32 => "float16",
        }
    }

    /// Machine epsilon, for the result checks.
    pub(crate) fn eps(self) -> f64 {
        match self {
            Float::F64 => f64::EPSILON,
            Float::F32 => f64::from(f32::EPSILON),
        }
    }
}

/// Parsed options.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent on/off flags of the command line
pub(crate) struct Options {
    /// Bytes of the main file's data.
    pub(crate) size: u64,
    /// Scaling-run sizes.
    pub(crate) sizes: Vec<u64>,
    /// Whether to add a larger-than-RAM point.
    pub(crate) huge: bool,
    /// Element type of the main file.
    pub(crate) dtype: Float,
    /// Operations, in run order.
    pub(crate) ops: Vec<Op>,
    /// The Python package's rows, in run order.
    pub(crate) py_ops: Vec<PyOp>,
    /// Zarr rows, in run order (after the Python rows).
    pub(crate) zarr_ops: Vec<ZarrOp>,
    /// `--threads` for mmarray and the limits, if given.
    pub(crate) threads: Option<usize>,
    /// Timed rounds per operation (at least).
    pub(crate) rounds: usize,
    /// At most this many rounds per operation.
    pub(crate) max_rounds: usize,
    /// A second mmarray binary to time in the same rounds.
    pub(crate) compare: Option<PathBuf>,
    /// Keep the test folder.
    pub(crate) keep: bool,
    /// Parent of the test folder, if not the default.
    pub(crate) dir: Option<PathBuf>,
    /// Where to write the JSON results.
    pub(crate) json: Option<PathBuf>,
    /// Regenerate docs/benchmarks.{md,svg}.
    pub(crate) update_docs: bool,
    /// Build the release CLI first.
    pub(crate) build: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            size: 4 << 30,
            sizes: Vec::new(),
            huge: false,
            dtype: Float::F64,
            ops: Op::ALL.to_vec(),
            py_ops: PyOp::ALL.to_vec(),
            zarr_ops: ZarrOp::ALL.to_vec(),
            threads: None,
            rounds: 5,
            max_rounds: 10,
            compare: None,
            keep: false,
            dir: None,
            json: None,
            update_docs: false,
            build: true,
        }
    }
}

/// What the command line asks for.
pub(crate) enum Parsed {
    /// Run the benchmarks.
    Run(Box<Options>),
    /// Print the usage and stop.
    Help,
}

/// Parses the arguments after `bench`. Errors are one line, without the usage.
#[allow(clippy::too_many_lines)] // one flat match arm per flag
pub(crate) fn parse(args: &[OsString]) -> Result<Parsed, String> {
    let mut opts = Options::default();
    let mut max_rounds = None;
    let mut args = args.iter().map(|a| {
        a.to_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("argument {} is not UTF-8", a.to_string_lossy()))
    });
    while let Some(arg) = args.next() {
        let arg = arg?;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args
                    .next()
                    .transpose()?
                    .ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--size" => opts.size = parse_size(&value("--size")?)?,
            "--sizes" => {
                opts.sizes = value("--sizes")?
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(parse_size)
                    .collect::<Result<_, _>>()?;
                if opts.sizes.is_empty() {
                    return Err("--sizes needs at least one size".into());
                }
            }
            "--huge" => opts.huge = true,
            "--dtype" => {
                opts.dtype = match value("--dtype")?.as_str() {
                    "f64" | "f8" | "<f8" | "float64" | "d" => Float::F64,
                    "f32" | "f4" | "<f4" | "float32" | "f" => Float::F32,
                    other => {
                        return Err(format!(
                            "--dtype {other}: the benchmarks support f64 (float64) and f32 \
                             (float32)"
                        ));
                    }
                }
            }
            "--ops" => {
                let list = value("--ops")?;
                let (mut ops, mut py_ops, mut zarr_ops) = (Vec::new(), Vec::new(), Vec::new());
                for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if let Some(op) = PyOp::from_name(name) {
                        py_ops.push(op);
                        continue;
                    }
                    if let Some(op) = ZarrOp::from_name(name) {
                        zarr_ops.push(op);
                        continue;
                    }
                    let op = Op::from_name(name).ok_or_else(|| {
                        let all: Vec<_> = Op::ALL.iter().map(|o| o.name()).collect();
                        let py: Vec<_> = PyOp::ALL.iter().map(|o| o.name()).collect();
                        let zarr: Vec<_> = ZarrOp::ALL.iter().map(|o| o.name()).collect();
                        format!(
                            "--ops: unknown operation `{name}` (known: {},{},{})",
                            all.join(","),
                            py.join(","),
                            zarr.join(",")
                        )
                    })?;
                    ops.push(op);
                }
                if ops.is_empty() && py_ops.is_empty() && zarr_ops.is_empty() {
                    return Err("--ops needs at least one operation".into());
                }
                // Run in the canonical order, which keeps derived files short-lived.
                opts.ops = Op::ALL
                    .iter()
                    .copied()
                    .filter(|o| ops.contains(o))
                    .collect();
                opts.py_ops = PyOp::ALL
                    .iter()
                    .copied()
                    .filter(|o| py_ops.contains(o))
                    .collect();
                opts.zarr_ops = ZarrOp::ALL
                    .iter()
                    .copied()
                    .filter(|o| zarr_ops.contains(o))
                    .collect();
            }
            "--threads" => {
                let v = value("--threads")?;
                let n: usize = v
                    .parse()
                    .ok()
                    .filter(|&n| (1..=4096).contains(&n))
                    .ok_or_else(|| format!("--threads {v}: expected a number from 1 to 4096"))?;
                opts.threads = Some(n);
            }
            "--rounds" | "--max-rounds" => {
                let v = value(&flag)?;
                let n = v
                    .parse()
                    .ok()
                    .filter(|&n| (1..=1000).contains(&n))
                    .ok_or_else(|| format!("{flag} {v}: expected a number from 1 to 1000"))?;
                if flag == "--rounds" {
                    opts.rounds = n;
                } else {
                    max_rounds = Some(n);
                }
            }
            "--compare" => opts.compare = Some(PathBuf::from(value("--compare")?)),
            "--keep" => opts.keep = true,
            "--dir" => opts.dir = Some(PathBuf::from(value("--dir")?)),
            "--json" => opts.json = Some(PathBuf::from(value("--json")?)),
            "--update-docs" => opts.update_docs = true,
            "--no-build" => opts.build = false,
            _ => return Err(format!("unknown option `{arg}`")),
        }
        if inline.is_some() && matches!(flag.as_str(), "--huge" | "--keep" | "--update-docs") {
            return Err(format!("{flag} takes no value"));
        }
    }
    opts.max_rounds = match max_rounds {
        Some(m) if m < opts.rounds => {
            return Err(format!(
                "--max-rounds {m} is less than --rounds {}",
                opts.rounds
            ));
        }
        Some(m) => m,
        None => opts.rounds * 2,
    };
    let item = opts.dtype.itemsize();
    for &size in std::iter::once(&opts.size).chain(&opts.sizes) {
        if size < 64 * 1024 {
            return Err(format!(
                "size {} is too small: use at least 64KiB",
                format_size(size)
            ));
        }
        if size % item != 0 {
            return Err(format!(
                "size {size} bytes is not a whole number of {} items",
                opts.dtype.name()
            ));
        }
    }
    Ok(Parsed::Run(Box::new(opts)))
}

/// Parses `4GiB`, `256MiB`, `64KiB`, `1.5GiB`, `1GB` (10^9), `4G` (= GiB), `1000` (bytes); units
/// in any letter case.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .replace('_', "")
        .parse()
        .map_err(|_| format!("bad size `{text}`: expected e.g. 4GiB, 256MiB, 1GB or 1000000"))?;
    let unit = unit.trim();
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        _ => return Err(format!("bad size `{text}`: unknown unit `{unit}`")),
    };
    let bytes = number * multiplier as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > 2f64.powi(62) {
        return Err(format!("bad size `{text}`: out of range"));
    }
    Ok(bytes.round() as u64)
}

/// `4 GiB`, `256 MiB`, `1.5 GiB`, `640 KiB`, `100 B`.
pub(crate) fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, scale) in UNITS {
        if bytes >= scale {
            let x = bytes as f64 / scale as f64;
            return if bytes.is_multiple_of(scale) {
                format!("{} {unit}", bytes / scale)
            } else if x >= 100.0 {
                format!("{x:.0} {unit}")
            } else {
                format!("{x:.2} {unit}")
            };
        }
    }
    format!("{bytes} B")
}

/// The same in compact form for table columns and file names: `4GiB`.
pub(crate) fn format_size_compact(bytes: u64) -> String {
    format_size(bytes).replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::{Parsed, format_size, parse, parse_size};
    use std::ffi::OsString;

    fn opts(args: &[&str]) -> Result<super::Options, String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        match parse(&args)? {
            Parsed::Run(o) => Ok(*o),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn rounds_and_compare() {
        let o = opts(&[]).unwrap();
        assert_eq!((o.rounds, o.max_rounds, o.compare), (5, 10, None));
        let o = opts(&["--rounds", "3", "--compare=old/mmarray"]).unwrap();
        assert_eq!((o.rounds, o.max_rounds), (3, 6));
        assert_eq!(o.compare.unwrap().to_str(), Some("old/mmarray"));
        let o = opts(&["--rounds", "3", "--max-rounds", "3"]).unwrap();
        assert_eq!(o.max_rounds, 3);
        assert!(opts(&["--rounds", "4", "--max-rounds", "3"]).is_err());
        assert!(opts(&["--rounds", "0"]).is_err());
        assert!(opts(&["--runs", "3"]).is_err());
        let o = opts(&["--ops", "axis1_tall,sum"]).unwrap();
        assert_eq!(
            o.ops.iter().map(|op| op.name()).collect::<Vec<_>>(),
            ["sum", "axis1_tall"]
        );
        assert!(o.py_ops.is_empty());
        let o = opts(&[]).unwrap();
        assert_eq!(o.py_ops.len(), 5);
        let o = opts(&["--ops", "py_overhead,py_sum"]).unwrap();
        assert!(o.ops.is_empty());
        assert_eq!(
            o.py_ops.iter().map(|op| op.name()).collect::<Vec<_>>(),
            ["py_sum", "py_overhead"]
        );
        assert!(opts(&["--ops", "py_nope"]).is_err());
        assert!(o.zarr_ops.is_empty());
        let o = opts(&["--ops", "zarr_sum,zarr_convert"]).unwrap();
        assert!(o.ops.is_empty() && o.py_ops.is_empty());
        assert_eq!(
            o.zarr_ops.iter().map(|op| op.name()).collect::<Vec<_>>(),
            ["zarr_convert", "zarr_sum"]
        );
        assert_eq!(opts(&[]).unwrap().zarr_ops.len(), 5);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("64kib"), Ok(64 << 10));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("1gb"), Ok(1_000_000_000));
        assert_eq!(parse_size("512MB"), Ok(512_000_000));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size(" 2 MiB "), Ok(2 << 20));
        assert!(parse_size("GiB").is_err());
        assert!(parse_size("4XB").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(format_size(4 << 30), "4 GiB");
        assert_eq!(format_size(3 << 29), "1.50 GiB");
        assert_eq!(format_size(1000), "1000 B");
    }
}
