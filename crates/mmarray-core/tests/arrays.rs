//! Black-box tests of the array types: every mode, creating (refusing, overwriting, staging),
//! copy-on-write isolation, durability (`flush`, `close`), the in-process registry, appending
//! in C and F order, typed opens, 0-d and empty arrays, big-endian files and raw files at odd
//! offsets.
//!
//! Every `unsafe` block below maps a file that only this test touches, in a private temporary
//! folder: nobody else modifies or truncates it while it is mapped.
#![cfg(unix)] // file identities, pread and block counts come from std::os::unix

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use mmarray_core::npy::{MAX_HEADER_SIZE, header_bytes, parse_header};
use mmarray_core::{
    Array, CopyOnWrite, CreateOptions, DynArray, Error, Mode, OpenOptions, Order, Raw, ReadOnly,
    ReadWrite,
};
use mmarray_dtype::{DType, Kind};

#[path = "../../../testing/skip.rs"]
mod skip;
use skip::skipped;

// ---------------------------------------------------------------------------------------------
// Helpers

fn dt(descr: &str) -> DType {
    descr.parse().unwrap()
}

fn open<M: Mode>(path: &Path) -> Result<DynArray<M>, Error> {
    // SAFETY: the file is private to this test (see the module docs).
    unsafe { DynArray::<M>::open(path) }
}

fn open_with<M: Mode>(path: &Path, options: &OpenOptions) -> Result<DynArray<M>, Error> {
    // SAFETY: as above.
    unsafe { DynArray::<M>::open_with(path, options) }
}

fn open_typed<T: mmarray_dtype::Element, M: Mode>(path: &Path) -> Result<Array<T, M>, Error> {
    // SAFETY: as above.
    unsafe { Array::<T, M>::open(path) }
}

fn create(path: &Path, dtype: DType, shape: &[usize], order: Order) -> DynArray<ReadWrite> {
    // SAFETY: as above.
    unsafe { DynArray::create(path, dtype, shape, order) }.unwrap()
}

fn create_with(
    path: &Path,
    dtype: DType,
    shape: &[usize],
    order: Order,
    options: &CreateOptions,
) -> Result<DynArray<ReadWrite>, Error> {
    // SAFETY: as above.
    unsafe { DynArray::create_with(path, dtype, shape, order, options) }
}

fn create_staged(path: &Path, dtype: DType, shape: &[usize]) -> Result<DynArray<ReadWrite>, Error> {
    // SAFETY: as above.
    unsafe { DynArray::create_staged(path, dtype, shape, Order::C, &CreateOptions::new()) }
}

/// Creates a native f64 `.npy` file holding `values` in logical C order.
fn f64_file(path: &Path, shape: &[usize], order: Order, values: &[f64]) {
    let mut a = create(path, DType::native(Kind::F64), shape, order);
    a.view_mut::<f64>().unwrap().assign_slice(values).unwrap();
    a.close().unwrap();
}

fn iota(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The data part of an `.npy` file, as the header says.
fn npy_data(bytes: &[u8]) -> &[u8] {
    let h = parse_header(bytes, MAX_HEADER_SIZE).unwrap();
    &bytes[h.data_offset..]
}

fn f64s_ne(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_ne_bytes(c.try_into().unwrap()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Modes

/// Opens the 2x3 `iota` file of `opens_in_every_mode` in mode `M` and checks everything.
fn check_open_mode<M: Mode>(path: &Path, mode: &str) {
    let a = open::<M>(path).unwrap();
    assert_eq!(a.mode(), mode);
    assert_eq!(a.shape(), [2, 3]);
    assert_eq!(a.ndim(), 2);
    assert_eq!(a.len(), 6);
    assert!(!a.is_empty());
    assert_eq!(a.nbytes(), 48);
    assert_eq!(a.dtype(), DType::native(Kind::F64));
    assert_eq!(a.order(), Order::C);
    assert_eq!(a.version(), Some((1, 0)));
    assert_eq!(a.format_name(), "npy");
    assert_eq!(a.path(), path);
    assert_eq!(a.layout().data_offset, 128);
    assert_eq!(a.view::<f64>().unwrap().to_vec(), iota(6));
    assert_eq!(a.view::<f64>().unwrap().get(&[1, 2]).unwrap(), 5.0);
    assert_eq!(f64s_ne(a.bytes()), iota(6));
    let t = a.into_typed::<f64>().unwrap();
    assert_eq!(t.view().slice("::-1, 1").unwrap().to_vec(), [4.0, 1.0]);
    t.close().unwrap();
}

#[test]
fn opens_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.npy");
    f64_file(&path, &[2, 3], Order::C, &iota(6));

    check_open_mode::<ReadOnly>(&path, "r");
    check_open_mode::<ReadWrite>(&path, "r+");
    check_open_mode::<CopyOnWrite>(&path, "c");

    // Typed opens in every mode.
    let a = open_typed::<f64, ReadOnly>(&path).unwrap();
    assert_eq!(a.as_slice().unwrap(), iota(6));
    drop(a);
    let mut a = open_typed::<f64, ReadWrite>(&path).unwrap();
    a.as_slice_mut().unwrap()[0] = 10.0;
    a.close().unwrap();
    let mut a = open_typed::<f64, CopyOnWrite>(&path).unwrap();
    assert_eq!(a.view().get(&[0, 0]).unwrap(), 10.0);
    a.view_mut().fill(-1.0);
    assert_eq!(a.view().to_vec(), [-1.0; 6]);
}

#[test]
fn create_refuses_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exists.npy");
    fs::write(&path, b"precious").unwrap();
    for order in [Order::C, Order::F] {
        // SAFETY: the file is private to this test.
        let err = unsafe { DynArray::create(&path, dt("<f8"), &[3], order) }.unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path: p } if p == &path),
            "{err:?}"
        );
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
        let err =
            create_with(&path, dt("<f8"), &[3], order, &CreateOptions::new().raw(0)).unwrap_err();
        assert!(matches!(err, Error::Exists { .. }), "{err:?}");
        // SAFETY: as above.
        let err = unsafe { Array::<u8, ReadWrite>::create(&path, &[4], order) }.unwrap_err();
        assert!(matches!(err, Error::Exists { .. }), "{err:?}");
    }
    assert_eq!(fs::read(&path).unwrap(), b"precious");
    assert_eq!(names(dir.path()), ["exists.npy"]);
}

