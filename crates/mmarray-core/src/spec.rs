//! numpy basic indexing: integers, `start:stop:step` slices and `...` (no advanced
//! indexing: lists, arrays and booleans are errors).

use std::fmt;
use std::str::FromStr;

/// One entry of an index expression.
///
/// Rust integers and ranges convert into indices (and into one-index [`Spec`]s)
/// with `From`: an integer
/// selects one entry (negative counts from the end), a range is a slice with step
/// 1, as numpy reads `a[2]`, `a[1:5]`, `a[:5]`, `a[1:]`, `a[:]`. `usize` values
/// beyond `isize::MAX` saturate (they are out of bounds of any array).
///
/// An inclusive range `a..=b` includes `b`: `a..=-1` runs to the end.
///
/// ```
/// use mmarray_core::Index;
/// assert_eq!(Index::from(-1), Index::Int(-1));
/// assert_eq!(Index::from(1..5), Index::range(1, 5));
/// assert_eq!(Index::from(..), Index::ALL);
/// assert_eq!(Index::from(2..=-1), Index::Slice { start: Some(2), stop: None, step: 1 });
/// assert_eq!(Index::from(3usize..), Index::Slice { start: Some(3), stop: None, step: 1 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    /// An integer index (negative counts from the end); drops the axis.
    Int(isize),
    /// `start:stop:step`, any part optional; `step` may be negative but not 0.
    Slice {
        /// First index (`None`: from the beginning, or the end when `step < 0`).
        start: Option<isize>,
        /// One past the last index (`None`: to the end, or the beginning when `step < 0`).
        stop: Option<isize>,
        /// Step between indices (`1` when omitted).
        step: isize,
    },
    /// `...`: as many full slices as needed (at most one per spec).
    Ellipsis,
}

impl Index {
    /// The full slice `:`.
    pub const ALL: Index = Index::Slice {
        start: None,
        stop: None,
        step: 1,
    };

    /// `start..stop` with step 1.
    #[must_use]
    pub fn range(start: isize, stop: isize) -> Index {
        Index::Slice {
            start: Some(start),
            stop: Some(stop),
            step: 1,
        }
    }
}

// `From` impls of integers and ranges for `Index` and `Spec` (documented on `Index`).
macro_rules! index_from_ints {
    ($($t:ty),*) => {$(
        impl From<$t> for Index {
            fn from(i: $t) -> Index {
                Index::Int(to_isize(i))
            }
        }

        impl From<std::ops::Range<$t>> for Index {
            fn from(r: std::ops::Range<$t>) -> Index {
                Index::slice_of(Some(to_isize(r.start)), SliceEnd::Exclusive(to_isize(r.end)), 1)
            }
        }

        impl From<std::ops::RangeFrom<$t>> for Index {
            fn from(r: std::ops::RangeFrom<$t>) -> Index {
                Index::slice_of(Some(to_isize(r.start)), SliceEnd::Open, 1)
            }
        }

        impl From<std::ops::RangeTo<$t>> for Index {
            fn from(r: std::ops::RangeTo<$t>) -> Index {
                Index::slice_of(None, SliceEnd::Exclusive(to_isize(r.end)), 1)
            }
        }

        impl From<std::ops::RangeInclusive<$t>> for Index {
            fn from(r: std::ops::RangeInclusive<$t>) -> Index {
                Index::slice_of(Some(to_isize(*r.start())), SliceEnd::Inclusive(to_isize(*r.end())), 1)
            }
        }

        impl From<std::ops::RangeToInclusive<$t>> for Index {
            fn from(r: std::ops::RangeToInclusive<$t>) -> Index {
                Index::slice_of(None, SliceEnd::Inclusive(to_isize(r.end)), 1)
            }
        }

        impl SliceRange for std::ops::Range<$t> {
            fn bounds(self) -> (Option<isize>, SliceEnd) {
                (Some(to_isize(self.start)), SliceEnd::Exclusive(to_isize(self.end)))
            }
        }

        impl SliceRange for std::ops::RangeFrom<$t> {
            fn bounds(self) -> (Option<isize>, SliceEnd) {
                (Some(to_isize(self.start)), SliceEnd::Open)
            }
        }

        impl SliceRange for std::ops::RangeTo<$t> {
            fn bounds(self) -> (Option<isize>, SliceEnd) {
                (None, SliceEnd::Exclusive(to_isize(self.end)))
            }
        }

        impl SliceRange for std::ops::RangeInclusive<$t> {
            fn bounds(self) -> (Option<isize>, SliceEnd) {
                (Some(to_isize(*self.start())), SliceEnd::Inclusive(to_isize(*self.end())))
            }
        }

        impl SliceRange for std::ops::RangeToInclusive<$t> {
            fn bounds(self) -> (Option<isize>, SliceEnd) {
                (None, SliceEnd::Inclusive(to_isize(self.end)))
            }
        }

        impl From<$t> for Spec {
            fn from(i: $t) -> Spec {
                Spec(vec![Index::from(i)])
            }
        }

        impl From<std::ops::Range<$t>> for Spec {
            fn from(r: std::ops::Range<$t>) -> Spec {
                Spec(vec![Index::from(r)])
            }
        }

        impl From<std::ops::RangeFrom<$t>> for Spec {
            fn from(r: std::ops::RangeFrom<$t>) -> Spec {
                Spec(vec![Index::from(r)])
            }
        }

        impl From<std::ops::RangeTo<$t>> for Spec {
            fn from(r: std::ops::RangeTo<$t>) -> Spec {
                Spec(vec![Index::from(r)])
            }
        }

        impl From<std::ops::RangeInclusive<$t>> for Spec {
            fn from(r: std::ops::RangeInclusive<$t>) -> Spec {
                Spec(vec![Index::from(r)])
            }
        }

        impl From<std::ops::RangeToInclusive<$t>> for Spec {
            fn from(r: std::ops::RangeToInclusive<$t>) -> Spec {
                Spec(vec![Index::from(r)])
            }
        }
    )*};
}

