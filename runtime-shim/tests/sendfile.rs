//! Bodies from 128 KiB to 1 MiB leave from the executable's file (sendfile), the others from
//! memory: whichever way, what arrives must be the blob's bytes, whole and in ranges, one
//! response after another on a kept-alive connection.

use hello_world::site;
use testkit::client::Connection;
use testkit::runtime_shim;
use testkit::servers::Server;

/// The URL a file of the table is served at: a folder's page at the folder.
fn url(asset: &site::Asset) -> String {
    format!("/{}", http_text::path::page_path(asset.path))
}

#[test]
fn every_body_of_the_site_arrives_byte_for_byte_on_one_connection() {
    let server = Server::native(runtime_shim!(), &[], &[]).unwrap();
    let mut connection = Connection::open(server.addr).unwrap();
    let mut sizes = Vec::new();
    for asset in site::assets() {
        let reply = connection.send("GET", url(asset).as_bytes(), &[]).unwrap();
        if reply.status == 200 {
            assert!(
                reply.body == *site::gather(asset.identity.body),
                "{}: {} bytes arrived, {} expected",
                asset.path,
                reply.body.len(),
                asset.identity.body.len()
            );
            sizes.push(reply.body.len());
        }
    }
    // Both ways were taken: bodies below 128 KiB, between, and above 1 MiB.
    assert!(sizes.iter().any(|&n| n < 128 * 1024));
    assert!(sizes
        .iter()
        .any(|&n| (128 * 1024..=1024 * 1024).contains(&n)));
    assert!(sizes.iter().any(|&n| n > 1024 * 1024));
}

#[test]
fn ranges_of_large_bodies_are_their_bytes() {
    let server = Server::native(runtime_shim!(), &[], &[]).unwrap();
    let mut connection = Connection::open(server.addr).unwrap();
    let mut largest: Vec<&site::Asset> = site::assets().iter().collect();
    largest.sort_by_key(|asset| std::cmp::Reverse(asset.identity.body.len()));
    for asset in &largest[..5] {
        let body = site::gather(asset.identity.body);
        let (first, last) = (body.len() / 3, body.len() - 1);
        for (range, bytes) in [
            (format!("bytes={first}-{last}"), &body[first..]),
            (format!("bytes=0-{first}"), &body[..=first]),
        ] {
            let reply = connection
                .send("GET", url(asset).as_bytes(), &[("Range", &range)])
                .unwrap();
            assert_eq!(reply.status, 206, "{} {range}", asset.path);
            assert!(reply.body == bytes, "{} {range}", asset.path);
        }
    }
}
