//! Conditional requests (RFC 9110 §13): `If-Match`, `If-Unmodified-Since`, `If-None-Match`,
//! `If-Modified-Since`, evaluated in the order of §13.2.2, and `If-Range` (§13.1.5).
//!
//! A precondition field that cannot be parsed is ignored, as if absent: the answer is then a
//! full 200, which is always safe for a static file.

use crate::request::{trim_ows, Field, FieldLines, RequestHeaders};
use crate::site::Asset;
use http_text::http_date;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Serve the representation.
    Proceed,
    /// 304: the client's copy is current.
    NotModified,
    /// 412: `If-Match` or `If-Unmodified-Since` failed.
    Failed,
}

/// Evaluates the preconditions of a GET or HEAD against the selected representation.
pub fn evaluate(headers: &RequestHeaders<'_>, asset: &Asset, etag: &str) -> Precondition {
    if headers.if_match.is_present() {
        if tag_list(&headers.if_match, etag, Compare::Strong) == Some(TagList::Matches(false)) {
            return Precondition::Failed;
        }
    } else if let Some(since) = date(&headers.if_unmodified_since) {
        if asset.modified > since {
            return Precondition::Failed;
        }
    }
    match tag_list(&headers.if_none_match, etag, Compare::Weak) {
        Some(TagList::Any | TagList::Matches(true)) => Precondition::NotModified,
        Some(TagList::Matches(false)) => Precondition::Proceed,
        // If-Modified-Since counts only without a (usable) If-None-Match.
        None => match date(&headers.if_modified_since) {
            Some(since) if asset.modified <= since => Precondition::NotModified,
            _ => Precondition::Proceed,
        },
    }
}

/// Whether a `Range` may be honoured: true without `If-Range`, or when its validator is the
/// identity representation's strong ETag or exactly its `Last-Modified`.
pub fn if_range_allows(if_range: &FieldLines<'_>, asset: &Asset) -> bool {
    let line = match if_range.single() {
        Field::Absent => return true,
        Field::Lines([line]) => trim_ows(line),
        _ => return false,
    };
    if line.starts_with(b"\"") || line.starts_with(b"W/") {
        // A weak tag never matches: If-Range needs a strong validator (RFC 9110 §13.1.5).
        parse_tag(line).is_some_and(|(tag, rest)| {
            rest.is_empty() && !tag.weak && tag.opaque == asset.identity.etag.as_bytes()
        })
    } else {
        http_date::parse(line) == Some(asset.modified)
    }
}

fn date(field: &FieldLines<'_>) -> Option<u64> {
    match field.single() {
        Field::Lines([line]) => http_date::parse(line),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Strong,
    Weak,
}

#[derive(Debug, PartialEq, Eq)]
enum TagList {
    /// `*`
    Any,
    /// A list of entity-tags, and whether one matches.
    Matches(bool),
}

struct EntityTag<'a> {
    weak: bool,
    /// The quoted opaque-tag, quotes included.
    opaque: &'a [u8],
}

/// Parses `*` or a comma-separated list of entity-tags across all lines of the field, and
/// compares each with `etag`. `None` when the field is absent or malformed.
fn tag_list(field: &FieldLines<'_>, etag: &str, compare: Compare) -> Option<TagList> {
    let Field::Lines(lines) = field.list() else {
        return None;
    };
    if let [line] = lines {
        if trim_ows(line) == b"*" {
            return Some(TagList::Any);
        }
    }
    let mut matched = false;
    let mut any = false;
    for line in lines {
        let mut rest = *line;
        loop {
            rest = skip_separators(rest);
            if rest.is_empty() {
                break;
            }
            let (tag, tail) = parse_tag(rest)?;
            let equal = tag.opaque == etag.as_bytes();
            matched |= match compare {
                Compare::Weak => equal,
                Compare::Strong => equal && !tag.weak,
            };
            any = true;
            rest = trim_ows(tail);
            if !rest.is_empty() && rest[0] != b',' {
                return None;
            }
        }
    }
    any.then_some(TagList::Matches(matched))
}

fn skip_separators(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b',', tail @ ..] = s {
        s = tail;
    }
    s
}

/// `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE`; returns the tag and what follows it.
fn parse_tag(s: &[u8]) -> Option<(EntityTag<'_>, &[u8])> {
    let (weak, s) = match s.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if s.first() != Some(&b'"') {
        return None;
    }
    let close = 1 + s[1..].iter().position(|&b| b == b'"')?;
    let opaque = &s[..=close];
    // etagc: %x21 / %x23-7E / obs-text (%x80-FF)
    if !opaque[1..close]
        .iter()
        .all(|&b| b == 0x21 || b >= 0x23 && b != 0x7f)
    {
        return None;
    }
    Some((EntityTag { weak, opaque }, &s[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETAG: &str = "\"abc\"";

    fn list(value: &str, compare: Compare) -> Option<TagList> {
        let headers = RequestHeaders::from_fields([(&b"if-none-match"[..], value.as_bytes())]);
        tag_list(&headers.if_none_match, ETAG, compare)
    }

    #[test]
    fn weak_comparison_ignores_the_weak_flag() {
        assert_eq!(
            list("W/\"abc\"", Compare::Weak),
            Some(TagList::Matches(true))
        );
        assert_eq!(
            list("W/\"abc\"", Compare::Strong),
            Some(TagList::Matches(false))
        );
        assert_eq!(
            list("\"abc\"", Compare::Strong),
            Some(TagList::Matches(true))
        );
    }

    #[test]
    fn lists_star_and_commas_inside_tags() {
        assert_eq!(
            list("\"x\", \"abc\"", Compare::Weak),
            Some(TagList::Matches(true))
        );
        assert_eq!(
            list("\"a,b\", \"c\"", Compare::Weak),
            Some(TagList::Matches(false))
        );
        assert_eq!(list(" * ", Compare::Weak), Some(TagList::Any));
        assert_eq!(
            list(",,\"abc\",", Compare::Weak),
            Some(TagList::Matches(true))
        );
    }

    #[test]
    fn malformed_lists_are_ignored() {
        for value in [
            "abc",
            "\"abc",
            "\"abc\" \"def\"",
            "*, \"abc\"",
            "w/\"abc\"",
            "\"a\u{7f}\"",
            "",
        ] {
            assert_eq!(list(value, Compare::Weak), None, "{value:?}");
        }
    }
}
