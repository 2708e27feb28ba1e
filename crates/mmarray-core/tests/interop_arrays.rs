//! numpy interop for whole arrays (run by `cargo xtask test`; needs numpy, see
//! `mmarray-dtype/tests/support/numpy.rs`):
//!
//! - numpy writes `.npy` files for every supported dtype in both byte orders, C and F order,
//!   versions 1.0, 2.0 and 3.0, shapes including `()` and zero-length axes; mmarray reads the
//!   same values, shape, order and version, in every read mode;
//! - mmarray creates files for the same matrix (`create` + `ViewMut::assign_slice`); `np.load`
//!   and `np.load(mmap_mode='r')` read the same values, and the whole file is byte-identical to
//!   what `np.save` writes (or, where mmarray's order flag differs from the one `np.save` picks,
//!   to what `open_memmap` writes);
//! - files appended to by mmarray (its own and numpy's, in every version) load in numpy with the
//!   longer shape and the right values, byte-identical to `np.save` of the result;
//! - raw files written by numpy's `tofile` read through a `Raw` layout (offsets, F order,
//!   inferred shape), and raw files mmarray creates read in `np.memmap`.
//!
//! Values travel between the two sides as hex dumps of the logical (C-order) elements in
//! little-endian byte order. Every `unsafe` open maps a file in this test's private folder.

#[path = "../../mmarray-dtype/tests/support/numpy.rs"]
mod numpy;

use std::ffi::{OsStr, OsString};
use std::path::Path;

use mmarray_core::{
    CopyOnWrite, CreateOptions, DynArray, Mode, OpenOptions, Order, Raw, ReadOnly, ReadWrite,
};
use mmarray_dtype::{ByteOrder, DType, Kind, Native, decode, dispatch, encode};

/// Commands (`sys.argv[1]`) on a folder (`sys.argv[2]`), one case per further argument:
///
/// - `write`  `name;descr;shape;order;version`: `write_array` of the standard values; prints
///   `name fortran_flag hex`.
/// - `tofile` `name;descr;shape;order;offset`: `offset` bytes of 0xab, then the standard values
///   in `order` with `tofile`; prints `name hex`.
/// - `check`  `name;descr;shape;order;fmt;offset;hex`: loads the file mmarray wrote (`fmt`
///   `npy1`/`npy2`/`npy3`: `np.load` with and without `mmap_mode='r'`; `fmt` raw: `np.memmap`),
///   compares with the values in `hex`; for `.npy` also compares the whole file with what
///   `np.save` (`npy1`) or `write_array(version=...)` writes for the values and prints
///   `name save`, or with `open_memmap`'s bytes for mmarray's order flag and prints
///   `name memmap`. Any difference fails the script.
const SCRIPT: &str = r"
import io, os, sys, warnings
import numpy as np
try:
    from numpy.lib import _format_impl as F
except ImportError:
    from numpy.lib import format as F
warnings.simplefilter('ignore')

def parse_shape(s):
    return tuple(int(x) for x in s.split(',') if x)

def standard(descr, shape, order):
    dt = np.dtype(descr)
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.int64)
    k = dt.kind
    if k == 'b':
        v = (i % 3 == 0)
    elif k in 'iu':
        v = (i * 37 - 50 if k == 'i' else i * 37 + 200).astype(dt)
        info = np.iinfo(dt)
        if n >= 2:
            v[1] = info.min
            v[-1] = info.max
    elif k == 'f':
        v = (i * 0.25 - 1.5).astype(dt)
        if n >= 4:
            v[1] = -0.0
            v[2] = np.inf
            v[3] = -np.finfo(dt).max
    else:
        v = ((i * 0.5 - 1) + 1j * (2 - i * 0.25)).astype(dt)
        if n >= 2:
            v[1] = complex(-0.0, np.inf)
    a = np.asarray(v, dtype=dt).reshape(shape)
    return np.array(a, order=order)

def le_hex(a):
    return np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes().hex()

