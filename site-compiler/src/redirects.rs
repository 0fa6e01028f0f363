//! Redirects, compiled at build time from two sources:
//!
//! - a `_redirects` file at the site root, in Netlify's and Cloudflare's syntax: one rule per
//!   line, `/from /to [301|302|307|308]` (301 when left out), `#` comments, and a trailing `*`
//!   in `/from` whose match replaces `:splat` in `/to`;
//! - the pages the mkdocs-redirects plugin writes: a stub whose only job is a meta refresh to
//!   the new URL. Each becomes a real `301`, with the stub as its body for clients that show it.
//!
//! Every target must be a page of the site, reached in one hop: a rule that points at a missing
//! file, at another redirect or at itself fails the build and names the rule. A rule whose
//! `/from` is a file of the site could never apply (files come first), so it fails too.

use std::collections::{HashMap, HashSet};

use html5gum::{DefaultEmitter, Token, Tokenizer};

use crate::site_url::{self, Resolved};
use crate::walk::{self, SiteFile};

/// The file at the site root that holds the rules. It is configuration, not a page: it is not
/// served.
pub const REDIRECTS_FILE: &str = "_redirects";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Where the rule comes from, for errors: `_redirects:3`, or the stub's file.
    pub origin: String,
    /// The request path it matches: decoded, without the leading `/` and without a trailing
    /// `/` (a rule matches its path with and without one). For a splat, the prefix before `*`.
    pub from: String,
    pub splat: bool,
    /// The `Location`: an absolute path, percent-encoded, with `:splat` where the match goes.
    pub to: String,
    pub status: u16,
    /// The mkdocs-redirects page this rule replaces, served as its body.
    pub page: Option<Vec<u8>>,
}

/// The rules of `_redirects` (if the site has one; in a versioned tree, each version's, under
/// its folder) and of every mkdocs-redirects stub, checked against the site's files. Stubs
/// leave the file list: their path is now a redirect.
pub fn compile(files: &mut Vec<SiteFile>, sites: &[String]) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for site in sites {
        if let Some(file) = walk::take(files, &format!("{site}{REDIRECTS_FILE}")) {
            let parsed = parse(&file.bytes).map_err(|e| format!("{site}{e}"))?;
            rules.extend(parsed.into_iter().map(|rule| Rule {
                origin: format!("{site}{}", rule.origin),
                from: format!("{site}{}", rule.from),
                to: format!("/{site}{}", rule.to.trim_start_matches('/')),
                ..rule
            }));
        }
    }
    let keys: HashSet<&str> = files.iter().map(|f| f.key.as_str()).collect();
    let mut stubs = stubs(files, &keys)?;
    check_hops(rules.iter().chain(&stubs))?;
    for rule in &rules {
        check_target(&keys, rule)?;
        if !rule.splat
            && [rule.from.clone(), format!("{}/index.html", rule.from)]
                .iter()
                .any(|k| keys.contains(k.as_str()))
        {
            return Err(format!(
                "{}: /{} is a page of the site, which is served before any redirect, so this \
                 rule never applies; remove the rule or the page",
                rule.origin, rule.from
            ));
        }
    }
    drop(keys);
    // A stub's path is a redirect now, not a file: its bytes move into the rule.
    for stub in &mut stubs {
        if let Some(i) = files.iter().position(|f| f.key == stub.origin) {
            stub.page = Some(files.remove(i).bytes);
        }
    }
    rules.extend(stubs);
    Ok(rules)
}

/// Parses `_redirects`. Errors name the line and what to write instead.
pub fn parse(text: &[u8]) -> Result<Vec<Rule>, String> {
    let text = std::str::from_utf8(text)
        .map_err(|_| format!("{REDIRECTS_FILE}: not UTF-8; save it as UTF-8"))?;
    let mut rules = Vec::new();
    let mut seen: HashMap<(String, bool), usize> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let origin = format!("{REDIRECTS_FILE}:{}", i + 1);
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let rule = parse_rule(line, origin.clone())
            .map_err(|problem| format!("{origin}: {problem}\n  {line}"))?;
        if let Some(first) = seen.insert((rule.from.clone(), rule.splat), i + 1) {
            return Err(format!(
                "{origin}: /{} already has a rule on line {first}; keep one of them",
                rule.from
            ));
        }
        rules.push(rule);
    }
    Ok(rules)
}

