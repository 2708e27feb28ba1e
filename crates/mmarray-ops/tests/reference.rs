//! Every reduction of `mmarray-ops` against a naive sequential reference, on
//! random arrays of every dtype, in both byte orders, C and F order, aligned and
//! misaligned, whole and sliced with negative steps, from 0-d and empty arrays to
//! arrays that span several of the engine's 1 MiB segments.

mod common;

use common::{
    BYTE_ORDERS, Flavor, Reference, Rng, Want, all_ops, check, encode_bytes, flavors, logical,
    place, random_values, reference_count_nonzero, same_bits,
};
use mmarray_core::{Index, Order, Spec, View};
use mmarray_dtype::{
    Bool, ByteOrder, Class, Complex32, Complex64, Kind, Native, Value, dispatch, f16,
};
use mmarray_ops::{Elem, Error, Op, ReduceOptions, count_nonzero, reduce, stats};
use proptest::prelude::*;

/// Checks every reduction, `count_nonzero` and `stats` of `view` against the reference.
fn check_view<T: Elem>(view: &View<'_, T>, ctx: &str) {
    let values = logical(view);
    assert_eq!(values.len(), view.len(), "{ctx}");
    let refs = [
        Reference::new(&values, false),
        Reference::new(&values, true),
    ];
    for (op, opts) in all_ops() {
        let got = reduce(view, op, &opts);
        let want = refs[usize::from(opts.skipna)].get(op, opts.ddof);
        check(
            &got,
            &want,
            &format_args!("{ctx}: {op} skipna={} ddof={}", opts.skipna, opts.ddof),
        );
    }
    assert_eq!(
        count_nonzero(view).unwrap(),
        reference_count_nonzero(&values),
        "{ctx}: count_nonzero"
    );
    for skipna in [false, true] {
        let ctx = format!("{ctx}: stats skipna={skipna}");
        let opts = ReduceOptions { skipna, ddof: 0 };
        let s = stats(view, skipna).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let used = values
            .iter()
            .filter(|&&x| !(skipna && common::is_nan(x)))
            .count() as u64;
        assert_eq!(s.count, used, "{ctx}: count");
        let r = |op| reduce(view, op, &opts);
        // stats shares the kernels of the single reductions: the same bits.
        assert!(
            same_bits(&s.sum, &r(Op::Sum).unwrap()),
            "{ctx}: sum {:?} vs {:?}",
            s.sum,
            r(Op::Sum)
        );
        assert!(
            same_bits(&s.mean, &r(Op::Mean).unwrap()),
            "{ctx}: mean {:?} vs {:?}",
            s.mean,
            r(Op::Mean)
        );
        assert!(
            same_bits(&s.std, &r(Op::Std).unwrap()),
            "{ctx}: std {:?} vs {:?}",
            s.std,
            r(Op::Std)
        );
        for (got, op) in [(s.min, Op::Min), (s.max, Op::Max)] {
            match (got, r(op)) {
                (Some(g), Ok(w)) => assert!(same_bits(&g, &w), "{ctx}: {op} {g:?} vs {w:?}"),
                (None, Err(Error::Empty { .. })) => {}
                (g, w) => panic!("{ctx}: {op} {g:?} vs {w:?}"),
            }
        }
        let reference = &refs[usize::from(skipna)];
        check(
            &Ok(s.std),
            &reference.get(Op::Std, 0),
            &format_args!("{ctx}: std"),
        );
        check(
            &Ok(s.mean),
            &reference.get(Op::Mean, 0),
            &format_args!("{ctx}: mean"),
        );
    }
}

