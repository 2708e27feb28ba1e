//! Operations as methods ([`ArrayOps`], [`ArrayOpsMut`]) are the crate's functions with
//! typed results: every method gives the same bits as the function it stands for, on
//! strided, reversed, big-endian, unaligned and float16 views of every kind; axis results
//! come back as typed [`OwnedArray`]s; the fill a method call reaches with the trait in
//! scope is the parallel one.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{Flavor, Rng, encode_bytes, place, random_values, same_bits};
use mmarray_dtype::{Native, dispatch};
use mmarray_ops::prelude::*;
use mmarray_ops::{AxisResult, Error, Progress, reduce_axis_view};

/// Checks every method of `ArrayOps` against the functions on `v`.
fn check_methods<T: Elem>(v: &View<'_, T>, ctx: &str) {
    let defaults = ReduceOptions::default();
    let by_fn = |op| reduce(v, op, &defaults);
    let same = |got: Result<Value, Error>, want: Result<Value, Error>, what: &str| match (got, want)
    {
        (Ok(got), Ok(want)) => {
            assert!(same_bits(&got, &want), "{ctx} {what}: {got:?} vs {want:?}");
        }
        (Err(got), Err(want)) => assert_eq!(got.to_string(), want.to_string(), "{ctx} {what}"),
        (got, want) => panic!("{ctx} {what}: {got:?} vs {want:?}"),
    };
    same(v.sum().map(Native::to_value), by_fn(Op::Sum), "sum");
    same(v.mean().map(Native::to_value), by_fn(Op::Mean), "mean");
    same(v.min().map(Native::to_value), by_fn(Op::Min), "min");
    same(v.max().map(Native::to_value), by_fn(Op::Max), "max");
    same(
        v.argmin().map(|i| Value::I64(i as i64)),
        by_fn(Op::Argmin),
        "argmin",
    );
    same(
        v.argmax().map(|i| Value::I64(i as i64)),
        by_fn(Op::Argmax),
        "argmax",
    );
    same(v.var().map(Value::F64), by_fn(Op::Var), "var");
    same(v.std().map(Value::F64), by_fn(Op::Std), "std");
    let skip = ReduceOptions {
        skipna: true,
        ddof: 1,
    };
    let exec = Exec::new().threads(2).unwrap();
    same(
        v.sum_with(&skip, &exec).map(Native::to_value),
        reduce(v, Op::Sum, &skip),
        "nansum",
    );
    same(
        v.std_with(&skip, &exec).map(Value::F64),
        reduce(v, Op::Std, &skip),
        "nanstd",
    );
    same(
        v.reduce_with(Op::Max, &skip, &exec),
        reduce(v, Op::Max, &skip),
        "nanmax",
    );
    // (Debug: the stats of nothing hold NaNs, which `==` never matches.)
    let (got, want) = (v.stats().unwrap(), stats(v, false).unwrap());
    assert_eq!(format!("{got:?}"), format!("{want:?}"), "{ctx} stats");
    assert_eq!(
        v.count_nonzero().unwrap(),
        mmarray_ops::count_nonzero(v).unwrap(),
        "{ctx}"
    );

    for axis in -(v.ndim() as isize)..v.ndim() as isize {
        let want = |op| reduce_axis_view(v, op, axis, &defaults).unwrap();
        let bytes = |r: AxisResult| r.data;
        let check = |got: Vec<u8>, shape: &[usize], op: Op| {
            let wanted = want(op);
            assert_eq!(shape, wanted.shape, "{ctx} {op} axis {axis}");
            assert_eq!(got, bytes(wanted), "{ctx} {op} axis {axis}");
        };
        let raw = |s: &[u8]| s.to_vec();
        let r = v.sum_axis(axis).unwrap();
        check(raw(bytemuck::cast_slice(r.as_slice())), r.shape(), Op::Sum);
        let r = v.mean_axis(axis).unwrap();
        check(raw(bytemuck::cast_slice(r.as_slice())), r.shape(), Op::Mean);
        let r = v.var_axis(axis).unwrap();
        check(raw(bytemuck::cast_slice(r.as_slice())), r.shape(), Op::Var);
        let r = v.std_axis(axis).unwrap();
        check(raw(bytemuck::cast_slice(r.as_slice())), r.shape(), Op::Std);
        match (
            v.min_axis(axis),
            reduce_axis_view(v, Op::Min, axis, &defaults),
        ) {
            (Ok(r), Ok(w)) => assert_eq!(bytemuck::cast_slice::<T, u8>(r.as_slice()), w.data),
            (Err(g), Err(w)) => assert_eq!(g.to_string(), w.to_string()),
            (g, w) => panic!("{ctx} min axis {axis}: {g:?} vs {w:?}"),
        }
        let r = v.max_axis_with(axis, &skip, &exec);
        match (r, reduce_axis_view(v, Op::Max, axis, &skip)) {
            (Ok(r), Ok(w)) => assert_eq!(bytemuck::cast_slice::<T, u8>(r.as_slice()), w.data),
            (Err(g), Err(w)) => assert_eq!(g.to_string(), w.to_string()),
            (g, w) => panic!("{ctx} nanmax axis {axis}: {g:?} vs {w:?}"),
        }
    }
}

