//! The HTTP rules, one small case each, named after the rule. Every case runs against every
//! target (runtime-shim, and the component under wasmtime serve) over real HTTP/1.1, and
//! checks against the built site on disk.

use std::io::Read;

use crate::client::{Connection, Reply};
use crate::site::Site;

pub type Case = fn(&Target) -> Result<(), String>;

/// A server under test and the site it should be serving.
pub struct Target<'a> {
    pub addr: std::net::SocketAddr,
    pub site: &'a Site,
}

impl Target<'_> {
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

pub const CASES: &[(&str, Case)] = &[
    ("get_root_serves_index_html", get_root_serves_index_html),
    (
        "head_has_get_headers_and_no_body",
        head_has_get_headers_and_no_body,
    ),
    (
        "other_methods_get_405_with_allow",
        other_methods_get_405_with_allow,
    ),
    (
        "directory_with_slash_serves_its_index",
        directory_with_slash_serves_its_index,
    ),
    (
        "directory_without_slash_redirects_308_keeping_query",
        directory_without_slash_redirects_308_keeping_query,
    ),
    (
        "location_never_starts_with_two_slashes_or_backslash",
        location_never_starts_with_two_slashes_or_backslash,
    ),
    (
        "missing_page_gets_404_with_site_404_page",
        missing_page_gets_404_with_site_404_page,
    ),
    ("missing_page_is_never_200", missing_page_is_never_200),
    (
        "no_accept_encoding_gets_identity",
        no_accept_encoding_gets_identity,
    ),
    (
        "accept_encoding_br_gets_brotli",
        accept_encoding_br_gets_brotli,
    ),
    (
        "accept_encoding_gzip_gets_gzip",
        accept_encoding_gzip_gets_gzip,
    ),
    (
        "accept_encoding_q_values_are_honoured",
        accept_encoding_q_values_are_honoured,
    ),
    (
        "vary_on_every_resource_with_variants",
        vary_on_every_resource_with_variants,
    ),
    (
        "each_representation_has_its_own_etag",
        each_representation_has_its_own_etag,
    ),
    (
        "content_length_is_always_sent",
        content_length_is_always_sent,
    ),
    (
        "compressed_files_are_served_as_they_are",
        compressed_files_are_served_as_they_are,
    ),
    ("text_types_declare_utf8", text_types_declare_utf8),
    (
        "if_none_match_current_etag_gets_304",
        if_none_match_current_etag_gets_304,
    ),
    (
        "if_none_match_list_weak_and_star_match",
        if_none_match_list_weak_and_star_match,
    ),
    (
        "if_none_match_other_etag_gets_200",
        if_none_match_other_etag_gets_200,
    ),
    (
        "if_modified_since_last_modified_gets_304",
        if_modified_since_last_modified_gets_304,
    ),
    (
        "if_none_match_beats_if_modified_since",
        if_none_match_beats_if_modified_since,
    ),
    (
        "if_match_and_if_unmodified_since_failures_get_412",
        if_match_and_if_unmodified_since_failures_get_412,
    ),
    (
        "single_range_gets_206_with_content_range",
        single_range_gets_206_with_content_range,
    ),
    (
        "unsatisfiable_range_gets_416_with_length",
        unsatisfiable_range_gets_416_with_length,
    ),
    (
        "multiple_ranges_get_whole_file",
        multiple_ranges_get_whole_file,
    ),
    (
        "if_range_keeps_range_only_when_current",
        if_range_keeps_range_only_when_current,
    ),
    (
        "range_is_served_from_identity",
        range_is_served_from_identity,
    ),
    (
        "fingerprinted_assets_are_immutable",
        fingerprinted_assets_are_immutable,
    ),
    ("html_is_revalidated", html_is_revalidated),
    (
        "security_headers_on_every_response",
        security_headers_on_every_response,
    ),
    ("health_path_answers_ok", health_path_answers_ok),
    ("dot_segments_get_400", dot_segments_get_400),
    ("encoded_separators_get_400", encoded_separators_get_400),
    ("nul_and_invalid_utf8_get_400", nul_and_invalid_utf8_get_400),
    ("target_over_8_kib_gets_414", target_over_8_kib_gets_414),
    ("percent_escapes_decode_once", percent_escapes_decode_once),
    (
        "keep_alive_serves_several_requests",
        keep_alive_serves_several_requests,
    ),
];

