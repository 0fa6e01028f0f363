//! Closing a connection in stages, so that a client still sending a request body reads the
//! answer instead of a reset.
//!
//! A static site answers `GET /page` with a body attached without reading that body, and hyper
//! then ends the connection after the response (it drains only what has already arrived).
//! Closing a socket whose receive queue holds unread bytes makes the kernel send RST, not FIN
//! (RFC 1122, 4.2.2.13), and a client that is still writing the body gets the reset before it
//! reads the response: nginx in front answers 502 (`writev() failed (32: Broken pipe) while
//! sending request to upstream`), curl straight to the server reports no response at all.
//!
//! RFC 9112, 9.6 asks servers to close in stages: half-close the sending side, keep reading
//! until the client closes or is unlikely to send more, then close. nginx does the same
//! (`lingering_close`) for the bodies it does not read. This wrapper does it in
//! `poll_shutdown`, where hyper ends a connection, but only after a request that came with a
//! body: an idle keep-alive connection closed by the graceful shutdown has nothing in flight
//! and closes at once.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Stop lingering when the client has sent nothing for this long: it has finished its body,
/// or it is not going to close (Apache's lingering close waits the same).
const QUIET: Duration = Duration::from_secs(2);
/// Stop lingering after this long whatever the client does (nginx's `lingering_time`).
const AT_MOST: Duration = Duration::from_secs(30);

/// Set by the service for each request: does it come with a body that may still be arriving?
#[derive(Clone, Default)]
pub struct BodyInFlight(Arc<AtomicBool>);

impl BodyInFlight {
    pub fn set(&self, body_follows: bool) {
        self.0.store(body_follows, Ordering::Relaxed);
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