def from_hex(descr, shape, order, h):
    dt = np.dtype(descr)
    a = np.frombuffer(bytes.fromhex(h), dtype=dt.newbyteorder('<')).astype(dt).reshape(shape)
    return np.array(a, order=order)

def same(a, b, what):
    assert a.dtype.str == b.dtype.str, (what, a.dtype.str, b.dtype.str)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    x = np.ascontiguousarray(a).tobytes()
    y = np.ascontiguousarray(b).tobytes()
    assert x == y, (what, x.hex(), y.hex())

cmd, folder = sys.argv[1], sys.argv[2]
out = []
for arg in sys.argv[3:]:
    f = arg.split(';')
    name, descr, shape, order = f[0], f[1], parse_shape(f[2]), f[3]
    path = os.path.join(folder, name)
    if cmd == 'write':
        a = standard(descr, shape, order)
        with open(path, 'wb') as fp:
            F.write_array(fp, a, version=(int(f[4]), 0), allow_pickle=False)
        fortran = a.flags.f_contiguous and not a.flags.c_contiguous
        out.append(f'{name} {int(fortran)} {le_hex(a)}')
    elif cmd == 'tofile':
        a = standard(descr, shape, order)
        with open(path, 'wb') as fp:
            fp.write(b'\xab' * int(f[4]))
            (a if order == 'C' else a.T).tofile(fp)
        out.append(f'{name} {le_hex(a)}')
    elif cmd == 'check':
        fmt, offset, h = f[4], int(f[5]), f[6]
        want = from_hex(descr, shape, order, h)
        if fmt == 'raw':
            m = np.memmap(path, dtype=np.dtype(descr), mode='r', offset=offset, shape=shape, order=order)
            same(m, want, (name, 'memmap'))
            del m
            out.append(f'{name} raw')
            continue
        for mm in (None, 'r'):
            b = np.load(path, mmap_mode=mm)
            if mm:
                assert isinstance(b, np.memmap), name
                if order == 'F':
                    assert b.flags.f_contiguous, name
            same(b, want, (name, mm))
            del b
        # fmt is npy1 (np.save, which picks 1.0 here), npy2 or npy3 (write_array with that version).
        version = int(fmt[3:])
        data = open(path, 'rb').read()
        buf = io.BytesIO()
        if version == 1:
            np.save(buf, want)
        else:
            F.write_array(buf, want, version=(version, 0), allow_pickle=False)
        if data == buf.getvalue():
            out.append(f'{name} save')
            continue
        # What open_memmap writes for mmarray's order flag: its header, then the data.
        buf = io.BytesIO()
        d = {'descr': F.dtype_to_descr(want.dtype), 'fortran_order': order == 'F', 'shape': want.shape}
        F._write_array_header(buf, d, None if version == 1 else (version, 0))
        buf.write(want.tobytes(order=order))
        assert data == buf.getvalue(), (name, data[:200], buf.getvalue()[:200])
        out.append(f'{name} memmap')
    else:
        raise SystemExit('unknown command ' + cmd)
print('\n'.join(out))
";

// ---------------------------------------------------------------------------------------------
// Helpers

/// Runs a command of [`SCRIPT`] on `dir` and returns its output lines, one per case, split at
/// spaces (the first field is the case name, checked).
fn run(cmd: &str, dir: &Path, cases: &[String]) -> Vec<Vec<String>> {
    let mut args: Vec<OsString> = vec![cmd.into(), dir.as_os_str().to_owned()];
    args.extend(cases.iter().map(OsString::from));
    let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
    let out = numpy::run_py(SCRIPT, &args);
    let lines: Vec<Vec<String>> = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect();
    assert_eq!(lines.len(), cases.len(), "one line per case");
    for (line, case) in lines.iter().zip(cases) {
        assert_eq!(&line[0], case.split(';').next().unwrap());
    }
    lines
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Every supported dtype in both byte orders (one-byte kinds once): 25.
fn all_dtypes() -> Vec<DType> {
    let mut dtypes = Vec::new();
    for kind in Kind::ALL {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let dtype = DType::new(kind, order);
            if !dtypes.contains(&dtype) {
                dtypes.push(dtype);
            }
        }
    }
    assert_eq!(dtypes.len(), 25);
    dtypes
}

