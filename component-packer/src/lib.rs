//! The wasm component's last build step.
//!
//! The component crate (`component/`) links to a core module whose linear memory holds the code's
//! own data but not the site: the site's bodies are one blob (`bodies.bin`, written by the site
//! compiler) and the module reads them through one import, the site compiler's
//! [`BODIES_IMPORT`](site_compiler::artifacts::BODIES_IMPORT). [`pack`] puts the
//! blob into a passive data segment, turns that import into `memory.init` from it
//! ([`site_segment`]), and makes the module a component with `wit-component`, as
//! `wasm-component-ld` would have.
//!
//! Why: a wasi:http host gives every request a fresh instance and resets its linear memory
//! afterwards. Spin resets the first 2 MiB in place (`linear_memory_keep_resident`), which with
//! the site in memory meant rewriting 2 MiB per request and half of Spin's throughput. A passive
//! segment is part of the module, not of any instance's memory: the memory stays a few pages,
//! and a response copies in only the bytes it sends.

pub mod build_component;
pub mod site_segment;
pub mod wasm_toolchain;

/// The component for `core_module`, with `bodies` in a passive data segment behind the
/// bodies import.
pub fn pack(core_module: &[u8], bodies: &[u8]) -> Result<Vec<u8>, String> {
    let module = site_segment::move_in(core_module, bodies)?;
    componentize(&module)
}

/// `wit-component` with `wasm-component-ld`'s settings: validated, imports of one interface in
/// several 0.2.x versions merged into one (Rust's std and the wasi crate each name theirs), and
/// WASI preview 1 calls adapted to 0.2 by the reactor adapter. Rustup's wasm32-wasip2 std calls
/// 0.2 itself and leaves the adapter unused; std on Debian's wasi-libc (2022) speaks preview 1
/// only (`environ_get` at start), and without the adapter its module cannot become a component.
fn componentize(module: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = wit_component::ComponentEncoder::default();
    encoder
        .validate(true)
        .merge_imports_based_on_semver(true)
        .module(module)
        .map_err(|e| format!("cannot read the core module's component types: {e:#}"))?
        .adapter(
            "wasi_snapshot_preview1",
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .map_err(|e| format!("cannot read the WASI preview 1 adapter: {e:#}"))?
        .encode()
        .map_err(|e| format!("cannot make the core module a component: {e:#}"))
}
