//! Content coding (`src/negotiate.rs`, RFC 9110 §12.5.3): brotli and gzip by `Accept-Encoding`
//! and its q-values, `Vary` wherever variants exist, and an ETag per representation.

use super::{decode, Target};

pub const CASES: &[(&str, super::Case)] = cases![
    no_accept_encoding_gets_identity,
    accept_encoding_br_gets_brotli,
    accept_encoding_gzip_gets_gzip,
    accept_encoding_q_values_are_honoured,
    vary_on_every_resource_with_variants,
    each_representation_has_its_own_etag,
    compressed_files_are_served_as_they_are,
];

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
    // A page has dcb and dcz variants too, which depend on the dictionary the client names.
    let page = "accept-encoding, available-dictionary";
    for (path, vary) in [
        ("/", page),
        ("/search/search_index.json", "accept-encoding"),
        ("/sitemap.xml", "accept-encoding"),
        (&format!("/{}", t.site.fingerprinted_js()), "accept-encoding"),
    ] {
        for accept in ["", "br", "gzip"] {
            let reply = t.get(path, &[("Accept-Encoding", accept)])?;
            ensure_eq!(
                reply
                    .header("vary")
                    .map(|v| v.to_ascii_lowercase())
                    .as_deref(),
                Some(vary),
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
