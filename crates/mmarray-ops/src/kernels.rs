//! The reduction kernels: sums, extrema, arg-extrema and moments over blocks.

use mmarray_dtype::{Class, Kind};

use crate::engine::{At, Kernel};
use crate::half::Halves;
use crate::num::Num;

/// Values per summation group: like numpy's pairwise sum, each group is added in
/// 8 lanes; groups are then combined with compensated (Neumaier) summation, so
/// the error is no larger than numpy's.
pub(crate) const GROUP: usize = 128;

/// Neumaier's compensated sum.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Compensated {
    sum: f64,
    comp: f64,
}

impl Compensated {
    #[inline(always)]
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }

    pub(crate) fn merge(&mut self, other: Compensated) {
        self.add(other.sum);
        self.comp += other.comp;
    }

    /// The sum (infinite or NaN sums are returned as they are).
    pub(crate) fn value(&self) -> f64 {
        if self.sum.is_finite() {
            self.sum + self.comp
        } else {
            self.sum
        }
    }
}

/// Sum of at most [`GROUP`] values in 8 lanes (real and imaginary parts), NaNs
/// counted as zero when `SKIP`; also returns how many values were not NaN.
#[inline(always)]
fn group_sum<W: Num, const SKIP: bool>(v: &[W]) -> (f64, f64, u64) {
    let mut re = [0.0f64; 8];
    let mut im = [0.0f64; 8];
    let mut nans = 0u64;
    let (chunks, rest) = v.as_chunks::<8>();
    for c in chunks {
        for j in 0..8 {
            let x = c[j];
            let skip = SKIP && W::FLOAT && x.is_nan();
            nans += u64::from(skip);
            let (r, i) = if skip { (0.0, 0.0) } else { x.parts() };
            re[j] += r;
            if W::COMPLEX {
                im[j] += i;
            }
        }
    }
    for (j, &x) in rest.iter().enumerate() {
        let skip = SKIP && W::FLOAT && x.is_nan();
        nans += u64::from(skip);
        let (r, i) = if skip { (0.0, 0.0) } else { x.parts() };
        re[j] += r;
        if W::COMPLEX {
            im[j] += i;
        }
    }
    let fold = |a: [f64; 8]| ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    (fold(re), fold(im), v.len() as u64 - nans)
}

/// Sum (and count) of values: wrapping 64-bit integers for integer and bool
/// kinds, compensated `f64` for float and complex kinds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SumAcc {
    pub(crate) int: u64,
    pub(crate) re: Compensated,
    pub(crate) im: Compensated,
    pub(crate) count: u64,
}

impl SumAcc {
    /// Every bit of the accumulator (integer sum, real and imaginary sums and
    /// compensations, count), except that every NaN reads as one value: Rust
    /// leaves the sign and payload of a NaN that arithmetic gives unspecified
    /// (either input's or the default NaN, RFC 3514), so not even one build
    /// compiled in two contexts promises them (debug builds differ).
    #[cfg(test)]
    pub(crate) fn to_bits(self) -> [u64; 6] {
        let bits = |x: f64| if x.is_nan() { u64::MAX } else { x.to_bits() };
        [
            self.int,
            bits(self.re.sum),
            bits(self.re.comp),
            bits(self.im.sum),
            bits(self.im.comp),
            self.count,
        ]
    }

    /// Adds the sums of one group of `n` values (`n` without the NaNs skipped).
    #[inline(always)]
    fn add_group(&mut self, re: f64, im: Option<f64>, n: u64) {
        self.re.add(re);
        if let Some(im) = im {
            self.im.add(im);
        }
        self.count += n;
    }
}

/// `SKIP`: NaNs count as zero (`nansum`). `FLOAT`: integers are summed as floats
/// too (for `mean`).
pub(crate) struct SumKernel<const SKIP: bool, const AS_FLOAT: bool>;

impl<W: Num, const SKIP: bool, const AS_FLOAT: bool> Kernel<W> for SumKernel<SKIP, AS_FLOAT> {
    type Acc = SumAcc;

    fn init(&self) -> SumAcc {
        SumAcc::default()
    }