const SHAPES: [&[usize]; 7] = [&[], &[0], &[5], &[3, 4], &[0, 3], &[3, 0], &[2, 3, 4]];

fn shape_arg(shape: &[usize]) -> String {
    shape
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// File-name-safe text for a dtype: `<f8` -> `lf8`.
fn dtype_tag(dtype: DType) -> String {
    dtype
        .descr()
        .replace('<', "l")
        .replace('>', "b")
        .replace('|', "n")
}

/// The logical (C-order) elements of `a`, little-endian.
fn logical_le<M: Mode>(a: &DynArray<M>) -> Vec<u8> {
    dispatch!(a.dtype().kind(), T => {
        let values = a.view::<T>().unwrap().to_vec();
        let mut out = vec![0u8; std::mem::size_of_val(values.as_slice())];
        encode(&values, ByteOrder::Little, &mut out).unwrap();
        out
    })
}

/// Assigns the logical elements in `le` (little-endian) to the whole of `a`.
fn assign_le(a: &mut DynArray<ReadWrite>, le: &[u8]) {
    dispatch!(a.dtype().kind(), T => {
        let mut values = vec![T::default(); le.len() / std::mem::size_of::<T>()];
        decode(le, ByteOrder::Little, &mut values).unwrap();
        a.view_mut::<T>().unwrap().assign_slice(&values).unwrap();
    });
}

fn open_as<M: Mode>(path: &Path, options: &OpenOptions) -> DynArray<M> {
    // SAFETY: the file is private to this test.
    unsafe { DynArray::<M>::open_with(path, options) }
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether `np.save` writes `fortran_order: True` for an array of `shape` in `order`: only for
/// arrays that are F- and not also C-contiguous.
fn numpy_fortran(shape: &[usize], order: Order) -> bool {
    order == Order::F && !shape.contains(&0) && shape.iter().filter(|&&n| n > 1).count() > 1
}

// ---------------------------------------------------------------------------------------------
// numpy writes, mmarray reads

/// Checks what mmarray reads from a numpy-written file against numpy's output.
fn check_numpy_file<M: Mode>(
    a: &DynArray<M>,
    dtype: DType,
    shape: &[usize],
    fortran: bool,
    version: u8,
    want: &[u8],
) {
    let name = a.path().display();
    let mode = a.mode();
    assert_eq!(a.dtype(), dtype, "{name} {mode}");
    assert_eq!(a.shape(), shape, "{name} {mode}");
    assert_eq!(
        a.order(),
        if fortran { Order::F } else { Order::C },
        "{name} {mode}"
    );
    assert_eq!(a.version(), Some((version, 0)), "{name} {mode}");
    assert_eq!(a.layout().data_offset % 64, 0, "{name}");
    assert_eq!(hex(&logical_le(a)), hex(want), "{name} {mode}");
}

#[test]
fn numpy_files_read_in_mmarray() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let mut meta = Vec::new();
    for dtype in all_dtypes() {
        for (s, shape) in SHAPES.iter().enumerate() {
            for order in [Order::C, Order::F] {
                for version in [1u8, 2, 3] {
                    let name = format!("{}_{s}{}_v{version}.npy", dtype_tag(dtype), order.as_str());
                    cases.push(format!(
                        "{name};{};{};{};{version}",
                        dtype.descr(),
                        shape_arg(shape),
                        order.as_str()
                    ));
                    meta.push((name, dtype, shape.to_vec(), version));
                }
            }
        }
    }
    let lines = run("write", dir.path(), &cases);
    let mut fortran_files = 0;
    for ((name, dtype, shape, version), line) in meta.iter().zip(&lines) {
        let path = dir.path().join(name);
        let fortran = line[1] == "1";
        fortran_files += usize::from(fortran);
        let want = unhex(line.get(2).map_or("", String::as_str));
        let before = std::fs::read(&path).unwrap();

        let options = OpenOptions::new();
        check_numpy_file(
            &open_as::<ReadOnly>(&path, &options),
            *dtype,
            shape,
            fortran,
            *version,
            &want,
        );
        check_numpy_file(
            &open_as::<CopyOnWrite>(&path, &options),
            *dtype,
            shape,
            fortran,
            *version,
            &want,
        );
        // SAFETY: the file is private to this test.
        let a = unsafe { DynArray::<ReadWrite>::open(&path) }.unwrap();
        assert_eq!(hex(&logical_le(&a)), hex(&want), "{name} r+");
        // The raw bytes are numpy's data, in the file's byte and memory order.
        assert_eq!(
            a.bytes(),
            &before[a.layout().data_offset as usize..],
            "{name}"
        );
        drop(a);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "{name}: changed by opening"
        );
    }
    assert_eq!(lines.len(), 25 * 7 * 2 * 3);
    assert_eq!(
        fortran_files,
        25 * 2 * 3,
        "F order only for the 2-d and 3-d shapes"
    );
}

