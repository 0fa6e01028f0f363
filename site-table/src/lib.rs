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

    /// True when every byte of `inner` is a byte of this span.
    pub fn contains(self, inner: Span) -> bool {
        let end = |s: Span| u64::from(s.start) + u64::from(s.len);
        self.start <= inner.start && end(inner) <= end(self)
    }
}

/// A body's bytes: the spans of the blob that make them, in order, less `skip`
/// bytes at the start, `len` bytes long (a range narrows a body by these two).
///
/// Nearly every body is one span. A page of an older version of versioned docs differs from
/// the same page of the newest version in a few lines (its canonical URL, a paragraph), so the
/// site compiler stores only those lines, and the page is the spans it shares with the newer
/// page with its own lines between them (`table.rs` in `site-compiler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "bake", derive(Bake), databake(path = site_table))]
pub struct Pieces<'a> {
    pub spans: &'a [Span],
    pub skip: u32,
    pub len: u32,
}

impl<'a> Pieces<'a> {
    /// All the bytes of `spans`.
    pub fn whole(spans: &'a [Span]) -> Pieces<'a> {
        let len = spans.iter().map(|p| p.len).sum();
        Pieces {
            spans,
            skip: 0,
            len,
        }
    }

    pub const fn len(self) -> usize {
        self.len as usize
    }

    pub const fn is_empty(self) -> bool {
        self.len == 0
    }

    /// Bytes `first..=last` of these, if they are inside them.
    pub fn range(self, first: u64, last: u64) -> Option<Pieces<'a>> {
        if first > last || last >= u64::from(self.len) {
            return None;
        }
        // Both fit in u32: last < self.len.
        Some(Pieces {
            spans: self.spans,
            skip: self.skip + first as u32,
            len: (last - first + 1) as u32,
        })
    }

    /// The spans of the blob that are these bytes, in order, none of them empty.
    pub fn iter(self) -> impl Iterator<Item = Span> + 'a {
        let (mut skip, mut left) = (self.skip, self.len);
        self.spans.iter().filter_map(move |piece| {
            let start = skip.min(piece.len);
            skip -= start;
            let len = (piece.len - start).min(left);
            left -= len;
            (len > 0).then_some(Span {
                start: piece.start + start,
                len,
            })
        })
    }

    /// The one span these bytes are, when they are one range of the blob.
    pub fn as_span(self) -> Option<Span> {
        // The common case first, without the walk: a body of one span, or a range of one.
        if let [one] = self.spans {
            return Some(Span {
                start: one.start + self.skip,
                len: self.len,
            });
        }
        let mut spans = self.iter();
        match (spans.next(), spans.next()) {
            (Some(span), None) => Some(span),
            (None, _) => Some(Span { start: 0, len: 0 }),
            _ => None,
        }
    }
}

/// One representation of a file: its bytes as served and its strong validator.
#[derive(Debug)]
#[cfg_attr(feature = "bake", derive(Bake), databake(path = site_table))]
pub struct Representation<'a> {
    pub body: Pieces<'a>,
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

    const PIECES: &[Span] = &[
        Span { start: 10, len: 5 },
        Span { start: 40, len: 3 },
        Span { start: 20, len: 4 },
    ];

    #[test]
    fn a_body_is_its_pieces_in_order() {
        let body = Pieces::whole(PIECES);
        assert_eq!(body.len(), 12);
        assert_eq!(body.iter().collect::<Vec<_>>(), PIECES);
        assert_eq!(body.as_span(), None);
        let one = Pieces::whole(&PIECES[..1]);
        assert_eq!(one.as_span(), Some(PIECES[0]));
    }

    #[test]
    fn a_range_of_a_body_is_the_spans_of_those_bytes() {
        let body = Pieces::whole(PIECES);
        let middle = body.range(3, 8).unwrap();
        assert_eq!(
            middle.iter().collect::<Vec<_>>(),
            [
                Span { start: 13, len: 2 },
                Span { start: 40, len: 3 },
                Span { start: 20, len: 1 },
            ]
        );
        assert_eq!(
            body.range(5, 7).unwrap().as_span(),
            Some(Span { start: 40, len: 3 })
        );
        assert_eq!(
            middle.range(1, 1).unwrap().as_span(),
            Some(Span { start: 14, len: 1 })
        );
        assert_eq!(body.range(11, 12), None);
        assert_eq!(body.range(3, 2), None);
    }

    #[test]
    fn a_span_contains_the_spans_inside_it() {
        let span = Span { start: 10, len: 5 };
        assert!(span.contains(Span { start: 14, len: 1 }));
        assert!(!span.contains(Span { start: 14, len: 2 }));
    }
}
