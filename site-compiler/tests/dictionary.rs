//! The pages' compression dictionary (RFC 9842): served as a file of the site, named by every
//! page's `Link`, and dcb and dcz variants of each page against it.

mod fixture;
use fixture::Fixture;

use site_compiler::CompiledFile;

/// Pages that share their chrome, as an MkDocs site's do.
fn page(title: &str) -> Vec<u8> {
    let chrome = "<header>the site's header, navigation and search</header>\n".repeat(20);
    format!("<!doctype html>\n<title>{title}</title>\n{chrome}<main>{title} text</main>\n")
        .into_bytes()
}

fn file<'a>(files: &'a [CompiledFile], path: &str) -> &'a CompiledFile {
    files.iter().find(|f| f.path == path).unwrap()
}

#[test]
fn the_dictionary_is_an_immutable_file_marked_for_documents() {
    let (one, two) = (page("one"), page("two"));
    let f = Fixture::new(&[("index.html", &one[..]), ("two/index.html", &two[..])]);
    let summary = f.compile().unwrap();
    let dictionary = &summary.files[0];
    assert!(dictionary.path.starts_with("assets/dictionaries/pages."));
    assert_eq!(dictionary.content_type, "text/plain; charset=utf-8");
    assert_eq!(
        dictionary.cache_control,
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        dictionary.headers,
        [(
            "use-as-dictionary".to_owned(),
            "match=\"/*\", match-dest=(\"document\")".to_owned()
        )]
    );
    assert!(dictionary.dcb.is_none() && dictionary.dcz.is_none() && dictionary.link.is_none());
    assert_eq!(summary.figures.dictionary_bytes, dictionary.bytes.len());
}

#[test]
fn every_page_links_the_dictionary_and_has_dcb_and_dcz_variants_that_decode_with_it() {
    let (one, two) = (page("one"), page("two"));
    let f = Fixture::new(&[("index.html", &one[..]), ("two/index.html", &two[..])]);
    let summary = f.compile().unwrap();
    let dictionary = &summary.files[0];
    for (path, html) in [("index.html", &one), ("two/index.html", &two)] {
        let page = file(&summary.files, path);
        assert_eq!(
            page.link.as_deref(),
            Some(format!("</{}>; rel=\"compression-dictionary\"", dictionary.path).as_str())
        );
        let dcz = page.dcz.as_ref().expect("a dcz variant");
        let dcb = page.dcb.as_ref().expect("a dcb variant");
        for variant in [dcb, dcz] {
            assert!(variant.bytes.len() < page.brotli.as_ref().unwrap().len());
        }
        assert_eq!(page.etags.len(), 5, "identity, brotli, gzip, dcb, dcz");
        // The reference brotli decoder, after the 36-byte header.
        let restored = shared_brotli::decompress(&dcb.bytes[36..], &dictionary.bytes);
        assert_eq!(restored.as_ref(), Some(html), "{path}");
        // The reference decoder (libzstd) skips the 40-byte header, a skippable frame.
        let restored = zstd::bulk::Decompressor::with_dictionary(&dictionary.bytes)
            .unwrap()
            .decompress(&dcz.bytes, html.len())
            .unwrap();
        assert_eq!(&restored, html, "{path}");
    }
    assert!(summary.figures.dcb_bytes > 0 && summary.figures.dcz_bytes > 0);
}

#[test]
fn a_site_of_one_page_has_no_dictionary() {
    let f = Fixture::new(&[("index.html", &page("one")[..]), ("a.css", b"body {}")]);
    let summary = f.compile().unwrap();
    assert!(summary
        .files
        .iter()
        .all(|f| f.dcb.is_none() && f.dcz.is_none() && f.link.is_none()));
    assert_eq!(summary.figures.dictionary_bytes, 0);
}

#[test]
fn a_site_file_where_the_dictionary_goes_is_a_build_error() {
    let (one, two) = (page("one"), page("two"));
    let f = Fixture::new(&[("index.html", &one[..]), ("two/index.html", &two[..])]);
    let key = f.compile().unwrap().files[0].path.clone();
    let f = Fixture::new(&[
        ("index.html", &one[..]),
        ("two/index.html", &two[..]),
        (key.as_str(), b"mine"),
    ]);
    // Its own bytes change the pages' lines not at all, so the name stays.
    let error = f.compile().unwrap_err();
    assert!(
        error.contains(&key) && error.contains("rename or remove"),
        "{error}"
    );
}

/// A release's bundle: a script whose next version changes one line of many.
fn bundle(version: &str) -> Vec<u8> {
    let mut text: String = (0..400)
        .map(|i| format!("function helper{i}(a, b) {{ return a * {i} + b; }}\n"))
        .collect();
    text.push_str(&format!("const VERSION = \"{version}\";\n"));
    text.into_bytes()
}

#[test]
fn a_bundle_has_a_delta_against_its_previous_version_which_is_marked_as_a_dictionary() {
    let (old, new) = (bundle("1"), bundle("2"));
    let previous = Fixture::new(&[
        (
            "index.html",
            b"<script src=assets/app.0000aaaa.js></script>",
        ),
        ("assets/app.0000aaaa.js", &old[..]),
    ]);
    let f = Fixture::new(&[
        (
            "index.html",
            b"<script src=assets/app.0000bbbb.js></script>",
        ),
        ("assets/app.0000bbbb.js", &new[..]),
    ]);
    let summary = site_compiler::compile(&site_compiler::Options {
        previous_site: Some(previous.site.path().to_owned()),
        ..f.options()
    })
    .unwrap();
    let marked = (
        "use-as-dictionary".to_owned(),
        "match=\"/assets/app.*.js\", match-dest=(\"script\")".to_owned(),
    );
    // The previous version, carried for version skew, and this one both say so.
    for path in ["assets/app.0000aaaa.js", "assets/app.0000bbbb.js"] {
        assert!(
            file(&summary.files, path).headers.contains(&marked),
            "{path}"
        );
    }
    let delta = file(&summary.files, "assets/app.0000bbbb.js")
        .dcz
        .as_ref()
        .unwrap();
    let restored = zstd::bulk::Decompressor::with_dictionary(&old)
        .unwrap()
        .decompress(&delta.bytes, new.len())
        .unwrap();
    assert_eq!(restored, new);
    let figures = &summary.figures;
    assert_eq!(figures.delta_files, 1);
    assert!(
        figures.delta_bytes * 10 < figures.delta_brotli_bytes,
        "{figures:?}"
    );
}
