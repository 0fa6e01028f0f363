//! The HTTP rules, one small case each, named after the rule, in one module per rule of the core
//! (`src/`). Every case runs against every target (runtime-shim, and the component under
//! wasmtime serve) over real HTTP/1.1, and checks against the built site on disk.
//!
//! A case is a function; its module lists it once in `CASES` (`cases![...]` takes each name
//! from its function), and `rules!` lists the modules, so a test is named
//! `<target>::<rule>::<case>` without any name written twice.

use std::io::Read;

use crate::site::Site;
use crate::tls::Tls;
use testkit::client::{Connection, Reply};

pub type Case = fn(&Target) -> Result<(), String>;

/// A server under test and the site it should be serving.
pub struct Target<'a> {
    pub addr: std::net::SocketAddr,
    /// Set when the target serves HTTPS (the ingress controller).
    pub tls: Option<&'a Tls>,
    pub site: &'a Site,
    /// Reached through the cluster's ingress controller (the `ingress` target: Traefik, with
    /// its defaults), which changes two things on the way; see [`Target::identity`] and the
    /// dot-segment case (`target.rs`).
    pub through_proxy: bool,
}

impl Target<'_> {
    /// The headers that ask for the identity representation. Straight to a server that is no
    /// header at all (RFC 9110, 12.5.3). Through Traefik it must be said: its upstream client
    /// (Go's net/http Transport) asks the server for gzip when the client names no encoding,
    /// then decodes the body itself and drops Content-Length, so the client gets the gzip
    /// representation's ETag on identity bytes (traefik/traefik#13075).
    pub fn identity(&self) -> &'static [(&'static str, &'static str)] {
        if self.through_proxy {
            &[("Accept-Encoding", "identity")]
        } else {
            &[]
        }
    }

    /// A new connection to the target, over TLS when it serves HTTPS.
    pub fn connect(&self) -> Result<Connection, String> {
        match self.tls {
            Some(tls) => tls.connect(self.addr),
            None => Connection::open(self.addr),
        }
        .map_err(|e| format!("cannot connect to {}: {e}", self.addr))
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
        self.connect()?
            .send(method, target, &with_close)
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
    versions,
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