#[test]
fn methods_are_the_functions_on_every_kind_and_layout() {
    let mut rng = Rng::new(12);
    for kind in [
        Kind::Bool,
        Kind::I8,
        Kind::U16,
        Kind::I32,
        Kind::U64,
        Kind::F16,
        Kind::F32,
        Kind::F64,
        Kind::C64,
    ] {
        dispatch!(kind, T => {
            for flavor in [Flavor::Wide, Flavor::Nans] {
                if flavor == Flavor::Nans && !matches!(T::KIND.class(), mmarray_dtype::Class::Float | mmarray_dtype::Class::Complex) {
                    continue;
                }
                let values: Vec<T> = random_values(&mut rng, 7 * 9, flavor);
                for bo in [ByteOrder::Little, ByteOrder::Big] {
                    for misalign in [false, true] {
                        let (buf, at) = place(&encode_bytes(&values, bo), misalign);
                        let bytes = &buf[at..at + values.len() * std::mem::size_of::<T>()];
                        let v = View::<T>::from_bytes(bytes, &[7, 9], Order::C, bo).unwrap();
                        for spec in ["", "::-1, 1::2", "2, ::-3", "1:1"] {
                            let ctx = format!("{kind} {flavor:?} {bo:?} misalign {misalign} [{spec}]");
                            check_methods(&v.slice(spec).unwrap(), &ctx);
                        }
                    }
                }
            }
        });
    }
}

