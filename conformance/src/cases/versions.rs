//! Every version of the docs in one artifact (`site-compiler/src/versions.rs`, the core's
//! `redirect.rs` and `site::not_found_page`): `/<version>/…` serves that version; an alias and
//! `/` answer `302` with `no-cache` to the same path and query under the version they name
//! (RFC 9110 §15.4.3; not heuristically cacheable, RFC 9111 §4.2.2); each version answers a
//! missing path with its own 404 page and applies its own `_redirects`; a body that several
//! versions share is stored once. These cases check a build of a versioned tree
//! (`SITE_VERSIONS_DIR`, mike's shape), against `versions.json` and the folders on disk.

use super::resolve::{every_file_arrives_byte_for_byte_in_every_coding, url_path};
use super::{decode, Target};
use hello_world::site::{assets, lookup};

pub const CASES: &[(&str, super::Case)] = cases![
    each_version_serves_its_own_pages,
    an_alias_answers_302_no_cache_to_the_same_path_and_query_under_its_version,
    an_alias_never_redirects_out_of_its_version,
    the_root_answers_302_no_cache_to_the_default_version,
    each_version_answers_a_missing_path_with_its_own_404_page,
    each_version_applies_its_own_redirects_file,
    versions_json_is_served_for_the_version_selector,
    mikes_stand_ins_for_aliases_and_the_root_are_not_served,
    a_body_that_versions_share_is_stored_once,
    a_range_of_an_older_versions_page_is_its_bytes,
    every_file_of_every_version_arrives_byte_for_byte_in_every_coding,
];

/// A 302 with `no-cache` to `location`.
fn temporary_redirect(t: &Target, target: &str, location: &str) -> Result<(), String> {
    let reply = t.get(target, &[])?;
    ensure_eq!(reply.status, 302, "GET {target}");
    ensure_eq!(
        reply.header("location").as_deref(),
        Some(location),
        "GET {target}: Location"
    );
    ensure_eq!(
        reply.header("cache-control").as_deref(),
        Some("no-cache"),
        "GET {target}: an alias moves with each release"
    );
    Ok(())
}

fn each_version_serves_its_own_pages(t: &Target) -> Result<(), String> {
    for version in t.site.versions()? {
        let v = &version.name;
        for (target, file) in [
            (format!("/{v}/"), format!("{v}/index.html")),
            (format!("/{v}/http/"), format!("{v}/http/index.html")),
            (
                format!("/{v}/search/search_index.json"),
                format!("{v}/search/search_index.json"),
            ),
        ] {
            let reply = t.get(&target, t.identity())?;
            ensure_eq!(reply.status, 200, "GET {target}");
            ensure!(reply.body == t.site.file(&file), "GET {target} is not {file}");
        }
        let reply = t.get(&format!("/{v}?q=1"), &[])?;
        ensure_eq!(reply.status, 308, "GET /{v}?q=1");
        ensure_eq!(
            reply.header("location"),
            Some(format!("/{v}/?q=1")),
            "GET /{v}?q=1: a version is a folder"
        );
    }
    Ok(())
}

fn an_alias_answers_302_no_cache_to_the_same_path_and_query_under_its_version(
    t: &Target,
) -> Result<(), String> {
    for version in t.site.versions()? {
        let v = &version.name;
        for alias in &version.aliases {
            temporary_redirect(t, &format!("/{alias}"), &format!("/{v}/"))?;
            temporary_redirect(t, &format!("/{alias}/"), &format!("/{v}/"))?;
            temporary_redirect(
                t,
                &format!("/{alias}/http/?q=a%20b&x"),
                &format!("/{v}/http/?q=a%20b&x"),
            )?;
            // The path below the alias goes as it is, even where the version has no page: the
            // version answers it (here with its own 404 page), in one more hop at most.
            temporary_redirect(
                t,
                &format!("/{alias}/no/such/page/"),
                &format!("/{v}/no/such/page/"),
            )?;
        }
    }
    Ok(())
}

