//! `project-version COMMAND`, run with `cargo run -q -p project-version -- COMMAND`. The version
//! lives in the root Cargo.toml (`[workspace.package] version`); everything else follows it:
//!
//! - `get`: print the version;
//! - `plan [FIELD]`: print, as JSON, the name of every release artifact: assets, image and Spin
//!   artifact tags, the chart repository (registries from `IMAGE_REGISTRY` / `CHART_REGISTRY`);
//!   with a field, only its value for the shell: a string as is, a list's or an object's values
//!   one per line;
//! - `sync`: write the version into Cargo.lock, Chart.yaml (version, appVersion), spin.toml and
//!   the deployment harness (deployment/test/inputs.toml);
//! - `bump`: raise the patch version in Cargo.toml (0.1.0 → 0.1.1), sync, print the new one.
//!
//! It works on the git repository of the current directory, so the release tests can run it on
//! a scratch repository.

mod files;
mod plan;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: project-version get | plan [FIELD] | sync | bump";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let known = matches!(args[..], ["get" | "sync" | "bump"] | ["plan"] | ["plan", _]);
    if !known {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let result = repository().and_then(|root| match args[..] {
        ["get"] => files::version(&root).map(|v| println!("{v}")),
        ["plan", ref field @ ..] => files::version(&root).and_then(|v| {
            let env = |name: &str| std::env::var(name).ok();
            let plan = plan::plan(&v, env("IMAGE_REGISTRY"), env("CHART_REGISTRY"));
            let text = match field {
                [field] => plan::lines(&plan, field)?,
                _ => format!("{plan:#}"),
            };
            println!("{text}");
            Ok(())
        }),
        ["sync"] => files::version(&root).and_then(|v| files::sync(&root, &v)),
        _ => files::bump(&root).map(|v| println!("{v}")),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("project-version: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The top of the git repository the current directory is in.
fn repository() -> Result<PathBuf, String> {
    let out = Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err("run it inside the project's git repository".to_owned());
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}
