//! The strict parser of the Python literals in a `.npy` header: never an
//! evaluator, positions reported as offsets in the file (see the [parent
//! module](super) for what it accepts).

use mmarray_dtype::{DType, DTypeError};

use super::{HeaderError, KEYS, MAX_DEPTH, SNIPPET_CHARS};

/// A syntax error at `pos` that describes what it found in words.
fn syntax_found(pos: usize, expected: &'static str, found: &str) -> HeaderError {
    HeaderError::Syntax {
        offset: pos as u64,
        expected,
        found: found.to_owned(),
    }
}

/// A Python literal as the header parser sees it.
#[derive(Debug)]
pub(super) enum Val {
    /// A string (adjacent literals joined, escapes resolved).
    Str(String),
    /// An int; `magnitude` saturates at [`INT_CAP`].
    Int { negative: bool, magnitude: u128 },
    /// A float literal (its value does not matter).
    Float,
    /// An imaginary literal such as `3j`.
    Complex,
    /// `True` or `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A tuple.
    Tuple(Vec<Node>),
    /// A list (its items are checked, then dropped: no list is a valid value but a
    /// structured descr, which is reported as unsupported).
    List,
    /// A dict (only at the top level).
    Dict(Vec<(Node, Node)>),
}

/// A literal and where its text is (`start..end`, offsets in the file).
#[derive(Debug)]
pub(super) struct Node {
    val: Val,
    start: usize,
    end: usize,
}

/// The strict parser of Python literals. Positions are offsets in the file.
pub(super) struct Parser<'a> {
    /// The whole header (prefix and text); the text ends at `bytes.len()`.
    pub(super) bytes: &'a [u8],
    /// Where the parser is (an offset in the file).
    pub(super) pos: usize,
    /// Whether the text is UTF-8 (3.0) rather than latin-1 (1.0, 2.0).
    pub(super) utf8: bool,
    /// Whether Python 2 long literals (`3L`) are accepted (1.0, 2.0).
    pub(super) python2_long: bool,
}

