//! While the server drains (after SIGTERM), the health path answers `503`, so that the
//! kubelet's readiness probe fails and the pod's endpoint stops being `serving` in its
//! EndpointSlice. Proxies that read EndpointSlices then stop sending the pod new requests
//! before its listener closes at the end of the drain. This matters for Traefik: its Ingress
//! NGINX provider (v3.6) keeps a terminating endpoint in its pool for as long as it is
//! `serving`, and does not retry a refused connection, so without this every request it sent
//! after the listener closed was a `502`. Everything else is still served during the drain.

use std::time::Instant;

use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};

use crate::log;
use crate::metrics::recorded_body::RecordedBody;

const BODY: &[u8] = b"draining: this server is shutting down\n";

/// The answer to a probe of the health path while draining; `None` for every other request.
pub fn answer<B>(request: &Request<B>) -> Option<Response<RecordedBody>> {
    if request.uri().path() != hello_world::HEALTH_PATH {
        return None;
    }
    let started = Instant::now();
    let mut response = Response::new(RecordedBody::new(Bytes::from_static(BODY), None));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    log::access(
        request.method().as_str(),
        request.uri().path().as_bytes(),
        StatusCode::SERVICE_UNAVAILABLE.as_u16(),
        BODY.len(),
        started.elapsed(),
    );
    Some(response)
}
