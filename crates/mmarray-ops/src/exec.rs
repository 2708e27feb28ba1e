//! The execution context of operations: on how many threads they run, how they
//! read files, and whom they report progress to.
//!
//! Every operation runs in the context that is *current* on the calling thread:
//! the default one (rayon's global pool, [`Access::Auto`], no progress) unless
//! [`Exec::run`] or [`Exec::enter`] made another current. Contexts are values,
//! so two threads (or two Python calls) can run operations with different
//! settings at the same time; nothing is process-wide.
//!
//! ```
//! use mmarray_core::{Order, View};
//! use mmarray_dtype::{ByteOrder, Value};
//! use mmarray_ops::{Access, Exec, Op, ReduceOptions, reduce};
//! let bytes: Vec<u8> = (0..1000u32).flat_map(|v| v.to_le_bytes()).collect();
//! let v = View::<u32>::from_bytes(&bytes, &[1000], Order::C, ByteOrder::Little)?;
//! let exec = Exec::new().threads(2)?.access(Access::Map);
//! let sum = exec.run(|| reduce(&v, Op::Sum, &ReduceOptions::default()))?;
//! assert_eq!(sum, Value::U64(499_500));
//! # Ok::<(), mmarray_ops::Error>(())
//! ```

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::{Error, InvalidArgument, Result};

/// Reports progress of long operations (e.g. to a progress bar).
pub trait Progress: Send + Sync {
    /// Called with the number of bytes just processed (from any thread).
    fn advance(&self, bytes: u64);
}

/// How streaming passes get the bytes of a file-backed view.
///
/// Results never depend on it (the kernels see the same values in the same
/// blocks); only speed does. Reading through the mapping costs a page fault per
/// few pages: cheap when the page cache holds the file in large folios (files
/// written or read with `write`/`read`), several times dearer when it holds
/// small pages (files faulted in through a mapping), and slow for files not in
/// the page cache, whose mapped read-ahead is small. Reading with `pread` costs a
/// copy into a per-thread buffer that stays in L2 instead, whatever the page
/// cache holds, and gets the kernel's full read-ahead. [`Access::Auto`] reads
/// data not in the page cache and times both ways on the data that is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Read batches not in the page cache with `pread`, each thread one
    /// contiguous part (a sequential stream of its own); for those in it,
    /// measure both ways on the first batches of each pass (passes of at least
    /// 4 batches of 64 MiB; shorter ones map them), then use the faster one,
    /// checking the other again now and then (the default).
    #[default]
    Auto,
    /// Always through the mapping.
    Map,
    /// Long contiguous pieces read from the file with `pread` (see
    /// [`View::read_region`](mmarray_core::View::read_region)).
    Read,
}

/// An execution context: threads, [`Access`] and [`Progress`] for the operations
/// run inside [`Exec::run`] or while an [`Exec::enter`] guard lives.
#[derive(Clone, Default)]
pub struct Exec {
    pool: Option<Arc<ThreadPool>>,
    access: Access,
    progress: Option<Arc<dyn Progress>>,
    stop: Option<Arc<AtomicBool>>,
}

impl fmt::Debug for Exec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exec")
            .field("threads", &self.threads_used())
            .field("access", &self.access)
            .field("progress", &self.progress.is_some())
            .field("stop", &self.stop.is_some())
            .finish_non_exhaustive()
    }
}

/// The largest pool [`Exec::threads`] makes (far more than any machine's cores:
/// a typo must not start millions of threads).
pub const MAX_THREADS: usize = 4096;

/// Pools made for [`Exec::threads`], by size: one pool per size for the whole
/// process, so that a context per call costs no thread start-up.
static POOLS: Mutex<Vec<(usize, Arc<ThreadPool>)>> = Mutex::new(Vec::new());

thread_local! {
    static CURRENT: RefCell<Option<Exec>> = const { RefCell::new(None) };
}

impl Exec {
    /// The default context: rayon's global pool, [`Access::Auto`], no progress.
    #[must_use]
    pub fn new() -> Exec {
        Exec::default()
    }

