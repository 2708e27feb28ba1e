//! Project automation for the mmarray workspace, run as `cargo xtask <command>`.
//!
//! - `cargo xtask test`: everything CI runs (Python venv with numpy and zarr for the interop tests, then
//!   fmt, clippy, tests, docs and bench compilation, then the Python package: its test
//!   dependencies, one release build, its pytest suite), stopping at the first failure.
//!   `cargo xtask test --python-only` runs the venv and Python package steps alone.
//! - `cargo xtask bench`: large-file benchmarks of the release CLI against numpy and the
//!   machine's limits (Linux only; `cargo xtask bench --help`).
//! - `cargo xtask man`: man pages of the `mmarray` command into `target/man/`.
//!
//! The `cargo xtask` alias lives in `.cargo/config.toml`. Besides `std`, this crate uses
//! `libc`, `memmap2` and `rayon` (for the benchmarks' limits) and, for the man pages, `clap`,
//! `clap_mangen` and the CLI's own command-line definition with the two small crates it needs
//! (`mmarray-dtype`, `mmarray-core`), so that it still builds in seconds.

#[cfg(target_os = "linux")]
mod bench;
mod man;
/// The CLI's `--fmt` parser, which its command-line definition (see [`man`]) refers to.
#[allow(dead_code, unreachable_pub, clippy::all, clippy::pedantic)]
#[path = "../../crates/mmarray-cli/src/printf.rs"]
mod printf;
mod pyext;
mod python;
mod test_cmd;

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Usage text, printed for `help` and (on stderr) for unknown subcommands.
const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test    run everything CI runs: set up target/interop-venv (Python with numpy and zarr, or use
          $MMARRAY_PYTHON), then cargo fmt --check, clippy -D warnings, test, doc -D warnings
          and bench --no-run, stopping at the first failure
  bench   large-file benchmarks of the release CLI against numpy and the machine's mapped
          read and fill+flush bandwidth (Linux; `cargo xtask bench --help` for the options)
  man     write the man pages of `mmarray` (mmarray.1, mmarray-SUBCOMMAND.1) to target/man/
  help    print this message
";

fn main() -> ExitCode {
    let mut args = env::args_os().skip(1);
    let Some(command) = args.next() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest: Vec<OsString> = args.collect();
    match command.to_str() {
        Some("test") => test_cmd::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("man") => man::run(&rest),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("xtask: unknown command `{}`\n", command.to_string_lossy());
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// `cargo xtask bench` needs `/proc` and Linux system calls.
#[cfg(not(target_os = "linux"))]
mod bench {
    use std::ffi::OsString;
    use std::process::ExitCode;

    /// Refuses politely.
    pub(crate) fn run(_args: &[OsString]) -> ExitCode {
        eprintln!("xtask bench: only supported on Linux (it reads /proc)");
        ExitCode::FAILURE
    }
}

/// The `cargo` to run: the one that started us (`$CARGO`), else `cargo` from `PATH`.
fn cargo() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// The workspace root: the parent of this crate's manifest directory when it still exists (the
/// normal case), else whatever `cargo locate-project --workspace` says about the current dir.
fn workspace_root() -> Result<PathBuf, String> {
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(root) = compiled.parent().filter(|r| r.join("Cargo.toml").is_file()) {
        return Ok(root.to_path_buf());
    }
    let output = Command::new(cargo())
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run `cargo locate-project`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo locate-project --workspace` failed ({}); run xtask inside the workspace",
            output.status
        ));
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    manifest
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("unexpected workspace manifest path {}", manifest.display()))
}
