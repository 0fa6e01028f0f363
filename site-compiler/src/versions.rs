//! A versioned tree, as mike (<https://github.com/jimporter/mike>) leaves the gh-pages branch:
//! `versions.json` at the root lists the versions, newest first, each with its title and
//! aliases, and each version's built site is the folder of its name. mike stands in for what a
//! static host cannot do with files of its own: a copy, a symlink or a page of meta refreshes
//! for each alias, and a meta refresh at the root to the default version (`mike set-default`).
//! Here those go, and the table gets real redirects instead (`redirects`).
//!
//! The versions are compiled as one site of prefixed paths: each version keeps its pages,
//! its redirects' pages, its search index and its 404 page (the core answers a missing path
//! with the nearest `404.html` up its folders), a body that several versions share is stored
//! once (`table.rs`), and the pages of every version are compressed against one dictionary.

use std::collections::{HashMap, HashSet};

use html5gum::{DefaultEmitter, Token, Tokenizer};

use crate::redirects::Rule;
use crate::walk::SiteFile;

/// mike's list of versions, at the tree's root; served as it is, for the docs' version
/// selector (Material fetches it from the site's root).
pub const VERSIONS_FILE: &str = "versions.json";
/// mike's page at the root, a refresh to the default version.
const ROOT_PAGE: &str = "index.html";
/// A site's page for a missing path (the core's `site::not_found_page`).
const NOT_FOUND_PAGE: &str = "404.html";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub name: String,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// Newest first, as `versions.json` lists them.
    pub versions: Vec<Version>,
    /// The version the root goes to.
    pub default: String,
}

/// Reads the tree `files` hold and takes mike's stand-ins out of them: the root's refresh and
/// each alias's folder. Errors name the entry of `versions.json` and what to do.
pub fn read(files: &mut Vec<SiteFile>) -> Result<Tree, String> {
    let list = files
        .iter()
        .find(|f| f.key == VERSIONS_FILE)
        .ok_or_else(|| {
            format!(
                "SITE_VERSIONS_DIR has no {VERSIONS_FILE}: point it at a tree mike deployed \
                 (the gh-pages branch), or use SITE_DIR for one site"
            )
        })?;
    let versions = parse(&list.bytes)?;
    let keys: HashSet<&str> = files.iter().map(|f| f.key.as_str()).collect();
    for (entry, version) in versions.iter().enumerate() {
        if !keys.contains(format!("{}/index.html", version.name).as_str()) {
            return Err(format!(
                "{VERSIONS_FILE} entry {} ({}): the tree has no {}/index.html; deploy it \
                 (`mike deploy {}`) or remove the entry",
                entry + 1,
                version.name,
                version.name,
                version.name
            ));
        }
    }
    let default = match files.iter().find(|f| f.key == ROOT_PAGE) {
        Some(root) => default_of(&root.bytes, &versions)?,
        None => versions[0].name.clone(),
    };
    let aliases: HashSet<&str> = versions
        .iter()
        .flat_map(|v| v.aliases.iter().map(String::as_str))
        .collect();
    files.retain(|f| {
        let first = f.key.split('/').next().unwrap_or_default();
        f.key != ROOT_PAGE && !(f.key.contains('/') && aliases.contains(first))
    });
    // A path outside every version gets the default version's 404 page: MkDocs writes that
    // page's links as absolute paths under its version's URL, so it renders at any depth.
    // Stored by content, it costs nothing.
    let root_404 = files
        .iter()
        .find(|f| f.key == format!("{default}/{NOT_FOUND_PAGE}"))
        .filter(|_| !files.iter().any(|f| f.key == NOT_FOUND_PAGE))
        .map(|page| SiteFile {
            key: NOT_FOUND_PAGE.to_owned(),
            bytes: page.bytes.clone(),
            modified: page.modified,
        });
    files.extend(root_404);
    Ok(Tree { versions, default })
}

