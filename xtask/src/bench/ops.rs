//! The benchmarked operations: what each reads and writes, the mmarray command, the numpy code
//! it is compared with, and its target (issue 4's, raised by issue 15).

/// One benchmarked operation. The order of [`Op::ALL`] is the run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Create a file and fill it with a constant, flushed.
    Create,
    /// Create a file and fill it with standard normal values, flushed.
    Normal,
    /// Sum of the main file.
    Sum,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Mean.
    Mean,
    /// Standard deviation.
    Std,
    /// count/sum/mean/min/max/std.
    Stats,
    /// Sum of the big-endian copy.
    SumBe,
    /// Sum of the float16 copy.
    SumF16,
    /// Conversion to the next narrower float type into a new file.
    Astype,
    /// Sum along axis 0 of the wide 2-D copy, written as .npy.
    Axis0Wide,
    /// Sum along axis 1 of the wide 2-D copy, written as .npy.
    Axis1Wide,
    /// Copy of every other row of the wide 2-D copy into a new .npy.
    Slice,
    /// Sum along axis 0 of the tall 2-D copy (1024 columns), written as .npy.
    Axis0Tall,
    /// Sum along axis 1 of the tall 2-D copy.
    Axis1Tall,
    /// Sum along axis 0 of the square 2-D copy.
    Axis0Square,
    /// Sum along axis 1 of the square 2-D copy.
    Axis1Square,
}

/// Which test file an operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// None (it creates its file).
    Nothing,
    /// The main file (standard normal, little-endian).
    Main,
    /// The big-endian copy.
    BigEndian,
    /// The float16 copy.
    Half,
    /// The wide 2-D copy (1024 rows).
    Wide,
    /// The tall 2-D copy (1024 columns).
    Tall,
    /// The square 2-D copy.
    Square,
}

/// Which machine limit an operation is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// Mapped read bandwidth on all threads.
    Read,
    /// Fill + flush bandwidth into a new file.
    Write,
    /// `pread` of a file not in the page cache on all threads, 1 MiB pieces taken front to
    /// back (the disk's speed, with the kernel's read-ahead; the limit of cold rows).
    Disk,
}

impl Limit {
    /// The short word of tables: `read`, `write`, `disk read`.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Limit::Read => "read",
            Limit::Write => "write",
            Limit::Disk => "disk read",
        }
    }

    /// The limit's name in checks and the plot: `mapped-read`, `fill + flush`, `disk read`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Limit::Read => "mapped-read",
            Limit::Write => "fill + flush",
            Limit::Disk => "disk read",
        }
    }
}

/// A performance target (issue 4's, raised by issue 15).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    /// Minimum mmarray/numpy throughput ratio.
    pub(crate) ratio: Option<f64>,
    /// Minimum fraction of the limit, in percent.
    pub(crate) pct_of_limit: Option<f64>,
    /// Whether meeting either of the two is enough (the normal fill: 6x numpy or 80% of the
    /// fill + flush limit); otherwise both must be met.
    pub(crate) either: bool,
}

/// The `RssAnon` target of issue 4, for every operation, in MiB.
pub(crate) const RSS_ANON_TARGET_MIB: f64 = 64.0;

impl Op {
    /// All operations, in run order (files derived from the main one are made just before their
    /// first user and deleted after their last).
    pub(crate) const ALL: [Op; 18] = [
        Op::Create,
        Op::Normal,
        Op::Sum,
        Op::Min,
        Op::Max,
        Op::Mean,
        Op::Std,
        Op::Stats,
        Op::SumBe,
        Op::SumF16,
        Op::Astype,
        Op::Axis0Wide,
        Op::Axis1Wide,
        Op::Slice,
        Op::Axis0Tall,
        Op::Axis1Tall,
        Op::Axis0Square,
        Op::Axis1Square,
    ];

    /// The subset repeated at every size of a scaling run.
    pub(crate) const SCALING: [Op; 4] = [Op::Sum, Op::Std, Op::Normal, Op::Astype];

