//! Parallel fills, random fills, reductions and conversions over memory-mapped
//! arrays, at the speed of memory.
//!
//! Every operation streams over the data once, on all of rayon's threads, in
//! bounded memory, for every dtype and byte order:
//!
//! - an array (or a view's runs of contiguous elements) is cut into segments of
//!   about 1 MiB, independent of the thread count;
//! - non-native or unaligned data is decoded block by block into stack buffers
//!   through `mmarray-dtype` (float16 is widened to f32 with F16C where available;
//!   float16 sums and means add the file's bytes directly, exact group by group);
//! - the kernels run in a build for AVX2 when the CPU has it (same results);
//! - views of files mapped shared are read through the mapping or with `pread`,
//!   whichever is measured faster on the data at hand (see [`Access`]);
//! - threads, [`Access`] and [`Progress`] are per call: an execution context
//!   ([`Exec`]), never process-wide state;
//! - partial results are combined in segment order, so results are bit-identical
//!   for 1, 2 or 16 threads.
//!
//! Float sums add groups of 128 values in 8 lanes (as numpy's pairwise sum does)
//! and combine the groups with compensated summation: the error bound (that of
//! one 128-value group) is no larger than numpy's pairwise bound, and on the test
//! data the error is on average smaller than numpy's; numpy cuts its blocks
//! differently, so on a given array either may come out closer. Variances are merged from per-group two-pass moments
//! (Chan et al.), in one pass over the file. Random fills are counter-based:
//! element `i` depends only on the seed and `i` (`SplitMix64` words; ziggurat
//! normals), so the same seed gives the same bytes whatever the thread count.
//!
//! With the [`prelude`], numpy's memmap walkthrough reads like the book; the
//! operations are methods of arrays and views ([`ArrayOps`], [`ArrayOpsMut`]):
//!
//! ```
//! use mmarray_ops::prelude::*;
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("walk.npy");
//! // fp = np.lib.format.open_memmap(path, mode='w+', dtype='float64', shape=(1000, 1000))
//! let w_plus = CreateOptions::new().overwrite(true);
//! // SAFETY: the file is private to this example.
//! let mut fp = unsafe { Array::<f64, ReadWrite>::create_with(&path, &[1000, 1000], Order::C, &w_plus)? };
//! fp.slice_mut(s![..5])?.random(Dist::Normal, 42)?;   // fp[:5] = rng.standard_normal((5, 1000))
//! fp.close()?;                                        // flush, reporting errors; del fp
//!
//! // SAFETY: as above.
//! let fp = unsafe { Array::<f64, ReadOnly>::open(&path)? };  // np.load(path, mmap_mode='r')
//! println!("{}", fp.slice(s![..5])?);                 // numpy's repr, summarised
//! let col_means: OwnedArray<f64> = fp.mean_axis(0)?;  // fp.mean(axis=0)
//! assert_eq!(col_means.shape(), [1000]);
//! assert!(fp.slice(s![5..])?.max()? == 0.0 && fp.std()? > 0.0);
//! let stats = fp.stats()?;                            // one pass: count, sum, mean, min, max, std
//! assert_eq!(stats.count, 1_000_000);
//!
//! // The same with a context and options: two threads, ddof=1.
//! let two = Exec::new().threads(2)?;
//! let sample_std = fp.std_with(&ReduceOptions { ddof: 1, ..Default::default() }, &two)?;
//! assert!(sample_std > fp.std()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The functions take views and run-time typed arrays, for code that dispatches on
//! a dtype read from a file:
//!
//! ```
//! use mmarray_core::{DynArray, Order, ReadWrite};
//! use mmarray_ops::{Dist, Op, ReduceOptions, random_fill, reduce_array};
//! # let dir = tempfile::tempdir()?;
//! // SAFETY: the file is private to this example.
//! let mut a = unsafe { DynArray::<ReadWrite>::create(dir.path().join("r.npy"), "<f8".parse()?, &[1000, 100], Order::C)? };
//! random_fill(&mut a, .., Dist::Normal, 42)?;
//! let mean = reduce_array(&a, Op::Mean, &ReduceOptions::default())?;
//! assert!(matches!(mean, mmarray_dtype::Value::F64(m) if m.abs() < 0.01));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The kernels are inlined into one build per CPU feature set (engine::feed).
#![allow(clippy::inline_always)]

mod axis;
mod chunked;
mod convert;
mod data;
mod engine;
mod error;
mod exec;
mod fill;
mod half;
mod kernels;
mod map_reduce;
mod methods;
mod num;
mod prefetch;
pub mod prelude;
mod reduce;
mod rng;
// `SKIPPED:` lines for unit tests that cannot check something on this machine.
#[cfg(test)]
#[path = "../../../testing/skip.rs"]
mod test_skip;

/// The array crate this one builds on, for programs that depend on this crate alone.
pub use mmarray_core;
/// The element-type crate this one builds on, for programs that depend on this crate alone.
pub use mmarray_dtype;

pub use axis::{
    AxisResult, reduce_axis, reduce_axis_chunked_to_npy, reduce_axis_to_npy, reduce_axis_view,
    reduce_axis_view_to_npy, result_kind,
};
pub use convert::{
    ConvertOptions, byteswap_in_place, convert_chunked, convert_chunked_to_npz, convert_file,
    convert_to_npz, copy_chunked_into, map_in_place, slice_chunked_to_file, slice_to_file,
};
pub use data::{Data, Input, Target, assign};
pub use error::{Error, InvalidArgument, Result};
pub use exec::{Access, Entered, Exec, MAX_THREADS, Progress};
pub use fill::{
    Dist, arange, arange_view, check_random, fill, fill_value, fill_with, random_fill, random_view,
};
pub use map_reduce::map_reduce;
pub use methods::{ArrayOps, ArrayOpsMut, OwnedArray};
pub use num::{Elem, Num};
pub use reduce::{
    Op, ReduceOptions, Stats, count_nonzero, reduce, reduce_array, stats, stats_array,
};
