//! Thread pools for `threads=` and `mm.set_threads`, and running long
//! operations with the GIL released.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

/// The default number of threads (0: rayon's global pool, one thread per core).
static DEFAULT_THREADS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Pools built so far by this (Python) thread, by thread count: building one
    /// per call would cost more than a small reduction, and pools shared between
    /// Python threads would make two `threads=1` calls wait for each other.
    static POOLS: RefCell<HashMap<usize, Arc<ThreadPool>>> = RefCell::new(HashMap::new());
}

/// Sets the default number of threads of every operation (`None` or 0: one per core).
#[pyfunction]
#[pyo3(signature = (n=None))]
pub(crate) fn set_threads(n: Option<usize>) {
    DEFAULT_THREADS.store(n.unwrap_or(0), Ordering::Relaxed);
}

/// The default number of threads (`None`: one per core).
#[pyfunction]
pub(crate) fn get_threads() -> Option<usize> {
    match DEFAULT_THREADS.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// The number of threads for `threads` (`None`: the default; 0: one per core),
/// checked.
fn thread_count(threads: Option<usize>) -> PyResult<usize> {
    let n = match threads {
        Some(0) => return Err(PyValueError::new_err("threads must be at least 1")),
        Some(n) => n,
        None => DEFAULT_THREADS.load(Ordering::Relaxed),
    };
    if n > 4096 {
        return Err(PyValueError::new_err(format!(
            "threads={n} is more than 4096"
        )));
    }
    Ok(n)
}

/// The pool for `threads` (`None`: the default), built on first use.
fn pool(threads: Option<usize>) -> PyResult<Option<Arc<ThreadPool>>> {
    let n = thread_count(threads)?;
    if n == 0 {
        return Ok(None);
    }
    POOLS.with_borrow_mut(|pools| {
        if let Some(p) = pools.get(&n) {
            return Ok(Some(p.clone()));
        }
        let p = ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("mmarray-{i}"))
            .build()
            .map_err(|e| PyValueError::new_err(format!("cannot start {n} threads: {e}")))?;
        let p = Arc::new(p);
        pools.insert(n, p.clone());
        Ok(Some(p))
    })
}

/// How often a waiting caller looks for signals (Ctrl-C) while `f` runs.
const SIGNAL_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// Runs `f` with the GIL released on the pool for `threads`. The calling thread
/// waits and looks for signals every 20 ms: on `KeyboardInterrupt` (or any
/// exception a signal handler raises) it sets the stop flag of `f`'s execution
/// context, so that the operation stops at its next batch of chunks (writes
/// store what they changed, new files are not made), waits for it, and raises.
pub(crate) fn run<R, F>(py: Python<'_>, threads: Option<usize>, f: F) -> PyResult<R>
where
    R: Send,
    F: FnOnce() -> R + Send,
{
    let pool = pool(threads)?;
    let stop = Arc::new(AtomicBool::new(false));
    let exec = mmarray_ops::Exec::new().stop_when(stop.clone());
    let done = AtomicBool::new(false);
    let result = std::sync::Mutex::new(None);
    let caller = std::thread::current();
    let job = || {
        let r = exec.run(f);
        *result
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
        done.store(true, Ordering::Release);
        caller.unpark();
    };
    let mut raised = None;
    let mut watch = || {
        while !done.load(Ordering::Acquire) {
            std::thread::park_timeout(SIGNAL_POLL);
            if raised.is_none()
                && !done.load(Ordering::Acquire)
                && let Err(e) = Python::attach(|py: Python<'_>| py.check_signals())
            {
                stop.store(true, Ordering::Relaxed);
                raised = Some(e);
            }
        }
    };
    py.detach(|| match &pool {
        Some(p) => p.in_place_scope(|s| {
            s.spawn(move |_| job());
            watch();
        }),
        None => rayon::in_place_scope(|s| {
            s.spawn(move |_| job());
            watch();
        }),
    });
    if let Some(e) = raised {
        return Err(e);
    }
    py.check_signals()?;
    result
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("the operation did not finish"))
}

/// Inputs of fewer bytes than this run inline (see [`run_sized`]): 1 MiB, one
/// chunk of the engine, which sums in well under a millisecond.
pub(crate) const INLINE_BYTES: usize = 1 << 20;

/// Runs `f`, which reads about `bytes` bytes of mapped or in-memory data: as
/// [`run`] for large inputs; below [`INLINE_BYTES`] directly on the calling
/// thread with the GIL held, as numpy does for small arrays. The hand-off to the
/// pool, the wait and the signal polling cost several microseconds, more than
/// such an operation itself; releasing the GIL for it would let other Python
/// threads take it for a whole switch interval. Such an input is one chunk of
/// the engine, which runs it on the calling thread (no pool thread is involved
/// and the result is the same bits as on the pool); a signal that arrives
/// meanwhile is raised by Python right after the call returns.
pub(crate) fn run_sized<R, F>(
    py: Python<'_>,
    threads: Option<usize>,
    bytes: usize,
    f: F,
) -> PyResult<R>
where
    R: Send,
    F: FnOnce() -> R + Send,
{
    if bytes < INLINE_BYTES {
        thread_count(threads)?;
        return Ok(f());
    }
    run(py, threads, f)
}
