//! [`Value`]: one element whose kind is known only at run time.

use std::fmt;

use half::f16;

use crate::text::{Number, format_complex, format_f16, format_f32, format_f64, parse_number};
use crate::{Bool, Class, Complex32, Complex64, DTypeError, Kind, Native};

/// One element of any supported kind, e.g. the result of `min` over a file whose
/// dtype was read at run time.
///
/// [`Display`](fmt::Display) prints it as numpy's `str()` of the scalar does:
/// `0.1`, `1e+16`, `True`, `(1+2j)`, with float16/float32 in their own shortest digits.
///
/// ```
/// use mmarray_dtype::{Kind, Value};
/// let v = Value::parse(Kind::F32, "0.1")?;
/// assert_eq!(v, Value::F32(0.1));
/// assert_eq!(v.to_string(), "0.1");
/// assert!(Value::parse(Kind::U8, "300").is_err());
/// assert_eq!(Value::parse(Kind::C64, "1+2j")?.to_string(), "(1+2j)");
/// # Ok::<(), mmarray_dtype::DTypeError>(())
/// ```
///
/// # Conversions
///
/// [`as_f64`](Value::as_f64) and [`as_i64`](Value::as_i64) read a value as a
/// plain number; [`cast`](Value::cast) converts with numpy's `astype` rules; and
/// `TryFrom` converts exactly to Rust types: `Ok` when the type holds the
/// value exactly (whatever the value's kind: `U8(200)` into `i64`, `F64(0.5)` into
/// `f16`, `I64(3)` into `f32`, `F64(2.0)` into `u8`), an
/// [`Inexact`](DTypeError::Inexact) error otherwise (`-1` into `u8`, `0.1` into
/// `f32`, `nan` into an integer, a complex number with an imaginary part into a
/// real type). NaN converts into every float type.
///
/// ```
/// use mmarray_dtype::{Value, f16};
/// let mean = Value::F64(2.5);
/// assert_eq!(f64::try_from(mean)?, 2.5);
/// assert_eq!(f16::try_from(mean)?, f16::from_f32(2.5));
/// assert!(i64::try_from(mean).is_err());
/// assert_eq!(u8::try_from(Value::I64(200))?, 200);
/// assert_eq!(
///     u8::try_from(Value::I64(-1)).unwrap_err().to_string(),
///     "value -1 cannot be converted to uint8 exactly"
/// );
/// # Ok::<(), mmarray_dtype::DTypeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(missing_docs)] // one variant per kind, named after it
pub enum Value {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    F16(f16),
    F32(f32),
    F64(f64),
    C64(Complex32),
    C128(Complex64),
}

impl Value {
    /// The kind of the value.
    #[must_use]
    pub fn kind(&self) -> Kind {
        match self {
            Value::Bool(_) => Kind::Bool,
            Value::I8(_) => Kind::I8,
            Value::I16(_) => Kind::I16,
            Value::I32(_) => Kind::I32,
            Value::I64(_) => Kind::I64,
            Value::U8(_) => Kind::U8,
            Value::U16(_) => Kind::U16,
            Value::U32(_) => Kind::U32,
            Value::U64(_) => Kind::U64,
            Value::F16(_) => Kind::F16,
            Value::F32(_) => Kind::F32,
            Value::F64(_) => Kind::F64,
            Value::C64(_) => Kind::C64,
            Value::C128(_) => Kind::C128,
        }
    }

    /// Converts the value to the native type `T` with numpy's `astype` rules.
    #[must_use]
    pub fn cast<T: Native>(self) -> T {
        match self {
            Value::Bool(v) => Bool::from(v).cast(),
            Value::I8(v) => v.cast(),
            Value::I16(v) => v.cast(),
            Value::I32(v) => v.cast(),
            Value::I64(v) => v.cast(),
            Value::U8(v) => v.cast(),
            Value::U16(v) => v.cast(),
            Value::U32(v) => v.cast(),
            Value::U64(v) => v.cast(),
            Value::F16(v) => v.cast(),
            Value::F32(v) => v.cast(),
            Value::F64(v) => v.cast(),
            Value::C64(v) => v.cast(),
            Value::C128(v) => v.cast(),
        }
    }