/// A lighter [`check_view`] for large views (debug builds are slow): the main
/// reductions, a few NaN-skipping ones for floats, and one `stats`.
fn check_view_light<T: Elem>(view: &View<'_, T>, ctx: &str) {
    let values = logical(view);
    let float = matches!(T::KIND.class(), Class::Float | Class::Complex);
    let mut ops = vec![
        (Op::Sum, false, 0),
        (Op::Mean, false, 0),
        (Op::Min, false, 0),
        (Op::Argmin, false, 0),
        (Op::Argmax, false, 0),
        (Op::Var, false, 1),
    ];
    if float {
        ops.extend([
            (Op::Sum, true, 0),
            (Op::Max, true, 0),
            (Op::Argmin, true, 0),
        ]);
    }
    let refs = [
        Reference::new(&values, false),
        Reference::new(&values, true),
    ];
    let mut sums = Vec::new();
    for (op, skipna, ddof) in ops {
        let got = reduce(view, op, &ReduceOptions { skipna, ddof });
        let want = refs[usize::from(skipna)].get(op, ddof);
        check(
            &got,
            &want,
            &format_args!("{ctx}: {op} skipna={skipna} ddof={ddof}"),
        );
        if op == Op::Sum {
            sums.push(got.unwrap());
        }
    }
    // stats (skipping NaNs for floats) against the reference and the sum above.
    let skipna = float;
    let reference = &refs[usize::from(skipna)];
    let s = stats(view, skipna).unwrap();
    let ctx = format!("{ctx}: stats skipna={skipna}");
    assert!(same_bits(&s.sum, sums.last().unwrap()), "{ctx}: sum");
    check(
        &Ok(s.mean),
        &reference.get(Op::Mean, 0),
        &format_args!("{ctx}: mean"),
    );
    check(
        &Ok(s.std),
        &reference.get(Op::Std, 0),
        &format_args!("{ctx}: std"),
    );
    check(
        &s.min.ok_or(Error::Empty { op: "min" }),
        &reference.get(Op::Min, 0),
        &format_args!("{ctx}: min"),
    );
    check(
        &s.max.ok_or(Error::Empty { op: "max" }),
        &reference.get(Op::Max, 0),
        &format_args!("{ctx}: max"),
    );
    assert_eq!(
        count_nonzero(view).unwrap(),
        reference_count_nonzero(&values),
        "{ctx}: count_nonzero"
    );
}

/// A layout to test: a contiguous array of `shape` in `order`, optionally at an
/// odd address, optionally sliced.
#[derive(Debug, Clone)]
struct Case {
    shape: Vec<usize>,
    order: Order,
    spec: Option<String>,
    misalign: bool,
}

fn case(shape: &[usize], order: Order, spec: Option<&str>, misalign: bool) -> Case {
    Case {
        shape: shape.to_vec(),
        order,
        spec: spec.map(str::to_owned),
        misalign,
    }
}

/// Builds the case's view over random data of `flavor` in byte order `bo` and checks it.
fn run_case<T: Elem>(c: &Case, bo: ByteOrder, flavor: Flavor, rng: &mut Rng) {
    run_case_with::<T>(c, bo, flavor, rng, check_view::<T>);
}

