//! Round trips: `.npy` sources of every dtype, C and F order, both byte orders,
//! converted to Zarr v3 with every codec, sharded and not, read back through
//! `Chunked::view().to_vec()` and compared bit for bit with the source; stores
//! created empty and written chunk by chunk; atomic conversion.

mod common;

use std::fs;
use std::path::Path;

use common::{KINDS, LAYOUTS, codecs, make_npy, options};
use mmarray_core::{DynArray, Error, Order, ReadOnly, Result, View};
use mmarray_dtype::{ByteOrder, DType, Element, Kind, Value, dispatch};
use mmarray_zarr::{BlockSource, Compressor, CreateOptions};
use rayon::prelude::*;

fn bits<T: Element>(v: &[T]) -> &[u8] {
    bytemuck::cast_slice(v)
}

/// Converts `src` with `opts` to `path`, reads it back and compares, also two slices.
fn check<T: Element>(src: &View<'_, T>, path: &Path, opts: &CreateOptions, what: &str) {
    let a = mmarray_zarr::convert(src, path, opts).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(a.shape(), src.shape(), "{what}");
    assert_eq!(a.dtype().kind(), src.dtype().kind(), "{what}");
    assert!(
        a.dtype().is_native(),
        "{what}: chunks are given in native order"
    );
    let info = mmarray_zarr::inspect(path).expect("inspect");
    assert_eq!(info.dtype, src.dtype(), "{what}: stored byte order");
    let got = a
        .view::<T>()
        .expect("view")
        .to_vec()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(bits(&got), bits(&src.to_vec()), "{what}: values");
    for spec in ["1:6, ::-2, 1:", "-1, :, 0"] {
        let got = a
            .view::<T>()
            .unwrap()
            .slice(spec)
            .unwrap()
            .to_vec()
            .unwrap();
        let want = src.slice(spec).unwrap().to_vec();
        assert_eq!(bits(&got), bits(&want), "{what}: slice {spec}");
    }
}

/// Every dtype x codec x sharded or not x source layout (C little-endian, F
/// big-endian, C big-endian): 14 x 5 x 2 x 3 = 420 stores.
#[test]
fn every_dtype_codec_sharding_and_layout_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [7, 5, 3];
    let chunks = [3, 2, 2];
    let mut cases = 0;
    for (k, &kind) in KINDS.iter().enumerate() {
        for (l, &(order, byte_order)) in LAYOUTS.iter().enumerate() {
            let npy = dir.path().join(format!("{kind:?}-{l}.npy"));
            drop(make_npy(
                &npy,
                kind,
                byte_order,
                &shape,
                order,
                (k * 10 + l) as u64,
            ));
            // SAFETY: the test's own file, not modified while mapped.
            let src = unsafe { DynArray::<ReadOnly>::open(&npy) }.unwrap();
            for (name, compressor, checksum) in codecs() {
                for sharded in [false, true] {
                    let what =
                        format!("{kind:?} {order:?} {byte_order:?} {name} sharded={sharded}");
                    let path = dir
                        .path()
                        .join(format!("{kind:?}-{l}-{name}-{sharded}.zarr"));
                    let opts = options(&chunks, sharded, compressor, checksum);
                    dispatch!(kind, T => check(&src.view::<T>().unwrap(), &path, &opts, &what));
                    let info = mmarray_zarr::inspect(&path).unwrap();
                    assert_eq!(info.shards.is_some(), sharded);
                    assert_eq!(
                        info.order, order,
                        "{what}: walking order follows the source"
                    );
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 420);
    // No staging folders left behind.
    assert!(
        common::names(dir.path())
            .iter()
            .all(|n| !n.starts_with('.'))
    );
}

/// Chunks equal to the fill value are not stored, and read back as it.
#[test]
fn fill_value_chunks_are_not_stored_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<f32> = (0..40)
        .map(|i| if i < 20 { 2.5 } else { i as f32 })
        .collect();
    let src = View::<f32>::from_bytes(
        bytemuck::cast_slice(&values),
        &[8, 5],
        Order::C,
        ByteOrder::NATIVE,
    )
    .unwrap();
    let path = dir.path().join("a.zarr");
    let opts = CreateOptions::new()
        .chunks(&[2, 5])
        .fill_value(Value::F64(2.5));
    let a = mmarray_zarr::convert(&src, &path, &opts).unwrap();
    assert_eq!(a.view::<f32>().unwrap().to_vec().unwrap(), values);
    // Rows 0..4 are the fill value: chunks c/0/0 and c/1/0 are missing.
    assert!(!path.join("c/0/0").exists() && !path.join("c/1/0").exists());
    assert!(path.join("c/2/0").is_file());
    assert_eq!(
        mmarray_zarr::inspect(&path).unwrap().fill_value,
        serde_json::json!(2.5)
    );
}

/// Default chunks are about 8 MiB, whole rows in C order.
#[test]
fn default_chunks_are_whole_rows_of_about_8_mib() {
    assert_eq!(
        mmarray_zarr::default_chunks(&[10_000, 10_000], 8, Order::C),
        [104, 10_000]
    );
    assert_eq!(
        mmarray_zarr::default_chunks(&[10_000, 10_000], 8, Order::F),
        [10_000, 104]
    );
    assert_eq!(mmarray_zarr::default_chunks(&[3, 4], 8, Order::C), [3, 4]);
    assert_eq!(mmarray_zarr::default_chunks(&[0, 5], 1, Order::C), [1, 5]);
    assert_eq!(
        mmarray_zarr::default_chunks(&[], 8, Order::C),
        Vec::<usize>::new()
    );
}

/// 0-d and empty arrays.
#[test]
fn zero_dimensional_and_empty_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let one = [7i64];
    let src = View::<i64>::from_bytes(bytemuck::cast_slice(&one), &[], Order::C, ByteOrder::NATIVE)
        .unwrap();
    let a = mmarray_zarr::convert(&src, dir.path().join("s.zarr"), &CreateOptions::new()).unwrap();
    assert_eq!(a.view::<i64>().unwrap().to_vec().unwrap(), [7]);
    let none: [i64; 0] = [];
    let src = View::<i64>::from_bytes(
        bytemuck::cast_slice(&none),
        &[0, 4],
        Order::C,
        ByteOrder::NATIVE,
    )
    .unwrap();
    let a = mmarray_zarr::convert(&src, dir.path().join("e.zarr"), &CreateOptions::new()).unwrap();
    assert_eq!(a.shape(), [0, 4]);
    assert!(a.view::<i64>().unwrap().to_vec().unwrap().is_empty());
}

