//! The folders [`convert`](crate::convert) writes new stores in before renaming
//! them into place (`.NAME.PID.N.mmarray-zarr-tmp` beside the target): listed
//! process-wide so that a program exiting on a signal can remove them
//! ([`abandon_staged`]), and removed by later conversions into the same folder
//! once the process that made them is dead.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use mmarray_core::{Error, Result};

const SUFFIX: &str = ".mmarray-zarr-tmp";

struct State {
    live: Vec<PathBuf>,
    abandoned: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    live: Vec::new(),
    abandoned: false,
});

static NEXT: AtomicU64 = AtomicU64::new(0);

fn lock() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A new store being written under a temporary name; removed on drop unless
/// [`commit`](Staged::commit)ted.
#[derive(Debug)]
pub(crate) struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

fn folder_of(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// A hidden name beside `dest`: `.NAME.PID.N{suffix}`.
fn hidden(dest: &Path, suffix: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    folder_of(dest).join(format!(".{name}.{}.{n}{suffix}", std::process::id()))
}

impl Staged {
    /// Creates the temporary folder for `dest` (after removing stale ones of dead
    /// processes beside it). [`Error::Interrupted`] once staging was abandoned.
    pub(crate) fn new(dest: &Path) -> Result<Staged> {
        remove_stale(&folder_of(dest));
        let tmp = hidden(dest, SUFFIX);
        let mut state = lock();
        if state.abandoned {
            return Err(Error::Interrupted {
                path: dest.to_owned(),
            });
        }
        fs::create_dir(&tmp).map_err(|source| Error::Io {
            path: tmp.clone(),
            action: "create",
            source,
        })?;
        state.live.push(tmp.clone());
        Ok(Staged {
            tmp,
            dest: dest.to_owned(),
            done: false,
        })
    }

    /// The temporary folder.
    pub(crate) fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the folder into place: an existing store at the destination is
    /// renamed aside, the new one renamed in, the old one removed.
    pub(crate) fn commit(mut self) -> Result<()> {
        let dest = self.dest.clone();
        let io = |action: &'static str| {
            let path = dest.clone();
            move |source| Error::Io {
                path,
                action,
                source,
            }
        };
        let mut state = lock();
        if state.abandoned {
            return Err(Error::Interrupted { path: dest.clone() });
        }
        if fs::symlink_metadata(&dest).is_ok() {
            let old = hidden(&dest, ".mmarray-zarr-old");
            fs::rename(&dest, &old).map_err(io("rename"))?;
            if let Err(e) = fs::rename(&self.tmp, &dest) {
                let _ = fs::rename(&old, &dest);
                return Err(io("rename")(e));
            }
            let _ = fs::remove_dir_all(&old);
        } else {
            fs::rename(&self.tmp, &dest).map_err(io("rename"))?;
        }
        state.live.retain(|p| *p != self.tmp);
        self.done = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let mut state = lock();
            state.live.retain(|p| *p != self.tmp);
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Stops every conversion of this process for good, for a program about to
/// exit on a signal (alongside [`mmarray_core::abandon_staged`]): removes the
/// temporary folders of the stores being written, and makes later
/// [`convert`](crate::convert) calls fail with [`Error::Interrupted`]. A store
/// being renamed into place is either in place or not when this returns. Returns
/// how many stores were being written.
///
/// Call it from an ordinary thread, never from a signal handler.
#[must_use = "tells whether a store was being written"]
pub fn abandon_staged() -> usize {
    let mut state = lock();
    state.abandoned = true;
    let n = state.live.len();
    for tmp in state.live.drain(..) {
        let _ = fs::remove_dir_all(tmp);
    }
    n
}

/// The process that made a staged folder named `name`, if it is one.
fn owner(name: &str) -> Option<u32> {
    let inner = name.strip_prefix('.')?.strip_suffix(SUFFIX)?;
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

/// Removes staged folders in `dir` left by processes that are gone (killed
/// before they could remove them). Linux only (it asks `/proc`); errors are
/// ignored (this is housekeeping).
fn remove_stale(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(owner) else {
            continue;
        };
        if pid != me
            && !Path::new(&format!("/proc/{pid}")).exists()
            && entry.file_type().is_ok_and(|t| t.is_dir())
        {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::owner;

    #[test]
    fn staged_names_are_recognised_with_their_owner() {
        assert_eq!(owner(".a.zarr.123.4.mmarray-zarr-tmp"), Some(123));
        for not in [
            "a.zarr.123.4.mmarray-zarr-tmp",
            ".a.zarr.123.4.mmarray-tmp",
            ".a.zarr.x.4.mmarray-zarr-tmp",
            ".123.4.mmarray-zarr-tmp",
            ".a.zarr.0.4.mmarray-zarr-tmp",
        ] {
            assert_eq!(owner(not), None, "{not}");
        }
    }
}