fn parse_rule(line: &str, origin: String) -> Result<Rule, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (from, to, status) = match fields[..] {
        [from, to] => (from, to, 301),
        [from, to, status] => (from, to, parse_status(status)?),
        _ => {
            return Err(
                "a rule is `/from /to [301|302|307|308]`: query conditions, headers and \
                 country or language conditions are not supported"
                    .to_owned(),
            )
        }
    };
    if !from.starts_with('/') || from.starts_with("//") {
        return Err(format!(
            "{from}: the source must be a path of this site, starting with one /"
        ));
    }
    if !to.starts_with('/') || to.starts_with("//") || to.contains('\\') {
        return Err(format!(
            "{to}: the target must be a path of this site, starting with one / (redirects to \
             other sites are not served)"
        ));
    }
    if !http_text::field_value::is_valid(to.as_bytes()) || to.contains(' ') {
        return Err(format!("{to}: not a valid Location value"));
    }
    let (path, splat) = match from.strip_suffix('*') {
        Some(prefix) if prefix.ends_with('/') => (prefix, true),
        Some(_) => {
            return Err(format!(
                "{from}: `*` is only supported as the last segment, as in /docs/*"
            ))
        }
        None => (from, false),
    };
    if path.contains('*') || path.split('/').any(|s| s.starts_with(':')) {
        return Err(format!(
            "{from}: placeholders (`:name`) and `*` before the end are not supported; use a \
             trailing /* and :splat"
        ));
    }
    if to.contains(":splat") && !splat {
        return Err(format!("{to}: :splat needs a source ending in /*"));
    }
    let decoded = http_text::path::decode(path)
        .map_err(|e| format!("{from}: has {}", site_url::problem(e)))?;
    let decoded = decoded.trim_start_matches('/');
    Ok(Rule {
        origin,
        from: if splat {
            decoded.to_owned()
        } else {
            decoded.trim_end_matches('/').to_owned()
        },
        splat,
        to: to.to_owned(),
        status,
        page: None,
    })
}

fn parse_status(status: &str) -> Result<u16, String> {
    match status {
        "301" | "302" | "307" | "308" => Ok(status.parse().unwrap_or(301)),
        s if s.ends_with('!') => Err(format!(
            "{s}: forced rules (`!`) are not supported: a file of the site always wins"
        )),
        "200" => Err(
            "200 rewrites are not supported: serve the page at its own URL, or redirect \
                      with 301"
                .to_owned(),
        ),
        s => Err(format!("{s}: the status must be 301, 302, 307 or 308")),
    }
}

/// The path a rule sends clients to, decoded, without the leading `/`; for a splat, the part
/// before `:splat`.
fn target_path(rule: &Rule) -> Result<String, String> {
    let path = rule.to.split(['?', '#']).next().unwrap_or_default();
    let path = path.split(":splat").next().unwrap_or_default();
    http_text::path::decode(path.trim_start_matches('/'))
        .map(|p| p.into_owned())
        .map_err(|e| format!("{}: {} has {}", rule.origin, rule.to, site_url::problem(e)))
}

/// The target of a rule must be one file of the site: not missing, and not a folder without
/// its slash (that would be a second hop). A splat's files cannot be listed: its folder must
/// hold some.
fn check_target(keys: &HashSet<&str>, rule: &Rule) -> Result<(), String> {
    let target = target_path(rule)?;
    let origin = &rule.origin;
    if target.split('/').any(|s| s == "." || s == "..") {
        return Err(format!(
            "{origin}: {}: write the target without . or .. segments",
            rule.to
        ));
    }
    if rule.to.contains(":splat") {
        return match keys.iter().any(|k| k.starts_with(&target)) {
            true => Ok(()),
            false => Err(format!(
                "{origin}: {} points into /{target}, which has no files in the site",
                rule.to
            )),
        };
    }
    let index = format!("{target}index.html");
    if target.is_empty() || target.ends_with('/') {
        return match keys.contains(index.as_str()) {
            true => Ok(()),
            false => Err(format!(
                "{origin}: {} points at {index}, which is not in the site; fix the target",
                rule.to
            )),
        };
    }
    if keys.contains(target.as_str()) {
        Ok(())
    } else if keys.contains(format!("{target}/index.html").as_str()) {
        Err(format!(
            "{origin}: {} is a folder; write /{target}/ so that the redirect is one hop, not two",
            rule.to
        ))
    } else {
        Err(format!(
            "{origin}: {} points at {target}, which is not in the site; fix the target",
            rule.to
        ))
    }
}

/// A redirect to a redirect is a chain, to itself a loop. Both fail: clients would take two
/// round trips, or never arrive.
fn check_hops<'a>(rules: impl Iterator<Item = &'a Rule> + Clone) -> Result<(), String> {
    for rule in rules.clone() {
        let target = target_path(rule)?;
        let exact = target.trim_end_matches('/');
        for other in rules.clone() {
            let hit = match other.splat {
                true => {
                    target.starts_with(&other.from) || exact == other.from.trim_end_matches('/')
                }
                false => exact == other.from,
            };
            if hit {
                let what = match std::ptr::eq(rule, other) {
                    true => "itself (a loop)",
                    false => "another redirect (a chain)",
                };
                return Err(format!(
                    "{}: {} points at {what}: {} redirects /{}; point it at the final page",
                    rule.origin, rule.to, other.origin, other.from
                ));
            }
        }
    }
    Ok(())
}

