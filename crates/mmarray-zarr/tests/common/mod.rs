//! Helpers shared by the integration tests of `mmarray-zarr`: source `.npy` files
//! with random contents, the codec matrix, snapshots of folders, and the python
//! with numpy and zarr-python for the interop tests.

// Not every test binary uses every helper.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::SystemTime;

use mmarray_core::{DynArray, Order, ReadWrite};
use mmarray_dtype::{ByteOrder, DType, Kind};
use mmarray_zarr::{BloscCompressor, BloscShuffle, Compressor, CreateOptions};

#[path = "../../../mmarray-dtype/tests/support/numpy.rs"]
pub mod numpy;

/// Every kind mmarray has.
pub const KINDS: [Kind; 14] = [
    Kind::Bool,
    Kind::I8,
    Kind::I16,
    Kind::I32,
    Kind::I64,
    Kind::U8,
    Kind::U16,
    Kind::U32,
    Kind::U64,
    Kind::F16,
    Kind::F32,
    Kind::F64,
    Kind::C64,
    Kind::C128,
];

/// The codec settings every round trip goes through: name, compressor, checksum.
pub fn codecs() -> Vec<(&'static str, Compressor, bool)> {
    vec![
        ("none", Compressor::None, false),
        ("zstd", Compressor::Zstd(3), false),
        ("gzip", Compressor::Gzip(5), false),
        (
            "blosc",
            Compressor::Blosc {
                cname: BloscCompressor::Lz4,
                clevel: 5,
                shuffle: BloscShuffle::Byte,
            },
            false,
        ),
        ("zstd+crc32c", Compressor::Zstd(1), true),
    ]
}

/// The sources every round trip converts: memory order and byte order.
pub const LAYOUTS: [(Order, ByteOrder); 3] = [
    (Order::C, ByteOrder::Little),
    (Order::F, ByteOrder::Big),
    (Order::C, ByteOrder::Big),
];

/// The options of one case: chunks of `chunks`, optionally 2 x 2 x 1 chunks per shard.
pub fn options(
    chunks: &[usize],
    sharded: bool,
    compressor: Compressor,
    checksum: bool,
) -> CreateOptions {
    let mut o = CreateOptions::new()
        .chunks(chunks)
        .compressor(compressor)
        .checksum(checksum);
    if sharded {
        let mut per = vec![2; chunks.len()];
        if let Some(last) = per.last_mut() {
            *last = 1;
        }
        o = o.shards(&per);
    }
    o
}

/// A small deterministic generator (`SplitMix64`).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Creates `path`, a `.npy` of `kind` (in `byte_order`), `shape` and `order` with
/// random bits (bools 0 or 1; floats any bits, NaNs with payloads included), the
/// first `zero_prefix` bytes zero (so that some chunks equal the fill value).
pub fn make_npy(
    path: &Path,
    kind: Kind,
    byte_order: ByteOrder,
    shape: &[usize],
    order: Order,
    seed: u64,
) -> DynArray<ReadWrite> {
    let dtype = DType::new(kind, byte_order);
    // SAFETY: the file is new and private to this test.
    let mut a = unsafe { DynArray::create(path, dtype, shape, order) }.expect("create .npy");
    let mut rng = Rng(seed);
    let bytes = a.bytes_mut();
    let n = bytes.len();
    for (i, b) in bytes.iter_mut().enumerate() {
        // The first sixth stays zero: whole chunks equal to the fill value.
        if i < n / 6 {
            continue;
        }
        let r = rng.next() as u8;
        *b = if kind == Kind::Bool { r & 1 } else { r };
    }
    a.flush().expect("flush");
    a
}

/// Every file under `dir` with its bytes and modification time.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let md = fs::symlink_metadata(&p).expect("metadata");
            if md.is_dir() {
                out.insert(p.clone(), (Vec::new(), md.modified().expect("mtime")));
                todo.push(p);
            } else {
                let bytes = fs::read(&p).expect("read");
                out.insert(p, (bytes, md.modified().expect("mtime")));
            }
        }
    }
    out
}

/// The names in `dir`.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

const ZARR_REQUIRED: &str = "zarr-python 3.1.x is required for the Zarr interop tests: run \
     `cargo xtask test` once (it installs numpy and zarr==3.1.6 into target/interop-venv), or \
     `target/interop-venv/bin/python -m pip install zarr==3.1.6`, or set MMARRAY_PYTHON to a \
     python that has numpy and zarr 3.1.x";

/// The python with numpy and zarr-python 3.1.x (panics with how to set it up).
pub fn python_with_zarr() -> PathBuf {
    static CHECKED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let checked = CHECKED.get_or_init(|| {
        let python = numpy::python();
        let out = Command::new(&python)
            .args([
                "-c",
                "import zarr; assert zarr.__version__.startswith('3.1.'), zarr.__version__",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not run {}: {e}", python.display()))?;
        if out.status.success() {
            Ok(python)
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(format!(
                "{}: {}",
                python.display(),
                err.lines().last().unwrap_or("").trim()
            ))
        }
    });
    match checked {
        Ok(p) => p.clone(),
        Err(why) => panic!("{ZARR_REQUIRED}\n({why})"),
    }
}

/// Runs a python script with zarr-python (see [`numpy::run_py`]).
pub fn run_zarr_py(script: &str, args: &[&std::ffi::OsStr]) -> String {
    python_with_zarr();
    numpy::run_py(script, args)
}