#[test]
fn overwrite_replaces_the_file_by_rename() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.npy");
    f64_file(&path, &[4], Order::C, &[1.0, 2.0, 3.0, 4.0]);
    let old_bytes = fs::read(&path).unwrap();
    let old_ino = fs::metadata(&path).unwrap().ino();

    // A reader of the old file: an open descriptor and a mapping.
    let mut old_fd = fs::File::open(&path).unwrap();
    let old_map = open::<ReadOnly>(&path).unwrap();

    let options = CreateOptions::new().overwrite(true);
    let mut new = create_with(&path, dt("<i2"), &[2, 2], Order::C, &options).unwrap();
    assert_eq!(new.path(), path);
    new.view_mut::<i16>()
        .unwrap()
        .assign_slice(&[7, 8, 9, 10])
        .unwrap();
    new.close().unwrap();

    // The new content is at the path, under a new inode.
    assert_ne!(fs::metadata(&path).unwrap().ino(), old_ino);
    let a = open_typed::<i16, ReadOnly>(&path).unwrap();
    assert_eq!(a.shape(), [2, 2]);
    assert_eq!(a.view().to_vec(), [7, 8, 9, 10]);
    let new_bytes = fs::read(&path).unwrap();
    let mut expected = header_bytes(dt("<i2"), &[2, 2], false).unwrap();
    for v in [7i16, 8, 9, 10] {
        expected.extend_from_slice(&v.to_le_bytes());
    }
    assert_eq!(new_bytes, expected);

    // The old file was not truncated or rewritten in place: its reader sees it whole.
    let mut seen = Vec::new();
    old_fd.read_to_end(&mut seen).unwrap();
    assert_eq!(seen, old_bytes);
    assert_eq!(
        old_map.view::<f64>().unwrap().to_vec(),
        [1.0, 2.0, 3.0, 4.0]
    );
    drop(old_map);

    // Nothing else is left in the folder.
    assert_eq!(names(dir.path()), ["data.npy"]);

    // Overwriting when there is nothing to overwrite just creates.
    let fresh = dir.path().join("fresh.npy");
    create_with(&fresh, dt("<f4"), &[3], Order::C, &options)
        .unwrap()
        .close()
        .unwrap();
    assert_eq!(names(dir.path()), ["data.npy", "fresh.npy"]);
}

#[test]
fn typed_arrays_are_created_in_w_plus_and_raw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.npy");
    f64_file(&path, &[4], Order::C, &[1.0, 2.0, 3.0, 4.0]);
    let old_map = open::<ReadOnly>(&path).unwrap();
    let w_plus = CreateOptions::new().overwrite(true);
    // SAFETY: the file is private to this test.
    let mut a =
        unsafe { Array::<u16, ReadWrite>::create_with(&path, &[2, 3], Order::F, &w_plus) }.unwrap();
    assert_eq!(
        (a.shape(), a.order(), a.dtype()),
        (&[2, 3][..], Order::F, DType::native(Kind::U16))
    );
    assert_eq!(a.view().to_vec(), [0; 6], "w+ starts from zeros");
    a.view_mut().assign_slice(&[1, 2, 3, 4, 5, 6]).unwrap();
    a.close().unwrap();
    assert_eq!(
        open_typed::<u16, ReadOnly>(&path).unwrap().view().to_vec(),
        [1, 2, 3, 4, 5, 6]
    );
    // The old mapping still shows the old file.
    assert_eq!(
        old_map.view::<f64>().unwrap().to_vec(),
        [1.0, 2.0, 3.0, 4.0]
    );
    drop(old_map);

    // Without overwrite, the typed constructor refuses and leaves the file alone.
    let before = fs::read(&path).unwrap();
    // SAFETY: as above.
    let err = unsafe {
        Array::<u16, ReadWrite>::create_with(&path, &[1], Order::C, &CreateOptions::new())
    }
    .unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err:?}");
    assert_eq!(fs::read(&path).unwrap(), before);

    // A raw file: no header, zeros before the data at the offset.
    let raw = dir.path().join("typed.dat");
    // SAFETY: as above.
    let mut r = unsafe {
        Array::<i32, ReadWrite>::create_with(&raw, &[3], Order::C, &CreateOptions::new().raw(8))
    }
    .unwrap();
    r.view_mut().assign_slice(&[-1, 0, 7]).unwrap();
    r.close().unwrap();
    let bytes = fs::read(&raw).unwrap();
    assert_eq!(&bytes[..8], [0; 8]);
    let ints: Vec<i32> = bytes[8..]
        .chunks(4)
        .map(|c| i32::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(ints, [-1, 0, 7]);
    assert_eq!(names(dir.path()), ["typed.dat", "typed.npy"]);
}

/// Whether the filesystem of `dir` makes unnamed files (`O_TMPFILE`).
fn unnamed_files_work_in(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path; the descriptor, if any, is closed at once.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_TMPFILE | libc::O_RDWR, 0o600) };
    if fd >= 0 {
        // SAFETY: `fd` was just opened here.
        unsafe { libc::close(fd) };
    }
    fd >= 0
}

/// Staged files are unnamed where the filesystem allows it (nothing in the folder
/// while they are written), named `.NAME.PID.N.mmarray-tmp` otherwise or when
/// asked; either way they appear under their name only when persisted.
#[test]
fn staged_files_appear_only_when_persisted() {
    let dir = tempfile::tempdir().unwrap();
    if unnamed_files_work_in(dir.path()) {
        staged_files_appear_only_when_persisted_in(dir.path(), false);
    } else {
        skipped(
            "staged_files_appear_only_when_persisted",
            &format!(
                "no O_TMPFILE in {}: only the named fallback is tested",
                dir.path().display()
            ),
        );
    }
    // The named fallback (set_unnamed_temporaries is process-wide; no other test
    // here depends on which kind of temporary is used).
    mmarray_core::set_unnamed_temporaries(false);
    let named = tempfile::tempdir().unwrap();
    staged_files_appear_only_when_persisted_in(named.path(), true);
    mmarray_core::set_unnamed_temporaries(true);
}

