//! The health path for Kubernetes probes.
//!
//! It is a dot-name, and the site compiler never embeds dot-names (only `.well-known/`), so no
//! file of any site can shadow it.

/// The path probes request: `/.healthz`.
pub const HEALTH_PATH: &str = "/.healthz";

/// True when the decoded path (without its leading `/`) is the health path.
pub fn is_health_path(path: &str) -> bool {
    path == &HEALTH_PATH[1..]
}
