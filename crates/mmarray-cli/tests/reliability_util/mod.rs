//! Helpers shared by the reliability tests (`reliability_*.rs`): run the `mmarray`
//! binary under an address-space limit and a time limit, check its failures, snapshot
//! files, load arrays through the library, and a small seeded generator.

// Not every test binary uses every helper.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io::{Read, Seek};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use mmarray_core::{DynArray, ReadOnly};
use mmarray_dtype::DType;

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_mmarray");

/// Address space a limited run may use (`RLIMIT_AS`): a huge allocation fails the run
/// (abort, caught as a signal) instead of exhausting the machine.
pub(crate) const AS_LIMIT: u64 = 1 << 30;

/// Wall-clock time a limited run may take (debug build, on a loaded machine).
pub(crate) const TIME_LIMIT: Duration = Duration::from_secs(5);

/// What one run of `mmarray` did.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) args: Vec<String>,
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) elapsed: Duration,
}

impl Outcome {
    /// Asserts success (no signal, exit 0) and returns stdout.
    #[track_caller]
    pub(crate) fn ok(&self) -> &str {
        assert!(
            self.status.success(),
            "mmarray {:?}: {:?}\nstderr: {}",
            self.args,
            self.status,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts a clean failure about `name`: no signal, exit 1, a first stderr line
    /// `error: <name>: ...`, no panic and no backtrace. Returns the first line.
    #[track_caller]
    pub(crate) fn fails_cleanly(&self, name: &str) -> String {
        assert_eq!(
            self.status.signal(),
            None,
            "mmarray {:?} was killed by a signal\nstderr: {}",
            self.args,
            self.stderr
        );
        assert_eq!(
            self.status.code(),
            Some(1),
            "mmarray {:?}: expected exit 1\nstdout: {}\nstderr: {}",
            self.args,
            truncate(&self.stdout),
            self.stderr
        );
        let first = self.stderr.lines().next().unwrap_or("").to_owned();
        assert!(
            first.starts_with(&format!("error: {name}: ")),
            "mmarray {:?}: first stderr line {first:?} does not start with \"error: {name}: \"",
            self.args
        );
        for bad in [
            "panicked",
            "RUST_BACKTRACE",
            "stack backtrace",
            "fatal runtime",
        ] {
            assert!(
                !self.stderr.contains(bad),
                "mmarray {:?}: {bad}\n{}",
                self.args,
                self.stderr
            );
        }
        first
    }
}

fn truncate(text: &str) -> &str {
    let end = text.char_indices().nth(2000).map_or(text.len(), |(i, _)| i);
    &text[..end]
}

fn strings(args: &[OsString]) -> Vec<String> {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// A `Command` for `mmarray args` in `dir`, without backtraces.
pub(crate) fn command<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    cmd
}

/// Sets `RLIMIT_AS` to [`AS_LIMIT`] (and no core files) in the child before `exec`.
pub(crate) fn limit_memory(cmd: &mut Command) {
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe functions may be called; setrlimit is one, and the closure
    // allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: AS_LIMIT as libc::rlim_t,
                rlim_max: AS_LIMIT as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &raw const limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &raw const none);
            Ok(())
        });
    }
}

/// Runs `mmarray args` in `dir` under [`AS_LIMIT`] and [`TIME_LIMIT`]; a run that
/// takes longer is killed and fails the test.
#[track_caller]
pub(crate) fn run_limited<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Outcome {
    let mut cmd = command(dir, args);
    limit_memory(&mut cmd);
    run_with_deadline(cmd, TIME_LIMIT)
}

/// Runs `mmarray args` in `dir` like [`run_limited`], with every file it writes
/// limited to `bytes` (`RLIMIT_FSIZE`) and `SIGXFSZ` ignored, so that growing a
/// file past the limit fails with `EFBIG` ("File too large"), as a full disk fails
/// with `ENOSPC`: a disk-full test that needs no mount.
#[track_caller]
pub(crate) fn run_limited_file_size<S: AsRef<OsStr>>(
    dir: &Path,
    args: &[S],
    bytes: u64,
) -> Outcome {
    let mut cmd = command(dir, args);
    limit_memory(&mut cmd);
    // SAFETY: the closure runs in the child between fork and exec; setrlimit and
    // signal are async-signal-safe and nothing is allocated. An ignored signal
    // stays ignored across exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &raw const limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    run_with_deadline(cmd, TIME_LIMIT)
}

/// Runs `mmarray args` in `dir` without limits (but with a generous deadline).
#[track_caller]
pub(crate) fn run<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Outcome {
    run_with_deadline(command(dir, args), Duration::from_secs(120))
}

#[track_caller]
fn run_with_deadline(mut cmd: Command, deadline: Duration) -> Outcome {
    let args: Vec<OsString> = cmd.get_args().map(OsStr::to_owned).collect();
    let mut out = tempfile::tempfile().expect("stdout file");
    let mut err = tempfile::tempfile().expect("stderr file");
    cmd.stdout(out.try_clone().expect("dup"))
        .stderr(err.try_clone().expect("dup"));
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn mmarray");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mmarray {:?} took more than {deadline:?}", strings(&args));
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let elapsed = start.elapsed();
    let read = |f: &mut std::fs::File| {
        let mut bytes = Vec::new();
        f.rewind().expect("rewind");
        f.read_to_end(&mut bytes).expect("read output");
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Outcome {
        args: strings(&args),
        status,
        stdout: read(&mut out),
        stderr: read(&mut err),
        elapsed,
    }
}

/// Starts `mmarray args` in `dir` without waiting (output discarded).
pub(crate) fn spawn<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Child {
    command(dir, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mmarray")
}

/// A file's bytes and modification time.
pub(crate) fn snapshot(path: &Path) -> (Vec<u8>, SystemTime) {
    let meta = std::fs::metadata(path).expect("stat");
    (
        std::fs::read(path).expect("read"),
        meta.modified().expect("mtime"),
    )
}

/// The names in `dir`, sorted (hidden ones included).
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What the library sees in a file: dtype, shape and the data bytes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Loaded {
    pub(crate) dtype: DType,
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Vec<u8>,
}

/// Opens `path` read-only with the library, as any later reader would.
pub(crate) fn load(path: &Path) -> Result<Loaded, mmarray_core::Error> {
    // SAFETY: the tests' files live in private temporary folders; no process writes
    // them while this short-lived mapping exists.
    let array = unsafe { DynArray::<ReadOnly>::open(path) }?;
    Ok(Loaded {
        dtype: array.dtype(),
        shape: array.shape().to_vec(),
        data: array.bytes().to_vec(),
    })
}

/// `SplitMix64`: a tiny seeded generator, so that random kill points repeat.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }
}

/// The temporary files that staged writes use in `dir`.
pub(crate) fn temp_files(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".mmarray-tmp"))
        .collect()
}

/// A path in `dir`.
pub(crate) fn at(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
