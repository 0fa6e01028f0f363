//! The site compiler: turns a built static site into the Rust source of a static table, doing
//! every per-file job once, at build time: content type, strong ETags, brotli and gzip variants,
//! cache policy, and a check that no internal link is broken. `build.rs` of the hello-world
//! crate calls [`compile`]; the request path then only looks things up.
//!
//! [`compile`] runs the stages in order, each a file entered once: read (`walk.rs`, and for a
//! versioned tree `versions.rs`), the link check (`links.rs`), the rules (`redirects.rs`, `headers.rs`), the checks against the
//! previous release (`permalinks.rs`, `skew.rs`), the pages' compression dictionary
//! (`dictionary.rs`), the per-file work (`compile.rs`) and the output (`table.rs`,
//! `artifacts.rs`).

pub mod artifacts;
mod cache_policy;
mod compile;
mod compress;
mod content_type;
mod dictionary;
mod headers;
mod links;
mod permalinks;
mod preload;
mod redirects;
mod site_url;
mod skew;
mod table;
mod versions;
mod walk;

use std::path::PathBuf;

pub use artifacts::read_figures;
pub use compile::CompiledFile;
pub use links::BrokenLink;
pub use redirects::Rule;
pub use site_table::SiteFigures;

/// Safe for any static site: forbids framing by other origins, plugins, and `<base>` hijacking.
/// Set `HELLO_WORLD_CSP` at build time for a stricter policy.
pub const DEFAULT_CONTENT_SECURITY_POLICY: &str =
    "frame-ancestors 'self'; object-src 'none'; base-uri 'self'";

pub struct Options {
    pub site_dir: PathBuf,
    /// True when `site_dir` is a versioned tree, as mike deploys one (see `versions.rs`).
    pub versioned: bool,
    pub out_dir: PathBuf,
    /// When set, every file's Last-Modified is this time (reproducible builds).
    pub source_date_epoch: Option<u64>,
    pub content_security_policy: String,
    /// When false, broken links are reported as warnings instead of failing the build.
    pub fail_on_broken_links: bool,
    /// The previous release's built site (a folder or its `.tar.gz`): its page URLs must still
    /// be served or redirected.
    pub previous_site: Option<PathBuf>,
    /// When false, dead permalinks are reported as warnings instead of failing the build.
    pub fail_on_dead_permalinks: bool,
    /// The most raw bytes of the previous release's assets this build may carry (see
    /// `skew.rs`); `None` for the default.
    pub previous_assets_budget: Option<usize>,
}

/// What was compiled: the build's report, and what the tests inspect.
#[derive(Debug, Default)]
pub struct Summary {
    /// Every file of the table, sorted by path.
    pub files: Vec<CompiledFile>,
    /// The sizes, as written to `OUT_DIR` for the component's size report.
    pub figures: SiteFigures,
    pub skipped_hidden: Vec<String>,
    pub broken_links: Vec<BrokenLink>,
    /// The rules of `_redirects`, then the mkdocs-redirects pages, in the order they match.
    pub redirects: Vec<Rule>,
    /// Page URLs of the previous release that this site neither serves nor redirects (when
    /// they do not fail the build).
    pub dead_permalinks: Vec<String>,
    /// The previous release's fingerprinted files embedded for version skew.
    pub carried_files: Vec<String>,
}

