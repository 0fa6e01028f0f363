//! hello-world: a built static site, embedded at build time, served by one pure HTTP core.
//!
//! [`respond`] takes a request and returns a response. It does no I/O, allocates only for
//! percent-decoded paths, redirects and ranges, and knows no runtime's types, so the wasi:http
//! component (`component/`) and the native `runtime-shim` (`runtime-shim/`) share it unchanged. The order in which the rules
//! apply is written here; each rule lives in its own module.

mod conditional;
mod dictionary;
mod health;
mod negotiate;
mod path_headers;
mod range;
mod redirect;
mod request;
pub mod request_body;
mod resolve;
mod response;
mod security_headers;
pub mod site;
mod target;

pub use health::HEALTH_PATH;
pub use request::{Request, RequestHeaders};
pub use response::{Answered, Body, HeaderName, HeaderValue, Response};
pub use target::MAX_TARGET_BYTES;

use conditional::Precondition;
use negotiate::Coding;
use resolve::Resolution;

/// Answers one request.
pub fn respond(request: &Request<'_>) -> Response {
    let (answered, mut response) = route(request);
    response.answered = answered;
    security_headers::add_to(&mut response);
    if request.method == b"HEAD" {
        // Same status and headers as GET, Content-Length included; no body.
        response.body = Body::EMPTY;
    }
    response
}

fn route(request: &Request<'_>) -> (Answered, Response) {
    if request.method != b"GET" && request.method != b"HEAD" {
        return (Answered::Rejected, Response::method_not_allowed());
    }
    let target = match target::parse(request.target) {
        Ok(target) => target,
        Err(rejection) => {
            let response = Response::rejected(rejection.status(), rejection.reason());
            return (Answered::Rejected, response);
        }
    };
    if health::is_health_path(&target.path) {
        return (Answered::Health, Response::healthy());
    }
    match resolve::resolve(&target.path, target.query) {
        Resolution::File(asset) => {
            let mut response = serve(asset, request);
            path_headers::add_to(&mut response, asset);
            (Answered::file(asset), response)
        }
        Resolution::Canonical(location) => {
            (Answered::Redirect, Response::permanent_redirect(location))
        }
        Resolution::Redirect(rule, location) => {
            (Answered::Redirect, Response::redirect(rule, location))
        }
        Resolution::Missing => {
            let page = site::not_found_page(&target.path).map(|page| {
                let (coding, representation) = negotiate::choose(page, &request.headers);
                (page, coding, representation)
            });
            (Answered::NotFound, Response::not_found(page))
        }
    }
}

fn serve(asset: &'static site::Asset, request: &Request<'_>) -> Response {
    let headers = &request.headers;
    // Range is defined for GET only (RFC 9110 §14.2), and served from the identity
    // representation: offsets into a compressed stream are useless to a resuming client.
    let range = if request.method == b"GET" {
        range::parse(&headers.range)
    } else {
        None
    };
    let (coding, representation) = match range {
        Some(_) => (Coding::Identity, &asset.identity),
        None => negotiate::choose(asset, headers),
    };
    match conditional::evaluate(headers, asset, representation.etag) {
        Precondition::Failed => return Response::precondition_failed(),
        Precondition::NotModified => return Response::not_modified(asset, representation),
        Precondition::Proceed => {}
    }
    if let Some(spec) = range {
        if conditional::if_range_allows(&headers.if_range, asset) {
            return match spec.resolve(asset.identity.body.len() as u64) {
                range::Resolved::Satisfiable { first, last } => {
                    Response::partial(asset, first, last)
                }
                range::Resolved::Unsatisfiable => Response::range_not_satisfiable(asset),
            };
        }
    }
    Response::ok(asset, coding, representation)
}
