//! The command line: every subcommand and flag of the contract (`cli-contract.md`),
//! parsed with clap. Text that must parse (DTYPE, SHAPE, SPEC, VALUE) is checked
//! here, so that a malformed command line is a usage error (exit 2) before any
//! file is touched.

// Doc comments here are `--help` texts, where Markdown backticks would show as such.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mmarray_core::{Order, Spec};
use mmarray_dtype::{DType, Value};

use crate::printf::Printf;

const EXAMPLES: &str = "\
Examples:
  mmarray create data.npy --dtype float64 --shape 10000,10000
  mmarray random data.npy --slice :5 --seed 42
  mmarray show data.npy --slice '0, :4'
  mmarray info data.npy --json
  mmarray reduce data.npy --op mean --axis -1 --out means.npy
  mmarray stats data.npy --skipna --json
  mmarray slice data.npy first_rows.npy ':5'
  mmarray convert data.npy data_f32.npy --out-dtype float32
  mmarray append data.npy --rows 100 --fill nan
  mmarray info data.dat --raw --dtype '>i4' --shape 100,3 --offset 16
  mmarray stats arrays.npz --member x
  mmarray convert data.npy data.zarr --chunks 1000,1000 --codec zstd:3
  mmarray stats data.zarr --json
  mmarray tour --shape 20,30

.npz archives (np.savez, np.savez_compressed) are read member by member
(--member NAME): stored members are mapped and can be written in place (fill,
random; the archive's CRC-32 is updated), compressed ones are read-only.

A folder with zarr.json (Zarr v3) or .zarray (Zarr v2) is a Zarr array: every
command reads it, fill and random write v3 stores in place. An output path ending
in .zarr (create, slice, convert, reduce --out) is written as a Zarr v3 array
(--chunks, --shards, --codec), appearing under its name only when complete.

Files are memory-mapped for the duration of one command: they must not be modified
or truncated by another program while mmarray runs. Input files are never
modified; new files appear under their name only when complete.

Environment: MMARRAY_ACCESS=map|read|auto sets how reductions read an input file:
through the mapping, with read(2), or (auto, the default) whichever is measured
faster on the file at hand. Results are the same either way.
MMARRAY_PROGRESS_DELAY_MS=N shows progress bars after N milliseconds (default 1000).
MMARRAY_NAMED_TEMPORARIES=1 writes new files under a hidden temporary name
(.NAME.PID.N.mmarray-tmp) until complete, instead of unnamed (O_TMPFILE, the
default where the filesystem allows it).

Interrupted (SIGINT, SIGTERM, SIGHUP), a command that writes a new file leaves
nothing behind and exits 130, 143 or 129 with `error: PATH: interrupted`; fill,
random and append leave a loadable file.

Exit status: 0 on success, 1 when a file cannot be read or written (or does not fit
the request), 2 for a malformed command line.";

/// numpy.memmap and .npy files from the command line: create, inspect, fill,
/// reduce, slice and convert N-d arrays that live in files.
#[derive(Debug, Parser)]
#[command(name = "mmarray", version, after_help = EXAMPLES, max_term_width = 100, arg_required_else_help = false,
          color = clap::ColorChoice::Never)]
