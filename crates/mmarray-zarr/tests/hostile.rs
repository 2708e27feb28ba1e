//! Hostile stores: malformed or lying metadata, unknown codecs and data types,
//! absurd shapes and chunk counts, chunks of the wrong size, truncated or corrupt
//! compressed chunks, shard indexes pointing outside their shard. Each gives an
//! error naming the store (and the chunk key, for chunks), never a panic, never
//! an allocation of a claimed size, and nothing in the store changes.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use mmarray_core::{Order, Result, View};
use mmarray_dtype::ByteOrder;
use mmarray_zarr::{BloscCompressor, BloscShuffle, Compressor, CreateOptions};
use serde_json::{Value as Json, json};

/// A good store of float64 0..24, shape 6 x 4, chunks 2 x 4.
fn good(dir: &Path, name: &str, opts: CreateOptions) -> PathBuf {
    let values: Vec<f64> = (0..24).map(f64::from).collect();
    let src = View::<f64>::from_bytes(
        bytemuck::cast_slice(&values),
        &[6, 4],
        Order::C,
        ByteOrder::Little,
    )
    .unwrap();
    let path = dir.join(name);
    mmarray_zarr::convert(&src, &path, &opts.chunks(&[2, 4])).unwrap();
    assert_eq!(read_all(&path).unwrap(), values);
    path
}

fn read_all(path: &Path) -> Result<Vec<f64>> {
    let a = mmarray_zarr::open(path)?;
    a.view::<f64>()?.to_vec()
}

fn metadata(path: &Path) -> Json {
    serde_json::from_slice(&fs::read(path.join("zarr.json")).unwrap()).unwrap()
}

fn set_metadata(path: &Path, json: &Json) {
    fs::write(path.join("zarr.json"), serde_json::to_vec(json).unwrap()).unwrap();
}

/// The error of reading all of the store at `path` opened with mapped chunk files.
fn mapped_read_error(path: &Path) -> String {
    // SAFETY: nothing else touches the test's store.
    let options = unsafe { mmarray_zarr::OpenOptions::new().map_chunks(true) };
    let a = mmarray_zarr::ZarrSource::open_with(path, &options)
        .unwrap()
        .into_chunked();
    a.view::<f64>().unwrap().to_vec().unwrap_err().to_string()
}

/// Opens and reads the whole store at `path`: it must fail with a message naming
/// the store and holding every one of `needles`, and change nothing.
#[track_caller]
fn refused(path: &Path, needles: &[&str]) {
    let before = common::snapshot(path);
    let err = read_all(path)
        .expect_err("a hostile store was read")
        .to_string();
    assert!(
        err.contains(&path.display().to_string()),
        "the message does not name the store: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "the message lacks {n:?}: {err}");
    }
    assert!(
        common::snapshot(path) == before,
        "reading changed the store: {err}"
    );
}

