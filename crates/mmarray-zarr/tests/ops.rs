//! The `mmarray-ops` engine over Zarr stores: reductions give the same bits as
//! over the `.npy` they were converted from, whatever the chunking, sharding,
//! codec and order.

use mmarray_core::{DynArray, Order, ReadOnly, ReadWrite};
use mmarray_dtype::{DType, Element, Kind, Native, dispatch};
use mmarray_ops::{Elem, Op, ReduceOptions, reduce};
use mmarray_zarr::{Compressor, CreateOptions};

fn check<T: Elem + Element>(
    npy: &DynArray<ReadOnly>,
    opts: &CreateOptions,
    dir: &std::path::Path,
    what: &str,
) {
    let src = npy.view::<T>().unwrap();
    let path = dir.join(format!("{what}.zarr"));
    let a = mmarray_zarr::convert(&src, &path, opts).unwrap();
    let view = a.view::<T>().unwrap();
    for op in [
        Op::Sum,
        Op::Mean,
        Op::Min,
        Op::Max,
        Op::Argmin,
        Op::Argmax,
        Op::Std,
    ] {
        let opts = ReduceOptions::default();
        let want = reduce(&src, op, &opts).unwrap();
        let got = reduce(&view, op, &opts).unwrap_or_else(|e| panic!("{what} {op:?}: {e}"));
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "{what} {op:?}");
        let want = reduce(&src.slice("3:-2, ::-3").unwrap(), op, &opts).unwrap();
        let got = reduce(&view.slice("3:-2, ::-3").unwrap(), op, &opts).unwrap();
        assert_eq!(
            format!("{got:?}"),
            format!("{want:?}"),
            "{what} {op:?} sliced"
        );
    }
}

#[test]
fn reductions_over_stores_equal_those_over_the_npy() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [157, 61];
    for kind in [
        Kind::F64,
        Kind::F32,
        Kind::F16,
        Kind::I32,
        Kind::U8,
        Kind::C128,
    ] {
        for order in [Order::C, Order::F] {
            let npy = dir.path().join(format!("{kind:?}-{order:?}.npy"));
            // SAFETY: the test's own file.
            let mut a =
                unsafe { DynArray::<ReadWrite>::create(&npy, DType::native(kind), &shape, order) }
                    .unwrap();
            dispatch!(kind, T => {
                let values: Vec<T> = (0..shape[0] * shape[1])
                    .map(|i| T::from_f64(((i * 7919) % 1000) as f64 / 8.0 - 40.0))
                    .collect();
                a.view_mut::<T>().unwrap().assign_slice(&values).unwrap();
            });
            a.close().unwrap();
            // SAFETY: as above.
            let src = unsafe { DynArray::<ReadOnly>::open(&npy) }.unwrap();
            for (name, opts) in [
                ("zstd", CreateOptions::new().chunks(&[64, 20])),
                (
                    "sharded",
                    CreateOptions::new()
                        .chunks(&[50, 11])
                        .shards(&[2, 3])
                        .compressor(Compressor::None),
                ),
            ] {
                let what = format!("{kind:?}-{order:?}-{name}");
                dispatch!(kind, T => check::<T>(&src, &opts, dir.path(), &what));
            }
        }
    }
}
