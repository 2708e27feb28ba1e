//! The staged files of this process (made by [`DynArray::create_staged`] and not
//! yet persisted or dropped), so that a program that catches signals can remove
//! their temporary names before it exits, and so that a commit (the link or
//! rename into place) and that clean-up never interleave.
//!
//! [`DynArray::create_staged`]: crate::DynArray::create_staged

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

struct State {
    /// Staged files not yet persisted nor discarded: key and temporary name
    /// (`None` for an unnamed file, which disappears with the process).
    live: Vec<(u64, Option<PathBuf>)>,
    /// Staged files moved into place so far.
    persisted: u64,
    /// Set by [`abandon_staged`]: no staged file is made or persisted any more.
    abandoned: bool,
    next: u64,
}

static STATE: Mutex<State> = Mutex::new(State {
    live: Vec::new(),
    persisted: 0,
    abandoned: false,
    next: 0,
});

/// Whether staged files are made unnamed (`O_TMPFILE`) where the filesystem allows.
static UNNAMED: AtomicBool = AtomicBool::new(true);

fn lock() -> MutexGuard<'static, State> {
    // Every update below is one step, so the state is consistent even after a panic.
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A staged file's entry in the process-wide list; see [`begin`].
#[derive(Debug)]
pub(crate) struct Ticket(u64);

/// Creates a staged file with `create` and enters it, with its temporary name
/// `tmp` (if it has one), in the list. `create` runs under the list's lock, so
/// that [`abandon_staged`] sees either no file or the file. `None` when staging
/// has been abandoned (nothing is created then).
pub(crate) fn begin(
    tmp: Option<&Path>,
    create: impl FnOnce() -> io::Result<File>,
) -> Option<io::Result<(File, Ticket)>> {
    let mut state = lock();
    if state.abandoned {
        return None;
    }
    Some(create().map(|file| {
        let key = state.next;
        state.next += 1;
        state.live.push((key, tmp.map(Path::to_owned)));
        (file, Ticket(key))
    }))
}

/// Moves a staged file into place with `commit` (a link or a rename), under the
/// list's lock, and takes it off the list once that succeeded. `None` when
/// staging has been abandoned (then `commit` does not run).
pub(crate) fn commit(
    ticket: &Ticket,
    commit: impl FnOnce() -> crate::Result<()>,
) -> Option<crate::Result<()>> {
    let mut state = lock();
    if state.abandoned {
        return None;
    }
    let result = commit();
    if result.is_ok() {
        state.live.retain(|(key, _)| *key != ticket.0);
        state.persisted += 1;
    }
    Some(result)
}

/// Removes a staged file that is not to be persisted (its temporary name, if it
/// has one) and takes it off the list.
pub(crate) fn discard(ticket: &Ticket) {
    let mut state = lock();
    if let Some(i) = state.live.iter().position(|(key, _)| *key == ticket.0) {
        let (_, tmp) = state.live.swap_remove(i);
        if let Some(tmp) = tmp {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Whether new staged files are to be made unnamed where the filesystem allows.
pub(crate) fn unnamed() -> bool {
    UNNAMED.load(Ordering::Relaxed)
}

/// Chooses how [`DynArray::create_staged`](crate::DynArray::create_staged) makes
/// its files from now on, process-wide: unnamed (`O_TMPFILE` in the target's
/// folder, linked into place when persisted; the default, on Linux, where the
/// filesystem allows it) or, with `false`, always under a hidden temporary name
/// `.NAME.PID.N.mmarray-tmp` in the target's folder (the fallback elsewhere).
///
/// An unnamed file never shows up in the folder and disappears by itself when the
/// process dies, even of `SIGKILL`; a named one is removed when it is dropped, by
/// [`abandon_staged`], or by a later `create_staged` in the same folder once its
/// process is dead. Named temporaries are useful to test that fallback, or to
/// see a file while it is being written.
pub fn set_unnamed_temporaries(yes: bool) {
    UNNAMED.store(yes, Ordering::Relaxed);
}

/// What [`abandon_staged`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Abandoned {
    /// Staged files that were being written (their temporary names, if any, are
    /// now removed; unnamed ones vanish when the process exits).
    pub in_flight: usize,
    /// Staged files this process has moved into place so far.
    pub persisted: u64,
}

/// Stops every staged write of this process for good, for a program about to exit
/// on a signal: removes the temporary names of the staged files that were not
/// persisted, and makes later [`create_staged`](crate::DynArray::create_staged) and
/// [`persist`](crate::DynArray::persist) calls fail with [`Error::Interrupted`](crate::Error::Interrupted).
///
/// It waits for a persist that is moving a file into place to finish, so a file
/// is either in place (counted in [`Abandoned::persisted`]) or not (and its
/// temporary gone). The arrays themselves stay mapped: exit soon after.
///
/// Call it from an ordinary thread (e.g. one that waits for signals with
/// `sigwait`), never from a signal handler: it takes a lock and removes files.
#[must_use = "tells whether an output was already complete"]
pub fn abandon_staged() -> Abandoned {
    let mut state = lock();
    state.abandoned = true;
    let in_flight = state.live.len();
    for (_, tmp) in state.live.drain(..) {
        if let Some(tmp) = tmp {
            let _ = std::fs::remove_file(tmp);
        }
    }
    Abandoned {
        in_flight,
        persisted: state.persisted,
    }
}

/// The temporary name of a staged file for `name`: `.NAME.PID.N.mmarray-tmp`.
pub(crate) fn temp_name(name: &str, n: u64) -> String {
    format!(".{name}.{}.{n}.mmarray-tmp", std::process::id())
}

/// The process id in a temporary name made by [`temp_name`], if `file_name` is one.
fn owner(file_name: &str) -> Option<u32> {
    let inner = file_name.strip_prefix('.')?.strip_suffix(".mmarray-tmp")?;
    let mut parts = inner.rsplitn(3, '.');
    let n = parts.next()?;
    let pid = parts.next()?;
    parts.next()?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(n) || !digits(pid) {
        return None;
    }
    pid.parse().ok().filter(|&p| p > 0)
}

/// Removes the temporary files in `dir` that a staged write of a process that is
/// no longer alive left behind (it was killed before it could remove them).
/// Temporaries of live processes, this one included, are kept; errors are ignored
/// (this is housekeeping). Returns how many were removed.
pub(crate) fn remove_stale(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let me = std::process::id();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner) else {
            continue;
        };
        if pid == me || crate::sys::process_alive(pid) {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_file())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::owner;

    #[test]
    fn temporary_names_are_recognised_with_their_owner() {
        assert_eq!(owner(".out.npy.123.456.mmarray-tmp"), Some(123));
        assert_eq!(owner(".a.b.c.9.0.mmarray-tmp"), Some(9));
        assert_eq!(owner("..7.1.mmarray-tmp"), Some(7));
        for not in [
            "out.npy.123.456.mmarray-tmp",
            ".out.npy.123.456.mmarray-tmp.x",
            ".out.npy.x.456.mmarray-tmp",
            ".out.npy.123.x.mmarray-tmp",
            ".123.456.mmarray-tmp",
            ".out.npy.0.1.mmarray-tmp",
            ".out.npy.99999999999.1.mmarray-tmp",
            ".out.npy..1.mmarray-tmp",
        ] {
            assert_eq!(owner(not), None, "{not}");
        }
    }
}
