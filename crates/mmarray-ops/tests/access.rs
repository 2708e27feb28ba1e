//! Reading a file-backed view through the mapping or with `pread` gives the same
//! bits for every reduction (one test function: `set_access` is process-wide).

mod common;

use common::{Flavor, Rng, npy_with, random_values, same_bits, with_threads};
use mmarray_core::{CopyOnWrite, DynArray, Order, ReadWrite, View};
use mmarray_dtype::{Bool, ByteOrder, Complex64, Native, Value, f16};
use mmarray_ops::{
    Access, Elem, Op, ReduceOptions, access, count_nonzero, reduce, set_access, stats,
};

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
    out.push(Value::U64(count_nonzero(view)));
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
    for spec in ["...", "::2", "::-1", "1:-1, 5:"] {
        let view = whole.slice(spec).expect("slice");
        let ctx = format!("{name}[{spec}]");
        let by_map = with_threads(2, || {
            set_access(Access::Map);
            results(&view)
        });
        let private = cow.view::<T>().expect("view").slice(spec).expect("slice");
        for (threads, way) in [(2, Access::Read), (1, Access::Read)] {
            let got = with_threads(threads, || {
                set_access(way);
                assert_eq!(access(), way);
                (results(&view), results(&private))
            });
            for (a, b) in by_map.iter().zip(got.0.iter().chain(&got.1)) {
                assert!(
                    same_bits(a, b),
                    "{ctx}: {a:?} through the mapping, {b:?} with {way:?} on {threads} threads"
                );
            }
        }
    }
    set_access(Access::Auto);
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
