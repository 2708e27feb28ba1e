//! Reductions along an axis (`reduce_axis`, `reduce_axis_to_npy`) against the
//! sequential reference applied to each lane of the full array: every op, 2-D and
//! 3-D arrays of several dtypes, C and F order, both byte orders, every axis
//! (also counted from the end).

mod common;

use common::{
    BYTE_ORDERS, Expected, Flavor, ORDERS, Reference, Rng, Want, all_ops, check, flavors, npy_with,
    open, random_values, values_of,
};
use mmarray_core::{DynArray, Order, ReadWrite, View};
use mmarray_dtype::{Bool, ByteOrder, Complex32, Complex64, DType, Kind, Native, Value, f16};
use mmarray_ops::{
    AxisResult, Elem, Error, Op, ReduceOptions, reduce_axis, reduce_axis_to_npy, reduce_axis_view,
    result_kind,
};

/// C-order strides (in elements) of `shape`.
fn c_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * shape[a + 1];
    }
    s
}

/// The lanes along `axis` of the logical (C-order) values, one per element of the
/// result, in the result's C order.
fn lanes<T: Copy>(values: &[T], shape: &[usize], axis: usize) -> Vec<Vec<T>> {
    let strides = c_strides(shape);
    let mut out_shape = shape.to_vec();
    out_shape.remove(axis);
    let count: usize = out_shape.iter().product();
    (0..count)
        .map(|o| {
            // Unravel `o` over the result shape, then walk the axis.
            let mut rest = o;
            let mut base = 0;
            for (a, &len) in out_shape.iter().enumerate().rev() {
                let i = rest % len;
                rest /= len;
                let src_axis = if a >= axis { a + 1 } else { a };
                base += i * strides[src_axis];
            }
            (0..shape[axis])
                .map(|k| values[base + k * strides[axis]])
                .collect()
        })
        .collect()
}

/// The expected result of `op` along `axis`: per lane, or the error of the first
/// lane that has one.
fn expected<T: Native>(
    lanes: &[Vec<T>],
    op: Op,
    opts: &ReduceOptions,
) -> Result<Vec<Expected>, Want> {
    let mut out = Vec::with_capacity(lanes.len());
    for lane in lanes {
        let mut e = Reference::new(lane, opts.skipna).get(op, opts.ddof);
        e.value?;
        // Along axes that are not contiguous values are added in axis order, as
        // numpy does: allow the error of sequential summation.
        let abs: f64 = lane.iter().map(|x| x.to_c128().norm()).sum();
        e.tol = e.tol.max(lane.len() as f64 * f64::EPSILON * abs * 2.0);
        out.push(e);
    }
    Ok(out)
}

fn check_array<T: Elem>(a: &DynArray<ReadWrite>, ctx: &str) {
    let values: Vec<T> = a.view::<T>().unwrap().iter().collect();
    let shape = a.shape().to_vec();
    let ndim = shape.len() as isize;
    for axis in -ndim..ndim {
        let ax = axis.rem_euclid(ndim) as usize;
        let lanes = lanes(&values, &shape, ax);
        for (op, opts) in all_ops() {
            let ctx = format!(
                "{ctx} axis {axis}: {op} skipna={} ddof={}",
                opts.skipna, opts.ddof
            );
            let got = reduce_axis(a, op, axis, &opts);
            match (got, expected(&lanes, op, &opts)) {
                (Ok(res), Ok(want)) => {
                    let kind = result_kind(op, T::KIND);
                    assert_eq!(res.dtype, DType::native(kind), "{ctx}");
                    let mut out_shape = shape.clone();
                    out_shape.remove(ax);
                    assert_eq!(res.shape, out_shape, "{ctx}");
                    assert_eq!(res.order, a.order(), "{ctx}");
                    let got = values_of(kind, &res.data, &res.shape, res.order, ByteOrder::NATIVE);
                    assert_eq!(got.len(), want.len(), "{ctx}");
                    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                        check(&Ok(*g), w, &format_args!("{ctx} [{i}]"));
                    }
                }
                (Err(Error::Empty { .. }), Err(Want::Empty))
                | (Err(Error::AllNan { .. }), Err(Want::AllNan)) => {}
                (got, want) => panic!("{ctx}: got {got:?}, want {want:?}"),
            }
        }
    }
}

