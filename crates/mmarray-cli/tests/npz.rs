//! `.npz` archives from the command line (`cli-contract.md`, "`.npz` archives"):
//! `--member`, `info` of archives and members, in-place `fill`/`random` on stored
//! members that numpy still loads, read-only compressed members, `convert` to
//! archives numpy loads, and the errors.

#[path = "../../mmarray-dtype/tests/support/numpy.rs"]
mod numpy;

mod common;

use common::Scratch;
use serde_json::{Value as Json, json};

fn py(s: &Scratch, script: &str) -> String {
    numpy::run_py(script, &[s.dir.path().as_os_str()])
}

fn py_json(s: &Scratch, script: &str) -> Json {
    let out = py(s, script);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("no JSON ({e}):\n{out}"))
}

/// Two archives numpy wrote: `s.npz` (`np.savez`) and `c.npz` (`np.savez_compressed`),
/// each with a float64 C array `x`, a big-endian int16 F array `y` and a 0-d complex `z`.
const MAKE: &str = r"
import sys, os, numpy as np
os.chdir(sys.argv[1])
x = np.arange(12.0).reshape(3, 4) / 4
y = np.asfortranarray((np.arange(6).reshape(2, 3) - 2).astype('>i2'))
z = np.array(1.5 - 2j, dtype='c8')
np.savez('s.npz', x=x, y=y, z=z)
np.savez_compressed('c.npz', x=x, y=y, z=z)
";

#[test]
fn info_lists_the_members_of_an_archive() {
    let s = Scratch::new();
    py(&s, MAKE);
    for (name, compressed) in [("s.npz", false), ("c.npz", true)] {
        let info = s.json(&["info", name, "--json"]);
        assert_eq!(
            info,
            json!({"format": "npz", "members": [
                {"name": "x", "descr": "<f8", "shape": [3, 4], "fortran_order": false, "compressed": compressed, "nbytes": 96},
                {"name": "y", "descr": ">i2", "shape": [2, 3], "fortran_order": true, "compressed": compressed, "nbytes": 12},
                {"name": "z", "descr": "<c8", "shape": [], "fortran_order": false, "compressed": compressed, "nbytes": 8},
            ]})
        );
        let text = s.run(&["info", name]);
        let text = text.ok();
        assert!(text.contains(".npz archive, 3 members"), "{text}");
        assert!(
            text.contains("  y: int16 ('>i2'), shape (2, 3), F order"),
            "{text}"
        );
    }
    // Even a single member is listed.
    s.run(&["convert", "s.npz", "one.npz", "--member", "z", "-q"])
        .ok();
    let info = s.json(&["info", "one.npz", "--json"]);
    assert_eq!(info["members"].as_array().unwrap().len(), 1);
}

#[test]
fn info_of_a_member_reports_it_like_a_npy_file() {
    let s = Scratch::new();
    py(&s, MAKE);
    // Where numpy's zipfile says the member's data starts.
    let offsets = py_json(
        &s,
        r"
import sys, os, json, zipfile, struct
os.chdir(sys.argv[1])
z = zipfile.ZipFile('s.npz')
out = {}
for i in z.infolist():
    with open('s.npz', 'rb') as f:
        f.seek(i.header_offset)
        h = f.read(30)
        n, e = struct.unpack('<HH', h[26:30])
    start = i.header_offset + 30 + n + e
    with z.open(i) as m:
        head = m.read(10)
        hl = struct.unpack('<H', head[8:10])[0]
    out[i.filename[:-4]] = start + 10 + hl
print(json.dumps(out))
",
    );
    let size = s.read("s.npz").len() as u64;
    let x = s.json(&["info", "s.npz", "--member", "x", "--json"]);
    assert_eq!(x["format"], "npz");
    assert_eq!(x["version"], json!([1, 0]));
    assert_eq!(x["descr"], "<f8");
    assert_eq!(x["shape"], json!([3, 4]));
    assert_eq!(x["size"], 12);
    assert_eq!(x["nbytes"], 96);
    assert_eq!(x["data_offset"], offsets["x"]);
    assert_eq!(x["file_size"], size);
    assert_eq!(x["compressed"], false);
    let y = s.json(&["info", "s.npz", "--member", "y", "--json"]);
    assert_eq!(y["data_offset"], offsets["y"]);
    assert_eq!(y["fortran_order"], true);
    let c = s.json(&["info", "c.npz", "--member", "y", "--json"]);
    assert_eq!(c["data_offset"], Json::Null);
    assert_eq!(c["compressed"], true);
    assert_eq!(c["descr"], ">i2");
}

