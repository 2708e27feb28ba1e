//! numpy's memmap walkthrough with mmarray: a 10000 x 10000 float64 file made in `w+`,
//! its first five rows filled with standard normals, flushed and closed, opened again
//! read-only and printed; then its column means and one-pass statistics.
//!
//! Run it with `cargo run --release -p mmarray-ops --example walkthrough [-- N]` (an N x N
//! file; 10000 by default, 800 MB in a temporary folder).

use mmarray_ops::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = std::env::args().nth(1).map_or(Ok(10_000), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("walk.npy");

    // fp = np.lib.format.open_memmap(path, mode='w+', dtype='float64', shape=(n, n))
    let w_plus = CreateOptions::new().overwrite(true);
    // SAFETY: the file is private to this program while it is mapped.
    let mut fp =
        unsafe { Array::<f64, ReadWrite>::create_with(&path, &[n, n], Order::C, &w_plus)? };
    println!("{fp}");

    // fp[:5] = rng.standard_normal((5, n)); fp.flush(); del fp
    fp.slice_mut(s![..5])?.random(Dist::Normal, 42)?;
    fp.close()?;

    // fp = np.load(path, mmap_mode='r'); fp[:5]
    // SAFETY: as above.
    let fp = unsafe { Array::<f64, ReadOnly>::open(&path)? };
    println!("{}", fp.slice(s![..5])?);

    // fp.mean(axis=0); fp.std(); fp.min(); fp.max()
    println!("column means: {}", fp.mean_axis(0)?);
    println!("std {}, min {}, max {}", fp.std()?, fp.min()?, fp.max()?);
    // ... or all of them in one pass
    println!("{:?}", fp.stats()?);
    Ok(())
}
