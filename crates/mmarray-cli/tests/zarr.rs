//! Zarr stores in the `mmarray` command: every reading subcommand gives on a store
//! what it gives on a `.npy` of the same data (same text and JSON; reductions bit
//! for bit), `fill` and `random` write stores in place (`random --seed` gives the
//! same values as on a `.npy`), `.zarr` outputs with chunks, shards and codecs,
//! conversions both ways, hostile stores (an `error:` line naming the store and
//! the chunk, exit 1, the store unchanged), and interop with zarr-python (from
//! `MMARRAY_PYTHON` or the interop venv; a missing zarr fails the test).

#[path = "../../mmarray-dtype/tests/support/numpy.rs"]
mod numpy;

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

use common::Scratch;
use serde_json::Value as Json;

/// Every file under `dir` (relative name -> bytes), to see that a store is unchanged.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let e = e.expect("entry");
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let name = p
                    .strip_prefix(root)
                    .expect("under root")
                    .display()
                    .to_string();
                out.insert(name, std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The outputs of the reading subcommands on `name` (text and JSON), with the
/// `info` fields that do not depend on the format.
fn readings(s: &Scratch, name: &str, ndim: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut run = |args: Vec<&str>| {
        let mut all = args.clone();
        all.insert(1, name);
        let r = s.run(&all);
        out.push((
            args.join(" "),
            format!("{} {}{}", r.code, r.stdout, r.stderr.replace(name, "IN")),
        ));
    };
    run(vec!["show"]);
    run(vec!["show", "--slice", "::-1"]);
    run(vec![
        "show",
        "--precision",
        "3",
        "--threshold",
        "5",
        "--edgeitems",
        "1",
    ]);
    if ndim > 0 {
        run(vec!["show", "--slice", "-1"]);
    }
    if ndim >= 2 {
        run(vec!["show", "--slice", "1:, ::-2"]);
        run(vec!["export", "-", "--slice", "::2, 1:", "--fmt", "%.6g"]);
    }
    if ndim <= 2 {
        run(vec!["export", "-"]);
        run(vec!["export", "-", "--format", "csv", "--fmt", "%.3e"]);
    }
    for op in [
        "sum", "mean", "min", "max", "argmin", "argmax", "var", "std",
    ] {
        run(vec!["reduce", "--op", op, "--json"]);
        run(vec!["reduce", "--op", op, "--skipna"]);
        if ndim >= 1 {
            run(vec!["reduce", "--op", op, "--axis", "0", "--json"]);
            run(vec!["reduce", "--op", op, "--axis", "-1"]);
        }
    }
    run(vec!["reduce", "--op", "std", "--ddof", "1", "--json"]);
    run(vec!["stats", "--json"]);
    run(vec!["stats", "--skipna"]);
    let info = s.json(&["info", name, "--json"]);
    let mut fields = serde_json::Map::new();
    for key in [
        "descr",
        "name",
        "shape",
        "fortran_order",
        "itemsize",
        "size",
        "nbytes",
    ] {
        // The memory order of a 0-d or 1-d array means nothing (a store drops it).
        if key != "fortran_order" || ndim >= 2 {
            fields.insert(key.to_owned(), info[key].clone());
        }
    }
    out.push(("info".to_owned(), Json::Object(fields).to_string()));
    out
}

/// Asserts that `a` and `b` read the same.
#[track_caller]
fn same_readings(s: &Scratch, a: &str, b: &str, ndim: usize) {
    let ra = readings(s, a, ndim);
    let rb = readings(s, b, ndim);
    for ((cmd, x), (_, y)) in ra.iter().zip(&rb) {
        assert_eq!(x, y, "{cmd}: {a} vs {b}");
    }
}

/// dtype, shape, order, how to fill, chunks, shards, codec.
type Case<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
);

#[test]
fn every_reading_subcommand_gives_on_a_store_what_it_gives_on_the_npy() {
    let s = Scratch::new();
    // dtype, shape, order, how to fill, chunks, shards, codec
    let cases: &[Case] = &[
        ("<f8", "13,11", "C", "random", "4,3", None, "zstd"),
        (">f4", "9,10", "C", "random", "2,4", Some("2,2"), "gzip:3"),
        ("<f8", "7,5,6", "F", "random", "3,2,4", None, "blosc:lz4:5"),
        ("<i2", "40", "C", "arange", "7", None, "none"),
        (">u4", "6,7", "F", "arange", "4,4", Some("1,2"), "zstd:3"),
        ("?", "5,6", "C", "random", "2,2", None, "zstd"),
        ("<c8", "8,3", "C", "random", "3,3", None, "blosc"),
        ("<f2", "9,4", "C", "random", "4,4", None, "zstd"),
        ("<i8", "", "C", "arange", "", None, "zstd"),
    ];
    for (i, &(dtype, shape, order, how, chunks, shards, codec)) in cases.iter().enumerate() {
        let npy = format!("a{i}.npy");
        let zarr = format!("a{i}.zarr");
        let mut args = vec![
            "create", &npy, "--dtype", dtype, "--shape", shape, "--order", order,
        ];
        if how == "arange" {
            args.push("--arange");
        } else if dtype != "?" && !dtype.contains('i') && !dtype.contains('u') {
            args.extend(["--random", "normal", "--seed", "3"]);
        }
        s.run(&args).ok();
        if dtype == "?" {
            s.run(&["random", &npy, "--seed", "4"]).ok();
        }
        if dtype.contains('f') {
            // NaNs for --skipna, in a corner and in the middle.
            s.run(&["fill", &npy, "nan", "--slice", "1, 2"]).ok();
        }
        let mut conv = vec!["convert", &npy, &zarr, "--codec", codec];
        if !chunks.is_empty() || shape.is_empty() {
            conv.extend(["--chunks", chunks]);
        }
        if let Some(sh) = shards {
            conv.extend(["--shards", sh]);
        }
        s.run(&conv).ok();
        let info = s.json(&["info", &zarr, "--json"]);
        assert_eq!(info["format"], "zarr", "{info}");
        assert_eq!(info["version"], serde_json::json!([3]));
        assert_eq!(info["descr"], s.json(&["info", &npy, "--json"])["descr"]);
        assert_eq!(info["fortran_order"], order == "F");
        let want_codec = codec.split(':').next().unwrap_or_default();
        let codecs = info["codecs"].to_string();
        if want_codec != "none" {
            assert!(codecs.contains(want_codec), "{codecs} lacks {want_codec}");
        }
        assert_eq!(codecs.contains("transpose"), order == "F", "{codecs}");
        assert_eq!(info["shards"].is_null(), shards.is_none(), "{info}");
        let ndim = shape.split(',').filter(|p| !p.is_empty()).count();
        same_readings(&s, &npy, &zarr, ndim);
        // Back to .npy: the same bytes (dtype, byte order, memory order kept).
        let back = format!("b{i}.npy");
        s.run(&["convert", &zarr, &back]).ok();
        assert_eq!(s.read(&back), s.read(&npy), "{zarr} -> {back}");
        // Slices: the same .npy from either.
        if ndim >= 1 {
            let spec = if ndim == 1 { "::-3" } else { "1:, ::-2" };
            let (x, y) = (format!("sx{i}.npy"), format!("sy{i}.npy"));
            s.run(&["slice", &npy, &x, spec]).ok();
            s.run(&["slice", &zarr, &y, spec]).ok();
            assert_eq!(s.read(&x), s.read(&y), "slice {spec} of {zarr}");
            // reduce --axis --out: the same .npy.
            let (x, y) = (format!("rx{i}.npy"), format!("ry{i}.npy"));
            s.run(&["reduce", &npy, "--op", "sum", "--axis", "0", "--out", &x])
                .ok();
            s.run(&["reduce", &zarr, "--op", "sum", "--axis", "0", "--out", &y])
                .ok();
            assert_eq!(s.read(&x), s.read(&y), "reduce --out of {zarr}");
        }
    }
}