fn run<T: Elem>(dir: &std::path::Path, seed: u64) {
    let mut rng = Rng::new(seed);
    let shapes: [&[usize]; 8] = [
        &[5, 7],
        &[1, 9],
        &[6, 1],
        &[3, 4, 5],
        &[2, 0, 3],
        &[4, 3, 0],
        &[2, 3, 2],
        &[0, 4],
    ];
    for shape in shapes {
        for order in ORDERS {
            for bo in BYTE_ORDERS {
                for &flavor in flavors(T::KIND) {
                    let n: usize = shape.iter().product();
                    let values = random_values::<T>(&mut rng, n, flavor);
                    let name = format!("{:?}-{shape:?}-{order:?}-{bo:?}-{flavor:?}.npy", T::KIND);
                    let a = npy_with(dir, &name, &values, shape, order, bo);
                    check_array::<T>(
                        &a,
                        &format!("{:?} {shape:?} {order:?} {bo:?} {flavor:?}", T::KIND),
                    );
                }
            }
        }
    }
}

#[test]
fn every_op_and_axis_against_lanes() {
    let dir = tempfile::tempdir().unwrap();
    for (i, kind) in [
        Kind::F64,
        Kind::F32,
        Kind::F16,
        Kind::I16,
        Kind::U64,
        Kind::Bool,
        Kind::C64,
    ]
    .into_iter()
    .enumerate()
    {
        mmarray_dtype::dispatch!(kind, T => run::<T>(dir.path(), i as u64));
    }
}

