//! Read-only means read-only: every read command (info, show, reduce with and without
//! --axis/--out/--json, stats, slice, convert), succeeding or failing, leaves its input's
//! bytes and mtime unchanged, for every kind of input: C and F order, big-endian,
//! versions 1.0 and 3.0, unpadded numpy-style headers with bytes after the data, raw
//! files with an offset, empty and 0-d arrays, stored and deflated `.npz` members. (`cli.rs` checks the common cases on
//! one file; this covers the rest.)

mod reliability_util;

use std::os::unix::process::ExitStatusExt;

use reliability_util::{run, snapshot};

/// The inputs, each with the options to read it.
fn inputs(d: &std::path::Path) -> Vec<(&'static str, Vec<&'static str>)> {
    let make = |args: &[&str]| {
        run(d, args).ok();
    };
    make(&[
        "create", "c.npy", "--dtype", "f4", "--shape", "6,5", "--arange",
    ]);
    make(&[
        "create", "f.npy", "--dtype", ">i2", "--shape", "4,3,2", "--order", "F", "--arange",
    ]);
    make(&[
        "create", "z.npy", "--dtype", "c16", "--shape", "()", "--fill", "1+2j",
    ]);
    make(&["create", "e.npy", "--dtype", "u1", "--shape", "0,3"]);
    make(&[
        "create", "raw.dat", "--raw", "--dtype", ">u2", "--shape", "7,4", "--arange",
    ]);
    make(&["random", "c.npy", "--seed", "4", "--slice", "::2"]);
    // .npz archives: a stored member (mapped from the archive) and a deflated one.
    make(&["convert", "f.npy", "s.npz"]);
    make(&["convert", "c.npy", "cz.npz", "--member", "c", "--compress"]);
    // numpy-style headers mmarray does not write: version 3.0, and one without
    // padding or alignment followed by bytes numpy ignores.
    let header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2)}";
    let data: Vec<u8> = [1.0f64, f64::NAN, -3.0, 4.5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut v3 = b"\x93NUMPY\x03\x00".to_vec();
    v3.extend((header.len() as u32).to_le_bytes());
    v3.extend_from_slice(header);
    v3.extend_from_slice(&data);
    std::fs::write(d.join("v3.npy"), v3).unwrap();
    let mut bare = b"\x93NUMPY\x01\x00".to_vec();
    bare.extend((header.len() as u16).to_le_bytes());
    bare.extend_from_slice(header);
    bare.extend_from_slice(&data);
    bare.extend_from_slice(b"trailing bytes");
    std::fs::write(d.join("bare.npy"), bare).unwrap();
    vec![
        ("c.npy", vec![]),
        ("f.npy", vec![]),
        ("z.npy", vec![]),
        ("e.npy", vec![]),
        ("v3.npy", vec![]),
        ("bare.npy", vec![]),
        // The raw file read with an offset and a shape, and 1-d with its length inferred.
        (
            "raw.dat",
            vec!["--raw", "--dtype", ">u2", "--offset", "8", "--shape", "6,4"],
        ),
        ("raw.dat", vec!["--raw", "--dtype", "<i4"]),
        ("s.npz", vec![]),
        ("cz.npz", vec!["--member", "c"]),
    ]
}

#[test]
fn every_read_command_leaves_every_kind_of_input_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let commands: &[&[&str]] = &[
        &["info"],
        &["info", "--json"],
        &["show"],
        &["show", "--slice", "..., ::-1"],
        &["show", "--slice", "99"],
        &[
            "show",
            "--precision",
            "2",
            "--threshold",
            "3",
            "--edgeitems",
            "1",
        ],
        &["export"],
        &["export", "@", "-", "--fmt", "%d", "--slice", "..., 0"],
        &["export", "@", "t.csv", "--force"],
        &["export", "@", "t.csv"],
        &["reduce", "--op", "sum"],
        &["reduce", "--op", "mean", "--json"],
        &["reduce", "--op", "argmax", "--skipna"],
        &["reduce", "--op", "min"],
        &["reduce", "--op", "var", "--ddof", "1", "--json"],
        &["reduce", "--op", "max", "--axis", "0"],
        &["reduce", "--op", "std", "--axis", "-1", "--json"],
        &[
            "reduce", "--op", "sum", "--axis", "0", "--out", "r.npy", "--force",
        ],
        &["reduce", "--op", "sum", "--axis", "0", "--out", "r.npy"],
        &["reduce", "--op", "sum", "--axis", "7"],
        &["stats"],
        &["stats", "--json", "--skipna"],
        &["slice", "@", "s.npy", "1:", "--force"],
        &["slice", "@", "s.npy", "1:"],
        &["slice", "@", "missing/s.npy", ":"],
        &[
            "convert",
            "@",
            "k.npy",
            "--out-dtype",
            "c8",
            "--out-order",
            "F",
            "--force",
        ],
        &[
            "convert",
            "@",
            "k.dat",
            "--out-raw",
            "--out-byte-order",
            "big",
            "--force",
        ],
        &["convert", "@", "k.npy"],
        &["convert", "@", "k.npz", "--compress", "--force"],
    ];
    let mut runs = 0;
    for (name, options) in inputs(d) {
        let path = d.join(name);
        let before = snapshot(&path);
        std::thread::sleep(std::time::Duration::from_millis(5));
        for command in commands {
            // The input goes where "@" is, else right after the subcommand.
            let mut args: Vec<&str> = Vec::new();
            if command.contains(&"@") {
                args.extend(command.iter().map(|&a| if a == "@" { name } else { a }));
            } else {
                args.push(command[0]);
                args.push(name);
                args.extend(&command[1..]);
            }
            args.extend(&options);
            let out = run(d, &args);
            assert_eq!(out.status.signal(), None, "{args:?}");
            assert!(!out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
            assert_eq!(snapshot(&path), before, "{args:?} changed {name}");
            runs += 1;
        }
    }
    eprintln!("{runs} read commands, no input changed");
}