fn run_case_with<T: Elem>(
    c: &Case,
    bo: ByteOrder,
    flavor: Flavor,
    rng: &mut Rng,
    checker: fn(&View<'_, T>, &str),
) {
    let n: usize = c.shape.iter().product();
    let values = random_values::<T>(rng, n, flavor);
    let bytes = encode_bytes(&values, bo);
    let (buf, off) = place(&bytes, c.misalign);
    let data = &buf[off..off + bytes.len()];
    let view = View::<T>::from_bytes(data, &c.shape, c.order, bo).expect("view");
    let view = match &c.spec {
        Some(spec) => view.slice(spec.as_str()).expect("slice"),
        None => view,
    };
    let ctx = format!(
        "{:?} {bo:?} {flavor:?} {c:?} -> shape {:?}",
        T::KIND,
        view.shape()
    );
    checker(&view, &ctx);
}

fn small_cases() -> Vec<Case> {
    use Order::{C, F};
    vec![
        case(&[], C, None, false),
        case(&[], F, None, true),
        case(&[0], C, None, false),
        case(&[1], C, None, false),
        case(&[1], F, None, true),
        case(&[7], C, None, false),
        case(&[7], C, Some("::-1"), true),
        case(&[9], C, Some("5:2"), false),
        case(&[9], F, Some("-2:0:-3"), false),
        case(&[3, 0], C, None, false),
        case(&[0, 4], F, Some("::-1"), false),
        case(&[5, 7], C, None, false),
        case(&[5, 7], F, None, false),
        case(&[5, 7], C, Some("::-1, 1::2"), false),
        case(&[5, 7], F, Some("::-1, 1::2"), false),
        case(&[5, 7], F, Some(":, ::-3"), true),
        case(&[6, 5], C, Some("2"), false),
        case(&[6, 5], F, Some("-1:0:-2, -2"), false),
        case(&[4, 3, 5], C, Some("..., ::-1"), false),
        case(&[4, 3, 5], F, Some("::-2, 1, 1:"), false),
        case(&[4, 3, 5], F, Some("1:3, ::-1, ::2"), true),
        case(&[2, 3, 4], C, Some("1, 2, 3"), false),
        case(&[40, 33], F, None, true),
        case(&[300], C, Some("::-7"), false),
    ]
}

fn small<T: Elem>(seed: u64) {
    let mut rng = Rng::new(seed);
    for c in small_cases() {
        for bo in BYTE_ORDERS {
            for &flavor in flavors(T::KIND) {
                run_case::<T>(&c, bo, flavor, &mut rng);
            }
        }
    }
}

#[test]
fn every_kind_small_layouts() {
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        dispatch!(kind, T => small::<T>(i as u64));
    }
}

/// Views of a little over 1 MiB of elements (the engine's segment size), so that
/// they span two segments whose partial results are merged: for every kind a 2-D
/// F-order array sliced with negative steps, big-endian; for kinds of four bytes
/// and more also a reversed, misaligned 1-D view.
fn large<T: Elem>(seed: u64) {
    let mut rng = Rng::new(seed);
    let size = std::mem::size_of::<T>();
    let n = (1 << 20) / size + 4099;
    let cols = 129;
    let rows = 2 * n / cols + 2;
    let fl = flavors(T::KIND);
    let nans_or_ties = fl[fl.len() - 2];
    let c = case(&[rows, cols], Order::F, Some("::-1, 1::2"), false);
    run_case_with::<T>(
        &c,
        ByteOrder::Big,
        nans_or_ties,
        &mut rng,
        check_view_light::<T>,
    );
    if size >= 4 {
        let c = case(&[n], Order::C, Some("::-1"), true);
        run_case_with::<T>(
            &c,
            ByteOrder::Little,
            fl[0],
            &mut rng,
            check_view_light::<T>,
        );
    }
}

#[test]
fn every_kind_across_segments() {
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        dispatch!(kind, T => large::<T>(100 + i as u64));
    }
}

/// Views whose elements are all apart in memory (runs of one element), so that
/// every element is a separate piece for the engine; in both byte orders.
fn scattered<T: Elem>(seed: u64) {
    let mut rng = Rng::new(seed);
    let fl = flavors(T::KIND);
    for (bo, flavor, spec) in [
        (ByteOrder::Little, Flavor::Ties, "-1::-1, ::-2"),
        (ByteOrder::Big, fl[fl.len() - 2], "1::, 1::2"),
    ] {
        run_case::<T>(
            &case(&[20, 62], Order::C, Some(spec), false),
            bo,
            flavor,
            &mut rng,
        );
    }
}