#[test]
fn reductions_and_prints_do_not_depend_on_the_chunking() {
    let s = Scratch::new();
    s.run(&[
        "create", "a.npy", "--dtype", "f8", "--shape", "300,170", "--random", "normal", "--seed",
        "9",
    ])
    .ok();
    let want: Vec<String> = ["sum", "mean", "var", "std", "argmax"]
        .iter()
        .map(|op| {
            s.run(&["reduce", "a.npy", "--op", op, "--json"])
                .ok()
                .to_owned()
        })
        .collect();
    for (k, chunks) in ["1,170", "300,1", "7,13", "64,64", "300,170"]
        .iter()
        .enumerate()
    {
        let z = format!("c{k}.zarr");
        s.run(&[
            "convert", "a.npy", &z, "--chunks", chunks, "--codec", "none",
        ])
        .ok();
        // Summarised prints come from the store's corners alone.
        for args in [
            &[][..],
            &["--edgeitems", "2", "--linewidth", "50"],
            &["--slice", "::-7, 3"],
        ] {
            let mut x = vec!["show", "a.npy"];
            x.extend_from_slice(args);
            let mut y = vec!["show", z.as_str()];
            y.extend_from_slice(args);
            assert_eq!(
                s.run(&x).ok(),
                s.run(&y).ok(),
                "show {args:?} over chunks {chunks}"
            );
        }
        for (op, want) in ["sum", "mean", "var", "std", "argmax"].iter().zip(&want) {
            for threads in ["1", "2", "3"] {
                let got = s.run(&["reduce", &z, "--op", op, "--json", "--threads", threads]);
                assert_eq!(
                    got.ok(),
                    want,
                    "{op} over chunks {chunks}, {threads} threads"
                );
            }
        }
    }
}

#[test]
fn random_and_fill_on_a_store_give_what_they_give_on_the_npy() {
    let s = Scratch::new();
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("f8", "23,17", "C", &[]),
        (">f4", "23,17", "F", &["--dist", "uniform"]),
        ("i4", "50", "C", &["--low", "-5", "--high", "7"]),
        ("u2", "6,9", "F", &["--high", "1000"]),
        ("c16", "11,3", "C", &[]),
        ("?", "12,5", "C", &[]),
        ("f2", "4,5,6", "C", &[]),
    ];
    for (i, &(dtype, shape, order, extra)) in cases.iter().enumerate() {
        let (npy, zarr) = (format!("r{i}.npy"), format!("r{i}.zarr"));
        s.run(&[
            "create", &npy, "--dtype", dtype, "--shape", shape, "--order", order,
        ])
        .ok();
        s.run(&[
            "create",
            &zarr,
            "--dtype",
            dtype,
            "--shape",
            shape,
            "--order",
            order,
            "--chunks",
            &shape
                .split(',')
                .map(|n| n.parse::<usize>().unwrap().div_ceil(3).to_string())
                .collect::<Vec<_>>()
                .join(","),
        ])
        .ok();
        for target in [&npy, &zarr] {
            let mut args = vec!["random", target.as_str(), "--seed", "77"];
            args.extend_from_slice(extra);
            let r = s.run(&args);
            r.ok();
            let mut args = vec!["random", target.as_str(), "--seed", "78", "--slice", "1::3"];
            args.extend_from_slice(extra);
            s.run(&args).ok();
            let value = if dtype == "?" { "true" } else { "3" };
            s.run(&["fill", target, value, "--slice", "::4, ..."]).ok();
        }
        let back = format!("b{i}.npy");
        s.run(&["convert", &zarr, &back]).ok();
        assert_eq!(s.read(&back), s.read(&npy), "{dtype} {shape} {order}");
    }
}