    /// The value as an `f64`: bools as 0 or 1, integers rounded to the nearest
    /// `f64` (exact up to 2^53), floats widened; `None` for complex kinds (as
    /// Python's `float()` of a complex number is an error). For exact
    /// conversions to any type use `TryFrom`, for numpy's casts [`cast`](Self::cast).
    ///
    /// ```
    /// use mmarray_dtype::{Complex32, Value};
    /// assert_eq!(Value::I64(-3).as_f64(), Some(-3.0));
    /// assert_eq!(Value::Bool(true).as_f64(), Some(1.0));
    /// assert_eq!(Value::F32(0.5).as_f64(), Some(0.5));
    /// assert_eq!(Value::C64(Complex32::new(1.0, 0.0)).as_f64(), None);
    /// ```
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::C64(_) | Value::C128(_) => None,
            v => Some(v.cast::<f64>()),
        }
    }

    /// The value as an `i64` when it is a bool or an integer that fits; `None`
    /// for floats, complex numbers and `uint64` values above `i64::MAX`.
    ///
    /// ```
    /// use mmarray_dtype::Value;
    /// assert_eq!(Value::U8(200).as_i64(), Some(200));
    /// assert_eq!(Value::U64(u64::MAX).as_i64(), None);
    /// assert_eq!(Value::F64(2.0).as_i64(), None);
    /// ```
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self.exact() {
            Exact::Int(i) => i64::try_from(i).ok(),
            Exact::Float(..) => None,
        }
    }

    /// The value as a number no kind loses anything in: integers in `i128`,
    /// floats and complex numbers as two `f64`s (every float16/32/64 is an `f64`).
    fn exact(self) -> Exact {
        match self {
            Value::Bool(v) => Exact::Int(i128::from(v)),
            Value::I8(v) => Exact::Int(i128::from(v)),
            Value::I16(v) => Exact::Int(i128::from(v)),
            Value::I32(v) => Exact::Int(i128::from(v)),
            Value::I64(v) => Exact::Int(i128::from(v)),
            Value::U8(v) => Exact::Int(i128::from(v)),
            Value::U16(v) => Exact::Int(i128::from(v)),
            Value::U32(v) => Exact::Int(i128::from(v)),
            Value::U64(v) => Exact::Int(i128::from(v)),
            Value::F16(v) => Exact::Float(f64::from(v), 0.0),
            Value::F32(v) => Exact::Float(f64::from(v), 0.0),
            Value::F64(v) => Exact::Float(v, 0.0),
            Value::C64(v) => Exact::Float(f64::from(v.re), f64::from(v.im)),
            Value::C128(v) => Exact::Float(v.re, v.im),
        }
    }

    /// Converts the value to another kind with numpy's `astype` rules.
    #[must_use]
    pub fn cast_to(self, kind: Kind) -> Value {
        crate::dispatch!(kind, T => self.cast::<T>().to_value())
    }

    /// Whether `text` is a number of some kind at all (integer, real, complex,
    /// `nan`, `inf`, `true`/`false`). A command line can tell a malformed value from
    /// one that does not fit the type of a file with this.
    #[must_use]
    pub fn is_number(text: &str) -> bool {
        parse_number(text).is_some()
    }

    /// Parses text into a value of `kind`, with range checks.
    ///
    /// - bool: `true`, `false`, `True`, `False`, `1`, `0`;
    /// - integers: a decimal integer within the kind's range (`2.5` and `300` for
    ///   uint8 are errors);
    /// - floats: a decimal number, `nan`, `inf`, `-inf`; a finite number that would
    ///   round to infinity in the kind (`1e300` for float32, `70000` for float16) is
    ///   an error ([`DTypeError::FloatOverflow`]), like an integer that does not fit;
    /// - complex: also `2j`, `1+2j`, `-1.5-2e3j`, `(1+2j)`, with the same check on
    ///   each part.
    pub fn parse(kind: Kind, text: &str) -> Result<Value, DTypeError> {
        let Some(number) = parse_number(text) else {
            return Err(DTypeError::InvalidValue {
                text: text.to_owned(),
                kind,
                expected: "not a number",
            });
        };
        let invalid = |expected| DTypeError::InvalidValue {
            text: text.to_owned(),
            kind,
            expected,
        };
        if number == Number::Overflow {
            return Err(match kind.class() {
                Class::Signed | Class::Unsigned => {
                    let (min, max) = int_range(kind);
                    DTypeError::OutOfRange {
                        text: text.to_owned(),
                        kind,
                        min: min.to_string(),
                        max: max.to_string(),
                    }
                }
                Class::Float | Class::Complex => overflow(kind, text),
                Class::Bool => invalid("expected true, false, 1 or 0"),
            });
        }
        let value = match kind.class() {
            Class::Bool => match number {
                Number::Bool(b) => Ok(Value::Bool(b)),
                Number::Int(0) => Ok(Value::Bool(false)),
                Number::Int(1) => Ok(Value::Bool(true)),
                _ => Err(invalid("expected true, false, 1 or 0")),
            },
            Class::Signed | Class::Unsigned => match number {
                Number::Int(i) => int_in_range(kind, i, text),
                _ => Err(invalid("expected an integer")),
            },
            Class::Float => match number {
                Number::Int(i) => Ok(Value::F64(i as f64).cast_to(kind)),
                Number::Real(v) => Ok(float_from_text(kind, v, text)),
                _ => Err(invalid("expected a real number, nan, inf or -inf")),
            },
            Class::Complex => match number {
                Number::Int(i) => Ok(Value::F64(i as f64).cast_to(kind)),
                Number::Real(v) => Ok(Value::C128(Complex64::new(v, 0.0)).cast_to(kind)),
                Number::Complex(re, im) => Ok(Value::C128(Complex64::new(re, im)).cast_to(kind)),
                _ => Err(invalid("expected a number such as 1.5, 2j or 1+2j")),
            },
        }?;
        // The number was finite (the words inf and nan are taken as given), so an
        // infinite part means that it rounded to infinity in the kind.
        let (re, im) = match number {
            Number::Int(i) => (i as f64, 0.0),
            Number::Real(v) => (v, 0.0),
            Number::Complex(re, im) => (re, im),
            Number::Bool(_) | Number::Overflow => (0.0, 0.0),
        };
        let (got_re, got_im) = match value {
            Value::F16(v) => (v.to_f64(), 0.0),
            Value::F32(v) => (f64::from(v), 0.0),
            Value::F64(v) => (v, 0.0),
            Value::C64(v) => (f64::from(v.re), f64::from(v.im)),
            Value::C128(v) => (v.re, v.im),
            _ => return Ok(value),
        };
        if (re.is_finite() && got_re.is_infinite()) || (im.is_finite() && got_im.is_infinite()) {
            return Err(overflow(kind, text));
        }
        Ok(value)
    }
}

