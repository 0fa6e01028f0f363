//! The per-file work, done once: each file's content type, cache policy, brotli and gzip
//! variants, strong ETags, the headers `_headers` gives its URL, and a page's preload hints.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

use crate::walk::SiteFile;
use crate::{cache_policy, compress, content_type, headers, preload};

/// Everything known about one file before the first request: what the table holds for it.
#[derive(Debug)]
pub struct CompiledFile {
    /// URL path relative to the site root, decoded: `index.html`, `guide/index.html`.
    pub path: String,
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub cache_control: &'static str,
    /// Seconds since the epoch: the file's mtime, or SOURCE_DATE_EPOCH.
    pub last_modified: u64,
    /// Kept only where worth it (see `compress.rs`).
    pub brotli: Option<Vec<u8>>,
    pub gzip: Option<Vec<u8>>,
    /// Identity first, then brotli and gzip where kept.
    pub etags: Vec<String>,
    /// What the site's `_headers` file sets for this file's URL, names in lower case.
    pub headers: Vec<(String, String)>,
    /// A page's preload hints, the value of its `Link` header (see `preload.rs`).
    pub preload: Option<String>,
}

/// A strong validator: quoted, derived from the representation's bytes alone, so equal bytes
/// get equal tags across builds and machines (64 bits of SHA-256).
pub fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Compiles `files` (sorted by key) in their order.
pub fn files(
    files: Vec<SiteFile>,
    header_rules: &[headers::Rule],
    source_date_epoch: Option<u64>,
) -> Result<Vec<CompiledFile>, String> {
    let done = in_parallel(&files);
    let names: Vec<String> = files.iter().map(|f| f.key.clone()).collect();
    let keys: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut compiled = Vec::with_capacity(files.len());
    for (file, (content_type, variants)) in files.into_iter().zip(done) {
        // A folder's page is asked for by the folder's URL, its one URL.
        let url = format!("/{}", http_text::path::page_path(&file.key));
        let preload = content_type
            .starts_with("text/html")
            .then(|| preload::link_value(&keys, &file.key, &String::from_utf8_lossy(&file.bytes)))
            .flatten();
        let etags = std::iter::once(&file.bytes)
            .chain(variants.brotli.iter())
            .chain(variants.gzip.iter())
            .map(|bytes| etag(bytes))
            .collect();
        compiled.push(CompiledFile {
            cache_control: cache_policy::cache_control(&file.key),
            last_modified: source_date_epoch.unwrap_or(file.modified),
            path: file.key,
            bytes: file.bytes,
            content_type,
            brotli: variants.brotli,
            gzip: variants.gzip,
            etags,
            headers: headers::for_url(header_rules, &url)?,
            preload,
        });
    }
    Ok(compiled)
}

/// Content types and variants on every core: brotli at quality 11 is the slow part of the whole
/// build. Files differ in size a thousandfold, so workers take the next file from a shared
/// counter. In the files' order.
fn in_parallel(files: &[SiteFile]) -> Vec<(String, compress::Variants)> {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut done: Vec<(usize, (String, compress::Variants))> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(i) else { break mine };
                        mine.push((i, type_and_variants(file)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, work)| work).collect()
}

fn type_and_variants(file: &SiteFile) -> (String, compress::Variants) {
    let content_type = content_type::content_type(&file.key, &file.bytes);
    let variants = if content_type::is_compressible(&content_type) && !file.bytes.is_empty() {
        compress::variants(&file.bytes)
    } else {
        compress::Variants {
            brotli: None,
            gzip: None,
        }
    };
    (content_type, variants)
}
