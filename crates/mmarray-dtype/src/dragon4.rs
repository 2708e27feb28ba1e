//! numpy's Dragon4 (Steele & White, with Ryan Juckett's changes and numpy's
//! cutoffs and rounding rules) in its "unique" mode: the decimal digits of a
//! float of a given kind, the one digit generator behind every float mmarray
//! prints (scalars in [`text`](crate::text), arrays in `mmarray_core::print`).
//!
//! ```
//! use mmarray_dtype::dragon4::{Cutoff, float_digits};
//! use mmarray_dtype::Kind;
//! assert_eq!(float_digits(0.1, Kind::F64, Cutoff::Total, None, None), (vec![1], -1));
//! // 0.1 as a float32 is 0.100000001490116..., whose shortest digits are still "1".
//! assert_eq!(float_digits(f64::from(0.1f32), Kind::F32, Cutoff::Total, None, None), (vec![1], -1));
//! // At most 3 digits in all: 2/3 -> 0.667.
//! assert_eq!(float_digits(2.0 / 3.0, Kind::F64, Cutoff::Total, Some(3), None), (vec![6, 6, 7], -1));
//! ```

use half::f16;

use crate::{Kind, Native};

/// How a digit count limits [`float_digits`]: digits after the decimal point
/// (positional notation) or digits in all (scientific notation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cutoff {
    /// Digits after the decimal point.
    Fraction,
    /// Digits in all.
    Total,
}

/// The decimal digits of the finite `v >= 0` of type `kind` as numpy's Dragon4
/// gives them in its "unique" mode: the fewest digits that identify the value
/// among the values of its type, but at most `max` (and at least `min`) digits
/// counted as `cutoff` says. Returns the digits and the decimal exponent of the
/// first one (`v ~ d.ddd * 10^exp`).
#[must_use]
pub fn float_digits(
    v: f64,
    kind: Kind,
    cutoff: Cutoff,
    max: Option<usize>,
    min: Option<usize>,
) -> (Vec<u8>, i32) {
    if v == 0.0 {
        return (vec![0], 0);
    }
    let (mantissa, exponent, unequal) = match kind {
        Kind::F16 => decompose(u64::from(<f16 as Native>::from_f64(v).to_bits()), 10, 5),
        Kind::F32 => decompose(u64::from((v as f32).to_bits()), 23, 8),
        _ => decompose(v.to_bits(), 52, 11),
    };
    let limits = unique::Limits { cutoff, max, min };
    unique::digits(
        mantissa,
        exponent,
        unequal,
        v.log10().floor() as i32,
        limits,
    )
}

/// `(m, e, unequal)` with `value = m * 2^e` for the IEEE bits of a positive finite
/// float with `frac` fraction bits and `exp` exponent bits; `unequal` is true when
/// the gap to the next smaller float is half the gap to the next larger one.
fn decompose(bits: u64, frac: u32, exp: u32) -> (u64, i32, bool) {
    let bias = (1i32 << (exp - 1)) - 1;
    let f = bits & ((1u64 << frac) - 1);
    let e = ((bits >> frac) & ((1u64 << exp) - 1)) as i32;
    if e == 0 {
        (f, 1 - bias - frac as i32, false)
    } else {
        (f | (1u64 << frac), e - bias - frac as i32, f == 0 && e > 1)
    }
}

/// numpy's Dragon4 in its "unique" mode (Steele & White, with Ryan Juckett's
/// changes and numpy's cutoffs and rounding rules), on a small big-integer type.
mod unique {
    use std::cmp::Ordering;

    /// An unsigned big integer, little-endian 32-bit limbs.
    #[derive(Clone, Debug)]
    struct Big(Vec<u32>);