fn get_root_serves_index_html(t: &Target) -> Result<(), String> {
    let reply = t.get("/", &[])?;
    ensure_eq!(reply.status, 200, "GET /");
    ensure_eq!(
        reply.header("content-type").as_deref(),
        Some("text/html; charset=utf-8"),
        "type"
    );
    ensure!(
        reply.body == t.site.file("index.html"),
        "GET / is not index.html"
    );
    Ok(())
}

fn head_has_get_headers_and_no_body(t: &Target) -> Result<(), String> {
    for path in [
        "/",
        "/search/search_index.json",
        "/no-such-page",
        "/architecture",
        "/a/../b",
    ] {
        let get = t.get(path, &[("Accept-Encoding", "br")])?;
        let mut connection = Connection::open(t.addr).map_err(|e| e.to_string())?;
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

fn directory_with_slash_serves_its_index(t: &Target) -> Result<(), String> {
    let reply = t.get("/architecture/", &[])?;
    ensure_eq!(reply.status, 200, "GET /architecture/");
    ensure!(
        reply.body == t.site.file("architecture/index.html"),
        "not architecture/index.html"
    );
    Ok(())
}

fn directory_without_slash_redirects_308_keeping_query(t: &Target) -> Result<(), String> {
    let reply = t.get("/architecture", &[])?;
    ensure_eq!(reply.status, 308, "GET /architecture");
    ensure_eq!(
        reply.header("location").as_deref(),
        Some("/architecture/"),
        "Location"
    );
    let reply = t.get("/architecture?lang=en&x=%2F", &[])?;
    ensure_eq!(
        reply.header("location").as_deref(),
        Some("/architecture/?lang=en&x=%2F"),
        "Location"
    );
    Ok(())
}

fn location_never_starts_with_two_slashes_or_backslash(t: &Target) -> Result<(), String> {
    for target in [
        "//evil.com/..%2f",
        "//evil.com",
        "//evil.com/",
        "/\\evil.com",
        "/%2fevil.com",
        "/%5cevil.com",
        "//architecture",
        "///architecture",
        "/.//architecture",
        "//%2e%2e",
        "/%09/evil.com",
        "/architecture?//evil.com",
        "/http://evil.com",
        "/https:evil.com",
    ] {
        let reply = t.get(target, &[])?;
        if let Some(location) = reply.header("location") {
            ensure!(
                location.starts_with('/')
                    && !location.starts_with("//")
                    && !location.starts_with("/\\"),
                "{target} redirected to {location}"
            );
            ensure!(
                location.starts_with("/architecture/"),
                "{target} redirected to {location}"
            );
        }
        ensure!(reply.status < 500, "{target} got {}", reply.status);
    }
    Ok(())
}

fn missing_page_gets_404_with_site_404_page(t: &Target) -> Result<(), String> {
    let reply = t.get("/no-such-page/", &[])?;
    ensure_eq!(reply.status, 404, "GET /no-such-page/");
    ensure!(
        reply.body == t.site.file("404.html"),
        "404 body is not 404.html"
    );
    ensure!(
        !reply.has("etag"),
        "a 404 must not carry the 404 page's ETag"
    );
    let reply = t.get("/no-such-page/", &[("Accept-Encoding", "br")])?;
    ensure_eq!(reply.status, 404, "GET /no-such-page/ with br");
    ensure!(
        decode(&reply)? == t.site.file("404.html"),
        "brotli 404 body is not 404.html"
    );
    Ok(())
}

fn missing_page_is_never_200(t: &Target) -> Result<(), String> {
    for target in [
        "/missing.html",
        "/assets/",
        "/assets",
        "/index.html/",
        "/INDEX.HTML",
        "/search/",
        "/.git/config",
        "/.env",
        "/.hello",
    ] {
        let reply = t.get(target, &[])?;
        ensure_eq!(reply.status, 404, "GET {target}");
    }
    Ok(())
}

fn no_accept_encoding_gets_identity(t: &Target) -> Result<(), String> {
    for headers in [
        &[][..],
        &[("Accept-Encoding", "")],
        &[("Accept-Encoding", "identity")],
        &[("Accept-Encoding", "compress, deflate")],
    ] {
        let reply = t.get("/search/search_index.json", headers)?;
        ensure!(
            !reply.has("content-encoding"),
            "{headers:?} got {:?}",
            reply.header("content-encoding")
        );
        ensure!(
            reply.body == t.site.file("search/search_index.json"),
            "{headers:?}: body differs"
        );
    }
    Ok(())
}

fn accept_encoding_br_gets_brotli(t: &Target) -> Result<(), String> {
    let reply = t.get(
        "/search/search_index.json",
        &[("Accept-Encoding", "br, gzip")],
    )?;
    ensure_eq!(
        reply.header("content-encoding").as_deref(),
        Some("br"),
        "Content-Encoding"
    );
    ensure!(
        decode(&reply)? == t.site.file("search/search_index.json"),
        "brotli body differs"
    );
    Ok(())
}

fn accept_encoding_gzip_gets_gzip(t: &Target) -> Result<(), String> {
    let reply = t.get(
        "/search/search_index.json",
        &[("Accept-Encoding", "gzip, deflate")],
    )?;
    ensure_eq!(
        reply.header("content-encoding").as_deref(),
        Some("gzip"),
        "Content-Encoding"
    );
    ensure!(
        decode(&reply)? == t.site.file("search/search_index.json"),
        "gzip body differs"
    );
    Ok(())
}

fn accept_encoding_q_values_are_honoured(t: &Target) -> Result<(), String> {
    for (accept, expected) in [
        ("gzip;q=1, br;q=0.5", Some("gzip")),
        ("br;q=0.5, gzip;q=0.9", Some("gzip")),
        ("br;q=0, gzip;q=0", None),
        ("br;q=0, gzip", Some("gzip")),
        ("*", Some("br")),
        ("*;q=0.5, br;q=0", Some("gzip")),
        ("identity;q=1, br;q=0.9", None),
        ("identity;q=0, br;q=0, gzip;q=0", None),
        ("BR", Some("br")),
        ("x-gzip", Some("gzip")),
        ("br;q=0.001", Some("br")),
        ("br;q=1.5, gzip", Some("gzip")),
        ("gzip ; q=0.8 , br ; q=0.7", Some("gzip")),
    ] {
        let reply = t.get("/search/search_index.json", &[("Accept-Encoding", accept)])?;
        ensure_eq!(
            reply.header("content-encoding").as_deref(),
            expected,
            "Accept-Encoding: {accept}"
        );
        ensure!(
            decode(&reply)? == t.site.file("search/search_index.json"),
            "{accept}: body differs"
        );
    }
    Ok(())
}

fn vary_on_every_resource_with_variants(t: &Target) -> Result<(), String> {
    for path in [
        "/",
        "/search/search_index.json",
        "/sitemap.xml",
        &format!("/{}", t.site.fingerprinted_js()),
    ] {
        for accept in ["", "br", "gzip"] {
            let reply = t.get(path, &[("Accept-Encoding", accept)])?;
            ensure_eq!(
                reply
                    .header("vary")
                    .map(|v| v.to_ascii_lowercase())
                    .as_deref(),
                Some("accept-encoding"),
                "{path} ({accept})"
            );
        }
    }
    let png = t.get("/assets/images/favicon.png", &[("Accept-Encoding", "br")])?;
    ensure!(!png.has("vary"), "favicon.png has no variants, so no Vary");
    Ok(())
}

fn each_representation_has_its_own_etag(t: &Target) -> Result<(), String> {
    let mut tags = Vec::new();
    for accept in ["identity", "br", "gzip"] {
        let reply = t.get("/", &[("Accept-Encoding", accept)])?;
        let tag = reply.header("etag").ok_or("no ETag")?;
        ensure!(
            tag.starts_with('"') && tag.ends_with('"') && tag.len() > 2,
            "ETag {tag} is not a quoted strong tag"
        );
        tags.push(tag);
    }
    ensure!(
        tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
        "ETags repeat: {tags:?}"
    );
    Ok(())
}

fn content_length_is_always_sent(t: &Target) -> Result<(), String> {
    for (method, target, headers) in [
        ("GET", "/", &[][..]),
        ("GET", "/", &[("Accept-Encoding", "br")]),
        ("GET", "/", &[("Range", "bytes=0-9")]),
        ("GET", "/", &[("Range", "bytes=999999999-")]),
        ("GET", "/nope", &[]),
        ("GET", "/architecture", &[]),
        ("GET", "/../x", &[]),
        ("POST", "/", &[("Content-Length", "0")]),
        ("GET", "/.healthz", &[]),
    ] {
        let reply = t.request(method, target, headers)?;
        let length = reply
            .header("content-length")
            .ok_or(format!("{method} {target}: no Content-Length"))?;
        ensure_eq!(
            length,
            reply.body.len().to_string(),
            "{method} {target} {headers:?}"
        );
    }
    Ok(())
}

fn compressed_files_are_served_as_they_are(t: &Target) -> Result<(), String> {
    for (path, content_type) in [
        ("sitemap.xml.gz", "application/gzip"),
        ("assets/images/favicon.png", "image/png"),
    ] {
        let reply = t.get(&format!("/{path}"), &[("Accept-Encoding", "br, gzip")])?;
        ensure_eq!(reply.status, 200, "{path}");
        ensure_eq!(
            reply.header("content-type").as_deref(),
            Some(content_type),
            "{path} type"
        );
        ensure!(
            !reply.has("content-encoding"),
            "{path} must be sent as it is"
        );
        ensure!(reply.body == t.site.file(path), "{path} body differs");
    }
    Ok(())
}

fn text_types_declare_utf8(t: &Target) -> Result<(), String> {
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        (
            &format!("/{}", t.site.fingerprinted_js()),
            "text/javascript; charset=utf-8",
        ),
        (
            "/search/search_index.json",
            "application/json; charset=utf-8",
        ),
        ("/sitemap.xml", "text/xml; charset=utf-8"),
    ] {
        let reply = t.get(path, &[])?;
        ensure_eq!(
            reply.header("content-type").as_deref(),
            Some(content_type),
            "{path}"
        );
    }
    Ok(())
}

fn if_none_match_current_etag_gets_304(t: &Target) -> Result<(), String> {
    for accept in ["", "br", "gzip"] {
        let first = t.get("/", &[("Accept-Encoding", accept)])?;
        let etag = first.header("etag").ok_or("no ETag")?;
        let reply = t.get(
            "/",
            &[("Accept-Encoding", accept), ("If-None-Match", &etag)],
        )?;
        ensure_eq!(reply.status, 304, "If-None-Match: {etag} ({accept})");
        ensure_eq!(reply.header("etag"), Some(etag.clone()), "304 ETag");
        ensure_eq!(
            reply.header("cache-control"),
            first.header("cache-control"),
            "304 Cache-Control"
        );
        ensure_eq!(reply.header("vary"), first.header("vary"), "304 Vary");
        ensure!(reply.body.is_empty(), "304 with a body");
    }
    Ok(())
}

fn if_none_match_list_weak_and_star_match(t: &Target) -> Result<(), String> {
    let etag = t.get("/", &[])?.header("etag").ok_or("no ETag")?;
    for value in [
        format!("\"nope\", {etag}"),
        format!("W/{etag}"),
        format!("\"a\",W/\"b\" , W/{etag}"),
        "*".to_owned(),
    ] {
        let reply = t.get("/", &[("If-None-Match", &value)])?;
        ensure_eq!(reply.status, 304, "If-None-Match: {value}");
    }
    Ok(())
}

fn if_none_match_other_etag_gets_200(t: &Target) -> Result<(), String> {
    let br_etag = t
        .get("/", &[("Accept-Encoding", "br")])?
        .header("etag")
        .ok_or("no ETag")?;
    for value in [
        "\"nope\"",
        "W/\"nope\"",
        &br_etag,
        "junk",
        "\"unterminated",
        "",
    ] {
        let reply = t.get("/", &[("If-None-Match", value)])?;
        ensure_eq!(
            reply.status,
            200,
            "identity request, If-None-Match: {value}"
        );
    }
    Ok(())
}

fn if_modified_since_last_modified_gets_304(t: &Target) -> Result<(), String> {
    let first = t.get("/", &[])?;
    let last_modified = first.header("last-modified").ok_or("no Last-Modified")?;
    let reply = t.get("/", &[("If-Modified-Since", &last_modified)])?;
    ensure_eq!(reply.status, 304, "If-Modified-Since: {last_modified}");
    let reply = t.get(
        "/",
        &[("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")],
    )?;
    ensure_eq!(reply.status, 200, "If-Modified-Since 1970");
    let reply = t.get("/", &[("If-Modified-Since", "not a date")])?;
    ensure_eq!(reply.status, 200, "If-Modified-Since junk");
    Ok(())
}

fn if_none_match_beats_if_modified_since(t: &Target) -> Result<(), String> {
    let last_modified = t
        .get("/", &[])?
        .header("last-modified")
        .ok_or("no Last-Modified")?;
    let reply = t.get(
        "/",
        &[
            ("If-None-Match", "\"other\""),
            ("If-Modified-Since", &last_modified),
        ],
    )?;
    ensure_eq!(
        reply.status,
        200,
        "a failing If-None-Match decides, If-Modified-Since is ignored"
    );
    Ok(())
}

fn if_match_and_if_unmodified_since_failures_get_412(t: &Target) -> Result<(), String> {
    let first = t.get("/", &[])?;
    let etag = first.header("etag").ok_or("no ETag")?;
    ensure_eq!(
        t.get("/", &[("If-Match", "\"other\"")])?.status,
        412,
        "If-Match other"
    );
    ensure_eq!(
        t.get("/", &[("If-Match", &format!("W/{etag}"))])?.status,
        412,
        "If-Match weak"
    );
    ensure_eq!(
        t.get("/", &[("If-Match", &etag)])?.status,
        200,
        "If-Match current"
    );
    ensure_eq!(t.get("/", &[("If-Match", "*")])?.status, 200, "If-Match *");
    let old = "Thu, 01 Jan 1970 00:00:00 GMT";
    ensure_eq!(
        t.get("/", &[("If-Unmodified-Since", old)])?.status,
        412,
        "If-Unmodified-Since 1970"
    );
    let last_modified = first.header("last-modified").ok_or("no Last-Modified")?;
    ensure_eq!(
        t.get("/", &[("If-Unmodified-Since", &last_modified)])?
            .status,
        200,
        "If-Unmodified-Since now"
    );
    Ok(())
}

fn single_range_gets_206_with_content_range(t: &Target) -> Result<(), String> {
    let file = t.site.file("index.html");
    let len = file.len();
    for (range, first, last) in [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, len - 1),
        ("bytes=-10", len - 10, len - 1),
        ("bytes=10-9999999", 10, len - 1),
        ("bytes=-99999999", 0, len - 1),
        ("BYTES=5-5", 5, 5),
    ] {
        let reply = t.get("/", &[("Range", range), ("Accept-Encoding", "br")])?;
        ensure_eq!(reply.status, 206, "Range: {range}");
        ensure_eq!(
            reply.header("content-range"),
            Some(format!("bytes {first}-{last}/{len}")),
            "Range: {range}"
        );
        ensure!(
            reply.body == file[first..=last],
            "Range: {range}: wrong bytes"
        );
        ensure_eq!(
            reply.header("accept-ranges").as_deref(),
            Some("bytes"),
            "Accept-Ranges"
        );
    }
    ensure_eq!(
        t.get("/", &[])?.header("accept-ranges").as_deref(),
        Some("bytes"),
        "200 Accept-Ranges"
    );
    Ok(())
}

