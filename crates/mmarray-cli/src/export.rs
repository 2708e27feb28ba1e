//! `export`: an array as text, byte for byte what numpy's `np.savetxt` writes,
//! streamed row by row (never the whole array in memory) to standard output or to
//! a new file that appears under its name only when complete.

use std::io::{BufWriter, ErrorKind, Write};
use std::path::Path;

use mmarray_core::{StagedFile, View};
use mmarray_dtype::{Class, Kind, Native, Value, dispatch};

use crate::args::{ExportArgs, TextFormat};
use crate::error::{CliError, Context};
use crate::files::check_new;
use crate::input::{self, Data};
use crate::printf::{Arg, FormatError, RowFormat};

/// Where the text goes.
enum Sink<'p> {
    Stdout,
    File(&'p Path),
}

/// Runs `export`.
pub(crate) fn run(a: &ExportArgs) -> Result<(), CliError> {
    let path = a.path.as_path();
    let sink = match &a.out {
        Some(out) if out.as_os_str() != "-" => Sink::File(out.as_path()),
        _ => Sink::Stdout,
    };
    let format = a.format.unwrap_or(match sink {
        Sink::File(out)
            if out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")) =>
        {
            TextFormat::Csv
        }
        _ => TextFormat::Txt,
    });
    let delimiter = a.delimiter.clone().unwrap_or_else(|| {
        match format {
            TextFormat::Txt => " ",
            TextFormat::Csv => ",",
        }
        .to_owned()
    });
    let array = input::open(path, &a.input)?;
    if let Sink::File(out) = sink {
        // Also refuses a directory, with or without --force.
        check_new(out, a.force)?;
    }
    match array.data() {
        Data::File(array) => dispatch!(array.dtype().kind(), T => {
            let view = array.view::<T>().at(path)?;
            let view = match &a.slice {
                Some(spec) => view.slice(spec.clone()).at(path)?,
                None => view,
            };
            let row = row_format::<T>(a, path, view.shape())?;
            emit(a, path, &sink, |w| write_text(&view, &row, &delimiter, w))
        }),
        Data::Chunks(c) => dispatch!(c.dtype().kind(), T => {
            let view = c.view::<T>().at(path)?;
            let view = match &a.slice {
                Some(spec) => view.slice(spec.clone()).at(path)?,
                None => view,
            };
            let row = row_format::<T>(a, path, view.shape())?;
            emit(a, path, &sink, |w| write_chunked_text(&view, &row, &delimiter, w))
        }),
    }
}

/// The format of a row of an array of `shape` (refusing more than 2 dimensions).
fn row_format<T: Native>(
    a: &ExportArgs,
    path: &Path,
    shape: &[usize],
) -> Result<RowFormat, CliError> {
    if shape.len() > 2 {
        return Err(CliError::file(
            path,
            format!(
                "export writes 0-d, 1-d and 2-d arrays (as np.savetxt), not {}-d ones; \
                 select at most 2 dimensions with --slice",
                shape.len()
            ),
        ));
    }
    let ncol = if shape.len() == 2 { shape[1] } else { 1 };
    let nonempty = shape.iter().all(|&n| n > 0);
    a.fmt
        .row_format(ncol, T::KIND, nonempty)
        .map_err(|e| CliError::file(path, e))
}

/// Runs `write` into the sink: standard output, or a new file that appears under
/// its name only when complete.
fn emit(
    a: &ExportArgs,
    path: &Path,
    sink: &Sink<'_>,
    write: impl FnOnce(&mut dyn Write) -> Result<(), Failure>,
) -> Result<(), CliError> {
    match *sink {
        Sink::Stdout => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
            write(&mut w)
                .and_then(|()| w.flush().map_err(Failure::Io))
                .map_err(|e| e.into_cli(path, None))
        }
        Sink::File(out) => {
            let staged = StagedFile::create(out).at(out)?;
            let mut w = BufWriter::with_capacity(1 << 16, staged);
            write(&mut w).map_err(|e| e.into_cli(path, Some(out)))?;
            let staged = w
                .into_inner()
                .map_err(|e| CliError::file(out, format!("write: {}", e.error())))?;
            staged.persist(a.force).at(out)
        }
    }
}

/// [`write_text`] for a chunked view: rows are read (decoded) a block at a time.
fn write_chunked_text<T: Native>(
    view: &mmarray_core::chunk::ChunkedView<'_, T>,
    row: &RowFormat,
    delimiter: &str,
    w: &mut dyn Write,
) -> Result<(), Failure> {
    let shape = view.shape().to_vec();
    let block = |sub: &mmarray_core::chunk::ChunkedView<'_, T>, w: &mut dyn Write| {
        let values = sub.to_vec().map_err(Failure::Read)?;
        let v = View::<T>::from_bytes(
            bytemuck::cast_slice(&values),
            sub.shape(),
            mmarray_core::Order::C,
            mmarray_dtype::ByteOrder::NATIVE,
        )
        .map_err(Failure::Read)?;
        write_text(&v, row, delimiter, w)
    };
    let Some(&n) = shape.first() else {
        return block(view, w);
    };
    let row_bytes = shape[1..].iter().product::<usize>().max(1) * size_of::<T>();
    let rows = crate::chunks::block_rows(view, row_bytes);
    let mut start = 0;
    while start < n {
        let end = (start + rows).min(n);
        let spec = mmarray_core::Spec::new(vec![mmarray_core::Index::range(
            start as isize,
            end as isize,
        )])
        .map_err(|e| Failure::Read(e.into()))?;
        block(&view.slice(spec).map_err(Failure::Read)?, w)?;
        start = end;
    }
    Ok(())
}

