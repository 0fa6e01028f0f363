//! Methods (RFC 9110 §9): GET and HEAD are served, HEAD with GET's headers and no body; every
//! other method gets `405` with `Allow` (`src/lib.rs`: `respond` and `route`).

use testkit::client::Reply;
use super::Target;

pub const CASES: &[(&str, super::Case)] = cases![
    head_has_get_headers_and_no_body,
    other_methods_get_405_with_allow,
];

fn head_has_get_headers_and_no_body(t: &Target) -> Result<(), String> {
    for path in [
        "/",
        "/search/search_index.json",
        "/no-such-page",
        "/architecture",
        "/a/../b",
    ] {
        let get = t.get(path, &[("Accept-Encoding", "br")])?;
        let mut connection = t.connect()?;
        let head = connection
            .send(
                "HEAD",
                path.as_bytes(),
                &[("Accept-Encoding", "br"), ("Connection", "close")],
            )
            .map_err(|e| e.to_string())?;
        ensure_eq!(head.status, get.status, "HEAD {path} status");
        let strip = |r: &Reply| {
            let mut h: Vec<_> = r
                .headers
                .iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case("date"))
                .cloned()
                .collect();
            h.sort();
            h
        };
        ensure_eq!(strip(&head), strip(&get), "HEAD {path} headers");
        // Nothing may follow the head: read what the server sends before it closes.
        let rest = connection.read_rest().map_err(|e| e.to_string())?;
        ensure!(
            rest.is_empty(),
            "HEAD {path} sent {} body bytes",
            rest.len()
        );
    }
    Ok(())
}

fn other_methods_get_405_with_allow(t: &Target) -> Result<(), String> {
    for method in [
        "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW", "get",
    ] {
        let reply = t.request(method, "/", &[("Content-Length", "0")])?;
        ensure_eq!(reply.status, 405, "{method} /");
        ensure_eq!(
            reply.header("allow").as_deref(),
            Some("GET, HEAD"),
            "{method} Allow"
        );
    }
    Ok(())
}