fn unsatisfiable_range_gets_416_with_length(t: &Target) -> Result<(), String> {
    let len = t.site.file("index.html").len();
    for range in [
        format!("bytes={len}-"),
        "bytes=99999999-".to_owned(),
        "bytes=-0".to_owned(),
    ] {
        let reply = t.get("/", &[("Range", &range)])?;
        ensure_eq!(reply.status, 416, "Range: {range}");
        ensure_eq!(
            reply.header("content-range"),
            Some(format!("bytes */{len}")),
            "Range: {range}"
        );
    }
    Ok(())
}

fn multiple_ranges_get_whole_file(t: &Target) -> Result<(), String> {
    for range in [
        "bytes=0-1,5-6",
        "bytes=0-1, -5",
        "bytes=5-1",
        "pages=1-2",
        "bytes=abc",
        "bytes=",
        "bytes=1-2-3",
    ] {
        let reply = t.get("/", &[("Range", range)])?;
        ensure_eq!(reply.status, 200, "Range: {range}");
        ensure!(
            reply.body == t.site.file("index.html"),
            "Range: {range}: not the whole file"
        );
    }
    Ok(())
}

fn if_range_keeps_range_only_when_current(t: &Target) -> Result<(), String> {
    let first = t.get("/", &[])?;
    let etag = first.header("etag").ok_or("no ETag")?;
    let last_modified = first.header("last-modified").ok_or("no Last-Modified")?;
    for (if_range, status) in [
        (etag.clone(), 206),
        (last_modified, 206),
        (format!("W/{etag}"), 200),
        ("\"stale\"".to_owned(), 200),
        ("Thu, 01 Jan 1970 00:00:00 GMT".to_owned(), 200),
        ("junk".to_owned(), 200),
    ] {
        let reply = t.get("/", &[("Range", "bytes=0-9"), ("If-Range", &if_range)])?;
        ensure_eq!(reply.status, status, "If-Range: {if_range}");
    }
    Ok(())
}

