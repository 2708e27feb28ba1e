//! Integration tests of the `mmarray` binary against the command-line contract:
//! every subcommand, JSON field, exit code and error line, negative-number
//! arguments, raw options, files that must not change and files that must not
//! be left behind.

mod common;

use std::time::SystemTime;

use common::{Scratch, f64_bytes, npy_bytes, npy_with_header};
use serde_json::{Value as Json, json};

/// The data bytes of a file written by mmarray (found through `info --json`).
fn data(s: &Scratch, name: &str) -> Vec<u8> {
    let info = s.json(&["info", name, "--json"]);
    let offset = info["data_offset"].as_u64().unwrap() as usize;
    let nbytes = info["nbytes"].as_u64().unwrap() as usize;
    s.read(name)[offset..offset + nbytes].to_vec()
}

fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

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

// ---------------------------------------------------------------- help, version, usage

#[test]
fn help_and_version() {
    let s = Scratch::new();
    let help = s.run(&["--help"]);
    assert!(help.ok().contains("Examples:"));
    for sub in [
        "create",
        "info",
        "show",
        "export",
        "completions",
        "fill",
        "random",
        "reduce",
        "stats",
        "slice",
        "convert",
        "append",
        "tour",
    ] {
        assert!(help.stdout.contains(sub), "{sub} missing from --help");
        let sub_help = s.run(&[sub, "--help"]);
        assert!(
            sub_help.ok().contains("Examples:"),
            "{sub} --help has no examples"
        );
    }
    let version = s.run(&["--version"]);
    assert_eq!(
        version.ok().trim(),
        format!("mmarray {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn malformed_command_lines_exit_2() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", "f8", "3,4");
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["info"],
        &["info", "a.npy", "--bogus"],
        &["create", "x.npy", "--shape", "3"],
        &["create", "x.npy", "--dtype", "f8"],
        &["create", "x.npy", "--dtype", "f16", "--shape", "3"],
        &["create", "x.npy", "--dtype", "float", "--shape", "3,x"],
        &["create", "x.npy", "--dtype", "f8", "--shape", "-3"],
        &[
            "create", "x.npy", "--dtype", "f8", "--shape", "3", "--order", "K",
        ],
        &[
            "create", "x.npy", "--dtype", "f8", "--shape", "3", "--fill", "1", "--arange",
        ],
        &[
            "create", "x.npy", "--dtype", "f8", "--shape", "3", "--fill", "1", "--random", "normal",
        ],
        &[
            "create", "x.npy", "--dtype", "f8", "--shape", "3", "--seed", "1",
        ],
        &[
            "create", "x.npy", "--dtype", "f8", "--shape", "3", "--fill", "abc",
        ],
        &[
            "create", "x.npy", "--dtype", "u1", "--shape", "3", "--fill", "300",
        ],
        &[
            "create", "x.npy", "--dtype", "i4", "--shape", "3", "--fill", "2.5",
        ],
        &[
            "create", "x.npy", "--dtype", "i4", "--shape", "3", "--random", "normal",
        ],
        &[
            "create", "x.npy", "--dtype", "f8", "--shape", "3", "--random", "cauchy",
        ],
        &["show", "a.npy", "--slice", "::0"],
        &["show", "a.npy", "--slice", "...,..."],
        &["show", "a.npy", "--slice", "1.5"],
        &["fill", "a.npy"],
        &["fill", "a.npy", "abc"],
        &["fill", "a.npy", "1", "--slice", "x"],
        &["random", "a.npy", "--dist", "poisson"],
        &["random", "a.npy", "--dist", "normal", "--low", "1"],
        &[
            "random", "a.npy", "--dist", "integers", "--low", "5", "--high", "5",
        ],
        &["random", "a.npy", "--dist", "integers"],
        &["reduce", "a.npy"],
        &["reduce", "a.npy", "--op", "median"],
        &["reduce", "a.npy", "--op", "sum", "--out", "o.npy"],
        &["reduce", "a.npy", "--op", "sum", "--axis", "x"],
        &["reduce", "a.npy", "--op", "sum", "--ddof", "-1"],
        &["slice", "a.npy", "b.npy"],
        &["slice", "a.npy", "b.npy", "1:2:3:4"],
        &["convert", "a.npy", "b.npy", "--out-dtype", "object"],
        &["convert", "a.npy", "b.npy", "--out-byte-order", "middle"],
        &["info", "a.npy", "--dtype", "f8"],
        &["info", "a.npy", "--raw"],
        &["info", "a.npy", "--shape", "3"],
        &["--threads", "0", "info", "a.npy"],
        &["tour", "--shape", ""],
    ];
    for args in cases {
        s.run(args).fails(2, &[]);
    }
    // Nothing was created by any of them.
    assert_eq!(s.files(), ["a.npy"]);
}

// ---------------------------------------------------------------- create and info

#[test]
fn access_environment_variable() {
    let s = Scratch::new();
    // 3 MiB, so that rows are long enough to be read from the file.
    arange_file(&s, "a.npy", "float64", "6,65536");
    let mut seen = Vec::new();
    for way in ["map", "read", "auto"] {
        let out = s.run_env(&[("MMARRAY_ACCESS", way)], &["stats", "a.npy", "--json"]);
        seen.push(out.ok().to_owned());
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
    assert!(seen[0].contains("\"count\":393216,"), "{}", seen[0]);
    for bad in ["", "Map", "mmap"] {
        let before = snapshot(&s, "a.npy");
        s.run_env(
            &[("MMARRAY_ACCESS", bad)],
            &["reduce", "a.npy", "--op", "sum"],
        )
        .fails(2, &["MMARRAY_ACCESS", "expected auto, map or read", bad]);
        assert_eq!(snapshot(&s, "a.npy"), before);
    }
}

#[test]
fn info_json_has_exactly_the_contract_fields() {
    let s = Scratch::new();
    s.run(&[
        "create",
        "a.npy",
        "--dtype",
        "float64",
        "--shape",
        "10000,10000",
    ])
    .ok();
    let info = s.json(&["info", "a.npy", "--json"]);
    assert_eq!(
        info,
        json!({
            "format": "npy", "version": [1, 0], "descr": "<f8", "name": "float64",
            "shape": [10000, 10000],
            "fortran_order": false, "itemsize": 8, "size": 100_000_000u64, "nbytes": 800_000_000u64,
            "data_offset": 128, "file_size": 800_000_128u64
        })
    );
    let keys: Vec<&String> = info.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "format",
            "version",
            "descr",
            "name",
            "shape",
            "fortran_order",
            "itemsize",
            "size",
            "nbytes",
            "data_offset",
            "file_size"
        ]
    );
    let human = s.run(&["info", "a.npy"]);
    let text = human.ok();
    assert!(text.contains("762.9 MiB"), "{text}");
    assert!(text.contains("(10000, 10000)"), "{text}");
    assert!(text.contains("float64"), "{text}");
}