index_from_ints!(isize, usize, i32, i64, u32);

/// An integer as an index: values beyond `isize` saturate (they are out of
/// bounds of any array, and clip as slice bounds as numpy clips them).
fn to_isize<I: TryInto<isize> + PartialOrd + Default>(i: I) -> isize {
    let negative = i < I::default();
    i.try_into()
        .unwrap_or(if negative { isize::MIN } else { isize::MAX })
}

impl From<std::ops::RangeFull> for Index {
    fn from(_: std::ops::RangeFull) -> Index {
        Index::ALL
    }
}

impl SliceRange for std::ops::RangeFull {
    fn bounds(self) -> (Option<isize>, SliceEnd) {
        (None, SliceEnd::Open)
    }
}

impl From<std::ops::RangeFull> for Spec {
    fn from(_: std::ops::RangeFull) -> Spec {
        Spec(vec![Index::ALL])
    }
}

impl From<Index> for Spec {
    /// A spec of one index (an `...` alone is valid; a zero step is caught when
    /// slicing, as every spec's is).
    fn from(i: Index) -> Spec {
        Spec(vec![i])
    }
}

impl From<&Spec> for Spec {
    /// A copy of the spec, so that every function taking `impl TryInto<Spec>`
    /// takes a borrowed one too.
    fn from(s: &Spec) -> Spec {
        s.clone()
    }
}

impl<const N: usize> TryFrom<[Index; N]> for Spec {
    type Error = SpecError;
    fn try_from(v: [Index; N]) -> Result<Spec, SpecError> {
        Spec::new(v.to_vec())
    }
}

/// The end of a slice as a Rust range gives it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum SliceEnd {
    /// No end (`a..`, `..`).
    Open,
    /// `..b`.
    Exclusive(isize),
    /// `..=b`.
    Inclusive(isize),
}

/// The Rust ranges that can take a step in [`s!`](crate::s): `a..b`, `a..`, `..b`,
/// `..`, `a..=b`, `..=b` of `isize`, `usize`, `i32`, `i64` or `u32`. (Not integers:
/// `s![2;3]` does not compile.)
#[doc(hidden)]
pub trait SliceRange {
    /// Start and end.
    fn bounds(self) -> (Option<isize>, SliceEnd);
}

