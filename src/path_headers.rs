//! The headers the site's `_headers` file sets for a path (Netlify's syntax; see the site
//! compiler's `headers.rs`): worked out per file at build time, added to every response for
//! that file. None of them can be a header the core sets, so they add and never override.

use crate::response::{HeaderName, HeaderValue, Response};
use crate::site::Asset;

pub fn add_to(response: &mut Response, asset: &Asset) {
    for (name, value) in asset.headers {
        response.push(HeaderName::Site(name), HeaderValue::Static(value));
    }
}
