//! The site's compression dictionary (RFC 9842). Every page of an MkDocs site repeats the same
//! chrome (header, navigation, footer, scripts), and brotli compresses each page alone. The
//! dictionary holds the lines of the site's pages, each once: the lines most pages share at its
//! end, nearest to the page being decoded, then the rest, up to [`MAX_BYTES`]. A browser
//! fetches it once (each page's `Link` names it), and from then on asks for pages with
//! `Available-Dictionary`; each page has a `dcz` variant against it (Zstandard after a 40-byte
//! header that names the dictionary, §5).
//!
//! Built from the pages' whole text, not only the chrome they share: most of a docs page is its
//! own text, and against the shared lines alone a page's delta came out several times larger.

use std::collections::HashMap;
use std::io;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::cache_policy;
use crate::walk::SiteFile;

/// Where the dictionary is served: fingerprinted, so it is cached `immutable` as RFC 9842's
/// freshness requirement wants, and text, so it travels compressed.
const DIRECTORY: &str = "assets/dictionaries";

/// The most bytes of page lines the dictionary holds. A browser downloads it once, at idle
/// time; Zstandard uses all of it while a page is within the window (8 MiB at level 19).
pub const MAX_BYTES: usize = 256 * 1024;

/// The `Use-As-Dictionary` value (§2.1): for every document of the site.
pub const USE_AS_DICTIONARY: &str = "match=\"/*\", match-dest=(\"document\")";

/// RFC 9842 §4: the `dcb` header, before the dictionary's 32-byte SHA-256.
const DCB_MAGIC: [u8; 4] = [0xff, 0x44, 0x43, 0x42];

/// RFC 9842 §5: a Zstandard skippable frame that carries the 32-byte SHA-256 of the dictionary.
const DCZ_MAGIC: [u8; 8] = [0x5e, 0x2a, 0x4d, 0x18, 0x20, 0x00, 0x00, 0x00];

/// Level 19: the strongest without `--ultra`, whose windows can exceed what §5 lets a client
/// refuse (8 MiB or 1.25 × the dictionary).
const LEVEL: i32 = 19;

pub struct Dictionary {
    /// Its key in the site: `assets/dictionaries/pages.<hash>.txt`, or a previous release's
    /// bundle.
    pub key: String,
    pub bytes: Vec<u8>,
    sha256: [u8; 32],
    /// Digested once for Zstandard at [`LEVEL`] and once for brotli, then shared by every
    /// file compressed against it (every page of the site, from every worker thread).
    zstd: zstd::dict::EncoderDictionary<'static>,
    brotli: shared_brotli::PreparedDictionary,
}

/// Delta updates (§1.1.1): with `PREVIOUS_SITE`, each fingerprinted script and stylesheet of
/// this release whose previous version differs gets a dcz variant against that version, which
/// a browser that has the previous release cached holds as a dictionary (every fingerprinted
/// script and stylesheet says `Use-As-Dictionary` for all its versions; see
/// [`use_as_dictionary`]). The result: new key → the previous version as a dictionary.
pub fn previous_versions(
    previous: &[SiteFile],
    current: &[SiteFile],
) -> Result<std::collections::HashMap<String, Dictionary>, String> {
    current
        .iter()
        .filter(|file| use_as_dictionary(&file.key).is_some())
        .filter_map(|file| {
            let pattern = cache_policy::fingerprint_pattern(&file.key)?;
            let old = previous.iter().find(|old| {
                old.key != file.key
                    && cache_policy::fingerprint_pattern(&old.key).as_ref() == Some(&pattern)
            })?;
            Some(
                Dictionary::raw(old.key.clone(), old.bytes.clone())
                    .map(|dictionary| (file.key.clone(), dictionary)),
            )
        })
        .collect()
}

/// The `Use-As-Dictionary` of a fingerprinted script or stylesheet: for every version of it
/// (its fingerprint as `*`), as a script or a style.
pub fn use_as_dictionary(key: &str) -> Option<String> {
    let destination = match key.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "script",
        Some("css") => "style",
        _ => return None,
    };
    let pattern = cache_policy::fingerprint_pattern(key)?;
    Some(format!(
        "match=\"/{pattern}\", match-dest=(\"{destination}\")"
    ))
}

impl Dictionary {
    /// `bytes`, served at `key`, as a dictionary.
    pub fn raw(key: String, bytes: Vec<u8>) -> Result<Dictionary, String> {
        let sha256 = Sha256::digest(&bytes).into();
        let zstd = zstd::dict::EncoderDictionary::copy(&bytes, LEVEL);
        let brotli = shared_brotli::PreparedDictionary::new(&bytes)
            .map_err(|e| format!("{key}: cannot serve as a dictionary: {e}"))?;
        Ok(Dictionary {
            key,
            bytes,
            sha256,
            zstd,
            brotli,
        })
    }