#[test]
fn create_every_layout() {
    let s = Scratch::new();
    s.run(&[
        "create", "f.npy", "--dtype", ">i2", "--shape", "(2, 3)", "--order", "F",
    ])
    .ok();
    let info = s.json(&["info", "f.npy", "--json"]);
    assert_eq!(info["descr"], ">i2");
    assert_eq!(info["fortran_order"], true);
    assert_eq!(info["shape"], json!([2, 3]));
    assert_eq!(data(&s, "f.npy"), vec![0u8; 12]);

    s.run(&["create", "z.npy", "--dtype", "?", "--shape", ""])
        .ok();
    let info = s.json(&["info", "z.npy", "--json"]);
    assert_eq!(
        (
            info["shape"].clone(),
            info["size"].clone(),
            info["descr"].clone()
        ),
        (json!([]), json!(1), json!("|b1"))
    );
    s.run(&["create", "z2.npy", "--dtype", "c8", "--shape", "()"])
        .ok();
    assert_eq!(s.json(&["info", "z2.npy", "--json"])["shape"], json!([]));

    s.run(&["create", "e.npy", "--dtype", "u2", "--shape", "0,5"])
        .ok();
    let info = s.json(&["info", "e.npy", "--json"]);
    assert_eq!(
        (info["size"].clone(), info["nbytes"].clone()),
        (json!(0), json!(0))
    );

    s.run(&[
        "create", "r.dat", "--raw", "--dtype", "f4", "--shape", "4,2",
    ])
    .ok();
    assert_eq!(s.read("r.dat"), vec![0u8; 32]);
    let info = s.json(&[
        "info", "r.dat", "--json", "--raw", "--dtype", "f4", "--shape", "4,2",
    ]);
    assert_eq!(info["format"], "raw");
    assert_eq!(info["version"], Json::Null);
    assert_eq!(info["data_offset"], 0);
    assert_eq!(info["file_size"], 32);
}

