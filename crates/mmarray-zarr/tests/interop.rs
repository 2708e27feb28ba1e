//! Interop with the real zarr-python 3.1.x (in the venv `cargo xtask test`
//! keeps, or `$MMARRAY_PYTHON`; missing, the tests fail saying how to set it up):
//! zarr-python reads every store mmarray writes with equal values and metadata,
//! and mmarray reads what zarr-python writes (v3 with zstd, gzip, blosc, crc32c,
//! transpose, big-endian bytes and sharding; v2 with blosc, zstd, gzip, none, C
//! and F order, both byte orders).

mod common;

use std::fmt::Write as _;
use std::fs;

use common::{KINDS, LAYOUTS, codecs, make_npy, options, run_zarr_py};
use mmarray_core::{DynArray, Order, ReadOnly};
use mmarray_dtype::{ByteOrder, Element, Kind, dispatch};

/// Every dtype x codec x sharded or not x source layout, written by mmarray from a
/// `.npy`, read by zarr-python and compared with `np.load` of the `.npy`, bit for
/// bit, along with the dtype, chunks, shards, fill value and dimension names.
#[test]
fn zarr_python_reads_every_store_mmarray_writes() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [7, 5, 3];
    let chunks = [3, 2, 2];
    let mut manifest = String::new();
    let mut n = 0;
    for (k, &kind) in KINDS.iter().enumerate() {
        for (l, &(order, byte_order)) in LAYOUTS.iter().enumerate() {
            let npy = dir.path().join(format!("{kind:?}-{l}.npy"));
            drop(make_npy(
                &npy,
                kind,
                byte_order,
                &shape,
                order,
                (k * 7 + l) as u64,
            ));
            // SAFETY: the test's own file, not modified while mapped.
            let src = unsafe { DynArray::<ReadOnly>::open(&npy) }.unwrap();
            for (name, compressor, checksum) in codecs() {
                for sharded in [false, true] {
                    let store = dir
                        .path()
                        .join(format!("{kind:?}-{l}-{name}-{sharded}.zarr"));
                    let opts = options(&chunks, sharded, compressor, checksum);
                    dispatch!(kind, T => {
                        mmarray_zarr::convert(&src.view::<T>().unwrap(), &store, &opts).unwrap();
                    });
                    let shards = if sharded { "[6, 4, 2]" } else { "None" };
                    writeln!(
                        manifest,
                        "{}\t{}\t{}\t{shards}",
                        npy.display(),
                        store.display(),
                        src.dtype().descr()
                    )
                    .unwrap();
                    n += 1;
                }
            }
        }
    }
    let list = dir.path().join("manifest.tsv");
    fs::write(&list, manifest).unwrap();
    let out = run_zarr_py(
        r#"
import sys, numpy as np, zarr
n = 0
for line in open(sys.argv[1]):
    npy, store, descr, shards = line.rstrip("\n").split("\t")
    ref = np.load(npy)
    a = zarr.open_array(store, mode="r")
    got = a[...]
    what = f"{store}"
    assert a.shape == ref.shape, what
    assert got.dtype.newbyteorder("=") == ref.dtype.newbyteorder("="), (what, got.dtype, ref.dtype)
    assert a.chunks == (3, 2, 2), (what, a.chunks)
    assert str(a.shards and list(a.shards)) == shards, (what, a.shards)
    assert a.metadata.dimension_names == ("dim_0", "dim_1", "dim_2"), what
    assert a.fill_value == 0, what
    endian = [c for c in a.serializer.to_dict().get("configuration", {}).values()]
    if ref.dtype.itemsize > 1 and ref.dtype.kind != "b":
        want = "big" if descr.startswith(">") else "little"
        assert endian == [want], (what, endian, descr)
    native = ref.dtype.newbyteorder("=")
    assert np.ascontiguousarray(got.astype(native)).tobytes() == np.ascontiguousarray(ref.astype(native)).tobytes(), what
    n += 1
print(n)
"#,
        &[list.as_os_str()],
    );
    assert_eq!(out.trim(), n.to_string());
    assert_eq!(n, 420);
}

fn same_bits<T: Element>(
    store: &DynArray<ReadOnly>,
    zarr: &mmarray_core::chunk::Chunked,
    what: &str,
) {
    let want = store.view::<T>().unwrap().to_vec();
    let got = zarr
        .view::<T>()
        .unwrap()
        .to_vec()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let (a, b): (&[u8], &[u8]) = (bytemuck::cast_slice(&got), bytemuck::cast_slice(&want));
    assert!(a == b, "{what}: values differ");
    // And a strided slice across chunks.
    let got = zarr
        .view::<T>()
        .unwrap()
        .slice("::-3, 1::2")
        .unwrap()
        .to_vec()
        .unwrap();
    let want = store
        .view::<T>()
        .unwrap()
        .slice("::-3, 1::2")
        .unwrap()
        .to_vec();
    let (a, b): (&[u8], &[u8]) = (bytemuck::cast_slice(&got), bytemuck::cast_slice(&want));
    assert!(a == b, "{what}: sliced values differ");
}