#[test]
fn malformed_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let p = good(dir.path(), "a.zarr", CreateOptions::new());
    let good_json = metadata(&p);
    for (text, needle) in [
        (&b"{not json"[..], "zarr.json: not valid JSON"),
        (b"", "zarr.json: not valid JSON"),
        (b"[1, 2]", "zarr.json: the metadata is not a JSON object"),
        (b"{\"zarr_format\": 3}", "zarr.json: no \"node_type\""),
        (b"\xff\xfe\x00", "not valid JSON"),
    ] {
        fs::write(p.join("zarr.json"), text).unwrap();
        refused(&p, &[needle]);
    }
    let cases: Vec<(&str, Json, &str)> = vec![
        ("zarr_format", json!(4), "zarr_format is 4, not 3"),
        ("node_type", json!("group"), "a Zarr group, not an array"),
        ("shape", json!(null), "\"shape\" is not a list"),
        ("shape", json!([6, -4]), "\"shape\" holds -4, not a size"),
        ("shape", json!([6, 1e300]), "not a size"),
        (
            "shape",
            json!([6]),
            "chunk_shape [2, 4] has 2 dimensions, shape [6] has 1",
        ),
        ("shape", json!(vec![1; 70]), "at most 64 are supported"),
        (
            "data_type",
            json!("string"),
            "data type \"string\" is not supported",
        ),
        ("data_type", json!("numpy.datetime64"), "is not supported"),
        ("data_type", json!({"name": "float64"}), "is not supported"),
        (
            "chunk_grid",
            json!({"name": "rectilinear", "configuration": {}}),
            "chunk grid \"rectilinear\" is not supported",
        ),
        (
            "chunk_grid",
            json!({"name": "regular", "configuration": {"chunk_shape": [0, 4]}}),
            "chunk sides must be at least 1",
        ),
        ("codecs", json!("zstd"), "\"codecs\" is not a list"),
        (
            "codecs",
            json!([{"name": "bytes", "configuration": {"endian": "middle"}}]),
            "not little or big",
        ),
        (
            "codecs",
            json!([{"name": "bytes"}, {"name": "lzma9000"}]),
            "lzma9000",
        ),
        (
            "codecs",
            json!([{"name": "bytes"}, {"name": "zstd", "configuration": {"level": "high"}}]),
            "zarrs",
        ),
        ("codecs", json!([]), "zarrs"),
        ("fill_value", json!("maybe"), "zarrs"),
    ];
    for (key, value, needle) in cases {
        let mut j = good_json.clone();
        j[key] = value;
        set_metadata(&p, &j);
        refused(&p, &[needle]);
    }
    // Too large a metadata file is not read.
    let mut big = good_json.clone();
    big["attributes"] = json!({"pad": "x".repeat(17 << 20)});
    set_metadata(&p, &big);
    refused(&p, &["larger than 16777216 bytes"]);
}

