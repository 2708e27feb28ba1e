//! `.npz` archives: reading stored and deflated members, writing archives (stored,
//! deflated, zip64), writing stored members in place with the CRC-32 kept right,
//! hostile archives, and numpy interop both ways.

#[path = "../../mmarray-dtype/tests/support/numpy.rs"]
mod numpy;
#[path = "support/zip.rs"]
mod zip;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use mmarray_core::npz::{Archive, NpzWriter, WriteOptions, is_archive, write_array, write_bytes};
use mmarray_core::{CopyOnWrite, DynArray, Error, OpenOptions, Order, ReadOnly, ReadWrite};
use zip::{Member, build, crc, get32, hostile_archives, npy, npy_f8};

fn open_ro(path: &Path, member: Option<&str>) -> mmarray_core::Result<DynArray<ReadOnly>> {
    let mut o = OpenOptions::new();
    if let Some(m) = member {
        o = o.member(m);
    }
    // SAFETY: test files are private to the test.
    unsafe { DynArray::<ReadOnly>::open_with(path, &o) }
}

fn open_rw(path: &Path, member: Option<&str>) -> mmarray_core::Result<DynArray<ReadWrite>> {
    let mut o = OpenOptions::new();
    if let Some(m) = member {
        o = o.member(m);
    }
    // SAFETY: as above.
    unsafe { DynArray::<ReadWrite>::open_with(path, &o) }
}

fn f64s(a: &DynArray<impl mmarray_core::Mode>) -> Vec<f64> {
    a.view::<f64>().unwrap().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn stored_and_deflated_members_read_with_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(&[
        Member::stored("x", npy_f8(&[1.0, 2.0, 3.0])),
        Member::deflated("y", npy_f8(&[4.0, 5.0])),
    ]);
    let p = write(dir.path(), "a.npz", &b.bytes);
    let archive = Archive::open(&p).unwrap();
    let names: Vec<&str> = archive.members().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["x", "y"]);
    assert!(!archive.members()[0].compressed && archive.members()[1].compressed);
    assert_eq!(archive.members()[0].header.shape, [3]);
    assert_eq!(archive.members()[1].nbytes(), 16);

    let x = open_ro(&p, Some("x")).unwrap();
    assert_eq!(f64s(&x), [1.0, 2.0, 3.0]);
    assert_eq!(x.format_name(), "npz");
    // The stored member is mapped from the archive, at the offset of its data.
    let expected = b.local[0] as u64 + 30 + 5 + 128;
    assert_eq!(x.layout().data_offset, expected);
    assert_eq!(x.npz_member().unwrap().data_offset(), Some(expected));
    let y = open_ro(&p, Some("y")).unwrap();
    assert_eq!(f64s(&y), [4.0, 5.0]);
    assert_eq!(y.npz_member().unwrap().data_offset(), None);
    assert_eq!(y.version(), Some((1, 0)));
}

#[test]
fn one_member_opens_without_a_name_several_need_one() {
    let dir = tempfile::tempdir().unwrap();
    let one = write(
        dir.path(),
        "one.npz",
        &build(&[Member::deflated("only", npy_f8(&[9.0]))]).bytes,
    );
    assert_eq!(f64s(&open_ro(&one, None).unwrap()), [9.0]);
    let two = write(
        dir.path(),
        "two.npz",
        &build(&[
            Member::stored("a", npy_f8(&[1.0])),
            Member::stored("b", npy_f8(&[2.0])),
        ])
        .bytes,
    );
    let e = open_ro(&two, None).unwrap_err().to_string();
    assert!(e.contains("2 members: a, b"), "{e}");
    assert!(e.contains("two.npz"), "{e}");
    let e = open_ro(&two, Some("c")).unwrap_err().to_string();
    assert!(
        e.contains("member \"c\": no such member") && e.contains("a, b"),
        "{e}"
    );
    // --member on a file that is not an archive.
    let npy_path = write(dir.path(), "plain.npy", &npy_f8(&[1.0]));
    let e = open_ro(&npy_path, Some("a")).unwrap_err().to_string();
    assert!(e.contains("not an .npz archive"), "{e}");
    // The zip magic makes an archive whatever the name.
    let renamed = write(dir.path(), "looks.npy", &std::fs::read(&one).unwrap());
    assert_eq!(open_ro(&renamed, None).unwrap().format_name(), "npz");
}