#[test]
fn every_kind_scattered_views() {
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        dispatch!(kind, T => scattered::<T>(200 + i as u64));
    }
    // Across segments (65536 complex128 values per segment), one element per
    // piece: slow in debug builds, so native data and a few reductions only.
    let values = random_values::<Complex64>(&mut Rng::new(300), 1100 * 122, Flavor::Nans);
    let bytes = encode_bytes(&values, ByteOrder::Little);
    let view =
        View::<Complex64>::from_bytes(&bytes, &[1100, 122], Order::C, ByteOrder::Little).unwrap();
    let view = view.slice("::-1, 1::2").unwrap();
    let logical = logical(&view);
    let refs = [
        Reference::new(&logical, false),
        Reference::new(&logical, true),
    ];
    for (op, skipna, ddof) in [
        (Op::Sum, true, 0),
        (Op::Argmin, true, 0),
        (Op::Var, true, 1),
        (Op::Max, false, 0),
    ] {
        let got = reduce(&view, op, &ReduceOptions { skipna, ddof });
        check(
            &got,
            &refs[usize::from(skipna)].get(op, ddof),
            &format_args!("scattered c128: {op} skipna={skipna}"),
        );
    }
}

#[test]
fn float64_three_hundred_thousand() {
    // The size named in the issue: 300k float64 values in 2.3 segments.
    let mut rng = Rng::new(7);
    let c = case(&[300_000], Order::C, None, false);
    run_case::<f64>(&c, ByteOrder::Big, Flavor::Nans, &mut rng);
    run_case_with::<f64>(
        &c,
        ByteOrder::Little,
        Flavor::Wide,
        &mut rng,
        check_view_light::<f64>,
    );
}

// ---------------------------------------------------------------------------
// Explicit semantics, written out value by value.

fn view_of<T: Native>(values: &[T], bo: ByteOrder) -> Vec<u8> {
    encode_bytes(values, bo)
}

fn red<T: Elem>(bytes: &[u8], shape: &[usize], op: Op, skipna: bool) -> Result<Value, Error> {
    let v = View::<T>::from_bytes(bytes, shape, Order::C, ByteOrder::Big).unwrap();
    reduce(&v, op, &ReduceOptions { skipna, ddof: 0 })
}

#[test]
fn nan_semantics() {
    let nan = f64::NAN;
    let b = view_of(&[3.0, nan, -1.0, nan, 5.0, -1.0], ByteOrder::Big);
    let r = |op, skipna| red::<f64>(&b, &[6], op, skipna);
    assert!(matches!(r(Op::Sum, false), Ok(Value::F64(x)) if x.is_nan()));
    assert!(matches!(r(Op::Min, false), Ok(Value::F64(x)) if x.is_nan()));
    assert!(matches!(r(Op::Max, false), Ok(Value::F64(x)) if x.is_nan()));
    assert!(matches!(r(Op::Var, false), Ok(Value::F64(x)) if x.is_nan()));
    assert_eq!(r(Op::Argmin, false).unwrap(), Value::I64(1));
    assert_eq!(r(Op::Argmax, false).unwrap(), Value::I64(1));
    assert_eq!(r(Op::Sum, true).unwrap(), Value::F64(6.0));
    assert_eq!(r(Op::Mean, true).unwrap(), Value::F64(1.5));
    assert_eq!(r(Op::Min, true).unwrap(), Value::F64(-1.0));
    assert_eq!(r(Op::Max, true).unwrap(), Value::F64(5.0));
    assert_eq!(r(Op::Argmin, true).unwrap(), Value::I64(2));
    assert_eq!(r(Op::Argmax, true).unwrap(), Value::I64(4));
    assert_eq!(r(Op::Var, true).unwrap(), Value::F64(6.75));

    // All NaN with skipna: sums are 0, means NaN, extrema NaN, arg ops an error.
    let b = view_of(&[nan, nan], ByteOrder::Big);
    let r = |op, skipna| red::<f64>(&b, &[2], op, skipna);
    assert_eq!(r(Op::Sum, true).unwrap(), Value::F64(0.0));
    assert!(matches!(r(Op::Mean, true), Ok(Value::F64(x)) if x.is_nan()));
    assert!(matches!(r(Op::Min, true), Ok(Value::F64(x)) if x.is_nan()));
    assert!(matches!(r(Op::Std, true), Ok(Value::F64(x)) if x.is_nan()));
    assert!(matches!(
        r(Op::Argmin, true),
        Err(Error::AllNan { op: "argmin" })
    ));
    assert!(matches!(
        r(Op::Argmax, true),
        Err(Error::AllNan { op: "argmax" })
    ));
    assert_eq!(r(Op::Argmin, false).unwrap(), Value::I64(0));

    // Complex: a NaN in either part is NaN.
    let c = [
        Complex64::new(1.0, 0.0),
        Complex64::new(0.0, nan),
        Complex64::new(-1.0, 0.0),
    ];
    let b = view_of(&c, ByteOrder::Big);
    assert_eq!(
        red::<Complex64>(&b, &[3], Op::Argmin, false).unwrap(),
        Value::I64(1)
    );
    assert_eq!(
        red::<Complex64>(&b, &[3], Op::Argmin, true).unwrap(),
        Value::I64(2)
    );
    assert_eq!(
        red::<Complex64>(&b, &[3], Op::Sum, true).unwrap(),
        Value::C128(Complex64::new(0.0, 0.0))
    );
}