/// zarr-python writes stores of every dtype (v3: zstd, gzip, blosc, crc32c,
/// transpose, big-endian, sharded; v2: blosc, zstd, gzip, none, C and F, both
/// byte orders), with `.npy` files of the same values; mmarray reads them equal.
#[test]
fn mmarray_reads_what_zarr_python_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_zarr_py(
        r#"
import os, sys, numpy as np, zarr, numcodecs
from zarr.codecs import ZstdCodec, GzipCodec, BloscCodec, Crc32cCodec, TransposeCodec, BytesCodec
root = sys.argv[1]
kinds = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]
v3 = {
    "zstd": dict(compressors=[ZstdCodec(level=3)]),
    "gzip": dict(compressors=[GzipCodec(level=5)]),
    "blosc": dict(compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle")]),
    "none": dict(compressors=None),
    "crc32c": dict(compressors=[ZstdCodec(level=1), Crc32cCodec()]),
    "transpose": dict(filters=[TransposeCodec(order=[1, 0])], compressors=[GzipCodec()]),
    "big": dict(serializer=BytesCodec(endian="big"), compressors=[ZstdCodec()]),
    "sharded": dict(shards=(8, 8), compressors=[ZstdCodec(level=1)]),
    "sharded-blosc": dict(shards=(8, 4), compressors=[BloscCodec()]),
}
v2 = {
    "v2-blosc": dict(compressors=numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.SHUFFLE)),
    "v2-zstd-F": dict(compressors=numcodecs.Zstd(level=1), order="F"),
    "v2-gzip": dict(compressors=numcodecs.GZip(level=5)),
    "v2-none-F": dict(compressors=None, order="F"),
}
rng = np.random.default_rng(7)
for k in kinds:
    for name, kw in list(v3.items()) + list(v2.items()):
        dt = np.dtype(k)
        big = dt.itemsize > 1 and k != "?" and (name == "big" or (name.startswith("v2") and k in ("i4", "f8", "c8", "u2")))
        dt = dt.newbyteorder(">" if big else "<")
        shape = (13, 9)
        if k == "?":
            data = rng.integers(0, 2, size=shape).astype(bool)
        else:
            raw = rng.integers(0, 256, size=13 * 9 * dt.itemsize, dtype=np.uint8)
            data = raw.view(dt).reshape(shape)
        data[:4] = 0  # whole chunks equal to the fill value: not stored
        store = os.path.join(root, f"{k}-{name}.zarr")
        fmt = 2 if name.startswith("v2") else 3
        args = dict(kw)
        if fmt == 3 and name != "big":
            dt = dt.newbyteorder("<")
            data = data.astype(dt)
        a = zarr.create_array(store=store, shape=shape, chunks=(4, 4), dtype=dt, fill_value=0, zarr_format=fmt, **args)
        a[...] = data
        np.save(store + ".npy", data)
        order = kw.get("order", "C")
        shards = "sharded" in name
        print(f"{store}\t{fmt}\t{dt.str}\t{int(shards)}\t{order if fmt == 2 else ('F' if name == 'transpose' else 'C')}")
"#,
        &[dir.path().as_os_str()],
    );
    let mut n = 0;
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [store, version, descr, sharded, order] = f[..] else {
            panic!("bad line {line:?}");
        };
        let what = format!("{store} ({descr})");
        let info = mmarray_zarr::inspect(store).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(info.version.to_string(), version, "{what}");
        assert_eq!(info.shards.is_some(), sharded == "1", "{what}");
        assert_eq!(info.chunks, [4, 4], "{what}");
        let kind = info.dtype.kind();
        if kind.itemsize() > 1 && kind != Kind::Bool {
            assert_eq!(info.dtype.descr(), descr, "{what}: stored byte order");
        }
        assert_eq!(
            info.order,
            if order == "F" { Order::F } else { Order::C },
            "{what}"
        );
        let zarr = mmarray_zarr::open(store).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(zarr.dtype().byte_order() == ByteOrder::NATIVE);
        let npy = format!("{store}.npy");
        // SAFETY: the test's own file, not modified while mapped.
        let reference = unsafe { DynArray::<ReadOnly>::open(&npy) }.unwrap();
        assert_eq!(reference.dtype().kind(), kind, "{what}");
        dispatch!(kind, T => same_bits::<T>(&reference, &zarr, &what));
        n += 1;
    }
    assert_eq!(n, 14 * 13, "{out}");
}