#[test]
fn created_stores_have_the_options_asked_for() {
    let s = Scratch::new();
    s.run(&[
        "create", "z.zarr", "--dtype", "<f4", "--shape", "10,12", "--chunks", "3,5", "--shards",
        "2,3", "--codec", "gzip:4", "--fill", "1.5",
    ])
    .ok();
    let info = s.json(&["info", "z.zarr", "--json"]);
    assert_eq!(info["chunks"], serde_json::json!([3, 5]));
    assert_eq!(info["shards"], serde_json::json!([6, 15]));
    assert_eq!(info["fill_value"], serde_json::json!(1.5));
    assert_eq!(
        info["codecs"],
        serde_json::json!(["sharding_indexed", "bytes", "gzip"])
    );
    assert_eq!(
        s.run(&["reduce", "z.zarr", "--op", "sum"]).ok().trim(),
        "180.0"
    );
    // --fill writes no chunk: the fill value does it.
    let files: Vec<String> = tree(&s.path("z.zarr")).into_keys().collect();
    assert_eq!(files, ["zarr.json"]);
    let meta: Json = serde_json::from_slice(&s.read("z.zarr/zarr.json")).unwrap();
    assert_eq!(
        meta["dimension_names"],
        serde_json::json!(["dim_0", "dim_1"])
    );
    // Default chunks: whole rows of about 8 MiB.
    s.run(&["create", "d.zarr", "--dtype", "f8", "--shape", "3000,1000"])
        .ok();
    let info = s.json(&["info", "d.zarr", "--json"]);
    assert_eq!(info["chunks"], serde_json::json!([1048, 1000]));
    assert_eq!(info["codecs"], serde_json::json!(["bytes", "zstd"]));
    // create --arange on a store and on a .npy agree, in either order.
    for order in ["C", "F"] {
        let z = format!("ar{order}.zarr");
        let n = format!("ar{order}.npy");
        s.run(&[
            "create", &z, "--dtype", ">i4", "--shape", "5,6", "--order", order, "--arange",
            "--chunks", "2,4",
        ])
        .ok();
        s.run(&[
            "create", &n, "--dtype", ">i4", "--shape", "5,6", "--order", order, "--arange",
        ])
        .ok();
        s.run(&["convert", &z, &format!("{n}.back.npy")]).ok();
        assert_eq!(s.read(&format!("{n}.back.npy")), s.read(&n));
        s.run(&[
            "create",
            &z.replace(".zarr", "r.zarr"),
            "--dtype",
            "c8",
            "--shape",
            "5,6",
            "--order",
            order,
            "--random",
            "uniform",
            "--seed",
            "1",
        ])
        .ok();
        s.run(&[
            "create",
            &n.replace(".npy", "r.npy"),
            "--dtype",
            "c8",
            "--shape",
            "5,6",
            "--order",
            order,
            "--random",
            "uniform",
            "--seed",
            "1",
        ])
        .ok();
        same_readings(
            &s,
            &n.replace(".npy", "r.npy"),
            &z.replace(".zarr", "r.zarr"),
            2,
        );
    }
}

#[test]
fn an_existing_store_is_replaced_only_with_force_and_a_folder_never() {
    let s = Scratch::new();
    s.run(&["create", "z.zarr", "--dtype", "f4", "--shape", "3,2"])
        .ok();
    s.run(&["create", "arC.npy", "--dtype", "f4", "--shape", "3,2"])
        .ok();
    s.run(&["create", "z.zarr", "--dtype", "u1", "--shape", "3"])
        .fails(1, &["z.zarr", "exists"]);
    s.run(&[
        "create", "z.zarr", "--dtype", "u1", "--shape", "3", "--force",
    ])
    .ok();
    assert_eq!(
        s.json(&["info", "z.zarr", "--json"])["shape"],
        serde_json::json!([3])
    );
    std::fs::create_dir(s.path("plain.zarr")).unwrap();
    std::fs::write(s.path("plain.zarr/keep.txt"), b"mine").unwrap();
    s.run(&[
        "create",
        "plain.zarr",
        "--dtype",
        "u1",
        "--shape",
        "3",
        "--force",
    ])
    .fails(1, &["plain.zarr", "not a Zarr array"]);
    s.run(&["convert", "arC.npy", "plain.zarr", "--force"])
        .fails(1, &["plain.zarr", "not a Zarr array"]);
    assert_eq!(
        std::fs::read(s.path("plain.zarr/keep.txt")).unwrap(),
        b"mine"
    );
    // Nothing left behind but the outputs.
    assert!(
        s.files().iter().all(|f| !f.starts_with('.')),
        "{:?}",
        s.files()
    );
}

#[test]
fn zarr_options_are_checked_on_the_command_line() {
    let s = Scratch::new();
    s.run(&["create", "a.npy", "--dtype", "f8", "--shape", "4"])
        .ok();
    for (args, needle) in [
        (
            vec![
                "create", "x.zarr", "--dtype", "f8", "--shape", "4", "--codec", "lzma",
            ],
            "lzma",
        ),
        (
            vec![
                "create", "x.zarr", "--dtype", "f8", "--shape", "4", "--codec", "zstd:99",
            ],
            "zstd:99",
        ),
        (
            vec![
                "create",
                "x.zarr",
                "--dtype",
                "f8",
                "--shape",
                "4",
                "--codec",
                "blosc:snappy",
            ],
            "snappy",
        ),
        (
            vec![
                "create", "x.zarr", "--dtype", "f8", "--shape", "4", "--codec", "gzip:1:2",
            ],
            "too many",
        ),
        (
            vec![
                "create", "x.zarr", "--dtype", "f8", "--shape", "4", "--chunks", "2,x",
            ],
            "2,x",
        ),
        (
            vec![
                "create", "x.npy", "--dtype", "f8", "--shape", "4", "--chunks", "2",
            ],
            "x.npy",
        ),
        (
            vec!["convert", "a.npy", "x.npy", "--codec", "none"],
            ".zarr",
        ),
        (
            vec!["slice", "a.npy", "x.npy", ":2", "--shards", "2"],
            ".zarr",
        ),
        (
            vec!["create", "x.zarr", "--dtype", "f8", "--shape", "4", "--raw"],
            "--raw",
        ),
        (vec!["convert", "a.npy", "x.zarr", "--out-raw"], "--out-raw"),
    ] {
        s.run(&args).fails(2, &[needle]);
    }
    // What needs the shape to be seen is exit 1.
    s.run(&["convert", "a.npy", "x.zarr", "--chunks", "2,2"])
        .fails(1, &["x.zarr"]);
    s.run(&["convert", "a.npy", "x.zarr", "--chunks", "0"])
        .fails(1, &["x.zarr"]);
    // numpy's "array is too big", named by the store (not the folder staged
    // beside it).
    for shape in ["9223372036854775808", "9223372036854775808,0"] {
        let err = s
            .run(&["create", "x.zarr", "--dtype", "u1", "--shape", shape])
            .fails(
                1,
                &["x.zarr: shape [", "is too large", "does not fit in isize"],
            );
        assert!(!err.contains("mmarray-zarr-tmp"), "{err}");
    }
    assert_eq!(s.files(), ["a.npy"]);
}

