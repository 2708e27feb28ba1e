//! Float64 sums against an exact sum (Shewchuk's algorithm, as `math.fsum`) on
//! data chosen to make summation lose digits, compared with numpy's pairwise
//! summation (modelled in `common::numpy_sum`, which `numpy_interop` checks
//! against numpy bit for bit).
//!
//! mmarray adds each group of 128 values in 8 lanes, exactly as numpy adds a
//! block, and combines the group sums with compensated summation where numpy
//! adds block sums pairwise. So:
//! - where the loss is between groups, mmarray is exact and numpy is not;
//! - where numpy's pairwise tree dominates the error (most data), mmarray is at
//!   least as accurate, up to one rounding of the result;
//! - where the loss is inside groups (values that cancel within 128 neighbours),
//!   both make the same kind of error, with blocks aligned differently (numpy
//!   halves the array down to blocks of 64 to 128 values, mmarray cuts groups of
//!   128 from the start): on a given array either may be closer, within the
//!   rounding bound of one group (16 ulp of the sum of magnitudes), and over many
//!   random arrays mmarray is no worse. So "at least as accurate as numpy" holds
//!   for the error bound and on average, not for every array.

mod common;

use common::{Rng, encode_bytes, fsum, numpy_sum};
use mmarray_core::{Order, View};
use mmarray_dtype::{ByteOrder, Value};
use mmarray_ops::{Op, ReduceOptions, reduce, stats};

/// mmarray's sum of `values` as a 1-D array in byte order `bo`, reversed when `reverse`.
fn mm_sum(values: &[f64], bo: ByteOrder, reverse: bool) -> f64 {
    let bytes = encode_bytes(values, bo);
    let view = View::<f64>::from_bytes(&bytes, &[values.len()], Order::C, bo).unwrap();
    let view = if reverse {
        view.slice("::-1").unwrap()
    } else {
        view
    };
    let Value::F64(sum) = reduce(&view, Op::Sum, &ReduceOptions::default()).unwrap() else {
        panic!("f64 sum")
    };
    // stats computes the same sum (checked once per dataset: debug builds are slow).
    if bo == ByteOrder::Big && !reverse {
        assert_eq!(stats(&view, false).unwrap().sum, Value::F64(sum));
    }
    sum
}

/// What a dataset must show.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// mmarray gives the exact sum (and numpy does not).
    Exact,
    /// mmarray's error is at most numpy's plus one rounding of the result.
    AtLeastNumpy,
    /// mmarray's error is at most numpy's plus the rounding bound of one group.
    WithinGroupBound,
}

/// Errors of mmarray and numpy on `values` (in both byte orders and both
/// directions), checked against `expect`; returns the largest pair.
fn check(name: &str, values: &[f64], expect: Expect) -> (f64, f64) {
    let truth = fsum(values.iter().copied());
    let abs: f64 = values.iter().map(|x| x.abs()).sum();
    let mut worst = (0.0f64, 0.0f64);
    for reverse in [false, true] {
        let logical: Vec<f64> = if reverse {
            values.iter().rev().copied().collect()
        } else {
            values.to_vec()
        };
        let np_err = (numpy_sum(&logical) - truth).abs();
        let orders: &[ByteOrder] = if reverse {
            &[ByteOrder::Big]
        } else {
            &[ByteOrder::Little, ByteOrder::Big]
        };
        for &bo in orders {
            let mm = mm_sum(values, bo, reverse);
            let mm_err = (mm - truth).abs();
            let ctx = format!(
                "{name} (reverse {reverse}, {bo:?}): exact {truth:e}, mmarray {mm:e} (error {mm_err:e}), \
                 numpy error {np_err:e}, sum |x| {abs:e}"
            );
            println!("{ctx}");
            let slack = match expect {
                Expect::Exact => {
                    assert_eq!(mm, truth, "{ctx}: not exact");
                    0.0
                }
                Expect::AtLeastNumpy => truth.abs() * f64::EPSILON,
                Expect::WithinGroupBound => 16.0 * f64::EPSILON * abs,
            };
            assert!(
                mm_err <= np_err + slack,
                "{ctx}: worse than numpy by more than {slack:e}"
            );
            worst = (worst.0.max(mm_err), worst.1.max(np_err));
        }
    }
    if expect == Expect::Exact {
        assert!(
            worst.1 > 0.0,
            "{name}: numpy is exact too, the data is not adversarial"
        );
    }
    worst
}

#[test]
fn losses_between_groups_are_recovered_exactly() {
    // Each value fills a group of 128, so that all loss is between groups.
    let v: Vec<f64> = (0..3 * 128 * 700)
        .map(|i| [1e16, 1.0, -1e16][(i / 128) % 3])
        .collect();
    check("groups of 1e16, 1, -1e16", &v, Expect::Exact);
    let v: Vec<f64> = (0..4 * 128 * 500)
        .map(|i| [1e100, 1.0, -1e100, 3.0][(i / 128) % 4])
        .collect();
    check("groups of 1e100, 1, -1e100, 3", &v, Expect::Exact);
    let v: Vec<f64> = (0..5 * 128 * 300)
        .map(|i| [2f64.powi(70), 0.25, 3.0, -(2f64.powi(70)), 0.5][(i / 128) % 5])
        .collect();
    check("groups of 2^70, 1/4, 3, -2^70, 1/2", &v, Expect::Exact);
    // A group of huge values amid many small ones: each group sum is exact, and
    // numpy rounds at every level of its tree above the huge group.
    let mut v: Vec<f64> = (0..128 * 1500)
        .map(|i| f64::from(i % 5) * 0.75 + 0.125)
        .collect();
    v[128 * 137..128 * 138].fill(2f64.powi(60) / 128.0);
    check("a 2^60 group amid small values", &v, Expect::Exact);
}

