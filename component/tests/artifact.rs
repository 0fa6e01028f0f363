//! The built wasm component (named by `HELLO_WORLD_COMPONENT`, as `mise run test:wasm` sets it):
//! what it imports and exports, and its size budget. Without the variable these tests are
//! skipped, unless `HELLO_WORLD_REQUIRE_WASM=1` (set in CI) makes that a failure.

use std::path::PathBuf;

use wasmparser::{Parser, Payload};

/// Interfaces a wasi:http component may import: the wasi:http 0.2 proxy world's types, and the
/// wasi:cli / clocks / random / io / filesystem interfaces that Rust's std brings. Anything else
/// (Spin host APIs such as `fermyon:spin/*`, outgoing HTTP, sockets) would tie the component to
/// one host or let it reach the network.
const ALLOWED_IMPORTS: &[&str] = &[
    "wasi:http/types@0.2.",
    "wasi:io/",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
];

const REQUIRED_EXPORT: &str = "wasi:http/incoming-handler@0.2.";

fn component() -> Option<Vec<u8>> {
    let Some(path) = std::env::var_os("HELLO_WORLD_COMPONENT").map(PathBuf::from) else {
        assert!(
            std::env::var("HELLO_WORLD_REQUIRE_WASM").as_deref() != Ok("1"),
            "HELLO_WORLD_REQUIRE_WASM=1 but HELLO_WORLD_COMPONENT is not set"
        );
        eprintln!(
            "skipped: set HELLO_WORLD_COMPONENT to a built component (`mise run test:wasm` does)"
        );
        return None;
    };
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Component-level import and export names.
fn interface(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("a valid component") {
            Payload::Version { encoding, .. } if depth == 0 => {
                assert_eq!(encoding, wasmparser::Encoding::Component, "not a component");
            }
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    imports.push(import.unwrap().name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    exports.push(export.unwrap().name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

#[test]
fn imports_stay_inside_the_wasi_http_proxy_world() {
    let Some(bytes) = component() else { return };
    let (imports, _) = interface(&bytes);
    assert!(
        !imports.is_empty(),
        "no imports found: not a wasi:http component?"
    );
    let foreign: Vec<&String> = imports
        .iter()
        .filter(|name| {
            !ALLOWED_IMPORTS
                .iter()
                .any(|allowed| name.starts_with(allowed))
        })
        .collect();
    assert!(
        foreign.is_empty(),
        "imports outside the allow-list: {foreign:?}\nall: {imports:?}"
    );
}

#[test]
fn exports_the_wasi_http_incoming_handler() {
    let Some(bytes) = component() else { return };
    let (_, exports) = interface(&bytes);
    assert!(
        exports.iter().any(|e| e.starts_with(REQUIRED_EXPORT)),
        "exports: {exports:?}"
    );
}

#[test]
fn size_stays_within_site_bytes_plus_512_kib() {
    let Some(bytes) = component() else { return };
    let figures = hello_world::site::figures();
    let site = figures.stored_bytes;
    let budget = site + 512 * 1024;
    assert!(
        bytes.len() <= budget,
        "component {} bytes > site {site} + 512 KiB; code is {} bytes",
        bytes.len(),
        bytes.len() - site
    );
}

/// The main core module's memory and data segments (the one that defines a memory; the
/// adapter and shim modules wit-component adds define none).
struct CoreMemory {
    initial_bytes: u64,
    active_bytes: usize,
    passive: Vec<usize>,
}

fn core_memory(bytes: &[u8]) -> CoreMemory {
    let mut found = None;
    let mut current: Option<CoreMemory> = None;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("a valid component") {
            Payload::MemorySection(reader) => {
                let memory = reader.into_iter().next().unwrap().unwrap();
                current = Some(CoreMemory {
                    initial_bytes: memory.initial * 65536,
                    active_bytes: 0,
                    passive: Vec::new(),
                });
            }
            Payload::DataSection(reader) => {
                let memory = current.as_mut().expect("data without a memory");
                for data in reader {
                    let data = data.unwrap();
                    match data.kind {
                        wasmparser::DataKind::Active { .. } => {
                            memory.active_bytes += data.data.len()
                        }
                        wasmparser::DataKind::Passive => memory.passive.push(data.data.len()),
                    }
                }
            }
            Payload::End(_) => found = found.or(current.take()),
            _ => {}
        }
    }
    found.expect("no core module with a memory")
}

/// Spin and SpinKube reset the first 2 MiB of an instance's linear memory in place after every
/// request (`linear_memory_keep_resident`); with the site in memory that cost half of Spin's
/// throughput (issue 14). The memory holds a 128 KiB stack and the code's own data.
#[test]
fn linear_memory_starts_small_whatever_the_site() {
    let Some(bytes) = component() else { return };
    let memory = core_memory(&bytes);
    assert!(
        memory.initial_bytes <= 256 * 1024,
        "linear memory starts at {} bytes: over 256 KiB, so every request on Spin resets more \
         (is the stack over 128 KiB, or site data back in memory?)",
        memory.initial_bytes
    );
    assert!(
        memory.active_bytes < 64 * 1024,
        "{} bytes of data are copied into linear memory at instantiation",
        memory.active_bytes
    );
}

#[test]
fn the_site_is_one_passive_segment_of_exactly_its_bytes() {
    let Some(bytes) = component() else { return };
    let figures = hello_world::site::figures();
    assert_eq!(core_memory(&bytes).passive, [figures.stored_bytes]);
}