#[test]
fn empty_arrays() {
    for shape in [&[0][..], &[3, 0], &[0, 2, 2]] {
        dispatch_empty::<f64>(shape);
        dispatch_empty::<i32>(shape);
        dispatch_empty::<u8>(shape);
        dispatch_empty::<Bool>(shape);
        dispatch_empty::<f16>(shape);
        dispatch_empty::<Complex32>(shape);
    }
}

fn dispatch_empty<T: Elem>(shape: &[usize]) {
    let v = View::<T>::from_bytes(&[], shape, Order::F, ByteOrder::Big).unwrap();
    let opts = ReduceOptions::default();
    let sum = reduce(&v, Op::Sum, &opts).unwrap();
    assert!(
        common::value_matches(sum, Value::I64(0).cast_to(sum.kind()), 0.0),
        "{sum:?}"
    );
    for op in [Op::Mean, Op::Var, Op::Std] {
        let got = reduce(&v, op, &opts).unwrap();
        assert!(
            common::float_parts(got).is_some_and(|p| p.0.is_nan()),
            "{op}: {got:?}"
        );
    }
    for op in [Op::Min, Op::Max, Op::Argmin, Op::Argmax] {
        for skipna in [false, true] {
            let got = reduce(&v, op, &ReduceOptions { skipna, ddof: 0 });
            assert!(
                matches!(&got, Err(Error::Empty { op: name }) if *name == op.name()),
                "{op}: {got:?}"
            );
        }
    }
    assert_eq!(count_nonzero(&v).unwrap(), 0);
    let s = stats(&v, false).unwrap();
    assert_eq!((s.count, s.min, s.max), (0, None, None));
}

