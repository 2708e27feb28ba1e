//! Python's `%` operator on numpy scalars, for `export --fmt` (numpy's `savetxt`
//! formats each row with `format % tuple(row)`).
//!
//! Supported: conversions `d i u o x X e E f F g G s`, flags `- + space 0 #`, a
//! width, a precision and the ignored length modifiers `h l L`, with any text
//! around the conversions (`%%` is a literal `%`). Not supported (a usage error):
//! `*` widths, `%(key)` mappings and the conversions `c r a`.
//!
//! The values follow Python's rules for numpy scalars: float conversions take
//! `float(x)` (so an int64 is rounded to the nearest float64, a bool is 1.0 or
//! 0.0), `d i u` take `int(x)` (floats truncated; NaN and infinities are an
//! error), `o x X` need an integer type, and `s` prints numpy's `str(x)`.

use std::fmt::Write as _;

use mmarray_dtype::{Class, Kind, Value};

/// A parsed format: literal text and conversions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Printf {
    pieces: Vec<Piece>,
    /// How many `%` characters the text has (numpy's `fmt.count('%')`).
    percents: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Conv(Conv),
}

/// One `%` conversion.
// The five flags of printf are independent switches; an enum would not help.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Conv {
    left: bool,
    plus: bool,
    space: bool,
    zero: bool,
    alt: bool,
    width: usize,
    precision: Option<usize>,
    /// The conversion character (`d`, `i` and `u` are stored as `d`).
    kind: char,
}

/// A value as Python's `%` sees a numpy scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Arg {
    /// `np.bool_`.
    Bool(bool),
    /// A numpy integer of any width.
    Int(i128),
    /// A numpy float of kind `kind` (float16, float32 or float64), widened exactly.
    Float(f64, Kind),
}

impl Arg {
    /// The argument for an element value (complex values are split by the caller).
    pub(crate) fn from_value(v: Value) -> Arg {
        match v {
            Value::Bool(b) => Arg::Bool(b),
            Value::F16(x) => Arg::Float(x.to_f64(), Kind::F16),
            Value::F32(x) => Arg::Float(f64::from(x), Kind::F32),
            Value::F64(x) => Arg::Float(x, Kind::F64),
            Value::U64(x) => Arg::Int(i128::from(x)),
            // Complex values are split into their parts by the caller; this is the real one.
            Value::C64(c) => Arg::Float(f64::from(c.re), Kind::F32),
            Value::C128(c) => Arg::Float(c.re, Kind::F64),
            Value::I8(x) => Arg::Int(i128::from(x)),
            Value::I16(x) => Arg::Int(i128::from(x)),
            Value::I32(x) => Arg::Int(i128::from(x)),
            Value::I64(x) => Arg::Int(i128::from(x)),
            Value::U8(x) => Arg::Int(i128::from(x)),
            Value::U16(x) => Arg::Int(i128::from(x)),
            Value::U32(x) => Arg::Int(i128::from(x)),
        }
    }
}

/// How `savetxt` formats a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RowFormat {
    /// This format for each value (each complex value), the delimiter between them.
    Repeat(Printf),
    /// This format for all the values of the row at once.
    Whole(Printf),
}

/// Why a value cannot be formatted (Python raises `TypeError` or `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormatError(pub(crate) String);

