//! Crash consistency: `mmarray` killed with SIGKILL at random points (fixed seeds, so
//! the points repeat) of `create`, `fill`, `convert` (to `.npy` and `.npz`), `slice`,
//! `reduce --out` and `append`. Afterwards:
//!
//! - a new file (create, convert, slice, reduce --out) is absent or complete, byte for
//!   byte what an uninterrupted run writes; nothing else is left under its name (a
//!   killed process cannot remove its hidden `.NAME.PID.N.mmarray-tmp` staging file,
//!   which is documented in docs/safety.md and checked to be the only leftover);
//! - a file written in place (fill) still opens with its header unchanged, data that an
//!   earlier, completed command wrote and flushed is intact, and every element the
//!   killed command was writing holds its old or its new value;
//! - a file being grown (append) opens with the old or the new length, never with a
//!   header that promises more data than the file has, its old data intact, and it can
//!   be grown again afterwards.
//!
//! A SIGKILL does not lose the page cache, so these tests show what a crash of the
//! process leaves; what a power cut leaves depends on what was `fsync`ed: staged files
//! are synced before their rename, and append syncs its data before the header.

mod reliability_util;

use std::path::Path;
use std::time::{Duration, Instant};

use reliability_util::{Rng, load, names, run, spawn};

/// The seeds of the kill points.
const SEEDS: [u64; 6] = [11, 23, 37, 41, 53, 67];

/// Runs a command to completion and returns how long it took.
#[track_caller]
fn completed(dir: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    run(dir, args).ok();
    start.elapsed()
}

/// Starts `args`, SIGKILLs it after `delay`, and returns whether it was killed (it may
/// have finished first, successfully).
#[track_caller]
fn kill_after(dir: &Path, args: &[&str], delay: Duration) -> bool {
    use std::os::unix::process::ExitStatusExt;
    let mut child = spawn(dir, args);
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    match status.signal() {
        Some(libc::SIGKILL) => true,
        None => {
            assert!(status.success(), "{args:?} failed on its own: {status:?}");
            false
        }
        Some(s) => panic!("{args:?} died of signal {s}"),
    }
}

/// Kill delays for each seed, spread over 0..150% of a run that took `full` (the
/// machine is shared, so a run may take longer than the timed one).
fn delays(full: Duration) -> impl Iterator<Item = Duration> {
    let span = (full.as_micros() as u64 * 3 / 2).max(1000);
    SEEDS
        .into_iter()
        .map(move |seed| Duration::from_micros(Rng(seed).range(0, span)))
}

/// What a killed writer of a new file left: `Some(true)` for the complete file (equal
/// to `expected`, and loadable), `Some(false)` for nothing. Any leftover besides the
/// inputs must be the writer's hidden staging file, which is removed here.
#[track_caller]
fn new_file_outcome(dir: &Path, name: &str, inputs: &[&str], expected: &[u8]) -> bool {
    let mut complete = false;
    for entry in names(dir) {
        if inputs.contains(&entry.as_str()) {
            continue;
        }
        if entry == name {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            assert!(
                bytes == expected,
                "{name} exists but is not the complete file ({} of {} bytes)",
                bytes.len(),
                expected.len()
            );
            if Path::new(name).extension().is_some_and(|e| e == "npy") {
                load(&dir.join(name)).expect("the complete file loads");
            }
            complete = true;
        } else {
            assert!(
                entry.starts_with(&format!(".{name}.")) && entry.ends_with(".mmarray-tmp"),
                "unexpected leftover {entry:?} (only a hidden staging file may remain)"
            );
        }
    }
    for entry in names(dir) {
        if !inputs.contains(&entry.as_str()) {
            std::fs::remove_file(dir.join(entry)).unwrap();
        }
    }
    complete
}

