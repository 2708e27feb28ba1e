//! Numbers to text the way numpy prints them, and text to numbers.

use half::f16;

use crate::Kind;
use crate::dragon4::{Cutoff, digits_text, float_digits};

/// Shortest decimal digits and exponent of a float: `value = d1.d2d3.. * 10^exp`.
struct Digits {
    negative: bool,
    mantissa: String,
    exp: i32,
}

/// The shortest digits of the finite `v` that identify it among the values of
/// `kind` (numpy's Dragon4 "unique" mode, as numpy's `str` uses).
fn shortest(v: f64, kind: Kind) -> Digits {
    let (digits, exp) = float_digits(v.abs(), kind, Cutoff::Total, None, None);
    Digits {
        negative: v.is_sign_negative(),
        mantissa: digits_text(&digits),
        exp,
    }
}

/// Lays out digits as numpy's scalar `str` does: positional when `positional` (with `.0`
/// when integral), scientific otherwise (`1e+16`, `1.5e-05`).
fn layout(d: &Digits, positional: bool) -> String {
    let mut out = String::new();
    if d.negative {
        out.push('-');
    }
    let digits = d.mantissa.as_str();
    if positional {
        if d.exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-d.exp - 1) as usize));
            out.push_str(digits);
        } else {
            let int_len = d.exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if d.exp < 0 { '-' } else { '+' };
        let exp = d.exp.unsigned_abs();
        if exp < 10 {
            out.push_str(&format!("e{sign}0{exp}"));
        } else {
            out.push_str(&format!("e{sign}{exp}"));
        }
    }
    out
}

/// Whether numpy prints `v` positionally: zero, or `1e-4 <= |v| < max`, where `max` is
/// 1e16 for float64 (as Python's `repr`) and, since numpy 2.2, 1e6 for float32 and 1e3 for
/// float16. The test is on the value, not on its digits: float32's `0.0001` is a little
/// less than 1e-4 and prints as `1e-04`.
fn positional(v: f64, max: f64) -> bool {
    let a = v.abs();
    a == 0.0 || (1e-4..max).contains(&a)
}

fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("nan")
    } else if v.is_infinite() {
        Some(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        None
    }
}

/// `str()` of a numpy float64: shortest text that round-trips, Python's layout.
///
/// ```
/// use mmarray_dtype::text::format_f64;
/// assert_eq!(format_f64(0.1), "0.1");
/// assert_eq!(format_f64(1.0), "1.0");
/// assert_eq!(format_f64(1e16), "1e+16");
/// assert_eq!(format_f64(1.5e-5), "1.5e-05");
/// assert_eq!(format_f64(f64::NEG_INFINITY), "-inf");
/// ```
#[must_use]
pub fn format_f64(v: f64) -> String {
    match special(v) {
        Some(s) => s.to_owned(),
        None => layout(&shortest(v, Kind::F64), positional(v, 1e16)),
    }
}

/// `str()` of a numpy float32: the shortest text that round-trips in float32.
///
/// ```
/// use mmarray_dtype::text::format_f32;
/// assert_eq!(format_f32(0.1), "0.1");
/// assert_eq!(format_f32(123456.0), "123456.0");
/// assert_eq!(format_f32(16777216.0), "1.6777216e+07"); // numpy >= 2.2: scientific from 1e6
/// ```
#[must_use]
pub fn format_f32(v: f32) -> String {
    match special(f64::from(v)) {
        Some(s) => s.to_owned(),
        None => layout(
            &shortest(f64::from(v), Kind::F32),
            positional(f64::from(v), 1e6),
        ),
    }
}

/// `str()` of a numpy float16: the shortest text that round-trips in float16.
///
/// ```
/// use mmarray_dtype::text::format_f16;
/// use half::f16;
/// assert_eq!(format_f16(f16::from_f64(0.1)), "0.1");
/// assert_eq!(format_f16(f16::from_f64(999.0)), "999.0");
/// assert_eq!(format_f16(f16::MAX), "6.55e+04"); // numpy >= 2.2: scientific from 1e3
/// ```
#[must_use]
pub fn format_f16(v: f16) -> String {
    let wide = f64::from(v);
    match special(wide) {
        Some(s) => s.to_owned(),
        None => layout(&shortest(wide, Kind::F16), positional(wide, 1e3)),
    }
}

/// Formats a complex number as Python/numpy do: `(1+2j)`, `2j`, `(-0-1j)`, `(nan+infj)`.
///
/// `part` formats one float component; integral parts lose their `.0` as in Python.
pub(crate) fn format_complex(re: f64, im: f64, part: impl Fn(f64) -> String) -> String {
    let strip = |s: String| match s.strip_suffix(".0") {
        Some(t) => t.to_owned(),
        None => s,
    };
    let im_text = strip(part(im));
    if re == 0.0 && re.is_sign_positive() {
        return format!("{im_text}j");
    }
    let re_text = strip(part(re));
    let sign = if im_text.starts_with('-') { "" } else { "+" };
    format!("({re_text}{sign}{im_text}j)")
}

/// A number as written in text, before it is fitted into a kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Bool(bool),
    /// An integer written without a point or exponent (exact, up to 128 bits).
    Int(i128),
    /// A real number (with a point, an exponent, or nan/inf; or an integer too large for i128).
    Real(f64),
    /// A complex number `re + im j`.
    Complex(f64, f64),
    /// A finite number (real, or a part of a complex number) too large for float64:
    /// `1e400`, `1+1e999j`. It does not fit any kind.
    Overflow,
}

/// A finite decimal number whose magnitude exceeds float64's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Overflow;

