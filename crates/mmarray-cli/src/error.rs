//! The CLI's errors: one `error: ...` line and an exit code.

use std::fmt;
use std::path::Path;

/// What went wrong, and so which exit code to use.
#[derive(Debug)]
pub(crate) enum CliError {
    /// A malformed command line (exit 2).
    Usage(String),
    /// Anything else: bad or missing files, values that do not fit a file, I/O (exit 1).
    Failed(String),
    /// Standard output was closed by its reader (e.g. `| head`): stop quietly.
    BrokenPipe,
    /// Failures already reported on stderr one by one (e.g. some of `info`'s files): exit 1
    /// without another message.
    Reported,
}

impl CliError {
    /// The process exit code.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) | CliError::Reported => 1,
            CliError::BrokenPipe => 0,
        }
    }

    /// A failure about `path`, named at the start of the message unless the message
    /// already names it.
    pub(crate) fn file(path: &Path, what: impl fmt::Display) -> CliError {
        let name = path.display().to_string();
        let what = what.to_string();
        if what.starts_with(&name) {
            CliError::Failed(what)
        } else {
            CliError::Failed(format!("{name}: {what}"))
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Failed(m) => write!(f, "error: {m}"),
            CliError::BrokenPipe => f.write_str("error: broken pipe"),
            CliError::Reported => f.write_str("error: some files failed (reported above)"),
        }
    }
}

/// Turns library errors into [`CliError`]s that name the file.
pub(crate) trait Context<T> {
    /// Names `path` in the error.
    fn at(self, path: &Path) -> Result<T, CliError>;
}

impl<T> Context<T> for Result<T, mmarray_core::Error> {
    fn at(self, path: &Path) -> Result<T, CliError> {
        self.map_err(|e| CliError::file(path, e))
    }
}

impl<T> Context<T> for Result<T, mmarray_ops::Error> {
    fn at(self, path: &Path) -> Result<T, CliError> {
        self.map_err(|e| CliError::file(path, e))
    }
}

impl<T> Context<T> for Result<T, mmarray_dtype::DTypeError> {
    fn at(self, path: &Path) -> Result<T, CliError> {
        self.map_err(|e| CliError::file(path, e))
    }
}