#[test]
fn create_fill_random_arange() {
    let s = Scratch::new();
    s.run(&[
        "create", "a.npy", "--dtype", "f8", "--shape", "2,3", "--arange",
    ])
    .ok();
    assert_eq!(f64s(&data(&s, "a.npy")), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    // arange follows the logical C order whatever the memory order.
    s.run(&[
        "create", "af.npy", "--dtype", "f8", "--shape", "2,3", "--order", "F", "--arange",
    ])
    .ok();
    assert_eq!(f64s(&data(&s, "af.npy")), [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    s.run(&[
        "create", "u.npy", "--dtype", "u1", "--shape", "300", "--arange",
    ])
    .ok();
    assert_eq!(data(&s, "u.npy")[256..260], [0, 1, 2, 3]);

    s.run(&[
        "create", "v.npy", "--dtype", "f8", "--shape", "4", "--fill", "-2.5",
    ])
    .ok();
    assert_eq!(f64s(&data(&s, "v.npy")), [-2.5; 4]);
    s.run(&[
        "create", "n.npy", "--dtype", "f8", "--shape", "2", "--fill", "-inf",
    ])
    .ok();
    assert_eq!(f64s(&data(&s, "n.npy")), [f64::NEG_INFINITY; 2]);

    s.run(&[
        "create", "r1.npy", "--dtype", "f4", "--shape", "1000", "--random", "normal", "--seed", "5",
    ])
    .ok();
    s.run(&[
        "create", "r2.npy", "--dtype", "f4", "--shape", "1000", "--random", "normal", "--seed", "5",
    ])
    .ok();
    assert_eq!(s.read("r1.npy"), s.read("r2.npy"));
    let stats = s.json(&["stats", "r1.npy", "--json"]);
    assert!(stats["mean"].as_f64().unwrap().abs() < 0.2, "{stats}");
    let unif = s.run(&[
        "create", "u2.npy", "--dtype", "f8", "--shape", "1000", "--random", "uniform",
    ]);
    unif.ok();
    assert!(
        unif.stderr.starts_with("seed: "),
        "the random seed is printed: {:?}",
        unif.stderr
    );
    let stats = s.json(&["stats", "u2.npy", "--json"]);
    assert!(
        stats["min"].as_f64().unwrap() >= 0.0 && stats["max"].as_f64().unwrap() < 1.0,
        "{stats}"
    );
}

#[test]
fn create_refuses_to_replace_without_force() {
    let s = Scratch::new();
    s.write("a.npy", b"precious");
    s.run(&["create", "a.npy", "--dtype", "f8", "--shape", "3"])
        .fails(1, &["a.npy", "exists"]);
    assert_eq!(s.read("a.npy"), b"precious");
    s.run(&[
        "create", "a.npy", "--dtype", "f8", "--shape", "3", "--force",
    ])
    .ok();
    assert_eq!(s.json(&["info", "a.npy", "--json"])["shape"], json!([3]));
    assert_eq!(s.files(), ["a.npy"]);
}

#[test]
fn failed_writes_leave_nothing_behind() {
    let s = Scratch::new();
    std::fs::create_dir(s.path("sub")).unwrap();
    // A shape too large for the address space fails before anything appears.
    s.run(&[
        "create",
        "sub/huge.npy",
        "--dtype",
        "f8",
        "--shape",
        "4294967296,4294967296",
    ])
    .fails(1, &[]);
    s.run(&["create", "missing/x.npy", "--dtype", "f8", "--shape", "3"])
        .fails(1, &["missing/x.npy"]);
    arange_file(&s, "a.npy", "f8", "3,4");
    s.run(&["slice", "a.npy", "sub/b.npy", "5"])
        .fails(1, &["a.npy"]);
    s.run(&["slice", "a.npy", "sub/b.npy", ":,9"]).fails(1, &[]);
    s.run(&[
        "reduce",
        "a.npy",
        "--op",
        "sum",
        "--axis",
        "2",
        "--out",
        "sub/r.npy",
    ])
    .fails(1, &["a.npy"]);
    s.run(&["convert", "a.npy", "missing/c.npy"]).fails(1, &[]);
    assert_eq!(std::fs::read_dir(s.path("sub")).unwrap().count(), 0);
    assert_eq!(s.files(), ["a.npy", "sub"]);
}

// ---------------------------------------------------------------- show

#[test]
fn show_prints_like_numpy_repr() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", "f8", "3,4");
    assert_eq!(
        s.run(&["show", "a.npy"]).ok(),
        "memmap([[ 0.,  1.,  2.,  3.],\n        [ 4.,  5.,  6.,  7.],\n        [ 8.,  9., 10., 11.]])\n"
    );
    assert_eq!(
        s.run(&["show", "a.npy", "--slice", "-1"]).ok(),
        "memmap([ 8.,  9., 10., 11.])\n"
    );
    assert_eq!(
        s.run(&["show", "a.npy", "--slice", "-2:, ::-2"]).ok(),
        "memmap([[ 7.,  5.],\n        [11.,  9.]])\n"
    );
    assert_eq!(
        s.run(&["show", "a.npy", "--slice=-1,-1"]).ok(),
        "np.float64(11.0)\n"
    );
    assert_eq!(
        s.run(&["show", "a.npy", "--slice", "1,2,..."]).ok(),
        "memmap(6.)\n"
    );
    assert_eq!(
        s.run(&["show", "a.npy", "--slice", "3:"]).ok(),
        "array([], shape=(0, 4), dtype=float64)\n"
    );
    s.run(&["show", "a.npy", "--slice", "3"])
        .fails(1, &["a.npy", "index"]);
    s.run(&["show", "a.npy", "--slice", "0,0,0"])
        .fails(1, &["a.npy"]);

    arange_file(&s, "i.npy", ">i2", "2,2");
    assert_eq!(
        s.run(&["show", "i.npy"]).ok(),
        "memmap([[0, 1],\n        [2, 3]], dtype='>i2')\n"
    );
    s.run(&[
        "create", "b.npy", "--dtype", "bool", "--shape", "3", "--fill", "true",
    ])
    .ok();
    s.run(&["fill", "b.npy", "false", "--slice", "1"]).ok();
    assert_eq!(
        s.run(&["show", "b.npy"]).ok(),
        "memmap([ True, False,  True])\n"
    );

    s.run(&[
        "create",
        "big.npy",
        "--dtype",
        "float64",
        "--shape",
        "10000,10000",
    ])
    .ok();
    assert_eq!(
        s.run(&["show", "big.npy"]).ok(),
        "memmap([[0., 0., 0., ..., 0., 0., 0.],\n        [0., 0., 0., ..., 0., 0., 0.],\n        \
         [0., 0., 0., ..., 0., 0., 0.],\n        ...,\n        [0., 0., 0., ..., 0., 0., 0.],\n        \
         [0., 0., 0., ..., 0., 0., 0.],\n        [0., 0., 0., ..., 0., 0., 0.]], shape=(10000, 10000))\n"
    );
}

// ---------------------------------------------------------------- fill and random

#[test]
fn fill_takes_negative_values_and_slices() {
    let s = Scratch::new();
    s.run(&["create", "a.npy", "--dtype", "f8", "--shape", "5"])
        .ok();
    s.run(&["fill", "a.npy", "-2.5"]).ok();
    assert_eq!(f64s(&data(&s, "a.npy")), [-2.5; 5]);
    s.run(&["fill", "a.npy", "1e3", "--slice", "-3:"]).ok();
    assert_eq!(
        f64s(&data(&s, "a.npy")),
        [-2.5, -2.5, 1000.0, 1000.0, 1000.0]
    );
    s.run(&["fill", "a.npy", "--slice", "-1", "-inf"]).ok();
    s.run(&["fill", "a.npy", "nan", "--slice", "0"]).ok();
    let v = f64s(&data(&s, "a.npy"));
    assert!(v[0].is_nan());
    assert_eq!(v[1..], [-2.5, 1000.0, 1000.0, f64::NEG_INFINITY]);

    s.run(&["create", "c.npy", "--dtype", "c16", "--shape", "2"])
        .ok();
    s.run(&["fill", "c.npy", "-1.5-2e3j"]).ok();
    assert_eq!(f64s(&data(&s, "c.npy")), [-1.5, -2000.0, -1.5, -2000.0]);

    s.run(&["create", "u.npy", "--dtype", "u1", "--shape", "3"])
        .ok();
    s.run(&["fill", "u.npy", "300"])
        .fails(1, &["u.npy", "300", "uint8"]);
    s.run(&["fill", "u.npy", "2.5"]).fails(1, &["u.npy"]);
    s.run(&["fill", "u.npy", "-1"]).fails(1, &["u.npy"]);
    s.run(&["fill", "u.npy", "zero"]).fails(2, &["zero"]);
    s.run(&["fill", "u.npy", "7", "--slice", "3"])
        .fails(1, &["u.npy"]);
    assert_eq!(data(&s, "u.npy"), [0, 0, 0]);
    s.run(&["fill", "u.npy", "255", "--slice", "::-2"]).ok();
    assert_eq!(data(&s, "u.npy"), [255, 0, 255]);
    s.run(&["fill", "missing.npy", "1"])
        .fails(1, &["missing.npy"]);
}

#[test]
fn random_is_reproducible_and_checks_its_arguments() {
    let s = Scratch::new();
    for name in ["a.npy", "b.npy"] {
        s.run(&["create", name, "--dtype", ">f8", "--shape", "300,50"])
            .ok();
    }
    s.run(&["--threads", "1", "random", "a.npy", "--seed", "42"])
        .ok();
    s.run(&["random", "b.npy", "--seed", "42", "--threads", "4"])
        .ok();
    assert_eq!(s.read("a.npy"), s.read("b.npy"));
    let without_seed = s.run(&["random", "b.npy", "--slice", ":1"]);
    without_seed.ok();
    let seed = without_seed
        .stderr
        .trim()
        .strip_prefix("seed: ")
        .expect("seed printed on stderr");
    assert!(seed.parse::<u64>().is_ok(), "{seed}");

    s.run(&["create", "i.npy", "--dtype", "i2", "--shape", "1000"])
        .ok();
    s.run(&[
        "random", "i.npy", "--low", "-10", "--high", "-5", "--seed", "1",
    ])
    .ok();
    let stats = s.json(&["stats", "i.npy", "--json"]);
    assert!(
        stats["min"].as_i64().unwrap() >= -10 && stats["max"].as_i64().unwrap() < -5,
        "{stats}"
    );
    s.run(&[
        "random", "i.npy", "--dist", "integers", "--high", "3", "--slice", "-5:", "--seed", "2",
    ])
    .ok();
    s.run(&["random", "i.npy", "--seed", "1"])
        .fails(1, &["i.npy", "--high"]);
    s.run(&["random", "i.npy", "--dist", "normal", "--seed", "1"])
        .fails(1, &["i.npy"]);
    s.run(&[
        "random", "a.npy", "--dist", "integers", "--high", "9", "--seed", "1",
    ])
    .fails(1, &["a.npy"]);
    s.run(&["random", "a.npy", "--high", "9"])
        .fails(1, &["a.npy"]);
    s.run(&[
        "random", "i.npy", "--dist", "integers", "--low", "0", "--high", "100000",
    ])
    .fails(1, &["i.npy"]);

    s.run(&["create", "bool.npy", "--dtype", "bool", "--shape", "1000"])
        .ok();
    s.run(&["random", "bool.npy", "--seed", "3"]).ok();
    let sum = s.json(&["reduce", "bool.npy", "--op", "sum", "--json"]);
    let n = sum["value"].as_i64().unwrap();
    assert!((400..600).contains(&n), "{n} trues of 1000");
}

// ---------------------------------------------------------------- reduce and stats

#[test]
fn reduce_json_values_and_types() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", "f8", "3,4");
    let r = |args: &[&str]| s.json(args);
    assert_eq!(
        r(&["reduce", "a.npy", "--op", "sum", "--json"]),
        json!({"op": "sum", "value": 66.0})
    );
    assert_eq!(
        r(&["reduce", "a.npy", "--op", "mean", "--json"])["value"],
        5.5
    );
    assert_eq!(
        r(&["reduce", "a.npy", "--op", "argmax", "--json"])["value"],
        11
    );
    assert_eq!(
        r(&["reduce", "a.npy", "--op", "var", "--ddof", "1", "--json"])["value"],
        13.0
    );
    assert_eq!(s.run(&["reduce", "a.npy", "--op", "max"]).ok(), "11.0\n");

    arange_file(&s, "u.npy", "u1", "300");
    assert_eq!(
        r(&["reduce", "u.npy", "--op", "sum", "--json"])["value"],
        256 * 255 / 2 + (44 * 43) / 2
    );
    assert_eq!(
        r(&["reduce", "u.npy", "--op", "max", "--json"])["value"],
        255
    );

    s.run(&[
        "create", "f.npy", "--dtype", "f4", "--shape", "3", "--fill", "0.1",
    ])
    .ok();
    assert_eq!(
        s.run(&["reduce", "f.npy", "--op", "min", "--json"]).ok(),
        "{\"op\":\"min\",\"value\":0.1}\n"
    );
    s.run(&["fill", "f.npy", "nan", "--slice", "1"]).ok();
    assert_eq!(
        r(&["reduce", "f.npy", "--op", "max", "--json"])["value"],
        "nan"
    );
    assert_eq!(
        r(&["reduce", "f.npy", "--op", "max", "--skipna", "--json"])["value"],
        0.1
    );
    s.run(&["fill", "f.npy", "-inf"]).ok();
    assert_eq!(
        r(&["reduce", "f.npy", "--op", "min", "--json"])["value"],
        "-inf"
    );

    s.run(&[
        "create", "c.npy", "--dtype", "c8", "--shape", "2", "--fill", "1+2j",
    ])
    .ok();
    assert_eq!(
        r(&["reduce", "c.npy", "--op", "sum", "--json"])["value"],
        json!([2.0, 4.0])
    );
    s.run(&[
        "create", "b.npy", "--dtype", "?", "--shape", "2", "--fill", "1",
    ])
    .ok();
    assert_eq!(
        r(&["reduce", "b.npy", "--op", "min", "--json"])["value"],
        true
    );

    s.run(&["create", "e.npy", "--dtype", "f8", "--shape", "0"])
        .ok();
    assert_eq!(
        r(&["reduce", "e.npy", "--op", "sum", "--json"])["value"],
        0.0
    );
    assert_eq!(
        r(&["reduce", "e.npy", "--op", "mean", "--json"])["value"],
        "nan"
    );
    s.run(&["reduce", "e.npy", "--op", "argmin"])
        .fails(1, &["e.npy", "empty"]);
}

#[test]
fn reduce_along_an_axis() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", "i4", "3,4");
    s.run(&[
        "reduce", "a.npy", "--op", "sum", "--axis", "-1", "--out", "rows.npy",
    ])
    .ok();
    let info = s.json(&["info", "rows.npy", "--json"]);
    assert_eq!(
        (info["descr"].clone(), info["shape"].clone()),
        (json!("<i8"), json!([3]))
    );
    assert_eq!(s.run(&["show", "rows.npy"]).ok(), "memmap([ 6, 22, 38])\n");
    // Refuses to replace without --force, replaces with it.
    s.run(&[
        "reduce", "a.npy", "--op", "max", "--axis", "0", "--out", "rows.npy",
    ])
    .fails(1, &["rows.npy", "exists"]);
    s.run(&[
        "reduce", "a.npy", "--op", "max", "--axis", "0", "--out", "rows.npy", "--force",
    ])
    .ok();
    assert_eq!(
        s.run(&["show", "rows.npy"]).ok(),
        "memmap([ 8,  9, 10, 11], dtype=int32)\n"
    );
    // Without --out the result is printed.
    assert_eq!(
        s.run(&["reduce", "a.npy", "--op", "argmax", "--axis", "-2"])
            .ok(),
        "array([2, 2, 2, 2])\n"
    );
    assert_eq!(
        s.json(&["reduce", "a.npy", "--op", "mean", "--axis", "1", "--json"]),
        json!({"op": "mean", "axis": 1, "value": [1.5, 5.5, 9.5]})
    );
    s.run(&["reduce", "a.npy", "--op", "sum", "--axis", "-3"])
        .fails(1, &["a.npy", "axis"]);
}