#[test]
fn an_empty_archive_has_no_members() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "empty.npz", &build(&[]).bytes);
    assert!(is_archive(&std::fs::read(&p).unwrap()));
    assert!(Archive::open(&p).unwrap().members().is_empty());
    let e = open_ro(&p, None).unwrap_err().to_string();
    assert!(e.contains("no members"), "{e}");
}

#[test]
fn writing_a_stored_member_in_place_updates_its_crc() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(&[
        Member::stored("x", npy_f8(&[1.0, 2.0, 3.0])),
        Member::stored("y", npy_f8(&[4.0])),
    ]);
    let p = write(dir.path(), "a.npz", &b.bytes);
    let len = b.bytes.len();
    {
        let mut x = open_rw(&p, Some("x")).unwrap();
        x.view_mut::<f64>().unwrap().fill(7.5);
        x.close().unwrap();
    }
    let after = std::fs::read(&p).unwrap();
    assert_eq!(after.len(), len, "the archive keeps its size");
    let member = &after[b.local[0] + 35..b.local[0] + 35 + 128 + 24];
    let want = crc(member);
    assert_ne!(want, get32(&b.bytes, b.local[0] + 14));
    assert_eq!(get32(&after, b.local[0] + 14), want, "local header CRC");
    assert_eq!(
        get32(&after, b.central[0] + 16),
        want,
        "central directory CRC"
    );
    assert_eq!(f64s(&open_ro(&p, Some("x")).unwrap()), [7.5; 3]);
    // The other member is untouched, and a writable opening that writes nothing
    // changes nothing.
    assert_eq!(f64s(&open_ro(&p, Some("y")).unwrap()), [4.0]);
    drop(open_rw(&p, Some("y")).unwrap());
    assert_eq!(std::fs::read(&p).unwrap(), after);
    // Drop (without close) also updates the CRC.
    {
        let mut x = open_rw(&p, Some("x")).unwrap();
        x.view_mut::<f64>().unwrap().fill(-1.0);
    }
    let again = std::fs::read(&p).unwrap();
    let member = &again[b.local[0] + 35..b.local[0] + 35 + 128 + 24];
    assert_eq!(get32(&again, b.central[0] + 16), crc(member));
}

#[test]
fn a_stored_member_with_a_wrong_crc_is_not_opened_for_writing() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = build(&[Member::stored("x", npy_f8(&[1.0]))]);
    b.bytes[b.local[0] + 35 + 128] ^= 1;
    let p = write(dir.path(), "a.npz", &b.bytes);
    // Reading maps without reading the data, so it does not see the damage...
    assert!(open_ro(&p, None).is_ok());
    // ...but writing would give the damaged member a valid CRC: refused.
    let e = open_rw(&p, None).unwrap_err().to_string();
    assert!(e.contains("CRC-32 mismatch"), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), b.bytes);
}

#[test]
fn compressed_members_are_read_only_but_copy_on_write_works() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(&[Member::deflated("z", npy_f8(&[1.0, 2.0]))]);
    let p = write(dir.path(), "z.npz", &b.bytes);
    let e = open_rw(&p, None).unwrap_err().to_string();
    assert!(e.contains("compressed") && e.contains("read-only"), "{e}");
    // SAFETY: private test file.
    let mut c = unsafe { DynArray::<CopyOnWrite>::open_with(&p, &OpenOptions::new()) }.unwrap();
    c.view_mut::<f64>().unwrap().fill(3.0);
    assert_eq!(f64s(&c), [3.0, 3.0]);
    c.close().unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b.bytes);
}

#[test]
fn members_cannot_grow() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(&[Member::stored("x", npy_f8(&[1.0]))]);
    let p = write(dir.path(), "a.npz", &b.bytes);
    let mut x = open_rw(&p, None).unwrap();
    let e = x.append_zeroed(2).unwrap_err().to_string();
    assert!(e.contains("cannot grow"), "{e}");
    x.close().unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b.bytes);
}

