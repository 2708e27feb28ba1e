//! Reductions along one axis of an array, into memory or into a new `.npy` file.

use std::mem::size_of;
use std::path::Path;

use mmarray_core::{CreateOptions, DynArray, Mode, Order, View};
use mmarray_dtype::{ByteOrder, Class, Complex64, DType, Kind, Native, Value, decode, dispatch};
use rayon::prelude::*;

use crate::engine::advance;
use crate::num::{Elem, Num};
use crate::reduce::{Op, ReduceOptions, reduce};
use crate::{Error, Result};

/// Fewest outputs per tile of the elementwise path.
const TILE: usize = 4096;

/// Outputs per tile of the elementwise path: about two tiles per thread, so that
/// each row is read in long stretches, within `TILE..=4 * TILE` (the accumulators
/// stay in L2). Results do not depend on it: each output adds its own values in
/// axis order.
fn tile_width(inner: usize) -> usize {
    inner
        .div_ceil(2 * rayon::current_num_threads())
        .clamp(TILE, 4 * TILE)
}

/// The dtype numpy gives the result of `op` over elements of `kind`.
#[must_use]
pub fn result_kind(op: Op, kind: Kind) -> Kind {
    match (op, kind.class()) {
        (Op::Sum, Class::Signed | Class::Bool) | (Op::Argmin | Op::Argmax, _) => Kind::I64,
        (Op::Sum, Class::Unsigned) => Kind::U64,
        (Op::Sum | Op::Mean, Class::Complex) => Kind::C128,
        (Op::Sum | Op::Mean | Op::Var | Op::Std, _) => Kind::F64,
        (Op::Min | Op::Max, _) => kind,
    }
}

/// The result of an axis reduction held in memory: native-endian elements in the
/// source array's memory order.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisResult {
    /// Element type (native byte order).
    pub dtype: DType,
    /// Shape: the source shape without the reduced axis.
    pub shape: Vec<usize>,
    /// Memory order of `data` (that of the source array).
    pub order: Order,
    /// The elements' bytes.
    pub data: Vec<u8>,
}

/// `(outer, n, inner)`: the array in memory as `outer` blocks of `n` entries of the
/// axis, each `inner` contiguous elements long.
fn plan(shape: &[usize], order: Order, axis: usize) -> (usize, usize, usize) {
    let (before, after): (usize, usize) = (
        shape[..axis].iter().product(),
        shape[axis + 1..].iter().product(),
    );
    match order {
        Order::C => (before, shape[axis], after),
        Order::F => (after, shape[axis], before),
    }
}

fn normalize_axis(axis: isize, ndim: usize) -> Result<usize> {
    let n = ndim as isize;
    let a = if axis < 0 { axis + n } else { axis };
    if a < 0 || a >= n {
        return Err(Error::Invalid(format!(
            "axis {axis} is out of bounds for an array of dimension {ndim}"
        )));
    }
    Ok(a as usize)
}

/// Encodes `v` as native bytes into `out` (exactly its item size).
fn put(v: Value, out: &mut [u8]) {
    dispatch!(v.kind(), O => out.copy_from_slice(bytemuck::bytes_of(&v.cast::<O>())));
}

/// Per-element accumulator of the elementwise (tiled) path.
#[derive(Debug, Clone, Copy)]
struct Acc<W> {
    /// Wrapping integer sum, or count of used values.
    int: u64,
    count: u64,
    re: f64,
    im: f64,
    m2: f64,
    best: Option<(W, usize)>,
    nan: Option<(W, usize)>,
}

impl<W: Num> Acc<W> {
    const EMPTY: Self = Acc {
        int: 0,
        count: 0,
        re: 0.0,
        im: 0.0,
        m2: 0.0,
        best: None,
        nan: None,
    };

    #[inline]
    #[allow(clippy::many_single_char_names)] // x, j, r, i, c: value, index, parts, count
    fn update(&mut self, op: Op, skip: bool, x: W, j: usize) {
        let nan = W::FLOAT && x.is_nan();
        if nan && self.nan.is_none() {
            self.nan = Some((x, j));
        }
        match op {
            Op::Sum | Op::Mean if !W::FLOAT && op == Op::Sum => {
                self.int = self.int.wrapping_add(match W::KIND.class() {
                    Class::Signed => x.to_i64() as u64,
                    _ => x.to_u64(),
                });
            }
            Op::Sum | Op::Mean => {
                if !(skip && nan) {
                    let (r, i) = x.parts();
                    self.re += r;
                    self.im += i;
                    self.count += 1;
                }
            }
            Op::Min | Op::Max | Op::Argmin | Op::Argmax => {
                if !nan {
                    let better = match self.best {
                        None => true,
                        Some((b, _)) => {
                            if matches!(op, Op::Min | Op::Argmin) {
                                x.lt(b)
                            } else {
                                b.lt(x)
                            }
                        }
                    };
                    if better {
                        self.best = Some((x, j));
                    }
                }
            }
            Op::Var | Op::Std => {
                if !(skip && nan) {
                    // Welford's update, on real and imaginary parts.
                    let (r, i) = x.parts();
                    self.count += 1;
                    let c = self.count as f64;
                    let (dr, di) = (r - self.re, i - self.im);
                    self.re += dr / c;
                    self.im += di / c;
                    self.m2 += dr * (r - self.re) + di * (i - self.im);
                }
            }
        }
    }