impl Index {
    /// A slice from a Rust range's bounds and a step (numpy's meaning of a
    /// negative step: `s![5..1;-1]` is `5:1:-1`, from 5 down to 2).
    fn slice_of(start: Option<isize>, end: SliceEnd, step: isize) -> Index {
        let stop = match end {
            SliceEnd::Open => None,
            SliceEnd::Exclusive(e) => Some(e),
            // `..=-1` runs to the end (upwards), `..=0` to the beginning (downwards).
            SliceEnd::Inclusive(e) if step > 0 => (e != -1).then(|| e.saturating_add(1)),
            SliceEnd::Inclusive(e) => (e != 0).then(|| e.saturating_sub(1)),
        };
        Index::Slice { start, stop, step }
    }

    /// The range `range` with step `step` (used by [`s!`](crate::s): `s![a..b;step]`).
    #[doc(hidden)]
    #[must_use]
    pub fn __stepped(range: impl SliceRange, step: isize) -> Index {
        let (start, end) = range.bounds();
        Index::slice_of(start, end, step)
    }
}

impl Spec {
    /// The spec the [`s!`](crate::s) macro built (which has checked that there is at
    /// most one `...`; a zero step that is not a literal is caught when slicing).
    #[doc(hidden)]
    #[must_use]
    pub fn __from_macro<const N: usize>(indices: [Index; N]) -> Spec {
        Spec(indices.to_vec())
    }
}

