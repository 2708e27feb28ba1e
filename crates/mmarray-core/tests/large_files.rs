//! Files over 4 GiB: sparse files (built by hand: a header from `npy::header_bytes`, then
//! `set_len`, so no disk space is used) open, index, slice and write correctly at byte offsets
//! past 2^32, checked with `pread` at the exact byte offsets. The files live in a temporary
//! folder and are deleted at the end of each test.
//!
//! Every `unsafe` open maps a file that only this test touches.
#![cfg(unix)] // file identities, pread and block counts come from std::os::unix

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use mmarray_core::npy::header_bytes;
use mmarray_core::{Array, DynArray, Error, OpenOptions, Order, Raw, ReadOnly, ReadWrite};
use mmarray_dtype::{DType, Kind};

const GIB: usize = 1 << 30;
const TWO_32: usize = 1 << 32;

/// Writes the `.npy` header of `dtype`, `shape`, `order` and extends the file, sparsely, to the
/// full data length; returns the data offset.
fn sparse_npy(path: &Path, dtype: DType, shape: &[usize], order: Order) -> u64 {
    let header = header_bytes(dtype, shape, order == Order::F).unwrap();
    let n: usize = shape.iter().product::<usize>() * dtype.itemsize();
    let mut f = File::create(path).unwrap();
    f.write_all(&header).unwrap();
    f.set_len((header.len() + n) as u64).unwrap();
    header.len() as u64
}

/// Bytes of disk the file really uses.
fn allocated(path: &Path) -> u64 {
    fs::metadata(path).unwrap().blocks() * 512
}

/// Reads `n` bytes at byte `offset` of the file, without mapping it.
fn pread(path: &Path, offset: u64, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    File::open(path)
        .unwrap()
        .read_exact_at(&mut buf, offset)
        .unwrap();
    buf
}

/// Whether the file still uses (almost) no disk: it was not filled or fully allocated.
fn assert_sparse(path: &Path) {
    let used = allocated(path);
    assert!(
        used < 64 << 20,
        "{}: {used} bytes allocated",
        path.display()
    );
}

#[test]
fn u8_array_past_4_gib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big_u8.npy");
    let len = 5 * GIB;
    let off = sparse_npy(&path, DType::native(Kind::U8), &[len], Order::C);
    assert_eq!(off, 128);

    // SAFETY: the file is private to this test.
    let mut a = unsafe { Array::<u8, ReadWrite>::open(&path) }.unwrap();
    assert_eq!((a.shape(), a.len(), a.nbytes()), (&[len][..], len, len));
    let points = [
        TWO_32 - 1,
        TWO_32,
        TWO_32 + 1,
        TWO_32 + 12345,
        TWO_32 + GIB / 2,
        len - 1,
    ];
    for (k, &i) in points.iter().enumerate() {
        a.view_mut().set(&[i], 10 + k as u8).unwrap();
    }
    {
        let mut v = a.view_mut();
        // A slice starting past 2^32, by text.
        v.view_mut()
            .slice_mut(format!("{}:{}", TWO_32 + 100, TWO_32 + 110).as_str())
            .unwrap()
            .fill(7);
        // Negative indices count from the end, across the 4 GiB line.
        v.view_mut()
            .slice_mut("-3:-1")
            .unwrap()
            .assign_slice(&[1, 2])
            .unwrap();
        // A strided slice with a step over 2^32 bytes.
        v.slice_mut(format!("{}::{}", TWO_32 + 200, TWO_32 / 4).as_str())
            .unwrap()
            .fill(9);
    }
    a.flush().unwrap();

    // The bytes are where numpy would have them.
    for (k, &i) in points.iter().enumerate() {
        assert_eq!(
            pread(&path, off + i as u64, 1),
            [10 + k as u8],
            "element {i}"
        );
    }
    assert_eq!(
        pread(&path, off + (TWO_32 + 99) as u64, 12),
        [0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0]
    );
    assert_eq!(pread(&path, off + (len - 3) as u64, 3), [1, 2, 15]);
    for i in (TWO_32 + 200..len).step_by(TWO_32 / 4) {
        assert_eq!(pread(&path, off + i as u64, 1), [9], "strided element {i}");
    }

    // Reads through views and slices agree.
    let v = a.view();
    assert_eq!(v.get(&[TWO_32]).unwrap(), 11);
    assert_eq!(v.slice("-1").unwrap().to_vec(), [15]);
    assert_eq!(v.slice("::-1").unwrap().get(&[0]).unwrap(), 15);
    assert_eq!(
        v.slice("::-1").unwrap().get(&[len - 1 - TWO_32]).unwrap(),
        11
    );
    let stride = v.slice(format!("::{GIB}").as_str()).unwrap();
    assert_eq!(stride.shape(), [5]);
    assert_eq!(stride.strides(), [GIB as isize]);
    assert_eq!(stride.to_vec(), [0, 0, 0, 0, 11], "element 4 GiB is 2^32");
    let near = v
        .slice(format!("{}:{}", TWO_32 - 2, TWO_32 + 3).as_str())
        .unwrap();
    assert_eq!(near.to_vec(), [0, 10, 11, 12, 0]);
    assert_eq!(near.as_slice().unwrap(), [0, 10, 11, 12, 0]);
    // Runs and segments of a view past 4 GiB.
    let runs = near.runs();
    assert_eq!((runs.len(), runs.run_len()), (1, 5));
    assert_eq!(near.run_bytes(&runs, 0), [0, 10, 11, 12, 0]);
    let tail = v
        .slice(format!("{}::-2", len - 1).as_str())
        .unwrap()
        .slice(":3")
        .unwrap();
    assert_eq!(tail.to_vec(), [15, 1, 0]);
    drop(a);

    // Reopened read-only: the same values; the file is still sparse.
    // SAFETY: as above.
    let a = unsafe { DynArray::<ReadOnly>::open(&path) }.unwrap();
    let v = a.view::<u8>().unwrap();
    assert_eq!(v.get(&[TWO_32 + 12345]).unwrap(), 13);
    assert_eq!(
        v.slice(format!("{}:{}", TWO_32 + 105, TWO_32 + 111).as_str())
            .unwrap()
            .to_vec(),
        [7, 7, 7, 7, 7, 0]
    );
    drop(a);
    assert_sparse(&path);
}