#[test]
fn conversions_both_ways_keep_values_byte_order_and_order() {
    let s = Scratch::new();
    s.run(&[
        "create", "a.npy", "--dtype", ">f8", "--shape", "6,7", "--order", "F", "--random",
        "normal", "--seed", "2",
    ])
    .ok();
    // .npy -> store: dtype, byte order and order kept unless told otherwise.
    s.run(&["convert", "a.npy", "a.zarr", "--chunks", "4,4"])
        .ok();
    let info = s.json(&["info", "a.zarr", "--json"]);
    assert_eq!(
        (info["descr"].as_str(), info["fortran_order"].as_bool()),
        (Some(">f8"), Some(true))
    );
    s.run(&[
        "convert",
        "a.npy",
        "b.zarr",
        "--out-dtype",
        "float32",
        "--out-order",
        "C",
    ])
    .ok();
    let info = s.json(&["info", "b.zarr", "--json"]);
    assert_eq!(
        (info["descr"].as_str(), info["fortran_order"].as_bool()),
        (Some("<f4"), Some(false))
    );
    s.run(&[
        "convert",
        "a.npy",
        "b.npy",
        "--out-dtype",
        "float32",
        "--out-order",
        "C",
    ])
    .ok();
    same_readings(&s, "b.npy", "b.zarr", 2);
    s.run(&[
        "convert",
        "a.npy",
        "c.zarr",
        "--out-dtype",
        "i2",
        "--out-byte-order",
        "big",
    ])
    .ok();
    s.run(&[
        "convert",
        "a.npy",
        "c.npy",
        "--out-dtype",
        "i2",
        "--out-byte-order",
        "big",
    ])
    .ok();
    assert_eq!(s.json(&["info", "c.zarr", "--json"])["descr"], ">i2");
    s.run(&["convert", "c.zarr", "c2.npy"]).ok();
    assert_eq!(s.read("c2.npy"), s.read("c.npy"));
}

#[test]
fn stores_convert_to_stores_and_npy_and_take_slices_and_reductions() {
    let s = Scratch::new();
    s.run(&[
        "create", "a.npy", "--dtype", ">f8", "--shape", "6,7", "--order", "F", "--random",
        "normal", "--seed", "2",
    ])
    .ok();
    s.run(&["convert", "a.npy", "a.zarr", "--chunks", "4,4"])
        .ok();
    s.run(&["convert", "a.npy", "b.npy", "--out-dtype", "float32"])
        .ok();
    // store -> store, store -> .npy with another dtype / byte order / order.
    s.run(&[
        "convert", "a.zarr", "d.zarr", "--codec", "gzip", "--shards", "1,2",
    ])
    .ok();
    s.run(&["convert", "d.zarr", "d.npy"]).ok();
    assert_eq!(s.read("d.npy"), s.read("a.npy"));
    s.run(&[
        "convert",
        "a.zarr",
        "e.npy",
        "--out-byte-order",
        "little",
        "--out-order",
        "C",
    ])
    .ok();
    s.run(&[
        "convert",
        "a.npy",
        "e2.npy",
        "--out-byte-order",
        "little",
        "--out-order",
        "C",
    ])
    .ok();
    assert_eq!(s.read("e.npy"), s.read("e2.npy"));
    // slice into a store, reduce --out into a store.
    s.run(&["slice", "a.zarr", "s.zarr", "1:, ::2"]).ok();
    s.run(&["slice", "a.npy", "s.npy", "1:, ::2"]).ok();
    same_readings(&s, "s.npy", "s.zarr", 2);
    s.run(&[
        "reduce", "a.zarr", "--op", "mean", "--axis", "1", "--out", "m.zarr", "--codec", "none",
    ])
    .ok();
    s.run(&[
        "reduce", "a.npy", "--op", "mean", "--axis", "1", "--out", "m.npy",
    ])
    .ok();
    same_readings(&s, "m.npy", "m.zarr", 1);
    // An existing output: refused without --force, replaced with it.
    s.run(&["convert", "a.npy", "a.zarr"])
        .fails(1, &["a.zarr", "exists"]);
    s.run(&["convert", "b.npy", "a.zarr", "--force"]).ok();
    assert_eq!(s.json(&["info", "a.zarr", "--json"])["descr"], "<f4");
    // Raw and .npz inputs.
    s.run(&["convert", "a.npy", "r.dat", "--out-raw"]).ok();
    s.run(&[
        "convert", "r.dat", "r.zarr", "--raw", "--dtype", ">f8", "--shape", "6,7", "--order", "F",
    ])
    .ok();
    same_readings(&s, "a.npy", "r.zarr", 2);
    s.run(&["convert", "a.npy", "n.npz", "--member", "x"]).ok();
    s.run(&["convert", "n.npz", "n.zarr"]).ok();
    same_readings(&s, "a.npy", "n.zarr", 2);
    // A store into an archive (through a staged .npy beside it, removed after),
    // stored or deflated; the deflated member is read back as chunks.
    s.run(&["convert", "a.zarr", "o.npz", "--member", "v"]).ok();
    s.run(&["convert", "a.zarr", "oc.npz", "--compress"]).ok();
    assert_eq!(
        s.json(&["info", "o.npz", "--json"])["members"][0]["name"],
        "v"
    );
    s.run(&["convert", "a.zarr", "z.npy"]).ok();
    for name in ["o", "oc"] {
        s.run(&["convert", &format!("{name}.npz"), &format!("{name}.npy")])
            .ok();
        assert_eq!(s.read(&format!("{name}.npy")), s.read("z.npy"), "{name}");
    }
    assert!(
        s.files().iter().all(|f| !f.starts_with('.')),
        "{:?}",
        s.files()
    );
}

