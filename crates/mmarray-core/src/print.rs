//! Arrays as text, the way numpy prints them: [`repr`] gives what numpy's `repr()`
//! of an array (or a `memmap`) gives, and [`scalar_repr`] what `repr()` of one of
//! its elements gives.
//!
//! The rules are those of numpy's `array2string` with its default print options
//! (numpy 2.x): arrays of more than 1000 items are summarised with `...` and 3
//! items at each edge, lines wrap at 75 characters, and floats are printed in
//! numpy's default `maxprec` mode:
//!
//! - each value with the fewest digits that identify it in its own type (float16,
//!   float32 or float64), at most 8 after the point, with a trailing `.` for
//!   integral values (`1.`, `0.5`);
//! - scientific notation for the whole array when a non-zero value is below
//!   `1e-4`, when the largest is at least `1e8` (`1e6` for float32, `1e3` for
//!   float16), or when the largest is more than 1000 times the smallest; then all
//!   values share the same number of digits (`1.0000000e-01`);
//! - columns aligned: the integer parts padded on the left (room for a `-`), the
//!   fractions on the right; `nan` and `inf` right-aligned in the same width.
//!
//! Integers are right-aligned, bools print as `True`/`False` (` True` inside
//! arrays, to align with `False`), complex values as `1.+2.j` with the real and
//! imaginary parts formatted as two float arrays. The `dtype=` suffix appears
//! when numpy shows one: for every dtype but `int64`, `float64`, `complex128` and
//! `bool` in native byte order, and for empty arrays; `shape=` appears for
//! summarised and empty arrays (except the shape `(0,)`).
//!
//! ```
//! use mmarray_core::{Order, View, print};
//! use mmarray_dtype::ByteOrder;
//!
//! let bytes: Vec<u8> = [0.0f64, 0.5, 1.0, -2.25].iter().flat_map(|v| v.to_ne_bytes()).collect();
//! let v = View::<f64>::from_bytes(&bytes, &[2, 2], Order::C, ByteOrder::NATIVE)?;
//! assert_eq!(print::repr(&v, "memmap"), "memmap([[ 0.  ,  0.5 ],\n        [ 1.  , -2.25]])");
//!
//! let bytes: Vec<u8> = [1.5f32, 1e-5].iter().flat_map(|v| v.to_be_bytes()).collect();
//! let v = View::<f32>::from_bytes(&bytes, &[2], Order::C, ByteOrder::Big)?;
//! assert_eq!(print::repr(&v, "array"), "array([1.5e+00, 1.0e-05], dtype='>f4')");
//! # Ok::<(), mmarray_core::Error>(())
//! ```

use mmarray_dtype::dragon4::{Cutoff, digits_text, float_digits};
use mmarray_dtype::{Class, DType, Kind, Native, Value, f16};

use crate::View;

/// numpy's print options that matter for the output of [`repr_with`].
///
/// The defaults are numpy's: `linewidth=75`, `threshold=1000`, `edgeitems=3`,
/// `precision=8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintOptions {
    /// Characters per line before wrapping.
    pub linewidth: usize,
    /// Arrays with more items than this are summarised with `...`.
    pub threshold: usize,
    /// Items shown at each edge of a summarised axis.
    pub edgeitems: usize,
    /// Most digits printed after the decimal point of a float.
    pub precision: usize,
}

impl Default for PrintOptions {
    fn default() -> PrintOptions {
        PrintOptions {
            linewidth: 75,
            threshold: 1000,
            edgeitems: 3,
            precision: 8,
        }
    }
}

/// The text of numpy's `repr()` of an array whose elements `view` shows, with
/// `class` as the class name: `"memmap"` gives `memmap([0., 0.])`, `"array"`
/// gives `array([0., 0.])`. Uses numpy's default print options.
#[must_use]
pub fn repr<T: Native>(view: &View<'_, T>, class: &str) -> String {
    repr_with(view, class, &PrintOptions::default())
}