/// `versions.json`: a list of `{"version", "title", "aliases"}`. A version is one folder name;
/// an alias names one version and is no version's name.
fn parse(bytes: &[u8]) -> Result<Vec<Version>, String> {
    let shape =
        "mike's list, [{\"version\": \"1.0\", \"title\": \"1.0\", \"aliases\": [\"latest\"]}]";
    let list: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("{VERSIONS_FILE}: {e}; it must be {shape}"))?;
    let entries = list
        .as_array()
        .filter(|entries| !entries.is_empty())
        .ok_or_else(|| format!("{VERSIONS_FILE}: not a list of versions; it must be {shape}"))?;
    let mut versions: Vec<Version> = Vec::new();
    let mut named: HashMap<String, String> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("{VERSIONS_FILE} entry {}", i + 1);
        let name = entry
            .get("version")
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("{at}: no \"version\" string; each entry is {shape}"))?;
        segment(name).map_err(|problem| format!("{at}: version {name:?} {problem}"))?;
        let aliases: Vec<String> = match entry.get("aliases") {
            None => Vec::new(),
            Some(aliases) => aliases
                .as_array()
                .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
                .ok_or_else(|| format!("{at} ({name}): \"aliases\" must be a list of strings"))?,
        };
        for alias in &aliases {
            segment(alias)
                .map_err(|problem| format!("{at} ({name}): alias {alias:?} {problem}"))?;
        }
        let words =
            std::iter::once((name, false)).chain(aliases.iter().map(|a| (a.as_str(), true)));
        for (word, is_alias) in words {
            if let Some(other) = named.insert(word.to_owned(), name.to_owned()) {
                return Err(match (is_alias, word == other) {
                    (false, _) => format!("{at}: version {name} is listed twice; keep one entry"),
                    (true, true) => format!(
                        "{at} ({name}): alias {word} is the name of a version; rename the alias"
                    ),
                    (true, false) => format!(
                        "{at} ({name}): {word} names both {other} and {name}; an alias names one \
                         version (`mike alias --update-aliases` moves it)"
                    ),
                });
            }
        }
        versions.push(Version {
            name: name.to_owned(),
            aliases,
        });
    }
    Ok(versions)
}

/// A version or alias is one path segment that a URL can carry as it is.
fn segment(word: &str) -> Result<(), &'static str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-+~".contains(c);
    match word {
        "" | "." | ".." => Err("is not a folder name"),
        _ if word.starts_with('.') => Err("starts with a dot, which the site does not serve"),
        _ if !word.chars().all(plain) => {
            Err("has characters other than letters, digits and . _ - + ~")
        }
        _ => Ok(()),
    }
}

/// The version mike's root page refreshes to (`mike set-default`): its link's first segment,
/// a version or an alias of one.
fn default_of(root: &[u8], versions: &[Version]) -> Result<String, String> {
    let html = String::from_utf8_lossy(root);
    let href = Tokenizer::new_with_emitter(html.as_ref(), DefaultEmitter::default())
        .flatten()
        .find_map(|token| match token {
            Token::StartTag(tag) if tag.name == b"a" => tag
                .attributes
                .get(b"href".as_slice())
                .map(|v| String::from_utf8_lossy(&v.value).into_owned()),
            _ => None,
        })
        .ok_or_else(|| {
            format!(
                "{ROOT_PAGE}: not mike's page to the default version (no link); run `mike \
                 set-default VERSION`, or remove it to default to the newest version"
            )
        })?;
    let first = href
        .trim_start_matches("./")
        .split('/')
        .next()
        .unwrap_or_default();
    versions
        .iter()
        .find(|v| v.name == first || v.aliases.iter().any(|a| a == first))
        .map(|v| v.name.clone())
        .ok_or_else(|| {
            format!(
                "{ROOT_PAGE}: the default version is {first:?}, which {VERSIONS_FILE} does not \
                 list; run `mike set-default` with a listed version"
            )
        })
}

