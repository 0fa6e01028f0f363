//! The bad-input corpus (`tests/corpus/bad-targets.txt`), sent to a running server.

use crate::cases::{decode, Target};
use crate::client::Connection;

#[path = "../../../tests/corpus/vectors.rs"]
mod vectors;

pub use vectors::{load, Vector};

pub fn check(t: &Target, vector: &Vector) -> Result<(), String> {
    let shown = String::from_utf8_lossy(&vector.target[..vector.target.len().min(80)]).into_owned();
    let mut connection = Connection::open(t.addr).map_err(|e| e.to_string())?;
    let reply = connection
        .send(
            "GET",
            &vector.target,
            &[("Connection", "close"), ("Accept-Encoding", "br, gzip")],
        )
        .map_err(|e| format!("{shown}: {e}"))?;
    if !vector.expected.matches(reply.status) {
        return Err(format!(
            "{shown}: expected {:?}, got {}",
            vector.expected, reply.status
        ));
    }
    if reply.status >= 500 {
        return Err(format!("{shown}: {}", reply.status));
    }
    let body = decode(&reply)?;
    match reply.status {
        200 => {
            let is_a_page = hello_world::site::assets()
                .iter()
                .any(|a| t.site.file(a.path) == body);
            if !is_a_page {
                return Err(format!(
                    "{shown}: 200 with bytes that are no file of the site"
                ));
            }
        }
        404 => {
            if body != t.site.file("404.html") {
                return Err(format!("{shown}: 404 body is not the site's 404 page"));
            }
        }
        _ => {
            let plain = reply
                .header("content-type")
                .is_none_or(|t| t.starts_with("text/plain"));
            if !plain || body.len() > 512 {
                return Err(format!(
                    "{shown}: {} with a body that is not a short reason",
                    reply.status
                ));
            }
        }
    }
    Ok(())
}
