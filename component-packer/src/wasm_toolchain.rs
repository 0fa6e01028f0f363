//! Which cargo builds for `wasm32-wasip2` on this machine. Where rustup has the target (a
//! developer's machine) that is all it takes. Where rustup cannot download it (the offline
//! machines), Debian's `rustc-web` builds std from its sources (`rust-web-src`) with
//! `-Zbuild-std`, links with `lld` and takes its C runtime from Debian's `wasi-libc`;
//! `scripts/lib.sh` (`ensure_wasm_toolchain`) installs those packages where neither is found.

use std::path::Path;
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
/// Debian's rustc-web and cargo-web, and where `ensure_wasm_toolchain` links wasi-libc's
/// objects for the target's self-contained linking.
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_SELF_CONTAINED: &str = "/usr/lib/rustlib/wasm32-wasip2/lib/self-contained";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmToolchain {
    Rustup,
    Debian,
}

impl WasmToolchain {
    /// The toolchain that builds here, rustup's first; `WASM_TOOLCHAIN=debian` skips rustup
    /// (to test the offline path on a machine where rustup works).
    pub fn find() -> Result<WasmToolchain, String> {
        let debian_only = std::env::var("WASM_TOOLCHAIN").as_deref() == Ok("debian");
        if !debian_only && rustup_has_target() {
            return Ok(WasmToolchain::Rustup);
        }
        if Path::new(DEBIAN_CARGO).is_file() && Path::new(DEBIAN_SELF_CONTAINED).is_dir() {
            return Ok(WasmToolchain::Debian);
        }
        Err(format!(
            "no toolchain here builds for {TARGET}: `rustup target add {TARGET}`, or run \
             `bin/mise run build-component`, which installs Debian's rustc-web where rustup \
             cannot add the target"
        ))
    }

    pub fn name(self) -> &'static str {
        match self {
            WasmToolchain::Rustup => "rustup",
            WasmToolchain::Debian => "debian",
        }
    }

    /// The cargo binary, for `cargo metadata`.
    pub fn cargo_path(self) -> &'static str {
        match self {
            WasmToolchain::Rustup => "cargo",
            WasmToolchain::Debian => DEBIAN_CARGO,
        }
    }

    /// `cargo SUBCOMMAND ARGS… --target wasm32-wasip2` with this toolchain.
    pub fn cargo(self, subcommand: &str, args: &[String]) -> Command {
        let mut command = Command::new(self.cargo_path());
        command.arg(subcommand).args(args);
        if self == WasmToolchain::Debian {
            command
                .env("RUSTC", DEBIAN_RUSTC)
                .env("RUSTC_BOOTSTRAP", "1")
                .arg("-Zbuild-std=std,panic_abort");
        }
        command.args(["--target", TARGET]);
        command
    }
}

fn rustup_has_target() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|out| {
            out.status.success()
                && String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .any(|l| l == TARGET)
        })
}