#[test]
fn at_least_as_accurate_as_pairwise() {
    let mut rng = Rng::new(7);
    let v: Vec<f64> = (0..300_000).map(|_| rng.uniform()).collect();
    check("uniform [0, 1)", &v, Expect::AtLeastNumpy);
    let v: Vec<f64> = (0..300_000).map(|_| rng.normal()).collect();
    check("normal", &v, Expect::AtLeastNumpy);
    let v: Vec<f64> = (1..=300_000)
        .map(|k| {
            if k % 2 == 1 {
                1.0 / k as f64
            } else {
                -1.0 / k as f64
            }
        })
        .collect();
    check("alternating harmonic", &v, Expect::AtLeastNumpy);
    let mut v: Vec<f64> = (0..200_000).map(|_| rng.normal() * 1e6).collect();
    v.sort_by(f64::total_cmp);
    check("sorted normal", &v, Expect::AtLeastNumpy);
    let v: Vec<f64> = (0..300_000).map(|i| 0.1 * f64::from(i % 10)).collect();
    check("tenths", &v, Expect::AtLeastNumpy);
    let mut v = vec![1e20];
    v.extend(std::iter::repeat_n(1.0, 300_000));
    check("1e20 then ones", &v, Expect::AtLeastNumpy);
    let v: Vec<f64> = (0..200_000).map(|i| 1e-3 * 1.0001f64.powi(i)).collect();
    check("geometric growth", &v, Expect::AtLeastNumpy);
}

#[test]
fn losses_inside_groups_stay_within_the_bound() {
    // 1e16, 1, -1e16 interleaved: a 1 added to 1e16 is lost in any order of
    // addition; both lose almost all of them.
    let v: Vec<f64> = (0..300_000).map(|i| [1e16, 1.0, -1e16][i % 3]).collect();
    let (mm, np) = check("1e16, 1, -1e16 interleaved", &v, Expect::WithinGroupBound);
    assert!(mm > 5e4 && np > 5e4, "{mm:e} {np:e}");
    // One value, then many below half its last digit: numpy adds the first value
    // last, mmarray adds it into a lane first.
    let mut v = vec![1.0];
    v.extend(std::iter::repeat_n(1e-16, 300_000));
    check("1 then 1e-16s", &v, Expect::WithinGroupBound);
    let mut rng = Rng::new(42);
    for (case, n) in [(0, 200_000), (1, 333_333), (2, 1_000)] {
        let v = cancelling_pairs(&mut rng, n);
        check(
            &format!("random cancellation {case}"),
            &v,
            Expect::WithinGroupBound,
        );
    }
}

/// Pairs `x, -x(1 + 1e-13 z)` over 15 decades, shuffled, plus one normal value:
/// the exact sum is tiny compared with the sum of magnitudes.
fn cancelling_pairs(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut v = Vec::with_capacity(n + 1);
    for _ in 0..n / 2 {
        let x = rng.normal() * 10f64.powf(rng.uniform() * 15.0);
        v.push(x);
        v.push(-x * (1.0 + 1e-13 * rng.normal()));
    }
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v.push(rng.normal());
    v
}

#[test]
fn over_many_random_arrays_no_worse_than_pairwise() {
    // Per array either may win on cancelling data (see the module docs); summed
    // over many arrays mmarray's error is no larger than numpy's (here 0.8x on
    // cancelling pairs, 0 on uniform and on shifted normal data; on zero-mean
    // normal data both are within a rounding of the result, so that a total
    // compares roundings, not methods).
    let mut rng = Rng::new(2024);
    for kind in ["cancelling pairs", "uniform", "shifted normal"] {
        let (mut mm_total, mut np_total) = (0.0, 0.0);
        for _ in 0..16 {
            let n = 40_000 + rng.below(60_000) as usize;
            let v: Vec<f64> = match kind {
                "cancelling pairs" => cancelling_pairs(&mut rng, n),
                "shifted normal" => (0..n).map(|_| 1000.0 + rng.normal()).collect(),
                _ => (0..n).map(|_| rng.uniform()).collect(),
            };
            let truth = fsum(v.iter().copied());
            mm_total += (mm_sum(&v, ByteOrder::Little, false) - truth).abs();
            np_total += (numpy_sum(&v) - truth).abs();
        }
        println!("{kind}: total error mmarray {mm_total:e}, numpy {np_total:e}");
        assert!(
            mm_total <= np_total,
            "{kind}: total error mmarray {mm_total:e}, numpy {np_total:e}"
        );
    }
}