/// [`repr`] with other print options.
#[must_use]
pub fn repr_with<T: Native>(view: &View<'_, T>, class: &str, options: &PrintOptions) -> String {
    let prefix = format!("{class}(");
    let shape = view.shape();
    let size = view.len();
    let lst = if size == 0 {
        "[]".to_owned()
    } else {
        // numpy subtracts the length of the closing ")" from the line width.
        array2string(
            view,
            options,
            ", ",
            &prefix,
            options.linewidth.saturating_sub(1),
        )
    };
    let mut extras = Vec::new();
    if (size == 0 && shape != [0]) || size > options.threshold {
        extras.push(format!("shape={}", py_tuple(shape)));
    }
    let dtype = view.dtype();
    if !dtype_is_implied(dtype) || size == 0 {
        extras.push(format!("dtype={}", dtype_short_repr(dtype)));
    }
    if extras.is_empty() {
        return format!("{prefix}{lst})");
    }
    let arr_str = format!("{prefix}{lst},");
    let extra_str = format!("{})", extras.join(", "));
    let last_line_len = arr_str.len() - arr_str.rfind('\n').map_or(0, |i| i + 1);
    let spacer = if last_line_len + extra_str.len() + 1 > options.linewidth {
        format!("\n{}", " ".repeat(prefix.len()))
    } else {
        " ".to_owned()
    };
    format!("{arr_str}{spacer}{extra_str}")
}

/// The text of numpy's `repr()` of a scalar of `value`'s kind: `np.float64(0.5)`,
/// `np.int8(-3)`, `np.True_`, `np.complex64(1+2j)`.
///
/// ```
/// use mmarray_core::print::scalar_repr;
/// use mmarray_dtype::Value;
/// assert_eq!(scalar_repr(Value::F32(0.1)), "np.float32(0.1)");
/// assert_eq!(scalar_repr(Value::Bool(false)), "np.False_");
/// ```
#[must_use]
pub fn scalar_repr(value: Value) -> String {
    match value {
        Value::Bool(b) => if b { "np.True_" } else { "np.False_" }.to_owned(),
        v => {
            let text = v.to_string();
            let text = text
                .strip_prefix('(')
                .and_then(|t| t.strip_suffix(')'))
                .unwrap_or(&text);
            format!("np.{}({text})", v.kind().name())
        }
    }
}

/// Whether numpy leaves the dtype out of the repr (the default types, native order).
fn dtype_is_implied(dtype: DType) -> bool {
    dtype.is_native()
        && matches!(
            dtype.kind(),
            Kind::Bool | Kind::I64 | Kind::F64 | Kind::C128
        )
}

/// numpy's `dtype_short_repr`: the name, or the quoted descr when not native.
fn dtype_short_repr(dtype: DType) -> String {
    if dtype.is_native() {
        dtype.kind().name().to_owned()
    } else {
        format!("'{}'", dtype.descr())
    }
}

/// A shape as a Python tuple: `()`, `(5,)`, `(2, 3)`.
fn py_tuple(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_owned(),
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The kept elements of an array: all of them, or the edges of summarised axes.
struct Kept {
    shape: Vec<usize>,
    strides: Vec<usize>,
    summarised: Vec<bool>,
    words: Vec<String>,
}

/// numpy's `_array2string` + `_formatArray` for a non-empty array.
fn array2string<T: Native>(
    view: &View<'_, T>,
    options: &PrintOptions,
    separator: &str,
    prefix: &str,
    linewidth: usize,
) -> String {
    let shape = view.shape();
    let summarise = view.len() > options.threshold;
    let edge = options.edgeitems;
    let mut kept_index: Vec<Vec<usize>> = Vec::with_capacity(shape.len());
    let mut summarised = Vec::with_capacity(shape.len());
    for &n in shape {
        if summarise && n > 2 * edge {
            // numpy always prints an axis's last item, also with `edgeitems=0`
            // (`[..., 9.]`); it then formats every item, this only the last.
            let trailing = edge.max(1);
            kept_index.push((0..edge).chain(n - trailing..n).collect());
            summarised.push(true);
        } else {
            kept_index.push((0..n).collect());
            summarised.push(false);
        }
    }
    let kept_shape: Vec<usize> = kept_index.iter().map(Vec::len).collect();
    let mut strides = vec![1usize; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * kept_shape[a + 1];
    }
    let values = gather(view, &kept_index);
    let words = format_elements(&values, shape.is_empty(), options.precision);
    let kept = Kept {
        shape: kept_shape,
        strides,
        summarised,
        words,
    };
    let hanging = " ".repeat(prefix.len() + 1);
    let fmt = Formatter {
        kept: &kept,
        separator,
        edge,
    };
    fmt.recurse(0, 0, &hanging, linewidth)
}

/// The elements at the cartesian product of `kept_index`, in C order.
fn gather<T: Native>(view: &View<'_, T>, kept_index: &[Vec<usize>]) -> Vec<T> {
    let n: usize = kept_index.iter().map(Vec::len).product();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let mut pos = vec![0usize; kept_index.len()];
    let mut index: Vec<usize> = kept_index.iter().map(|k| k[0]).collect();
    loop {
        // Every index comes from the view's own shape, so `get` cannot fail.
        out.push(view.get(&index).unwrap_or_default());
        let mut axis = kept_index.len();
        loop {
            if axis == 0 {
                return out;
            }
            axis -= 1;
            pos[axis] += 1;
            if pos[axis] < kept_index[axis].len() {
                index[axis] = kept_index[axis][pos[axis]];
                break;
            }
            pos[axis] = 0;
            index[axis] = kept_index[axis][0];
        }
    }
}

struct Formatter<'k> {
    kept: &'k Kept,
    separator: &'k str,
    edge: usize,
}

