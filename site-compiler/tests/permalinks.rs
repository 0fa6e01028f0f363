//! Permalinks at build time: the manifest of page URLs and ids, dead permalinks against the
//! previous release's site (a folder or its .tar.gz), and `#fragment` links checked against
//! the ids of the page they point at.

use std::fs;

use site_compiler::{compile, Options};

mod fixture;
use fixture::Fixture;

const PAGE: &[u8] = b"<!doctype html><html><body><h1 id=\"intro\">a page</h1></body></html>";

fn previous_release() -> Fixture {
    Fixture::new(&[
        ("index.html", PAGE),
        ("guide/index.html", PAGE),
        ("old/index.html", PAGE),
        ("gone.html", PAGE),
    ])
}

fn with_previous(
    f: &Fixture,
    previous: &std::path::Path,
    fail: bool,
) -> Result<site_compiler::Summary, String> {
    compile(&Options {
        previous_site: Some(previous.to_owned()),
        fail_on_dead_permalinks: fail,
        ..f.options()
    })
}

#[test]
fn the_build_writes_the_manifest_of_pages_and_ids() {
    let f = Fixture::new(&[("index.html", PAGE), ("guide/index.html", b"<h2 id=\"a\">")]);
    f.compile().unwrap();
    let manifest =
        fs::read_to_string(f.out.path().join(site_compiler::artifacts::MANIFEST)).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(
        manifest["pages"]["/"],
        serde_json::json!(["intro"]),
        "{manifest}"
    );
    assert_eq!(
        manifest["pages"]["/guide/"],
        serde_json::json!(["a"]),
        "{manifest}"
    );
}

#[test]
fn a_page_gone_without_a_redirect_fails_the_build_listing_each() {
    let previous = previous_release();
    let f = Fixture::new(&[("index.html", PAGE), ("guide/index.html", PAGE)]);
    let error = with_previous(&f, previous.site.path(), true).unwrap_err();
    assert!(
        error.contains("2 page(s) of the previous release would be gone"),
        "{error}"
    );
    assert!(
        error.contains("/gone.html") && error.contains("/old/"),
        "{error}"
    );

    let warned = with_previous(&f, previous.site.path(), false).unwrap();
    assert_eq!(warned.dead_permalinks, ["/gone.html", "/old/"]);
}

#[test]
fn a_redirect_keeps_a_permalink_alive() {
    let previous = previous_release();
    let f = Fixture::new(&[
        ("index.html", PAGE),
        ("guide/index.html", PAGE),
        ("_redirects", b"/old/ /guide/\n/gone.html /\n"),
    ]);
    assert!(with_previous(&f, previous.site.path(), true).is_ok());
}

#[test]
fn the_previous_site_can_be_the_release_archive() {
    let previous = previous_release();
    let archive = tempfile::NamedTempFile::new().unwrap();
    let status = std::process::Command::new("tar")
        .args(["-czf"])
        .arg(archive.path())
        .arg("-C")
        .arg(previous.site.path())
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let f = Fixture::new(&[
        ("index.html", PAGE),
        ("guide/index.html", PAGE),
        ("old/index.html", PAGE),
    ]);
    let error = with_previous(&f, archive.path(), true).unwrap_err();
    assert!(
        error.contains("1 page(s)") && error.contains("/gone.html"),
        "{error}"
    );
}

#[test]
fn a_fragment_must_name_an_element_of_its_page() {
    let f = Fixture::new(&[
        ("index.html", b"<a href=\"guide/#intro\">ok</a><a href=\"guide/#renamed\">x</a><a href=\"#top\">y</a><a href=\"#bottom\">b</a><p id=\"here\"><a href=\"#here\">z</a>"),
        ("guide/index.html", PAGE),
    ]);
    let error = f.compile().unwrap_err();
    assert!(
        error.contains(
            "\"guide/#renamed\" points at #renamed, which no element of guide/index.html has"
        ),
        "{error}"
    );
    assert!(
        error.contains("\"#bottom\" points at #bottom, which no element of index.html has"),
        "{error}"
    );
    assert!(error.contains("2 broken internal link(s)"), "{error}");
}