    #[inline(always)]
    fn block(&self, acc: &mut SumAcc, values: &[W], _at: At<'_>) {
        if !AS_FLOAT
            && matches!(
                W::KIND.class(),
                Class::Signed | Class::Unsigned | Class::Bool
            )
        {
            let mut s = acc.int;
            for &x in values {
                // Wrapping two's-complement addition is the same for i64 and u64.
                s = s.wrapping_add(x.to_u64_wrapping());
            }
            acc.int = s;
            acc.count += values.len() as u64;
            return;
        }
        for g in values.chunks(GROUP) {
            let (re, im, n) = group_sum::<W, SKIP>(g);
            acc.add_group(re, W::COMPLEX.then_some(im), n);
        }
    }

    /// float16 (computed as `f32`): exact group sums where the group is finite
    /// (then the same as [`group_sum`]'s, see [`crate::half`]), [`group_sum`]
    /// of the widened group otherwise.
    #[inline(always)]
    fn halves(&self, acc: &mut SumAcc, halves: &Halves<'_>) -> bool {
        if W::KIND != Kind::F32 {
            return false;
        }
        halves.for_each_group(|sum, group| {
            if let Some(sum) = sum {
                acc.add_group(sum, None, group.len() as u64);
            } else {
                let mut buf = [0.0f32; GROUP];
                let (re, _, n) = group_sum::<f32, SKIP>(group.widen(&mut buf));
                acc.add_group(re, None, n);
            }
        });
        true
    }

    fn merge(&self, acc: &mut SumAcc, next: SumAcc) {
        acc.int = acc.int.wrapping_add(next.int);
        acc.re.merge(next.re);
        acc.im.merge(next.im);
        acc.count += next.count;
    }
}

/// Wrapping conversion to `u64` bits (two's complement for signed values).
trait WrapU64 {
    fn to_u64_wrapping(self) -> u64;
}

impl<W: Num> WrapU64 for W {
    #[inline]
    fn to_u64_wrapping(self) -> u64 {
        match W::KIND.class() {
            Class::Signed => self.to_i64() as u64,
            _ => self.to_u64(),
        }
    }
}

/// Smallest and largest value, and the first NaN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MinMaxAcc<W> {
    pub(crate) min: Option<W>,
    pub(crate) max: Option<W>,
    pub(crate) nan: Option<W>,
}

/// Smallest (`LO`) and largest (`HI`) value and the first NaN: `min` and `max`
/// compute only their own side (one vector compare per element instead of two),
/// `stats` both. The side not computed keeps a value of the data (never read).
pub(crate) struct MinMaxKernel<const LO: bool, const HI: bool>;

/// Lane-wise min (`LO`) and max (`HI`) of `v` seeded with `seed` (not NaN); NaNs
/// are never selected. Returns `(min, max, saw_nan)`.
#[inline(always)]
fn lanes_min_max<W: Num, const LO: bool, const HI: bool>(v: &[W], seed: W) -> (W, W, bool) {
    let mut lo = [seed; 8];
    let mut hi = [seed; 8];
    // Per lane, so that the test stays a vector compare.
    let mut nans = [false; 8];
    let (chunks, rest) = v.as_chunks::<8>();
    for c in chunks {
        for j in 0..8 {
            let x = c[j];
            let x_nan = W::FLOAT && x.is_nan();
            nans[j] |= x_nan;
            // A complex value with one NaN part still compares by its other part:
            // exclude it explicitly (for real types `ok` is always true).
            let ok = !W::COMPLEX || !x_nan;
            if LO {
                lo[j] = if ok && x.lt(lo[j]) { x } else { lo[j] };
            }
            if HI {
                hi[j] = if ok && hi[j].lt(x) { x } else { hi[j] };
            }
        }
    }
    let mut nan = nans.contains(&true);
    let (mut mn, mut mx) = (seed, seed);
    for j in 0..8 {
        mn = if lo[j].lt(mn) { lo[j] } else { mn };
        mx = if mx.lt(hi[j]) { hi[j] } else { mx };
    }
    for &x in rest {
        let x_nan = W::FLOAT && x.is_nan();
        nan |= x_nan;
        let ok = !W::COMPLEX || !x_nan;
        mn = if ok && x.lt(mn) { x } else { mn };
        mx = if ok && mx.lt(x) { x } else { mx };
    }
    (mn, mx, nan)
}

