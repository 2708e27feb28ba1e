//! [`map_reduce`]: the user's own kernel run by the engine, in parallel, over any
//! view, dtype and byte order, with the engine's deterministic merge.

use crate::Result;
use crate::data::Input;
use crate::engine::{At, Kernel, Source};
use crate::exec::with;
use crate::num::{Elem, Num};

/// The closures of a [`map_reduce`] as a kernel.
struct UserKernel<I, B, M> {
    init: I,
    block: B,
    merge: M,
}

impl<W, A, I, B, M> Kernel<W> for UserKernel<I, B, M>
where
    W: Num,
    A: Send,
    I: Fn() -> A + Sync,
    B: Fn(&mut A, &[W]) + Sync,
    M: Fn(&mut A, A) + Sync,
{
    type Acc = A;

    fn init(&self) -> A {
        (self.init)()
    }

    fn block(&self, acc: &mut A, values: &[W], _at: At<'_>) {
        (self.block)(acc, values);
    }

    fn merge(&self, acc: &mut A, next: A) {
        (self.merge)(acc, next);
    }
}

/// Runs your own reduction over every element of `view` on the engine: in
/// parallel, decoding any byte order and alignment, reading files as the
/// built-in operations do, and merging partial results in a fixed order, so the
/// result is the same for any number of threads.
///
/// - `init` makes the partial result of no values (once per piece of work);
/// - `block` adds a block of values to a partial result: native values of `T`
///   (float16 arrives widened to `f32`, exactly: `T::Work`), in memory order,
///   blocks of one piece of work in order;
/// - `merge` appends the partial result of the values that follow to one of the
///   values before them (it need not be commutative, only associative).
///
/// How the data is cut into blocks depends on the view's layout and byte order
/// (native, aligned data comes in long runs; other data in decoded blocks of
/// 1024), never on the thread count or the way the file is read.
///
/// ```
/// use mmarray_ops::{map_reduce, prelude::*};
/// // A histogram of big-endian float32 values in 4 bins over [0, 1).
/// let values = [0.1f32, 0.3, 0.35, 0.9, 0.95, 0.99, 1.5];
/// let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
/// let v = View::<f32>::from_bytes(&bytes, &[7], Order::C, ByteOrder::Big)?;
/// let hist = map_reduce(
///     &v,
///     || [0u64; 4],
///     |h, block: &[f32]| {
///         for &x in block {
///             if (0.0..1.0).contains(&x) {
///                 h[(x * 4.0) as usize] += 1;
///             }
///         }
///     },
///     |h, next| h.iter_mut().zip(next).for_each(|(a, b)| *a += b),
/// )?;
/// assert_eq!(hist, [1, 2, 0, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn map_reduce<T, A, I, B, M>(view: &impl Input<T>, init: I, block: B, merge: M) -> Result<A>
where
    T: Elem,
    A: Send,
    I: Fn() -> A + Sync,
    B: Fn(&mut A, &[T::Work]) + Sync,
    M: Fn(&mut A, A) + Sync,
{
    let kernel = UserKernel { init, block, merge };
    let data = view.data();
    with(|_| data.run(&kernel))
}
