//! Exact partial sums for `mmarray.dask`: per chunk, the sum of the values and
//! of their squares as non-overlapping float expansions (Shewchuk), which add up
//! to the exact sums. Merging the expansions of all chunks and rounding once
//! gives the same bits whatever the chunking and the number of workers.

use numpy::PyReadonlyArrayDyn;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use rayon::prelude::*;

/// Adds `x` exactly to the expansion `partials` (Shewchuk's grow-expansion, as
/// Python's `math.fsum`).
fn grow(partials: &mut Vec<f64>, mut x: f64) {
    let mut i = 0;
    for j in 0..partials.len() {
        let mut y = partials[j];
        if x.abs() < y.abs() {
            std::mem::swap(&mut x, &mut y);
        }
        let hi = x + y;
        let lo = y - (hi - x);
        if lo != 0.0 {
            partials[i] = lo;
            i += 1;
        }
        x = hi;
    }
    partials.truncate(i);
    partials.push(x);
}

/// An exact sum kept as expansions at fixed scales: `tiers[i]` holds values
/// multiplied by `2^-SCALES[i]`, so that neither the values nor their running
/// sums overflow, and no value loses a bit to underflow.
struct Scaled<const N: usize> {
    tiers: [Vec<f64>; N],
}

impl<const N: usize> Default for Scaled<N> {
    fn default() -> Self {
        Scaled {
            tiers: std::array::from_fn(|_| Vec::new()),
        }
    }
}

impl<const N: usize> Scaled<N> {
    /// The expansions as `(scale, partials)`: the exact sum is that of
    /// `partial * 2^scale` over all of them.
    fn into_parts(self, scales: [i32; N]) -> Vec<(i32, Vec<f64>)> {
        scales.into_iter().zip(self.tiers).collect()
    }

    fn merge(&mut self, other: Scaled<N>) {
        for (mine, theirs) in self.tiers.iter_mut().zip(other.tiers) {
            for x in theirs {
                grow(mine, x);
            }
        }
    }
}

/// Scales of the sum's tiers: values of at least 2^-900 are added times 2^-64
/// (below 2^960, so the sum of even 2^63 of them stays finite; at least
/// 2^-964, still normal, so nothing is rounded), smaller ones as they are.
const SUM_SCALES: [i32; 2] = [0, 64];
/// Scales of the sum of squares' tiers: `|x| < 2^-400` is squared times 2^600
/// (its square, at least 2^-948 with every bit above 2^-1074, is exact with
/// its fma error), `|x| >= 2^400` times 2^-600 (square below 2^848), others as
/// they are (square below 2^800): no square, error term or sum of 2^63 of
/// them overflows or underflows.
const SQ_SCALES: [i32; 3] = [-1200, 0, 1200];

/// Exact `(sum, sum of squares)` expansions and the counts of non-finite values
/// of a run of values, each given as exact float parts `(hi, lo)`.
#[derive(Default)]
struct Acc {
    count: u64,
    nan: u64,
    posinf: u64,
    neginf: u64,
    sum: Scaled<2>,
    sq: Scaled<3>,
}

