//! Preload hints: for each HTML page, the render-blocking resources its `<head>` names
//! (stylesheets, `modulepreload` and `preload` links, scripts that are neither `async` nor
//! `defer` nor modules), as one `Link` value (RFC 8288):
//!
//! ```text
//! </assets/stylesheets/main.css>; rel=preload; as=style
//! ```
//!
//! A browser can then fetch them before it has parsed the page, and a CDN or proxy that turns
//! `Link` into `103 Early Hints` (Cloudflare, nginx 1.29+) can send them before the page itself.
//! Only files of this site, in the order the page names them, at most [`MAX_HINTS`].

use std::collections::HashSet;

use html5gum::{DefaultEmitter, Token, Tokenizer};

use crate::site_url::{self, Resolved};

/// Enough for a page's own stylesheets and scripts; more would push the first ones' fetches
/// behind the page's less urgent ones.
pub const MAX_HINTS: usize = 6;

/// The `Link` value for the page `key`, or `None` when its head names nothing to preload.
pub fn link_value(keys: &HashSet<&str>, key: &str, html: &str) -> Option<String> {
    let mut hints: Vec<String> = Vec::new();
    let mut add = |href: &str, relation: &str| {
        if let Resolved::File(target) = site_url::resolve(keys, key, href) {
            let mut url = String::from("</");
            http_text::path::encode_into(&mut url, &target);
            let hint = format!("{url}>; {relation}");
            if hints.len() < MAX_HINTS && !hints.contains(&hint) {
                hints.push(hint);
            }
        }
    };
    for token in Tokenizer::new_with_emitter(html, DefaultEmitter::default()).flatten() {
        let tag = match token {
            Token::StartTag(tag) if tag.name == b"body" => break,
            Token::EndTag(tag) if tag.name == b"head" => break,
            Token::StartTag(tag) => tag,
            _ => continue,
        };
        let attribute = |name: &[u8]| {
            tag.attributes
                .get(name)
                .map(|v| String::from_utf8_lossy(&v.value).trim().to_owned())
        };
        match &tag.name[..] {
            b"link" => {
                let (Some(rel), Some(href)) = (attribute(b"rel"), attribute(b"href")) else {
                    continue;
                };
                let rel = rel.to_ascii_lowercase();
                let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
                let media = attribute(b"media").map(|m| m.to_ascii_lowercase());
                if rels.contains(&"stylesheet")
                    && !rels.contains(&"alternate")
                    && media.as_deref().is_none_or(|m| m == "all" || m == "screen")
                {
                    add(&href, "rel=preload; as=style");
                } else if rels.contains(&"modulepreload") {
                    add(&href, "rel=modulepreload");
                } else if rels.contains(&"preload") {
                    let Some(kind) = attribute(b"as").filter(|a| is_destination(a)) else {
                        continue;
                    };
                    let crossorigin = if tag.attributes.contains_key(&b"crossorigin"[..]) {
                        "; crossorigin"
                    } else {
                        ""
                    };
                    add(&href, &format!("rel=preload; as={kind}{crossorigin}"));
                }
            }
            b"script" => {
                let Some(src) = attribute(b"src") else {
                    continue;
                };
                let deferred = [&b"async"[..], b"defer"]
                    .iter()
                    .any(|a| tag.attributes.contains_key(*a));
                let module = attribute(b"type").is_some_and(|t| t.eq_ignore_ascii_case("module"));
                if !deferred && !module {
                    add(&src, "rel=preload; as=script");
                }
            }
            _ => {}
        }
    }
    (!hints.is_empty()).then(|| hints.join(", "))
}

/// The request destinations `as` may name (HTML's "potential destination").
fn is_destination(value: &str) -> bool {
    matches!(
        value,
        "fetch"
            | "audio"
            | "document"
            | "embed"
            | "font"
            | "image"
            | "manifest"
            | "object"
            | "report"
            | "script"
            | "style"
            | "track"
            | "video"
            | "worker"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &[
        "index.html",
        "a/b.css",
        "a/c.js",
        "a/d.js",
        "f.woff2",
        "m.js",
        "p.css",
    ];

    fn hints(html: &str) -> Option<String> {
        link_value(&KEYS.iter().copied().collect(), "index.html", html)
    }

    #[test]
    fn blocking_resources_of_the_head_become_one_link_value() {
        let html = r#"<html><head>
            <link rel="stylesheet" href="a/b.css">
            <script src="a/c.js"></script>
            <script src="a/d.js" defer></script>
            <script src="m.js" type="module"></script>
            <link rel="modulepreload" href="m.js">
            <link rel="preload" href="f.woff2" as="font" crossorigin>
            <link rel="stylesheet" href="p.css" media="print">
            <link rel="stylesheet" href="https://cdn.example/x.css">
            <link rel="stylesheet" href="missing.css">
            <link rel="icon" href="a/b.css">
            </head><body><script src="a/d.js"></script></body></html>"#;
        assert_eq!(
            hints(html).as_deref(),
            Some(
                "</a/b.css>; rel=preload; as=style, </a/c.js>; rel=preload; as=script, \
                 </m.js>; rel=modulepreload, </f.woff2>; rel=preload; as=font; crossorigin"
            )
        );
    }

    #[test]
    fn a_page_without_blocking_resources_gets_no_hint() {
        assert_eq!(
            hints("<html><head><title>t</title></head><body></body></html>"),
            None
        );
    }

    #[test]
    fn the_list_is_bounded_and_has_no_duplicates() {
        let many = "<link rel=stylesheet href=a/b.css>".repeat(3)
            + "<script src=a/c.js></script><link rel=stylesheet href=p.css>\
               <script src=m.js></script><script src=a/d.js></script>\
               <link rel=modulepreload href=m.js><link rel=preload as=font href=f.woff2>\
               <link rel=preload as=image href=index.html>";
        let value = hints(&format!("<head>{many}</head>")).unwrap();
        assert_eq!(value.split(", ").count(), MAX_HINTS);
        assert_eq!(value.matches("a/b.css").count(), 1);
    }
}
