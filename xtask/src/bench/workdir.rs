//! The temporary test folder (deleted on success, error, panic and Ctrl-C unless `--keep`), the
//! Ctrl-C flag, and free-space / memory checks.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by SIGINT/SIGTERM/SIGHUP; checked between steps and while waiting for children.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Marker file that identifies a folder as ours, so that stale-folder cleanup never deletes
/// anything else.
const MARKER: &str = ".mmarray-bench";

/// Signal handler: the first signal sets the flag (the run stops at the next check and cleans
/// up); a second one exits at once.
extern "C" fn on_signal(_signal: libc::c_int) {
    if INTERRUPTED.swap(true, Ordering::SeqCst) {
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
}

/// Installs the handler for SIGINT, SIGTERM and SIGHUP.
pub(crate) fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int);
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only touches an atomic and calls `_exit`, both async-signal-safe.
        unsafe { libc::signal(signal, handler as libc::sighandler_t) };
    }
}

/// Whether a stop was requested.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// `Err("interrupted")` once a stop was requested.
pub(crate) fn check_interrupted() -> Result<(), String> {
    if interrupted() {
        Err("interrupted (Ctrl-C)".into())
    } else {
        Ok(())
    }
}

/// The test folder `PARENT/run-<pid>`; removed with everything in it when dropped, unless kept.
pub(crate) struct WorkDir {
    /// The folder.
    path: PathBuf,
    /// Keep it when dropped.
    keep: bool,
}

impl WorkDir {
    /// Creates `parent/run-<pid>` (and `parent`), after removing folders of earlier runs that
    /// died without cleaning up (their process is gone).
    pub(crate) fn create(parent: &Path, keep: bool) -> Result<WorkDir, String> {
        fs::create_dir_all(parent)
            .map_err(|e| format!("could not create {}: {e}", parent.display()))?;
        remove_stale(parent);
        let path = parent.join(format!("run-{}", std::process::id()));
        if path.exists() {
            fs::remove_dir_all(&path)
                .map_err(|e| format!("could not clear {}: {e}", path.display()))?;
        }
        fs::create_dir(&path).map_err(|e| format!("could not create {}: {e}", path.display()))?;
        fs::write(path.join(MARKER), "test files of `cargo xtask bench`\n")
            .map_err(|e| format!("could not write in {}: {e}", path.display()))?;
        Ok(WorkDir { path, keep })
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it will be kept.
    pub(crate) fn keep(&self) -> bool {
        self.keep
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("bench: kept the test files in {}", self.path.display());
            return;
        }
        match fs::remove_dir_all(&self.path) {
            Ok(()) => eprintln!("bench: removed {}", self.path.display()),
            Err(e) => eprintln!(
                "bench: WARNING: could not remove {}: {e}; delete it by hand",
                self.path.display()
            ),
        }
    }
}

/// Removes `parent/run-<pid>` folders that carry our marker and whose process is gone (or is no
/// longer an xtask).
fn remove_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("run-"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        if pid == std::process::id() || !path.join(MARKER).is_file() {
            continue;
        }
        let alive = fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim().starts_with("xtask"));
        if alive {
            continue;
        }
        match fs::remove_dir_all(&path) {
            Ok(()) => eprintln!("bench: removed stale {} of an earlier run", path.display()),
            Err(e) => eprintln!("bench: could not remove stale {}: {e}", path.display()),
        }
    }
}

/// Bytes available to us on the file system holding `path`.
pub(crate) fn free_disk(path: &Path) -> Result<u64, String> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{} contains a NUL byte", path.display()))?;
    // SAFETY: all-zero is a valid `statvfs`.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path, `st` a valid out-pointer.
    let r = unsafe { libc::statvfs(c.as_ptr(), &raw mut st) };
    if r != 0 {
        return Err(format!(
            "statvfs({}) failed: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    // The field types are u64 on 64-bit Linux but narrower on some 32-bit targets.
    #[allow(clippy::useless_conversion)]
    Ok(u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
}

/// A field of `/proc/meminfo` in bytes (`MemTotal`, `MemAvailable`).
pub(crate) fn meminfo(field: &str) -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kib * 1024)
    })
}