#[test]
fn reading_subcommands_take_a_member_and_agree_with_numpy() {
    let s = Scratch::new();
    py(&s, MAKE);
    for name in ["s.npz", "c.npz"] {
        let shown = s.run(&["show", name, "--member", "y"]);
        assert_eq!(
            shown.ok().trim(),
            "memmap([[-2, -1,  0],\n        [ 1,  2,  3]], dtype='>i2')"
        );
        let stats = s.json(&["stats", name, "--member", "x", "--json"]);
        assert_eq!(stats["sum"], json!(16.5));
        assert_eq!(stats["max"], json!(2.75));
        let sum = s.json(&["reduce", name, "--member", "y", "--op", "sum", "--json"]);
        assert_eq!(sum["value"], 3);
        let z = s.run(&["show", name, "--member", "z"]);
        assert_eq!(z.ok().trim(), "memmap(1.5-2.j, dtype=complex64)");
        s.run(&[
            "slice",
            name,
            &format!("{name}.row.npy"),
            "1",
            "--member",
            "x",
        ])
        .ok();
        s.run(&[
            "reduce",
            name,
            "--member",
            "x",
            "--op",
            "mean",
            "--axis",
            "0",
            "--out",
            &format!("{name}.mean.npy"),
        ])
        .ok();
    }
    py(
        &s,
        r"
import sys, os, numpy as np
os.chdir(sys.argv[1])
for name in ['s.npz', 'c.npz']:
    x = np.load(name)['x']
    assert (np.load(name + '.row.npy') == x[1]).all()
    assert (np.load(name + '.mean.npy') == x.mean(axis=0)).all()
",
    );
}

#[test]
fn several_members_need_a_name() {
    let s = Scratch::new();
    py(&s, MAKE);
    for args in [
        &["show", "s.npz"][..],
        &["stats", "c.npz"],
        &["fill", "s.npz", "1"],
    ] {
        s.run(args).fails(1, &[args[1], "3 members: x, y, z"]);
    }
    s.run(&["show", "s.npz", "--member", "w"])
        .fails(1, &["s.npz", "member \"w\"", "no such member"]);
    s.run(&["create", "a.npy", "--dtype", "f8", "--shape", "2"])
        .ok();
    s.run(&["show", "a.npy", "--member", "x"])
        .fails(1, &["a.npy", "not an .npz archive"]);
    s.run(&["show", "s.npz", "--member", "x", "--raw", "--dtype", "u1"])
        .fails(2, &["--member"]);
}

#[test]
fn fill_and_random_write_stored_members_in_place_and_numpy_still_loads_them() {
    let s = Scratch::new();
    py(&s, MAKE);
    let before = s.read("s.npz");
    s.run(&["fill", "s.npz", "-0.5", "--member", "x", "--slice", "1:"])
        .ok();
    s.run(&[
        "random", "s.npz", "--member", "y", "--dist", "integers", "--low", "5", "--high", "6",
        "--seed", "1",
    ])
    .ok();
    let after = s.read("s.npz");
    assert_eq!(after.len(), before.len(), "the archive keeps its size");
    assert_ne!(after, before);
    py(
        &s,
        r"
import sys, os, zipfile, numpy as np
os.chdir(sys.argv[1])
assert zipfile.ZipFile('s.npz').testzip() is None, 'bad CRC'
with np.load('s.npz') as a:
    x = np.arange(12.0).reshape(3, 4) / 4
    x[1:] = -0.5
    assert (a['x'] == x).all(), a['x']
    assert (a['y'] == 5).all() and a['y'].dtype.str == '>i2' and a['y'].flags.f_contiguous
    assert a['z'] == np.complex64(1.5 - 2j)
",
    );
    // Compressed members are read-only: an error, and the archive is unchanged.
    let c = s.read("c.npz");
    s.run(&["fill", "c.npz", "1", "--member", "x"])
        .fails(1, &["c.npz", "member \"x\"", "compressed", "read-only"]);
    s.run(&["random", "c.npz", "--member", "x", "--seed", "1"])
        .fails(1, &["compressed"]);
    assert_eq!(s.read("c.npz"), c);
    // Archives cannot grow.
    let stored = s.read("s.npz");
    s.run(&["append", "s.npz", "--member", "x", "--rows", "1"])
        .fails(1, &["s.npz", "cannot grow"]);
    assert_eq!(s.read("s.npz"), stored);
}