pub(crate) struct Cli {
    /// Number of worker threads (default: one per CPU core).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub(crate) threads: Option<u32>,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a new array file (.npy unless --raw), zero-filled unless told otherwise.
    #[command(after_help = "\
Examples:
  mmarray create data.npy --dtype float64 --shape 10000,10000
  mmarray create ramp.npy --dtype int32 --shape 3,4 --arange
  mmarray create noise.npy --dtype '>f4' --shape 1000 --random normal --seed 7
  mmarray create ones.dat --raw --dtype u1 --shape 64,64 --fill 1")]
    Create(CreateArgs),
    /// Describe files: format, dtype, shape, order, sizes.
    #[command(after_help = "\
With several files, a file that cannot be read is reported (error: PATH: ...) and
the others are still described; the exit status is then 1.

Examples:
  mmarray info data.npy
  mmarray info data.npy --json
  mmarray info a.npy b.npy c.npy --json
  mmarray info data.dat --raw --dtype float32 --offset 128
  mmarray info arrays.npz
  mmarray info arrays.npz --member x --json")]
    Info(InfoArgs),
    /// Print the array (or a slice of it) as numpy's repr() of the memmap does.
    #[command(after_help = "\
The print options mean what they mean to np.set_printoptions (defaults: precision 8,
threshold 1000, edgeitems 3, linewidth 75).

Examples:
  mmarray show data.npy
  mmarray show data.npy --slice ':2, ::1000'
  mmarray show data.npy --slice -1
  mmarray show data.npy --precision 3 --threshold 20 --edgeitems 2")]
    Show(ShowArgs),
    /// Write a 0-d, 1-d or 2-d array (or slice) as text, as np.savetxt does.
    #[command(after_help = "\
The output is what np.savetxt(OUT, a, fmt=FMT, delimiter=D) writes: one line per row
(one value per line for a 1-d array, one line for a 0-d array), values formatted
with FMT by Python's % operator, complex values as ' (RE+IMj)'. FMT is one
printf-style conversion (%d %i %u %x %X %o %e %E %f %F %g %G %s, with flags -+ 0#,
width and precision), optionally with text around it, or one conversion per column.
The file appears under its name only when complete.

Examples:
  mmarray export data.npy data.txt
  mmarray export data.npy data.csv --fmt %.6g
  mmarray export data.npy - --slice ':10, :3' --delimiter ';' --fmt %10.4f
  mmarray export counts.npy --fmt %d | head")]
    Export(ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "\
Examples:
  mmarray completions bash > ~/.local/share/bash-completion/completions/mmarray
  mmarray completions zsh > ~/.zfunc/_mmarray
  mmarray completions fish > ~/.config/fish/completions/mmarray.fish
  mmarray completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),
    /// Write VALUE into the array or a slice of it (the file is modified in place).
    #[command(after_help = "\
Examples:
  mmarray fill data.npy 0
  mmarray fill data.npy -2.5 --slice '-3:'
  mmarray fill complex.npy 1+2j --slice '0, ...'")]
    Fill(FillArgs),
    /// Fill the array or a slice of it with random numbers (in place, reproducible with --seed).
    #[command(after_help = "\
Examples:
  mmarray random data.npy --slice :5 --seed 42
  mmarray random data.npy --dist uniform
  mmarray random counts.npy --dist integers --low -10 --high 10")]
    Random(RandomArgs),
    /// Reduce the array: sum, mean, min, max, argmin, argmax, var or std.
    #[command(after_help = "\
Examples:
  mmarray reduce data.npy --op sum
  mmarray reduce data.npy --op std --ddof 1 --json
  mmarray reduce data.npy --op max --axis -1 --out row_max.npy
  mmarray reduce data.npy --op mean --axis 0 --skipna")]
    Reduce(ReduceArgs),
    /// Count, sum, mean, min, max and std in one pass.
    #[command(after_help = "\
Examples:
  mmarray stats data.npy
  mmarray stats data.npy --skipna --json")]
    Stats(StatsArgs),
    /// Write a slice of an array to a new .npy file (same dtype and byte order).
    #[command(after_help = "\
Examples:
  mmarray slice data.npy head.npy ':5'
  mmarray slice data.npy last_row.npy -1
  mmarray slice data.npy every_other.npy '::2, ::-1'")]
    Slice(SliceArgs),
    /// Write a converted copy: another dtype, byte order, memory order or raw.
    #[command(after_help = "\
Examples:
  mmarray convert data.npy data_f32.npy --out-dtype float32
  mmarray convert data.npy data_be.npy --out-byte-order big
  mmarray convert data.npy data_f.npy --out-order F
  mmarray convert data.dat data.npy --raw --dtype '<i2' --shape 100,100
  mmarray convert data.npy data.npz --member x --compress
  mmarray convert archive.npz y.npy --member y

An OUT ending in .npz is written as a one-member archive that np.load reads
(stored, or deflated with --compress).")]
    Convert(ConvertArgs),
    /// Grow the array by N entries along its growth axis (rows for C order, the last axis for F order).
    #[command(after_help = "\
The file is extended and the new entries are written and flushed before the
header is rewritten in place with the new shape, so an interrupted append leaves
a file that loads with the old or the new length (new entries not yet filled
with --fill are zeros). Growing needs room in the header: files written by numpy
or mmarray have it. Raw files simply grow.

Examples:
  mmarray append data.npy --rows 1000
  mmarray append data.npy --rows 10 --fill nan
  mmarray append log.dat --rows 64 --raw --dtype u1")]
    Append(AppendArgs),
    /// The numpy.memmap walkthrough, step by step, with timings.
    #[command(after_help = "\
Creates a 10000 x 10000 float64 .npy file (763 MiB) in a temporary folder, prints it,
writes standard normal values into its first five rows, flushes and closes it,
reopens it with an explicit dtype and shape (as numpy.memmap does) and without
(as a .npy file allows), and prints timings and the file's size.

Examples:
  mmarray tour
  mmarray tour --shape 20,30 --seed 1
  mmarray tour --dir ./tour")]
    Tour(TourArgs),
}

