//! Closing the listener without resetting a connection the kernel has already accepted.
//!
//! Closing a listening socket resets every connection in its accept queue and every handshake
//! under way: a client that connected a moment before would see `connection reset` instead of
//! an answer. So the listener closes in three steps:
//!
//! 1. [`refuse_new_handshakes`]: from now on the kernel drops new SYNs (on Linux, with a
//!    socket filter), so no new connection can start; its client retries the SYN about a
//!    second later, finds the listener closed, and sees `connection refused`, which it can
//!    retry elsewhere, instead of a reset request;
//! 2. the handshakes already under way complete within a round trip: the caller keeps
//!    accepting for [`HANDSHAKE_GRACE`];
//! 3. [`take_queued`]: every connection still in the accept queue is taken with accept(2), and
//!    only then is the listener dropped.
//!
//! Each step was needed. Run over and over,
//! `sigterm_under_load_serves_every_accepted_request_and_exits_0` lost requests when the
//! listener closed as soon as tokio's `accept()` found the queue empty, fewer when the queue was
//! drained with accept(2), and none with the SYN filter first.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// Longer than a handshake's round trip between an ingress controller and a pod.
pub const HANDSHAKE_GRACE: Duration = Duration::from_millis(200);

/// Makes the kernel drop new connection requests (SYN without ACK) to `listener`, while the
/// handshakes under way and the queued connections carry on. Where this is not possible
/// (other systems), the drain in [`take_queued`] still takes all that is queued.
pub fn refuse_new_handshakes(listener: &TcpListener) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // Classic BPF over the TCP header (a socket filter sees the segment from its TCP
        // header): flags are byte 13; SYN is 0x02, ACK 0x10. Returning 0 drops the segment.
        let mut program = [
            bpf(0x30, 0, 0, 13),       // ldb [13]
            bpf(0x54, 0, 0, 0x12),     // and #(SYN|ACK)
            bpf(0x15, 0, 1, 0x02),     // jeq #SYN: drop, else accept
            bpf(0x06, 0, 0, 0),        // ret #0
            bpf(0x06, 0, 0, u32::MAX), // ret #all
        ];
        let filter = libc::sock_fprog {
            len: program.len() as u16,
            filter: program.as_mut_ptr(),
        };
        // SAFETY: `filter` points at `program`, which outlives the call; the kernel copies it.
        let result = unsafe {
            libc::setsockopt(
                listener.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                std::ptr::from_ref(&filter).cast(),
                std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
            )
        };
        if result != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = listener;
    Ok(())
}

#[cfg(target_os = "linux")]
fn bpf(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Takes every connection left in the accept queue, asking the kernel with accept(2) until the
/// queue is empty (tokio's `accept()` answers from the reactor's last look at the socket and
/// misses what arrived since), hands each to `serve`, and closes the listener.
pub fn take_queued(
    listener: TcpListener,
    mut serve: impl FnMut(TcpStream, SocketAddr),
) -> io::Result<()> {
    let listener = listener.into_std()?;
    loop {
        match listener.accept() {
            // accept(2) does not pass O_NONBLOCK on to the new socket; tokio needs it.
            Ok((stream, peer)) => {
                stream.set_nonblocking(true)?;
                serve(TcpStream::from_std(stream)?, peer);
            }
            // A client that gave up while queued: the next one may still be waiting.
            Err(error) if error.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(error) => return Err(error),
        }
    }
}
