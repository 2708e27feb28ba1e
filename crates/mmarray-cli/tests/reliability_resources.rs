//! Resources: creating or growing a file larger than the free space fails up front
//! with a clear error and leaves nothing behind, never a SIGBUS later; sizes beyond
//! what any file or address space can hold are refused as too large.
//!
//! The small-filesystem cases mount a 16 MiB tmpfs (they need root and permission to
//! mount; where mounting is impossible they print a `SKIPPED:` line, counted by
//! `cargo xtask test`); the same cases run everywhere, without a mount, under a 16 MiB
//! file-size limit (`RLIMIT_FSIZE`); the petabyte cases run everywhere. Streaming over files larger than RAM is shown by the benchmarks'
//! `--huge` run (`cargo xtask bench --help`, docs/benchmarks.md).

mod reliability_util;

#[path = "../../../testing/skip.rs"]
mod skip;

use std::path::{Path, PathBuf};
use std::process::Command;

use reliability_util::{Outcome, load, names, run_limited, run_limited_file_size, snapshot};

#[test]
fn a_petabyte_create_fails_up_front_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 8 PB: more than any disk here and more than ext4/xfs allow in one file.
    let huge: [&[&str]; 6] = [
        &[
            "create",
            "x.npy",
            "--dtype",
            "f8",
            "--shape",
            "1000000000000000",
        ],
        &[
            "create",
            "x.npy",
            "--dtype",
            "f8",
            "--shape",
            "1000000,1000000000",
            "--order",
            "F",
        ],
        &[
            "create",
            "x.npy",
            "--dtype",
            "f8",
            "--shape",
            "1000000000000000",
            "--random",
            "normal",
            "--seed",
            "1",
        ],
        &[
            "create",
            "x.npy",
            "--dtype",
            "i2",
            "--shape",
            "4000000000000000",
            "--fill",
            "-3",
        ],
        &[
            "create",
            "x.npy",
            "--dtype",
            "u1",
            "--shape",
            "8000000000000000",
            "--arange",
        ],
        &[
            "create",
            "x.dat",
            "--raw",
            "--dtype",
            "c16",
            "--shape",
            "500000000000000",
        ],
    ];
    for args in huge {
        let run = run_limited(d, args);
        let line = run.fails_cleanly(args[1]);
        assert!(
            line.contains("disk full?")
                || line.contains("too large")
                || line.contains("File too large"),
            "{line}"
        );
        assert!(names(d).is_empty(), "{args:?} left {:?}", names(d));
    }
    // Beyond isize::MAX bytes: refused before any file is made.
    let run = run_limited(
        d,
        &[
            "create",
            "x.npy",
            "--dtype",
            "f8",
            "--shape",
            "4611686018427387904,4",
        ],
    );
    assert!(run.fails_cleanly("x.npy").contains("too large"));
    assert!(names(d).is_empty());
}

#[test]
fn growing_past_what_the_filesystem_allows_fails_and_keeps_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_limited(
        d,
        &["create", "a.npy", "--dtype", "f8", "--shape", "4,1000"],
    )
    .ok();
    let before = snapshot(&d.join("a.npy"));
    let line = run_limited(
        d,
        &["append", "a.npy", "--rows", "1000000000000", "--fill", "1"],
    )
    .fails_cleanly("a.npy");
    assert!(
        line.contains("disk full?") || line.contains("too large"),
        "{line}"
    );
    assert_eq!(load(&d.join("a.npy")).unwrap().shape, [4, 1000]);
    assert_eq!(snapshot(&d.join("a.npy")).0, before.0);
}

/// A 16 MiB tmpfs mounted on a fresh folder, unmounted when dropped.
struct SmallFs {
    dir: tempfile::TempDir,
}

impl SmallFs {
    fn mount() -> Result<SmallFs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(SmallFs { dir })
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn on_a_full_filesystem_writers_fail_cleanly_and_leave_nothing() {
    let fs = match SmallFs::mount() {
        Ok(fs) => fs,
        Err(e) => {
            skip::skipped(
                "on_a_full_filesystem_writers_fail_cleanly_and_leave_nothing",
                &format!(
                    "cannot mount a 16 MiB tmpfs here ({e}); the RLIMIT_FSIZE test covers the same cases"
                ),
            );
            return;
        }
    };
    small_space_cases(fs.path(), "No space left", |d, args| run_limited(d, args));
}

#[test]
fn under_a_file_size_limit_writers_fail_cleanly_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    small_space_cases(dir.path(), "File too large", |d, args| {
        run_limited_file_size(d, args, 16 << 20)
    });
}

/// Writers where only 16 MiB fit (a full filesystem, or a file-size limit), run
/// by `run`: what does not fit fails cleanly with `reason` and leaves nothing, what
/// fits works.
fn small_space_cases(d: &Path, reason: &str, run: impl Fn(&Path, &[&str]) -> Outcome) {
    // 64 MiB does not fit in 16 MiB: refused at creation, nothing left.
    for args in [
        &["create", "big.npy", "--dtype", "f8", "--shape", "8388608"][..],
        &[
            "create", "big.npy", "--dtype", "f8", "--shape", "8388608", "--random", "uniform",
            "--seed", "2",
        ],
        &[
            "create", "big.dat", "--raw", "--dtype", "u1", "--shape", "67108864", "--fill", "9",
        ],
    ] {
        let line = run(d, args).fails_cleanly(args[1]);
        assert!(
            line.contains("disk full?") && line.contains(reason),
            "{line}"
        );
        assert!(names(d).is_empty(), "{args:?} left {:?}", names(d));
    }
    // 8 MiB fits; its blocks are reserved, so filling it cannot SIGBUS.
    run(
        d,
        &[
            "create",
            "a.npy",
            "--dtype",
            "f8",
            "--shape",
            "1024,1024",
            "--arange",
        ],
    )
    .ok();
    run(d, &["fill", "a.npy", "2", "--slice", "::3"]).ok();
    let before = snapshot(&d.join("a.npy"));
    // Converting it to a 16 MiB complex128 file (plus the header) does not fit.
    let line = run(d, &["convert", "a.npy", "b.npy", "--out-dtype", "c16"]).fails_cleanly("a.npy");
    assert!(line.contains("disk full?"), "{line}");
    // Neither does growing it to 16 MiB: the file keeps its old length and data.
    let line = run(d, &["append", "a.npy", "--rows", "1024", "--fill", "5"]).fails_cleanly("a.npy");
    assert!(line.contains("disk full?"), "{line}");
    assert_eq!(names(d), ["a.npy"]);
    assert_eq!(snapshot(&d.join("a.npy")).0, before.0);
    assert_eq!(load(&d.join("a.npy")).unwrap().shape, [1024, 1024]);
    // What fits still works.
    run(d, &["slice", "a.npy", "s.npy", ":100"]).ok();
    run(d, &["append", "a.npy", "--rows", "10", "--fill", "5"]).ok();
    assert_eq!(load(&d.join("a.npy")).unwrap().shape, [1034, 1024]);
    let _: PathBuf = d.join("s.npy");
}