#[test]
fn not_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.zarr");
    fs::create_dir(&empty).unwrap();
    refused(&empty, &["no zarr.json (v3) or .zarray (v2)"]);
    let file = dir.path().join("file.zarr");
    fs::write(&file, b"x").unwrap();
    let err = read_all(&file).unwrap_err().to_string();
    assert!(err.contains("not a directory"), "{err}");
    let err = read_all(&dir.path().join("missing.zarr"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no such Zarr store"), "{err}");
    let group = dir.path().join("g.zarr");
    fs::create_dir(&group).unwrap();
    fs::write(group.join(".zgroup"), b"{\"zarr_format\": 2}").unwrap();
    refused(&group, &["a Zarr v2 group"]);
    assert!(!mmarray_zarr::is_zarr(&group) && !mmarray_zarr::is_zarr(&file));
}

#[test]
fn absurd_shapes_and_chunk_counts() {
    let dir = tempfile::tempdir().unwrap();
    let p = good(dir.path(), "a.zarr", CreateOptions::new());
    let mut j = metadata(&p);
    j["shape"] = json!([1u64 << 62, 1u64 << 62]);
    set_metadata(&p, &j);
    refused(&p, &["too large"]);
    // numpy's "array is too big": an axis past isize::MAX (even in an empty
    // array) or a byte size past it; slicing such an axis panicked once.
    for shape in [
        json!([1u64 << 63, 1]),
        json!([u64::MAX, 0]),
        json!([1u64 << 60, 1]),
    ] {
        j["shape"] = shape;
        set_metadata(&p, &j);
        refused(&p, &["too large", "does not fit in isize"]);
    }
    // Just under the limit: it opens, and slices of it are what they are
    // (missing chunks: the fill value).
    std::fs::remove_dir_all(p.join("c")).unwrap();
    j["shape"] = json!([(1u64 << 60) - 1, 1]);
    j["chunk_grid"]["configuration"]["chunk_shape"] = json!([1 << 20, 1]);
    set_metadata(&p, &j);
    let big = mmarray_zarr::open(&p).unwrap();
    let view = big.view::<f64>().unwrap();
    for (spec, n) in [
        ("1:3", 2),
        ("0:2:1152921504606846975", 1),
        ("-2:", 2),
        ("::-576460752303423488", 2),
    ] {
        let got = view.slice(spec).unwrap().to_vec().unwrap();
        assert_eq!(got, vec![0.0; n], "{spec}");
    }
    // Chunks larger than accepted are refused before any is read.
    j["shape"] = json!([1u64 << 31, 4]);
    j["chunk_grid"]["configuration"]["chunk_shape"] = json!([1u64 << 31, 4]);
    set_metadata(&p, &j);
    refused(&p, &["more than the 1073741824 accepted"]);
    // A trillion chunks open, and reading a few allocates a few.
    j["shape"] = json!([1u64 << 40, 4]);
    j["chunk_grid"]["configuration"]["chunk_shape"] = json!([1, 4]);
    set_metadata(&p, &j);
    let before = common::snapshot(&p);
    let a = mmarray_zarr::open(&p).unwrap();
    assert_eq!(a.grid().len(), 1 << 40);
    let tail = a
        .view::<f64>()
        .unwrap()
        .slice("-2:, :")
        .unwrap()
        .to_vec()
        .unwrap();
    assert_eq!(tail, [0.0; 8]);
    assert!(common::snapshot(&p) == before);
    // Shards of too many chunks.
    let s = good(dir.path(), "s.zarr", CreateOptions::new().shards(&[1, 1]));
    let mut j = metadata(&s);
    j["shape"] = json!([1u64 << 40, 4]);
    j["chunk_grid"]["configuration"]["chunk_shape"] = json!([1u64 << 30, 4]);
    j["codecs"][0]["configuration"]["chunk_shape"] = json!([1, 4]);
    set_metadata(&s, &j);
    refused(&s, &["more than the 4194304 accepted"]);
    j["codecs"][0]["configuration"]["chunk_shape"] = json!([3, 4]);
    set_metadata(&s, &j);
    refused(&s, &["not a multiple of the inner chunk shape"]);
}

#[test]
fn lying_data_types_and_chunk_shapes() {
    let dir = tempfile::tempdir().unwrap();
    for (name, opts) in [
        ("none", CreateOptions::new().compressor(Compressor::None)),
        ("zstd", CreateOptions::new()),
        ("gzip", CreateOptions::new().compressor(Compressor::Gzip(1))),
        (
            "blosc",
            CreateOptions::new().compressor(Compressor::Blosc {
                cname: BloscCompressor::Zstd,
                clevel: 1,
                shuffle: BloscShuffle::Bit,
            }),
        ),
    ] {
        let p = good(dir.path(), &format!("{name}.zarr"), opts);
        let mut j = metadata(&p);
        // The chunks hold 64 bytes; int16 chunks of 2 x 4 hold 16.
        j["data_type"] = json!("int16");
        j["fill_value"] = json!(0);
        set_metadata(&p, &j);
        let a = mmarray_zarr::open(&p).unwrap();
        let err = a.view::<i16>().unwrap().to_vec().unwrap_err().to_string();
        assert!(
            err.contains(&p.display().to_string()) && err.contains("chunk c/0/0"),
            "{name}: {err}"
        );
        // Chunk shapes that do not match the stored chunks.
        let mut j = metadata(&p);
        j["data_type"] = json!("float64");
        j["fill_value"] = json!(0.0);
        j["chunk_grid"]["configuration"]["chunk_shape"] = json!([3, 4]);
        set_metadata(&p, &j);
        refused(&p, &["chunk c/0/0"]);
    }
}

#[test]
fn chunks_of_the_wrong_size_truncated_or_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let blosc = Compressor::Blosc {
        cname: BloscCompressor::Lz4,
        clevel: 5,
        shuffle: BloscShuffle::Byte,
    };
    for (name, compressor, checksum) in [
        ("none", Compressor::None, false),
        ("zstd", Compressor::Zstd(1), false),
        ("gzip", Compressor::Gzip(5), false),
        ("blosc", blosc, false),
        ("crc", Compressor::None, true),
        ("zstdcrc", Compressor::Zstd(1), true),
    ] {
        let opts = CreateOptions::new()
            .compressor(compressor)
            .checksum(checksum);
        let p = good(dir.path(), &format!("{name}.zarr"), opts);
        let chunk = p.join("c/1/0");
        let stored = fs::read(&chunk).unwrap();
        // Truncated.
        fs::write(&chunk, &stored[..stored.len() / 2]).unwrap();
        refused(&p, &["chunk c/1/0"]);
        // Too long.
        let mut longer = stored.clone();
        longer.extend_from_slice(&[0; 8]);
        fs::write(&chunk, &longer).unwrap();
        if name == "gzip" {
            // gzip decoders stop at the end of the stream and ignore what
            // follows, as zarr-python's does; the values are right.
            assert_eq!(
                read_all(&p).unwrap(),
                (0..24).map(f64::from).collect::<Vec<_>>()
            );
        } else {
            refused(&p, &["chunk c/1/0"]);
        }
        // Empty.
        fs::write(&chunk, b"").unwrap();
        refused(&p, &["chunk c/1/0"]);
        // Corrupt: the first bytes zeroed.
        let mut bad = stored.clone();
        for b in bad.iter_mut().take(6) {
            *b ^= 0x5a;
        }
        fs::write(&chunk, &bad).unwrap();
        if name != "none" {
            refused(&p, &["chunk c/1/0"]);
        }
        // A flipped byte in the middle is caught by the checksum.
        if checksum {
            let mut flipped = stored.clone();
            let mid = flipped.len() / 2;
            flipped[mid] ^= 1;
            fs::write(&chunk, &flipped).unwrap();
            refused(&p, &["chunk c/1/0"]);
        }
        fs::write(&chunk, &stored).unwrap();
        assert!(read_all(&p).is_ok());
    }
}

