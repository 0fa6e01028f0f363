//! The site compiler on small sites written to a temporary folder.

use std::fs;
use std::path::Path;

use site_compiler::{compile, CompiledFile, Options, Summary, DEFAULT_CONTENT_SECURITY_POLICY};

mod fixture;
use fixture::Fixture;

fn file<'a>(summary: &'a Summary, path: &str) -> &'a CompiledFile {
    summary
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not in the table"))
}

const PAGE: &[u8] = b"<!doctype html><html><head><title>t</title></head>\
<body><a href=\"#top\">top</a> lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum\
 dolor sit amet lorem ipsum dolor sit amet</body></html>";

#[test]
fn a_site_compiles_into_a_sorted_table() {
    let f = Fixture::new(&[
        (
            "index.html",
            b"<link rel=stylesheet href=css/site.css><a href=\"guide/\">g</a>",
        ),
        (
            "guide/index.html",
            b"<a href=\"../\">up</a><a href=\"/css/site.css\">c</a>",
        ),
        ("css/site.css", b"body { color: black }"),
    ]);
    let summary = f.compile().unwrap();
    let paths: Vec<&str> = summary.files.iter().map(|f| f.path.as_str()).collect();
    // Two pages: the build adds their compression dictionary (tests/dictionary.rs).
    let dictionary = paths[0];
    assert!(
        dictionary.starts_with("assets/dictionaries/pages."),
        "{paths:?}"
    );
    assert_eq!(
        paths,
        [dictionary, "css/site.css", "guide/index.html", "index.html"]
    );
    let table = f.table();
    assert!(table.contains("pub static ASSETS: [Asset; 4]"));
    let bodies = fs::read(f.out.path().join(site_compiler::artifacts::BODIES)).unwrap();
    assert_eq!(bodies.len(), summary.figures.stored_bytes);
    assert_eq!(
        site_compiler::read_figures(f.out.path()),
        Ok(summary.figures),
        "the figures component-packer reads back are the build's"
    );
    assert!(table.contains(&format!(
        "CONTENT_SECURITY_POLICY: &str = {DEFAULT_CONTENT_SECURITY_POLICY:?}"
    )));
}

#[test]
fn broken_links_fail_the_build_and_each_is_listed() {
    let f = Fixture::new(&[
        (
            "index.html",
            b"<a href=\"missing/\">a</a><img src=\"img/gone.png\">",
        ),
        (
            "css/site.css",
            b"a { background: url(../fonts/none.woff2) }",
        ),
    ]);
    let error = f.compile().unwrap_err();
    assert!(error.contains("3 broken internal link(s)"), "{error}");
    for needle in [
        "index.html: \"missing/\"",
        "index.html: \"img/gone.png\"",
        "css/site.css: \"../fonts/none.woff2\"",
        "SITE_LINK_CHECK=warn",
    ] {
        assert!(error.contains(needle), "{needle} not in: {error}");
    }
}

#[test]
fn broken_links_in_warn_mode_are_reported_not_fatal() {
    let f = Fixture::new(&[("index.html", b"<a href=\"missing/\">a</a>")]);
    let summary = compile(&Options {
        fail_on_broken_links: false,
        ..f.options()
    })
    .unwrap();
    assert_eq!(summary.broken_links.len(), 1);
}

#[test]
fn compressible_files_get_variants_incompressible_types_do_not() {
    let f = Fixture::new(&[
        ("index.html", PAGE),
        ("logo.png", PAGE),
        ("font.woff2", PAGE),
    ]);
    let summary = f.compile().unwrap();
    let page = file(&summary, "index.html");
    assert!(page.brotli.is_some() && page.gzip.is_some());
    for path in ["logo.png", "font.woff2"] {
        let f = file(&summary, path);
        assert!(f.brotli.is_none() && f.gzip.is_none(), "{path}");
    }
}

#[test]
fn variants_that_save_under_5_percent_are_dropped() {
    // Pseudo-random bytes do not compress: the variants would be no smaller.
    let mut noise = Vec::new();
    let mut x: u32 = 2_463_534_242;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push((x >> 24) as u8);
    }
    let f = Fixture::new(&[("noise.txt", &noise)]);
    let summary = f.compile().unwrap();
    assert_eq!(
        (summary.figures.brotli_bytes, summary.figures.gzip_bytes),
        (0, 0)
    );
    assert_eq!(file(&summary, "noise.txt").etags.len(), 1);
}

