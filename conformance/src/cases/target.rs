//! The request target (`src/target.rs`): dot segments, encoded separators, NUL and invalid
//! UTF-8 get `400`, an over-long target `414`, and percent-escapes are decoded exactly once.

use super::Target;

pub const CASES: &[(&str, super::Case)] = cases![
    dot_segments_get_400,
    encoded_separators_get_400,
    nul_and_invalid_utf8_get_400,
    target_over_8_kib_gets_414,
    percent_escapes_decode_once,
];

/// Through the ingress the server never sees a dot segment: Traefik removes them first
/// (its `sanitizePath`, on by default; RFC 3986, 5.2.4), so the answer is the one for the
/// resolved path, which cannot climb above the site's root.
fn dot_segments_get_400(t: &Target) -> Result<(), String> {
    for (target, resolved) in [
        ("/../etc/passwd", "/etc/passwd"),
        ("/assets/../index.html", "/index.html"),
        ("/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd"),
        ("/.%2e/x", "/x"),
        ("/./index.html", "/index.html"),
        ("/a/..", "/"),
    ] {
        let expected = if t.through_proxy {
            t.get(resolved, &[])?.status
        } else {
            400
        };
        ensure_eq!(t.get(target, &[])?.status, expected, "{target}");
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
        t.get("/architecture/%69ndex.html", &[])?.status,
        308,
        "/architecture/%69ndex.html is /architecture/index.html, which redirects to its folder"
    );
    ensure_eq!(
        t.get("/%73itemap.xml", &[])?.status,
        200,
        "/%73itemap.xml is /sitemap.xml"
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
