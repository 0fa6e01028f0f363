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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RequestHeaders;

    fn spec(value: &str) -> Option<Spec> {
        parse(&RequestHeaders::from_fields([(&b"range"[..], value.as_bytes())]).range)
    }

    #[test]
    fn single_ranges_parse() {
        assert_eq!(spec("bytes=0-99"), Some(Spec::FromTo(0, Some(99))));
        assert_eq!(spec("bytes=5-"), Some(Spec::FromTo(5, None)));
        assert_eq!(spec("bytes=-7"), Some(Spec::Suffix(7)));
        assert_eq!(spec("Bytes=1-1"), Some(Spec::FromTo(1, Some(1))));
        assert_eq!(spec("bytes=1-2,"), Some(Spec::FromTo(1, Some(2))));
    }

    #[test]
    fn anything_else_means_the_whole_file() {
        for value in [
            "",
            "bytes=",
            "bytes=-",
            "bytes=5-1",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=a-b",
            "bytes 0-1",
            "bytes=1 -2",
        ] {
            assert_eq!(spec(value), None, "{value:?}");
        }
    }

    #[test]
    fn huge_numbers_saturate() {
        assert_eq!(
            spec("bytes=99999999999999999999999-"),
            Some(Spec::FromTo(u64::MAX, None))
        );
        assert_eq!(
            Spec::FromTo(u64::MAX, None).resolve(10),
            Resolved::Unsatisfiable
        );
        assert_eq!(
            Spec::FromTo(2, Some(u64::MAX)).resolve(10),
            Resolved::Satisfiable { first: 2, last: 9 }
        );
        assert_eq!(
            Spec::Suffix(u64::MAX).resolve(10),
            Resolved::Satisfiable { first: 0, last: 9 }
        );
    }

    #[test]
    fn resolution_against_the_length() {
        assert_eq!(Spec::FromTo(10, None).resolve(10), Resolved::Unsatisfiable);
        assert_eq!(Spec::Suffix(0).resolve(10), Resolved::Unsatisfiable);
        assert_eq!(
            Spec::Suffix(3).resolve(10),
            Resolved::Satisfiable { first: 7, last: 9 }
        );
        assert_eq!(Spec::FromTo(0, Some(0)).resolve(0), Resolved::Unsatisfiable);
    }

    #[test]
    fn two_range_lines_are_not_one_range() {
        let headers = RequestHeaders::from_fields([
            (&b"range"[..], &b"bytes=0-1"[..]),
            (b"Range", b"bytes=2-3"),
        ]);
        assert_eq!(parse(&headers.range), None);
    }
}