    fn finish<T: Elem<Work = W>>(&self, op: Op, opts: &ReduceOptions, n: usize) -> Result<Value> {
        let skip = opts.skipna;
        Ok(match op {
            Op::Sum if !W::FLOAT => match W::KIND.class() {
                Class::Unsigned => Value::U64(self.int),
                _ => Value::I64(self.int as i64),
            },
            Op::Sum if W::COMPLEX => Value::C128(Complex64::new(self.re, self.im)),
            Op::Sum => Value::F64(self.re),
            Op::Mean => {
                let c = if skip { self.count } else { n as u64 } as f64;
                if W::COMPLEX {
                    crate::reduce::complex_mean(self.re, self.im, c)
                } else {
                    Value::F64(self.re / c)
                }
            }
            Op::Min | Op::Max | Op::Argmin | Op::Argmax => {
                let arg = matches!(op, Op::Argmin | Op::Argmax);
                let pick = match (self.nan, self.best) {
                    (Some(nan), _) if !skip => nan,
                    (_, Some(best)) => best,
                    (Some(_), None) if arg => return Err(Error::AllNan { op: op.name() }),
                    (Some(nan), None) => nan,
                    (None, None) => return Err(Error::Empty { op: op.name() }),
                };
                if arg {
                    Value::I64(pick.1 as i64)
                } else {
                    pick.0.cast::<T>().to_value()
                }
            }
            Op::Var | Op::Std => {
                let var = if self.count == 0 {
                    f64::NAN
                } else {
                    self.m2 / self.count.saturating_sub(opts.ddof as u64) as f64
                };
                Value::F64(if op == Op::Std { var.sqrt() } else { var })
            }
        })
    }
}

/// Reduces the contiguous array `data` (dtype `T` in `order`, logical `shape`)
/// along `axis` into `out` (native elements of [`result_kind`], in the same memory
/// order).
#[allow(clippy::too_many_arguments)] // a private helper called from two places
fn reduce_axis_bytes<T: Elem>(
    data: &[u8],
    byte_order: ByteOrder,
    shape: &[usize],
    order: Order,
    axis: usize,
    op: Op,
    opts: &ReduceOptions,
    out: &mut [u8],
) -> Result<()> {
    let (_, n, inner) = plan(shape, order, axis);
    let tile = tile_width(inner);
    let osize = result_kind(op, T::KIND).itemsize();
    let isize_ = size_of::<T>();
    // As numpy: an empty axis is an error for reductions without identity, even
    // when the result is empty too.
    if n == 0 && matches!(op, Op::Min | Op::Max | Op::Argmin | Op::Argmax) {
        return Err(Error::Empty { op: op.name() });
    }
    if out.is_empty() {
        return Ok(());
    }
    if inner == 1 {
        // Each output reduces one contiguous row: the whole-array kernels apply.
        return out
            .par_chunks_mut(osize * 64)
            .enumerate()
            .try_for_each(|(c, outs)| {
                for (r, slot) in outs.chunks_mut(osize).enumerate() {
                    let o = c * 64 + r;
                    let row = &data[o * n * isize_..(o + 1) * n * isize_];
                    let view = View::<T>::from_bytes(row, &[n], Order::C, byte_order)?;
                    put(reduce(&view, op, opts)?, slot);
                }
                Ok(())
            });
    }
    out.par_chunks_mut(inner * osize)
        .enumerate()
        .try_for_each(|(o, out_row)| {
            out_row
                .par_chunks_mut(tile * osize)
                .enumerate()
                .try_for_each(|(t, out_tile)| {
                    let width = out_tile.len() / osize;
                    let at = |j: usize| ((o * n + j) * inner + t * tile) * isize_;
                    if matches!(op, Op::Sum | Op::Mean)
                        && !<T::Work as Num>::COMPLEX
                        && !(opts.skipna && <T::Work as Num>::FLOAT)
                    {
                        sum_tile::<T>(data, byte_order, n, width, at, op, out_tile);
                        return Ok(());
                    }
                    let mut accs = vec![Acc::<T::Work>::EMPTY; width];
                    let mut raw = vec![T::zeroed(); width];
                    let mut work = vec![<T::Work as bytemuck::Zeroable>::zeroed(); width];
                    for j in 0..n {
                        let start = ((o * n + j) * inner + t * tile) * isize_;
                        let bytes = &data[start..start + width * isize_];
                        let _ = decode(bytes, byte_order, &mut raw);
                        T::widen(&raw, &mut work);
                        for (a, &x) in accs.iter_mut().zip(&work) {
                            a.update(op, opts.skipna, x, j);
                        }
                    }
                    advance(n * width * isize_);
                    for (a, slot) in accs.iter().zip(out_tile.chunks_mut(osize)) {
                        put(a.finish::<T>(op, opts, n)?, slot);
                    }
                    Ok(())
                })
        })
}

