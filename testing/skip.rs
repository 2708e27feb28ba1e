//! `SKIPPED:` lines for tests that cannot check what they name on this machine
//! (no tmpfs mount, no AVX2, a filesystem without `O_DIRECT`, ...). Shared by the
//! test suites of every crate, included with `#[path = ".../testing/skip.rs"] mod skip;`.
//!
//! A skip is never silent:
//! - it writes `SKIPPED: <test>: <reason>` straight to the process's stderr (not
//!   through the test harness's capture, so it shows for passing tests too);
//! - it appends that line to the file named by `MMARRAY_SKIP_LOG`, if set
//!   (`cargo xtask test` sets it, then counts and lists the skips in its summary);
//! - with `MMARRAY_NO_SKIPS=1` it fails the test instead (for machines that must
//!   run everything).

#![allow(dead_code)]

/// Reports that `test` could not check something, and why (see the module docs).
#[track_caller]
pub(crate) fn skipped(test: &str, reason: &str) {
    use std::io::Write;
    let line = format!("SKIPPED: {test}: {reason}\n");
    assert!(
        std::env::var_os("MMARRAY_NO_SKIPS").is_none_or(|v| v != "1"),
        "{} (and MMARRAY_NO_SKIPS=1 forbids skips)",
        line.trim_end()
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os("MMARRAY_SKIP_LOG")
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
    {
        let _ = file.write_all(line.as_bytes());
    }
}
