//! The `mmarray` command as a finished product: its messages, exit codes and sizes
//! (issue 16). Each test names one rule of the contract and checks it on every
//! subcommand it applies to.

mod common;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use common::{Scratch, npy_bytes, npy_with_header};

fn arange_file(s: &Scratch, name: &str, dtype: &str, shape: &str) {
    s.run(&[
        "create", name, "--dtype", dtype, "--shape", shape, "--arange",
    ])
    .ok();
}

fn snapshot(s: &Scratch, name: &str) -> (Vec<u8>, SystemTime) {
    let meta = std::fs::metadata(s.path(name)).unwrap();
    (s.read(name), meta.modified().unwrap())
}

/// Runs `mmarray args` in `s` with its stderr on a pseudo-terminal (as a user
/// sees it) and stdout discarded; returns the exit code and everything written to
/// the terminal.
fn run_on_terminal(s: &Scratch, env: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors into the two integers; the null
    // pointers ask for no name, no termios and no window size.
    let rc = unsafe {
        libc::openpty(
            &raw mut master,
            &raw mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and belong to nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut child = Command::new(env!("CARGO_BIN_EXE_mmarray"))
        .args(args)
        .current_dir(s.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave))
        .env_remove("RUST_BACKTRACE")
        .env_remove("MMARRAY_ACCESS")
        .env("TERM", "xterm")
        .envs(env.iter().copied())
        .spawn()
        .expect("run mmarray");
    // The parent's copy of the slave end is closed (moved into the child's stdio and
    // dropped with `Command`), so reading the master ends with EIO once the child exits.
    let mut master = std::fs::File::from(master);
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        out
    });
    let status = child.wait().expect("wait for mmarray");
    let out = reader.join().expect("reader thread");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out).into_owned(),
    )
}

// ---------------------------------------------------------------- the seed and the bar

#[test]
fn a_random_seed_is_printed_before_the_progress_bar() {
    let s = Scratch::new();
    // Bars at once, so that one is surely drawn while the values are written.
    let now = [("MMARRAY_PROGRESS_DELAY_MS", "0")];
    for args in [
        &[
            "create", "r.npy", "--dtype", "f4", "--shape", "8000000", "--random", "normal",
        ][..],
        &["random", "r.npy", "--dist", "uniform"],
    ] {
        let (code, screen) = run_on_terminal(&s, &now, args);
        assert_eq!(code, 0, "{args:?}: {screen:?}");
        let (first, rest) = screen.split_once('\n').expect("a line");
        let seed = first
            .trim_end_matches('\r')
            .strip_prefix("seed: ")
            .unwrap_or_else(|| panic!("{args:?}: the seed is not the first line: {screen:?}"));
        assert!(seed.parse::<u64>().is_ok(), "{seed}");
        // The bar came after it, and nothing but the bar's drawing follows.
        assert!(rest.contains(args[0]), "{args:?}: no bar drawn: {screen:?}");
        assert!(!rest.contains("seed"), "{args:?}: {screen:?}");
        // ... and the bar is cleared at the end: no frozen bar is left on the screen.
        assert!(rest.ends_with("\r\x1b[2K"), "{args:?}: {screen:?}");
    }
}

#[test]
fn usage_and_run_time_errors_look_the_same_on_a_terminal() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", "u1", "3");
    for (args, code) in [
        (&["frobnicate"][..], 2),
        (&["create", "x.npy", "--dtype", "f8", "--shape", "3,x"], 2),
        (&["show", "a.npy", "--slice", "[1,2]"], 2),
        (&["fill", "a.npy", "300"], 1),
        (&["info", "missing.npy"], 1),
    ] {
        let (got, screen) = run_on_terminal(&s, &[], args);
        assert_eq!(got, code, "{args:?}: {screen:?}");
        assert!(screen.starts_with("error: "), "{args:?}: {screen:?}");
        assert!(!screen.contains('\x1b'), "{args:?}: styled: {screen:?}");
    }
}

// ---------------------------------------------------------------- SPEC