#[test]
fn compressed_chunks_claiming_huge_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let p = good(dir.path(), "zstd.zarr", CreateOptions::new());
    // A zstd frame header claiming 2^40 bytes, then one empty raw last block.
    let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0b1110_0000];
    frame.extend_from_slice(&(1u64 << 40).to_le_bytes());
    frame.extend_from_slice(&[1, 0, 0]);
    fs::write(p.join("c/0/0"), &frame).unwrap();
    refused(
        &p,
        &["chunk c/0/0", "claims to decode to 1099511627776 bytes"],
    );
    let blosc = Compressor::Blosc {
        cname: BloscCompressor::Lz4,
        clevel: 5,
        shuffle: BloscShuffle::Byte,
    };
    let b = good(
        dir.path(),
        "blosc.zarr",
        CreateOptions::new().compressor(blosc),
    );
    let mut chunk = fs::read(b.join("c/2/0")).unwrap();
    chunk[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(b.join("c/2/0"), &chunk).unwrap();
    refused(
        &b,
        &["chunk c/2/0", "the blosc header claims 4294967295 bytes"],
    );
}

/// Rewrites the index at the end of the shard `file` (with its crc32c) by `f`.
fn edit_index(file: &Path, n: usize, f: impl FnOnce(&mut [u64])) {
    let mut bytes = fs::read(file).unwrap();
    let at = bytes.len() - (n * 16 + 4);
    let mut index: Vec<u64> = bytes[at..at + n * 16]
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    f(&mut index);
    for (k, v) in index.iter().enumerate() {
        bytes[at + 8 * k..at + 8 * k + 8].copy_from_slice(&v.to_le_bytes());
    }
    let crc = crc32c::crc32c(&bytes[at..at + n * 16]);
    let end = bytes.len();
    bytes[end - 4..].copy_from_slice(&crc.to_le_bytes());
    fs::write(file, bytes).unwrap();
}

#[test]
fn shard_indexes_pointing_outside_the_shard() {
    let dir = tempfile::tempdir().unwrap();
    for compressor in [Compressor::None, Compressor::Zstd(1)] {
        let name = format!("{compressor:?}.zarr");
        // Shards of 2 x 1 chunks: shard c/0/0 holds chunks (0, 0) and (1, 0).
        let p = good(
            dir.path(),
            &name,
            CreateOptions::new().compressor(compressor).shards(&[2, 1]),
        );
        let shard = p.join("c/0/0");
        let stored = fs::read(&shard).unwrap();
        let key = "chunk c/0/0 (inner chunk [1, 0])";
        edit_index(&shard, 2, |ix| ix[2] = 1 << 40);
        refused(&p, &[key, "the shard index points outside the shard"]);
        fs::write(&shard, &stored).unwrap();
        edit_index(&shard, 2, |ix| {
            ix[2..4].copy_from_slice(&[u64::MAX - 1, 10]);
        });
        refused(&p, &[key, "points outside the shard"]);
        fs::write(&shard, &stored).unwrap();
        // Into the index itself.
        let len = stored.len() as u64;
        edit_index(&shard, 2, |ix| {
            ix[2..4].copy_from_slice(&[len - 20, 16]);
        });
        refused(&p, &[key, "points outside the shard"]);
        fs::write(&shard, &stored).unwrap();
        // Lengths that overlap other chunks are read and must decode to the chunk.
        edit_index(&shard, 2, |ix| ix[3] -= 1);
        refused(&p, &[key]);
        fs::write(&shard, &stored).unwrap();
        // A corrupt index (checksum), and a shard shorter than its index.
        let mut bad = stored.clone();
        let at = bad.len() - 10;
        bad[at] ^= 0xff;
        fs::write(&shard, &bad).unwrap();
        refused(&p, &["chunk c/0/0 (inner chunk [0, 0])", "crc32c checksum"]);
        fs::write(&shard, &stored[..20]).unwrap();
        refused(
            &p,
            &["chunk c/0/0 (inner chunk [0, 0])", "fewer than its index"],
        );
        fs::write(&shard, &stored).unwrap();
        assert!(read_all(&p).is_ok());
    }
}

