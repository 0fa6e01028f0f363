//! The HTTP conformance suite: every case in `cases/` runs against every target over real
//! HTTP/1.1, so a test name reads `<target>::<rule>::<case>`:
//!
//! - `native`: runtime-shim's server (its library's `server::serve`, with the binary's default
//!   settings) on a loopback port of this process; the binary's own start, flags and signals
//!   are runtime-shim's tests (`runtime-shim/tests/`);
//! - `wasm`: the component named by `HELLO_WORLD_COMPONENT`, under `wasmtime serve -Scli`
//!   (`WASMTIME` names the binary; default `wasmtime`). Without the variable the wasm cases
//!   are ignored, unless `HELLO_WORLD_REQUIRE_WASM=1`, which makes that a failure
//!   (`mise run test:wasm` sets both).
//!
//! - `ingress`: a proxy already running at `HELLO_WORLD_INGRESS` (host:port), reached with
//!   `Host: $HELLO_WORLD_HOST`, over HTTPS when `HELLO_WORLD_INGRESS_CA` names the CA to trust
//!   (`tls.rs`): the e2e test runs the rule cases through the cluster's ingress controller, by
//!   the chart's Ingress and by its HTTPRoute, to a pod. Without the variable these cases are
//!   ignored.
//!
//! The suite checks the build it is compiled with. Built with one site (`SITE_DIR`, or the docs),
//! every rule but `versions` applies. Built with a versioned tree (`SITE_VERSIONS_DIR`), the
//! `versions` cases apply, and the corpus runs under the default version's folder; the other
//! rules, written for one site at the root, are left out of the run.
//!
//! The bad-input corpus (`testkit/corpus/bad-requests.txt`) runs against the native and wasm
//! targets as `<target>::bad_input::<line>`. Not through the ingress: a proxy answers hostile
//! requests itself, by its own limits, before the server sees them.

mod cases;
mod corpus;
mod site;
mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};

use cases::Target;
use site::Site;
use testkit::servers::Server;
use tls::Tls;

/// What a target's cases talk to: a server this harness started, or one already running.
enum Endpoint {
    Started(Server),
    Running(SocketAddr, Option<Tls>),
}

impl Endpoint {
    fn addr(&self) -> SocketAddr {
        match self {
            Endpoint::Started(server) => server.addr,
            Endpoint::Running(addr, _) => *addr,
        }
    }

    fn tls(&self) -> Option<&Tls> {
        match self {
            Endpoint::Started(_) => None,
            Endpoint::Running(_, tls) => tls.as_ref(),
        }
    }
}

/// One endpoint per target, reached on first use and shared by all its cases.
struct Lazy {
    name: &'static str,
    start: fn() -> Result<Endpoint, String>,
    endpoint: OnceLock<Result<Endpoint, String>>,
}

impl Lazy {
    fn endpoint(&self) -> Result<&Endpoint, Failed> {
        self.endpoint
            .get_or_init(self.start)
            .as_ref()
            .map_err(|e| Failed::from(format!("{} did not start: {e}", self.name)))
    }
}

/// runtime-shim's server with the binary's defaults, except that it logs only warnings: the
/// access log of hundreds of cases would bury the suite's report.
fn start_native() -> Result<Endpoint, String> {
    let args = ["--listen", "127.0.0.1:0", "--log-level", "warn"].map(str::to_owned);
    let config = match runtime_shim::config::parse(args, |_| None)? {
        runtime_shim::config::Command::Serve(config) => config,
        other => return Err(format!("runtime-shim's settings gave {other:?}")),
    };
    runtime_shim::log::set_level(config.log_level);
    let listener = std::net::TcpListener::bind(config.listen)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    // The server runs until the suite's process ends, as the binary runs until its signal.
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            runtime_shim::server::serve(listener, config, std::future::pending()).await
        })
    });
    Ok(Endpoint::Running(addr, None))
}

fn start_wasm() -> Result<Endpoint, String> {
    let component = component().ok_or("HELLO_WORLD_COMPONENT is not set")?;
    let wasmtime = std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".to_owned());
    Server::wasm(&wasmtime, &component).map(Endpoint::Started)
}

