//! Compiles the built site into `OUT_DIR/site.rs` (see the `site-compiler` crate).
//!
//! Settings, all read at build time:
//! - `SITE_DIR`: the built static site to embed (default `site/build`, the MkDocs output);
//!   absolute, or relative to this crate's folder.
//! - `SITE_VERSIONS_DIR`: instead, a versioned tree as mike deploys it (`versions.json` and a
//!   folder per version): every version is embedded, its aliases and the root redirect to it.
//! - `HELLO_WORLD_CSP`: the `Content-Security-Policy` every response carries.
//! - `SITE_LINK_CHECK=warn`: report broken internal links without failing the build.
//! - `SOURCE_DATE_EPOCH`: the `Last-Modified` of every file, for reproducible builds.
//! - `PREVIOUS_SITE`: the previous release's built site (a folder or `site-VERSION.tar.gz`);
//!   a page URL of it that this site neither serves nor redirects fails the build.
//! - `SITE_PERMALINK_CHECK=warn`: report those pages without failing the build.
//! - `SITE_PREVIOUS_ASSETS_BUDGET`: the most bytes of the previous release's fingerprinted
//!   assets to embed for version skew (default 4 MiB); more fails the build.

use std::env;
use std::path::PathBuf;
use std::process::exit;

fn main() {
    for setting in [
        "SITE_DIR",
        "SITE_VERSIONS_DIR",
        "HELLO_WORLD_CSP",
        "SITE_LINK_CHECK",
        "SOURCE_DATE_EPOCH",
        "PREVIOUS_SITE",
        "SITE_PERMALINK_CHECK",
        "SITE_PREVIOUS_ASSETS_BUDGET",
    ] {
        println!("cargo:rerun-if-env-changed={setting}");
    }
    if let Err(message) = run() {
        eprintln!("\nerror: {message}\n");
        exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").ok_or("no CARGO_MANIFEST_DIR")?);
    let versions_dir = env::var_os("SITE_VERSIONS_DIR").filter(|d| !d.is_empty());
    if versions_dir.is_some() && env::var_os("SITE_DIR").is_some_and(|d| !d.is_empty()) {
        return Err(
            "SITE_DIR and SITE_VERSIONS_DIR are both set: embed one site, or one \
                    versioned tree"
                .to_owned(),
        );
    }
    let versioned = versions_dir.is_some();
    let site_dir = match versions_dir.or_else(|| env::var_os("SITE_DIR")) {
        Some(dir) => manifest_dir.join(dir),
        None => {
            let default = manifest_dir.join("site/build");
            if !default.join("index.html").is_file() {
                return Err(format!(
                    "the docs site is not built ({} has no index.html).\n       Build it with \
                     `bin/mise run docs-build`, or set SITE_DIR to any built static site.",
                    default.display()
                ));
            }
            default
        }
    };
    if !site_dir.is_dir() {
        let setting = if versioned {
            "SITE_VERSIONS_DIR"
        } else {
            "SITE_DIR"
        };
        return Err(format!(
            "{setting}={} is not a folder; point it at a built static site",
            site_dir.display()
        ));
    }
    println!("cargo:rerun-if-changed={}", site_dir.display());

    let source_date_epoch = number::<u64>("SOURCE_DATE_EPOCH", "a number of seconds since 1970")?;
    let fail_on_broken_links = fails("SITE_LINK_CHECK")?;
    let fail_on_dead_permalinks = fails("SITE_PERMALINK_CHECK")?;
    let previous_site = env::var_os("PREVIOUS_SITE")
        .filter(|p| !p.is_empty())
        .map(|p| manifest_dir.join(p));
    if let Some(previous) = &previous_site {
        println!("cargo:rerun-if-changed={}", previous.display());
    }
    let previous_assets_budget =
        number::<usize>("SITE_PREVIOUS_ASSETS_BUDGET", "a number of bytes")?;
    let options = site_compiler::Options {
        site_dir,
        versioned,
        out_dir: PathBuf::from(env::var_os("OUT_DIR").ok_or("no OUT_DIR")?),
        source_date_epoch,
        content_security_policy: env::var("HELLO_WORLD_CSP")
            .unwrap_or_else(|_| site_compiler::DEFAULT_CONTENT_SECURITY_POLICY.to_owned()),
        fail_on_broken_links,
        previous_site,
        fail_on_dead_permalinks,
        previous_assets_budget,
    };
    let summary = site_compiler::compile(&options)?;
    for link in &summary.broken_links {
        println!("cargo:warning=broken link: {link}");
    }
    for url in &summary.dead_permalinks {
        println!("cargo:warning=gone since the previous release, with no redirect: {url}");
    }
    if !summary.skipped_hidden.is_empty() {
        println!(
            "cargo:warning=not embedded (dot-files): {}",
            summary.skipped_hidden.join(", ")
        );
    }
    Ok(())
}

/// A check's setting: `fail` (the default) or `warn`; true when the check fails the build.
fn fails(setting: &str) -> Result<bool, String> {
    match env::var(setting).as_deref() {
        Ok("warn") => Ok(false),
        Ok("fail") | Err(_) => Ok(true),
        Ok(other) => Err(format!("{setting}={other:?}: use `fail` or `warn`")),
    }
}

/// A numeric setting, if set.
fn number<T: std::str::FromStr>(setting: &str, what: &str) -> Result<Option<T>, String> {
    match env::var(setting) {
        Ok(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{setting}={value:?} is not {what}")),
        Err(_) => Ok(None),
    }
}