#[test]
fn first_occurrence_and_signed_zero() {
    // -0.0 == 0.0: the first of them is the argmin/argmax.
    let b = view_of(&[0.0f64, -0.0, 1.0, -0.0, 1.0], ByteOrder::Big);
    assert_eq!(
        red::<f64>(&b, &[5], Op::Argmin, false).unwrap(),
        Value::I64(0)
    );
    assert_eq!(
        red::<f64>(&b, &[5], Op::Argmax, false).unwrap(),
        Value::I64(2)
    );
    // Reversed view: logical index 0 is the last element in memory.
    let v = View::<f64>::from_bytes(&b, &[5], Order::C, ByteOrder::Big)
        .unwrap()
        .slice("::-1")
        .unwrap();
    assert_eq!(v.to_vec(), [1.0, -0.0, 1.0, -0.0, 0.0]);
    let o = ReduceOptions::default();
    assert_eq!(reduce(&v, Op::Argmin, &o).unwrap(), Value::I64(1));
    assert_eq!(reduce(&v, Op::Argmax, &o).unwrap(), Value::I64(0));
    // F order: logical C order differs from memory order.
    let b = view_of(&[5i16, 1, 1, 5, 1, 5], ByteOrder::Big);
    let v = View::<i16>::from_bytes(&b, &[2, 3], Order::F, ByteOrder::Big).unwrap();
    assert_eq!(v.to_vec(), [5, 1, 1, 1, 5, 5]);
    assert_eq!(reduce(&v, Op::Argmin, &o).unwrap(), Value::I64(1));
    assert_eq!(reduce(&v, Op::Argmax, &o).unwrap(), Value::I64(0));
    // Complex order: by real part, then imaginary part.
    let c = [
        Complex32::new(1.0, 2.0),
        Complex32::new(1.0, -1.0),
        Complex32::new(0.0, 9.0),
        Complex32::new(0.0, 9.0),
    ];
    let b = view_of(&c, ByteOrder::Big);
    assert_eq!(
        red::<Complex32>(&b, &[4], Op::Argmin, false).unwrap(),
        Value::I64(2)
    );
    assert_eq!(
        red::<Complex32>(&b, &[4], Op::Max, false).unwrap(),
        Value::C64(Complex32::new(1.0, 2.0))
    );
}

#[test]
fn integer_sums_wrap() {
    let b = view_of(&[i64::MAX, 1, 1], ByteOrder::Big);
    assert_eq!(
        red::<i64>(&b, &[3], Op::Sum, false).unwrap(),
        Value::I64(i64::MIN + 1)
    );
    let b = view_of(&[u64::MAX, 3], ByteOrder::Big);
    assert_eq!(red::<u64>(&b, &[2], Op::Sum, false).unwrap(), Value::U64(2));
    // Narrow types are summed in 64 bits, not in their own type.
    let b = view_of(&[200u8, 100], ByteOrder::Big);
    assert_eq!(
        red::<u8>(&b, &[2], Op::Sum, false).unwrap(),
        Value::U64(300)
    );
    let b = view_of(&[Bool::TRUE, Bool::FALSE, Bool::TRUE], ByteOrder::Big);
    assert_eq!(
        red::<Bool>(&b, &[3], Op::Sum, false).unwrap(),
        Value::I64(2)
    );
    // Means of integers are exact in float64, not wrapped.
    let b = view_of(&[i64::MAX, i64::MAX], ByteOrder::Big);
    assert_eq!(
        red::<i64>(&b, &[2], Op::Mean, false).unwrap(),
        Value::F64(i64::MAX as f64)
    );
}

#[test]
fn var_with_ddof() {
    let b = view_of(&[1.0f32, 2.0, 3.0, 4.0], ByteOrder::Big);
    let v = View::<f32>::from_bytes(&b, &[4], Order::C, ByteOrder::Big).unwrap();
    let var = |ddof| {
        reduce(
            &v,
            Op::Var,
            &ReduceOptions {
                skipna: false,
                ddof,
            },
        )
        .unwrap()
    };
    assert_eq!(var(0), Value::F64(1.25));
    assert_eq!(var(1), Value::F64(5.0 / 3.0));
    assert_eq!(var(4), Value::F64(f64::INFINITY));
    assert!(matches!(var(5), Value::F64(x) if x.is_infinite()));
    let one = view_of(&[2.0f32], ByteOrder::Big);
    let v = View::<f32>::from_bytes(&one, &[1], Order::C, ByteOrder::Big).unwrap();
    assert!(
        matches!(reduce(&v, Op::Std, &ReduceOptions { skipna: false, ddof: 1 }), Ok(Value::F64(x)) if x.is_nan())
    );
}

// ---------------------------------------------------------------------------
// Random layouts.

/// A random index of one axis: `(what, a, b, step)`, see [`build_spec`].
fn axis_index() -> impl Strategy<Value = (u8, i64, i64, i64)> {
    (0u8..10, -3i64..9, -3i64..9, prop_oneof![-3i64..0, 1i64..4])
}

