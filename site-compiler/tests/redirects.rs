//! Redirects at build time: `_redirects` rules and mkdocs-redirects pages become the redirect
//! table, and every way a rule can be wrong fails the build naming the rule.

mod fixture;
use fixture::Fixture;

const PAGE: &[u8] = b"<!doctype html><html><body><p>a page</p></body></html>";

/// What mkdocs-redirects 1.2.3 writes for `old.md: new.md`.
const STUB: &[u8] = br##"<!doctype html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <title>Redirecting...</title>
    <link rel="canonical" href="../new/">
    <script>var anchor=window.location.hash.substr(1);location.href="../new/"+(anchor?"#"+anchor:"")</script>
    <meta http-equiv="refresh" content="0; url=../new/">
</head>
<body>
You're being redirected to a <a href="../new/">new destination</a>.
</body>
</html>"##;

fn site(redirects: &str) -> Fixture {
    Fixture::new(&[
        ("index.html", PAGE),
        ("new/index.html", PAGE),
        ("guide/a.html", PAGE),
        ("old/index.html", STUB),
        ("_redirects", redirects.as_bytes()),
    ])
}

#[test]
fn rules_and_moved_pages_become_the_redirect_table() {
    let f = site("/v1/* /guide/:splat 308\n/start /new/\n");
    let summary = f.compile().unwrap();
    assert!(f.table().contains("pub static REDIRECTS: [Redirect; 3]"));
    let rules: Vec<_> = summary
        .redirects
        .iter()
        .map(|r| {
            (
                r.from.as_str(),
                r.splat,
                r.to.as_str(),
                r.status,
                r.page.is_some(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("v1/", true, "/guide/:splat", 308, false),
            ("start", false, "/new/", 301, false),
            ("old", false, "/new/", 301, true),
        ]
    );
    let files: Vec<&str> = summary
        .files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|path| !path.starts_with("assets/dictionaries/"))
        .collect();
    assert_eq!(
        files,
        ["guide/a.html", "index.html", "new/index.html"],
        "neither the stub nor _redirects is a file"
    );
}

#[test]
fn every_wrong_rule_fails_the_build_naming_it() {
    for (rules, expected) in [
        (
            "/a /missing/\n",
            "_redirects:1: /missing/ points at missing/index.html, which is not in the site",
        ),
        (
            "\n/a /guide/b.html\n",
            "_redirects:2: /guide/b.html points at guide/b.html, which is not in the site",
        ),
        ("/a /new\n", "_redirects:1: /new is a folder; write /new/"),
        (
            "/a /b/\n/b/ /new/\n",
            "_redirects:1: /b/ points at another redirect (a chain)",
        ),
        (
            "/a /old/\n",
            "points at another redirect (a chain): old/index.html redirects /old",
        ),
        ("/new/* /new/x/:splat\n", "points at itself (a loop)"),
        (
            "/guide/a.html /\n",
            "_redirects:1: /guide/a.html is a page of the site",
        ),
        ("/a /nowhere/:splat\n", ":splat needs a source ending in /*"),
        (
            "/v1/* /nowhere/:splat\n",
            "points into /nowhere/, which has no files",
        ),
        ("/a /../etc/\n", "without . or .. segments"),
        (
            "/a /b 418\n",
            "_redirects:1: 418: the status must be 301, 302, 307 or 308",
        ),
    ] {
        let error = site(rules).compile().unwrap_err();
        assert!(error.contains(expected), "{rules:?}:\n{error}");
    }
}

#[test]
fn a_moved_page_whose_target_is_missing_fails_the_build() {
    let f = Fixture::new(&[("index.html", PAGE), ("old/index.html", STUB)]);
    let error = f.compile().unwrap_err();
    assert!(
        error.contains(r#"old/index.html: "../new/" points at new/index.html, which is not in"#),
        "{error}"
    );
}

#[test]
fn a_page_that_refreshes_to_another_site_stays_a_page() {
    let elsewhere = String::from_utf8_lossy(STUB).replace("../new/", "https://example.com/");
    let f = Fixture::new(&[
        ("index.html", PAGE),
        ("old/index.html", elsewhere.as_bytes()),
    ]);
    let summary = f.compile().unwrap();
    assert!(summary.redirects.is_empty());
    assert!(summary.files.iter().any(|f| f.path == "old/index.html"));
}
