//! The broken-link check: every internal `href`/`src` in HTML and every `url()`/`@import` in
//! CSS must name a file of the site (or a directory with an `index.html`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use html5gum::{DefaultEmitter, Token, Tokenizer};

use crate::permalinks;
use crate::site_url::{self, Resolved};
use crate::walk::SiteFile;

#[derive(Debug, PartialEq, Eq)]
pub struct BrokenLink {
    /// The file the link is in.
    pub from: String,
    /// The link as written.
    pub link: String,
    /// What it resolves to, or why it cannot resolve.
    pub problem: String,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: \"{}\" {}", self.from, self.link, self.problem)
    }
}

/// The link check: the broken links of the site in `site_dir`. An error lists them when `fail`
/// (SITE_LINK_CHECK), else they are returned.
pub fn check(files: &[SiteFile], site_dir: &Path, fail: bool) -> Result<Vec<BrokenLink>, String> {
    let broken = broken_links(files);
    if fail && !broken.is_empty() {
        let list: Vec<String> = broken.iter().map(|b| format!("  {b}")).collect();
        return Err(format!(
            "{} broken internal link(s) in {}:\n{}\nFix the links in the site's sources, or set \
             SITE_LINK_CHECK=warn to build anyway.",
            broken.len(),
            site_dir.display(),
            list.join("\n")
        ));
    }
    Ok(broken)
}

fn broken_links(files: &[SiteFile]) -> Vec<BrokenLink> {
    let keys: HashSet<&str> = files.iter().map(|f| f.key.as_str()).collect();
    // What a `#fragment` can name on each page.
    let ids: HashMap<&str, BTreeSet<String>> = files
        .iter()
        .filter(|f| is_html(&f.key))
        .map(|f| {
            (
                f.key.as_str(),
                permalinks::ids(&String::from_utf8_lossy(&f.bytes)),
            )
        })
        .collect();
    let mut broken = Vec::new();
    for file in files {
        let Ok(text) = std::str::from_utf8(&file.bytes) else {
            continue;
        };
        let links = if is_html(&file.key) {
            html_links(text)
        } else if file.key.ends_with(".css") {
            css_links(text)
        } else {
            continue;
        };
        for link in links {
            if let Some(problem) = problem(&keys, &ids, &file.key, &link) {
                broken.push(BrokenLink {
                    from: file.key.clone(),
                    link,
                    problem,
                });
            }
        }
    }
    broken
}

fn html_links(html: &str) -> Vec<String> {
    let mut emitter = DefaultEmitter::default();
    // Script and style contents are raw text, not markup: without state switching, a string
    // such as "<a href=x>" inside a script would be read as a tag.
    emitter.naively_switch_states(true);
    let mut links = Vec::new();
    let mut in_style = false;
    for token in Tokenizer::new_with_emitter(html, emitter).flatten() {
        match token {
            Token::StartTag(tag) => {
                in_style = tag.name == b"style";
                for name in [&b"href"[..], b"src"] {
                    if let Some(value) = tag.attributes.get(name) {
                        links.push(String::from_utf8_lossy(&value.value).into_owned());
                    }
                }
            }
            Token::EndTag(_) => in_style = false,
            Token::String(text) if in_style => {
                links.extend(css_links(&String::from_utf8_lossy(&text.value)));
            }
            _ => {}
        }
    }
    links
}

fn css_links(css: &str) -> Vec<String> {
    let css = strip_css_comments(css);
    let mut links = Vec::new();
    let mut rest = css.as_str();
    while let Some(at) = find_either(rest, "url(", "@import") {
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("url(") {
            let after = after.trim_start();
            let (link, tail) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => quoted(&after[1..], q),
                _ => after.split_once(')').unwrap_or((after, "")),
            };
            links.push(link.trim().to_owned());
            rest = tail;
        } else {
            let after = rest["@import".len()..].trim_start();
            match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let (link, tail) = quoted(&after[1..], q);
                    links.push(link.to_owned());
                    rest = tail;
                }
                // `@import url(...)` is picked up as a url( on the next turn.
                _ => rest = after,
            }
        }
    }
    links
}

fn find_either(haystack: &str, a: &str, b: &str) -> Option<usize> {
    match (haystack.find(a), haystack.find(b)) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn quoted(s: &str, quote: char) -> (&str, &str) {
    match s.find(quote) {
        Some(end) => (&s[..end], &s[end + 1..]),
        None => (s, ""),
    }
}

fn strip_css_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start + 2..]
            .find("*/")
            .map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    out.push_str(rest);
    out
}

fn is_html(key: &str) -> bool {
    key.ends_with(".html") || key.ends_with(".htm")
}

