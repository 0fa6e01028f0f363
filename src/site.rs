//! The embedded site: a table generated at build time by `site-compiler`, sorted by path, and
//! its lookup. Nothing here runs at start-up; the table is read-only data in the binary.

use core::cmp::Ordering;

/// The table's types (see the `site-table` crate), with every borrow `'static`.
pub use site_table::{SiteFigures, Span};
pub type Pieces = site_table::Pieces<'static>;
pub type Representation = site_table::Representation<'static>;
pub type DictionaryCompressed = site_table::DictionaryCompressed<'static>;
pub type Asset = site_table::Asset<'static>;
pub type Redirect = site_table::Redirect<'static>;

include!(concat!(env!("OUT_DIR"), "/site.rs"));

/// The bytes of a span, where the blob is in memory (everywhere but in the wasm component,
/// which copies them out through the table's `copy_bodies`).
#[cfg(not(target_arch = "wasm32"))]
pub fn bytes(span: Span) -> &'static [u8] {
    let start = span.start as usize;
    // The table's spans are cut from this blob by the site compiler.
    BODIES.get(start..start + span.len()).unwrap_or_default()
}

/// The blob every span is cut from. It is `include_bytes!` data, so its bytes are also a range
/// of the executable's file: runtime-shim sends large bodies from there (`sendfile.rs`).
#[cfg(not(target_arch = "wasm32"))]
pub fn blob() -> &'static [u8] {
    BODIES
}

/// The file at `path`, if the site has one.
pub fn lookup(path: &str) -> Option<&'static Asset> {
    lookup_joined(path, "")
}

/// The file at `prefix` + `suffix`, found without building the joined string.
pub(crate) fn lookup_joined(prefix: &str, suffix: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|asset| compare_joined(asset.path, prefix, suffix))
        .ok()
        .map(|i| &ASSETS[i])
}

/// Orders `key` against the concatenation `prefix` + `suffix`, byte-wise like `str::cmp`.
fn compare_joined(key: &str, prefix: &str, suffix: &str) -> Ordering {
    let key = key.as_bytes();
    let split = key.len().min(prefix.len());
    key[..split].cmp(&prefix.as_bytes()[..split]).then_with(|| {
        if key.len() < prefix.len() {
            Ordering::Less
        } else {
            key[split..].cmp(suffix.as_bytes())
        }
    })
}

/// The not-found page for `path` (decoded, no leading `/`), served with status 404: the
/// nearest `404.html` up its folders, as Cloudflare Pages finds it. In a versioned tree each
/// version's own page answers for its paths; in one site, the root's answers for all.
pub fn not_found_page(path: &str) -> Option<&'static Asset> {
    nearest_not_found(path, |folder| lookup_joined(folder, NOT_FOUND_PAGE))
}

const NOT_FOUND_PAGE: &str = "404.html";

/// The first folder of `path`, from its own up to the root, for which `find` has a page.
fn nearest_not_found<T>(path: &str, find: impl Fn(&str) -> Option<T>) -> Option<T> {
    let mut folder = &path[..path.rfind('/').map_or(0, |slash| slash + 1)];
    loop {
        if let Some(page) = find(folder) {
            return Some(page);
        }
        if folder.is_empty() {
            return None;
        }
        // Up one: drop the last segment, keeping the slash before it.
        let parent = folder[..folder.len() - 1]
            .rfind('/')
            .map_or(0, |slash| slash + 1);
        folder = &folder[..parent];
    }
}

/// The whole table, sorted by path.
pub fn assets() -> &'static [Asset] {
    &ASSETS
}

/// The redirects, in the order they are tried: `_redirects` from top to bottom, then the
/// mkdocs-redirects pages.
pub fn redirects() -> &'static [Redirect] {
    &REDIRECTS
}

