//! Running external processes: whole-process timing, peak memory by polling `/proc/<pid>/status`
//! (`VmHWM`, `RssAnon`) and the kernel's own high-water mark from `wait4` (`ru_maxrss`, the
//! number `/usr/bin/time -v` prints as "Maximum resident set size"), and the spread (min,
//! median, max) of repeated measurements.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::json::Json;
use super::workdir;

/// How often the memory of a running process is sampled.
pub(crate) const POLL: Duration = Duration::from_millis(5);

/// Peak memory of one process, in KiB.
#[derive(Debug, Default, Clone, Copy)]
#[allow(clippy::struct_field_names)] // the unit is part of each name on purpose
pub(crate) struct Mem {
    /// Largest `RssAnon` seen while polling (anonymous memory: heap, stacks, temporaries).
    pub(crate) rss_anon_peak_kib: Option<u64>,
    /// Last `VmHWM` seen (the kernel's peak resident set, file-backed pages included).
    pub(crate) vm_hwm_kib: Option<u64>,
    /// `ru_maxrss` from `wait4` (same as `VmHWM` at exit; what `/usr/bin/time -v` reports).
    pub(crate) max_rss_kib: Option<u64>,
    /// How many times `/proc/<pid>/status` was read (few for a process of a few ms).
    pub(crate) samples: u32,
}

impl Mem {
    /// As a JSON object in MiB.
    pub(crate) fn to_json(self) -> Json {
        let mib = |k: Option<u64>| Json::opt_num(k.map(kib_to_mib));
        Json::obj([
            ("rss_anon_peak_mib", mib(self.rss_anon_peak_kib)),
            ("vm_hwm_mib", mib(self.vm_hwm_kib)),
            ("max_rss_mib", mib(self.max_rss_kib)),
            ("rss_samples", Json::num(f64::from(self.samples))),
        ])
    }
}

/// KiB to MiB, rounded to 0.1.
pub(crate) fn kib_to_mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

/// A finished process.
#[derive(Debug)]
pub(crate) struct Finished {
    /// Standard output, lossily decoded.
    pub(crate) stdout: String,
    /// Wall time from just before spawning to just after reaping.
    pub(crate) elapsed: Duration,
    /// Peak memory (polled fields only when polling was asked for).
    pub(crate) mem: Mem,
}

/// How to wait for a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Block in `wait4` (for timing: no polling latency, no polling load).
    Block,
    /// Poll `/proc/<pid>/status` every 5 ms until it exits (for memory).
    Poll,
}

/// The command as a user would type it (POSIX shell quoting).
pub(crate) fn display(cmd: &Command) -> String {
    let mut words = vec![shell_quote(cmd.get_program())];
    words.extend(cmd.get_args().map(shell_quote));
    words.join(" ")
}

