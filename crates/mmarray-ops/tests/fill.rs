//! Fills: constants on strided views (only the selected elements change),
//! `arange`, `fill_with`, and random fills (distributions, ranges, errors,
//! reproducibility).

mod common;

use common::{BYTE_ORDERS, Flavor, ORDERS, Rng, encode_bytes, npy_with, random_values};
use mmarray_core::{Order, Spec, View, ViewMut};
use mmarray_dtype::{
    Bool, ByteOrder, Complex32, Complex64, Kind, Native, Value, decode, dispatch, f16,
};
use mmarray_ops::{
    Dist, Error, arange, arange_view, fill, fill_value, fill_with, random_fill, random_view,
};

/// Layouts with views selecting some elements, with negative steps.
const LAYOUTS: [(&[usize], &str); 7] = [
    (&[10], "::-3"),
    (&[6, 7], "::-1, 1::2"),
    (&[6, 7], "-2, ::-1"),
    (&[6, 7], "1:4, ..."),
    (&[3, 4, 5], "::2, ::-1, 1:4"),
    (&[3, 4, 5], "..., -1"),
    (&[4, 5], "5:, :"),
];

/// The memory slots (element positions in the buffer) that `spec` selects from a
/// contiguous array of `shape` in `order`, in the view's logical order.
fn selected_slots(shape: &[usize], order: Order, spec: &str) -> Vec<usize> {
    let n: usize = shape.iter().product();
    let slots: Vec<u64> = (0..n as u64).collect();
    let bytes = encode_bytes(&slots, ByteOrder::NATIVE);
    let view = View::<u64>::from_bytes(&bytes, shape, order, ByteOrder::NATIVE).unwrap();
    view.slice(spec)
        .unwrap()
        .to_vec()
        .into_iter()
        .map(|s| s as usize)
        .collect()
}

/// The buffer's elements in memory order.
fn decoded<T: Native>(bytes: &[u8], bo: ByteOrder) -> Vec<T> {
    let mut out = vec![T::zeroed(); bytes.len() / size_of::<T>()];
    decode(bytes, bo, &mut out).unwrap();
    out
}

fn bits<T: Native>(x: &T) -> &[u8] {
    bytemuck::bytes_of(x)
}

/// Fills the selection of random data with `value`, then checks every element.
fn check_fill<T: Native>(rng: &mut Rng, value: T) {
    for (shape, spec) in LAYOUTS {
        for order in ORDERS {
            for bo in BYTE_ORDERS {
                let n: usize = shape.iter().product();
                let before = random_values::<T>(rng, n, Flavor::Wide);
                let mut bytes = encode_bytes(&before, bo);
                let view = ViewMut::<T>::from_bytes(&mut bytes, shape, order, bo).unwrap();
                fill(view.into_slice(spec).unwrap(), value);
                let after = decoded::<T>(&bytes, bo);
                let slots = selected_slots(shape, order, spec);
                let ctx = format!("{:?} {shape:?} {order:?} {bo:?} [{spec}]", T::KIND);
                for (k, (b, a)) in before.iter().zip(&after).enumerate() {
                    let want = if slots.contains(&k) { &value } else { b };
                    assert_eq!(bits(a), bits(want), "{ctx}: slot {k}");
                }
            }
        }
    }
}

#[test]
fn fill_changes_only_the_selection() {
    let mut rng = Rng::new(1);
    check_fill(&mut rng, 2.5f64);
    check_fill(&mut rng, -0.0f32);
    check_fill(&mut rng, f16::from_f32(-3.5));
    check_fill(&mut rng, -7i16);
    check_fill(&mut rng, 0xdead_beef_u32);
    check_fill(&mut rng, i64::MIN);
    check_fill(&mut rng, 200u8);
    check_fill(&mut rng, Bool::TRUE);
    check_fill(&mut rng, Complex32::new(1.5, -2.0));
    check_fill(&mut rng, Complex64::new(f64::NAN, 3.0));
}

