//! Helpers shared by the integration tests of `mmarray-ops`: a small seeded
//! generator, random values of every kind, an exact float sum, sequential
//! reference reductions and comparisons of results.

// Each test binary uses a different subset of the helpers.
#![allow(dead_code, unreachable_pub)]

use std::fmt::Display;

use mmarray_core::{Order, View};
use mmarray_dtype::{ByteOrder, Class, Complex64, Kind, Native, Value, encode};
use mmarray_ops::{Error, Op, ReduceOptions};

/// `SplitMix64`: small, seeded and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, n)` (slightly biased; fine for tests).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A float spread over several orders of magnitude, either sign.
    pub fn wide_f64(&mut self) -> f64 {
        self.normal() * 10f64.powf(self.uniform() * 6.0 - 3.0)
    }
}

/// What kind of random data to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Values over the whole range (integers wrap when summed; floats span 6 decades).
    Wide,
    /// Few distinct values, so that extrema occur many times (and `-0.0` next to `0.0`).
    Ties,
    /// Like `Wide`, with about three NaNs at random places (floats and complex only).
    Nans,
    /// Every value NaN (floats and complex only).
    AllNan,
}

/// `n` random values of `T`.
pub fn random_values<T: Native>(rng: &mut Rng, n: usize, flavor: Flavor) -> Vec<T> {
    let class = T::KIND.class();
    let nan_p = 3.0 / n.max(1) as f64;
    (0..n)
        .map(|_| match class {
            Class::Bool => match flavor {
                // Mostly true, so that the first false (argmin) can come late.
                Flavor::Ties => T::from_bool(rng.below(64) != 0),
                _ => T::from_bool(rng.next_u64() & 1 == 1),
            },
            Class::Signed => match flavor {
                Flavor::Ties => T::from_i64(rng.below(5) as i64 - 2),
                _ => T::from_u64(rng.next_u64()),
            },
            Class::Unsigned => match flavor {
                Flavor::Ties => T::from_u64(rng.below(5)),
                _ => T::from_u64(rng.next_u64()),
            },
            Class::Float => match flavor {
                Flavor::Ties => {
                    let v = rng.below(5) as f64 - 2.0;
                    T::from_f64(if v == 0.0 && rng.next_u64() & 1 == 1 {
                        -0.0
                    } else {
                        v
                    })
                }
                Flavor::AllNan => T::from_f64(f64::NAN),
                Flavor::Nans if rng.uniform() < nan_p => T::from_f64(f64::NAN),
                _ => T::from_f64(rng.wide_f64()),
            },
            Class::Complex => match flavor {
                Flavor::Ties => T::from_c128(Complex64::new(
                    rng.below(3) as f64 - 1.0,
                    rng.below(3) as f64 - 1.0,
                )),
                Flavor::AllNan => T::from_c128(Complex64::new(f64::NAN, 0.0)),
                Flavor::Nans if rng.uniform() < nan_p => {
                    let (re, im) = if rng.next_u64() & 1 == 1 {
                        (f64::NAN, 1.0)
                    } else {
                        (0.5, f64::NAN)
                    };
                    T::from_c128(Complex64::new(re, im))
                }
                _ => T::from_c128(Complex64::new(rng.wide_f64(), rng.wide_f64())),
            },
        })
        .collect()
}

/// The flavors that make sense for `kind`.
pub fn flavors(kind: Kind) -> &'static [Flavor] {
    match kind.class() {
        Class::Float | Class::Complex => {
            &[Flavor::Wide, Flavor::Ties, Flavor::Nans, Flavor::AllNan]
        }
        _ => &[Flavor::Wide, Flavor::Ties],
    }
}

/// `values` encoded in byte order `order`.
pub fn encode_bytes<T: Native>(values: &[T], order: ByteOrder) -> Vec<u8> {
    let mut bytes = vec![0u8; std::mem::size_of_val(values)];
    encode(values, order, &mut bytes).expect("lengths agree");
    bytes
}

