//! `native-ceiling --listen ADDR --page FILE`: answers every request on ADDR with FILE's bytes,
//! read once at start, as `200 text/html`. It does what runtime-shim's stack must do for any
//! answer (accept, parse with hyper, write), and nothing of what runtime-shim adds: so
//! runtime-shim ÷ this is the share of the ceiling runtime-shim reaches, as the component ÷ the
//! empty component is for the wasm host.

use std::convert::Infallible;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Response;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [flag_listen, listen, flag_page, page] = args.as_slice() else {
        eprintln!("usage: native-ceiling --listen ADDR --page FILE");
        return ExitCode::from(2);
    };
    if flag_listen != "--listen" || flag_page != "--page" {
        eprintln!("usage: native-ceiling --listen ADDR --page FILE");
        return ExitCode::from(2);
    }
    let page = match std::fs::read(page) {
        Ok(bytes) => Bytes::from(bytes),
        Err(error) => {
            eprintln!("native-ceiling: {page}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("native-ceiling: cannot listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let page = page.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_request| {
                let mut response = Response::new(Full::new(page.clone()));
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                async move { Ok::<_, Infallible>(response) }
            });
            // runtime-shim's connection settings; its timeouts are its own work, not the stack's.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .header_read_timeout(None)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