#[test]
fn results_are_typed_as_numpy_types_them() {
    let ints: Vec<u8> = (0..12).flat_map(|i: i8| (i - 6).to_ne_bytes()).collect();
    let v = View::<i8>::from_bytes(&ints, &[3, 4], Order::C, ByteOrder::NATIVE).unwrap();
    let sum: i64 = v.sum().unwrap();
    let mean: f64 = v.mean().unwrap();
    let min: i8 = v.min().unwrap();
    let rows: OwnedArray<i64> = v.sum_axis(1).unwrap();
    assert_eq!((sum, mean, min), (-6, -0.5, -6));
    assert_eq!(rows.as_slice(), [-18, -2, 14]);
    assert_eq!(rows.to_string(), "array([-18,  -2,  14])");
    // numpy's `[2:0:-1, ::-1]` spelled as Rust (no clippy complaint about the "empty" range).
    let rev = v.slice(s![2..0;-1, ..;-1]).unwrap();
    assert_eq!(rev.to_vec(), [5, 4, 3, 2, 1, 0, -1, -2]);
    assert_eq!(rev.sum().unwrap(), 12);

    let big: Vec<u8> = [1u32, 2, 3, u32::MAX]
        .iter()
        .flat_map(|x| x.to_be_bytes())
        .collect();
    let v = View::<u32>::from_bytes(&big, &[4], Order::C, ByteOrder::Big).unwrap();
    let sum: u64 = v.sum().unwrap();
    assert_eq!(sum, 6 + u64::from(u32::MAX));

    let halves: Vec<f16> = [0.5, 1.5, -2.0].map(f16::from_f32).to_vec();
    let bytes: Vec<u8> = bytemuck::cast_slice(&halves).to_vec();
    let v = View::<f16>::from_bytes(&bytes, &[3], Order::C, ByteOrder::NATIVE).unwrap();
    let max: f16 = v.max().unwrap();
    let sum: f64 = v.sum().unwrap();
    assert_eq!((max, sum), (f16::from_f32(1.5), 0.0));

    let c: Vec<Complex32> = vec![Complex32::new(1.0, 2.0), Complex32::new(3.0, -4.0)];
    let v =
        View::<Complex32>::from_bytes(bytemuck::cast_slice(&c), &[2], Order::C, ByteOrder::NATIVE)
            .unwrap();
    let mean: Complex64 = v.mean().unwrap();
    assert_eq!(mean, Complex64::new(2.0, -1.0));

    // Axis results keep an F-ordered view's memory order, and read back by index.
    let f: Vec<u8> = (0..6).flat_map(|i: i32| i.to_ne_bytes()).collect();
    let v = View::<i32>::from_bytes(&f, &[2, 3], Order::F, ByteOrder::NATIVE).unwrap();
    let cols = v.max_axis(0).unwrap();
    assert_eq!(cols.as_slice(), [1, 3, 5]);
    let same = v.slice("...").unwrap().min_axis(1).unwrap();
    assert_eq!((same.get(&[0]).unwrap(), same.get(&[1]).unwrap()), (0, 1));
}

#[test]
fn errors_say_what_is_wrong() {
    let bytes = [0u8; 0];
    let v = View::<f64>::from_bytes(&bytes, &[0, 3], Order::C, ByteOrder::NATIVE).unwrap();
    assert_eq!(
        v.min().unwrap_err().to_string(),
        "min of an empty array: the reduction has no identity"
    );
    assert_eq!(v.sum().unwrap(), 0.0);
    assert!(v.mean().unwrap().is_nan());
    assert_eq!(v.sum_axis(0).unwrap().shape(), [3]);
    assert_eq!(
        v.sum_axis(2).unwrap_err().to_string(),
        "axis 2 is out of bounds for an array of dimension 2"
    );
    assert_eq!(
        v.max_axis(-3).unwrap_err().to_string(),
        "axis -3 is out of bounds for an array of dimension 2"
    );
    let e = OwnedArray::from_vec(vec![1u8, 2, 3], &[2, 2], Order::C).unwrap_err();
    assert_eq!(
        e.to_string(),
        "shape [2, 2] of uint8 needs 4 bytes, the buffer has 3"
    );
    let r = AxisResult {
        dtype: DType::native(Kind::I64),
        shape: vec![1],
        order: Order::C,
        data: vec![0; 8],
    };
    assert_eq!(
        OwnedArray::<f64>::from_axis_result(&r)
            .unwrap_err()
            .to_string(),
        "an axis result of <i8 cannot be read as float64"
    );
    assert_eq!(
        OwnedArray::<i64>::from_axis_result(&r).unwrap().as_slice(),
        [0]
    );
}

/// A progress sink that counts bytes.
#[derive(Default)]
struct Count(AtomicU64);

impl Progress for Count {
    fn advance(&self, bytes: u64) {
        self.0.fetch_add(bytes, Ordering::Relaxed);
    }
}

