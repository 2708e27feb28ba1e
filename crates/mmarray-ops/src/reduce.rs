//! Whole-array reductions: sum, mean, min, max, argmin, argmax, var, std,
//! `count_nonzero` and the one-pass `stats`.

use std::fmt;
use std::str::FromStr;

use mmarray_core::{DynArray, Mode, lowlevel::Advice};
use mmarray_dtype::{Class, Complex64, Native, Value, dispatch};

use crate::data::Input;
use crate::engine::Source;
use crate::exec::with;
use crate::kernels::{
    ArgKernel, CountNonzeroKernel, MinMaxKernel, Moments, MomentsKernel, StatsKernel, SumAcc,
    SumKernel,
};
use crate::num::{Elem, Num};
use crate::{Error, InvalidArgument, Result};

/// A reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Sum: int64 for signed ints and bool, uint64 for unsigned ints (wrapping, as
    /// numpy), float64 for floats, complex128 for complex.
    Sum,
    /// Arithmetic mean (float64, or complex128).
    Mean,
    /// Smallest value, in the array's own type.
    Min,
    /// Largest value, in the array's own type.
    Max,
    /// Flat C-order index of the first smallest value.
    Argmin,
    /// Flat C-order index of the first largest value.
    Argmax,
    /// Variance (float64), `sum(|x - mean|²) / (n - ddof)`.
    Var,
    /// Standard deviation (float64), the square root of [`Op::Var`].
    Std,
}

impl Op {
    /// Every operation, in the order of the CLI contract.
    pub const ALL: [Op; 8] = [
        Op::Sum,
        Op::Mean,
        Op::Min,
        Op::Max,
        Op::Argmin,
        Op::Argmax,
        Op::Var,
        Op::Std,
    ];

    /// The operation's name: `sum`, `mean`, ...
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Op::Sum => "sum",
            Op::Mean => "mean",
            Op::Min => "min",
            Op::Max => "max",
            Op::Argmin => "argmin",
            Op::Argmax => "argmax",
            Op::Var => "var",
            Op::Std => "std",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Op {
    type Err = Error;
    fn from_str(s: &str) -> Result<Op> {
        Op::ALL
            .into_iter()
            .find(|op| op.name() == s)
            .ok_or_else(|| InvalidArgument::UnknownOp { name: s.to_owned() }.into())
    }
}

/// Options of a reduction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReduceOptions {
    /// Ignore NaNs, as numpy's `nansum`, `nanmin`, `nanargmin`, `nanvar`, ...
    pub skipna: bool,
    /// Delta degrees of freedom of `var`/`std` (numpy's `ddof`).
    pub ddof: usize,
}

/// The sum of `acc` as numpy types it for `T`.
pub(crate) fn sum_value<T: Native>(acc: &SumAcc) -> Value {
    match T::KIND.class() {
        Class::Signed | Class::Bool => Value::I64(acc.int as i64),
        Class::Unsigned => Value::U64(acc.int),
        Class::Float => Value::F64(acc.re.value()),
        Class::Complex => Value::C128(Complex64::new(acc.re.value(), acc.im.value())),
    }
}

/// The mean of values of kind `T` from their sum (real and imaginary parts) and
/// count: float64, or complex128 divided as numpy divides complex numbers (a NaN
/// in either part makes both parts NaN).
pub(crate) fn mean_of<T: Native>(re: f64, im: f64, n: f64) -> Value {
    if T::KIND.class() != Class::Complex {
        return Value::F64(re / n);
    }
    if re.is_nan() || im.is_nan() {
        return Value::C128(Complex64::new(f64::NAN, f64::NAN));
    }
    Value::C128(Complex64::new(re / n, im / n))
}

/// The variance from the sum of squared deviations `m2` of `n` values, with
/// `ddof` delta degrees of freedom (NaN for no values, as numpy; infinite when
/// `ddof >= n`).
pub(crate) fn variance(m2: f64, n: u64, ddof: u64) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    m2 / n.saturating_sub(ddof) as f64
}

/// What min, max, argmin and argmax give, from the first NaN and the best other
/// value (each with whatever identifies it: the value, its index), as numpy
/// picks it: the first NaN unless NaNs are skipped; with only NaNs, `nanmin` and
/// `nanmax` give NaN and `nanargmin`/`nanargmax` an error; no values at all are
/// an error.
pub(crate) fn pick<X>(op: Op, skipna: bool, nan: Option<X>, best: Option<X>) -> Result<X> {
    match (nan, best) {
        (Some(nan), _) if !skipna => Ok(nan),
        (_, Some(best)) => Ok(best),
        (Some(_), None) if matches!(op, Op::Argmin | Op::Argmax) => {
            Err(Error::AllNan { op: op.name() })
        }
        (Some(nan), None) => Ok(nan),
        (None, None) => Err(Error::Empty { op: op.name() }),
    }
}

/// The value of `w` in the file's type (exact: `w` came from a `T`).
fn back<T: Elem>(w: T::Work) -> Value {
    w.cast::<T>().to_value()
}

