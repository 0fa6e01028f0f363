//! The embedded site's table: its types, written once. The core serves from a
//! `static [Asset<'static>]`; the site compiler builds the same types from the files it
//! compiled and writes them out as Rust expressions (`bake`, databake's derive), which the
//! core includes. A field added here is a field the generator fills, or the build fails.
//!
//! The types borrow (`'a`) so that the site compiler can build them from its own strings;
//! in the core every borrow is `'static`, read-only data of the binary.

#[cfg(feature = "bake")]
use databake::Bake;

/// Where a representation's bytes are: a range of the site's one blob of bodies. The core only
/// ever narrows a span (ranges) and measures it; writing the bytes is the shell's job.
///
/// Natively the blob is a static of the binary. In the wasm component it is not in linear
/// memory at all: `component-packer` moves it into a passive data segment, and the component
/// copies out only the bytes a response needs. A host that resets linear memory after every
/// request (Spin keeps and rewrites the first 2 MiB) then resets a few pages, not the site.
/// The offsets are `u32`: the component addresses its blob with 32-bit numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "bake", derive(Bake), databake(path = site_table))]
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
}

/// One representation of a file: its bytes as served and its strong validator.
#[derive(Debug)]
#[cfg_attr(feature = "bake", derive(Bake), databake(path = site_table))]
pub struct Representation<'a> {
    pub body: Span,
    /// Quoted strong entity-tag, e.g. `"5d41402abc4b2a76"`.
    pub etag: &'a str,
}

/// A representation compressed against a dictionary the client holds (RFC 9842): `dcb`,
/// brotli after a 36-byte header that names the dictionary, or `dcz`, Zstandard after a 40-byte
/// one.
#[derive(Debug)]
#[cfg_attr(feature = "bake", derive(Bake), databake(path = site_table))]
pub struct DictionaryCompressed<'a> {
    /// The dictionary's SHA-256, base64 without padding: what `Available-Dictionary` must name.
    pub dictionary: &'a str,
    pub representation: Representation<'a>,
}

/// One file of the site and everything known about it before the first request.
#[derive(Debug)]
#[cfg_attr(feature = "bake", derive(Bake), databake(path = site_table))]
pub struct Asset<'a> {
    /// URL path relative to the site root, percent-decoded: `index.html`, `guide/index.html`.
    pub path: &'a str,
    pub content_type: &'a str,
    pub cache_control: &'a str,
    /// `Last-Modified` as an IMF-fixdate, and the same instant in seconds since the epoch.
    pub last_modified: &'a str,
    pub modified: u64,
    pub identity: Representation<'a>,
    pub brotli: Option<Representation<'a>>,
    pub gzip: Option<Representation<'a>>,
    /// For a page, the variants against the site's dictionary; for a bundle, against its
    /// previous release's version. Each is kept only where smaller than brotli.
    pub dcb: Option<DictionaryCompressed<'a>>,
    pub dcz: Option<DictionaryCompressed<'a>>,
    /// What the site's `_headers` file sets for this file's URL: lower-case names, values
    /// checked at build time, none of them a header the core sets itself.
    pub headers: &'a [(&'a str, &'a str)],
    /// For a page, its `Link` value: preloads of what its `<head>` blocks rendering on, and the
    /// site's compression dictionary for the browser to fetch.
    pub link: Option<&'a str>,
}

impl<'a> Asset<'a> {
    /// True when the response depends on `Accept-Encoding` (and so must say `Vary`).
    pub fn has_variants(&self) -> bool {
        self.brotli.is_some() || self.gzip.is_some() || self.dcb.is_some() || self.dcz.is_some()
    }

    /// Every representation, in the order of the fields: identity, brotli, gzip, dcb, dcz.
    pub fn representations(&self) -> impl Iterator<Item = &Representation<'a>> {
        core::iter::once(&self.identity)
            .chain(self.brotli.as_ref())
            .chain(self.gzip.as_ref())
            .chain(self.dcb.as_ref().map(|d| &d.representation))
            .chain(self.dcz.as_ref().map(|d| &d.representation))
    }
}

/// A redirect the build compiled: a rule of the site's `_redirects` file, or a page the
/// mkdocs-redirects plugin wrote (a meta refresh), which becomes a real 301.
#[derive(Debug)]
#[cfg_attr(feature = "bake", derive(Bake), databake(path = site_table))]
pub struct Redirect<'a> {
    /// The path it matches, decoded, without the leading `/` and without a trailing `/`; for a
    /// splat (`/docs/*`), the prefix before the `*`, ending in `/`.
    pub from: &'a str,
    pub splat: bool,
    /// The `Location`: an absolute path, percent-encoded, checked at build time to be a page of
    /// the site; a splat's match replaces `:splat`.
    pub to: &'a str,
    pub status: u16,
    /// The mkdocs-redirects page, sent as the body for clients that show it.
    pub page: Option<Span>,
}

/// How much of an artifact is the site, counted by the site compiler and baked into the table
/// as `FIGURES`: the core's start-up line reports them, and `component-packer` weighs the
/// component against its budget (site + 512 KiB of code) with them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "bake", derive(Bake), databake(path = site_table))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SiteFigures {
    pub files: usize,
    /// Raw bytes of every file and of the redirect pages, `carried_bytes` included.
    pub raw_bytes: usize,
    pub brotli_bytes: usize,
    pub gzip_bytes: usize,
    /// The pages' dcb and dcz variants (RFC 9842), and the dictionary they were made against
    /// (part of `raw_bytes`, like any file).
    pub dcb_bytes: usize,
    pub dcz_bytes: usize,
    pub dictionary_bytes: usize,
    /// With `PREVIOUS_SITE`: the bundles that have a delta against their previous version, and
    /// their bytes as brotli and as deltas (part of `dcz_bytes`).
    pub delta_files: usize,
    pub delta_brotli_bytes: usize,
    pub delta_bytes: usize,
    /// The previous release's fingerprinted files kept for version skew, and their raw bytes.
    pub carried_files: usize,
    pub carried_bytes: usize,
    /// The blob as the artifact holds it: each distinct body once, however many files and
    /// variants have it (`site_bytes` counts every one).
    pub stored_bytes: usize,
}

impl SiteFigures {
    /// Every body of every file: raw files and the kept brotli, gzip, dcb and dcz variants,
    /// before equal bodies are stored once (`stored_bytes`).
    pub const fn site_bytes(&self) -> usize {
        self.raw_bytes + self.brotli_bytes + self.gzip_bytes + self.dcb_bytes + self.dcz_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