impl<W: Num, const LO: bool, const HI: bool> Kernel<W> for MinMaxKernel<LO, HI> {
    type Acc = MinMaxAcc<W>;

    fn init(&self) -> MinMaxAcc<W> {
        MinMaxAcc {
            min: None,
            max: None,
            nan: None,
        }
    }

    #[inline(always)]
    fn block(&self, acc: &mut MinMaxAcc<W>, values: &[W], _at: At<'_>) {
        let Some(first) = values.iter().position(|x| !x.is_nan()) else {
            if acc.nan.is_none() {
                acc.nan = values.first().copied();
            }
            return;
        };
        if first > 0 && acc.nan.is_none() {
            acc.nan = Some(values[0]);
        }
        let (mn, mx, nan) = lanes_min_max::<W, LO, HI>(&values[first..], values[first]);
        if nan && acc.nan.is_none() {
            acc.nan = values.iter().copied().find(|x| x.is_nan());
        }
        let next = MinMaxAcc {
            min: Some(mn),
            max: Some(mx),
            nan: None,
        };
        self.merge(acc, next);
    }

    fn merge(&self, acc: &mut MinMaxAcc<W>, next: MinMaxAcc<W>) {
        acc.min = match (acc.min, next.min) {
            (Some(a), Some(b)) => Some(if b.lt(a) { b } else { a }),
            (a, b) => a.or(b),
        };
        acc.max = match (acc.max, next.max) {
            (Some(a), Some(b)) => Some(if a.lt(b) { b } else { a }),
            (a, b) => a.or(b),
        };
        acc.nan = acc.nan.or(next.nan);
    }
}

/// The best value with the smallest logical index among its equals, and the
/// smallest index of a NaN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArgAcc<W> {
    pub(crate) best: Option<(W, usize)>,
    pub(crate) nan: Option<usize>,
}

/// `MAX`: argmax instead of argmin.
pub(crate) struct ArgKernel<const MAX: bool>;

impl<const MAX: bool> ArgKernel<MAX> {
    #[inline]
    fn better<W: Num>(a: W, b: W) -> bool {
        if MAX { b.lt(a) } else { a.lt(b) }
    }
}

/// The smallest logical index among positions of `values` that satisfy `pred`.
fn first_index<W: Num>(values: &[W], at: At<'_>, pred: impl Fn(W) -> bool) -> Option<usize> {
    if at.increasing() {
        values.iter().position(|&x| pred(x)).map(|j| at.c_index(j))
    } else {
        values
            .iter()
            .enumerate()
            .filter(|&(_, &x)| pred(x))
            .map(|(j, _)| at.c_index(j))
            .min()
    }
}

impl<W: Num, const MAX: bool> Kernel<W> for ArgKernel<MAX> {
    type Acc = ArgAcc<W>;

    fn init(&self) -> ArgAcc<W> {
        ArgAcc {
            best: None,
            nan: None,
        }
    }

    #[inline(always)]
    fn block(&self, acc: &mut ArgAcc<W>, values: &[W], at: At<'_>) {
        let Some(first) = values.iter().position(|x| !x.is_nan()) else {
            let idx = first_index(values, at, W::is_nan);
            self.merge(
                acc,
                ArgAcc {
                    best: None,
                    nan: idx,
                },
            );
            return;
        };
        // Only the side it looks for.
        let (mn, mx, nan) = if MAX {
            lanes_min_max::<W, false, true>(&values[first..], values[first])
        } else {
            lanes_min_max::<W, true, false>(&values[first..], values[first])
        };
        let nan_idx = if nan || first > 0 {
            first_index(values, at, W::is_nan)
        } else {
            None
        };
        let m = if MAX { mx } else { mn };
        let worth = match acc.best {
            None => true,
            Some((b, _)) => !Self::better(b, m),
        };
        let best = if worth {
            first_index(values, at, |x| x == m).map(|i| (m, i))
        } else {
            None
        };
        self.merge(acc, ArgAcc { best, nan: nan_idx });
    }

