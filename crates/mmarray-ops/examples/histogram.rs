//! A custom parallel kernel with `map_reduce`: a histogram of a big-endian float32 file
//! (`>f4`, as written on a big-endian machine or by `np.save` of a `'>f4'` array), decoded
//! by the engine block by block, on every core, with the same counts for any thread count.
//!
//! Run it with `cargo run --release -p mmarray-ops --example histogram [-- N]` (N values;
//! 50 million by default, 200 MB in a temporary folder).

use mmarray_ops::prelude::*;

const BINS: usize = 16;
const LOW: f32 = -4.0;
const HIGH: f32 = 4.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = std::env::args()
        .nth(1)
        .map_or(Ok(50_000_000), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("normals_be.npy");

    // np.lib.format.open_memmap(path, mode='w+', dtype='>f4', shape=(n,))[:] = rng.standard_normal(n)
    // SAFETY: the file is private to this program while it is mapped.
    let mut a =
        unsafe { DynArray::create(&path, ">f4".parse()?, &[n], Order::C)? }.into_typed::<f32>()?;
    a.random(Dist::Normal, 1)?;
    a.close()?;

    // SAFETY: as above.
    let a = unsafe { Array::<f32, ReadOnly>::open(&path)? };
    let width = (HIGH - LOW) / BINS as f32;
    let started = std::time::Instant::now();
    let (hist, outside) = a.map_reduce(
        || ([0u64; BINS], 0u64),
        |(hist, outside), block: &[f32]| {
            for &x in block {
                let bin = ((x - LOW) / width).floor();
                if (0.0..BINS as f32).contains(&bin) {
                    hist[bin as usize] += 1;
                } else {
                    *outside += 1;
                }
            }
        },
        |(hist, outside), (h, o)| {
            hist.iter_mut().zip(h).for_each(|(a, b)| *a += b);
            *outside += o;
        },
    )?;
    println!(
        "{} {} values in {:.3?}",
        a.dtype(),
        a.len(),
        started.elapsed()
    );
    let peak = hist.iter().copied().max().unwrap_or(1).max(1);
    for (i, &count) in hist.iter().enumerate() {
        let from = LOW + i as f32 * width;
        let bar = "#".repeat((60 * count / peak) as usize);
        println!("[{from:5.1}, {:5.1})  {count:10}  {bar}", from + width);
    }
    println!("outside [{LOW}, {HIGH}): {outside}");
    Ok(())
}
