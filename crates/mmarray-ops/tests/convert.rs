//! Conversions: `convert_file` across dtypes, byte orders and memory orders
//! (equal to casting each value with `Native::cast`), `slice_to_file`,
//! `byteswap_in_place` and `map_in_place`.

mod common;

use common::{BYTE_ORDERS, Flavor, ORDERS, Rng, encode_bytes, npy_with, open, random_values};
use mmarray_core::{DynArray, OpenOptions, Order, Raw, ReadWrite, Spec, ViewMut};
use mmarray_dtype::{
    Bool, ByteOrder, Complex32, Complex64, DType, Kind, Native, Value, dispatch, f16,
};
use mmarray_ops::{
    ConvertOptions, Error, byteswap_in_place, convert_file, map_in_place, slice_to_file,
};

fn bits<T: Native>(x: &T) -> &[u8] {
    bytemuck::bytes_of(x)
}

/// Equal as numpy compares after `astype`: same bits, or both NaN.
fn same<T: Native>(a: &T, b: &T) -> bool {
    bits(a) == bits(b) || (common::is_nan(*a) && common::is_nan(*b))
}

/// Converts `src` to `dst` (dtype, order) and checks the output against casting
/// each logical value.
fn check_convert<S: Native, D: Native>(
    src: &DynArray<ReadWrite>,
    dir: &std::path::Path,
    to: DType,
    order: Order,
) {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = dir.join(format!("converted-{k}.npy"));
    convert_file(
        src,
        &out,
        &ConvertOptions {
            dtype: to,
            order,
            raw: false,
            overwrite: false,
        },
    )
    .unwrap();
    let b = open(&out);
    let ctx = format!(
        "{} {:?} {:?} -> {to} {order:?}",
        src.dtype(),
        src.order(),
        src.shape()
    );
    assert_eq!(b.dtype(), to, "{ctx}");
    assert_eq!(b.order(), order, "{ctx}");
    assert_eq!(b.shape(), src.shape(), "{ctx}");
    let want: Vec<D> = src
        .view::<S>()
        .unwrap()
        .iter()
        .map(Native::cast::<D>)
        .collect();
    let got: Vec<D> = b.view::<D>().unwrap().iter().collect();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(same(g, w), "{ctx} [{i}]: got {g:?}, want {w:?}");
    }
}

/// Random values of `S` that every target kind can hold without the documented
/// differences from numpy (no NaN or out-of-range float to int).
fn source_values<S: Native>(rng: &mut Rng, n: usize) -> Vec<S> {
    match S::KIND.class() {
        mmarray_dtype::Class::Float | mmarray_dtype::Class::Complex => (0..n)
            .map(|_| {
                S::from_c128(Complex64::new(
                    rng.uniform() * 120.0,
                    rng.uniform() * 120.0 - 60.0,
                ))
            })
            .collect(),
        _ => random_values(rng, n, Flavor::Wide),
    }
}

fn convert_from<S: Native>(dir: &std::path::Path, rng: &mut Rng, targets: &[(&str, Order)]) {
    for (shape, src_order, src_bo) in [
        (&[7usize, 5, 3][..], Order::C, ByteOrder::Big),
        (&[40, 9], Order::F, ByteOrder::Little),
        (&[11], Order::C, ByteOrder::Big),
        (&[], Order::F, ByteOrder::Big),
        (&[0, 3], Order::F, ByteOrder::Big),
    ] {
        let n: usize = shape.iter().product();
        let values = source_values::<S>(rng, n);
        let name = format!("src-{:?}-{shape:?}-{src_order:?}-{src_bo:?}.npy", S::KIND);
        let src = npy_with(dir, &name, &values, shape, src_order, src_bo);
        for &(descr, order) in targets {
            let to: DType = descr.parse().unwrap();
            dispatch!(to.kind(), D => check_convert::<S, D>(&src, dir, to, order));
        }
    }
}