// ---------------------------------------------------------------------------------------------
// mmarray writes, numpy reads

#[test]
fn mmarray_files_load_in_numpy_and_equal_np_save() {
    let np_dir = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The standard values, from numpy (version 1.0 files, which are not used further).
    let mut cases = Vec::new();
    let mut meta = Vec::new();
    for dtype in all_dtypes() {
        for (s, shape) in SHAPES.iter().enumerate() {
            for order in [Order::C, Order::F] {
                let name = format!("{}_{s}{}.npy", dtype_tag(dtype), order.as_str());
                cases.push(format!(
                    "{name};{};{};{};1",
                    dtype.descr(),
                    shape_arg(shape),
                    order.as_str()
                ));
                meta.push((name, dtype, shape.to_vec(), order));
            }
        }
    }
    let values = run("write", np_dir.path(), &cases);

    let mut checks = Vec::new();
    for ((name, dtype, shape, order), line) in meta.iter().zip(&values) {
        let le = line.get(2).cloned().unwrap_or_default();
        let path = dir.path().join(name);
        // SAFETY: the file is private to this test.
        let mut a = unsafe { DynArray::create(&path, *dtype, shape, *order) }.unwrap();
        assign_le(&mut a, &unhex(&le));
        a.close().unwrap();
        checks.push(format!(
            "{name};{};{};{};npy1;0;{le}",
            dtype.descr(),
            shape_arg(shape),
            order.as_str()
        ));
    }
    let results = run("check", dir.path(), &checks);
    let (mut save, mut memmap) = (0, 0);
    for ((name, _, shape, order), result) in meta.iter().zip(&results) {
        // Byte-identical to np.save whenever mmarray's fortran_order flag is numpy's; otherwise
        // (F order requested for an array that is also C-contiguous: 0-d, 1-d, empty)
        // byte-identical to open_memmap(fortran_order=True).
        let expected = if numpy_fortran(shape, *order) == (*order == Order::F) {
            "save"
        } else {
            "memmap"
        };
        assert_eq!(result[1], expected, "{name}");
        save += usize::from(result[1] == "save");
        memmap += usize::from(result[1] == "memmap");
    }
    assert_eq!(save + memmap, 25 * 7 * 2);
    assert_eq!(memmap, 25 * 5, "F order for (), (0,), (5,), (0, 3), (3, 0)");
}

// ---------------------------------------------------------------------------------------------
// Appending

