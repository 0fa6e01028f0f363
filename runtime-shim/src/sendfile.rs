//! Mid-size bodies leave through sendfile(2) from the executable's own file, as nginx sends
//! files.
//!
//! Written from memory, a large page costs its copy into the socket (`_copy_from_iter` leads
//! runtime-shim's CPU profile on large pages; the docs' "Where the time goes" has the figures),
//! where nginx's sendfile hands the file's page-cache pages to the socket without copying them. The site's
//! blob is `include_bytes!` data: a read-only mapping of the executable, whose pages are the
//! page cache's pages of that same file. So a slice of the blob is also a range of
//! `/proc/self/exe`, at the offset its mapping gives (`/proc/self/maps`), and it can leave the
//! way nginx's files do. hyper keeps writing the response: it hands this socket the head and
//! the body as one vectored write, and [`Socket`] sends the head and the body's first bytes up
//! to a page boundary with `MSG_MORE`, then the rest with sendfile, where hyper would have used
//! one writev.

use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// The body sizes sent from the file; the others are written from memory. Chosen by measuring
/// CPU time per request on Python's docs, writev against sendfile, at body sizes around both
/// ends (the docs' "Where the time goes" has the figures, `mise run bench` the method): below
/// the range one writev costs what two calls do; above it the copy is cheaper, as the receiver
/// copies out of page-cache fragments and sendfile moves 16 pages per push.
const SIZES: std::ops::RangeInclusive<usize> = 128 * 1024..=1024 * 1024;

/// The executable, open, and where the blob lies in it.
pub struct BlobFile {
    file: File,
    blob: &'static [u8],
    /// The blob's first byte's offset in `file`.
    offset: u64,
    /// The size of the page cache's pages (4 KiB on x86-64): sendfile's pipe holds 16.
    page: u64,
}

static BLOB_FILE: OnceLock<Result<BlobFile, String>> = OnceLock::new();

/// The blob's file, found once per process; the reason where it cannot be used (no `/proc`, a
/// blob that is not file-backed, a file that differs from memory), and bodies are then written
/// from memory.
pub fn blob_file() -> Result<&'static BlobFile, &'static str> {
    BLOB_FILE
        .get_or_init(|| BlobFile::open(hello_world::site::blob()))
        .as_ref()
        .map_err(String::as_str)
}

impl BlobFile {
    fn open(blob: &'static [u8]) -> Result<BlobFile, String> {
        if blob.is_empty() {
            return Err("the site has no bodies".to_owned());
        }
        let file =
            File::open("/proc/self/exe").map_err(|e| format!("cannot open /proc/self/exe: {e}"))?;
        let inode = file.metadata().map_err(|e| e.to_string())?.ino();
        let maps = std::fs::read_to_string("/proc/self/maps")
            .map_err(|e| format!("cannot read /proc/self/maps: {e}"))?;
        let offset = offset_in_file(&maps, blob, inode)
            .ok_or("the blob is not in one read-only mapping of the executable")?;
        // SAFETY: sysconf has no preconditions.
        let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
            .map_err(|_| "the page size is unknown")?;
        let blob_file = BlobFile {
            file,
            blob,
            offset,
            page,
        };
        blob_file.check()?;
        Ok(blob_file)
    }

    /// The bytes at both ends of the blob's range in the file are the blob's: a wrong offset
    /// would send wrong bodies, so it is checked before any is sent.
    fn check(&self) -> Result<(), String> {
        let len = self.blob.len().min(4096);
        let mut read = vec![0; len];
        for start in [0, self.blob.len() - len] {
            self.file
                .read_exact_at(&mut read, self.offset + start as u64)
                .map_err(|e| format!("cannot read the executable: {e}"))?;
            if read != self.blob[start..start + len] {
                return Err("the executable's bytes differ from the blob in memory".to_owned());
            }
        }
        Ok(())
    }