/// `create` makes an empty writable store; chunks written in parallel (sharded
/// too) read back, and survive reopening.
#[test]
fn created_stores_are_written_in_place_chunk_by_chunk() {
    let dir = tempfile::tempdir().unwrap();
    for sharded in [false, true] {
        let path = dir.path().join(format!("w{sharded}.zarr"));
        let mut opts = CreateOptions::new()
            .chunks(&[4, 3])
            .fill_value(Value::F64(-1.0));
        if sharded {
            opts = opts.shards(&[2, 3]);
        }
        let dtype = DType::new(Kind::F64, ByteOrder::Big);
        let a = mmarray_zarr::create(&path, dtype, &[10, 7], &opts).unwrap();
        assert!(a.source().is_writable());
        assert_eq!(a.view::<f64>().unwrap().to_vec().unwrap(), vec![-1.0; 70]);
        let grid = a.grid().clone();
        // Every chunk but the last holds its number.
        (0..grid.len() - 1).into_par_iter().for_each(|id| {
            let values = vec![id as f64; grid.chunk_len()];
            a.source()
                .write_chunk(&grid.coords(id), bytemuck::cast_slice(&values))
                .unwrap();
        });
        a.flush().unwrap();
        let want: Vec<f64> = (0..70)
            .map(|i| {
                let (r, c) = (i / 7, i % 7);
                let id = grid.id(&[r / 4, c / 3]).unwrap();
                if id == grid.len() - 1 {
                    -1.0
                } else {
                    id as f64
                }
            })
            .collect();
        assert_eq!(a.view::<f64>().unwrap().to_vec().unwrap(), want);
        let again = mmarray_zarr::open_writable(&path).unwrap();
        assert_eq!(again.view::<f64>().unwrap().to_vec().unwrap(), want);
        assert_eq!(mmarray_zarr::inspect(&path).unwrap().dtype, dtype);
        if !sharded {
            // Chunks are files renamed into place: no temporaries remain, and a
            // chunk written as the fill value is removed.
            let row: Vec<String> = common::names(&path.join("c/0"));
            assert_eq!(row, ["0", "1", "2"], "{row:?}");
            let fill = vec![-1.0f64; grid.chunk_len()];
            again
                .source()
                .write_chunk(&[0, 1], bytemuck::cast_slice(&fill))
                .unwrap();
            again.flush().unwrap();
            assert_eq!(common::names(&path.join("c/0")), ["0", "2"]);
            assert_eq!(
                again
                    .view::<f64>()
                    .unwrap()
                    .slice("0, 3:6")
                    .unwrap()
                    .to_vec()
                    .unwrap(),
                [-1.0; 3]
            );
        }
        // A chunk of the wrong size is refused, naming the chunk.
        let err = again
            .source()
            .write_chunk(&[0, 0], &[0; 3])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&path.display().to_string()) && err.contains("written with 3 bytes"),
            "{err}"
        );
        // Read-only opening refuses writes.
        let ro = mmarray_zarr::open(&path).unwrap();
        assert!(ro.source().write_chunk(&[0, 0], &[0; 96]).is_err());
    }
}

