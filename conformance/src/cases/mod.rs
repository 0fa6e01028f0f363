//! The HTTP rules, one small case each, named after the rule, in one module per rule of the core
//! (`src/`). Every case runs against every target (runtime-shim, and the component under
//! wasmtime serve) over real HTTP/1.1, and checks against the built site on disk.
//!
//! A case is a function; its module lists it once in `CASES` (`cases![...]` takes each name
//! from its function), and `rules!` lists the modules, so a test is named
//! `<target>::<rule>::<case>` without any name written twice.

use std::io::Read;

use crate::site::Site;
use testkit::client::{Connection, Reply};

pub type Case = fn(&Target) -> Result<(), String>;

/// A server under test and the site it should be serving.
pub struct Target<'a> {
    pub addr: std::net::SocketAddr,
    pub site: &'a Site,
    /// Reached through nginx configured as ingress-nginx (the `ingress` target); see
    /// [`Target::proxy_answer`].
    pub through_proxy: bool,
}

/// ingress-nginx's `large-client-header-buffers: 4 8k`: a request line must fit in 8 KiB.
const PROXY_REQUEST_LINE_BYTES: usize = 8 * 1024;

impl Target<'_> {
    /// The status nginx answers `method target` with itself, before any proxying, so that no
    /// server can shape the answer; `None` when the request reaches the server. nginx answers
    /// four kinds of request so: TRACE (405, without `Allow`), a method with a lower-case letter
    /// (400; the server says 405), a NUL in the path (400, without the security headers), and a
    /// request line over its header buffer (414).
    pub fn proxy_answer(&self, method: &str, target: &str) -> Option<u16> {
        if !self.through_proxy {
            return None;
        }
        let request_line = method.len() + 1 + target.len() + " HTTP/1.1\r\n".len();
        if method == "TRACE" {
            Some(405)
        } else if method.bytes().any(|b| b.is_ascii_lowercase()) || target.contains("%00") {
            Some(400)
        } else if request_line > PROXY_REQUEST_LINE_BYTES {
            Some(414)
        } else {
            None
        }
    }

    pub fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply, String> {
        self.request_bytes(method, target.as_bytes(), headers)
    }

    pub fn request_bytes(
        &self,
        method: &str,
        target: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<Reply, String> {
        let mut with_close = headers.to_vec();
        with_close.push(("Connection", "close"));
        Connection::open(self.addr)
            .and_then(|mut c| c.send(method, target, &with_close))
            .map_err(|e| format!("{method} {}: {e}", String::from_utf8_lossy(target)))
    }

    pub fn get(&self, target: &str, headers: &[(&str, &str)]) -> Result<Reply, String> {
        self.request("GET", target, headers)
    }
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($msg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    return Err(format!("{}: {:?} != {:?}", format!($($msg)+), left, right));
                }
            }
        }
    };
}

/// `cases![a, b]`: the cases `a` and `b`, each named after its function.
macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        &[$((stringify!($case), $case as super::Case)),*]
    };
}

/// `rules!(a, b)`: declares the modules `a` and `b` and lists their cases as `RULES`.
macro_rules! rules {
    ($($rule:ident),* $(,)?) => {
        $(mod $rule;)*
        /// Every rule module with its cases, in the order the core applies the rules.
        pub const RULES: &[(&str, &[(&str, Case)])] = &[$((stringify!($rule), $rule::CASES)),*];
    };
}

rules!(
    methods,
    target,
    health,
    resolve,
    redirect,
    negotiate,
    dictionary,
    conditional,
    range,
    headers,
    path_headers,
    preload,
    connection
);

/// True when a `Location` is a path of this site: it starts with one `/`, and not with `//`
/// or `/\\`, which clients read as another host.
pub fn stays_on_site(location: &str) -> bool {
    location.starts_with('/') && !location.starts_with("//") && !location.starts_with("/\\")
}

/// The body of a reply, decoded by its Content-Encoding.
pub fn decode(reply: &Reply) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    match reply.header("content-encoding").as_deref() {
        None => out = reply.body.clone(),
        Some("br") => {
            brotli::Decompressor::new(&reply.body[..], 4096)
                .read_to_end(&mut out)
                .map_err(|e| format!("bad brotli: {e}"))?;
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(&reply.body[..])
                .read_to_end(&mut out)
                .map_err(|e| format!("bad gzip: {e}"))?;
        }
        Some(other) => return Err(format!("unexpected Content-Encoding {other}")),
    }
    Ok(out)
}