#[test]
fn advanced_indexing_is_a_usage_error_everywhere_a_spec_is_taken() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", "f8", "3,4");
    let before = snapshot(&s, "a.npy");
    for spec in [
        "[1,2]",
        "[1, 2]",
        "[0]",
        "[True, False, True]",
        "True",
        ":, [0, 1]",
    ] {
        for args in [
            &["show", "a.npy", "--slice", spec][..],
            &["fill", "a.npy", "1", "--slice", spec],
            &["random", "a.npy", "--slice", spec],
            &["slice", "a.npy", "b.npy", spec],
        ] {
            s.run(args)
                .fails(2, &["advanced indexing", "not supported", spec]);
        }
    }
    assert_eq!(snapshot(&s, "a.npy"), before);
    assert_eq!(s.files(), ["a.npy"]);
}

// ---------------------------------------------------------------- directories as outputs

#[test]
fn a_directory_as_the_output_is_an_error_saying_so() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", "f8", "3,4");
    std::fs::create_dir(s.path("d")).unwrap();
    for force in [false, true] {
        let runs: [&[&str]; 7] = [
            &["slice", "a.npy", "d", ":2"],
            &["export", "a.npy", "d"],
            &["slice", "a.npy", ".", ":5"],
            &["create", "d", "--dtype", "f8", "--shape", "3"],
            &["convert", "a.npy", "d", "--out-dtype", "f4"],
            &[
                "reduce", "a.npy", "--op", "sum", "--axis", "0", "--out", "d",
            ],
            &["create", "d", "--dtype", "u1", "--shape", "2", "--raw"],
        ];
        for args in runs {
            let mut args = args.to_vec();
            if force {
                args.push("--force");
            }
            let dir = if args.contains(&".") { "." } else { "d" };
            let line = s.run(&args).fails(1, &[]);
            assert_eq!(line, format!("error: {dir}: is a directory"), "{args:?}");
        }
    }
    assert_eq!(std::fs::read_dir(s.path("d")).unwrap().count(), 0);
    assert_eq!(s.files(), ["a.npy", "d"]);
}

// ---------------------------------------------------------------- VALUE

#[test]
fn finite_values_that_round_to_infinity_are_refused() {
    let s = Scratch::new();
    for (name, dtype) in [
        ("f2.npy", "f2"),
        ("f4.npy", ">f4"),
        ("c8.npy", "c8"),
        ("f8.npy", "f8"),
    ] {
        s.run(&["create", name, "--dtype", dtype, "--shape", "3"])
            .ok();
    }
    // On an existing file: exit 1, the file unchanged.
    for (name, value) in [
        ("f4.npy", "1e300"),
        ("f4.npy", "-3.5e38"),
        ("f2.npy", "70000"),
        ("f2.npy", "65520"),
        ("c8.npy", "1+1e39j"),
        ("c8.npy", "1e39"),
        ("f8.npy", "1e400"),
    ] {
        let before = snapshot(&s, name);
        s.run(&["fill", name, value])
            .fails(1, &[name, value, "infinity"]);
        s.run(&["append", name, "--rows", "1", "--fill", value])
            .fails(1, &[name, value, "infinity"]);
        assert_eq!(snapshot(&s, name), before, "{name} {value}");
    }
    // On create (the dtype is on the command line): exit 2, nothing created.
    for (dtype, value) in [("float16", "70000"), ("f4", "1e300"), ("c8", "-2-1e39j")] {
        s.run(&[
            "create", "new.npy", "--dtype", dtype, "--shape", "2", "--fill", value,
        ])
        .fails(2, &[value, "infinity"]);
    }
    assert!(!s.path("new.npy").exists());
    // inf, -inf and nan are written as given; the largest finite values fit.
    s.run(&["fill", "f4.npy", "inf", "--slice", "0"]).ok();
    s.run(&["fill", "f4.npy", "-inf", "--slice", "1"]).ok();
    s.run(&["fill", "f4.npy", "nan", "--slice", "2"]).ok();
    assert_eq!(
        s.run(&["show", "f4.npy"]).ok().trim(),
        "memmap([ inf, -inf,  nan], dtype='>f4')"
    );
    s.run(&["fill", "f2.npy", "65504"]).ok();
    s.run(&["fill", "c8.npy", "inf-infj"]).ok();
    s.run(&[
        "create", "h.npy", "--dtype", "f2", "--shape", "1", "--fill", "-inf",
    ])
    .ok();
}

// ---------------------------------------------------------------- exit codes

