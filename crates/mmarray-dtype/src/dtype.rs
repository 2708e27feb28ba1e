//! [`Kind`], [`ByteOrder`] and [`DType`]: what an element is and how its bytes are laid out.

use std::fmt;
use std::str::FromStr;

use crate::DTypeError;

/// The numeric kind of an element, independent of byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// numpy `bool`: one byte, 0 is false and anything else is true.
    Bool,
    /// `int8`
    I8,
    /// `int16`
    I16,
    /// `int32`
    I32,
    /// `int64`
    I64,
    /// `uint8`
    U8,
    /// `uint16`
    U16,
    /// `uint32`
    U32,
    /// `uint64`
    U64,
    /// `float16` (IEEE binary16, [`half::f16`])
    F16,
    /// `float32`
    F32,
    /// `float64`
    F64,
    /// `complex64`: two `float32`, real part first
    C64,
    /// `complex128`: two `float64`, real part first
    C128,
}

/// The broad class of a [`Kind`], which decides how values convert between kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// `bool`
    Bool,
    /// signed integers
    Signed,
    /// unsigned integers
    Unsigned,
    /// real floating point
    Float,
    /// complex floating point
    Complex,
}

impl Kind {
    /// Every kind, in numpy's type order.
    pub const ALL: [Kind; 14] = [
        Kind::Bool,
        Kind::I8,
        Kind::I16,
        Kind::I32,
        Kind::I64,
        Kind::U8,
        Kind::U16,
        Kind::U32,
        Kind::U64,
        Kind::F16,
        Kind::F32,
        Kind::F64,
        Kind::C64,
        Kind::C128,
    ];

    /// Size of one element in bytes (numpy's `itemsize`).
    #[must_use]
    pub const fn itemsize(self) -> usize {
        match self {
            Kind::Bool | Kind::I8 | Kind::U8 => 1,
            Kind::I16 | Kind::U16 | Kind::F16 => 2,
            Kind::I32 | Kind::U32 | Kind::F32 => 4,
            Kind::I64 | Kind::U64 | Kind::F64 | Kind::C64 => 8,
            Kind::C128 => 16,
        }
    }

    /// The size of the units whose bytes a byte swap reverses: the item size,
    /// except for complex kinds, whose real and imaginary parts swap separately.
    #[must_use]
    pub const fn swap_unit(self) -> usize {
        match self {
            Kind::C64 => 4,
            Kind::C128 => 8,
            k => k.itemsize(),
        }
    }

    /// The class of the kind.
    #[must_use]
    pub const fn class(self) -> Class {
        match self {
            Kind::Bool => Class::Bool,
            Kind::I8 | Kind::I16 | Kind::I32 | Kind::I64 => Class::Signed,
            Kind::U8 | Kind::U16 | Kind::U32 | Kind::U64 => Class::Unsigned,
            Kind::F16 | Kind::F32 | Kind::F64 => Class::Float,
            Kind::C64 | Kind::C128 => Class::Complex,
        }
    }

