//! Interrupted writers: SIGINT, SIGTERM and SIGHUP sent to `create`, `slice`,
//! `convert` (to `.npy` and `.npz`), `reduce --axis 0 --out`, `export`, `append --fill`,
//! `fill` and `random` at random
//! moments (fixed seeds), with unnamed and with named temporaries
//! (`MMARRAY_NAMED_TEMPORARIES=1`), and SIGKILL.
//!
//! A moment is either just after the command has installed its signal handling
//! (its main thread blocks the three signals: seen in `/proc/PID/status`), or a
//! random delay after its output file is open (seen in `/proc/PID/fd`: an unnamed
//! `DIR/#INODE (deleted)` or the named temporary). A run that finishes before the
//! signal lands (exit 0) is checked as a complete run and repeated with a shorter
//! delay; every case must be interrupted at least once while its output was open,
//! so no case passes without checking an interruption.
//!
//! After an interruption: exit code 128 + signal (no death by signal), the first
//! stderr line is exactly `error: OUT: interrupted`, and the folder holds nothing
//! new (no output, no temporary); an in-place `append`, `fill` or `random` leaves a file
//! that loads, with its old or new length and its old data intact.

mod reliability_util;

use std::io::{Read, Seek};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use reliability_util::{Rng, command, load, names, run};

/// How long a single run may take before the test gives up on it.
const DEADLINE: Duration = Duration::from_secs(60);

/// A running `mmarray`, killed (SIGKILL) and reaped if the test fails first.
struct Running {
    child: Child,
    stdout: std::fs::File,
    stderr: std::fs::File,
    args: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Running {
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
        let stdout = tempfile::tempfile().unwrap();
        let stderr = tempfile::tempfile().unwrap();
        let mut cmd = command(dir, args);
        cmd.envs(env.iter().copied())
            .stdout(stdout.try_clone().unwrap())
            .stderr(stderr.try_clone().unwrap());
        Running {
            child: cmd.spawn().expect("spawn mmarray"),
            stdout,
            stderr,
            args: args.iter().map(|&a| a.to_owned()).collect(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: sends a signal to our own child, which has not been reaped yet
        // (so its pid cannot have been reused).
        unsafe { libc::kill(self.pid() as libc::pid_t, signal) };
    }

    /// Waits until `ready` holds (true) or the process exits (false).
    fn wait_until(&mut self, mut ready: impl FnMut(u32) -> bool) -> bool {
        let start = Instant::now();
        loop {
            if self.exited() {
                return false;
            }
            if ready(self.pid()) {
                return true;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{:?}: never got ready",
                self.args
            );
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    fn finish(mut self) -> (ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(start.elapsed() < DEADLINE, "{:?} hangs", self.args);
            std::thread::sleep(Duration::from_millis(1));
        };
        let mut text = String::new();
        self.stderr.rewind().unwrap();
        self.stderr.read_to_string(&mut text).unwrap();
        let mut out = String::new();
        self.stdout.rewind().unwrap();
        self.stdout.read_to_string(&mut out).unwrap();
        (status, text)
    }
}

/// Whether the main thread of `pid` blocks SIGINT, SIGTERM and SIGHUP: the
/// command's signal handling is in place.
fn handling_installed(pid: u32) -> bool {
    let want: u64 = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP]
        .iter()
        .map(|&s| 1u64 << (s - 1))
        .sum();
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigBlk:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| mask & want == want)
}

/// Whether `pid` has a file open in `dir` other than the `inputs`: its output,
/// unnamed (`DIR/#INODE (deleted)`) or under a temporary name.
fn output_open(pid: u32, dir: &Path, inputs: &[&str]) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    let inputs: Vec<PathBuf> = inputs.iter().map(|i| dir.join(i)).collect();
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .is_ok_and(|target| target.parent() == Some(dir) && !inputs.contains(&target))
    })
}

/// When to send the signal.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// This long after the signal handling is installed.
    AfterStart(Duration),
    /// This long after the output file is open.
    AfterOpen(Duration),
}

/// What one run did.
enum Outcome {
    /// Ended by the signal: exit status and stderr.
    Interrupted(ExitStatus, String),
    /// Finished before the signal landed.
    Finished(ExitStatus, String),
}

/// Runs `args` in `dir` and sends `signal` at `moment`.
fn signalled(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    inputs: &[&str],
    signal: libc::c_int,
    moment: Moment,
) -> Outcome {
    let mut running = Running::start(dir, args, env);
    let ready = match moment {
        Moment::AfterStart(delay) => {
            running.wait_until(handling_installed) && {
                std::thread::sleep(delay);
                true
            }
        }
        Moment::AfterOpen(delay) => {
            running.wait_until(handling_installed)
                && running.wait_until(|pid| output_open(pid, dir, inputs))
                && {
                    std::thread::sleep(delay);
                    true
                }
        }
    };
    if ready {
        running.signal(signal);
    }
    let (status, stderr) = running.finish();
    if status.code() == Some(0) {
        Outcome::Finished(status, stderr)
    } else {
        Outcome::Interrupted(status, stderr)
    }
}

