//! The adapter between hyper's types and the core's: no HTTP rule lives here.

use std::borrow::Cow;
use std::time::Instant;

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};

use hello_world::{respond, HeaderName as CoreName, HeaderValue as CoreValue, RequestHeaders};

use crate::log::{self, Level};
use crate::metrics::recorded_body::RecordedBody;
use crate::metrics::{self, METRICS};

pub fn handle<B>(request: &Request<B>) -> Response<RecordedBody> {
    // Reading the clock twice per request costs more than the core's lookup: only for the log
    // and the metrics.
    let measured = METRICS.enabled();
    let started = (measured || log::enabled(Level::Info)).then(Instant::now);
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
        if let (Some(name), Some(value)) = (header_name(name), header_value(value)) {
            headers.append(name, value);
        }
    }
    let body = core_response.body.bytes();
    let record = match started {
        Some(started) if measured => {
            let encoding = core_response
                .header(CoreName::ContentEncoding)
                .and_then(|value| match value {
                    CoreValue::Static(coding) => Some(*coding),
                    _ => None,
                });
            let labels = metrics::Request::new(
                request.method().as_str(),
                core_response.status,
                core_response.answered,
                encoding,
            );
            Some((labels, started))
        }
        _ => None,
    };
    let length = body.len();
    let body = match body {
        Cow::Borrowed(bytes) => Bytes::from_static(bytes),
        Cow::Owned(gathered) => Bytes::from(gathered),
    };
    let mut response = Response::new(RecordedBody::new(body, record));
    // The core only produces valid status codes (200-416).
    *response.status_mut() =
        StatusCode::from_u16(core_response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = headers;
    if let Some(started) = started.filter(|_| log::enabled(Level::Info)) {
        log::access(
            request.method().as_str(),
            target,
            core_response.status,
            length,
            started.elapsed(),
        );
    }
    response
}

fn header_name(name: hello_world::HeaderName) -> Option<HeaderName> {
    use hello_world::HeaderName as N;
    Some(match name {
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
        N::Link => header::LINK,
        // A lower-case token, checked at build time; the site compiler's tests hold that.
        N::Site(name) => return HeaderName::from_bytes(name.as_bytes()).ok(),
    })
}

/// Static values are the table's strings and the core's literals; `from_static` would check
/// them byte by byte on every request, which `mise run bench:instructions` showed to be the
/// largest single cost of a request. Formatted values are checked.
fn header_value(value: &CoreValue) -> Option<HeaderValue> {
    match value {
        // SAFETY: not a memory-safety matter; `from_maybe_shared_unchecked` only skips the
        // check that the bytes are a valid field value. Every static value is one: the
        // core's tests check every string of the table
        // (`site::tests::every_table_string_is_a_valid_field_value`) and every header of
        // every kind of response (`tests/never_5xx.rs`).
        CoreValue::Static(s) => Some(unsafe {
            HeaderValue::from_maybe_shared_unchecked(Bytes::from_static(s.as_bytes()))
        }),
        CoreValue::Number(n) => Some(HeaderValue::from(*n)),
        CoreValue::Owned(s) => HeaderValue::from_str(s).ok(),
    }
}
