//! Headers every response carries, whatever its status.

use crate::response::{HeaderName, HeaderValue, Response};
use crate::site::CONTENT_SECURITY_POLICY;

const SECURITY_HEADERS: [(HeaderName, &str); 3] = [
    // Stops browsers from guessing a type other than the one the table declares.
    (HeaderName::XContentTypeOptions, "nosniff"),
    // Other sites see the origin of a link from these docs, never the page path.
    (
        HeaderName::ReferrerPolicy,
        "strict-origin-when-cross-origin",
    ),
    // Set at build time (HELLO_WORLD_CSP); the default forbids framing by other origins.
    (HeaderName::ContentSecurityPolicy, CONTENT_SECURITY_POLICY),
];

pub fn add_to(response: &mut Response) {
    for (name, value) in SECURITY_HEADERS {
        response.push(name, HeaderValue::Static(value));
    }
}