    /// The dictionary of `files`' pages, or `None` for a site with fewer than two pages.
    pub fn of(files: &[SiteFile]) -> Result<Option<Dictionary>, String> {
        let pages: Vec<&SiteFile> = files.iter().filter(|f| is_page(&f.key)).collect();
        if pages.len() < 2 {
            return Ok(None);
        }
        // Each distinct line: in how many pages, and where it first appears.
        let mut lines: HashMap<&[u8], (usize, usize)> = HashMap::new();
        let mut order = 0;
        for page in &pages {
            let mut seen = std::collections::HashSet::new();
            for line in page.bytes.split(|&b| b == b'\n') {
                if line.iter().all(u8::is_ascii_whitespace) || !seen.insert(line) {
                    continue;
                }
                let entry = lines.entry(line).or_insert((0, order));
                entry.0 += 1;
                order += 1;
            }
        }
        let mut ranked: Vec<(&[u8], (usize, usize))> = lines.into_iter().collect();
        // Most shared first, then in the order the site has them.
        ranked.sort_by_key(|&(_, (pages, first))| (std::cmp::Reverse(pages), first));
        let mut kept = Vec::new();
        let mut size = 0;
        for (line, _) in ranked {
            if size + line.len() + 1 > MAX_BYTES {
                continue;
            }
            size += line.len() + 1;
            kept.push(line);
        }
        // Zstandard reaches the end of a dictionary with the shortest offsets: the most shared
        // lines go last.
        kept.reverse();
        let mut bytes = kept.join(&b'\n');
        bytes.push(b'\n');
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        let hex: String = sha256[..8].iter().map(|b| format!("{b:02x}")).collect();
        Dictionary::raw(format!("{DIRECTORY}/pages.{hex}.txt"), bytes).map(Some)
    }

    /// Its SHA-256 as `Available-Dictionary` carries it, base64 without the `=` padding.
    pub fn hash(&self) -> String {
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(self.sha256)
    }

    /// The `Link` to it that every page carries (§3), so a browser fetches it when idle.
    pub fn link(&self) -> String {
        format!("</{}>; rel=\"compression-dictionary\"", self.key)
    }

    /// `bytes` as `dcb`: the header that names this dictionary, then brotli against it.
    pub fn dcb(&self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        let compressed = self.brotli.compress(bytes)?;
        Ok([&DCB_MAGIC[..], &self.sha256, &compressed].concat())
    }

    /// `bytes` as `dcz`: the header that names this dictionary, then Zstandard against it.
    pub fn dcz(&self, bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut compressor = zstd::bulk::Compressor::with_prepared_dictionary(&self.zstd)?;
        let mut out = Vec::with_capacity(bytes.len() / 4 + 64);
        out.extend_from_slice(&DCZ_MAGIC);
        out.extend_from_slice(&self.sha256);
        out.extend_from_slice(&compressor.compress(bytes)?);
        Ok(out)
    }
}

/// A page the dictionary serves: HTML, as the site's documents are.
pub fn is_page(key: &str) -> bool {
    key.ends_with(".html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_shared_lines_come_last_each_once() {
        let files = [
            SiteFile::text("a.html", "<nav>\nalpha\n<footer>\n"),
            SiteFile::text("b.html", "<nav>\nbeta\n<footer>\n<footer>\n"),
            SiteFile::text("c.html", "<nav>\ngamma\n"),
            SiteFile::text("x.css", "body {}\n"),
        ];
        let dictionary = Dictionary::of(&files).unwrap().unwrap();
        let text = String::from_utf8(dictionary.bytes.clone()).unwrap();
        assert_eq!(text, "gamma\nbeta\nalpha\n<footer>\n<nav>\n");
        assert!(dictionary.key.starts_with("assets/dictionaries/pages."));
        assert!(dictionary.key.ends_with(".txt"));
        assert_eq!(dictionary.hash().len(), 43);
    }

    #[test]
    fn one_page_needs_no_dictionary() {
        assert!(Dictionary::of(&[SiteFile::text("index.html", "x\n")])
            .unwrap()
            .is_none());
    }

    fn two_pages_and_their_dictionary() -> ([SiteFile; 2], Dictionary) {
        let files = [
            SiteFile::text("a.html", "<header>shared chrome</header>\nalpha\n"),
            SiteFile::text("b.html", "<header>shared chrome</header>\nbeta\n"),
        ];
        let dictionary = Dictionary::of(&files).unwrap().unwrap();
        (files, dictionary)
    }

    #[test]
    fn a_dcz_variant_names_its_dictionary_and_decodes_with_it() {
        let (files, dictionary) = two_pages_and_their_dictionary();
        let dcz = dictionary.dcz(&files[1].bytes).unwrap();
        assert_eq!(dcz[..8], DCZ_MAGIC);
        assert_eq!(dcz[8..40], dictionary.sha256);
        let mut decoder = zstd::bulk::Decompressor::with_dictionary(&dictionary.bytes).unwrap();
        // The header is a skippable frame: the reference decoder passes over it.
        let restored = decoder.decompress(&dcz, 1024).unwrap();
        assert_eq!(restored, files[1].bytes);
    }

    #[test]
    fn a_dcb_variant_names_its_dictionary_and_decodes_with_it() {
        let (files, dictionary) = two_pages_and_their_dictionary();
        let dcb = dictionary.dcb(&files[1].bytes).unwrap();
        assert_eq!(dcb[..4], DCB_MAGIC);
        assert_eq!(dcb[4..36], dictionary.sha256);
        let restored = shared_brotli::decompress(&dcb[36..], &dictionary.bytes);
        assert_eq!(restored.as_deref(), Some(&files[1].bytes[..]));
    }
}