#[test]
fn method_fills_are_the_parallel_ones() {
    let dir = tempfile::tempdir().unwrap();
    let count = Arc::new(Count::default());
    let exec = Exec::new().threads(2).unwrap().progress(count.clone());
    // SAFETY: the file is private to this test.
    let mut a =
        unsafe { Array::<f64, ReadWrite>::create(dir.path().join("f.npy"), &[300, 100], Order::C) }
            .unwrap();
    // With the trait in scope, `view_mut.fill` is the engine's fill (it reports progress).
    exec.run(|| a.view_mut().fill(1.5));
    assert_eq!(count.0.load(Ordering::Relaxed), 300 * 100 * 8);
    exec.run(|| a.slice_mut(s![..;2, 1]).unwrap().fill(-1.0));
    assert_eq!(a.sum().unwrap(), 1.5 * 29_850.0 - 150.0);
    assert_eq!(a.slice(s![2, ..3]).unwrap().to_vec(), [1.5, -1.0, 1.5]);
    (&mut a).fill(0.25);
    assert_eq!(a.max().unwrap(), 0.25);

    // Random fills by method are the function's, for any thread count.
    let one = Exec::new().threads(1).unwrap();
    one.run(|| a.random(Dist::Normal, 9)).unwrap();
    let by_method = a.view().to_vec();
    mmarray_ops::random_view(a.view_mut(), Dist::Normal, 9).unwrap();
    assert_eq!(a.view().to_vec(), by_method);
    a.slice_mut(s![-1])
        .unwrap()
        .random(Dist::Uniform, 3)
        .unwrap();
    assert!(a.slice(s![-1]).unwrap().min().unwrap() >= 0.0);
    let e = a
        .view_mut()
        .random(Dist::Integers { low: 0, high: 3 }, 1)
        .unwrap_err();
    assert_eq!(e.to_string(), "integers need an integer dtype, not float64");
    a.view_mut().slice_mut(s![..2, ..3]).unwrap().arange();
    assert_eq!(
        a.slice(s![..2, ..3]).unwrap().to_vec(),
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
}

/// `a[100:200].mean(axis=0)` of a 300 x 7 array, computed by hand: the column
/// means of rows 100..200 (exact: the values are halves of small integers).
fn means_by_hand(values: &[f64], rows: std::ops::Range<usize>, cols: &[usize]) -> Vec<f64> {
    let n = rows.len() as f64;
    cols.iter()
        .map(|&c| rows.clone().map(|r| values[r * 7 + c]).sum::<f64>() / n)
        .collect()
}

#[test]
fn axis_results_of_a_sliced_view_in_memory_and_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<f64> = (0..300 * 7)
        .map(|i| ((i * 7 + i / 7) % 13) as f64 * 0.5)
        .collect();
    let all: Vec<usize> = (0..7).collect();
    for (order, name) in [(Order::C, "c"), (Order::F, "f")] {
        // SAFETY: the files are private to this test.
        let mut a = unsafe {
            Array::<f64, ReadWrite>::create(
                dir.path().join(format!("{name}.npy")),
                &[300, 7],
                order,
            )
        }
        .unwrap();
        a.view_mut().assign_slice(&values).unwrap();
        let rows = a.slice(s![100..200]).unwrap();
        let want = means_by_hand(&values, 100..200, &all);

        // In memory, typed.
        let mean: OwnedArray<f64> = rows.mean_axis(0).unwrap();
        assert_eq!(mean.shape(), [7], "{name}");
        assert_eq!(mean.as_slice(), want, "{name}");
        let sums: OwnedArray<f64> = rows.sum_axis(0).unwrap();
        let want_sums: Vec<f64> = want.iter().map(|m| m * 100.0).collect();
        assert_eq!(sums.as_slice(), want_sums, "{name}");

        // Into a file, by method and by function: the same values.
        let out = dir.path().join(format!("{name}-means.npy"));
        rows.reduce_axis_to_npy(Op::Mean, 0, &out, false).unwrap();
        // SAFETY: as above.
        let file = unsafe { Array::<f64, ReadOnly>::open(&out) }.unwrap();
        assert_eq!(file.shape(), [7]);
        assert_eq!(file.view().to_vec(), want, "{name}");
        // An existing file is kept unless overwriting is asked for.
        let e = rows
            .reduce_axis_to_npy(Op::Sum, 0, &out, false)
            .unwrap_err();
        assert!(e.to_string().contains("file exists"), "{e}");
        drop(file);
        let two = Exec::new().threads(2).unwrap();
        rows.reduce_axis_to_npy_with(Op::Sum, 0, &out, true, &ReduceOptions::default(), &two)
            .unwrap();
        // SAFETY: as above.
        let file = unsafe { Array::<f64, ReadOnly>::open(&out) }.unwrap();
        assert_eq!(file.view().to_vec(), want_sums, "{name}");

        // A strided, reversed view: every other column from the end.
        let strided = a.slice(s![100..200, ..;-2]).unwrap();
        let cols = [6, 4, 2, 0];
        let want = means_by_hand(&values, 100..200, &cols);
        assert_eq!(strided.mean_axis(0).unwrap().as_slice(), want, "{name}");
        let out = dir.path().join(format!("{name}-strided.npy"));
        mmarray_ops::reduce_axis_view_to_npy(
            &strided,
            Op::Mean,
            -2,
            &ReduceOptions::default(),
            &out,
            false,
        )
        .unwrap();
        // SAFETY: as above.
        let file = unsafe { Array::<f64, ReadOnly>::open(&out) }.unwrap();
        assert_eq!(file.view().to_vec(), want, "{name}");

        // Along axis 1 of the rows, a 2-d result kept in the view's memory order.
        let block = a.slice(s![100..200, 1..3]).unwrap();
        let out = dir.path().join(format!("{name}-rows.npy"));
        block.reduce_axis_to_npy(Op::Max, 1, &out, false).unwrap();
        // SAFETY: as above.
        let file = unsafe { Array::<f64, ReadOnly>::open(&out) }.unwrap();
        assert_eq!(file.view().to_vec(), block.max_axis(1).unwrap().into_vec());
        let e = block.reduce_axis_to_npy(Op::Max, 2, dir.path().join("no.npy"), false);
        assert_eq!(
            e.unwrap_err().to_string(),
            "axis 2 is out of bounds for an array of dimension 2"
        );
        assert!(!dir.path().join("no.npy").exists());
    }
}