/// A [`Spec`] written as Rust: `s![..5, 2, ..;-1]` is numpy's `[:5, 2, ::-1]`.
///
/// Each comma-separated entry is an integer (`2`, `-1`, `i`), a Rust range (`1..5`,
/// `..5`, `3..`, `..`, `1..=4`), a range with a step after a `;` (`..;-1`, `1..9;2`,
/// `5..1;-1`), or `...`. Steps have numpy's meaning: `s![5..1;-1]` is `5:1:-1`
/// (5, 4, 3, 2), not the reversed range `1..5` as in ndarray's `s!`.
///
/// Checked at compile time: a second `...`, a step on an integer, and a literal
/// step of 0 do not compile. A step computed at run time that is 0 is an
/// [`Error::Index`](crate::Error::Index) when the spec is used. Out-of-bounds
/// integers are errors when slicing, as they are for every spec.
///
/// ```
/// use mmarray_core::{Index, Order, View, s};
/// use mmarray_dtype::ByteOrder;
/// let bytes: Vec<u8> = (0u8..24).collect();
/// let v = View::<u8>::from_bytes(&bytes, &[2, 3, 4], Order::C, ByteOrder::Little)?;
/// assert_eq!(s![..5, 2, ..;-1], ":5, 2, ::-1".parse()?);
/// assert_eq!(v.slice(s![1, .., -1])?.to_vec(), [15, 19, 23]);
/// assert_eq!(v.slice(s![..., 1..=2])?.shape(), [2, 3, 2]);
/// assert_eq!(v.slice(s![0, 2, 3..0;-2])?.to_vec(), [11, 9]);
/// let (i, step) = (1usize, -1);
/// assert_eq!(v.slice(s![i, ..;step, 0])?.to_vec(), [20, 16, 12]);
/// assert_eq!(s![], mmarray_core::Spec::default());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Each entry is checked when the program is compiled. These compile:
///
/// ```
/// use mmarray_core::s;
/// let (i, step) = (2usize, -1isize);
/// let _ = (s![..., 0], s![..;-1], s![2..;3], s![i, ..;step], s![1, 1..3, -1]);
/// ```
///
/// and each of these does not, for the reason in its comment:
///
/// ```compile_fail
/// // At most one `...` (the macro's own error).
/// let _ = mmarray_core::s![..., 0, ...];
/// ```
///
/// ```compile_fail,E0080
/// // A step of 0 (a failed constant assertion).
/// let _ = mmarray_core::s![..;0];
/// ```
///
/// ```compile_fail,E0277
/// // A step on an integer index (an integer is not a range).
/// let _ = mmarray_core::s![2;3];
/// ```
///
/// ```compile_fail,E0277
/// // A float where an index goes (an index is an integer, a range or `...`).
/// let _ = mmarray_core::s![1.5, ..];
/// ```
///
/// ```compile_fail,E0277
/// // A string where an index goes (numpy's text is parsed by `Spec::parse`,
/// // or given as it is to `slice`, not to `s!`).
/// let _ = mmarray_core::s!["1:3"];
/// ```
///
/// ```compile_fail,E0277
/// // A float range.
/// let _ = mmarray_core::s![0.0..2.5];
/// ```
///
/// ```compile_fail,E0308
/// // A float step.
/// let step = 0.5;
/// let _ = mmarray_core::s![..;step];
/// ```
#[macro_export]
macro_rules! s {
    // Internal rules: `@e [accumulated indices] [whether a `...` was seen] rest`.
    (@e [$($acc:expr),*] [$($seen:tt)?]) => {
        $crate::Spec::__from_macro([$($acc),*])
    };
    (@e [$($acc:expr),*] [yes] ... $(, $($rest:tt)*)?) => {
        ::core::compile_error!("s![]: at most one `...` is allowed")
    };
    (@e [$($acc:expr),*] [] ... $(, $($rest:tt)*)?) => {
        $crate::s!(@e [$($acc,)* $crate::Index::Ellipsis] [yes] $($($rest)*)?)
    };
    (@e [$($acc:expr),*] [$($seen:tt)?] $range:expr ; - $step:literal $(, $($rest:tt)*)?) => {
        $crate::s!(@e [$($acc,)* {
            const { ::core::assert!($step != 0, "s![]: slice step cannot be zero") };
            // `5..1;-1` is numpy's `5:1:-1`, not an empty Rust range.
            #[allow(clippy::reversed_empty_ranges)]
            let range = $range;
            $crate::Index::__stepped(range, -$step)
        }] [$($seen)?] $($($rest)*)?)
    };
    (@e [$($acc:expr),*] [$($seen:tt)?] $range:expr ; $step:literal $(, $($rest:tt)*)?) => {
        $crate::s!(@e [$($acc,)* {
            const { ::core::assert!($step != 0, "s![]: slice step cannot be zero") };
            #[allow(clippy::reversed_empty_ranges)]
            let range = $range;
            $crate::Index::__stepped(range, $step)
        }] [$($seen)?] $($($rest)*)?)
    };
    (@e [$($acc:expr),*] [$($seen:tt)?] $range:expr ; $step:expr $(, $($rest:tt)*)?) => {
        $crate::s!(@e [$($acc,)* {
            #[allow(clippy::reversed_empty_ranges)]
            let range = $range;
            $crate::Index::__stepped(range, $step)
        }] [$($seen)?] $($($rest)*)?)
    };
    (@e [$($acc:expr),*] [$($seen:tt)?] $index:expr $(, $($rest:tt)*)?) => {
        $crate::s!(@e [$($acc,)* $crate::Index::from($index)] [$($seen)?] $($($rest)*)?)
    };
    ($($t:tt)*) => {
        $crate::s!(@e [] [] $($t)*)
    };
}

/// An error in the text of an index expression (a usage error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid index {text:?}: {reason}")]
pub struct SpecError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A parsed index expression: one [`Index`] per axis, as numpy's basic indexing.
///
/// ```
/// use mmarray_core::{Index, Spec};
/// let s: Spec = "1:-1, ..., ::-2, 0".parse()?;
/// assert_eq!(s.indices()[0], Index::range(1, -1));
/// assert_eq!(s.indices()[1], Index::Ellipsis);
/// assert_eq!(s.indices()[2], Index::Slice { start: None, stop: None, step: -2 });
/// assert_eq!(s.to_string(), "1:-1, ..., ::-2, 0");
/// assert!("::0".parse::<Spec>().is_err());
/// # Ok::<(), mmarray_core::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Spec(Vec<Index>);

impl Spec {
    /// A spec from indices; errors for a zero step or more than one `...`.
    pub fn new(indices: Vec<Index>) -> Result<Spec, SpecError> {
        let spec = Spec(indices);
        let err = |reason: &str| {
            Err(SpecError {
                text: spec.to_string(),
                reason: reason.to_owned(),
            })
        };
        if spec.0.iter().filter(|i| **i == Index::Ellipsis).count() > 1 {
            return err("at most one '...' is allowed");
        }
        if spec
            .0
            .iter()
            .any(|i| matches!(i, Index::Slice { step: 0, .. }))
        {
            return err("slice step cannot be zero");
        }
        Ok(spec)
    }

