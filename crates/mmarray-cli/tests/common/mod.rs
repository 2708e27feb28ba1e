//! Helpers shared by the integration tests: run the built `mmarray` binary and
//! look at its exit code, output and the files it leaves.

// Not every test binary uses every helper.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run of `mmarray` did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) args: Vec<String>,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "mmarray {:?} failed:\n{}",
            self.args, self.stderr
        );
        &self.stdout
    }

    /// Asserts exit code `code` with a first stderr line that starts with `error:`
    /// and contains every one of `needles`; returns that line.
    #[track_caller]
    pub(crate) fn fails(&self, code: i32, needles: &[&str]) -> String {
        assert_eq!(
            self.code, code,
            "mmarray {:?}: expected exit {code}, got {}\nstdout: {}\nstderr: {}",
            self.args, self.code, self.stdout, self.stderr
        );
        let first = self.stderr.lines().next().unwrap_or("").to_owned();
        assert!(
            first.starts_with("error:"),
            "mmarray {:?}: first stderr line {first:?}",
            self.args
        );
        for needle in needles {
            assert!(
                first.contains(needle),
                "mmarray {:?}: {first:?} does not contain {needle:?}",
                self.args
            );
        }
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        assert!(!self.stderr.contains("RUST_BACKTRACE"), "{}", self.stderr);
        first
    }
}

/// Runs `mmarray` with `args` in folder `dir`.
pub(crate) fn mmarray_in<I, S>(dir: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    mmarray_env(dir, &[], args)
}

/// Runs `mmarray` with `args` in folder `dir`, with environment variables `env`
/// (and none of mmarray's own from the caller's environment otherwise).
pub(crate) fn mmarray_env<I, S>(dir: &Path, env: &[(&str, &str)], args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let output = Command::new(env!("CARGO_BIN_EXE_mmarray"))
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE")
        .env_remove("MMARRAY_ACCESS")
        .envs(env.iter().copied())
        .output()
        .expect("run mmarray");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        args: args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
    }
}

/// A scratch folder with helpers to run `mmarray` in it.
pub(crate) struct Scratch {
    pub(crate) dir: tempfile::TempDir,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `mmarray` in the scratch folder (file names are relative to it).
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        mmarray_in(self.dir.path(), args)
    }

    /// Runs `mmarray` in the scratch folder with environment variables `env`.
    pub(crate) fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        mmarray_env(self.dir.path(), env, args)
    }

    /// The names of the files in the folder, sorted.
    pub(crate) fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    pub(crate) fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read file")
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path(name), bytes).expect("write file");
    }

    /// Parses stdout of a successful run as JSON.
    #[track_caller]
    pub(crate) fn json(&self, args: &[&str]) -> serde_json::Value {
        let run = self.run(args);
        serde_json::from_str(run.ok().trim())
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", run.stdout))
    }
}

/// A `.npy` file's bytes as numpy's `np.save` writes them, for `descr`, `shape`
/// (a Python tuple text such as `(3,)`) and raw data bytes.
pub(crate) fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A `.npy` file with header text `header` exactly as given (version 1.0, or 3.0
/// when `v3`), followed by `data`.
pub(crate) fn npy_with_header(header: &[u8], v3: bool, data: &[u8]) -> Vec<u8> {
    let mut out = if v3 {
        b"\x93NUMPY\x03\x00".to_vec()
    } else {
        b"\x93NUMPY\x01\x00".to_vec()
    };
    if v3 {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(header);
    out.extend_from_slice(data);
    out
}

/// The little-endian bytes of `values`.
pub(crate) fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
