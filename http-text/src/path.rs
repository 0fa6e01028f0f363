//! Writing a path into a `Location` (RFC 3986 §3.3): a decoded site path, percent-encoded
//! wherever a byte is not allowed in a path segment. The core writes its redirects with this at
//! request time and the site compiler writes the redirects it finds at build time, so both send
//! the same bytes for the same path.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_characters_stay_and_the_rest_is_escaped() {
        let mut out = String::new();
        encode_into(&mut out, "a b/ü?#%/x:y@z");
        assert_eq!(out, "a%20b/%C3%BC%3F%23%25/x:y@z");
    }
}