#[test]
fn exit_2_only_when_the_command_line_alone_shows_the_problem() {
    let s = Scratch::new();
    arange_file(&s, "i.npy", "i2", "10");
    arange_file(&s, "f.npy", "f8", "10");
    arange_file(&s, "u.npy", "u1", "10");
    let cases: &[(&[&str], i32)] = &[
        // The command line alone.
        (&["random", "i.npy", "--dist", "integers"], 2),
        (&["random", "f.npy", "--dist", "integers"], 2),
        (&["random", "i.npy", "--low", "5", "--high", "5"], 2),
        (&["random", "i.npy", "--dist", "normal", "--high", "5"], 2),
        (&["random", "u.npy", "--high", "18446744073709551617"], 2),
        (&["fill", "u.npy", "abc"], 2),
        (&["fill", "u.npy", "1", "--slice", "::0"], 2),
        (
            &[
                "create", "x.npy", "--dtype", "u1", "--shape", "2", "--fill", "300",
            ],
            2,
        ),
        (
            &[
                "create", "x.npy", "--dtype", "i4", "--shape", "2", "--random", "normal",
            ],
            2,
        ),
        // Only the file shows it.
        (&["random", "i.npy"], 1),
        (&["random", "i.npy", "--seed", "3"], 1),
        (&["random", "f.npy", "--high", "9"], 1),
        (&["random", "f.npy", "--dist", "integers", "--high", "9"], 1),
        (&["random", "i.npy", "--dist", "normal"], 1),
        (&["random", "i.npy", "--high", "100000"], 1),
        (&["random", "u.npy", "--low", "-1", "--high", "3"], 1),
        (&["random", "i.npy", "--high", "3", "--slice", "10"], 1),
        (&["fill", "u.npy", "300"], 1),
        (&["fill", "u.npy", "2.5"], 1),
        (&["fill", "f.npy", "1+2j"], 1),
        (&["fill", "u.npy", "1", "--slice", "0,0"], 1),
        (&["show", "u.npy", "--slice", "10"], 1),
        (&["reduce", "u.npy", "--op", "sum", "--axis", "1"], 1),
        (&["append", "u.npy", "--rows", "1", "--fill", "256"], 1),
        (&["info", "missing.npy"], 1),
    ];
    for &(args, code) in cases {
        let before: Vec<_> = ["i.npy", "f.npy", "u.npy"]
            .iter()
            .map(|n| snapshot(&s, n))
            .collect();
        let run = s.run(args);
        run.fails(code, &[]);
        // A refused run prints nothing else first (no seed before the error).
        assert!(!run.stderr.contains("seed:"), "{args:?}: {}", run.stderr);
        let after: Vec<_> = ["i.npy", "f.npy", "u.npy"]
            .iter()
            .map(|n| snapshot(&s, n))
            .collect();
        assert_eq!(before, after, "{args:?} changed a file");
    }
    assert_eq!(s.files(), ["f.npy", "i.npy", "u.npy"]);
}

// ---------------------------------------------------------------- files that are not .npy

