//! Every response says which route answered it: what the runtimes count requests by in their
//! metrics (runtime-shim's `http_requests_total{answered=…}`).

use hello_world::{respond, site, Answered, Request, RequestHeaders};

fn answered(method: &str, target: &str) -> (Answered, u16) {
    let response = respond(&Request {
        method: method.as_bytes(),
        target: target.as_bytes(),
        headers: RequestHeaders::from_fields(std::iter::empty()),
    });
    (response.answered, response.status)
}

/// The URL a file of the table is served at: a folder's page at the folder.
fn url(asset: &site::Asset) -> String {
    format!("/{}", http_text::path::page_path(asset.path))
}

#[test]
fn a_page_of_the_site_is_answered_as_a_page() {
    assert_eq!(answered("GET", "/"), (Answered::Page, 200));
    let page = site::assets()
        .iter()
        .find(|a| a.content_type.starts_with("text/html") && a.path != "index.html")
        .expect("the site has a second page");
    assert_eq!(answered("HEAD", &url(page)), (Answered::Page, 200));
}

#[test]
fn any_other_file_is_answered_as_an_asset_whatever_its_status() {
    let stylesheet = site::assets()
        .iter()
        .find(|a| a.content_type.starts_with("text/css"))
        .expect("the site has a stylesheet");
    assert_eq!(answered("GET", &url(stylesheet)), (Answered::Asset, 200));
    let response = respond(&Request {
        method: b"GET",
        target: url(stylesheet).as_bytes(),
        headers: RequestHeaders::from_fields([(b"range".as_slice(), b"bytes=0-9".as_slice())]),
    });
    assert_eq!((response.answered, response.status), (Answered::Asset, 206));
}

#[test]
fn a_folder_without_its_slash_is_answered_as_a_redirect() {
    let page = site::assets()
        .iter()
        .find(|a| a.path.ends_with("/index.html"))
        .expect("the site has a page in a folder");
    let folder = url(page);
    let (answered, status) = answered("GET", folder.trim_end_matches('/'));
    assert_eq!((answered, status), (Answered::Redirect, 308));
}

#[test]
fn a_missing_file_is_answered_as_not_found() {
    assert_eq!(answered("GET", "/no/such/page/"), (Answered::NotFound, 404));
}

#[test]
fn the_health_path_is_answered_as_health() {
    assert_eq!(
        answered("GET", hello_world::HEALTH_PATH),
        (Answered::Health, 200)
    );
}

#[test]
fn other_methods_and_bad_targets_are_answered_as_rejected() {
    assert_eq!(answered("POST", "/"), (Answered::Rejected, 405));
    assert_eq!(answered("GET", "/%00"), (Answered::Rejected, 400));
}
