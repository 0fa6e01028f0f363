//! The HTTP conformance suite: every case in `cases/` runs against every target over real
//! HTTP/1.1, so a test name reads `<target>::<rule>::<case>`:
//!
//! - `native`: the runtime-shim binary of this build;
//! - `wasm`: the component named by `HELLO_WORLD_COMPONENT`, under `wasmtime serve -Scli`
//!   (`WASMTIME` names the binary; default `wasmtime`). Without the variable the wasm cases
//!   are ignored, unless `HELLO_WORLD_REQUIRE_WASM=1`, which makes that a failure
//!   (`mise run test:wasm` sets both).
//!
//! The bad-input corpus (`testkit/corpus/bad-requests.txt`) runs against
//! both targets as `<target>::bad_input::<line>`.

mod cases;
mod corpus;
mod site;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};

use cases::Target;
use site::Site;
use testkit::runtime_shim;
use testkit::servers::Server;

/// One server per target, started on first use and shared by all its cases.
struct Lazy {
    name: &'static str,
    start: fn() -> Result<Server, String>,
    server: OnceLock<Result<Server, String>>,
}

impl Lazy {
    fn get(&self) -> Result<&Server, Failed> {
        self.server
            .get_or_init(self.start)
            .as_ref()
            .map_err(|e| Failed::from(format!("{} did not start: {e}", self.name)))
    }
}

fn start_native() -> Result<Server, String> {
    Server::native(runtime_shim!(), &[], &[])
}

fn start_wasm() -> Result<Server, String> {
    let component = component().ok_or("HELLO_WORLD_COMPONENT is not set")?;
    let wasmtime = std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".to_owned());
    Server::wasm(&wasmtime, &component)
}

fn component() -> Option<PathBuf> {
    std::env::var_os("HELLO_WORLD_COMPONENT").map(PathBuf::from)
}

fn main() {
    let args = Arguments::from_args();
    let site = Arc::new(Site::from_env());
    let require_wasm = std::env::var("HELLO_WORLD_REQUIRE_WASM").is_ok_and(|v| v == "1");
    let wasm_available = component().is_some();
    if !wasm_available && !require_wasm {
        eprintln!("note: wasm cases are ignored: set HELLO_WORLD_COMPONENT to a built component (`mise run test:wasm` does)");
    }
    let targets: [(&'static Lazy, bool); 2] = [
        (
            Box::leak(Box::new(Lazy {
                name: "native",
                start: start_native,
                server: OnceLock::new(),
            })),
            true,
        ),
        (
            Box::leak(Box::new(Lazy {
                name: "wasm",
                start: start_wasm,
                server: OnceLock::new(),
            })),
            wasm_available || require_wasm,
        ),
    ];
    let corpus = corpus::load();

    let mut trials = Vec::new();
    for (lazy, runnable) in targets {
        for &(rule, cases) in cases::RULES {
            for &(name, case) in cases {
                let site = Arc::clone(&site);
                trials.push(
                    Trial::test(format!("{}::{rule}::{name}", lazy.name), move || {
                        let server = lazy.get()?;
                        case(&Target {
                            addr: server.addr,
                            site: &site,
                        })
                        .map_err(Failed::from)
                    })
                    .with_ignored_flag(!runnable),
                );
            }
        }
        for vector in &corpus {
            let vector = vector.clone();
            let site = Arc::clone(&site);
            trials.push(
                Trial::test(
                    format!("{}::bad_input::line_{:03}", lazy.name, vector.line),
                    move || {
                        let server = lazy.get()?;
                        corpus::check(
                            &Target {
                                addr: server.addr,
                                site: &site,
                            },
                            &vector,
                        )
                        .map_err(Failed::from)
                    },
                )
                .with_ignored_flag(!runnable),
            );
        }
    }

    let conclusion = libtest_mimic::run(&args, trials);
    for (lazy, _) in targets {
        if let Some(Ok(server)) = lazy.server.get() {
            server.stop();
        }
    }
    conclusion.exit();
}
