//! The health path (`src/health.rs`).

use super::Target;

pub const CASES: &[(&str, super::Case)] = cases![
    health_path_answers_ok,
];

fn health_path_answers_ok(t: &Target) -> Result<(), String> {
    let reply = t.get("/.healthz", &[])?;
    ensure_eq!(reply.status, 200, "GET /.healthz");
    ensure_eq!(reply.body, b"ok\n".to_vec(), "body");
    ensure_eq!(
        reply.header("cache-control").as_deref(),
        Some("no-store"),
        "Cache-Control"
    );
    ensure_eq!(
        t.request("HEAD", "/.healthz", &[])?.status,
        200,
        "HEAD /.healthz"
    );
    Ok(())
}