    /// Parses numpy's syntax, comma separated per axis: `:5`, `::2,-1`, `1:-1,...,0`,
    /// `::-1`. An empty string selects everything.
    pub fn parse(text: &str) -> Result<Spec, SpecError> {
        let fail = |reason: String| SpecError {
            text: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        // numpy reads `a[[1, 2]]` and `a[[True, False]]` as advanced indexing, which
        // this type does not do: refuse them rather than read them as `a[1, 2]`.
        if trimmed.contains(['[', ']'])
            || trimmed
                .split([',', ':'])
                .any(|p| matches!(p.trim(), "True" | "False" | "true" | "false"))
        {
            return Err(fail(
                "advanced indexing (lists, arrays, booleans) is not supported: \
                 use basic indexing such as ':5', '::2, -1' or '1:-1, ..., 0'"
                    .to_owned(),
            ));
        }
        if trimmed.is_empty() {
            return Ok(Spec(Vec::new()));
        }
        let mut out = Vec::new();
        for part in trimmed.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(fail("empty index between commas".to_owned()));
            }
            if part == "..." || part == "Ellipsis" {
                out.push(Index::Ellipsis);
            } else if part.contains(':') {
                let pieces: Vec<&str> = part.split(':').map(str::trim).collect();
                if pieces.len() > 3 {
                    return Err(fail(format!("{part:?} has more than two ':'")));
                }
                let num = |p: &str| -> Result<Option<isize>, SpecError> {
                    if p.is_empty() {
                        Ok(None)
                    } else {
                        parse_int(p)
                            .map(Some)
                            .ok_or_else(|| fail(format!("{p:?} is not an integer")))
                    }
                };
                let start = num(pieces[0])?;
                let stop = num(pieces[1])?;
                let step = match pieces.get(2) {
                    Some(p) => num(p)?.unwrap_or(1),
                    None => 1,
                };
                out.push(Index::Slice { start, stop, step });
            } else {
                let i = parse_int(part)
                    .ok_or_else(|| fail(format!("{part:?} is not an integer, a slice or '...'")))?;
                out.push(Index::Int(i));
            }
        }
        Spec::new(out).map_err(|e| SpecError {
            text: text.to_owned(),
            reason: e.reason,
        })
    }

    /// The indices.
    #[must_use]
    pub fn indices(&self) -> &[Index] {
        &self.0
    }
}

fn parse_int(text: &str) -> Option<isize> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl FromStr for Spec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Spec, SpecError> {
        Spec::parse(s)
    }
}

impl TryFrom<&str> for Spec {
    type Error = SpecError;
    fn try_from(s: &str) -> Result<Spec, SpecError> {
        Spec::parse(s)
    }
}

impl TryFrom<Vec<Index>> for Spec {
    type Error = SpecError;
    fn try_from(v: Vec<Index>) -> Result<Spec, SpecError> {
        Spec::new(v)
    }
}

impl TryFrom<&[Index]> for Spec {
    type Error = SpecError;
    fn try_from(v: &[Index]) -> Result<Spec, SpecError> {
        Spec::new(v.to_vec())
    }
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Index::Int(i) => write!(f, "{i}"),
            Index::Ellipsis => f.write_str("..."),
            Index::Slice { start, stop, step } => {
                if let Some(s) = start {
                    write!(f, "{s}")?;
                }
                f.write_str(":")?;
                if let Some(s) = stop {
                    write!(f, "{s}")?;
                }
                if step != 1 {
                    write!(f, ":{step}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, index) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{index}")?;
        }
        Ok(())
    }
}