/// How to read an existing file: as `.npy` (the default), or raw with a layout.
#[derive(Debug, Clone, Args)]
pub(crate) struct InputArgs {
    /// Read the file as raw data without a header (as numpy.memmap does); needs --dtype.
    #[arg(long, requires = "dtype", help_heading = "Raw input")]
    pub(crate) raw: bool,
    /// Element type of the raw data: any numpy spelling (<f8, float32, i2, d, >u4, ...).
    #[arg(long, value_name = "DTYPE", requires = "raw", value_parser = parse_dtype, help_heading = "Raw input")]
    pub(crate) dtype: Option<DType>,
    /// Shape of the raw data, e.g. 100,3 ("" or () for 0-d; default: 1-D, from the file size).
    #[arg(long, value_name = "SHAPE", requires = "raw", value_parser = parse_shape, help_heading = "Raw input")]
    pub(crate) shape: Option<Shape>,
    /// Byte offset of the raw data in the file.
    #[arg(
        long,
        value_name = "BYTES",
        requires = "raw",
        help_heading = "Raw input"
    )]
    pub(crate) offset: Option<u64>,
    /// Memory order of the raw data: C (row-major) or F (column-major).
    #[arg(long, value_name = "C|F", requires = "raw", value_parser = parse_order, help_heading = "Raw input")]
    pub(crate) order: Option<Order>,
    /// Largest .npy header accepted, in bytes (numpy's default: 10000).
    #[arg(long, value_name = "N", help_heading = "Raw input")]
    pub(crate) max_header_size: Option<usize>,
    /// The member (array name, without .npy) of an .npz archive to use; needed when the
    /// archive has several. For `convert` to OUT.npz from another file: the output's name.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "raw",
        help_heading = "Archives"
    )]
    pub(crate) member: Option<String>,
}

/// How to write a Zarr output (an OUT ending in `.zarr`).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ZarrArgs {
    /// Chunk shape of a .zarr output, in elements, e.g. 1000,1000 (default: chunks of
    /// about 8 MiB, whole rows for C order).
    #[arg(long, value_name = "SHAPE", value_parser = parse_shape, help_heading = "Zarr output")]
    pub(crate) chunks: Option<Shape>,
    /// Shards of a .zarr output, in chunks per shard along each axis, e.g. 4,4
    /// (default: no shards).
    #[arg(long, value_name = "SHAPE", value_parser = parse_shape, help_heading = "Zarr output")]
    pub(crate) shards: Option<Shape>,
    /// Compressor of a .zarr output: zstd[:LEVEL], gzip[:LEVEL], blosc[:CNAME[:LEVEL]]
    /// (CNAME: lz4, lz4hc, blosclz, zstd, zlib) or none (default: zstd:1).
    // The text is the --help text (as docs/cli.md shows it), not rustdoc links.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long, value_name = "CODEC", value_parser = parse_codec, help_heading = "Zarr output")]
    pub(crate) codec: Option<Codec>,
}

