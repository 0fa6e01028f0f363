//! From path to file (`src/resolve.rs`): `/` and folders serve their `index.html`, a folder
//! without its slash gets a relative `308` that keeps the query, and a missing page gets `404`
//! with the site's own 404 page.

use super::{decode, Target};

pub const CASES: &[(&str, super::Case)] = cases![
    get_root_serves_index_html,
    directory_with_slash_serves_its_index,
    directory_without_slash_redirects_308_keeping_query,
    location_never_starts_with_two_slashes_or_backslash,
    missing_page_gets_404_with_site_404_page,
    missing_page_is_never_200,
    every_file_arrives_byte_for_byte_in_every_coding,
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
                super::stays_on_site(&location),
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

/// Every file of the site, in every representation the table keeps: what the component copies
/// out of its data segment a chunk at a time must add up to the file on disk.
pub fn every_file_arrives_byte_for_byte_in_every_coding(t: &Target) -> Result<(), String> {
    for asset in hello_world::site::assets() {
        // A folder's page is asked for by its one URL, the folder's.
        let path = url_path(http_text::path::page_path(asset.path));
        let file = t.site.file(asset.path);
        let codings = [
            ("identity", true),
            ("br", asset.brotli.is_some()),
            ("gzip", asset.gzip.is_some()),
        ];
        for (coding, _) in codings.into_iter().filter(|(_, kept)| *kept) {
            let reply = t.get(&path, &[("Accept-Encoding", coding)])?;
            ensure_eq!(reply.status, 200, "{path} ({coding})");
            ensure!(decode(&reply)? == file, "{path} ({coding}): body differs from the file");
        }
    }
    Ok(())
}

/// `path` as a request target: bytes outside RFC 3986's unreserved set and `/` percent-encoded.
pub fn url_path(path: &str) -> String {
    let mut target = String::from("/");
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            target.push(byte as char);
        } else {
            target.push_str(&format!("%{byte:02X}"));
        }
    }
    target
}