/// What a value may be, for syntax errors.
const EXPECTED_VALUE: &str = "a literal (string, number, True, False, None, tuple or list)";

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(super) fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    pub(super) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')) {
            self.pos += 1;
        }
    }

    /// Decodes part of the text (latin-1 or UTF-8) without failing.
    pub(super) fn decode(&self, raw: &[u8]) -> String {
        if self.utf8 {
            String::from_utf8_lossy(raw).into_owned()
        } else {
            raw.iter().map(|&b| b as char).collect()
        }
    }

    /// The text of `start..end`, shortened for an error message.
    pub(super) fn snippet(&self, start: usize, end: usize) -> String {
        let end = end.min(self.bytes.len());
        let text = self.decode(&self.bytes[start.min(end)..end]);
        if text.chars().count() > SNIPPET_CHARS {
            let mut short: String = text.chars().take(SNIPPET_CHARS).collect();
            short.push_str("...");
            short
        } else {
            text
        }
    }

    /// What is at `pos`, for "found ..." in a syntax error.
    pub(super) fn found_at(&self, pos: usize) -> String {
        if pos >= self.bytes.len() {
            return "end of header".to_owned();
        }
        let end = self.bytes[pos..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(self.bytes.len(), |n| pos + n)
            .min(pos + 16);
        // Do not cut a UTF-8 character in two.
        let mut end = end.max(pos + 1);
        while self.utf8 && end < self.bytes.len() && self.bytes[end] & 0xc0 == 0x80 {
            end += 1;
        }
        format!("{:?}", self.decode(&self.bytes[pos..end]))
    }

    pub(super) fn syntax(&self, pos: usize, expected: &'static str) -> HeaderError {
        HeaderError::Syntax {
            offset: pos as u64,
            expected,
            found: self.found_at(pos),
        }
    }

    /// The whole text: one dict and nothing else but whitespace.
    pub(super) fn parse_header_dict(&mut self) -> Result<Vec<(Node, Node)>, HeaderError> {
        self.skip_ws();
        if self.peek().is_none() {
            return Err(self.syntax(self.pos, "a dict '{'"));
        }
        let top = self.parse_value(0)?;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(self.syntax(self.pos, "the end of the header after the dict"));
        }
        match top.val {
            Val::Dict(entries) => Ok(entries),
            _ => Err(HeaderError::NotADict {
                offset: top.start as u64,
                found: self.snippet(top.start, top.end),
            }),
        }
    }

    /// One literal, after optional whitespace. `depth` counts the enclosing brackets.
    pub(super) fn parse_value(&mut self, depth: usize) -> Result<Node, HeaderError> {
        self.skip_ws();
        let start = self.pos;
        if depth > MAX_DEPTH {
            return Err(syntax_found(
                start,
                "at most 100 nested brackets",
                "deeper nesting",
            ));
        }
        let Some(c) = self.peek() else {
            return Err(self.syntax(start, EXPECTED_VALUE));
        };
        let val = match c {
            b'{' if depth == 0 => {
                self.pos += 1;
                Val::Dict(self.parse_dict_entries(depth + 1)?)
            }
            b'{' => {
                return Err(syntax_found(
                    start,
                    EXPECTED_VALUE,
                    "a nested dict or set '{'",
                ));
            }
            b'(' => return self.parse_parenthesized(depth),
            b'[' => {
                self.pos += 1;
                self.parse_items(b']', depth + 1, Vec::new())?;
                Val::List
            }
            b'\'' | b'"' => Val::Str(self.parse_strings()?),
            b'+' | b'-' => {
                self.pos += 1;
                self.skip_ws();
                if !self.at_number() {
                    return Err(self.syntax(self.pos, "a number after a sign"));
                }
                self.parse_number(c == b'-')?
            }
            _ if self.at_number() => self.parse_number(false)?,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => self.parse_name()?,
            _ => return Err(self.syntax(start, EXPECTED_VALUE)),
        };
        Ok(Node {
            val,
            start,
            end: self.pos,
        })
    }

    /// `(`: the empty tuple, a parenthesised value, or a tuple.
    pub(super) fn parse_parenthesized(&mut self, depth: usize) -> Result<Node, HeaderError> {
        let start = self.pos;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(Node {
                val: Val::Tuple(Vec::new()),
                start,
                end: self.pos,
            });
        }
        let first = self.parse_value(depth + 1)?;
        self.skip_ws();
        match self.peek() {
            Some(b')') => {
                // `(x)` is just `x`.
                self.pos += 1;
                Ok(Node {
                    val: first.val,
                    start,
                    end: self.pos,
                })
            }
            Some(b',') => {
                self.pos += 1;
                let items = self.parse_items(b')', depth + 1, vec![first])?;
                Ok(Node {
                    val: Val::Tuple(items),
                    start,
                    end: self.pos,
                })
            }
            _ => Err(self.syntax(self.pos, "',' or ')'")),
        }
    }

    /// Items up to `close`, separated by commas, optionally with a trailing comma; the opening
    /// bracket (and any items in `items`, with the comma after them) are consumed already.
    pub(super) fn parse_items(
        &mut self,
        close: u8,
        depth: usize,
        mut items: Vec<Node>,
    ) -> Result<Vec<Node>, HeaderError> {
        let expected = if close == b')' {
            "',' or ')'"
        } else {
            "',' or ']'"
        };
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.parse_value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.syntax(self.pos, expected)),
            }
        }
    }

    /// `key: value` pairs up to `}`; the `{` is consumed already.
    pub(super) fn parse_dict_entries(
        &mut self,
        depth: usize,
    ) -> Result<Vec<(Node, Node)>, HeaderError> {
        let mut entries = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(entries);
            }
            let key = self.parse_value(depth)?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.syntax(self.pos, "':' after a dict key"));
            }
            self.pos += 1;
            let value = self.parse_value(depth)?;
            entries.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(entries);
                }
                _ => return Err(self.syntax(self.pos, "',' or '}'")),
            }
        }
    }

    /// Whether a string literal (with an optional `u` prefix) starts at `pos`.
    pub(super) fn at_string(&self) -> bool {
        match self.peek() {
            Some(b'\'' | b'"') => true,
            Some(b'u' | b'U') => matches!(self.peek_at(1), Some(b'\'' | b'"')),
            _ => false,
        }
    }

    /// One or more adjacent string literals, joined as Python joins them.
    pub(super) fn parse_strings(&mut self) -> Result<String, HeaderError> {
        let mut out = String::new();
        loop {
            if matches!(self.peek(), Some(b'u' | b'U')) {
                self.pos += 1;
            }
            self.parse_string(&mut out)?;
            let after = self.pos;
            self.skip_ws();
            if !self.at_string() {
                self.pos = after;
                return Ok(out);
            }
        }
    }

    /// One quoted string at `pos`, appended to `out`.
    pub(super) fn parse_string(&mut self, out: &mut String) -> Result<(), HeaderError> {
        let start = self.pos;
        let Some(quote) = self.peek() else {
            return Err(self.syntax(start, "a string"));
        };
        if self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote) {
            return Err(syntax_found(
                start,
                "a single- or double-quoted string",
                "a triple-quoted string",
            ));
        }
        self.pos += 1;
        let mut run = self.pos;
        loop {
            let Some(c) = self.peek() else {
                return Err(syntax_found(
                    self.pos,
                    "the closing quote of the string",
                    "end of header",
                ));
            };
            match c {
                _ if c == quote => {
                    out.push_str(&self.decode(&self.bytes[run..self.pos]));
                    self.pos += 1;
                    return Ok(());
                }
                b'\n' | b'\r' => {
                    return Err(syntax_found(
                        self.pos,
                        "the closing quote of the string",
                        "end of line",
                    ));
                }
                b'\\' => {
                    out.push_str(&self.decode(&self.bytes[run..self.pos]));
                    self.parse_escape(out)?;
                    run = self.pos;
                }
                _ => self.pos += 1,
            }
        }
    }

    /// A backslash escape at `pos`, appended to `out`.
    pub(super) fn parse_escape(&mut self, out: &mut String) -> Result<(), HeaderError> {
        let start = self.pos;
        let unsupported =
            "a supported escape (\\\\, \\', \\\", \\n, \\r, \\t, \\xNN or \\ at the end of a line)";
        let c = self
            .peek_at(1)
            .ok_or_else(|| self.syntax(start, unsupported))?;
        self.pos += 2;
        match c {
            b'\\' => out.push('\\'),
            b'\'' => out.push('\''),
            b'"' => out.push('"'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'\n' => {}
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            b'x' => {
                let hex = |c: Option<u8>| c.and_then(|c| (c as char).to_digit(16));
                match (hex(self.peek()), hex(self.peek_at(1))) {
                    (Some(hi), Some(lo)) => {
                        self.pos += 2;
                        out.push(char::from(((hi << 4) | lo) as u8));
                    }
                    _ => return Err(self.syntax(start, unsupported)),
                }
            }
            _ => return Err(self.syntax(start, unsupported)),
        }
        Ok(())
    }

    /// Whether a number literal starts at `pos`: a digit, or `.` and a digit.
    pub(super) fn at_number(&self) -> bool {
        match self.peek() {
            Some(b'0'..=b'9') => true,
            Some(b'.') => matches!(self.peek_at(1), Some(b'0'..=b'9')),
            _ => false,
        }
    }

    /// A number literal at `pos` (after any sign).
    pub(super) fn parse_number(&mut self, negative: bool) -> Result<Val, HeaderError> {
        let start = self.pos;
        let prefixed = self.peek() == Some(b'0')
            && matches!(
                self.peek_at(1),
                Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')
            );
        while let Some(c) = self.peek() {
            let exponent_sign = matches!(c, b'+' | b'-')
                && !prefixed
                && matches!(self.bytes[self.pos - 1], b'e' | b'E');
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exponent_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
        let token = &self.bytes[start..self.pos];
        let (digits, long) = match token {
            [rest @ .., b'L'] if self.python2_long => (rest, true),
            _ => (token, false),
        };
        if let Some(magnitude) = int_literal(digits) {
            return Ok(Val::Int {
                negative,
                magnitude,
            });
        }
        if !long {
            if float_literal(token) {
                return Ok(Val::Float);
            }
            if let [rest @ .., b'j' | b'J'] = token
                && (digit_part(rest, 0) == Some(rest.len()) || float_literal(rest))
            {
                return Ok(Val::Complex);
            }
        }
        Err(syntax_found(
            start,
            "a number literal",
            &format!("{:?}", self.snippet(start, self.pos)),
        ))
    }

    /// `True`, `False`, `None` or a `u'...'` string; any other name is an error.
    pub(super) fn parse_name(&mut self) -> Result<Val, HeaderError> {
        let start = self.pos;
        if self.at_string() {
            return Ok(Val::Str(self.parse_strings()?));
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.pos += 1;
        }
        match &self.bytes[start..self.pos] {
            b"True" => Ok(Val::Bool(true)),
            b"False" => Ok(Val::Bool(false)),
            b"None" => Ok(Val::None),
            name => {
                let found = if matches!(self.peek(), Some(b'\'' | b'"')) && name.len() <= 2 {
                    format!(
                        "a {}-prefixed string literal (only str literals are accepted)",
                        self.snippet(start, self.pos)
                    )
                } else {
                    format!("the name {}", self.snippet(start, self.pos))
                };
                Err(syntax_found(start, EXPECTED_VALUE, &found))
            }
        }
    }

    /// Checks the dict's keys and values as numpy's reader does: keys, `shape`, `fortran_order`,
    /// `descr`, in that order. A key given twice takes its last value, as in a Python dict.
    pub(super) fn interpret(
        &self,
        entries: &[(Node, Node)],
    ) -> Result<(DType, bool, Vec<usize>), HeaderError> {
        let mut values: [Option<&Node>; 3] = [None; 3];
        for (key, value) in entries {
            let slot = match &key.val {
                Val::Str(name) => KEYS.iter().position(|k| k == name),
                _ => None,
            };
            let Some(slot) = slot else {
                return Err(HeaderError::ExtraKey {
                    offset: key.start as u64,
                    key: self.snippet(key.start, key.end),
                });
            };
            values[slot] = Some(value);
        }
        let [Some(descr), Some(fortran), Some(shape)] = values else {
            let missing = values.iter().position(Option::is_none).unwrap_or(0);
            return Err(HeaderError::MissingKey(KEYS[missing]));
        };
        let shape = self.shape(shape)?;
        let Val::Bool(fortran_order) = fortran.val else {
            return Err(HeaderError::FortranOrder {
                offset: fortran.start as u64,
                found: self.snippet(fortran.start, fortran.end),
            });
        };
        let dtype = self.descr(descr)?;
        Ok((dtype, fortran_order, shape))
    }

    pub(super) fn shape(&self, node: &Node) -> Result<Vec<usize>, HeaderError> {
        let error = |at: &Node, reason| HeaderError::Shape {
            offset: at.start as u64,
            found: self.snippet(at.start, at.end),
            reason,
        };
        let items = match &node.val {
            Val::Tuple(items) => items,
            Val::List => return Err(error(node, "expected a tuple, not a list")),
            Val::Int { .. } => {
                return Err(error(
                    node,
                    "expected a tuple, not an int (a 1-d shape is written (n,))",
                ));
            }
            _ => {
                return Err(error(
                    node,
                    "expected a tuple of ints such as (3, 4), (3,) or ()",
                ));
            }
        };
        items
            .iter()
            .map(|item| match item.val {
                Val::Int {
                    negative: false,
                    magnitude: n,
                }
                | Val::Int {
                    negative: true,
                    magnitude: n @ 0,
                } => usize::try_from(n)
                    .map_err(|_| error(item, "dimension too large for this platform")),
                Val::Int { negative: true, .. } => Err(error(item, "negative dimension")),
                Val::Bool(_) => Err(error(item, "a bool is not a dimension")),
                _ => Err(error(item, "dimensions must be ints")),
            })
            .collect()
    }

    pub(super) fn descr(&self, node: &Node) -> Result<DType, HeaderError> {
        let text = || self.snippet(node.start, node.end);
        let result = match &node.val {
            Val::Str(s) => DType::parse(s),
            Val::List => Err(DTypeError::Unsupported {
                text: text(),
                what: "structured",
            }),
            Val::Tuple(_) => Err(DTypeError::Unsupported {
                text: text(),
                what: "subarray",
            }),
            _ => Err(DTypeError::Unknown { text: text() }),
        };
        result.map_err(|source| HeaderError::Descr {
            offset: node.start as u64,
            source,
        })
    }
}

/// Python's `digitpart` (`digit (["_"] digit)*`) at `s[i..]`: where it ends, or `None`.
pub(super) fn digit_part(s: &[u8], i: usize) -> Option<usize> {
    let mut end = None;
    let mut j = i;
    while j < s.len() {
        match s[j] {
            b'0'..=b'9' => {
                j += 1;
                end = Some(j);
            }
            b'_' if end == Some(j) && s.get(j + 1).is_some_and(u8::is_ascii_digit) => j += 1,
            _ => break,
        }
    }
    end
}

/// Magnitudes of int literals saturate here, above any `u64`.
const INT_CAP: u128 = u64::MAX as u128 + 1;

/// The magnitude of a Python int literal (without sign), saturated at [`INT_CAP`]; `None` if
/// `token` is not an int literal.
pub(super) fn int_literal(token: &[u8]) -> Option<u128> {
    let (radix, digits) = match token {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', b'o' | b'O', rest @ ..] => (8, rest),
        [b'0', b'b' | b'B', rest @ ..] => (2, rest),
        _ => (10, token),
    };
    // One `_` may follow the radix prefix; elsewhere `_` only between digits.
    let digits = match digits {
        [b'_', rest @ ..] if radix != 10 => rest,
        _ => digits,
    };
    if digits.is_empty()
        || digits.first() == Some(&b'_')
        || digits.last() == Some(&b'_')
        || digits.windows(2).any(|w| w == b"__")
    {
        return None;
    }
    let mut magnitude = 0u128;
    let mut nonzero = false;
    for &c in digits.iter().filter(|&&c| c != b'_') {
        let d = (c as char).to_digit(radix)?;
        nonzero |= d != 0;
        magnitude = (magnitude * u128::from(radix) + u128::from(d)).min(INT_CAP);
    }
    // Python forbids leading zeros in a non-zero decimal literal (`07`).
    if radix == 10 && digits[0] == b'0' && nonzero {
        return None;
    }
    Some(magnitude)
}

/// Whether `token` is a Python float literal (`1.`, `.5`, `1.5e-3`, `1e5`, `1_0.0`).
pub(super) fn float_literal(token: &[u8]) -> bool {
    let int_end = digit_part(token, 0);
    let mut i = int_end.unwrap_or(0);
    let mut point = false;
    if token.get(i) == Some(&b'.') {
        point = true;
        i += 1;
        match digit_part(token, i) {
            Some(end) => i = end,
            None if int_end.is_none() => return false,
            None => {}
        }
    } else if int_end.is_none() {
        return false;
    }
    let mut exponent = false;
    if matches!(token.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(token.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        match digit_part(token, i) {
            Some(end) => i = end,
            None => return false,
        }
        exponent = true;
    }
    i == token.len() && (point || exponent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::tests::{v1, v3};
    use crate::npy::{MAX_HEADER_SIZE, parse_header};

    /// Parses `text` as a lone literal (v1 rules) and returns it.
    fn literal(text: &str) -> Result<Val, HeaderError> {
        let bytes = v1(text.as_bytes());
        let mut p = Parser {
            bytes: &bytes,
            pos: 10,
            utf8: false,
            python2_long: true,
        };
        let node = p.parse_value(1)?;
        p.skip_ws();
        if p.pos != bytes.len() {
            return Err(p.syntax(p.pos, "end"));
        }
        Ok(node.val)
    }

    fn int(text: &str) -> Option<(bool, u128)> {
        match literal(text) {
            Ok(Val::Int {
                negative,
                magnitude,
            }) => Some((negative, magnitude)),
            _ => None,
        }
    }

    #[test]
    fn int_literals_follow_python() {
        assert_eq!(int("0"), Some((false, 0)));
        assert_eq!(int("000"), Some((false, 0)));
        assert_eq!(int("0_0"), Some((false, 0)));
        assert_eq!(int("12"), Some((false, 12)));
        assert_eq!(int("1_000"), Some((false, 1000)));
        assert_eq!(int("-5"), Some((true, 5)));
        assert_eq!(int("+ 5"), Some((false, 5)));
        assert_eq!(int("0x1F"), Some((false, 31)));
        assert_eq!(int("0X_ff"), Some((false, 255)));
        assert_eq!(int("0o17"), Some((false, 15)));
        assert_eq!(int("0b101"), Some((false, 5)));
        assert_eq!(int("3L"), Some((false, 3)));
        assert_eq!(
            int("18446744073709551615"),
            Some((false, u128::from(u64::MAX)))
        );
        assert_eq!(int("18446744073709551616"), Some((false, INT_CAP)));
        assert_eq!(int(&"9".repeat(400)), Some((false, INT_CAP)));
        for bad in [
            "07", "1__0", "1_", "_1", "0x", "0x_", "0b2", "0o8", "1a", "3l", "0x1.5", "--1", "+-1",
            "- -1", "3 L", "1+1", "1 1",
        ] {
            assert!(
                !matches!(literal(bad), Ok(Val::Int { .. })),
                "{bad}: {:?}",
                literal(bad)
            );
        }
    }

    #[test]
    fn float_and_complex_literals_are_recognised() {
        for f in [
            "1.", ".5", "1.5", "1e5", "1E+5", "1.5e-3", "1_0.0_1", "00.5", "0e0",
        ] {
            assert!(
                matches!(literal(f), Ok(Val::Float)),
                "{f}: {:?}",
                literal(f)
            );
        }
        for c in ["3j", "1.5J", "07j", "1e3j"] {
            assert!(
                matches!(literal(c), Ok(Val::Complex)),
                "{c}: {:?}",
                literal(c)
            );
        }
        for bad in [
            "1e", "1.e", "1._5", "1e_5", "1.5.5", "1ee5", "1.5L", "1jj", "3.0L",
        ] {
            assert!(
                matches!(literal(bad), Err(HeaderError::Syntax { .. })),
                "{bad}: {:?}",
                literal(bad)
            );
        }
    }

    #[test]
    fn strings_support_quotes_escapes_prefix_and_concatenation() {
        let s = |t: &str| match literal(t) {
            Ok(Val::Str(s)) => Some(s),
            _ => None,
        };
        assert_eq!(s("'<f8'").as_deref(), Some("<f8"));
        assert_eq!(s("\"<f8\"").as_deref(), Some("<f8"));
        assert_eq!(s("u'<f8'").as_deref(), Some("<f8"));
        assert_eq!(s("'<' \"f\"\n'8'").as_deref(), Some("<f8"));
        assert_eq!(
            s(r#"'a\\b\'c\"d\n\t\r'"#).as_deref(),
            Some("a\\b'c\"d\n\t\r")
        );
        assert_eq!(s(r"'\x3cf8'").as_deref(), Some("<f8"));
        assert_eq!(s("'a\\\nb'").as_deref(), Some("ab"));
        assert_eq!(s("\"it's\"").as_deref(), Some("it's"));
        assert_eq!(s("''").as_deref(), Some(""));
        for bad in [
            "'abc",
            "'a\nb'",
            r"'\d'",
            r"'\x3'",
            r"'\u0041'",
            "'''a'''",
            "b'<f8'",
            "r'<f8'",
            "f'<f8'",
            "br'x'",
            "'a' + 'b'",
            "'a' b",
        ] {
            assert!(
                matches!(literal(bad), Err(HeaderError::Syntax { .. })),
                "{bad}: {:?}",
                literal(bad)
            );
        }
    }

    #[test]
    fn latin1_and_utf8_strings_decode_per_version() {
        // v1: byte 0xe9 is latin-1 'é'; v3: the UTF-8 bytes of 'é'.
        let mut t1 = b"{'descr': '\xe9', 'fortran_order': False, 'shape': ()}".to_vec();
        let err = parse_header(&v1(&t1), MAX_HEADER_SIZE).unwrap_err();
        assert!(
            matches!(&err, HeaderError::Descr { source: DTypeError::Unknown { text }, .. } if text == "é"),
            "{err:?}"
        );
        t1 = "{'descr': 'é', 'fortran_order': False, 'shape': ()}"
            .as_bytes()
            .to_vec();
        let err = parse_header(&v3(&t1), MAX_HEADER_SIZE).unwrap_err();
        assert!(
            matches!(&err, HeaderError::Descr { source: DTypeError::Unknown { text }, .. } if text == "é"),
            "{err:?}"
        );
    }

    #[test]
    fn nesting_is_limited_and_does_not_overflow_the_stack() {
        // The helper parses at depth 1, as a value in the header dict.
        let ok = format!(
            "{}3{}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        assert!(
            matches!(literal(&ok), Ok(Val::Int { .. })),
            "{:?}",
            literal(&ok)
        );
        let over = format!("{}3{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(matches!(literal(&over), Err(HeaderError::Syntax { .. })));
        let deep = format!("{}3{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            literal(&deep),
            Err(HeaderError::Syntax {
                expected: "at most 100 nested brackets",
                ..
            })
        ));
    }

    #[test]
    fn parentheses_make_tuples_only_with_a_comma() {
        assert!(matches!(literal("(3)"), Ok(Val::Int { .. })));
        assert!(matches!(literal("((3))"), Ok(Val::Int { .. })));
        assert!(matches!(literal("(3,)"), Ok(Val::Tuple(v)) if v.len() == 1));
        assert!(matches!(literal("( )"), Ok(Val::Tuple(v)) if v.is_empty()));
        assert!(matches!(literal("((3, 4))"), Ok(Val::Tuple(v)) if v.len() == 2));
        assert!(matches!(literal("[]"), Ok(Val::List)));
        assert!(matches!(literal("[1, (2, 'a'), [None],]"), Ok(Val::List)));
        for bad in [
            "(,)", "(3,,)", "[,]", "(3 4)", "(3", "[3", "()()", "{}", "{1}", "[{}]",
        ] {
            assert!(
                matches!(literal(bad), Err(HeaderError::Syntax { .. })),
                "{bad}: {:?}",
                literal(bad)
            );
        }
    }
}
