//! `cargo xtask man`: the man pages of the `mmarray` command, generated with `clap_mangen`
//! from the CLI's own clap definition (its `args.rs`, included here by path, so that the pages
//! can never disagree with `mmarray --help`), written to `target/man/`: `mmarray.1` and one
//! `mmarray-SUBCOMMAND.1` per subcommand.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::CommandFactory;

/// The CLI's command-line definition, exactly as the `mmarray` binary compiles it.
#[allow(dead_code, unreachable_pub, clippy::all, clippy::pedantic)]
#[path = "../../crates/mmarray-cli/src/args.rs"]
mod args;

/// Writes the pages; `--out DIR` writes them elsewhere than `target/man`.
pub(crate) fn run(args: &[OsString]) -> ExitCode {
    let out = match args {
        [] => match crate::workspace_root() {
            Ok(root) => root.join("target").join("man"),
            Err(e) => {
                eprintln!("xtask man: {e}");
                return ExitCode::FAILURE;
            }
        },
        [flag, dir] if flag == "--out" => dir.into(),
        _ => {
            eprintln!("usage: cargo xtask man [--out DIR]");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("xtask man: cannot create {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    let command = args::Cli::command().version(env!("CARGO_PKG_VERSION"));
    match clap_mangen::generate_to(command, &out) {
        Ok(()) => {
            println!("man pages written to {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask man: writing to {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}