/// An axis result (of at most one dimension here) by shape and values, or its error.
fn owned<R: Element>(r: Result<OwnedArray<R>, Error>) -> String {
    match r {
        Ok(a) => format!("{:?} {:?}", a.shape(), a.as_slice()),
        Err(e) => e.to_string(),
    }
}

/// Every `ArrayOps` method of a chunked view against the same method of the view
/// it was cut from: the same bits (the engine walks both the same way).
fn check_chunked_methods<T: Elem>(
    v: &View<'_, T>,
    c: &mmarray_core::chunk::ChunkedView<'_, T>,
    ctx: &str,
) where
    T::Sum: std::fmt::Debug,
    T::Mean: std::fmt::Debug,
{
    let dbg = |x: &dyn std::fmt::Debug| format!("{x:?}");
    assert_eq!(dbg(&c.sum().unwrap()), dbg(&v.sum().unwrap()), "{ctx} sum");
    assert_eq!(
        dbg(&c.mean().unwrap()),
        dbg(&v.mean().unwrap()),
        "{ctx} mean"
    );
    assert_eq!(dbg(&c.min()), dbg(&v.min()), "{ctx} min");
    assert_eq!(dbg(&c.max()), dbg(&v.max()), "{ctx} max");
    assert_eq!(dbg(&c.argmin()), dbg(&v.argmin()), "{ctx} argmin");
    assert_eq!(dbg(&c.argmax()), dbg(&v.argmax()), "{ctx} argmax");
    assert_eq!(dbg(&c.var()), dbg(&v.var()), "{ctx} var");
    assert_eq!(dbg(&c.std()), dbg(&v.std()), "{ctx} std");
    assert_eq!(c.stats().unwrap(), v.stats().unwrap(), "{ctx} stats");
    assert_eq!(
        c.count_nonzero().unwrap(),
        v.count_nonzero().unwrap(),
        "{ctx}"
    );
    let opts = ReduceOptions {
        ddof: 1,
        skipna: true,
    };
    let two = Exec::new().threads(2).unwrap();
    assert_eq!(
        dbg(&c.std_with(&opts, &two)),
        dbg(&v.std_with(&opts, &two)),
        "{ctx} std_with"
    );
    for axis in -(v.ndim() as isize)..v.ndim() as isize {
        let ctx = format!("{ctx} axis {axis}");
        assert_eq!(
            owned(c.sum_axis(axis)),
            owned(v.sum_axis(axis)),
            "{ctx} sum"
        );
        assert_eq!(
            owned(c.mean_axis(axis)),
            owned(v.mean_axis(axis)),
            "{ctx} mean"
        );
        assert_eq!(
            owned(c.min_axis(axis)),
            owned(v.min_axis(axis)),
            "{ctx} min"
        );
        assert_eq!(
            owned(c.std_axis(axis)),
            owned(v.std_axis(axis)),
            "{ctx} std"
        );
        assert_eq!(
            c.reduce_axis_with(Op::Argmax, axis, &ReduceOptions::default(), &two)
                .map(|r| r.data)
                .ok(),
            v.reduce_axis_with(Op::Argmax, axis, &ReduceOptions::default(), &two)
                .map(|r| r.data)
                .ok(),
            "{ctx} argmax"
        );
    }
    let count = |n: &mut u64, block: &[T::Work]| *n += block.len() as u64;
    let merge = |n: &mut u64, m: u64| *n += m;
    assert_eq!(
        c.map_reduce(|| 0u64, count, merge).unwrap(),
        v.len() as u64,
        "{ctx} map_reduce"
    );
}

