//! The Python interpreter with numpy (and zarr-python, for `mmarray-zarr`) that the interop
//! tests compare against.
//!
//! Either the user points `$MMARRAY_PYTHON` at a python that has numpy and zarr 3.1.x, or we keep
//! a venv in `<workspace>/target/interop-venv` (created with `python3 -m venv`, numpy and
//! [`ZARR`] installed with pip).
//! The test support module `crates/mmarray-dtype/tests/support/numpy.rs` looks in the same two
//! places, so `cargo test` works on its own once `cargo xtask test` has run.

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Environment variable naming a python that already has numpy.
pub(crate) const PYTHON_ENV: &str = "MMARRAY_PYTHON";

/// Where the venv lives, relative to the workspace root (shown in messages).
pub(crate) const VENV_DIR: &str = "target/interop-venv";

/// Advice appended to every failure: the escape hatch.
const OR_SET_ENV: &str = "or set MMARRAY_PYTHON to a python that already has numpy and zarr 3.1.x";

/// zarr-python, pinned: the Zarr interop tests (`crates/mmarray-zarr/tests`) check stores
/// against it. 3.1.6 is the newest release that installs on Python 3.11.
pub(crate) const ZARR: &str = "zarr==3.1.6";

/// What the interop python must import (numpy, and zarr 3.1.x); prints numpy's version.
const IMPORT_CHECK: &str =
    "import numpy, zarr; assert zarr.__version__.startswith('3.1.'); print(numpy.__version__)";

/// A python known to import numpy.
pub(crate) struct Python {
    /// Absolute path of the interpreter.
    pub(crate) path: PathBuf,
    /// `numpy.__version__`.
    pub(crate) numpy_version: String,
    /// How we got it, for the log (`MMARRAY_PYTHON`, `existing venv`, `new venv`, ...).
    pub(crate) source: &'static str,
}

/// Finds or sets up a python with numpy and zarr: `$MMARRAY_PYTHON` if set (verified, never modified),
/// else the venv under `root/target/interop-venv`, created and/or given numpy as needed.
pub(crate) fn ensure(root: &Path) -> Result<Python, String> {
    if let Some(path) = env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return match numpy_version(&path) {
            Some(numpy_version) => Ok(Python {
                path,
                numpy_version,
                source: PYTHON_ENV,
            }),
            None => Err(format!(
                "{PYTHON_ENV} is set to {}, but it cannot import numpy and zarr 3.1.x.\n\
                 Install them into that python (`{0} -m pip install numpy {ZARR}`), or unset \
                 {PYTHON_ENV} to let xtask create {VENV_DIR} with them.",
                path.display()
            )),
        };
    }

    let venv = root.join("target").join("interop-venv");
    let python = venv_python(&venv);
    if let Some(numpy_version) = numpy_version(&python) {
        return Ok(Python {
            path: python,
            numpy_version,
            source: "existing venv",
        });
    }

    // A venv without a working pip (half-created, or its base python was removed or upgraded)
    // cannot be repaired in place: start again.
    let created = !(python.is_file() && has_pip(&python));
    if created {
        if venv.exists() {
            eprintln!("xtask: removing unusable {}", venv.display());
            fs::remove_dir_all(&venv)
                .map_err(|e| format!("could not remove {}: {e}", venv.display()))?;
        }
        create_venv(&venv)?;
        if !(python.is_file() && has_pip(&python)) {
            let _ = fs::remove_dir_all(&venv);
            return Err(format!(
                "`python3 -m venv {VENV_DIR}` did not produce a python with pip at {}.\n\
                 Install Python's venv support (Debian/Ubuntu: `apt-get install python3-venv`), \
                 {OR_SET_ENV}.",
                python.display()
            ));
        }
    }

    eprintln!("xtask: installing numpy and zarr into {VENV_DIR} (pip install numpy {ZARR})");
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "numpy",
            ZARR,
        ])
        .status()
        .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    if !status.success() {
        return Err(format!(
            "`pip install numpy {ZARR}` into {VENV_DIR} failed ({status}).\n\
             Check access to PyPI (pip honours HTTPS_PROXY, PIP_INDEX_URL and pip.conf), \
             {OR_SET_ENV}."
        ));
    }
    let numpy_version = numpy_version(&python).ok_or_else(|| {
        format!(
            "pip installed numpy and zarr into {VENV_DIR}, but `{} -c \"import numpy, zarr\"` still fails; \
             delete {VENV_DIR} and retry, {OR_SET_ENV}.",
            python.display()
        )
    })?;
    Ok(Python {
        path: python,
        numpy_version,
        source: if created {
            "new venv"
        } else {
            "existing venv, numpy and zarr installed now"
        },
    })
}

/// The interpreter inside a venv.
fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// `numpy.__version__` as seen by `python`, or `None` if it cannot import numpy and zarr 3.1.x.
fn numpy_version(python: &Path) -> Option<String> {
    let output = Command::new(python)
        .args(["-c", IMPORT_CHECK])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (!version.is_empty()).then_some(version)
}

/// Whether `python -m pip` works.
fn has_pip(python: &Path) -> bool {
    quiet_success(python, ["-m", "pip", "--version"])
}

/// Whether `program args...` runs and exits successfully (output discarded).
fn quiet_success<I, S>(program: &Path, args: I) -> bool
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The system's Python 3 (3.8 or newer), to create the venv with.
fn base_python() -> Result<PathBuf, String> {
    for candidate in ["python3", "python"] {
        let candidate = Path::new(candidate);
        if quiet_success(
            candidate,
            ["-c", "import sys; sys.exit(sys.version_info < (3, 8))"],
        ) {
            return Ok(candidate.to_path_buf());
        }
    }
    Err(format!(
        "no Python 3.8+ found on PATH (tried `python3` and `python`); the interop tests need \
         Python with numpy.\n\
         Install it (Debian/Ubuntu: `apt-get install python3 python3-venv`), {OR_SET_ENV}."
    ))
}

/// `python3 -m venv <venv>`, removing the remains if it fails.
fn create_venv(venv: &Path) -> Result<(), String> {
    let base = base_python()?;
    eprintln!(
        "xtask: creating {} with `{} -m venv`",
        venv.display(),
        base.display()
    );
    let result = Command::new(&base)
        .args(["-m", "venv"])
        .arg(venv)
        .stdin(Stdio::null())
        .status();
    match result {
        Ok(status) if status.success() => Ok(()),
        outcome => {
            let _ = fs::remove_dir_all(venv);
            let why = match outcome {
                Ok(status) => status.to_string(),
                Err(e) => e.to_string(),
            };
            Err(format!(
                "`{} -m venv {VENV_DIR}` failed ({why}).\n\
                 Install Python's venv support (Debian/Ubuntu: `apt-get install python3-venv`), \
                 {OR_SET_ENV}.",
                base.display()
            ))
        }
    }
}