fn staged_files_appear_only_when_persisted_in(dir: &Path, named: bool) {
    let path = dir.join("staged.npy");

    // Dropped without persist: nothing is left.
    let mut s = create_staged(&path, dt("<f8"), &[10]).unwrap();
    assert_eq!(s.path(), path);
    s.view_mut::<f64>().unwrap().fill(3.0);
    assert!(!path.exists());
    let seen = names(dir);
    if named {
        assert_eq!(seen.len(), 1, "the temporary file exists while staged");
        let pid = std::process::id();
        assert!(
            seen[0].starts_with(&format!(".staged.npy.{pid}."))
                && seen[0].ends_with(".mmarray-tmp"),
            "{seen:?}"
        );
    } else {
        assert!(seen.is_empty(), "an unnamed staged file shows: {seen:?}");
    }
    drop(s);
    assert!(names(dir).is_empty(), "{:?}", names(dir));

    // Closed without persist: nothing is left either.
    let s = create_staged(&path, dt("<f8"), &[10]).unwrap();
    s.close().unwrap();
    assert!(names(dir).is_empty(), "{:?}", names(dir));

    // Persisted: the complete file appears under its name, and only it.
    let mut s = create_staged(&path, dt("<f8"), &[3]).unwrap();
    s.view_mut::<f64>()
        .unwrap()
        .assign_slice(&[1.0, 2.0, 3.0])
        .unwrap();
    let a = s.persist(false).unwrap();
    assert_eq!(a.path(), path);
    a.close().unwrap();
    assert_eq!(names(dir), ["staged.npy"]);
    let before = fs::read(&path).unwrap();
    assert_eq!(f64s_ne(npy_data(&before)), [1.0, 2.0, 3.0]);

    // persist(false) refuses an existing target, which stays as it was; no temporary is left.
    let mut s = create_staged(&path, dt("<f8"), &[2]).unwrap();
    s.view_mut::<f64>().unwrap().fill(9.0);
    let err = s.persist(false).unwrap_err();
    assert!(
        matches!(&err, Error::Exists { path: p } if p == &path),
        "{err:?}"
    );
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(names(dir), ["staged.npy"]);

    // persist(true) replaces it.
    let mut s = create_staged(&path, dt("<f8"), &[2]).unwrap();
    s.view_mut::<f64>().unwrap().fill(9.0);
    s.persist(true).unwrap().close().unwrap();
    assert_eq!(f64s_ne(npy_data(&fs::read(&path).unwrap())), [9.0, 9.0]);
    assert_eq!(names(dir), ["staged.npy"]);

    // A non-staged array: persist just flushes.
    let other = dir.join("other.npy");
    let mut a = create(&other, dt("<f8"), &[1], Order::C);
    a.view_mut::<f64>().unwrap().fill(5.0);
    let a = a.persist(false).unwrap();
    assert_eq!(f64s_ne(npy_data(&fs::read(&other).unwrap())), [5.0]);
    drop(a);
}

#[test]
fn copy_on_write_changes_never_reach_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cow.npy");
    f64_file(&path, &[3, 4], Order::F, &iota(12));
    let before = fs::read(&path).unwrap();
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();

    let mut a = open_typed::<f64, CopyOnWrite>(&path).unwrap();
    a.view_mut().slice_mut("0, :").unwrap().fill(0.0);
    a.view_mut().set(&[2, 3], 100.0).unwrap();
    a.as_slice_mut().unwrap()[5] = -5.0;
    assert_eq!(a.view().get(&[0, 1]).unwrap(), 0.0);
    assert_eq!(a.view().get(&[2, 3]).unwrap(), 100.0);
    a.flush().unwrap();
    assert_eq!(
        fs::read(&path).unwrap(),
        before,
        "visible in the file after flush"
    );
    drop(a);
    assert_eq!(
        fs::read(&path).unwrap(),
        before,
        "visible in the file after drop"
    );

    let mut d = open::<CopyOnWrite>(&path).unwrap();
    d.bytes_mut().fill(0xff);
    d.view_mut::<f64>().unwrap().fill(1.0);
    d.flush_range(0, 8).unwrap();
    d.close().unwrap();
    assert_eq!(
        fs::read(&path).unwrap(),
        before,
        "visible in the file after close"
    );
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);

    // And a fresh open sees the file's values.
    let a = open_typed::<f64, ReadOnly>(&path).unwrap();
    assert_eq!(a.view().to_vec(), iota(12));
}

/// `struct cachestat_range` of the kernel.
#[repr(C)]
struct Range {
    off: u64,
    len: u64,
}
/// `struct cachestat` of the kernel.
#[repr(C)]
#[derive(Default)]
#[allow(clippy::struct_field_names)] // the kernel's names
struct CacheStat {
    nr_cache: u64,
    nr_dirty: u64,
    nr_writeback: u64,
    nr_evicted: u64,
    nr_recently_evicted: u64,
}
/// `__NR_cachestat`: the same number on every architecture (Linux 6.5).
const SYS_CACHESTAT: libc::c_long = 451;

/// Pages of `path` that are dirty in the page cache — written (through a mapping
/// or otherwise) but not yet written back to the disk — by the `cachestat`
/// syscall (Linux 6.5+). `Err(reason)` where that cannot be seen: filesystems
/// without a disk (tmpfs, ramfs: their pages are never "clean"), older kernels.
///
/// Reading the file (`fs::read`, `pread`, a mapping) cannot tell: it sees the
/// page cache, unflushed writes included. Neither can an `O_DIRECT` read on its
/// own: the kernel writes dirty cached pages back before a direct read of them.
#[allow(clippy::unnecessary_cast)] // the constants' type differs between targets
fn dirty_pages(path: &Path) -> Result<u64, String> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: statfs writes into the zeroed struct we own; the path outlives the call.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &raw mut st) } != 0 {
        return Err(format!("statfs: {}", std::io::Error::last_os_error()));
    }
    #[allow(clippy::unnecessary_cast)] // `f_type`'s type differs between targets
    let magic = st.f_type as i64;
    if magic == libc::TMPFS_MAGIC as i64 || magic == 0x8584_58f6
    /* RAMFS_MAGIC */
    {
        return Err(format!(
            "{} is on tmpfs/ramfs: there is no disk to flush to",
            path.display()
        ));
    }
    let file = fs::File::open(path).map_err(|e| e.to_string())?;
    let range = Range { off: 0, len: 0 }; // len 0: to the end of the file
    let mut cs = CacheStat::default();
    // SAFETY: cachestat reads `range` and writes `cs`, both live `repr(C)` structs
    // of the kernel's layout; the descriptor is open.
    let rc = unsafe {
        libc::syscall(
            SYS_CACHESTAT,
            file.as_raw_fd(),
            &raw const range,
            &raw mut cs,
            0u32,
        )
    };
    if rc != 0 {
        return Err(format!(
            "cachestat: {} (Linux 6.5 or later needed)",
            std::io::Error::last_os_error()
        ));
    }
    Ok(cs.nr_dirty + cs.nr_writeback)
}

/// The file's bytes read with `O_DIRECT` (from the device, not the page cache),
/// or `Err(reason)` where the filesystem refuses `O_DIRECT`.
fn read_direct(path: &Path) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    const ALIGN: usize = 4096;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .map_err(|e| format!("open with O_DIRECT: {e}"))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len() as usize;
    let padded = len.div_ceil(ALIGN).max(1) * ALIGN;
    let mut buf = vec![0u8; padded + ALIGN];
    let start = buf.as_ptr().align_offset(ALIGN);
    let aligned = &mut buf[start..start + padded];
    let mut got = 0;
    while got < len {
        match file.read_at(&mut aligned[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(format!("O_DIRECT read: {e}")),
        }
    }
    Ok(aligned[..got].to_vec())
}