impl Formatter<'_> {
    /// numpy's `_formatArray.recurser`.
    fn recurse(&self, axis: usize, base: usize, hanging: &str, curr_width: usize) -> String {
        let kept = self.kept;
        let ndim = kept.shape.len();
        if axis == ndim {
            return kept.words[base].clone();
        }
        let axes_left = ndim - axis;
        let next_hanging = format!("{hanging} ");
        let next_width = curr_width.saturating_sub(1);
        let a_len = kept.shape[axis];
        let stride = kept.strides[axis];
        let show_summary = kept.summarised[axis];
        let (leading, trailing) = if show_summary {
            (self.edge, self.edge)
        } else {
            (0, a_len)
        };
        let at = |i: usize| base + i * stride;
        let sep = self.separator;
        let mut s = String::new();
        if axes_left == 1 {
            let elem_width = curr_width.saturating_sub(sep.trim_end().len().max(1));
            let mut line = hanging.to_owned();
            for i in 0..leading {
                let word = self.recurse(axis + 1, at(i), &next_hanging, next_width);
                extend_line(&mut s, &mut line, &word, elem_width, hanging);
                line.push_str(sep);
            }
            if show_summary {
                extend_line(&mut s, &mut line, "...", elem_width, hanging);
                line.push_str(sep);
            }
            for i in (2..=trailing).rev() {
                let word = self.recurse(axis + 1, at(a_len - i), &next_hanging, next_width);
                extend_line(&mut s, &mut line, &word, elem_width, hanging);
                line.push_str(sep);
            }
            let word = self.recurse(axis + 1, at(a_len - 1), &next_hanging, next_width);
            extend_line(&mut s, &mut line, &word, elem_width, hanging);
            s.push_str(&line);
        } else {
            let line_sep = format!("{}{}", sep.trim_end(), "\n".repeat(axes_left - 1));
            for i in 0..leading {
                s.push_str(hanging);
                s.push_str(&self.recurse(axis + 1, at(i), &next_hanging, next_width));
                s.push_str(&line_sep);
            }
            if show_summary {
                s.push_str(hanging);
                s.push_str("...");
                s.push_str(&line_sep);
            }
            for i in (2..=trailing).rev() {
                s.push_str(hanging);
                s.push_str(&self.recurse(axis + 1, at(a_len - i), &next_hanging, next_width));
                s.push_str(&line_sep);
            }
            s.push_str(hanging);
            s.push_str(&self.recurse(axis + 1, at(a_len - 1), &next_hanging, next_width));
        }
        format!("[{}]", s.get(hanging.len()..).unwrap_or(&s))
    }
}

/// numpy's `_extendLine`: appends `word`, wrapping first if it would pass `width`
/// (unless the line holds nothing but its indent, where wrapping would not help).
fn extend_line(
    s: &mut String,
    line: &mut String,
    word: &str,
    width: usize,
    next_line_prefix: &str,
) {
    let needs_wrap = line.len() + word.len() > width && line.len() > next_line_prefix.len();
    if needs_wrap {
        s.push_str(line.trim_end());
        s.push('\n');
        next_line_prefix.clone_into(line);
    }
    line.push_str(word);
}