/// The tree's redirects: each alias, with whatever path follows it, to the same path of its
/// version; the root to the default version.
///
/// 302 Found (RFC 9110 §15.4.3): the alias moves with each release, so the redirect is
/// temporary, and a 302 is not heuristically cacheable (RFC 9111 §4.2.2); with `no-cache`
/// (`Response::redirect`) no cache keeps it past the next release. A permanent redirect
/// (301, 308) would be cached for good and pin readers to the old release.
pub fn redirects(tree: &Tree) -> Vec<Rule> {
    let rule = |from: &str, splat: bool, to: String| Rule {
        origin: format!(
            "{VERSIONS_FILE}: {}",
            if from.is_empty() { "default" } else { from }
        ),
        from: from.to_owned(),
        splat,
        to,
        status: 302,
        page: None,
    };
    let mut rules = vec![rule("", false, format!("/{}/", tree.default))];
    for version in &tree.versions {
        for alias in &version.aliases {
            rules.push(rule(alias, false, format!("/{}/", version.name)));
            rules.push(rule(
                &format!("{alias}/"),
                true,
                format!("/{}/:splat", version.name),
            ));
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(key: &str, bytes: &[u8]) -> SiteFile {
        SiteFile {
            key: key.to_owned(),
            bytes: bytes.to_vec(),
            modified: 0,
        }
    }

    const LIST: &[u8] = br#"[
        {"version": "0.2.0", "title": "0.2.0", "aliases": ["latest"]},
        {"version": "0.1.0", "title": "0.1.0", "aliases": []}
    ]"#;

    fn tree(list: &[u8], extra: &[(&str, &[u8])]) -> (Result<Tree, String>, Vec<String>) {
        let mut files = vec![
            file(VERSIONS_FILE, list),
            file("0.2.0/index.html", b"<p>two"),
            file("0.1.0/index.html", b"<p>one"),
        ];
        files.extend(extra.iter().map(|(k, b)| file(k, b)));
        let tree = read(&mut files);
        (tree, files.into_iter().map(|f| f.key).collect())
    }

    #[test]
    fn the_list_names_the_versions_newest_first_with_their_aliases() {
        let (tree, _) = tree(LIST, &[]);
        let tree = tree.unwrap();
        assert_eq!(tree.default, "0.2.0");
        assert_eq!(tree.versions[0].aliases, ["latest"]);
        assert_eq!(tree.versions[1].name, "0.1.0");
    }

    #[test]
    fn mikes_root_page_names_the_default_and_alias_folders_leave() {
        let root = br#"<noscript><meta http-equiv="refresh" content="1; url=0.1.0/" /></noscript>
            <body>Redirecting to <a href="0.1.0/">0.1.0/</a>...</body>"#;
        let (tree, keys) = tree(
            LIST,
            &[("index.html", root), ("latest/index.html", b"<p>two")],
        );
        assert_eq!(tree.unwrap().default, "0.1.0");
        assert_eq!(
            keys,
            [VERSIONS_FILE, "0.2.0/index.html", "0.1.0/index.html"]
        );
    }

    #[test]
    fn a_path_outside_every_version_gets_the_default_versions_404_page() {
        let root = br#"<a href="0.1.0/">0.1.0/</a>"#;
        let mut files = vec![
            file(VERSIONS_FILE, LIST),
            file("index.html", root),
            file("0.2.0/index.html", b"<p>two"),
            file("0.2.0/404.html", b"<p>two is missing"),
            file("0.1.0/index.html", b"<p>one"),
            file("0.1.0/404.html", b"<p>one is missing"),
        ];
        read(&mut files).unwrap();
        let root_404 = files.iter().find(|f| f.key == "404.html").unwrap();
        assert_eq!(root_404.bytes, b"<p>one is missing");
    }

    #[test]
    fn a_default_through_an_alias_is_its_version() {
        let root = br#"<a href="latest/">latest/</a>"#;
        assert_eq!(
            tree(LIST, &[("index.html", root)]).0.unwrap().default,
            "0.2.0"
        );
    }

    #[test]
    fn a_version_without_its_folder_fails_naming_the_entry() {
        let list = br#"[{"version": "0.3.0"}, {"version": "0.2.0"}]"#;
        let error = tree(list, &[]).0.unwrap_err();
        assert!(
            error.starts_with("versions.json entry 1 (0.3.0): the tree has no 0.3.0/index.html"),
            "{error}"
        );
    }

    #[test]
    fn an_alias_that_names_two_versions_fails_naming_both() {
        let list = br#"[{"version": "0.2.0", "aliases": ["latest"]}, {"version": "0.1.0", "aliases": ["latest"]}]"#;
        let error = tree(list, &[]).0.unwrap_err();
        assert!(
            error.contains("entry 2 (0.1.0): latest names both 0.2.0 and 0.1.0"),
            "{error}"
        );
    }

    #[test]
    fn bad_lists_fail_with_what_to_write() {
        for (list, expected) in [
            (&b"{}"[..], "not a list of versions"),
            (b"[]", "not a list of versions"),
            (b"[{\"title\": \"x\"}]", "entry 1: no \"version\" string"),
            (
                b"[{\"version\": \"0.2.0\"}, {\"version\": \"0.2.0\"}]",
                "version 0.2.0 is listed twice",
            ),
            (b"[{\"version\": \"a/b\"}]", "has characters other than"),
            (
                b"[{\"version\": \"0.2.0\", \"aliases\": [\"0.2.0\"]}]",
                "alias 0.2.0 is the name of a version",
            ),
            (
                b"[{\"version\": \"0.2.0\", \"aliases\": \"latest\"}]",
                "must be a list of strings",
            ),
        ] {
            let error = tree(list, &[]).0.unwrap_err();
            assert!(error.contains(expected), "{list:?}: {error}");
        }
    }
}