/// A compressor of `--codec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Codec(
    /// The compressor.
    #[cfg(feature = "zarr")]
    pub(crate) mmarray_zarr::Compressor,
    #[cfg(not(feature = "zarr"))] pub(crate) (),
);

/// `create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The new file (a Zarr v3 store if it ends in .zarr).
    pub(crate) path: PathBuf,
    /// Element type: any numpy spelling (float64, <f8, i4, uint8, ?, c16, >f2, ...).
    #[arg(long, value_name = "DTYPE", value_parser = parse_dtype)]
    pub(crate) dtype: DType,
    /// Shape, comma separated: 10000,10000 ("" or () for 0-d).
    #[arg(long, value_name = "SHAPE", value_parser = parse_shape, allow_hyphen_values = true)]
    pub(crate) shape: Shape,
    /// Memory order: C (row-major) or F (column-major).
    #[arg(long, value_name = "C|F", value_parser = parse_order, default_value = "C")]
    pub(crate) order: Order,
    /// Write a raw file (no header) instead of .npy.
    #[arg(long)]
    pub(crate) raw: bool,
    /// Replace an existing file.
    #[arg(long)]
    pub(crate) force: bool,
    /// Fill with VALUE instead of zeros.
    #[arg(long, value_name = "VALUE", allow_hyphen_values = true, value_parser = parse_number_text,
          conflicts_with_all = ["random", "arange"])]
    pub(crate) fill: Option<String>,
    /// Fill with random numbers from this distribution (float, complex or bool dtypes).
    #[arg(long, value_name = "DIST", conflicts_with = "arange")]
    pub(crate) random: Option<FloatDist>,
    /// Seed of --random (default: a random seed, printed on stderr).
    #[arg(long, value_name = "N", requires = "random")]
    pub(crate) seed: Option<u64>,
    /// Element i (in C order) gets the value i, as np.arange(n).reshape(shape).
    #[arg(long)]
    pub(crate) arange: bool,
    #[command(flatten)]
    pub(crate) zarr: ZarrArgs,
}

/// `info`.
#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// The files (a failure on one is reported, the others are still described).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// JSON: one object per file (format, version, descr, name, shape, fortran_order, itemsize,
    /// size, nbytes, data_offset, file_size); an array of them for several PATHs.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

/// `show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The file.
    pub(crate) path: PathBuf,
    /// Show only this part: numpy basic indexing such as ':5', '::2,-1', '1:-1,...,0'.
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true, value_parser = parse_spec)]
    pub(crate) slice: Option<Spec>,
    /// Most digits after the decimal point of floats (numpy's precision; default 8).
    #[arg(long, value_name = "N")]
    pub(crate) precision: Option<usize>,
    /// Summarise with ... arrays of more than N items (numpy's threshold; default 1000).
    #[arg(long, value_name = "N")]
    pub(crate) threshold: Option<usize>,
    /// Items shown at each edge of a summarised axis (numpy's edgeitems; default 3).
    #[arg(long, value_name = "N")]
    pub(crate) edgeitems: Option<usize>,
    /// Characters per line (numpy's linewidth; default 75).
    #[arg(long, value_name = "N")]
    pub(crate) linewidth: Option<usize>,
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

