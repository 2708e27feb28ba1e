//! [`Num`]: the element types kernels compute with, and how each file kind maps to one.

use mmarray_dtype::{Bool, Complex32, Complex64, Native, cast_slice, f16};

/// A type the kernels compute with: every native kind except float16, which is
/// widened to `f32` block by block (with F16C where the CPU has it). Sealed by
/// [`Native`]; an implementation detail of [`Elem`].
#[doc(hidden)]
pub trait Num: Native + Copy {
    /// Whether the type is complex (the kernels then also track imaginary parts).
    const COMPLEX: bool;
    /// Whether the type can be NaN.
    const FLOAT: bool;
    /// numpy's ordering: `self < other` (complex: by real part, then imaginary part).
    fn lt(self, other: Self) -> bool;
    /// Whether the value is (or, for complex, has a part that is) NaN.
    fn is_nan(self) -> bool;
    /// Real and imaginary parts as `f64`.
    fn parts(self) -> (f64, f64);
}

macro_rules! real_num {
    ($($t:ty, $float:expr);*) => {$(
        impl Num for $t {
            const COMPLEX: bool = false;
            const FLOAT: bool = $float;
            #[inline]
            fn lt(self, other: Self) -> bool { self < other }
            #[inline]
            #[allow(clippy::eq_op)]
            fn is_nan(self) -> bool { self != self }
            #[inline]
            fn parts(self) -> (f64, f64) { (self.to_f64(), 0.0) }
        }
    )*};
}

real_num!(i8, false; i16, false; i32, false; i64, false; u8, false; u16, false; u32, false; u64, false; f32, true; f64, true; Bool, false);

macro_rules! complex_num {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const COMPLEX: bool = true;
            const FLOAT: bool = true;
            #[inline]
            fn lt(self, other: Self) -> bool {
                self.re < other.re || (self.re == other.re && self.im < other.im)
            }
            #[inline]
            fn is_nan(self) -> bool { self.re.is_nan() || self.im.is_nan() }
            #[inline]
            fn parts(self) -> (f64, f64) { (f64::from(self.re), f64::from(self.im)) }
        }
    )*};
}

complex_num!(Complex32, Complex64);

/// A file's element type and the type the kernels compute with. Implemented for
/// every [`Native`] type (float16 computes as `f32`); bound generic code with it.
pub trait Elem: Native {
    /// The computing type.
    type Work: Num;
    /// The type of a sum, as numpy types it: `i64` for signed integers and bool,
    /// `u64` for unsigned integers, `f64` for floats, [`Complex64`] for complex.
    type Sum: Native;
    /// The type of a mean: `f64`, or [`Complex64`] for complex.
    type Mean: Native;
    /// Whether blocks must be converted (float16 only).
    const WIDEN: bool;
    /// Converts a block (same length).
    fn widen(src: &[Self], dst: &mut [Self::Work]);
}

macro_rules! same_elem {
    ($($t:ty => $sum:ty, $mean:ty);*) => {$(
        impl Elem for $t {
            type Work = $t;
            type Sum = $sum;
            type Mean = $mean;
            const WIDEN: bool = false;
            #[inline]
            fn widen(src: &[Self], dst: &mut [Self]) { dst.copy_from_slice(src); }
        }
    )*};
}

same_elem!(
    Bool => i64, f64; i8 => i64, f64; i16 => i64, f64; i32 => i64, f64; i64 => i64, f64;
    u8 => u64, f64; u16 => u64, f64; u32 => u64, f64; u64 => u64, f64;
    f32 => f64, f64; f64 => f64, f64;
    Complex32 => Complex64, Complex64; Complex64 => Complex64, Complex64
);

impl Elem for f16 {
    type Work = f32;
    type Sum = f64;
    type Mean = f64;
    const WIDEN: bool = true;
    #[inline]
    fn widen(src: &[f16], dst: &mut [f32]) {
        // Same lengths by contract of the engine.
        let _ = cast_slice(src, dst);
    }
}
