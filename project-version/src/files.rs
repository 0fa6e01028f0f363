//! The files that carry the version, read and written in place: a file whose shape changed (a
//! key gone, a line twice) is an error that names it, never a silent skip.

use std::fs;
use std::path::Path;

use toml_edit::{value, DocumentMut, Item};

/// `[workspace.package] version` of the root Cargo.toml.
pub fn version(root: &Path) -> Result<String, String> {
    let doc = read_toml(&root.join("Cargo.toml"))?;
    doc.get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(Item::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "Cargo.toml: no [workspace.package] version".to_owned())
}

/// Writes `version` into every file that names it; a file already right is left untouched.
pub fn sync(root: &Path, version: &str) -> Result<(), String> {
    edit_toml(&root.join("Cargo.lock"), |doc| {
        // The workspace's own crates are the packages Cargo.lock records without a `source`.
        let packages = doc
            .get_mut("package")
            .and_then(Item::as_array_of_tables_mut)
            .ok_or("no [[package]] entries")?;
        for package in packages.iter_mut().filter(|p| !p.contains_key("source")) {
            package["version"] = value(version);
        }
        Ok(())
    })?;
    edit_lines(
        &root.join("charts/hello-world/Chart.yaml"),
        &[
            ("version: ", version.to_owned()),
            ("appVersion: ", format!("\"{version}\"")),
        ],
    )?;
    edit_toml(&root.join("spin.toml"), |doc| {
        set(doc, &["application", "version"], version)
    })?;
    edit_toml(&root.join("deployment/test/inputs.toml"), |doc| {
        set(doc, &["env", "APP_CHART_VERSION"], version)?;
        set(doc, &["env", "APP_IMAGE_VERSION"], version)
    })
}

/// Raises the patch version in Cargo.toml, syncs it, and returns it.
pub fn bump(root: &Path) -> Result<String, String> {
    let old = version(root)?;
    let parts: Vec<u64> = old.split('.').filter_map(|p| p.parse().ok()).collect();
    let [major, minor, patch] = parts[..] else {
        return Err(format!(
            "{old:?} is not MAJOR.MINOR.PATCH; set the next version by hand"
        ));
    };
    let new = format!("{major}.{minor}.{}", patch + 1);
    edit_toml(&root.join("Cargo.toml"), |doc| {
        set(doc, &["workspace", "package", "version"], &new)
    })?;
    sync(root, &new)?;
    Ok(new)
}

/// Sets the existing string at `path` (table keys) to `to`.
fn set(doc: &mut DocumentMut, path: &[&str], to: &str) -> Result<(), String> {
    let (last, tables) = path.split_last().expect("a path has a key");
    let mut item = doc.as_item_mut();
    for key in tables {
        item = item.get_mut(key).ok_or_else(|| format!("no [{key}]"))?;
    }
    match item.get_mut(last) {
        Some(found) if found.is_str() => {
            *found = value(to);
            Ok(())
        }
        _ => Err(format!("no string {}", path.join("."))),
    }
}

fn read_toml(path: &Path) -> Result<DocumentMut, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.parse()
        .map_err(|e| format!("{}: not TOML: {e}", path.display()))
}

fn edit_toml(
    path: &Path,
    edit: impl FnOnce(&mut DocumentMut) -> Result<(), String>,
) -> Result<(), String> {
    let mut doc = read_toml(path)?;
    edit(&mut doc).map_err(|e| format!("{}: {e}", path.display()))?;
    write_if_changed(path, &doc.to_string())
}

/// Replaces the one line that starts with each prefix (at the start of a line: a top-level
/// YAML key) by the prefix and its new value.
fn edit_lines(path: &Path, keys: &[(&str, String)]) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (prefix, new) in keys {
        let found: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with(prefix))
            .collect();
        let [line] = found[..] else {
            return Err(format!(
                "{}: expected one line `{prefix}…`, found {}",
                path.display(),
                found.len()
            ));
        };
        lines[line] = format!("{prefix}{new}");
    }
    let ending = if text.ends_with('\n') { "\n" } else { "" };
    write_if_changed(path, &(lines.join("\n") + ending))
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
