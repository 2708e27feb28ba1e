//! Progress bars for long operations: on stderr, only when it is a terminal, only
//! once an operation has run for about a second, and never with `--quiet`.

use std::fmt;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use mmarray_core::{DynArray, Mode, Spec};
use mmarray_dtype::dispatch;

use crate::out;

/// How long an operation runs before its bar appears: one second, or
/// `MMARRAY_PROGRESS_DELAY_MS` milliseconds (0 shows bars at once).
fn delay() -> Duration {
    std::env::var("MMARRAY_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis)
}

/// An indicatif bar fed by `mmarray_ops`' progress hook.
struct Bar {
    inner: ProgressBar,
    start: Instant,
    delay: Duration,
    shown: AtomicBool,
}

impl mmarray_ops::Progress for Bar {
    fn advance(&self, bytes: u64) {
        self.inner.inc(bytes);
        if !self.shown.load(Ordering::Relaxed) && self.start.elapsed() >= self.delay {
            self.shown.store(true, Ordering::Relaxed);
            self.inner.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

/// A progress report for one operation: the operations run while it lives
/// report to its bar (through the execution context it makes current), and the
/// bar disappears when it is dropped.
pub(crate) struct Guard {
    bar: Option<Arc<Bar>>,
    _context: Option<mmarray_ops::Entered>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.inner.finish_and_clear();
        }
    }
}

/// Starts reporting the progress of an operation over `total` bytes, labelled
/// `what`, unless `quiet` or stderr is not a terminal.
pub(crate) fn start(what: &str, total: u64, quiet: bool) -> Guard {
    if quiet || !std::io::stderr().is_terminal() || total == 0 {
        return Guard {
            bar: None,
            _context: None,
        };
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    // Sizes in the CLI's one format (`out::human_size`), not indicatif's.
    let style = ProgressStyle::with_template("{msg} [{wide_bar}] {done}/{total} {rate} eta {eta}")
        .map_or_else(
            |_| ProgressStyle::default_bar(),
            |s| {
                s.progress_chars("=> ")
                    .with_key("done", |s: &ProgressState, w: &mut dyn fmt::Write| {
                        let _ = w.write_str(&out::human_size(s.pos()));
                    })
                    .with_key("total", |s: &ProgressState, w: &mut dyn fmt::Write| {
                        let _ = w.write_str(&out::human_size(s.len().unwrap_or(0)));
                    })
                    .with_key("rate", |s: &ProgressState, w: &mut dyn fmt::Write| {
                        let rate = s.per_sec();
                        let rate = if rate.is_finite() && rate > 0.0 {
                            rate as u64
                        } else {
                            0
                        };
                        let _ = write!(w, "{}/s", out::human_size(rate));
                    })
            },
        );
    bar.set_style(style);
    bar.set_message(what.to_owned());
    let bar = Arc::new(Bar {
        inner: bar,
        start: Instant::now(),
        delay: delay(),
        shown: AtomicBool::new(false),
    });
    let context = mmarray_ops::Exec::current().progress(bar.clone()).enter();
    Guard {
        bar: Some(bar),
        _context: Some(context),
    }
}

/// Options that apply to every subcommand.
pub(crate) struct Ctx {
    /// No progress bars.
    pub(crate) quiet: bool,
}

/// Bytes of the elements of `array` that `spec` selects (for progress bars).
pub(crate) fn selected_bytes<M: Mode>(array: &DynArray<M>, spec: &Spec) -> u64 {
    selection(array, spec).unwrap_or(array.nbytes() as u64)
}

/// Bytes of the elements of `array` that `spec` selects, or why `spec` does not fit
/// the array's shape.
pub(crate) fn selection<M: Mode>(
    array: &DynArray<M>,
    spec: &Spec,
) -> Result<u64, mmarray_core::Error> {
    let itemsize = array.dtype().itemsize() as u64;
    dispatch!(array.dtype().kind(), T => array
        .view::<T>()
        .and_then(|v| v.slice(spec.clone()))
        .map(|v| v.len() as u64 * itemsize))
}
