//! Whole-array reductions: sum, mean, min, max, argmin, argmax, var, std,
//! `count_nonzero` and the one-pass `stats`.

use std::fmt;
use std::str::FromStr;

use mmarray_core::{Advice, DynArray, Mode, View};
use mmarray_dtype::{Class, Complex64, Native, Value, dispatch};

use crate::engine::reduce_view;
use crate::kernels::{
    ArgKernel, CountNonzeroKernel, MinMaxKernel, Moments, MomentsKernel, StatsKernel, SumAcc,
    SumKernel,
};
use crate::num::{Elem, Num};
use crate::{Error, Result};

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
            .ok_or_else(|| Error::Invalid(format!("unknown operation {s:?}: expected one of sum, mean, min, max, argmin, argmax, var, std")))
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

/// A complex sum divided by a count as numpy divides it: as complex numbers, so a
/// NaN in either part makes both parts NaN.
pub(crate) fn complex_mean(re: f64, im: f64, n: f64) -> Value {
    if re.is_nan() || im.is_nan() {
        return Value::C128(Complex64::new(f64::NAN, f64::NAN));
    }
    Value::C128(Complex64::new(re / n, im / n))
}

/// The mean from a float sum and count.
pub(crate) fn mean_value<T: Native>(acc: &SumAcc) -> Value {
    let n = acc.count as f64;
    if T::KIND.class() == Class::Complex {
        complex_mean(acc.re.value(), acc.im.value(), n)
    } else {
        Value::F64(acc.re.value() / n)
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
pub fn reduce<T: Elem>(view: &View<'_, T>, op: Op, opts: &ReduceOptions) -> Result<Value> {
    let skip = opts.skipna;
    Ok(match op {
        Op::Sum => {
            let acc = if skip {
                reduce_view(view, &SumKernel::<true, false>)
            } else {
                reduce_view(view, &SumKernel::<false, false>)
            };
            sum_value::<T>(&acc)
        }
        Op::Mean => {
            let acc = if skip {
                reduce_view(view, &SumKernel::<true, true>)
            } else {
                reduce_view(view, &SumKernel::<false, true>)
            };
            mean_value::<T>(&acc)
        }
        Op::Min | Op::Max => {
            let acc = reduce_view(view, &MinMaxKernel);
            let best = if op == Op::Min { acc.min } else { acc.max };
            match (acc.nan, best) {
                (Some(nan), _) if !skip => back::<T>(nan),
                (_, Some(v)) => back::<T>(v),
                (Some(nan), None) => back::<T>(nan),
                (None, None) => return Err(Error::Empty { op: op.name() }),
            }
        }
        Op::Argmin | Op::Argmax => {
            let (best, nan) = if op == Op::Argmin {
                let a = reduce_view(view, &ArgKernel::<false>);
                (a.best.map(|b| b.1), a.nan)
            } else {
                let a = reduce_view(view, &ArgKernel::<true>);
                (a.best.map(|b| b.1), a.nan)
            };
            let index = match (nan, best) {
                (Some(i), _) if !skip => i,
                (_, Some(i)) => i,
                (Some(_), None) => return Err(Error::AllNan { op: op.name() }),
                (None, None) => return Err(Error::Empty { op: op.name() }),
            };
            Value::I64(index as i64)
        }
        Op::Var | Op::Std => {
            let m: Moments = if skip {
                reduce_view(view, &MomentsKernel::<true>)
            } else {
                reduce_view(view, &MomentsKernel::<false>)
            };
            let var = m.var(opts.ddof as u64);
            Value::F64(if op == Op::Std { var.sqrt() } else { var })
        }
    })
}

/// Number of non-zero elements (NaN counts as non-zero), as `np.count_nonzero`.
#[must_use]
pub fn count_nonzero<T: Elem>(view: &View<'_, T>) -> u64 {
    reduce_view(view, &CountNonzeroKernel)
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
pub fn stats<T: Elem>(view: &View<'_, T>, skipna: bool) -> Result<Stats> {
    let acc = if skipna {
        reduce_view(view, &StatsKernel::<true>)
    } else {
        reduce_view(view, &StatsKernel::<false>)
    };
    let pick = |best: Option<T::Work>| match (acc.minmax.nan, best) {
        (Some(nan), _) if !skipna => Some(back::<T>(nan)),
        (_, Some(v)) => Some(back::<T>(v)),
        (Some(nan), None) => Some(back::<T>(nan)),
        (None, None) => None,
    };
    let m = acc.moments;
    let n = m.n as f64;
    let mean = if T::KIND.class() == Class::Complex {
        complex_mean(m.sum.0.value(), m.sum.1.value(), n)
    } else {
        Value::F64(m.sum.0.value() / n)
    };
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
        min: pick(acc.minmax.min),
        max: pick(acc.minmax.max),
        std: Value::F64(m.var(0).sqrt()),
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
