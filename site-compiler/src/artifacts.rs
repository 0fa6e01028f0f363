//! What the site compiler leaves in `OUT_DIR`, under the names the other build steps read it
//! by: the core includes the table, `component-packer` reads the blob and the figures. Each name
//! is written here once, and the crates that read them import them from here.

use std::fs;
use std::path::Path;

use std::collections::HashMap;

use crate::compile::CompiledFile;
use crate::dictionary::Dictionary;
use crate::redirects::Rule;
use site_table::SiteFigures;

/// The Rust source of the static table, which the core includes.
pub const TABLE: &str = "site.rs";
/// Every body of the site, one after another; the table's spans cut it.
pub const BODIES: &str = "bodies.bin";
/// The page URLs and their ids (see `permalinks.rs`).
pub const MANIFEST: &str = "manifest.json";
/// [`SiteFigures`] as JSON.
pub const FIGURES: &str = "site-figures.json";

/// The import through which the wasm component copies bytes of [`BODIES`]:
/// `(destination: *mut u8, start: u32, len: u32)`. The table declares it for wasm32 (see
/// `table.rs`), the component calls it, and `component-packer` replaces it with `memory.init`
/// from the passive segment that holds the blob.
pub const BODIES_IMPORT: (&str, &str) = ("hello-world:site", "copy-bodies");

/// The figures of a compiled site: its files, and the redirect pages kept as bodies.
pub(crate) fn figures_of(
    files: &[CompiledFile],
    redirects: &[Rule],
    dictionary_bytes: usize,
    previous_versions: &HashMap<String, Dictionary>,
    carried_files: usize,
    carried_bytes: usize,
) -> SiteFigures {
    let deltas: Vec<&CompiledFile> = files
        .iter()
        .filter(|f| f.dcz.is_some() && previous_versions.contains_key(&f.path))
        .collect();
    let sum = |pick: fn(&CompiledFile) -> Option<&Vec<u8>>| -> usize {
        files.iter().filter_map(pick).map(Vec::len).sum()
    };
    let redirect_pages: usize = redirects
        .iter()
        .filter_map(|r| r.page.as_ref())
        .map(Vec::len)
        .sum();
    SiteFigures {
        files: files.len(),
        raw_bytes: sum(|f| Some(&f.bytes)) + redirect_pages,
        brotli_bytes: sum(|f| f.brotli.as_ref()),
        gzip_bytes: sum(|f| f.gzip.as_ref()),
        dcb_bytes: sum(|f| f.dcb.as_ref().map(|d| &d.bytes)),
        dcz_bytes: sum(|f| f.dcz.as_ref().map(|d| &d.bytes)),
        dictionary_bytes,
        delta_files: deltas.len(),
        delta_brotli_bytes: deltas
            .iter()
            .filter_map(|f| f.brotli.as_ref())
            .map(Vec::len)
            .sum(),
        delta_bytes: deltas
            .iter()
            .filter_map(|f| f.dcz.as_ref())
            .map(|d| d.bytes.len())
            .sum(),
        carried_files,
        carried_bytes,
        // The table's blob knows it (`table.rs`).
        stored_bytes: 0,
    }
}

/// The figures a build left in `out_dir`.
pub fn read_figures(out_dir: &Path) -> Result<SiteFigures, String> {
    let path = out_dir.join(FIGURES);
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: {e}; rebuild the hello-world crate to rewrite it",
            path.display()
        )
    })
}

pub(crate) fn write_figures(figures: &SiteFigures, out_dir: &Path) -> Result<(), String> {
    let json = serde_json::to_string_pretty(figures).expect("plain numbers serialize");
    write_if_changed(&out_dir.join(FIGURES), json.as_bytes())
}

/// Keeps the mtime of an unchanged file, so cargo does not recompile the crate for nothing.
pub(crate) fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}
