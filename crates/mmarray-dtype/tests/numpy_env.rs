//! Proves that the numpy interop set-up works: a python with numpy 1.24 or newer is found (see
//! `support/numpy.rs`) and scripts run with their arguments intact.

#[path = "support/numpy.rs"]
mod numpy;

use std::ffi::OsStr;

/// `(major, minor)` from a numpy version string such as `1.26.4`, `2.1.0rc1` or `2.3.0.dev0+git`.
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?;
    let digits = minor
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(minor.len());
    let minor = minor[..digits].parse().ok()?;
    Some((major, minor))
}

#[test]
fn numpy_is_at_least_1_24() {
    let out = numpy::run_py("import numpy; print(numpy.__version__)", &[]);
    let version = out.trim();
    let found = major_minor(version)
        .unwrap_or_else(|| panic!("cannot parse numpy.__version__ {version:?}"));
    assert!(
        found >= (1, 24),
        "numpy {version} at {} is too old: the interop tests need numpy >= 1.24",
        numpy::python().display()
    );
}

#[test]
fn run_py_passes_arguments_verbatim() {
    let args = [
        OsStr::new("a b"),
        OsStr::new("--flag"),
        OsStr::new(""),
        OsStr::new("é"),
    ];
    let out = numpy::run_py("import sys; print(sys.argv[1:])", &args);
    assert_eq!(out.trim(), "['a b', '--flag', '', 'é']");
}

#[test]
#[should_panic(expected = "python script failed")]
fn run_py_panics_when_the_script_fails() {
    numpy::run_py("import sys; sys.exit(3)", &[]);
}

#[test]
fn parses_numpy_versions() {
    assert_eq!(major_minor("1.24.0"), Some((1, 24)));
    assert_eq!(major_minor("2.1.0rc1"), Some((2, 1)));
    assert_eq!(major_minor("2.3.0.dev0+git20250101"), Some((2, 3)));
    assert_eq!(major_minor("2.0rc1"), Some((2, 0)));
    assert_eq!(major_minor("garbage"), None);
    assert_eq!(major_minor("1"), None);
}
