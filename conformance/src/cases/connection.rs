//! The connection, which the shells own, not the core: keep-alive serves several requests in a
//! row.

use testkit::client::Connection;
use super::Target;

pub const CASES: &[(&str, super::Case)] = cases![
    keep_alive_serves_several_requests,
];

fn keep_alive_serves_several_requests(t: &Target) -> Result<(), String> {
    let mut connection = Connection::open(t.addr).map_err(|e| e.to_string())?;
    for path in ["/", "/architecture/", "/nope", "/", "/.healthz"] {
        let reply = connection
            .send("GET", path.as_bytes(), &[])
            .map_err(|e| format!("GET {path}: {e}"))?;
        ensure!(
            reply.status == 200 || reply.status == 404,
            "GET {path}: {}",
            reply.status
        );
    }
    Ok(())
}
