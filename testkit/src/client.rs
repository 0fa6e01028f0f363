//! A raw HTTP/1.1 client: it sends the exact bytes a test wants (hostile targets included,
//! which URL libraries would normalize away) and parses what comes back.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The `Host` every request names: `HELLO_WORLD_HOST`, or `localhost`. The servers ignore it;
/// a proxy in front of them routes by it (the e2e test sets the Ingress host).
pub fn host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        std::env::var("HELLO_WORLD_HOST").unwrap_or_else(|_| "localhost".to_owned())
    })
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The value of a header (names compare ignoring case); several lines are joined by ", ".
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    pub fn has(&self, name: &str) -> bool {
        self.header(name).is_some()
    }
}

/// What a connection carries its bytes over: a TCP stream, or TLS on one.
pub trait Stream: Read + Write + Send {}
impl<S: Read + Write + Send> Stream for S {}

/// A connection that can carry several requests (keep-alive).
pub struct Connection {
    reader: BufReader<Box<dyn Stream>>,
}

impl Connection {
    /// Plain HTTP/1.1 to `addr`.
    pub fn open(addr: SocketAddr) -> io::Result<Connection> {
        Ok(Connection::over(tcp(addr)?))
    }

    /// HTTP/1.1 over a stream the caller opened (TLS on [`tcp`], for a proxy that serves HTTPS).
    pub fn over(stream: impl Stream + 'static) -> Connection {
        Connection {
            reader: BufReader::new(Box::new(stream)),
        }
    }

    /// Sends `method target` with `headers` (plus Host) and reads the reply.
    pub fn send(
        &mut self,
        method: &str,
        target: &[u8],
        headers: &[(&str, &str)],
    ) -> io::Result<Reply> {
        let mut request = Vec::with_capacity(256 + target.len());
        request.extend_from_slice(method.as_bytes());
        request.push(b' ');
        request.extend_from_slice(target);
        request.extend_from_slice(format!(" HTTP/1.1\r\nHost: {}\r\n", host()).as_bytes());
        for (name, value) in headers {
            request.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        self.send_raw(&request, method == "HEAD")
    }

    /// Sends bytes as they are and reads one reply.
    pub fn send_raw(&mut self, request: &[u8], head_request: bool) -> io::Result<Reply> {
        self.reader.get_mut().write_all(request)?;
        self.read_reply(head_request)
    }

    /// Everything the server sends until it closes the connection.
    pub fn read_rest(&mut self) -> io::Result<Vec<u8>> {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest)?;
        Ok(rest)
    }

    fn read_reply(&mut self, head_request: bool) -> io::Result<Reply> {
        let status_line = self.line()?;
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let status = parts
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|_| version.starts_with("HTTP/1."))
            .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = self.line()?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| bad(format!("bad header line {line:?}")))?;
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
        };
        let bodyless =
            head_request || status == 204 || status == 304 || (100..200).contains(&status);
        if bodyless {
            return Ok(reply);
        }
        if let Some(length) = reply.header("content-length") {
            let length: usize = length
                .parse()
                .map_err(|_| bad(format!("content-length {length:?}")))?;
            reply.body.resize(length, 0);
            self.reader.read_exact(&mut reply.body)?;
        } else if reply
            .header("transfer-encoding")
            .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
        {
            reply.body = self.chunked()?;
        } else {
            self.reader.read_to_end(&mut reply.body)?;
        }
        Ok(reply)
    }

    fn chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let size_line = self.line()?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                while !self.line()?.is_empty() {}
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.reader.read_exact(&mut body[start..])?;
            self.line()?;
        }
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = Vec::new();
        let n = self.reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        Ok(String::from_utf8_lossy(&line).into_owned())
    }
}

/// A TCP connection to `addr` with the client's timeouts.
pub fn tcp(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    Ok(stream)
}

fn bad(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
