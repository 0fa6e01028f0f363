//! Per-path headers at build time: `_headers` rules land on the files their patterns match,
//! and a rule that cannot be served fails the build naming its line.

mod fixture;
use fixture::Fixture;

const PAGE: &[u8] = b"<!doctype html><html><body><p>a page</p></body></html>";

#[test]
fn each_file_carries_the_headers_its_url_matches() {
    let f = Fixture::new(&[
        ("index.html", PAGE),
        ("guide/index.html", PAGE),
        ("search/index.json", b"{}"),
        (
            "_headers",
            b"/search/*\n  Access-Control-Allow-Origin: *\n/guide/\n  X-Frame-Options: DENY\n",
        ),
    ]);
    let summary = f.compile().unwrap();
    let headers = |path: &str| {
        summary
            .files
            .iter()
            .find(|f| f.path == path)
            .unwrap()
            .headers
            .clone()
    };
    assert_eq!(
        headers("search/index.json"),
        [("access-control-allow-origin".to_owned(), "*".to_owned())]
    );
    assert_eq!(
        headers("guide/index.html"),
        [("x-frame-options".to_owned(), "DENY".to_owned())]
    );
    assert!(headers("index.html").is_empty());
    assert!(
        summary.files.iter().all(|f| f.path != "_headers"),
        "_headers is not served"
    );
    // The pair as the table's source writes it (databake's tokens, spaced by proc-macro2).
    assert!(f
        .table()
        .contains(r#"headers : & [("x-frame-options" , "DENY")]"#));
}

#[test]
fn a_header_the_core_owns_fails_the_build_naming_the_line() {
    let f = Fixture::new(&[
        ("index.html", PAGE),
        ("_headers", b"/*\n  X-A: 1\n  ETag: \"mine\"\n"),
    ]);
    let error = f.compile().unwrap_err();
    assert!(
        error.contains("_headers:3: etag is the server's own header"),
        "{error}"
    );
}

#[test]
fn more_headers_than_a_response_has_room_for_fail_the_build() {
    let many: String = (0..9).map(|i| format!("  X-H{i}: {i}\n")).collect();
    let f = Fixture::new(&[
        ("index.html", PAGE),
        ("_headers", format!("/*\n{many}").as_bytes()),
    ]);
    let error = f.compile().unwrap_err();
    assert!(
        error.contains("/ gets 9 headers, more than the 8"),
        "{error}"
    );
}