#[test]
fn convert_file_equals_casting_each_value() {
    use Order::{C, F};
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(1);
    convert_from::<f64>(
        dir.path(),
        &mut rng,
        &[
            ("<f4", C),
            (">f2", F),
            (">f8", F),
            ("<i2", C),
            ("|u1", F),
            ("<c8", C),
            ("|b1", C),
        ],
    );
    convert_from::<f32>(
        dir.path(),
        &mut rng,
        &[(">f8", C), ("<f8", F), (">c16", F), ("<u4", C)],
    );
    convert_from::<f16>(dir.path(), &mut rng, &[("<f4", F), (">f2", C), ("<i8", F)]);
    convert_from::<i64>(
        dir.path(),
        &mut rng,
        &[("<i2", C), (">u1", F), ("<f8", C), (">f2", F), ("|b1", C)],
    );
    convert_from::<u16>(dir.path(), &mut rng, &[("|i1", C), (">i4", F), ("<f4", C)]);
    convert_from::<Bool>(dir.path(), &mut rng, &[("<f8", F), ("|u1", C), (">c8", C)]);
    convert_from::<Complex32>(dir.path(), &mut rng, &[(">c16", F), ("<f4", C), ("<i4", F)]);
    convert_from::<Complex64>(dir.path(), &mut rng, &[("<c8", C), (">f8", F)]);
}

#[test]
fn byte_order_only_and_memory_order_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(2);
    for bo in BYTE_ORDERS {
        for order in ORDERS {
            let values = random_values::<f64>(&mut rng, 60, Flavor::Nans);
            let src = npy_with(
                dir.path(),
                &format!("s-{bo:?}-{order:?}.npy"),
                &values,
                &[3, 4, 5],
                order,
                bo,
            );
            for to_bo in BYTE_ORDERS {
                for to_order in ORDERS {
                    let to = DType::new(Kind::F64, to_bo);
                    check_convert::<f64, f64>(&src, dir.path(), to, to_order);
                    // The same kind keeps the bits, NaN payloads included.
                    let out = dir
                        .path()
                        .join(format!("s-{bo:?}-{order:?}-to-{to_bo:?}-{to_order:?}.npy"));
                    convert_file(
                        &src,
                        &out,
                        &ConvertOptions {
                            dtype: to,
                            order: to_order,
                            raw: false,
                            overwrite: false,
                        },
                    )
                    .unwrap();
                    let a: Vec<u64> = src
                        .view::<f64>()
                        .unwrap()
                        .iter()
                        .map(f64::to_bits)
                        .collect();
                    let b: Vec<u64> = open(&out)
                        .view::<f64>()
                        .unwrap()
                        .iter()
                        .map(f64::to_bits)
                        .collect();
                    assert_eq!(a, b);
                }
            }
        }
    }
}

#[test]
fn larger_than_a_segment() {
    // 300k values: several conversion chunks, C to F order.
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(3);
    let values = source_values::<f64>(&mut rng, 600 * 500);
    let src = npy_with(
        dir.path(),
        "big.npy",
        &values,
        &[600, 500],
        Order::C,
        ByteOrder::Big,
    );
    check_convert::<f64, f32>(&src, dir.path(), "<f4".parse().unwrap(), Order::C);
    check_convert::<f64, f16>(&src, dir.path(), ">f2".parse().unwrap(), Order::F);
}

