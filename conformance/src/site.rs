//! The built site on disk: what the servers must deliver, byte for byte.

use std::path::PathBuf;

pub struct Site {
    dir: PathBuf,
}

impl Site {
    /// The folder build.rs embedded: `SITE_DIR` (relative to the repository root) or
    /// `site/build`.
    pub fn from_env() -> Site {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = std::env::var_os("SITE_DIR").map_or(root.join("site/build"), |d| root.join(d));
        Site { dir }
    }

    /// The bytes of the file at `path`, from disk. The build adds one file the site folder does
    /// not have, the pages' compression dictionary: its bytes are the table's, and the
    /// dictionary cases check it against the pages instead (zstd restores them with it).
    pub fn file(&self, path: &str) -> Vec<u8> {
        let full = self.dir.join(path);
        match std::fs::read(&full) {
            Ok(bytes) => bytes,
            Err(_) if path.starts_with("assets/dictionaries/") => hello_world::site::lookup(path)
                .map(|asset| hello_world::site::bytes(asset.identity.body).to_vec())
                .unwrap_or_else(|| panic!("{path}: not in the table")),
            Err(e) => panic!("{}: {e}", full.display()),
        }
    }

    /// MkDocs Material's fingerprinted JavaScript bundle, whatever its hash is in this build.
    pub fn fingerprinted_js(&self) -> String {
        hello_world::site::assets()
            .iter()
            .map(|a| a.path)
            .find(|p| p.starts_with("assets/javascripts/bundle.") && p.ends_with(".min.js"))
            .expect("the site has Material's bundle.<hash>.min.js")
            .to_owned()
    }
}