/// The fast path of sums and means of real values along a non-contiguous axis:
/// one accumulator per output, added row by row (in axis order, as numpy does),
/// reading native data in place.
fn sum_tile<T: Elem>(
    data: &[u8],
    byte_order: ByteOrder,
    n: usize,
    width: usize,
    at: impl Fn(usize) -> usize,
    op: Op,
    out: &mut [u8],
) {
    let isize_ = size_of::<T>();
    let ints = !<T::Work as Num>::FLOAT && op == Op::Sum;
    let mut accf = vec![0.0f64; if ints { 0 } else { width }];
    let mut acci = vec![0u64; if ints { width } else { 0 }];
    let mut raw = vec![T::zeroed(); width];
    let mut work = vec![<T::Work as bytemuck::Zeroable>::zeroed(); width];
    for j in 0..n {
        let bytes = &data[at(j)..at(j) + width * isize_];
        let direct = if !T::WIDEN && byte_order.is_native() {
            bytemuck::try_cast_slice::<u8, T::Work>(bytes).ok()
        } else {
            None
        };
        let values: &[T::Work] = if let Some(v) = direct {
            v
        } else {
            let _ = decode(bytes, byte_order, &mut raw);
            T::widen(&raw, &mut work);
            &work
        };
        if ints {
            let signed = T::KIND.class() == Class::Signed;
            for (a, &x) in acci.iter_mut().zip(values) {
                *a = a.wrapping_add(if signed {
                    x.to_i64() as u64
                } else {
                    x.to_u64()
                });
            }
        } else {
            for (a, &x) in accf.iter_mut().zip(values) {
                *a += x.parts().0;
            }
        }
    }
    advance(n * width * isize_);
    let osize = out.len() / width.max(1);
    for (k, slot) in out.chunks_mut(osize).enumerate() {
        let v = if ints {
            if T::KIND.class() == Class::Unsigned {
                Value::U64(acci[k])
            } else {
                Value::I64(acci[k] as i64)
            }
        } else if op == Op::Mean {
            Value::F64(accf[k] / n as f64)
        } else {
            Value::F64(accf[k])
        };
        put(v, slot);
    }
}

/// Reduces `array` along `axis` (negative counts from the end) into memory.
///
/// The result has the array's memory order; argmin/argmax give indices along the
/// axis. Sums along the contiguous axis use the same accurate kernels as whole-array
/// sums; along other axes values are added in axis order, as numpy does.
pub fn reduce_axis<M: Mode>(
    array: &DynArray<M>,
    op: Op,
    axis: isize,
    opts: &ReduceOptions,
) -> Result<AxisResult> {
    let axis = normalize_axis(axis, array.ndim())?;
    let kind = result_kind(op, array.dtype().kind());
    let mut shape = array.shape().to_vec();
    shape.remove(axis);
    // The result can be far larger than the input (a zero-length axis makes an
    // empty array of any width): refuse what cannot be allocated instead of aborting.
    let too_large = || {
        Error::Invalid(format!(
            "the result of {} along axis {axis} has shape {shape:?} of {}: too large for memory \
             (write it to a file instead)",
            op.name(),
            DType::native(kind)
        ))
    };
    let bytes = shape
        .iter()
        .try_fold(kind.itemsize(), |acc, &n| acc.checked_mul(n))
        .ok_or_else(too_large)?;
    let mut data = Vec::new();
    data.try_reserve_exact(bytes).map_err(|_| too_large())?;
    data.resize(bytes, 0u8);
    dispatch!(array.dtype().kind(), T => reduce_axis_bytes::<T>(
        array.bytes(), array.dtype().byte_order(), array.shape(), array.order(), axis, op, opts, &mut data,
    ))?;
    Ok(AxisResult {
        dtype: DType::native(kind),
        shape,
        order: array.order(),
        data,
    })
}

/// Reduces `array` along `axis` into a new `.npy` file at `out`, written under a
/// temporary name and renamed when complete; replaces an existing file only if
/// `overwrite`. Memory use does not grow with the size of the array.
pub fn reduce_axis_to_npy<M: Mode>(
    array: &DynArray<M>,
    op: Op,
    axis: isize,
    opts: &ReduceOptions,
    out: &Path,
    overwrite: bool,
) -> Result<()> {
    let axis = normalize_axis(axis, array.ndim())?;
    let kind = result_kind(op, array.dtype().kind());
    let mut shape = array.shape().to_vec();
    shape.remove(axis);
    if !overwrite && out.exists() {
        return Err(mmarray_core::Error::Exists {
            path: out.to_owned(),
        }
        .into());
    }
    // SAFETY: the staged file is new and private to this call until it is renamed.
    let mut dst = unsafe {
        DynArray::create_staged(
            out,
            DType::native(kind),
            &shape,
            array.order(),
            &CreateOptions::new(),
        )
    }?;
    array.advise(mmarray_core::Advice::Sequential);
    dispatch!(array.dtype().kind(), T => reduce_axis_bytes::<T>(
        array.bytes(), array.dtype().byte_order(), array.shape(), array.order(), axis, op, opts, dst.bytes_mut(),
    ))?;
    dst.persist(overwrite)?.close()?;
    Ok(())
}
