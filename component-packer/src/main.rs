//! `component-packer COMMAND`, run with `cargo run -p component-packer -- COMMAND`:
//! - `build-component`: builds the wasm component, `target/component/hello-world.wasm`, reports
//!   its size against its budget on stderr and prints its path;
//! - `cargo-wasm SUBCOMMAND ARGS…`: runs `cargo SUBCOMMAND ARGS… --target wasm32-wasip2` with the
//!   wasm toolchain this machine has (the benchmark's empty component);
//! - `wasm-toolchain`: prints that toolchain, `rustup` or `debian`; fails when there is none.

use std::process::ExitCode;

use component_packer::build_component::{build_component, Built};
use component_packer::wasm_toolchain::WasmToolchain;

const USAGE: &str =
    "usage: component-packer build-component | cargo-wasm SUBCOMMAND [ARGS…] | wasm-toolchain";

/// The component's budget beyond the site: its code and the shell's data.
const CODE_BUDGET: u64 = 512 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((command, [])) if command == "build-component" => {
            WasmToolchain::find().and_then(build_component).map(report)
        }
        Some((command, [subcommand, rest @ ..])) if command == "cargo-wasm" => {
            WasmToolchain::find().and_then(|toolchain| {
                let status = toolchain
                    .cargo(subcommand, rest)
                    .status()
                    .map_err(|e| format!("cannot run {}: {e}", toolchain.cargo_path()))?;
                match status.code() {
                    Some(0) => Ok(()),
                    _ => Err(format!("cargo {subcommand} failed ({status})")),
                }
            })
        }
        Some((command, [])) if command == "wasm-toolchain" => {
            WasmToolchain::find().map(|toolchain| println!("{}", toolchain.name()))
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("component-packer: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What the component is made of, on stderr; its path on stdout, for scripts.
fn report(built: Built) {
    let Built {
        component,
        bytes,
        figures: f,
        memory,
    } = built;
    let site = f.stored_bytes as u64;
    let budget = site + CODE_BUDGET;
    eprintln!("component: {bytes:>9} bytes  {}", component.display());
    eprintln!(
        "  site:    {site:>9} bytes  ({} files: raw {} + brotli {} + gzip {} + dcb {} + dcz {}, equal bodies stored once)",
        f.files, f.raw_bytes, f.brotli_bytes, f.gzip_bytes, f.dcb_bytes, f.dcz_bytes
    );
    if f.dictionary_bytes > 0 {
        eprintln!(
            "  of the raw bytes, {} are the pages' compression dictionary; its variants are in brotli and gzip",
            f.dictionary_bytes
        );
    }
    eprintln!(
        "  code:    {:>9} bytes  (budget: site + 512 KiB = {budget}; {})",
        bytes.saturating_sub(site),
        if bytes <= budget { "within" } else { "OVER" }
    );
    eprintln!(
        "  memory:  {:>9} bytes  at instantiation, {} of them data (the code's and the table's); no body",
        memory.initial_bytes, memory.data_bytes
    );
    if f.delta_files > 0 {
        eprintln!(
            "  {} bundles have deltas against PREVIOUS_SITE's versions: {} bytes as dcz, {} as brotli",
            f.delta_files, f.delta_bytes, f.delta_brotli_bytes
        );
    }
    if f.carried_files > 0 {
        eprintln!(
            "  of the raw bytes, {} are {} fingerprinted files of PREVIOUS_SITE, kept for version skew",
            f.carried_bytes, f.carried_files
        );
    }
    println!("{}", component.display());
}