#[test]
fn stats_json_fields() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", "f8", "4");
    let stats = s.json(&["stats", "a.npy", "--json"]);
    let keys: Vec<&String> = stats.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["count", "sum", "mean", "min", "max", "std"]);
    assert_eq!(
        stats,
        json!({"count": 4, "sum": 6.0, "mean": 1.5, "min": 0.0, "max": 3.0, "std": 1.118_033_988_749_895})
    );
    s.run(&["fill", "a.npy", "nan", "--slice", "0"]).ok();
    let skip = s.json(&["stats", "a.npy", "--skipna", "--json"]);
    assert_eq!(
        (
            skip["count"].clone(),
            skip["sum"].clone(),
            skip["min"].clone()
        ),
        (json!(3), json!(6.0), json!(1.0))
    );
    assert_eq!(s.json(&["stats", "a.npy", "--json"])["max"], "nan");
    let text = s.run(&["stats", "a.npy", "--skipna"]);
    assert!(text.ok().contains("count: 3"), "{}", text.stdout);

    s.run(&["create", "e.npy", "--dtype", "i8", "--shape", "0,3"])
        .ok();
    let empty = s.json(&["stats", "e.npy", "--json"]);
    assert_eq!(
        (
            empty["count"].clone(),
            empty["min"].clone(),
            empty["max"].clone()
        ),
        (json!(0), Json::Null, Json::Null)
    );
}