#[test]
fn f64_arrays_past_4_gib_in_c_and_f_order() {
    let dir = tempfile::tempdir().unwrap();
    let rows = 5;
    let cols = GIB / 8; // a row is 1 GiB
    for (order, dtype) in [
        (Order::C, DType::native(Kind::F64)),
        (Order::F, DType::native(Kind::F64)),
        (Order::C, ">f8".parse::<DType>().unwrap()),
    ] {
        let path = dir.path().join(format!(
            "big_{}_{}.npy",
            order.as_str(),
            dtype.descr().replace(['<', '>'], "")
        ));
        let shape = match order {
            Order::C => [rows, cols],
            Order::F => [cols, rows],
        };
        let off = sparse_npy(&path, dtype, &shape, order);
        // SAFETY: the file is private to this test.
        let mut a = unsafe { DynArray::<ReadWrite>::open(&path) }.unwrap();
        assert_eq!(a.order(), order);
        assert_eq!(a.nbytes(), 5 * GIB);
        // (logical index, byte offset of the element in the data)
        let points: Vec<([usize; 2], usize)> = match order {
            Order::C => vec![
                ([4, 0], 4 * GIB),
                ([4, cols - 1], 5 * GIB - 8),
                ([3, 12345], 3 * GIB + 8 * 12345),
                ([0, 1], 8),
            ],
            Order::F => vec![
                ([0, 4], 4 * GIB),
                ([cols - 1, 4], 5 * GIB - 8),
                ([12345, 3], 3 * GIB + 8 * 12345),
                ([1, 0], 8),
            ],
        };
        {
            let mut v = a.view_mut::<f64>().unwrap();
            for (k, (idx, _)) in points.iter().enumerate() {
                v.set(idx, k as f64 + 0.5).unwrap();
            }
            // A whole row (C) / column (F) past 4 GiB, through an integer index: 2^27 elements
            // would be slow to fill in a debug build, so take a strided part of it.
            let spec = match order {
                Order::C => format!("-1, 1000:{}:{}", cols, cols / 4),
                Order::F => format!("1000:{}:{}, -1", cols, cols / 4),
            };
            let mut s = v.slice_mut(spec.as_str()).unwrap();
            assert_eq!(s.shape(), [4]);
            s.assign_slice(&[-1.0, -2.0, -3.0, -4.0]).unwrap();
        }
        a.flush().unwrap();
        let decode = |b: Vec<u8>| {
            let b: [u8; 8] = b.try_into().unwrap();
            if dtype.is_native() {
                f64::from_ne_bytes(b)
            } else {
                f64::from_be_bytes(b)
            }
        };
        for (k, (idx, byte)) in points.iter().enumerate() {
            assert_eq!(
                decode(pread(&path, off + *byte as u64, 8)),
                k as f64 + 0.5,
                "{order:?} {idx:?}"
            );
        }
        for (j, want) in [-1.0, -2.0, -3.0, -4.0].iter().enumerate() {
            let byte = 4 * GIB + 8 * (1000 + j * (cols / 4));
            assert_eq!(decode(pread(&path, off + byte as u64, 8)), *want);
        }
        drop(a);

        // SAFETY: as above.
        let a = unsafe { Array::<f64, ReadOnly>::open(&path) }.unwrap();
        let v = a.view();
        for (k, (idx, _)) in points.iter().enumerate() {
            assert_eq!(v.get(idx).unwrap(), k as f64 + 0.5);
        }
        let last = match order {
            Order::C => v.slice("-1, -1:").unwrap(),
            Order::F => v.slice("-1:, -1").unwrap(),
        };
        assert_eq!(last.to_vec(), [1.5]);
        let reversed = v.slice("::-1, ::-1").unwrap();
        assert_eq!(reversed.get(&[0, 0]).unwrap(), 1.5);
        assert_eq!(a.as_slice().is_some(), dtype.is_native());
        drop(a);
        assert_sparse(&path);
        fs::remove_file(&path).unwrap();
    }
}

