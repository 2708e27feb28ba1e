//! The [`Element`] and [`Native`] traits and the one-byte [`Bool`] type.

use std::fmt;
use std::hash::{Hash, Hasher};

use bytemuck::{Pod, Zeroable};
use half::f16;
use num_complex::Complex;

use crate::{Class, DTypeError, Kind, Value};

/// numpy's `complex64`: two `f32`, real part first.
pub type Complex32 = Complex<f32>;
/// numpy's `complex128`: two `f64`, real part first.
pub type Complex64 = Complex<f64>;

/// numpy's `bool`: one byte, `0` is false and any other value is true.
///
/// Mapped bytes are never read as Rust `bool`, for which any value other than 0
/// or 1 would be undefined behaviour. Equality and hashing follow the truth value,
/// as numpy compares booleans: `Bool(2) == Bool(1)`.
///
/// ```
/// use mmarray_dtype::Bool;
/// assert!(Bool(2).get());
/// assert_eq!(Bool(2), Bool::TRUE);
/// assert_eq!(Bool::from(false), Bool(0));
/// ```
#[derive(Clone, Copy, Default, Pod, Zeroable)]
#[repr(transparent)]
pub struct Bool(pub u8);

impl Bool {
    /// `True`, stored as 1.
    pub const TRUE: Bool = Bool(1);
    /// `False`, stored as 0.
    pub const FALSE: Bool = Bool(0);

    /// The truth value.
    #[must_use]
    pub const fn get(self) -> bool {
        self.0 != 0
    }
}

impl From<bool> for Bool {
    fn from(b: bool) -> Bool {
        Bool(u8::from(b))
    }
}

impl From<Bool> for bool {
    fn from(b: Bool) -> bool {
        b.get()
    }
}

impl PartialEq for Bool {
    fn eq(&self, other: &Bool) -> bool {
        self.get() == other.get()
    }
}

impl Eq for Bool {}

impl Hash for Bool {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.get().hash(state);
    }
}

impl PartialOrd for Bool {
    fn partial_cmp(&self, other: &Bool) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Bool {
    fn cmp(&self, other: &Bool) -> std::cmp::Ordering {
        self.get().cmp(&other.get())
    }
}

impl fmt::Debug for Bool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bool({})", self.get())
    }
}

impl fmt::Display for Bool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.get() { "True" } else { "False" })
    }
}

/// A Rust type whose bytes hold one element of a numpy [`Kind`].
///
/// Implemented for the 14 native types (see [`Native`]); a user's own
/// [`Pod`] type can implement it too, for example a unit newtype over `f64`, and
/// is then usable wherever mmarray maps or decodes elements. mmarray checks that
/// `size_of::<Self>() == Self::KIND.itemsize()` before it reinterprets bytes as
/// `Self` and reports an error otherwise, so a wrong implementation cannot cause
/// undefined behaviour, only an error.
///
/// ```
/// use mmarray_dtype::{Element, Kind};
///
/// #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
/// #[repr(transparent)]
/// struct Metres(f64);
///
/// impl Element for Metres {
///     const KIND: Kind = Kind::F64;
/// }
///
/// let mut v = [Metres(1.0)];
/// mmarray_dtype::byteswap(&mut v);
/// assert_eq!(v[0].0.to_bits(), 1.0f64.to_bits().swap_bytes());
/// ```
pub trait Element: Pod + Send + Sync + fmt::Debug + 'static {
    /// The kind whose values this type's bytes hold.
    const KIND: Kind;
}