    /// `body`'s offset in the file, if it is a slice of the blob.
    fn offset_of(&self, body: &[u8]) -> Option<u64> {
        let start = (body.as_ptr() as usize).checked_sub(self.blob.as_ptr() as usize)?;
        (start + body.len() <= self.blob.len()).then_some(self.offset + start as u64)
    }

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
        &self,
        socket: i32,
        head: &[IoSlice<'_>],
        body: &[u8],
        offset: u64,
    ) -> io::Result<usize> {
        let to_boundary = ((self.page - offset % self.page) % self.page) as usize;
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
        let sent =
            unsafe { libc::sendfile(socket, self.file.as_raw_fd(), &mut offset, from_file.len()) };
        match sent {
            sent if sent >= 0 => Ok(from_memory + sent as usize),
            // What was sent counts; the error comes back on the next call, which starts there.
            _ if from_memory > 0 => Ok(from_memory),
            _ => Err(io::Error::last_os_error()),
        }
    }
}

/// The offset in the file of `blob`, where `/proc/self/maps` (`maps`) shows it inside one
/// read-only private mapping of the file with `inode`: its pages are then the file's.
fn offset_in_file(maps: &str, blob: &[u8], inode: u64) -> Option<u64> {
    let (start, end) = (
        blob.as_ptr() as u64,
        blob.as_ptr() as u64 + blob.len() as u64,
    );
    maps.lines().find_map(|line| {
        // start-end perms offset dev inode path
        let mut fields = line.split_ascii_whitespace();
        let (from, to) = fields.next()?.split_once('-')?;
        let (from, to) = (
            u64::from_str_radix(from, 16).ok()?,
            u64::from_str_radix(to, 16).ok()?,
        );
        let perms = fields.next()?;
        let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
        let _device = fields.next()?;
        let mapped = fields.next()?.parse::<u64>().ok()?;
        let read_only = perms.starts_with("r-") && perms.ends_with('p');
        (from <= start && end <= to && read_only && mapped == inode)
            .then(|| offset + (start - from))
    })
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
                blob_file.send(socket, &bufs[..at], &bufs[at], offset)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blob_is_found_in_the_executable_with_its_own_bytes() {
        // This test binary embeds the site too: the same lookup finds and checks it.
        let blob_file = blob_file().unwrap();
        let blob = hello_world::site::blob();
        assert_eq!(blob_file.offset_of(blob), Some(blob_file.offset));
        let mut read = vec![0; blob.len()];
        blob_file
            .file
            .read_exact_at(&mut read, blob_file.offset)
            .unwrap();
        assert!(read == blob);
    }

    #[test]
    fn only_slices_of_the_blob_have_an_offset() {
        let blob_file = blob_file().unwrap();
        let blob = hello_world::site::blob();
        assert_eq!(
            blob_file.offset_of(&blob[10..20]),
            Some(blob_file.offset + 10)
        );
        assert_eq!(blob_file.offset_of(b"elsewhere"), None);
        let last_byte = &blob[blob.len() - 1..];
        assert_eq!(
            blob_file.offset_of(last_byte),
            Some(blob_file.offset + blob.len() as u64 - 1)
        );
    }

    #[test]
    fn a_mapping_that_is_writable_or_of_another_file_is_not_the_blob() {
        let blob = [0u8; 16];
        let at = blob.as_ptr() as u64;
        let line = |perms: &str, inode: u64| {
            format!(
                "{:x}-{:x} {perms} 00001000 08:01 {inode} /x\n",
                at - 0x10,
                at + 0x100
            )
        };
        assert_eq!(offset_in_file(&line("r--p", 7), &blob, 7), Some(0x1010));
        assert_eq!(offset_in_file(&line("r-xp", 7), &blob, 7), Some(0x1010));
        assert_eq!(offset_in_file(&line("rw-p", 7), &blob, 7), None);
        assert_eq!(offset_in_file(&line("r--s", 7), &blob, 7), None);
        assert_eq!(offset_in_file(&line("r--p", 8), &blob, 7), None);
    }
}