/// Reduces every element of `view` with `op`, in parallel.
///
/// ```
/// use mmarray_core::{Order, View};
/// use mmarray_dtype::{ByteOrder, Value};
/// use mmarray_ops::{Op, ReduceOptions, reduce};
/// let bytes: Vec<u8> = [3.0f64, f64::NAN, 1.0].iter().flat_map(|v| v.to_be_bytes()).collect();
/// let v = View::<f64>::from_bytes(&bytes, &[3], Order::C, ByteOrder::Big)?;
/// let opts = ReduceOptions::default();
/// assert!(matches!(reduce(&v, Op::Min, &opts)?, Value::F64(x) if x.is_nan()));
/// let skip = ReduceOptions { skipna: true, ..opts };
/// assert_eq!(reduce(&v, Op::Min, &skip)?, Value::F64(1.0));
/// assert_eq!(reduce(&v, Op::Argmax, &skip)?, Value::I64(0));
/// # Ok::<(), mmarray_ops::Error>(())
/// ```
pub fn reduce<T: Elem>(view: &impl Input<T>, op: Op, opts: &ReduceOptions) -> Result<Value> {
    with(|_| reduce_source::<T>(&view.data(), op, opts))
}

/// [`reduce`] over any [`Source`]: the one place where an [`Op`] picks its
/// kernel and turns the kernel's result into numpy's value.
pub(crate) fn reduce_source<T: Elem>(
    view: &impl Source<T>,
    op: Op,
    opts: &ReduceOptions,
) -> Result<Value> {
    let skip = opts.skipna;
    Ok(match op {
        Op::Sum => {
            let acc = if skip {
                view.run(&SumKernel::<true, false>)?
            } else {
                view.run(&SumKernel::<false, false>)?
            };
            sum_value::<T>(&acc)
        }
        Op::Mean => {
            let acc = if skip {
                view.run(&SumKernel::<true, true>)?
            } else {
                view.run(&SumKernel::<false, true>)?
            };
            mean_of::<T>(acc.re.value(), acc.im.value(), acc.count as f64)
        }
        Op::Min => {
            let acc = view.run(&MinMaxKernel::<true, false>)?;
            back::<T>(pick(op, skip, acc.nan, acc.min)?)
        }
        Op::Max => {
            let acc = view.run(&MinMaxKernel::<false, true>)?;
            back::<T>(pick(op, skip, acc.nan, acc.max)?)
        }
        Op::Argmin | Op::Argmax => {
            let (best, nan) = if op == Op::Argmin {
                let a = view.run(&ArgKernel::<false>)?;
                (a.best.map(|b| b.1), a.nan)
            } else {
                let a = view.run(&ArgKernel::<true>)?;
                (a.best.map(|b| b.1), a.nan)
            };
            Value::I64(pick(op, skip, nan, best)? as i64)
        }
        Op::Var | Op::Std => {
            let m: Moments = if skip {
                view.run(&MomentsKernel::<true>)?
            } else {
                view.run(&MomentsKernel::<false>)?
            };
            let var = variance(m.m2, m.n, opts.ddof as u64);
            Value::F64(if op == Op::Std { var.sqrt() } else { var })
        }
    })
}

/// Number of non-zero elements (NaN counts as non-zero), as `np.count_nonzero`.
pub fn count_nonzero<T: Elem>(view: &impl Input<T>) -> Result<u64> {
    let data = view.data();
    with(|_| data.run(&CountNonzeroKernel))
}

/// Everything `mmarray stats` reports, from one pass over the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Number of values used (without NaNs when skipping them).
    pub count: u64,
    /// Sum, typed as [`Op::Sum`].
    pub sum: Value,
    /// Mean, typed as [`Op::Mean`].
    pub mean: Value,
    /// Smallest value (`None` when there is none).
    pub min: Option<Value>,
    /// Largest value (`None` when there is none).
    pub max: Option<Value>,
    /// Standard deviation (ddof 0).
    pub std: Value,
}

/// Count, sum, mean, min, max and std in one parallel pass.
pub fn stats<T: Elem>(view: &impl Input<T>, skipna: bool) -> Result<Stats> {
    let data = view.data();
    let acc = with(|_| {
        if skipna {
            data.run(&StatsKernel::<true>)
        } else {
            data.run(&StatsKernel::<false>)
        }
    })?;
    // No values: no extremes (the only error `pick` gives min and max).
    let extreme = |op, best| pick(op, skipna, acc.minmax.nan, best).ok().map(back::<T>);
    let m = acc.moments;
    let mean = mean_of::<T>(m.sum.0.value(), m.sum.1.value(), m.n as f64);
    Ok(Stats {
        count: m.n,
        sum: if <T::Work as Num>::FLOAT {
            // The stats kernel sums floats in the moments only.
            sum_value::<T>(&SumAcc {
                re: m.sum.0,
                im: m.sum.1,
                ..SumAcc::default()
            })
        } else {
            sum_value::<T>(&acc.sum)
        },
        mean,
        min: extreme(Op::Min, acc.minmax.min),
        max: extreme(Op::Max, acc.minmax.max),
        std: Value::F64(variance(m.m2, m.n, 0).sqrt()),
    })
}

/// [`reduce`] over a whole array whose dtype is known at run time.
pub fn reduce_array<M: Mode>(array: &DynArray<M>, op: Op, opts: &ReduceOptions) -> Result<Value> {
    array.advise(Advice::Sequential);
    dispatch!(array.dtype().kind(), T => reduce(&array.view::<T>()?, op, opts))
}

/// [`stats`] over a whole array whose dtype is known at run time.
pub fn stats_array<M: Mode>(array: &DynArray<M>, skipna: bool) -> Result<Stats> {
    array.advise(Advice::Sequential);
    dispatch!(array.dtype().kind(), T => stats(&array.view::<T>()?, skipna))
}