// ---------------------------------------------------------------- slice and convert

#[test]
fn slice_writes_new_files() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", ">f8", "3,4");
    s.run(&["slice", "a.npy", "last.npy", "-1"]).ok();
    assert_eq!(
        s.run(&["show", "last.npy"]).ok(),
        "memmap([ 8.,  9., 10., 11.], dtype='>f8')\n"
    );
    s.run(&["slice", "a.npy", "rev.npy", "::-1, -3:"]).ok();
    assert_eq!(
        s.json(&["info", "rev.npy", "--json"])["shape"],
        json!([3, 3])
    );
    assert_eq!(
        s.json(&["reduce", "rev.npy", "--op", "argmax", "--json"])["value"],
        2
    );
    s.run(&["slice", "a.npy", "last.npy", "0"])
        .fails(1, &["last.npy", "exists"]);
    s.run(&["slice", "a.npy", "last.npy", "0", "--force"]).ok();
    assert_eq!(
        s.run(&["show", "last.npy"]).ok(),
        "memmap([0., 1., 2., 3.], dtype='>f8')\n"
    );
}

#[test]
fn convert_keeps_or_changes_what_it_is_told() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", ">f8", "2,3");
    s.run(&["convert", "a.npy", "same.npy"]).ok();
    let info = s.json(&["info", "same.npy", "--json"]);
    assert_eq!(
        (info["descr"].clone(), info["fortran_order"].clone()),
        (json!(">f8"), json!(false))
    );
    s.run(&["convert", "a.npy", "f4.npy", "--out-dtype", "float32"])
        .ok();
    assert_eq!(s.json(&["info", "f4.npy", "--json"])["descr"], "<f4");
    s.run(&[
        "convert",
        "a.npy",
        "be.npy",
        "--out-dtype",
        "<i2",
        "--out-byte-order",
        "big",
        "--out-order",
        "F",
    ])
    .ok();
    let info = s.json(&["info", "be.npy", "--json"]);
    assert_eq!(
        (info["descr"].clone(), info["fortran_order"].clone()),
        (json!(">i2"), json!(true))
    );
    assert_eq!(
        s.run(&["show", "be.npy"]).ok(),
        "memmap([[0, 1, 2],\n        [3, 4, 5]], dtype='>i2')\n"
    );
    s.run(&[
        "convert",
        "a.npy",
        "raw.dat",
        "--out-raw",
        "--out-byte-order",
        "little",
    ])
    .ok();
    assert_eq!(
        s.read("raw.dat"),
        f64_bytes(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    );
    s.run(&["convert", "a.npy", "raw.dat", "--out-raw"])
        .fails(1, &["raw.dat", "exists"]);
    // Input raw options describe the input.
    s.run(&[
        "convert",
        "raw.dat",
        "back.npy",
        "--raw",
        "--dtype",
        "<f8",
        "--shape",
        "3,2",
        "--out-dtype",
        "u1",
    ])
    .ok();
    assert_eq!(
        s.run(&["show", "back.npy"]).ok(),
        "memmap([[0, 1],\n        [2, 3],\n        [4, 5]], dtype=uint8)\n"
    );
}

// ---------------------------------------------------------------- raw input

