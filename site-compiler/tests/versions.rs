//! A versioned tree, as mike deploys one: every version compiled under its folder with its own
//! rules, mike's stand-ins replaced by redirects, and what the versions share stored once.

mod fixture;

use fixture::Fixture;
use site_compiler::{compile, Options};

const LIST: &[u8] = br#"[
    {"version": "0.2.0", "title": "0.2.0", "aliases": ["latest"]},
    {"version": "0.1.0", "title": "0.1.0", "aliases": []}
]"#;
const STYLESHEET: &[u8] =
    b"body { color: black; margin: 0 auto; max-width: 40rem; font: 1rem serif }\n";
const ROOT: &[u8] = br#"<!DOCTYPE html><html><head><noscript><meta http-equiv="refresh" content="1; url=latest/" /></noscript></head>
<body>Redirecting to <a href="latest/">latest/</a>...</body></html>"#;

fn page(version: &str) -> Vec<u8> {
    format!("<!DOCTYPE html><title>{version}</title><link rel=\"stylesheet\" href=\"site.css\"><a href=\"guide/\">guide</a>")
        .into_bytes()
}

fn tree() -> Fixture {
    let (two, one) = (page("0.2.0"), page("0.1.0"));
    Fixture::new(&[
        ("versions.json", LIST),
        ("index.html", ROOT),
        ("0.2.0/index.html", &two),
        (
            "0.2.0/guide/index.html",
            b"<p>guide two <a href=\"../\">up</a>",
        ),
        ("0.2.0/404.html", b"<p>not in 0.2.0"),
        ("0.2.0/site.css", STYLESHEET),
        ("0.2.0/_redirects", b"/old/ /guide/ 301\n"),
        ("0.2.0/_headers", b"/guide/*\n  X-Robots-Tag: noindex\n"),
        ("0.1.0/index.html", &one),
        (
            "0.1.0/guide/index.html",
            b"<p>guide one <a href=\"../\">up</a>",
        ),
        ("0.1.0/404.html", b"<p>not in 0.1.0"),
        ("0.1.0/site.css", STYLESHEET),
        // mike's alias: a copy of its version, which the table does not need.
        ("latest/index.html", &two),
        ("latest/site.css", STYLESHEET),
    ])
}

fn versioned(f: &Fixture) -> Result<site_compiler::Summary, String> {
    compile(&Options {
        versioned: true,
        ..f.options()
    })
}

#[test]
fn each_version_is_served_under_its_folder_and_the_aliases_copies_are_gone() {
    let f = tree();
    let summary = versioned(&f).unwrap();
    let paths: Vec<&str> = summary.files.iter().map(|f| f.path.as_str()).collect();
    for path in [
        "0.1.0/guide/index.html",
        "0.2.0/404.html",
        "0.2.0/site.css",
        "versions.json",
    ] {
        assert!(paths.contains(&path), "{path}: {paths:?}");
    }
    assert!(!paths.iter().any(|p| p.starts_with("latest/")), "{paths:?}");
    assert!(
        !paths.contains(&"index.html"),
        "mike's root page is a redirect now"
    );
    assert!(!paths
        .iter()
        .any(|p| p.ends_with("_redirects") || p.ends_with("_headers")));
}

#[test]
fn aliases_and_the_root_redirect_for_now_and_each_versions_rules_stay_in_its_folder() {
    let summary = versioned(&tree()).unwrap();
    let rules: Vec<(&str, bool, &str, u16)> = summary
        .redirects
        .iter()
        .map(|r| (r.from.as_str(), r.splat, r.to.as_str(), r.status))
        .collect();
    assert_eq!(
        rules,
        [
            ("0.2.0/old", false, "/0.2.0/guide/", 301),
            ("", false, "/0.2.0/", 302),
            ("latest", false, "/0.2.0/", 302),
            ("latest/", true, "/0.2.0/:splat", 302),
        ]
    );
    let guide = summary
        .files
        .iter()
        .find(|f| f.path == "0.2.0/guide/index.html")
        .unwrap();
    assert!(guide
        .headers
        .contains(&("x-robots-tag".to_owned(), "noindex".to_owned())));
    let other = summary
        .files
        .iter()
        .find(|f| f.path == "0.1.0/guide/index.html")
        .unwrap();
    assert!(other.headers.is_empty(), "0.2.0's _headers is not 0.1.0's");
}

#[test]
fn a_body_the_versions_share_is_stored_once() {
    let summary = versioned(&tree()).unwrap();
    let figures = summary.figures;
    // The stylesheet of both versions, and the default version's 404 page, which also answers
    // outside every version.
    let shared: usize = ["0.1.0/site.css", "404.html"]
        .iter()
        .map(|path| summary.files.iter().find(|f| f.path == *path).unwrap())
        .map(|file| {
            file.bytes.len()
                + file.brotli.as_ref().map_or(0, Vec::len)
                + file.gzip.as_ref().map_or(0, Vec::len)
        })
        .sum();
    assert_eq!(figures.stored_bytes, figures.site_bytes() - shared);
    let root_404 = summary.files.iter().find(|f| f.path == "404.html").unwrap();
    assert_eq!(root_404.bytes, b"<p>not in 0.2.0");
}

