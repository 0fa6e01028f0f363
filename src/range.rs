//! Byte ranges (RFC 9110 §14): one range → 206, none satisfiable → 416, several → the whole
//! file with 200 (allowed by §14.2, and it spares every client multipart/byteranges parsing).

use crate::request::{list_elements, trim_ows, Field, FieldLines};

/// One syntactically valid range-spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    /// `first-last` or `first-` (last is `None`).
    FromTo(u64, Option<u64>),
    /// `-length`: the last `length` bytes.
    Suffix(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// Inclusive byte positions within the representation.
    Satisfiable {
        first: u64,
        last: u64,
    },
    Unsatisfiable,
}

/// The single range asked for, or `None` when the `Range` field is absent, malformed, in a
/// unit other than bytes, or asks for several ranges: all of which mean "send the whole file".
pub fn parse(range: &FieldLines<'_>) -> Option<Spec> {
    let Field::Lines([line]) = range.single() else {
        return None;
    };
    let line = trim_ows(line);
    let eq = line.iter().position(|&b| b == b'=')?;
    if !line[..eq].eq_ignore_ascii_case(b"bytes") {
        return None;
    }
    let set = [&line[eq + 1..]];
    let mut specs = list_elements(&set);
    let spec = specs.next()?;
    if specs.next().is_some() {
        return None;
    }
    let dash = spec.iter().position(|&b| b == b'-')?;
    let (first, last) = (&spec[..dash], &spec[dash + 1..]);
    if first.is_empty() {
        return Some(Spec::Suffix(number(last)?));
    }
    let first = number(first)?;
    if last.is_empty() {
        return Some(Spec::FromTo(first, None));
    }
    let last = number(last)?;
    // last < first makes the whole field invalid (§14.1.1), so it is ignored.
    (last >= first).then_some(Spec::FromTo(first, Some(last)))
}

impl Spec {
    /// Positions within a representation of `length` bytes.
    pub fn resolve(self, length: u64) -> Resolved {
        if length == 0 {
            return Resolved::Unsatisfiable;
        }
        match self {
            Spec::FromTo(first, _) if first >= length => Resolved::Unsatisfiable,
            Spec::FromTo(first, last) => Resolved::Satisfiable {
                first,
                last: last.map_or(length - 1, |l| l.min(length - 1)),
            },
            Spec::Suffix(0) => Resolved::Unsatisfiable,
            Spec::Suffix(n) => Resolved::Satisfiable {
                first: length.saturating_sub(n),
                last: length - 1,
            },
        }
    }
}

/// 1*DIGIT. Values past u64 saturate: a first position that large is unsatisfiable anyway, and
/// a last position or suffix that large means "to the end".
fn number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}
