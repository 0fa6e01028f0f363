//! Compression dictionaries (`src/dictionary.rs`, `src/negotiate.rs`; RFC 9842): every page
//! names the site's dictionary, the dictionary is served to be stored for documents, and a
//! page asked for with `dcz` or `dcb` and that dictionary's hash comes in that coding, which
//! the reference Zstandard or brotli decoder restores with the dictionary; offered both, the
//! smaller. Any other `Available-Dictionary` falls back to brotli, never to an error or a wrong
//! body.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{decode, Target};
use testkit::client::Reply;

pub const CASES: &[(&str, super::Case)] = cases![
    every_page_links_the_dictionary,
    the_dictionary_is_stored_for_documents_and_immutable,
    every_bundle_is_stored_for_its_next_version,
    the_right_dictionary_gets_dcz_that_zstd_restores,
    the_right_dictionary_gets_dcb_that_brotli_restores,
    offered_both_codings_the_smaller_is_sent,
    any_other_available_dictionary_falls_back_to_brotli,
    dcb_and_dcz_need_their_names_in_accept_encoding,
    each_dictionary_variant_revalidates_with_its_own_etag,
    a_range_is_served_from_identity_whatever_the_dictionary,
];

const PAGES: [&str; 3] = ["/", "/http/", "/architecture/"];

/// The dictionary the site's pages name: its URL and bytes.
fn dictionary(t: &Target) -> Result<(String, Vec<u8>), String> {
    let link = t.get("/", &[])?.header("link").unwrap_or_default();
    let hint = link
        .split(", ")
        .find(|h| h.ends_with("rel=\"compression-dictionary\""))
        .ok_or(format!("/ names no compression dictionary: {link:?}"))?;
    let url = hint.split(['<', '>']).nth(1).unwrap_or_default().to_owned();
    let reply = t.get(&url, &[])?;
    ensure_eq!(reply.status, 200, "GET {url}");
    Ok((url, reply.body))
}

/// `Available-Dictionary` for `bytes`: their SHA-256 as a structured-field byte sequence.
fn available(bytes: &[u8]) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes));
    format!(":{hash}:")
}

fn file_of(page: &str) -> String {
    format!("{}index.html", page.trim_start_matches('/'))
}

fn every_page_links_the_dictionary(t: &Target) -> Result<(), String> {
    let (url, _) = dictionary(t)?;
    for page in PAGES {
        let link = t.get(page, &[])?.header("link").unwrap_or_default();
        ensure!(
            link.contains(&format!("<{url}>; rel=\"compression-dictionary\"")),
            "{page}: Link {link:?}"
        );
    }
    Ok(())
}

fn the_dictionary_is_stored_for_documents_and_immutable(t: &Target) -> Result<(), String> {
    let (url, bytes) = dictionary(t)?;
    let reply = t.get(&url, &[])?;
    ensure_eq!(
        reply.header("use-as-dictionary").as_deref(),
        Some("match=\"/*\", match-dest=(\"document\")"),
        "{url}: Use-As-Dictionary"
    );
    ensure_eq!(
        reply.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable"),
        "{url}: Cache-Control"
    );
    ensure!(reply.has("etag"), "{url} has no ETag");
    // It travels compressed like any text, and is stored as its decoded bytes.
    let compressed = t.get(&url, &[("Accept-Encoding", "br")])?;
    ensure_eq!(compressed.header("content-encoding").as_deref(), Some("br"), "{url}");
    ensure!(decode(&compressed)? == bytes, "{url}: brotli body differs");
    Ok(())
}

/// Delta updates: a release's fingerprinted scripts and stylesheets are dictionaries for their
/// own next versions (built with `PREVIOUS_SITE`, which the rolling-update test does).
fn every_bundle_is_stored_for_its_next_version(t: &Target) -> Result<(), String> {
    let js = t.site.fingerprinted_js();
    let (folder, name) = js.rsplit_once('/').unwrap_or(("", &js));
    let pattern = format!("/{folder}/bundle.*.min.js");
    let reply = t.get(&format!("/{js}"), &[])?;
    ensure_eq!(
        reply.header("use-as-dictionary"),
        Some(format!("match=\"{pattern}\", match-dest=(\"script\")")),
        "/{js} ({name})"
    );
    Ok(())
}

