//! The `mmarray` command: numpy.memmap and `.npy` files from the command line.
//!
//! It parses the command line ([`args`]), opens or creates files ([`files`]), calls
//! `mmarray-ops` and prints ([`commands`]); errors become one `error: ...` line on
//! stderr and exit code 1 (files) or 2 (command line). See the crate's README and
//! `mmarray --help`.

mod args;
mod chunks;
mod commands;
mod error;
mod export;
mod files;
mod input;
mod interrupt;
mod json;
mod out;
mod printf;
mod progress;
mod repr;
mod seed;
#[cfg(feature = "zarr")]
mod store;
mod tour;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::error::CliError;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap's errors start with "error:" and exit with 2; --help and --version with 0.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    // Before any thread starts: the signal mask must be inherited by all of them.
    if let Some((path, writes)) = written(&cli.command)
        && let Err(e) = interrupt::install(path, writes)
    {
        return fail(&CliError::Failed(format!(
            "cannot install signal handling: {e}"
        )));
    }
    if let Some(n) = cli.threads
        && let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n as usize)
            .build_global()
    {
        return fail(&CliError::Failed(format!("cannot start {n} threads: {e}")));
    }
    if let Err(e) = temporaries_from_env() {
        return fail(&e);
    }
    let access = match access_from_env() {
        Ok(access) => access,
        Err(e) => return fail(&e),
    };
    let context = mmarray_ops::Exec::current().access(access).enter();
    let result = commands::run(cli);
    drop(context);
    // A signal being handled ends the process with its own message and code.
    interrupt::settle();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// The file a command writes, and how, for the signal handling.
fn written(command: &args::Command) -> Option<(&std::path::Path, interrupt::Writes)> {
    use args::Command;
    use interrupt::Writes::{InPlace, NewFile};
    match command {
        Command::Create(a) => Some((&a.path, NewFile)),
        Command::Slice(a) => Some((&a.out, NewFile)),
        Command::Convert(a) => Some((&a.out, NewFile)),
        Command::Reduce(a) => a
            .out
            .as_deref()
            .filter(|_| a.axis.is_some())
            .map(|out| (out, NewFile)),
        Command::Fill(a) => Some((&a.path, InPlace)),
        Command::Random(a) => Some((&a.path, InPlace)),
        Command::Append(a) => Some((&a.path, InPlace)),
        Command::Export(a) => a
            .out
            .as_deref()
            .filter(|out| out.as_os_str() != "-")
            .map(|out| (out, NewFile)),
        Command::Info(_)
        | Command::Show(_)
        | Command::Stats(_)
        | Command::Tour(_)
        | Command::Completions(_) => None,
    }
}

/// Applies `MMARRAY_NAMED_TEMPORARIES=1` (see the help text): new files are
/// written under a hidden temporary name instead of unnamed.
fn temporaries_from_env() -> Result<(), CliError> {
    match std::env::var_os("MMARRAY_NAMED_TEMPORARIES") {
        None => Ok(()),
        Some(v) if v == "1" => {
            mmarray_core::set_unnamed_temporaries(false);
            Ok(())
        }
        Some(v) if v == "0" => Ok(()),
        Some(v) => Err(CliError::Usage(format!(
            "MMARRAY_NAMED_TEMPORARIES: expected 0 or 1, got \"{}\"",
            v.display()
        ))),
    }
}

/// How reductions read files: `MMARRAY_ACCESS` (see the help text), else auto.
fn access_from_env() -> Result<mmarray_ops::Access, CliError> {
    let Some(v) = std::env::var_os("MMARRAY_ACCESS") else {
        return Ok(mmarray_ops::Access::Auto);
    };
    let access = match v.to_str() {
        Some("auto") => mmarray_ops::Access::Auto,
        Some("map") => mmarray_ops::Access::Map,
        Some("read") => mmarray_ops::Access::Read,
        _ => {
            return Err(CliError::Usage(format!(
                "MMARRAY_ACCESS: expected auto, map or read, got \"{}\"",
                v.display()
            )));
        }
    };
    Ok(access)
}

fn fail(e: &CliError) -> ExitCode {
    // An error caused by a signal being handled (staging abandoned) is reported by
    // the handling thread, with its exit code.
    interrupt::settle();
    if !matches!(e, CliError::BrokenPipe | CliError::Reported) {
        let _ = writeln!(std::io::stderr(), "{e}");
    }
    ExitCode::from(e.exit_code())
}