/// Kills `args` (which write `out` in `dir`, reading `inputs`) at each seed's point and
/// checks every outcome against `expected`; returns (killed, complete) counts.
#[track_caller]
fn kill_new_file_writer(
    dir: &Path,
    args: &[&str],
    out: &str,
    inputs: &[&str],
    expected: &[u8],
    full: Duration,
) -> (usize, usize) {
    let (mut killed, mut complete) = (0, 0);
    for delay in delays(full) {
        let was_killed = kill_after(dir, args, delay);
        killed += usize::from(was_killed);
        let done = new_file_outcome(dir, out, inputs, expected);
        assert!(was_killed || done, "{args:?} finished but left no {out}");
        complete += usize::from(done);
    }
    eprintln!(
        "{:?}: killed {killed} of {} runs, {complete} complete outputs, the rest none",
        args[0],
        SEEDS.len()
    );
    (killed, complete)
}

#[test]
fn a_killed_create_leaves_no_file_or_the_complete_file() {
    let args = [
        "create",
        "out.npy",
        "--dtype",
        "f8",
        "--shape",
        "1000,2000",
        "--random",
        "normal",
        "--seed",
        "7",
    ];
    let reference = tempfile::tempdir().unwrap();
    let full = completed(reference.path(), &args);
    let expected = std::fs::read(reference.path().join("out.npy")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    kill_new_file_writer(dir.path(), &args, "out.npy", &[], &expected, full);
    // A raw file, too.
    let raw = [
        "create",
        "out.dat",
        "--raw",
        "--dtype",
        ">f4",
        "--shape",
        "2000,1000",
        "--arange",
    ];
    let full = completed(reference.path(), &raw);
    let expected = std::fs::read(reference.path().join("out.dat")).unwrap();
    kill_new_file_writer(dir.path(), &raw, "out.dat", &[], &expected, full);
}

/// A folder with `in.npy`: 500 x 2000 standard normal float64 values (8 MB).
fn input() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            "create", "in.npy", "--dtype", "f8", "--shape", "500,2000", "--random", "normal",
            "--seed", "5",
        ],
    )
    .ok();
    dir
}

#[test]
fn a_killed_convert_slice_or_reduce_leaves_no_file_or_the_complete_file() {
    let dir = input();
    let d = dir.path();
    let before = std::fs::read(d.join("in.npy")).unwrap();
    let writers: [&[&str]; 3] = [
        &[
            "convert",
            "in.npy",
            "out.npy",
            "--out-dtype",
            ">f4",
            "--out-order",
            "F",
        ],
        &["slice", "in.npy", "out.npy", "::-1, 1:"],
        &[
            "reduce", "in.npy", "--op", "std", "--axis", "0", "--out", "out.npy",
        ],
    ];
    for args in writers {
        let full = completed(d, args);
        let expected = std::fs::read(d.join("out.npy")).unwrap();
        std::fs::remove_file(d.join("out.npy")).unwrap();
        kill_new_file_writer(d, args, "out.npy", &["in.npy"], &expected, full);
        assert_eq!(std::fs::read(d.join("in.npy")).unwrap(), before);
    }
}

#[test]
fn a_killed_convert_to_an_archive_leaves_no_file_or_the_complete_archive() {
    let dir = input();
    let d = dir.path();
    let before = std::fs::read(d.join("in.npy")).unwrap();
    let writers: [&[&str]; 2] = [
        // Stored, straight from the input.
        &["convert", "in.npy", "out.npz", "--member", "x"],
        // Deflated, through a staged temporary .npy of the converted values.
        &[
            "convert",
            "in.npy",
            "out.npz",
            "--compress",
            "--out-dtype",
            "f4",
        ],
    ];
    for args in writers {
        let full = completed(d, args);
        let expected = std::fs::read(d.join("out.npz")).unwrap();
        std::fs::remove_file(d.join("out.npz")).unwrap();
        kill_new_file_writer(d, args, "out.npz", &["in.npy"], &expected, full);
        assert_eq!(std::fs::read(d.join("in.npy")).unwrap(), before);
    }
}

fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn a_killed_fill_leaves_old_or_new_values_and_earlier_flushed_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = d.join("a.npy");
    // A complete file (element i holds i), then a completed fill of its first rows.
    run(
        d,
        &[
            "create",
            "a.npy",
            "--dtype",
            "f8",
            "--shape",
            "1500,2000",
            "--arange",
        ],
    )
    .ok();
    run(d, &["fill", "a.npy", "2.5", "--slice", ":10"]).ok();
    let header = std::fs::read(&path).unwrap()[..128].to_vec();
    let args = ["fill", "a.npy", "-1.5", "--slice", "100:"];
    // Time a run on a copy, so that the file under test starts unfilled.
    std::fs::copy(&path, d.join("b.npy")).unwrap();
    let full = completed(d, &["fill", "b.npy", "-1.5", "--slice", "100:"]);
    std::fs::remove_file(d.join("b.npy")).unwrap();
    let mut killed = 0;
    for delay in delays(full) {
        killed += usize::from(kill_after(d, &args, delay));
        let a = load(&path).expect("the file opens after a killed fill");
        assert_eq!(a.shape, [1500, 2000]);
        assert_eq!(std::fs::read(&path).unwrap()[..128], header[..]);
        let values = f64s(&a.data);
        let (mut old, mut new) = (0usize, 0usize);
        for (i, &v) in values.iter().enumerate() {
            if i < 10 * 2000 {
                assert_eq!(v, 2.5, "element {i}: flushed data lost");
            } else if i < 100 * 2000 {
                assert_eq!(v, i as f64, "element {i} outside the slice changed");
            } else if v == i as f64 {
                old += 1;
            } else {
                assert_eq!(v, -1.5, "element {i} is neither old nor new");
                new += 1;
            }
        }
        assert_eq!(
            names(d),
            ["a.npy"],
            "fill works in place: nothing else appears"
        );
        let _ = (old, new);
    }
    eprintln!("fill: killed {killed} of {} runs", SEEDS.len());
}

#[test]
fn a_killed_append_leaves_the_old_or_the_new_length() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = d.join("a.npy");
    run(
        d,
        &[
            "create", "a.npy", "--dtype", "f8", "--shape", "500,2000", "--arange",
        ],
    )
    .ok();
    let original = load(&path).unwrap().data;
    // Time one append on a copy.
    std::fs::copy(&path, d.join("b.npy")).unwrap();
    let full = completed(d, &["append", "b.npy", "--rows", "1000", "--fill", "3"]);
    std::fs::remove_file(d.join("b.npy")).unwrap();
    let mut rows = 500;
    let (mut killed, mut grown) = (0, 0);
    for delay in delays(full) {
        killed += usize::from(kill_after(
            d,
            &["append", "a.npy", "--rows", "1000", "--fill", "3"],
            delay,
        ));
        // Opening checks that the file holds all the data its header promises.
        let a = load(&path).expect("the file opens after a killed append");
        assert_eq!(a.shape[1], 2000);
        assert!(
            a.shape[0] == rows || a.shape[0] == rows + 1000,
            "{rows} rows before, {} after",
            a.shape[0]
        );
        if a.shape[0] != rows {
            grown += 1;
        }
        rows = a.shape[0];
        assert_eq!(a.data[..original.len()], original[..], "old data changed");
        // New rows are zeros until the fill reaches them.
        assert!(
            f64s(&a.data[original.len()..])
                .iter()
                .all(|&v| v == 0.0 || v == 3.0)
        );
        let file_len = std::fs::metadata(&path).unwrap().len();
        assert!(file_len >= 128 + a.data.len() as u64);
        assert_eq!(names(d), ["a.npy"]);
    }
    eprintln!(
        "append: killed {killed} of {} runs, {grown} grew",
        SEEDS.len()
    );
    // The file still grows as it should, zeroing whatever a killed append left
    // after its data.
    run(d, &["append", "a.npy", "--rows", "1", "--fill", "4"]).ok();
    let a = load(&path).unwrap();
    assert_eq!(a.shape, [rows + 1, 2000]);
    let values = f64s(&a.data);
    assert!(values[values.len() - 2000..].iter().all(|&v| v == 4.0));
}
