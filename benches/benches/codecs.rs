//! Single-thread throughput of the `mmarray-dtype` codecs on 64 MiB buffers, next to `memcpy`
//! of the same bytes.
//!
//! `cargo bench -p mmarray-benches --bench codecs`. Throughput is counted in bytes of the
//! source (64 MiB for every row). Targets (issue 2): decoding big-endian f64 and f32 at no less
//! than half of `memcpy`; f16 -> f32 and f64 -> f32 casts at no less than a third of it.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, Throughput};
use half::f16;
use mmarray_dtype::{ByteOrder, DType, Kind, byteswap, cast_slice, convert, decode, encode};

/// Bytes of every source buffer.
const BYTES: usize = 64 << 20;

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Distinct, finite values (no NaN or subnormal slow paths), as a real file would hold.
fn f64_values(n: usize) -> Vec<f64> {
    (0..n).map(|i| (i as f64) * 0.37 - 1.0e6).collect()
}

/// The bytes of `values` in big-endian order.
fn big_endian_bytes<T: mmarray_dtype::Element>(values: &[T]) -> Vec<u8> {
    let mut bytes = vec![0u8; size_of_val(values)];
    encode(values, ByteOrder::Big, &mut bytes).expect("lengths agree");
    bytes
}

fn memcpy(group: &mut Group<'_>) {
    let src = big_endian_bytes(&f64_values(BYTES / 8));
    let mut dst = vec![0u8; BYTES];
    group.bench_function("memcpy", |b| {
        b.iter(|| dst.copy_from_slice(black_box(&src)));
    });
    black_box(&dst);
}

fn decode_big_endian(group: &mut Group<'_>) {
    let src = big_endian_bytes(&f64_values(BYTES / 8));
    let mut out = vec![0.0f64; BYTES / 8];
    group.bench_function("decode >f8", |b| {
        b.iter(|| decode(black_box(&src), ByteOrder::Big, &mut out).unwrap());
    });
    black_box(&out);
    drop(out);

    let values: Vec<f32> = f64_values(BYTES / 4).iter().map(|&x| x as f32).collect();
    let src = big_endian_bytes(&values);
    let mut out = vec![0.0f32; BYTES / 4];
    group.bench_function("decode >f4", |b| {
        b.iter(|| decode(black_box(&src), ByteOrder::Big, &mut out).unwrap());
    });
    black_box(&out);
}

fn byteswap_in_place(group: &mut Group<'_>) {
    let mut values = f64_values(BYTES / 8);
    group.bench_function("byteswap f64 in place", |b| {
        b.iter(|| byteswap(black_box(values.as_mut_slice())));
    });
    black_box(&values);
}

fn casts(group: &mut Group<'_>) {
    let halves: Vec<f16> = f64_values(BYTES / 2)
        .iter()
        .map(|&x| f16::from_f64(x * 1e-3))
        .collect();
    let mut out = vec![0.0f32; halves.len()];
    group.bench_function("cast f16->f32", |b| {
        b.iter(|| cast_slice(black_box(&halves), &mut out).unwrap());
    });
    black_box(&out);
    drop((halves, out));

    let doubles = f64_values(BYTES / 8);
    let mut out = vec![0.0f32; doubles.len()];
    group.bench_function("cast f64->f32", |b| {
        b.iter(|| cast_slice(black_box(&doubles), &mut out).unwrap());
    });
    black_box(&out);
    drop(out);

    // float64 -> float16 rounds once (to odd into float32 first, then F16C).
    let scaled: Vec<f64> = doubles.iter().map(|&x| x * 1e-3).collect();
    let mut out = vec![f16::ZERO; doubles.len()];
    group.bench_function("cast f64->f16", |b| {
        b.iter(|| cast_slice(black_box(&scaled), &mut out).unwrap());
    });
    black_box(&out);
}

fn convert_bytes(group: &mut Group<'_>) {
    let src = big_endian_bytes(&f64_values(BYTES / 8));
    let mut dst = vec![0u8; BYTES / 2];
    let (from, to) = (
        DType::new(Kind::F64, ByteOrder::Big),
        DType::new(Kind::F32, ByteOrder::Little),
    );
    group.bench_function("convert >f8 -> <f4", |b| {
        b.iter(|| convert(black_box(&src), from, &mut dst, to).unwrap());
    });
    black_box(&dst);
}

fn codecs(c: &mut Criterion) {
    let mut group = c.benchmark_group("codecs 64 MiB");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(BYTES as u64));
    memcpy(&mut group);
    decode_big_endian(&mut group);
    byteswap_in_place(&mut group);
    casts(&mut group);
    convert_bytes(&mut group);
    group.finish();
}

// `criterion_main!` without `criterion_group!`, whose generated function has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    codecs(&mut criterion);
    criterion.final_summary();
}