/// The error for a finite `text` that would round to infinity in the float or complex `kind`.
fn overflow(kind: Kind, text: &str) -> DTypeError {
    DTypeError::FloatOverflow {
        text: text.to_owned(),
        kind,
        max: match kind {
            Kind::F16 => "65504.0",
            Kind::F32 | Kind::C64 => "3.4028235e+38",
            _ => "1.7976931348623157e+308",
        },
    }
}

/// The smallest and largest values of an integer `kind` (uint64 for non-integer kinds).
fn int_range(kind: Kind) -> (i128, i128) {
    match kind {
        Kind::I8 => (i8::MIN.into(), i8::MAX.into()),
        Kind::I16 => (i16::MIN.into(), i16::MAX.into()),
        Kind::I32 => (i32::MIN.into(), i32::MAX.into()),
        Kind::I64 => (i64::MIN.into(), i64::MAX.into()),
        Kind::U8 => (0, u8::MAX.into()),
        Kind::U16 => (0, u16::MAX.into()),
        Kind::U32 => (0, u32::MAX.into()),
        _ => (0, u64::MAX.into()),
    }
}

/// Parses a float directly in the target precision, so that decimal text is rounded once.
fn float_from_text(kind: Kind, v: f64, text: &str) -> Value {
    match kind {
        Kind::F32 => Value::F32(text.trim().parse::<f32>().unwrap_or(v as f32)),
        _ => Value::F64(v).cast_to(kind),
    }
}