fn range_is_served_from_identity(t: &Target) -> Result<(), String> {
    let reply = t.get(
        "/search/search_index.json",
        &[("Range", "bytes=0-9"), ("Accept-Encoding", "br")],
    )?;
    ensure_eq!(reply.status, 206, "range with br accepted");
    ensure!(
        !reply.has("content-encoding"),
        "ranges come from the identity representation"
    );
    ensure!(
        reply.body == t.site.file("search/search_index.json")[..10],
        "wrong bytes"
    );
    let head = t.request("HEAD", "/", &[("Range", "bytes=0-9")])?;
    ensure_eq!(head.status, 200, "Range is defined for GET only");
    Ok(())
}

fn fingerprinted_assets_are_immutable(t: &Target) -> Result<(), String> {
    let reply = t.get(&format!("/{}", t.site.fingerprinted_js()), &[])?;
    ensure_eq!(
        reply.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable"),
        "bundle"
    );
    Ok(())
}

fn html_is_revalidated(t: &Target) -> Result<(), String> {
    for path in [
        "/",
        "/architecture/",
        "/search/search_index.json",
        "/assets/images/favicon.png",
    ] {
        ensure_eq!(
            t.get(path, &[])?.header("cache-control").as_deref(),
            Some("no-cache"),
            "{path}"
        );
    }
    Ok(())
}

