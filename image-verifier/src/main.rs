//! An image verifier for containerd's bindir plugin (`io.containerd.image-verifier.v1.bindir`):
//! containerd runs every program in its `bin_dir` before a pull completes, as
//! `<program> -name <reference> -digest <digest> -stdin-media-type <type>`, with the image's
//! descriptor on stdin. Exit 0 admits the image; any other exit refuses the pull, and what the
//! program printed is the reason the kubelet's event shows.
//!
//! The policy (`policy.rs`) is read from $IMAGE_VERIFIER_POLICY, else
//! /etc/containerd/image-verifier.policy. An image of a repository a rule covers is admitted
//! only if `cosign verify` accepts its signature with the rule's public key (cosign from
//! $IMAGE_VERIFIER_COSIGN, else from PATH); every other image is admitted, and says why.

mod policy;

use std::process::{Command, ExitCode};

const DEFAULT_POLICY: &str = "/etc/containerd/image-verifier.policy";

fn main() -> ExitCode {
    let (verdict, admitted) = match verify(std::env::args().skip(1).collect()) {
        Ok(reason) => (reason, true),
        Err(reason) => (reason, false),
    };
    // containerd reads a bounded amount of stdout; the verdict is one line.
    println!("{verdict}");
    if admitted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn verify(args: Vec<String>) -> Result<String, String> {
    let name = flag(&args, "-name")?;
    let digest = flag(&args, "-digest")?;
    let path =
        std::env::var("IMAGE_VERIFIER_POLICY").unwrap_or_else(|_| DEFAULT_POLICY.to_string());
    let text = std::fs::read_to_string(&path).map_err(|error| format!("policy {path}: {error}"))?;
    let rules = policy::parse(&text).map_err(|error| format!("policy {path}: {error}"))?;
    let Some(rule) = policy::rule_for(&rules, name) else {
        return Ok(format!("{name}: no rule of {path} covers its repository"));
    };
    let pinned = format!("{}@{digest}", policy::repository_of(name));
    let cosign = std::env::var("IMAGE_VERIFIER_COSIGN").unwrap_or_else(|_| "cosign".to_string());
    let mut command = Command::new(&cosign);
    command.args([
        "verify",
        "--key",
        &rule.key,
        "--insecure-ignore-tlog",
        "--output",
        "text",
    ]);
    if rule.plain_http {
        command.arg("--allow-http-registry");
    }
    let output = command
        .arg(&pinned)
        .output()
        .map_err(|error| format!("{pinned}: cannot run {cosign}: {error}"))?;
    if output.status.success() {
        Ok(format!("{pinned}: signature verified with {}", rule.key))
    } else {
        let said = String::from_utf8_lossy(&output.stderr);
        let last = said
            .lines()
            .rfind(|line| !line.trim().is_empty())
            .unwrap_or("no output");
        Err(format!("{pinned}: not signed by {}: {last}", rule.key))
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Result<&'a str, String> {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|at| args.get(at + 1))
        .map(String::as_str)
        .ok_or_else(|| format!("containerd gave no {name} argument"))
}
