//! Staged stores and signals: stale staged folders of dead processes are
//! removed, and `abandon_staged` (for a program exiting on a signal) removes the
//! stores being written and refuses new ones. One test in its own binary: the
//! abandonment is process-wide and final.

mod common;

use std::fs;
use std::sync::Barrier;

use mmarray_core::{Error, Order, Result, View};
use mmarray_dtype::{ByteOrder, DType};
use mmarray_zarr::{BlockSource, CreateOptions};

/// A source that waits at a barrier (twice) while its first block is read, so
/// that the test can abandon the conversion in the middle.
struct Slow<'a> {
    view: View<'a, u8>,
    barrier: &'a Barrier,
}

impl BlockSource<u8> for Slow<'_> {
    fn block_shape(&self) -> &[usize] {
        self.view.shape()
    }
    fn block_dtype(&self) -> DType {
        self.view.dtype()
    }
    fn block_order(&self) -> Order {
        Order::C
    }
    fn block(&self, start: &[usize], shape: &[usize]) -> Result<Vec<u8>> {
        if start[0] == 0 {
            self.barrier.wait();
            self.barrier.wait();
        }
        <View<'_, u8> as BlockSource<u8>>::block(&self.view, start, shape)
    }
}

#[test]
fn stale_and_abandoned_staged_stores_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    // A staged folder of a process that is gone (no pid is that large), one of a
    // live process (this one's parent... any live pid: 1), and a stranger.
    let stale = dir.path().join(".x.zarr.999999999.3.mmarray-zarr-tmp");
    let live = dir.path().join(".x.zarr.1.3.mmarray-zarr-tmp");
    let other = dir.path().join(".x.zarr.999999999.3.mmarray-tmp");
    for d in [&stale, &live, &other] {
        fs::create_dir_all(d.join("c/0")).unwrap();
    }
    let v: Vec<u8> = (0..64).collect();
    let view = View::<u8>::from_bytes(&v, &[8, 8], Order::C, ByteOrder::NATIVE).unwrap();
    mmarray_zarr::convert(&view, dir.path().join("a.zarr"), &CreateOptions::new()).unwrap();
    assert!(!stale.exists() && live.exists() && other.exists());

    // Abandon a conversion in the middle: its folder goes, nothing appears.
    let barrier = Barrier::new(2);
    let slow = Slow {
        view: view.clone(),
        barrier: &barrier,
    };
    let target = dir.path().join("b.zarr");
    std::thread::scope(|s| {
        let job = s
            .spawn(|| mmarray_zarr::convert(&slow, &target, &CreateOptions::new().chunks(&[2, 8])));
        barrier.wait();
        let staged: Vec<String> = common::names(dir.path())
            .into_iter()
            .filter(|n| n.starts_with(".b.zarr."))
            .collect();
        assert_eq!(staged.len(), 1, "{staged:?}");
        assert_eq!(mmarray_zarr::abandon_staged(), 1);
        barrier.wait();
        let err = job.join().unwrap().unwrap_err();
        assert!(
            matches!(err, Error::Interrupted { .. }) || err.to_string().contains("b.zarr"),
            "{err}"
        );
    });
    assert!(!target.exists());
    assert!(
        common::names(dir.path())
            .iter()
            .all(|n| !n.starts_with(".b.zarr."))
    );
    // Later conversions are refused.
    let err =
        mmarray_zarr::convert(&view, dir.path().join("c.zarr"), &CreateOptions::new()).unwrap_err();
    assert!(matches!(err, Error::Interrupted { .. }), "{err}");
    assert!(!dir.path().join("c.zarr").exists());
}