#[test]
fn convert_writes_archives_numpy_loads() {
    let s = Scratch::new();
    py(&s, MAKE);
    s.run(&[
        "create", "r.npy", "--dtype", ">f4", "--shape", "3,5", "--order", "F", "--arange",
    ])
    .ok();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("-q");
        s.run(&all).ok().to_owned()
    };
    run(&["convert", "r.npy", "default.npz"]);
    run(&[
        "convert",
        "r.npy",
        "named.npz",
        "--member",
        "ramp",
        "--compress",
    ]);
    run(&[
        "convert",
        "r.npy",
        "f8.npz",
        "--member",
        "ramp",
        "--out-dtype",
        "f8",
        "--out-order",
        "C",
    ]);
    run(&["convert", "c.npz", "y.npz", "--member", "y"]);
    run(&["convert", "s.npz", "x.npy", "--member", "x"]);
    run(&[
        "convert",
        "s.npz",
        "zc.npz",
        "--member",
        "z",
        "--compress",
        "--out-dtype",
        "c16",
    ]);
    for (name, compressed) in [
        ("default.npz", false),
        ("named.npz", true),
        ("f8.npz", false),
        ("y.npz", false),
        ("zc.npz", true),
    ] {
        let info = s.json(&["info", name, "--json"]);
        assert_eq!(info["members"][0]["compressed"], compressed, "{name}");
    }
    py(
        &s,
        r"
import sys, os, zipfile, numpy as np
os.chdir(sys.argv[1])
r = np.arange(15).reshape(3, 5).astype('>f4')
def one(name):
    assert zipfile.ZipFile(name).testzip() is None, name
    with np.load(name) as a:
        assert len(a.files) == 1, a.files
        return a.files[0], a[a.files[0]]
k, a = one('default.npz'); assert k == 'arr_0' and a.dtype.str == '>f4' and (a == r).all() and a.flags.f_contiguous
k, a = one('named.npz'); assert k == 'ramp' and (a == r).all()
k, a = one('f8.npz'); assert k == 'ramp' and a.dtype.str == '<f8' and a.flags.c_contiguous and (a == r).all()
k, a = one('y.npz'); assert k == 'y' and a.dtype.str == '>i2' and (a == np.arange(6).reshape(2, 3) - 2).all()
k, a = one('zc.npz'); assert k == 'z' and a.dtype.str == '<c16' and a == 1.5 - 2j
assert (np.load('x.npy') == np.arange(12.0).reshape(3, 4) / 4).all()
",
    );
    // Existing outputs, --force, usage errors, nothing left behind.
    let before = s.read("named.npz");
    s.run(&["convert", "r.npy", "named.npz"])
        .fails(1, &["named.npz", "exists"]);
    assert_eq!(s.read("named.npz"), before);
    run(&["convert", "s.npz", "named.npz", "--member", "z", "--force"]);
    assert_eq!(
        s.json(&["info", "named.npz", "--json"])["members"][0]["name"],
        "z"
    );
    s.run(&["convert", "r.npy", "out.npy", "--compress"])
        .fails(2, &["--compress"]);
    s.run(&["convert", "r.npy", "out.npz", "--out-raw"])
        .fails(2, &["--out-raw"]);
    s.run(&["convert", "r.npy", "out.npy", "--member", "q"])
        .fails(1, &["r.npy", "not an .npz archive"]);
    assert!(
        s.files()
            .iter()
            .all(|f| !f.contains("mmarray-tmp") && !f.starts_with("out")),
        "{:?}",
        s.files()
    );
}

#[test]
fn an_archive_is_recognised_by_its_magic_whatever_its_name() {
    let s = Scratch::new();
    py(&s, MAKE);
    s.write("archive.dat", &s.read("c.npz"));
    let info = s.json(&["info", "archive.dat", "--member", "x", "--json"]);
    assert_eq!(info["format"], "npz");
    // An empty archive (np.savez with no arrays) has no members.
    py(
        &s,
        "import sys, os, numpy as np\nos.chdir(sys.argv[1])\nnp.savez('empty.npz')",
    );
    assert_eq!(
        s.json(&["info", "empty.npz", "--json"]),
        json!({"format": "npz", "members": []})
    );
    s.run(&["show", "empty.npz"])
        .fails(1, &["empty.npz", "no members"]);
}