/// `page` asked for with `accept` and the dictionary's hash.
fn with_dictionary(
    t: &Target,
    page: &str,
    accept: &str,
    dictionary: &[u8],
) -> Result<Reply, String> {
    t.get(
        page,
        &[
            ("Accept-Encoding", accept),
            ("Available-Dictionary", &available(dictionary)),
        ],
    )
}

/// What the answer to a request that offers `coding` with the right dictionary must be: `200`
/// in that coding, varying on both fields, smaller than brotli. Returns the body.
fn dictionary_coded(
    t: &Target,
    page: &str,
    coding: &str,
    dictionary: &[u8],
) -> Result<Vec<u8>, String> {
    let reply = with_dictionary(t, page, &format!("gzip, deflate, br, zstd, {coding}"), dictionary)?;
    ensure_eq!(reply.status, 200, "{page}");
    ensure_eq!(reply.header("content-encoding").as_deref(), Some(coding), "{page}");
    ensure_eq!(
        reply.header("vary").as_deref(),
        Some("Accept-Encoding, Available-Dictionary"),
        "{page}: Vary"
    );
    let brotli = t.get(page, &[("Accept-Encoding", "br")])?;
    ensure!(
        reply.body.len() < brotli.body.len(),
        "{page}: {coding} {} bytes, brotli {}",
        reply.body.len(),
        brotli.body.len()
    );
    Ok(reply.body)
}

fn the_right_dictionary_gets_dcz_that_zstd_restores(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    for page in PAGES {
        let body = dictionary_coded(t, page, "dcz", &dictionary)?;
        // RFC 9842 §5: the 8-byte magic of a skippable frame, then the dictionary's SHA-256.
        ensure!(
            body.starts_with(&[0x5e, 0x2a, 0x4d, 0x18, 0x20, 0, 0, 0])
                && body.get(8..40) == Some(&Sha256::digest(&dictionary)[..]),
            "{page}: no dcz header"
        );
        let original = t.site.file(&file_of(page));
        let restored = zstd::bulk::Decompressor::with_dictionary(&dictionary)
            .and_then(|mut d| d.decompress(&body, original.len()))
            .map_err(|e| format!("{page}: zstd cannot restore it: {e}"))?;
        ensure!(restored == original, "{page}: dcz restores to other bytes");
    }
    Ok(())
}

fn the_right_dictionary_gets_dcb_that_brotli_restores(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    for page in PAGES {
        let body = dictionary_coded(t, page, "dcb", &dictionary)?;
        // RFC 9842 §4: 4 bytes of magic, then the dictionary's SHA-256.
        ensure!(
            body.starts_with(&[0xff, 0x44, 0x43, 0x42])
                && body.get(4..36) == Some(&Sha256::digest(&dictionary)[..]),
            "{page}: no dcb header"
        );
        let restored = shared_brotli::decompress(&body[36..], &dictionary)
            .ok_or(format!("{page}: brotli cannot restore it with the dictionary"))?;
        ensure!(restored == t.site.file(&file_of(page)), "{page}: dcb restores to other bytes");
    }
    Ok(())
}

/// Chromium offers both (`dcb, dcz`) at the same weight: it gets the smaller.
fn offered_both_codings_the_smaller_is_sent(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    for page in PAGES {
        let dcb = dictionary_coded(t, page, "dcb", &dictionary)?;
        let dcz = dictionary_coded(t, page, "dcz", &dictionary)?;
        let smaller = if dcb.len() < dcz.len() { ("dcb", dcb) } else { ("dcz", dcz) };
        let both = with_dictionary(t, page, "gzip, deflate, br, zstd, dcb, dcz", &dictionary)?;
        ensure_eq!(both.header("content-encoding").as_deref(), Some(smaller.0), "{page}");
        ensure!(both.body == smaller.1, "{page}: {} body differs", smaller.0);
        let weighted = with_dictionary(t, page, "dcb;q=0.9, dcz;q=0.5", &dictionary)?;
        ensure_eq!(weighted.header("content-encoding").as_deref(), Some("dcb"), "{page}: q");
    }
    Ok(())
}