    /// Runs operations on a pool of `n` threads (`0`: rayon's global pool), at
    /// most [`MAX_THREADS`]. Pools are made once per size and kept for the life of
    /// the process.
    pub fn threads(mut self, n: usize) -> Result<Exec> {
        if n == 0 {
            self.pool = None;
            return Ok(self);
        }
        if n > MAX_THREADS {
            return Err(InvalidArgument::TooManyThreads {
                threads: n,
                max: MAX_THREADS,
            }
            .into());
        }
        let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, pool)) = pools.iter().find(|(size, _)| *size == n) {
            self.pool = Some(pool.clone());
            return Ok(self);
        }
        let pool = ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|source| InvalidArgument::ThreadPool { threads: n, source })?;
        let pool = Arc::new(pool);
        pools.push((n, pool.clone()));
        self.pool = Some(pool);
        Ok(self)
    }

    /// Reads file-backed views as `access` says.
    #[must_use]
    pub fn access(mut self, access: Access) -> Exec {
        self.access = access;
        self
    }

    /// Reports progress to `progress`.
    #[must_use]
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Exec {
        self.progress = Some(progress);
        self
    }

    /// Stops operations when `flag` is set (from any thread, e.g. a signal
    /// handler's watcher or a UI): they check it between batches of about 64
    /// MiB, and return [`Error::Interrupted`](crate::Error::Interrupted) (writes
    /// that cannot fail, such as [`fill`](crate::fill) of a `ViewMut`, return
    /// early with part of the view written; the caller that set the flag knows).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::AtomicBool;
    /// use mmarray_core::{Order, View};
    /// use mmarray_dtype::ByteOrder;
    /// use mmarray_ops::{Error, Exec, Op, ReduceOptions, reduce};
    /// let bytes = vec![0u8; 1 << 20];
    /// let v = View::<f64>::from_bytes(&bytes, &[1 << 17], Order::C, ByteOrder::Little)?;
    /// let exec = Exec::new().stop_when(Arc::new(AtomicBool::new(true)));
    /// let r = exec.run(|| reduce(&v, Op::Sum, &ReduceOptions::default()));
    /// assert!(matches!(r, Err(Error::Interrupted)));
    /// # Ok::<(), mmarray_ops::Error>(())
    /// ```
    #[must_use]
    pub fn stop_when(mut self, flag: Arc<AtomicBool>) -> Exec {
        self.stop = Some(flag);
        self
    }

    /// Whether the stop flag (see [`stop_when`](Self::stop_when)) is set.
    #[must_use]
    pub fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// `Err(Interrupted)` when the stop flag is set.
    pub(crate) fn check(&self) -> Result<()> {
        if self.stopped() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    /// The number of threads operations run on.
    #[must_use]
    pub fn threads_used(&self) -> usize {
        self.pool
            .as_ref()
            .map_or_else(rayon::current_num_threads, |p| p.current_num_threads())
    }

    /// The [`Access`] policy.
    #[must_use]
    pub fn access_policy(&self) -> Access {
        self.access
    }

    /// The context current on this thread (a clone; the default if none was set).
    #[must_use]
    pub fn current() -> Exec {
        CURRENT.with_borrow(|c| c.clone().unwrap_or_default())
    }

    /// Runs `f` with this context current on the calling thread (the operations
    /// `f` calls use it), then restores the previous one.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = self.enter();
        f()
    }

    /// Makes this context current on the calling thread until the guard is
    /// dropped (then the previous one is current again).
    #[must_use = "the context is current only while the guard lives"]
    pub fn enter(&self) -> Entered {
        let previous = CURRENT.with_borrow_mut(|c| c.replace(self.clone()));
        Entered {
            previous,
            _not_send: std::marker::PhantomData,
        }
    }

    /// Reports `bytes` processed.
    pub(crate) fn advance(&self, bytes: usize) {
        if let Some(p) = &self.progress {
            p.advance(bytes as u64);
        }
    }
}

/// The guard of [`Exec::enter`]; restores the previous context when dropped.
#[derive(Debug)]
pub struct Entered {
    previous: Option<Exec>,
    /// The context belongs to the thread that entered it.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with_borrow_mut(|c| *c = previous);
    }
}

/// Runs the body of a public operation in the current context: on its pool
/// (with the context current there too, for the operations it calls), given
/// the context to pass to the engine. Engine code reads the context here, on
/// the calling thread, never in its worker closures.
pub(crate) fn with<R: Send>(f: impl FnOnce(&Exec) -> R + Send) -> R {
    let ctx = Exec::current();
    match &ctx.pool {
        Some(pool) if pool.current_thread_index().is_none() => pool.install(|| {
            let _entered = ctx.enter();
            f(&ctx)
        }),
        _ => f(&ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::{Access, Exec, Progress, with};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    struct Count(AtomicU64);
    impl Progress for Count {
        fn advance(&self, bytes: u64) {
            self.0.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    #[test]
    fn contexts_nest_and_restore() {
        assert_eq!(Exec::current().access_policy(), Access::Auto);
        let outer = Exec::new().access(Access::Read);
        outer.run(|| {
            assert_eq!(Exec::current().access_policy(), Access::Read);
            let inner = Exec::new().access(Access::Map);
            {
                let _g = inner.enter();
                assert_eq!(Exec::current().access_policy(), Access::Map);
            }
            assert_eq!(Exec::current().access_policy(), Access::Read);
        });
        assert_eq!(Exec::current().access_policy(), Access::Auto);
    }

    #[test]
    fn operations_run_on_the_context_pool_and_report_to_its_progress() {
        let count = Arc::new(Count(AtomicU64::new(0)));
        let exec = Exec::new().threads(3).unwrap().progress(count.clone());
        let (threads, index) = exec.run(|| {
            with(|ctx| {
                ctx.advance(7);
                (rayon::current_num_threads(), rayon::current_thread_index())
            })
        });
        assert_eq!(threads, 3);
        assert!(index.is_some(), "ran on a pool thread");
        assert_eq!(count.0.load(Ordering::Relaxed), 7);
        assert_eq!(exec.threads_used(), 3);
        // The same size reuses the pool.
        let again = Exec::new().threads(3).unwrap();
        assert!(Arc::ptr_eq(
            again.pool.as_ref().unwrap(),
            exec.pool.as_ref().unwrap()
        ));
        // Without a context, nothing is reported.
        with(|ctx| ctx.advance(5));
        assert_eq!(count.0.load(Ordering::Relaxed), 7);
    }
}