/// Appends `entries` entries with values `3i - 7` (in the file's memory order) to `a`.
fn append_some<T: Native>(a: DynArray<ReadWrite>, entries: usize) -> DynArray<ReadWrite> {
    let mut a = a.into_typed::<T>().unwrap();
    let axis = a.layout().growth_axis().unwrap();
    let entry: usize = a
        .shape()
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != axis)
        .map(|(_, &n)| n)
        .product();
    let values: Vec<T> = (0..entry * entries)
        .map(|i| T::from_i64(3 * i as i64 - 7))
        .collect();
    let before = a.shape()[axis];
    assert_eq!(a.append(&values).unwrap(), before..before + entries);
    a.into_dyn()
}

#[test]
fn appended_files_load_in_numpy() {
    let dir = tempfile::tempdir().unwrap();
    let mut checks = Vec::new();
    let mut expect_status = Vec::new();
    let mut add_check = |name: &str, a: DynArray<ReadWrite>, expect: &mut Vec<&'static str>| {
        let le = logical_le(&a);
        let (dtype, shape, order) = (a.dtype(), a.shape().to_vec(), a.order());
        let major = a.version().unwrap().0;
        a.close().unwrap();
        checks.push(format!(
            "{name};{};{};{};npy{major};0;{}",
            dtype.descr(),
            shape_arg(&shape),
            order.as_str(),
            hex(&le)
        ));
        let same_flag = numpy_fortran(&shape, order) == (order == Order::F);
        expect.push(if same_flag { "save" } else { "memmap" });
    };

    // Files mmarray created, grown in steps (across digit boundaries of the growth axis).
    let steps: &[(&str, &[usize], Order, &[usize])] = &[
        ("<f8", &[0, 3], Order::C, &[2, 1, 7]),
        (">i4", &[2, 1], Order::F, &[2]),
        ("|u1", &[9], Order::C, &[1, 90, 900]),
        ("<c8", &[1, 2, 2], Order::C, &[1]),
        ("|b1", &[0], Order::C, &[3]),
        (">f2", &[3, 0], Order::F, &[2, 8]),
        ("<u8", &[2, 3, 0], Order::F, &[4]),
        (">c16", &[], Order::C, &[]),
    ];
    for (i, &(descr, shape, order, appends)) in steps.iter().enumerate() {
        let dtype: DType = descr.parse().unwrap();
        let name = format!("grown{i}.npy");
        let path = dir.path().join(&name);
        // SAFETY: the file is private to this test.
        let mut a = unsafe { DynArray::create(&path, dtype, shape, order) }.unwrap();
        for &n in appends {
            a = dispatch!(dtype.kind(), T => append_some::<T>(a, n));
        }
        add_check(&name, a, &mut expect_status);
    }

    // Files numpy wrote, in every version, grown by mmarray.
    let np_cases: Vec<String> = [
        ("np0.npy", "<f8", "2,3", "C", 1),
        ("np1.npy", ">i2", "2,3", "F", 2),
        ("np2.npy", "<c16", "0,4", "C", 3),
        ("np3.npy", "|b1", "5", "C", 1),
        ("np4.npy", "<f4", "3", "F", 1),
        ("np5.npy", ">u4", "4,2,3", "F", 3),
        ("np6.npy", "<i8", "99,1", "C", 2),
    ]
    .iter()
    .map(|(n, d, s, o, v)| format!("{n};{d};{s};{o};{v}"))
    .collect();
    run("write", dir.path(), &np_cases);
    for case in &np_cases {
        let name = case.split(';').next().unwrap();
        let path = dir.path().join(name);
        // SAFETY: the file is private to this test.
        let mut a = unsafe { DynArray::<ReadWrite>::open(&path) }.unwrap();
        let kind = a.dtype().kind();
        a = dispatch!(kind, T => append_some::<T>(a, 1));
        a = dispatch!(kind, T => append_some::<T>(a, 10));
        add_check(name, a, &mut expect_status);
    }

    let results = run("check", dir.path(), &checks);
    for ((result, expected), check) in results.iter().zip(&expect_status).zip(&checks) {
        assert_eq!(result[1], *expected, "{check}");
    }
}