/// Checks an interrupted run: exit 128 + signal, no death by signal, the exact
/// first stderr line, no panic.
#[track_caller]
fn check_interrupted(
    args: &[&str],
    out: &str,
    signal: libc::c_int,
    status: ExitStatus,
    stderr: &str,
) {
    assert_eq!(
        status.signal(),
        None,
        "{args:?} died of a signal\nstderr: {stderr}"
    );
    assert_eq!(
        status.code(),
        Some(128 + signal),
        "{args:?}: exit code after signal {signal}\nstderr: {stderr}"
    );
    assert_eq!(
        stderr.lines().next(),
        Some(format!("error: {out}: interrupted").as_str()),
        "{args:?}: stderr {stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The signals' names, for messages.
fn name(signal: libc::c_int) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "signal",
    }
}

/// Interrupts a writer of the new file `out` (reading `inputs` in `dir`) with each
/// of `signals`: once just after it starts and a few times at random moments
/// while its output is open (delays below `span`, halved after a run that
/// finished first). Checks that nothing new is left each time, and that a
/// finished run left the complete output (then removed again).
#[track_caller]
fn interrupt_new_file_writer(
    dir: &Path,
    args: &[&str],
    out: &str,
    inputs: &[&str],
    signals: &[libc::c_int],
    span: Duration,
    seed: u64,
) {
    let mut before = names(dir);
    before.retain(|n| n != out);
    let mut rng = Rng(seed);
    for env in [&[][..], &[("MMARRAY_NAMED_TEMPORARIES", "1")][..]] {
        for &signal in signals {
            let mut moments = vec![Moment::AfterStart(Duration::ZERO)];
            moments.extend((0..2).map(|_| {
                Moment::AfterOpen(Duration::from_micros(rng.range(0, span.as_micros() as u64)))
            }));
            let mut interrupted_while_open = 0;
            for moment in moments {
                let mut moment = moment;
                for _attempt in 0..8 {
                    match signalled(dir, args, env, inputs, signal, moment) {
                        Outcome::Interrupted(status, stderr) => {
                            check_interrupted(args, out, signal, status, &stderr);
                            assert_eq!(
                                names(dir),
                                before,
                                "{args:?} {env:?}: {} at {moment:?} left something",
                                name(signal)
                            );
                            if matches!(moment, Moment::AfterOpen(_)) {
                                interrupted_while_open += 1;
                            }
                            break;
                        }
                        Outcome::Finished(status, stderr) => {
                            // The signal came too late (or after the commit): a
                            // complete output, nothing else.
                            assert!(status.success(), "{args:?}: {status:?} {stderr}");
                            let mut expected = before.clone();
                            expected.push(out.to_owned());
                            expected.sort();
                            assert_eq!(names(dir), expected, "{args:?} {env:?}");
                            if Path::new(out).extension().is_some_and(|e| e == "npy") {
                                load(&dir.join(out)).expect("a finished output loads");
                            }
                            std::fs::remove_file(dir.join(out)).unwrap();
                            moment = match moment {
                                Moment::AfterOpen(d) => Moment::AfterOpen(d / 2),
                                m @ Moment::AfterStart(_) => m,
                            };
                        }
                    }
                }
            }
            assert!(
                interrupted_while_open > 0,
                "{args:?} {env:?}: {} never landed while the output was open",
                name(signal)
            );
            eprintln!(
                "{} {env:?} {}: interrupted {interrupted_while_open} times while the output was open",
                args[0],
                name(signal)
            );
        }
    }
}

#[test]
fn an_interrupted_create_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 200 MB of normal values: about two seconds in a debug build.
    let args = [
        "create",
        "out.npy",
        "--dtype",
        "f8",
        "--shape",
        "5000,5000",
        "--random",
        "normal",
        "--seed",
        "3",
    ];
    interrupt_new_file_writer(
        d,
        &args,
        "out.npy",
        &[],
        &[libc::SIGINT, libc::SIGTERM, libc::SIGHUP],
        Duration::from_millis(800),
        1,
    );
    // Over an existing file (--force): the old file stays as it was.
    run(
        d,
        &[
            "create", "old.npy", "--dtype", "u1", "--shape", "10", "--fill", "7",
        ],
    )
    .ok();
    let old = std::fs::read(d.join("old.npy")).unwrap();
    let forced = [
        "create",
        "old.npy",
        "--dtype",
        "f8",
        "--shape",
        "5000,5000",
        "--arange",
        "--force",
    ];
    let mut interrupted = 0;
    for signal in [libc::SIGINT, libc::SIGTERM] {
        for env in [&[][..], &[("MMARRAY_NAMED_TEMPORARIES", "1")][..]] {
            match signalled(
                d,
                &forced,
                env,
                &[],
                signal,
                Moment::AfterOpen(Duration::from_millis(20)),
            ) {
                Outcome::Interrupted(status, stderr) => {
                    check_interrupted(&forced, "old.npy", signal, status, &stderr);
                    assert_eq!(names(d), ["old.npy"]);
                    assert_eq!(std::fs::read(d.join("old.npy")).unwrap(), old);
                    interrupted += 1;
                }
                Outcome::Finished(..) => {
                    // Replaced in full: restore the old file for the next round.
                    assert_eq!(names(d), ["old.npy"]);
                    load(&d.join("old.npy")).unwrap();
                    std::fs::write(d.join("old.npy"), &old).unwrap();
                }
            }
        }
    }
    assert!(interrupted > 0, "no --force create was interrupted");
}

