//! Version-skew protection. During a rolling update a page served by an old pod asks for its
//! fingerprinted assets after the traffic has moved to new pods, which no longer have them: a
//! 404 for the page's stylesheet or script. So the new build also embeds the previous
//! release's fingerprinted (`immutable`) files that it lacks itself (from `PREVIOUS_SITE`),
//! up to a budget the build reports and enforces. They are served like any file, but they are
//! no pages: the link check and the manifest leave them out.

use crate::cache_policy;
use crate::walk::SiteFile;

/// The default budget for carried files, raw bytes: a release's stylesheets and bundles.
pub const DEFAULT_BUDGET: usize = 4 * 1024 * 1024;

/// The previous release's fingerprinted files that `current` lacks, within `budget` raw bytes.
pub fn carry(
    previous: Vec<SiteFile>,
    current: &[SiteFile],
    budget: usize,
) -> Result<Vec<SiteFile>, String> {
    let carried: Vec<SiteFile> = previous
        .into_iter()
        .filter(|f| cache_policy::is_fingerprinted(&f.key))
        .filter(|f| {
            current
                .binary_search_by(|c| c.key.as_str().cmp(&f.key))
                .is_err()
        })
        .collect();
    let bytes: usize = carried.iter().map(|f| f.bytes.len()).sum();
    if bytes > budget {
        let mut largest: Vec<&SiteFile> = carried.iter().collect();
        largest.sort_by_key(|f| std::cmp::Reverse(f.bytes.len()));
        let list: Vec<String> = largest
            .iter()
            .take(5)
            .map(|f| format!("  {} ({} bytes)", f.key, f.bytes.len()))
            .collect();
        return Err(format!(
            "the previous release's assets this build no longer has come to {bytes} bytes \
             ({} files), over the budget of {budget} bytes; the largest:\n{}\nRaise \
             SITE_PREVIOUS_ASSETS_BUDGET (bytes), or build without PREVIOUS_SITE to drop them.",
            carried.len(),
            list.join("\n")
        ));
    }
    Ok(carried)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(key: &str, size: usize) -> SiteFile {
        SiteFile {
            key: key.to_owned(),
            bytes: vec![b'x'; size],
            modified: 0,
        }
    }

    #[test]
    fn only_fingerprinted_files_the_new_site_lacks_are_carried() {
        let previous = vec![
            file("a/main.11111111.css", 10),
            file("a/main.22222222.css", 10),
            file("index.html", 10),
            file("a/logo.png", 10),
        ];
        let current = vec![file("a/main.22222222.css", 10), file("index.html", 10)];
        let carried = carry(previous, &current, 100).unwrap();
        let keys: Vec<&str> = carried.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["a/main.11111111.css"]);
    }

    #[test]
    fn over_the_budget_the_build_fails_naming_the_largest() {
        let Err(error) = carry(vec![file("a/b.11111111.js", 101)], &[], 100) else {
            panic!("101 bytes fit a budget of 100");
        };
        assert!(
            error.contains("101 bytes (1 files), over the budget of 100"),
            "{error}"
        );
        assert!(error.contains("a/b.11111111.js (101 bytes)"), "{error}");
    }
}
