//! Mid-size bodies leave through sendfile(2) from the executable's own file, as nginx sends
//! files.
//!
//! Written from memory, a large page costs its copy into the socket (`_copy_from_iter` leads
//! runtime-shim's CPU profile on large pages; the docs' "Where the time goes" has the figures),
//! where nginx's sendfile hands the file's page-cache pages to the socket without copying them.
//! The blob's bodies are ranges of the executable (`blob_file.rs`). hyper keeps writing the
//! response: it hands this socket the head and the body as one vectored write, and [`Socket`]
//! sends the head and the body's first bytes up to a page boundary with `MSG_MORE`, then the
//! rest with sendfile, where hyper would have used one writev.

use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

use crate::blob_file::{blob_file, BlobFile};

/// The body sizes sent from the file; the others are written from memory. Chosen by measuring
/// CPU time per request on Python's docs, writev against sendfile, at body sizes around both
/// ends (the docs' "Where the time goes" has the figures, `mise run bench` the method): below
/// the range one writev costs what two calls do; above it the copy is cheaper, as the receiver
/// copies out of page-cache fragments and sendfile moves 16 pages per push.
const SIZES: std::ops::RangeInclusive<usize> = 128 * 1024..=1024 * 1024;

/// Sends `head` and the body's bytes up to the next page boundary of the file from memory
/// (with `MSG_MORE`: the kernel holds them for what follows), then the rest of `body` from
/// the file, from that boundary. Returns the bytes sent, as a write does: fewer than all
/// when the socket's buffer filled up; `WouldBlock` only when nothing was sent.
///
/// Why the boundary: sendfile moves the file through a pipe of 16 pages, one push to the
/// socket per pipeful, so a body that starts mid-page needs a round more than its size
/// does, and fell well behind nginx, whose files start at 0; sent from the boundary, it
/// caught up (the docs' "Where the time goes" has the figures).
fn send(
    blob_file: &BlobFile,
    socket: i32,
    head: &[IoSlice<'_>],
    body: &[u8],
    offset: u64,
) -> io::Result<usize> {
    let to_boundary = ((blob_file.page - offset % blob_file.page) % blob_file.page) as usize;
    let (before, from_file) = body.split_at(to_boundary.min(body.len()));
    let mut slices = Vec::with_capacity(head.len() + 1);
    slices.extend_from_slice(head);
    slices.push(IoSlice::new(before));
    let from_memory: usize = slices.iter().map(|slice| slice.len()).sum();
    if from_memory > 0 {
        let sent = send_more(socket, &slices)?;
        if sent < from_memory || from_file.is_empty() {
            return Ok(sent);
        }
    }
    let mut offset = (offset + before.len() as u64) as libc::off_t;
    // SAFETY: both descriptors are open for the call; `offset` is a valid pointer.
    let sent = unsafe {
        libc::sendfile(
            socket,
            blob_file.file.as_raw_fd(),
            &mut offset,
            from_file.len(),
        )
    };
    match sent {
        sent if sent >= 0 => Ok(from_memory + sent as usize),
        // What was sent counts; the error comes back on the next call, which starts there.
        _ if from_memory > 0 => Ok(from_memory),
        _ => Err(io::Error::last_os_error()),
    }
}

/// sendmsg(2) of `slices` with `MSG_MORE`.
fn send_more(socket: i32, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: `IoSlice` is ABI-compatible with `iovec`; the message borrows `slices`, which
    // outlive the call.
    let sent = unsafe {
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_iov = slices.as_ptr() as *mut libc::iovec;
        message.msg_iovlen = slices.len() as _;
        libc::sendmsg(socket, &message, libc::MSG_MORE | libc::MSG_NOSIGNAL)
    };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

/// A connection's socket that sends mid-size blob bodies from the file.
pub struct Socket {
    tcp: TcpStream,
    blob_file: Option<&'static BlobFile>,
}

impl Socket {
    pub fn new(tcp: TcpStream) -> Socket {
        Socket {
            tcp,
            blob_file: blob_file().ok(),
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // The first slice of the blob in `SIZES`, and what comes before it (a response's head).
        let from_file = this.blob_file.and_then(|blob_file| {
            bufs.iter().enumerate().find_map(|(i, slice)| {
                if !SIZES.contains(&slice.len()) {
                    return None;
                }
                Some((blob_file, i, blob_file.offset_of(slice)?))
            })
        });
        let Some((blob_file, at, offset)) = from_file else {
            return Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        };
        let socket = this.tcp.as_raw_fd();
        loop {
            ready!(this.tcp.poll_write_ready(cx))?;
            // A `WouldBlock` clears the readiness, and the next poll waits for it.
            match this.tcp.try_io(Interest::WRITABLE, || {
                send(blob_file, socket, &bufs[..at], &bufs[at], offset)
            }) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}