/// Writes the small store `name` (float64 4x6 in 2x3 chunks, zstd) and returns its
/// `zarr.json` text.
fn small_store(s: &Scratch, name: &str) -> String {
    s.run(&[
        "create", "src.npy", "--dtype", "f8", "--shape", "4,6", "--arange", "--force",
    ])
    .ok();
    s.run(&["convert", "src.npy", name, "--chunks", "2,3", "--force"])
        .ok();
    String::from_utf8(s.read(&format!("{name}/zarr.json"))).unwrap()
}

#[test]
fn hostile_stores_are_errors_that_name_the_store_and_change_nothing() {
    let s = Scratch::new();
    let meta = small_store(&s, "ok.zarr");
    let reading: &[&[&str]] = &[
        &["info", "IN"],
        &["info", "IN", "--json"],
        &["show", "IN"],
        &["stats", "IN"],
        &["reduce", "IN", "--op", "sum"],
        &["reduce", "IN", "--op", "max", "--axis", "0"],
        &["export", "IN"],
        &["slice", "IN", "out.npy", "::-1"],
        &["convert", "IN", "out.zarr"],
        &["fill", "IN", "1"],
        &["random", "IN", "--seed", "1"],
        &["append", "IN", "--rows", "1"],
    ];
    assert!(
        meta.contains("\"chunk_shape\": [\n        2,") && meta.contains("\"shape\": [\n    4,"),
        "{meta}"
    );
    let metas: Vec<(&str, String)> = vec![
        ("not-json.zarr", "{\"zarr_format\": 3,".to_owned()),
        ("no-shape.zarr", meta.replace("\"shape\"", "\"shapes\"")),
        (
            "bad-dtype.zarr",
            meta.replace("\"float64\"", "\"float128\""),
        ),
        ("bad-codec.zarr", meta.replace("\"zstd\"", "\"lzma\"")),
        (
            "zero-chunk.zarr",
            meta.replace(
                "\"chunk_shape\": [\n        2,",
                "\"chunk_shape\": [\n        0,",
            ),
        ),
        (
            "huge.zarr",
            meta.replace(
                "\"shape\": [\n    4,",
                "\"shape\": [\n    4000000000000000000,",
            ),
        ),
    ];
    for (name, text) in &metas {
        small_store(&s, name);
        std::fs::write(s.path(&format!("{name}/zarr.json")), text).unwrap();
    }
    // A corrupt chunk and a truncated one.
    small_store(&s, "corrupt.zarr");
    let chunk = s.path("corrupt.zarr/c/1/1");
    let mut bytes = std::fs::read(&chunk).unwrap();
    let n = bytes.len();
    bytes[n / 2..].iter_mut().for_each(|b| *b ^= 0x5a);
    std::fs::write(&chunk, &bytes).unwrap();
    small_store(&s, "short.zarr");
    let chunk = s.path("short.zarr/c/0/1");
    let bytes = std::fs::read(&chunk).unwrap();
    std::fs::write(&chunk, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::create_dir(s.path("empty.zarr")).unwrap();
    let mut stores: Vec<&str> = metas.iter().map(|(n, _)| *n).collect();
    stores.extend(["corrupt.zarr", "short.zarr", "empty.zarr"]);
    for store in stores {
        let before = tree(&s.path(store));
        for args in reading {
            let args: Vec<&str> = args
                .iter()
                .map(|a| if *a == "IN" { store } else { a })
                .collect();
            let r = s.run(&args);
            if r.code == 0 {
                // Only metadata is read by info and changed by append (last: the edge
                // chunks are whole, none is read), and a chunk's damage shows on
                // reading it.
                assert!(
                    matches!(args[0], "info" | "append")
                        && (store == "corrupt.zarr" || store == "short.zarr"),
                    "{args:?} succeeded"
                );
                continue;
            }
            let line = r.fails(1, &[store]);
            if (store == "corrupt.zarr" || store == "short.zarr") && args[0] != "append" {
                assert!(line.contains("chunk"), "{args:?}: {line}");
                let key = if store == "corrupt.zarr" {
                    "c/1/1"
                } else {
                    "c/0/1"
                };
                // fill writes every chunk without reading it; random too.
                if !matches!(args[0], "fill" | "random") {
                    assert!(line.contains(key), "{args:?}: {line}");
                }
            }
            assert_eq!(tree(&s.path(store)), before, "{args:?} changed {store}");
        }
        assert!(!s.path("out.npy").exists() && !s.path("out.zarr").exists());
    }
    assert!(
        s.files().iter().all(|f| !f.starts_with('.')),
        "{:?}",
        s.files()
    );
    // --member is for archives.
    s.run(&["info", "ok.zarr", "--member", "x"])
        .fails(1, &["ok.zarr", "--member"]);
}

#[test]
fn a_failed_store_write_leaves_nothing_behind() {
    let s = Scratch::new();
    small_store(&s, "bad.zarr");
    let chunk = s.path("bad.zarr/c/1/0");
    let mut bytes = std::fs::read(&chunk).unwrap();
    let n = bytes.len();
    bytes[n - 4..].copy_from_slice(b"oops");
    std::fs::write(&chunk, &bytes).unwrap();
    for out in ["o.zarr", "o.npy"] {
        s.run(&["convert", "bad.zarr", out])
            .fails(1, &["bad.zarr", "c/1/0"]);
        s.run(&["slice", "bad.zarr", out, "1:"])
            .fails(1, &["bad.zarr", "c/1/0"]);
    }
    assert_eq!(s.files(), ["bad.zarr", "src.npy"]);
}

/// Runs a Python script that needs zarr with the scratch folder as `sys.argv[1]`.
fn py(s: &Scratch, script: &str) -> String {
    numpy::run_py(script, &[s.dir.path().as_os_str(), OsStr::new("")])
}

#[test]
fn zarr_python_reads_what_the_cli_writes() {
    let s = Scratch::new();
    let mut cases = Vec::new();
    let dtypes = [
        "?", "i1", ">i2", "<u4", ">i8", "<f2", ">f4", "<f8", "<c8", ">c16",
    ];
    let layouts: &[(&str, &[&str])] = &[
        ("C", &["--chunks", "2,3", "--codec", "zstd"]),
        ("F", &["--chunks", "3,2", "--codec", "gzip:2"]),
        (
            "C",
            &[
                "--chunks",
                "2,2",
                "--shards",
                "2,2",
                "--codec",
                "blosc:zstd:3",
            ],
        ),
        (
            "F",
            &["--chunks", "4,7", "--codec", "none", "--shards", "1,1"],
        ),
    ];
    for (i, dtype) in dtypes.iter().enumerate() {
        for (j, (order, opts)) in layouts.iter().enumerate() {
            let npy = format!("a{i}_{j}.npy");
            let zarr = format!("a{i}_{j}.zarr");
            s.run(&[
                "create", &npy, "--dtype", dtype, "--shape", "5,7", "--order", order, "--arange",
            ])
            .ok();
            let mut args = vec!["convert", npy.as_str(), zarr.as_str()];
            args.extend_from_slice(opts);
            s.run(&args).ok();
            cases.push(serde_json::json!([npy, zarr]));
        }
    }
    s.run(&[
        "create", "r.zarr", "--dtype", "f8", "--shape", "9,4", "--random", "normal", "--seed", "5",
        "--chunks", "4,4",
    ])
    .ok();
    s.run(&[
        "create", "r.npy", "--dtype", "f8", "--shape", "9,4", "--random", "normal", "--seed", "5",
    ])
    .ok();
    s.run(&[
        "create", "f.zarr", "--dtype", "f4", "--shape", "3,4", "--fill", "nan",
    ])
    .ok();
    cases.push(serde_json::json!(["r.npy", "r.zarr"]));
    std::fs::write(s.path("cases.json"), serde_json::to_string(&cases).unwrap()).unwrap();
    let out = py(
        &s,
        r#"
import json, os, sys
import numpy as np
import zarr
d = sys.argv[1]
cases = json.load(open(os.path.join(d, "cases.json")))
for npy, store in cases:
    want = np.load(os.path.join(d, npy))
    z = zarr.open_array(os.path.join(d, store), mode="r")
    got = z[...]
    assert z.metadata.zarr_format == 3, store
    assert got.dtype == want.dtype.newbyteorder("=") or got.dtype == want.dtype, (store, got.dtype, want.dtype)
    assert got.shape == want.shape, store
    assert np.array_equal(got, want), (store, got, want)
    assert list(z.metadata.dimension_names) == ["dim_0", "dim_1"], store
f = zarr.open_array(os.path.join(d, "f.zarr"), mode="r")
assert np.isnan(f[...]).all()
print("ok", len(cases))
"#,
    );
    assert_eq!(out.trim(), format!("ok {}", cases.len()));
}

#[test]
fn the_cli_reads_what_zarr_python_writes() {
    let s = Scratch::new();
    py(
        &s,
        r#"
import os, sys
import numpy as np
import zarr
from zarr.codecs import BloscCodec, BytesCodec, GzipCodec, ZstdCodec
d = sys.argv[1]
rng = np.random.default_rng(7)
a = rng.standard_normal((11, 13))
a[3, 4] = np.nan
cases = {
    "v3-zstd": dict(chunks=(4, 5), compressors=ZstdCodec(level=3)),
    "v3-gzip-big": dict(chunks=(3, 13), compressors=GzipCodec(), serializer=BytesCodec(endian="big")),
    "v3-sharded": dict(chunks=(2, 3), shards=(4, 6), compressors=BloscCodec(cname="lz4")),
    "v3-plain": dict(chunks=(11, 13), compressors=None),
}
for name, kw in cases.items():
    z = zarr.create_array(os.path.join(d, name + ".zarr"), shape=a.shape, dtype=a.dtype, **kw)
    z[...] = a
z = zarr.create_array(os.path.join(d, "v2.zarr"), shape=a.shape, dtype=">i4", chunks=(5, 5), zarr_format=2)
z[...] = (a * 100).astype(">i4")
z = zarr.create_array(os.path.join(d, "v3-partial.zarr"), shape=(10,), dtype="u2", chunks=(3,), fill_value=7)
z[:4] = np.arange(4)
np.save(os.path.join(d, "a.npy"), a)
np.save(os.path.join(d, "big.npy"), a.astype(">f8"))
np.save(os.path.join(d, "v2.npy"), (a * 100).astype(">i4"))
np.save(os.path.join(d, "partial.npy"), np.array([0, 1, 2, 3, 7, 7, 7, 7, 7, 7], dtype="u2"))
"#,
    );
    for name in ["v3-zstd", "v3-sharded", "v3-plain"] {
        same_readings(&s, "a.npy", &format!("{name}.zarr"), 2);
    }
    same_readings(&s, "big.npy", "v3-gzip-big.zarr", 2);
    let out = "gzip-big.npy";
    s.run(&["convert", "v3-gzip-big.zarr", out]).ok();
    assert_eq!(s.read(out), s.read("big.npy"));
    same_readings(&s, "v2.npy", "v2.zarr", 2);
    assert_eq!(
        s.json(&["info", "v2.zarr", "--json"])["version"],
        serde_json::json!([2])
    );
    s.run(&["fill", "v2.zarr", "1"])
        .fails(1, &["v2.zarr", "v2"]);
    same_readings(&s, "partial.npy", "v3-partial.zarr", 1);
    let info = s.json(&["info", "v3-sharded.zarr", "--json"]);
    assert_eq!(info["shards"], serde_json::json!([4, 6]));
    assert_eq!(info["chunks"], serde_json::json!([2, 3]));
    // Written in place by the CLI, still read by zarr-python.
    s.run(&[
        "random",
        "v3-sharded.zarr",
        "--seed",
        "3",
        "--slice",
        "2:9, 1:",
    ])
    .ok();
    s.run(&["random", "a.npy", "--seed", "3", "--slice", "2:9, 1:"])
        .ok();
    let got = py(
        &s,
        r#"
import os, sys
import numpy as np
import zarr
d = sys.argv[1]
z = zarr.open_array(os.path.join(d, "v3-sharded.zarr"), mode="r")[...]
a = np.load(os.path.join(d, "a.npy"))
assert np.array_equal(z, a, equal_nan=True)
print("same")
"#,
    );
    assert_eq!(got.trim(), "same");
}

/// Starts `mmarray args` in the scratch folder, waits until an entry whose name
/// starts with `staged` appears there (the store being written; any moment if
/// `staged` is empty) plus `delay`, sends SIGINT and returns the exit code and
/// stderr; `None` if the command finished before the signal could be sent.
fn interrupt(s: &Scratch, args: &[&str], staged: &str, delay_ms: u64) -> Option<(i32, String)> {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mmarray"))
        .args(args)
        .current_dir(s.dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn mmarray");
    let start = Instant::now();
    let mut finished = false;
    loop {
        if child.try_wait().expect("wait").is_some() {
            finished = true;
            break;
        }
        if staged.is_empty() || s.files().iter().any(|f| f.starts_with(staged)) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{args:?} never started"
        );
        std::thread::sleep(Duration::from_micros(300));
    }
    if !finished {
        std::thread::sleep(Duration::from_millis(delay_ms));
        // SAFETY: sends SIGINT to our own child, not yet reaped (its pid is not reused).
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    }
    let status = child.wait().expect("wait");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read stderr");
    if finished || status.code() == Some(0) {
        return None;
    }
    Some((status.code().unwrap_or(-1), err))
}

#[test]
fn an_interrupted_store_write_leaves_nothing_behind_or_a_loadable_store() {
    let s = Scratch::new();
    s.run(&[
        "create", "big.npy", "--dtype", "f8", "--shape", "512,1024", "--random", "normal",
        "--seed", "1",
    ])
    .ok();
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &[
                "convert", "big.npy", "out.zarr", "--chunks", "32,1024", "--codec", "gzip:9",
            ],
            ".out.zarr.",
            "out.zarr",
        ),
        (
            &[
                "create", "new.zarr", "--dtype", "f8", "--shape", "512,1024", "--chunks",
                "32,1024", "--codec", "gzip:9", "--random", "normal", "--seed", "2",
            ],
            ".new.zarr.",
            "new.zarr",
        ),
        (
            &[
                "slice", "big.npy", "s.zarr", "::-1", "--chunks", "16,1024", "--codec", "gzip:9",
            ],
            ".s.zarr.",
            "s.zarr",
        ),
    ];
    for &(args, staged, out) in cases {
        let mut interrupted = 0;
        for delay in [0, 5, 30, 100] {
            match interrupt(&s, args, staged, delay) {
                None => {
                    // Finished first: complete, then removed for the next try.
                    assert!(s.run(&["stats", out]).code == 0, "{args:?}");
                    std::fs::remove_dir_all(s.path(out)).unwrap();
                }
                Some((code, err)) => {
                    interrupted += 1;
                    assert_eq!(code, 130, "{args:?}: {err}");
                    assert_eq!(
                        err.lines().next(),
                        Some(format!("error: {out}: interrupted").as_str()),
                        "{args:?}"
                    );
                    assert_eq!(s.files(), ["big.npy"], "{args:?} after {delay} ms");
                }
            }
        }
        assert!(interrupted > 0, "{args:?} was never interrupted");
    }
    // In place: the store stays readable (every chunk whole), values partly written.
    s.run(&[
        "convert", "big.npy", "in.zarr", "--chunks", "16,1024", "--codec", "gzip:9",
    ])
    .ok();
    let mut interrupted = 0;
    for delay in [20, 100, 300] {
        if let Some((code, err)) = interrupt(&s, &["random", "in.zarr", "--seed", "5"], "", delay) {
            interrupted += 1;
            assert_eq!(code, 130, "{err}");
            assert_eq!(
                err.lines().next(),
                Some("error: in.zarr: interrupted"),
                "{err}"
            );
        }
        s.run(&["stats", "in.zarr"]).ok();
    }
    assert!(interrupted > 0, "random in place was never interrupted");
}