/// The 14 types mmarray computes with: [`Bool`], `i8`..`i64`, `u8`..`u64`,
/// [`struct@f16`], `f32`, `f64`, [`Complex32`] and [`Complex64`].
///
/// Conversions follow numpy's `astype` with unsafe casting (see [`cast_slice`](crate::cast_slice)
/// for where Rust and numpy differ). This trait is sealed; [`Element`] is the
/// open one.
pub trait Native: Element + PartialEq + Default + fmt::Debug + private::Sealed {
    /// Converts from a bool.
    fn from_bool(v: bool) -> Self;
    /// Converts from a signed integer (wrapping into narrower integers, rounding into floats).
    fn from_i64(v: i64) -> Self;
    /// Converts from an unsigned integer (wrapping into narrower integers, rounding into floats).
    fn from_u64(v: u64) -> Self;
    /// Converts from a float (into integers as numpy on x86-64 does; see the crate docs).
    fn from_f64(v: f64) -> Self;
    /// Converts from a complex value (the real part, for real kinds).
    fn from_c128(v: Complex64) -> Self;
    /// The truth value (`!= 0`; NaN is true).
    fn to_bool(self) -> bool;
    /// As a signed integer (integers wrap, floats saturate, NaN is 0).
    fn to_i64(self) -> i64;
    /// As an unsigned integer (integers wrap, floats saturate, NaN is 0).
    fn to_u64(self) -> u64;
    /// As a float (complex: the real part).
    fn to_f64(self) -> f64;
    /// As a complex value.
    fn to_c128(self) -> Complex64;
    /// The value as a dynamically typed [`Value`].
    fn to_value(self) -> Value;

    /// Converts to another native type with numpy's `astype` (unsafe casting) rules.
    ///
    /// ```
    /// use mmarray_dtype::Native;
    /// assert_eq!(300i32.cast::<u8>(), 44); // wraps, as numpy does
    /// assert_eq!(2.7f64.cast::<i32>(), 2); // truncates toward zero
    /// assert_eq!(f32::NAN.cast::<mmarray_dtype::Bool>().get(), true);
    /// ```
    #[inline]
    #[must_use]
    fn cast<D: Native>(self) -> D {
        match Self::KIND.class() {
            Class::Bool => D::from_bool(self.to_bool()),
            Class::Signed => D::from_i64(self.to_i64()),
            Class::Unsigned => D::from_u64(self.to_u64()),
            Class::Float => D::from_f64(self.to_f64()),
            Class::Complex => D::from_c128(self.to_c128()),
        }
    }

    /// Parses a value of this type from text (see [`Value::parse`]).
    fn parse_text(text: &str) -> Result<Self, DTypeError> {
        Ok(Value::parse(Self::KIND, text)?.cast::<Self>())
    }
}

mod private {
    pub trait Sealed {}
}

/// x86-64's `cvttsd2si` with a 32-bit result, which C's float -> int casts compile to:
/// truncation toward zero, and `i32::MIN` (the "integer indefinite") for NaN and for
/// values out of range.
#[inline]
#[must_use]
pub(crate) fn cvtt_i32(v: f64) -> i32 {
    if v > -2_147_483_649.0 && v < 2_147_483_648.0 {
        v as i32
    } else {
        i32::MIN
    }
}

/// `cvttsd2si` with a 64-bit result: truncation, `i64::MIN` for NaN and out of range.
#[inline]
#[must_use]
pub(crate) fn cvtt_i64(v: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&v) {
        v as i64
    } else {
        i64::MIN
    }
}

/// float -> uint64 as C compiles it on x86-64: below 2^63 (or NaN) through
/// `cvttsd2si`, from 2^63 on through `cvttsd2si(v - 2^63)` with the top bit flipped.
#[inline]
#[must_use]
pub(crate) fn cvtt_u64(v: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if v >= TWO_63 {
        (cvtt_i64(v - TWO_63) as u64) ^ (1 << 63)
    } else {
        cvtt_i64(v) as u64
    }
}

/// float -> uint32 the way numpy's contiguous cast loops compute four elements at
/// a time on x86-64 (vector `cvttpd2dq` on `v` or `v - 2^31`); the scalar loop
/// (used for the last `n % 4` elements and strided data) is [`FloatToInt::from_float`]
/// (through `cvttsd2si` to int64, keeping the low 32 bits). They differ only for
/// values that do not fit (below -2^31, from 2^32 on, NaN).
#[inline]
#[must_use]
pub(crate) fn cvtt_u32_vector(v: f64) -> u32 {
    const TWO_31: f64 = 2_147_483_648.0;
    if v >= TWO_31 {
        (cvtt_i32(v - TWO_31) as u32) ^ (1 << 31)
    } else {
        cvtt_i32(v) as u32
    }
}