/// A buffer holding `bytes` starting at an odd address when `misalign` (so that
/// native data cannot be cast in place), and the offset where they start.
pub fn place(bytes: &[u8], misalign: bool) -> (Vec<u8>, usize) {
    // A Vec<u8> from the global allocator is at least 8-aligned in practice; to
    // be sure of the parity we pick the offset from the address.
    let mut buf = vec![0u8; bytes.len() + 16];
    let addr = buf.as_ptr() as usize;
    let aligned = (16 - addr % 16) % 16;
    let off = if misalign { aligned + 1 } else { aligned };
    buf[off..off + bytes.len()].copy_from_slice(bytes);
    (buf, off)
}

/// Both byte orders.
pub const BYTE_ORDERS: [ByteOrder; 2] = [ByteOrder::Little, ByteOrder::Big];
/// Both memory orders.
pub const ORDERS: [Order; 2] = [Order::C, Order::F];

// ---------------------------------------------------------------------------
// Exact summation.

/// The correctly rounded sum of `values` (Shewchuk's exact partials, as Python's
/// `math.fsum`); non-finite inputs give the naive sum (inf or NaN).
pub fn fsum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    let mut special = 0.0f64;
    let mut any_special = false;
    for mut x in values {
        if !x.is_finite() {
            special += x;
            any_special = true;
            continue;
        }
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
    if any_special {
        return special;
    }
    // Round the expansion correctly (as CPython's fsum does).
    let Some(mut hi) = partials.pop() else {
        return 0.0;
    };
    let mut lo = 0.0;
    while let Some(y) = partials.pop() {
        let x = hi;
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    if lo != 0.0 && partials.last().is_some_and(|&p| (lo < 0.0) == (p < 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        if y == x - hi {
            hi = x;
        }
    }
    hi
}

/// numpy's `pairwise_sum_DOUBLE` (`numpy/_core/src/umath/loops_utils.h.src`):
/// blocks of at most 128 values added in 8 accumulators, halves (multiples of 8)
/// added recursively.
pub fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[i..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

/// `np.sum` of a contiguous float64 array as numpy 2 computes it: the pairwise
/// sum of all values (`numpy_interop` checks this model against numpy bit for bit).
pub fn numpy_sum(a: &[f64]) -> f64 {
    pairwise(a)
}

// ---------------------------------------------------------------------------
// Sequential reference reductions.

/// Whether `x` is (or has a part that is) NaN.
pub fn is_nan<T: Native>(x: T) -> bool {
    match T::KIND.class() {
        Class::Float | Class::Complex => {
            let c = x.to_c128();
            c.re.is_nan() || c.im.is_nan()
        }
        _ => false,
    }
}

/// numpy's order: `a < b` (complex by real part, then imaginary part).
pub fn lt<T: Native>(a: T, b: T) -> bool {
    match T::KIND.class() {
        Class::Bool => !a.to_bool() && b.to_bool(),
        Class::Signed => a.to_i64() < b.to_i64(),
        Class::Unsigned => a.to_u64() < b.to_u64(),
        Class::Float | Class::Complex => {
            let (a, b) = (a.to_c128(), b.to_c128());
            a.re < b.re || (a.re == b.re && a.im < b.im)
        }
    }
}

/// A reference result: a value with an absolute tolerance for float parts, or
/// the error expected.
#[derive(Debug, Clone, Copy)]
pub struct Expected {
    pub value: Result<Value, Want>,
    pub tol: f64,
}

/// The error a reduction must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Empty,
    AllNan,
}

fn ok(value: Value, tol: f64) -> Expected {
    Expected {
        value: Ok(value),
        tol,
    }
}

/// The reduction `op` of `values` (in logical C order), computed naively.
pub fn reference<T: Native>(values: &[T], op: Op, opts: &ReduceOptions) -> Expected {
    Reference::new(values, opts.skipna).get(op, opts.ddof)
}

/// Sequential reference reductions of one array, with the sums they share
/// computed once.
pub struct Reference<'a, T> {
    values: &'a [T],
    skipna: bool,
    /// Indices and values used (all, or those that are not NaN).
    used: Vec<(usize, T)>,
    first_nan: Option<usize>,
    /// Exact (correctly rounded) sums of real and imaginary parts, and of their magnitudes.
    sum: (f64, f64),
    abs_sum: f64,
    /// Exact mean, sum of squared deviations and the tolerance of the variance's numerator.
    m2: std::cell::OnceCell<(f64, f64)>,
}

impl<'a, T: Native> Reference<'a, T> {
    pub fn new(values: &'a [T], skipna: bool) -> Self {
        let used: Vec<(usize, T)> = values
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, x)| !(skipna && is_nan(x)))
            .collect();
        let first_nan = values.iter().position(|&x| is_nan(x));
        let (sum, abs_sum) = match T::KIND.class() {
            Class::Bool | Class::Signed => {
                let s: i128 = used.iter().map(|&(_, x)| i128::from(x.to_i64())).sum();
                let a: i128 = used
                    .iter()
                    .map(|&(_, x)| i128::from(x.to_i64()).abs())
                    .sum();
                ((s as f64, 0.0), a as f64)
            }
            Class::Unsigned => {
                let s: i128 = used.iter().map(|&(_, x)| i128::from(x.to_u64())).sum();
                ((s as f64, 0.0), s as f64)
            }
            Class::Float | Class::Complex => {
                let parts: Vec<(f64, f64)> = used.iter().map(|&(_, x)| parts(x)).collect();
                let re = fsum(parts.iter().map(|p| p.0));
                let im = if T::KIND.class() == Class::Complex {
                    fsum(parts.iter().map(|p| p.1))
                } else {
                    0.0
                };
                // Only for tolerances: need not be exact.
                let abs = parts.iter().map(|p| p.0.abs() + p.1.abs()).sum();
                ((re, im), abs)
            }
        };
        Reference {
            values,
            skipna,
            used,
            first_nan,
            sum,
            abs_sum,
            m2: std::cell::OnceCell::new(),
        }
    }

    pub fn get(&self, op: Op, ddof: usize) -> Expected {
        let class = T::KIND.class();
        let used = &self.used;
        let n = used.len();
        let sum_tol = 1e-14 * self.abs_sum;
        let (sum_re, sum_im) = self.sum;
        match op {
            Op::Sum => match class {
                Class::Bool | Class::Signed => ok(
                    Value::I64(
                        used.iter()
                            .fold(0i64, |s, &(_, x)| s.wrapping_add(x.to_i64())),
                    ),
                    0.0,
                ),
                Class::Unsigned => ok(
                    Value::U64(
                        used.iter()
                            .fold(0u64, |s, &(_, x)| s.wrapping_add(x.to_u64())),
                    ),
                    0.0,
                ),
                Class::Float => ok(Value::F64(sum_re), sum_tol),
                Class::Complex => ok(Value::C128(Complex64::new(sum_re, sum_im)), sum_tol),
            },
            Op::Mean => {
                let nf = n as f64;
                if class == Class::Complex {
                    ok(
                        Value::C128(Complex64::new(sum_re / nf, sum_im / nf)),
                        sum_tol / nf,
                    )
                } else {
                    ok(Value::F64(sum_re / nf), sum_tol / nf)
                }
            }
            Op::Min | Op::Max | Op::Argmin | Op::Argmax => self.extremum(op),
            Op::Var | Op::Std => {
                let (m2, m2_tol) = self.m2();
                let div = n.saturating_sub(ddof) as f64;
                let (var, tol) = if n == 0 {
                    (f64::NAN, 0.0)
                } else {
                    (m2 / div, m2_tol / div)
                };
                if op == Op::Var {
                    ok(Value::F64(var), tol)
                } else {
                    let std = var.sqrt();
                    ok(Value::F64(std), tol / (2.0 * std).max(tol.sqrt()))
                }
            }
        }
    }
}

