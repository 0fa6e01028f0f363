//! The request target: percent-decoded once, checked, split into path and query.
//!
//! Only table lookups follow, so no target can reach a file outside the site; these checks
//! exist to answer hostile or broken targets with a clear 400 instead of a puzzling 404.

use std::borrow::Cow;

use http_text::path::Undecodable;

/// Longer targets get 414. Generous for any real page, tight enough to bound the work.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;

#[derive(Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// The decoded path without its leading `/`: `""` for `/`, `guide/` for `/guide/`.
    pub path: Cow<'a, str>,
    /// The query without its `?`, exactly as sent.
    pub query: Option<&'a str>,
}

/// Why a target is refused, with the status and the reason sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    TooLong,
    NotOriginForm,
    InvalidCharacter,
    Backslash,
    BadPercentEscape,
    EncodedSeparator,
    ControlCharacter,
    NotUtf8,
    DotSegment,
}

impl Rejection {
    pub fn status(self) -> u16 {
        match self {
            Rejection::TooLong => 414,
            _ => 400,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Rejection::TooLong => "414 URI Too Long: the request target is longer than 8 KiB\n",
            Rejection::NotOriginForm => "400 Bad Request: the request target must start with '/'\n",
            Rejection::InvalidCharacter => {
                "400 Bad Request: the request target has a space, a '#', a control character or a non-ASCII byte; percent-encode it\n"
            }
            Rejection::Backslash => "400 Bad Request: '\\' is not a path separator here\n",
            Rejection::BadPercentEscape => {
                "400 Bad Request: '%' must be followed by two hex digits\n"
            }
            Rejection::EncodedSeparator => {
                "400 Bad Request: an encoded '/' or '\\' (%2F, %5C) inside a path segment is not allowed\n"
            }
            Rejection::ControlCharacter => {
                "400 Bad Request: the path decodes to a NUL or other control character\n"
            }
            Rejection::NotUtf8 => "400 Bad Request: the path does not decode to UTF-8\n",
            Rejection::DotSegment => {
                "400 Bad Request: '.' and '..' path segments are not allowed\n"
            }
        }
    }
}

pub fn parse(target: &[u8]) -> Result<Target<'_>, Rejection> {
    if target.len() > MAX_TARGET_BYTES {
        return Err(Rejection::TooLong);
    }
    if target.first() != Some(&b'/') {
        return Err(Rejection::NotOriginForm);
    }
    // A valid request target is visible ASCII; this also makes every later slice valid UTF-8.
    if !target
        .iter()
        .all(|&b| (0x21..0x7f).contains(&b) && b != b'#')
    {
        return Err(Rejection::InvalidCharacter);
    }
    let (raw_path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[1..q], Some(&target[q + 1..])),
        None => (&target[1..], None),
    };
    if raw_path.contains(&b'\\') {
        return Err(Rejection::Backslash);
    }
    let path = decode(raw_path)?;
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(Rejection::DotSegment);
    }
    Ok(Target {
        path,
        query: query.map(ascii),
    })
}

/// Percent-decodes the path once (`http_text::path::decode`, which the site compiler's link
/// check shares), with this module's reasons for what it refuses.
fn decode(raw: &[u8]) -> Result<Cow<'_, str>, Rejection> {
    http_text::path::decode(ascii(raw)).map_err(|undecodable| match undecodable {
        Undecodable::BadPercentEscape => Rejection::BadPercentEscape,
        Undecodable::EncodedSeparator => Rejection::EncodedSeparator,
        Undecodable::ControlCharacter => Rejection::ControlCharacter,
        Undecodable::NotUtf8 => Rejection::NotUtf8,
    })
}

/// The caller has checked that `bytes` is ASCII.
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(target: &str) -> String {
        parse(target.as_bytes()).unwrap().path.into_owned()
    }

    #[test]
    fn splits_path_and_query() {
        let t = parse(b"/guide/?q=1&r=%2F").unwrap();
        assert_eq!(t.path, "guide/");
        assert_eq!(t.query, Some("q=1&r=%2F"));
        assert_eq!(parse(b"/").unwrap().path, "");
        assert_eq!(parse(b"/a?").unwrap().query, Some(""));
    }

    #[test]
    fn decodes_percent_escapes_once() {
        assert_eq!(path("/my%20page/"), "my page/");
        assert_eq!(path("/%C3%A9t%C3%A9"), "été");
        assert_eq!(path("/a%252e%252e"), "a%2e%2e");
    }

    #[test]
    fn rejections() {
        let cases: &[(&[u8], Rejection)] = &[
            (b"guide", Rejection::NotOriginForm),
            (b"*", Rejection::NotOriginForm),
            (b"/a b", Rejection::InvalidCharacter),
            (b"/a#b", Rejection::InvalidCharacter),
            (b"/\xc3\xa9", Rejection::InvalidCharacter),
            (b"/a\x00", Rejection::InvalidCharacter),
            (b"/\\evil", Rejection::Backslash),
            (b"/a%2", Rejection::BadPercentEscape),
            (b"/a%zz", Rejection::BadPercentEscape),
            (b"/..%2fetc", Rejection::EncodedSeparator),
            (b"/a%5cb", Rejection::EncodedSeparator),
            (b"/a%00", Rejection::ControlCharacter),
            (b"/a%0d%0a", Rejection::ControlCharacter),
            (b"/%ff", Rejection::NotUtf8),
            (b"/%c0%ae%c0%ae/", Rejection::NotUtf8),
            (b"/../etc/passwd", Rejection::DotSegment),
            (b"/a/./b", Rejection::DotSegment),
            (b"/%2e%2e/x", Rejection::DotSegment),
            (b"/a/.", Rejection::DotSegment),
        ];
        for (target, rejection) in cases {
            assert_eq!(
                parse(target).unwrap_err(),
                *rejection,
                "{:?}",
                String::from_utf8_lossy(target)
            );
        }
    }

    #[test]
    fn target_over_8_kib_is_too_long() {
        let mut long = b"/".to_vec();
        long.resize(MAX_TARGET_BYTES + 1, b'a');
        assert_eq!(parse(&long).unwrap_err(), Rejection::TooLong);
        long.truncate(MAX_TARGET_BYTES);
        assert!(parse(&long).is_ok());
    }
}