/// Checks that `path` has no unwritten pages left and that the disk holds
/// `expected` (data bytes after the header); where that cannot be seen, says so
/// with a SKIPPED line and checks what the page cache shows.
#[track_caller]
fn assert_on_disk(test: &str, path: &Path, expected: &[f64]) {
    match dirty_pages(path) {
        Ok(dirty) => assert_eq!(dirty, 0, "{test}: pages not written back"),
        Err(reason) => skipped(
            test,
            &format!("cannot see whether the data reached the disk: {reason}"),
        ),
    }
    match read_direct(path) {
        Ok(bytes) => assert_eq!(f64s_ne(npy_data(&bytes)), expected, "{test}: on disk"),
        Err(reason) => {
            skipped(test, &format!("cannot read the disk directly: {reason}"));
            assert_eq!(f64s_ne(npy_data(&fs::read(path).unwrap())), expected);
        }
    }
}

/// Whether the probe sees writes that are not flushed yet (so that
/// [`assert_on_disk`] can fail): pages dirty now.
#[track_caller]
fn assert_dirty(test: &str, path: &Path) {
    if let Ok(dirty) = dirty_pages(path) {
        assert!(dirty > 0, "{test}: the probe does not see unflushed writes");
    }
}

/// Writes its file to disk and drops it from the page cache's dirty set.
fn sync(path: &Path) {
    fs::File::open(path).unwrap().sync_all().unwrap();
}

#[test]
fn read_write_changes_reach_the_file_after_flush() {
    const TEST: &str = "read_write_changes_reach_the_file_after_flush";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rw.npy");
    f64_file(&path, &[2, 5], Order::C, &iota(10));
    sync(&path);
    if let Ok(dirty) = dirty_pages(&path) {
        assert_eq!(dirty, 0, "a synced file has no dirty pages");
    }

    let mut a = open_typed::<f64, ReadWrite>(&path).unwrap();
    a.view_mut().set(&[1, 4], 42.0).unwrap();
    a.view_mut().slice_mut("0, ::2").unwrap().fill(-1.0);
    assert_dirty(TEST, &path);
    a.flush().unwrap();
    let expected = [-1.0, 1.0, -1.0, 3.0, -1.0, 5.0, 6.0, 7.0, 8.0, 42.0];
    assert_on_disk(TEST, &path, &expected);

    // flush_range: in range is fine, out of range is an error.
    a.flush_range(8, 16).unwrap();
    a.flush_range(80, 0).unwrap();
    assert!(matches!(
        a.flush_range(72, 16),
        Err(Error::Index(mmarray_core::IndexError::Range {
            offset: 72,
            len: 16,
            ..
        }))
    ));
    assert!(matches!(a.flush_range(usize::MAX, 2), Err(Error::Index(_))));

    // Dropping flushes too.
    a.view_mut().set(&[0, 1], 11.0).unwrap();
    assert_dirty(TEST, &path);
    drop(a);
    let mut expected = expected;
    expected[1] = 11.0;
    assert_on_disk(TEST, &path, &expected);
}

