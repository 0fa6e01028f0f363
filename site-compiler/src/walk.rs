//! Reads the built site, every file it will serve keyed by its URL path, and the previous
//! release's (`PREVIOUS_SITE`: a folder or the `site-VERSION.tar.gz` a release attaches).

use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::UNIX_EPOCH;

pub struct SiteFile {
    /// URL path relative to the site root, `/`-separated: `assets/main.css`, `index.html`.
    pub key: String,
    pub bytes: Vec<u8>,
    /// Modification time in seconds since the Unix epoch.
    pub modified: u64,
}

#[cfg(test)]
impl SiteFile {
    /// A file of `text`, modified at the epoch: what the stages' unit tests build sites from.
    pub fn text(key: &str, text: &str) -> SiteFile {
        SiteFile {
            key: key.to_owned(),
            bytes: text.as_bytes().to_vec(),
            modified: 0,
        }
    }
}

pub struct Walk {
    pub files: Vec<SiteFile>,
    /// Dot-files and dot-directories left out: they are build leftovers (`.git`, `.DS_Store`),
    /// never pages, and leaving them out keeps the health path free.
    pub skipped_hidden: Vec<String>,
}

/// Walks `root` and returns its files sorted by key. Errors name the file and the fix.
pub fn walk(root: &Path) -> Result<Walk, String> {
    let mut walk = Walk {
        files: Vec::new(),
        skipped_hidden: Vec::new(),
    };
    visit(root, "", &mut walk)?;
    walk.files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(walk)
}

fn visit(dir: &Path, prefix: &str, walk: &mut Walk) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name().into_string().map_err(|_| {
            format!(
                "{}: the file name is not UTF-8, so no URL can name it; rename it",
                path.display()
            )
        })?;
        let key = format!("{prefix}{name}");
        if name.starts_with('.') && key != ".well-known" {
            walk.skipped_hidden.push(key);
            continue;
        }
        check_servable(&key, &path)?;
        let meta = fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            visit(&path, &format!("{key}/"), walk)?;
        } else if meta.is_file() {
            let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            walk.files.push(SiteFile {
                key,
                bytes,
                modified,
            });
        }
    }
    Ok(())
}

/// Takes the file `key` out of `files`, if it is there: a configuration file of the site
/// (`_redirects`, `_headers`), which is read, not served.
pub fn take(files: &mut Vec<SiteFile>, key: &str) -> Option<SiteFile> {
    let at = files.iter().position(|f| f.key == key)?;
    Some(files.remove(at))
}

/// The files of the previous release's site: a folder, or a `.tar.gz` of one.
pub fn previous_site(path: &Path) -> Result<Vec<SiteFile>, String> {
    if path.is_dir() {
        return Ok(walk(path)?.files);
    }
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| {
        format!("PREVIOUS_SITE={name}: {e}; name a built site's folder or its site-VERSION.tar.gz")
    })?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut files = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| format!("PREVIOUS_SITE={name}: not a .tar.gz of a site: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("PREVIOUS_SITE={name}: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let key = entry
            .path()
            .map_err(|e| format!("PREVIOUS_SITE={name}: {e}"))?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned();
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("PREVIOUS_SITE={name}: {key}: {e}"))?;
        let modified = entry.header().mtime().unwrap_or(0);
        files.push(SiteFile {
            key,
            bytes,
            modified,
        });
    }
    files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(files)
}

/// A name the request-target rules would reject can never be served: say so at build time.
fn check_servable(key: &str, path: &Path) -> Result<(), String> {
    if key.contains('\\') || key.chars().any(char::is_control) {
        return Err(format!(
            "{}: a backslash or control character in a file name cannot be requested \
             (such requests get 400); rename the file",
            path.display()
        ));
    }
    Ok(())
}