    /// The name used on the command line, in tables and in JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Normal => "normal",
            Op::Sum => "sum",
            Op::Min => "min",
            Op::Max => "max",
            Op::Mean => "mean",
            Op::Std => "std",
            Op::Stats => "stats",
            Op::SumBe => "sum_be",
            Op::SumF16 => "sum_f16",
            Op::Astype => "astype",
            Op::Axis0Wide => "axis0_wide",
            Op::Axis1Wide => "axis1_wide",
            Op::Slice => "slice",
            Op::Axis0Tall => "axis0_tall",
            Op::Axis1Tall => "axis1_tall",
            Op::Axis0Square => "axis0_square",
            Op::Axis1Square => "axis1_square",
        }
    }

    /// The axis it sums along, for the axis sums.
    pub(crate) fn axis(self) -> Option<u8> {
        match self {
            Op::Axis0Wide | Op::Axis0Tall | Op::Axis0Square => Some(0),
            Op::Axis1Wide | Op::Axis1Tall | Op::Axis1Square => Some(1),
            _ => None,
        }
    }

    /// The operation called `name`.
    pub(crate) fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The file it reads.
    pub(crate) fn input(self) -> Input {
        match self {
            Op::Create | Op::Normal => Input::Nothing,
            Op::Sum | Op::Min | Op::Max | Op::Mean | Op::Std | Op::Stats | Op::Astype => {
                Input::Main
            }
            Op::SumBe => Input::BigEndian,
            Op::SumF16 => Input::Half,
            Op::Axis0Wide | Op::Axis1Wide | Op::Slice => Input::Wide,
            Op::Axis0Tall | Op::Axis1Tall => Input::Tall,
            Op::Axis0Square | Op::Axis1Square => Input::Square,
        }
    }

    /// The output file name, for operations that write one.
    pub(crate) fn output(self) -> Option<&'static str> {
        match self {
            Op::Create => Some("out-create.npy"),
            Op::Normal => Some("out-normal.npy"),
            Op::Astype => Some("out-astype.npy"),
            Op::Axis0Wide | Op::Axis0Tall | Op::Axis0Square => Some("out-axis0.npy"),
            Op::Axis1Wide | Op::Axis1Tall | Op::Axis1Square => Some("out-axis1.npy"),
            Op::Slice => Some("out-slice.npy"),
            _ => None,
        }
    }

    /// The limit it is compared with: write for operations that produce a big new file.
    pub(crate) fn limit(self) -> Limit {
        match self {
            Op::Create | Op::Normal | Op::Astype | Op::Slice => Limit::Write,
            _ => Limit::Read,
        }
    }

    /// What it does, for the docs.
    pub(crate) fn what(self) -> &'static str {
        match self {
            Op::Create => "create + fill with 1.5 + flush",
            Op::Normal => "create + standard normal fill (seed 1) + flush",
            Op::Sum => "sum",
            Op::Min => "min",
            Op::Max => "max",
            Op::Mean => "mean",
            Op::Std => "std (ddof 0)",
            Op::Stats => "count, sum, mean, min, max, std",
            Op::SumBe => "sum of the big-endian copy",
            Op::SumF16 => "sum of the float16 copy (in float64)",
            Op::Astype => "astype to the next narrower float, into a new file",
            Op::Axis0Wide => "sum along axis 0 of the wide 2-D copy, saved as .npy",
            Op::Axis1Wide => "sum along axis 1 of the wide 2-D copy, saved as .npy",
            Op::Slice => "copy of `::2` (every other row) of the wide 2-D copy",
            Op::Axis0Tall => "sum along axis 0 of the tall 2-D copy, saved as .npy",
            Op::Axis1Tall => "sum along axis 1 of the tall 2-D copy, saved as .npy",
            Op::Axis0Square => "sum along axis 0 of the square 2-D copy, saved as .npy",
            Op::Axis1Square => "sum along axis 1 of the square 2-D copy, saved as .npy",
        }
    }

    /// The mmarray command, for the docs (`IN`, `OUT`, `N`, `T` are placeholders).
    pub(crate) fn mmarray_text(self) -> &'static str {
        match self {
            Op::Create => "create OUT --dtype T --shape N --fill 1.5 --force",
            Op::Normal => "create OUT --dtype T --shape N --random normal --seed 1 --force",
            Op::Sum => "reduce IN --op sum --json",
            Op::Min => "reduce IN --op min --json",
            Op::Max => "reduce IN --op max --json",
            Op::Mean => "reduce IN --op mean --json",
            Op::Std => "reduce IN --op std --json",
            Op::Stats => "stats IN --json",
            Op::SumBe => "reduce IN_BE --op sum --json",
            Op::SumF16 => "reduce IN_F16 --op sum --json",
            Op::Astype => "convert IN OUT --out-dtype float32 --force",
            Op::Axis0Wide => "reduce IN_WIDE --op sum --axis 0 --out OUT --force --json",
            Op::Axis1Wide => "reduce IN_WIDE --op sum --axis 1 --out OUT --force --json",
            Op::Slice => "slice IN_WIDE OUT ::2 --force",
            Op::Axis0Tall => "reduce IN_TALL --op sum --axis 0 --out OUT --force --json",
            Op::Axis1Tall => "reduce IN_TALL --op sum --axis 1 --out OUT --force --json",
            Op::Axis0Square => "reduce IN_SQUARE --op sum --axis 0 --out OUT --force --json",
            Op::Axis1Square => "reduce IN_SQUARE --op sum --axis 1 --out OUT --force --json",
        }
    }

    /// The numpy code it is compared with, for the docs (`a = np.load(IN, mmap_mode="r")`).
    pub(crate) fn numpy_text(self) -> &'static str {
        match self {
            Op::Create => "a = open_memmap(OUT, 'w+', T, (N,)); a[:] = 1.5; a.flush()",
            Op::Normal => {
                "a = open_memmap(OUT, 'w+', T, (N,)); \
                 a[:] = np.random.default_rng(1).standard_normal(a.shape); a.flush()"
            }
            Op::Sum | Op::SumBe => "np.sum(a)",
            Op::Min => "np.min(a)",
            Op::Max => "np.max(a)",
            Op::Mean => "np.mean(a)",
            Op::Std => "np.std(a)",
            Op::Stats => "a.size, np.sum(a), np.mean(a), np.min(a), np.max(a), np.std(a)",
            Op::SumF16 => "np.sum(a, dtype=np.float64)",
            Op::Astype => "o = open_memmap(OUT, 'w+', np.float32, a.shape); o[:] = a; o.flush()",
            Op::Axis0Wide | Op::Axis0Tall | Op::Axis0Square => {
                "np.save(f, np.sum(a, axis=0)); os.fsync(f)"
            }
            Op::Axis1Wide | Op::Axis1Tall | Op::Axis1Square => {
                "np.save(f, np.sum(a, axis=1)); os.fsync(f)"
            }
            Op::Slice => "np.save(f, a[::2]); os.fsync(f)",
        }
    }

    /// The target (set for 4 GiB, in the page cache, 2 threads): issue 4's, with issue 15's
    /// additions (min/max 1.5x and the axis sums of three shapes; the normal fill may meet
    /// either of its two).
    pub(crate) fn target(self) -> Option<Target> {
        let t = |ratio, pct| {
            Some(Target {
                ratio: Some(ratio),
                pct_of_limit: pct,
                either: false,
            })
        };
        match self {
            Op::Sum
            | Op::Mean
            | Op::Min
            | Op::Max
            | Op::Axis0Wide
            | Op::Axis1Wide
            | Op::Axis0Tall
            | Op::Axis1Tall
            | Op::Axis0Square
            | Op::Axis1Square => t(1.5, Some(85.0)),
            Op::Std => t(6.0, None),
            Op::Stats => t(8.0, None),
            Op::SumBe => t(2.0, None),
            Op::SumF16 => t(10.0, None),
            Op::Create => t(1.2, Some(80.0)),
            Op::Normal => Some(Target {
                ratio: Some(6.0),
                pct_of_limit: Some(80.0),
                either: true,
            }),
            Op::Astype => t(1.1, Some(80.0)),
            Op::Slice => None,
        }
    }

    /// Whether numpy needs a temporary as large as the file (std and the normal fill), which
    /// decides whether numpy can run at a size close to RAM.
    pub(crate) fn numpy_full_temporary(self) -> bool {
        matches!(self, Op::Std | Op::Stats | Op::Normal)
    }
}