fn security_headers_on_every_response(t: &Target) -> Result<(), String> {
    let etag = t.get("/", &[])?.header("etag").ok_or("no ETag")?;
    for (method, target, headers) in [
        ("GET", "/", &[][..]),
        ("GET", "/", &[("If-None-Match", etag.as_str())]),
        ("GET", "/", &[("Range", "bytes=0-1")]),
        ("GET", "/", &[("Range", "bytes=9999999-")]),
        ("GET", "/", &[("If-Match", "\"x\"")]),
        ("GET", "/nope", &[]),
        ("GET", "/architecture", &[]),
        ("GET", "/%00", &[]),
        ("DELETE", "/", &[]),
        ("GET", "/.healthz", &[]),
    ] {
        let reply = t.request(method, target, headers)?;
        ensure_eq!(
            reply.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{method} {target} {headers:?}"
        );
        ensure_eq!(
            reply.header("referrer-policy").as_deref(),
            Some("strict-origin-when-cross-origin"),
            "{method} {target}"
        );
        let csp = reply.header("content-security-policy").unwrap_or_default();
        ensure!(
            csp.contains("frame-ancestors 'self'"),
            "{method} {target}: CSP {csp:?}"
        );
    }
    Ok(())
}

fn health_path_answers_ok(t: &Target) -> Result<(), String> {
    let reply = t.get("/.healthz", &[])?;
    ensure_eq!(reply.status, 200, "GET /.healthz");
    ensure_eq!(reply.body, b"ok\n".to_vec(), "body");
    ensure_eq!(
        reply.header("cache-control").as_deref(),
        Some("no-store"),
        "Cache-Control"
    );
    ensure_eq!(
        t.request("HEAD", "/.healthz", &[])?.status,
        200,
        "HEAD /.healthz"
    );
    Ok(())
}