fn int_in_range(kind: Kind, i: i128, text: &str) -> Result<Value, DTypeError> {
    let (min, max) = int_range(kind);
    if i < min || i > max {
        return Err(DTypeError::OutOfRange {
            text: text.to_owned(),
            kind,
            min: min.to_string(),
            max: max.to_string(),
        });
    }
    // In range: the wrapping conversion through u64/i64 is exact.
    Ok(if i < 0 {
        Value::I64(i as i64)
    } else {
        Value::U64(i as u64)
    }
    .cast_to(kind))
}

/// A value in a domain where every kind's values are exact (see `Value::exact`).
#[derive(Debug, Clone, Copy)]
enum Exact {
    Int(i128),
    Float(f64, f64),
}

impl Exact {
    /// The same number (NaNs equal to NaNs, part by part; `-0.0` equal to `0`).
    fn same(self, other: Exact) -> bool {
        let part = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
        match (self, other) {
            (Exact::Int(a), Exact::Int(b)) => a == b,
            (Exact::Float(re, im), Exact::Float(re2, im2)) => part(re, re2) && part(im, im2),
            (Exact::Int(i), Exact::Float(re, im)) | (Exact::Float(re, im), Exact::Int(i)) => {
                // Integers of any kind are below 2^64 in magnitude, where `as` is exact
                // for integral floats.
                im == 0.0 && re.fract() == 0.0 && re.abs() < 1.9e19 && re as i128 == i
            }
        }
    }
}

// `TryFrom<Value>` for every native type and `bool` (documented on `Value`).
macro_rules! try_from_value {
    ($($t:ty),*) => {$(
        impl TryFrom<Value> for $t {
            type Error = DTypeError;
            fn try_from(v: Value) -> Result<$t, DTypeError> {
                let x = v.cast::<$t>();
                if x.to_value().exact().same(v.exact()) {
                    Ok(x)
                } else {
                    Err(DTypeError::Inexact {
                        value: v.to_string(),
                        kind: <$t as crate::Element>::KIND,
                    })
                }
            }
        }
    )*};
}

try_from_value!(
    i8, i16, i32, i64, u8, u16, u32, u64, f16, f32, f64, Bool, Complex32, Complex64
);