#[test]
fn raw_and_member_options_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "a.npz", &build(&[]).bytes);
    let o = OpenOptions::new()
        .member("x")
        .raw(mmarray_core::Raw::new("u1".parse().unwrap()));
    // SAFETY: private test file.
    let e = unsafe { DynArray::<ReadOnly>::open_with(&p, &o) }.unwrap_err();
    assert!(e.to_string().contains("cannot both"), "{e}");
}

#[test]
fn every_hostile_archive_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let cases = hostile_archives();
    assert!(cases.len() >= 30, "{}", cases.len());
    for (name, bytes, word) in &cases {
        let p = write(dir.path(), name, bytes);
        for writable in [false, true] {
            let e = if writable {
                open_rw(&p, Some("x")).err().or(open_rw(&p, None).err())
            } else {
                open_ro(&p, None)
                    .err()
                    .or_else(|| open_ro(&p, Some("x")).err())
            };
            let e = e.unwrap_or_else(|| panic!("{name} was accepted"));
            let text = e.to_string();
            assert!(text.contains(name), "{name}: {text}");
            if !writable {
                assert!(text.contains(word), "{name}: expected {word:?} in {text}");
            }
        }
        assert_eq!(&std::fs::read(&p).unwrap(), bytes, "{name} changed");
    }
    // The errors about a member name it.
    let e = open_ro(&dir.path().join("encrypted.npz"), None).unwrap_err();
    assert!(
        matches!(&e, Error::Archive { member: Some(m), .. } if m == "x"),
        "{e}"
    );
}

#[test]
fn archives_written_by_mmarray_read_back_stored_and_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<i32> = (0..1000).map(|i| i * 3 - 7).collect();
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
    for compress in [false, true] {
        let out = dir.path().join(format!("w{compress}.npz"));
        let o = WriteOptions::new("ramp").compress(compress);
        write_bytes(
            &out,
            ">i4".parse().unwrap(),
            &[10, 100],
            Order::F,
            &data,
            &o,
        )
        .unwrap();
        let a = open_ro(&out, Some("ramp")).unwrap();
        assert_eq!(a.shape(), [10, 100]);
        assert_eq!(a.order(), Order::F);
        assert_eq!(a.dtype().descr(), ">i4");
        assert_eq!(a.bytes(), data.as_slice());
        let m = a.npz_member().unwrap();
        assert_eq!(m.compressed, compress);
        if !compress {
            assert_eq!(
                a.layout().data_offset % 64,
                0,
                "stored data is 64-byte aligned"
            );
        }
        // An existing output is refused without overwrite, replaced with it.
        let e = write_bytes(
            &out,
            ">i4".parse().unwrap(),
            &[10, 100],
            Order::F,
            &data,
            &o,
        );
        assert!(matches!(e, Err(Error::Exists { .. })));
        write_bytes(
            &out,
            "|u1".parse().unwrap(),
            &[2],
            Order::C,
            &[1, 2],
            &o.clone().overwrite(true),
        )
        .unwrap();
        assert_eq!(open_ro(&out, None).unwrap().bytes(), [1, 2]);
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("mmarray-tmp")),
        "{names:?}"
    );
}

