//! The per-file work, done once: each file's content type, cache policy, brotli and gzip
//! variants, a page's dcb and dcz variants against the site's dictionary, strong ETags, the headers
//! `_headers` gives its URL, and a page's `Link` (preload hints, the dictionary).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

use crate::dictionary::{self, Dictionary};
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
    /// A page's variant against the site's dictionary, or a bundle's against its previous
    /// version (a delta), where smaller than brotli.
    pub dcb: Option<DictionaryVariant>,
    pub dcz: Option<DictionaryVariant>,
    /// Identity first, then brotli, gzip, dcb and dcz where kept.
    pub etags: Vec<String>,
    /// What the site's `_headers` file sets for this file's URL, names in lower case; for the
    /// dictionary, its `Use-As-Dictionary`.
    pub headers: Vec<(String, String)>,
    /// A page's `Link` value: its preload hints (see `preload.rs`) and the dictionary.
    pub link: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DictionaryVariant {
    /// The dictionary's SHA-256, base64 without padding (see `dictionary.rs`).
    pub dictionary: String,
    pub bytes: Vec<u8>,
}

/// A strong validator: quoted, derived from the representation's bytes alone, so equal bytes
/// get equal tags across builds and machines (64 bits of SHA-256).
pub fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The dictionaries variants are made against: the pages' (one of the files), and for each
/// bundle with a previous version, that version (see `dictionary.rs`).
pub struct Dictionaries<'a> {
    pub pages: Option<&'a Dictionary>,
    pub previous_versions: &'a HashMap<String, Dictionary>,
}

impl Dictionaries<'_> {
    /// The dictionary `key`'s dcb and dcz variants are made against, if any.
    fn for_file(&self, key: &str, content_type: &str) -> Option<&Dictionary> {
        match self.pages {
            Some(pages) if content_type.starts_with("text/html") && dictionary::is_page(key) => {
                Some(pages)
            }
            _ => self.previous_versions.get(key),
        }
    }
}

/// Compiles `files` (sorted by key) in their order, with dcb and dcz variants against
/// `dictionaries`.
pub fn files(
    files: Vec<SiteFile>,
    header_rules: &[headers::Rule],
    dictionaries: &Dictionaries,
    source_date_epoch: Option<u64>,
) -> Result<Vec<CompiledFile>, String> {
    let dictionary = dictionaries.pages;
    let done = in_parallel(&files, dictionaries)?;
    let names: Vec<String> = files.iter().map(|f| f.key.clone()).collect();
    let keys: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut compiled = Vec::with_capacity(files.len());
    for (file, (content_type, variants, [dcb, dcz])) in files.into_iter().zip(done) {
        // A folder's page is asked for by the folder's URL, its one URL.
        let url = format!("/{}", http_text::path::page_path(&file.key));
        let mut headers = headers::for_url(header_rules, &url)?;
        let mut link = None;
        if content_type.starts_with("text/html") {
            let html = String::from_utf8_lossy(&file.bytes);
            let preload = preload::link_value(&keys, &file.key, &html);
            let fetch = dictionary.map(Dictionary::link);
            link = match (preload, fetch) {
                (Some(preload), Some(fetch)) => Some(format!("{preload}, {fetch}")),
                (preload, fetch) => preload.or(fetch),
            };
        }
        if dictionary.is_some_and(|d| d.key == file.key) {
            headers.push((
                "use-as-dictionary".to_owned(),
                dictionary::USE_AS_DICTIONARY.to_owned(),
            ));
        } else if let Some(value) = dictionary::use_as_dictionary(&file.key) {
            headers.push(("use-as-dictionary".to_owned(), value));
        }
        let etags = std::iter::once(&file.bytes)
            .chain(variants.brotli.iter())
            .chain(variants.gzip.iter())
            .chain(dcb.iter().map(|d| &d.bytes))
            .chain(dcz.iter().map(|d| &d.bytes))
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
            dcb,
            dcz,
            etags,
            headers,
            link,
        });
    }
    Ok(compiled)
}

/// What a file's compression gives: its content type, brotli and gzip, and its dcb and dcz
/// variants.
type Compressed = (String, compress::Variants, [Option<DictionaryVariant>; 2]);

/// Content types and variants on every core: brotli at quality 11 is the slow part of the whole
/// build. Files differ in size a thousandfold, so workers take the next file from a shared
/// counter. Files with the same bytes, type and dictionary (an asset in each version of a
/// versioned tree) are compressed once. In the files' order.
fn in_parallel(files: &[SiteFile], dictionaries: &Dictionaries) -> Result<Vec<Compressed>, String> {
    let mut first: HashMap<([u8; 32], &str, Option<&str>), usize> = HashMap::new();
    let kinds: Vec<(String, Option<&Dictionary>)> = files
        .iter()
        .map(|file| {
            let content_type = content_type::content_type(&file.key, &file.bytes);
            let dictionary = dictionaries.for_file(&file.key, &content_type);
            (content_type, dictionary)
        })
        .collect();
    let mut work = Vec::new();
    let same_as: Vec<usize> = files
        .iter()
        .zip(&kinds)
        .enumerate()
        .map(|(i, (file, (content_type, dictionary)))| {
            let digest: [u8; 32] = Sha256::digest(&file.bytes).into();
            let dictionary = dictionary.map(|d| d.key.as_str());
            *first
                .entry((digest, content_type.as_str(), dictionary))
                .or_insert_with(|| {
                    work.push(i);
                    i
                })
        })
        .collect();
    let unique: Vec<(&SiteFile, &str, Option<&Dictionary>)> = work
        .iter()
        .map(|&i| (&files[i], kinds[i].0.as_str(), kinds[i].1))
        .collect();
    let done: HashMap<usize, Compressed> =
        work.iter().copied().zip(compress_all(&unique)?).collect();
    Ok(same_as
        .iter()
        .map(|original| done[original].clone())
        .collect())
}

/// [`compress_file`] of every file (with its content type and dictionary), on every core, in
/// the files' order.
fn compress_all(
    files: &[(&SiteFile, &str, Option<&Dictionary>)],
) -> Result<Vec<Compressed>, String> {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut done: Vec<(usize, Result<Compressed, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(file, content_type, dictionary)) = files.get(i) else {
                            break mine;
                        };
                        mine.push((i, compress_file(file, content_type, dictionary)));
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

fn compress_file(
    file: &SiteFile,
    content_type: &str,
    dictionary: Option<&Dictionary>,
) -> Result<Compressed, String> {
    let variants = if content_type::is_compressible(content_type) && !file.bytes.is_empty() {
        compress::variants(&file.bytes)
    } else {
        compress::Variants {
            brotli: None,
            gzip: None,
        }
    };
    let content_type = content_type.to_owned();
    let Some(dictionary) = dictionary else {
        return Ok((content_type, variants, [None, None]));
    };
    let failed = |e: String| {
        format!(
            "{}: cannot compress against {}: {e}",
            file.key, dictionary.key
        )
    };
    let dcb = dictionary.dcb(&file.bytes).map_err(failed)?;
    let dcz = dictionary
        .dcz(&file.bytes)
        .map_err(|e| failed(e.to_string()))?;
    // Each kept only where it beats what the client would get otherwise.
    let best = variants.brotli.as_ref().map_or(file.bytes.len(), Vec::len);
    let hash = dictionary.hash();
    let [dcb, dcz] = [dcb, dcz].map(|bytes| {
        (bytes.len() < best).then(|| DictionaryVariant {
            dictionary: hash.clone(),
            bytes,
        })
    });
    Ok((content_type, variants, [dcb, dcz]))
}
