//! The response: a status, a short list of headers, and a body that is bytes of the site or a
//! short text of the core's own. The constructors here say which headers each kind of response
//! carries.

use core::fmt;

use crate::negotiate::Coding;
use crate::site::{Asset, Pieces, Redirect, Representation};

/// Enough for the longest response (a 206 with variants plus the security headers), and the
/// most headers the site's `_headers` file may give one file (8, checked at build time).
const MAX_HEADERS: usize = 22;

/// The header names the core ever sends. Shells map them to their own header types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderName {
    ContentType,
    ContentLength,
    ContentEncoding,
    ContentRange,
    ETag,
    LastModified,
    CacheControl,
    Vary,
    AcceptRanges,
    Location,
    Allow,
    XContentTypeOptions,
    ReferrerPolicy,
    ContentSecurityPolicy,
    Link,
    /// A header of the site's `_headers` file: a lower-case token, checked at build time.
    Site(&'static str),
}

impl HeaderName {
    pub const fn as_str(self) -> &'static str {
        match self {
            HeaderName::ContentType => "content-type",
            HeaderName::ContentLength => "content-length",
            HeaderName::ContentEncoding => "content-encoding",
            HeaderName::ContentRange => "content-range",
            HeaderName::ETag => "etag",
            HeaderName::LastModified => "last-modified",
            HeaderName::CacheControl => "cache-control",
            HeaderName::Vary => "vary",
            HeaderName::AcceptRanges => "accept-ranges",
            HeaderName::Location => "location",
            HeaderName::Allow => "allow",
            HeaderName::XContentTypeOptions => "x-content-type-options",
            HeaderName::ReferrerPolicy => "referrer-policy",
            HeaderName::ContentSecurityPolicy => "content-security-policy",
            HeaderName::Link => "link",
            HeaderName::Site(name) => name,
        }
    }
}

/// A header value: almost always a string in the table; a number or a formatted string only
/// for lengths, ranges and redirects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Static(&'static str),
    Number(u64),
    Owned(String),
}

impl HeaderValue {
    /// The value as bytes; a number is written into `digits`. No formatting machinery: the
    /// wasm component pays, per request, for every page and table slot its code touches.
    pub fn as_bytes<'a>(&'a self, digits: &'a mut [u8; 20]) -> &'a [u8] {
        match self {
            HeaderValue::Static(s) => s.as_bytes(),
            HeaderValue::Owned(s) => s.as_bytes(),
            HeaderValue::Number(n) => {
                let (mut n, mut start) = (*n, digits.len());
                loop {
                    start -= 1;
                    digits[start] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break &digits[start..];
                    }
                }
            }
        }
    }
}

impl fmt::Display for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0; 20];
        // Every value is ASCII: table strings are checked at build time, the rest are formatted.
        f.write_str(core::str::from_utf8(self.as_bytes(&mut digits)).unwrap_or_default())
    }
}

/// What goes on the wire after the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// A short plain text of the core's own (a reason, the health answer), or nothing.
    Text(&'static str),
    /// Bytes of the embedded site (see `Span` and `Pieces` in the `site-table` crate for
    /// where they live on each runtime).
    Site(Pieces),
}

impl Body {
    /// No body: HEAD, 304 and the like.
    pub const EMPTY: Body = Body::Text("");

    pub const fn len(&self) -> usize {
        match self {
            Body::Text(text) => text.len(),
            Body::Site(pieces) => pieces.len(),
        }
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, where the site's blob is in memory (everywhere but in the wasm component):
    /// borrowed, unless the body is pieces of the blob (see `site::gather`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn bytes(&self) -> std::borrow::Cow<'static, [u8]> {
        match self {
            Body::Text(text) => text.as_bytes().into(),
            Body::Site(pieces) => crate::site::gather(*pieces),
        }
    }
}

/// Which of the core's routes answered: what a runtime's metrics and logs count requests by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// A file of the site whose type is HTML.
    Page,
    /// Any other file of the site: stylesheets, scripts, images, the dictionary.
    Asset,
    /// A canonical-URL redirect or one of the site's own.
    Redirect,
    NotFound,
    Health,
    /// A method other than GET and HEAD, or a target the core refuses (4xx with a reason).
    Rejected,
}

impl Answered {
    pub const ALL: [Answered; 6] = [
        Answered::Page,
        Answered::Asset,
        Answered::Redirect,
        Answered::NotFound,
        Answered::Health,
        Answered::Rejected,
    ];

