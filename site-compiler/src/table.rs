//! Code generation: the Rust source of the static table the core includes.
//!
//! The table is written as values of the core's own types (the `site-table` crate), baked
//! into Rust expressions by their `Bake` derive, so its shape is written once: a field added
//! there is a field built here, or this crate does not compile.
//!
//! The layout is chosen for the wasm component, which gets a fresh instance, and so fresh
//! page faults, for every request: all bodies sit in one blob, apart from the table, and the
//! small strings (paths, types, ETags, dates) are literals, which the release build's LTO
//! merges and lays out together (as many page faults and instructions per request as the one
//! deduplicated string the table used before).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use databake::{Bake, CrateEnv};
use sha2::{Digest as _, Sha256};
use similar::{capture_diff_slices_deadline, Algorithm, DiffOp};
use site_table::{
    Asset, DictionaryCompressed, Pieces, Redirect, Representation, SiteFigures, Span,
};

use crate::artifacts::{self, BODIES_IMPORT};
use crate::compile::{CompiledFile, DictionaryVariant};
use crate::redirects::Rule;

/// Writes the table, `out_dir/site.rs`, and its blob of bodies, `out_dir/bodies.bin`; sets
/// `figures.stored_bytes` to the blob's size. `sites` are the folders of a versioned tree,
/// newest first (`[""]` for one site).
pub fn write(
    files: &[CompiledFile],
    sites: &[String],
    redirects: &[Rule],
    figures: &mut SiteFigures,
    out_dir: &Path,
    content_security_policy: &str,
) -> Result<(), String> {
    let (mut code, stored_bytes) =
        generate(files, sites, redirects, out_dir, content_security_policy)?;
    figures.stored_bytes = stored_bytes;
    let figures = figures.bake(&CrateEnv::default());
    writeln!(
        code,
        "pub static FIGURES: site_table::SiteFigures = {figures};"
    )
    .unwrap();
    artifacts::write_if_changed(&out_dir.join(artifacts::TABLE), code.as_bytes())
}

/// 16 hex digits of SHA-256 over every file's path and identity ETag, in path order: equal
/// sites get equal digests across builds and machines, and any changed byte changes it.
fn digest(files: &[CompiledFile]) -> String {
    let mut entries: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.path.as_str(), f.etags[0].as_str()))
        .collect();
    entries.sort_unstable();
    let mut hasher = Sha256::new();
    for (path, etag) in entries {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(etag.as_bytes());
        hasher.update([b'\n']);
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Shared runs shorter than this are stored again: a piece costs a span in the table and a
/// copy when the body is sent.
const SHARED_AT_LEAST: usize = 64;

/// The blob of bodies as it grows, content-addressed: a body's bytes are appended the first
/// time they come, and every later body with the same bytes (the same file in two folders,
/// a page in two versions of the docs) gets the span of the first.
#[derive(Default)]
struct Blob {
    bytes: Vec<u8>,
    stored: HashMap<[u8; 32], Span>,
}

impl Blob {
    fn add(&mut self, bytes: &[u8]) -> Span {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        let end = self.bytes.len();
        *self.stored.entry(digest).or_insert_with(|| {
            self.bytes.extend_from_slice(bytes);
            // Checked once the blob is whole (see `generate`); until then a span may wrap.
            Span {
                start: end as u32,
                len: bytes.len() as u32,
            }
        })
    }

    /// `bytes`, a file of an older version, as pieces of the blob: the runs of lines it shares
    /// with `base`, the same file of the newest version (stored whole), are spans of the base,
    /// and only its own lines are stored. Stored whole where that saves under a quarter.
    fn add_against(&mut self, bytes: &[u8], base: &[u8]) -> Vec<Span> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(&span) = self.stored.get(&digest) {
            return vec![span];
        }
        // The plan: runs of `bytes`, each with where the base has it, if it shares it.
        let (old, old_starts) = lines(base);
        let (new, new_starts) = lines(bytes);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        let mut plan: Vec<(Range<usize>, Option<usize>)> = Vec::new();
        for op in capture_diff_slices_deadline(Algorithm::Myers, &old, &new, Some(deadline)) {
            let (run, shared) = match op {
                DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } => (
                    new_starts[new_index]..new_starts[new_index + len],
                    Some(old_starts[old_index]),
                ),
                DiffOp::Delete { .. } => continue,
                DiffOp::Insert {
                    new_index, new_len, ..
                }
                | DiffOp::Replace {
                    new_index, new_len, ..
                } => (new_starts[new_index]..new_starts[new_index + new_len], None),
            };
            let shared = shared.filter(|_| run.len() >= SHARED_AT_LEAST);
            match (plan.last_mut(), shared) {
                // Own runs next to each other are one.
                (Some((last, None)), None) => last.end = run.end,
                _ => plan.push((run, shared)),
            }
        }
        let own: usize = plan
            .iter()
            .filter(|(_, shared)| shared.is_none())
            .map(|(run, _)| run.len())
            .sum();
        if own * 4 > bytes.len() * 3 {
            return vec![self.add(bytes)];
        }
        let at = self.add(base);
        plan.into_iter()
            .map(|(run, shared)| match shared {
                Some(old_start) => Span {
                    start: at.start + old_start as u32,
                    len: run.len() as u32,
                },
                None => self.add(&bytes[run]),
            })
            .collect()
    }
}

