//! Response headers (`src/response.rs`, `src/security_headers.rs`): `Content-Length`, charset,
//! cache policy and the security headers on every response.

use super::Target;

pub const CASES: &[(&str, super::Case)] = cases![
    content_length_is_always_sent,
    text_types_declare_utf8,
    fingerprinted_assets_are_immutable,
    html_is_revalidated,
    security_headers_on_every_response,
];

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
        let mut headers = headers.to_vec();
        if !headers.iter().any(|(name, _)| *name == "Accept-Encoding") {
            headers.extend_from_slice(t.identity());
        }
        let reply = t.request(method, target, &headers)?;
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
