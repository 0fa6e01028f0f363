//! Preload hints (`Link`, RFC 8288; worked out by the site compiler's `preload.rs`): a page's
//! `200` names the render-blocking resources of its head, each one a file of this site, so that
//! a browser, or a CDN sending `103 Early Hints`, can fetch them before the page is parsed.

use super::Target;

pub const CASES: &[(&str, super::Case)] = cases![
    a_page_links_what_its_head_blocks_on,
    every_hinted_resource_is_served_as_the_hint_says,
    only_pages_carry_hints,
];

fn a_page_links_what_its_head_blocks_on(t: &Target) -> Result<(), String> {
    for method in ["GET", "HEAD"] {
        let reply = t.request(method, "/", &[("Accept-Encoding", "br")])?;
        let link = reply.header("link").ok_or(format!("{method} / has no Link"))?;
        let page = String::from_utf8_lossy(&t.site.file("index.html")).into_owned();
        let head = page.split("</head>").next().unwrap_or_default();
        // The page's other link, the compression dictionary, is `dictionary`'s case.
        for hint in link.split(", ").filter(|h| h.contains("rel=preload")) {
            let url = hint.split(['<', '>']).nth(1).ok_or(format!("not a Link value: {hint}"))?;
            ensure!(
                head.contains(url.trim_start_matches('/')),
                "{url} is not named in the head of index.html"
            );
        }
    }
    Ok(())
}

fn every_hinted_resource_is_served_as_the_hint_says(t: &Target) -> Result<(), String> {
    for page in ["/", "/http/", "/architecture/"] {
        let link = t.get(page, &[])?.header("link").unwrap_or_default();
        for hint in link.split(", ").filter(|h| !h.is_empty()) {
            let url = hint.split(['<', '>']).nth(1).unwrap_or_default();
            let reply = t.get(url, &[])?;
            ensure_eq!(reply.status, 200, "{page}: hinted {url}");
            let expected = if hint.ends_with("as=style") { "text/css" } else { "" };
            ensure!(
                reply.header("content-type").is_some_and(|c| c.starts_with(expected)),
                "{page}: {url} is not {expected}"
            );
        }
    }
    Ok(())
}

fn only_pages_carry_hints(t: &Target) -> Result<(), String> {
    let css = hello_world::site::assets()
        .iter()
        .find(|a| a.path.ends_with(".css"))
        .ok_or("the site has no stylesheet")?;
    for target in [format!("/{}", css.path), "/no-such-page/".to_owned(), "/index.html".to_owned()] {
        ensure!(!t.get(&target, &[])?.has("link"), "{target} has a Link header");
    }
    Ok(())
}
