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

    pub fn file(&self, path: &str) -> Vec<u8> {
        let full = self.dir.join(path);
        std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
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