    pub(crate) fn file(asset: &Asset) -> Answered {
        if asset.content_type.starts_with("text/html") {
            Answered::Page
        } else {
            Answered::Asset
        }
    }

    /// The name metrics and logs use: `page`, `asset`, `redirect`, `not_found`, `health`,
    /// `rejected`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Answered::Page => "page",
            Answered::Asset => "asset",
            Answered::Redirect => "redirect",
            Answered::NotFound => "not_found",
            Answered::Health => "health",
            Answered::Rejected => "rejected",
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    headers: [(HeaderName, HeaderValue); MAX_HEADERS],
    header_count: usize,
    pub body: Body,
    /// Set by `respond` from the route taken.
    pub answered: Answered,
}

impl Response {
    fn new(status: u16, body: Body) -> Self {
        Response {
            status,
            headers: [const { (HeaderName::Allow, HeaderValue::Static("")) }; MAX_HEADERS],
            header_count: 0,
            body,
            answered: Answered::Rejected,
        }
    }

    pub(crate) fn push(&mut self, name: HeaderName, value: HeaderValue) {
        debug_assert!(self.header_count < MAX_HEADERS, "raise MAX_HEADERS");
        if let Some(slot) = self.headers.get_mut(self.header_count) {
            *slot = (name, value);
            self.header_count += 1;
        }
    }

    fn push_static(&mut self, name: HeaderName, value: &'static str) {
        self.push(name, HeaderValue::Static(value));
    }

    pub fn headers(&self) -> impl Iterator<Item = (HeaderName, &HeaderValue)> {
        self.headers[..self.header_count]
            .iter()
            .map(|(name, value)| (*name, value))
    }

