//! A site's paths, shared by the core (request time) and the site compiler (build time), so
//! both agree byte for byte:
//! - the one URL of a page (`page_path`): a folder's `index.html` is asked for by its folder;
//! - reading a path out of a URL (`decode`): percent-escapes decoded once, the way the core
//!   reads a request's path, so a link the build accepts is a path the server serves;
//! - writing a path into a `Location` (RFC 3986 §3.3): a decoded site path, percent-encoded
//!   wherever a byte is not allowed in a path segment;
//! - whether a redirect rule applies to a path (`redirect_match`).

use std::borrow::Cow;

/// The path of a page's one URL, without its leading `/`, for the key of its file: a folder's
/// `index.html` is asked for by the folder (`guide/index.html` → `guide/`, `index.html` → ``),
/// and any other file by its own name, `genindex.html` and `asyncio-llapi-index.html` too (both
/// in Python's docs). Keys are decoded paths relative to the site's root.
pub fn page_path(key: &str) -> &str {
    match key.strip_suffix("index.html") {
        Some(folder) if folder.is_empty() || folder.ends_with('/') => folder,
        _ => key,
    }
}

/// Why a URL path does not decode to a site path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undecodable {
    /// A `%` not followed by two hex digits.
    BadPercentEscape,
    /// `%2F` or `%5C`: a separator hidden from the path's segments.
    EncodedSeparator,
    /// `%00`–`%1F` or `%7F`: no file name needs one, and a log or header should never get one.
    ControlCharacter,
    NotUtf8,
}

/// Percent-decodes a URL path once (RFC 3986 §2.1), borrowing when there is nothing to decode.
/// Strict where a lax decoder would let one path mean two things: an encoded separator, an
/// encoded control character or bytes that are not UTF-8 are refused, not decoded. The core
/// refuses such a request with 400; the site compiler calls such a link broken.
pub fn decode(raw: &str) -> Result<Cow<'_, str>, Undecodable> {
    if !raw.contains('%') {
        return Ok(Cow::Borrowed(raw));
    }
    let raw = raw.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'%' {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let byte = raw
            .get(i + 1..i + 3)
            .and_then(|hex| Some(hex_value(hex[0])? << 4 | hex_value(hex[1])?))
            .ok_or(Undecodable::BadPercentEscape)?;
        match byte {
            b'/' | b'\\' => return Err(Undecodable::EncodedSeparator),
            0..=0x1f | 0x7f => return Err(Undecodable::ControlCharacter),
            _ => out.push(byte),
        }
        i += 3;
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| Undecodable::NotUtf8)
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

/// Appends `path` to `out`, keeping `/`, unreserved characters and sub-delims, `:` and `@`
/// (RFC 3986 `pchar`), and percent-encoding every other byte.
pub fn encode_into(out: &mut String, path: &str) {
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Whether a redirect rule for `from` (decoded, no leading `/`, no trailing `/`; for a splat
/// the prefix before `*`, ending in `/`) applies to the decoded request `path`, and if so what
/// the splat matched. A rule matches its path with and without a trailing slash, and with
/// `index.html`: the URLs its page had. The core answers requests with this, and the site
/// compiler checks with it that no page of the previous release is left without an answer.
pub fn redirect_match<'a>(from: &str, splat: bool, path: &'a str) -> Option<&'a str> {
    let exact = page_path(path);
    let exact = exact.strip_suffix('/').unwrap_or(exact);
    if splat {
        path.strip_prefix(from)
            .or_else(|| (exact == from.trim_end_matches('/')).then_some(""))
    } else {
        (exact == from).then_some("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_decodes_once_and_borrows_when_nothing_is_escaped() {
        assert!(matches!(decode("guide/"), Ok(Cow::Borrowed("guide/"))));
        assert_eq!(decode("my%20page/%C3%A9t%C3%A9").unwrap(), "my page/été");
        assert_eq!(decode("a%252e").unwrap(), "a%2e");
    }

    #[test]
    fn a_path_that_could_mean_two_things_does_not_decode() {
        for (raw, why) in [
            ("a%2", Undecodable::BadPercentEscape),
            ("a%zz", Undecodable::BadPercentEscape),
            ("..%2fetc", Undecodable::EncodedSeparator),
            ("a%5Cb", Undecodable::EncodedSeparator),
            ("a%0d%0a", Undecodable::ControlCharacter),
            ("a%7f", Undecodable::ControlCharacter),
            ("%c0%ae", Undecodable::NotUtf8),
        ] {
            assert_eq!(decode(raw), Err(why), "{raw}");
        }
    }

    #[test]
    fn a_folders_page_is_asked_for_by_the_folder_and_any_other_file_by_its_name() {
        assert_eq!(page_path("index.html"), "");
        assert_eq!(page_path("guide/index.html"), "guide/");
        assert_eq!(page_path("guide/page.html"), "guide/page.html");
        assert_eq!(page_path("assets/app.js"), "assets/app.js");
        assert_eq!(page_path("genindex.html"), "genindex.html");
        assert_eq!(
            page_path("library/asyncio-llapi-index.html"),
            "library/asyncio-llapi-index.html"
        );
    }

    #[test]
    fn a_rule_matches_its_page_s_urls_and_a_splat_everything_below() {
        for path in ["old", "old/", "old/index.html"] {
            assert_eq!(redirect_match("old", false, path), Some(""), "{path}");
        }
        assert_eq!(redirect_match("old", false, "old/x"), None);
        assert_eq!(redirect_match("docs/", true, "docs/a/b"), Some("a/b"));
        assert_eq!(redirect_match("docs/", true, "docs"), Some(""));
        assert_eq!(redirect_match("docs/", true, "doc"), None);
    }

    #[test]
    fn path_characters_stay_and_the_rest_is_escaped() {
        let mut out = String::new();
        encode_into(&mut out, "a b/ü?#%/x:y@z");
        assert_eq!(out, "a%20b/%C3%BC%3F%23%25/x:y@z");
    }
}