impl<T: Native> Reference<'_, T> {
    /// Min, max, argmin or argmax.
    fn extremum(&self, op: Op) -> Expected {
        let (values, used) = (self.values, &self.used);
        let n = used.len();
        match op {
            Op::Min | Op::Max => {
                if values.is_empty() {
                    return Expected {
                        value: Err(Want::Empty),
                        tol: 0.0,
                    };
                }
                // NaN propagates; with skipna, all-NaN input gives NaN (as `nanmin`).
                if let Some(i) = self.first_nan
                    && (!self.skipna || n == 0)
                {
                    return ok(values[i].to_value(), 0.0);
                }
                let mut best = used[0].1;
                for &(_, x) in &used[1..] {
                    let better = if op == Op::Min {
                        lt(x, best)
                    } else {
                        lt(best, x)
                    };
                    if better {
                        best = x;
                    }
                }
                ok(best.to_value(), 0.0)
            }
            Op::Argmin | Op::Argmax => {
                if values.is_empty() {
                    return Expected {
                        value: Err(Want::Empty),
                        tol: 0.0,
                    };
                }
                if !self.skipna
                    && let Some(i) = self.first_nan
                {
                    return ok(Value::I64(i as i64), 0.0);
                }
                if n == 0 {
                    return Expected {
                        value: Err(Want::AllNan),
                        tol: 0.0,
                    };
                }
                let (mut bi, mut best) = used[0];
                for &(i, x) in &used[1..] {
                    let better = if op == Op::Argmin {
                        lt(x, best)
                    } else {
                        lt(best, x)
                    };
                    if better {
                        (bi, best) = (i, x);
                    }
                }
                ok(Value::I64(bi as i64), 0.0)
            }
            _ => unreachable!("not an extremum: {op}"),
        }
    }

    /// The sum of squared deviations from the mean of the values used, and a
    /// tolerance for it (computed once).
    fn m2(&self) -> (f64, f64) {
        *self.m2.get_or_init(|| {
            let n = self.used.len();
            if T::KIND.class() != Class::Float
                && T::KIND.class() != Class::Complex
                && T::KIND.itemsize() <= 4
            {
                // Exactly, in integers: n m2 = n sum(x^2) - sum(x)^2 (fits i128).
                let (mut s1, mut s2) = (0i128, 0i128);
                for &(_, x) in &self.used {
                    let x = i128::from(x.to_i64());
                    s1 += x;
                    s2 += x * x;
                }
                let n = n as i128;
                let m2 = if n == 0 {
                    0.0
                } else {
                    (n * s2 - s1 * s1) as f64 / n as f64
                };
                (m2, 1e-12 * (m2 + s2 as f64))
            } else {
                let mean = (self.sum.0 / n as f64, self.sum.1 / n as f64);
                let parts: Vec<(f64, f64)> = self.used.iter().map(|&(_, x)| parts(x)).collect();
                reference_m2(&parts, Some(mean))
            }
        })
    }
}

