//! Links the wasm32 build to a core module rather than a component: `component-packer` still has
//! to move the site's bodies into a passive data segment (see `src/lib.rs`), and it makes the
//! component afterwards with wit-component, as wasm-component-ld would have.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--skip-wit-component");
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=131072");
    }
}