#[test]
fn a_stored_member_over_4_gib_uses_zip64_and_maps_at_the_right_offset() {
    let dir = tempfile::tempdir().unwrap();
    // A sparse .npy of 2^29 + 1 float64 values (4 GiB + 8 bytes), zero but the last.
    let n = (1usize << 29) + 1;
    let src = dir.path().join("big.npy");
    {
        // Written by hand, sparse: DynArray::create would reserve the 4 GiB on disk.
        use std::os::unix::fs::FileExt;
        let header = mmarray_core::npy::header_bytes("<f8".parse().unwrap(), &[n], false).unwrap();
        let f = std::fs::File::create(&src).unwrap();
        f.write_all_at(&header, 0).unwrap();
        f.set_len(header.len() as u64 + 8 * n as u64).unwrap();
        f.write_all_at(
            &42.0f64.to_le_bytes(),
            header.len() as u64 + 8 * (n as u64 - 1),
        )
        .unwrap();
    }
    let out = dir.path().join("big.npz");
    let a = open_ro(&src, None).unwrap();
    write_array(&out, &a, &WriteOptions::new("big")).unwrap();
    drop(a);
    let archive = Archive::open(&out).unwrap();
    let m = &archive.members()[0];
    assert!(m.zip64);
    assert_eq!(m.size, 128 + 8 * n as u64);
    let meta = std::fs::metadata(&out).unwrap();
    assert!(meta.len() > 1 << 32);
    // The zero blocks were not written: the archive is as sparse as its input.
    assert!(
        std::os::unix::fs::MetadataExt::blocks(&meta) * 512 < 64 << 20,
        "{} bytes allocated",
        std::os::unix::fs::MetadataExt::blocks(&meta) * 512
    );
    let big = open_ro(&out, Some("big")).unwrap();
    assert_eq!(big.layout().data_offset, m.data_offset().unwrap());
    assert_eq!(big.layout().data_offset % 64, 0);
    assert_eq!(big.view::<f64>().unwrap().get(&[n - 1]).unwrap(), 42.0);
    assert_eq!(big.view::<f64>().unwrap().get(&[n - 2]).unwrap(), 0.0);
    // Python's zipfile reads the zip64 records too.
    let listing = numpy::run_py(
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\n\
         i = z.infolist()[0]\nprint(i.filename, i.file_size, i.compress_type, z.open(i).read(6))",
        &[out.as_os_str()],
    );
    assert_eq!(
        listing.trim(),
        format!("big.npy {} 0 b'\\x93NUMPY'", 128 + 8 * n as u64)
    );
}

// ---------------------------------------------------------------- numpy

/// Every supported dtype in both byte orders, C and F, 0-d and empty.
const NUMPY_WRITES: &str = r"
import sys, numpy as np
out = sys.argv[1]
arrays = {}
i = 0
for t in ['?', 'i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f2', 'f4', 'f8', 'c8', 'c16']:
    for bo in (['|'] if t in ('?', 'i1', 'u1') else ['<', '>']):
        dt = np.dtype(bo + t if bo != '|' else t)
        base = (np.arange(24) * 7 % 11 - 3)
        if dt.kind == 'b':
            a = (base % 2).astype(dt)
        elif dt.kind == 'c':
            a = (base + 1j * base[::-1]).astype(dt)
        elif dt.kind == 'f':
            a = (base / 4).astype(dt)
        else:
            a = (base % 100).astype(dt)
        arrays['c%d' % i] = a.reshape(2, 3, 4)
        arrays['f%d' % i] = np.asfortranarray(a.reshape(4, 6))
        arrays['z%d' % i] = a[5].reshape(())
        arrays['e%d' % i] = a[:0].reshape(0, 3)
        i += 1
np.savez(out + '/stored.npz', **arrays)
np.savez_compressed(out + '/deflated.npz', **arrays)
for k, a in arrays.items():
    print(k, a.dtype.str, ','.join(map(str, a.shape)), int(a.flags.f_contiguous and not a.flags.c_contiguous), a.tobytes(order='A').hex())
";

#[test]
fn archives_numpy_writes_read_with_equal_values() {
    let dir = tempfile::tempdir().unwrap();
    let listing = numpy::run_py(NUMPY_WRITES, &[dir.path().as_os_str()]);
    let mut cases = 0;
    for name in ["stored.npz", "deflated.npz"] {
        let path = dir.path().join(name);
        let archive = Archive::open(&path).unwrap();
        assert!(
            archive
                .members()
                .iter()
                .all(|m| m.compressed == (name == "deflated.npz"))
        );
        for line in listing.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            let (key, descr, shape, fortran, hex) = (f[0], f[1], f[2], f[3] == "1", f[4]);
            let a = open_ro(&path, Some(key)).unwrap();
            assert_eq!(a.dtype().descr(), descr, "{name} {key}");
            let shape: Vec<usize> = shape
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            assert_eq!(a.shape(), shape.as_slice(), "{name} {key}");
            assert_eq!(a.order() == Order::F, fortran, "{name} {key}");
            let want: Vec<u8> = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            assert_eq!(a.bytes(), want.as_slice(), "{name} {key}");
            cases += 1;
        }
    }
    assert_eq!(cases, 2 * 4 * 25);
}