/// Real and imaginary parts of `x` as `f64`.
fn parts<T: Native>(x: T) -> (f64, f64) {
    if T::KIND.class() == Class::Complex {
        let c = x.to_c128();
        (c.re, c.im)
    } else {
        (x.to_f64(), 0.0)
    }
}

/// Two-pass variance of complex (or real, with zero imaginary parts) values, from
/// an exactly summed mean, with a tolerance for an accurate one-pass method.
pub fn reference_var(values: &[(f64, f64)], ddof: usize) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, 0.0);
    }
    let (m2, tol) = reference_m2(values, None);
    let div = n.saturating_sub(ddof) as f64;
    (m2 / div, tol / div)
}

/// The sum of squared deviations from the exact mean (computed here unless
/// given), and a tolerance for it (`1e-12` relative to the sum of squares,
/// which bounds the cancellation).
fn reference_m2(values: &[(f64, f64)], mean: Option<(f64, f64)>) -> (f64, f64) {
    let nf = values.len() as f64;
    let mean = mean.unwrap_or_else(|| {
        (
            fsum(values.iter().map(|v| v.0)) / nf,
            fsum(values.iter().map(|v| v.1)) / nf,
        )
    });
    let m2 = fsum(
        values
            .iter()
            .map(|v| (v.0 - mean.0).powi(2) + (v.1 - mean.1).powi(2)),
    );
    // Only for the tolerance: need not be exact.
    let sum_sq: f64 = values.iter().map(|v| v.0 * v.0 + v.1 * v.1).sum();
    (m2, 1e-12 * (m2.abs() + sum_sq))
}

/// The number of non-zero values (NaN is non-zero).
pub fn reference_count_nonzero<T: Native>(values: &[T]) -> u64 {
    values.iter().filter(|x| x.to_bool()).count() as u64
}

