//! Concurrency between processes: two processes with one file open read-write see
//! each other's flushed writes, disjoint writers do not disturb each other, and a
//! reader never sees a header that promises more data than the file holds while
//! another process appends to it.
//!
//! (Within one process, a second, conflicting mapping of a file is refused with
//! `Error::Busy`: `registry_refuses_conflicting_mappings_of_one_file` in
//! `crates/mmarray-core/tests/arrays.rs`.)

mod reliability_util;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mmarray_core::{DynArray, ReadWrite};
use reliability_util::run;
use serde_json::Value as Json;

fn f64_at(bytes: &[u8], offset: usize) -> f64 {
    f64::from_le_bytes(bytes[offset..offset + 8].try_into().unwrap())
}

#[test]
fn two_processes_with_one_file_open_read_write_see_each_others_flushed_writes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = d.join("a.npy");
    run(
        d,
        &["create", "a.npy", "--dtype", "f8", "--shape", "100,50"],
    )
    .ok();

    // SAFETY: the file is private to this test; the other process (the CLI) only
    // writes elements that this process does not access while it runs.
    let mut array = unsafe { DynArray::<ReadWrite>::open(&path) }.unwrap();
    {
        let mut view = array.view_mut::<f64>().unwrap();
        for j in 0..4 {
            view.set(&[3, j], 10.0 + j as f64).unwrap();
        }
    }
    array.flush().unwrap();

    // This process still has the file mapped read-write; the CLI sees the writes.
    let shown = run(d, &["show", "a.npy", "--slice", "3, :5"]);
    assert_eq!(shown.ok(), "memmap([10., 11., 12., 13.,  0.])\n");
    let stats: Json = serde_json::from_str(run(d, &["stats", "a.npy", "--json"]).ok()).unwrap();
    assert_eq!(stats["sum"], 46.0);

    // The CLI opens the same file read-write and writes; once it has exited (and so
    // flushed), this process sees the values through the file and its own mapping.
    run(d, &["fill", "a.npy", "7", "--slice", "5"]).ok();
    let bytes = std::fs::read(&path).unwrap();
    let row5 = 128 + 5 * 50 * 8;
    assert!((0..50).all(|j| f64_at(&bytes, row5 + 8 * j) == 7.0));
    {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(&path).unwrap();
        let mut buf = [0u8; 8];
        file.read_exact_at(&mut buf, (row5 + 8 * 49) as u64)
            .unwrap();
        assert_eq!(f64::from_le_bytes(buf), 7.0);
    }
    let view = array.view::<f64>().unwrap();
    assert_eq!(view.get(&[5, 0]).unwrap(), 7.0);
    assert_eq!(view.get(&[3, 2]).unwrap(), 12.0);
    assert_eq!(view.get(&[4, 0]).unwrap(), 0.0);
    drop(view);
    array.close().unwrap();
}

#[test]
fn concurrent_writers_of_disjoint_slices_both_land() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(
        d,
        &["create", "a.npy", "--dtype", "<i4", "--shape", "1000,1000"],
    )
    .ok();
    let children: Vec<_> = [("1", "::2"), ("2", "1::2")]
        .into_iter()
        .map(|(value, rows)| reliability_util::spawn(d, &["fill", "a.npy", value, "--slice", rows]))
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let bytes = std::fs::read(d.join("a.npy")).unwrap();
    for (row, chunk) in bytes[128..].chunks_exact(4000).enumerate() {
        let expected = if row % 2 == 0 { 1 } else { 2 };
        assert!(
            chunk
                .chunks_exact(4)
                .all(|c| i32::from_le_bytes(c.try_into().unwrap()) == expected),
            "row {row}"
        );
    }
}

#[test]
fn a_reader_never_sees_a_header_ahead_of_the_data_while_another_process_appends() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = d.join("a.npy");
    run(
        d,
        &[
            "create", "a.npy", "--dtype", "f8", "--shape", "1,64", "--fill", "1",
        ],
    )
    .ok();
    let done = AtomicBool::new(false);
    let appends = std::thread::scope(|s| {
        // This process appends one row at a time, as fast as it can.
        let writer = s.spawn(|| {
            // SAFETY: the other processes only read the file; appending never changes
            // bytes that they may have mapped (the data grows past their mappings, the
            // header is read, not mapped).
            let mut array = unsafe { DynArray::<ReadWrite>::open(&path) }.unwrap();
            let start = Instant::now();
            let mut n = 0;
            while !done.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(20) {
                array.append_zeroed(1).unwrap();
                n += 1;
            }
            array.close().unwrap();
            n
        });
        // Other processes read the header and map the data meanwhile.
        let mut last_rows = 0;
        for i in 0..120 {
            let args: &[&str] = if i % 3 == 2 {
                &["stats", "a.npy", "--json"]
            } else {
                &["info", "a.npy", "--json"]
            };
            let out = run(d, args);
            let json: Json = serde_json::from_str(out.ok()).unwrap();
            if args[0] == "info" {
                let offset = json["data_offset"].as_u64().unwrap();
                let nbytes = json["nbytes"].as_u64().unwrap();
                let file_size = json["file_size"].as_u64().unwrap();
                assert!(file_size >= offset + nbytes, "{json}");
                let rows = json["shape"][0].as_u64().unwrap();
                assert!(rows >= last_rows, "the array shrank: {json}");
                last_rows = rows;
            } else {
                // The first row is ones, the appended ones zeros.
                assert_eq!(json["sum"], 64.0, "{json}");
            }
        }
        done.store(true, Ordering::Relaxed);
        writer.join().unwrap()
    });
    let rows = reliability_util::load(&path).unwrap().shape[0];
    assert_eq!(rows, 1 + appends);
    eprintln!("{appends} appends while 120 readers ran");
}
