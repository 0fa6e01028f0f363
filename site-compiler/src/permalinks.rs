//! Permalinks: every page URL of the site and every id on it, written as the build's manifest
//! (`OUT_DIR/manifest.json`). Given the previous release's built site (`PREVIOUS_SITE`, a folder
//! or the `site-VERSION.tar.gz` a release attaches), a page URL that the new site neither serves
//! nor redirects is a dead permalink, and fails the build. The ids also serve the link check:
//! a link's `#fragment` must name an element of the page it points at.

use std::collections::{BTreeMap, BTreeSet};

use html5gum::{DefaultEmitter, Token, Tokenizer};
use serde::Serialize;

use crate::redirects::Rule;
use crate::walk::SiteFile;

/// Page URLs (as clients ask for them: a folder's page by the folder's URL) and their ids.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Manifest {
    pub pages: BTreeMap<String, BTreeSet<String>>,
}

impl Manifest {
    /// The manifest of a site's files. The 404 page is no permalink.
    pub fn of(files: &[SiteFile]) -> Manifest {
        let pages = files
            .iter()
            .filter(|f| f.key.ends_with(".html") && f.key != "404.html")
            .map(|f| (url(&f.key), ids(&String::from_utf8_lossy(&f.bytes))))
            .collect();
        Manifest { pages }
    }

    /// The manifest as JSON: `{"pages": {"/url/": ["id", ...], ...}}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("strings and sets of strings serialize") + "\n"
    }
}

/// The URL a client asks for a page by: `/`, `/guide/`, `/page.html`.
fn url(key: &str) -> String {
    format!("/{}", http_text::path::page_path(key))
}

/// Every `id`, and every `name` of an `<a>`, on a page: what a `#fragment` can point at.
pub fn ids(html: &str) -> BTreeSet<String> {
    let mut emitter = DefaultEmitter::default();
    emitter.naively_switch_states(true);
    let mut ids = BTreeSet::new();
    for token in Tokenizer::new_with_emitter(html, emitter).flatten() {
        if let Token::StartTag(tag) = token {
            let mut add = |name: &[u8]| {
                if let Some(value) = tag.attributes.get(name) {
                    ids.insert(String::from_utf8_lossy(&value.value).into_owned());
                }
            };
            add(b"id");
            if tag.name == b"a" {
                add(b"name");
            }
        }
    }
    ids
}

/// The permalink check: the previous release's page URLs that `current` neither serves nor
/// redirects. An error names them when `fail` (SITE_PERMALINK_CHECK), else they are returned.
pub fn check(
    previous: &[SiteFile],
    current: &Manifest,
    redirects: &[Rule],
    fail: bool,
) -> Result<Vec<String>, String> {
    if previous.is_empty() {
        return Ok(Vec::new());
    }
    let dead = dead(&Manifest::of(previous), current, redirects);
    if fail && !dead.is_empty() {
        return Err(format!(
            "{} page(s) of the previous release would be gone, with no redirect:\n  {}\nKeep \
             the pages, or redirect them: a line `/old/ /new/` in docs/_redirects, or the \
             mkdocs-redirects plugin's redirect_maps. SITE_PERMALINK_CHECK=warn builds anyway.",
            dead.len(),
            dead.join("\n  ")
        ));
    }
    Ok(dead)
}

/// The previous release's page URLs that the new site neither serves nor redirects.
fn dead(previous: &Manifest, current: &Manifest, redirects: &[Rule]) -> Vec<String> {
    previous
        .pages
        .keys()
        .filter(|url| !current.pages.contains_key(*url))
        .filter(|url| {
            let path = url.trim_start_matches('/');
            !redirects
                .iter()
                .any(|r| http_text::path::redirect_match(&r.from, r.splat, path).is_some())
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_lists_pages_by_url_with_their_ids() {
        let manifest = Manifest::of(&[
            SiteFile::text(
                "index.html",
                r#"<h1 id="top">t</h1><a name="old-anchor"></a><p id="x">"#,
            ),
            SiteFile::text("guide/index.html", "<h2 id=\"a&quot;b\">"),
            SiteFile::text("404.html", "<h1 id=\"nope\">"),
            SiteFile::text("style.css", "#x {}"),
        ]);
        let urls: Vec<&str> = manifest.pages.keys().map(String::as_str).collect();
        assert_eq!(urls, ["/", "/guide/"]);
        let json: serde_json::Value = serde_json::from_str(&manifest.to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"pages": {"/": ["old-anchor", "top", "x"], "/guide/": ["a\"b"]}})
        );
    }
}
