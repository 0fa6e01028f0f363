//! The site's URLs at build time: where a link found in one of the site's files points, read
//! the way the server will read the request for it (`http_text::path::decode`, one decoder for
//! both), and so which file of the site, if any, it names. The link check, the redirect
//! compiler and the preload hints all resolve links here.

use std::collections::HashSet;

use http_text::path::Undecodable;

/// Where a link found in the file `from` points.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Another origin, or a scheme such as `mailto:`.
    External,
    /// `#top`, `?q=x` or the empty link.
    SamePage,
    /// The key of the file it names (a directory's `index.html` for a directory).
    File(String),
    /// The key it would name, which the site does not have.
    Missing(String),
    Invalid(String),
}

pub fn resolve(keys: &HashSet<&str>, from: &str, link: &str) -> Resolved {
    // HTML strips leading and trailing ASCII whitespace from URL attributes.
    let link = link.trim_matches(|c: char| c.is_ascii_whitespace());
    if is_external(link) {
        return Resolved::External;
    }
    let path = link.split(['#', '?']).next().unwrap_or_default();
    if path.is_empty() {
        return Resolved::SamePage;
    }
    let decoded = match http_text::path::decode(path) {
        Ok(d) => d,
        Err(undecodable) => return Resolved::Invalid(format!("has {}", problem(undecodable))),
    };
    let base = if decoded.starts_with('/') {
        ""
    } else {
        from.rsplit_once('/').map_or("", |(dir, _)| dir)
    };
    let mut segments: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Resolved::Invalid("climbs above the site root".to_owned());
                }
            }
            s => segments.push(s),
        }
    }
    let target = segments.join("/");
    let names_directory = decoded.ends_with('/') || decoded.ends_with("/.") || decoded == ".";
    let index = if target.is_empty() {
        "index.html".to_owned()
    } else {
        format!("{target}/index.html")
    };
    if names_directory || target.is_empty() {
        return if keys.contains(index.as_str()) {
            Resolved::File(index)
        } else {
            Resolved::Missing(index)
        };
    }
    if keys.contains(target.as_str()) {
        Resolved::File(target)
    } else if keys.contains(index.as_str()) {
        Resolved::File(index)
    } else {
        Resolved::Missing(target)
    }
}

/// A scheme (`https:`, `mailto:`, `data:`) or a network-path reference (`//host/...`).
fn is_external(link: &str) -> bool {
    if link.starts_with("//") {
        return true;
    }
    match link.find(':') {
        Some(colon) => {
            let scheme = &link[..colon];
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// What is wrong with a path that does not decode, for a build error.
pub fn problem(undecodable: Undecodable) -> &'static str {
    match undecodable {
        Undecodable::BadPercentEscape => "an invalid percent-escape",
        Undecodable::EncodedSeparator => "an encoded / or \\ (%2F, %5C), which the server refuses",
        Undecodable::ControlCharacter => "an encoded control character, which the server refuses",
        Undecodable::NotUtf8 => "percent-escapes that do not decode to UTF-8",
    }
}