const NUMPY_READS: &str = r"
import sys, numpy as np
for path in sys.argv[1:]:
    with np.load(path) as z:
        for k in z.files:
            a = z[k]
            print(path.rsplit('/', 1)[-1], k, a.dtype.str, ','.join(map(str, a.shape)), int(a.flags.f_contiguous and not a.flags.c_contiguous), a.tobytes(order='A').hex())
";

#[test]
fn numpy_loads_archives_mmarray_writes_and_fills() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut expected = Vec::new();
    let kinds = [
        "|b1", "|i1", "|u1", "<i2", ">u2", "<i4", ">i4", "<u8", ">i8", "<f2", ">f2", "<f4", ">f4",
        "<f8", ">f8", "<c8", ">c8", "<c16", ">c16",
    ];
    for (i, descr) in kinds.iter().enumerate() {
        let dtype: mmarray_dtype::DType = descr.parse().unwrap();
        let (shape, order): (&[usize], Order) = match i % 4 {
            0 => (&[3, 4], Order::C),
            1 => (&[3, 4], Order::F),
            2 => (&[], Order::C),
            _ => (&[0, 2], Order::C),
        };
        let n: usize = shape.iter().product::<usize>() * dtype.itemsize();
        let data: Vec<u8> = (0..n)
            .map(|k| {
                if dtype.itemsize() == 1 {
                    (k % 2) as u8
                } else {
                    (k * 37 % 251) as u8 & 0x3f
                }
            })
            .collect();
        for compress in [false, true] {
            let out = dir
                .path()
                .join(format!("m{i}{}.npz", if compress { "c" } else { "s" }));
            let o = WriteOptions::new(format!("a{i}")).compress(compress);
            write_bytes(&out, dtype, shape, order, &data, &o).unwrap();
            let shape_text: Vec<String> = shape.iter().map(ToString::to_string).collect();
            let fortran = order == Order::F && shape.iter().filter(|&&d| d > 1).count() > 1;
            expected.push(format!(
                "{} a{i} {descr} {} {} {}",
                out.file_name().unwrap().to_string_lossy(),
                shape_text.join(","),
                u8::from(fortran),
                hex(&data)
            ));
            paths.push(out);
        }
    }
    // A filled stored member: numpy sees the new values (the CRC was updated).
    let filled = dir.path().join("filled.npz");
    std::fs::write(
        &filled,
        build(&[
            Member::stored("x", npy_f8(&[1.0, 2.0])),
            Member::stored("y", npy("<i2", &[2], &[1, 0, 2, 0])),
        ])
        .bytes,
    )
    .unwrap();
    {
        let mut x = open_rw(&filled, Some("x")).unwrap();
        x.view_mut::<f64>().unwrap().fill(0.25);
        x.close().unwrap();
    }
    let quarter = hex(&0.25f64.to_le_bytes());
    expected.push(format!("filled.npz x <f8 2 0 {quarter}{quarter}"));
    expected.push("filled.npz y <i2 2 0 01000200".to_owned());
    paths.push(filled);
    let args: Vec<&OsStr> = paths.iter().map(|p| p.as_os_str()).collect();
    let got = numpy::run_py(NUMPY_READS, &args);
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got, expected);
}

