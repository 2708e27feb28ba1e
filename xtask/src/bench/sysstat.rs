//! The conditions of a measurement: the machine's load average and CPU steal from `/proc`, and
//! how much of an input file the page cache holds (`mincore` over a fresh mapping).

use std::fs::{self, File};
use std::path::Path;

use memmap2::Mmap;

/// The 1-minute load average.
pub(crate) fn load_average() -> Option<f64> {
    parse_loadavg(&fs::read_to_string("/proc/loadavg").ok()?)
}

/// The first field of `/proc/loadavg`.
fn parse_loadavg(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// The aggregate `cpu` line of `/proc/stat`, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CpuTimes {
    /// Every field but `guest` and `guest_nice` (which `user` and `nice` already count).
    pub(crate) total: u64,
    /// Time the hypervisor ran something else while a virtual CPU wanted to run.
    pub(crate) steal: u64,
    /// Idle and waiting for I/O.
    pub(crate) idle: u64,
}

impl CpuTimes {
    /// The current counters (`None` where `/proc/stat` cannot be read).
    pub(crate) fn now() -> Option<CpuTimes> {
        parse_stat(&fs::read_to_string("/proc/stat").ok()?)
    }

    /// Steal in percent of all CPU time between `self` (earlier) and `later`.
    pub(crate) fn steal_pct(self, later: CpuTimes) -> Option<f64> {
        let total = later.total.checked_sub(self.total)?;
        let steal = later.steal.checked_sub(self.steal)?;
        (total > 0).then(|| steal as f64 / total as f64 * 100.0)
    }

    /// Busy (not idle, not steal) time between `self` and `later`, in CPUs: 2.0 means both of
    /// two CPUs were busy all the time, whoever used them (this run or anyone else).
    pub(crate) fn busy_cpus(self, later: CpuTimes, cpus: usize) -> Option<f64> {
        let total = later.total.checked_sub(self.total)?;
        let idle = later.idle.checked_sub(self.idle)?;
        let steal = later.steal.checked_sub(self.steal)?;
        (total > 0).then(|| (total - idle - steal) as f64 / total as f64 * cpus as f64)
    }
}

/// The `cpu` line of `/proc/stat`: `cpu user nice system idle iowait irq softirq steal guest
/// guest_nice` (older kernels have fewer fields; missing ones count as 0).
fn parse_stat(text: &str) -> Option<CpuTimes> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let get = |i: usize| f.get(i).copied().unwrap_or(0);
    if f.len() < 4 {
        return None;
    }
    Some(CpuTimes {
        total: (0..8).map(get).sum(),
        steal: get(7),
        idle: get(3) + get(4),
    })
}

/// Load and steal over one measurement: sampled at its start, at every round and at its end.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Conditions {
    /// Lowest and highest 1-minute load average seen.
    pub(crate) load: Option<(f64, f64)>,
    /// CPU steal over the whole measurement, percent.
    pub(crate) steal_pct: Option<f64>,
    /// Busy CPUs over the whole measurement (ours and everyone else's).
    pub(crate) busy_cpus: Option<f64>,
    /// `/proc/stat` at the start.
    start: Option<CpuTimes>,
}

impl Conditions {
    /// Starts watching.
    pub(crate) fn start() -> Conditions {
        let mut c = Conditions {
            start: CpuTimes::now(),
            ..Conditions::default()
        };
        c.sample();
        c
    }

    /// Records the load average now.
    pub(crate) fn sample(&mut self) {
        if let Some(l) = load_average() {
            self.load = Some(self.load.map_or((l, l), |(lo, hi)| (lo.min(l), hi.max(l))));
        }
    }

    /// Stops watching: the last load sample and the steal and busy time since the start.
    pub(crate) fn finish(&mut self, cpus: usize) {
        self.sample();
        if let (Some(a), Some(b)) = (self.start, CpuTimes::now()) {
            self.steal_pct = a.steal_pct(b);
            self.busy_cpus = a.busy_cpus(b, cpus);
        }
    }
}

/// The fraction (0 to 1) of `path`'s pages that the page cache holds, from `mincore` over a
/// fresh read-only mapping (which itself brings nothing in: it is never touched).
pub(crate) fn resident_fraction(path: &Path) -> Result<f64, String> {
    let file = File::open(path).map_err(|e| format!("could not open {}: {e}", path.display()))?;
    let len = file
        .metadata()
        .map_err(|e| format!("could not stat {}: {e}", path.display()))?
        .len();
    if len == 0 {
        return Ok(1.0);
    }
    // SAFETY: the file lives in our private test folder; the mapping is never read, only
    // passed to `mincore`.
    let map = unsafe { Mmap::map(&file) }
        .map_err(|e| format!("could not map {}: {e}", path.display()))?;
    // SAFETY: `sysconf` has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .ok()
        .filter(|&p| p > 0)
        .unwrap_or(4096);
    let pages = map.len().div_ceil(page);
    let mut vec = vec![0u8; pages];
    // SAFETY: `map` is a live page-aligned mapping of `map.len()` bytes and `vec` has one byte
    // per page of it, as `mincore` requires.
    let r = unsafe {
        libc::mincore(
            map.as_ptr() as *mut libc::c_void,
            map.len(),
            vec.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(format!(
            "mincore over {} failed: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    let resident = vec.iter().filter(|&&b| b & 1 == 1).count();
    Ok(resident as f64 / pages as f64)
}

#[cfg(test)]
mod tests {
    use super::{CpuTimes, parse_loadavg, parse_stat, resident_fraction};

    #[test]
    fn proc_files() {
        assert_eq!(parse_loadavg("1.47 2.13 4.89 6/145 23458\n"), Some(1.47));
        assert_eq!(parse_loadavg(""), None);
        let a = parse_stat("cpu  100 0 50 800 10 0 0 40 7 0\ncpu0 1 2 3 4\n").unwrap();
        assert_eq!(
            a,
            CpuTimes {
                total: 1000,
                steal: 40,
                idle: 810
            }
        );
        let b = parse_stat("cpu  200 0 100 1500 10 0 0 190 7 0\n").unwrap();
        // 1000 ticks later: 150 of them steal, 700 idle, 150 busy.
        assert_eq!(a.steal_pct(b), Some(15.0));
        assert_eq!(a.busy_cpus(b, 2), Some(0.3));
        assert_eq!(b.steal_pct(a), None);
        assert!(parse_stat("intr 1 2 3\n").is_none());
    }

    #[test]
    fn residency_of_a_file_just_written() {
        let dir = std::env::temp_dir().join(format!("xtask-mincore-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        // Written through the page cache a moment ago: all there.
        let r = resident_fraction(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(r > 0.99, "{r}");
    }
}