/// `export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The array file.
    pub(crate) path: PathBuf,
    /// The new text file; - or nothing writes to standard output.
    #[arg(value_name = "OUT|-")]
    pub(crate) out: Option<PathBuf>,
    /// Export only this part (numpy basic indexing); it must have at most 2 dimensions.
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true, value_parser = parse_spec)]
    pub(crate) slice: Option<Spec>,
    /// txt (values separated by a space) or csv (by a comma); default: csv for an OUT
    /// ending in .csv, else txt.
    #[arg(long, value_name = "FORMAT")]
    pub(crate) format: Option<TextFormat>,
    /// The text between values of a row (overrides the format's).
    #[arg(long, value_name = "D", allow_hyphen_values = true)]
    pub(crate) delimiter: Option<String>,
    /// printf-style format of each value, as numpy's savetxt takes it.
    #[arg(long, value_name = "FMT", default_value = "%.18e", allow_hyphen_values = true,
          value_parser = parse_fmt)]
    pub(crate) fmt: Printf,
    /// Replace an existing OUT.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

/// `completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_name = "SHELL")]
    pub(crate) shell: clap_complete::Shell,
}

/// The text formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TextFormat {
    /// Values separated by a space (np.savetxt's default).
    Txt,
    /// Values separated by a comma.
    Csv,
}

/// `fill`.
#[derive(Debug, Args)]
pub(crate) struct FillArgs {
    /// The file (modified in place).
    pub(crate) path: PathBuf,
    /// The value: a number, nan, inf, -inf, true/false, or a complex such as 1+2j.
    #[arg(allow_hyphen_values = true, value_parser = parse_number_text)]
    pub(crate) value: String,
    /// Fill only this part (numpy basic indexing).
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true, value_parser = parse_spec)]
    pub(crate) slice: Option<Spec>,
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

/// `random`.
#[derive(Debug, Args)]
pub(crate) struct RandomArgs {
    /// The file (modified in place).
    pub(crate) path: PathBuf,
    /// Distribution (default: normal for float and complex, integers for int dtypes).
    #[arg(long, value_name = "DIST")]
    pub(crate) dist: Option<DistArg>,
    /// Smallest integer drawn by --dist integers (default 0).
    #[arg(long, value_name = "A", allow_negative_numbers = true, value_parser = parse_bound)]
    pub(crate) low: Option<i128>,
    /// One past the largest integer drawn by --dist integers (up to 18446744073709551616 for uint64).
    #[arg(long, value_name = "B", allow_negative_numbers = true, value_parser = parse_bound)]
    pub(crate) high: Option<i128>,
    /// Seed (default: a random seed, printed on stderr); the same seed gives the same bytes.
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Fill only this part (numpy basic indexing).
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true, value_parser = parse_spec)]
    pub(crate) slice: Option<Spec>,
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

/// `reduce`.
#[derive(Debug, Args)]
pub(crate) struct ReduceArgs {
    /// The file.
    pub(crate) path: PathBuf,
    /// The reduction.
    #[arg(long, value_name = "OP")]
    pub(crate) op: OpArg,
    /// Reduce along this axis only (negative counts from the end).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub(crate) axis: Option<isize>,
    /// Delta degrees of freedom of var and std.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) ddof: usize,
    /// Ignore NaNs (numpy's nansum, nanmin, nanargmax, nanstd, ...).
    #[arg(long)]
    pub(crate) skipna: bool,
    /// Print JSON: {"op": ..., "value": ...}.
    #[arg(long)]
    pub(crate) json: bool,
    /// With --axis: write the result array to this new .npy file (a Zarr v3 store if it
    /// ends in .zarr).
    #[arg(long, value_name = "OUT.npy", requires = "axis")]
    pub(crate) out: Option<PathBuf>,
    /// Replace an existing --out file.
    #[arg(long, requires = "out")]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) zarr: ZarrArgs,
}

/// `stats`.
#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// The file.
    pub(crate) path: PathBuf,
    /// Print JSON: {"count", "sum", "mean", "min", "max", "std"}.
    #[arg(long)]
    pub(crate) json: bool,
    /// Ignore NaNs (count is then the number of other values).
    #[arg(long)]
    pub(crate) skipna: bool,
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