#[test]
fn a_staged_store_of_a_killed_create_is_removed_by_the_next_conversion() {
    let s = Scratch::new();
    s.run(&["create", "a.npy", "--dtype", "u1", "--shape", "3"])
        .ok();
    // What `create x.zarr` stages, left by a process (pid beyond pid_max) that was killed.
    let stale = s.path(".x.zarr.999999999.4294967296.mmarray-zarr-tmp");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("zarr.json"), b"{}").unwrap();
    s.run(&["convert", "a.npy", "y.zarr"]).ok();
    assert_eq!(s.files(), ["a.npy", "y.zarr"]);
}

#[test]
fn exports_and_slices_of_stores_larger_than_a_block_match_the_npy() {
    let s = Scratch::new();
    // 1.2 MiB, more than the 1 MiB blocks a store is read in; big-endian, so that
    // slices to .npy are copied block by block.
    s.run(&[
        "create", "a.npy", "--dtype", ">f8", "--shape", "2500,64", "--random", "uniform", "--seed",
        "8",
    ])
    .ok();
    for chunks in ["300,64", "2500,5", "7,64"] {
        let z = format!("a{}.zarr", chunks.replace(',', "x"));
        s.run(&[
            "convert", "a.npy", &z, "--chunks", chunks, "--codec", "none",
        ])
        .ok();
        for spec in [":", "::-3, 1:", "7:2499:2, 5"] {
            let (x, y) = (format!("x{chunks}.npy"), format!("y{chunks}.npy"));
            s.run(&["slice", "a.npy", &x, spec, "--force"]).ok();
            s.run(&["slice", &z, &y, spec, "--force"]).ok();
            assert_eq!(s.read(&x), s.read(&y), "slice {spec} of {z}");
            let ex = s.run(&["export", "a.npy", "--slice", spec, "--fmt", "%.4g"]);
            let ey = s.run(&["export", &z, "--slice", spec, "--fmt", "%.4g"]);
            assert_eq!(ex.ok(), ey.ok(), "export --slice {spec} of {z}");
        }
    }
}