#[test]
fn content_types_and_cache_policies() {
    let f = Fixture::new(&[
        ("index.html", PAGE),
        ("app.79ae519e.min.js", b"let x = 1;"),
        ("app.79ae519e.min.js.map", b"{}"),
        ("data.json", b"{}"),
        ("raw.bin", &[0xff, 0xfe]),
        ("latin1.txt", &[0x63, 0x61, 0x66, 0xe9]),
    ]);
    let summary = f.compile().unwrap();
    let immutable = "public, max-age=31536000, immutable";
    for (path, content_type, cache) in [
        ("index.html", "text/html; charset=utf-8", "no-cache"),
        (
            "app.79ae519e.min.js",
            "text/javascript; charset=utf-8",
            immutable,
        ),
        (
            "app.79ae519e.min.js.map",
            "application/json; charset=utf-8",
            immutable,
        ),
        ("data.json", "application/json; charset=utf-8", "no-cache"),
        ("raw.bin", "application/octet-stream", "no-cache"),
        // Not UTF-8, so no charset is claimed.
        ("latin1.txt", "text/plain", "no-cache"),
    ] {
        let f = file(&summary, path);
        assert_eq!(f.content_type, content_type, "{path}");
        assert_eq!(f.cache_control, cache, "{path}");
    }
}

#[test]
fn dot_files_are_not_embedded_except_well_known() {
    let f = Fixture::new(&[
        ("index.html", PAGE),
        (".git/config", b"secret"),
        (".env", b"TOKEN=1"),
        ("assets/.DS_Store", b"x"),
        (".well-known/security.txt", b"Contact: mailto:a@b.c"),
    ]);
    let summary = f.compile().unwrap();
    assert_eq!(summary.files.len(), 2);
    let mut hidden = summary.skipped_hidden.clone();
    hidden.sort();
    assert_eq!(hidden, vec![".env", ".git", "assets/.DS_Store"]);
    file(&summary, ".well-known/security.txt");
}

#[test]
fn source_date_epoch_sets_every_last_modified() {
    let f = Fixture::new(&[("index.html", PAGE)]);
    let summary = compile(&Options {
        source_date_epoch: Some(784_111_777),
        ..f.options()
    })
    .unwrap();
    assert_eq!(file(&summary, "index.html").last_modified, 784_111_777);
    assert!(f.table().contains("Sun, 06 Nov 1994 08:49:37 GMT"));
}

#[test]
fn equal_bytes_get_equal_etags_across_builds() {
    let a = Fixture::new(&[("index.html", PAGE)]);
    let b = Fixture::new(&[("index.html", PAGE)]);
    let a = a.compile().unwrap();
    let b = b.compile().unwrap();
    let etags = |summary: &Summary| file(summary, "index.html").etags.clone();
    assert_eq!(etags(&a), etags(&b));
    assert_eq!(
        etags(&a).len(),
        3,
        "identity, brotli and gzip each have a tag"
    );
}

#[test]
fn bad_settings_and_sites_are_errors_that_name_the_fix() {
    let empty = Fixture::new(&[]);
    assert!(empty.compile().unwrap_err().contains("no files to serve"));

    let f = Fixture::new(&[("index.html", PAGE)]);
    let error = compile(&Options {
        content_security_policy: "default-src 'self'\r\nX: y".into(),
        ..f.options()
    })
    .unwrap_err();
    assert!(error.contains("HELLO_WORLD_CSP"), "{error}");

    let missing = Options {
        site_dir: Path::new("/nonexistent/site").to_owned(),
        ..f.options()
    };
    assert!(compile(&missing).unwrap_err().contains("/nonexistent/site"));
}

#[test]
fn file_names_that_cannot_be_requested_are_build_errors() {
    let f = Fixture::new(&[("index.html", PAGE), ("back\\slash.html", PAGE)]);
    let error = f.compile().unwrap_err();
    assert!(error.contains("backslash"), "{error}");
}

#[test]
fn a_body_that_two_files_share_is_stored_once() {
    let stylesheet: &[u8] = b"body { color: black; margin: 0 auto; max-width: 40rem }\n";
    let f = Fixture::new(&[
        ("index.html", PAGE),
        ("v1/site.css", stylesheet),
        ("v2/site.css", stylesheet),
    ]);
    let summary = f.compile().unwrap();
    let bodies = fs::read(f.out.path().join(site_compiler::artifacts::BODIES)).unwrap();
    assert_eq!(bodies.len(), summary.figures.stored_bytes);
    // Both copies and their variants are counted, and each distinct body is stored once.
    let copy = file(&summary, "v2/site.css");
    let copy_bytes = copy.bytes.len()
        + copy.brotli.as_ref().map_or(0, Vec::len)
        + copy.gzip.as_ref().map_or(0, Vec::len);
    assert_eq!(
        summary.figures.stored_bytes,
        summary.figures.site_bytes() - copy_bytes
    );
    let table = f.table();
    let span = |path: &str| {
        let at = table.find(&format!("path : {path:?}")).unwrap();
        let identity = &table[at..][table[at..].find("identity").unwrap()..];
        identity[..identity.find('}').unwrap()].to_owned()
    };
    assert_eq!(span("v1/site.css"), span("v2/site.css"));
}
