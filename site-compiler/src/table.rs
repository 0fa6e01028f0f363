//! Code generation: the Rust source of the static table the core includes.
//!
//! The layout is chosen for the wasm component, which gets a fresh instance, and so fresh
//! page faults, for every request: all small strings (paths, types, ETags, dates) sit in one
//! deduplicated string, all bodies in one blob. A lookup then reads a few adjacent pages
//! instead of pages scattered over megabytes of file data.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::artifacts::{self, BODIES_IMPORT};
use crate::compile::CompiledFile;
use crate::redirects::Rule;

/// Writes the table, `out_dir/site.rs`, and its blob of bodies, `out_dir/bodies.bin`.
pub fn write(
    files: &[CompiledFile],
    redirects: &[Rule],
    out_dir: &Path,
    content_security_policy: &str,
) -> Result<(), String> {
    let code = generate(files, redirects, out_dir, content_security_policy)?;
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

/// Writes `out_dir/bodies.bin` and returns the source of `site.rs`.
fn generate(
    files: &[CompiledFile],
    redirects: &[Rule],
    out_dir: &Path,
    content_security_policy: &str,
) -> Result<String, String> {
    let mut strings = StringPool::default();
    let mut bodies = Vec::new();
    let mut entries = String::new();
    for compiled in files {
        let mut etags = compiled.etags.iter();
        let mut representation = |bytes: &[u8]| {
            let start = bodies.len();
            bodies.extend_from_slice(bytes);
            let etag = strings.add(etags.next().expect("one ETag per representation"));
            format!(
                "Representation {{ body: Span {{ start: {start}, len: {} }}, etag: {etag} }}",
                bytes.len()
            )
        };
        let identity = representation(&compiled.bytes);
        let brotli = compiled.brotli.as_deref().map(&mut representation);
        let gzip = compiled.gzip.as_deref().map(&mut representation);
        let dcz_representation = compiled.dcz.as_ref().map(|dcz| representation(&dcz.bytes));
        let dcz = compiled
            .dcz
            .as_ref()
            .zip(dcz_representation)
            .map(|(dcz, representation)| {
                let dictionary = strings.add(&dcz.dictionary);
                format!("Dcz {{ dictionary: {dictionary}, representation: {representation} }}")
            });
        let option = |r: Option<String>| r.map_or("None".to_owned(), |r| format!("Some({r})"));
        let headers: Vec<String> = compiled
            .headers
            .iter()
            .map(|(name, value)| format!("({}, {})", strings.add(name), strings.add(value)))
            .collect();
        writeln!(
            entries,
            "    Asset {{\n        path: {},\n        content_type: {},\n        \
             cache_control: {},\n        last_modified: {},\n        modified: {},\n        \
             identity: {identity},\n        brotli: {},\n        gzip: {},\n        \
             dcz: {},\n        headers: &[{}],\n        link: {},\n    }},",
            strings.add(&compiled.path),
            strings.add(&compiled.content_type),
            strings.add(compiled.cache_control),
            strings.add(&http_text::http_date::format(compiled.last_modified)),
            compiled.last_modified,
            option(brotli),
            option(gzip),
            option(dcz),
            headers.join(", "),
            compiled
                .link
                .as_deref()
                .map_or("None".to_owned(), |v| format!("Some({})", strings.add(v))),
        )
        .unwrap();
    }

    let mut redirect_entries = String::new();
    for rule in redirects {
        let page = rule.page.as_deref().map_or("None".to_owned(), |bytes| {
            let start = bodies.len();
            bodies.extend_from_slice(bytes);
            format!("Some(Span {{ start: {start}, len: {} }})", bytes.len())
        });
        writeln!(
            redirect_entries,
            "    Redirect {{ from: {}, splat: {}, to: {}, status: {}, page: {page} }},",
            strings.add(&rule.from),
            rule.splat,
            strings.add(&rule.to),
            rule.status,
        )
        .unwrap();
    }
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
    writeln!(code, "static STRINGS: &str = {:?};", strings.text).unwrap();
    // In the wasm component the blob is not part of the program: component-packer puts
    // bodies.bin in a passive data segment (see `Span` in the core's site.rs).
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
    code.push_str(
        "const fn text(start: usize, len: usize) -> &'static str {\n    \
         match core::str::from_utf8(STRINGS.as_bytes().split_at(start).1.split_at(len).0) {\n        \
         Ok(s) => s,\n        Err(_) => panic!(\"the site compiler cut a string mid-character\"),\n    \
         }\n}\n",
    );
    writeln!(code, "pub static ASSETS: [Asset; {}] = [", files.len()).unwrap();
    code.push_str(&entries);
    writeln!(code, "];").unwrap();
    writeln!(
        code,
        "pub static REDIRECTS: [Redirect; {}] = [",
        redirects.len()
    )
    .unwrap();
    code.push_str(&redirect_entries);
    writeln!(code, "];").unwrap();
    Ok(code)
}

/// One string holding every distinct small string once; `add` returns the Rust expression
/// that names a string inside it.
#[derive(Default)]
struct StringPool {
    text: String,
    offsets: HashMap<String, usize>,
}

impl StringPool {
    fn add(&mut self, s: &str) -> String {
        let start = *self.offsets.entry(s.to_owned()).or_insert_with(|| {
            let start = self.text.len();
            self.text.push_str(s);
            start
        });
        format!("text({start}, {})", s.len())
    }
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
            dcz: None,
            etags: vec![etag.to_owned()],
            headers: Vec::new(),
            link: None,
        }
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
