//! Compression dictionaries (`src/dictionary.rs`, `src/negotiate.rs`; RFC 9842): every page
//! names the site's dictionary, the dictionary is served to be stored for documents, and a
//! page asked for with `dcz` and that dictionary's hash comes as `dcz`, which the reference
//! Zstandard decoder restores with the dictionary. Any other `Available-Dictionary` falls back
//! to brotli, never to an error or a wrong body.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{decode, Target};
use testkit::client::Reply;

pub const CASES: &[(&str, super::Case)] = cases![
    every_page_links_the_dictionary,
    the_dictionary_is_stored_for_documents_and_immutable,
    every_bundle_is_stored_for_its_next_version,
    the_right_dictionary_gets_dcz_that_zstd_restores,
    any_other_available_dictionary_falls_back_to_brotli,
    dcz_needs_its_name_in_accept_encoding,
    a_dcz_variant_revalidates_with_its_own_etag,
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

fn dcz_reply(t: &Target, page: &str, dictionary: &[u8]) -> Result<Reply, String> {
    t.get(
        page,
        &[
            ("Accept-Encoding", "gzip, deflate, br, zstd, dcb, dcz"),
            ("Available-Dictionary", &available(dictionary)),
        ],
    )
}

fn the_right_dictionary_gets_dcz_that_zstd_restores(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    for page in PAGES {
        let reply = dcz_reply(t, page, &dictionary)?;
        ensure_eq!(reply.status, 200, "{page}");
        ensure_eq!(reply.header("content-encoding").as_deref(), Some("dcz"), "{page}");
        ensure_eq!(
            reply.header("vary").as_deref(),
            Some("Accept-Encoding, Available-Dictionary"),
            "{page}: Vary"
        );
        // RFC 9842 §5: the 8-byte magic of a skippable frame, then the dictionary's SHA-256.
        ensure!(
            reply.body.starts_with(&[0x5e, 0x2a, 0x4d, 0x18, 0x20, 0, 0, 0])
                && reply.body.get(8..40) == Some(&Sha256::digest(&dictionary)[..]),
            "{page}: no dcz header"
        );
        let original = t.site.file(&file_of(page));
        let restored = zstd::bulk::Decompressor::with_dictionary(&dictionary)
            .and_then(|mut d| d.decompress(&reply.body, original.len()))
            .map_err(|e| format!("{page}: zstd cannot restore it: {e}"))?;
        ensure!(restored == original, "{page}: dcz restores to other bytes");
        let brotli = t.get(page, &[("Accept-Encoding", "br")])?;
        ensure!(
            reply.body.len() < brotli.body.len(),
            "{page}: dcz {} bytes, brotli {}",
            reply.body.len(),
            brotli.body.len()
        );
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
                ("Accept-Encoding", "br, dcz"),
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

fn dcz_needs_its_name_in_accept_encoding(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    for accept in ["br, gzip", "*", "br, dcz;q=0"] {
        let reply = t.get(
            "/",
            &[
                ("Accept-Encoding", accept),
                ("Available-Dictionary", &available(&dictionary)),
            ],
        )?;
        ensure!(
            reply.header("content-encoding").as_deref() != Some("dcz"),
            "Accept-Encoding: {accept} got dcz"
        );
    }
    Ok(())
}

fn a_dcz_variant_revalidates_with_its_own_etag(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    let dcz = dcz_reply(t, "/", &dictionary)?;
    let brotli = t.get("/", &[("Accept-Encoding", "br")])?;
    let etag = dcz.header("etag").ok_or("no ETag on dcz")?;
    ensure!(Some(&etag) != brotli.header("etag").as_ref(), "dcz and brotli share an ETag");
    let again = t.get(
        "/",
        &[
            ("Accept-Encoding", "br, dcz"),
            ("Available-Dictionary", &available(&dictionary)),
            ("If-None-Match", &etag),
        ],
    )?;
    ensure_eq!(again.status, 304, "If-None-Match: the dcz ETag");
    ensure_eq!(again.header("etag").as_deref(), Some(etag.as_str()), "304 ETag");
    // The same tag does not match the brotli representation.
    let other = t.get("/", &[("Accept-Encoding", "br"), ("If-None-Match", &etag)])?;
    ensure_eq!(other.status, 200, "the dcz ETag against brotli");
    Ok(())
}

fn a_range_is_served_from_identity_whatever_the_dictionary(t: &Target) -> Result<(), String> {
    let (_, dictionary) = dictionary(t)?;
    let reply = t.get(
        "/",
        &[
            ("Accept-Encoding", "dcz, br"),
            ("Available-Dictionary", &available(&dictionary)),
            ("Range", "bytes=0-99"),
        ],
    )?;
    ensure_eq!(reply.status, 206, "Range with a dictionary");
    ensure!(!reply.has("content-encoding"), "a range of a coded representation");
    ensure!(reply.body == t.site.file("index.html")[..100], "range bytes differ");
    Ok(())
}
