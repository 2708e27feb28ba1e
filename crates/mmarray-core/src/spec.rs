//! numpy basic indexing: integers, `start:stop:step` slices and `...` (no advanced
//! indexing: lists, arrays and booleans are errors).

use std::fmt;
use std::str::FromStr;

/// One entry of an index expression.
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
