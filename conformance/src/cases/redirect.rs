//! One URL per page and the site's own redirects (`src/resolve.rs`, `src/redirect.rs`): a
//! folder's page named with `index.html` gets `308` to the folder, a page that moved (the
//! mkdocs-redirects plugin's pages) gets a real `301`, and the rules of `_redirects` apply to
//! paths no file answers, keeping the query. Every redirect lands on a page in one hop.

use super::resolve::url_path;
use super::Target;
use hello_world::site::{redirects, Redirect};

pub const CASES: &[(&str, super::Case)] = cases![
    index_html_gets_308_to_its_folder_keeping_the_query,
    a_moved_page_gets_301_with_its_page_as_the_body,
    redirects_file_rules_fill_the_splat_and_keep_the_query,
    every_redirect_lands_on_a_page_in_one_hop,
    a_splat_never_redirects_to_another_host,
    the_redirects_file_is_not_served,
];

fn index_html_gets_308_to_its_folder_keeping_the_query(t: &Target) -> Result<(), String> {
    for (target, location) in [
        ("/index.html", "/"),
        ("/index.html?x=1", "/?x=1"),
        ("/architecture/index.html", "/architecture/"),
        ("/architecture/index.html?a=b&c", "/architecture/?a=b&c"),
    ] {
        let reply = t.get(target, &[])?;
        ensure_eq!(reply.status, 308, "GET {target}");
        ensure_eq!(reply.header("location").as_deref(), Some(location), "GET {target}");
    }
    Ok(())
}

fn moved_page() -> Result<&'static Redirect, String> {
    redirects()
        .iter()
        .find(|r| r.page.is_some())
        .ok_or_else(|| "the site has no mkdocs-redirects page (site/mkdocs.yml redirect_maps)".into())
}

fn a_moved_page_gets_301_with_its_page_as_the_body(t: &Target) -> Result<(), String> {
    let moved = moved_page()?;
    let old = format!("/{}/", moved.from);
    for target in [old.clone(), format!("/{}", moved.from), format!("{old}index.html")] {
        let reply = t.get(&target, &[])?;
        ensure_eq!(reply.status, 301, "GET {target}");
        ensure_eq!(reply.header("location").as_deref(), Some(moved.to), "GET {target}");
        ensure_eq!(
            reply.header("content-type").as_deref(),
            Some("text/html; charset=utf-8"),
            "GET {target}"
        );
        ensure!(
            reply.body == t.site.file(&format!("{}/index.html", moved.from)),
            "GET {target}: the body is not the plugin's page"
        );
    }
    Ok(())
}

fn redirects_file_rules_fill_the_splat_and_keep_the_query(t: &Target) -> Result<(), String> {
    let splat = redirects()
        .iter()
        .find(|r| r.splat && r.to.contains(":splat"))
        .ok_or("the site's _redirects has no /from/* /to/:splat rule")?;
    let target = format!("/{}http/?q=1", splat.from);
    let reply = t.get(&target, &[])?;
    ensure_eq!(reply.status, splat.status, "GET {target}");
    ensure_eq!(
        reply.header("location"),
        Some(format!("{}?q=1", splat.to.replace(":splat", "http/"))),
        "GET {target}"
    );
    ensure!(
        reply.header("content-type").is_some_and(|v| v.starts_with("text/plain")),
        "a _redirects rule answers with a short text"
    );
    Ok(())
}

fn every_redirect_lands_on_a_page_in_one_hop(t: &Target) -> Result<(), String> {
    for rule in redirects() {
        let from = if rule.splat {
            format!("/{}", rule.from)
        } else {
            url_path(rule.from)
        };
        let reply = t.get(&from, &[])?;
        ensure_eq!(reply.status, rule.status, "GET {from}");
        let location = reply.header("location").ok_or(format!("GET {from}: no Location"))?;
        let landing = t.get(&location, &[])?;
        ensure_eq!(landing.status, 200, "GET {from} → {location}");
    }
    Ok(())
}

fn a_splat_never_redirects_to_another_host(t: &Target) -> Result<(), String> {
    for rule in redirects().iter().filter(|r| r.splat) {
        for rest in ["/evil.example/", "//evil.example/", "\\evil.example"] {
            let target = format!("/{}{rest}", rule.from);
            let reply = t.get(&target, &[])?;
            if let Some(location) = reply.header("location") {
                ensure!(
                    super::stays_on_site(&location),
                    "{target} redirected to {location}"
                );
            }
            ensure!(reply.status < 500, "{target} got {}", reply.status);
        }
    }
    Ok(())
}

fn the_redirects_file_is_not_served(t: &Target) -> Result<(), String> {
    let reply = t.get("/_redirects", &[])?;
    ensure_eq!(reply.status, 404, "GET /_redirects");
    Ok(())
}