#[test]
fn an_interrupted_slice_convert_reduce_export_or_npz_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(
        d,
        &[
            "create",
            "in.npy",
            "--dtype",
            "f8",
            "--shape",
            "4000,5000",
            "--arange",
        ],
    )
    .ok();
    let input = std::fs::read(d.join("in.npy")).unwrap();
    let cases: [(&[&str], Duration); 5] = [
        (
            &["slice", "in.npy", "out.npy", "::-1, 1:"],
            Duration::from_millis(800),
        ),
        (
            &[
                "convert",
                "in.npy",
                "out.npy",
                "--out-dtype",
                ">f4",
                "--out-order",
                "F",
            ],
            Duration::from_millis(300),
        ),
        (
            &[
                "reduce", "in.npy", "--op", "std", "--axis", "0", "--out", "out.npy",
            ],
            Duration::from_millis(100),
        ),
        // A text export and an .npz archive (staged files that are not arrays).
        (
            &["export", "in.npy", "out.txt", "--slice", ":400"],
            Duration::from_millis(500),
        ),
        (
            &["convert", "in.npy", "out.npz", "--compress"],
            Duration::from_millis(500),
        ),
    ];
    for (i, (args, span)) in cases.into_iter().enumerate() {
        let out = args
            .iter()
            .copied()
            .find(|a| a.starts_with("out."))
            .unwrap_or("out.npy");
        interrupt_new_file_writer(
            d,
            args,
            out,
            &["in.npy"],
            &[libc::SIGINT, libc::SIGTERM],
            span,
            10 + i as u64,
        );
    }
    assert_eq!(
        std::fs::read(d.join("in.npy")).unwrap(),
        input,
        "the input changed"
    );
}

fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn an_interrupted_append_fill_or_random_leaves_a_loadable_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = [
        "create", "a.npy", "--dtype", "f8", "--shape", "500,2000", "--arange", "--force",
    ];
    let append = ["append", "a.npy", "--rows", "20000", "--fill", "1.5"];
    let mut rng = Rng(77);
    let (mut interrupted, mut grown) = (0, 0);
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGINT, libc::SIGTERM] {
        run(d, &base).ok();
        let original = load(&d.join("a.npy")).unwrap().data;
        let delay = Duration::from_micros(rng.range(0, 400_000));
        let outcome = signalled(
            d,
            &append,
            &[],
            &["a.npy"],
            signal,
            Moment::AfterStart(delay),
        );
        let a = load(&d.join("a.npy")).expect("the file loads after an interrupted append");
        assert!(
            a.shape == [500, 2000] || a.shape == [20500, 2000],
            "{:?}",
            a.shape
        );
        assert_eq!(a.data[..original.len()], original[..], "old data changed");
        assert!(f64s(&a.data[original.len()..]).iter().all(|&v| v == 1.5));
        assert_eq!(names(d), ["a.npy"]);
        match outcome {
            Outcome::Interrupted(status, stderr) => {
                check_interrupted(&append, "a.npy", signal, status, &stderr);
                interrupted += 1;
                grown += usize::from(a.shape[0] != 500);
            }
            Outcome::Finished(..) => assert_eq!(a.shape, [20500, 2000]),
        }
    }
    assert!(interrupted > 0, "no append was interrupted");
    eprintln!("append: interrupted {interrupted} times, {grown} of them at the new length");

    // fill, in place: old or new values, header intact.
    run(
        d,
        &[
            "create",
            "f.npy",
            "--dtype",
            "f8",
            "--shape",
            "5000,2000",
            "--arange",
        ],
    )
    .ok();
    let header = std::fs::read(d.join("f.npy")).unwrap()[..128].to_vec();
    let fill = ["fill", "f.npy", "-2", "--slice", "100:"];
    let mut filled_interrupted = 0;
    for delay_ms in [40, 20, 10, 3, 1, 0] {
        let moment = Moment::AfterStart(Duration::from_millis(delay_ms));
        match signalled(d, &fill, &[], &["f.npy"], libc::SIGINT, moment) {
            Outcome::Interrupted(status, stderr) => {
                check_interrupted(&fill, "f.npy", libc::SIGINT, status, &stderr);
                filled_interrupted += 1;
            }
            Outcome::Finished(..) => {}
        }
        let a = load(&d.join("f.npy")).expect("the file loads after an interrupted fill");
        assert_eq!(std::fs::read(d.join("f.npy")).unwrap()[..128], header[..]);
        let bad = f64s(&a.data)
            .into_iter()
            .enumerate()
            .find(|&(i, v)| !(v == i as f64 || (i >= 100 * 2000 && v == -2.0)));
        assert_eq!(bad, None, "an element that is neither old nor new");
        assert_eq!(names(d), ["a.npy", "f.npy"]);
        if filled_interrupted > 0 {
            break;
        }
    }
    assert!(filled_interrupted > 0, "no fill was interrupted");

    // random, in place: the file loads with its header intact; rows outside the
    // slice keep their values.
    let random = ["random", "f.npy", "--slice", "100:", "--seed", "9"];
    let before = load(&d.join("f.npy")).unwrap().data;
    let mut random_interrupted = 0;
    for delay_ms in [40, 20, 10, 3, 1, 0] {
        let moment = Moment::AfterStart(Duration::from_millis(delay_ms));
        match signalled(d, &random, &[], &["f.npy"], libc::SIGTERM, moment) {
            Outcome::Interrupted(status, stderr) => {
                check_interrupted(&random, "f.npy", libc::SIGTERM, status, &stderr);
                random_interrupted += 1;
            }
            Outcome::Finished(..) => {}
        }
        let a = load(&d.join("f.npy")).expect("the file loads after an interrupted random");
        assert_eq!(std::fs::read(d.join("f.npy")).unwrap()[..128], header[..]);
        assert_eq!(a.data[..100 * 2000 * 8], before[..100 * 2000 * 8]);
        assert_eq!(names(d), ["a.npy", "f.npy"]);
        if random_interrupted > 0 {
            break;
        }
    }
    assert!(random_interrupted > 0, "no random was interrupted");
}

/// Whether a temporary of `out` exists in `dir`.
fn temp_of(dir: &Path, out: &str) -> Option<String> {
    names(dir)
        .into_iter()
        .find(|n| n.starts_with(&format!(".{out}.")) && n.ends_with(".mmarray-tmp"))
}

#[test]
fn a_killed_writer_leaves_no_file_or_a_temporary_that_the_next_write_removes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let big = |out: &'static str| {
        [
            "create",
            out,
            "--dtype",
            "f8",
            "--shape",
            "5000,5000",
            "--random",
            "uniform",
            "--seed",
            "1",
        ]
    };
    let named = [("MMARRAY_NAMED_TEMPORARIES", "1")];

    // Unnamed: SIGKILL leaves nothing at all.
    let mut a = Running::start(d, &big("a.npy"), &[]);
    assert!(
        a.wait_until(|pid| output_open(pid, d, &[])),
        "create ended early"
    );
    a.signal(libc::SIGKILL);
    let (status, _) = a.finish();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(
        names(d),
        Vec::<String>::new(),
        "an unnamed file outlived SIGKILL"
    );

    // Named: SIGKILL leaves the temporary of a dead process...
    let mut dead = Running::start(d, &big("dead.npy"), &named);
    assert!(
        dead.wait_until(|_| temp_of(d, "dead.npy").is_some()),
        "create ended early"
    );
    dead.signal(libc::SIGKILL);
    let (status, _) = dead.finish();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    let stale = temp_of(d, "dead.npy").expect("the killed writer's temporary");
    // ... and a stopped (live) writer has its own.
    let mut live = Running::start(d, &big("live.npy"), &named);
    assert!(
        live.wait_until(|_| temp_of(d, "live.npy").is_some()),
        "create ended early"
    );
    live.signal(libc::SIGSTOP);
    let kept = temp_of(d, "live.npy").unwrap();

    // The next write into the folder removes the dead one only.
    run(d, &["create", "c.npy", "--dtype", "i4", "--shape", "3"]).ok();
    let mut expected = vec!["c.npy".to_owned(), kept.clone()];
    expected.sort();
    assert_eq!(names(d), expected, "{stale} should be gone, {kept} kept");

    // The live writer, interrupted, removes its own.
    live.signal(libc::SIGTERM);
    live.signal(libc::SIGCONT);
    let (status, stderr) = live.finish();
    check_interrupted(&big("live.npy"), "live.npy", libc::SIGTERM, status, &stderr);
    assert_eq!(names(d), ["c.npy"]);
}
