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

/// Exact `(sum, sum of squares)` expansions and the counts of non-finite values
/// of a run of values, each given as exact float parts `(hi, lo)`.
#[derive(Default)]
struct Acc {
    count: u64,
    nan: u64,
    posinf: u64,
    neginf: u64,
    sum: Vec<f64>,
    sq: Vec<f64>,
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
        grow(&mut self.sum, hi);
        if lo != 0.0 {
            grow(&mut self.sum, lo);
        }
        // (hi + lo)^2 = hi*hi + 2*hi*lo + lo*lo, each product split exactly (fma).
        for (a, b) in [(hi, hi), (2.0 * hi, lo), (lo, lo)] {
            if a == 0.0 || b == 0.0 {
                continue;
            }
            let p = a * b;
            let e = a.mul_add(b, -p);
            grow(&mut self.sq, p);
            if e != 0.0 {
                grow(&mut self.sq, e);
            }
        }
    }

    fn merge(mut self, other: Acc) -> Acc {
        self.count += other.count;
        self.nan += other.nan;
        self.posinf += other.posinf;
        self.neginf += other.neginf;
        for x in other.sum {
            grow(&mut self.sum, x);
        }
        for x in other.sq {
            grow(&mut self.sq, x);
        }
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

/// `(count, nan, posinf, neginf, sum partials, squares partials)` of a C-contiguous
/// numpy array of float64, int64 or uint64: the exact sums of the values and of
/// their squares (without NaNs and infinities, which are counted) as lists of
/// floats whose exact sum they are.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub(crate) fn exact_partials(
    py: Python<'_>,
    arr: &Bound<'_, PyAny>,
) -> PyResult<(u64, u64, u64, u64, Vec<f64>, Vec<f64>)> {
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
    Ok((acc.count, acc.nan, acc.posinf, acc.neginf, acc.sum, acc.sq))
}