#[test]
fn append_grows_a_store_with_its_fill_value_or_another() {
    let s = Scratch::new();
    // C order grows the first axis, F order the last; sharded or not.
    let cases: &[(&str, &[&str])] = &[
        ("C", &["--chunks", "2,2"]),
        ("F", &["--chunks", "2,3"]),
        ("C", &["--chunks", "2,2", "--shards", "2,1"]),
    ];
    for (i, &(order, opts)) in cases.iter().enumerate() {
        let (npy, zarr) = (format!("a{i}.npy"), format!("a{i}.zarr"));
        s.run(&[
            "create", &npy, "--dtype", "<i4", "--shape", "5,7", "--order", order, "--arange",
        ])
        .ok();
        let mut args = vec!["convert", npy.as_str(), zarr.as_str()];
        args.extend_from_slice(opts);
        s.run(&args).ok();
        for rows in ["3", "0", "4"] {
            s.run(&["append", &npy, "--rows", rows]).ok();
            s.run(&["append", &zarr, "--rows", rows]).ok();
            same_readings(&s, &npy, &zarr, 2);
        }
        s.run(&["append", &npy, "--rows", "1", "--fill", "0"]).ok();
        s.run(&["append", &zarr, "--rows", "1", "--fill", "0"]).ok();
        // Another value than the fill value: written before the shape grows.
        if i == 2 {
            // 13 rows: not a whole number of 4-row shards, and 3 more rows reach
            // past the edge chunk.
            let before = tree(&s.path(&zarr));
            s.run(&["append", &zarr, "--rows", "3", "--fill", "7"])
                .fails(1, &[zarr.as_str(), "shards"]);
            assert_eq!(tree(&s.path(&zarr)), before);
            s.run(&["append", &npy, "--rows", "1", "--fill", "7"]).ok();
            s.run(&["append", &zarr, "--rows", "1", "--fill", "7"]).ok();
            // 14 rows, then 16 with the fill value: whole shards, past which
            // any value goes.
            s.run(&["append", &npy, "--rows", "2"]).ok();
            s.run(&["append", &zarr, "--rows", "2"]).ok();
        }
        s.run(&["append", &npy, "--rows", "5", "--fill", "7"]).ok();
        s.run(&["append", &zarr, "--rows", "5", "--fill", "7"]).ok();
        same_readings(&s, &npy, &zarr, 2);
        s.run(&["append", &zarr, "--rows", "1", "--fill", "1e10"])
            .fails(1, &[zarr.as_str()]);
    }
    // Values stored beyond the shape (in an edge chunk's padding) do not reappear:
    // the grown entries hold the fill value.
    s.run(&[
        "create", "p.npy", "--dtype", "f8", "--shape", "6,3", "--fill", "5",
    ])
    .ok();
    s.run(&["convert", "p.npy", "p.zarr", "--chunks", "4,3"])
        .ok();
    let meta = String::from_utf8(s.read("p.zarr/zarr.json")).unwrap();
    let shrunk = meta.replace("\"shape\": [\n    6,", "\"shape\": [\n    5,");
    assert_ne!(meta, shrunk);
    std::fs::write(s.path("p.zarr/zarr.json"), shrunk).unwrap();
    s.run(&["append", "p.zarr", "--rows", "2"]).ok();
    assert_eq!(
        s.json(&["reduce", "p.zarr", "--op", "sum", "--axis", "1", "--json"])["value"],
        serde_json::json!([15.0, 15.0, 15.0, 15.0, 15.0, 0.0, 0.0])
    );
    assert!(
        s.files().iter().all(|f| !f.starts_with('.')),
        "{:?}",
        s.files()
    );
    assert!(tree(&s.path("p.zarr")).keys().all(|k| !k.starts_with('.')));
    // zarr-python reads the grown store.
    let out = py(
        &s,
        r#"
import os, sys
import numpy as np
import zarr
d = sys.argv[1]
z = zarr.open_array(os.path.join(d, "a0.zarr"), mode="r")
a = np.load(os.path.join(d, "a0.npy"))
assert z.shape == (18, 7), z.shape
assert np.array_equal(z[...], a)
print("ok")
"#,
    );
    assert_eq!(out.trim(), "ok");
}
