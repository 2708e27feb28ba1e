//! A process-wide registry of the files this process has mapped, so that mmarray
//! never maps one file both writable and readable at once in the same process
//! (which would let a `&mut [T]` alias a `&[T]`).

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::{Error, Result};

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    readers: usize,
    writer: bool,
}

static REGISTRY: Mutex<Option<HashMap<(u64, u64), Entry>>> = Mutex::new(None);

fn lock() -> MutexGuard<'static, Option<HashMap<(u64, u64), Entry>>> {
    // The map stays consistent even if a holder panicked: every update is one step.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One array's registration; removes itself when dropped.
#[derive(Debug)]
pub(crate) struct Registration {
    key: Option<(u64, u64)>,
    writer: bool,
}

impl Registration {
    /// Registers a mapping of `file`: any number of readers, or one writer alone.
    pub(crate) fn new(file: &File, path: &Path, writer: bool) -> Result<Registration> {
        let Ok(key) = crate::sys::file_id(file) else {
            // Without a file identity (non-Unix) the check cannot be made.
            return Ok(Registration { key: None, writer });
        };
        let mut guard = lock();
        let map = guard.get_or_insert_with(HashMap::new);
        let entry = map.entry(key).or_default();
        let conflict = if writer {
            match (entry.writer, entry.readers) {
                (true, _) => Some("it is already open for writing"),
                (false, r) if r > 0 => Some("it is open for reading; close those arrays first"),
                _ => None,
            }
        } else if entry.writer {
            Some("it is open for writing; close that array first")
        } else {
            None
        };
        if let Some(reason) = conflict {
            if !entry.writer && entry.readers == 0 {
                map.remove(&key);
            }
            return Err(Error::Busy {
                path: path.to_owned(),
                reason,
            });
        }
        if writer {
            entry.writer = true;
        } else {
            entry.readers += 1;
        }
        Ok(Registration {
            key: Some(key),
            writer,
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut guard = lock();
        let Some(map) = guard.as_mut() else { return };
        if let Some(entry) = map.get_mut(&key) {
            if self.writer {
                entry.writer = false;
            } else {
                entry.readers = entry.readers.saturating_sub(1);
            }
            if !entry.writer && entry.readers == 0 {
                map.remove(&key);
            }
        }
    }
}
