//! Reading a file-backed view through the mapping or with `pread` gives the same
//! bits for every reduction, whatever the execution context asks for, and
//! `Access::Read` does read the file: the bytes this process read with
//! system calls (`rchar` of `/proc/self/io`; page faults of a mapping do not count)
//! grow by at least the view's size with `Access::Read`, and hardly at all with
//! `Access::Map` or for copy-on-write views.

mod common;

#[path = "../../../testing/skip.rs"]
mod skip;

use common::{Flavor, Rng, npy_with, random_values, same_bits, with_threads};
use mmarray_core::{CopyOnWrite, DynArray, Order, ReadWrite, View};
use mmarray_dtype::{Bool, ByteOrder, Complex64, Native, Value, f16};
use mmarray_ops::{Access, Elem, Exec, Op, ReduceOptions, count_nonzero, reduce, stats};

/// Bytes this process has read with system calls (`read`, `pread`, ...) so far:
/// `rchar` of `/proc/self/io`, or `None` where that cannot be read.
fn bytes_read() -> Option<u64> {
    std::fs::read_to_string("/proc/self/io")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("rchar:"))?
        .trim()
        .parse()
        .ok()
}

/// Runs `f` and returns its result with the bytes read by system calls meanwhile.
fn counting_reads<R>(f: impl FnOnce() -> R) -> (R, Option<u64>) {
    let before = bytes_read();
    let r = f();
    let after = bytes_read();
    (r, before.zip(after).map(|(b, a)| a.saturating_sub(b)))
}

/// Reads this small are not reads of a view's data (pieces of 64 KiB and more
/// are read; reading `/proc/self/io` itself, or the other test, reads a little).
const NOISE: u64 = 32 << 10;

/// A reduction of each kind (sum, extremum, arg-extremum, moments, count) and
/// `stats` of `view`, as values.
fn results<T: Elem>(view: &View<'_, T>) -> Vec<Value> {
    let ddof1 = ReduceOptions {
        skipna: false,
        ddof: 1,
    };
    let mut out: Vec<Value> = [
        (Op::Sum, ReduceOptions::default()),
        (Op::Min, ReduceOptions::default()),
        (Op::Argmax, ReduceOptions::default()),
        (Op::Var, ddof1),
    ]
    .iter()
    .map(|(op, opts)| reduce(view, *op, opts).expect("reduce"))
    .collect();
    out.push(Value::U64(count_nonzero(view).unwrap()));
    let s = stats(view, false).expect("stats");
    out.extend([s.sum, s.mean, s.std]);
    out.extend(s.min);
    out.extend(s.max);
    out
}

fn same_for_both_ways<T: Elem + Native>(dir: &std::path::Path, bo: ByteOrder, order: Order) {
    // Rows of just over 64 KiB, so that row pieces are long enough to be read
    // from the file, and a whole view of over 256 KiB, so that it is read in
    // several chunks, the last one partial.
    let cols = (64 << 10) / size_of::<T>() + 3;
    let rows = 5;
    let mut rng = Rng::new(7);
    let values: Vec<T> = random_values(&mut rng, rows * cols, Flavor::Wide);
    let name = format!("{}-{bo:?}-{order:?}.npy", T::KIND.name());
    drop(npy_with(dir, &name, &values, &[rows, cols], order, bo));
    let ro = common::open(&dir.join(&name));
    // SAFETY: the file is private to the test.
    let cow = unsafe { DynArray::<CopyOnWrite>::open(dir.join(&name)) }.expect("open c");
    let whole = ro.view::<T>().expect("view");
    assert!(whole.is_file_backed());
    assert!(!cow.view::<T>().expect("view").is_file_backed());
    let mut counted = false;
    for spec in ["...", "::2", "::-1", "1:-1, 5:"] {
        let view = whole.slice(spec).expect("slice");
        let ctx = format!("{name}[{spec}]");
        let (by_map, map_reads) = with_threads(2, || {
            Exec::new()
                .access(Access::Map)
                .run(|| counting_reads(|| results(&view)))
        });
        if let Some(n) = map_reads {
            assert!(n < NOISE, "{ctx}: {n} bytes read with Access::Map");
        }
        let private = cow.view::<T>().expect("view").slice(spec).expect("slice");
        for (threads, way) in [(2, Access::Read), (1, Access::Read)] {
            let (got, reads) = with_threads(threads, || {
                Exec::new().access(way).run(|| {
                    assert_eq!(Exec::current().access_policy(), way);
                    let (shared, shared_reads) = counting_reads(|| results(&view));
                    let (private, private_reads) = counting_reads(|| results(&private));
                    ((shared, private), shared_reads.zip(private_reads))
                })
            });
            for (a, b) in by_map.iter().zip(got.0.iter().chain(&got.1)) {
                assert!(
                    same_bits(a, b),
                    "{ctx}: {a:?} through the mapping, {b:?} with {way:?} on {threads} threads"
                );
            }
            if let Some((shared, private)) = reads {
                counted = true;
                // Copy-on-write views always use the mapping.
                assert!(
                    private < NOISE,
                    "{ctx}: {private} bytes read for a private view"
                );
                // A whole file-backed view is one long piece: read from the file.
                if spec == "..." {
                    let size = (view.len() * size_of::<T>()) as u64;
                    assert!(
                        shared >= size,
                        "{ctx}: only {shared} bytes read with {way:?} on {threads} threads, the view has {size}"
                    );
                }
            }
        }
    }
    if !counted {
        skip::skipped(
            "mapping_and_reads_agree_bit_for_bit",
            "no /proc/self/io: cannot check that Access::Read reads the file",
        );
    }
}

#[test]
fn mapping_and_reads_agree_bit_for_bit() {
    let dir = tempfile::tempdir().expect("tempdir");
    for bo in [ByteOrder::Little, ByteOrder::Big] {
        same_for_both_ways::<f64>(dir.path(), bo, Order::C);
        same_for_both_ways::<f16>(dir.path(), bo, Order::C);
        same_for_both_ways::<i32>(dir.path(), bo, Order::F);
        same_for_both_ways::<Complex64>(dir.path(), bo, Order::C);
    }
    same_for_both_ways::<u8>(dir.path(), ByteOrder::Little, Order::C);
    same_for_both_ways::<Bool>(dir.path(), ByteOrder::Little, Order::F);
}

#[test]
fn reads_see_writes_through_a_shared_mapping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let values: Vec<f64> = (0..40_000).map(f64::from).collect();
    let mut a: DynArray<ReadWrite> = npy_with(
        dir.path(),
        "w.npy",
        &values,
        &[values.len()],
        Order::C,
        ByteOrder::Little,
    );
    a.bytes_mut()[8..16].copy_from_slice(&(-5.0f64).to_le_bytes());
    let view = a.view::<f64>().expect("view");
    assert!(view.is_file_backed());
    let mut buf = [0u8; 16];
    assert!(view.read_region(0, &mut buf));
    assert_eq!(buf[8..], (-5.0f64).to_le_bytes());
    // Out of the region: refused, buffer untouched.
    let mut far = [7u8; 16];
    assert!(!view.read_region(values.len() * 8 - 8, &mut far));
    assert!(!view.read_region(usize::MAX, &mut far));
    assert_eq!(far, [7u8; 16]);
}
