//! Per-path headers from the site's `_headers` file (`src/path_headers.rs`): on every response
//! for the files their pattern matches, GET, HEAD, 206 and 304 alike, and on no other file.

use super::Target;
use hello_world::site::Asset;

pub const CASES: &[(&str, super::Case)] = cases![
    a_path_gets_its_headers_on_every_response,
    other_paths_do_not_get_them,
    the_headers_file_is_not_served,
];

/// A file of the site with headers from `_headers`.
fn with_headers() -> Result<&'static Asset, String> {
    hello_world::site::assets()
        .iter()
        .find(|a| !a.headers.is_empty())
        .ok_or_else(|| "the site's _headers sets nothing (site/docs/_headers)".into())
}

fn a_path_gets_its_headers_on_every_response(t: &Target) -> Result<(), String> {
    let asset = with_headers()?;
    let path = format!("/{}", asset.path);
    let etag = t.get(&path, &[])?.header("etag").unwrap_or_default();
    for (what, method, extra) in [
        ("GET", "GET", ("Accept-Encoding", "br")),
        ("HEAD", "HEAD", ("Accept-Encoding", "gzip")),
        ("206", "GET", ("Range", "bytes=0-9")),
        ("304", "GET", ("If-None-Match", etag.as_str())),
    ] {
        let reply = t.request(method, &path, &[extra])?;
        for (name, value) in asset.headers {
            ensure_eq!(reply.header(name).as_deref(), Some(*value), "{what} {path}: {name}");
        }
    }
    Ok(())
}

fn other_paths_do_not_get_them(t: &Target) -> Result<(), String> {
    let headers = with_headers()?.headers;
    for path in ["/", "/architecture/", "/no-such-page/"] {
        let reply = t.get(path, &[])?;
        for (name, _) in headers {
            ensure!(!reply.has(name), "{path} has {name}");
        }
    }
    Ok(())
}

fn the_headers_file_is_not_served(t: &Target) -> Result<(), String> {
    ensure_eq!(t.get("/_headers", &[])?.status, 404, "GET /_headers");
    Ok(())
}
