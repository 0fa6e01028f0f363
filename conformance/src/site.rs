//! The built site on disk: what the servers must deliver, byte for byte.

use std::path::PathBuf;

/// A version of `versions.json`, as mike lists it.
pub struct Version {
    pub name: String,
    pub aliases: Vec<String>,
}

pub struct Site {
    dir: PathBuf,
    /// True for a versioned tree (`SITE_VERSIONS_DIR`): the `versions` cases check it, and the
    /// other rules, written for one site at the root, do not apply.
    pub versioned: bool,
}

impl Site {
    /// The folder build.rs embedded: `SITE_VERSIONS_DIR` or `SITE_DIR` (relative to the
    /// repository root), or `site/build`. The suite runs with the settings it was built with.
    pub fn from_env() -> Site {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let setting = |name| std::env::var_os(name).filter(|d| !d.is_empty());
        match (setting("SITE_VERSIONS_DIR"), setting("SITE_DIR")) {
            (Some(tree), _) => Site {
                dir: root.join(tree),
                versioned: true,
            },
            (None, dir) => Site {
                dir: dir.map_or(root.join("site/build"), |d| root.join(d)),
                versioned: false,
            },
        }
    }

    /// True when the folder has a file at `path`.
    pub fn has(&self, path: &str) -> bool {
        self.dir.join(path).is_file()
    }

    /// The bytes of the file at `path`, from disk. The build adds one file the site folder does
    /// not have, the pages' compression dictionary: its bytes are the table's, and the
    /// dictionary cases check it against the pages instead (zstd restores them with it).
    pub fn file(&self, path: &str) -> Vec<u8> {
        let full = self.dir.join(path);
        match std::fs::read(&full) {
            Ok(bytes) => bytes,
            // The table answers outside every version with the default version's 404 page.
            Err(_) if self.versioned && path == "404.html" => {
                let versions = self.versions().unwrap_or_else(|e| panic!("{e}"));
                let default = self
                    .default_version(&versions)
                    .unwrap_or_else(|e| panic!("{e}"));
                self.file(&format!("{default}/404.html"))
            }
            Err(_) if path.starts_with("assets/dictionaries/") => hello_world::site::lookup(path)
                .map(|asset| hello_world::site::gather(asset.identity.body).into_owned())
                .unwrap_or_else(|| panic!("{path}: not in the table")),
            Err(e) => panic!("{}: {e}", full.display()),
        }
    }

    /// `versions.json` from disk, newest first.
    pub fn versions(&self) -> Result<Vec<Version>, String> {
        let list: serde_json::Value = serde_json::from_slice(&self.file("versions.json"))
            .map_err(|e| format!("versions.json on disk: {e}"))?;
        let entries = list
            .as_array()
            .ok_or("versions.json on disk is not a list")?;
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        let versions: Vec<Version> = entries
            .iter()
            .filter_map(|entry| {
                Some(Version {
                    name: text(entry.get("version")?)?,
                    aliases: entry
                        .get("aliases")
                        .and_then(|a| a.as_array())
                        .map(|a| a.iter().filter_map(text).collect())
                        .unwrap_or_default(),
                })
            })
            .collect();
        if versions.len() < 2 || !versions.iter().any(|v| !v.aliases.is_empty()) {
            return Err("the versioned tree needs two versions and an alias to check".into());
        }
        Ok(versions)
    }

    /// The version mike's root page sends readers to (`mike set-default`): the first segment of
    /// its link, a version or an alias of one.
    pub fn default_version(&self, versions: &[Version]) -> Result<String, String> {
        let page = String::from_utf8_lossy(&self.file("index.html")).into_owned();
        let first = page
            .split("href=\"")
            .nth(1)
            .and_then(|link| link.trim_start_matches("./").split(['/', '"']).next())
            .ok_or("mike's root page has no link to the default version")?;
        versions
            .iter()
            .find(|v| v.name == first || v.aliases.iter().any(|a| a == first))
            .map(|v| v.name.clone())
            .ok_or_else(|| format!("mike's root page links to {first}, which versions.json lacks"))
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