    /// numpy's name of the kind: `bool`, `int8`, ..., `float64`, `complex128`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::I8 => "int8",
            Kind::I16 => "int16",
            Kind::I32 => "int32",
            Kind::I64 => "int64",
            Kind::U8 => "uint8",
            Kind::U16 => "uint16",
            Kind::U32 => "uint32",
            Kind::U64 => "uint64",
            Kind::F16 => "float16",
            Kind::F32 => "float32",
            Kind::F64 => "float64",
            Kind::C64 => "complex64",
            Kind::C128 => "complex128",
        }
    }

    /// numpy's kind character: `b`, `i`, `u`, `f` or `c`.
    #[must_use]
    pub const fn kind_char(self) -> char {
        match self.class() {
            Class::Bool => 'b',
            Class::Signed => 'i',
            Class::Unsigned => 'u',
            Class::Float => 'f',
            Class::Complex => 'c',
        }
    }

    /// Whether the byte order matters for this kind (false for one-byte kinds).
    #[must_use]
    pub const fn has_byte_order(self) -> bool {
        self.itemsize() > 1
    }

    fn from_code(kind: char, size: usize) -> Option<Kind> {
        Some(match (kind, size) {
            ('b', 1) => Kind::Bool,
            ('i', 1) => Kind::I8,
            ('i', 2) => Kind::I16,
            ('i', 4) => Kind::I32,
            ('i', 8) => Kind::I64,
            ('u', 1) => Kind::U8,
            ('u', 2) => Kind::U16,
            ('u', 4) => Kind::U32,
            ('u', 8) => Kind::U64,
            ('f', 2) => Kind::F16,
            ('f', 4) => Kind::F32,
            ('f', 8) => Kind::F64,
            ('c', 8) => Kind::C64,
            ('c', 16) => Kind::C128,
            _ => return None,
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Byte order of multi-byte elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Least significant byte first (`<`).
    Little,
    /// Most significant byte first (`>`).
    Big,
}

impl ByteOrder {
    /// The byte order of the machine this code runs on.
    #[cfg(target_endian = "little")]
    pub const NATIVE: ByteOrder = ByteOrder::Little;
    /// The byte order of the machine this code runs on.
    #[cfg(target_endian = "big")]
    pub const NATIVE: ByteOrder = ByteOrder::Big;

    /// Whether this is the machine's byte order.
    #[must_use]
    pub fn is_native(self) -> bool {
        self == Self::NATIVE
    }

    /// The character numpy uses for it: `<` or `>`.
    #[must_use]
    pub const fn char(self) -> char {
        match self {
            ByteOrder::Little => '<',
            ByteOrder::Big => '>',
        }
    }
}

/// An element type: a [`Kind`] and the [`ByteOrder`] its bytes are stored in.
///
/// For one-byte kinds the byte order does not apply; such dtypes always hold
/// [`ByteOrder::NATIVE`], so that `|u1`, `<u1` and `>u1` compare equal, as in numpy.
///
/// ```
/// use mmarray_dtype::{ByteOrder, DType, Kind};
///
/// let d: DType = "float64".parse()?;
/// assert_eq!(d, DType::native(Kind::F64));
/// assert_eq!(d.descr(), "<f8"); // on a little-endian machine
///
/// let be: DType = ">i4".parse()?;
/// assert_eq!((be.kind(), be.byte_order()), (Kind::I32, ByteOrder::Big));
/// assert_eq!("|b1".parse::<DType>()?.to_string(), "|b1");
/// assert!("|O".parse::<DType>().is_err()); // object arrays are not supported
/// # Ok::<(), mmarray_dtype::DTypeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DType {
    kind: Kind,
    order: ByteOrder,
}

impl DType {
    /// A dtype of `kind` in `order` (normalised to native for one-byte kinds).
    #[must_use]
    pub fn new(kind: Kind, order: ByteOrder) -> DType {
        let order = if kind.has_byte_order() {
            order
        } else {
            ByteOrder::NATIVE
        };
        DType { kind, order }
    }

    /// A dtype of `kind` in the machine's byte order.
    #[must_use]
    pub fn native(kind: Kind) -> DType {
        DType::new(kind, ByteOrder::NATIVE)
    }

    /// The kind.
    #[must_use]
    pub fn kind(self) -> Kind {
        self.kind
    }

    /// The byte order (native for one-byte kinds).
    #[must_use]
    pub fn byte_order(self) -> ByteOrder {
        self.order
    }

    /// Size of one element in bytes.
    #[must_use]
    pub fn itemsize(self) -> usize {
        self.kind.itemsize()
    }

    /// Whether values can be used in place without a byte swap on this machine.
    #[must_use]
    pub fn is_native(self) -> bool {
        self.order.is_native()
    }

    /// The same kind in another byte order.
    #[must_use]
    pub fn with_byte_order(self, order: ByteOrder) -> DType {
        DType::new(self.kind, order)
    }

    /// The descr string numpy writes for this dtype: `<f8`, `>i4`, `|u1`, `|b1`, `<c16`.
    #[must_use]
    pub fn descr(self) -> String {
        self.to_string()
    }

    /// Parses any spelling numpy's `np.dtype()` accepts for a supported kind.
    ///
    /// Accepted: descr strings with an optional byte-order prefix (`<`, `>`, `=`, `|`)
    /// followed by a kind character and size (`f8`, `i4`, `u1`, `b1`, `c16`, `f2`) or a
    /// one-letter code (`?bBhHiIlLqQpPnNefdFD`); and numpy's names (`float64`, `int8`,
    /// `bool`, `double`, `single`, `half`, `int`, `float`, `complex`, `intc`, ...).
    /// Without a prefix the native byte order is meant, as in numpy. The meaning is
    /// numpy's: `i8` is int64 and `f16` is longdouble (unsupported, an error).
    pub fn parse(text: &str) -> Result<DType, DTypeError> {
        if let Some(kind) = kind_from_name(text) {
            return Ok(DType::native(kind));
        }
        let (order, body) = match text.chars().next() {
            Some('<') => (Some(ByteOrder::Little), &text[1..]),
            Some('>') => (Some(ByteOrder::Big), &text[1..]),
            Some('=' | '|') => (None, &text[1..]),
            _ => (None, text),
        };
        let order = order.unwrap_or(ByteOrder::NATIVE);
        if let Some(kind) = kind_from_code(body) {
            return Ok(DType::new(kind, order));
        }
        Err(
            unsupported(text, body).unwrap_or_else(|| DTypeError::Unknown {
                text: text.to_owned(),
            }),
        )
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let order = if self.kind.has_byte_order() {
            self.order.char()
        } else {
            '|'
        };
        write!(
            f,
            "{order}{}{}",
            self.kind.kind_char(),
            self.kind.itemsize()
        )
    }
}

impl FromStr for DType {
    type Err = DTypeError;
    fn from_str(s: &str) -> Result<DType, DTypeError> {
        DType::parse(s)
    }
}

/// numpy's type names (numpy 2.x on a 64-bit Linux: `long` and `int` are 64-bit).
fn kind_from_name(name: &str) -> Option<Kind> {
    Some(match name {
        "bool" | "bool_" => Kind::Bool,
        "int8" | "byte" => Kind::I8,
        "int16" | "short" => Kind::I16,
        "int32" | "intc" => Kind::I32,
        "int64" | "long" | "longlong" | "int" | "intp" => Kind::I64,
        "uint8" | "ubyte" => Kind::U8,
        "uint16" | "ushort" => Kind::U16,
        "uint32" | "uintc" => Kind::U32,
        "uint64" | "ulong" | "ulonglong" | "uint" | "uintp" => Kind::U64,
        "float16" | "half" => Kind::F16,
        "float32" | "single" => Kind::F32,
        "float64" | "double" | "float" => Kind::F64,
        "complex64" | "csingle" => Kind::C64,
        "complex128" | "cdouble" | "complex" => Kind::C128,
        _ => return None,
    })
}

/// A code after the optional byte-order prefix: one letter, or kind letter and size.
fn kind_from_code(code: &str) -> Option<Kind> {
    let mut chars = code.chars();
    let first = chars.next()?;
    let rest = chars.as_str();
    if rest.is_empty() {
        return Some(match first {
            '?' => Kind::Bool,
            'b' => Kind::I8,
            'B' => Kind::U8,
            'h' => Kind::I16,
            'H' => Kind::U16,
            'i' => Kind::I32,
            'I' => Kind::U32,
            'l' | 'q' | 'p' | 'n' => Kind::I64,
            'L' | 'Q' | 'P' | 'N' => Kind::U64,
            'e' => Kind::F16,
            'f' => Kind::F32,
            'd' => Kind::F64,
            'F' => Kind::C64,
            'D' => Kind::C128,
            _ => return None,
        });
    }
    Kind::from_code(first, item_size(rest)?)
}

/// The item size after a kind letter, read as numpy reads it (with C's `strtol`): optional
/// leading white space, an optional `+`, then decimal digits, leading zeros allowed
/// (`np.dtype('i08')` and `np.dtype('i +4')` are int64 and int32).
fn item_size(text: &str) -> Option<usize> {
    let digits = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match digits.trim_start_matches('0') {
        "" => Some(0),
        significant => significant.parse().ok(),
    }
}

/// Recognises dtypes that numpy accepts but mmarray does not support, for a clear error.
fn unsupported(text: &str, body: &str) -> Option<DTypeError> {
    let sized = |letter: char| body.strip_prefix(letter).and_then(item_size);
    let what = match body {
        "g" | "longdouble" | "float128" | "float96" => "longdouble",
        "G" | "clongdouble" | "complex256" | "complex192" => "clongdouble",
        "O" | "object" => "object",
        "c" => "bytes string", // numpy's 'c' is 'S1'
        "T" => "StringDType",
        _ if matches!(sized('f'), Some(12 | 16)) => "longdouble",
        _ if matches!(sized('c'), Some(24 | 32)) => "clongdouble",
        _ if matches!(sized('O'), Some(4 | 8)) => "object",
        // numpy reads these as comma-separated or subarray dtypes ('f8,i4', '2i4', '(2,)i4').
        _ if text.starts_with(['[', '(', '{'])
            || body.starts_with(|c: char| c.is_ascii_digit())
            || text.contains(',') =>
        {
            "structured"
        }
        _ if sized_code(body, &["M8", "M", "datetime64"]) => "datetime64",
        _ if sized_code(body, &["m8", "m", "timedelta64"]) => "timedelta64",
        _ if sized_code(body, &["S", "a", "bytes"]) => "bytes string",
        _ if sized_code(body, &["U", "str"]) => "unicode string",
        _ if sized_code(body, &["V", "void"]) => "void",
        _ => return None,
    };
    Some(DTypeError::Unsupported {
        text: text.to_owned(),
        what,
    })
}

/// Whether `body` is one of `prefixes` followed by nothing, a size or a `[unit]`.
fn sized_code(body: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| {
        body.strip_prefix(p).is_some_and(|rest| {
            rest.is_empty()
                || item_size(rest).is_some()
                || (rest.starts_with('[') && rest.ends_with(']'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descr_strings_print_as_numpy_writes_them() {
        let le = ByteOrder::Little;
        let be = ByteOrder::Big;
        assert_eq!(DType::new(Kind::F64, le).descr(), "<f8");
        assert_eq!(DType::new(Kind::I32, be).descr(), ">i4");
        assert_eq!(DType::new(Kind::U8, be).descr(), "|u1");
        assert_eq!(DType::new(Kind::Bool, le).descr(), "|b1");
        assert_eq!(DType::new(Kind::F16, le).descr(), "<f2");
        assert_eq!(DType::new(Kind::C64, le).descr(), "<c8");
        assert_eq!(DType::new(Kind::C128, be).descr(), ">c16");
    }

    #[test]
    fn numpy_spellings_mean_what_numpy_means() {
        let n = |k| DType::native(k);
        let cases: &[(&str, DType)] = &[
            ("i8", n(Kind::I64)),
            ("b", n(Kind::I8)),
            ("?", n(Kind::Bool)),
            ("e", n(Kind::F16)),
            ("D", n(Kind::C128)),
            ("float", n(Kind::F64)),
            ("int", n(Kind::I64)),
            ("=i2", n(Kind::I16)),
            ("|f8", n(Kind::F64)),
            (">b1", n(Kind::Bool)),
            (">e", DType::new(Kind::F16, ByteOrder::Big)),
            ("<c16", DType::new(Kind::C128, ByteOrder::Little)),
            ("n", n(Kind::I64)),
            ("N", n(Kind::U64)),
            // numpy reads the size with strtol: leading zeros, white space and '+' pass.
            ("i08", n(Kind::I64)),
            (">i +4", DType::new(Kind::I32, ByteOrder::Big)),
        ];
        for (text, want) in cases {
            assert_eq!(DType::parse(text).as_ref(), Ok(want), "{text}");
        }
    }

    #[test]
    fn unsupported_dtypes_are_named() {
        for (text, what) in [
            ("|O", "object"),
            ("<f16", "longdouble"),
            ("g", "longdouble"),
            ("c32", "clongdouble"),
            ("|S5", "bytes string"),
            ("<U3", "unicode string"),
            ("|V4", "void"),
            ("<M8[ns]", "datetime64"),
            ("m8", "timedelta64"),
            ("[('a', '<i4')]", "structured"),
            ("f8,i4", "structured"),
        ] {
            match DType::parse(text) {
                Err(DTypeError::Unsupported { what: w, .. }) => assert_eq!(w, what, "{text}"),
                other => panic!("{text}: expected Unsupported({what}), got {other:?}"),
            }
        }
    }

    #[test]
    fn nonsense_is_unknown() {
        for text in [
            "", "f1", "i3", "i0", "i-4", ">float64", "FLOAT64", "bool8", "float_", "<>f8", "f8 ",
        ] {
            assert!(
                matches!(DType::parse(text), Err(DTypeError::Unknown { .. })),
                "{text}: {:?}",
                DType::parse(text)
            );
        }
    }
}
