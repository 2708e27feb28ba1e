//! Staged files and the process-wide staging list: stale temporaries of dead
//! processes are removed by the next `create_staged` in their folder (those of
//! live processes are kept), and `abandon_staged` removes the temporaries in
//! flight and stops later staging.
//!
//! `abandon_staged` is final for the whole process, so it runs in this test
//! binary of its own, in a single test function.

use std::path::Path;
use std::process::Command;

use mmarray_core::{CreateOptions, DynArray, Error, Order, ReadWrite};

fn create_staged(path: &Path) -> Result<DynArray<ReadWrite>, Error> {
    // SAFETY: the files are private to this test.
    unsafe {
        DynArray::create_staged(
            path,
            "<f8".parse().unwrap(),
            &[100],
            Order::C,
            &CreateOptions::new(),
        )
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The pid of a process that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn stale_temporaries_go_and_abandoning_stops_staging() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // Leftovers of a dead process, of a live one, of this one, and look-alikes.
    let dead = dead_pid();
    let mut live = Command::new("sleep").arg("60").spawn().unwrap();
    let me = std::process::id();
    let stale = [
        format!(".out.npy.{dead}.17.mmarray-tmp"),
        format!(".other.dat.{dead}.3.mmarray-tmp"),
    ];
    let kept = [
        format!(".out.npy.{}.18.mmarray-tmp", live.id()),
        format!(".out.npy.{me}.19.mmarray-tmp"),
        format!(".out.npy.{dead}.x.mmarray-tmp"),
        format!("out.npy.{dead}.20.mmarray-tmp"),
        "keep.npy".to_owned(),
    ];
    for name in stale.iter().chain(&kept) {
        std::fs::write(d.join(name), b"x").unwrap();
    }
    // A folder with a temporary's name is not a file to remove.
    let dir_like = format!(".dir.{dead}.1.mmarray-tmp");
    std::fs::create_dir(d.join(&dir_like)).unwrap();

    let staged = create_staged(&d.join("new.npy")).unwrap();
    let mut expected: Vec<String> = kept.to_vec();
    expected.push(dir_like);
    expected.sort();
    let seen: Vec<String> = names(d)
        .into_iter()
        .filter(|n| !n.starts_with(".new.npy."))
        .collect();
    assert_eq!(
        seen, expected,
        "only the dead process's temporaries are removed"
    );
    staged.persist(false).unwrap().close().unwrap();
    assert!(d.join("new.npy").exists());
    live.kill().unwrap();
    live.wait().unwrap();

    // Abandoning: a named staged file in flight loses its name, and neither it
    // nor anything else can be persisted or staged afterwards.
    mmarray_core::set_unnamed_temporaries(false);
    let mut in_flight = create_staged(&d.join("late.npy")).unwrap();
    in_flight.bytes_mut().fill(1);
    let temps: Vec<String> = names(d)
        .into_iter()
        .filter(|n| n.starts_with(".late.npy."))
        .collect();
    assert_eq!(temps.len(), 1, "{:?}", names(d));
    let summary = mmarray_core::abandon_staged();
    assert_eq!((summary.in_flight, summary.persisted), (1, 1));
    assert!(!d.join(&temps[0]).exists(), "the temporary name is removed");
    let err = in_flight.persist(false).unwrap_err();
    assert!(
        matches!(&err, Error::Interrupted { path } if path.ends_with("late.npy")),
        "{err:?}"
    );
    assert!(!d.join("late.npy").exists());
    let err = create_staged(&d.join("later.npy")).unwrap_err();
    assert!(matches!(err, Error::Interrupted { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{}: interrupted", d.join("later.npy").display())
    );
    assert!(
        names(d).iter().all(|n| !n.contains("late")),
        "{:?}",
        names(d)
    );
}
