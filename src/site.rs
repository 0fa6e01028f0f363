//! The embedded site: a table generated at build time by `site-compiler`, sorted by path, and
//! its lookup. Nothing here runs at start-up; the table is read-only data in the binary.

use core::cmp::Ordering;

/// One representation of a file: its bytes as served and its strong validator.
#[derive(Debug)]
pub struct Representation {
    pub body: &'static [u8],
    /// Quoted strong entity-tag, e.g. `"5d41402abc4b2a76"`.
    pub etag: &'static str,
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
}

impl Asset {
    /// True when the response depends on `Accept-Encoding` (and so must say `Vary`).
    pub fn has_variants(&self) -> bool {
        self.brotli.is_some() || self.gzip.is_some()
    }

    /// Every representation, identity first.
    pub fn representations(&self) -> impl Iterator<Item = &Representation> {
        core::iter::once(&self.identity)
            .chain(self.brotli.as_ref())
            .chain(self.gzip.as_ref())
    }
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

/// True when `body` is a slice of one of the table's representations: the check behind "no
/// response carries bytes from outside the site" in the property test and the fuzz target.
pub fn contains(body: &[u8]) -> bool {
    let range = body.as_ptr_range();
    ASSETS.iter().flat_map(Asset::representations).any(|r| {
        let table = r.body.as_ptr_range();
        table.start <= range.start && range.end <= table.end
    })
}

/// Size figures for the start-up line and the build report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub files: usize,
    pub raw_bytes: usize,
    pub brotli_bytes: usize,
    pub gzip_bytes: usize,
}

pub fn figures() -> Figures {
    let sum = |pick: fn(&Asset) -> Option<&Representation>| {
        ASSETS.iter().filter_map(pick).map(|r| r.body.len()).sum()
    };
    Figures {
        files: ASSETS.len(),
        raw_bytes: sum(|a| Some(&a.identity)),
        brotli_bytes: sum(|a| a.brotli.as_ref()),
        gzip_bytes: sum(|a| a.gzip.as_ref()),
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
