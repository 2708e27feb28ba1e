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

use crate::{Error, Result, sys};

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

/// Opens a new, empty staged file that is to become `dest`: unnamed in its folder
/// where the filesystem allows it (and [`unnamed`] says so), else under a new
/// temporary name there (returned). It is on the list (the ticket) until
/// [`commit`] or [`discard`]. Stale temporaries of dead processes in the folder
/// are removed first. [`Error::Interrupted`] once staging was abandoned.
pub(crate) fn open(dest: &Path) -> Result<(File, Option<PathBuf>, Ticket)> {
    let dir = folder_of(dest);
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale(&dir);
    let interrupted = || Error::Interrupted {
        path: dest.to_owned(),
    };
    if unnamed() {
        let opened = begin(None, || sys::open_unnamed(&dir)).ok_or_else(interrupted)?;
        if let Ok((file, ticket)) = opened {
            return Ok((file, None, ticket));
        }
        // The filesystem refuses unnamed files: use a named temporary.
    }
    for attempt in 0..100u32 {
        let tmp = dir.join(temp_name(&name, unique(attempt)));
        let opened = begin(Some(&tmp), || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&tmp)
        })
        .ok_or_else(interrupted)?;
        match opened {
            Ok((file, ticket)) => return Ok((file, Some(tmp), ticket)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(dest, "create", e)),
        }
    }
    Err(Error::Exists {
        path: dest.to_owned(),
    })
}

/// Gives a staged file (unnamed when `tmp` is `None`) its final name `dest`,
/// replacing a file there only if `overwrite`; atomically in every case.
pub(crate) fn move_into_place(
    file: &File,
    tmp: Option<&Path>,
    dest: &Path,
    overwrite: bool,
) -> Result<()> {
    let exists = |e: std::io::Error, action| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Exists {
                path: dest.to_owned(),
            }
        } else {
            Error::io(dest, action, e)
        }
    };
    match (tmp, overwrite) {
        (Some(tmp), true) => {
            std::fs::rename(tmp, dest).map_err(|e| Error::io(dest, "rename into place", e))
        }
        (Some(tmp), false) => {
            // A hard link fails if `dest` exists: an atomic "rename unless it exists".
            std::fs::hard_link(tmp, dest).map_err(|e| exists(e, "link into place"))?;
            std::fs::remove_file(tmp).map_err(|e| Error::io(tmp, "remove temporary name", e))
        }
        (None, false) => sys::link_unnamed(file, dest).map_err(|e| exists(e, "link into place")),
        (None, true) => {
            // Link under a temporary name, then rename that over `dest`. (All of
            // this runs under the staging lock, so `abandon_staged` never sees
            // the temporary name.)
            let dir = folder_of(dest);
            let name = dest
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for attempt in 0..100u32 {
                let tmp = dir.join(temp_name(&name, unique(attempt)));
                match sys::link_unnamed(file, &tmp) {
                    Ok(()) => {
                        return std::fs::rename(&tmp, dest).map_err(|e| {
                            let _ = std::fs::remove_file(&tmp);
                            Error::io(dest, "rename into place", e)
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(Error::io(dest, "link into place", e)),
                }
            }
            Err(Error::Exists {
                path: dest.to_owned(),
            })
        }
    }
}

/// A number that differs between calls, for temporary names.
fn unique(attempt: u32) -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 32) ^ u64::from(attempt)
}

/// The folder a file at `path` is (or would be) in.
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
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