#[test]
fn npz_writer_writes_several_members_numpy_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("many.npz");
    let ramp: Vec<u8> = (0..200u8).collect();
    let mut w = NpzWriter::create(&out).unwrap();
    w.add_bytes("a", "|u1".parse().unwrap(), &[200], Order::C, &ramp, true)
        .unwrap();
    // Stored after a deflated member: still 64-byte aligned.
    w.add_bytes(
        "b",
        ">i2".parse().unwrap(),
        &[2, 2],
        Order::F,
        &[0, 1, 0, 2, 0, 3, 0, 4],
        false,
    )
    .unwrap();
    w.add_bytes(
        "c",
        "<f8".parse().unwrap(),
        &[],
        Order::C,
        &2.5f64.to_le_bytes(),
        false,
    )
    .unwrap();
    w.add_bytes(
        "empty",
        "<c8".parse().unwrap(),
        &[0, 3],
        Order::C,
        &[],
        true,
    )
    .unwrap();
    let e = w
        .add_bytes("a", "|u1".parse().unwrap(), &[1], Order::C, &[1], false)
        .unwrap_err();
    assert!(e.to_string().contains("already added"), "{e}");
    let e = w
        .add_bytes("bad", "|u1".parse().unwrap(), &[3], Order::C, &[1], false)
        .unwrap_err();
    assert!(matches!(e, Error::Shape(_)), "{e}");
    assert!(!out.exists(), "nothing appears before finish");
    w.finish().unwrap();
    let archive = Archive::open(&out).unwrap();
    let names: Vec<&str> = archive.members().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "empty"]);
    let b = open_ro(&out, Some("b")).unwrap();
    assert_eq!(b.layout().data_offset % 64, 0);
    assert_eq!(b.bytes(), [0, 1, 0, 2, 0, 3, 0, 4]);
    assert_eq!(open_ro(&out, Some("a")).unwrap().bytes(), ramp.as_slice());
    // An archive without members is np.savez's empty archive.
    let empty = dir.path().join("none.npz");
    NpzWriter::create(&empty).unwrap().finish().unwrap();
    assert!(Archive::open(&empty).unwrap().members().is_empty());
    // A writer dropped unfinished leaves nothing.
    let mut dropped = NpzWriter::create(dir.path().join("dropped.npz")).unwrap();
    dropped
        .add_bytes("a", "|u1".parse().unwrap(), &[1], Order::C, &[1], false)
        .unwrap();
    drop(dropped);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["many.npz", "none.npz"]);
    let got = numpy::run_py(
        r"
import sys, zipfile, numpy as np
many, none = sys.argv[1:]
assert zipfile.ZipFile(many).testzip() is None
with np.load(many) as z:
    assert z.files == ['a', 'b', 'c', 'empty'], z.files
    assert (z['a'] == np.arange(200, dtype='u1')).all()
    assert z['b'].dtype.str == '>i2' and z['b'].flags.f_contiguous
    assert (z['b'] == np.array([[1, 3], [2, 4]])).all(), z['b']
    assert z['c'].shape == () and z['c'] == 2.5
    assert z['empty'].shape == (0, 3) and z['empty'].dtype.str == '<c8'
with np.load(none) as z:
    assert z.files == []
print('ok')
",
        &[out.as_os_str(), empty.as_os_str()],
    );
    assert_eq!(got.trim(), "ok");
}

// ---------------------------------------------------------------- mutated archives

mod mutated {
    use super::*;
    use proptest::prelude::*;

    /// A good archive: a stored member, a deflated one and a stored 0-d one.
    fn good() -> Vec<u8> {
        let values: Vec<f64> = (0..40).map(f64::from).collect();
        build(&[
            Member::stored("x", npy_f8(&[1.0, 2.0, 3.0])),
            Member::deflated("y", npy_f8(&values)),
            Member::stored("z", npy("<i2", &[], &[7, 0])),
        ])
        .bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Bytes replaced anywhere, or the archive cut short: opening never panics,
        /// whatever opens reads fully, a failed writable opening changes nothing, and a
        /// writable opening that writes nothing leaves the archive as it was.
        #[test]
        fn mutated_archives_never_panic(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..5),
            cut in proptest::option::of(any::<prop::sample::Index>()),
        ) {
            let mut bytes = good();
            for (at, value) in &edits {
                let i = at.index(bytes.len());
                bytes[i] = *value;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len()));
            }
            let dir = tempfile::tempdir().unwrap();
            let p = write(dir.path(), "m.npz", &bytes);
            let _ = Archive::open(&p);
            for name in ["x", "y", "z"] {
                if let Ok(a) = open_ro(&p, Some(name)) {
                    let _ = a.bytes().iter().map(|&b| u64::from(b)).sum::<u64>();
                    prop_assert!(a.nbytes() <= bytes.len() * 1100);
                }
                let _ = open_rw(&p, Some(name));
                prop_assert_eq!(&std::fs::read(&p).unwrap(), &bytes);
            }
        }
    }
}