#[test]
fn fill_value_casts_like_numpy() {
    let dir = tempfile::tempdir().unwrap();
    let spec: Spec = "::-1, 1::2".parse().unwrap();
    let cases = [
        (Kind::F32, ByteOrder::Big, Value::F64(2.7), Value::F32(2.7)),
        (Kind::I8, ByteOrder::Little, Value::I64(300), Value::I8(44)),
        (
            Kind::U16,
            ByteOrder::Big,
            Value::I64(-1),
            Value::U16(u16::MAX),
        ),
        (
            Kind::Bool,
            ByteOrder::Little,
            Value::F64(0.5),
            Value::Bool(true),
        ),
        (Kind::I32, ByteOrder::Big, Value::F64(-3.9), Value::I32(-3)),
        (
            Kind::C128,
            ByteOrder::Big,
            Value::F32(1.5),
            Value::C128(Complex64::new(1.5, 0.0)),
        ),
        (
            Kind::F16,
            ByteOrder::Big,
            Value::I64(2049),
            Value::F16(f16::from_f32(2048.0)),
        ),
    ];
    for (i, (kind, bo, value, want)) in cases.into_iter().enumerate() {
        for order in ORDERS {
            dispatch!(kind, T => {
                let shape = [5, 6];
                let before = random_values::<T>(&mut Rng::new(i as u64), 30, Flavor::Wide);
                let mut a = npy_with(dir.path(), &format!("{i}-{order:?}.npy"), &before, &shape, order, bo);
                fill_value(&mut a, &spec, value).unwrap();
                let after = decoded::<T>(a.bytes(), bo);
                let slots = selected_slots(&shape, order, "::-1, 1::2");
                let want_t: T = want.cast();
                for (k, (b, x)) in before.iter().zip(&after).enumerate() {
                    let expect = if slots.contains(&k) { &want_t } else { b };
                    assert_eq!(bits(x), bits(expect), "{kind:?} {order:?} slot {k}");
                }
                assert_eq!(a.view::<T>().unwrap().slice("0, 1").unwrap().get(&[]).unwrap().to_value(), want);
            });
        }
    }
    // A bad spec is an error, not a panic.
    let mut a = npy_with(
        dir.path(),
        "bad.npy",
        &[0u8; 4],
        &[4],
        Order::C,
        ByteOrder::Little,
    );
    let spec: Spec = "7".parse().unwrap();
    assert!(matches!(
        fill_value(&mut a, &spec, Value::I64(1)),
        Err(Error::Core(_))
    ));
}

fn check_arange<T: Native>(dir: &std::path::Path) {
    for order in ORDERS {
        for bo in BYTE_ORDERS {
            let shape = [3, 4, 5];
            let mut a = npy_with::<T>(
                dir,
                &format!("{:?}-{order:?}-{bo:?}.npy", T::KIND),
                &[T::zeroed(); 60],
                &shape,
                order,
                bo,
            );
            arange(&mut a).unwrap();
            let logical: Vec<T> = a.view::<T>().unwrap().iter().collect();
            for (i, x) in logical.iter().enumerate() {
                assert_eq!(
                    bits(x),
                    bits(&T::from_i64(i as i64)),
                    "{:?} {order:?} {bo:?} [{i}]",
                    T::KIND
                );
            }
            // On a view: element k of the selection (in its logical order) is k.
            let mut bytes = vec![0u8; 60 * size_of::<T>()];
            let view = ViewMut::<T>::from_bytes(&mut bytes, &shape, order, bo).unwrap();
            arange_view(view.into_slice("::-1, 1:3, ::2").unwrap());
            let view = View::<T>::from_bytes(&bytes, &shape, order, bo).unwrap();
            let sel = view.slice("::-1, 1:3, ::2").unwrap().to_vec();
            assert_eq!(sel.len(), 18);
            for (k, x) in sel.iter().enumerate() {
                assert_eq!(bits(x), bits(&T::from_i64(k as i64)));
            }
            // Everything else is untouched.
            let zeros = view
                .iter()
                .filter(|x| bits(x) == bits(&T::zeroed()))
                .count();
            assert!(zeros >= 60 - 18, "{zeros}");
        }
    }
}

#[test]
fn arange_is_the_flat_c_index() {
    let dir = tempfile::tempdir().unwrap();
    for kind in [
        Kind::F64,
        Kind::F32,
        Kind::F16,
        Kind::I8,
        Kind::U16,
        Kind::I64,
        Kind::C64,
        Kind::Bool,
    ] {
        dispatch!(kind, T => check_arange::<T>(dir.path()));
    }
    // Wider than the small types: wraps as numpy's astype does.
    let mut bytes = vec![0u8; 300];
    arange_view(
        ViewMut::<u8>::from_bytes(&mut bytes, &[300], Order::C, ByteOrder::NATIVE).unwrap(),
    );
    assert_eq!(bytes[299], (299 % 256) as u8);
}