#[test]
fn files_that_are_not_npy_say_what_they_are() {
    let s = Scratch::new();
    // A headerless float64 file: its first bytes are data.
    let raw: Vec<u8> = [3.0f64, 1.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    s.write("raw.dat", &raw);
    // A zip archive, as np.savez starts one.
    s.write(
        "a.npz",
        b"PK\x03\x04\x14\x00\x00\x00\x00\x00rest of the archive",
    );
    for cmd in ["info", "show", "stats"] {
        s.run(&[cmd, "raw.dat"]).fails(
            1,
            &[
                "raw.dat",
                "not a .npy file",
                "found b'\\x00\\x00",
                "--raw --dtype DTYPE",
            ],
        );
        s.run(&[cmd, "a.npz"])
            .fails(1, &["a.npz", "zip archive", ".npz"]);
    }
    // With its layout, the raw file reads.
    s.run(&["info", "raw.dat", "--raw", "--dtype", "f8"]).ok();
    // Dtypes numpy has but mmarray does not: named as unsupported, not as a corrupt header.
    for (descr, what) in [
        ("<U2", "unicode string"),
        ("|O", "object"),
        ("<M8[ns]", "datetime64"),
        ("|S3", "bytes string"),
    ] {
        s.write("x.npy", &npy_bytes(descr, false, "(2,)", &[0u8; 16]));
        let line = s
            .run(&["info", "x.npy"])
            .fails(1, &["x.npy", "unsupported dtype", descr, what]);
        assert!(!line.contains("invalid"), "{line}");
    }
    let structured =
        b"{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': False, 'shape': (1,), }\n";
    s.write("st.npy", &npy_with_header(structured, false, &[0u8; 12]));
    let line = s.run(&["info", "st.npy"]).fails(
        1,
        &["st.npy", "unsupported dtype", "('a', '<i4')", "structured"],
    );
    assert!(!line.contains("invalid"), "{line}");
}

// ---------------------------------------------------------------- sizes and counts

#[test]
fn sizes_have_four_significant_digits_and_counts_agree_in_number() {
    let s = Scratch::new();
    s.run(&["create", "one.npy", "--dtype", "u1", "--shape", "1"])
        .ok();
    let text = s.run(&["info", "one.npy"]).ok().to_owned();
    for want in [
        "1 byte per item",
        "size:       1 item, 1 byte of data from byte 128",
        "file size:  129 bytes",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    s.run(&["create", "two.npy", "--dtype", "i2", "--shape", "2,1"])
        .ok();
    let text = s.run(&["info", "two.npy"]).ok().to_owned();
    assert!(text.contains("2 bytes per item"), "{text}");
    assert!(text.contains("2 items, 4 bytes of data"), "{text}");
    // 3,200,000,000 bytes of data (a sparse file: the header and a length).
    let big = npy_bytes("<f8", false, "(20000, 20000)", &[]);
    let header = big.len() as u64;
    s.write("big.npy", &big);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(s.path("big.npy"))
        .unwrap();
    file.set_len(header + 3_200_000_000).unwrap();
    drop(file);
    let text = s.run(&["info", "big.npy"]).ok().to_owned();
    assert!(
        text.contains("2.980 GiB (3200000000 bytes) of data"),
        "{text}"
    );
    assert!(!text.contains("3.0 GiB"), "{text}");
    assert!(
        text.contains("file size:  2.980 GiB (3200000128 bytes)"),
        "{text}"
    );
    s.run(&["create", "m.npy", "--dtype", "f8", "--shape", "10000,10000"])
        .ok();
    let text = s.run(&["info", "m.npy"]).ok().to_owned();
    assert!(text.contains("762.9 MiB (800000000 bytes)"), "{text}");
}

// ---------------------------------------------------------------- random integers

#[test]
fn random_integers_take_the_whole_uint64_and_int64_ranges() {
    let s = Scratch::new();
    s.run(&["create", "u.npy", "--dtype", "u8", "--shape", "2000"])
        .ok();
    s.run(&["create", "i.npy", "--dtype", "i8", "--shape", "2000"])
        .ok();
    s.run(&["create", "b.npy", "--dtype", "u1", "--shape", "20"])
        .ok();
    let max = |name: &str| s.json(&["reduce", name, "--op", "max", "--json"])["value"].clone();
    let min = |name: &str| s.json(&["reduce", name, "--op", "min", "--json"])["value"].clone();
    for high in ["18446744073709551616", "18446744073709551615"] {
        s.run(&[
            "random", "u.npy", "--low", "0", "--high", high, "--seed", "1",
        ])
        .ok();
        // Values above int64's range occur: the draws span all 64 bits.
        assert!(max("u.npy").as_u64().unwrap() > 1 << 63, "{high}");
    }
    s.run(&[
        "random",
        "u.npy",
        "--low",
        "18446744073709551610",
        "--high",
        "18446744073709551616",
        "--seed",
        "2",
    ])
    .ok();
    assert_eq!(max("u.npy").as_u64(), Some(u64::MAX));
    assert_eq!(min("u.npy").as_u64(), Some(u64::MAX - 5));
    s.run(&[
        "random",
        "i.npy",
        "--low",
        "-9223372036854775808",
        "--high",
        "9223372036854775808",
        "--seed",
        "3",
    ])
    .ok();
    assert!(min("i.npy").as_i64().unwrap() < -(1 << 62));
    assert!(max("i.npy").as_i64().unwrap() > 1 << 62);
    // Bounds beyond the file's dtype need the file to be seen: exit 1.
    for (name, low, high) in [
        ("i.npy", "0", "9223372036854775809"),
        ("b.npy", "0", "18446744073709551616"),
        ("u.npy", "-1", "5"),
    ] {
        s.run(&["random", name, "--low", low, "--high", high])
            .fails(1, &[name, high]);
    }
}