#[test]
fn methods_of_chunked_views_are_those_of_views() {
    use mmarray_core::chunk::{Chunked, MemoryChunks};
    let values: Vec<f64> = (0..40 * 25).map(|i| (f64::from(i) * 0.37).sin()).collect();
    let bytes = encode_bytes(&values, ByteOrder::Big);
    let floats_view = View::<f64>::from_bytes(&bytes, &[40, 25], Order::C, ByteOrder::Big).unwrap();
    let ints: Vec<i16> = (0..40 * 25).map(|i| (i * 37 % 601 - 300) as i16).collect();
    let int_bytes = encode_bytes(&ints, ByteOrder::NATIVE);
    let shorts_view =
        View::<i16>::from_bytes(&int_bytes, &[40, 25], Order::F, ByteOrder::NATIVE).unwrap();
    for chunk_order in [Order::C, Order::F] {
        let floats = Chunked::new(Box::new(
            MemoryChunks::from_view(&floats_view, &[7, 6], chunk_order).unwrap(),
        ));
        let shorts = Chunked::new(Box::new(
            MemoryChunks::from_view(&shorts_view, &[9, 4], chunk_order).unwrap(),
        ))
        .with_order(Order::F);
        let (floats_c, shorts_c) = (floats.view::<f64>().unwrap(), shorts.view::<i16>().unwrap());
        for spec in [
            s![..],
            s![10..30],
            s![..;-3, 1..;2],
            s![5],
            s![.., 24..0;-5],
        ] {
            let ctx = format!("{chunk_order:?} {spec}");
            let (vs, cs) = (
                floats_view.slice(spec.clone()).unwrap(),
                floats_c.slice(spec.clone()).unwrap(),
            );
            check_chunked_methods(&vs, &cs, &format!("f64 {ctx}"));
            let (ws, ds) = (
                shorts_view.slice(spec.clone()).unwrap(),
                shorts_c.slice(spec).unwrap(),
            );
            check_chunked_methods(&ws, &ds, &format!("i16 {ctx}"));
        }
        // Typed results, and `a[10:30].mean(axis=0)` into a file.
        let sum: i64 = shorts_c.sum().unwrap();
        assert_eq!(sum, ints.iter().map(|&x| i64::from(x)).sum::<i64>());
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("m.npy");
        floats_c
            .slice(s![10..30])
            .unwrap()
            .reduce_axis_to_npy(Op::Mean, 0, &out, false)
            .unwrap();
        // SAFETY: the file is private to this test.
        let file = unsafe { Array::<f64, ReadOnly>::open(&out) }.unwrap();
        let want = floats_view.slice(s![10..30]).unwrap().mean_axis(0).unwrap();
        assert_eq!(file.view().to_vec(), want.into_vec());
        // A chunked view in a `ChunkedViewMut` reads the same.
        let mut floats = floats;
        let m = floats.view_mut::<f64>().unwrap();
        assert_eq!(m.sum().unwrap(), floats_view.sum().unwrap());
        assert_eq!(owned(m.max_axis(1)), owned(floats_view.max_axis(1)));
    }
}

