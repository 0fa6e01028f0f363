//! Byte ranges (`src/range.rs`, RFC 9110 §14): `206` with `Content-Range`, `416`, `If-Range`,
//! always from the identity representation.

use super::Target;

pub const CASES: &[(&str, super::Case)] = cases![
    single_range_gets_206_with_content_range,
    unsatisfiable_range_gets_416_with_length,
    multiple_ranges_get_whole_file,
    if_range_keeps_range_only_when_current,
    range_is_served_from_identity,
    ranges_of_the_largest_file_are_exact_across_chunks,
];

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
    let first = t.get("/", t.identity())?;
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
        let mut headers = vec![("Range", "bytes=0-9"), ("If-Range", if_range.as_str())];
        headers.extend_from_slice(t.identity());
        let reply = t.get("/", &headers)?;
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

/// The component copies site bytes 64 KiB at a time: ranges that start, end and cross inside
/// the largest file must still be exactly its bytes.
fn ranges_of_the_largest_file_are_exact_across_chunks(t: &Target) -> Result<(), String> {
    let largest = hello_world::site::assets()
        .iter()
        .max_by_key(|a| a.identity.body.len())
        .expect("a site with files");
    let file = t.site.file(largest.path);
    let len = file.len();
    ensure!(len > 200_000, "the largest file is only {len} bytes");
    let target = format!("/{}", largest.path);
    for (first, last) in [
        (65_530, 65_545),
        (65_536, 131_071),
        (1, len - 2),
        (len - 70_000, len - 1),
    ] {
        let range = format!("bytes={first}-{last}");
        let reply = t.get(&target, &[("Range", &range)])?;
        ensure_eq!(reply.status, 206, "{target} {range}");
        ensure!(reply.body == file[first..=last], "{target} {range}: wrong bytes");
    }
    Ok(())
}