/// A real number: `Some(Err(Overflow))` for finite text beyond float64's range
/// (only the words `inf` and `infinity` mean infinity).
fn parse_real(text: &str) -> Option<Result<f64, Overflow>> {
    let t = text.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "nan" | "inf" | "infinity") {
        let v = if lower == "nan" {
            f64::NAN
        } else {
            f64::INFINITY
        };
        return Some(Ok(if t.starts_with('-') { -v } else { v }));
    }
    // Only decimal syntax: digits, one point, an exponent. Rust's parser accepts the same.
    if body.is_empty()
        || !body
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
    {
        return None;
    }
    let v = t.parse::<f64>().ok()?;
    Some(if v.is_finite() { Ok(v) } else { Err(Overflow) })
}

/// Parses `text` as a number of any kind; `None` when it is no number at all.
pub(crate) fn parse_number(text: &str) -> Option<Number> {
    let t = text.trim();
    match t {
        "true" | "True" => return Some(Number::Bool(true)),
        "false" | "False" => return Some(Number::Bool(false)),
        _ => {}
    }
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(match t.parse::<i128>() {
            Ok(i) => Number::Int(i),
            Err(_) => parse_real(t)?.map_or(Number::Overflow, Number::Real),
        });
    }
    if let Some(v) = parse_real(t) {
        return Some(v.map_or(Number::Overflow, Number::Real));
    }
    parse_complex(t).map(|parts| parts.map_or(Number::Overflow, |(re, im)| Number::Complex(re, im)))
}

/// `1+2j`, `-1.5-2e3j`, `2j`, `j`, `(1+2j)`, `nan+infj`.
fn parse_complex(text: &str) -> Option<Result<(f64, f64), Overflow>> {
    let t = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text);
    let body = t.strip_suffix(['j', 'J'])?;
    // Split at the last sign that is neither the first character nor part of an exponent.
    let bytes = body.as_bytes();
    let split = (1..bytes.len())
        .rev()
        .find(|&i| matches!(bytes[i], b'+' | b'-') && !matches!(bytes[i - 1], b'e' | b'E'));
    let (re, im) = match split {
        Some(i) => (parse_real(&body[..i])?, &body[i..]),
        None => (Ok(0.0), body),
    };
    let im = match im {
        "" | "+" => Ok(1.0),
        "-" => Ok(-1.0),
        other => parse_real(other)?,
    };
    Some(re.and_then(|re| Ok((re, im?))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python_repr() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.5, "1.5"),
            (100.0, "100.0"),
            (123_456_789.0, "123456789.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.234e17, "1.234e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-300, "-2.5e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::NAN, "nan"),
        ];
        for (v, want) in cases {
            assert_eq!(format_f64(v), want, "{v:e}");
        }
    }

    #[test]
    fn narrow_floats_use_their_own_shortest_digits() {
        assert_eq!(format_f32(0.1), "0.1");
        assert_eq!(format_f32(1.0 / 3.0), "0.33333334");
        assert_eq!(format_f16(f16::from_f64(1.0 / 3.0)), "0.3333");
        assert_eq!(format_f16(f16::from_f64(0.1)), "0.1");
        assert_eq!(format_f16(f16::from_bits(1)), "6e-08");
        assert_eq!(format_f16(f16::INFINITY), "inf");
    }

    #[test]
    fn complex_prints_like_python() {
        let f = |re, im| format_complex(re, im, format_f64);
        assert_eq!(f(1.0, 2.0), "(1+2j)");
        assert_eq!(f(0.0, 2.0), "2j");
        assert_eq!(f(-0.0, -1.0), "(-0-1j)");
        assert_eq!(f(1.5, -2.5), "(1.5-2.5j)");
        assert_eq!(f(f64::NAN, f64::INFINITY), "(nan+infj)");
    }

    #[test]
    fn numbers_parse() {
        assert_eq!(parse_number("-3"), Some(Number::Int(-3)));
        assert_eq!(parse_number("+7"), Some(Number::Int(7)));
        assert_eq!(parse_number("1.5"), Some(Number::Real(1.5)));
        assert_eq!(parse_number("1e3"), Some(Number::Real(1000.0)));
        assert_eq!(parse_number("-inf"), Some(Number::Real(f64::NEG_INFINITY)));
        assert!(matches!(parse_number("nan"), Some(Number::Real(v)) if v.is_nan()));
        assert_eq!(parse_number("true"), Some(Number::Bool(true)));
        assert_eq!(parse_number("1+2j"), Some(Number::Complex(1.0, 2.0)));
        assert_eq!(
            parse_number("-1.5-2e3j"),
            Some(Number::Complex(-1.5, -2000.0))
        );
        assert_eq!(parse_number("1e-3+2j"), Some(Number::Complex(0.001, 2.0)));
        assert_eq!(parse_number("2j"), Some(Number::Complex(0.0, 2.0)));
        assert_eq!(parse_number("(1-j)"), Some(Number::Complex(1.0, -1.0)));
        // Finite text beyond float64 is no infinity; the words are.
        for big in ["1e400", "-1e309", "1e400+2j", "1-1e999j", &"9".repeat(400)] {
            assert_eq!(parse_number(big), Some(Number::Overflow), "{big}");
        }
        assert_eq!(
            parse_number("inf-infj"),
            Some(Number::Complex(f64::INFINITY, f64::NEG_INFINITY))
        );
        assert_eq!(
            parse_number("-Infinity"),
            Some(Number::Real(f64::NEG_INFINITY))
        );
        for bad in [
            "", "abc", "1..2", "--1", "0x10", "1,5", "j1", "1+2", "e5", ".", "+",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
