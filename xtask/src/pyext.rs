//! The steps of `cargo xtask test` for the Python package `crates/mmarray-py`:
//! its test dependencies in the interop venv, one release build of the extension
//! into it (skipped when nothing it is built from changed), and its pytest suite.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::UNIX_EPOCH;

use crate::python::{PYTHON_ENV, VENV_DIR};

/// The package's directory, relative to the workspace root.
pub(crate) const PACKAGE_DIR: &str = "crates/mmarray-py";

/// What the pytest suite needs, pinned: dask and distributed must be the same
/// release (a plain `pip install dask distributed` can resolve to versions that
/// do not import together). `zarrs` (zarr-python's Rust codec pipeline) is a
/// contender of the Zarr rows of `cargo xtask bench`; 0.2.3 installs as a wheel
/// beside zarr 3.1.6 without changing it.
const TEST_DEPS: &[&str] = &[
    "pytest==9.2.0",
    "maturin==1.16.0",
    "dask[array]==2026.8.0",
    "distributed==2026.8.0",
    "xarray==2026.9.0",
    "zarrs==0.2.3",
];

/// Modules whose import proves the test dependencies are there.
const TEST_IMPORTS: &str = "import pytest, dask.array, distributed, xarray, maturin, zarrs";

/// Where the fingerprint of the last build is kept (inside the venv, so a new venv rebuilds).
const STAMP: &str = "mmarray-py.build-stamp";

/// Installs the test dependencies into the venv when they are missing.
/// With `$MMARRAY_PYTHON` (a python we must not modify) it only checks for them.
pub(crate) fn ensure_test_deps(python: &Path, ours: bool) -> Result<(), String> {
    if quiet(python, &["-c", TEST_IMPORTS]) {
        return Ok(());
    }
    if !ours {
        return Err(format!(
            "{PYTHON_ENV} points at a python without the Python package's test dependencies; \
             install them with `{} -m pip install {}`, or unset {PYTHON_ENV}",
            python.display(),
            quoted_deps()
        ));
    }
    eprintln!("xtask: installing into {VENV_DIR}: {}", TEST_DEPS.join(" "));
    let status = Command::new(python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
        .args(TEST_DEPS)
        .status()
        .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    if !status.success() {
        return Err(format!(
            "`pip install {}` failed ({status}); check access to PyPI",
            quoted_deps()
        ));
    }
    if !quiet(python, &["-c", TEST_IMPORTS]) {
        return Err(format!(
            "pip installed the test dependencies, but `{TEST_IMPORTS}` still fails"
        ));
    }
    Ok(())
}

fn quoted_deps() -> String {
    TEST_DEPS
        .iter()
        .map(|d| format!("'{d}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Builds the extension in release mode and installs the package into `python`'s
/// environment (`pip install ./crates/mmarray-py`, maturin as the build backend),
/// unless the sources are unchanged since the last build into that environment.
pub(crate) fn build_package(root: &Path, python: &Path) -> Result<(), String> {
    let fingerprint = fingerprint(root);
    let stamp = stamp_path(python);
    let current = stamp
        .as_deref()
        .and_then(|s| fs::read_to_string(s).ok())
        .is_some_and(|s| s.trim() == fingerprint);
    if current && quiet(python, &["-c", "import mmarray._native"]) {
        eprintln!("xtask: mmarray package is up to date (sources unchanged since the last build)");
        return Ok(());
    }
    eprintln!("xtask: pip install ./{PACKAGE_DIR} (release build of the extension)");
    // The build backend runs the `maturin` executable of the venv: put its bin
    // folder first on PATH, as activating the venv would.
    let mut path = std::ffi::OsString::new();
    if let Some(bin) = python.parent() {
        path.push(bin);
        path.push(":");
    }
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let status = Command::new(python)
        .current_dir(root)
        .env("PATH", path)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--force-reinstall",
        ])
        .arg(format!("./{PACKAGE_DIR}"))
        .status()
        .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    if !status.success() {
        return Err(format!("`pip install ./{PACKAGE_DIR}` failed ({status})"));
    }
    if let Some(stamp) = stamp {
        let _ = fs::write(stamp, &fingerprint);
    }
    Ok(())
}

/// Runs the package's pytest suite. The temporary folders of passing tests are
/// removed (pytest keeps those of its last 3 runs otherwise: gigabytes of test
/// files in the system's temporary folder).
pub(crate) fn run_pytest(root: &Path, python: &Path) -> Result<(), String> {
    let status = Command::new(python)
        .current_dir(root)
        .args(["-m", "pytest", &format!("{PACKAGE_DIR}/tests"), "-q"])
        .args(["-o", "tmp_path_retention_policy=failed"])
        .status()
        .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("pytest failed ({status})"))
    }
}

/// The stamp file in the environment of `python` (`<venv>/mmarray-py.build-stamp`).
fn stamp_path(python: &Path) -> Option<std::path::PathBuf> {
    python
        .parent()
        .and_then(Path::parent)
        .map(|venv| venv.join(STAMP))
}

/// A hash of the paths, sizes and modification times of every file the package
/// is built from (its crate and the crates it depends on, the workspace manifests).
fn fingerprint(root: &Path) -> String {
    let mut h = DefaultHasher::new();
    for file in ["Cargo.toml", "Cargo.lock"] {
        hash_file(&root.join(file), &mut h);
    }
    for dir in [
        "crates/mmarray-py/src",
        "crates/mmarray-py/python",
        "crates/mmarray-dtype/src",
        "crates/mmarray-core/src",
        "crates/mmarray-ops/src",
        "crates/mmarray-zarr/src",
    ] {
        hash_tree(&root.join(dir), &mut h);
    }
    for file in [
        "crates/mmarray-py/Cargo.toml",
        "crates/mmarray-py/pyproject.toml",
        "crates/mmarray-dtype/Cargo.toml",
        "crates/mmarray-core/Cargo.toml",
        "crates/mmarray-ops/Cargo.toml",
        "crates/mmarray-zarr/Cargo.toml",
    ] {
        hash_file(&root.join(file), &mut h);
    }
    format!("{:016x}", h.finish())
}

fn hash_tree(dir: &Path, h: &mut DefaultHasher) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "__pycache__") {
                continue;
            }
            hash_tree(&p, h);
        } else {
            hash_file(&p, h);
        }
    }
}

fn hash_file(path: &Path, h: &mut DefaultHasher) {
    path.hash(h);
    if let Ok(meta) = fs::metadata(path) {
        meta.len().hash(h);
        if let Ok(t) = meta.modified()
            && let Ok(d) = t.duration_since(UNIX_EPOCH)
        {
            d.as_nanos().hash(h);
        }
    }
}

/// Whether `python args...` succeeds (output discarded).
fn quiet(python: &Path, args: &[&str]) -> bool {
    Command::new(python)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