/// `None` when `link` (found in the file `from`) is external or names a file of the site and,
/// with a `#fragment`, an element of that page; otherwise what is wrong with it.
fn problem(
    keys: &HashSet<&str>,
    ids: &HashMap<&str, BTreeSet<String>>,
    from: &str,
    link: &str,
) -> Option<String> {
    let page = match site_url::resolve(keys, from, link) {
        Resolved::External => return None,
        Resolved::SamePage => from.to_owned(),
        Resolved::File(key) => key,
        Resolved::Missing(wanted) => {
            return Some(format!("points at {wanted}, which is not in the site"))
        }
        Resolved::Invalid(problem) => return Some(problem),
    };
    let fragment = link
        .trim()
        .split_once('#')
        .map(|(_, f)| f)
        .unwrap_or_default();
    // HTML decodes a fragment more loosely than a path (any byte, then lossy UTF-8). MkDocs'
    // ids are slugs, so the path decoder serves; a fragment it refuses is compared as written,
    // which can only report a link as broken, never hide a broken one.
    let fragment =
        http_text::path::decode(fragment).unwrap_or(std::borrow::Cow::Borrowed(fragment));
    // `#top` is the top of any page (HTML, "the indicated part of the document").
    let names_nothing = fragment.is_empty() || fragment.eq_ignore_ascii_case("top");
    match ids.get(page.as_str()) {
        Some(ids) if !names_nothing && !ids.contains(fragment.as_ref()) => Some(format!(
            "points at #{fragment}, which no element of {page} has (a heading renamed?)"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(pages: &[(&str, &str)]) -> Vec<SiteFile> {
        pages.iter().map(|(k, t)| SiteFile::text(k, t)).collect()
    }

    #[test]
    fn relative_absolute_and_directory_links_resolve() {
        let files = site(&[
            (
                "index.html",
                r#"<a href="guide/">g</a><a href="/guide">g2</a><img src="img/a.png">"#,
            ),
            (
                "guide/index.html",
                r#"<a href="..">up</a><a href="../img/a.png#x">i</a><a href="./">self</a>"#,
            ),
            ("img/a.png", ""),
        ]);
        assert_eq!(broken_links(&files), vec![]);
    }

    #[test]
    fn a_missing_target_is_reported_with_its_page() {
        let files = site(&[("guide/index.html", r#"<a href="../missing/">m</a>"#)]);
        let broken = broken_links(&files);
        assert_eq!(broken.len(), 1);
        assert_eq!(broken[0].from, "guide/index.html");
        assert_eq!(broken[0].link, "../missing/");
        assert!(broken[0].problem.contains("missing/index.html"));
    }

    #[test]
    fn external_links_and_fragments_of_the_page_are_fine() {
        let files = site(&[(
            "index.html",
            r##"<a href="https://x.org/a">x</a><a href="//cdn.example/a.js">c</a>
               <a href="mailto:a@b.c">m</a><a href="#top">t</a><img src="data:image/png;base64,AA">
               <a href="?q=1">q</a><a href="javascript:void(0)">j</a>"##,
        )]);
        assert_eq!(broken_links(&files), vec![]);
    }

    #[test]
    fn links_inside_scripts_are_not_markup() {
        let files = site(&[(
            "index.html",
            r#"<script>var s = '<a href="nowhere.html">';</script><p>ok</p>"#,
        )]);
        assert_eq!(broken_links(&files), vec![]);
    }

    #[test]
    fn css_urls_and_imports_are_checked() {
        let files = site(&[
            (
                "css/site.css",
                r#"/* url(commented.png) */ a{background:url( "../img/a.png" )} b{src:url(gone.woff2)}
                   @import "more.css"; @import url('other.css'); i{background:url(data:image/png;base64,AA)}"#,
            ),
            ("css/more.css", ""),
            ("img/a.png", ""),
        ]);
        let links: Vec<_> = broken_links(&files).into_iter().map(|b| b.link).collect();
        assert_eq!(links, vec!["gone.woff2", "other.css"]);
    }

    #[test]
    fn inline_style_urls_are_checked() {
        let files = site(&[(
            "index.html",
            r#"<style>body{background:url(missing.png)}</style>"#,
        )]);
        assert_eq!(broken_links(&files)[0].link, "missing.png");
    }

    #[test]
    fn percent_encoded_and_entity_encoded_links_resolve() {
        let files = site(&[
            (
                "index.html",
                r#"<a href="my%20page/">p</a><a href="a&amp;b.html">e</a>"#,
            ),
            ("my page/index.html", ""),
            ("a&b.html", ""),
        ]);
        assert_eq!(broken_links(&files), vec![]);
    }

    #[test]
    fn a_link_the_server_would_refuse_is_broken() {
        let files = site(&[
            (
                "index.html",
                r#"<a href="a%2Fb.html">s</a><a href="a%00.html">c</a>"#,
            ),
            ("a/b.html", ""),
        ]);
        let problems: Vec<String> = broken_links(&files)
            .into_iter()
            .map(|b| b.problem)
            .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("encoded /"), "{problems:?}");
        assert!(problems[1].contains("control character"), "{problems:?}");
    }

    #[test]
    fn climbing_above_the_root_is_broken() {
        let files = site(&[("index.html", r#"<a href="../../etc/passwd">x</a>"#)]);
        assert!(broken_links(&files)[0]
            .problem
            .contains("above the site root"));
    }
}