/// Formats every kept element with one formatter built from all of them, as
/// numpy's `_get_format_function` does.
fn format_elements<T: Native>(values: &[T], zero_d: bool, precision: usize) -> Vec<String> {
    match T::KIND.class() {
        Class::Bool => {
            let truestr = if zero_d { "True" } else { " True" };
            values
                .iter()
                .map(|v| if v.to_bool() { truestr } else { "False" }.to_owned())
                .collect()
        }
        Class::Signed | Class::Unsigned => {
            let ints: Vec<i128> = values
                .iter()
                .map(|v| {
                    if T::KIND.class() == Class::Signed {
                        i128::from(v.to_i64())
                    } else {
                        i128::from(v.to_u64())
                    }
                })
                .collect();
            let width = ints.iter().map(|v| v.to_string().len()).max().unwrap_or(0);
            ints.iter().map(|v| format!("{v:>width$}")).collect()
        }
        Class::Float => {
            let floats: Vec<f64> = values.iter().map(|v| v.to_f64()).collect();
            let f = FloatFormat::new(&floats, T::KIND, false, precision);
            floats.iter().map(|&v| f.format(v)).collect()
        }
        Class::Complex => {
            let part = if T::KIND == Kind::C64 {
                Kind::F32
            } else {
                Kind::F64
            };
            let (re, im): (Vec<f64>, Vec<f64>) = values
                .iter()
                .map(|v| {
                    let c = v.to_c128();
                    (c.re, c.im)
                })
                .unzip();
            let fr = FloatFormat::new(&re, part, false, precision);
            let fi = FloatFormat::new(&im, part, true, precision);
            re.iter()
                .zip(&im)
                .map(|(&r, &i)| {
                    let r = fr.format(r);
                    let mut i = fi.format(i);
                    let end = i.trim_end().len();
                    i.insert(end, 'j');
                    r + &i
                })
                .collect()
        }
    }
}

/// numpy's `FloatingFormat` in the default `maxprec` mode, for values of a real
/// float kind (given as `f64`, which holds float16 and float32 values exactly).
struct FloatFormat {
    kind: Kind,
    /// Print `+` before positive values (numpy's `sign='+'`, used for imaginary parts).
    plus: bool,
    exp_format: bool,
    precision: usize,
    pad_left: usize,
    pad_right: usize,
    exp_size: usize,
}

impl FloatFormat {
    fn new(data: &[f64], kind: Kind, plus: bool, precision: usize) -> FloatFormat {
        let finite: Vec<f64> = data.iter().copied().filter(|v| v.is_finite()).collect();
        let non_zero = finite.iter().filter(|&&v| v != 0.0).map(|v| v.abs());
        let max = non_zero
            .clone()
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        let min = non_zero.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))));
        let exp_format = match (max, min) {
            (Some(max), Some(min)) => needs_exp_format(kind, max, min),
            _ => false,
        };
        let mut f = FloatFormat {
            kind,
            plus,
            exp_format,
            precision,
            pad_left: 0,
            pad_right: 0,
            exp_size: 0,
        };
        if finite.is_empty() {
            // Only nan/inf: widths come from them alone (below).
        } else if exp_format {
            let parts: Vec<(String, String, String)> = finite
                .iter()
                .map(|&v| scientific_parts(v, kind, plus, precision, None))
                .collect();
            f.exp_size = parts.iter().map(|p| p.2.len()).max().unwrap_or(3) - 1;
            f.precision = parts.iter().map(|p| p.1.len()).max().unwrap_or(0);
            f.pad_left = parts.iter().map(|p| p.0.len()).max().unwrap_or(1);
            f.pad_right = f.exp_size + 2 + f.precision;
        } else {
            let parts: Vec<(String, String)> = finite
                .iter()
                .map(|&v| positional_parts(v, kind, plus, precision, None))
                .collect();
            f.pad_left = parts.iter().map(|p| p.0.len()).max().unwrap_or(1);
            f.pad_right = parts.iter().map(|p| p.1.len()).max().unwrap_or(0);
        }
        if finite.len() != data.len() {
            let neginf = plus || data.contains(&f64::NEG_INFINITY);
            let offset = f.pad_right + 1;
            let nan = 3usize.saturating_sub(offset);
            let inf = (3 + usize::from(neginf)).saturating_sub(offset);
            f.pad_left = f.pad_left.max(nan).max(inf);
        }
        f
    }

    fn format(&self, v: f64) -> String {
        if !v.is_finite() {
            let text = if v.is_nan() {
                if self.plus { "+nan" } else { "nan" }
            } else if v < 0.0 {
                "-inf"
            } else if self.plus {
                "+inf"
            } else {
                "inf"
            };
            let width = self.pad_left + self.pad_right + 1;
            return format!("{text:>width$}");
        }
        let pad_left = self.pad_left;
        if self.exp_format {
            // Every value with exactly `precision` digits after the point.
            let (int, frac, exp) = scientific_parts(
                v,
                self.kind,
                self.plus,
                self.precision,
                Some(self.precision),
            );
            let exp_digits = self.exp_size;
            let (exp_sign, exp) = exp.split_at(1);
            format!("{int:>pad_left$}.{frac}e{exp_sign}{exp:0>exp_digits$}")
        } else {
            // numpy's maxprec mode: min_digits 0.
            let (int, frac) = positional_parts(v, self.kind, self.plus, self.precision, Some(0));
            let pad_right = self.pad_right;
            format!("{int:>pad_left$}.{frac:<pad_right$}")
        }
    }
}