/// Float -> integer casts as numpy computes them on x86-64: C casts, compiled to
/// `cvttsd2si` (32-bit for int8..int32, uint8 and uint16; 64-bit for int64 and
/// uint32; the 2^63 split for uint64), then the low bits. So NaN and values out of
/// range give the "integer indefinite" `0x80..0` or its low bits (e.g. `300.0 -> uint8`
/// is 44, `-1.0 -> uint8` is 255, `NaN -> int64` is `i64::MIN`, `NaN -> uint8` is 0).
pub(crate) trait FloatToInt {
    /// The cast of `v` (a float, or a complex value's real part).
    fn from_float(v: f64) -> Self;
}

macro_rules! float_to_int {
    ($($t:ty => $via:ident),*) => {$(
        impl FloatToInt for $t {
            #[inline]
            fn from_float(v: f64) -> Self {
                $via(v) as $t
            }
        }
    )*};
}

float_to_int!(
    i8 => cvtt_i32, i16 => cvtt_i32, i32 => cvtt_i32, u8 => cvtt_i32, u16 => cvtt_i32,
    i64 => cvtt_i64, u32 => cvtt_i64, u64 => cvtt_u64
);

macro_rules! int_native {
    ($($t:ty => $kind:ident),*) => {$(
        impl Element for $t {
            const KIND: Kind = Kind::$kind;
        }
        impl private::Sealed for $t {}
        impl Native for $t {
            #[inline] fn from_bool(v: bool) -> Self { Self::from(v) }
            #[inline] fn from_i64(v: i64) -> Self { v as $t }
            #[inline] fn from_u64(v: u64) -> Self { v as $t }
            #[inline] fn from_f64(v: f64) -> Self { <$t as FloatToInt>::from_float(v) }
            #[inline] fn from_c128(v: Complex64) -> Self { <$t as FloatToInt>::from_float(v.re) }
            #[inline] fn to_bool(self) -> bool { self != 0 }
            #[inline] fn to_i64(self) -> i64 { self as i64 }
            #[inline] fn to_u64(self) -> u64 { self as u64 }
            #[inline] fn to_f64(self) -> f64 { self as f64 }
            #[inline] fn to_c128(self) -> Complex64 { Complex64::new(self as f64, 0.0) }
            #[inline] fn to_value(self) -> Value { Value::$kind(self) }
        }
    )*};
}

int_native!(i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16, u32 => U32, u64 => U64);

macro_rules! float_native {
    ($($t:ty => $kind:ident),*) => {$(
        impl Element for $t {
            const KIND: Kind = Kind::$kind;
        }
        impl private::Sealed for $t {}
        impl Native for $t {
            #[inline] fn from_bool(v: bool) -> Self { Self::from(u8::from(v)) }
            #[inline] fn from_i64(v: i64) -> Self { v as $t }
            #[inline] fn from_u64(v: u64) -> Self { v as $t }
            #[inline] fn from_f64(v: f64) -> Self { v as $t }
            #[inline] fn from_c128(v: Complex64) -> Self { v.re as $t }
            #[inline] fn to_bool(self) -> bool { self != 0.0 }
            #[inline] fn to_i64(self) -> i64 { self as i64 }
            #[inline] fn to_u64(self) -> u64 { self as u64 }
            #[inline] fn to_f64(self) -> f64 { self as f64 }
            #[inline] fn to_c128(self) -> Complex64 { Complex64::new(self as f64, 0.0) }
            #[inline] fn to_value(self) -> Value { Value::$kind(self) }
        }
    )*};
}

float_native!(f32 => F32, f64 => F64);

/// float64 -> float16 rounded once to nearest-even, as numpy's `npy_double_to_half`.
///
/// `half::f16::from_f64` goes through float32 on CPUs with F16C and so rounds twice
/// (`65519.999` would become `inf` instead of `65504`, `1 + 2^-11 + 2^-40` would become
/// `1` instead of `1 + 2^-10`). Rounding to float32 *to odd* first makes the second
/// rounding exact, because float32 keeps 13 more significand bits than float16 and its
/// normal range covers float16's subnormals.
#[inline]
pub(crate) fn f16_from_f64(v: f64) -> f16 {
    f16::from_f32(f32_round_to_odd(v))
}

