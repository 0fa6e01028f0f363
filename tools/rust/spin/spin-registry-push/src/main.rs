//! `spin-registry-push [--insecure] MANIFEST REFERENCE...`: what `spin registry push` does
//! (Spin v3.6.3's `src/commands/registry.rs`), with the same client, for the one case that
//! `mise run push` needs: the app's components composed before pushing (Spin's default), the
//! predefined annotations inferred from the manifest, credentials from the Docker config that
//! `crane auth login` or `docker login` wrote. The Spin CLI itself cannot be installed on
//! machines that reach no GitHub; its OCI crate builds from source with the shim.

use anyhow::{bail, Context, Result};
use spin_oci::{client::InferPredefinedAnnotations, Client, ComposeMode};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: spin-registry-push [--insecure] MANIFEST REFERENCE...";

#[tokio::main]
async fn main() -> ExitCode {
    // The error and its causes on one line, as `spin` prints them, without anyhow's backtrace.
    match push().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("spin-registry-push: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn push() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // Plain HTTP, for a registry on loopback (spin registry push's --insecure).
    let insecure = args.first().is_some_and(|a| a == "--insecure");
    if insecure {
        args.remove(0);
    }
    let Some((manifest, references)) = args.split_first() else {
        bail!("{USAGE}");
    };
    if references.is_empty() || manifest.starts_with('-') {
        bail!("{USAGE}");
    }
    let manifest = PathBuf::from(manifest);
    let mut client = Client::new(insecure, None).await?;
    for reference in references {
        let digest = client
            .push(
                &manifest,
                reference,
                None,
                InferPredefinedAnnotations::All,
                ComposeMode::All,
            )
            .await
            .with_context(|| format!("pushing {} to {reference}", manifest.display()))?;
        match digest {
            Some(digest) => println!("{reference}@{digest}"),
            None => bail!("the registry did not return the digest of {reference}"),
        }
    }
    Ok(())
}