#[test]
fn fill_with_gets_the_logical_index_of_the_view() {
    for order in ORDERS {
        for bo in BYTE_ORDERS {
            for (shape, spec) in LAYOUTS {
                let n: usize = shape.iter().product();
                let mut bytes = encode_bytes(&vec![-1i32; n], bo);
                let view = ViewMut::<i32>::from_bytes(&mut bytes, shape, order, bo).unwrap();
                fill_with(view.into_slice(spec).unwrap(), |i| 3 * i as i32 + 1);
                let view = View::<i32>::from_bytes(&bytes, shape, order, bo).unwrap();
                let sel = view.slice(spec).unwrap().to_vec();
                let want: Vec<i32> = (0..sel.len() as i32).map(|k| 3 * k + 1).collect();
                assert_eq!(sel, want, "{shape:?} {order:?} {bo:?} [{spec}]");
                let untouched = view.iter().filter(|&x| x == -1).count();
                assert_eq!(untouched, n - sel.len());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Random fills.

/// `n` random values of `T` from a fresh buffer of byte order `bo`.
fn draw<T: Native>(n: usize, dist: Dist, seed: u64, bo: ByteOrder) -> Vec<T> {
    let mut bytes = vec![0u8; n * size_of::<T>()];
    let view = ViewMut::<T>::from_bytes(&mut bytes, &[n], Order::C, bo).unwrap();
    random_view(view, dist, seed).unwrap();
    decoded(&bytes, bo)
}

fn mean_std(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = v.clone().count() as f64;
    let mean = v.clone().sum::<f64>() / n;
    let var = v.map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (ma, sa) = mean_std(a.iter().copied());
    let (mb, sb) = mean_std(b.iter().copied());
    let cov = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / a.len() as f64;
    cov / (sa * sb)
}

#[test]
fn normal_has_mean_zero_and_std_one() {
    let n = 200_000;
    let check = |name: &str, v: Vec<f64>, tol: f64| {
        let (mean, std) = mean_std(v.iter().copied());
        assert!(mean.abs() < tol, "{name}: mean {mean}");
        assert!((std - 1.0).abs() < tol, "{name}: std {std}");
        let beyond3 = v.iter().filter(|x| x.abs() > 3.0).count() as f64 / v.len() as f64;
        assert!(
            (beyond3 - 0.0027).abs() < 0.0008,
            "{name}: P(|z| > 3) = {beyond3}"
        );
    };
    check(
        "f64",
        draw::<f64>(n, Dist::Normal, 1, ByteOrder::Little)
            .into_iter()
            .collect(),
        0.01,
    );
    check(
        "f32",
        draw::<f32>(n, Dist::Normal, 2, ByteOrder::Big)
            .into_iter()
            .map(f64::from)
            .collect(),
        0.01,
    );
    check(
        "f16",
        draw::<f16>(n, Dist::Normal, 3, ByteOrder::Big)
            .into_iter()
            .map(f64::from)
            .collect(),
        0.01,
    );
    for (name, c) in [
        (
            "c128",
            draw::<Complex64>(n, Dist::Normal, 4, ByteOrder::Big),
        ),
        (
            "c64",
            draw::<Complex32>(n, Dist::Normal, 5, ByteOrder::Little)
                .into_iter()
                .map(Native::to_c128)
                .collect(),
        ),
    ] {
        let re: Vec<f64> = c.iter().map(|c| c.re).collect();
        let im: Vec<f64> = c.iter().map(|c| c.im).collect();
        check(&format!("{name} real"), re.clone(), 0.01);
        check(&format!("{name} imaginary"), im.clone(), 0.01);
        // Parts are independent: uncorrelated, also between neighbours.
        assert!(correlation(&re, &im).abs() < 0.01, "{name}");
        assert!(correlation(&re[1..], &im[..n - 1]).abs() < 0.01, "{name}");
        assert!(correlation(&re[1..], &re[..n - 1]).abs() < 0.01, "{name}");
        assert!(re.iter().zip(&im).all(|(a, b)| a != b), "{name}");
    }
}

#[test]
fn uniform_is_in_zero_one() {
    let n = 200_000;
    let check = |name: &str, v: &[f64]| {
        assert!(
            v.iter().all(|&x| (0.0..1.0).contains(&x)),
            "{name}: outside [0, 1)"
        );
        let (mean, std) = mean_std(v.iter().copied());
        assert!((mean - 0.5).abs() < 0.005, "{name}: mean {mean}");
        assert!(
            (std - (1.0f64 / 12.0).sqrt()).abs() < 0.005,
            "{name}: std {std}"
        );
        let mut deciles = [0usize; 10];
        for &x in v {
            deciles[(x * 10.0) as usize] += 1;
        }
        assert!(
            deciles
                .iter()
                .all(|&c| c.abs_diff(v.len() / 10) < v.len() / 100),
            "{name}: {deciles:?}"
        );
    };
    check("f64", &draw::<f64>(n, Dist::Uniform, 1, ByteOrder::Big));
    check(
        "f32",
        &draw::<f32>(n, Dist::Uniform, 2, ByteOrder::Little)
            .into_iter()
            .map(f64::from)
            .collect::<Vec<_>>(),
    );
    let h: Vec<f64> = draw::<f16>(n, Dist::Uniform, 3, ByteOrder::Big)
        .into_iter()
        .map(f64::from)
        .collect();
    check("f16", &h);
    // float16 has 2048 values in [0, 1) at 11 bits: all of them occur, 1.0 never.
    let distinct: std::collections::BTreeSet<u64> = h.iter().map(|x| x.to_bits()).collect();
    assert_eq!(distinct.len(), 2048);
    assert!(h.contains(&0.0) && h.contains(&(2047.0 / 2048.0)));
    let c = draw::<Complex32>(n, Dist::Uniform, 4, ByteOrder::Big);
    let re: Vec<f64> = c.iter().map(|c| f64::from(c.re)).collect();
    let im: Vec<f64> = c.iter().map(|c| f64::from(c.im)).collect();
    check("c64 real", &re);
    check("c64 imaginary", &im);
    assert!(correlation(&re, &im).abs() < 0.01);
}

fn check_integers<T: Native>(low: i128, high: i128, every: bool) {
    for bo in BYTE_ORDERS {
        let v = draw::<T>(40_000, Dist::Integers { low, high }, 7, bo);
        let ctx = format!("{:?} [{low}, {high}) {bo:?}", T::KIND);
        let as_i128 = |x: &T| {
            if T::KIND.class() == mmarray_dtype::Class::Unsigned {
                i128::from(x.to_u64())
            } else {
                i128::from(x.to_i64())
            }
        };
        assert!(v.iter().all(|x| (low..high).contains(&as_i128(x))), "{ctx}");
        if every {
            let distinct: std::collections::BTreeSet<i128> = v.iter().map(as_i128).collect();
            assert_eq!(distinct.len() as i128, high - low, "{ctx}");
        } else {
            // Spread over the whole range: values in both halves.
            let mid = i128::midpoint(low, high);
            assert!(
                v.iter().any(|x| as_i128(x) < mid) && v.iter().any(|x| as_i128(x) >= mid),
                "{ctx}"
            );
        }
    }
}

/// numpy's `integers(low, high)` takes any range within the dtype: all of uint64 is
/// `[0, 2^64)`, all of int64 `[-2^63, 2^63)`.
#[test]
fn integers_cover_the_whole_64_bit_ranges() {
    const TWO_64: i128 = 1 << 64;
    check_integers::<u64>(0, TWO_64, false);
    check_integers::<u64>(0, TWO_64 - 1, false);
    check_integers::<u64>(TWO_64 - 10, TWO_64, true);
    check_integers::<u64>(1 << 63, TWO_64, false);
    check_integers::<i64>(i64::MIN.into(), 1 << 63, false);
    check_integers::<i64>((1 << 63) - 4, 1 << 63, true);
}

#[test]
fn integers_are_in_range_and_hit_every_value() {
    check_integers::<i8>(-128, 128, true);
    check_integers::<u8>(250, 256, true);
    check_integers::<i16>(-5, 5, true);
    check_integers::<u16>(65_530, 65_536, true);
    check_integers::<i32>(-1000, -990, true);
    check_integers::<u32>(0, 1, true);
    check_integers::<u64>(0, 10, true);
    check_integers::<i64>(i64::MIN.into(), i64::MAX.into(), false);
    check_integers::<u64>(1 << 40, i64::MAX.into(), false);
    check_integers::<i32>(i32::MIN.into(), i128::from(i32::MAX) + 1, false);
}

#[test]
fn bool_gets_both_values_evenly() {
    for dist in [Dist::Uniform, Dist::Normal] {
        let v = draw::<Bool>(100_000, dist, 9, ByteOrder::Little);
        assert!(v.iter().all(|b| b.0 <= 1), "bools are stored as 0 or 1");
        let trues = v.iter().filter(|b| b.get()).count();
        assert!(trues.abs_diff(50_000) < 1_000, "{trues}");
    }
}

#[test]
fn invalid_requests_are_errors_and_change_nothing() {
    fn attempt<T: Native>(dist: Dist) {
        let mut bytes = vec![0x5au8; 8 * size_of::<T>()];
        let view = ViewMut::<T>::from_bytes(&mut bytes, &[8], Order::C, ByteOrder::Big).unwrap();
        let r = random_view(view, dist, 1);
        assert!(
            matches!(r, Err(Error::Invalid(_))),
            "{:?} {dist:?}: {r:?}",
            T::KIND
        );
        assert!(
            bytes.iter().all(|&b| b == 0x5a),
            "{:?} {dist:?}: bytes changed",
            T::KIND
        );
    }
    attempt::<f32>(Dist::Integers { low: 0, high: 10 });
    attempt::<Complex64>(Dist::Integers { low: 0, high: 10 });
    attempt::<i32>(Dist::Normal);
    attempt::<u8>(Dist::Uniform);
    attempt::<i64>(Dist::Integers { low: 5, high: 5 });
    attempt::<i64>(Dist::Integers { low: 6, high: 5 });
    attempt::<u8>(Dist::Integers { low: 0, high: 257 });
    attempt::<u8>(Dist::Integers { low: -1, high: 10 });
    attempt::<i8>(Dist::Integers { low: -129, high: 0 });
    attempt::<i16>(Dist::Integers {
        low: 0,
        high: 40_000,
    });
    attempt::<u64>(Dist::Integers {
        low: 0,
        high: (1 << 64) + 1,
    });
    attempt::<i64>(Dist::Integers {
        low: 0,
        high: (1 << 63) + 1,
    });
    attempt::<i64>(Dist::Integers {
        low: i128::from(i64::MIN) - 1,
        high: 0,
    });
    // Through a whole array too.
    let dir = tempfile::tempdir().unwrap();
    let mut a = npy_with(
        dir.path(),
        "i.npy",
        &[3i32; 4],
        &[4],
        Order::C,
        ByteOrder::Little,
    );
    let r = random_fill(&mut a, .., Dist::Integers { low: 10, high: 0 }, 1);
    assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");
    assert_eq!(a.view::<i32>().unwrap().to_vec(), [3; 4]);
}

fn reproducible<T: Native>(dist: Dist) {
    let a = draw::<T>(5000, dist, 42, ByteOrder::Little);
    let b = draw::<T>(5000, dist, 42, ByteOrder::Little);
    let c = draw::<T>(5000, dist, 43, ByteOrder::Little);
    let big = draw::<T>(5000, dist, 42, ByteOrder::Big);
    let same = |x: &[T], y: &[T]| x.iter().zip(y).all(|(p, q)| bits(p) == bits(q));
    assert!(
        same(&a, &b),
        "{:?} {dist:?}: same seed, different values",
        T::KIND
    );
    assert!(
        same(&a, &big),
        "{:?} {dist:?}: byte order changes the values",
        T::KIND
    );
    let differ = a
        .iter()
        .zip(&c)
        .filter(|(p, q)| bits(*p) != bits(*q))
        .count();
    let min_differ = if T::KIND == Kind::Bool { 2000 } else { 4500 };
    assert!(
        differ > min_differ,
        "{:?} {dist:?}: seeds 42 and 43 agree in {} of 5000",
        T::KIND,
        5000 - differ
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    reproducible::<f64>(Dist::Normal);
    reproducible::<f64>(Dist::Uniform);
    reproducible::<f32>(Dist::Normal);
    reproducible::<f16>(Dist::Uniform);
    reproducible::<Complex32>(Dist::Normal);
    reproducible::<Complex64>(Dist::Uniform);
    reproducible::<i64>(Dist::Integers {
        low: i64::MIN.into(),
        high: i64::MAX.into(),
    });
    reproducible::<u32>(Dist::Integers {
        low: 0,
        high: 1 << 32,
    });
    reproducible::<Bool>(Dist::Uniform);
}

#[test]
fn random_fill_seeds_by_index_within_the_selection() {
    let dir = tempfile::tempdir().unwrap();
    for order in ORDERS {
        let shape = [9, 8];
        let mut a = npy_with(
            dir.path(),
            &format!("r-{order:?}.npy"),
            &[-1.0f32; 72],
            &shape,
            order,
            ByteOrder::Big,
        );
        let spec: Spec = "::-2, 1::3".parse().unwrap();
        random_fill(&mut a, &spec, Dist::Normal, 5).unwrap();
        let sel = a
            .view::<f32>()
            .unwrap()
            .slice(spec.clone())
            .unwrap()
            .to_vec();
        assert_eq!(sel.len(), 15);
        // The same as filling a contiguous array of the selection's shape.
        let fresh = draw::<f32>(15, Dist::Normal, 5, ByteOrder::Little);
        assert_eq!(sel, fresh, "{order:?}");
        let untouched = a
            .view::<f32>()
            .unwrap()
            .iter()
            .filter(|&x| x == -1.0)
            .count();
        assert_eq!(untouched, 72 - 15);
    }
    // Whole arrays of any order get the values of their logical C order.
    let mut c = npy_with(
        dir.path(),
        "c.npy",
        &[0.0f64; 12],
        &[3, 4],
        Order::C,
        ByteOrder::Little,
    );
    let mut f = npy_with(
        dir.path(),
        "f.npy",
        &[0.0f64; 12],
        &[3, 4],
        Order::F,
        ByteOrder::Big,
    );
    random_fill(&mut c, .., Dist::Uniform, 8).unwrap();
    random_fill(&mut f, Spec::default(), Dist::Uniform, 8).unwrap();
    assert_eq!(
        c.view::<f64>().unwrap().to_vec(),
        f.view::<f64>().unwrap().to_vec()
    );
}

/// `fill_value` and `random_fill` take what `slice` takes: an `s![]` spec, a
/// range, numpy's text, a `Spec` or a `&Spec`, all selecting the same elements.
#[test]
fn fills_take_every_spec_that_slice_takes() {
    let dir = tempfile::tempdir().unwrap();
    let text = "1::2, ::-3";
    let spec: Spec = text.parse().unwrap();
    let head = Spec::from(..2);
    let mut results = Vec::new();
    for (i, way) in ["s!", "text", "&Spec", "Spec"].into_iter().enumerate() {
        let mut a = npy_with(
            dir.path(),
            &format!("{i}.npy"),
            &[0i32; 42],
            &[6, 7],
            Order::F,
            ByteOrder::Big,
        );
        let (fill, random) = match way {
            "s!" => (
                fill_value(&mut a, mmarray_core::s![1..;2, ..;-3], Value::I64(9)),
                random_fill(
                    &mut a,
                    mmarray_core::s![..2],
                    Dist::Integers { low: 1, high: 5 },
                    3,
                ),
            ),
            "text" => (
                fill_value(&mut a, text, Value::I64(9)),
                random_fill(&mut a, ":2", Dist::Integers { low: 1, high: 5 }, 3),
            ),
            "&Spec" => (
                fill_value(&mut a, &spec, Value::I64(9)),
                random_fill(&mut a, &head, Dist::Integers { low: 1, high: 5 }, 3),
            ),
            _ => (
                fill_value(&mut a, spec.clone(), Value::I64(9)),
                random_fill(&mut a, head.clone(), Dist::Integers { low: 1, high: 5 }, 3),
            ),
        };
        fill.unwrap();
        random.unwrap();
        results.push(a.view::<i32>().unwrap().to_vec());
    }
    assert!(results.iter().all(|r| *r == results[0]), "{results:?}");
    let v = &results[0];
    assert_eq!(v.iter().filter(|&&x| x == 9).count(), 6);
    assert!(v[..14].iter().all(|x| (1..5).contains(x)));
    // A spec that does not fit, or text that does not parse, is an error.
    let mut a = npy_with(
        dir.path(),
        "e.npy",
        &[0u8; 4],
        &[4],
        Order::C,
        ByteOrder::Little,
    );
    let e = fill_value(&mut a, "1.5", Value::I64(1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "index error: invalid index \"1.5\": \"1.5\" is not an integer, a slice or '...'"
    );
    assert!(random_fill(&mut a, 7, Dist::Uniform, 1).is_err());
}

/// Whole C-order arrays in a file are filled past the mapping (`pwrite` of 1 MiB pieces from
/// per-thread buffers, write-back started as the fill goes): the file gets exactly the bytes
/// the same fill gives a view in memory, for any thread count and byte order, with a length
/// past two write-back windows (32 MiB) that is not a whole number of pieces; a
/// copy-on-write array leaves its file alone.
#[test]
fn whole_file_fills_write_what_views_get() {
    use mmarray_core::{CopyOnWrite, DynArray, ReadWrite};
    use mmarray_dtype::DType;
    use mmarray_ops::Exec;

    let dir = tempfile::tempdir().unwrap();
    let cols = (33 << 20) / 8 + 3;
    let len = 2 * cols;
    let on_disk = |a: &DynArray<ReadWrite>, path: &std::path::Path| {
        a.flush().unwrap();
        let offset = usize::try_from(a.layout().data_offset).unwrap();
        std::fs::read(path).unwrap()[offset..].to_vec()
    };
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let mut mem = vec![0u8; len * 8];
        let view = ViewMut::<f64>::from_bytes(&mut mem, &[2, cols], Order::C, order).unwrap();
        random_view(view, Dist::Normal, 11).unwrap();
        for threads in [1, 3] {
            let path = dir.path().join(format!("n-{order:?}-{threads}.npy"));
            let dtype = DType::new(Kind::F64, order);
            // SAFETY: the file is private to this test.
            let mut arr =
                unsafe { DynArray::<ReadWrite>::create(&path, dtype, &[2, cols], Order::C) }
                    .unwrap();
            let exec = Exec::new().threads(threads).unwrap();
            exec.run(|| random_fill(&mut arr, Spec::default(), Dist::Normal, 11))
                .unwrap();
            assert!(
                arr.bytes() == mem.as_slice(),
                "{order:?}, {threads} threads"
            );
            assert!(on_disk(&arr, &path) == mem, "{order:?}, {threads} threads");
        }
    }
    // Constants and arange take the same way.
    let items = (3 << 20) / 4 + 5;
    let path = dir.path().join("c.npy");
    // SAFETY: as above.
    let mut arr = unsafe {
        DynArray::<ReadWrite>::create(
            &path,
            DType::new(Kind::I32, ByteOrder::Big),
            &[items],
            Order::C,
        )
    }
    .unwrap();
    fill_value(&mut arr, Spec::default(), Value::F64(-7.9)).unwrap();
    assert!(arr.view::<i32>().unwrap().iter().all(|v| v == -7));
    arange(&mut arr).unwrap();
    let want: Vec<i32> = (0..items as i32).collect();
    assert_eq!(arr.view::<i32>().unwrap().to_vec(), want);
    assert_eq!(
        on_disk(&arr, &path),
        want.iter()
            .flat_map(|v| v.to_be_bytes())
            .collect::<Vec<u8>>()
    );
    drop(arr);
    // SAFETY: as above.
    let mut cow = unsafe { DynArray::<CopyOnWrite>::open(&path) }.unwrap();
    random_fill(
        &mut cow,
        Spec::default(),
        Dist::Integers { low: 1, high: 5 },
        3,
    )
    .unwrap();
    assert!(
        cow.view::<i32>()
            .unwrap()
            .iter()
            .all(|v| (1..5).contains(&v))
    );
    drop(cow);
    // SAFETY: as above.
    let reopened = unsafe { DynArray::<mmarray_core::ReadOnly>::open(&path) }.unwrap();
    assert_eq!(reopened.view::<i32>().unwrap().to_vec(), want);
}