/// Compiles the site into `OUT_DIR`, stage by stage. Every error names what to fix.
pub fn compile(options: &Options) -> Result<Summary, String> {
    check_header_value("HELLO_WORLD_CSP", &options.content_security_policy)?;

    // Read: the site, and the previous release's.
    let mut site = walk::walk(&options.site_dir)?;
    if site.files.is_empty() {
        return Err(format!(
            "{} has no files to serve; build the site into it first",
            options.site_dir.display()
        ));
    }
    // A versioned tree: its versions, each a site under its folder; mike's stand-ins leave.
    let tree = match options.versioned {
        true => Some(versions::read(&mut site.files)?),
        false => None,
    };
    let sites: Vec<String> = match &tree {
        Some(tree) => tree
            .versions
            .iter()
            .map(|v| format!("{}/", v.name))
            .collect(),
        None => vec![String::new()],
    };
    let previous = match &options.previous_site {
        Some(path) => walk::previous_site(path)?,
        None => Vec::new(),
    };

    // Check the links while the redirect stubs are still pages they may point at.
    let broken_links = links::check(&site.files, &options.site_dir, options.fail_on_broken_links)?;

    // Rules: `_redirects` and the mkdocs-redirects stubs, then `_headers`; both files leave.
    // A tree's aliases and its root redirect to their versions.
    let mut redirects = redirects::compile(&mut site.files, &sites)?;
    redirects.extend(tree.iter().flat_map(versions::redirects));
    let header_rules = headers::compile(&mut site.files, &sites)?;

    // Checks against the previous release: its pages live on, its assets are carried.
    let manifest = permalinks::Manifest::of(&site.files);
    let dead_permalinks = permalinks::check(
        &previous,
        &manifest,
        &redirects,
        options.fail_on_dead_permalinks,
    )?;
    let budget = options
        .previous_assets_budget
        .unwrap_or(skew::DEFAULT_BUDGET);
    let previous_versions = dictionary::previous_versions(&previous, &site.files)?;
    let carried = skew::carry(previous, &site.files, budget)?;
    let carried_files: Vec<String> = carried.iter().map(|f| f.key.clone()).collect();
    let carried_bytes = carried.iter().map(|f| f.bytes.len()).sum();
    site.files.extend(carried);

    // The compression dictionary of the site's pages, served as a file of its own.
    let dictionary = dictionary::Dictionary::of(&site.files)?;
    if let Some(dictionary) = &dictionary {
        if site.files.iter().any(|f| f.key == dictionary.key) {
            return Err(format!(
                "{}: the site has a file where the build serves its compression dictionary; \
                 rename or remove it",
                dictionary.key
            ));
        }
        site.files.push(walk::SiteFile {
            key: dictionary.key.clone(),
            bytes: dictionary.bytes.clone(),
            modified: site.files.iter().map(|f| f.modified).max().unwrap_or(0),
        });
    }
    site.files.sort_by(|a, b| a.key.cmp(&b.key));

    // Compile: every file's per-file work.
    let dictionaries = compile::Dictionaries {
        pages: dictionary.as_ref(),
        previous_versions: &previous_versions,
    };
    let files = compile::files(
        site.files,
        &header_rules,
        &dictionaries,
        options.source_date_epoch,
    )?;

    // Emit: the table (with its figures) and its blob, the manifest, the figures.
    let dictionary_bytes = dictionary.as_ref().map_or(0, |d| d.bytes.len());
    let mut figures = artifacts::figures_of(
        &files,
        &redirects,
        dictionary_bytes,
        &previous_versions,
        carried_files.len(),
        carried_bytes,
    );
    table::write(
        &files,
        &sites,
        &redirects,
        &mut figures,
        &options.out_dir,
        &options.content_security_policy,
    )?;
    artifacts::write_if_changed(
        &options.out_dir.join(artifacts::MANIFEST),
        manifest.to_json().as_bytes(),
    )?;
    artifacts::write_figures(&figures, &options.out_dir)?;

    Ok(Summary {
        files,
        figures,
        skipped_hidden: site.skipped_hidden,
        broken_links,
        redirects,
        dead_permalinks,
        carried_files,
    })
}

/// A configured header value must be sendable as is: visible ASCII, spaces and tabs inside.
fn check_header_value(setting: &str, value: &str) -> Result<(), String> {
    if !value.is_empty() && http_text::field_value::is_valid(value.as_bytes()) {
        Ok(())
    } else {
        Err(format!(
            "{setting}={value:?} is not a valid HTTP header value: use visible ASCII characters, \
             with spaces only between them"
        ))
    }
}
