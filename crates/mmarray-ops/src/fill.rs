//! Parallel fills: a constant, `arange`, a function of the flat index, and random
//! numbers that are the same for a seed whatever the number of threads.

use std::mem::size_of;

use mmarray_core::{
    DynArray, Spec, Writable,
    lowlevel::{Piece, Runs},
};
use mmarray_dtype::{
    ByteOrder, Class, Element, Kind, Native, Value, byteswap, dispatch, encode_prefix,
};

use crate::data::Target;
use crate::engine::BLOCK;
use crate::exec::with;
use crate::rng::Draws;
use crate::{InvalidArgument, Result};

/// Sets every element of `view` to `value`, in parallel.
///
/// ```
/// use mmarray_core::{Order, ViewMut};
/// use mmarray_dtype::ByteOrder;
/// let mut bytes = vec![0u8; 6 * 4];
/// let v = ViewMut::<f32>::from_bytes(&mut bytes, &[2, 3], Order::C, ByteOrder::Big)?;
/// mmarray_ops::fill(v.into_slice(":, 1")?, 2.5);
/// assert_eq!(f32::from_be_bytes(bytes[4..8].try_into().unwrap()), 2.5);
/// # Ok::<(), mmarray_core::Error>(())
/// ```
///
/// A [`ChunkedViewMut`](mmarray_core::chunk::ChunkedViewMut) target gives a
/// `Result` (its chunks are stored); a [`ViewMut`](mmarray_core::ViewMut) cannot fail.
pub fn fill<T: Element, V: Target<T>>(view: V, value: T) -> V::Out {
    let mut pattern = value;
    if !view.target_dtype().is_native() {
        byteswap(std::slice::from_mut(&mut pattern));
    }
    with(move |_| {
        view.write_pieces(
            &|_: &Runs, _: Piece, bytes: &mut [u8]| match bytemuck::try_cast_slice_mut::<u8, T>(
                bytes,
            ) {
                Ok(values) => values.fill(pattern),
                Err(_) => {
                    for chunk in bytes.chunks_exact_mut(size_of::<T>()) {
                        chunk.copy_from_slice(bytemuck::bytes_of(&pattern));
                    }
                }
            },
        )
    })
}

/// Writes `f(i)` into the elements of one piece, `i` being each element's position
/// within the piece; encodes into the file's byte order.
#[inline]
fn write_piece<T: Element>(bytes: &mut [u8], order: ByteOrder, mut f: impl FnMut(usize) -> T) {
    if order.is_native()
        && let Ok(values) = bytemuck::try_cast_slice_mut::<u8, T>(bytes)
    {
        for (j, v) in values.iter_mut().enumerate() {
            *v = f(j);
        }
        return;
    }
    let mut buf = [T::zeroed(); BLOCK];
    for (b, chunk) in bytes.chunks_mut(BLOCK * size_of::<T>()).enumerate() {
        let n = chunk.len() / size_of::<T>();
        for (j, v) in buf[..n].iter_mut().enumerate() {
            *v = f(b * BLOCK + j);
        }
        encode_prefix(&buf[..n], order, chunk);
    }
}

/// Sets each element to `f(i)`, `i` being its flat logical C-order index (its
/// position in `ravel()`), in parallel.
///
/// ```
/// use mmarray_core::{Order, ViewMut};
/// use mmarray_dtype::ByteOrder;
/// let mut bytes = vec![0u8; 6];
/// let v = ViewMut::<u8>::from_bytes(&mut bytes, &[2, 3], Order::F, ByteOrder::Little)?;
/// mmarray_ops::fill_with(v, |i| i as u8 * 10);
/// assert_eq!(bytes, [0, 30, 10, 40, 20, 50]); // F order in memory
/// # Ok::<(), mmarray_core::Error>(())
/// ```
pub fn fill_with<T: Element, V: Target<T>>(view: V, f: impl Fn(usize) -> T + Sync) -> V::Out {
    let order = view.target_dtype().byte_order();
    let f = &f;
    with(move |_| {
        view.write_pieces(&|runs: &Runs, piece: Piece, bytes: &mut [u8]| {
            if runs.is_c_linear() {
                let base = runs.c_index(piece.run, piece.start);
                write_piece(bytes, order, |j| f(base + j));
            } else {
                write_piece(
                    bytes,
                    order,
                    |j| f(runs.c_index(piece.run, piece.start + j)),
                );
            }
        })
    })
}