#[test]
fn raw_file_past_4_gib_with_an_odd_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.raw");
    let n = TWO_32 / 2 + 5; // u16 elements: the data ends past 4 GiB
    let offset = 3u64;
    File::create(&path)
        .unwrap()
        .set_len(offset + 2 * n as u64)
        .unwrap();
    let options = OpenOptions::new().raw(Raw::new("<u2".parse().unwrap()).offset(offset));
    // SAFETY: the file is private to this test.
    let mut a = unsafe { DynArray::<ReadWrite>::open_with(&path, &options) }.unwrap();
    assert_eq!(a.shape(), [n], "shape inferred from the file size");
    a.view_mut::<u16>().unwrap().set(&[n - 1], 0xbeef).unwrap();
    a.view_mut::<u16>()
        .unwrap()
        .slice_mut("-4:-1")
        .unwrap()
        .fill(0x0102);
    a.close().unwrap();
    let at = offset + 2 * (n as u64 - 4);
    assert!(at > 1 << 32);
    assert_eq!(pread(&path, at, 8), [2, 1, 2, 1, 2, 1, 0xef, 0xbe]);

    // SAFETY: as above.
    let a = unsafe { DynArray::<ReadOnly>::open_with(&path, &options) }.unwrap();
    let v = a.view::<u16>().unwrap();
    assert!(v.as_slice().is_none(), "odd offset: no slice");
    assert_eq!(
        v.slice("-5:").unwrap().to_vec(),
        [0, 0x0102, 0x0102, 0x0102, 0xbeef]
    );
    drop(a);
    assert_sparse(&path);
}

#[test]
fn a_large_truncated_file_is_refused_and_not_grown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.npy");
    let off = sparse_npy(&path, DType::native(Kind::F64), &[5 * GIB / 8], Order::C);
    let full = off + 5 * GIB as u64;
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(full - 1)
        .unwrap();
    // SAFETY: the file is private to this test.
    let err = unsafe { DynArray::<ReadWrite>::open(&path) }.unwrap_err();
    assert!(
        matches!(err, Error::Truncated { expected, found, .. } if expected == 5 * GIB as u64 && found == expected - 1),
        "{err:?}"
    );
    assert_eq!(fs::metadata(&path).unwrap().len(), full - 1);
    assert_sparse(&path);
}

#[test]
fn appending_to_a_large_sparse_file_keeps_it_sparse() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grow.npy");
    let cols = 1 << 20;
    let rows = 5 * GIB / cols;
    let off = sparse_npy(&path, DType::native(Kind::U8), &[rows, cols], Order::C);
    // SAFETY: the file is private to this test.
    let mut a = unsafe { Array::<u8, ReadWrite>::open(&path) }.unwrap();
    a.append(&vec![3u8; cols]).unwrap();
    assert_eq!(a.shape(), [rows + 1, cols]);
    assert_eq!(a.view().get(&[rows, cols - 1]).unwrap(), 3);
    a.close().unwrap();
    assert_eq!(pread(&path, off + (rows * cols) as u64, 2), [3, 3]);
    assert_eq!(
        fs::metadata(&path).unwrap().len(),
        off + ((rows + 1) * cols) as u64
    );
    assert_eq!(
        &pread(&path, 0, off as usize),
        &header_bytes(DType::native(Kind::U8), &[rows + 1, cols], false).unwrap()
    );
    // Only the new row was written or reserved, not the holes of the old data.
    assert_sparse(&path);
}