#[test]
fn close_reports_success_and_the_data_is_on_disk() {
    const TEST: &str = "close_reports_success_and_the_data_is_on_disk";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("closed.npy");
    let mut a = create(&path, dt(">i4"), &[3, 2], Order::F);
    a.view_mut::<i32>()
        .unwrap()
        .assign_slice(&[1, 2, 3, 4, 5, 6])
        .unwrap();
    assert_dirty(TEST, &path);
    assert!(a.close().is_ok());
    let mut expected = header_bytes(dt(">i4"), &[3, 2], true).unwrap();
    // F order in memory: [0,0], [1,0], [2,0], [0,1], ...
    for v in [1i32, 3, 5, 2, 4, 6] {
        expected.extend_from_slice(&v.to_be_bytes());
    }
    match dirty_pages(&path) {
        Ok(dirty) => assert_eq!(dirty, 0, "{TEST}: pages not written back"),
        Err(reason) => skipped(
            TEST,
            &format!("cannot see whether the data reached the disk: {reason}"),
        ),
    }
    match read_direct(&path) {
        Ok(bytes) => assert_eq!(bytes, expected, "on disk"),
        Err(reason) => {
            skipped(TEST, &format!("cannot read the disk directly: {reason}"));
            assert_eq!(fs::read(&path).unwrap(), expected);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The in-process registry

#[test]
fn registry_refuses_conflicting_mappings_of_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.npy");
    f64_file(&path, &[4], Order::C, &iota(4));
    // Another name for the same file: the registry goes by identity, not by name.
    let link = dir.path().join("link.npy");
    fs::hard_link(&path, &link).unwrap();

    let busy = |r: Result<DynArray<ReadWrite>, Error>| match r {
        Err(e @ Error::Busy { .. }) => {
            assert!(e.to_string().contains("shared.npy") || e.to_string().contains("link.npy"));
        }
        other => panic!("expected Busy, got {other:?}"),
    };

    // Readers exclude writers.
    let r = open::<ReadOnly>(&path).unwrap();
    busy(open::<ReadWrite>(&path));
    busy(open::<ReadWrite>(&link));
    // ... but not other readers, copy-on-write included.
    let r2 = open::<ReadOnly>(&link).unwrap();
    let c = open::<CopyOnWrite>(&path).unwrap();
    drop(r);
    busy(open::<ReadWrite>(&path));
    drop(r2);
    busy(open::<ReadWrite>(&path));
    drop(c);

    // Once every reader is gone, a writer is fine; it excludes everyone else.
    let w = open::<ReadWrite>(&path).unwrap();
    for r in [
        open::<ReadOnly>(&path).map(drop),
        open::<ReadOnly>(&link).map(drop),
        open::<CopyOnWrite>(&path).map(drop),
        open::<ReadWrite>(&link).map(drop),
    ] {
        assert!(matches!(r, Err(Error::Busy { .. })), "{r:?}");
    }
    // A failed open leaves no trace: after the writer goes, all is fine again.
    drop(w);
    let r = open::<ReadOnly>(&path).unwrap();
    drop(r);
    let w = open::<ReadWrite>(&link).unwrap();
    w.close().unwrap();
    let c = open::<CopyOnWrite>(&path).unwrap();
    c.close().unwrap();
    open::<ReadWrite>(&path).unwrap();

    // A freshly created file is registered as written.
    let new = dir.path().join("new.npy");
    let a = create(&new, dt("<u2"), &[3], Order::C);
    assert!(matches!(open::<ReadOnly>(&new), Err(Error::Busy { .. })));
    drop(a);
    open::<ReadOnly>(&new).unwrap();

    // Typed opens use the same registry.
    let r = open_typed::<f64, ReadOnly>(&path).unwrap();
    assert!(matches!(
        open_typed::<f64, ReadWrite>(&path),
        Err(Error::Busy { .. })
    ));
    drop(r);
    open_typed::<f64, ReadWrite>(&path).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Appending

#[test]
fn append_grows_c_order_arrays_along_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.npy");
    // SAFETY: the file is private to this test.
    let mut a = unsafe { Array::<f64, ReadWrite>::create(&path, &[0, 3], Order::C) }.unwrap();
    assert_eq!(a.append(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap(), 0..2);
    assert_eq!(a.shape(), [2, 3]);
    assert_eq!(a.view().to_vec(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(a.append_zeroed(1).unwrap(), 2..3);
    assert_eq!(a.append(&[7.0, 8.0, 9.0]).unwrap(), 3..4);
    assert_eq!(a.shape(), [4, 3]);
    assert_eq!(a.len(), 12);
    assert_eq!(
        a.view().slice("2:, ::-1").unwrap().to_vec(),
        [0.0, 0.0, 0.0, 9.0, 8.0, 7.0]
    );
    // Appending nothing is fine.
    assert_eq!(a.append(&[]).unwrap(), 4..4);
    a.close().unwrap();

    // The file parses with the new shape, and is what numpy writes for it.
    let bytes = fs::read(&path).unwrap();
    let h = parse_header(&bytes, MAX_HEADER_SIZE).unwrap();
    assert_eq!(h.shape, [4, 3]);
    assert!(!h.fortran_order);
    assert_eq!(bytes.len(), h.data_offset + 12 * 8);
    assert_eq!(
        &bytes[..h.data_offset],
        header_bytes(DType::native(Kind::F64), &[4, 3], false).unwrap()
    );
    let a = open_typed::<f64, ReadOnly>(&path).unwrap();
    assert_eq!(
        a.view().to_vec(),
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 0.0, 0.0, 7.0, 8.0, 9.0]
    );

    // Many appends across decimal-digit boundaries of the growth axis (9 -> 10 -> 100 ...).
    drop(a);
    let path = dir.path().join("long.npy");
    // SAFETY: as above.
    let mut a = unsafe { Array::<u8, ReadWrite>::create(&path, &[9], Order::C) }.unwrap();
    for i in 0..200u32 {
        a.append(&[i as u8]).unwrap();
    }
    a.append_zeroed(100_000).unwrap();
    assert_eq!(a.shape(), [100_209]);
    assert_eq!(a.view().get(&[9 + 150]).unwrap(), 150);
    a.close().unwrap();
    let bytes = fs::read(&path).unwrap();
    assert_eq!(
        &bytes[..128],
        header_bytes(dt("|u1"), &[100_209], false).unwrap()
    );
    assert_eq!(bytes.len(), 128 + 100_209);
}

#[test]
fn append_grows_f_order_arrays_along_the_last_axis() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cols.npy");
    // SAFETY: the file is private to this test.
    let mut a = unsafe { Array::<i32, ReadWrite>::create(&path, &[2, 1], Order::F) }.unwrap();
    a.view_mut().assign_slice(&[10, 20]).unwrap();
    // Two whole columns, given in the file's (F) memory order: [0,1], [1,1], [0,2], [1,2].
    assert_eq!(a.append(&[11, 21, 12, 22]).unwrap(), 1..3);
    assert_eq!(a.shape(), [2, 3]);
    assert_eq!(a.view().to_vec(), [10, 11, 12, 20, 21, 22]);
    assert_eq!(a.view().slice("1").unwrap().to_vec(), [20, 21, 22]);
    // Not whole columns.
    let err = a.append(&[1, 2, 3]).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err:?}");
    a.close().unwrap();

    let bytes = fs::read(&path).unwrap();
    let h = parse_header(&bytes, MAX_HEADER_SIZE).unwrap();
    assert_eq!(h.shape, [2, 3]);
    assert!(h.fortran_order);
    assert_eq!(
        &bytes[..h.data_offset],
        header_bytes(DType::native(Kind::I32), &[2, 3], true).unwrap()
    );
    let data: Vec<i32> = bytes[h.data_offset..]
        .chunks_exact(4)
        .map(|c| i32::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(data, [10, 20, 11, 21, 12, 22]);

    // A big-endian F-order 3-d array through DynArray.
    let path = dir.path().join("be.npy");
    let a = create(&path, dt(">u2"), &[2, 2, 0], Order::F);
    let mut a = a.into_typed::<u16>().unwrap();
    a.append(&[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    assert_eq!(a.shape(), [2, 2, 2]);
    // Logical [i, j, k] is memory i + 2j + 4k.
    assert_eq!(a.view().to_vec(), [1, 5, 3, 7, 2, 6, 4, 8]);
    a.close().unwrap();
    let bytes = fs::read(&path).unwrap();
    assert_eq!(
        &bytes[..128],
        header_bytes(dt(">u2"), &[2, 2, 2], true).unwrap()
    );
    assert_eq!(&bytes[128..130], [0, 1]);
}

#[test]
fn failed_appends_leave_the_file_unchanged() {
    let dir = tempfile::tempdir().unwrap();

    // A header without room to grow: compact dict, no padding, data right after it.
    let path = dir.path().join("tight.npy");
    let text = b"{'descr':'<f8','fortran_order':False,'shape':(9,)}";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(text.len() as u16).to_le_bytes());
    bytes.extend_from_slice(text);
    for i in 0..9 {
        bytes.extend_from_slice(&f64::from(i).to_le_bytes());
    }
    fs::write(&path, &bytes).unwrap();
    let a = open::<ReadWrite>(&path).unwrap();
    assert_eq!(a.view::<f64>().unwrap().to_vec(), iota(9));
    let mut a = a.into_typed::<f64>().unwrap();
    let err = a.append(&[9.0]).unwrap_err();
    assert!(err.to_string().contains("room"), "{err}");
    assert_eq!(a.shape(), [9]);
    assert_eq!(a.view().to_vec(), iota(9));
    let err = a.append_zeroed(1000).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    drop(a);
    assert_eq!(fs::read(&path).unwrap(), bytes);

    // Values that are not whole rows, and a 0-d array.
    let path = dir.path().join("rows.npy");
    f64_file(&path, &[2, 3], Order::C, &iota(6));
    let before = fs::read(&path).unwrap();
    let mut a = open_typed::<f64, ReadWrite>(&path).unwrap();
    assert!(matches!(a.append(&[1.0, 2.0]), Err(Error::Shape(_))));
    assert!(matches!(a.append(&[1.0; 4]), Err(Error::Shape(_))));
    drop(a);
    assert_eq!(fs::read(&path).unwrap(), before);

    let path = dir.path().join("scalar.npy");
    f64_file(&path, &[], Order::C, &[1.5]);
    let before = fs::read(&path).unwrap();
    let mut a = open_typed::<f64, ReadWrite>(&path).unwrap();
    assert!(matches!(a.append(&[1.0]), Err(Error::Shape(_))));
    assert!(matches!(a.append_zeroed(1), Err(Error::Unsupported(_))));
    drop(a);
    assert_eq!(fs::read(&path).unwrap(), before);

    // Appending to a raw file with an offset: the "header" is kept, the data grows.
    let path = dir.path().join("raw.bin");
    let mut a = create_with(
        &path,
        dt("<u2"),
        &[2],
        Order::C,
        &CreateOptions::new().raw(4),
    )
    .unwrap();
    a.view_mut::<u16>().unwrap().assign_slice(&[1, 2]).unwrap();
    let mut a = a.into_typed::<u16>().unwrap();
    a.append(&[3]).unwrap();
    a.close().unwrap();
    assert_eq!(fs::read(&path).unwrap(), [0, 0, 0, 0, 1, 0, 2, 0, 3, 0]);
}

// ---------------------------------------------------------------------------------------------
// Types

/// `Array::<T, M>::open` of an f8 file must be a `DTypeMismatch` naming the file.
fn mismatch<T: mmarray_dtype::Element, M: Mode>(path: &Path) {
    match open_typed::<T, M>(path) {
        Err(e @ Error::DTypeMismatch { .. }) => {
            let Error::DTypeMismatch { path: p, found, .. } = &e else {
                unreachable!()
            };
            assert_eq!(p, path);
            assert_eq!(*found, DType::native(Kind::F64));
            assert!(e.to_string().contains("f8.npy"), "{e}");
        }
        other => panic!("expected DTypeMismatch, got {other:?}"),
    }
}

#[test]
fn typed_open_of_another_kind_is_a_dtype_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f8.npy");
    f64_file(&path, &[3], Order::C, &iota(3));

    mismatch::<f32, ReadOnly>(&path);
    mismatch::<i64, ReadOnly>(&path);
    mismatch::<u64, ReadWrite>(&path);
    mismatch::<mmarray_dtype::Complex32, CopyOnWrite>(&path);
    mismatch::<mmarray_dtype::Bool, ReadOnly>(&path);

    // The dynamic array refuses views of another kind, and into_typed too.
    let a = open::<ReadOnly>(&path).unwrap();
    assert!(matches!(a.view::<f32>(), Err(Error::DTypeMismatch { .. })));
    assert!(matches!(a.view::<i64>(), Err(Error::DTypeMismatch { .. })));
    assert!(matches!(a.view::<u8>(), Err(Error::DTypeMismatch { .. })));
    assert!(matches!(
        a.into_typed::<u8>(),
        Err(Error::DTypeMismatch { .. })
    ));
    let mut w = open::<CopyOnWrite>(&path).unwrap();
    assert!(matches!(
        w.view_mut::<i64>(),
        Err(Error::DTypeMismatch { .. })
    ));
    assert!(matches!(
        w.view_mut::<u16>(),
        Err(Error::DTypeMismatch { .. })
    ));
    drop(w);

    // A wider type than the array's must be refused, not read past the data.
    let small = dir.path().join("u1.npy");
    create(&small, dt("|u1"), &[3], Order::C).close().unwrap();
    let a = open::<ReadOnly>(&small).unwrap();
    assert!(matches!(a.view::<f64>(), Err(Error::DTypeMismatch { .. })));
    assert!(matches!(a.view::<i8>(), Err(Error::DTypeMismatch { .. })));
    assert_eq!(a.view::<u8>().unwrap().to_vec(), [0, 0, 0]);

    // Either byte order of the right kind is fine.
    let be = dir.path().join("be.npy");
    create(&be, dt(">f8"), &[2], Order::C).close().unwrap();
    let a = open_typed::<f64, ReadOnly>(&be).unwrap();
    assert_eq!(a.dtype(), dt(">f8"));
    assert_eq!(a.view().to_vec(), [0.0, 0.0]);
}

/// Opens an empty or 0-d file of `zero_d_and_empty_arrays_work_everywhere` in mode `M`.
fn check_empty<M: Mode>(path: &Path, shape: &[usize], n: usize) {
    let a = open::<M>(path).unwrap();
    assert_eq!(a.shape(), shape);
    assert_eq!(a.nbytes(), 8 * n);
    let v = a.view::<i64>().unwrap();
    assert_eq!(v.to_vec(), vec![-3; n]);
    assert_eq!(v.iter().count(), n);
    assert_eq!(v.runs().len(), usize::from(n > 0));
    assert_eq!(v.segments(4).len(), n.div_ceil(4));
    if shape.is_empty() {
        assert_eq!(v.get(&[]).unwrap(), -3);
        assert_eq!(v.slice("...").unwrap().to_vec(), [-3]);
        assert!(v.slice("0").is_err());
        assert!(v.get(&[0]).is_err());
    } else {
        assert_eq!(v.slice("..., ::-1").unwrap().len(), n);
    }
}

#[test]
fn zero_d_and_empty_arrays_work_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let shapes: &[&[usize]] = &[&[], &[0], &[0, 3], &[3, 0], &[2, 0, 4], &[1]];
    for (i, &shape) in shapes.iter().enumerate() {
        for order in [Order::C, Order::F] {
            let path = dir.path().join(format!("e{i}{}.npy", order.as_str()));
            let n: usize = shape.iter().product();
            let mut a = create(&path, dt("<i8"), shape, order);
            assert_eq!((a.shape(), a.len(), a.is_empty()), (shape, n, n == 0));
            {
                let mut v = a.view_mut::<i64>().unwrap();
                assert_eq!(v.len(), n);
                v.fill(7);
                v.assign_slice(&vec![-3; n]).unwrap();
                assert!(v.assign_slice(&vec![0; n + 1]).is_err());
            }
            assert_eq!(a.view::<i64>().unwrap().to_vec(), vec![-3; n]);
            a.close().unwrap();
            let header = header_bytes(dt("<i8"), shape, order == Order::F).unwrap();
            assert_eq!(
                fs::metadata(&path).unwrap().len(),
                (header.len() + 8 * n) as u64
            );

            check_empty::<ReadOnly>(&path, shape, n);
            check_empty::<ReadWrite>(&path, shape, n);
            check_empty::<CopyOnWrite>(&path, shape, n);

            let mut c = open::<CopyOnWrite>(&path).unwrap();
            c.view_mut::<i64>().unwrap().fill(1);
            c.close().unwrap();
        }
    }

    // Appending to empty arrays.
    let path = dir.path().join("grow0.npy");
    let mut a = create(&path, dt("<i8"), &[0, 3], Order::C)
        .into_typed::<i64>()
        .unwrap();
    a.append(&[1, 2, 3]).unwrap();
    assert_eq!(a.view().to_vec(), [1, 2, 3]);
    a.close().unwrap();
    assert_eq!(open_typed::<i64, ReadOnly>(&path).unwrap().shape(), [1, 3]);

    let path = dir.path().join("grow1.npy");
    let mut a = create(&path, dt("<i8"), &[0], Order::C)
        .into_typed::<i64>()
        .unwrap();
    a.append(&[]).unwrap();
    assert_eq!(a.shape(), [0]);
    a.append(&[5]).unwrap();
    assert_eq!(a.view().to_vec(), [5]);
    a.close().unwrap();

    // [3, 0] in C order grows along rows of nothing: only zeroed appends make sense.
    let path = dir.path().join("grow2.npy");
    let mut a = create(&path, dt("<i8"), &[3, 0], Order::C)
        .into_typed::<i64>()
        .unwrap();
    assert!(matches!(a.append(&[1]), Err(Error::Shape(_))));
    a.append_zeroed(2).unwrap();
    assert_eq!(a.shape(), [5, 0]);
    assert!(a.view().to_vec().is_empty());
    a.close().unwrap();
    let bytes = fs::read(&path).unwrap();
    assert_eq!(bytes, header_bytes(dt("<i8"), &[5, 0], false).unwrap());

    // ... while in F order it grows along the last axis, by columns of 3.
    let path = dir.path().join("grow3.npy");
    let mut a = create(&path, dt("<i8"), &[3, 0], Order::F)
        .into_typed::<i64>()
        .unwrap();
    a.append(&[1, 2, 3, 4, 5, 6]).unwrap();
    assert_eq!(a.shape(), [3, 2]);
    assert_eq!(a.view().to_vec(), [1, 4, 2, 5, 3, 6]);
    a.close().unwrap();

    // Empty raw files with an inferred shape.
    let path = dir.path().join("empty.raw");
    fs::write(&path, b"abc").unwrap();
    let raw = OpenOptions::new().raw(Raw::new(dt("<f8")).offset(3));
    let a = open_with::<ReadOnly>(&path, &raw).unwrap();
    assert_eq!(a.shape(), [0]);
    assert!(a.view::<f64>().unwrap().to_vec().is_empty());
    drop(a);
    let a = open_with::<ReadWrite>(&path, &raw).unwrap();
    assert!(a.is_empty());
    drop(a);
    assert_eq!(fs::read(&path).unwrap(), b"abc");
}

// ---------------------------------------------------------------------------------------------
// Byte order and alignment

#[test]
fn big_endian_files_decode_and_have_no_slice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("be.npy");
    let mut a = create(&path, dt(">f8"), &[3, 4], Order::C);
    a.view_mut::<f64>()
        .unwrap()
        .assign_slice(&iota(12))
        .unwrap();
    a.view_mut::<f64>()
        .unwrap()
        .slice_mut("1, 1:3")
        .unwrap()
        .fill(-0.5);
    a.close().unwrap();

    let bytes = fs::read(&path).unwrap();
    let data = npy_data(&bytes);
    assert_eq!(&data[8..16], 1.0f64.to_be_bytes());
    assert_eq!(&data[40..48], (-0.5f64).to_be_bytes());

    let a = open_typed::<f64, ReadOnly>(&path).unwrap();
    assert_eq!(a.dtype(), dt(">f8"));
    assert!(a.as_slice().is_none());
    let v = a.view();
    assert!(v.as_slice().is_none());
    assert!(!v.is_native_aligned());
    assert_eq!(v.get(&[2, 3]).unwrap(), 11.0);
    assert_eq!(v.get(&[1, 2]).unwrap(), -0.5);
    let expect = [
        0.0, 1.0, 2.0, 3.0, 4.0, -0.5, -0.5, 7.0, 8.0, 9.0, 10.0, 11.0,
    ];
    assert_eq!(v.to_vec(), expect);
    assert_eq!(v.iter().collect::<Vec<_>>(), expect);
    assert_eq!(v.slice(":, -1").unwrap().to_vec(), [3.0, 7.0, 11.0]);
    assert_eq!(
        v.slice("::-1, ::-2").unwrap().to_vec(),
        [11.0, 9.0, 7.0, -0.5, 3.0, 1.0]
    );
    drop(a);

    // Writes through a big-endian copy-on-write view encode, and the file is untouched.
    let mut c = open_typed::<f64, CopyOnWrite>(&path).unwrap();
    assert!(c.as_slice_mut().is_none());
    c.view_mut().set(&[0, 0], 2.5).unwrap();
    assert_eq!(&c.bytes()[..8], 2.5f64.to_be_bytes());
    drop(c);
    assert_eq!(fs::read(&path).unwrap(), bytes);

    // The same values in a little-endian file have a slice.
    let le = dir.path().join("le.npy");
    f64_file(&le, &[3, 4], Order::C, &expect);
    let a = open_typed::<f64, ReadOnly>(&le).unwrap();
    assert_eq!(a.as_slice().unwrap(), expect);
    assert_eq!(a.view().as_slice().unwrap(), expect);
    assert!(a.view().slice(":, 1").unwrap().as_slice().is_none());
    assert_eq!(
        a.view().slice("1").unwrap().as_slice().unwrap(),
        [4.0, -0.5, -0.5, 7.0]
    );
}

#[test]
fn raw_files_at_odd_offsets_are_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.raw");
    let mut bytes = b"xyz".to_vec();
    for i in 0..10 {
        bytes.extend_from_slice(&(f64::from(i) * 1.5).to_le_bytes());
    }
    fs::write(&path, &bytes).unwrap();
    let expect: Vec<f64> = (0..10).map(|i| f64::from(i) * 1.5).collect();

    // Inferred 1-d shape.
    let options = OpenOptions::new().raw(Raw::new(dt("<f8")).offset(3));
    let a = open_with::<ReadOnly>(&path, &options).unwrap();
    assert_eq!(
        (a.shape(), a.format_name(), a.version()),
        (&[10][..], "raw", None)
    );
    assert_eq!(a.layout().data_offset, 3);
    let a = a.into_typed::<f64>().unwrap();
    assert!(a.as_slice().is_none(), "misaligned data has no slice");
    assert!(a.view().as_slice().is_none());
    assert!(!a.view().is_native_aligned());
    assert_eq!(a.view().to_vec(), expect);
    assert_eq!(a.view().get(&[9]).unwrap(), 13.5);
    assert_eq!(
        a.view().slice("::-3").unwrap().to_vec(),
        [13.5, 9.0, 4.5, 0.0]
    );
    drop(a);

    // An explicit 2-d F-order shape over the same bytes.
    let options = OpenOptions::new().raw(
        Raw::new(dt("<f8"))
            .offset(3)
            .shape(vec![2, 5])
            .order(Order::F),
    );
    let a = open_with::<ReadOnly>(&path, &options)
        .unwrap()
        .into_typed::<f64>()
        .unwrap();
    assert_eq!(
        a.view().slice("0").unwrap().to_vec(),
        [0.0, 3.0, 6.0, 9.0, 12.0]
    );
    assert_eq!(a.view().slice(":, 1").unwrap().to_vec(), [3.0, 4.5]);
    drop(a);

    // A shorter shape than the file holds is fine (numpy maps only what the shape needs).
    let options = OpenOptions::new().raw(Raw::new(dt("<f8")).offset(11).shape(vec![3]));
    let a = open_with::<ReadOnly>(&path, &options).unwrap();
    assert_eq!(a.view::<f64>().unwrap().to_vec(), [1.5, 3.0, 4.5]);
    drop(a);

    // Writable at an odd offset: writes land at the right bytes.
    let options = OpenOptions::new().raw(Raw::new(dt("<f8")).offset(3));
    let mut a = open_with::<ReadWrite>(&path, &options).unwrap();
    a.view_mut::<f64>().unwrap().set(&[1], -1.0).unwrap();
    a.close().unwrap();
    let after = fs::read(&path).unwrap();
    assert_eq!(&after[11..19], (-1.0f64).to_le_bytes());
    assert_eq!(after.len(), bytes.len());
    assert_eq!(&after[..11], &bytes[..11]);
    assert_eq!(&after[19..], &bytes[19..]);

    // Big-endian ints at offset 5.
    let path = dir.path().join("be.raw");
    let mut bytes = vec![9u8; 5];
    for i in [-2i32, 70000, 3] {
        bytes.extend_from_slice(&i.to_be_bytes());
    }
    fs::write(&path, &bytes).unwrap();
    let options = OpenOptions::new().raw(Raw::new(dt(">i4")).offset(5));
    let a = open_with::<CopyOnWrite>(&path, &options)
        .unwrap()
        .into_typed::<i32>()
        .unwrap();
    assert_eq!(a.view().to_vec(), [-2, 70000, 3]);
    assert!(a.as_slice().is_none());

    // Creating a raw file with an odd offset: zeros before the data.
    let path = dir.path().join("made.raw");
    let mut a = create_with(
        &path,
        dt("<f8"),
        &[2, 2],
        Order::F,
        &CreateOptions::new().raw(3),
    )
    .unwrap();
    assert_eq!(a.format_name(), "raw");
    a.view_mut::<f64>()
        .unwrap()
        .assign_slice(&[1.0, 2.0, 3.0, 4.0])
        .unwrap();
    a.close().unwrap();
    let made = fs::read(&path).unwrap();
    assert_eq!(&made[..3], [0, 0, 0]);
    let data: Vec<f64> = made[3..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(data, [1.0, 3.0, 2.0, 4.0]);
}

#[test]
fn residency_follows_the_page_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.raw");
    let len = 64 << 20;
    // A hole: no page of it is in the page cache until something reads it.
    fs::File::create(&path)
        .unwrap()
        .set_len(len as u64)
        .unwrap();
    let options = OpenOptions::new().raw(Raw::new(dt("|u1")));
    let a = open_with::<ReadOnly>(&path, &options)
        .unwrap()
        .into_typed::<u8>()
        .unwrap();
    let v = a.view();
    assert!(v.is_resident(0, 0), "an empty range");
    assert!(
        v.is_resident(len, 100),
        "a range past the end is clipped to nothing"
    );
    if !cfg!(target_os = "linux") {
        assert!(!v.is_resident(0, len), "not known off Linux");
        return;
    }
    assert!(!v.is_resident(0, len));
    assert!(!v.is_resident(len - 1, 100), "clipped to the last byte");
    // Reading the first 64 KiB through the mapping brings them in (and what
    // the kernel reads ahead, far less than the file).
    let head = v.slice(..64 << 10).unwrap();
    assert_eq!(head.to_vec().iter().map(|&b| u64::from(b)).sum::<u64>(), 0);
    assert!(v.is_resident(0, 64 << 10));
    assert!(v.is_resident(100, 5000), "unaligned ranges inside it");
    assert!(!v.is_resident(0, len), "the end is still out");
    assert!(!v.is_resident(len - (4 << 20), 4 << 20));
    // 40 MiB spans several of the windows mincore is asked over: every window
    // of it is judged, and a page missing in a late window is found.
    let read = 40 << 20;
    let front = v.slice(..read).unwrap();
    assert_eq!(front.to_vec().iter().map(|&b| u64::from(b)).sum::<u64>(), 0);
    assert!(v.is_resident(0, read));
    assert!(
        v.is_resident(4097, read - 4097),
        "unaligned, across windows"
    );
    assert!(!v.is_resident(0, len), "the last pages are still out");
    assert!(!v.is_resident(4097, len), "and from an unaligned start");
}