    impl Big {
        fn from_u64(v: u64) -> Big {
            let mut b = Big(vec![v as u32, (v >> 32) as u32]);
            b.trim();
            b
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        fn mul_small(&mut self, k: u32) {
            let mut carry = 0u64;
            for limb in &mut self.0 {
                let t = u64::from(*limb) * u64::from(k) + carry;
                *limb = t as u32;
                carry = t >> 32;
            }
            if carry > 0 {
                self.0.push(carry as u32);
            }
        }

        fn mul_pow10(&mut self, mut n: u32) {
            while n >= 9 {
                self.mul_small(1_000_000_000);
                n -= 9;
            }
            self.mul_small(10u32.pow(n));
        }

        fn shl(&mut self, bits: u32) {
            let (words, bits) = ((bits / 32) as usize, bits % 32);
            if bits > 0 {
                let mut carry = 0u32;
                for limb in &mut self.0 {
                    let next = *limb >> (32 - bits);
                    *limb = (*limb << bits) | carry;
                    carry = next;
                }
                if carry > 0 {
                    self.0.push(carry);
                }
            }
            if !self.0.is_empty() {
                self.0.splice(0..0, std::iter::repeat_n(0, words));
            }
        }

        fn add(&self, other: &Big) -> Big {
            let n = self.0.len().max(other.0.len());
            let mut out = Vec::with_capacity(n + 1);
            let mut carry = 0u64;
            for i in 0..n {
                let t = u64::from(self.0.get(i).copied().unwrap_or(0))
                    + u64::from(other.0.get(i).copied().unwrap_or(0))
                    + carry;
                out.push(t as u32);
                carry = t >> 32;
            }
            if carry > 0 {
                out.push(carry as u32);
            }
            Big(out)
        }

        /// `self -= other`; requires `self >= other`.
        fn sub_assign(&mut self, other: &Big) {
            let mut borrow = 0i64;
            for i in 0..self.0.len() {
                let t =
                    i64::from(self.0[i]) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
                self.0[i] = t.rem_euclid(1 << 32) as u32;
                borrow = i64::from(t < 0);
            }
            self.trim();
        }

        fn cmp(&self, other: &Big) -> Ordering {
            let (a, b) = (self.0.len(), other.0.len());
            if a != b {
                return a.cmp(&b);
            }
            for i in (0..a).rev() {
                match self.0[i].cmp(&other.0[i]) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            Ordering::Equal
        }
    }

    /// Digit limits: at most `max` and at least `min` digits, counted as `cutoff`
    /// says (`None`: no limit).
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Limits {
        pub(super) cutoff: super::Cutoff,
        pub(super) max: Option<usize>,
        pub(super) min: Option<usize>,
    }

    /// A positive float as `value / scale`, with the rounding interval around it
    /// `((value - low) / scale, (value + high) / scale)` and `value / scale` in
    /// `[1, 10)` times `10^first`.
    struct Scaled {
        value: Big,
        scale: Big,
        low: Big,
        high: Big,
        first: i32,
    }

    impl Scaled {
        /// `mantissa * 2^exponent`; `estimate` is a guess of `floor(log10(value))`.
        fn new(mantissa: u64, exponent: i32, unequal: bool, estimate: i32) -> Scaled {
            let mut value = Big::from_u64(mantissa);
            let mut scale = Big::from_u64(1);
            let mut low = Big::from_u64(1);
            value.shl(if unequal { 2 } else { 1 });
            scale.shl(if unequal { 2 } else { 1 });
            if exponent >= 0 {
                value.shl(exponent as u32);
                low.shl(exponent as u32);
            } else {
                scale.shl(exponent.unsigned_abs());
            }
            let mut high = low.clone();
            if unequal {
                high.shl(1);
            }
            let mut first = estimate;
            if first >= 0 {
                scale.mul_pow10(first as u32);
            } else {
                for b in [&mut value, &mut low, &mut high] {
                    b.mul_pow10(first.unsigned_abs());
                }
            }
            let mut ten_s = scale.clone();
            ten_s.mul_small(10);
            while value.cmp(&ten_s) != Ordering::Less {
                scale.mul_small(10);
                ten_s.mul_small(10);
                first += 1;
            }
            while value.cmp(&scale) == Ordering::Less {
                for b in [&mut value, &mut low, &mut high] {
                    b.mul_small(10);
                }
                first -= 1;
            }
            Scaled {
                value,
                scale,
                low,
                high,
                first,
            }
        }
    }

    /// The digits of `mantissa * 2^exponent` (`mantissa > 0`) and the decimal
    /// exponent of the first one, as numpy's `Dragon4` in unique mode: digits are
    /// generated until they identify the value among its neighbours (bounds
    /// inclusive when `mantissa` is even, as round-to-even parsing gives it back)
    /// and `min` is reached, or until `max` is reached; the last digit is rounded
    /// towards the side that stays unique, else to the nearest (ties to even).
    /// `estimate` is a guess of `floor(log10(value))`.
    pub(super) fn digits(
        mantissa: u64,
        exponent: i32,
        unequal: bool,
        estimate: i32,
        limits: Limits,
    ) -> (Vec<u8>, i32) {
        let even = mantissa.is_multiple_of(2);
        let Scaled {
            mut value,
            mut scale,
            mut low,
            mut high,
            mut first,
        } = Scaled::new(mantissa, exponent, unequal, estimate);
        // A value too small for the fraction digits starts at the last one (and
        // may round to 0 or 1 there).
        if let (super::Cutoff::Fraction, Some(max)) = (limits.cutoff, limits.max) {
            let last = -(max as i32);
            if first < last {
                scale.mul_pow10((last - first) as u32);
                first = last;
            }
        }
        // The exponents of the last digit allowed, and of the last one required.
        let count = |n: usize| n as i32;
        let max_exp = match (limits.cutoff, limits.max) {
            (_, None) => first - 60,
            (super::Cutoff::Total, Some(n)) => first + 1 - count(n),
            (super::Cutoff::Fraction, Some(n)) => -count(n),
        };
        let min_exp = match (limits.cutoff, limits.min) {
            (_, None) => first + 1,
            (super::Cutoff::Total, Some(n)) => (first + 1 - count(n)).min(first + 1),
            (super::Cutoff::Fraction, Some(n)) => (-count(n)).min(first + 1),
        };
        let mut digits: Vec<u8> = Vec::new();
        let mut at = first + 1;
        let (digit, is_low, is_high) = loop {
            at -= 1;
            let mut digit = 0u8;
            while value.cmp(&scale) != Ordering::Less {
                value.sub_assign(&scale);
                digit += 1;
            }
            let (cmp_low, cmp_high) = (value.cmp(&low), value.add(&high).cmp(&scale));
            let is_low = cmp_low == Ordering::Less || (even && cmp_low == Ordering::Equal);
            let is_high = cmp_high == Ordering::Greater || (even && cmp_high == Ordering::Equal);
            if ((is_low || is_high) && at <= min_exp) || at <= max_exp {
                break (digit, is_low, is_high);
            }
            digits.push(digit);
            for b in [&mut value, &mut low, &mut high] {
                b.mul_small(10);
            }
        };
        let mut round_down = is_low;
        if is_low == is_high {
            value.shl(1);
            round_down = match value.cmp(&scale) {
                Ordering::Less => true,
                Ordering::Greater => false,
                Ordering::Equal => digit % 2 == 0,
            };
        }
        if round_down {
            digits.push(digit);
        } else if digit < 9 {
            digits.push(digit + 1);
        } else {
            // Carry through trailing nines; all nines become 1 with a larger exponent.
            while digits.last() == Some(&9) {
                digits.pop();
            }
            if let Some(d) = digits.last_mut() {
                *d += 1;
            } else {
                digits.push(1);
                first += 1;
            }
        }
        (digits, first)
    }
}

/// Digits (values 0-9) as text.
#[must_use]
pub fn digits_text(digits: &[u8]) -> String {
    digits.iter().map(|&d| char::from(b'0' + d)).collect()
}
