//! Results do not depend on the number of threads: reductions give the same
//! bits and random fills the same bytes on rayon pools of 1, 2, 3 and 8 threads.

mod common;

use common::{Flavor, Rng, encode_bytes, random_values, same_bits, with_threads};
use mmarray_core::{Order, View, ViewMut};
use mmarray_dtype::{Bool, ByteOrder, Complex32, Value, f16};
use mmarray_ops::{
    Dist, Elem, Op, ReduceOptions, Stats, fill_with, random_view, reduce, reduce_axis_view, stats,
};

const THREADS: [usize; 4] = [1, 2, 3, 8];

/// Segments of the engine hold 1 MiB: `segments` of them (and a bit) of `T`.
fn len_for<T>(segments: usize) -> usize {
    segments * (1 << 20) / size_of::<T>() + 333
}

fn stats_bits(a: &Stats, b: &Stats) -> bool {
    let opt = |x: &Option<Value>, y: &Option<Value>| match (x, y) {
        (Some(x), Some(y)) => same_bits(x, y),
        (None, None) => true,
        _ => false,
    };
    a.count == b.count
        && same_bits(&a.sum, &b.sum)
        && same_bits(&a.mean, &b.mean)
        && same_bits(&a.std, &b.std)
        && opt(&a.min, &b.min)
        && opt(&a.max, &b.max)
}

/// Runs the reductions (and `stats` when `with_stats`) on pools of every size and
/// checks that all agree bit for bit.
fn same_on_every_pool<T: Elem>(
    view: &View<'_, T>,
    ops: &[(Op, ReduceOptions)],
    with_stats: bool,
    ctx: &str,
) {
    let run = || {
        let values: Vec<Value> = ops
            .iter()
            .map(|(op, opts)| reduce(view, *op, opts).unwrap())
            .collect();
        let s = if with_stats {
            vec![stats(view, false).unwrap(), stats(view, true).unwrap()]
        } else {
            vec![]
        };
        (values, s)
    };
    let (first, first_stats) = with_threads(THREADS[0], run);
    for &k in &THREADS[1..] {
        let (values, s) = with_threads(k, run);
        for ((a, b), (op, opts)) in first.iter().zip(&values).zip(ops) {
            assert!(
                same_bits(a, b),
                "{ctx}: {op} {opts:?} with 1 thread {a:?}, with {k} threads {b:?}"
            );
        }
        for (a, b) in first_stats.iter().zip(&s) {
            assert!(
                stats_bits(a, b),
                "{ctx}: stats with 1 thread {a:?}, with {k} threads {b:?}"
            );
        }
    }
}

fn float_ops() -> Vec<(Op, ReduceOptions)> {
    let plain = ReduceOptions::default();
    let skip = ReduceOptions {
        skipna: true,
        ddof: 0,
    };
    vec![
        (Op::Sum, plain),
        (Op::Sum, skip),
        (Op::Mean, skip),
        (
            Op::Var,
            ReduceOptions {
                skipna: true,
                ddof: 1,
            },
        ),
        (Op::Argmin, skip),
        (Op::Argmax, plain),
    ]
}

/// An array of `T` just over `segments` segments long, with a few NaNs, checked
/// with `ops` (and `stats`).
fn check_float<T: Elem>(
    segments: usize,
    bo: ByteOrder,
    seed: u64,
    ops: &[(Op, ReduceOptions)],
    with_stats: bool,
) {
    let n = len_for::<T>(segments);
    let mut rng = Rng::new(seed);
    let mut values = random_values::<T>(&mut rng, n, Flavor::Wide);
    // A few NaNs (skipped by nansum & co.), placed in different segments.
    for i in [n / 7, n / 2, n - 5] {
        values[i] = T::from_f64(f64::NAN);
    }
    let bytes = encode_bytes(&values, bo);
    let view = View::<T>::from_bytes(&bytes, &[n], Order::C, bo).unwrap();
    same_on_every_pool(&view, ops, with_stats, &format!("{:?} {bo:?}", T::KIND));
}

#[test]
fn float_sums_and_moments() {
    let ops = float_ops();
    check_float::<f64>(1, ByteOrder::Little, 1, &ops, true);
    check_float::<f64>(1, ByteOrder::Big, 2, &ops, true);
    check_float::<f32>(1, ByteOrder::Little, 3, &ops, true);
    check_float::<f16>(1, ByteOrder::Big, 5, &ops, true);
    check_float::<Complex32>(1, ByteOrder::Big, 6, &ops, false);
}

#[test]
fn more_segments_than_threads() {
    let plain = ReduceOptions::default();
    let ops = [(Op::Sum, plain), (Op::Var, plain)];
    check_float::<f64>(9, ByteOrder::Little, 7, &ops, false);
    check_float::<f16>(
        3,
        ByteOrder::Little,
        8,
        &[(
            Op::Sum,
            ReduceOptions {
                skipna: true,
                ddof: 0,
            },
        )],
        false,
    );
}

