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
    let name = key.rsplit('/').next().unwrap_or(key);
    if name.ends_with(".html") {
        return false;
    }
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1]
            .iter()
            .any(|p| p.len() >= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()))
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
