//! `cargo xtask test`: everything CI runs, in order, stopping at the first failure.
//!
//! No step sets `RUSTFLAGS`: changing it between steps would make cargo rebuild everything. Only
//! `cargo doc` gets `RUSTDOCFLAGS=-D warnings` (which no other step's artefacts depend on), and only
//! `cargo test` gets `MMARRAY_PYTHON` (read at run time by the interop tests, not at build time)
//! and `MMARRAY_SKIP_LOG` (where tests append their `SKIPPED:` lines; the summary counts them).
//! Everything else, `CARGO_TERM_COLOR` included, is inherited from the caller.

use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use crate::pyext::{self, PACKAGE_DIR};
use crate::python::{self, PYTHON_ENV, VENV_DIR};

/// One cargo invocation of the pipeline.
struct CargoStep {
    /// Arguments after `cargo`.
    args: &'static [&'static str],
    /// Extra environment for this step only.
    env: Vec<(&'static str, OsString)>,
    /// Whether the step gets `MMARRAY_PYTHON` (the python with numpy) in its environment.
    needs_python: bool,
}

impl CargoStep {
    /// A step with no extra environment.
    fn new(args: &'static [&'static str]) -> Self {
        Self {
            args,
            env: Vec::new(),
            needs_python: false,
        }
    }

    /// The step with `MMARRAY_PYTHON` set to the python with numpy.
    fn with_python(mut self) -> Self {
        self.needs_python = true;
        self
    }

    /// The step with `key=value` added to its environment.
    fn env(mut self, key: &'static str, value: impl Into<OsString>) -> Self {
        self.env.push((key, value.into()));
        self
    }

    /// The command as a user would type it, e.g. `RUSTDOCFLAGS="-D warnings" cargo doc ...`
    /// (`MMARRAY_PYTHON` is not shown: it is a long path, logged once by the python step).
    fn display(&self) -> String {
        let mut line = String::new();
        for (key, value) in &self.env {
            let value = value.to_string_lossy();
            if value.contains(' ') {
                let _ = write!(line, "{key}=\"{value}\" ");
            } else {
                let _ = write!(line, "{key}={value} ");
            }
        }
        line.push_str("cargo");
        for arg in self.args {
            line.push(' ');
            line.push_str(arg);
        }
        line
    }
}

/// What happened to a step.
enum Outcome {
    /// It succeeded.
    Passed,
    /// It failed (the reason was printed when it happened).
    Failed,
    /// An earlier step failed, so it did not run.
    Skipped,
}

/// A row of the summary table.
struct Row {
    /// Step name as shown in its header.
    name: String,
    /// How long it took (zero when skipped).
    time: Duration,
    /// Its result.
    outcome: Outcome,
}

impl Row {
    /// The row of a step that did not run.
    fn skipped(name: String) -> Self {
        Self {
            name,
            time: Duration::ZERO,
            outcome: Outcome::Skipped,
        }
    }
}