/// The path below an alias goes into the `Location`: shapes that would name another host or
/// climb out of the version are refused (`400`) or land inside the version's folder.
fn an_alias_never_redirects_out_of_its_version(t: &Target) -> Result<(), String> {
    for version in t.site.versions()? {
        for alias in &version.aliases {
            for below in [
                "/evil.example/",
                "//evil.example/",
                "%2f%2fevil.example/",
                "http://evil.example/",
                "\\evil.example/",
                "..%2f..%2fetc%2fpasswd",
                "%2e%2e/%2e%2e/etc/passwd",
                "%2e%2e",
                "a/../../b",
            ] {
                let target = format!("/{alias}/{below}");
                let reply = t.get(&target, &[])?;
                match reply.status {
                    302 => {
                        let location = reply.header("location").unwrap_or_default();
                        ensure!(
                            super::stays_on_site(&location)
                                && location.starts_with(&format!("/{}/", version.name)),
                            "GET {target}: Location {location}"
                        );
                    }
                    400 => {}
                    other => return Err(format!("GET {target}: {other}, not 302 or 400")),
                }
            }
        }
    }
    Ok(())
}

fn the_root_answers_302_no_cache_to_the_default_version(t: &Target) -> Result<(), String> {
    let versions = t.site.versions()?;
    let default = t.site.default_version(&versions)?;
    temporary_redirect(t, "/", &format!("/{default}/"))?;
    temporary_redirect(t, "/?q=1", &format!("/{default}/?q=1"))
}

fn each_version_answers_a_missing_path_with_its_own_404_page(t: &Target) -> Result<(), String> {
    let versions = t.site.versions()?;
    for version in &versions {
        let v = &version.name;
        let page = t.site.file(&format!("{v}/404.html"));
        for target in [format!("/{v}/no-such-page/"), format!("/{v}/http/no/such")] {
            for coding in ["identity", "br"] {
                let reply = t.get(&target, &[("Accept-Encoding", coding)])?;
                ensure_eq!(reply.status, 404, "GET {target} ({coding})");
                ensure!(
                    decode(&reply)? == page,
                    "GET {target} ({coding}): the body is not {v}/404.html"
                );
            }
        }
    }
    // Outside every version, the default version's: its links are absolute paths.
    let default = t.site.default_version(&versions)?;
    let reply = t.get("/no-such-version/", &[])?;
    ensure_eq!(reply.status, 404, "GET /no-such-version/");
    ensure!(
        reply.body == t.site.file(&format!("{default}/404.html")),
        "GET /no-such-version/: the body is not the default version's 404 page"
    );
    Ok(())
}

fn each_version_applies_its_own_redirects_file(t: &Target) -> Result<(), String> {
    let versions = t.site.versions()?;
    // A version from before the docs had `_redirects` has none.
    let with_rules: Vec<&str> = versions
        .iter()
        .map(|v| v.name.as_str())
        .filter(|v| t.site.has(&format!("{v}/_redirects")))
        .collect();
    ensure!(!with_rules.is_empty(), "no version has a _redirects file");
    for v in with_rules {
        let rules = String::from_utf8_lossy(&t.site.file(&format!("{v}/_redirects"))).into_owned();
        // The docs' `/docs/* /:splat 301`, under the version's folder.
        let (from, to, status) = rules
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find_map(|rule| match rule[..] {
                [from, to, status] if from.ends_with("/*") && to.ends_with(":splat") => {
                    Some((from.trim_end_matches('*'), to.trim_end_matches(":splat"), status))
                }
                _ => None,
            })
            .ok_or_else(|| format!("{v}/_redirects has no /from/* /to/:splat rule"))?;
        let target = format!("/{v}{from}http/?q=1");
        let reply = t.get(&target, &[])?;
        ensure_eq!(reply.status.to_string(), status, "GET {target}");
        ensure_eq!(
            reply.header("location"),
            Some(format!("/{v}{to}http/?q=1")),
            "GET {target}: a version's rules apply under its folder"
        );
    }
    Ok(())
}