    fn merge(&self, acc: &mut ArgAcc<W>, next: ArgAcc<W>) {
        acc.best = match (acc.best, next.best) {
            (Some((a, i)), Some((b, j))) => {
                if Self::better(b, a) || (b == a && j < i) {
                    Some((b, j))
                } else {
                    Some((a, i))
                }
            }
            (a, b) => a.or(b),
        };
        acc.nan = match (acc.nan, next.nan) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Count, mean and sum of squared deviations, merged with Chan et al.'s formula;
/// each block's deviations are taken from the block's own mean in a second pass
/// over the block (in L1), with the corrected two-pass formula, so the variance
/// is at least as accurate as numpy's two-pass `var`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Moments {
    pub(crate) n: u64,
    pub(crate) mean: (f64, f64),
    pub(crate) m2: f64,
    /// The compensated sum of the same values, added group by group exactly as
    /// [`SumKernel`] adds them, so that the mean equals `Op::Mean`'s and the sum
    /// `Op::Sum`'s.
    pub(crate) sum: (Compensated, Compensated),
}

impl Moments {
    pub(crate) fn merge(&mut self, b: Moments) {
        self.sum.0.merge(b.sum.0);
        self.sum.1.merge(b.sum.1);
        merge_spread(
            (&mut self.n, &mut self.mean, &mut self.m2),
            (b.n, b.mean, b.m2),
        );
    }
}

/// Merges the count, mean (real and imaginary parts) and sum of squared
/// deviations of later values `b` into `a` (Chan, Golub and LeVeque): the one
/// place where spreads are combined, for whole-array and axis reductions alike.
pub(crate) fn merge_spread(
    a: (&mut u64, &mut (f64, f64), &mut f64),
    (n, mean, m2): (u64, (f64, f64), f64),
) {
    let (an, amean, am2) = a;
    if n == 0 {
        return;
    }
    if *an == 0 {
        (*an, *amean, *am2) = (n, mean, m2);
        return;
    }
    let total = *an + n;
    let (na, nb, nt) = (*an as f64, n as f64, total as f64);
    let dr = mean.0 - amean.0;
    let di = mean.1 - amean.1;
    amean.0 += dr * nb / nt;
    amean.1 += di * nb / nt;
    *am2 += m2 + (dr * dr + di * di) * na * nb / nt;
    *an = total;
}

/// Values per block of [`block_moments`]: one Chan merge per block.
const MOMENT_BLOCK: usize = 1024;

/// Adds `values` (at most [`MOMENT_BLOCK`]) to `acc`: their sum group by
/// group, then their deviations from the block's mean in a second pass.
#[inline(always)]
fn block_moments<W: Num, const SKIP: bool>(acc: &mut Moments, values: &[W]) {
    let (mut tr, mut ti, mut n) = (0.0, 0.0, 0u64);
    for g in values.chunks(GROUP) {
        let (re, im, k) = group_sum::<W, SKIP>(g);
        acc.sum.0.add(re);
        if W::COMPLEX {
            acc.sum.1.add(im);
        }
        tr += re;
        ti += im;
        n += k;
    }
    if n == 0 {
        return;
    }
    let nf = n as f64;
    let center = (tr / nf, ti / nf);
    let mut d1 = [0.0f64; 8];
    let mut d1i = [0.0f64; 8];
    let mut d2 = [0.0f64; 8];
    let (chunks, rest) = values.as_chunks::<8>();
    // Lane by lane, each step over all 8 lanes, so that they stay in vector
    // registers.
    for ch in chunks {
        let mut dr = [0.0f64; 8];
        let mut di = [0.0f64; 8];
        for j in 0..8 {
            let skip = SKIP && W::FLOAT && ch[j].is_nan();
            let (r, i) = ch[j].parts();
            dr[j] = if skip { 0.0 } else { r - center.0 };
            di[j] = if skip || !W::COMPLEX {
                0.0
            } else {
                i - center.1
            };
        }
        for j in 0..8 {
            d1[j] += dr[j];
        }
        for j in 0..8 {
            d2[j] += dr[j] * dr[j];
        }
        if W::COMPLEX {
            for j in 0..8 {
                d1i[j] += di[j];
            }
            for j in 0..8 {
                d2[j] += di[j] * di[j];
            }
        }
    }
    for (j, &x) in rest.iter().enumerate() {
        let skip = SKIP && W::FLOAT && x.is_nan();
        let (r, i) = x.parts();
        let dr = if skip { 0.0 } else { r - center.0 };
        d1[j] += dr;
        d2[j] += dr * dr;
        if W::COMPLEX {
            let di = if skip { 0.0 } else { i - center.1 };
            d1i[j] += di;
            d2[j] += di * di;
        }
    }
    let fold = |a: [f64; 8]| ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    let (sr, si, s2) = (fold(d1), fold(d1i), fold(d2));
    // Corrected two-pass: removes the error of the block mean `center` to first order.
    // Rounding can leave it just below zero; NaN stays NaN.
    let m2 = s2 - (sr * sr + si * si) / nf;
    let m2 = if m2 < 0.0 { 0.0 } else { m2 };
    merge_spread(
        (&mut acc.n, &mut acc.mean, &mut acc.m2),
        (n, (center.0 + sr / nf, center.1 + si / nf), m2),
    );
}

pub(crate) struct MomentsKernel<const SKIP: bool>;

impl<W: Num, const SKIP: bool> Kernel<W> for MomentsKernel<SKIP> {
    type Acc = Moments;

