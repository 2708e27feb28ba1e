//! How chunks are read: uncompressed chunks mapped when asked for, the others
//! decoded into the caller's buffer (reused, never reallocated once it holds a
//! chunk), for every codec chain mmarray decodes itself and those it leaves to
//! `zarrs`, with the values of the source.

use mmarray_core::chunk::{ChunkBytes, ChunkSource};
use mmarray_core::{Order, View};
use mmarray_dtype::ByteOrder;
use mmarray_zarr::{
    BloscCompressor, BloscShuffle, Compressor, CreateOptions, OpenOptions, ZarrSource,
};

/// float64 0..48 as 6 x 8, in `order` and byte order `bo`, converted with
/// `opts` (chunks 2 x 4).
fn store(
    dir: &std::path::Path,
    name: &str,
    order: Order,
    bo: ByteOrder,
    opts: CreateOptions,
) -> std::path::PathBuf {
    let values: Vec<f64> = (0..48).map(f64::from).collect();
    let bytes: Vec<u8> = values
        .iter()
        .flat_map(|v| match bo {
            ByteOrder::Big => v.to_be_bytes(),
            ByteOrder::Little => v.to_le_bytes(),
        })
        .collect();
    let src = View::<f64>::from_bytes(&bytes, &[6, 8], order, bo).unwrap();
    let path = dir.join(name);
    mmarray_zarr::convert(&src, &path, &opts.chunks(&[2, 4])).unwrap();
    path
}

#[test]
fn uncompressed_chunks_are_mapped_when_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let p = store(
        dir.path(),
        "none.zarr",
        Order::C,
        ByteOrder::NATIVE,
        CreateOptions::new().compressor(Compressor::None),
    );
    // SAFETY: nothing else touches the test's store.
    let mapped = unsafe { OpenOptions::new().map_chunks(true) };
    let source = ZarrSource::open_with(&p, &mapped).unwrap();
    let chunk = source.read_chunk(&[1, 1], Vec::new()).unwrap();
    assert!(matches!(chunk, ChunkBytes::Mapped(_)), "{chunk:?}");
    let first = f64::from_ne_bytes(chunk[..8].try_into().unwrap());
    assert_eq!(first, 20.0);
    drop(chunk);
    let a = source.into_chunked();
    let expect: Vec<f64> = (0..48).map(f64::from).collect();
    assert_eq!(a.view::<f64>().unwrap().to_vec().unwrap(), expect);
    // Without the option, the same chunk is read into the buffer.
    let source = ZarrSource::open(&p).unwrap();
    let chunk = source.read_chunk(&[1, 1], Vec::new()).unwrap();
    assert!(matches!(chunk, ChunkBytes::Owned(_)));
    // A missing chunk reads as the fill value, mapped or not.
    std::fs::remove_file(p.join("c/0/1")).unwrap();
    let source = ZarrSource::open_with(&p, &mapped).unwrap();
    let chunk = source.read_chunk(&[0, 1], Vec::new()).unwrap();
    assert!(chunk.iter().all(|&b| b == 0));
    // Compressed, big-endian or transposed chunks are never mapped.
    for (name, order, bo, compressor) in [
        (
            "zstd.zarr",
            Order::C,
            ByteOrder::NATIVE,
            Compressor::Zstd(1),
        ),
        ("be.zarr", Order::C, ByteOrder::Big, Compressor::None),
        ("f.zarr", Order::F, ByteOrder::NATIVE, Compressor::None),
    ] {
        let p = store(
            dir.path(),
            name,
            order,
            bo,
            CreateOptions::new().compressor(compressor),
        );
        let source = ZarrSource::open_with(&p, &mapped).unwrap();
        let chunk = source.read_chunk(&[0, 0], Vec::new()).unwrap();
        assert!(matches!(chunk, ChunkBytes::Owned(_)), "{name}");
    }
}

#[test]
fn chunks_are_decoded_into_the_callers_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let blosc = Compressor::Blosc {
        cname: BloscCompressor::Lz4,
        clevel: 5,
        shuffle: BloscShuffle::Byte,
    };
    let expect: Vec<f64> = (0..48).map(f64::from).collect();
    for (i, (compressor, checksum, order, bo, shards)) in [
        (
            Compressor::Zstd(1),
            false,
            Order::C,
            ByteOrder::NATIVE,
            false,
        ),
        (
            Compressor::Zstd(3),
            true,
            Order::C,
            ByteOrder::NATIVE,
            false,
        ),
        (
            Compressor::Gzip(5),
            false,
            Order::C,
            ByteOrder::NATIVE,
            false,
        ),
        (Compressor::Gzip(1), true, Order::F, ByteOrder::Big, false),
        (Compressor::Zstd(1), false, Order::C, ByteOrder::Big, true),
        (Compressor::None, true, Order::C, ByteOrder::NATIVE, false),
        (Compressor::None, false, Order::C, ByteOrder::NATIVE, true),
        (blosc, false, Order::C, ByteOrder::NATIVE, false),
    ]
    .into_iter()
    .enumerate()
    {
        let mut opts = CreateOptions::new()
            .compressor(compressor)
            .checksum(checksum);
        if shards {
            opts = opts.shards(&[1, 2]);
        }
        let p = store(dir.path(), &format!("{i}.zarr"), order, bo, opts);
        let source = ZarrSource::open(&p).unwrap();
        // A buffer that held a chunk already is filled in place, not replaced.
        let buf = vec![0u8; 64];
        let ptr = buf.as_ptr();
        let chunk = source.read_chunk(&[2, 1], buf).unwrap();
        let ChunkBytes::Owned(v) = chunk else {
            panic!("case {i}: not decoded into a buffer")
        };
        let values: Vec<f64> = v
            .chunks_exact(8)
            .map(|b| f64::from_ne_bytes(b.try_into().unwrap()))
            .collect();
        let want: Vec<f64> = if order == Order::F {
            // Element [i, j] of the F-ordered source is i + 6 j; the chunk's
            // buffer is in C order.
            vec![28.0, 34.0, 40.0, 46.0, 29.0, 35.0, 41.0, 47.0]
        } else {
            vec![36.0, 37.0, 38.0, 39.0, 44.0, 45.0, 46.0, 47.0]
        };
        assert_eq!(values, want, "case {i}");
        let direct = compressor != blosc && order == Order::C && bo == ByteOrder::NATIVE;
        if direct {
            assert_eq!(v.as_ptr(), ptr, "case {i}: the buffer was reallocated");
        }
        // The array's values in C order: element [i, j] is 8 i + j, or i + 6 j for
        // the F-ordered source.
        let expect: Vec<f64> = if order == Order::C {
            expect.clone()
        } else {
            (0..48).map(|k| f64::from(k / 8 + 6 * (k % 8))).collect()
        };
        let a = source.into_chunked();
        assert_eq!(
            a.view::<f64>().unwrap().to_vec().unwrap(),
            expect,
            "case {i}"
        );
    }
}
