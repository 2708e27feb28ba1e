//! Single-thread throughput of whole-array sums over 64 MiB in memory (no file):
//! float16 (little- and big-endian), and float64 big- and little-endian for scale.
//!
//! A second group sums 1 GiB `.npy` files through their mapping (in the page
//! cache, larger than the CPU's caches), as the CLI does: there the loads from
//! memory add to the kernel's own time.
//!
//! `cargo bench -p mmarray-benches --bench sums`. Throughput is counted in bytes
//! of the array (64 MiB, or 1 GiB, for every row). Targets (issue 15): the float16 sum at 10x
//! numpy's and the big-endian float64 sum at 2x; the whole-command ratios come
//! from `cargo xtask bench --ops sum_f16,sum_be,sum`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, Throughput};
use half::f16;
use mmarray_core::{DynArray, Order, ReadOnly, ReadWrite, View};
use mmarray_dtype::{ByteOrder, Element, encode};
use mmarray_ops::{Exec, Op, ReduceOptions, reduce};

/// Bytes of every array in memory.
const BYTES: usize = 64 << 20;

/// Bytes of every mapped file.
const FILE_BYTES: usize = 1 << 30;

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Distinct finite values in [-1000, 1000), as a real file would hold.
fn values(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (i as f64 * 0.37) % 2000.0 - 1000.0)
        .collect()
}

/// Times `sum` over `values` stored in `order`, on one thread.
fn sum_row<T: Element + mmarray_ops::Elem>(
    group: &mut Group<'_>,
    name: &str,
    values: &[T],
    order: ByteOrder,
) {
    let mut bytes = vec![0u8; size_of_val(values)];
    encode(values, order, &mut bytes).expect("lengths agree");
    let view = View::<T>::from_bytes(&bytes, &[values.len()], Order::C, order).expect("view");
    let one = Exec::new().threads(1).expect("one thread");
    let opts = ReduceOptions::default();
    group.bench_function(name, |b| {
        b.iter(|| one.run(|| reduce(black_box(&view), Op::Sum, &opts).expect("sum")));
    });
}

fn sums(c: &mut Criterion) {
    let mut group = c.benchmark_group("sum 64 MiB, 1 thread");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(BYTES as u64));
    let halves: Vec<f16> = values(BYTES / 2)
        .iter()
        .map(|&x| f16::from_f64(x))
        .collect();
    sum_row(&mut group, "sum <f2", &halves, ByteOrder::Little);
    sum_row(&mut group, "sum >f2", &halves, ByteOrder::Big);
    drop(halves);
    let doubles = values(BYTES / 8);
    sum_row(&mut group, "sum >f8", &doubles, ByteOrder::Big);
    sum_row(&mut group, "sum <f8", &doubles, ByteOrder::Little);
    group.finish();
}

/// Times `sum` over a 1 GiB `.npy` file of `values` (repeated) in byte order
/// `order`, mapped read-only, on one thread; the file is removed afterwards.
fn mapped_row<T: Element + mmarray_ops::Elem>(
    group: &mut Group<'_>,
    name: &str,
    values: &[T],
    order: ByteOrder,
) {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "sums-{}.npy",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    ));
    let n = FILE_BYTES / size_of::<T>();
    let dtype = mmarray_dtype::DType::new(T::KIND, order);
    // SAFETY: the file is private to this benchmark while it runs.
    let mut a =
        unsafe { DynArray::<ReadWrite>::create(&path, dtype, &[n], Order::C).expect("create") };
    let mut piece = vec![0u8; size_of_val(values)];
    encode(values, order, &mut piece).expect("lengths agree");
    for (dst, src) in a
        .bytes_mut()
        .chunks_mut(piece.len())
        .zip(std::iter::repeat(&piece))
    {
        dst.copy_from_slice(&src[..dst.len()]);
    }
    a.close().expect("close");
    // SAFETY: as above.
    let a = unsafe { DynArray::<ReadOnly>::open(&path).expect("open") };
    let view = a.view::<T>().expect("view");
    let one = Exec::new().threads(1).expect("one thread");
    let opts = ReduceOptions::default();
    group.bench_function(name, |b| {
        b.iter(|| one.run(|| reduce(black_box(&view), Op::Sum, &opts).expect("sum")));
    });
    drop(a);
    let _ = std::fs::remove_file(&path);
}

fn mapped_sums(c: &mut Criterion) {
    let mut group = c.benchmark_group("sum 1 GiB mapped file, 1 thread");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(FILE_BYTES as u64));
    let halves: Vec<f16> = values(1 << 20).iter().map(|&x| f16::from_f64(x)).collect();
    mapped_row(&mut group, "file sum <f2", &halves, ByteOrder::Little);
    mapped_row(
        &mut group,
        "file sum <f8",
        &values(1 << 20),
        ByteOrder::Little,
    );
    group.finish();
}

// `criterion_main!` without `criterion_group!`, whose generated function has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    sums(&mut criterion);
    mapped_sums(&mut criterion);
    criterion.final_summary();
}