/// Runs `cargo xtask test`; `args` are whatever followed `test`: nothing, or
/// `--python-only` (the python steps alone: the venv, the package, its pytest suite).
pub(crate) fn run(args: &[OsString]) -> ExitCode {
    let python_only = args.first().is_some_and(|a| a == "--python-only");
    if let Some(arg) = args.get(usize::from(python_only)) {
        eprintln!(
            "xtask test: unexpected argument `{}`\n\nusage: cargo xtask test [--python-only]",
            arg.to_string_lossy()
        );
        return ExitCode::from(2);
    }
    let root = match crate::workspace_root() {
        Ok(root) => root,
        Err(e) => {
            eprintln!("xtask: {e}");
            return ExitCode::FAILURE;
        }
    };
    let total = Instant::now();
    let steps = if python_only {
        Vec::new()
    } else {
        cargo_steps()
    };
    let py_steps = python_step_names();
    let mut rows = Vec::new();
    // Tests that cannot check something here print a SKIPPED line and append it to
    // this file (testing/skip.rs); the summary counts and lists them.
    let skip_log = root.join("target").join("xtask-skips.txt");
    let _ = std::fs::remove_file(&skip_log);

    // Step 1: a python with numpy and zarr-python for the interop tests.
    let name = match env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()) {
        Some(_) => format!("python with numpy and zarr (${PYTHON_ENV})"),
        None => format!("python with numpy and zarr ({VENV_DIR})"),
    };
    header(&name);
    let start = Instant::now();
    let python = python::ensure(&root);
    let time = start.elapsed();
    let python = match python {
        Ok(python) => {
            eprintln!(
                "xtask: using {} ({}, numpy {})",
                python.path.display(),
                python.source,
                python.numpy_version
            );
            done(&name, time);
            rows.push(Row {
                name,
                time,
                outcome: Outcome::Passed,
            });
            python
        }
        Err(e) => {
            eprintln!("xtask: {e}");
            eprintln!("xtask: step `{name}` failed after {}", fmt_duration(time));
            rows.push(Row {
                name,
                time,
                outcome: Outcome::Failed,
            });
            rows.extend(steps.iter().map(|step| Row::skipped(step.display())));
            rows.extend(py_steps.iter().map(|name| Row::skipped(name.clone())));
            return finish(&rows, total.elapsed(), &skip_log);
        }
    };

    // Steps 2..: the cargo pipeline.
    let mut failed = false;
    for step in &steps {
        let name = step.display();
        if failed {
            rows.push(Row::skipped(name));
            continue;
        }
        header(&name);
        let start = Instant::now();
        let result = run_cargo(&root, step, &python.path, &skip_log);
        let time = start.elapsed();
        let outcome = match result {
            Ok(()) => {
                done(&name, time);
                Outcome::Passed
            }
            Err(why) => {
                eprintln!(
                    "xtask: step `{name}` failed ({why}) after {}",
                    fmt_duration(time)
                );
                failed = true;
                Outcome::Failed
            }
        };
        rows.push(Row {
            name,
            time,
            outcome,
        });
    }

    // Then the Python package: its test dependencies, one release build, pytest.
    run_python_steps(&root, &python, py_steps, failed, &mut rows);
    finish(&rows, total.elapsed(), &skip_log)
}

/// Runs the Python package's steps (or records them as skipped after a failure).
fn run_python_steps(
    root: &Path,
    python: &python::Python,
    names: Vec<String>,
    mut failed: bool,
    rows: &mut Vec<Row>,
) {
    let ours = python.source != PYTHON_ENV;
    for (i, name) in names.into_iter().enumerate() {
        if failed {
            rows.push(Row::skipped(name));
            continue;
        }
        header(&name);
        let start = Instant::now();
        let result = match i {
            0 => pyext::ensure_test_deps(&python.path, ours),
            1 => pyext::build_package(root, &python.path),
            _ => pyext::run_pytest(root, &python.path),
        };
        let time = start.elapsed();
        let outcome = match result {
            Ok(()) => {
                done(&name, time);
                Outcome::Passed
            }
            Err(why) => {
                eprintln!(
                    "xtask: step `{name}` failed: {why} (after {})",
                    fmt_duration(time)
                );
                failed = true;
                Outcome::Failed
            }
        };
        rows.push(Row {
            name,
            time,
            outcome,
        });
    }
}

/// The names of the Python package's steps, in order (run after the cargo steps).
fn python_step_names() -> Vec<String> {
    vec![
        "python test dependencies (pytest, maturin, dask, distributed, xarray)".to_owned(),
        format!("pip install ./{PACKAGE_DIR} (release build, skipped when unchanged)"),
        format!("python -m pytest {PACKAGE_DIR}/tests -q"),
    ]
}