/// Where an axis of length `len` is selected by a slice: numpy's (Python's
/// `slice.indices`) clipping. Returns `(first, step, count)`.
pub(crate) fn resolve_slice(
    len: usize,
    start: Option<isize>,
    stop: Option<isize>,
    step: isize,
) -> (isize, isize, usize) {
    let n = len as isize;
    let clip = |v: isize, lo: isize, hi: isize| v.clamp(lo, hi);
    let (first, count) = if step > 0 {
        let start = start.map_or(0, |s| clip(if s < 0 { s + n } else { s }, 0, n));
        let stop = stop.map_or(n, |s| clip(if s < 0 { s + n } else { s }, 0, n));
        let count = if stop > start {
            (stop - start - 1) / step + 1
        } else {
            0
        };
        (start, count)
    } else {
        let start = start.map_or(n - 1, |s| clip(if s < 0 { s + n } else { s }, -1, n - 1));
        let stop = stop.map_or(-1, |s| clip(if s < 0 { s + n } else { s }, -1, n - 1));
        let count = if start > stop {
            (start - stop - 1) / (-step) + 1
        } else {
            0
        };
        (start, count)
    };
    (first, step, count as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_spec_converts_to_a_copy() {
        // What functions taking `impl TryInto<Spec>` (as `slice` does) see.
        fn taken<S: TryInto<Spec>>(s: S) -> Option<Spec> {
            s.try_into().ok()
        }
        let spec = Spec::parse("1:, ::-2").unwrap();
        let copy: Spec = (&spec).into();
        assert_eq!(copy, spec);
        assert_eq!(taken(&spec).unwrap().to_string(), "1:, ::-2");
    }

    #[test]
    fn parses_numpy_syntax() {
        let s = Spec::parse(":5").unwrap();
        assert_eq!(
            s.indices(),
            [Index::Slice {
                start: None,
                stop: Some(5),
                step: 1
            }]
        );
        let s = Spec::parse("::2,-1").unwrap();
        assert_eq!(
            s.indices(),
            [
                Index::Slice {
                    start: None,
                    stop: None,
                    step: 2
                },
                Index::Int(-1)
            ]
        );
        assert_eq!(Spec::parse("").unwrap().indices(), []);
        assert_eq!(
            Spec::parse("()").unwrap_err().reason,
            "\"()\" is not an integer, a slice or '...'"
        );
        for bad in ["::0", "...,...", "1,,2", "a", "1:2:3:4", "1.5", "1:x"] {
            assert!(Spec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn advanced_indexing_is_refused() {
        for bad in [
            "[1,2]",
            "[1, 2]",
            "[0]",
            "[]",
            ":, [0, 1]",
            "[True, False]",
            "True",
            "0, False",
            "[[1]]",
            "1]",
        ] {
            let e = Spec::parse(bad).unwrap_err();
            assert!(
                e.reason.starts_with("advanced indexing"),
                "{bad}: {}",
                e.reason
            );
        }
    }

    /// The positions a slice selects on an axis of length `len`.
    fn selected(len: usize, index: Index) -> Vec<isize> {
        let Index::Slice { start, stop, step } = index else {
            panic!("not a slice: {index:?}")
        };
        let (first, step, count) = resolve_slice(len, start, stop, step);
        (0..count as isize).map(|i| first + i * step).collect()
    }

    #[test]
    fn integers_and_ranges_convert_as_numpy_reads_them() {
        assert_eq!(Index::from(3usize), Index::Int(3));
        assert_eq!(Index::from(-2i64), Index::Int(-2));
        assert_eq!(Index::from(7u32), Index::Int(7));
        assert_eq!(Index::from(-1isize), Index::Int(-1));
        // Beyond isize: saturated, so out of bounds rather than wrapped to -1.
        assert_eq!(Index::from(usize::MAX), Index::Int(isize::MAX));
        assert_eq!(
            Index::from(..usize::MAX),
            Index::Slice {
                start: None,
                stop: Some(isize::MAX),
                step: 1
            }
        );
        assert_eq!(
            Index::from(1..4),
            "1:4".parse::<Spec>().unwrap().indices()[0]
        );
        assert_eq!(Index::from(2..), "2:".parse::<Spec>().unwrap().indices()[0]);
        assert_eq!(
            Index::from(..-1),
            ":-1".parse::<Spec>().unwrap().indices()[0]
        );
        assert_eq!(Index::from(..), Index::ALL);
        assert_eq!(Index::from(1..=3), Index::range(1, 4));
        assert_eq!(Index::from(..=-1), Index::ALL);
        assert_eq!(
            Index::from(..=-2),
            Index::Slice {
                start: None,
                stop: Some(-1),
                step: 1
            }
        );
        assert_eq!(Spec::from(2), "2".parse().unwrap());
        assert_eq!(Spec::from(..), ":".parse().unwrap());
        assert_eq!(Spec::from(1usize..=2), "1:3".parse().unwrap());
        assert_eq!(Spec::from(Index::Ellipsis), "...".parse().unwrap());
        assert_eq!(
            Spec::try_from([Index::Int(0), Index::ALL]).unwrap(),
            "0, :".parse().unwrap()
        );
        assert!(Spec::try_from([Index::Ellipsis, Index::Ellipsis]).is_err());
    }

    #[test]
    fn inclusive_ranges_include_their_end_in_both_directions() {
        for len in 0..6usize {
            let n = len as isize;
            for a in -7..7isize {
                for b in -7..7isize {
                    for step in [1, 2, 3, -1, -2, -3] {
                        let norm = |x: isize| if x < 0 { x + n } else { x };
                        let (na, nb) = (norm(a), norm(b));
                        let mut want = Vec::new();
                        let mut i = if step > 0 { na.max(0) } else { na.min(n - 1) };
                        while (step > 0 && i <= nb.min(n - 1)) || (step < 0 && i >= nb.max(0)) {
                            want.push(i);
                            i += step;
                        }
                        let got = selected(len, Index::__stepped(a..=b, step));
                        assert_eq!(got, want, "{a}..={b};{step} of {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_macro_spells_what_the_text_spells() {
        let i = 2usize;
        let step = -2;
        let cases: [(Spec, &str); 9] = [
            (crate::s![..5, 2, ..;-1], ":5, 2, ::-1"),
            (crate::s![], ""),
            (crate::s![...], "..."),
            (crate::s![1, ..., -1], "1, ..., -1"),
            (crate::s![i..;step, i], "2::-2, 2"),
            (crate::s![5..1;-1], "5:1:-1"),
            (crate::s![1..=5;2], "1:6:2"),
            (crate::s![..=0;-1], "::-1"),
            (crate::s![-3..-1, ..3usize;3, 4u32..], "-3:-1, :3:3, 4:"),
        ];
        for (spec, text) in cases {
            assert_eq!(spec, text.parse::<Spec>().unwrap(), "{text}");
        }
        // A zero step known only at run time is an error when slicing, not a panic.
        let zero = 0;
        let spec = crate::s![..;zero];
        let bytes = [0u8; 4];
        let v = crate::View::<u8>::from_bytes(
            &bytes,
            &[4],
            crate::Order::C,
            mmarray_dtype::ByteOrder::Little,
        )
        .unwrap();
        let err = v.slice(spec).unwrap_err();
        assert_eq!(err.to_string(), "index error: slice step cannot be zero");
    }

    #[test]
    fn slices_clip_as_python_does() {
        // (len, start, stop, step) -> list of indices, checked against Python's range(*slice.indices(len))
        type Case = (usize, Option<isize>, Option<isize>, isize, &'static [isize]);
        let cases: &[Case] = &[
            (5, None, None, 1, &[0, 1, 2, 3, 4]),
            (5, None, None, -1, &[4, 3, 2, 1, 0]),
            (5, Some(-2), None, 1, &[3, 4]),
            (5, Some(10), None, 1, &[]),
            (5, None, Some(-10), -1, &[4, 3, 2, 1, 0]),
            (5, Some(3), Some(0), -1, &[3, 2, 1]),
            (5, Some(-10), Some(10), 2, &[0, 2, 4]),
            (5, Some(10), Some(-10), -2, &[4, 2, 0]),
            (0, None, None, -1, &[]),
            (5, Some(1), Some(1), 1, &[]),
        ];
        for &(len, start, stop, step, want) in cases {
            let (first, step, count) = resolve_slice(len, start, stop, step);
            let got: Vec<isize> = (0..count as isize).map(|i| first + i * step).collect();
            assert_eq!(got, want, "{len} {start:?} {stop:?} {step}");
        }
    }
}