#[test]
fn a_tree_without_its_list_or_with_a_missing_version_fails_naming_it() {
    let f = Fixture::new(&[("0.1.0/index.html", b"<p>one")]);
    assert!(versioned(&f)
        .unwrap_err()
        .contains("SITE_VERSIONS_DIR has no versions.json"));
    let f = Fixture::new(&[
        (
            "versions.json",
            br#"[{"version": "0.2.0"}, {"version": "0.1.0"}]"#,
        ),
        ("0.1.0/index.html", b"<p>one"),
    ]);
    let error = versioned(&f).unwrap_err();
    assert!(
        error.contains("versions.json entry 1 (0.2.0): the tree has no 0.2.0/index.html"),
        "{error}"
    );
}

/// The next release's tree: mike deployed 0.3.0 on top of the tree above, and moved `latest`.
/// 0.2.0 was deployed again, as a development version is: its guide's bundle has a new hash.
fn next_release() -> Fixture {
    const NEXT_LIST: &[u8] = br#"[
        {"version": "0.3.0", "title": "0.3.0", "aliases": ["latest"]},
        {"version": "0.2.0", "title": "0.2.0", "aliases": []},
        {"version": "0.1.0", "title": "0.1.0", "aliases": []}
    ]"#;
    let (three, two, one) = (page("0.3.0"), page("0.2.0"), page("0.1.0"));
    Fixture::new(&[
        ("versions.json", NEXT_LIST),
        ("index.html", ROOT),
        ("0.3.0/index.html", &three),
        (
            "0.3.0/guide/index.html",
            b"<p>guide three <a href=\"../\">up</a>",
        ),
        ("0.3.0/404.html", b"<p>not in 0.3.0"),
        ("0.3.0/site.css", STYLESHEET),
        ("0.2.0/index.html", &two),
        (
            "0.2.0/guide/index.html",
            b"<p>guide two <a href=\"../\">up</a>",
        ),
        ("0.2.0/404.html", b"<p>not in 0.2.0"),
        ("0.2.0/site.css", STYLESHEET),
        (
            "0.2.0/assets/bundle.bbbbbbbb.min.js",
            b"console.log('two, again')",
        ),
        ("0.2.0/_redirects", b"/old/ /guide/ 301\n"),
        ("0.1.0/index.html", &one),
        (
            "0.1.0/guide/index.html",
            b"<p>guide one <a href=\"../\">up</a>",
        ),
        ("0.1.0/404.html", b"<p>not in 0.1.0"),
        ("0.1.0/site.css", STYLESHEET),
        ("latest/index.html", &three),
    ])
}

fn against(f: &Fixture, previous: &Fixture) -> Result<site_compiler::Summary, String> {
    compile(&Options {
        versioned: true,
        previous_site: Some(previous.site.path().to_owned()),
        ..f.options()
    })
}

/// The previous release's tree, with a bundle in 0.2.0 that the next one replaces.
fn previous_release() -> Fixture {
    let previous = tree();
    let bundle = previous
        .site
        .path()
        .join("0.2.0/assets/bundle.aaaaaaaa.min.js");
    std::fs::create_dir_all(bundle.parent().unwrap()).unwrap();
    std::fs::write(bundle, b"console.log('two')").unwrap();
    previous
}

#[test]
fn a_release_of_the_tree_keeps_every_page_of_the_previous_tree_per_version() {
    let previous = previous_release();
    // The aliases' copies and mike's root page of the previous tree redirect now.
    let summary = against(&next_release(), &previous).unwrap();
    assert!(
        summary.dead_permalinks.is_empty(),
        "{:?}",
        summary.dead_permalinks
    );
    // 0.1.0 loses its guide in the next tree: a dead permalink of that version.
    let f = next_release();
    std::fs::remove_file(f.site.path().join("0.1.0/guide/index.html")).unwrap();
    std::fs::write(f.site.path().join("0.1.0/index.html"), b"<p>one").unwrap();
    let error = against(&f, &previous).unwrap_err();
    assert!(error.contains("/0.1.0/guide/"), "{error}");
}

#[test]
fn a_redeployed_versions_old_bundle_is_carried_under_its_folder() {
    let previous = previous_release();
    let summary = against(&next_release(), &previous).unwrap();
    assert_eq!(
        summary.carried_files,
        ["0.2.0/assets/bundle.aaaaaaaa.min.js"]
    );
}