/// A spec from [`axis_index`] values: an integer index (20%), the whole axis
/// with a step (40%), or `a:b:step` with `0` meaning "omitted" (40%).
fn build_spec(shape: &[usize], parts: &[(u8, i64, i64, i64)]) -> Spec {
    let indices = shape
        .iter()
        .zip(parts)
        .map(|(&len, &(what, a, b, step))| {
            let step = step as isize;
            match what {
                0..2 if len > 0 => Index::Int((a.rem_euclid(len as i64)) as isize),
                0..6 => Index::Slice {
                    start: None,
                    stop: None,
                    step,
                },
                _ => {
                    // Bounds within the axis, in the direction of the step (some
                    // negative), so that few selections are empty.
                    let m = len as i64 + 1;
                    let (a, b) = (a.rem_euclid(m), b.rem_euclid(m));
                    let (a, b) = if (a < b) == (step > 0) {
                        (a, b)
                    } else {
                        (b, a)
                    };
                    let neg = |x: i64| {
                        if x > 0 && x % 3 == 0 {
                            x - len as i64
                        } else {
                            x
                        }
                    };
                    let stop = if a == b { None } else { Some(b as isize) };
                    Index::Slice {
                        start: Some(neg(a) as isize),
                        stop,
                        step,
                    }
                }
            }
        })
        .collect();
    Spec::new(indices).expect("spec")
}

fn random_layout<T: Elem>(
    shape: &[usize],
    order: Order,
    bo: ByteOrder,
    parts: &[(u8, i64, i64, i64)],
    flavor: u8,
    seed: u64,
) {
    let fl = flavors(T::KIND);
    let flavor = fl[flavor as usize % fl.len()];
    let mut rng = Rng::new(seed);
    let n: usize = shape.iter().product();
    let values = random_values::<T>(&mut rng, n, flavor);
    let bytes = encode_bytes(&values, bo);
    let (buf, off) = place(&bytes, seed.is_multiple_of(3));
    let view = View::<T>::from_bytes(&buf[off..off + bytes.len()], shape, order, bo).unwrap();
    let spec = build_spec(shape, parts);
    let view = view.slice(spec.clone()).unwrap();
    check_view(
        &view,
        &format!(
            "{:?} {shape:?} {order:?} {bo:?} [{spec}] {flavor:?}",
            T::KIND
        ),
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_views_match_reference(
        kind in prop::sample::select(Kind::ALL.to_vec()),
        shape in prop::collection::vec(prop_oneof![29 => 1usize..9, 1 => Just(0usize)], 1..4),
        f in any::<bool>(),
        big in any::<bool>(),
        parts in prop::collection::vec(axis_index(), 4),
        flavor in any::<u8>(),
        seed in any::<u64>(),
    ) {
        let order = if f { Order::F } else { Order::C };
        let bo = if big { ByteOrder::Big } else { ByteOrder::Little };
        dispatch!(kind, T => random_layout::<T>(&shape, order, bo, &parts, flavor, seed));
    }
}

#[test]
fn zero_d_values() {
    for bo in BYTE_ORDERS {
        let b = encode_bytes(&[-2.5f64], bo);
        let v = View::<f64>::from_bytes(&b, &[], Order::C, bo).unwrap();
        let o = ReduceOptions::default();
        assert_eq!(reduce(&v, Op::Sum, &o).unwrap(), Value::F64(-2.5));
        assert_eq!(reduce(&v, Op::Argmax, &o).unwrap(), Value::I64(0));
        assert_eq!(reduce(&v, Op::Min, &o).unwrap(), Value::F64(-2.5));
        assert_eq!(reduce(&v, Op::Var, &o).unwrap(), Value::F64(0.0));
        assert_eq!(count_nonzero(&v).unwrap(), 1);
        let _ = Want::Empty;
    }
}
