//! The listener, the connections, and the graceful shutdown a Kubernetes rolling update needs.
//!
//! On SIGTERM or SIGINT:
//! 1. every open connection finishes what it has and closes: a request in progress completes
//!    (its response says `Connection: close`), a connection that has not sent its first
//!    request yet still gets it served (its bytes may already be in the socket), an idle
//!    keep-alive connection closes. Clients and proxies reconnect, and their new connections
//!    go where the Service sends them now: to the pods that stay. Kept alive, a proxy's
//!    connections would bring this pod requests for the whole drain, and in a rolling update
//!    those include the assets of the next release's pages, which this pod does not have (the
//!    e2e's rollout counted 40 such 404s in 10 s with 3 replicas, before this step);
//! 2. for `--drain-delay` seconds the listener stays open: the endpoint is still being removed
//!    from Services and ingress controllers, so new connections keep arriving, and each is
//!    served its first request and closed as in 1. The health path answers `503` (`not_ready`),
//!    so the readiness probe takes the pod out of the endpoints' `serving` set;
//! 3. the listener closes: from now on new connections are refused, not accepted and dropped
//!    (`listener_close` makes sure no connection the kernel accepted is reset on the way);
//! 4. when the last connection is gone, or `--shutdown-timeout` has passed, the process exits 0.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body::Body;
use hyper::header::{HeaderValue, CONNECTION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};

use crate::config::Config;
use crate::handler::handle;
use crate::listener_close;
use crate::log::{self, Level, Value};
use crate::metrics::{listener, METRICS};
use crate::not_ready;
use crate::timeouts::Timeouts;
use crate::unread_body::{self, BodyInFlight, LingeringClose};
use crate::{blob_file, sendfile};

/// The whole request head, target included, must fit: bigger heads get 431.
const MAX_HEAD_BYTES: usize = 16 * 1024;
const MAX_HEADER_FIELDS: usize = 64;

/// Serves `listener` until `signal` (from [`shutdown_signal`]) resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    signal: impl Future<Output = &'static str>,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.keep_alive(true)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADER_FIELDS)
        // Timeouts live in `Timeouts`, which separates header time from idle time.
        .header_read_timeout(None);
    let http = Arc::new(http);
    if let Err(reason) = blob_file::blob_file() {
        log::event(
            Level::Info,
            "large bodies are written from memory, not sent from the file",
            &[("reason", Value::Text(reason))],
        );
    }
    if let Some(address) = config.metrics_listen {
        let metrics = TcpListener::bind(address).await.map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot listen for metrics on {address}: {error}"),
            )
        })?;
        let address = metrics.local_addr().unwrap_or(address);
        METRICS.enable();
        log::event(
            Level::Info,
            "metrics listening",
            &[
                ("addr", Value::Text(&address.to_string())),
                ("path", Value::Text(listener::PATH)),
            ],
        );
        tokio::spawn(listener::serve(metrics, config.clone()));
    }

    // Each connection task holds a sender; when all are dropped, `open.recv()` returns None.
    let (alive, mut open) = mpsc::channel::<()>(1);
    let (stop, stopping) = watch::channel(false);
    let connections = Arc::new(AtomicUsize::new(0));
    let spawn = |stream: TcpStream, peer: SocketAddr| {
        let connection = Connection {
            http: Arc::clone(&http),
            config: config.clone(),
            stopping: stopping.clone(),
            _alive: alive.clone(),
            count: Arc::clone(&connections),
        };
        tokio::spawn(connection.serve(stream, peer));
    };
    let mut signal = std::pin::pin!(signal);
    let mut draining_until = None;

    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            name = &mut signal, if draining_until.is_none() => {
                log::event(
                    Level::Info,
                    "shutting down",
                    &[
                        ("signal", Value::Text(name)),
                        ("drain_delay_s", Value::Number(config.drain_delay.as_secs())),
                        ("open_connections", Value::from(connections.load(Ordering::Relaxed))),
                    ],
                );
                draining_until = Some(tokio::time::Instant::now() + config.drain_delay);
                let _ = stop.send(true);
                continue;
            }
            () = sleep_until(draining_until) => break,
        };
        match accepted {
            Ok((stream, peer)) => spawn(stream, peer),
            Err(error) => {
                // Out of file descriptors and the like: keep serving the connections we
                // have, and try again shortly.
                log::event(
                    Level::Warn,
                    "accept failed",
                    &[("error", Value::Text(&error.to_string()))],
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    // Close the listener without resetting what the kernel has already accepted (see
    // listener_close): no new handshakes, then the ones under way, then the queue.
    if let Err(error) = listener_close::refuse_new_handshakes(&listener) {
        log::event(
            Level::Warn,
            "cannot refuse new handshakes; closing anyway",
            &[("error", Value::Text(&error.to_string()))],
        );
    }
    let grace = tokio::time::sleep(listener_close::HANDSHAKE_GRACE);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            accepted = listener.accept() => if let Ok((stream, peer)) = accepted {
                spawn(stream, peer);
            },
            () = &mut grace => break,
        }
    }
    if let Err(error) = listener_close::take_queued(listener, spawn) {
        log::event(
            Level::Warn,
            "accept failed while closing",
            &[("error", Value::Text(&error.to_string()))],
        );
    }
    drop(alive);
    log::event(
        Level::Info,
        "listener closed",
        &[(
            "open_connections",
            Value::from(connections.load(Ordering::Relaxed)),
        )],
    );
    match tokio::time::timeout(config.shutdown_timeout, open.recv()).await {
        Ok(_) => log::event(
            Level::Info,
            "stopped",
            &[("open_connections", Value::Number(0))],
        ),
        Err(_) => log::event(
            Level::Warn,
            "stopped before every connection finished",
            &[
                (
                    "shutdown_timeout_s",
                    Value::Number(config.shutdown_timeout.as_secs()),
                ),
                (
                    "open_connections",
                    Value::from(connections.load(Ordering::Relaxed)),
                ),
            ],
        ),
    }
    Ok(())
}