/// The bytes of `pieces`: borrowed from the blob where they are one span of it (nearly every
/// body), gathered where they are several (a page of an older version; see `Pieces`).
#[cfg(not(target_arch = "wasm32"))]
pub fn gather(pieces: Pieces) -> std::borrow::Cow<'static, [u8]> {
    match pieces.as_span() {
        Some(span) => bytes(span).into(),
        None => pieces.iter().flat_map(bytes).copied().collect(),
    }
}

/// True when every span of `body` lies inside one of the table's representations: the check
/// behind "no response carries bytes from outside the site" in the property test and the fuzz
/// target.
pub fn contains(body: Pieces) -> bool {
    body.iter().all(|piece| {
        ASSETS
            .iter()
            .flat_map(Asset::representations)
            .flat_map(|r| r.body.spans)
            .chain(REDIRECTS.iter().filter_map(|r| r.page.as_ref()))
            .any(|span| span.contains(piece))
    })
}

/// The site's figures, as the site compiler counted them (the start-up line reports them).
pub fn figures() -> SiteFigures {
    FIGURES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tried(path: &str, pages: &[&str]) -> (Vec<String>, Option<String>) {
        let asked = core::cell::RefCell::new(Vec::new());
        let found = nearest_not_found(path, |folder| {
            asked.borrow_mut().push(folder.to_owned());
            pages.contains(&folder).then(|| format!("{folder}404.html"))
        });
        (asked.into_inner(), found)
    }

    #[test]
    fn a_missing_path_gets_the_nearest_404_page_up_its_folders() {
        let (asked, found) = tried("0.1.0/guide/gone/page.html", &["0.1.0/", ""]);
        assert_eq!(asked, ["0.1.0/guide/gone/", "0.1.0/guide/", "0.1.0/"]);
        assert_eq!(found.as_deref(), Some("0.1.0/404.html"));
    }

    #[test]
    fn the_roots_404_page_answers_when_no_folder_has_one() {
        let (asked, found) = tried("guide/gone/", &[""]);
        assert_eq!(asked, ["guide/gone/", "guide/", ""]);
        assert_eq!(found.as_deref(), Some("404.html"));
        assert_eq!(tried("gone", &[]), (vec![String::new()], None));
    }

    #[test]
    fn every_table_string_is_a_valid_field_value() {
        let valid = |s: &str| !s.is_empty() && http_text::field_value::is_valid(s.as_bytes());
        assert!(valid(CONTENT_SECURITY_POLICY));
        for asset in &ASSETS {
            for value in [asset.content_type, asset.cache_control, asset.last_modified] {
                assert!(valid(value), "{}: {value:?}", asset.path);
            }
            for representation in asset.representations() {
                assert!(valid(representation.etag), "{}", asset.path);
            }
            for (name, value) in asset.headers {
                assert!(valid(value), "{}: {name}", asset.path);
            }
            if let Some(link) = asset.link {
                assert!(valid(link), "{}: Link", asset.path);
            }
        }
        for redirect in &REDIRECTS {
            assert!(valid(redirect.to), "{}", redirect.from);
        }
    }

    #[test]
    fn every_span_is_inside_the_blob() {
        for representation in ASSETS.iter().flat_map(Asset::representations) {
            for &span in representation.body.spans {
                assert_eq!(bytes(span).len(), span.len());
            }
            assert_eq!(gather(representation.body).len(), representation.body.len());
        }
    }

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(ASSETS.windows(2).all(|w| w[0].path < w[1].path));
    }

    #[test]
    fn joined_lookup_equals_plain_lookup() {
        for asset in &ASSETS {
            let (a, b) = asset.path.split_at(asset.path.len() / 2);
            assert!(core::ptr::eq(lookup_joined(a, b).unwrap(), asset));
            assert!(core::ptr::eq(lookup(asset.path).unwrap(), asset));
        }
        assert!(lookup("").is_none());
        assert!(lookup_joined("index", ".htm").is_none());
        assert!(lookup_joined("index.html", "x").is_none());
    }
}