/// The cargo steps, in order.
fn cargo_steps() -> Vec<CargoStep> {
    let rustdocflags = match env::var_os("RUSTDOCFLAGS").filter(|f| !f.is_empty()) {
        Some(mut flags) => {
            flags.push(" -D warnings");
            flags
        }
        None => OsString::from("-D warnings"),
    };
    vec![
        CargoStep::new(&["fmt", "--all", "--", "--check"]),
        CargoStep::new(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        CargoStep::new(&["test", "--workspace"]).with_python(),
        // The optional `ndarray` feature of mmarray-core (which mmarray-ops' own
        // `ndarray` feature turns on, for its axis_vs_ndarray example): lint it
        // with every target, run the unit tests and the doctests (`View::to_ndarray`
        // and the crate docs' example) with it.
        CargoStep::new(&[
            "clippy",
            "-p",
            "mmarray-core",
            "-p",
            "mmarray-ops",
            "--features",
            "mmarray-ops/ndarray",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        CargoStep::new(&[
            "test",
            "-p",
            "mmarray-core",
            "--features",
            "ndarray",
            "--lib",
        ]),
        CargoStep::new(&[
            "test",
            "-p",
            "mmarray-core",
            "--features",
            "ndarray",
            "--doc",
        ]),
        // With the `ndarray` feature, so that `View::to_ndarray` is in the docs.
        CargoStep::new(&[
            "doc",
            "--workspace",
            "--no-deps",
            "--features",
            "mmarray-core/ndarray,mmarray-ops/ndarray",
        ])
        .env("RUSTDOCFLAGS", rustdocflags),
        CargoStep::new(&["bench", "--workspace", "--no-run"]),
    ]
}

/// Runs one cargo step in the workspace root with inherited stdio; `Err` says how it failed.
fn run_cargo(root: &Path, step: &CargoStep, python: &Path, skip_log: &Path) -> Result<(), String> {
    let mut command = Command::new(crate::cargo());
    command.current_dir(root).args(step.args);
    if step.args.first() == Some(&"test") {
        command.env("MMARRAY_SKIP_LOG", skip_log);
    }
    for (key, value) in &step.env {
        command.env(key, value);
    }
    if step.needs_python {
        command.env(PYTHON_ENV, python);
    }
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(status.to_string()),
        Err(e) => Err(format!(
            "could not run {}: {e}",
            crate::cargo().to_string_lossy()
        )),
    }
}

/// Prints the banner that starts a step.
fn header(name: &str) {
    eprintln!("\n==> {name}");
}

/// Prints the line that ends a successful step.
fn done(name: &str, time: Duration) {
    eprintln!("==> ok: {name} ({})", fmt_duration(time));
}

/// Prints the summary table (and the tests' SKIPPED lines, counted) and turns the
/// rows into the exit code.
fn finish(rows: &[Row], total: Duration, skip_log: &Path) -> ExitCode {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let failed = rows.iter().find_map(|r| match &r.outcome {
        Outcome::Failed => Some(r.name.as_str()),
        _ => None,
    });
    eprintln!("\nxtask test summary:");
    for row in rows {
        let (result, time) = match &row.outcome {
            Outcome::Passed => ("ok", fmt_duration(row.time)),
            Outcome::Failed => ("FAILED", fmt_duration(row.time)),
            Outcome::Skipped => ("skipped", "-".to_owned()),
        };
        eprintln!("  {:<width$}  {time:>9}  {result}", row.name);
    }
    eprintln!("  {:<width$}  {:>9}", "total", fmt_duration(total));
    let skips = std::fs::read_to_string(skip_log).unwrap_or_default();
    let skips: Vec<&str> = skips.lines().collect();
    eprintln!(
        "\nskipped checks: {} (MMARRAY_NO_SKIPS=1 makes them failures)",
        skips.len()
    );
    for line in &skips {
        eprintln!("  {line}");
    }
    if let Some(name) = failed {
        eprintln!("\nxtask: step `{name}` failed");
        ExitCode::FAILURE
    } else {
        eprintln!("\nxtask: all steps passed");
        ExitCode::SUCCESS
    }
}

/// `12.3s` below a minute, `4m05.6s` above.
fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let minutes = (secs / 60.0).floor();
        format!("{minutes}m{:04.1}s", secs - minutes * 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{CargoStep, fmt_duration};
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(fmt_duration(Duration::from_millis(0)), "0.0s");
        assert_eq!(fmt_duration(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(fmt_duration(Duration::from_millis(245_600)), "4m05.6s");
    }

    #[test]
    fn step_display_quotes_env() {
        let step = CargoStep::new(&["doc", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            step.display(),
            "RUSTDOCFLAGS=\"-D warnings\" cargo doc --no-deps"
        );
        let step = CargoStep::new(&["test", "--workspace"]).with_python();
        assert_eq!(step.display(), "cargo test --workspace");
    }
}
