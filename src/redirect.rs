//! The site's own redirects (`site::redirects()`, compiled from `_redirects` and from the pages
//! mkdocs-redirects writes): for a path no file answers, the first rule that matches. Its target
//! was checked at build time to be a page of the site, one hop away.

use crate::site::{self, Redirect};

/// The rule for `path` (decoded, no leading `/`) and the `Location` to send, with the query
/// kept as sent.
pub fn find(path: &str, query: Option<&str>) -> Option<(&'static Redirect, String)> {
    site::redirects().iter().find_map(|rule| {
        let splat = http_text::path::redirect_match(rule.from, rule.splat, path)?;
        Some((rule, location(rule.to, splat, query)))
    })
}

/// `to` with the splat in place of `:splat`, percent-encoded, and the query. The splat loses
/// its leading slashes: `/:splat` must never become `//host`, a different site.
fn location(to: &str, splat: &str, query: Option<&str>) -> String {
    let mut location = String::with_capacity(to.len() + splat.len() + 1);
    match to.split_once(":splat") {
        Some((before, after)) => {
            location.push_str(before);
            http_text::path::encode_into(&mut location, splat.trim_start_matches('/'));
            location.push_str(after);
        }
        None => location.push_str(to),
    }
    if let Some(query) = query {
        location.push(if to.contains('?') { '&' } else { '?' });
        location.push_str(query);
    }
    location
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_splat_is_encoded_and_cannot_name_another_host() {
        assert_eq!(location("/new/:splat", "a b/c", None), "/new/a%20b/c");
        assert_eq!(
            location("/:splat", "/evil.example/x", None),
            "/evil.example/x"
        );
        assert_eq!(location("/new/", "", Some("q=1")), "/new/?q=1");
        assert_eq!(
            location("/new/?from=old", "", Some("q=1")),
            "/new/?from=old&q=1"
        );
    }
}