fn any_other_available_dictionary_falls_back_to_brotli(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    let right = available(&dictionary);
    let unpadded = right.replace('=', "");
    let other = available(b"another dictionary");
    let short = format!(":{}:", &right[2..]);
    let bare = right.trim_matches(':').to_owned();
    for (what, value) in [
        ("an unknown hash", other.as_str()),
        ("31 bytes", short.as_str()),
        ("not a byte sequence", bare.as_str()),
        ("a string", "\"pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4=\""),
        ("bytes outside base64", ":pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2f**4=:"),
        ("a list", "x, y"),
        ("empty", ""),
    ] {
        let reply = t.get(
            "/",
            &[
                ("Accept-Encoding", "br, dcb, dcz"),
                ("Available-Dictionary", value),
            ],
        )?;
        ensure_eq!(reply.status, 200, "{what}");
        ensure_eq!(reply.header("content-encoding").as_deref(), Some("br"), "{what}");
        ensure!(decode(&reply)? == t.site.file("index.html"), "{what}: body differs");
    }
    // Without the padding it is the same byte sequence (RFC 9651 §3.3.5).
    let reply = t.get(
        "/",
        &[("Accept-Encoding", "br, dcz"), ("Available-Dictionary", &unpadded)],
    )?;
    ensure_eq!(reply.header("content-encoding").as_deref(), Some("dcz"), "unpadded");
    Ok(())
}

fn dcb_and_dcz_need_their_names_in_accept_encoding(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    for accept in ["br, gzip", "*", "br, dcz;q=0, dcb;q=0"] {
        let reply = with_dictionary(t, "/", accept, &dictionary)?;
        let coding = reply.header("content-encoding");
        ensure!(
            !matches!(coding.as_deref(), Some("dcb" | "dcz")),
            "Accept-Encoding: {accept} got {coding:?}"
        );
    }
    Ok(())
}

fn each_dictionary_variant_revalidates_with_its_own_etag(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    let brotli = t.get("/", &[("Accept-Encoding", "br")])?;
    let mut etags = vec![brotli.header("etag").ok_or("no ETag on brotli")?];
    for coding in ["dcb", "dcz"] {
        let reply = with_dictionary(t, "/", coding, &dictionary)?;
        let etag = reply.header("etag").ok_or(format!("no ETag on {coding}"))?;
        ensure!(!etags.contains(&etag), "{coding} shares an ETag: {etag}");
        let again = t.get(
            "/",
            &[
                ("Accept-Encoding", &format!("br, {coding}")),
                ("Available-Dictionary", &available(&dictionary)),
                ("If-None-Match", &etag),
            ],
        )?;
        ensure_eq!(again.status, 304, "If-None-Match: the {coding} ETag");
        ensure_eq!(again.header("etag").as_deref(), Some(etag.as_str()), "304 ETag");
        // The same tag does not match the brotli representation.
        let other = t.get("/", &[("Accept-Encoding", "br"), ("If-None-Match", &etag)])?;
        ensure_eq!(other.status, 200, "the {coding} ETag against brotli");
        etags.push(etag);
    }
    Ok(())
}

fn a_range_is_served_from_identity_whatever_the_dictionary(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    let reply = t.get(
        "/",
        &[
            ("Accept-Encoding", "dcb, dcz, br"),
            ("Available-Dictionary", &available(&dictionary)),
            ("Range", "bytes=0-99"),
        ],
    )?;
    ensure_eq!(reply.status, 206, "Range with a dictionary");
    ensure!(!reply.has("content-encoding"), "a range of a coded representation");
    ensure!(reply.body == t.site.file("index.html")[..100], "range bytes differ");
    Ok(())
}