#[test]
fn strided_views_and_integers() {
    // A 2-D F-order array viewed with negative steps: argmin/argmax indices are
    // merged across segments out of memory order.
    let (rows, cols) = (1400, 200); // two segments of the view's 140k values
    let mut rng = Rng::new(11);
    let values = random_values::<f64>(&mut rng, rows * cols, Flavor::Ties);
    let bytes = encode_bytes(&values, ByteOrder::Big);
    let view = View::<f64>::from_bytes(&bytes, &[rows, cols], Order::F, ByteOrder::Big).unwrap();
    let view = view.slice("::-1, 1::2").unwrap();
    same_on_every_pool(&view, &float_ops(), true, "f64 F-order sliced");

    let values = random_values::<i16>(&mut rng, len_for::<i16>(1), Flavor::Ties);
    let bytes = encode_bytes(&values, ByteOrder::Big);
    let view = View::<i16>::from_bytes(&bytes, &[values.len()], Order::C, ByteOrder::Big).unwrap();
    let plain = ReduceOptions::default();
    let ops = [
        (Op::Sum, plain),
        (Op::Argmin, plain),
        (Op::Argmax, plain),
        (Op::Var, plain),
        (Op::Mean, plain),
    ];
    same_on_every_pool(&view, &ops, false, "i16 ties");
}

/// Fills a fresh buffer on a pool of `threads` threads and returns its bytes.
fn filled<T: Elem>(
    threads: usize,
    shape: &[usize],
    order: Order,
    bo: ByteOrder,
    spec: &str,
    dist: Dist,
) -> Vec<u8> {
    let n: usize = shape.iter().product();
    let mut bytes = vec![0xa5u8; n * size_of::<T>()];
    with_threads(threads, || {
        let view = ViewMut::<T>::from_bytes(&mut bytes, shape, order, bo).unwrap();
        random_view(view.into_slice(spec).unwrap(), dist, 0xdead_beef).unwrap();
    });
    bytes
}

fn same_fill_on_every_pool<T: Elem>(
    shape: &[usize],
    order: Order,
    bo: ByteOrder,
    spec: &str,
    dist: Dist,
) {
    let first = filled::<T>(1, shape, order, bo, spec, dist);
    for &k in &THREADS[1..] {
        let other = filled::<T>(k, shape, order, bo, spec, dist);
        assert!(
            first == other,
            "{:?} {shape:?} {order:?} {bo:?} [{spec}] {dist:?}: bytes differ with {k} threads",
            T::KIND
        );
    }
}

#[test]
fn random_fills() {
    let big = [len_for::<f64>(3)];
    same_fill_on_every_pool::<f64>(&big, Order::C, ByteOrder::Little, "", Dist::Normal);
    same_fill_on_every_pool::<f64>(&big, Order::C, ByteOrder::Big, "::-1", Dist::Uniform);
    same_fill_on_every_pool::<f32>(
        &[1200, 300],
        Order::F,
        ByteOrder::Little,
        "::-1, 1::3",
        Dist::Normal,
    );
    same_fill_on_every_pool::<f16>(
        &[len_for::<f16>(2)],
        Order::C,
        ByteOrder::Big,
        "",
        Dist::Uniform,
    );
    same_fill_on_every_pool::<Complex32>(
        &[700, 400],
        Order::C,
        ByteOrder::Big,
        ":, ::-1",
        Dist::Normal,
    );
    same_fill_on_every_pool::<i16>(
        &[len_for::<i16>(2)],
        Order::C,
        ByteOrder::Little,
        "",
        Dist::Integers {
            low: -7,
            high: 1000,
        },
    );
    same_fill_on_every_pool::<u64>(
        &[600, 300],
        Order::F,
        ByteOrder::Big,
        "1:",
        Dist::Integers {
            low: 0,
            high: i64::MAX.into(),
        },
    );
    same_fill_on_every_pool::<Bool>(
        &[len_for::<Bool>(2)],
        Order::C,
        ByteOrder::Little,
        "",
        Dist::Uniform,
    );
}