/// Sets element `i` (flat C-order index) to `i`, cast with numpy's unsafe casting:
/// `np.arange(n).reshape(shape).astype(dtype)`.
pub fn arange_view<T: Native, V: Target<T>>(view: V) -> V::Out {
    fill_with(view, |i| T::from_i64(i as i64))
}

/// A random distribution for [`random_view`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dist {
    /// Standard normal (float and complex; real and imaginary parts independent).
    Normal,
    /// Uniform in `[0, 1)` (float and complex).
    Uniform,
    /// Integers uniform in `[low, high)` (integer kinds), as numpy's
    /// `Generator.integers(low, high)`: any range within the kind, from
    /// `[i64::MIN, 2^63)` for int64 to `[0, 2^64)` for uint64.
    Integers {
        /// Smallest value.
        low: i128,
        /// One past the largest value.
        high: i128,
    },
}

/// Random bits of float kinds' uniform variates, so that rounding never gives 1.
fn uniform_bits(kind: Kind) -> u32 {
    match kind {
        Kind::F16 => 11,
        Kind::F32 | Kind::C64 => 24,
        _ => 53,
    }
}

/// Smallest and largest value of an integer kind.
fn int_range(kind: Kind) -> (i128, i128) {
    let bits = kind.itemsize() as u32 * 8;
    if kind.class() == Class::Signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

/// Checks, before any work, that random numbers from `dist` can fill an array of
/// `kind` (e.g. integers need an integer kind and `low < high` within its range).
pub fn check_random(kind: Kind, dist: Dist) -> Result<()> {
    check_dist(kind, dist).map(|_| ())
}

/// Checks that `dist` suits `kind` and returns `(low, range)` for integers.
fn check_dist(kind: Kind, dist: Dist) -> Result<(i128, u64)> {
    match (kind.class(), dist) {
        (Class::Bool, _) | (Class::Float | Class::Complex, Dist::Normal | Dist::Uniform) => {
            Ok((0, 0))
        }
        (Class::Signed | Class::Unsigned, Dist::Integers { low, high }) => {
            let (min, max) = int_range(kind);
            if low >= high {
                return Err(InvalidArgument::EmptyRange { low, high }.into());
            }
            if low < min || high - 1 > max {
                return Err(InvalidArgument::RangeOutside {
                    low,
                    high,
                    kind,
                    min,
                    max,
                }
                .into());
            }
            // A range of 2^64 (all of int64 or uint64) is 0: `below` then draws all 64 bits.
            Ok((low, (high - low) as u64))
        }
        (Class::Signed | Class::Unsigned, dist) => {
            Err(InvalidArgument::NeedsFloat { dist, kind }.into())
        }
        (_, Dist::Integers { .. }) => Err(InvalidArgument::NeedsInteger { kind }.into()),
    }
}

/// Fills `view` with random numbers from `dist`, reproducibly: element `i`
/// (flat C-order index) depends only on `seed` and `i` (see the `rng` notes in the
/// crate docs), so the bytes are the same whatever the number of threads. Bool
/// arrays get true and false with equal probability whatever `dist` is.
pub fn random_view<T: Native, V: Target<T>>(view: V, dist: Dist, seed: u64) -> Result<()> {
    let (low, range) = check_dist(T::KIND, dist)?;
    let seed = Draws::key(seed);
    let bits = uniform_bits(T::KIND);
    let complex = T::KIND.class() == Class::Complex;
    let out = match (T::KIND.class(), dist) {
        (Class::Bool, _) => fill_with(view, |i| {
            T::from_u64(Draws::new(seed, i as u64).next_u64() >> 63)
        }),
        (Class::Signed | Class::Unsigned, _) => fill_with(view, |i| {
            let v = low + i128::from(Draws::new(seed, i as u64).below(range));
            if v < 0 {
                T::from_i64(v as i64)
            } else {
                T::from_u64(v as u64)
            }
        }),
        (_, Dist::Normal) if complex => fill_with(view, |i| {
            let re = Draws::new(seed, 2 * i as u64).normal();
            let im = Draws::new(seed, 2 * i as u64 + 1).normal();
            T::from_c128(mmarray_dtype::Complex64::new(re, im))
        }),
        (_, Dist::Uniform) if complex => fill_with(view, |i| {
            let re = Draws::new(seed, 2 * i as u64).uniform(bits);
            let im = Draws::new(seed, 2 * i as u64 + 1).uniform(bits);
            T::from_c128(mmarray_dtype::Complex64::new(re, im))
        }),
        (_, Dist::Normal) => fill_with(view, |i| T::from_f64(Draws::new(seed, i as u64).normal())),
        _ => fill_with(view, |i| {
            T::from_f64(Draws::new(seed, i as u64).uniform(bits))
        }),
    };
    V::into_result(out)
}

/// Writes `value` (cast to the array's dtype with numpy's rules) into the elements
/// of `array` selected by `spec`: numpy's `a[spec] = value`. The spec is anything
/// [`View::slice`](mmarray_core::View::slice) takes: an [`s!`](mmarray_core::s)
/// expression, a range, numpy's text, a [`Spec`] or a `&Spec`.
///
/// ```
/// use mmarray_core::{DynArray, Order, ReadWrite, s};
/// use mmarray_dtype::Value;
/// use mmarray_ops::fill_value;
/// # let dir = tempfile::tempdir()?;
/// // SAFETY: the file is private to this example.
/// let mut a = unsafe { DynArray::<ReadWrite>::create(dir.path().join("v.npy"), ">i2".parse()?, &[3, 4], Order::C)? };
/// fill_value(&mut a, s![1, ..;2], Value::F64(7.9))?;   // a[1, ::2] = 7.9
/// fill_value(&mut a, "-1, -1", Value::I64(-1))?;        // a[-1, -1] = -1
/// assert_eq!(a.view::<i16>()?.to_vec(), [0, 0, 0, 0, 7, 0, 7, 0, 0, 0, 0, -1]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fill_value<M: Writable, S>(array: &mut DynArray<M>, spec: S, value: Value) -> Result<()>
where
    S: TryInto<Spec>,
    S::Error: Into<mmarray_core::Error>,
{
    let spec: Spec = spec.try_into().map_err(Into::into)?;
    dispatch!(array.dtype().kind(), T => {
        let view = array.view_mut::<T>()?.into_slice(spec)?;
        fill(view, value.cast::<T>());
    });
    Ok(())
}

/// `np.arange(n).reshape(shape)` cast to the array's dtype, whatever its memory order.
pub fn arange<M: Writable>(array: &mut DynArray<M>) -> Result<()> {
    dispatch!(array.dtype().kind(), T => arange_view(array.view_mut::<T>()?));
    Ok(())
}

/// [`random_view`] on the elements of `array` selected by `spec` (anything
/// [`View::slice`](mmarray_core::View::slice) takes, as for [`fill_value`]).
///
/// The flat index that seeds each element is its index within the selection.
///
/// ```
/// use mmarray_core::{DynArray, Order, ReadWrite, s};
/// use mmarray_ops::{Dist, random_fill};
/// # let dir = tempfile::tempdir()?;
/// // SAFETY: the file is private to this example.
/// let mut a = unsafe { DynArray::<ReadWrite>::create(dir.path().join("r.npy"), "<f4".parse()?, &[10, 3], Order::C)? };
/// random_fill(&mut a, s![..5], Dist::Uniform, 1)?;     // a[:5] = rng.random((5, 3))
/// let v = a.view::<f32>()?;
/// assert!(v.slice(s![..5])?.iter().all(|x| (0.0..1.0).contains(&x) && x != 0.0));
/// assert!(v.slice(s![5..])?.iter().all(|x| x == 0.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn random_fill<M: Writable, S>(
    array: &mut DynArray<M>,
    spec: S,
    dist: Dist,
    seed: u64,
) -> Result<()>
where
    S: TryInto<Spec>,
    S::Error: Into<mmarray_core::Error>,
{
    let spec: Spec = spec.try_into().map_err(Into::into)?;
    dispatch!(array.dtype().kind(), T => random_view(array.view_mut::<T>()?.into_slice(spec)?, dist, seed))
}