impl Printf {
    /// Parses FMT as Python's `%` operator would read it.
    pub(crate) fn parse(text: &str) -> Result<Printf, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            let mut conv = Conv::default();
            if chars.peek() == Some(&'%') {
                chars.next();
                literal.push('%');
                continue;
            }
            while let Some(&f) = chars.peek() {
                match f {
                    '-' => conv.left = true,
                    '+' => conv.plus = true,
                    ' ' => conv.space = true,
                    '0' => conv.zero = true,
                    '#' => conv.alt = true,
                    _ => break,
                }
                chars.next();
            }
            conv.width = digits(&mut chars)?.unwrap_or(0);
            if chars.peek() == Some(&'.') {
                chars.next();
                conv.precision = Some(digits(&mut chars)?.unwrap_or(0));
            }
            if matches!(chars.peek(), Some('h' | 'l' | 'L')) {
                chars.next();
            }
            let kind = match chars.next() {
                Some(k @ ('o' | 'x' | 'X' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 's')) => k,
                Some('d' | 'i' | 'u') => 'd',
                Some('*') => return Err("a * width or precision is not supported".to_owned()),
                Some('(') => return Err("%(key) mappings are not supported".to_owned()),
                Some(k @ ('c' | 'r' | 'a')) => {
                    return Err(format!(
                        "%{k} is not a number format (use d, i, u, o, x, X, e, E, f, F, g, G or s)"
                    ));
                }
                Some(k) => {
                    return Err(format!(
                        "unsupported format character {k:?} (use d, i, u, o, x, X, e, E, f, F, g, G or s)"
                    ));
                }
                None => return Err("incomplete format (a % at the end)".to_owned()),
            };
            conv.kind = kind;
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Conv(conv));
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        if !pieces.iter().any(|p| matches!(p, Piece::Conv(_))) {
            return Err("no % conversion (expected e.g. %.18e, %d, %.6f or %g)".to_owned());
        }
        Ok(Printf {
            pieces,
            percents: text.matches('%').count(),
        })
    }

    /// How many values one use of the format takes.
    fn conversions(&self) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Conv(_)))
            .count()
    }

    /// The conversion characters, for checking them against a dtype.
    fn kinds(&self) -> impl Iterator<Item = char> + '_ {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Conv(c) => Some(c.kind),
            Piece::Text(_) => None,
        })
    }

    /// numpy's `savetxt` row format for `ncol` columns of `kind` values: one
    /// conversion is repeated for every column (as `' (F+Fj)'` for complex values),
    /// else the format must have one `%` per value of a row. `o`, `x` and `X`
    /// need an integer `kind` when there are values to format (`any`).
    pub(crate) fn row_format(
        &self,
        ncol: usize,
        kind: Kind,
        any: bool,
    ) -> Result<RowFormat, String> {
        let complex = kind.class() == Class::Complex;
        if let Some(k) = self.kinds().find(|k| matches!(k, 'o' | 'x' | 'X'))
            && any
            && !matches!(kind.class(), Class::Signed | Class::Unsigned)
        {
            let name = match kind {
                Kind::C64 => "float32",
                Kind::C128 => "float64",
                _ => kind.name(),
            };
            return Err(format!(
                "%{k} format: an integer is required, not {name} (use an integer dtype, or %d, %e, %f, %g)"
            ));
        }
        let values = if complex { 2 * ncol } else { ncol };
        if self.percents == 1 {
            let one = if complex {
                let mut pieces = vec![Piece::Text(" (".to_owned())];
                pieces.extend(self.pieces.iter().cloned());
                pieces.push(Piece::Text("+".to_owned()));
                pieces.extend(self.pieces.iter().cloned());
                pieces.push(Piece::Text("j)".to_owned()));
                Printf {
                    pieces,
                    percents: 2,
                }
            } else {
                self.clone()
            };
            return Ok(RowFormat::Repeat(one));
        }
        if self.percents != values || self.conversions() != values {
            let n = self.conversions();
            return Err(format!(
                "the format has {n} conversion{} for {values} values per row (give one \
                 conversion, or one per {})",
                if n == 1 { "" } else { "s" },
                if complex {
                    "real and imaginary part"
                } else {
                    "column"
                }
            ));
        }
        Ok(RowFormat::Whole(self.clone()))
    }

    /// Writes the format applied to `args` into `out` (exactly as many args as
    /// conversions: see [`Printf::row_format`]).
    pub(crate) fn write(&self, args: &[Arg], out: &mut String) -> Result<(), FormatError> {
        let mut args = args.iter();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Conv(c) => {
                    let Some(&arg) = args.next() else {
                        return Err(FormatError("not enough values for the format".to_owned()));
                    };
                    c.write(arg, out)?;
                }
            }
        }
        Ok(())
    }
}

fn digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Option<usize>, String> {
    let mut text = String::new();
    while let Some(&d) = chars.peek() {
        if !d.is_ascii_digit() {
            break;
        }
        text.push(d);
        chars.next();
    }
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<usize>() {
        Ok(n) if n <= 10_000 => Ok(Some(n)),
        _ => Err(format!("width or precision {text} is too large")),
    }
}