/// One shell word: unchanged if it is plain, else in single quotes.
pub(crate) fn shell_quote(word: &OsStr) -> String {
    let s = word.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` to completion (stdin closed, stdout and stderr captured). A failure to start, a
/// non-zero exit or a signal is an error that quotes the command and its stderr. On Ctrl-C the
/// child is terminated (it usually got the signal itself already).
pub(crate) fn run(cmd: &mut Command, wait: Wait) -> Result<Finished, String> {
    workdir::check_interrupted()?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = display(cmd);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    let pid = libc::pid_t::try_from(child.id()).map_err(|_| "pid out of range".to_owned())?;
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let mut mem = Mem::default();
    let mut killed = false;
    let (status, usage, end) = loop {
        let mut status: libc::c_int = 0;
        // SAFETY: all-zero is a valid `rusage` (plain integers and timevals).
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if wait == Wait::Poll { libc::WNOHANG } else { 0 };
        // SAFETY: `pid` is our own child, not yet reaped (std's `Child` never waits on drop and
        // we do not call its wait methods); the out-pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &raw mut status, flags, &raw mut usage) };
        if r == pid {
            break (status, usage, Instant::now());
        }
        if r == -1 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(format!("waiting for `{shown}` failed: {e}"));
            }
        } else {
            sample(pid, &mut mem);
        }
        if workdir::interrupted() && !killed {
            // SAFETY: plain syscall on our own (unreaped, so not recycled) child pid.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            killed = true;
        }
        if wait == Wait::Poll {
            thread::sleep(POLL);
        }
    };
    drop(child);
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    mem.max_rss_kib = u64::try_from(usage.ru_maxrss).ok();
    workdir::check_interrupted()?;
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(Finished {
            stdout,
            elapsed: end - start,
            mem,
        });
    }
    let how = if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("exit status {}", libc::WEXITSTATUS(status))
    };
    let stderr = stderr.trim_end();
    let stderr = if stderr.is_empty() {
        "(no output on stderr)".to_owned()
    } else {
        // Long tracebacks: keep the end, which has the error.
        let lines: Vec<&str> = stderr.lines().collect();
        let keep = lines.len().saturating_sub(30);
        lines[keep..].join("\n  ")
    };
    Err(format!("`{shown}` failed ({how}); its stderr:\n  {stderr}"))
}

/// Reads a pipe to the end on a thread (so that a chatty child never blocks on a full pipe).
fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Reads `VmHWM` and `RssAnon` of a live process into `mem` (a zombie has neither: ignored).
pub(crate) fn sample(pid: libc::pid_t, mem: &mut Mem) {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return;
    };
    let before = mem.rss_anon_peak_kib.is_some();
    for line in status.lines() {
        let field = |name: &str| {
            line.strip_prefix(name).and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        };
        if let Some(kib) = field("VmHWM:") {
            mem.vm_hwm_kib = Some(mem.vm_hwm_kib.map_or(kib, |m| m.max(kib)));
        } else if let Some(kib) = field("RssAnon:") {
            mem.rss_anon_peak_kib = Some(mem.rss_anon_peak_kib.map_or(kib, |m| m.max(kib)));
        }
    }
    if mem.rss_anon_peak_kib.is_some() || before {
        mem.samples += 1;
    }
}

/// Wall times of repeated runs, in seconds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Samples {
    /// One entry per timed run.
    pub(crate) times: Vec<f64>,
}

impl Samples {
    /// The median (mean of the middle two for an even count).
    pub(crate) fn median(&self) -> f64 {
        let mut t = self.times.clone();
        t.sort_by(f64::total_cmp);
        match t.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => t[n / 2],
            n => f64::midpoint(t[n / 2 - 1], t[n / 2]),
        }
    }

    /// The fastest run.
    pub(crate) fn min(&self) -> f64 {
        self.times.iter().copied().fold(f64::NAN, f64::min)
    }

    /// The slowest run.
    pub(crate) fn max(&self) -> f64 {
        self.times.iter().copied().fold(f64::NAN, f64::max)
    }

    /// Throughput in GB/s (10^9 bytes) at the median, and at the slowest and fastest runs.
    pub(crate) fn gbs(&self, bytes: u64) -> (f64, f64, f64) {
        let rate = |t: f64| bytes as f64 / t / 1e9;
        (rate(self.median()), rate(self.max()), rate(self.min()))
    }

    /// Round by round, `self`'s time over `other`'s, i.e. `other`'s speed over `self`'s (for
    /// numpy's samples and mmarray's: mmarray/numpy throughput); rounds pair up by index.
    pub(crate) fn ratio_over(&self, other: &Samples) -> Option<Spread> {
        let r: Vec<f64> = self
            .times
            .iter()
            .zip(&other.times)
            .map(|(a, b)| a / b)
            .collect();
        Spread::of(&r)
    }

    /// As JSON: times and the median/min/max in seconds, GB/s for `bytes`.
    pub(crate) fn to_json(&self, bytes: u64) -> Json {
        let (gbs, lo, hi) = self.gbs(bytes);
        Json::obj([
            ("runs", Json::num(self.times.len() as f64)),
            ("median_s", Json::num(self.median())),
            ("min_s", Json::num(self.min())),
            ("max_s", Json::num(self.max())),
            ("gbs", Json::num(gbs)),
            ("gbs_slowest", Json::num(lo)),
            ("gbs_fastest", Json::num(hi)),
            (
                "times_s",
                Json::Arr(self.times.iter().map(|&t| Json::num(t)).collect()),
            ),
        ])
    }
}

/// Minimum, median and maximum of repeated measurements (of a ratio, say).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spread {
    /// The smallest.
    pub(crate) min: f64,
    /// The median (mean of the middle two for an even count).
    pub(crate) median: f64,
    /// The largest.
    pub(crate) max: f64,
}

impl Spread {
    /// The spread of the finite values of `xs`, or `None` if there are none.
    pub(crate) fn of(xs: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n {
            0 => return None,
            n if n % 2 == 1 => v[n / 2],
            n => f64::midpoint(v[n / 2 - 1], v[n / 2]),
        };
        Some(Spread {
            min: v[0],
            median,
            max: v[n - 1],
        })
    }

    /// Whether the whole spread is at least `target`.
    pub(crate) fn clears(self, target: f64) -> bool {
        self.min >= target
    }

    /// Whether the median is at least `target`.
    pub(crate) fn median_clears(self, target: f64) -> bool {
        self.median >= target
    }

    /// Every value multiplied by `k` (ratios to percentages).
    pub(crate) fn scale(self, k: f64) -> Spread {
        Spread {
            min: self.min * k,
            median: self.median * k,
            max: self.max * k,
        }
    }

    /// As JSON.
    pub(crate) fn to_json(self) -> Json {
        Json::obj([
            ("min", Json::num(self.min)),
            ("median", Json::num(self.median)),
            ("max", Json::num(self.max)),
        ])
    }
}

/// Deletes a file; a missing file is fine.
pub(crate) fn remove_if_exists(path: &Path) -> Result<(), String> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(format!("could not delete {}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}

/// `sync`, then drops the page cache, dentries and inodes (needs root outside a container).
pub(crate) fn drop_caches() -> Result<(), String> {
    // SAFETY: `sync` has no preconditions.
    unsafe { libc::sync() };
    fs::write("/proc/sys/vm/drop_caches", "3")
        .map_err(|e| format!("cannot drop the page cache (/proc/sys/vm/drop_caches: {e})"))
}

/// The first line of `program --version` (or `args`), if it runs.
pub(crate) fn version_of(program: &OsStr, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .next()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::{Samples, Spread, shell_quote};
    use std::ffi::OsStr;

    #[test]
    fn median_and_quoting() {
        let s = Samples {
            times: vec![3.0, 1.0, 2.0, 10.0],
        };
        assert_eq!(s.median(), 2.5);
        assert_eq!(s.min(), 1.0);
        assert_eq!(s.max(), 10.0);
        assert_eq!(shell_quote(OsStr::new("a/b.npy")), "a/b.npy");
        assert_eq!(shell_quote(OsStr::new("it's")), r"'it'\''s'");
        let r = Spread::of(&[2.0, 0.5, 1.0, f64::NAN]).unwrap();
        assert_eq!((r.min, r.median, r.max), (0.5, 1.0, 2.0));
        assert!(r.clears(0.5) && !r.clears(0.6) && r.median_clears(1.0));
        assert_eq!(Spread::of(&[]), None);
        // Per-round ratios pair the runs of the same round.
        let np = Samples {
            times: vec![2.0, 4.0, 3.0],
        };
        let mm = Samples {
            times: vec![1.0, 1.0, 2.0],
        };
        let ratio = np.ratio_over(&mm).unwrap();
        assert_eq!((ratio.min, ratio.median, ratio.max), (1.5, 2.0, 4.0));
    }
}
