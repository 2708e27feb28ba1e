//! `mmarray append PATH --rows N [--fill VALUE]`: grows the growth axis (the first for
//! C order, the last for F order) in place; refuses what cannot grow, and values that
//! do not fit, before changing anything. (Interrupted appends: `reliability_crash.rs`.)

mod reliability_util;

use std::path::Path;

use reliability_util::{load, run, snapshot};

fn show(d: &Path, args: &[&str]) -> String {
    run(d, args).ok().to_owned()
}

#[test]
fn append_grows_the_growth_axis_and_fills_the_new_entries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(
        d,
        &[
            "create", "c.npy", "--dtype", "f4", "--shape", "2,3", "--arange",
        ],
    )
    .ok();
    run(d, &["append", "c.npy", "--rows", "2", "--fill", "7"]).ok();
    assert_eq!(
        show(d, &["show", "c.npy"]),
        "memmap([[0., 1., 2.],\n        [3., 4., 5.],\n        [7., 7., 7.],\n        \
         [7., 7., 7.]], dtype=float32)\n"
    );
    // Fortran order grows its last axis.
    run(
        d,
        &[
            "create", "f.npy", "--dtype", ">i2", "--shape", "2,3", "--order", "F", "--arange",
        ],
    )
    .ok();
    run(d, &["append", "f.npy", "--rows", "1", "--fill", "-1"]).ok();
    assert_eq!(
        show(d, &["show", "f.npy"]),
        "memmap([[ 0,  1,  2, -1],\n        [ 3,  4,  5, -1]], dtype='>i2')\n"
    );
    // Zeros without --fill; an empty array grows too; complex values.
    run(d, &["create", "e.npy", "--dtype", "c8", "--shape", "0,2"]).ok();
    run(d, &["append", "e.npy", "--rows", "1", "--fill", "1+2j"]).ok();
    run(d, &["append", "e.npy", "--rows", "1"]).ok();
    assert_eq!(
        show(d, &["show", "e.npy"]),
        "memmap([[1.+2.j, 1.+2.j],\n        [0.+0.j, 0.+0.j]], dtype=complex64)\n"
    );
    run(d, &["append", "e.npy", "--rows", "0"]).ok();
    assert_eq!(load(&d.join("e.npy")).unwrap().shape, [2, 2]);
    // Raw files simply grow.
    run(
        d,
        &[
            "create", "r.dat", "--raw", "--dtype", "u1", "--shape", "4", "--fill", "1",
        ],
    )
    .ok();
    run(
        d,
        &[
            "append", "r.dat", "--rows", "3", "--fill", "9", "--raw", "--dtype", "u1",
        ],
    )
    .ok();
    assert_eq!(
        std::fs::read(d.join("r.dat")).unwrap(),
        [1, 1, 1, 1, 9, 9, 9]
    );
    // Many small appends keep the header's room and the data offset.
    for _ in 0..20 {
        run(d, &["append", "c.npy", "--rows", "5"]).ok();
    }
    let info: serde_json::Value =
        serde_json::from_str(&show(d, &["info", "c.npy", "--json"])).unwrap();
    assert_eq!(info["shape"], serde_json::json!([104, 3]));
    assert_eq!(info["data_offset"], 128);
    assert_eq!(info["file_size"], 128 + 104 * 3 * 4);
}

#[test]
fn append_refuses_before_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(d, &["create", "z.npy", "--dtype", "f8", "--shape", "()"]).ok();
    run(d, &["create", "u.npy", "--dtype", "u1", "--shape", "3"]).ok();
    // A numpy-style header without growth padding: no room to write a longer shape.
    let header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (9,)}";
    let mut bare = b"\x93NUMPY\x01\x00".to_vec();
    bare.extend((header.len() as u16).to_le_bytes());
    bare.extend_from_slice(header);
    bare.extend_from_slice(&[0; 72]);
    std::fs::write(d.join("bare.npy"), &bare).unwrap();
    let cases: [(&str, &[&str], i32); 5] = [
        ("z.npy", &["append", "z.npy", "--rows", "1"], 1),
        (
            "u.npy",
            &["append", "u.npy", "--rows", "1", "--fill", "300"],
            1,
        ),
        (
            "u.npy",
            &["append", "u.npy", "--rows", "1", "--fill", "2.5"],
            1,
        ),
        (
            "u.npy",
            &["append", "u.npy", "--rows", "1", "--fill", "abc"],
            2,
        ),
        ("bare.npy", &["append", "bare.npy", "--rows", "1000"], 1),
    ];
    for (name, args, code) in cases {
        let before = snapshot(&d.join(name));
        let out = run(d, args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", out.stderr);
        let first = out.stderr.lines().next().unwrap_or("");
        assert!(first.starts_with("error:"), "{args:?}: {first}");
        if code == 1 {
            assert!(first.starts_with(&format!("error: {name}: ")), "{first}");
        }
        assert_eq!(snapshot(&d.join(name)), before, "{args:?} changed {name}");
    }
    assert_eq!(load(&d.join("bare.npy")).unwrap().shape, [9]);
}