// ---------------------------------------------------------------------------------------------
// Raw files

/// A raw case: shape given to numpy, shape given to mmarray (`None`: inferred), order, offset.
type RawCase = (&'static [usize], Option<&'static [usize]>, Order, u64);

#[test]
fn raw_files_from_numpy_tofile() {
    let dir = tempfile::tempdir().unwrap();
    let layouts: [RawCase; 5] = [
        (&[7], None, Order::C, 0),
        (&[7], None, Order::C, 5),
        (&[3, 4], Some(&[3, 4]), Order::C, 3),
        (&[3, 4], Some(&[3, 4]), Order::F, 4097),
        (&[2, 3, 2], Some(&[2, 3, 2]), Order::F, 1),
    ];
    let mut cases = Vec::new();
    let mut meta = Vec::new();
    for dtype in all_dtypes() {
        for (l, &(shape, given, order, offset)) in layouts.iter().enumerate() {
            let name = format!("{}_{l}.raw", dtype_tag(dtype));
            cases.push(format!(
                "{name};{};{};{};{offset}",
                dtype.descr(),
                shape_arg(shape),
                order.as_str()
            ));
            meta.push((name, dtype, shape, given, order, offset));
        }
    }
    let lines = run("tofile", dir.path(), &cases);
    for ((name, dtype, shape, given, order, offset), line) in meta.iter().zip(&lines) {
        let path = dir.path().join(name);
        let mut raw = Raw::new(*dtype).offset(*offset).order(*order);
        if let Some(given) = given {
            raw = raw.shape(given.to_vec());
        }
        let options = OpenOptions::new().raw(raw);
        let want = line.get(1).cloned().unwrap_or_default();
        let a = open_as::<ReadOnly>(&path, &options);
        assert_eq!(a.shape(), *shape, "{name}");
        assert_eq!(a.format_name(), "raw");
        assert_eq!(hex(&logical_le(&a)), want, "{name}");
        drop(a);
        let a = open_as::<CopyOnWrite>(&path, &options);
        assert_eq!(hex(&logical_le(&a)), want, "{name}");
    }
}

#[test]
fn raw_files_from_mmarray_read_in_np_memmap() {
    let dir = tempfile::tempdir().unwrap();
    let mut checks = Vec::new();
    let layouts: [(&[usize], Order, u64); 4] = [
        (&[6], Order::C, 0),
        (&[3, 4], Order::C, 3),
        (&[3, 4], Order::F, 4097),
        (&[2, 3, 2], Order::F, 8),
    ];
    for dtype in all_dtypes() {
        for (l, &(shape, order, offset)) in layouts.iter().enumerate() {
            let name = format!("{}_{l}.raw", dtype_tag(dtype));
            let path = dir.path().join(&name);
            let n: usize = shape.iter().product();
            let options = CreateOptions::new().raw(offset);
            // SAFETY: the file is private to this test.
            let mut a =
                unsafe { DynArray::create_with(&path, dtype, shape, order, &options) }.unwrap();
            let values: Vec<u8> = dispatch!(dtype.kind(), T => {
                let v: Vec<T> = (0..n).map(|i| T::from_i64(5 * i as i64 - 9)).collect();
                let mut le = vec![0u8; std::mem::size_of_val(v.as_slice())];
                encode(&v, ByteOrder::Little, &mut le).unwrap();
                le
            });
            assign_le(&mut a, &values);
            a.close().unwrap();
            assert_eq!(
                std::fs::metadata(&path).unwrap().len(),
                offset + (n * dtype.itemsize()) as u64
            );
            checks.push(format!(
                "{name};{};{};{};raw;{offset};{}",
                dtype.descr(),
                shape_arg(shape),
                order.as_str(),
                hex(&values)
            ));
        }
    }
    for result in run("check", dir.path(), &checks) {
        assert_eq!(result[1], "raw");
    }
}