#[test]
fn raw_options_on_every_reading_command() {
    let s = Scratch::new();
    let mut bytes = vec![0xAAu8; 3];
    bytes.extend(f64_bytes(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]));
    s.write("r.dat", &bytes);
    let raw = ["--raw", "--dtype", "float64", "--offset", "3"];
    let with = |cmd: &[&str], extra: &[&str]| -> Vec<String> {
        cmd.iter()
            .chain(raw.iter())
            .chain(extra.iter())
            .map(ToString::to_string)
            .collect()
    };
    let run = |args: Vec<String>| s.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let info: Json =
        serde_json::from_str(run(with(&["info", "r.dat", "--json"], &[])).ok()).unwrap();
    assert_eq!(info["shape"], json!([6]));
    assert_eq!(info["data_offset"], 3);
    assert_eq!(
        run(with(
            &["show", "r.dat"],
            &["--shape", "2,3", "--order", "F"]
        ))
        .ok(),
        "memmap([[0., 2., 4.],\n        [1., 3., 5.]])\n"
    );
    assert_eq!(
        run(with(&["reduce", "r.dat", "--op", "sum"], &[])).ok(),
        "15.0\n"
    );
    assert!(
        run(with(&["stats", "r.dat"], &[]))
            .ok()
            .contains("count: 6")
    );
    run(with(&["slice", "r.dat", "s.npy", "::2"], &[])).ok();
    assert_eq!(s.run(&["show", "s.npy"]).ok(), "memmap([0., 2., 4.])\n");
    run(with(&["convert", "r.dat", "c.npy"], &["--shape", "3,2"])).ok();
    assert_eq!(s.json(&["info", "c.npy", "--json"])["shape"], json!([3, 2]));
    let writable = s.path("w.dat");
    std::fs::copy(s.path("r.dat"), &writable).unwrap();
    run(with(&["fill", "w.dat", "-1"], &["--slice", "-1"])).ok();
    run(with(
        &["random", "w.dat", "--seed", "1"],
        &["--slice", ":1"],
    ))
    .ok();
    assert_eq!(s.read("w.dat")[3 + 40..], (-1.0f64).to_le_bytes());

    // 51 bytes after offset 0 are not whole float64 items; a shape that needs more data fails.
    s.run(&["info", "r.dat", "--raw", "--dtype", "f8"])
        .fails(1, &["r.dat"]);
    s.run(&[
        "info", "r.dat", "--raw", "--dtype", "f8", "--offset", "3", "--shape", "7",
    ])
    .fails(1, &["r.dat"]);
    s.run(&["info", "r.dat", "--raw", "--dtype", "f8", "--offset", "99"])
        .fails(1, &["r.dat"]);
    // A raw file is not .npy.
    s.run(&["info", "r.dat"]).fails(1, &["r.dat"]);
}

#[test]
fn read_commands_leave_inputs_untouched() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", "f4", "6,5");
    let before = snapshot(&s, "a.npy");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let commands: &[&[&str]] = &[
        &["info", "a.npy"],
        &["info", "a.npy", "--json"],
        &["show", "a.npy", "--slice", "::-1"],
        &["reduce", "a.npy", "--op", "std"],
        &[
            "reduce", "a.npy", "--op", "sum", "--axis", "0", "--out", "r.npy",
        ],
        &["stats", "a.npy", "--json"],
        &["slice", "a.npy", "s.npy", "1:"],
        &["convert", "a.npy", "c.npy", "--out-byte-order", "big"],
        &["slice", "a.npy", "s.npy", "9"],
        &["convert", "a.npy", "a.npy"],
    ];
    for args in commands {
        let _ = s.run(args);
        assert_eq!(snapshot(&s, "a.npy"), before, "{args:?} changed its input");
    }
}

// ---------------------------------------------------------------- bad files

/// The bad `.npy` files of the reliability issue, made from a good one.
#[allow(clippy::too_many_lines)] // a table of cases, one per bad file
fn bad_npy_files(good: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty.npy", vec![]),
        ("magic.npy", b"\x93NUMPX\x01\x00".to_vec()),
        ("short_header.npy", good[..20].to_vec()),
        ("truncated.npy", good[..good.len() - 1].to_vec()),
        (
            "version.npy",
            [b"\x93NUMPY\x04\x00".as_slice(), &good[8..]].concat(),
        ),
        ("object.npy", npy_bytes("|O", false, "(3,)", &[0; 24])),
        ("unicode.npy", npy_bytes("<U3", false, "(2,)", &[0; 24])),
        ("longdouble.npy", npy_bytes("<f16", false, "(1,)", &[0; 16])),
        (
            "structured.npy",
            npy_bytes("[('a', '<i4')]", false, "(1,)", &[0; 4]),
        ),
        ("negative.npy", npy_bytes("<f8", false, "(-1,)", &[])),
        ("magic_only.npy", b"\x93NUMPY".to_vec()),
        ("header_past_end.npy", {
            let mut b = good.to_vec();
            b[8..10].copy_from_slice(&5000u16.to_le_bytes());
            b
        }),
        (
            "not_dict.npy",
            npy_with_header(b"['<f8', False, (3,)]\n", false, &[0; 24]),
        ),
        (
            "extra_key.npy",
            npy_with_header(
                b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}\n",
                false,
                &[0; 24],
            ),
        ),
        (
            "fortran_int.npy",
            npy_with_header(
                b"{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}\n",
                false,
                &[0; 24],
            ),
        ),
        (
            "shape_float.npy",
            npy_with_header(
                b"{'descr': '<f8', 'fortran_order': False, 'shape': (3.0,)}\n",
                false,
                &[0; 24],
            ),
        ),
        (
            "shape_bool.npy",
            npy_with_header(
                b"{'descr': '<f8', 'fortran_order': False, 'shape': (True,)}\n",
                false,
                &[0; 8],
            ),
        ),
        (
            "shape_overflow.npy",
            npy_with_header(
                b"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}\n",
                false,
                &[0; 8],
            ),
        ),
        (
            "bad_utf8.npy",
            npy_with_header(
                b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), '\xff': 1}\n",
                true,
                &[0; 24],
            ),
        ),
        (
            "nul.npy",
            npy_with_header(
                b"{'descr': '<f8',\x00 'fortran_order': False, 'shape': (3,)}\n",
                false,
                &[0; 24],
            ),
        ),
        (
            "expression.npy",
            npy_with_header(
                b"{'descr': '<f8', 'fortran_order': False, 'shape': (1+2,)}\n",
                false,
                &[0; 24],
            ),
        ),
        (
            "call.npy",
            npy_with_header(
                b"{'descr': __import__('os').name, 'fortran_order': False, 'shape': (3,)}\n",
                false,
                &[0; 24],
            ),
        ),
        ("keys.npy", {
            let mut b = good.to_vec();
            let at = b.windows(5).position(|w| w == b"shape").unwrap();
            b[at..at + 5].copy_from_slice(b"shap_");
            b
        }),
    ]
}