/// `bytes` cut after each newline, and after each `}` (a JSON search index is one long line
/// of records), with the offset each part starts at and, last, the length.
fn lines(bytes: &[u8]) -> (Vec<&[u8]>, Vec<usize>) {
    let mut parts = Vec::new();
    let mut starts = vec![0];
    for part in bytes.split_inclusive(|&b| b == b'\n' || b == b'}') {
        parts.push(part);
        starts.push(starts.last().unwrap() + part.len());
    }
    (parts, starts)
}

/// Writes `out_dir/bodies.bin` and returns the source of `site.rs` (the table as values of
/// the core's own types, `site_table`, written out by their `Bake` derive) and the blob's size.
fn generate<'a>(
    files: &'a [CompiledFile],
    sites: &[String],
    redirects: &[Rule],
    out_dir: &Path,
    content_security_policy: &str,
) -> Result<(String, usize), String> {
    let mut blob = Blob::default();
    let dates: Vec<String> = files
        .iter()
        .map(|f| http_text::http_date::format(f.last_modified))
        .collect();
    let headers: Vec<Vec<(&str, &str)>> = files
        .iter()
        .map(|f| {
            f.headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect()
        })
        .collect();
    // In a versioned tree, each file of an older version against the same file of the newest.
    let (newest, older) = sites.split_first().expect("one site at least");
    let bases: HashMap<&str, &[u8]> = files
        .iter()
        .filter(|_| !newest.is_empty())
        .filter_map(|f| Some((f.path.strip_prefix(newest.as_str())?, f.bytes.as_slice())))
        .collect();
    let base_of = |path: &str| {
        older
            .iter()
            .find_map(|version| path.strip_prefix(version.as_str()))
            .and_then(|rest| bases.get(rest).copied())
    };
    // Every representation's pieces, in the order of the representations: identity, brotli,
    // gzip, dcb, dcz.
    let pieces: Vec<Vec<Vec<Span>>> = files
        .iter()
        .map(|compiled| {
            let identity = match base_of(&compiled.path) {
                Some(base) => blob.add_against(&compiled.bytes, base),
                None => vec![blob.add(&compiled.bytes)],
            };
            let variants = [compiled.brotli.as_deref(), compiled.gzip.as_deref()]
                .into_iter()
                .flatten()
                .chain(compiled.dcb.iter().map(|d| d.bytes.as_slice()))
                .chain(compiled.dcz.iter().map(|d| d.bytes.as_slice()))
                .map(|bytes| vec![blob.add(bytes)]);
            std::iter::once(identity).chain(variants).collect()
        })
        .collect();
    let mut assets = Vec::with_capacity(files.len());
    for (((compiled, last_modified), headers), pieces) in
        files.iter().zip(&dates).zip(&headers).zip(&pieces)
    {
        // The ETags and the pieces are in the order of the representations.
        let mut etags = compiled.etags.iter();
        let mut pieces = pieces.iter();
        let mut representation = || Representation {
            body: Pieces::whole(pieces.next().expect("pieces for each representation")),
            etag: etags.next().expect("one ETag per representation"),
        };
        let identity = representation();
        let brotli = compiled.brotli.as_ref().map(|_| representation());
        let gzip = compiled.gzip.as_ref().map(|_| representation());
        let mut against_dictionary = |variant: &'a DictionaryVariant| DictionaryCompressed {
            dictionary: &variant.dictionary,
            representation: representation(),
        };
        let dcb = compiled.dcb.as_ref().map(&mut against_dictionary);
        let dcz = compiled.dcz.as_ref().map(&mut against_dictionary);
        assets.push(Asset {
            path: &compiled.path,
            content_type: &compiled.content_type,
            cache_control: compiled.cache_control,
            last_modified,
            modified: compiled.last_modified,
            identity,
            brotli,
            gzip,
            dcb,
            dcz,
            headers,
            link: compiled.link.as_deref(),
        });
    }
    let redirects: Vec<Redirect> = redirects
        .iter()
        .map(|rule| Redirect {
            from: &rule.from,
            splat: rule.splat,
            to: &rule.to,
            status: rule.status,
            page: rule.page.as_deref().map(|page| blob.add(page)),
        })
        .collect();
    let bodies = blob.bytes;
    // The spans are u32 offsets: the wasm component addresses its blob with 32-bit numbers.
    if u32::try_from(bodies.len()).is_err() {
        return Err(format!(
            "the site's files and their compressed variants come to {} bytes, over the 4 GiB \
             an embedded site can hold; serve a site this large from a file server",
            bodies.len()
        ));
    }
    let bodies_path = out_dir.join(artifacts::BODIES);
    artifacts::write_if_changed(&bodies_path, &bodies)?;
    let bodies_path = bodies_path.to_str().ok_or_else(|| {
        format!(
            "{}: OUT_DIR is not a UTF-8 path; build from a UTF-8 path",
            out_dir.display()
        )
    })?;
    let mut code = String::new();
    writeln!(
        code,
        "// Generated by site-compiler from the built site. Do not edit."
    )
    .unwrap();
    writeln!(
        code,
        "pub const CONTENT_SECURITY_POLICY: &str = {content_security_policy:?};"
    )
    .unwrap();
    writeln!(
        code,
        "/// The site's digest: what runtime-shim's `build_info` and first log line name.\n\
         pub const DIGEST: &str = {:?};",
        digest(files)
    )
    .unwrap();
    // In the wasm component the blob is not part of the program: component-packer puts
    // bodies.bin in a passive data segment (see `Span` in site-table).
    writeln!(
        code,
        "#[cfg(not(target_arch = \"wasm32\"))]\n\
         static BODIES: &[u8; {}] = include_bytes!({bodies_path:?});",
        bodies.len()
    )
    .unwrap();
    let (module, name) = BODIES_IMPORT;
    writeln!(
        code,
        "#[cfg(target_arch = \"wasm32\")]\n\
         #[link(wasm_import_module = {module:?})]\n\
         extern \"C\" {{\n    \
         /// Copies `len` bytes of the blob, from `start`, to `destination`; traps on bytes\n    \
         /// outside it. Not a host import: component-packer makes it `memory.init`.\n    \
         #[link_name = {name:?}]\n    \
         pub fn copy_bodies(destination: *mut u8, start: u32, len: u32);\n\
         }}"
    )
    .unwrap();
    let env = CrateEnv::default();
    writeln!(code, "pub static ASSETS: [Asset; {}] = [", assets.len()).unwrap();
    for asset in &assets {
        writeln!(code, "    {},", asset.bake(&env)).unwrap();
    }
    writeln!(code, "];").unwrap();
    writeln!(
        code,
        "pub static REDIRECTS: [Redirect; {}] = [",
        redirects.len()
    )
    .unwrap();
    for redirect in &redirects {
        writeln!(code, "    {},", redirect.bake(&env)).unwrap();
    }
    writeln!(code, "];").unwrap();
    Ok((code, bodies.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, etag: &str) -> CompiledFile {
        CompiledFile {
            path: path.to_owned(),
            bytes: Vec::new(),
            content_type: "text/html; charset=utf-8".to_owned(),
            cache_control: "no-cache",
            last_modified: 0,
            brotli: None,
            gzip: None,
            dcb: None,
            dcz: None,
            etags: vec![etag.to_owned()],
            headers: Vec::new(),
            link: None,
        }
    }

    #[test]
    fn equal_bodies_are_stored_once_and_share_a_span() {
        let mut blob = Blob::default();
        let first = blob.add(b"<p>the same page</p>");
        let other = blob.add(b"<p>another page</p>");
        let again = blob.add(b"<p>the same page</p>");
        assert_eq!(again, first);
        assert_ne!(other, first);
        assert_eq!(blob.bytes.len(), first.len() + other.len());
    }

    /// The bytes `pieces` name in `blob`, in order.
    fn gathered(blob: &Blob, pieces: &[Span]) -> Vec<u8> {
        pieces
            .iter()
            .flat_map(|span| &blob.bytes[span.start as usize..][..span.len()])
            .copied()
            .collect()
    }

    fn page(canonical: &str, paragraph: &str) -> Vec<u8> {
        let mut page = format!("<link rel=\"canonical\" href=\"{canonical}\">\n");
        for line in 0..40 {
            page +=
                &format!("<li><a href=\"/guide/{line}/\">Chapter {line} of the guide</a></li>\n");
        }
        page += &format!("<p>{paragraph}</p>\n");
        for line in 0..40 {
            page += &format!("<p>Paragraph {line}, the same in every version of the docs.</p>\n");
        }
        page.into_bytes()
    }

    #[test]
    fn an_older_versions_page_is_stored_as_the_lines_it_does_not_share() {
        let newest = page("/0.2.0/guide/", "New in 0.2.0.");
        let older = page("/0.1.0/guide/", "As it was in 0.1.0.");
        let mut blob = Blob::default();
        blob.add(&newest);
        let before = blob.bytes.len();
        let pieces = blob.add_against(&older, &newest);
        assert_eq!(gathered(&blob, &pieces), older);
        // Its canonical line and its paragraph, each before a run of the newest page.
        assert_eq!(pieces.len(), 4, "{pieces:?}");
        assert!(
            blob.bytes.len() - before < 100,
            "{}",
            blob.bytes.len() - before
        );
        // The same bytes again are the same pieces, stored once.
        assert_eq!(blob.add_against(&newest, &older), [blob.add(&newest)]);
    }

    #[test]
    fn a_file_that_shares_little_with_its_newest_version_is_stored_whole() {
        let newest = page("/0.2.0/guide/", "New in 0.2.0.");
        let other: Vec<u8> = newest.iter().rev().copied().collect();
        let mut blob = Blob::default();
        let pieces = blob.add_against(&other, &newest);
        assert_eq!(
            pieces,
            [Span {
                start: 0,
                len: other.len() as u32
            }]
        );
        assert_eq!(
            blob.bytes, other,
            "the newest is not stored for a file that does not use it"
        );
    }

    #[test]
    fn the_digest_names_the_files_whatever_their_order() {
        let site = [file("index.html", "\"1\""), file("a.css", "\"2\"")];
        let reordered = [file("a.css", "\"2\""), file("index.html", "\"1\"")];
        assert_eq!(digest(&site), digest(&reordered));
        assert_eq!(digest(&site).len(), 16);
    }

    #[test]
    fn the_digest_changes_with_any_files_bytes_or_path() {
        let site = [file("index.html", "\"1\""), file("a.css", "\"2\"")];
        let changed = [file("index.html", "\"1\""), file("a.css", "\"3\"")];
        let moved = [file("index.html", "\"1\""), file("b.css", "\"2\"")];
        assert_ne!(digest(&site), digest(&changed));
        assert_ne!(digest(&site), digest(&moved));
    }
}