/// `v` rounded to float32 toward zero, with the lowest bit set when inexact ("round to odd").
#[inline]
pub(crate) fn f32_round_to_odd(v: f64) -> f32 {
    let r = v as f32;
    let back = f64::from(r);
    if back == v || v.is_nan() {
        return r;
    }
    // Inexact: step back toward zero if rounding went away from it, then mark as inexact.
    let bits = r.to_bits();
    let truncated = if back.abs() > v.abs() { bits - 1 } else { bits };
    f32::from_bits(truncated | 1)
}

impl Element for f16 {
    const KIND: Kind = Kind::F16;
}
impl private::Sealed for f16 {}
impl Native for f16 {
    #[inline]
    fn from_bool(v: bool) -> Self {
        if v { f16::ONE } else { f16::ZERO }
    }
    #[inline]
    fn from_i64(v: i64) -> Self {
        f16_from_f64(v as f64)
    }
    #[inline]
    fn from_u64(v: u64) -> Self {
        f16_from_f64(v as f64)
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        f16_from_f64(v)
    }
    #[inline]
    fn from_c128(v: Complex64) -> Self {
        f16_from_f64(v.re)
    }
    #[inline]
    fn to_bool(self) -> bool {
        // Any bit pattern except +0 and -0 is true (NaN included).
        self.to_bits() & 0x7fff != 0
    }
    #[inline]
    fn to_i64(self) -> i64 {
        f32::from(self) as i64
    }
    #[inline]
    fn to_u64(self) -> u64 {
        f32::from(self) as u64
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline]
    fn to_c128(self) -> Complex64 {
        Complex64::new(f64::from(self), 0.0)
    }
    #[inline]
    fn to_value(self) -> Value {
        Value::F16(self)
    }
}

impl Element for Bool {
    const KIND: Kind = Kind::Bool;
}
impl private::Sealed for Bool {}
impl Native for Bool {
    #[inline]
    fn from_bool(v: bool) -> Self {
        Bool::from(v)
    }
    #[inline]
    fn from_i64(v: i64) -> Self {
        Bool::from(v != 0)
    }
    #[inline]
    fn from_u64(v: u64) -> Self {
        Bool::from(v != 0)
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        Bool::from(v != 0.0)
    }
    #[inline]
    fn from_c128(v: Complex64) -> Self {
        Bool::from(v.re != 0.0 || v.im != 0.0)
    }
    #[inline]
    fn to_bool(self) -> bool {
        self.get()
    }
    #[inline]
    fn to_i64(self) -> i64 {
        i64::from(self.get())
    }
    #[inline]
    fn to_u64(self) -> u64 {
        u64::from(self.get())
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(u8::from(self.get()))
    }
    #[inline]
    fn to_c128(self) -> Complex64 {
        Complex64::new(self.to_f64(), 0.0)
    }
    #[inline]
    fn to_value(self) -> Value {
        Value::Bool(self.get())
    }
}

macro_rules! complex_native {
    ($($t:ty => $kind:ident, $f:ty),*) => {$(
        impl Element for $t {
            const KIND: Kind = Kind::$kind;
        }
        impl private::Sealed for $t {}
        impl Native for $t {
            #[inline] fn from_bool(v: bool) -> Self { Self::new(<$f>::from(u8::from(v)), 0.0) }
            #[inline] fn from_i64(v: i64) -> Self { Self::new(v as $f, 0.0) }
            #[inline] fn from_u64(v: u64) -> Self { Self::new(v as $f, 0.0) }
            #[inline] fn from_f64(v: f64) -> Self { Self::new(v as $f, 0.0) }
            #[inline] fn from_c128(v: Complex64) -> Self { Self::new(v.re as $f, v.im as $f) }
            #[inline] fn to_bool(self) -> bool { self.re != 0.0 || self.im != 0.0 }
            #[inline] fn to_i64(self) -> i64 { self.re as i64 }
            #[inline] fn to_u64(self) -> u64 { self.re as u64 }
            #[inline] fn to_f64(self) -> f64 { self.re as f64 }
            #[inline] fn to_c128(self) -> Complex64 { Complex64::new(self.re as f64, self.im as f64) }
            #[inline] fn to_value(self) -> Value { Value::$kind(self) }
        }
    )*};
}

complex_native!(Complex32 => C64, f32, Complex64 => C128, f64);
