//! Conditional requests (`src/conditional.rs`, RFC 9110 §13): `If-None-Match`,
//! `If-Modified-Since`, `If-Match` and `If-Unmodified-Since`, in the RFC's order of precedence.

use super::Target;

pub const CASES: &[(&str, super::Case)] = cases![
    if_none_match_current_etag_gets_304,
    if_none_match_list_weak_and_star_match,
    if_none_match_other_etag_gets_200,
    if_modified_since_last_modified_gets_304,
    if_none_match_beats_if_modified_since,
    if_match_and_if_unmodified_since_failures_get_412,
];

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
