//! What a header field value may hold (RFC 9110 §5.5): visible ASCII, with spaces and tabs only
//! between visible characters. The core only sends such values; the site compiler checks the
//! configured ones (the CSP) with it at build time, and the tests check every value the core
//! sends with it.

pub fn is_valid(value: &[u8]) -> bool {
    let visible = |b: &u8| (0x21..0x7f).contains(b);
    value
        .iter()
        .all(|b| visible(b) || *b == b' ' || *b == b'\t')
        && value.first().is_none_or(visible)
        && value.last().is_none_or(visible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_ascii_with_inner_spaces_only() {
        for good in [
            &b""[..],
            b"no-cache",
            b"frame-ancestors 'self'",
            b"a\tb",
            b"\"5d41\"",
        ] {
            assert!(is_valid(good), "{:?}", String::from_utf8_lossy(good));
        }
        for bad in [
            &b" x"[..],
            b"x ",
            b"\tx",
            b"a\r\nb",
            b"a\x00",
            b"\x7f",
            b"caf\xc3\xa9",
        ] {
            assert!(!is_valid(bad), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