fn dot_segments_get_400(t: &Target) -> Result<(), String> {
    for target in [
        "/../etc/passwd",
        "/assets/../index.html",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/.%2e/x",
        "/./index.html",
        "/a/..",
    ] {
        ensure_eq!(t.get(target, &[])?.status, 400, "{target}");
    }
    Ok(())
}

fn encoded_separators_get_400(t: &Target) -> Result<(), String> {
    for target in [
        "/..%2fetc%2fpasswd",
        "/assets%2fimages/favicon.png",
        "/a%5cb",
        "/%2F",
    ] {
        ensure_eq!(t.get(target, &[])?.status, 400, "{target}");
    }
    Ok(())
}

fn nul_and_invalid_utf8_get_400(t: &Target) -> Result<(), String> {
    for target in [
        "/index.html%00",
        "/%00",
        "/%ff",
        "/%c0%ae%c0%ae/",
        "/a%0d%0aSet-Cookie:x=1",
        "/%zz",
        "/%4",
    ] {
        ensure_eq!(t.get(target, &[])?.status, 400, "{target}");
    }
    Ok(())
}

fn target_over_8_kib_gets_414(t: &Target) -> Result<(), String> {
    let long = format!("/{}", "a".repeat(8 * 1024));
    ensure_eq!(
        t.get(&long, &[])?.status,
        414,
        "a target of {} bytes",
        long.len()
    );
    let fits = format!("/{}", "a".repeat(8 * 1024 - 1));
    ensure_eq!(t.get(&fits, &[])?.status, 404, "a target of exactly 8 KiB");
    Ok(())
}

fn percent_escapes_decode_once(t: &Target) -> Result<(), String> {
    ensure_eq!(
        t.get("/%69ndex.html", &[])?.status,
        200,
        "/%69ndex.html is /index.html"
    );
    ensure_eq!(
        t.get("/%2569ndex.html", &[])?.status,
        404,
        "/%2569ndex.html is /%69ndex.html, decoded once"
    );
    ensure_eq!(
        t.get("/%252e%252e/%252e%252e/etc/passwd", &[])?.status,
        404,
        "double-encoded dots are a name"
    );
    Ok(())
}

fn keep_alive_serves_several_requests(t: &Target) -> Result<(), String> {
    let mut connection = Connection::open(t.addr).map_err(|e| e.to_string())?;
    for path in ["/", "/architecture/", "/nope", "/", "/.healthz"] {
        let reply = connection
            .send("GET", path.as_bytes(), &[])
            .map_err(|e| format!("GET {path}: {e}"))?;
        ensure!(
            reply.status == 200 || reply.status == 404,
            "GET {path}: {}",
            reply.status
        );
    }
    Ok(())
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
