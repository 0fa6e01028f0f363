//! The listener, the connections, and the graceful shutdown Kubernetes relies on: on SIGTERM
//! the listener closes, idle connections close, in-flight requests finish, then the process
//! exits 0.

use std::convert::Infallible;
use std::io;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::handler::handle;
use crate::log::{self, Level};
use crate::timeouts::Timeouts;

/// The whole request head, target included, must fit: bigger heads get 431.
const MAX_HEAD_BYTES: usize = 16 * 1024;
const MAX_HEADER_FIELDS: usize = 64;

pub async fn serve(listener: TcpListener, config: Config) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.keep_alive(true)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADER_FIELDS)
        // Timeouts live in `Timeouts`, which separates header time from idle time.
        .header_read_timeout(None);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: keep serving the connections we
                    // have, and try again shortly.
                    log::event(Level::Warn, "accept failed", &format!("error={}", log::quoted(&error.to_string())));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            signal = &mut shutdown => {
                log::event(Level::Info, "shutting down", &format!("signal={signal} in_flight_connections={}", graceful.count()));
                break;
            }
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Timeouts::new(
            stream,
            config.header_timeout,
            config.idle_timeout,
        ));
        let connection = http.serve_connection(
            io,
            service_fn(|request| async move { Ok::<_, Infallible>(handle(&request)) }),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                if log::enabled(Level::Debug) {
                    log::event(
                        Level::Debug,
                        "connection ended with an error",
                        &format!("peer={peer} error={}", log::quoted(&error.to_string())),
                    );
                }
            }
        });
    }

    drop(listener);
    match tokio::time::timeout(config.shutdown_timeout, graceful.shutdown()).await {
        Ok(()) => log::event(Level::Info, "stopped", "in_flight_connections=0"),
        Err(_) => log::event(
            Level::Warn,
            "stopped before every connection finished",
            &format!("shutdown_timeout_s={}", config.shutdown_timeout.as_secs()),
        ),
    }
    Ok(())
}

/// Resolves with the signal's name on SIGTERM (Kubernetes) or SIGINT (Ctrl-C).
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        log::event(
            Level::Error,
            "cannot install signal handlers; graceful shutdown is off",
            "",
        );
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}