#[test]
fn paths_and_debug_output_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("named.npy");
    f64_file(&path, &[1], Order::C, &[0.0]);
    let a = open::<ReadOnly>(&path).unwrap();
    let debug = format!("{a:?}");
    assert!(
        debug.contains("named.npy") && debug.contains("npy"),
        "{debug}"
    );
    let t = a.into_typed::<f64>().unwrap();
    assert!(format!("{t:?}").contains("named.npy"));
    assert!(format!("{:?}", t.view()).contains("shape"));
}

#[test]
fn arrays_and_views_display_as_numpy_reprs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shown.npy");
    let mut a = create(&path, dt(">i2"), &[2, 3], Order::F);
    a.view_mut::<i16>()
        .unwrap()
        .assign_slice(&[1, -2, 3, 4, 5, 6])
        .unwrap();
    assert_eq!(
        a.to_string(),
        "memmap([[ 1, -2,  3],\n        [ 4,  5,  6]], dtype='>i2')"
    );
    let mut typed = a.into_typed::<i16>().unwrap();
    assert_eq!(
        typed.view().slice("::-1, 0").unwrap().to_string(),
        "array([4, 1], dtype='>i2')"
    );
    let row = typed.view_mut().slice_mut("1").unwrap();
    assert_eq!(row.to_string(), "array([4, 5, 6], dtype='>i2')");
    typed.close().unwrap();

    // Large arrays are summarised, not printed whole.
    let big = dir.path().join("big.npy");
    let b = create(&big, dt("<f8"), &[2000, 3], Order::C);
    let text = b.to_string();
    let row = "[0., 0., 0.]";
    let want = format!(
        "memmap([{row},\n        {row},\n        {row},\n        ...,\n        {row},\n        {row},\n        {row}], shape=(2000, 3))"
    );
    assert_eq!(text, want);
}