fn ingress() -> Option<Result<SocketAddr, String>> {
    let value = std::env::var("HELLO_WORLD_INGRESS").ok()?;
    Some(value.parse().map_err(|_| {
        format!("HELLO_WORLD_INGRESS={value:?} is not an address like 127.0.0.1:8080")
    }))
}

fn reach_ingress() -> Result<Endpoint, String> {
    let addr = ingress().ok_or_else(|| "HELLO_WORLD_INGRESS is not set".to_owned())??;
    let tls = std::env::var_os("HELLO_WORLD_INGRESS_CA")
        .map(|ca| Tls::trusting(Path::new(&ca)))
        .transpose()?;
    Ok(Endpoint::Running(addr, tls))
}

fn component() -> Option<PathBuf> {
    std::env::var_os("HELLO_WORLD_COMPONENT").map(PathBuf::from)
}

/// Runs the suite with libtest's command line (`cargo test -p conformance -- native::range::`).
pub fn run() -> ! {
    let args = Arguments::from_args();
    let site = Arc::new(Site::from_env());
    let require_wasm = std::env::var("HELLO_WORLD_REQUIRE_WASM").is_ok_and(|v| v == "1");
    let wasm_available = component().is_some();
    if !wasm_available && !require_wasm {
        eprintln!("note: wasm cases are ignored: set HELLO_WORLD_COMPONENT to a built component (`mise run test:wasm` does)");
    }
    let targets: [(&'static Lazy, bool, bool); 3] = [
        (
            Box::leak(Box::new(Lazy {
                name: "native",
                start: start_native,
                endpoint: OnceLock::new(),
            })),
            true,
            true,
        ),
        (
            Box::leak(Box::new(Lazy {
                name: "wasm",
                start: start_wasm,
                endpoint: OnceLock::new(),
            })),
            wasm_available || require_wasm,
            true,
        ),
        (
            Box::leak(Box::new(Lazy {
                name: "ingress",
                start: reach_ingress,
                endpoint: OnceLock::new(),
            })),
            ingress().is_some(),
            false,
        ),
    ];
    if site.versioned {
        eprintln!("note: a versioned tree (SITE_VERSIONS_DIR): only the versions cases and the corpus apply; the other rules are left out");
    } else {
        eprintln!("note: the versions cases are left out: they check a build of a versioned tree (`mise run test:rust` builds one)");
    }
    let corpus = corpus::load();

    let mut trials = Vec::new();
    for (lazy, runnable, with_corpus) in targets {
        for &(rule, cases) in cases::RULES {
            // The `versions` cases check a versioned tree; the others, one site at the root.
            // A rule that does not apply to this build is left out, not ignored: an ignored
            // case is a target that is not there.
            if (rule == "versions") != site.versioned {
                continue;
            }
            for &(name, case) in cases {
                let site = Arc::clone(&site);
                trials.push(
                    Trial::test(format!("{}::{rule}::{name}", lazy.name), move || {
                        let endpoint = lazy.endpoint()?;
                        case(&Target {
                            addr: endpoint.addr(),
                            tls: endpoint.tls(),
                            site: &site,
                            through_proxy: lazy.name == "ingress",
                        })
                        .map_err(Failed::from)
                    })
                    .with_ignored_flag(!runnable),
                );
            }
        }
        for vector in corpus.iter().filter(|_| with_corpus) {
            let vector = vector.clone();
            let site = Arc::clone(&site);
            trials.push(
                Trial::test(
                    format!("{}::bad_input::line_{:03}", lazy.name, vector.line),
                    move || {
                        let endpoint = lazy.endpoint()?;
                        corpus::check(
                            &Target {
                                addr: endpoint.addr(),
                                tls: endpoint.tls(),
                                site: &site,
                                through_proxy: false,
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
    for (lazy, _, _) in targets {
        if let Some(Ok(Endpoint::Started(server))) = lazy.endpoint.get() {
            server.stop();
        }
    }
    conclusion.exit()
}