/// The float parts of a float or complex value; `None` for integers and bools.
pub fn float_parts(v: Value) -> Option<(f64, f64)> {
    Some(match v {
        Value::F16(x) => (x.to_f64(), 0.0),
        Value::F32(x) => (f64::from(x), 0.0),
        Value::F64(x) => (x, 0.0),
        Value::C64(c) => (f64::from(c.re), f64::from(c.im)),
        Value::C128(c) => (c.re, c.im),
        _ => return None,
    })
}

/// `a` and `b` are both NaN, equal, or within `tol`.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol
}

/// Whether `got` is `want` (same kind; float parts within `tol`, NaN matching NaN).
pub fn value_matches(got: Value, want: Value, tol: f64) -> bool {
    if got.kind() != want.kind() {
        return false;
    }
    match (float_parts(got), float_parts(want)) {
        // A complex NaN is any value with a NaN part (which NaN propagates is not specified).
        (Some(g), Some(w)) if w.0.is_nan() || w.1.is_nan() => g.0.is_nan() || g.1.is_nan(),
        (Some(g), Some(w)) => close(g.0, w.0, tol) && close(g.1, w.1, tol),
        _ => got == want,
    }
}

/// Asserts that a result of `mmarray-ops` is the expected one.
pub fn check(got: &Result<Value, Error>, want: &Expected, ctx: &dyn Display) {
    match (got, &want.value) {
        (Ok(g), Ok(w)) => {
            assert!(
                value_matches(*g, *w, want.tol),
                "{ctx}: got {g:?}, want {w:?} (tolerance {:e})",
                want.tol
            );
        }
        (Err(Error::Empty { .. }), Err(Want::Empty))
        | (Err(Error::AllNan { .. }), Err(Want::AllNan)) => {}
        _ => panic!("{ctx}: got {got:?}, want {:?}", want.value),
    }
}

/// Two results are the same bits (NaN payloads included).
pub fn same_bits(a: &Value, b: &Value) -> bool {
    match (float_parts(*a), float_parts(*b)) {
        (Some(x), Some(y)) => {
            a.kind() == b.kind() && x.0.to_bits() == y.0.to_bits() && x.1.to_bits() == y.1.to_bits()
        }
        _ => a == b,
    }
}

/// The values of a view in logical order (the reference input).
pub fn logical<T: Native>(view: &View<'_, T>) -> Vec<T> {
    view.iter().collect()
}

/// Every reduction with every option worth testing.
pub fn all_ops() -> Vec<(Op, ReduceOptions)> {
    let mut v = Vec::new();
    for skipna in [false, true] {
        for op in Op::ALL {
            let ddofs: &[usize] = if matches!(op, Op::Var | Op::Std) {
                &[0, 1]
            } else {
                &[0]
            };
            for &ddof in ddofs {
                v.push((op, ReduceOptions { skipna, ddof }));
            }
        }
    }
    v
}

/// Runs `f` on a rayon pool of `threads` threads.
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(f)
}

/// A new `.npy` file `dir/name` of dtype `T` in byte order `bo`, whose data (in
/// memory order) are `values`.
pub fn npy_with<T: Native>(
    dir: &std::path::Path,
    name: &str,
    values: &[T],
    shape: &[usize],
    order: Order,
    bo: ByteOrder,
) -> mmarray_core::DynArray<mmarray_core::ReadWrite> {
    let dtype = mmarray_dtype::DType::new(T::KIND, bo);
    // SAFETY: the file is new and private to the test.
    let mut a = unsafe { mmarray_core::DynArray::create(dir.join(name), dtype, shape, order) }
        .expect("create");
    a.bytes_mut().copy_from_slice(&encode_bytes(values, bo));
    a
}

/// Opens `path` read-only.
pub fn open(path: &std::path::Path) -> mmarray_core::DynArray {
    // SAFETY: the file is private to the test and nobody changes it while mapped.
    unsafe { mmarray_core::DynArray::open(path) }.expect("open")
}

/// The elements of a native-order result buffer as values, in logical C order.
pub fn values_of(
    kind: Kind,
    data: &[u8],
    shape: &[usize],
    order: Order,
    bo: ByteOrder,
) -> Vec<Value> {
    mmarray_dtype::dispatch!(kind, R => View::<R>::from_bytes(data, shape, order, bo)
        .expect("result view")
        .iter()
        .map(Native::to_value)
        .collect())
}