/// The pages mkdocs-redirects writes: a meta refresh with no delay to a page of the site, and
/// nothing else to read (the body is a line of text or a link). Pages that redirect elsewhere
/// (another site) stay pages.
fn stubs(files: &[SiteFile], keys: &HashSet<&str>) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for file in files.iter().filter(|f| f.key.ends_with(".html")) {
        let Some(url) = std::str::from_utf8(&file.bytes).ok().and_then(refresh_only) else {
            continue;
        };
        let key = match site_url::resolve(keys, &file.key, &url) {
            Resolved::File(key) => key,
            Resolved::External => continue,
            Resolved::Missing(wanted) => {
                return Err(format!(
                    "{}: redirects to {url}, which points at {wanted}, not in the site; fix the \
                     redirect_maps entry of mkdocs-redirects",
                    file.key
                ))
            }
            Resolved::SamePage | Resolved::Invalid(_) => {
                return Err(format!(
                    "{}: redirects to {url}, which is not another page of the site",
                    file.key
                ))
            }
        };
        let mut to = String::from("/");
        http_text::path::encode_into(&mut to, http_text::path::page_path(&key));
        let from = http_text::path::page_path(&file.key);
        rules.push(Rule {
            origin: file.key.clone(),
            from: from.trim_end_matches('/').to_owned(),
            splat: false,
            to,
            status: 301,
            page: None,
        });
    }
    Ok(rules)
}

/// The target of a page that is only a meta refresh with no delay, as mkdocs-redirects writes
/// it (`<meta http-equiv="refresh" content="0; url=../new/">`), or `None` for any other page.
fn refresh_only(html: &str) -> Option<String> {
    let mut url = None;
    let mut in_body = false;
    let mut text = 0;
    for token in Tokenizer::new_with_emitter(html, DefaultEmitter::default()).flatten() {
        match token {
            Token::StartTag(tag) if tag.name == b"meta" => {
                let attribute = |name: &[u8]| {
                    tag.attributes
                        .get(name)
                        .map(|v| String::from_utf8_lossy(&v.value).into_owned())
                };
                if attribute(b"http-equiv").is_some_and(|v| v.eq_ignore_ascii_case("refresh")) {
                    let content = attribute(b"content")?;
                    let (delay, target) = content.split_once(';')?;
                    let target = target.trim();
                    let target = target
                        .strip_prefix("url=")
                        .or_else(|| target.strip_prefix("URL="))?;
                    if delay.trim() != "0" {
                        return None;
                    }
                    url = Some(target.trim_matches(['"', '\'']).to_owned());
                }
            }
            Token::StartTag(tag) if tag.name == b"body" => in_body = true,
            Token::StartTag(tag) if in_body && !matches!(&tag.name[..], b"a" | b"p") => {
                return None
            }
            Token::String(s) if in_body => text += s.value.trim_ascii().len(),
            _ => {}
        }
    }
    url.filter(|_| text <= 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_from_to_and_an_optional_status() {
        let rules =
            parse(b"# moved\n/old /new/ 302\n/gone/   /  \n/docs/*  /guide/:splat 308\n").unwrap();
        let short: Vec<_> = rules
            .iter()
            .map(|r| (r.from.as_str(), r.splat, r.to.as_str(), r.status))
            .collect();
        assert_eq!(
            short,
            [
                ("old", false, "/new/", 302),
                ("gone", false, "/", 301),
                ("docs/", true, "/guide/:splat", 308)
            ]
        );
        assert_eq!(rules[1].origin, "_redirects:3");
    }

    #[test]
    fn a_malformed_line_names_its_line_and_the_fix() {
        for (text, expected) in [
            (
                "\n/a /b 200\n",
                "_redirects:2: 200 rewrites are not supported",
            ),
            ("/a /b 301!\n", "_redirects:1: 301!: forced rules"),
            ("/a /b 404\n", "the status must be 301, 302, 307 or 308"),
            (
                "/a https://example.com/\n",
                "redirects to other sites are not served",
            ),
            ("/a\n", "a rule is `/from /to"),
            ("/a /b 301 Country=nl\n", "a rule is `/from /to"),
            ("a /b\n", "the source must be a path of this site"),
            ("/:lang/a /b\n", "placeholders"),
            ("/a*b /b\n", "`*` before the end are not supported"),
            ("/a* /b\n", "`*` is only supported as the last segment"),
            ("/a /b/:splat\n", ":splat needs a source ending in /*"),
            (
                "/a /b\n/a/ /c\n",
                "_redirects:2: /a already has a rule on line 1",
            ),
        ] {
            let error = parse(text.as_bytes()).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn the_mkdocs_redirects_stub_is_recognised_and_ordinary_pages_are_not() {
        let stub = r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Redirecting...</title>
<link rel="canonical" href="../new/"><meta name="robots" content="noindex">
<script>var anchor=window.location.hash.substr(1);location.href="../new/"+(anchor?"#"+anchor:"")</script>
<meta http-equiv="refresh" content="0; url=../new/"></head><body>Redirecting...</body></html>"##;
        assert_eq!(refresh_only(stub).as_deref(), Some("../new/"));
        let page_that_also_refreshes =
            stub.replace("Redirecting...</body>", "<h1>News</h1></body>");
        assert_eq!(refresh_only(&page_that_also_refreshes), None);
        assert_eq!(
            refresh_only(&stub.replace("content=\"0;", "content=\"5;")),
            None
        );
        assert_eq!(refresh_only("<html><body>hello</body></html>"), None);
    }
}