#[test]
fn fill_with_on_every_pool() {
    let shape = [600, 300];
    let run = |k| {
        let mut bytes = vec![0u8; shape[0] * shape[1] * 8];
        with_threads(k, || {
            let view =
                ViewMut::<u64>::from_bytes(&mut bytes, &shape, Order::F, ByteOrder::Big).unwrap();
            fill_with(view.into_slice("::-2, ::-1").unwrap(), |i| {
                (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            });
        });
        bytes
    };
    let first = run(1);
    for k in [2, 3, 8] {
        assert!(first == run(k), "fill_with differs with {k} threads");
    }
}

fn axis_same_on_every_pool<T: Elem>(view: &View<'_, T>, ctx: &str) {
    let plain = ReduceOptions::default();
    let skip = ReduceOptions {
        skipna: true,
        ddof: 1,
    };
    let ops = [
        (Op::Sum, plain),
        (Op::Mean, skip),
        (Op::Std, skip),
        (Op::Argmax, skip),
    ];
    for axis in 0..view.ndim() {
        for (op, opts) in ops {
            // Lanes of NaNs only make nanargmax an error: on every pool alike.
            let run =
                || reduce_axis_view(view, op, axis as isize, &opts).map_err(|e| e.to_string());
            let Ok(first) = with_threads(THREADS[0], run) else {
                for &k in &THREADS[1..] {
                    assert!(with_threads(k, run).is_err(), "{ctx}: {op} axis {axis}");
                }
                continue;
            };
            for &k in &THREADS[1..] {
                let other = with_threads(k, run).unwrap();
                assert_eq!(
                    (&first.shape, first.order),
                    (&other.shape, other.order),
                    "{ctx}"
                );
                assert!(
                    first.data == other.data,
                    "{ctx}: {op} {opts:?} along axis {axis} differs between 1 and {k} threads"
                );
            }
        }
    }
}

#[test]
fn axis_reductions_do_not_depend_on_threads() {
    // Tall narrow, wide, square and 3-D shapes in both orders, native and
    // big-endian, whole and strided: the row path with several blocks per tile
    // and several tiles, the lane path with short and long lanes.
    let mut rng = Rng::new(77);
    let shapes: [&[usize]; 6] = [
        &[40_000, 5],
        &[5, 40_000],
        &[300, 300],
        &[20, 30, 40],
        &[2, 140_000],
        &[70_000, 2],
    ];
    for shape in shapes {
        let n: usize = shape.iter().product();
        let values = random_values::<f64>(&mut rng, n, Flavor::Nans);
        for order in [Order::C, Order::F] {
            for bo in [ByteOrder::Little, ByteOrder::Big] {
                let bytes = encode_bytes(&values, bo);
                let v = View::<f64>::from_bytes(&bytes, shape, order, bo).unwrap();
                axis_same_on_every_pool(&v, &format!("{shape:?} {order:?} {bo:?}"));
                let spec = if shape.len() == 2 {
                    "1::3, ::-1"
                } else {
                    "::-1, 1:, ::2"
                };
                let s = v.slice(spec).unwrap();
                axis_same_on_every_pool(&s, &format!("{shape:?} {order:?} {bo:?} [{spec}]"));
            }
        }
    }
    let halves: Vec<f16> = random_values::<f16>(&mut rng, 60_000 * 4, Flavor::Nans);
    let bytes = encode_bytes(&halves, ByteOrder::Big);
    let v = View::<f16>::from_bytes(&bytes, &[60_000, 4], Order::C, ByteOrder::Big).unwrap();
    axis_same_on_every_pool(&v, "f16 [60000, 4] big-endian");
    let ints: Vec<i32> = random_values::<i32>(&mut rng, 60_000 * 4, Flavor::Wide);
    let bytes = encode_bytes(&ints, ByteOrder::Little);
    let v = View::<i32>::from_bytes(&bytes, &[60_000, 4], Order::C, ByteOrder::Little).unwrap();
    axis_same_on_every_pool(&v, "i32 [60000, 4]");
}

#[test]
fn long_lanes_give_each_lane_its_own_reduction_shared_out_or_not() {
    // Contiguous lanes of a segment or more: the threads share them out whole
    // when a lane is under 4 segments per thread (the 4.6 MiB lanes on 2 or
    // more threads, and 66 lanes of 1 MiB, past a batch of 64), otherwise they
    // take one lane at a time together (the 4.6 MiB lanes on 1 thread). Either
    // way each result is the whole-array reduction of its lane, bit for bit.
    let mut rng = Rng::new(91);
    let skip = ReduceOptions {
        skipna: true,
        ddof: 0,
    };
    for (rows, n, bo) in [
        (6usize, 600_000usize, ByteOrder::Little),
        (66, 1 << 17, ByteOrder::Big),
    ] {
        let values = random_values::<f64>(&mut rng, rows * n, Flavor::Nans);
        let bytes = encode_bytes(&values, bo);
        let v = View::<f64>::from_bytes(&bytes, &[rows, n], Order::C, bo).unwrap();
        for (op, opts) in [(Op::Sum, ReduceOptions::default()), (Op::Argmax, skip)] {
            let expect: Vec<u8> = (0..rows)
                .flat_map(|r| {
                    let lane = v.slice(format!("{r}, :").as_str()).unwrap();
                    match reduce(&lane, op, &opts).unwrap() {
                        Value::F64(x) => x.to_ne_bytes(),
                        Value::I64(i) => i.to_ne_bytes(),
                        other => panic!("{op}: {other:?}"),
                    }
                })
                .collect();
            for k in THREADS {
                let got = with_threads(k, || reduce_axis_view(&v, op, 1, &opts)).unwrap();
                assert_eq!(got.shape, [rows]);
                assert!(
                    got.data == expect,
                    "{rows}x{n} {bo:?}: {op} along axis 1 on {k} threads differs from each lane's own {op}"
                );
            }
        }
    }
}