impl Conv {
    fn write(&self, arg: Arg, out: &mut String) -> Result<(), FormatError> {
        match self.kind {
            'd' => {
                let text = match arg {
                    Arg::Bool(b) => u8::from(b).to_string(),
                    Arg::Int(i) => i.to_string(),
                    Arg::Float(v, _) => {
                        if v.is_nan() {
                            return Err(FormatError(
                                "cannot convert float NaN to integer".to_owned(),
                            ));
                        }
                        if v.is_infinite() {
                            return Err(FormatError(
                                "cannot convert float infinity to integer".to_owned(),
                            ));
                        }
                        let t = v.trunc();
                        if t == 0.0 {
                            "0".to_owned()
                        } else {
                            format!("{t:.0}")
                        }
                    }
                };
                self.integer(&text, 10, out);
            }
            'o' | 'x' | 'X' => {
                let Arg::Int(i) = arg else {
                    return Err(FormatError(format!(
                        "%{} format: an integer is required",
                        self.kind
                    )));
                };
                let mag = i.unsigned_abs();
                let digits = match self.kind {
                    'o' => format!("{mag:o}"),
                    'x' => format!("{mag:x}"),
                    _ => format!("{mag:X}"),
                };
                let text = if i < 0 { format!("-{digits}") } else { digits };
                self.integer(&text, if self.kind == 'o' { 8 } else { 16 }, out);
            }
            's' => {
                let text = match arg {
                    Arg::Bool(b) => if b { "True" } else { "False" }.to_owned(),
                    Arg::Int(i) => i.to_string(),
                    Arg::Float(v, Kind::F16) => {
                        Value::F16(mmarray_dtype::f16::from_f64(v)).to_string()
                    }
                    Arg::Float(v, Kind::F32) => Value::F32(v as f32).to_string(),
                    Arg::Float(v, _) => Value::F64(v).to_string(),
                };
                let text: String = match self.precision {
                    Some(p) => text.chars().take(p).collect(),
                    None => text,
                };
                self.pad("", &text, false, out);
            }
            _ => {
                let v = match arg {
                    Arg::Bool(b) => f64::from(u8::from(b)),
                    Arg::Int(i) => i as f64,
                    Arg::Float(v, _) => v,
                };
                self.float(v, out);
            }
        }
        Ok(())
    }

    /// Python's integer conversions: `text` is the signed digits.
    fn integer(&self, text: &str, radix: u32, out: &mut String) {
        let (negative, mut digits) = match text.strip_prefix('-') {
            Some(d) => (true, d.to_owned()),
            None => (false, text.to_owned()),
        };
        if let Some(p) = self.precision
            && digits.len() < p
        {
            digits.insert_str(0, &"0".repeat(p - digits.len()));
        }
        let mut prefix = self.sign(negative).to_owned();
        if self.alt {
            match (radix, self.kind) {
                (8, _) => prefix.push_str("0o"),
                (16, 'x') => prefix.push_str("0x"),
                (16, _) => prefix.push_str("0X"),
                _ => {}
            }
        }
        self.pad(&prefix, &digits, self.zero, out);
    }

    fn sign(&self, negative: bool) -> &'static str {
        if negative {
            "-"
        } else if self.plus {
            "+"
        } else if self.space {
            " "
        } else {
            ""
        }
    }

    /// Writes `prefix` and `body` padded to the width: on the right with `-`,
    /// with zeros between them when `zero`, else with spaces on the left.
    fn pad(&self, prefix: &str, body: &str, zero: bool, out: &mut String) {
        let len = prefix.chars().count() + body.chars().count();
        let fill = self.width.saturating_sub(len);
        if self.left {
            out.push_str(prefix);
            out.push_str(body);
            out.extend(std::iter::repeat_n(' ', fill));
        } else if zero {
            out.push_str(prefix);
            out.extend(std::iter::repeat_n('0', fill));
            out.push_str(body);
        } else {
            out.extend(std::iter::repeat_n(' ', fill));
            out.push_str(prefix);
            out.push_str(body);
        }
    }

    /// Python's float conversions `e E f F g G`.
    fn float(&self, v: f64, out: &mut String) {
        let upper = self.kind.is_ascii_uppercase();
        let negative = v.is_sign_negative() && !v.is_nan();
        let a = v.abs();
        let body = if v.is_nan() {
            "nan".to_owned()
        } else if v.is_infinite() {
            "inf".to_owned()
        } else {
            let p = self.precision.unwrap_or(6);
            match self.kind.to_ascii_lowercase() {
                'e' => exp_text(a, p, self.alt),
                'f' => fixed_text(a, p, self.alt),
                _ => general_text(a, p, self.alt),
            }
        };
        let body = if upper {
            body.to_ascii_uppercase()
        } else {
            body
        };
        self.pad(self.sign(negative), &body, self.zero, out);
    }
}

