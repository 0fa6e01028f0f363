//! Which file a path names: the file itself, a directory's `index.html`, or a redirect that
//! adds the missing slash to a directory's URL.

use crate::site::{lookup, lookup_joined, Asset};

pub enum Resolution {
    File(&'static Asset),
    /// The path is a directory without its trailing slash; the value is the redirect target.
    AddSlash(String),
    Missing,
}

/// `path` is decoded and has no leading `/`; `query` is the raw query, if any.
pub fn resolve(path: &str, query: Option<&str>) -> Resolution {
    if path.is_empty() || path.ends_with('/') {
        return lookup_joined(path, "index.html").map_or(Resolution::Missing, Resolution::File);
    }
    if let Some(asset) = lookup(path) {
        return Resolution::File(asset);
    }
    match lookup_joined(path, "/index.html") {
        Some(index) => Resolution::AddSlash(location(index, query)),
        None => Resolution::Missing,
    }
}

/// `/` + the directory's key from the table, percent-encoded, + `/` + the query as sent.
/// Built from the table and not from the request, so it cannot start with `//` or `/\` and
/// cannot point off-site, whatever the request held.
fn location(index: &Asset, query: Option<&str>) -> String {
    let directory = &index.path[..index.path.len() - "index.html".len()];
    let mut location = String::with_capacity(directory.len() + 2);
    location.push('/');
    for byte in directory.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte) {
            location.push(byte as char);
        } else {
            location.push_str(&format!("%{byte:02X}"));
        }
    }
    if let Some(query) = query {
        location.push('?');
        location.push_str(query);
    }
    location
}
