//! The bad-input corpus (`testkit/corpus/bad-requests.txt`), sent to a running server.

use crate::cases::{decode, Target};
use testkit::client;

pub use testkit::corpus::{load, Vector};

pub fn check(t: &Target, vector: &Vector) -> Result<(), String> {
    let mut shown =
        String::from_utf8_lossy(&vector.target[..vector.target.len().min(80)]).into_owned();
    if let Some((name, value)) = &vector.header {
        shown += &format!(
            " + {name}: {}",
            String::from_utf8_lossy(&value[..value.len().min(60)])
        );
    }
    // A versioned tree: the lines, written for one site at the root, go to the default
    // version's folder, which is one site; the root and the aliases only redirect. A target
    // padded to a limit keeps its length.
    let mut target = vector.target.clone();
    if t.site.versioned && target.starts_with(b"/") {
        let versions = t.site.versions()?;
        let folder = format!("/{}", t.site.default_version(&versions)?);
        target.splice(0..0, folder.bytes());
        if vector.padded {
            target.truncate(vector.target.len());
        }
    }
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(&target);
    request.extend_from_slice(
        format!(
            " HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            client::host()
        )
        .as_bytes(),
    );
    match &vector.header {
        // A vector's own Accept-Encoding replaces the default one.
        Some((name, _)) if name.eq_ignore_ascii_case("accept-encoding") => {}
        _ => request.extend_from_slice(b"Accept-Encoding: br, gzip\r\n"),
    }
    if let Some((name, value)) = &vector.header {
        request.extend_from_slice(name.as_bytes());
        request.extend_from_slice(b": ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let mut connection = t.connect()?;
    let reply = connection
        .send_raw(&request, false)
        .map_err(|e| format!("{shown}: {e}"))?;
    if !vector.expected.matches(reply.status) {
        return Err(format!(
            "{shown}: expected {:?}, got {}",
            vector.expected, reply.status
        ));
    }
    if reply.status >= 500 {
        return Err(format!("{shown}: {}", reply.status));
    }
    let body = decode(&reply)?;
    match reply.status {
        206 => {
            let range = reply.header("content-range").unwrap_or_default();
            let in_a_page = parse_content_range(&range).is_some_and(|(first, last, length)| {
                hello_world::site::assets().iter().any(|a| {
                    let file = t.site.file(a.path);
                    file.len() == length && file.get(first..=last) == Some(&body[..])
                })
            });
            if !in_a_page {
                return Err(format!(
                    "{shown}: 206 with bytes that are no part of a file ({range})"
                ));
            }
        }
        200 => {
            let is_a_page = hello_world::site::assets()
                .iter()
                .any(|a| t.site.file(a.path) == body);
            if !is_a_page {
                return Err(format!(
                    "{shown}: 200 with bytes that are no file of the site"
                ));
            }
        }
        404 => {
            if body != t.site.file("404.html") {
                return Err(format!("{shown}: 404 body is not the site's 404 page"));
            }
        }
        301..=308
            if reply
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html")) =>
        {
            let is_a_moved_page = hello_world::site::redirects()
                .iter()
                .filter_map(|r| r.page)
                .any(|page| hello_world::site::bytes(page) == body);
            if !is_a_moved_page {
                return Err(format!(
                    "{shown}: {} with a page that is no moved page of the site",
                    reply.status
                ));
            }
        }
        _ => {
            let plain = reply
                .header("content-type")
                .is_none_or(|t| t.starts_with("text/plain"));
            if !plain || body.len() > 512 {
                return Err(format!(
                    "{shown}: {} with a body that is not a short reason",
                    reply.status
                ));
            }
        }
    }
    Ok(())
}

/// `bytes FIRST-LAST/LENGTH`
fn parse_content_range(value: &str) -> Option<(usize, usize, usize)> {
    let (range, length) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    Some((
        first.parse().ok()?,
        last.parse().ok()?,
        length.parse().ok()?,
    ))
}
