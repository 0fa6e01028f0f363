//! Compression dictionaries (RFC 9842): which dictionary a client says it holds.
//!
//! A browser that has stored a response marked `Use-As-Dictionary` sends, with each request the
//! dictionary's `match` covers, `Available-Dictionary` (§2.2): the dictionary's SHA-256 as a
//! structured-field byte sequence (RFC 9651 §3.3.5), `:` base64 `:`. A representation
//! compressed against that dictionary (`dcz`) may then be sent. Anything else, a value that is
//! not a byte sequence, not 32 bytes, or given twice, names no dictionary: the response falls
//! back to the next coding, never to an error.

use crate::request::{trim_ows, Field, FieldLines};

/// Base64 digits of 32 bytes, without the one `=` of padding.
const SHA_256_DIGITS: usize = 43;

/// The base64 of the SHA-256 the client holds, unpadded, if the field is well-formed.
pub fn offered<'h>(field: &'h FieldLines<'_>) -> Option<&'h [u8]> {
    let Field::Lines([line]) = field.single() else {
        return None;
    };
    // A structured field is parsed after trimming spaces; OWS is the HTTP view of the same.
    let inner = trim_ows(line).strip_prefix(b":")?.strip_suffix(b":")?;
    // RFC 9651 §3.3.5: parsers should accept a byte sequence without its `=` padding.
    let digits = inner.strip_suffix(b"=").unwrap_or(inner);
    let base64 = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
    (digits.len() == SHA_256_DIGITS && digits.iter().all(base64)).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RequestHeaders;

    const HASH: &str = "pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4";

    fn offered_by(values: &[&str]) -> Option<String> {
        let headers = RequestHeaders::from_fields(
            values
                .iter()
                .map(|v| (b"Available-Dictionary".as_slice(), v.as_bytes())),
        );
        offered(&headers.available_dictionary).map(|d| String::from_utf8(d.to_vec()).unwrap())
    }

    #[test]
    fn a_byte_sequence_of_32_bytes_names_a_dictionary_padded_or_not() {
        assert_eq!(offered_by(&[&format!(":{HASH}=:")]).as_deref(), Some(HASH));
        assert_eq!(offered_by(&[&format!(":{HASH}:")]).as_deref(), Some(HASH));
        assert_eq!(
            offered_by(&[&format!("  :{HASH}=:  ")]).as_deref(),
            Some(HASH)
        );
    }

    #[test]
    fn anything_else_names_none() {
        for value in [
            HASH.to_owned(),                 // not a byte sequence
            format!("\"{HASH}=\""),          // a string
            format!(":{}=:", &HASH[1..]),    // 31 bytes and a bit
            format!(":{HASH}AAAA:"),         // 35 bytes
            format!(":{}*=:", &HASH[1..]),   // outside the alphabet
            format!(":{HASH}=:, :{HASH}=:"), // a list
            String::new(),
            "::".to_owned(),
        ] {
            assert_eq!(offered_by(&[&value]), None, "{value}");
        }
        let one = format!(":{HASH}=:");
        assert_eq!(offered_by(&[&one, &one]), None, "two lines");
    }
}
