//! `append`: a store grown in place along its growth axis (C order: the first,
//! F order: the last), sharded or not, with the fill value or another value,
//! read back equal to the same array grown in memory; refusals leave the store
//! as it was; zarr-python reads the result.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{names, run_zarr_py, snapshot};
use mmarray_core::{Error, Order, View};
use mmarray_dtype::{ByteOrder, Value};
use mmarray_zarr::{AppendOptions, CreateOptions};

/// A `rows x cols` int32 store of 0, 1, 2, ... (in C order) in `order`.
fn store(path: &Path, rows: usize, cols: usize, order: Order, opts: CreateOptions) -> Vec<i32> {
    let values: Vec<i32> = (0..i32::try_from(rows * cols).unwrap()).collect();
    let c = View::<i32>::from_bytes(
        bytemuck::cast_slice(&values),
        &[rows, cols],
        Order::C,
        ByteOrder::NATIVE,
    )
    .unwrap();
    // An F-order store holds the same values; its chunks are walked in F order.
    mmarray_zarr::convert(&c, path, &opts.order(order)).unwrap();
    values
}

/// The store's values in C order.
fn read(path: &Path) -> (Vec<usize>, Vec<i32>) {
    let a = mmarray_zarr::open(path).unwrap();
    (
        a.shape().to_vec(),
        a.view::<i32>().unwrap().to_vec().unwrap(),
    )
}

/// `values` (a C-order array of `cols` columns) grown by `n` entries of `v` along
/// the growth axis of `order`.
fn grown(values: &[i32], cols: usize, order: Order, n: usize, v: i32) -> Vec<i32> {
    match order {
        Order::C => values
            .iter()
            .copied()
            .chain(std::iter::repeat_n(v, n * cols))
            .collect(),
        Order::F => values
            .chunks(cols)
            .flat_map(|row| row.iter().copied().chain(std::iter::repeat_n(v, n)))
            .collect::<Vec<_>>(),
    }
}

#[test]
fn grows_c_and_f_sharded_or_not_with_fill_or_value() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (Order::C, CreateOptions::new().chunks(&[2, 2])),
        (Order::F, CreateOptions::new().chunks(&[2, 3])),
        (
            Order::C,
            CreateOptions::new().chunks(&[2, 2]).shards(&[2, 1]),
        ),
    ];
    for (i, (order, opts)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("a{i}.zarr"));
        let (mut rows, mut cols) = (5, 7);
        let mut want = store(&path, rows, cols, order, opts);
        let mut step = |n: usize, v: Option<i32>, want: &mut Vec<i32>| {
            let o = v.map_or_else(AppendOptions::new, |v| {
                AppendOptions::new().value(Value::I32(v))
            });
            let shape = mmarray_zarr::append(&path, n, &o).unwrap();
            *want = grown(want, cols, order, n, v.unwrap_or(0));
            match order {
                Order::C => rows += n,
                Order::F => cols += n,
            }
            assert_eq!(shape, [rows, cols], "case {i}");
            assert_eq!(read(&path), (vec![rows, cols], want.clone()), "case {i}");
        };
        for n in [3, 0, 4] {
            step(n, None, &mut want);
        }
        if i == 2 {
            // 12 rows: whole 4-row shards, past which any value goes.
            step(1, Some(0), &mut want);
            step(3, None, &mut want);
        }
        step(5, Some(7), &mut want);
        step(1, Some(-3), &mut want);
        assert!(
            names(dir.path()).iter().all(|n| !n.starts_with('.')),
            "{:?}",
            names(dir.path())
        );
    }
}