/// numpy's choice of scientific notation for non-zero finite magnitudes `max`
/// and `min`, computed in the array's own float type as numpy does.
fn needs_exp_format(kind: Kind, max: f64, min: f64) -> bool {
    match kind {
        Kind::F16 => {
            let (max, min) = (max as f32, min as f32);
            let ratio = f32::from(f16::from_f32(max / min));
            let tiny = f32::from(<f16 as Native>::from_f64(1e-4));
            max >= 1e3 || min < tiny || ratio > 1000.0
        }
        Kind::F32 => {
            let (max, min) = (max as f32, min as f32);
            max >= 1e6 || min < 1e-4 || max / min > 1000.0
        }
        _ => max >= 1e8 || min < 1e-4 || max / min > 1000.0,
    }
}

fn sign(v: f64, plus: bool) -> &'static str {
    if v.is_sign_negative() {
        "-"
    } else if plus {
        "+"
    } else {
        ""
    }
}

/// numpy's `dragon4_positional(v, precision, unique=True, fractional=True,
/// trim='.', min_digits)`: the integer part with its sign, and the fraction
/// digits without trailing zeros.
fn positional_parts(
    v: f64,
    kind: Kind,
    plus: bool,
    precision: usize,
    min: Option<usize>,
) -> (String, String) {
    let (digits, exp) = float_digits(v.abs(), kind, Cutoff::Fraction, Some(precision), min);
    let digits = digits_text(&digits);
    let (int, frac) = if exp >= 0 {
        let whole = exp as usize + 1;
        if digits.len() <= whole {
            (
                format!("{digits}{}", "0".repeat(whole - digits.len())),
                String::new(),
            )
        } else {
            (digits[..whole].to_owned(), digits[whole..].to_owned())
        }
    } else {
        (
            "0".to_owned(),
            format!("{}{digits}", "0".repeat((-exp - 1) as usize)),
        )
    };
    (
        format!("{}{int}", sign(v, plus)),
        frac.trim_end_matches('0').to_owned(),
    )
}