    /// The first value of `name`, if present.
    pub fn header(&self, name: HeaderName) -> Option<&HeaderValue> {
        self.headers().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// A plain-text response whose body explains itself.
    fn text(status: u16, message: &'static str) -> Self {
        let mut response = Response::new(status, Body::Text(message));
        response.push_static(HeaderName::ContentType, "text/plain; charset=utf-8");
        response.push(HeaderName::ContentLength, length(response.body));
        response.push_static(HeaderName::CacheControl, "no-cache");
        response
    }

    /// 200 with the whole representation.
    pub(crate) fn ok(asset: &Asset, coding: Coding, representation: &Representation) -> Self {
        let mut response = Response::new(200, Body::Site(representation.body));
        response.push_static(HeaderName::ContentType, asset.content_type);
        response.push(HeaderName::ContentLength, length(response.body));
        if let Some(encoding) = coding.content_encoding() {
            response.push_static(HeaderName::ContentEncoding, encoding);
        }
        response.validators_and_caching(asset, representation);
        response.push_static(HeaderName::AcceptRanges, "bytes");
        // What the page's head blocks on, so a browser or a CDN (as 103 Early Hints) can
        // fetch it before the page is parsed; and the dictionary for the pages after it.
        if let Some(link) = asset.link {
            response.push_static(HeaderName::Link, link);
        }
        response
    }

    /// 206 with bytes `first..=last` of the identity representation.
    pub(crate) fn partial(asset: &Asset, first: u64, last: u64) -> Self {
        let whole = asset.identity.body;
        // first <= last < whole.len(), so the range is inside the body.
        let body = Body::Site(
            whole
                .range(first, last)
                .unwrap_or(Pieces { len: 0, ..whole }),
        );
        let mut response = Response::new(206, body);
        response.push_static(HeaderName::ContentType, asset.content_type);
        response.push(HeaderName::ContentLength, length(body));
        response.push(
            HeaderName::ContentRange,
            HeaderValue::Owned(format!("bytes {first}-{last}/{}", whole.len())),
        );
        response.validators_and_caching(asset, &asset.identity);
        response.push_static(HeaderName::AcceptRanges, "bytes");
        response
    }

    /// 304: the headers a cache needs to refresh its copy (RFC 9110 §15.4.5), no body.
    pub(crate) fn not_modified(asset: &Asset, representation: &Representation) -> Self {
        let mut response = Response::new(304, Body::EMPTY);
        response.validators_and_caching(asset, representation);
        response
    }

    fn validators_and_caching(&mut self, asset: &Asset, representation: &Representation) {
        self.push_static(HeaderName::ETag, representation.etag);
        self.push_static(HeaderName::LastModified, asset.last_modified);
        self.push_static(HeaderName::CacheControl, asset.cache_control);
        self.vary(asset);
    }

    fn vary(&mut self, asset: &Asset) {
        // A `dcb` or `dcz` variant depends on the dictionary the client names too (RFC 9842
        // §6.2).
        if asset.dcb.is_some() || asset.dcz.is_some() {
            self.push_static(HeaderName::Vary, "Accept-Encoding, Available-Dictionary");
        } else if asset.has_variants() {
            self.push_static(HeaderName::Vary, "Accept-Encoding");
        }
    }

    pub(crate) fn precondition_failed() -> Self {
        Response::text(
            412,
            "412 Precondition Failed: If-Match or If-Unmodified-Since does not hold\n",
        )
    }

    /// 416 with the length a valid range must stay within.
    pub(crate) fn range_not_satisfiable(asset: &Asset) -> Self {
        let mut response = Response::text(
            416,
            "416 Range Not Satisfiable: the range starts past the end of the file\n",
        );
        response.push(
            HeaderName::ContentRange,
            HeaderValue::Owned(format!("bytes */{}", asset.identity.body.len())),
        );
        response
    }

    /// 404 with the site's own 404 page (negotiated like any page, but without validators:
    /// they would describe the 404 page, not the missing resource).
    pub(crate) fn not_found(page: Option<(&Asset, Coding, &Representation)>) -> Self {
        let Some((asset, coding, representation)) = page else {
            return Response::text(404, "404 Not Found\n");
        };
        let mut response = Response::new(404, Body::Site(representation.body));
        response.push_static(HeaderName::ContentType, asset.content_type);
        response.push(HeaderName::ContentLength, length(response.body));
        if let Some(encoding) = coding.content_encoding() {
            response.push_static(HeaderName::ContentEncoding, encoding);
        }
        response.push_static(HeaderName::CacheControl, "no-cache");
        response.vary(asset);
        response
    }

    /// 308 to a page's one URL, which the caller built from the table (see `resolve.rs`).
    pub(crate) fn permanent_redirect(location: String) -> Self {
        let mut response = Response::text(
            308,
            "308 Permanent Redirect: a folder's page has one URL, the folder's, ending in '/'\n",
        );
        response.push(HeaderName::Location, HeaderValue::Owned(location));
        response
    }

    /// One of the site's own redirects (see `redirect.rs`): its status and `Location`, and as
    /// the body the mkdocs-redirects page it replaces, or a line saying where the page went.
    pub(crate) fn redirect(rule: &'static Redirect, location: String) -> Self {
        let mut response = match &rule.page {
            Some(page) => {
                let page = Pieces::whole(core::slice::from_ref(page));
                let mut response = Response::new(rule.status, Body::Site(page));
                response.push_static(HeaderName::ContentType, "text/html; charset=utf-8");
                response.push(HeaderName::ContentLength, length(response.body));
                response.push_static(HeaderName::CacheControl, "no-cache");
                response
            }
            None => Response::text(
                rule.status,
                match rule.status {
                    301 => "301 Moved Permanently: this page has moved (see Location)\n",
                    302 => "302 Found: this page is elsewhere for now (see Location)\n",
                    307 => {
                        "307 Temporary Redirect: this page is elsewhere for now (see Location)\n"
                    }
                    _ => "308 Permanent Redirect: this page has moved (see Location)\n",
                },
            ),
        };
        response.push(HeaderName::Location, HeaderValue::Owned(location));
        response
    }

    pub(crate) fn method_not_allowed() -> Self {
        let mut response = Response::text(
            405,
            "405 Method Not Allowed: this server only answers GET and HEAD\n",
        );
        response.push_static(HeaderName::Allow, "GET, HEAD");
        response
    }

    /// A 4xx for a bad request target, with the reason as the body.
    pub(crate) fn rejected(status: u16, reason: &'static str) -> Self {
        Response::text(status, reason)
    }

    /// The health probe's answer: never cached, so a probe through a cache still reaches us.
    pub(crate) fn healthy() -> Self {
        let mut response = Response::new(200, Body::Text("ok\n"));
        response.push_static(HeaderName::ContentType, "text/plain; charset=utf-8");
        response.push(HeaderName::ContentLength, length(response.body));
        response.push_static(HeaderName::CacheControl, "no-store");
        response
    }
}

fn length(body: Body) -> HeaderValue {
    HeaderValue::Number(body.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_render_as_decimal() {
        for n in [0, 7, 10, 20815, u64::MAX] {
            assert_eq!(HeaderValue::Number(n).to_string(), n.to_string());
        }
    }
}
