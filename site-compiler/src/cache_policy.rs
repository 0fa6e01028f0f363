//! `Cache-Control` of each file, decided by its name.

/// A fingerprinted file's name changes whenever its bytes do, so a cache may keep it forever.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else may change under the same URL with the next deploy: caches keep it but
/// revalidate first, which costs a 304 and no body.
pub const REVALIDATE: &str = "no-cache";

pub fn cache_control(key: &str) -> &'static str {
    if is_fingerprinted(key) {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// True when a dot-separated part of the file name between the first and the last dot is a hash:
/// 8 or more hex digits, as bundlers write them (`bundle.79ae519e.min.js`,
/// `main.57a0d79d.min.css`). HTML is never fingerprinted: its URL is what people link to.
pub fn is_fingerprinted(key: &str) -> bool {
    fingerprint_pattern(key).is_some()
}

/// Every version of a fingerprinted file, as a URL pattern: the key with its hash as `*`
/// (`assets/javascripts/bundle.*.min.js`); `None` for a file that is not fingerprinted.
pub fn fingerprint_pattern(key: &str) -> Option<String> {
    let (folder, name) = key.rsplit_once('/').map_or(("", key), |(f, n)| (f, n));
    if name.ends_with(".html") {
        return None;
    }
    let mut parts: Vec<&str> = name.split('.').collect();
    let last = parts.len().checked_sub(1)?;
    let hash = (1..last)
        .find(|&i| parts[i].len() >= 8 && parts[i].bytes().all(|b| b.is_ascii_hexdigit()))?;
    parts[hash] = "*";
    let name = parts.join(".");
    Some(if folder.is_empty() {
        name
    } else {
        format!("{folder}/{name}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprinted_names() {
        for key in [
            "assets/javascripts/bundle.79ae519e.min.js",
            "assets/stylesheets/main.57a0d79d.min.css",
            "assets/stylesheets/main.57a0d79d.min.css.map",
            "assets/javascripts/workers/search.a7633da7.min.js",
        ] {
            assert!(is_fingerprinted(key), "{key}");
        }
    }

    #[test]
    fn a_fingerprinted_name_has_a_pattern_for_all_its_versions() {
        assert_eq!(
            fingerprint_pattern("assets/javascripts/bundle.79ae519e.min.js").as_deref(),
            Some("assets/javascripts/bundle.*.min.js")
        );
        assert_eq!(
            fingerprint_pattern("main.57a0d79d.css").as_deref(),
            Some("main.*.css")
        );
        assert_eq!(fingerprint_pattern("assets/images/favicon.png"), None);
    }

    #[test]
    fn plain_names() {
        for key in [
            "index.html",
            "a1b2c3d4e5.html",
            "assets/images/favicon.png",
            "assets/javascripts/lunr/min/lunr.de.min.js",
            "search/search_index.json",
            "deadbeef12.js",
            "sitemap.xml.gz",
        ] {
            assert!(!is_fingerprinted(key), "{key}");
        }
    }
}
