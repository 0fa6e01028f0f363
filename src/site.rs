//! The embedded site: a table generated at build time by `site-compiler`, sorted by path, and
//! its lookup. Nothing here runs at start-up; the table is read-only data in the binary.

use core::cmp::Ordering;

/// Where a representation's bytes are: a range of the site's one blob of bodies. The core only
/// ever narrows a span (ranges) and measures it; writing the bytes is the shell's job.
///
/// Natively the blob is a static of the binary ([`Span::bytes`]). In the wasm component it is
/// not in linear memory at all: `component-packer` moves it into a passive data segment, and the
/// component copies out only the bytes a response needs, through the table's `copy_bodies`. A host that resets linear memory after
/// every request (Spin keeps and rewrites the first 2 MiB) then resets a few pages, not the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    pub const fn len(self) -> usize {
        self.len as usize
    }

    pub const fn is_empty(self) -> bool {
        self.len == 0
    }

    /// Bytes `first..=last` of this span, if they are inside it.
    pub fn range(self, first: u64, last: u64) -> Option<Span> {
        if first > last || last >= u64::from(self.len) {
            return None;
        }
        // Both fit in u32: last < self.len.
        Some(Span {
            start: self.start + first as u32,
            len: (last - first + 1) as u32,
        })
    }

    /// True when every byte of `inner` is a byte of this span.
    pub fn contains(self, inner: Span) -> bool {
        let end = |s: Span| u64::from(s.start) + u64::from(s.len);
        self.start <= inner.start && end(inner) <= end(self)
    }

    /// The bytes, where the blob is in memory (everywhere but in the wasm component).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn bytes(self) -> &'static [u8] {
        let start = self.start as usize;
        // The table's spans are cut from this blob by the site compiler.
        BODIES.get(start..start + self.len()).unwrap_or_default()
    }
}

/// One representation of a file: its bytes as served and its strong validator.
#[derive(Debug)]
pub struct Representation {
    pub body: Span,
    /// Quoted strong entity-tag, e.g. `"5d41402abc4b2a76"`.
    pub etag: &'static str,
}

/// A representation compressed against a dictionary the client holds (RFC 9842 `dcz`:
/// Zstandard after a 40-byte header that names the dictionary).
#[derive(Debug)]
pub struct Dcz {
    /// The dictionary's SHA-256, base64 without padding: what `Available-Dictionary` must name.
    pub dictionary: &'static str,
    pub representation: Representation,
}

/// One file of the site and everything known about it before the first request.
#[derive(Debug)]
pub struct Asset {
    /// URL path relative to the site root, percent-decoded: `index.html`, `guide/index.html`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub cache_control: &'static str,
    /// `Last-Modified` as an IMF-fixdate, and the same instant in seconds since the epoch.
    pub last_modified: &'static str,
    pub modified: u64,
    pub identity: Representation,
    pub brotli: Option<Representation>,
    pub gzip: Option<Representation>,
    /// For a page, the variant against the site's dictionary (see `dictionary.rs`).
    pub dcz: Option<Dcz>,
    /// What the site's `_headers` file sets for this file's URL: lower-case names, values
    /// checked at build time, none of them a header the core sets itself.
    pub headers: &'static [(&'static str, &'static str)],
    /// For a page, its `Link` value: preloads of what its `<head>` blocks rendering on, and the
    /// site's compression dictionary for the browser to fetch.
    pub link: Option<&'static str>,
}

impl Asset {
    /// True when the response depends on `Accept-Encoding` (and so must say `Vary`).
    pub fn has_variants(&self) -> bool {
        self.brotli.is_some() || self.gzip.is_some() || self.dcz.is_some()
    }

    /// Every representation, identity first.
    pub fn representations(&self) -> impl Iterator<Item = &Representation> {
        core::iter::once(&self.identity)
            .chain(self.brotli.as_ref())
            .chain(self.gzip.as_ref())
            .chain(self.dcz.as_ref().map(|d| &d.representation))
    }
}

/// A redirect the build compiled: a rule of the site's `_redirects` file, or a page the
/// mkdocs-redirects plugin wrote (a meta refresh), which becomes a real 301.
#[derive(Debug)]
pub struct Redirect {
    /// The path it matches, decoded, without the leading `/` and without a trailing `/`; for a
    /// splat (`/docs/*`), the prefix before the `*`, ending in `/`.
    pub from: &'static str,
    pub splat: bool,
    /// The `Location`: an absolute path, percent-encoded, checked at build time to be a page of
    /// the site; a splat's match replaces `:splat`.
    pub to: &'static str,
    pub status: u16,
    /// The mkdocs-redirects page, sent as the body for clients that show it.
    pub page: Option<Span>,
}

include!(concat!(env!("OUT_DIR"), "/site.rs"));

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

/// The site's own not-found page, served with status 404.
pub fn not_found_page() -> Option<&'static Asset> {
    lookup("404.html")
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

/// True when `body` lies inside one of the table's representations: the check behind "no
/// response carries bytes from outside the site" in the property test and the fuzz target.
pub fn contains(body: Span) -> bool {
    ASSETS
        .iter()
        .flat_map(Asset::representations)
        .map(|r| r.body)
        .chain(REDIRECTS.iter().filter_map(|r| r.page))
        .any(|span| span.contains(body))
}

/// Size figures for the start-up line and the build report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub files: usize,
    pub raw_bytes: usize,
    pub brotli_bytes: usize,
    pub gzip_bytes: usize,
    pub dcz_bytes: usize,
}

impl Figures {
    /// Every byte of the blob: the raw files and every kept variant.
    pub fn site_bytes(&self) -> usize {
        self.raw_bytes + self.brotli_bytes + self.gzip_bytes + self.dcz_bytes
    }
}

pub fn figures() -> Figures {
    let sum = |pick: fn(&Asset) -> Option<&Representation>| {
        ASSETS.iter().filter_map(pick).map(|r| r.body.len()).sum()
    };
    let redirect_pages: usize = REDIRECTS.iter().filter_map(|r| r.page).map(Span::len).sum();
    Figures {
        files: ASSETS.len(),
        // The mkdocs-redirects pages are files of the site too, kept as redirect bodies.
        raw_bytes: sum(|a| Some(&a.identity)) + redirect_pages,
        brotli_bytes: sum(|a| a.brotli.as_ref()),
        gzip_bytes: sum(|a| a.gzip.as_ref()),
        dcz_bytes: sum(|a| a.dcz.as_ref().map(|d| &d.representation)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let span = representation.body;
            assert_eq!(span.bytes().len(), span.len());
        }
    }

    #[test]
    fn a_range_of_a_span_stays_inside_it() {
        let span = Span { start: 10, len: 5 };
        assert_eq!(span.range(0, 4), Some(span));
        assert_eq!(span.range(1, 2), Some(Span { start: 11, len: 2 }));
        assert_eq!(span.range(4, 5), None);
        assert_eq!(span.range(3, 2), None);
        assert!(span.contains(Span { start: 14, len: 1 }));
        assert!(!span.contains(Span { start: 14, len: 2 }));
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
