//! A description of the machine and the software versions, for the report.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use super::json::Json;
use super::procs::version_of;
use super::workdir::meminfo;

/// What the report says about where and with what it ran.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    /// `model name` of /proc/cpuinfo.
    pub(crate) cpu: String,
    /// Logical CPUs online.
    pub(crate) cpus: usize,
    /// `MemTotal` in bytes.
    pub(crate) ram: u64,
    /// Kernel release.
    pub(crate) kernel: String,
    /// `rustc -V`.
    pub(crate) rustc: String,
    /// Python version.
    pub(crate) python: String,
    /// numpy version.
    pub(crate) numpy: String,
    /// `mmarray --version`.
    pub(crate) mmarray: String,
    /// Git commit (short) of the workspace, `+dirty` when it has changes.
    pub(crate) commit: String,
    /// UTC date and time of the run.
    pub(crate) date: String,
}

impl Machine {
    /// Collects everything; unknown items are `"unknown"`.
    pub(crate) fn probe(root: &Path, python: &Path, numpy: &str, mmarray: &Path) -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let unknown = || "unknown".to_owned();
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| unknown(), |s| s.trim().to_owned());
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let rustc = version_of(&rustc, &["-V"]).unwrap_or_else(unknown);
        let python_version = version_of(python.as_os_str(), &["--version"]).unwrap_or_else(unknown);
        let mmarray_version =
            version_of(mmarray.as_os_str(), &["--version"]).unwrap_or_else(unknown);
        Machine {
            cpu,
            cpus,
            ram: meminfo("MemTotal").unwrap_or(0),
            kernel,
            rustc,
            python: python_version,
            numpy: numpy.to_owned(),
            mmarray: mmarray_version,
            commit: git_commit(root).unwrap_or_else(unknown),
            date: utc_now(),
        }
    }

    /// As JSON.
    pub(crate) fn to_json(&self) -> Json {
        Json::obj([
            ("cpu", Json::str(&self.cpu)),
            ("logical_cpus", Json::num(self.cpus as f64)),
            ("ram_bytes", Json::num(self.ram as f64)),
            ("kernel", Json::str(&self.kernel)),
            ("rustc", Json::str(&self.rustc)),
            ("python", Json::str(&self.python)),
            ("numpy", Json::str(&self.numpy)),
            ("mmarray", Json::str(&self.mmarray)),
            ("commit", Json::str(&self.commit)),
            ("date_utc", Json::str(&self.date)),
        ])
    }
}

/// `git rev-parse --short HEAD`, with `+dirty` when `git status --porcelain` lists changes.
fn git_commit(root: &Path) -> Option<String> {
    let run = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let head = run(&["rev-parse", "--short", "HEAD"])?;
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}+dirty") } else { head })
}

/// The current UTC time as `2025-01-31 12:34 UTC`.
pub(crate) fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