/// `%.{p}e` of `a >= 0`: at least two exponent digits.
fn exp_text(a: f64, p: usize, alt: bool) -> String {
    let s = format!("{a:.p$e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut t = mantissa.to_owned();
    if alt && p == 0 {
        t.push('.');
    }
    let _ = write!(
        t,
        "e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    );
    t
}

/// `%.{p}f` of `a >= 0`.
fn fixed_text(a: f64, p: usize, alt: bool) -> String {
    let mut t = format!("{a:.p$}");
    if alt && p == 0 {
        t.push('.');
    }
    t
}

/// `%.{p}g` of `a >= 0`: scientific when the exponent is below -4 or at least
/// the precision; trailing zeros removed unless `alt`.
fn general_text(a: f64, p: usize, alt: bool) -> String {
    let p = p.max(1);
    let exp = if a == 0.0 {
        0
    } else {
        let s = format!("{a:.prec$e}", prec = p - 1);
        s.split_once('e')
            .and_then(|(_, e)| e.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let mut t = if exp >= -4 && exp < p as i64 {
        fixed_text(a, (p as i64 - 1 - exp) as usize, false)
    } else {
        exp_text(a, p - 1, false)
    };
    let (mantissa, rest) = match t.find('e') {
        Some(i) => (t[..i].to_owned(), t[i..].to_owned()),
        None => (t.clone(), String::new()),
    };
    if alt {
        if !mantissa.contains('.') {
            t = format!("{mantissa}.{rest}");
        }
    } else if mantissa.contains('.') {
        let m = mantissa.trim_end_matches('0').trim_end_matches('.');
        t = format!("{m}{rest}");
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, arg: Arg) -> String {
        let mut s = String::new();
        Printf::parse(fmt).unwrap().write(&[arg], &mut s).unwrap();
        s
    }

    #[test]
    fn floats_format_as_python() {
        let d = |v| Arg::Float(v, Kind::F64);
        for (fmt, v, want) in [
            ("%e", -f64::NAN, "nan"),
            ("%+e", f64::NAN, "+nan"),
            ("%010f", f64::INFINITY, "0000000inf"),
            ("%-10f|", f64::NAN, "nan       |"),
            ("%010.3e", -1.5, "-1.500e+00"),
            ("%E", f64::INFINITY, "INF"),
            ("%.0f", 0.5, "0"),
            ("%.0f", 2.5, "2"),
            ("%g", 1e-5, "1e-05"),
            ("%g", 123_456_789.0, "1.23457e+08"),
            ("%#g", 1.0, "1.00000"),
            ("%#.0f", 1.0, "1."),
            ("%#.0e", 1.0, "1.e+00"),
            ("%g", 0.0, "0"),
            ("%#.0g", 0.0, "0."),
            ("%#g", 0.0001, "0.000100000"),
            ("%.3g", 1234.0, "1.23e+03"),
            ("%+.3g", -0.0, "-0"),
            ("%.18e", -0.0, "-0.000000000000000000e+00"),
            ("%.20e", 0.1, "1.00000000000000005551e-01"),
            ("%.18g", 1e300, "1.00000000000000005e+300"),
            ("%d", -0.0, "0"),
            ("%d", -2.7, "-2"),
            ("%s", 1e16, "1e+16"),
            ("%.2s|", 0.1234, "0.|"),
        ] {
            assert_eq!(f(fmt, d(v)), want, "{fmt} {v}");
        }
        assert_eq!(f("%s", Arg::Float(f64::from(0.1f32), Kind::F32)), "0.1");
    }

    #[test]
    fn integers_format_as_python() {
        let i = Arg::Int;
        for (fmt, v, want) in [
            ("%+d", 5, "+5"),
            ("% d", 5, " 5"),
            ("%05d", -3, "-0003"),
            ("%-5d|", 3, "3    |"),
            ("%x", 255, "ff"),
            ("%#x", 255, "0xff"),
            ("%#o", 8, "0o10"),
            ("%#X", 255, "0XFF"),
            ("%x", -255, "-ff"),
            ("%.3d", 5, "005"),
            ("%08.3d", 5, "00000005"),
            ("%#.3x", 5, "0x005"),
            ("%ld", 5, "5"),
            ("%i", i128::from(u64::MAX), "18446744073709551615"),
            ("%e", i128::from(u64::MAX), "1.844674e+19"),
        ] {
            assert_eq!(f(fmt, i(v)), want, "{fmt} {v}");
        }
        assert_eq!(f("%s", Arg::Bool(true)), "True");
        assert_eq!(f("%d", Arg::Bool(true)), "1");
        assert_eq!(f("%.1f", Arg::Bool(false)), "0.0");
        let mut s = String::new();
        let err = Printf::parse("%x")
            .unwrap()
            .write(&[Arg::Bool(true)], &mut s);
        assert!(err.is_err());
    }

    #[test]
    fn bad_formats_are_refused() {
        for bad in [
            "", "abc", "%", "%c", "%r", "%*d", "%(a)d", "%q", "%.99999f", "%%",
        ] {
            assert!(Printf::parse(bad).is_err(), "{bad}");
        }
        assert!(Printf::parse("%%%d").is_ok());
    }
}