/// Existing paths: an array is replaced only when asked; other things never.
#[test]
fn existing_targets_are_kept_unless_overwriting_an_array() {
    let dir = tempfile::tempdir().unwrap();
    let v = [1u16, 2, 3];
    let src = View::<u16>::from_bytes(bytemuck::cast_slice(&v), &[3], Order::C, ByteOrder::NATIVE)
        .unwrap();
    let path = dir.path().join("a.zarr");
    mmarray_zarr::convert(&src, &path, &CreateOptions::new()).unwrap();
    let err = mmarray_zarr::convert(&src, &path, &CreateOptions::new()).unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err}");
    let w = [9u16, 8, 7];
    let src2 = View::<u16>::from_bytes(bytemuck::cast_slice(&w), &[3], Order::C, ByteOrder::NATIVE)
        .unwrap();
    let a = mmarray_zarr::convert(&src2, &path, &CreateOptions::new().overwrite(true)).unwrap();
    assert_eq!(a.view::<u16>().unwrap().to_vec().unwrap(), w);
    // A folder that is not a store, and a file, are never replaced.
    let other = dir.path().join("photos");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("keep.jpg"), b"x").unwrap();
    let err =
        mmarray_zarr::convert(&src, &other, &CreateOptions::new().overwrite(true)).unwrap_err();
    assert!(err.to_string().contains("not a Zarr array"), "{err}");
    assert!(
        mmarray_zarr::create(
            &other,
            DType::native(Kind::U8),
            &[3],
            &CreateOptions::new().overwrite(true)
        )
        .is_err()
    );
    assert_eq!(fs::read(other.join("keep.jpg")).unwrap(), b"x");
    assert_eq!(common::names(dir.path()), ["a.zarr", "photos"]);
}

/// A source that fails part-way: the conversion fails and leaves nothing.
struct Failing<'a>(View<'a, i32>);

impl BlockSource<i32> for Failing<'_> {
    fn block_shape(&self) -> &[usize] {
        self.0.shape()
    }
    fn block_dtype(&self) -> DType {
        self.0.dtype()
    }
    fn block_order(&self) -> Order {
        Order::C
    }
    fn block(&self, start: &[usize], shape: &[usize]) -> Result<Vec<i32>> {
        if start[0] >= 6 {
            return Err(Error::Unsupported("the source broke".to_owned()));
        }
        <View<'_, i32> as BlockSource<i32>>::block(&self.0, start, shape)
    }
}

#[test]
fn failed_conversions_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let v: Vec<i32> = (0..100).collect();
    let src = View::<i32>::from_bytes(
        bytemuck::cast_slice(&v),
        &[10, 10],
        Order::C,
        ByteOrder::NATIVE,
    )
    .unwrap();
    let path = dir.path().join("a.zarr");
    let err = mmarray_zarr::convert(
        &Failing(src.clone()),
        &path,
        &CreateOptions::new().chunks(&[2, 10]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("the source broke"), "{err}");
    assert!(
        common::names(dir.path()).is_empty(),
        "{:?}",
        common::names(dir.path())
    );
    // And an existing array is kept as it was.
    mmarray_zarr::convert(&src, &path, &CreateOptions::new()).unwrap();
    let opts = CreateOptions::new().chunks(&[2, 10]).overwrite(true);
    assert!(mmarray_zarr::convert(&Failing(src.clone()), &path, &opts).is_err());
    assert_eq!(
        mmarray_zarr::open(&path)
            .unwrap()
            .view::<i32>()
            .unwrap()
            .to_vec()
            .unwrap(),
        v
    );
    assert_eq!(common::names(dir.path()), ["a.zarr"]);
}

/// Bad options are refused before anything is written.
#[test]
fn bad_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    let dt = DType::native(Kind::F64);
    for opts in [
        CreateOptions::new().chunks(&[0, 2]),
        CreateOptions::new().chunks(&[2]),
        CreateOptions::new().chunks(&[2, 2]).shards(&[0, 1]),
        CreateOptions::new()
            .chunks(&[2, 2])
            .shards(&[1 << 20, 1 << 20]),
        CreateOptions::new().compressor(Compressor::Gzip(10)),
        CreateOptions::new().compressor(Compressor::Zstd(23)),
    ] {
        assert!(
            mmarray_zarr::create(&path, dt, &[4, 4], &opts).is_err(),
            "{opts:?}"
        );
    }
    assert!(mmarray_zarr::create(&path, dt, &[usize::MAX / 2, 4], &CreateOptions::new()).is_err());
    assert!(common::names(dir.path()).is_empty());
}

/// A Zarr store converts to another (rechunked) through `ChunkedView`.
#[test]
fn stores_convert_to_stores() {
    let dir = tempfile::tempdir().unwrap();
    let v: Vec<u32> = (0..600).collect();
    let src = View::<u32>::from_bytes(
        bytemuck::cast_slice(&v),
        &[20, 30],
        Order::C,
        ByteOrder::NATIVE,
    )
    .unwrap();
    let a = mmarray_zarr::convert(
        &src,
        dir.path().join("a.zarr"),
        &CreateOptions::new().chunks(&[7, 4]),
    )
    .unwrap();
    let view = a.view::<u32>().unwrap();
    let opts = CreateOptions::new()
        .chunks(&[5, 5])
        .shards(&[2, 3])
        .order(Order::F);
    let b = mmarray_zarr::convert(&view, dir.path().join("b.zarr"), &opts).unwrap();
    assert_eq!(b.order(), Order::F);
    assert_eq!(b.view::<u32>().unwrap().to_vec().unwrap(), v);
}
