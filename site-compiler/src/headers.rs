//! Per-path response headers from a `_headers` file at the site root, in Netlify's and
//! Cloudflare's syntax: a path pattern on a line of its own (a `*` matches any run of
//! characters), then the headers for it, indented, one `Name: value` per line; `#` comments.
//!
//! ```text
//! /search/search_index.json
//!   Access-Control-Allow-Origin: *
//! ```
//!
//! They are worked out per file at build time: each file of the table carries the headers its
//! URL gets. Names the server sets itself cannot be set here (the framing, the validators, the
//! negotiation and the security headers are the core's rules), nor can hop-by-hop headers.

use crate::walk::{self, SiteFile};

/// The file at the site root that holds the rules. It is configuration, not a page: it is not
/// served.
pub const HEADERS_FILE: &str = "_headers";

/// The most headers one file may get: the response has room for the core's headers and these.
pub const MAX_PER_FILE: usize = 8;

/// Headers the core or the HTTP layer owns (see `HeaderName` in the core's `response.rs`).
const OWNED: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "content-range",
    "etag",
    "last-modified",
    "cache-control",
    "vary",
    "accept-ranges",
    "location",
    "allow",
    "x-content-type-options",
    "referrer-policy",
    "content-security-policy",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "date",
    "server",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The pattern, as written: `/search/*`.
    pub pattern: String,
    /// Lower-case names and their values, in the order written.
    pub headers: Vec<(String, String)>,
}

/// The rules of `_headers`, if the site has one (in a versioned tree, each version's, its
/// patterns under the version's folder); the file leaves the list of files.
pub fn compile(files: &mut Vec<SiteFile>, sites: &[String]) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for site in sites {
        if let Some(file) = walk::take(files, &format!("{site}{HEADERS_FILE}")) {
            let parsed = parse(&file.bytes).map_err(|e| format!("{site}{e}"))?;
            rules.extend(parsed.into_iter().map(|rule| Rule {
                pattern: format!("/{site}{}", rule.pattern.trim_start_matches('/')),
                ..rule
            }));
        }
    }
    Ok(rules)
}

/// Parses `_headers`. Errors name the line and what to write instead.
pub fn parse(text: &[u8]) -> Result<Vec<Rule>, String> {
    let text = std::str::from_utf8(text)
        .map_err(|_| format!("{HEADERS_FILE}: not UTF-8; save it as UTF-8"))?;
    let mut rules: Vec<Rule> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let at = |problem: String| format!("{HEADERS_FILE}:{}: {problem}\n  {raw}", i + 1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !raw.starts_with([' ', '\t']) {
            if !line.starts_with('/') || line.contains(char::is_whitespace) {
                return Err(at(
                    "a path line is one path starting with /, such as /assets/*; \
                               header lines below it are indented"
                        .to_owned(),
                ));
            }
            if line.split('/').any(|s| s.starts_with(':')) {
                return Err(at(
                    "placeholders (`:name`) are not supported; use *".to_owned()
                ));
            }
            rules.push(Rule {
                pattern: line.to_owned(),
                headers: Vec::new(),
            });
            continue;
        }
        let Some(rule) = rules.last_mut() else {
            return Err(at("a header line needs a path line above it".to_owned()));
        };
        let Some((name, value)) = line.split_once(':') else {
            return Err(at("a header line is `Name: value`".to_owned()));
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(at(format!("{name:?} is not a header name (RFC 9110 §5.1)")));
        }
        if OWNED.contains(&name.as_str()) {
            return Err(at(format!(
                "{name} is the server's own header (its rules decide it); it cannot be set \
                 per path{}",
                if name == "content-security-policy" {
                    ": set HELLO_WORLD_CSP at build time"
                } else {
                    ""
                }
            )));
        }
        if value.is_empty() || !http_text::field_value::is_valid(value.as_bytes()) {
            return Err(at(format!(
                "{name}: {value:?} is not a valid header value (RFC 9110 §5.5)"
            )));
        }
        rule.headers.push((name, value.to_owned()));
    }
    Ok(rules)
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// The headers the file at `url` (its URL path, as a client asks for it) gets: every matching
/// rule's, in order; a name set by several rules gets their values joined with `, `.
pub fn for_url(rules: &[Rule], url: &str) -> Result<Vec<(String, String)>, String> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for rule in rules.iter().filter(|r| matches(&r.pattern, url)) {
        for (name, value) in &rule.headers {
            match headers.iter_mut().find(|(n, _)| n == name) {
                Some((_, joined)) => {
                    joined.push_str(", ");
                    joined.push_str(value);
                }
                None => headers.push((name.clone(), value.clone())),
            }
        }
    }
    if headers.len() > MAX_PER_FILE {
        return Err(format!(
            "{HEADERS_FILE}: {url} gets {} headers, more than the {MAX_PER_FILE} a response has \
             room for; merge or drop some",
            headers.len()
        ));
    }
    Ok(headers)
}

