//! Answers every request with a fixed 12-byte body through the same wasi crate and the same
//! host calls as hello-world's component, and nothing else. Whatever this costs per request
//! is the host's price; hello-world is measured against it.

#![cfg(target_arch = "wasm32")]

use wasi::exports::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Empty;

wasi::http::proxy::export!(Empty with_types_in wasi);

impl Guest for Empty {
    fn handle(_request: IncomingRequest, response_out: ResponseOutparam) {
        const BODY: &[u8] = b"hello world\n";
        let headers = [
            ("content-type".to_owned(), b"text/plain".to_vec()),
            (
                "content-length".to_owned(),
                BODY.len().to_string().into_bytes(),
            ),
        ];
        let Ok(fields) = Fields::from_list(&headers) else {
            return;
        };
        let response = OutgoingResponse::new(fields);
        let Ok(body) = response.body() else { return };
        ResponseOutparam::set(response_out, Ok(response));
        if let Ok(stream) = body.write() {
            let _ = stream.blocking_write_and_flush(BODY);
        }
        let _ = OutgoingBody::finish(body, None);
    }
}
