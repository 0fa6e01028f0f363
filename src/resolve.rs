//! Which file a path names: the file itself or a directory's `index.html`; otherwise the one
//! URL of a page (a folder's URL ends in `/` and does not name `index.html`), one of the site's
//! own redirects, or nothing.

use crate::redirect;
use crate::site::{lookup, lookup_joined, Asset, Redirect};

pub enum Resolution {
    File(&'static Asset),
    /// The path names a folder's page another way (without its slash, or with `index.html`);
    /// the value is the page's one URL.
    Canonical(String),
    /// A redirect of the site's own, and its `Location`.
    Redirect(&'static Redirect, String),
    Missing,
}

/// `path` is decoded and has no leading `/`; `query` is the raw query, if any.
pub fn resolve(path: &str, query: Option<&str>) -> Resolution {
    if path.is_empty() || path.ends_with('/') {
        if let Some(index) = lookup_joined(path, "index.html") {
            return Resolution::File(index);
        }
    } else if let Some(asset) = lookup(path) {
        if path == "index.html" || path.ends_with("/index.html") {
            return Resolution::Canonical(location(asset, query));
        }
        return Resolution::File(asset);
    } else if let Some(index) = lookup_joined(path, "/index.html") {
        return Resolution::Canonical(location(index, query));
    }
    match redirect::find(path, query) {
        Some((rule, location)) => Resolution::Redirect(rule, location),
        None => Resolution::Missing,
    }
}

/// `/` + the directory's key from the table, percent-encoded, + `/` + the query as sent.
/// Built from the table and not from the request, so it cannot start with `//` or `/\` and
/// cannot point off-site, whatever the request held.
fn location(index: &Asset, query: Option<&str>) -> String {
    let directory = http_text::path::page_path(index.path);
    let mut location = String::with_capacity(directory.len() + 2);
    location.push('/');
    http_text::path::encode_into(&mut location, directory);
    if let Some(query) = query {
        location.push('?');
        location.push_str(query);
    }
    location
}