    fn init(&self) -> Moments {
        Moments::default()
    }

    #[inline(always)]
    fn block(&self, acc: &mut Moments, values: &[W], _at: At<'_>) {
        for b in values.chunks(MOMENT_BLOCK) {
            block_moments::<W, SKIP>(acc, b);
        }
    }

    fn merge(&self, acc: &mut Moments, next: Moments) {
        acc.merge(next);
    }
}

/// Everything `stats` reports, in one pass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatsAcc<W> {
    pub(crate) sum: SumAcc,
    pub(crate) minmax: MinMaxAcc<W>,
    pub(crate) moments: Moments,
}

pub(crate) struct StatsKernel<const SKIP: bool>;

impl<W: Num, const SKIP: bool> Kernel<W> for StatsKernel<SKIP> {
    type Acc = StatsAcc<W>;

    fn init(&self) -> StatsAcc<W> {
        StatsAcc {
            sum: Kernel::<W>::init(&SumKernel::<SKIP, false>),
            minmax: Kernel::<W>::init(&MinMaxKernel::<true, true>),
            moments: Moments::default(),
        }
    }

    #[inline(always)]
    fn block(&self, acc: &mut StatsAcc<W>, values: &[W], at: At<'_>) {
        // Sub-blocks small enough to stay in L1 across the three kernels.
        for (b, chunk) in values.chunks(MOMENT_BLOCK).enumerate() {
            let at = At {
                start: at.start + b * MOMENT_BLOCK,
                ..at
            };
            // Float sums come from the moments (added the same way).
            if !W::FLOAT {
                SumKernel::<SKIP, false>.block(&mut acc.sum, chunk, at);
            }
            MinMaxKernel::<true, true>.block(&mut acc.minmax, chunk, at);
            MomentsKernel::<SKIP>.block(&mut acc.moments, chunk, at);
        }
    }

    fn merge(&self, acc: &mut StatsAcc<W>, next: StatsAcc<W>) {
        Kernel::<W>::merge(&SumKernel::<SKIP, false>, &mut acc.sum, next.sum);
        MinMaxKernel::<true, true>.merge(&mut acc.minmax, next.minmax);
        acc.moments.merge(next.moments);
    }
}

/// Number of values that are not zero (NaN counts as non-zero, as in numpy).
pub(crate) struct CountNonzeroKernel;

impl<W: Num> Kernel<W> for CountNonzeroKernel {
    type Acc = u64;

    fn init(&self) -> u64 {
        0
    }

    #[inline(always)]
    fn block(&self, acc: &mut u64, values: &[W], _at: At<'_>) {
        *acc += values.iter().map(|x| u64::from(x.to_bool())).sum::<u64>();
    }

    fn merge(&self, acc: &mut u64, next: u64) {
        *acc += next;
    }
}
