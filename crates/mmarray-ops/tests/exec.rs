//! Execution contexts are per call: progress goes to the context current on the
//! calling thread (never to another thread's), and a context's thread count and
//! access mode change nothing in the results.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{Flavor, Rng, encode_bytes, random_values, same_bits};
use mmarray_core::{Order, View, ViewMut};
use mmarray_dtype::ByteOrder;
use mmarray_ops::{
    Access, Exec, Op, Progress, ReduceOptions, fill, reduce, reduce_axis_view, stats,
};

/// A progress sink that counts bytes.
#[derive(Default)]
struct Count(AtomicU64);

impl Progress for Count {
    fn advance(&self, bytes: u64) {
        self.0.fetch_add(bytes, Ordering::Relaxed);
    }
}

impl Count {
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[test]
fn every_streaming_operation_reports_its_bytes_to_the_context() {
    let mut rng = Rng::new(3);
    let n = 3 << 18; // 6 MiB of f64: several segments
    let values: Vec<f64> = random_values(&mut rng, n, Flavor::Wide);
    let mut bytes = encode_bytes(&values, ByteOrder::Big);
    let nbytes = bytes.len() as u64;
    let count = Arc::new(Count::default());
    let exec = Exec::new().progress(count.clone());
    {
        let v = View::<f64>::from_bytes(&bytes, &[n], Order::C, ByteOrder::Big).unwrap();
        exec.run(|| reduce(&v, Op::Sum, &ReduceOptions::default()).unwrap());
        assert_eq!(count.get(), nbytes, "sum");
        exec.run(|| stats(&v, false).unwrap());
        assert_eq!(count.get(), 2 * nbytes, "stats");
        // Outside the context nothing is reported.
        reduce(&v, Op::Max, &ReduceOptions::default()).unwrap();
        assert_eq!(count.get(), 2 * nbytes, "no context");
        let m = View::<f64>::from_bytes(&bytes, &[n / 512, 512], Order::C, ByteOrder::Big).unwrap();
        for axis in [0, 1] {
            let before = count.get();
            exec.run(|| reduce_axis_view(&m, Op::Mean, axis, &ReduceOptions::default()).unwrap());
            assert_eq!(count.get() - before, nbytes, "mean along axis {axis}");
        }
    }
    let before = count.get();
    let v = ViewMut::<f64>::from_bytes(&mut bytes, &[n], Order::C, ByteOrder::Big).unwrap();
    exec.run(|| fill(v, 1.5));
    assert_eq!(count.get() - before, nbytes, "fill");
}

#[test]
fn contexts_of_two_threads_do_not_mix() {
    let mut rng = Rng::new(4);
    let n = 1 << 20;
    let values: Vec<f32> = random_values(&mut rng, n, Flavor::Wide);
    let bytes = encode_bytes(&values, ByteOrder::Little);
    let v = View::<f32>::from_bytes(&bytes, &[n], Order::C, ByteOrder::Little).unwrap();
    let (a, b) = (Arc::new(Count::default()), Arc::new(Count::default()));
    std::thread::scope(|s| {
        for (count, rounds) in [(&a, 3u64), (&b, 5)] {
            let v = v.clone();
            s.spawn(move || {
                let exec = Exec::new().progress(count.clone());
                for _ in 0..rounds {
                    exec.run(|| reduce(&v, Op::Sum, &ReduceOptions::default()).unwrap());
                }
            });
        }
    });
    let nbytes = bytes.len() as u64;
    assert_eq!((a.get(), b.get()), (3 * nbytes, 5 * nbytes));
}

#[test]
fn thread_counts_and_access_modes_give_the_same_bits() {
    let mut rng = Rng::new(5);
    let n = 5 << 17;
    let values: Vec<f64> = random_values(&mut rng, n, Flavor::Nans);
    let bytes = encode_bytes(&values, ByteOrder::Little);
    let v = View::<f64>::from_bytes(&bytes, &[n / 640, 640], Order::C, ByteOrder::Little).unwrap();
    let run = |exec: &Exec| {
        exec.run(|| {
            let sum = reduce(&v, Op::Sum, &ReduceOptions::default()).unwrap();
            let std = reduce(
                &v,
                Op::Std,
                &ReduceOptions {
                    skipna: true,
                    ddof: 1,
                },
            )
            .unwrap();
            let axis = reduce_axis_view(&v, Op::Sum, 0, &ReduceOptions::default()).unwrap();
            (sum, std, axis.data)
        })
    };
    let one = run(&Exec::new().threads(1).unwrap());
    for exec in [
        Exec::new().threads(2).unwrap(),
        Exec::new().threads(7).unwrap().access(Access::Read),
        Exec::new().access(Access::Map),
    ] {
        let other = run(&exec);
        assert!(
            same_bits(&one.0, &other.0) && same_bits(&one.1, &other.1),
            "{exec:?}"
        );
        assert!(one.2 == other.2, "{exec:?}: axis sums differ");
    }
    assert_eq!(Exec::new().threads(7).unwrap().threads_used(), 7);
    // Refused before any thread starts.
    assert!(Exec::new().threads(mmarray_ops::MAX_THREADS + 1).is_err());
    assert!(Exec::new().threads(usize::MAX).is_err());
}

/// A progress sink that sets a stop flag on its first report.
struct StopOnFirst(Arc<std::sync::atomic::AtomicBool>);

impl Progress for StopOnFirst {
    fn advance(&self, _: u64) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[test]
fn a_set_stop_flag_interrupts_every_operation_before_it_starts() {
    use mmarray_core::chunk::{Chunked, MemoryChunks};
    use mmarray_ops::{ConvertOptions, Error, convert_chunked, fill_with};
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let exec = Exec::new().stop_when(stop.clone());
    let mut bytes = vec![0u8; 8 << 20];
    let v = View::<f64>::from_bytes(&bytes, &[1024, 1024], Order::C, ByteOrder::Little).unwrap();
    let opts = ReduceOptions::default();
    let interrupted = |r: Result<(), Error>| matches!(r, Err(Error::Interrupted));
    assert!(interrupted(
        exec.run(|| reduce(&v, Op::Sum, &opts)).map(|_| ())
    ));
    assert!(interrupted(exec.run(|| stats(&v, false)).map(|_| ())));
    assert!(interrupted(
        exec.run(|| reduce_axis_view(&v, Op::Sum, 0, &opts))
            .map(|_| ())
    ));
    assert!(interrupted(
        exec.run(|| reduce_axis_view(&v, Op::Max, 1, &opts))
            .map(|_| ())
    ));
    let c = Chunked::new(Box::new(
        MemoryChunks::from_view(&v, &[100, 300], Order::C).unwrap(),
    ));
    let cv = c.view::<f64>().unwrap();
    assert!(interrupted(
        exec.run(|| reduce(&cv, Op::Mean, &opts)).map(|_| ())
    ));
    assert!(interrupted(
        exec.run(|| reduce_axis_view(&cv, Op::Sum, 0, &opts))
            .map(|_| ())
    ));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let copts = ConvertOptions {
        dtype: "<f4".parse().unwrap(),
        order: Order::C,
        raw: false,
        overwrite: false,
    };
    assert!(interrupted(exec.run(|| convert_chunked(&c, &out, &copts))));
    assert!(!out.exists(), "an interrupted conversion leaves no file");
    // Writes that cannot fail stop before writing anything.
    let w =
        ViewMut::<f64>::from_bytes(&mut bytes, &[1024, 1024], Order::C, ByteOrder::Little).unwrap();
    exec.run(|| fill(w, 1.0));
    assert!(bytes.iter().all(|&b| b == 0));
    let mut c = c;
    let r = exec.run(|| fill_with(c.view_mut::<f64>().unwrap(), |i| i as f64));
    assert!(matches!(r, Err(Error::Interrupted)));
    assert_eq!(
        c.view::<f64>().unwrap().to_vec().unwrap(),
        vec![0.0; 1 << 20]
    );
    // Cleared, the same context runs.
    stop.store(false, Ordering::Relaxed);
    let v = View::<f64>::from_bytes(&bytes, &[1024, 1024], Order::C, ByteOrder::Little).unwrap();
    assert_eq!(
        exec.run(|| reduce(&v, Op::Sum, &opts)).unwrap(),
        mmarray_dtype::Value::F64(0.0)
    );
}

#[test]
fn a_stop_flag_set_during_a_reduction_stops_it_at_the_next_batch() {
    // More than one batch of segments (64 MiB): the first batch reports, which
    // sets the flag; the second batch does not start.
    let bytes = vec![0u8; 130 << 20];
    let v = View::<u8>::from_bytes(&bytes, &[bytes.len()], Order::C, ByteOrder::Little).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let exec = Exec::new()
        .stop_when(stop.clone())
        .progress(Arc::new(StopOnFirst(stop.clone())));
    let r = exec.run(|| reduce(&v, Op::Sum, &ReduceOptions::default()));
    assert!(matches!(r, Err(mmarray_ops::Error::Interrupted)), "{r:?}");
    assert!(stop.load(Ordering::Relaxed));
}