/// numpy's `dragon4_scientific(v, precision, unique=True, min_digits)`: the
/// integer digit with its sign, the fraction digits (without trailing zeros when
/// `min` is `None`, as `trim='.'`; padded with zeros to `precision` otherwise, as
/// `trim='k'`) and the exponent with its sign and at least two digits.
fn scientific_parts(
    v: f64,
    kind: Kind,
    plus: bool,
    precision: usize,
    min: Option<usize>,
) -> (String, String, String) {
    let (digits, exp) = float_digits(
        v.abs(),
        kind,
        Cutoff::Total,
        Some(precision + 1),
        min.map(|m| m + 1),
    );
    let digits = digits_text(&digits);
    let int = format!("{}{}", sign(v, plus), &digits[..1]);
    let mut frac = digits[1..].to_owned();
    if min.is_none() {
        frac = frac.trim_end_matches('0').to_owned();
    } else if frac.len() < precision {
        frac.push_str(&"0".repeat(precision - frac.len()));
    }
    let exp = format!(
        "{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    );
    (int, frac, exp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Order;
    use mmarray_dtype::ByteOrder;

    fn view<T: Native>(values: &[T], shape: &[usize]) -> (Vec<u8>, Vec<usize>) {
        (bytemuck::cast_slice(values).to_vec(), shape.to_vec())
    }

    fn show<T: Native>(values: &[T], shape: &[usize]) -> String {
        let (bytes, shape) = view(values, shape);
        let v = View::<T>::from_bytes(&bytes, &shape, Order::C, ByteOrder::NATIVE).unwrap();
        repr(&v, "array")
    }

    #[test]
    fn floats_follow_numpy() {
        assert_eq!(
            show(&[0.001_953_125f64, 0.5], &[2]),
            "array([0.00195312, 0.5       ])"
        );
        assert_eq!(
            show(&[f64::NAN, f64::NEG_INFINITY, 1.5], &[3]),
            "array([ nan, -inf,  1.5])"
        );
        assert_eq!(
            show(&[1000.0f32 * 100.0], &[1]),
            "array([100000.], dtype=float32)"
        );
        assert_eq!(
            show(&[f16::from_f32(1000.0)], &[1]),
            "array([1.e+03], dtype=float16)"
        );
        assert_eq!(
            show(&[0.1f32, 1e-5, 0.123_456_79], &[3]),
            "array([1.0000000e-01, 9.9999997e-06, 1.2345679e-01], dtype=float32)"
        );
        assert_eq!(show(&[1e7f64], &[1]), "array([10000000.])");
        assert_eq!(show(&[-0.0f64], &[]), "array(-0.)");
    }

    #[test]
    fn others_follow_numpy() {
        assert_eq!(
            show(&[mmarray_dtype::Bool(1), mmarray_dtype::Bool(0)], &[2]),
            "array([ True, False])"
        );
        assert_eq!(show(&[mmarray_dtype::Bool(1)], &[]), "array(True)");
        assert_eq!(show(&[-5i8, 100], &[2]), "array([ -5, 100], dtype=int8)");
        assert_eq!(
            show::<i64>(&[], &[0, 3]),
            "array([], shape=(0, 3), dtype=int64)"
        );
        assert_eq!(show::<f32>(&[], &[0]), "array([], dtype=float32)");
        let c = |re, im| mmarray_dtype::Complex64::new(re, im);
        assert_eq!(
            show(
                &[c(1.0, 2.0), c(f64::NAN, 1.0), c(3.0, f64::NEG_INFINITY)],
                &[3]
            ),
            "array([ 1. +2.j, nan +1.j,  3.-infj])"
        );
        assert_eq!(scalar_repr(Value::C128(c(1.0, 2.0))), "np.complex128(1+2j)");
    }

    #[test]
    fn no_edge_items_show_the_last_item_as_numpy_does() {
        let options = PrintOptions {
            edgeitems: 0,
            threshold: 5,
            ..PrintOptions::default()
        };
        let values: Vec<f64> = (0..20).map(f64::from).collect();
        let (bytes, shape) = view(&values[..10], &[10]);
        let v = View::<f64>::from_bytes(&bytes, &shape, Order::C, ByteOrder::NATIVE).unwrap();
        assert_eq!(
            repr_with(&v, "array", &options),
            "array([..., 9.], shape=(10,))"
        );
        let (bytes, shape) = view(&values, &[4, 5]);
        let v = View::<f64>::from_bytes(&bytes, &shape, Order::C, ByteOrder::NATIVE).unwrap();
        assert_eq!(
            repr_with(&v, "array", &options),
            "array([...,\n       [..., 19.]], shape=(4, 5))"
        );
    }

    #[test]
    fn large_arrays_are_summarised() {
        let zeros = vec![0.0f64; 10000 * 10];
        let text = show(&zeros, &[10000, 10]);
        assert_eq!(
            text,
            "array([[0., 0., 0., ..., 0., 0., 0.],\n       [0., 0., 0., ..., 0., 0., 0.],\n       \
             [0., 0., 0., ..., 0., 0., 0.],\n       ...,\n       [0., 0., 0., ..., 0., 0., 0.],\n       \
             [0., 0., 0., ..., 0., 0., 0.],\n       [0., 0., 0., ..., 0., 0., 0.]], shape=(10000, 10))"
        );
    }
}