/// Never resolves while `deadline` is None.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

struct Connection {
    http: Arc<http1::Builder>,
    config: Config,
    stopping: watch::Receiver<bool>,
    /// Dropped when the connection ends; the server waits for all of them.
    _alive: mpsc::Sender<()>,
    count: Arc<AtomicUsize>,
}

impl Connection {
    async fn serve(self, stream: TcpStream, peer: SocketAddr) {
        self.count.fetch_add(1, Ordering::Relaxed);
        METRICS.connection_opened();
        let _ = stream.set_nodelay(true);
        let first_answered = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(Notify::new());
        let body_in_flight = BodyInFlight::default();
        let service = {
            let body_in_flight = body_in_flight.clone();
            let (first_answered, answered) = (Arc::clone(&first_answered), Arc::clone(&answered));
            let stopping = self.stopping.clone();
            service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let draining = *stopping.borrow();
                let mut response = draining
                    .then(|| not_ready::answer(&request))
                    .flatten()
                    .unwrap_or_else(|| handle(&request));
                if draining {
                    // Shutting down: this connection closes after this response, and says so
                    // (RFC 9112, 9.6), so the client does not send another request on it.
                    response
                        .headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                first_answered.store(true, Ordering::Relaxed);
                answered.notify_one();
                // No answer reads a request body: it is discarded first (see unread_body).
                let body = request.into_body();
                let body_in_flight = body_in_flight.clone();
                async move {
                    let left_unread = !body.is_end_stream() && !unread_body::discard(body).await;
                    body_in_flight.set(left_unread);
                    if left_unread {
                        response
                            .headers_mut()
                            .insert(CONNECTION, HeaderValue::from_static("close"));
                    }
                    Ok::<_, Infallible>(response)
                }
            })
        };
        let io = TokioIo::new(LingeringClose::new(
            Timeouts::new(
                sendfile::Socket::new(stream),
                self.config.header_timeout,
                self.config.idle_timeout,
            ),
            body_in_flight,
        ));
        let connection = self.http.serve_connection(io, service);
        tokio::pin!(connection);

        let mut stopping = self.stopping.clone();
        let ended = tokio::select! {
            result = connection.as_mut() => Some(result),
            _ = stopping.wait_for(|stop| *stop) => None,
        };
        let result = match ended {
            Some(result) => result,
            None => {
                // hyper closes a connection at once when told to shut down before it has read
                // a request. A client that just connected has most likely sent one already:
                // let it be answered first (or stop waiting when the header timeout would).
                let ended = if first_answered.load(Ordering::Relaxed) {
                    None
                } else {
                    tokio::select! {
                        result = connection.as_mut() => Some(result),
                        () = answered.notified() => None,
                        () = tokio::time::sleep(self.config.header_timeout) => None,
                    }
                };
                match ended {
                    Some(result) => result,
                    None => {
                        connection.as_mut().graceful_shutdown();
                        connection.await
                    }
                }
            }
        };
        self.finished(result, peer);
    }

    fn finished(&self, result: Result<(), hyper::Error>, peer: SocketAddr) {
        self.count.fetch_sub(1, Ordering::Relaxed);
        METRICS.connection_closed();
        if let Err(error) = result {
            if log::enabled(Level::Debug) {
                log::event(
                    Level::Debug,
                    "connection ended with an error",
                    &[
                        ("peer", Value::Text(&peer.to_string())),
                        ("error", Value::Text(&error.to_string())),
                    ],
                );
            }
        }
    }
}

/// Resolves with the signal's name on SIGTERM (Kubernetes) or SIGINT (Ctrl-C). The handlers are
/// installed when this is called, not when it is first polled: called before the server says it
/// listens, a signal sent from then on starts the drain instead of killing the process (a pod
/// stopped right after it started, or a test that signals at once).
pub fn shutdown_signal() -> impl Future<Output = &'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = handlers else {
            log::event(
                Level::Error,
                "cannot install signal handlers; graceful shutdown is off",
                &[],
            );
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    }
}