#[test]
fn bad_files_are_errors_that_name_the_file() {
    let s = Scratch::new();
    let good = npy_bytes("<f8", false, "(3,)", &f64_bytes(&[1.0, 2.0, 3.0]));
    let cases = bad_npy_files(&good);
    for (name, bytes) in &cases {
        s.write(name, bytes);
        s.run(&["info", name]).fails(1, &[name]);
        s.run(&["show", name]).fails(1, &[name]);
        s.run(&["stats", name, "--json"]).fails(1, &[name]);
        assert_eq!(&s.read(name), bytes, "{name} was modified");
    }
    let line = s.run(&["info", "object.npy"]).fails(1, &["object.npy"]);
    assert!(line.contains("object"), "{line}");
    std::fs::create_dir(s.path("folder.npy")).unwrap();
    s.run(&["info", "folder.npy"]).fails(1, &["folder.npy"]);
    s.run(&["info", "nope.npy"]).fails(1, &["nope.npy"]);
    // Bytes after the data are ignored, as numpy ignores them.
    s.write("extra.npy", &[good.as_slice(), b"trailing"].concat());
    assert_eq!(s.run(&["show", "extra.npy"]).ok(), "memmap([1., 2., 3.])\n");
}

#[test]
fn header_size_cap_can_be_lifted() {
    let s = Scratch::new();
    let mut header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }".to_owned();
    header.push_str(&" ".repeat(20000));
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(f64_bytes(&[1.5, 2.5]));
    s.write("big_header.npy", &bytes);
    s.run(&["show", "big_header.npy"])
        .fails(1, &["big_header.npy"]);
    assert_eq!(
        s.run(&["show", "big_header.npy", "--max-header-size", "30000"])
            .ok(),
        "memmap([1.5, 2.5])\n"
    );
    let info = s.json(&[
        "info",
        "big_header.npy",
        "--json",
        "--max-header-size",
        "30000",
    ]);
    assert_eq!(info["version"], json!([2, 0]));
}

// ---------------------------------------------------------------- tour

#[test]
fn tour_walks_through_numpy_memmap() {
    let s = Scratch::new();
    let run = s.run(&["tour", "--shape", "20,30", "--seed", "7", "--dir", "kept"]);
    let out = run.ok();
    assert!(
        out.contains("open_memmap('data.npy', mode='w+', dtype='float64', shape=(20, 30))"),
        "{out}"
    );
    assert!(out.contains("np.random.standard_normal((5, 30))"), "{out}");
    assert!(
        out.contains(
            "np.memmap('data.npy', dtype='float64', mode='r', offset=128, shape=(20, 30))"
        ),
        "{out}"
    );
    assert!(out.contains("np.load('data.npy', mmap_mode='r')"), "{out}");
    assert!(
        out.contains("data.npy: 4.812 KiB (4928 bytes): a 128-byte header and 4800 bytes of data"),
        "{out}"
    );
    assert!(out.contains("timings:"), "{out}");
    let reprs: Vec<&str> = out
        .match_indices("memmap([")
        .map(|(at, _)| {
            let rest = &out[at..];
            &rest[..rest.find("])").unwrap() + 2]
        })
        .collect();
    assert_eq!(reprs.len(), 3, "{out}");
    // 20 x 30 = 600 items: printed in full, zeros first, then five rows of random values.
    assert!(reprs[0].contains("memmap([[0., 0., 0."), "{out}");
    assert!(!reprs[0].contains("..."), "{out}");
    assert_eq!(reprs[1], reprs[2], "both reopenings show the same data");
    // The written file holds the same values as the last print shows.
    let shown = s.run(&["show", "kept/data.npy"]);
    assert!(out.contains(shown.ok().trim_end()), "{out}");
    let rows = s.json(&[
        "reduce",
        "kept/data.npy",
        "--op",
        "std",
        "--axis",
        "1",
        "--json",
    ]);
    let rows = rows["value"].as_array().unwrap();
    assert!(
        rows[..5].iter().all(|v| v.as_f64().unwrap() > 0.3),
        "{rows:?}"
    );
    assert!(
        rows[5..].iter().all(|v| v.as_f64().unwrap() == 0.0),
        "{rows:?}"
    );
    // Same seed, same file; without --dir the temporary folder goes away.
    s.run(&["tour", "--shape", "20,30", "--seed", "7", "--dir", "kept"])
        .fails(1, &["data.npy", "exists"]);
    let again = s.run(&["tour", "--shape", "20,30", "--seed", "7", "--dir", "kept2"]);
    again.ok();
    assert_eq!(s.read("kept/data.npy"), s.read("kept2/data.npy"));
    let temp = s.run(&["tour", "--shape", "3", "--seed", "1"]);
    let text = temp.ok();
    let folder = text
        .split(" (in ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    assert!(
        !std::path::Path::new(folder).exists(),
        "{folder} was not removed"
    );
}

#[test]
fn summarised_tour_shape() {
    let s = Scratch::new();
    let out = s.run(&["tour", "--shape", "1000,1000", "--seed", "1"]);
    let text = out.ok();
    assert!(
        text.contains("memmap([[0., 0., 0., ..., 0., 0., 0.],"),
        "{text}"
    );
    assert!(text.contains("shape=(1000, 1000))"), "{text}");
}

// ---------------------------------------------------------------- info on several files