/// Why writing the text stopped.
enum Failure {
    /// A value the format cannot take (e.g. NaN with `%d`).
    Format(FormatError),
    /// Writing failed.
    Io(std::io::Error),
    /// Reading the input failed (a store's chunk).
    #[cfg_attr(not(feature = "zarr"), allow(dead_code))]
    Read(mmarray_core::Error),
}

impl Failure {
    fn into_cli(self, input: &Path, out: Option<&Path>) -> CliError {
        match self {
            Failure::Format(FormatError(e)) => CliError::file(input, e),
            Failure::Read(e) => CliError::file(input, e),
            Failure::Io(e) if e.kind() == ErrorKind::BrokenPipe && out.is_none() => {
                CliError::BrokenPipe
            }
            Failure::Io(e) => match out {
                Some(out) => CliError::file(out, format!("write: {e}")),
                None => CliError::Failed(format!("standard output: {e}")),
            },
        }
    }
}

/// numpy's `savetxt` rows of `view` (0-d as one value, 1-d one value per line,
/// 2-d one row per line) into `w`.
fn write_text<T: Native>(
    view: &View<'_, T>,
    row: &RowFormat,
    delimiter: &str,
    w: &mut dyn Write,
) -> Result<(), Failure> {
    let ncol = if view.ndim() == 2 { view.shape()[1] } else { 1 };
    let complex = T::KIND.class() == Class::Complex;
    let mut out = Emitter {
        w,
        complex,
        plus_pending: false,
    };
    let mut text = String::new();
    let mut row_args: Vec<Arg> = Vec::new();
    let mut col = 0;
    if ncol == 0 {
        // numpy writes an empty line for each row of a (n, 0) array.
        let rows = view.shape().first().copied().unwrap_or(0);
        for _ in 0..rows {
            out.emit("\n")?;
        }
        return Ok(());
    }
    let mut args = [Arg::Bool(false); 2];
    for v in view.iter() {
        let n = split(v.to_value(), &mut args);
        match row {
            RowFormat::Repeat(one) => {
                text.clear();
                if col > 0 {
                    text.push_str(delimiter);
                }
                one.write(&args[..n], &mut text).map_err(Failure::Format)?;
                out.emit(&text)?;
            }
            RowFormat::Whole(_) => row_args.extend_from_slice(&args[..n]),
        }
        col += 1;
        if col == ncol {
            if let RowFormat::Whole(all) = row {
                text.clear();
                all.write(&row_args, &mut text).map_err(Failure::Format)?;
                row_args.clear();
                out.emit(&text)?;
            }
            out.emit("\n")?;
            col = 0;
        }
    }
    Ok(())
}

/// The values Python's `%` gets for one element: the element, or for a complex
/// element its real and imaginary parts. Returns how many.
fn split(v: Value, args: &mut [Arg; 2]) -> usize {
    match v {
        Value::C64(c) => {
            args[0] = Arg::Float(f64::from(c.re), Kind::F32);
            args[1] = Arg::Float(f64::from(c.im), Kind::F32);
            2
        }
        Value::C128(c) => {
            args[0] = Arg::Float(c.re, Kind::F64);
            args[1] = Arg::Float(c.im, Kind::F64);
            2
        }
        v => {
            args[0] = Arg::from_value(v);
            1
        }
    }
}

/// Writes text, replacing `+-` by `-` across the whole line for complex arrays,
/// as numpy's `savetxt` does (`s.replace('+-', '-')`), without holding the line.
struct Emitter<'w, W: Write + ?Sized> {
    w: &'w mut W,
    complex: bool,
    /// A `+` held back until the next character shows whether a `-` follows.
    plus_pending: bool,
}

impl<W: Write + ?Sized> Emitter<'_, W> {
    fn emit(&mut self, text: &str) -> Result<(), Failure> {
        if !self.complex {
            return self.w.write_all(text.as_bytes()).map_err(Failure::Io);
        }
        if text.is_empty() {
            return Ok(());
        }
        let mut text = text;
        if self.plus_pending {
            self.plus_pending = false;
            if let Some(rest) = text.strip_prefix('-') {
                self.w.write_all(b"-").map_err(Failure::Io)?;
                text = rest;
            } else {
                self.w.write_all(b"+").map_err(Failure::Io)?;
            }
        }
        let mut replaced = text.replace("+-", "-");
        if replaced.ends_with('+') {
            replaced.pop();
            self.plus_pending = true;
        }
        self.w.write_all(replaced.as_bytes()).map_err(Failure::Io)
    }
}
