//! Connection timeouts, as an I/O wrapper around the socket.
//!
//! hyper's own header timeout starts when it waits for a request head, so on a keep-alive
//! connection it is also the idle timeout. A proxy in front (ingress-nginx keeps upstream
//! connections for 60 s) needs a long idle timeout; slow-header attacks need a short header
//! timeout. So this wrapper keeps two clocks, from the bytes it sees:
//!
//! - **header timeout**: from the first byte of a request, the server must be able to start
//!   answering within this time (the whole head must have arrived);
//! - **idle timeout**: a connection with no bytes moving, between requests or while a client
//!   stops reading a response, is closed after this time.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::metrics::METRICS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Connected or done answering; waiting for the first byte of the next request.
    Idle,
    /// Bytes of a request have arrived; the answer has not started.
    ReadingRequest,
}

pub struct Timeouts<S> {
    io: S,
    header_timeout: Duration,
    idle_timeout: Duration,
    phase: Phase,
    deadline: Instant,
    sleep: Pin<Box<Sleep>>,
    /// Counted in the metrics' `http_connections_timed_out` (the site's connections, not the
    /// metrics listener's own); once.
    counted: bool,
}

impl<S> Timeouts<S> {
    pub fn new(io: S, header_timeout: Duration, idle_timeout: Duration) -> Self {
        // A new connection gets the header timeout to send its first byte: a client that
        // connects and says nothing is a slow-header attack, not a keep-alive.
        let deadline = Instant::now() + header_timeout;
        Timeouts {
            io,
            header_timeout,
            idle_timeout,
            phase: Phase::Idle,
            deadline,
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
            counted: true,
        }
    }

    /// The same timeouts, not counted in the metrics.
    pub fn untracked(io: S, header_timeout: Duration, idle_timeout: Duration) -> Self {
        Timeouts {
            counted: false,
            ..Timeouts::new(io, header_timeout, idle_timeout)
        }
    }

    fn on_read(&mut self) {
        if self.phase == Phase::Idle {
            self.phase = Phase::ReadingRequest;
            self.deadline = Instant::now() + self.header_timeout;
        }
    }

    fn on_write(&mut self) {
        self.phase = Phase::Idle;
        self.deadline = Instant::now() + self.idle_timeout;
    }

    /// Called where the socket would block: `Pending` until the deadline, then an error that
    /// makes hyper drop the connection.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if self.sleep.deadline() != self.deadline {
            self.sleep.as_mut().reset(self.deadline);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready({
                if std::mem::take(&mut self.counted) {
                    METRICS.timed_out(self.phase == Phase::ReadingRequest);
                }
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    match self.phase {
                        Phase::Idle => "idle timeout",
                        Phase::ReadingRequest => "header timeout",
                    },
                )
            }),
            Poll::Pending => Poll::Pending,
        }
    }

    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.on_write();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending => self.pending_or_timeout(cx),
            failed => failed,
        }
    }

    fn pending_or_timeout<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        self.poll_deadline(cx).map(Err)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Timeouts<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.on_read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.pending_or_timeout(cx),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Timeouts<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write(cx, buf);
        this.after_write(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.after_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_flush(cx) {
            Poll::Pending => this.pending_or_timeout(cx),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_shutdown(cx) {
            Poll::Pending => this.pending_or_timeout(cx),
            ready => ready,
        }
    }
}
