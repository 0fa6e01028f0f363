//! A request body that no answer reads never costs the client its answer.
//!
//! A static site answers `GET /page` with a body attached without needing that body. Answered
//! at once, with the body's rest unread, the connection ends badly in two ways:
//! - closing a socket whose receive queue holds unread bytes makes the kernel send RST, not FIN
//!   (RFC 1122, 4.2.2.13), and a client still writing its body gets the reset before it reads
//!   the answer: nginx in front answers 502 (`writev() failed (32: Broken pipe) while sending
//!   request to upstream`), curl straight to the server reports no answer;
//! - a proxy that streams the body (Traefik, Go's reverse proxy) stops forwarding it once the
//!   answer is complete, leaves the rest unread on its own client connection, and closes that
//!   one: its client is reset in turn.
//!
//! So the body is read and discarded before the answer is sent ([`discard`]), up to
//! `DISCARD_AT_MOST` bytes, within the header timeout that bounds a request (see timeouts). A
//! longer body gets its answer with `Connection: close`, and the connection closes in stages
//! (RFC 9112, 9.6), as nginx's `lingering_close` does: [`LingeringClose`] shuts our side after
//! the answer and keeps reading what still arrives before it closes. A connection whose
//! requests left nothing unread closes at once.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Stop lingering when the client has sent nothing for this long: it has finished its body,
/// or it is not going to close (Apache's lingering close waits the same).
const QUIET: Duration = Duration::from_secs(2);
/// Stop lingering after this long whatever the client does (nginx's `lingering_time`).
const AT_MOST: Duration = Duration::from_secs(30);

/// Reads `body` to its end and drops it, unless it is longer than the core's
/// `request_body::READ_FIRST_BYTES` or fails: then false, and the rest may still be arriving.
pub async fn discard(mut body: Incoming) -> bool {
    let mut read = 0;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return false;
        };
        if let Some(data) = frame.data_ref() {
            read += data.len() as u64;
            if read > hello_world::request_body::READ_FIRST_BYTES {
                return false;
            }
        }
    }
    true
}

/// Set by the service for each request: is a body that may still be arriving left unread?
#[derive(Clone, Default)]
pub struct BodyInFlight(Arc<AtomicBool>);

impl BodyInFlight {
    pub fn set(&self, left_unread: bool) {
        self.0.store(left_unread, Ordering::Relaxed);
    }

    fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

enum State {
    Open,
    /// Our side is shut; reading and discarding what the client still sends.
    Lingering {
        quiet: Pin<Box<Sleep>>,
        until: Instant,
    },
    Closed,
}

pub struct LingeringClose<S> {
    io: S,
    body_in_flight: BodyInFlight,
    state: State,
}

impl<S> LingeringClose<S> {
    pub fn new(io: S, body_in_flight: BodyInFlight) -> Self {
        LingeringClose {
            io,
            body_in_flight,
            state: State::Open,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> LingeringClose<S> {
    /// Reads and discards until the client closes, falls quiet, or `AT_MOST` has passed.
    fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let State::Lingering { quiet, until } = &mut self.state else {
            return Poll::Ready(());
        };
        let mut scratch = [0u8; 16 * 1024];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    let now = Instant::now();
                    if now >= *until {
                        return Poll::Ready(());
                    }
                    quiet.as_mut().reset((now + QUIET).min(*until));
                }
                // End of stream, or the socket failed: either way nothing more will come.
                Poll::Ready(_) => return Poll::Ready(()),
                Poll::Pending => return quiet.as_mut().poll(cx),
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LingeringClose<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for LingeringClose<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match this.state {
                State::Open => {
                    // Our FIN goes after the response's last byte: the client has its answer
                    // whatever happens next.
                    ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
                    this.state = if this.body_in_flight.get() {
                        let now = Instant::now();
                        State::Lingering {
                            quiet: Box::pin(tokio::time::sleep_until(now + QUIET)),
                            until: now + AT_MOST,
                        }
                    } else {
                        State::Closed
                    };
                }
                State::Lingering { .. } => {
                    ready!(this.poll_linger(cx));
                    this.state = State::Closed;
                }
                State::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}