#[test]
fn refusals_and_stops_leave_the_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.zarr");
    // 5 rows in 4-row shards: another value than the fill value cannot go past
    // the edge chunk.
    store(
        &path,
        5,
        3,
        Order::C,
        CreateOptions::new().chunks(&[2, 3]).shards(&[2, 1]),
    );
    let before = snapshot(&path);
    let e = mmarray_zarr::append(&path, 3, &AppendOptions::new().value(Value::I32(7))).unwrap_err();
    assert!(matches!(e, Error::Layout { .. }), "{e}");
    assert!(e.to_string().contains("shards"), "{e}");
    assert_eq!(snapshot(&path), before);
    // Too many entries.
    let e = mmarray_zarr::append(&path, usize::MAX, &AppendOptions::new()).unwrap_err();
    assert!(matches!(e, Error::Layout { .. }), "{e}");
    assert_eq!(snapshot(&path), before);

    // Stopped before anything is written, or at its first chunk.
    let plain = dir.path().join("p.zarr");
    store(&plain, 5, 3, Order::C, CreateOptions::new().chunks(&[2, 3]));
    let before = snapshot(&plain);
    let flag = Arc::new(AtomicBool::new(true));
    let f = flag.clone();
    let o = AppendOptions::new()
        .value(Value::I32(9))
        .stop_when(Arc::new(move || f.load(Ordering::Relaxed)));
    let e = mmarray_zarr::append(&plain, 6, &o).unwrap_err();
    assert!(matches!(e, Error::Interrupted { .. }), "{e}");
    assert_eq!(snapshot(&plain), before);
    assert!(names(dir.path()).iter().all(|n| !n.starts_with('.')));
    flag.store(false, Ordering::Relaxed);
    assert_eq!(mmarray_zarr::append(&plain, 6, &o).unwrap(), [11, 3]);

    // A 0-d store cannot grow; a v2 store is read-only.
    let zero = dir.path().join("z.zarr");
    mmarray_zarr::create(
        &zero,
        mmarray_dtype::DType::native(mmarray_dtype::Kind::F64),
        &[],
        &CreateOptions::new(),
    )
    .unwrap();
    let e = mmarray_zarr::append(&zero, 1, &AppendOptions::new()).unwrap_err();
    assert!(e.to_string().contains("0-d"), "{e}");
    let missing = dir.path().join("missing.zarr");
    assert!(mmarray_zarr::append(&missing, 1, &AppendOptions::new()).is_err());

    // A damaged edge chunk: refused before any edge chunk is written (the
    // padding of the good ones was cleared first, once).
    let damaged = dir.path().join("d.zarr");
    store(
        &damaged,
        7,
        9,
        Order::C,
        CreateOptions::new().chunks(&[2, 3]),
    );
    std::fs::write(damaged.join("c/3/2"), b"garbage").unwrap();
    let before = snapshot(&damaged);
    let e = mmarray_zarr::append(&damaged, 1, &AppendOptions::new()).unwrap_err();
    assert!(e.to_string().contains("c/3/2"), "{e}");
    assert_eq!(snapshot(&damaged), before);
}

/// Growing touches the chunks of the edge slab (and those past it), never the
/// grid: a store of 2^40 rows of 2-row chunks grows by one row at once.
#[test]
fn growing_a_store_of_a_trillion_chunks_touches_only_its_edge() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.zarr");
    let rows = (1usize << 40) + 1;
    mmarray_zarr::create(
        &path,
        mmarray_dtype::DType::native(mmarray_dtype::Kind::I32),
        &[rows, 3],
        &CreateOptions::new().chunks(&[2, 3]),
    )
    .unwrap();
    let shape = mmarray_zarr::append(&path, 2, &AppendOptions::new().value(Value::I32(4))).unwrap();
    assert_eq!(shape, [rows + 2, 3]);
    let a = mmarray_zarr::open(&path).unwrap();
    let tail = a
        .view::<i32>()
        .unwrap()
        .slice("-4:")
        .unwrap()
        .to_vec()
        .unwrap();
    assert_eq!(tail, [0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4]);
    // The edge chunk (its padding set) and the one past it, nothing else.
    let edge = rows / 2;
    let mut files = names(&path.join("c"));
    files.sort();
    assert_eq!(files, [edge.to_string(), (edge + 1).to_string()]);
}

#[test]
fn zarr_python_reads_a_grown_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.zarr");
    let values = store(&path, 5, 7, Order::C, CreateOptions::new().chunks(&[2, 3]));
    mmarray_zarr::append(&path, 4, &AppendOptions::new().value(Value::I32(-2))).unwrap();
    let want = grown(&values, 7, Order::C, 4, -2);
    let out = run_zarr_py(
        r"
import sys, zarr
z = zarr.open_array(sys.argv[1], mode='r')
print(z.shape, z[...].ravel().tolist())
",
        &[path.as_os_str()],
    );
    assert_eq!(out.trim(), format!("(9, 7) {want:?}"));
}
