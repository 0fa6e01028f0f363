//! The metrics listener (`--metrics-listen`): `GET /metrics` answers the exposition, on an
//! address of its own so that it is never routed through the Service and Ingress that carry
//! the site. OpenMetrics text when the scraper asks for it (Prometheus does), the Prometheus
//! text format 0.0.4 otherwise (curl, older scrapers).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::log::{self, Level, Value};
use crate::metrics::Exposition;
use crate::timeouts::Timeouts;

pub const PATH: &str = "/metrics";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves the exposition on `listener` until the process ends. The caller has turned
/// recording on (`METRICS.enable()`) before the site's listener accepts anything, so the
/// open-connections gauge sees every close after its open.
pub async fn serve(listener: TcpListener, config: Config) {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Exposition));
    let registry = Arc::new(registry);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                log::event(
                    Level::Warn,
                    "metrics: accept failed",
                    &[("error", Value::Text(&error.to_string()))],
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let registry = Arc::clone(&registry);
        let io = TokioIo::new(Timeouts::untracked(
            stream,
            config.header_timeout,
            config.idle_timeout,
        ));
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let response = answer(&request, &registry);
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = http1::Builder::new().serve_connection(io, service).await;
        });
    }
}

fn answer<B>(request: &Request<B>, registry: &Registry) -> Response<Full<Bytes>> {
    if request.uri().path() != PATH {
        return plain(
            StatusCode::NOT_FOUND,
            "404 Not Found: the metrics are at /metrics\n",
        );
    }
    if request.method() != Method::GET {
        let mut response = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "405 Method Not Allowed: GET /metrics\n",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    let openmetrics = request.headers().get_all(ACCEPT).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.contains("application/openmetrics-text"))
    });
    let mut body = String::with_capacity(16 * 1024);
    let (encoded, content_type) = if openmetrics {
        (text::encode(&mut body, registry), OPENMETRICS)
    } else {
        (
            prometheus_text::encode(&mut body, registry),
            prometheus_text::CONTENT_TYPE,
        )
    };
    if encoded.is_err() {
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error: the metrics could not be encoded\n",
        );
    }
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