/// A deflated member is read as chunks inflated in stream order, never through a
/// temporary file: every reading subcommand works with `$TMPDIR` pointing at a
/// folder that does not exist, on a member of several chunks (8 MB of float64,
/// big-endian, in F order), and agrees with numpy.
#[test]
fn deflated_members_are_read_in_chunks_without_a_temporary_file() {
    let s = Scratch::new();
    py(
        &s,
        r"
import sys, os, numpy as np
os.chdir(sys.argv[1])
rng = np.random.default_rng(5)
big = np.asfortranarray(rng.standard_normal((1000, 1000)).astype('>f8'))
np.savez_compressed('big.npz', big=big, small=np.arange(10, dtype='<i4'))
",
    );
    let no_tmp = [("TMPDIR", "/nonexistent/mmarray-no-tmp")];
    let run = |args: &[&str]| s.run_env(&no_tmp, args).ok().to_owned();
    let stats = s
        .run_env(&no_tmp, &["stats", "big.npz", "--member", "big", "--json"])
        .ok()
        .to_owned();
    let stats: Json = serde_json::from_str(stats.trim()).expect("stats JSON");
    let info: Json =
        serde_json::from_str(run(&["info", "big.npz", "--member", "big", "--json"]).trim())
            .expect("info JSON");
    assert_eq!(info["compressed"], true);
    assert_eq!(info["descr"], ">f8");
    assert_eq!(info["fortran_order"], true);
    assert_eq!(info["shape"], json!([1000, 1000]));
    let shown = run(&["show", "big.npz", "--member", "big"]);
    run(&[
        "slice",
        "big.npz",
        "sl.npy",
        "990:, ::-7",
        "--member",
        "big",
    ]);
    run(&[
        "reduce", "big.npz", "--member", "big", "--op", "sum", "--axis", "1", "--out", "ax.npy",
    ]);
    run(&[
        "convert",
        "big.npz",
        "c.npy",
        "--member",
        "big",
        "--out-dtype",
        "f4",
        "-q",
    ]);
    run(&[
        "convert",
        "big.npz",
        "re.npz",
        "--member",
        "big",
        "--compress",
        "--out-order",
        "C",
        "-q",
    ]);
    run(&[
        "export", "big.npz", "e.csv", "--member", "big", "--slice", "-3:, :4",
    ]);
    let small = run(&["show", "big.npz", "--member", "small"]);
    assert_eq!(
        small.trim(),
        "memmap([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], dtype=int32)"
    );
    s.write("shown.txt", shown.as_bytes());
    s.write(
        "stats.json",
        serde_json::to_string(&stats).expect("JSON").as_bytes(),
    );
    py(
        &s,
        r"
import sys, os, json, numpy as np
os.chdir(sys.argv[1])
big = np.load('big.npz')['big']
stats = json.load(open('stats.json'))
assert abs(stats['sum'] - big.sum()) < 1e-9 * big.size, (stats['sum'], big.sum())
assert stats['max'] == big.max() and stats['min'] == big.min()
shown = open('shown.txt').read().strip()
np.save('big.npy', big)
want = repr(np.load('big.npy', mmap_mode='r'))
assert shown == want, (shown, want)
np.testing.assert_array_equal(np.load('sl.npy'), big[990:, ::-7])
assert np.load('sl.npy').dtype.str == '>f8'
np.testing.assert_allclose(np.load('ax.npy'), big.sum(axis=1), rtol=1e-12)
np.testing.assert_array_equal(np.load('c.npy'), big.astype('f4'))
re = np.load('re.npz')['big']
assert re.flags.c_contiguous and re.dtype.str == '>f8'
np.testing.assert_array_equal(re, big)
np.testing.assert_array_equal(np.loadtxt('e.csv', delimiter=','), big[-3:, :4])
",
    );
}

/// A member name that would climb out of the folder the archive is unzipped
/// into is refused, and no archive is written; numpy's naming (`NAME.npy`) is kept.
#[test]
fn member_names_stay_inside_the_archive_folder() {
    let s = Scratch::new();
    s.run(&[
        "create", "a.npy", "--dtype", "i2", "--shape", "3", "--arange",
    ])
    .ok();
    for name in ["../x", "/etc/x", "a/../../x", "..\\x"] {
        s.run(&["convert", "a.npy", "o.npz", "--member", name])
            .fails(1, &["o.npz", "invalid member name", "outside the folder"]);
        assert_eq!(s.files(), ["a.npy"], "{name}");
    }
    s.run(&["convert", "a.npy", "o.npz", "--member", "sub/x"])
        .ok();
    let listed = s.run(&["info", "o.npz"]).ok().to_owned();
    assert!(listed.contains("sub/x"), "{listed}");
}
