//! The site compiler: turns a built static site into the Rust source of a static table, doing
//! every per-file job once, at build time: content type, strong ETags, brotli and gzip variants,
//! cache policy, and a check that no internal link is broken. `build.rs` of the hello-world
//! crate calls [`compile`]; the request path then only looks things up.

pub mod artifacts;
mod cache_policy;
mod compress;
mod content_type;
mod headers;
mod links;
mod permalinks;
mod preload;
mod redirects;
mod site_url;
mod skew;
mod table;
mod walk;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use artifacts::SiteFigures;
pub use links::BrokenLink;
pub use redirects::Rule;

/// Safe for any static site: forbids framing by other origins, plugins, and `<base>` hijacking.
/// Set `HELLO_WORLD_CSP` at build time for a stricter policy.
pub const DEFAULT_CONTENT_SECURITY_POLICY: &str =
    "frame-ancestors 'self'; object-src 'none'; base-uri 'self'";

pub struct Options {
    pub site_dir: PathBuf,
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
    pub files: Vec<FileSummary>,
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

/// One file as the table describes it.
#[derive(Debug)]
pub struct FileSummary {
    pub path: String,
    pub content_type: String,
    pub cache_control: &'static str,
    pub last_modified: u64,
    /// Identity first, then brotli and gzip where kept.
    pub etags: Vec<String>,
    pub brotli_bytes: Option<usize>,
    pub gzip_bytes: Option<usize>,
    /// What `_headers` sets for the file's URL.
    pub headers: Vec<(String, String)>,
    /// A page's preload hints, the value of its `Link` header.
    pub preload: Option<String>,
}

/// Compiles the site and writes `out_dir/site.rs`. Every error names what to fix.
pub fn compile(options: &Options) -> Result<Summary, String> {
    check_header_value("HELLO_WORLD_CSP", &options.content_security_policy)?;
    let mut walk = walk::walk(&options.site_dir)?;
    if walk.files.is_empty() {
        return Err(format!(
            "{} has no files to serve; build the site into it first",
            options.site_dir.display()
        ));
    }
    let broken_links = links::broken_links(&walk.files);
    if options.fail_on_broken_links && !broken_links.is_empty() {
        let list: Vec<String> = broken_links.iter().map(|b| format!("  {b}")).collect();
        return Err(format!(
            "{} broken internal link(s) in {}:\n{}\nFix the links in the site's sources, or set \
             SITE_LINK_CHECK=warn to build anyway.",
            broken_links.len(),
            options.site_dir.display(),
            list.join("\n")
        ));
    }
    let redirects = redirects::compile(&mut walk.files)?;
    let manifest = permalinks::Manifest::of(&walk.files);
    artifacts::write_if_changed(
        &options.out_dir.join(artifacts::MANIFEST),
        manifest.to_json().as_bytes(),
    )?;
    let previous = match &options.previous_site {
        Some(site) => permalinks::previous_files(site)?,
        None => Vec::new(),
    };
    let dead_permalinks = match &options.previous_site {
        Some(_) => permalinks::dead(&permalinks::Manifest::of(&previous), &manifest, &redirects),
        None => Vec::new(),
    };
    if options.fail_on_dead_permalinks && !dead_permalinks.is_empty() {
        return Err(format!(
            "{} page(s) of the previous release would be gone, with no redirect:\n  {}\nKeep \
             the pages, or redirect them: a line `/old/ /new/` in docs/_redirects, or the \
             mkdocs-redirects plugin's redirect_maps. SITE_PERMALINK_CHECK=warn builds anyway.",
            dead_permalinks.len(),
            dead_permalinks.join("\n  ")
        ));
    }
    let header_rules = headers::compile(&mut walk.files)?;
    // Added after the link check and the manifest: they are the previous release's files.
    let budget = options
        .previous_assets_budget
        .unwrap_or(skew::DEFAULT_BUDGET);
    let carried = skew::carry(previous, &walk.files, budget)?;
    let carried_files: Vec<String> = carried.iter().map(|f| f.key.clone()).collect();
    let carried_bytes = carried.iter().map(|f| f.bytes.len()).sum();
    walk.files.extend(carried);
    walk.files.sort_by(|a, b| a.key.cmp(&b.key));
    let mut compiled = compile_files(walk.files, options.source_date_epoch);
    let keys: HashSet<String> = compiled.iter().map(|c| c.file.key.clone()).collect();
    let keys: HashSet<&str> = keys.iter().map(String::as_str).collect();
    for file in &mut compiled {
        // A folder's page is asked for by the folder's URL, its one URL.
        let key = &file.file.key;
        let url = format!("/{}", http_text::path::page_path(key));
        file.headers = headers::for_url(&header_rules, &url)?;
        if file.content_type.starts_with("text/html") {
            let html = String::from_utf8_lossy(&file.file.bytes);
            file.preload = preload::link_value(&keys, key, &html);
        }
    }
    let code = table::generate(
        &compiled,
        &redirects,
        &options.out_dir,
        &options.content_security_policy,
    )?;
    artifacts::write_if_changed(&options.out_dir.join(artifacts::TABLE), code.as_bytes())?;
    let variant_bytes = |pick: fn(&compress::Variants) -> &Option<Vec<u8>>| {
        compiled
            .iter()
            .filter_map(|c| pick(&c.variants).as_ref())
            .map(Vec::len)
            .sum()
    };
    let figures = SiteFigures {
        files: compiled.len(),
        raw_bytes: compiled.iter().map(|c| c.file.bytes.len()).sum::<usize>()
            + redirects
                .iter()
                .filter_map(|r| r.page.as_ref())
                .map(Vec::len)
                .sum::<usize>(),
        brotli_bytes: variant_bytes(|v| &v.brotli),
        gzip_bytes: variant_bytes(|v| &v.gzip),
        carried_files: carried_files.len(),
        carried_bytes,
    };
    figures.write(&options.out_dir)?;
    Ok(Summary {
        files: compiled.iter().map(file_summary).collect(),
        figures,
        skipped_hidden: walk.skipped_hidden,
        broken_links,
        redirects,
        dead_permalinks,
        carried_files,
    })
}

fn file_summary(compiled: &table::CompiledFile) -> FileSummary {
    let variants = [&compiled.variants.brotli, &compiled.variants.gzip];
    FileSummary {
        path: compiled.file.key.clone(),
        content_type: compiled.content_type.clone(),
        cache_control: compiled.cache_control,
        last_modified: compiled.last_modified,
        etags: std::iter::once(&compiled.file.bytes)
            .chain(variants.into_iter().flatten())
            .map(|bytes| table::etag(bytes))
            .collect(),
        brotli_bytes: compiled.variants.brotli.as_ref().map(Vec::len),
        gzip_bytes: compiled.variants.gzip.as_ref().map(Vec::len),
        headers: compiled.headers.clone(),
        preload: compiled.preload.clone(),
    }
}

/// Compresses on every core: brotli at quality 11 is the slow part of the whole build. Files
/// differ in size a thousandfold, so workers take the next file from a shared counter.
fn compile_files(
    files: Vec<walk::SiteFile>,
    source_date_epoch: Option<u64>,
) -> Vec<table::CompiledFile> {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut done: Vec<(usize, (String, compress::Variants))> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(i) else { break mine };
                        mine.push((i, type_and_variants(file)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    files
        .into_iter()
        .zip(done)
        .map(
            |(file, (_, (content_type, variants)))| table::CompiledFile {
                content_type,
                cache_control: cache_policy::cache_control(&file.key),
                last_modified: source_date_epoch.unwrap_or(file.modified),
                variants,
                headers: Vec::new(),
                preload: None,
                file,
            },
        )
        .collect()
}

fn type_and_variants(file: &walk::SiteFile) -> (String, compress::Variants) {
    let content_type = content_type::content_type(&file.key, &file.bytes);
    let variants = if content_type::is_compressible(&content_type) && !file.bytes.is_empty() {
        compress::variants(&file.bytes)
    } else {
        compress::Variants {
            brotli: None,
            gzip: None,
        }
    };
    (content_type, variants)
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