#[test]
fn wide_rows_span_several_tiles() {
    // Outputs are computed in tiles of 4096 to 16384 (about two per thread) along
    // the contiguous dimensions.
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(9);
    for (shape, order) in [
        (&[3usize, 4200][..], Order::C),
        (&[4200, 3][..], Order::F),
        (&[2, 2100, 3], Order::C),
        (&[2, 40000], Order::C),
    ] {
        let n: usize = shape.iter().product();
        let values = random_values::<f64>(&mut rng, n, Flavor::Nans);
        let a = npy_with(
            dir.path(),
            &format!("{shape:?}.npy"),
            &values,
            shape,
            order,
            ByteOrder::Big,
        );
        let values: Vec<f64> = a.view::<f64>().unwrap().iter().collect();
        for axis in 0..shape.len() {
            let lanes = lanes(&values, shape, axis);
            for op in [Op::Sum, Op::Argmax, Op::Var] {
                for skipna in [false, true] {
                    let opts = ReduceOptions { skipna, ddof: 0 };
                    let res = reduce_axis(&a, op, axis as isize, &opts).unwrap();
                    let got = values_of(
                        res.dtype.kind(),
                        &res.data,
                        &res.shape,
                        res.order,
                        ByteOrder::NATIVE,
                    );
                    let want = expected(&lanes, op, &opts).unwrap();
                    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                        check(
                            &Ok(*g),
                            w,
                            &format_args!("{shape:?} {order:?} axis {axis} {op} {skipna} [{i}]"),
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn to_npy_writes_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(3);
    let shape = [4, 6, 5];
    let values = random_values::<i32>(&mut rng, 120, Flavor::Wide);
    for order in ORDERS {
        let a = npy_with(
            dir.path(),
            &format!("src-{order:?}.npy"),
            &values,
            &shape,
            order,
            ByteOrder::Big,
        );
        for (op, axis) in [
            (Op::Sum, 0),
            (Op::Mean, -1),
            (Op::Min, 1),
            (Op::Argmax, 2),
            (Op::Std, -2),
        ] {
            let opts = ReduceOptions {
                skipna: false,
                ddof: 1,
            };
            let out = dir.path().join(format!("out-{order:?}-{op}-{axis}.npy"));
            reduce_axis_to_npy(&a, op, axis, &opts, &out, false).unwrap();
            let res = reduce_axis(&a, op, axis, &opts).unwrap();
            let b = open(&out);
            assert_eq!(b.dtype(), res.dtype);
            assert_eq!(b.dtype(), DType::native(result_kind(op, Kind::I32)));
            assert_eq!(b.shape(), res.shape);
            assert_eq!(b.order(), order);
            assert_eq!(b.bytes(), res.data, "{order:?} {op} axis {axis}");
            drop(b);
            // An existing file is replaced only when asked.
            let again = reduce_axis_to_npy(&a, op, axis, &opts, &out, false);
            assert!(
                matches!(again, Err(Error::Core(mmarray_core::Error::Exists { .. }))),
                "{again:?}"
            );
            reduce_axis_to_npy(&a, op, axis, &opts, &out, true).unwrap();
            assert_eq!(open(&out).bytes(), res.data);
        }
    }
    // Results read back as values.
    let a = npy_with(
        dir.path(),
        "small.npy",
        &[1.5f32, -2.0, 4.0, 0.5, 3.0, -1.0],
        &[2, 3],
        Order::C,
        ByteOrder::Big,
    );
    let out = dir.path().join("small-sum.npy");
    reduce_axis_to_npy(&a, Op::Sum, 0, &ReduceOptions::default(), &out, false).unwrap();
    let b = open(&out);
    assert_eq!(b.view::<f64>().unwrap().to_vec(), [2.0, 1.0, 3.0]);
    let out = dir.path().join("small-argmin.npy");
    reduce_axis_to_npy(&a, Op::Argmin, -1, &ReduceOptions::default(), &out, false).unwrap();
    assert_eq!(open(&out).view::<i64>().unwrap().to_vec(), [1, 2]);
}

#[test]
fn axis_out_of_range_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = npy_with(
        dir.path(),
        "a.npy",
        &[1u8; 6],
        &[2, 3],
        Order::C,
        ByteOrder::Little,
    );
    for axis in [2, 3, -3, isize::MIN, isize::MAX] {
        let r = reduce_axis(&a, Op::Sum, axis, &ReduceOptions::default());
        assert!(matches!(r, Err(Error::Invalid(_))), "axis {axis}: {r:?}");
        let out = dir.path().join("never.npy");
        let r = reduce_axis_to_npy(&a, Op::Sum, axis, &ReduceOptions::default(), &out, false);
        assert!(matches!(r, Err(Error::Invalid(_))), "axis {axis}: {r:?}");
        assert!(!out.exists());
    }
    // A 0-d array has no axis.
    let z = npy_with(
        dir.path(),
        "z.npy",
        &[1.0f64],
        &[],
        Order::C,
        ByteOrder::Little,
    );
    assert!(matches!(
        reduce_axis(&z, Op::Sum, 0, &ReduceOptions::default()),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn reductions_along_an_empty_axis() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ReduceOptions::default();
    for shape in [&[3usize, 0][..], &[0, 0], &[2, 0, 4]] {
        for order in ORDERS {
            let a = npy_with::<f32>(
                dir.path(),
                &format!("{shape:?}-{order:?}.npy"),
                &[],
                shape,
                order,
                ByteOrder::Big,
            );
            for op in [Op::Min, Op::Max, Op::Argmin, Op::Argmax] {
                // numpy: "zero-size array to reduction operation minimum which has no
                // identity", also when the result is empty.
                let r = reduce_axis(&a, op, 1, &opts);
                assert!(
                    matches!(r, Err(Error::Empty { .. })),
                    "{shape:?} {order:?} {op}: {r:?}"
                );
                let out = dir.path().join("never.npy");
                let r = reduce_axis_to_npy(&a, op, 1, &opts, &out, false);
                assert!(
                    matches!(r, Err(Error::Empty { .. })),
                    "{shape:?} {order:?} {op}: {r:?}"
                );
                assert!(!out.exists());
            }
            let sum = reduce_axis(&a, Op::Sum, 1, &opts).unwrap();
            let n = sum.shape.iter().product::<usize>();
            assert_eq!(
                values_of(
                    Kind::F64,
                    &sum.data,
                    &sum.shape,
                    sum.order,
                    ByteOrder::NATIVE
                ),
                vec![Value::F64(0.0); n]
            );
            let mean = reduce_axis(&a, Op::Mean, 1, &opts).unwrap();
            let got = values_of(
                Kind::F64,
                &mean.data,
                &mean.shape,
                mean.order,
                ByteOrder::NATIVE,
            );
            assert!(
                got.iter().all(|v| matches!(v, Value::F64(x) if x.is_nan())),
                "{got:?}"
            );
        }
    }
    // Along an axis that is not empty, an empty result is fine (as numpy).
    let a = npy_with::<f32>(dir.path(), "e.npy", &[], &[0, 3], Order::C, ByteOrder::Big);
    let r = reduce_axis(&a, Op::Min, 1, &opts).unwrap();
    assert_eq!((r.shape, r.data.len()), (vec![0], 0));
}

#[test]
fn integer_sums_along_an_axis_wrap() {
    let dir = tempfile::tempdir().unwrap();
    let a = npy_with(
        dir.path(),
        "w.npy",
        &[i64::MAX, 5, 1, 6],
        &[2, 2],
        Order::C,
        ByteOrder::Big,
    );
    for (axis, want) in [
        (0, [Value::I64(i64::MIN), Value::I64(11)]),
        (1, [Value::I64(i64::MIN + 4), Value::I64(7)]),
    ] {
        let r = reduce_axis(&a, Op::Sum, axis, &ReduceOptions::default()).unwrap();
        assert_eq!(
            values_of(Kind::I64, &r.data, &r.shape, r.order, ByteOrder::NATIVE),
            want
        );
    }
    let b = npy_with(
        dir.path(),
        "b.npy",
        &[Bool::TRUE, Bool::TRUE, Bool::FALSE, Bool::TRUE],
        &[2, 2],
        Order::F,
        ByteOrder::Big,
    );
    let r = reduce_axis(&b, Op::Sum, 0, &ReduceOptions::default()).unwrap();
    // F order: logical [[T, F], [T, T]].
    assert_eq!(
        values_of(Kind::I64, &r.data, &r.shape, r.order, ByteOrder::NATIVE),
        [Value::I64(2), Value::I64(1)]
    );
    let _ = (f16::ONE, Complex32::new(0.0, 0.0), Complex64::new(0.0, 0.0));
}

/// Checks `got` (an axis result) against the reference lanes of `values` (the
/// view's elements in logical C order, of `shape`) along `axis`.
fn check_result<T: Native>(
    got: Result<AxisResult, Error>,
    values: &[T],
    shape: &[usize],
    axis: usize,
    op: Op,
    opts: &ReduceOptions,
    ctx: &str,
) {
    let lanes = lanes(values, shape, axis);
    match (got, expected(&lanes, op, opts)) {
        (Ok(res), Ok(want)) => {
            let mut out_shape = shape.to_vec();
            out_shape.remove(axis);
            assert_eq!(res.shape, out_shape, "{ctx}");
            assert_eq!(res.dtype, DType::native(result_kind(op, T::KIND)), "{ctx}");
            let got = values_of(
                res.dtype.kind(),
                &res.data,
                &res.shape,
                res.order,
                ByteOrder::NATIVE,
            );
            assert_eq!(got.len(), want.len(), "{ctx}");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                check(&Ok(*g), w, &format_args!("{ctx} [{i}]"));
            }
        }
        (Err(Error::Empty { .. }), Err(Want::Empty))
        | (Err(Error::AllNan { .. }), Err(Want::AllNan)) => {}
        (got, want) => panic!("{ctx}: got {got:?}, want {want:?}"),
    }
}

fn views_of<T: Elem>(rng: &mut Rng, dir: &std::path::Path) {
    let specs = [
        ":",
        "::-1",
        "1:-1, ::2",
        "..., ::-3",
        "::2, 3",
        "-1::-2, :, 1:",
        "2, ::-1",
        "5:5",
    ];
    for order in ORDERS {
        for bo in BYTE_ORDERS {
            let shape = [9usize, 7, 5];
            let values = random_values::<T>(rng, 9 * 7 * 5, Flavor::Nans);
            let name = format!("{:?}-{order:?}-{bo:?}.npy", T::KIND);
            let a = npy_with(dir, &name, &values, &shape, order, bo);
            for spec in specs {
                let v: View<'_, T> = a.view::<T>().unwrap().slice(spec).unwrap();
                let logical: Vec<T> = v.iter().collect();
                for axis in 0..v.ndim() {
                    for (op, opts) in all_ops() {
                        let ctx = format!(
                            "{:?} {order:?} {bo:?} [{spec}] axis {axis}: {op} skipna={} ddof={}",
                            T::KIND,
                            opts.skipna,
                            opts.ddof
                        );
                        let got = reduce_axis_view(&v, op, axis as isize, &opts);
                        if let Ok(res) = &got {
                            let f = v.ndim() > 1 && v.is_f_contiguous() && !v.is_c_contiguous();
                            assert_eq!(res.order == Order::F, f, "{ctx}: result order");
                        }
                        check_result(got, &logical, v.shape(), axis, op, &opts, &ctx);
                    }
                }
            }
        }
    }
}

#[test]
fn views_along_every_axis_against_lanes() {
    // Strided, reversed and indexed views of C and F arrays in both byte orders:
    // the row path, the lane path (forwards and backwards) and their placements.
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(21);
    for kind in [
        Kind::F64,
        Kind::F16,
        Kind::I32,
        Kind::U8,
        Kind::Bool,
        Kind::C64,
    ] {
        mmarray_dtype::dispatch!(kind, T => views_of::<T>(&mut rng, dir.path()));
    }
}

#[test]
fn tall_arrays_and_long_lanes_against_lanes() {
    // Tall narrow arrays reduced over the long axis take several blocks of rows per
    // tile, merged in order; lanes of more than a segment are reduced one at a time
    // in parallel inside; lanes shorter than the kernel threshold element by element.
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(5);
    for (shape, order, bo) in [
        (&[40_000usize, 6][..], Order::C, ByteOrder::Little),
        (&[30_000, 5][..], Order::C, ByteOrder::Big),
        (&[6, 40_000][..], Order::F, ByteOrder::Little),
        (&[2, 140_000][..], Order::C, ByteOrder::Little),
        (&[70_000, 3][..], Order::C, ByteOrder::Big),
        (&[3, 9000, 4][..], Order::C, ByteOrder::Little),
    ] {
        let n: usize = shape.iter().product();
        let values = random_values::<f64>(&mut rng, n, Flavor::Nans);
        let name = format!("tall-{shape:?}-{order:?}.npy");
        let a = npy_with(dir.path(), &name, &values, shape, order, bo);
        let logical: Vec<f64> = a.view::<f64>().unwrap().iter().collect();
        for axis in 0..shape.len() {
            for op in [Op::Sum, Op::Mean, Op::Argmin, Op::Max, Op::Std] {
                for skipna in [false, true] {
                    let opts = ReduceOptions { skipna, ddof: 1 };
                    let ctx = format!("{shape:?} {order:?} {bo:?} axis {axis}: {op} {skipna}");
                    let got = reduce_axis(&a, op, axis as isize, &opts);
                    check_result(got, &logical, shape, axis, op, &opts, &ctx);
                }
            }
        }
    }
}

/// Sums over axis 0 of a mapped native float64 array add each column's values
/// one row after the other from +0.0, bit for bit: the engine takes such rows
/// four at a time, which must change no bit, whatever the number of rows (tails
/// of one to three rows included), the width (one tile or several) or the
/// threads. The values span many magnitudes, so another order would show.
#[test]
fn axis0_sums_add_rows_in_order_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Mantissa in [-0.5, 0.5), scaled by 10^-6 to 10^9.
        ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 10f64.powi((x % 16) as i32 - 6)
    };
    // At most 31 rows: one block of rows for the engine (it adds the sums of
    // blocks of 1 MiB of rows afterwards, in order).
    for rows in [1usize, 2, 3, 4, 5, 6, 7, 8, 9, 13, 31] {
        // (Width 1 has contiguous lanes: they take the whole-array kernels.)
        for width in [2usize, 37, 4100] {
            let values: Vec<f64> = (0..rows * width).map(|_| next()).collect();
            let name = format!("{rows}x{width}.npy");
            let a = npy_with(
                dir.path(),
                &name,
                &values,
                &[rows, width],
                Order::C,
                ByteOrder::NATIVE,
            );
            let want: Vec<u64> = (0..width)
                .map(|i| {
                    (0..rows)
                        .fold(0.0f64, |s, j| s + values[j * width + i])
                        .to_bits()
                })
                .collect();
            for threads in [1, 2] {
                let exec = mmarray_ops::Exec::new().threads(threads).unwrap();
                let res = exec
                    .run(|| reduce_axis(&a, Op::Sum, 0, &ReduceOptions::default()))
                    .unwrap();
                let got: Vec<u64> = res
                    .data
                    .chunks_exact(8)
                    .map(|b| u64::from_ne_bytes(b.try_into().unwrap()))
                    .collect();
                assert_eq!(got, want, "{rows}x{width}, {threads} threads");
            }
        }
    }
}
