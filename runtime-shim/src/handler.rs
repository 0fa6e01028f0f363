//! The adapter between hyper's types and the core's: no HTTP rule lives here.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};

use hello_world::{respond, HeaderValue as CoreValue, RequestHeaders};

use crate::log;

pub fn handle<B>(request: &Request<B>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    // hyper parsed the target already; origin form is what the core expects. `*` (OPTIONS)
    // and authority form (CONNECT) have no path and reach the core as they are.
    let target = request
        .uri()
        .path_and_query()
        .map_or(b"".as_slice(), |pq| pq.as_str().as_bytes());
    let core_request = hello_world::Request {
        method: request.method().as_str().as_bytes(),
        target,
        headers: RequestHeaders::from_fields(
            request
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().as_bytes(), value.as_bytes())),
        ),
    };
    let core_response = respond(&core_request);

    let mut headers = HeaderMap::with_capacity(16);
    for (name, value) in core_response.headers() {
        if let Some(value) = header_value(value) {
            headers.append(header_name(name), value);
        }
    }
    let body = core_response.body;
    let mut response = Response::new(Full::new(Bytes::from_static(body)));
    // The core only produces valid status codes (200-416).
    *response.status_mut() =
        StatusCode::from_u16(core_response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = headers;
    log::access(
        request.method().as_str(),
        target,
        core_response.status,
        body.len(),
        started.elapsed(),
    );
    response
}

fn header_name(name: hello_world::HeaderName) -> HeaderName {
    use hello_world::HeaderName as N;
    match name {
        N::ContentType => header::CONTENT_TYPE,
        N::ContentLength => header::CONTENT_LENGTH,
        N::ContentEncoding => header::CONTENT_ENCODING,
        N::ContentRange => header::CONTENT_RANGE,
        N::ETag => header::ETAG,
        N::LastModified => header::LAST_MODIFIED,
        N::CacheControl => header::CACHE_CONTROL,
        N::Vary => header::VARY,
        N::AcceptRanges => header::ACCEPT_RANGES,
        N::Location => header::LOCATION,
        N::Allow => header::ALLOW,
        N::XContentTypeOptions => header::X_CONTENT_TYPE_OPTIONS,
        N::ReferrerPolicy => header::REFERRER_POLICY,
        N::ContentSecurityPolicy => header::CONTENT_SECURITY_POLICY,
    }
}

/// The site compiler validated every table string as a header value at build time, so
/// `from_static` cannot fail; formatted values are checked.
fn header_value(value: &CoreValue) -> Option<HeaderValue> {
    match value {
        CoreValue::Static(s) => Some(HeaderValue::from_static(s)),
        CoreValue::Number(n) => Some(HeaderValue::from(*n)),
        CoreValue::Owned(s) => HeaderValue::from_str(s).ok(),
    }
}
