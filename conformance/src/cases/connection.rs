//! The connection, which the shells own, not the core: keep-alive serves several requests in a
//! row, and a request body nobody reads does not cost the client its answer.

use super::Target;

pub const CASES: &[(&str, super::Case)] = cases![
    keep_alive_serves_several_requests,
    a_request_body_the_site_does_not_read_never_costs_the_answer,
];

fn keep_alive_serves_several_requests(t: &Target) -> Result<(), String> {
    let mut connection = t.connect()?;
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

/// Sizes around the socket buffers: smaller ones arrive before the answer, larger ones are still
/// on the way when it leaves.
const BODY_SIZES: &[usize] = &[64 * 1024, 1024 * 1024, 8 * 1024 * 1024];
/// The failure is a race (a reset overtaking the answer), so each request runs several times.
const TRIES: usize = 4;

/// The site reads no request body. A client (nginx in front, curl) sends the whole body, then
/// reads: the server must not reset the connection while the body is still arriving, which
/// would lose the answer (nginx turns it into 502). RFC 9112, 9.6.
fn a_request_body_the_site_does_not_read_never_costs_the_answer(t: &Target) -> Result<(), String> {
    for (method, path, expected) in [("GET", "/", 200), ("HEAD", "/", 200), ("GET", "/nope", 404)] {
        for &size in BODY_SIZES {
            for _ in 0..TRIES {
                let mut request = format!(
                    "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {size}\r\n\
                     Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                    testkit::client::host()
                )
                .into_bytes();
                request.resize(request.len() + size, b'x');
                let reply = t
                    .connect()?
                    .send_raw(&request, method == "HEAD")
                    .map_err(|e| format!("{method} {path} with a {size}-byte body: {e}"))?;
                ensure_eq!(reply.status, expected, "{method} {path} with a {size}-byte body");
            }
        }
    }
    Ok(())
}