/// A writable view of `bytes` as a 9 x 7 big-endian float32 array.
fn fresh(bytes: &mut [u8]) -> ViewMut<'_, f32> {
    ViewMut::<f32>::from_bytes(bytes, &[9, 7], Order::C, ByteOrder::Big).unwrap()
}

#[test]
fn method_fills_of_chunked_views_are_those_of_views() {
    use mmarray_core::chunk::{Chunked, MemoryChunks};
    for spec in [s![..], s![1..;2, ..;-1], s![.., 3]] {
        let mut bytes = vec![0u8; 9 * 7 * 4];
        let mut chunked = Chunked::new(Box::new(
            MemoryChunks::new(
                DType::new(Kind::F32, ByteOrder::Big),
                &[9, 7],
                &[4, 3],
                Order::F,
            )
            .unwrap(),
        ));

        let ctx = format!("{spec}");
        fresh(&mut bytes)
            .into_slice(spec.clone())
            .unwrap()
            .random(Dist::Normal, 11)
            .unwrap();
        chunked
            .view_mut::<f32>()
            .unwrap()
            .into_slice(spec.clone())
            .unwrap()
            .random(Dist::Normal, 11)
            .unwrap();
        let got = chunked.view::<f32>().unwrap().to_vec().unwrap();
        let want = View::<f32>::from_bytes(&bytes, &[9, 7], Order::C, ByteOrder::Big)
            .unwrap()
            .to_vec();
        assert_eq!(got, want, "{ctx} random");

        fresh(&mut bytes).into_slice(spec.clone()).unwrap().arange();
        let r: Result<(), Error> = chunked
            .view_mut::<f32>()
            .unwrap()
            .into_slice(spec.clone())
            .unwrap()
            .arange();
        r.unwrap();
        fresh(&mut bytes).into_slice(s![0]).unwrap().fill(-2.5);
        chunked
            .view_mut::<f32>()
            .unwrap()
            .into_slice(s![0])
            .unwrap()
            .fill(-2.5)
            .unwrap();
        let got = chunked.view::<f32>().unwrap().to_vec().unwrap();
        let want = View::<f32>::from_bytes(&bytes, &[9, 7], Order::C, ByteOrder::Big)
            .unwrap()
            .to_vec();
        assert_eq!(got, want, "{ctx} arange and fill");
    }
}

