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

/// Stores whose chunks are large enough to be streamed by whole-array
/// reductions (zstd, 2 MiB chunks: decoded as the walk goes, not held whole):
/// the same bits as over the `.npy`, partial edge chunks included; chunks
/// stored otherwise (two frames, or damaged) are read whole or refused as
/// unstreamed reads refuse them.
#[test]
fn streamed_stores_equal_the_npy_and_refuse_damaged_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [1100usize, 1300];
    let npy = dir.path().join("big.npy");
    // SAFETY: the test's own file.
    let mut a =
        unsafe { DynArray::<ReadWrite>::create(&npy, DType::native(Kind::F64), &shape, Order::C) }
            .unwrap();
    let values: Vec<f64> = (0..shape[0] * shape[1])
        .map(|i| ((i * 7919) % 100_003) as f64 / 7.0 - 3000.0)
        .collect();
    a.view_mut::<f64>().unwrap().assign_slice(&values).unwrap();
    a.close().unwrap();
    // SAFETY: as above.
    let src = unsafe { DynArray::<ReadOnly>::open(&npy) }.unwrap();
    let opts = CreateOptions::new().chunks(&[512, 512]);
    check::<f64>(&src, &opts, dir.path(), "streamed");
    let store = dir.path().join("streamed.zarr");
    // Chunk files read, or mapped (the CLI's choice): the same sums, the same refusals.
    // SAFETY: nothing else touches the test's store.
    let mapped = unsafe { mmarray_zarr::OpenOptions::new().map_chunks(true) };
    let sum = |store: &std::path::Path| {
        let read = mmarray_zarr::open(store).unwrap();
        let read = reduce(
            &read.view::<f64>().unwrap(),
            Op::Sum,
            &ReduceOptions::default(),
        )
        .map_err(|e| e.to_string());
        let map = mmarray_zarr::ZarrSource::open_with(store, &mapped)
            .unwrap()
            .into_chunked();
        let map = reduce(
            &map.view::<f64>().unwrap(),
            Op::Sum,
            &ReduceOptions::default(),
        )
        .map_err(|e| e.to_string());
        assert_eq!(format!("{read:?}"), format!("{map:?}"));
        read
    };
    let want = reduce(
        &src.view::<f64>().unwrap(),
        Op::Sum,
        &ReduceOptions::default(),
    )
    .unwrap();
    let chunk = store.join("c/1/1");
    let stored = std::fs::read(&chunk).unwrap();
    let decoded = zstd::bulk::decompress(&stored, 512 * 512 * 8).unwrap();
    // Two frames: read whole, right.
    let mut two = zstd::bulk::compress(&decoded[..1 << 20], 1).unwrap();
    two.extend(zstd::bulk::compress(&decoded[1 << 20..], 1).unwrap());
    std::fs::write(&chunk, &two).unwrap();
    assert_eq!(format!("{:?}", sum(&store).unwrap()), format!("{want:?}"));
    let refused = |bytes: &[u8], what: &str| {
        std::fs::write(&chunk, bytes).unwrap();
        let e = sum(&store).unwrap_err();
        assert!(
            e.contains(&store.display().to_string()) && e.contains("chunk c/1/1"),
            "{what}: {e}"
        );
    };
    refused(&stored[..stored.len() / 2], "truncated");
    let mut longer = stored.clone();
    longer.extend_from_slice(&[0; 8]);
    refused(&longer, "too long");
    let mut more = stored.clone();
    more.extend(zstd::bulk::compress(&[1u8; 64], 1).unwrap());
    refused(&more, "a second frame with more data");
    let mut bad = stored.clone();
    for b in bad.iter_mut().take(6) {
        *b ^= 0x5a;
    }
    refused(&bad, "corrupt header");
    std::fs::write(&chunk, &stored).unwrap();
    assert_eq!(format!("{:?}", sum(&store).unwrap()), format!("{want:?}"));
}