impl Acc {
    fn add(&mut self, hi: f64, lo: f64) {
        self.count += 1;
        if hi.is_nan() {
            self.nan += 1;
            return;
        }
        if hi.is_infinite() {
            if hi > 0.0 {
                self.posinf += 1;
            } else {
                self.neginf += 1;
            }
            return;
        }
        for x in [hi, lo] {
            if x == 0.0 {
                continue;
            }
            if x.abs() >= 2f64.powi(-900) {
                grow(&mut self.sum.tiers[1], x * 2f64.powi(-64));
            } else {
                grow(&mut self.sum.tiers[0], x);
            }
        }
        // The tier of the squares, and the factor that scales `x` into it
        // (`(x * f)^2` is `x^2 / 2^scale`). Integers (`lo` not zero) are below
        // 2^64: their squares go to the middle tier.
        let (tier, f) = if hi.abs() < 2f64.powi(-400) {
            (0, 2f64.powi(600))
        } else if hi.abs() >= 2f64.powi(400) {
            (2, 2f64.powi(-600))
        } else {
            (1, 1.0)
        };
        let (hi, lo) = (hi * f, lo * f);
        // (hi + lo)^2 = hi*hi + 2*hi*lo + lo*lo, each product split exactly (fma).
        for (a, b) in [(hi, hi), (2.0 * hi, lo), (lo, lo)] {
            if a == 0.0 || b == 0.0 {
                continue;
            }
            let p = a * b;
            let e = a.mul_add(b, -p);
            grow(&mut self.sq.tiers[tier], p);
            if e != 0.0 {
                grow(&mut self.sq.tiers[tier], e);
            }
        }
    }

    fn merge(mut self, other: Acc) -> Acc {
        self.count += other.count;
        self.nan += other.nan;
        self.posinf += other.posinf;
        self.neginf += other.neginf;
        self.sum.merge(other.sum);
        self.sq.merge(other.sq);
        self
    }
}

fn acc_of<T: Copy + Sync>(values: &[T], parts: impl Fn(T) -> (f64, f64) + Sync) -> Acc {
    values
        .par_chunks(1 << 16)
        .map(|c| {
            let mut acc = Acc::default();
            for &v in c {
                let (hi, lo) = parts(v);
                acc.add(hi, lo);
            }
            acc
        })
        .collect::<Vec<_>>()
        .into_iter()
        .fold(Acc::default(), Acc::merge)
}

/// Exact float parts of an integer.
fn int_parts(v: i128) -> (f64, f64) {
    let hi = v as f64;
    // |v - hi| < 2^11 for |v| < 2^64: exact in f64.
    let lo = (v - hi as i128) as f64;
    (hi, lo)
}

/// Exact sums as `(scale, partials)` pairs: the sum of `partial * 2^scale`.
type Parts = Vec<(i32, Vec<f64>)>;

/// `(count, nan, posinf, neginf, sum parts, squares parts)` of a C-contiguous
/// numpy array of float64, int64 or uint64: the exact sums of the values and of
/// their squares (without NaNs and infinities, which are counted), each as
/// `(scale, partials)` pairs whose `partial * 2**scale` add up to it (scaled so
/// that no partial overflows or is rounded, whatever the values).
#[pyfunction]
#[allow(clippy::type_complexity)]
pub(crate) fn exact_partials(
    py: Python<'_>,
    arr: &Bound<'_, PyAny>,
) -> PyResult<(u64, u64, u64, u64, Parts, Parts)> {
    let acc = if let Ok(a) = arr.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        let Ok(s) = a.as_slice() else {
            return Err(PyTypeError::new_err("expected a C-contiguous array"));
        };
        py.detach(|| acc_of(s, |v| (v, 0.0)))
    } else if let Ok(a) = arr.extract::<PyReadonlyArrayDyn<'_, i64>>() {
        let Ok(s) = a.as_slice() else {
            return Err(PyTypeError::new_err("expected a C-contiguous array"));
        };
        py.detach(|| acc_of(s, |v| int_parts(i128::from(v))))
    } else if let Ok(a) = arr.extract::<PyReadonlyArrayDyn<'_, u64>>() {
        let Ok(s) = a.as_slice() else {
            return Err(PyTypeError::new_err("expected a C-contiguous array"));
        };
        py.detach(|| acc_of(s, |v| int_parts(i128::from(v))))
    } else {
        return Err(PyTypeError::new_err(
            "exact_partials takes a numpy array of float64, int64 or uint64",
        ));
    };
    Ok((
        acc.count,
        acc.nan,
        acc.posinf,
        acc.neginf,
        acc.sum.into_parts(SUM_SCALES),
        acc.sq.into_parts(SQ_SCALES),
    ))
}