fn versions_json_is_served_for_the_version_selector(t: &Target) -> Result<(), String> {
    let reply = t.get("/versions.json", t.identity())?;
    ensure_eq!(reply.status, 200, "GET /versions.json");
    ensure!(
        reply
            .header("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "GET /versions.json: {:?}",
        reply.header("content-type")
    );
    ensure!(
        reply.body == t.site.file("versions.json"),
        "GET /versions.json is not mike's list"
    );
    Ok(())
}

/// mike writes a folder for each alias (a copy) and a page of refreshes at the root; the table
/// holds neither: the alias and the root redirect.
fn mikes_stand_ins_for_aliases_and_the_root_are_not_served(t: &Target) -> Result<(), String> {
    for version in t.site.versions()? {
        for alias in &version.aliases {
            ensure!(
                lookup(&format!("{alias}/index.html")).is_none(),
                "the table holds mike's copy of {alias}/"
            );
        }
    }
    ensure!(lookup("index.html").is_none(), "the table holds mike's root page");
    // A folder's page is its folder, here too: one hop to the version's page.
    let versions = t.site.versions()?;
    let default = t.site.default_version(&versions)?;
    temporary_redirect(t, "/index.html", &format!("/{default}/"))?;
    for version in &versions {
        for alias in &version.aliases {
            temporary_redirect(
                t,
                &format!("/{alias}/index.html"),
                &format!("/{}/", version.name),
            )?;
        }
    }
    Ok(())
}

/// A file that is the same in two versions (Material's bundles, the fonts, the search worker)
/// has one body in the table for each of its representations, and so one `ETag`.
fn a_body_that_versions_share_is_stored_once(t: &Target) -> Result<(), String> {
    let versions = t.site.versions()?;
    let (newest, older) = (&versions[0].name, &versions[1].name);
    let mut shared = 0;
    for asset in assets().iter().filter(|a| a.path.starts_with(&format!("{newest}/"))) {
        let twin_path = format!("{older}/{}", &asset.path[newest.len() + 1..]);
        let Some(twin) = lookup(&twin_path) else {
            continue;
        };
        let same_bytes = t.site.file(asset.path) == t.site.file(&twin_path);
        let same_bodies = asset
            .representations()
            .zip(twin.representations())
            .all(|(a, b)| a.body == b.body && a.etag == b.etag);
        ensure_eq!(
            same_bodies,
            same_bytes,
            "{} and {twin_path}: stored once exactly when their bytes are equal",
            asset.path
        );
        if same_bytes {
            shared += 1;
            let target = url_path(&twin_path);
            let reply = t.get(&target, &[("Accept-Encoding", "br")])?;
            ensure_eq!(reply.status, 200, "GET {target}");
            ensure_eq!(
                reply.header("etag").as_deref(),
                asset.brotli.as_ref().or(Some(&asset.identity)).map(|r| r.etag),
                "GET {target}: the shared body's ETag"
            );
        }
    }
    ensure!(
        shared > 0,
        "{newest} and {older} share no file; the tree should share Material's assets"
    );
    Ok(())
}

/// An older version's page is stored as the lines it does not share with the newest version's
/// (see `Pieces`): a range of it crosses those pieces and must still be its own bytes.
fn a_range_of_an_older_versions_page_is_its_bytes(t: &Target) -> Result<(), String> {
    let versions = t.site.versions()?;
    let oldest = &versions[versions.len() - 1].name;
    let pieced = assets()
        .iter()
        .filter(|a| a.path.starts_with(&format!("{oldest}/")))
        .filter(|a| a.identity.body.spans.len() > 1)
        .collect::<Vec<_>>();
    ensure!(
        !pieced.is_empty(),
        "no page of {oldest} is stored as pieces of the newest version's"
    );
    for asset in pieced {
        let target = url_path(http_text::path::page_path(asset.path));
        let file = t.site.file(asset.path);
        let (third, last) = (file.len() / 3, file.len() - 1);
        for (first, last) in [(0, last), (third, last), (1, third), (third, third + 1)] {
            let range = format!("bytes={first}-{last}");
            let reply = t.get(&target, &[("Range", &range)])?;
            ensure_eq!(reply.status, 206, "GET {target} ({range})");
            ensure!(
                reply.body == file[first..=last],
                "GET {target} ({range}): not the file's bytes"
            );
        }
    }
    Ok(())
}

fn every_file_of_every_version_arrives_byte_for_byte_in_every_coding(
    t: &Target,
) -> Result<(), String> {
    every_file_arrives_byte_for_byte_in_every_coding(t)
}