#[test]
fn existing_files_are_replaced_only_with_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let src = npy_with(
        dir.path(),
        "src.npy",
        &[1i32, 2, 3, 4],
        &[2, 2],
        Order::C,
        ByteOrder::Little,
    );
    let out = dir.path().join("out.npy");
    std::fs::write(&out, b"precious").unwrap();
    let opts = ConvertOptions {
        dtype: "<f8".parse().unwrap(),
        order: Order::F,
        raw: false,
        overwrite: false,
    };
    let r = convert_file(&src, &out, &opts);
    assert!(
        matches!(r, Err(Error::Core(mmarray_core::Error::Exists { .. }))),
        "{r:?}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    convert_file(
        &src,
        &out,
        &ConvertOptions {
            overwrite: true,
            ..opts
        },
    )
    .unwrap();
    assert_eq!(
        open(&out).view::<f64>().unwrap().to_vec(),
        [1.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

    let r = slice_to_file(&src, &"::-1".parse().unwrap(), &out, false);
    assert!(
        matches!(r, Err(Error::Core(mmarray_core::Error::Exists { .. }))),
        "{r:?}"
    );
    slice_to_file(&src, &"::-1".parse().unwrap(), &out, true).unwrap();
    assert_eq!(open(&out).view::<i32>().unwrap().to_vec(), [3, 4, 1, 2]);
}

#[test]
fn raw_output() {
    let dir = tempfile::tempdir().unwrap();
    let src = npy_with(
        dir.path(),
        "src.npy",
        &[1.5f32, -2.0, 3.25, 0.0, 7.0, 8.0],
        &[2, 3],
        Order::C,
        ByteOrder::Little,
    );
    let out = dir.path().join("out.raw");
    let to: DType = ">f8".parse().unwrap();
    convert_file(
        &src,
        &out,
        &ConvertOptions {
            dtype: to,
            order: Order::F,
            raw: true,
            overwrite: false,
        },
    )
    .unwrap();
    let want: Vec<f64> = vec![1.5, 0.0, -2.0, 7.0, 3.25, 8.0]; // F order in memory
    assert_eq!(
        std::fs::read(&out).unwrap(),
        encode_bytes(&want, ByteOrder::Big)
    );
    let raw = Raw::new(to).shape(vec![2, 3]).order(Order::F);
    // SAFETY: the file is private to the test.
    let b = unsafe {
        DynArray::<mmarray_core::ReadOnly>::open_with(&out, &OpenOptions::new().raw(raw))
    }
    .unwrap();
    assert_eq!(
        b.view::<f64>().unwrap().to_vec(),
        [1.5, -2.0, 3.25, 0.0, 7.0, 8.0]
    );
}

fn check_slice<T: Native>(dir: &std::path::Path, rng: &mut Rng) {
    let specs = [
        "::-1, 1::2",
        "2",
        "..., ::-2",
        "1:3, ::-1, 0",
        "::2, :, 1:",
        "5:, :",
        ":, 2:2, :",
        "2, -1, 1",
        "...",
    ];
    for order in ORDERS {
        for bo in BYTE_ORDERS {
            let shape = [4, 5, 3];
            let values = random_values::<T>(rng, 60, Flavor::Nans);
            let src = npy_with(
                dir,
                &format!("{:?}-{order:?}-{bo:?}.npy", T::KIND),
                &values,
                &shape,
                order,
                bo,
            );
            for (k, spec) in specs.iter().enumerate() {
                let out = dir.join(format!("{:?}-{order:?}-{bo:?}-{k}.npy", T::KIND));
                let spec: Spec = spec.parse().unwrap();
                slice_to_file(&src, &spec, &out, false).unwrap();
                let view = src.view::<T>().unwrap();
                let sel = view.slice(spec.clone()).unwrap();
                let b = open(&out);
                let ctx = format!("{:?} {order:?} {bo:?} [{spec}]", T::KIND);
                assert_eq!(b.dtype(), src.dtype(), "{ctx}: keeps dtype and byte order");
                assert_eq!(b.order(), Order::C, "{ctx}");
                assert_eq!(b.shape(), sel.shape(), "{ctx}");
                let got = b.view::<T>().unwrap().to_vec();
                let want = sel.to_vec();
                assert!(
                    got.iter().zip(&want).all(|(g, w)| bits(g) == bits(w))
                        && got.len() == want.len(),
                    "{ctx}"
                );
            }
        }
    }
}

#[test]
fn slice_to_file_equals_the_view() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(4);
    check_slice::<f64>(dir.path(), &mut rng);
    check_slice::<i16>(dir.path(), &mut rng);
    check_slice::<f16>(dir.path(), &mut rng);
    check_slice::<Complex32>(dir.path(), &mut rng);
    check_slice::<Bool>(dir.path(), &mut rng);
    // Many rows (written in parallel), from a big-endian F-order array.
    let values = random_values::<u32>(&mut rng, 2000 * 30, Flavor::Wide);
    let src = npy_with(
        dir.path(),
        "rows.npy",
        &values,
        &[2000, 30],
        Order::F,
        ByteOrder::Big,
    );
    let out = dir.path().join("rows-out.npy");
    slice_to_file(&src, &"::-1, 3::4".parse().unwrap(), &out, false).unwrap();
    let want = src
        .view::<u32>()
        .unwrap()
        .slice("::-1, 3::4")
        .unwrap()
        .to_vec();
    assert_eq!(open(&out).view::<u32>().unwrap().to_vec(), want);
    // A spec that does not fit is an error, and leaves nothing behind.
    let out = dir.path().join("never.npy");
    assert!(slice_to_file(&src, &"2000".parse().unwrap(), &out, false).is_err());
    assert!(!out.exists());
}