impl TryFrom<Value> for bool {
    type Error = DTypeError;
    fn try_from(v: Value) -> Result<bool, DTypeError> {
        Bool::try_from(v).map(bool::from)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::Bool(v) => f.write_str(if v { "True" } else { "False" }),
            Value::I8(v) => write!(f, "{v}"),
            Value::I16(v) => write!(f, "{v}"),
            Value::I32(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::U8(v) => write!(f, "{v}"),
            Value::U16(v) => write!(f, "{v}"),
            Value::U32(v) => write!(f, "{v}"),
            Value::U64(v) => write!(f, "{v}"),
            Value::F16(v) => f.write_str(&format_f16(v)),
            Value::F32(v) => f.write_str(&format_f32(v)),
            Value::F64(v) => f.write_str(&format_f64(v)),
            Value::C64(v) => f.write_str(&format_complex(v.re.into(), v.im.into(), |x| {
                format_f32(x as f32)
            })),
            Value::C128(v) => f.write_str(&format_complex(v.re, v.im, format_f64)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_range_checked() {
        assert_eq!(Value::parse(Kind::U8, "255"), Ok(Value::U8(255)));
        assert_eq!(Value::parse(Kind::I8, "-128"), Ok(Value::I8(-128)));
        assert_eq!(
            Value::parse(Kind::U64, "18446744073709551615"),
            Ok(Value::U64(u64::MAX))
        );
        assert_eq!(
            Value::parse(Kind::I64, "-9223372036854775808"),
            Ok(Value::I64(i64::MIN))
        );
        for (kind, text) in [
            (Kind::U8, "300"),
            (Kind::U8, "-1"),
            (Kind::I8, "128"),
            (Kind::U64, "18446744073709551616"),
        ] {
            assert!(
                matches!(Value::parse(kind, text), Err(DTypeError::OutOfRange { .. })),
                "{kind} {text}"
            );
        }
        for (kind, text) in [
            (Kind::I32, "2.5"),
            (Kind::U8, "1e2"),
            (Kind::I16, "nan"),
            (Kind::I64, "1+2j"),
        ] {
            assert!(
                matches!(
                    Value::parse(kind, text),
                    Err(DTypeError::InvalidValue { .. })
                ),
                "{kind} {text}"
            );
        }
    }

    #[test]
    fn non_numbers_are_invalid_for_every_kind() {
        for kind in Kind::ALL {
            for text in ["", "x", "1.2.3", "truee"] {
                let err = Value::parse(kind, text).unwrap_err();
                assert!(
                    matches!(err, DTypeError::InvalidValue { .. }),
                    "{kind} {text}"
                );
                assert!(!Value::is_number(text));
            }
        }
    }

    #[test]
    fn floats_and_complex_parse() {
        assert_eq!(
            Value::parse(Kind::F64, "-inf"),
            Ok(Value::F64(f64::NEG_INFINITY))
        );
        assert_eq!(Value::parse(Kind::F32, "0.1"), Ok(Value::F32(0.1)));
        assert_eq!(
            Value::parse(Kind::F16, "1.5"),
            Ok(Value::F16(f16::from_f32(1.5)))
        );
        assert_eq!(
            Value::parse(Kind::F64, "inf"),
            Ok(Value::F64(f64::INFINITY))
        );
        assert_eq!(Value::parse(Kind::F16, "65504"), Ok(Value::F16(f16::MAX)));
        // Rounds down to the largest float16, as numpy's float16(65519) does.
        assert_eq!(Value::parse(Kind::F16, "65519"), Ok(Value::F16(f16::MAX)));
        assert_eq!(
            Value::parse(Kind::C64, "-inf+nanj").map(|v| v.to_string()),
            Ok("(-inf+nanj)".to_owned())
        );
        assert!(matches!(Value::parse(Kind::F64, "nan"), Ok(Value::F64(v)) if v.is_nan()));
        assert_eq!(
            Value::parse(Kind::C128, "1+2j"),
            Ok(Value::C128(Complex64::new(1.0, 2.0)))
        );
        assert_eq!(
            Value::parse(Kind::C64, "-3"),
            Ok(Value::C64(Complex32::new(-3.0, 0.0)))
        );
        assert!(Value::parse(Kind::F64, "1+2j").is_err());
        assert!(Value::parse(Kind::F64, "true").is_err());
        assert_eq!(Value::parse(Kind::Bool, "true"), Ok(Value::Bool(true)));
        assert_eq!(Value::parse(Kind::Bool, "0"), Ok(Value::Bool(false)));
        assert!(Value::parse(Kind::Bool, "2").is_err());
    }

    #[test]
    fn finite_values_that_round_to_infinity_are_out_of_range() {
        for (kind, text) in [
            (Kind::F16, "70000"),
            (Kind::F16, "65520"),
            (Kind::F16, "-1e5"),
            (Kind::F32, "1e300"),
            (Kind::F32, "-3.5e38"),
            (Kind::F64, "1e400"),
            (Kind::F64, &"9".repeat(400)),
            (Kind::C64, "1e300"),
            (Kind::C64, "1+1e39j"),
            (Kind::C64, "1e39-2j"),
            (Kind::C128, "1+1e400j"),
        ] {
            let err = Value::parse(kind, text).unwrap_err();
            assert!(
                matches!(err, DTypeError::FloatOverflow { .. }),
                "{kind} {text}: {err}"
            );
            assert!(err.to_string().contains("infinity"), "{err}");
        }
        // Integers beyond every range, and real text for bool, stay what they were.
        assert!(matches!(
            Value::parse(Kind::U64, "1e400"),
            Err(DTypeError::OutOfRange { .. })
        ));
        assert!(matches!(
            Value::parse(Kind::Bool, "1e400"),
            Err(DTypeError::InvalidValue { .. })
        ));
    }

    #[test]
    fn values_convert_exactly_or_not_at_all() {
        let nan = f64::NAN;
        assert_eq!(i64::try_from(Value::U64(5)), Ok(5));
        assert_eq!(
            u64::try_from(Value::I8(-1)).unwrap_err().to_string(),
            "value -1 cannot be converted to uint64 exactly"
        );
        assert!(i64::try_from(Value::U64(u64::MAX)).is_err(), "wraps to -1");
        assert_eq!(u64::try_from(Value::U64(u64::MAX)), Ok(u64::MAX));
        assert_eq!(u8::try_from(Value::F64(2.0)), Ok(2));
        assert_eq!(u8::try_from(Value::F64(-0.0)), Ok(0));
        assert!(u8::try_from(Value::F64(2.5)).is_err());
        assert!(u8::try_from(Value::F64(256.0)).is_err());
        assert!(i32::try_from(Value::F64(nan)).is_err());
        assert!(i64::try_from(Value::F64(9.3e18)).is_err(), "beyond i64");
        assert!(u64::try_from(Value::F64(1.9e19)).is_err(), "beyond u64");
        assert_eq!(
            u64::try_from(Value::F64(1.8e19)),
            Ok(18_000_000_000_000_000_000)
        );
        assert!(f64::try_from(Value::F64(nan)).unwrap().is_nan());
        assert!(f16::try_from(Value::F32(f32::NAN)).unwrap().is_nan());
        assert_eq!(f32::try_from(Value::F64(0.5)), Ok(0.5));
        assert_eq!(
            f32::try_from(Value::F64(0.1)).unwrap_err(),
            DTypeError::Inexact {
                value: "0.1".into(),
                kind: Kind::F32
            }
        );
        assert!(f16::try_from(Value::F64(70000.0)).is_err(), "rounds to inf");
        assert_eq!(
            f64::try_from(Value::I64(1 << 53)),
            Ok(9_007_199_254_740_992.0)
        );
        assert!(f64::try_from(Value::I64((1 << 53) + 1)).is_err());
        assert_eq!(
            f64::try_from(Value::C128(Complex64::new(3.0, 0.0))),
            Ok(3.0)
        );
        assert_eq!(
            f64::try_from(Value::C128(Complex64::new(3.0, 1.0)))
                .unwrap_err()
                .to_string(),
            "value (3+1j) cannot be converted to float64 exactly"
        );
        assert_eq!(
            Complex32::try_from(Value::I16(-4)),
            Ok(Complex32::new(-4.0, 0.0))
        );
        assert_eq!(bool::try_from(Value::U8(1)), Ok(true));
        assert_eq!(bool::try_from(Value::F32(0.0)), Ok(false));
        assert!(bool::try_from(Value::I32(2)).is_err());
        assert_eq!(Bool::try_from(Value::Bool(true)), Ok(Bool::from(true)));

        assert_eq!(
            Value::U64(u64::MAX).as_f64(),
            Some(18_446_744_073_709_551_615.0)
        );
        assert_eq!(Value::F16(f16::from_f32(0.5)).as_f64(), Some(0.5));
        assert_eq!(Value::C128(Complex64::new(1.0, 0.0)).as_f64(), None);
        assert_eq!(Value::Bool(false).as_i64(), Some(0));
        assert_eq!(Value::I64(i64::MIN).as_i64(), Some(i64::MIN));
        assert_eq!(Value::U64(1 << 63).as_i64(), None);
        assert_eq!(Value::F32(1.0).as_i64(), None);
    }

    #[test]
    fn values_print_as_numpy_str() {
        assert_eq!(Value::Bool(true).to_string(), "True");
        assert_eq!(Value::I16(-5).to_string(), "-5");
        assert_eq!(Value::F64(1e16).to_string(), "1e+16");
        assert_eq!(Value::F32(0.1).to_string(), "0.1");
        assert_eq!(
            Value::C64(Complex32::new(1.5, -2.0)).to_string(),
            "(1.5-2j)"
        );
    }
}