#[test]
fn zarr_v2_hostile_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v2.zarr");
    fs::create_dir(&p).unwrap();
    let zarray = |dtype: &str, compressor: Json, filters: Json| {
        json!({"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": dtype, "compressor": compressor,
               "fill_value": 0, "order": "C", "filters": filters})
    };
    for (meta, needle) in [
        (
            zarray("|S5", Json::Null, Json::Null),
            "dtype \"|S5\" is not supported",
        ),
        (
            zarray("<M8[ns]", Json::Null, Json::Null),
            "is not supported",
        ),
        (
            zarray("<f8", json!({"id": "lzma9000"}), Json::Null),
            "zarrs",
        ),
        (
            zarray("<f8", Json::Null, json!([{"id": "delta", "dtype": "<f8"}])),
            "zarrs",
        ),
        (
            zarray("<f8", json!("zstd"), Json::Null),
            "the compressor is not a JSON object",
        ),
        (
            json!({"zarr_format": 2, "shape": [4], "chunks": [2, 2], "dtype": "<f8", "order": "C"}),
            "chunks [2, 2] has 2 dimensions",
        ),
        (
            json!({"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": "<f8", "order": "K"}),
            "order \"K\"",
        ),
    ] {
        fs::write(p.join(".zarray"), serde_json::to_vec(&meta).unwrap()).unwrap();
        refused(&p, &[".zarray", needle]);
    }
    // v2 arrays are not opened for writing.
    fs::write(
        p.join(".zarray"),
        serde_json::to_vec(&zarray("<f8", Json::Null, Json::Null)).unwrap(),
    )
    .unwrap();
    assert_eq!(read_all(&p).unwrap(), [0.0; 4]);
    let err = mmarray_zarr::open_writable(&p).unwrap_err().to_string();
    assert!(err.contains("read-only"), "{err}");
}

#[test]
fn gzip_bombs_and_oversized_chunk_files() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let p = good(
        dir.path(),
        "gzip.zarr",
        CreateOptions::new().compressor(Compressor::Gzip(5)),
    );
    // 64 MiB of zeros in a few dozen KiB of gzip, for a chunk of 64 bytes: decoding
    // stops at the chunk's size instead of inflating it all.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    fs::write(p.join("c/0/0"), &bomb).unwrap();
    refused(&p, &["chunk c/0/0", "decodes to more than 64 bytes"]);
    // A chunk file far larger than any encoding of its chunk is refused before it
    // is read (sparse: it takes no disk).
    let f = fs::File::create(p.join("c/0/0")).unwrap();
    f.set_len(1 << 20).unwrap();
    refused(
        &p,
        &[
            "chunk c/0/0",
            "1048576 bytes stored, more than a chunk of 64 bytes can take",
        ],
    );
    // The same when compressed chunk files are mapped.
    let err = mapped_read_error(&p);
    assert!(
        err.contains("chunk c/0/0")
            && err.contains("1048576 bytes stored, more than a chunk of 64 bytes can take"),
        "{err}"
    );
    // The same for an uncompressed store opened with mapped chunks.
    let n = good(
        dir.path(),
        "none.zarr",
        CreateOptions::new().compressor(Compressor::None),
    );
    fs::File::create(n.join("c/1/0"))
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    let err = mapped_read_error(&n);
    assert!(
        err.contains("chunk c/1/0") && err.contains("1099511627776 bytes stored, 64 expected"),
        "{err}"
    );
}
