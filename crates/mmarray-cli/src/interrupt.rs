//! SIGINT, SIGTERM and SIGHUP during a command that writes a file.
//!
//! The signals are blocked in every thread (the mask is set before any other
//! thread starts, and threads inherit it), and one thread waits for them with
//! `sigwait`. So no code runs in a signal handler at all: the waiting thread is an
//! ordinary thread that may take locks and remove files. When a signal comes, it
//!
//! 1. calls [`mmarray_core::abandon_staged`], which waits for a file being moved
//!    into place, removes the temporary names of staged files, and stops any later
//!    staging or persisting;
//! 2. if the command writes a new file and that file is already in place, complete
//!    (the signal came after the commit), lets the command finish normally;
//! 3. otherwise prints `error: PATH: interrupted` and ends the process at once with
//!    `_exit(128 + signal)`: unnamed staged files vanish with the process, and files
//!    written in place keep what was written (an append is atomic by itself).
//!
//! Commands that only read keep the default actions (they die of the signal).
//!
//! Once the waiting thread has started on a signal, the main thread must not end
//! the process first (e.g. with exit 1 after a persist refused because staging was
//! abandoned, or exit 0 after an in-place fill finished): `main` calls [`settle`]
//! before it returns, which waits while a signal is being handled.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// No signal received.
const CALM: u8 = 0;
/// A signal is being handled: the process will `_exit` shortly.
const HANDLING: u8 = 1;
/// A signal came after the output was complete: the command finishes normally.
const LET_FINISH: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(CALM);

/// Set when a signal came: store writes ([`Store`]) stop at their next chunk.
static STOP: AtomicBool = AtomicBool::new(false);
/// Store writes under way ([`Store`] guards alive).
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// Set when a new store was moved into place, complete.
static COMMITTED: AtomicBool = AtomicBool::new(false);
/// How long the signal thread waits for store writes to stop before it ends the
/// process anyway.
const STORE_GRACE: Duration = Duration::from_secs(30);

/// Whether a signal asked store writes to stop.
#[cfg(feature = "zarr")]
pub(crate) fn stopped() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// A Zarr store being written (a new one under a temporary name, or one in
/// place): while a guard lives, a signal does not end the process at once. The
/// signal thread sets [`stopped`], waits until every guard is gone (the writer
/// sees [`stopped`] at its next chunk, fails, and removes what it staged; a
/// chunk being written is finished first, so no chunk is left half written),
/// then ends the process, unless the new store was [`committed`](Store::commit).
/// Zarr stores are folders of many files: they cannot be staged unnamed as the
/// single files of `mmarray-core` are.
#[derive(Debug)]
#[cfg(feature = "zarr")]
pub(crate) struct Store(());

#[cfg(feature = "zarr")]
impl Store {
    /// Starts a store write; `None` if a signal already came (the caller gives up).
    pub(crate) fn begin() -> Option<Store> {
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        if stopped() {
            ACTIVE.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Store(()))
    }

    /// Says that the new store is in place under its name, complete, and ends
    /// the write.
    pub(crate) fn commit(self) {
        COMMITTED.store(true, Ordering::SeqCst);
        drop(self);
    }
}

#[cfg(feature = "zarr")]
impl Drop for Store {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Waits, if a signal is being handled, for the handling thread to end the
/// process; returns at once otherwise (or once that thread let the command finish).
pub(crate) fn settle() {
    while STATE.load(Ordering::Acquire) == HANDLING {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// What the running command writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writes {
    /// A new file (create, slice, convert, reduce --out): nothing is left when
    /// interrupted before it is complete.
    NewFile,
    /// An existing file, in place (fill, random, append).
    InPlace,
}

/// Handles SIGINT, SIGTERM and SIGHUP for a command that writes `path`, as the
/// module says. Must be called before any other thread is started.
#[cfg(unix)]
pub(crate) fn install(path: &Path, writes: Writes) -> std::io::Result<()> {
    use std::io::IsTerminal;
    let mut message = Vec::new();
    if std::io::stderr().is_terminal() {
        // Start on a clean line (a progress bar may be drawn there).
        message.extend_from_slice(b"\r\x1b[2K");
    }
    message.extend_from_slice(format!("error: {}: interrupted\n", path.display()).as_bytes());

    // SAFETY: `sigset_t` is a plain C struct for which all-zero bytes are a valid
    // value; sigemptyset initialises it properly before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: sigemptyset and sigaddset only write the set we own; the signal
    // numbers are valid.
    unsafe {
        libc::sigemptyset(&raw mut set);
        libc::sigaddset(&raw mut set, libc::SIGINT);
        libc::sigaddset(&raw mut set, libc::SIGTERM);
        libc::sigaddset(&raw mut set, libc::SIGHUP);
    }
    // SAFETY: changes this thread's signal mask only; `set` is initialised and the
    // old mask is not asked for (null).
    let rc =
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc));
    }
    std::thread::Builder::new()
        .name("mmarray-signals".to_owned())
        .spawn(move || wait_for_signals(&set, &message, writes))?;
    Ok(())
}

/// Without Unix signals, nothing to install.
#[cfg(not(unix))]
pub(crate) fn install(_path: &Path, _writes: Writes) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn wait_for_signals(set: &libc::sigset_t, message: &[u8], writes: Writes) {
    loop {
        let mut signal: libc::c_int = 0;
        // SAFETY: `set` is an initialised signal set whose signals are blocked in
        // every thread; sigwait writes the signal number into `signal`.
        if unsafe { libc::sigwait(set, &raw mut signal) } != 0 {
            continue;
        }
        STATE.store(HANDLING, Ordering::Release);
        let summary = mmarray_core::abandon_staged();
        STOP.store(true, Ordering::SeqCst);
        let start = Instant::now();
        while ACTIVE.load(Ordering::SeqCst) > 0 && start.elapsed() < STORE_GRACE {
            std::thread::sleep(Duration::from_millis(1));
        }
        // The stores' writers have stopped (and removed what they staged): remove
        // anything still staged, and stop later conversions.
        #[cfg(feature = "zarr")]
        let _ = mmarray_zarr::abandon_staged();
        let complete =
            (summary.in_flight == 0 && summary.persisted > 0) || COMMITTED.load(Ordering::SeqCst);
        if writes == Writes::NewFile && complete {
            // The output is already complete under its name: the command is
            // finishing (closing, printing); let it end normally.
            STATE.store(LET_FINISH, Ordering::Release);
            return;
        }
        let mut rest = message;
        while !rest.is_empty() {
            // SAFETY: writes bytes of a live slice to standard error.
            let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
            match usize::try_from(n) {
                Ok(n) if n > 0 => rest = &rest[n..],
                _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
                _ => break,
            }
        }
        // SAFETY: _exit ends the process at once, without running destructors or
        // exit handlers in the middle of other threads' work; the staged files'
        // names are already gone and in-place data is in the page cache.
        unsafe { libc::_exit(128 + signal) };
    }
}