/// `slice`.
#[derive(Debug, Args)]
pub(crate) struct SliceArgs {
    /// The input file.
    pub(crate) input_path: PathBuf,
    /// The new .npy file (a Zarr v3 store if it ends in .zarr).
    pub(crate) out: PathBuf,
    /// What to keep: numpy basic indexing such as ':5', '::2,-1', '1:-1,...,0', -1.
    #[arg(allow_hyphen_values = true, value_parser = parse_spec)]
    pub(crate) spec: Spec,
    /// Replace an existing OUT.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) zarr: ZarrArgs,
}

/// `convert`.
#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// The input file.
    pub(crate) input_path: PathBuf,
    /// The new file (a Zarr v3 store if it ends in .zarr).
    pub(crate) out: PathBuf,
    /// Element type of the output (without a byte order: native order). Default: the input's.
    #[arg(long, value_name = "DTYPE", value_parser = parse_dtype)]
    pub(crate) out_dtype: Option<DType>,
    /// Byte order of the output (overrides one given in --out-dtype).
    #[arg(long, value_name = "ORDER")]
    pub(crate) out_byte_order: Option<ByteOrderArg>,
    /// Memory order of the output: C or F. Default: the input's.
    #[arg(long, value_name = "C|F", value_parser = parse_order)]
    pub(crate) out_order: Option<Order>,
    /// Write a raw file (no header).
    #[arg(long)]
    pub(crate) out_raw: bool,
    /// With OUT.npz: deflate the member (np.savez_compressed) instead of storing it (np.savez).
    #[arg(long, conflicts_with = "out_raw")]
    pub(crate) compress: bool,
    /// Replace an existing OUT.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) zarr: ZarrArgs,
}

/// `append`.
#[derive(Debug, Args)]
pub(crate) struct AppendArgs {
    /// The file (grown in place).
    pub(crate) path: PathBuf,
    /// How many entries (rows for C order) to add.
    #[arg(long, value_name = "N")]
    pub(crate) rows: usize,
    /// Write VALUE into the new entries instead of zeros (a Zarr store: its fill value).
    #[arg(long, value_name = "VALUE", allow_hyphen_values = true, value_parser = parse_number_text)]
    pub(crate) fill: Option<String>,
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

/// `tour`.
#[derive(Debug, Args)]
pub(crate) struct TourArgs {
    /// Work in this folder and keep the file (default: a temporary folder, removed at the end).
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
    /// Shape of the array (at least one axis).
    #[arg(long, value_name = "SHAPE", value_parser = parse_shape, default_value = "10000,10000")]
    pub(crate) shape: Shape,
    /// Seed of the random values (default: a random seed).
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Replace data.npy if it exists in --dir.
    #[arg(long)]
    pub(crate) force: bool,
}

/// A shape: `10000,10000`, `(3, 4)`, `5`, `""` or `()` (0-d).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape(pub(crate) Vec<usize>);

/// The distributions of `random`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DistArg {
    /// Standard normal (float and complex).
    Normal,
    /// Uniform in [0, 1) (float and complex).
    Uniform,
    /// Integers in [low, high) (integer dtypes).
    Integers,
}

/// The distributions of `create --random`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FloatDist {
    /// Standard normal.
    Normal,
    /// Uniform in [0, 1).
    Uniform,
}

/// The reductions of `reduce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OpArg {
    /// Sum (int64 for signed ints and bool, uint64 for unsigned, float64, complex128).
    Sum,
    /// Arithmetic mean (float64 or complex128).
    Mean,
    /// Smallest value (in the array's type).
    Min,
    /// Largest value (in the array's type).
    Max,
    /// Flat C-order index of the first smallest value (along --axis: the index along it).
    Argmin,
    /// Flat C-order index of the first largest value (along --axis: the index along it).
    Argmax,
    /// Variance (float64), with --ddof.
    Var,
    /// Standard deviation (float64), with --ddof.
    Std,
}

