//! Shared support for integration tests that check mmarray against numpy.
//!
//! Include it from any crate's integration tests with a path relative to the test file, e.g.
//!
//! ```ignore
//! #[path = "../../mmarray-dtype/tests/support/numpy.rs"]
//! mod numpy;
//! ```
//!
//! The python comes from `$MMARRAY_PYTHON` if set, else from `<workspace>/target/interop-venv`,
//! which `cargo xtask test` creates (and which `cargo xtask test` passes on as `MMARRAY_PYTHON`).
//! A test that needs numpy and cannot find it fails loudly rather than being skipped, so that an
//! interop test can never pass by not running.

// Not every test binary uses every helper.
#![allow(dead_code)]

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Environment variable naming a python that has numpy.
pub(crate) const PYTHON_ENV: &str = "MMARRAY_PYTHON";

/// The panic message when no python with numpy is available.
const NUMPY_REQUIRED: &str = "numpy is required for this interop test: run `cargo xtask test` \
     once (it creates target/interop-venv with numpy), or set MMARRAY_PYTHON to a python that has \
     numpy";

/// The python interpreter to run numpy with: `$MMARRAY_PYTHON` if set, else the venv that
/// `cargo xtask test` keeps in `<workspace>/target/interop-venv`.
///
/// The first call checks that it can `import numpy`; the result is cached for the test binary.
///
/// # Panics
///
/// If there is no such python or it cannot import numpy (with a message saying how to fix it).
pub(crate) fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(find_python) {
        Ok(path) => path.clone(),
        Err(why) => panic!("{NUMPY_REQUIRED}\n({why})"),
    }
}

/// Runs `python -c <script> <args>...` and returns its standard output.
///
/// `args` appear to the script as `sys.argv[1:]`. Standard input is empty, and Python's I/O
/// encoding is UTF-8 whatever the locale.
///
/// # Panics
///
/// If numpy is unavailable (see [`python`]), if the script exits with a non-zero status (the
/// panic shows the script, its arguments, stdout and stderr), or if its output is not UTF-8.
pub(crate) fn run_py(script: &str, args: &[&OsStr]) -> String {
    let python = python();
    let output = Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(args)
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python script failed ({status})\n\
         --- script ---\n{script}\n\
         --- args ---\n{args:?}\n\
         --- stdout ---\n{stdout}\n\
         --- stderr ---\n{stderr}",
        status = output.status,
    );
    String::from_utf8(output.stdout)
        .unwrap_or_else(|e| panic!("python script wrote non-UTF-8 output ({e})\n{script}"))
}

/// Finds the python and checks that it imports numpy; `Err` says what was tried.
fn find_python() -> Result<PathBuf, String> {
    let python = match env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => venv_python()?,
    };
    let output = Command::new(&python)
        .args(["-c", "import numpy"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    if output.status.success() {
        Ok(python)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").trim();
        Err(format!(
            "`{} -c \"import numpy\"` failed ({}): {last}",
            python.display(),
            output.status
        ))
    }
}

/// The python of the venv that `cargo xtask test` creates, if it exists.
fn venv_python() -> Result<PathBuf, String> {
    let venv = workspace_root()?.join("target").join("interop-venv");
    let python = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    if python.is_file() {
        Ok(python)
    } else {
        Err(format!(
            "{PYTHON_ENV} is not set and {} does not exist",
            python.display()
        ))
    }
}

/// The workspace root: the nearest ancestor of the including crate's manifest directory whose
/// `Cargo.toml` has a `[workspace]` table.
fn workspace_root() -> Result<PathBuf, String> {
    let start = Path::new(env!("CARGO_MANIFEST_DIR"));
    start
        .ancestors()
        .find(|dir| {
            fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|toml| toml.lines().any(|line| line.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no Cargo.toml with [workspace] above {}", start.display()))
}
