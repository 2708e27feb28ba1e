//! `map_reduce` runs the user's kernel on the engine: every element exactly once, decoded
//! to native values from any byte order and alignment (float16 widened to f32), blocks in
//! memory order, partial results merged in a fixed order, so that even a non-associative
//! accumulation gives the same bits for any number of threads.

mod common;

use common::{Flavor, Rng, encode_bytes, place, random_values};
use mmarray_ops::prelude::*;

/// Every block, in the order the merges put them.
fn blocks<T: Elem>(v: &View<'_, T>) -> Vec<Vec<T::Work>> {
    map_reduce(
        v,
        Vec::new,
        |acc: &mut Vec<Vec<T::Work>>, block: &[T::Work]| acc.push(block.to_vec()),
        Extend::extend,
    )
    .unwrap()
}

#[test]
fn blocks_are_the_elements_in_memory_order() {
    let mut rng = Rng::new(5);
    let values: Vec<f32> = random_values(&mut rng, 5000, Flavor::Wide);
    for bo in [ByteOrder::Little, ByteOrder::Big] {
        for misalign in [false, true] {
            let (buf, at) = place(&encode_bytes(&values, bo), misalign);
            let v =
                View::<f32>::from_bytes(&buf[at..at + 4 * values.len()], &[50, 100], Order::C, bo)
                    .unwrap();
            let got: Vec<f32> = blocks(&v).concat();
            assert_eq!(got, values, "{bo:?} misalign {misalign}");
            // A reversed, strided view: its elements, walked in memory order.
            let s = v.slice(s![..;-2, 3..90;3]).unwrap();
            // Rows go up in memory where the view goes down; columns go up in both.
            let logical = s.to_vec();
            let by_rows: Vec<f32> = logical.chunks(29).rev().flatten().copied().collect();
            assert_eq!(blocks(&s).concat(), by_rows, "{bo:?} misalign {misalign}");
        }
    }
    // float16 arrives widened to f32, exactly.
    let halves: Vec<f16> = random_values(&mut rng, 3000, Flavor::Wide);
    let bytes = encode_bytes(&halves, ByteOrder::Big);
    let v = View::<f16>::from_bytes(&bytes, &[3000], Order::C, ByteOrder::Big).unwrap();
    let widened: Vec<f32> = halves.iter().map(|h| h.to_f32()).collect();
    assert_eq!(blocks(&v).concat(), widened);
}

#[test]
fn results_are_the_same_bits_on_any_number_of_threads() {
    let mut rng = Rng::new(9);
    let n = 1 << 21; // 16 MiB of float64: many segments
    let values: Vec<f64> = random_values(&mut rng, n, Flavor::Wide);
    for bo in [ByteOrder::NATIVE, ByteOrder::Big] {
        let bytes = encode_bytes(&values, bo);
        let v = View::<f64>::from_bytes(&bytes, &[n / 64, 64], Order::C, bo).unwrap();
        // A naive running sum (order-dependent bits) and the block lengths.
        let run = |threads: usize| {
            Exec::new().threads(threads).unwrap().run(|| {
                v.slice(s![.., 1..;2]).unwrap().map_reduce(
                    || (0.0f64, Vec::new()),
                    |(sum, lens), block: &[f64]| {
                        for &x in block {
                            *sum += x;
                        }
                        lens.push(block.len());
                    },
                    |(sum, lens), (s2, l2)| {
                        *sum += s2;
                        lens.extend(l2);
                    },
                )
            })
        };
        let (sum1, lens1) = run(1).unwrap();
        for threads in [2, 3, 4] {
            let (sum, lens) = run(threads).unwrap();
            assert_eq!(sum.to_bits(), sum1.to_bits(), "{bo:?} {threads} threads");
            assert_eq!(lens, lens1, "{bo:?} {threads} threads");
        }
        assert_eq!(lens1.iter().sum::<usize>(), n / 2);
        assert!(
            lens1.len() > 16,
            "work is cut into many blocks: {}",
            lens1.len()
        );
        let exact: f64 = common::fsum(values.iter().skip(1).step_by(2).copied());
        assert!((sum1 - exact).abs() <= 1e-9 * values.iter().map(|x| x.abs()).sum::<f64>());
    }
}

#[test]
fn arrays_of_every_kind_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.npy");
    // SAFETY: the file is private to this test.
    let mut a = unsafe {
        DynArray::<ReadWrite>::create(&path, ">i2".parse().unwrap(), &[123, 45], Order::F)
    }
    .unwrap()
    .into_typed::<i16>()
    .unwrap();
    a.arange();
    let count = a
        .map_reduce(|| 0usize, |n, b: &[i16]| *n += b.len(), |n, m| *n += m)
        .unwrap();
    let total = a
        .map_reduce(
            || 0i64,
            |t, b: &[i16]| *t += b.iter().map(|&x| i64::from(x)).sum::<i64>(),
            |t, u| *t += u,
        )
        .unwrap();
    assert_eq!(count, 123 * 45);
    assert_eq!(total, a.sum().unwrap());
    let empty = a.slice(s![5..5]).unwrap();
    assert_eq!(
        empty
            .map_reduce(|| 7u8, |_, _: &[i16]| unreachable!("no blocks"), |_, _| {})
            .unwrap(),
        7
    );
}

/// Sum of squares and count, by `map_reduce`.
fn sum_sq(v: &impl mmarray_ops::Input<f64>) -> (f64, usize) {
    map_reduce(
        v,
        || (0.0, 0),
        |(s, n), b: &[f64]| {
            *s += b.iter().map(|x| x * x).sum::<f64>();
            *n += b.len();
        },
        |(s, n), (s2, n2)| {
            *s += s2;
            *n += n2;
        },
    )
    .unwrap()
}

#[test]
fn chunked_views_give_what_the_same_data_in_one_mapping_gives() {
    use mmarray_core::chunk::{Chunked, MemoryChunks};
    let mut rng = Rng::new(3);
    let values: Vec<f64> = random_values(&mut rng, 7 * 9 * 10, Flavor::Wide);
    let bytes = encode_bytes(&values, ByteOrder::Big);
    let flat = View::<f64>::from_bytes(&bytes, &[7, 9, 10], Order::C, ByteOrder::Big).unwrap();
    let mut a = Chunked::new(Box::new(
        MemoryChunks::new(">f8".parse().unwrap(), &[7, 9, 10], &[3, 4, 3], Order::C).unwrap(),
    ));
    mmarray_ops::assign(a.view_mut::<f64>().unwrap(), &flat).unwrap();
    let chunked = a.view::<f64>().unwrap();
    let scale = values.iter().map(|x| x * x).sum::<f64>();
    for spec in ["...", "1:-1, ::-2, 2:", "::3, 1, :"] {
        let want = sum_sq(&flat.slice(spec).unwrap());
        let got = sum_sq(&chunked.slice(spec).unwrap());
        assert_eq!(got.1, want.1, "{spec}");
        assert!(
            (got.0 - want.0).abs() <= 1e-12 * scale,
            "{spec}: {got:?} vs {want:?}"
        );
    }
}