/// Byte orders of `convert --out-byte-order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ByteOrderArg {
    /// Least significant byte first (<).
    Little,
    /// Most significant byte first (>).
    Big,
    /// This machine's byte order.
    Native,
}

fn parse_dtype(text: &str) -> Result<DType, String> {
    DType::parse(text).map_err(|e| e.to_string())
}

/// Parses SHAPE: comma separated non-negative integers, optionally in parentheses;
/// `""` and `()` are the 0-d shape, and a trailing comma is allowed (`(5,)`).
pub(crate) fn parse_shape(text: &str) -> Result<Shape, String> {
    let trimmed = text.trim();
    let inner = trimmed
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(trimmed)
        .trim();
    if inner.is_empty() {
        return Ok(Shape(Vec::new()));
    }
    let inner = inner.strip_suffix(',').unwrap_or(inner);
    inner
        .split(',')
        .map(|part| {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("invalid shape {text:?}: an axis length is missing"));
            }
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "invalid shape {text:?}: {part:?} is not a non-negative integer \
                     (expected comma separated lengths such as 10000,10000)"
                ));
            }
            part.parse::<usize>()
                .map_err(|_| format!("invalid shape {text:?}: {part} is too large"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Shape)
}

/// Parses a bound of `random --dist integers`: an integer between -2^63 and 2^64,
/// the widest range any integer dtype has.
fn parse_bound(text: &str) -> Result<i128, String> {
    let v: i128 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an integer"))?;
    if (i128::from(i64::MIN)..=1 << 64).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{v} is outside every integer dtype's range (-9223372036854775808..=18446744073709551616)"
        ))
    }
}

/// Parses `--codec` ([`mmarray_zarr::Compressor::parse`]): `zstd[:LEVEL]`,
/// `gzip[:LEVEL]`, `blosc[:CNAME[:LEVEL]]` or `none`.
#[cfg(feature = "zarr")]
fn parse_codec(text: &str) -> Result<Codec, String> {
    mmarray_zarr::Compressor::parse(text)
        .map(Codec)
        .map_err(|e| e.to_string())
}

/// Without Zarr support, no codec parses.
#[cfg(not(feature = "zarr"))]
fn parse_codec(text: &str) -> Result<Codec, String> {
    Err(format!(
        "invalid codec {text:?}: this mmarray was built without Zarr support"
    ))
}

fn parse_order(text: &str) -> Result<Order, String> {
    match text {
        "C" | "c" => Ok(Order::C),
        "F" | "f" => Ok(Order::F),
        _ => Err(format!("invalid order {text:?}: expected C or F")),
    }
}

fn parse_fmt(text: &str) -> Result<Printf, String> {
    Printf::parse(text).map_err(|e| format!("invalid format {text:?}: {e}"))
}

fn parse_spec(text: &str) -> Result<Spec, String> {
    Spec::parse(text).map_err(|e| e.to_string())
}

/// Keeps VALUE as text (its type comes from the file) after checking that it is a
/// number of some kind at all.
fn parse_number_text(text: &str) -> Result<String, String> {
    if Value::is_number(text) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not a number: expected e.g. 1.5, -3, nan, inf, -inf, true, false or 1+2j"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn shapes_parse() {
        assert_eq!(parse_shape("10000,10000"), Ok(Shape(vec![10000, 10000])));
        assert_eq!(parse_shape(""), Ok(Shape(vec![])));
        assert_eq!(parse_shape("()"), Ok(Shape(vec![])));
        assert_eq!(parse_shape("(5,)"), Ok(Shape(vec![5])));
        assert_eq!(parse_shape(" (2, 3) "), Ok(Shape(vec![2, 3])));
        assert_eq!(parse_shape("0"), Ok(Shape(vec![0])));
        for bad in [
            "-1",
            "2,,3",
            "a",
            "1.5",
            ",",
            "2x3",
            "99999999999999999999999",
        ] {
            assert!(parse_shape(bad).is_err(), "{bad}");
        }
    }
}