/// `*` matches any run of characters, `/` included; everything else matches itself.
fn matches(pattern: &str, url: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == url,
        Some((head, tail)) => {
            let Some(rest) = url.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| matches(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_paths_with_indented_headers() {
        let rules = parse(b"# CORS\n/search/*\n  Access-Control-Allow-Origin: *\n\tX-Robots-Tag: noindex\n/\n  X-Frame-Options: DENY\n").unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(
            rules[0].headers,
            [
                ("access-control-allow-origin".to_owned(), "*".to_owned()),
                ("x-robots-tag".to_owned(), "noindex".to_owned())
            ]
        );
        assert_eq!(rules[1].pattern, "/");
    }

    #[test]
    fn a_malformed_line_names_its_line_and_the_fix() {
        for (text, expected) in [
            (
                "  X-A: b\n",
                "_headers:1: a header line needs a path line above it",
            ),
            (
                "/a\n  X-A b\n",
                "_headers:2: a header line is `Name: value`",
            ),
            ("/a\n  X A: b\n", "is not a header name"),
            ("/a\n  X-A: \u{1}\n", "is not a valid header value"),
            (
                "/a\n  Content-Length: 5\n",
                "content-length is the server's own header",
            ),
            ("/a\n  ETag: \"x\"\n", "etag is the server's own header"),
            ("/a\n  Vary: Cookie\n", "vary is the server's own header"),
            (
                "/a\n  Content-Encoding: gzip\n",
                "content-encoding is the server's own header",
            ),
            ("/a\n  Content-Security-Policy: x\n", "set HELLO_WORLD_CSP"),
            (
                "/a\n  Transfer-Encoding: chunked\n",
                "the server's own header",
            ),
            ("a\n", "a path line is one path starting with /"),
            ("/a /b\n", "a path line is one path"),
            ("/:lang/*\n", "placeholders"),
        ] {
            let error = parse(text.as_bytes()).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn patterns_match_whole_urls_and_star_matches_any_run() {
        assert!(matches(
            "/search/search_index.json",
            "/search/search_index.json"
        ));
        assert!(!matches("/search/", "/search/search_index.json"));
        assert!(matches("/search/*", "/search/search_index.json"));
        assert!(matches("/*", "/"));
        assert!(matches("/assets/*.css", "/assets/stylesheets/main.css"));
        assert!(!matches("/assets/*.css", "/assets/app.js"));
    }

    #[test]
    fn headers_of_every_matching_rule_are_merged() {
        let rules = parse(b"/*\n  X-A: 1\n/page/\n  X-A: 2\n  X-B: 3\n").unwrap();
        assert_eq!(
            for_url(&rules, "/page/").unwrap(),
            [
                ("x-a".to_owned(), "1, 2".to_owned()),
                ("x-b".to_owned(), "3".to_owned())
            ]
        );
        assert_eq!(
            for_url(&rules, "/other").unwrap(),
            [("x-a".to_owned(), "1".to_owned())]
        );
    }
}
