//! The wasi:http 0.2 entry point (`wasi:http/incoming-handler`), for Spin, SpinKube and any
//! wasi:http host. A thin adapter: it turns the host's request into the core's and the core's
//! response into the host's, and holds no HTTP rule. It imports no Spin API and makes no
//! outgoing requests, so every host runs the same file.
//!
//! The site's bytes are not in this module's linear memory: cargo links it to a core module
//! (see `build.rs`) and `component-packer` puts the site in a passive data segment behind the
//! table's `copy_bodies` import before it makes the component. A response copies in only what it sends, a
//! chunk at a time, so the memory a host resets after each request stays a few pages.
//!
//! The shell exists only for wasm32: on other targets this crate is empty, so `cargo test
//! --workspace` can still build it (its tests read the built component, see `tests/`).

#![cfg(target_arch = "wasm32")]

use wasi::clocks::monotonic_clock;
use wasi::exports::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasi::io::poll;
use wasi::io::streams::{InputStream, OutputStream, StreamError};

use hello_world::site::copy_bodies;
use hello_world::{respond, Body, Request, RequestHeaders};

/// The most site bytes in linear memory at once: every page a copy touches is a page the host
/// resets after the request, and 64 KiB already answers most files in one write.
const CHUNK: u32 = 64 * 1024;
/// How long an instance reads and drops a request body before its answer (the core's
/// `request_body::READ_FIRST_BYTES` at most): a client slower than that gets its answer first.
const READ_FIRST_NS: u64 = 10_000_000_000;
/// How long an instance keeps dropping the rest of a request body after its answer (nginx's
/// `lingering_time`); a body still arriving after that meets the host's close.
const DISCARD_FOR_NS: u64 = 30_000_000_000;

struct Component;

wasi::http::proxy::export!(Component with_types_in wasi);

impl Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let method = request.method();
        let target = request.path_with_query().unwrap_or_default();
        let fields = request.headers().entries();
        let body_follows = fields.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("transfer-encoding")
                || (name.eq_ignore_ascii_case("content-length") && value.as_slice() != b"0")
        });
        // The request body, dropped before the answer as far as the bounds allow (see
        // `request_body` in the core): a proxy in front is then done sending when the answer
        // comes, and no reset can overtake it.
        let request_body = body_follows.then(|| request.consume().ok()).flatten();
        let stream = request_body.as_ref().and_then(|body| body.stream().ok());
        let body_read = stream.as_ref().is_none_or(|stream| {
            skip_body(
                stream,
                READ_FIRST_NS,
                hello_world::request_body::READ_FIRST_BYTES,
            )
        });
        let response = respond(&Request {
            method: method_bytes(&method),
            target: target.as_bytes(),
            headers: RequestHeaders::from_fields(
                fields
                    .iter()
                    .map(|(name, value)| (name.as_bytes(), value.as_slice())),
            ),
        });

        let mut digits = [0; 20];
        let headers: Vec<(String, Vec<u8>)> = response
            .headers()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.as_bytes(&mut digits).to_vec(),
                )
            })
            .collect();
        // Every value is a valid field value (checked at build time or formatted from
        // numbers), so the host accepts the list; fall back to no headers rather than no answer.
        let outgoing =
            OutgoingResponse::new(Fields::from_list(&headers).unwrap_or_else(|_| Fields::new()));
        // Each host call costs more than the core's whole answer: skip the ones that change
        // nothing (200 is the default status; HEAD and 304 have no body to stream).
        if response.status != 200 {
            let _ = outgoing.set_status_code(response.status);
        }
        let Ok(body) = outgoing.body() else {
            return;
        };
        ResponseOutparam::set(response_out, Ok(outgoing));
        if !response.body.is_empty() {
            if let Ok(stream) = body.write() {
                // A client that went away is not an error worth reporting to anyone.
                let _ = write_body(&stream, response.body);
            }
        }
        let _ = OutgoingBody::finish(body, None);
        if let (false, Some(stream)) = (body_read, &stream) {
            // The host must not close the connection while the client is still sending: the
            // rest of the body is dropped after the answer too, for a while.
            skip_body(stream, DISCARD_FOR_NS, u64::MAX);
        }
    }
}

/// Skips up to `at_most` bytes of a request body (the host drops them; none enter this
/// instance) for at most `for_ns`; true when the body has ended.
fn skip_body(stream: &InputStream, for_ns: u64, at_most: u64) -> bool {
    let deadline = monotonic_clock::subscribe_duration(for_ns);
    let mut left = at_most;
    while left > 0 {
        let readable = stream.subscribe();
        if poll::poll(&[&readable, &deadline]).contains(&1) {
            return false;
        }
        match stream.skip(left) {
            Ok(skipped) => left -= skipped,
            Err(_) => return true,
        }
    }
    false
}

fn method_bytes(method: &Method) -> &[u8] {
    match method {
        Method::Get => b"GET",
        Method::Head => b"HEAD",
        Method::Post => b"POST",
        Method::Put => b"PUT",
        Method::Delete => b"DELETE",
        Method::Connect => b"CONNECT",
        Method::Options => b"OPTIONS",
        Method::Trace => b"TRACE",
        Method::Patch => b"PATCH",
        Method::Other(other) => other.as_bytes(),
    }
}

/// Hands the body to the host in as few calls as it permits (its budget is 1 MiB per call in
/// wasmtime) and site bytes in chunks of at most [`CHUNK`], without flushing: a flush would make
/// this instance wait until the host has sent the bytes, and the instance can be torn down as
/// soon as `finish` has them.
fn write_body(stream: &OutputStream, body: Body) -> Result<(), StreamError> {
    match body {
        Body::Text(text) => write_all(stream, text.as_bytes()),
        // Nearly always one span; a page of an older version is a few (see `Pieces`).
        Body::Site(pieces) => {
            let mut chunk = Vec::new();
            for span in pieces.iter() {
                let mut copied = 0;
                while copied < span.len {
                    let n = (span.len - copied).min(CHUNK);
                    chunk.clear();
                    chunk.reserve(n as usize);
                    // SAFETY: the destination has room for `n` bytes (reserved above), and
                    // `copy_bodies` writes exactly `n` or traps (a span past the blob).
                    unsafe {
                        copy_bodies(chunk.as_mut_ptr(), span.start + copied, n);
                        chunk.set_len(n as usize);
                    }
                    write_all(stream, &chunk)?;
                    copied += n;
                }
            }
            Ok(())
        }
    }
}

/// Writes `bytes` as fast as the host permits them.
fn write_all(stream: &OutputStream, mut bytes: &[u8]) -> Result<(), StreamError> {
    while !bytes.is_empty() {
        let permitted = stream.check_write()?;
        if permitted == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = bytes
            .len()
            .min(usize::try_from(permitted).unwrap_or(usize::MAX));
        stream.write(&bytes[..n])?;
        bytes = &bytes[n..];
    }
    Ok(())
}
