//! The axis-0 mean of a float64 `.npy` file (10000 x 10000 by default, 800 MB):
//! mmarray's `mean_axis(0)` on two threads against ndarray's single-threaded
//! `mean_axis(Axis(0))` over the same mapped data (a zero-copy
//! [`View::to_ndarray`](mmarray_ops::mmarray_core::View::to_ndarray) view),
//! interleaved round by round in one run, after one untimed pass of each (the
//! file is then in the page cache). Prints each round, then the median and the
//! spread of each and of their ratio.
//!
//! Run it with
//! `cargo run --release -p mmarray-ops --features ndarray --example axis_vs_ndarray -- [DIR] [ROUNDS] [N]`:
//! the file is made in a temporary folder inside `DIR` (the system's by default)
//! and deleted at the end; 7 rounds of an N x N array, N = 10000, by default.

use std::time::{Duration, Instant};

use mmarray_ops::prelude::*;
use ndarray::Axis;

/// Median, smallest and largest of `xs`.
fn spread(xs: &mut [f64]) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = if n % 2 == 1 {
        xs[n / 2]
    } else {
        f64::midpoint(xs[n / 2 - 1], xs[n / 2])
    };
    (median, xs[0], xs[n - 1])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = match args.next() {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let rounds: usize = args.next().map_or(Ok(7), |a| a.parse())?;
    let side: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let path = dir.path().join("axis.npy");

    // SAFETY: the file is private to this program while it is mapped.
    let mut file = unsafe { Array::<f64, ReadWrite>::create(&path, &[side, side], Order::C)? };
    file.random(Dist::Normal, 1)?;
    file.close()?;
    // SAFETY: as above.
    let array = unsafe { Array::<f64, ReadOnly>::open(&path)? };
    let view = array.view();
    // A native, aligned file has a zero-copy ndarray view.
    let nd = view.to_ndarray()?;
    let two = Exec::new().threads(2)?;
    let defaults = ReduceOptions::default();

    let ours = || array.mean_axis_with(0, &defaults, &two);
    let theirs = || nd.mean_axis(Axis(0)).ok_or("an empty axis");
    // One untimed pass of each; their results agree.
    let (first_ours, first_theirs) = (ours()?, theirs()?);
    let diff = first_ours
        .as_slice()
        .iter()
        .zip(first_theirs.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    println!(
        "{side} x {side} float64 ({:.0} MB), axis-0 mean; largest difference between the results: {diff:e}",
        (side * side * 8) as f64 / 1e6
    );

    let time = |f: &dyn Fn() -> Duration| f().as_secs_f64();
    let (mut mm, mut ndt, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let run_ours = || {
            let start = Instant::now();
            let r = ours().expect("the mean of a readable file");
            std::hint::black_box(r);
            start.elapsed()
        };
        let run_theirs = || {
            let start = Instant::now();
            let r = theirs().expect("a non-empty axis");
            std::hint::black_box(r);
            start.elapsed()
        };
        // Alternate who goes first.
        let (t_ours, t_theirs) = if round % 2 == 0 {
            let t_ours = time(&run_ours);
            (t_ours, time(&run_theirs))
        } else {
            let t_theirs = time(&run_theirs);
            (time(&run_ours), t_theirs)
        };
        println!(
            "round {round}: mmarray (2 threads) {t_ours:.3} s, ndarray (1 thread) {t_theirs:.3} s, ndarray/mmarray {:.2}",
            t_theirs / t_ours
        );
        mm.push(t_ours);
        ndt.push(t_theirs);
        ratio.push(t_theirs / t_ours);
    }
    let (median, lo, hi) = spread(&mut mm);
    println!("mmarray mean_axis(0), 2 threads: median {median:.3} s [{lo:.3}-{hi:.3}]");
    let (median, lo, hi) = spread(&mut ndt);
    println!("ndarray mean_axis(Axis(0)), 1 thread: median {median:.3} s [{lo:.3}-{hi:.3}]");
    let (median, lo, hi) = spread(&mut ratio);
    println!("ndarray time / mmarray time: median {median:.2} [{lo:.2}-{hi:.2}]");
    drop(nd);
    drop(view);
    array.close()?;
    Ok(())
}