#[test]
fn info_takes_several_files_and_goes_on_after_a_failure() {
    let s = Scratch::new();
    arange_file(&s, "a.npy", ">i2", "2,3");
    arange_file(&s, "b.npy", "c8", "4");
    let one = s.json(&["info", "a.npy", "--json"]);
    assert!(one.is_object(), "{one}");
    assert_eq!(
        (one["descr"].clone(), one["name"].clone()),
        (json!(">i2"), json!("int16"))
    );
    let both = s.json(&["info", "a.npy", "b.npy", "--json"]);
    assert_eq!(both.as_array().map(Vec::len), Some(2), "{both}");
    assert_eq!(both[0], one);
    assert_eq!(both[1]["name"], "complex64");
    assert_eq!(both[1]["shape"], json!([4]));

    let run = s.run(&["info", "a.npy", "missing.npy", "b.npy", "--json"]);
    run.fails(1, &["missing.npy"]);
    let listed: Json = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(listed, both, "the readable files are still described");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    let human = s.run(&["info", "missing.npy", "a.npy", "b.npy"]);
    human.fails(1, &["missing.npy"]);
    assert!(
        human.stdout.contains("a.npy: .npy version 1.0"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("b.npy: .npy version 1.0"),
        "{}",
        human.stdout
    );
    // One file alone keeps its error as the command's error.
    s.run(&["info", "missing.npy", "--json"])
        .fails(1, &["missing.npy"]);
}

// ---------------------------------------------------------------- completions

#[test]
fn completion_scripts_name_every_subcommand() {
    let s = Scratch::new();
    let subs = [
        "create",
        "info",
        "show",
        "export",
        "completions",
        "fill",
        "random",
        "reduce",
        "stats",
        "slice",
        "convert",
        "append",
        "tour",
    ];
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = s.run(&["completions", shell]).ok().to_owned();
        assert!(script.len() > 1000, "{shell}: {} bytes", script.len());
        for sub in subs {
            assert!(script.contains(sub), "{shell} script does not name {sub}");
        }
        assert!(script.contains("precision"), "{shell}: no show flags");
    }
    s.write(
        "mmarray.bash",
        s.run(&["completions", "bash"]).ok().as_bytes(),
    );
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(s.path("mmarray.bash"))
        .output()
        .expect("run bash -n");
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    s.run(&["completions", "tcsh"]).fails(2, &["tcsh"]);
    s.run(&["completions"]).fails(2, &[]);
}

// ---------------------------------------------------------------- export

#[test]
fn export_writes_text_files_and_refuses_what_savetxt_cannot_write() {
    let s = Scratch::new();
    arange_file(&s, "m.npy", "i4", "2,3");
    arange_file(&s, "cube.npy", "f8", "2,2,2");
    assert_eq!(
        s.run(&["export", "m.npy", "-", "--fmt", "%d"]).ok(),
        "0 1 2\n3 4 5\n"
    );
    s.run(&["export", "m.npy", "m.csv", "--fmt", "%.1f"]).ok();
    assert_eq!(s.read("m.csv"), b"0.0,1.0,2.0\n3.0,4.0,5.0\n");
    // An existing OUT is refused (and kept) without --force, replaced with it.
    s.run(&["export", "m.npy", "m.csv"])
        .fails(1, &["m.csv", "--force"]);
    assert_eq!(s.read("m.csv"), b"0.0,1.0,2.0\n3.0,4.0,5.0\n");
    s.run(&["export", "m.npy", "m.csv", "--fmt", "%d", "--force"])
        .ok();
    assert_eq!(s.read("m.csv"), b"0,1,2\n3,4,5\n");
    // More than 2 dimensions: an error that says how to select fewer.
    s.run(&["export", "cube.npy", "c.txt"])
        .fails(1, &["cube.npy", "3-d", "--slice"]);
    assert_eq!(
        s.run(&["export", "cube.npy", "--slice", "-1, 0", "--fmt", "%g"])
            .ok(),
        "4\n5\n"
    );
    // FMT that is no printf number format: usage errors, before any file is made.
    for bad in ["%", "abc", "%c", "%*d", "%(x)d", "%q", "%r"] {
        s.run(&["export", "m.npy", "bad.txt", "--fmt", bad])
            .fails(2, &["--fmt"]);
    }
    s.run(&["export", "m.npy", "bad.txt", "--format", "json"])
        .fails(2, &["json"]);
    // Formats that do not fit the file: errors naming it (exit 1).
    s.run(&[
        "export", "cube.npy", "bad.txt", "--slice", "0", "--fmt", "%x",
    ])
    .fails(1, &["cube.npy", "%x", "integer"]);
    s.run(&["export", "m.npy", "bad.txt", "--fmt", "%d %d"])
        .fails(1, &["m.npy", "conversions"]);
    std::fs::create_dir(s.path("dir.txt")).unwrap();
    s.run(&["export", "m.npy", "dir.txt", "--force"])
        .fails(1, &["dir.txt", "directory"]);
    let left: Vec<String> = s
        .files()
        .into_iter()
        .filter(|n| n.starts_with("bad") || n.contains("mmarray-tmp") || n.starts_with("c."))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn export_of_nan_with_an_integer_format_leaves_nothing_behind() {
    let s = Scratch::new();
    s.run(&["create", "n.npy", "--dtype", "f4", "--shape", "100000"])
        .ok();
    s.run(&["fill", "n.npy", "nan", "--slice", "-1"]).ok();
    s.run(&["export", "n.npy", "n.txt", "--fmt", "%d"])
        .fails(1, &["n.npy", "NaN"]);
    assert_eq!(s.files(), ["n.npy"]);
}

#[test]
fn export_into_a_closed_pipe_stops_without_a_panic() {
    let s = Scratch::new();
    s.run(&["create", "big.npy", "--dtype", "f8", "--shape", "2000000"])
        .ok();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mmarray"))
        .args(["export", "big.npy", "-"])
        .current_dir(s.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn mmarray");
    // Read one line, then close the pipe as `head -1` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 25];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"0.000000000000000000e+00\n");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.status.code().is_some(),
        "killed by a signal: {:?}",
        out.status
    );
    assert!(out.status.code().unwrap() <= 1, "{:?} {stderr}", out.status);
}