fn check_byteswap<T: Native>(dir: &std::path::Path, rng: &mut Rng) {
    let values = random_values::<T>(rng, 1000, Flavor::Wide);
    for bo in BYTE_ORDERS {
        let mut a = npy_with(
            dir,
            &format!("{:?}-{bo:?}.npy", T::KIND),
            &values,
            &[10, 100],
            Order::F,
            bo,
        );
        let before = a.bytes().to_vec();
        byteswap_in_place(&mut a);
        // Each element's bytes reversed (each part's, for complex numbers).
        let unit = T::KIND.swap_unit();
        let mut want = before.clone();
        for chunk in want.chunks_mut(unit) {
            chunk.reverse();
        }
        assert_eq!(a.bytes(), want, "{:?} {bo:?}", T::KIND);
        // The dtype stays: the values change as numpy's byteswap(inplace=True).
        assert_eq!(a.dtype(), DType::new(T::KIND, bo));
        byteswap_in_place(&mut a);
        assert_eq!(
            a.bytes(),
            before,
            "{:?} {bo:?}: twice is not the identity",
            T::KIND
        );
    }
}

#[test]
fn byteswap_twice_is_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(5);
    for kind in Kind::ALL {
        dispatch!(kind, T => check_byteswap::<T>(dir.path(), &mut rng));
    }
    // Reading a swapped little-endian file as big-endian gives the old values.
    let values = [1.0f64, -2.5, 1e300];
    let mut a = npy_with(
        dir.path(),
        "x.npy",
        &values,
        &[3],
        Order::C,
        ByteOrder::Little,
    );
    byteswap_in_place(&mut a);
    let v =
        mmarray_core::View::<f64>::from_bytes(a.bytes(), &[3], Order::C, ByteOrder::Big).unwrap();
    assert_eq!(v.to_vec(), values);
}

#[test]
fn map_in_place_on_big_endian_views() {
    for order in ORDERS {
        let values: Vec<f64> = (0..42).map(f64::from).collect();
        let mut bytes = encode_bytes(&values, ByteOrder::Big);
        let view = ViewMut::<f64>::from_bytes(&mut bytes, &[6, 7], order, ByteOrder::Big).unwrap();
        map_in_place(view.into_slice("::-2, 1:").unwrap(), |x| 2.0 * x + 1.0);
        let view =
            mmarray_core::View::<f64>::from_bytes(&bytes, &[6, 7], order, ByteOrder::Big).unwrap();
        let all = view.to_vec();
        let before = mmarray_core::View::<f64>::from_bytes(
            &encode_bytes(&values, ByteOrder::Big),
            &[6, 7],
            order,
            ByteOrder::Big,
        )
        .unwrap()
        .to_vec();
        for r in 0..6 {
            for c in 0..7 {
                let (x, old) = (all[r * 7 + c], before[r * 7 + c]);
                let selected = r % 2 == 1 && c >= 1; // rows 5, 3, 1
                assert_eq!(
                    x,
                    if selected { 2.0 * old + 1.0 } else { old },
                    "{order:?} [{r}, {c}]"
                );
            }
        }
    }
    // Integers and a large view (several segments, misaligned for u16).
    let n = 1_200_000;
    let values: Vec<u16> = (0..n).map(|i| i as u16).collect();
    let mut buf = vec![0u8; 2 * n + 1];
    buf[1..].copy_from_slice(&encode_bytes(&values, ByteOrder::Big));
    let view = ViewMut::<u16>::from_bytes(&mut buf[1..], &[n], Order::C, ByteOrder::Big).unwrap();
    map_in_place(view, |x| x.wrapping_mul(3));
    let view =
        mmarray_core::View::<u16>::from_bytes(&buf[1..], &[n], Order::C, ByteOrder::Big).unwrap();
    assert!(
        view.iter()
            .enumerate()
            .all(|(i, x)| x == (i as u16).wrapping_mul(3))
    );
    let _ = Value::I64(0);
}