#[test]
fn invalid_arguments_carry_their_fields() {
    use mmarray_ops::InvalidArgument as I;
    let invalid = |e: Error| match e {
        Error::Invalid(i) => {
            let text = i.to_string();
            (i, text)
        }
        other => panic!("not an invalid argument: {other:?}"),
    };
    let values = [1.0f64, 2.0, 3.0, 4.0];
    let v = View::<f64>::from_bytes(
        bytemuck::cast_slice(&values),
        &[2, 2],
        Order::C,
        ByteOrder::NATIVE,
    )
    .unwrap();

    let (e, text) = invalid(v.mean_axis(-3).unwrap_err());
    assert!(matches!(e, I::Axis { axis: -3, ndim: 2 }), "{e:?}");
    assert_eq!(text, "axis -3 is out of bounds for an array of dimension 2");

    let (e, text) = invalid(
        Exec::new()
            .threads(mmarray_ops::MAX_THREADS + 1)
            .unwrap_err(),
    );
    assert!(
        matches!(e, I::TooManyThreads { threads, max } if threads == max + 1 && max == mmarray_ops::MAX_THREADS),
        "{e:?}"
    );
    assert!(text.ends_with("are supported"), "{text}");

    let (e, text) = invalid("median".parse::<Op>().unwrap_err());
    assert!(
        matches!(&e, I::UnknownOp { name } if name == "median"),
        "{e:?}"
    );
    assert!(
        text.starts_with("unknown operation \"median\": expected one of sum"),
        "{text}"
    );

    // An empty axis 0 of a view `huge` wide: the sums would not fit in memory.
    let huge = usize::MAX / 4;
    let empty = View::<f64>::from_bytes(&[], &[0, huge], Order::C, ByteOrder::NATIVE).unwrap();
    let (e, text) = invalid(empty.sum_axis(0).unwrap_err());
    assert!(
        matches!(&e, I::ResultTooLarge { op: "sum", axis: 0, shape, dtype } if *shape == [huge] && dtype.kind() == Kind::F64),
        "{e:?}"
    );
    assert!(
        text.ends_with("too large for memory (write it to a file instead)"),
        "{text}"
    );

    let r = reduce_axis_view(&v, Op::Argmax, 0, &ReduceOptions::default()).unwrap();
    let (e, text) = invalid(OwnedArray::<f64>::from_axis_result(&r).unwrap_err());
    assert!(
        matches!(e, I::ResultType { expected: Kind::F64, found } if found == DType::native(Kind::I64)),
        "{e:?}"
    );
    assert!(text.ends_with("cannot be read as float64"), "{text}");

    let chunked = mmarray_core::chunk::Chunked::new(Box::new(
        mmarray_core::chunk::MemoryChunks::from_view(&v, &[1, 2], Order::C).unwrap(),
    ));
    let mut small = [0u8; 8];
    let to = DType::native(Kind::F32);
    let r =
        mmarray_ops::copy_chunked_into(&chunked.view::<f64>().unwrap(), &mut small, to, Order::C);
    let (e, text) = invalid(r.unwrap_err());
    assert!(
        matches!(&e, I::BufferLength { shape, dtype, expected: 16, found: 8 } if *shape == [2, 2] && *dtype == to),
        "{e:?}"
    );
    assert_eq!(
        text,
        format!("a buffer of 8 bytes given for 16 bytes (shape [2, 2] of {to})")
    );
}

#[test]
fn invalid_random_arguments_carry_their_fields() {
    use mmarray_ops::InvalidArgument as I;
    let check = |kind, dist| {
        let e = mmarray_ops::check_random(kind, dist).unwrap_err();
        let text = e.to_string();
        match e {
            Error::Invalid(i) => {
                assert_eq!(i.to_string(), text);
                (i, text)
            }
            other => panic!("not an invalid argument: {other:?}"),
        }
    };
    let (e, text) = check(Kind::I8, Dist::Integers { low: 3, high: 3 });
    assert!(matches!(e, I::EmptyRange { low: 3, high: 3 }), "{e:?}");
    assert_eq!(text, "integers: low (3) must be less than high (3)");
    let (e, text) = check(Kind::I8, Dist::Integers { low: 0, high: 200 });
    assert!(
        matches!(
            e,
            I::RangeOutside {
                low: 0,
                high: 200,
                kind: Kind::I8,
                min: -128,
                max: 127
            }
        ),
        "{e:?}"
    );
    assert_eq!(text, "integers: [0, 200) does not fit int8 (-128..=127)");
    let (e, text) = check(Kind::U32, Dist::Normal);
    assert!(
        matches!(
            e,
            I::NeedsFloat {
                dist: Dist::Normal,
                kind: Kind::U32
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        text,
        "Normal random numbers need a float or complex dtype, not uint32; use integers with low and high"
    );
    let (e, text) = check(Kind::F16, Dist::Integers { low: 0, high: 2 });
    assert!(matches!(e, I::NeedsInteger { kind: Kind::F16 }), "{e:?}");
    assert_eq!(text, "integers need an integer dtype, not float16");

    // Converted into the crate's error, with the same message.
    let e: Error = I::NeedsInteger { kind: Kind::F16 }.into();
    assert_eq!(e.to_string(), "integers need an integer dtype, not float16");
}
