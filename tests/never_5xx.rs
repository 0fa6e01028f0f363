//! Properties of the core over arbitrary requests: no request yields a 5xx, a panic, or a body
//! that is not bytes of the embedded table (or a short reason); and the whole bad-input corpus
//! gets its expected status from the core itself, before any runtime is involved.

use hello_world::{respond, Request, RequestHeaders, Response};
use proptest::prelude::*;

use testkit::{corpus, invariants};

fn check_response(response: &Response) -> Result<(), TestCaseError> {
    invariants::check(response).map_err(TestCaseError::fail)
}

fn target_strategy() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(b"/".to_vec()),
        Just(b"..".to_vec()),
        Just(b".".to_vec()),
        Just(b"%2e".to_vec()),
        Just(b"%2f".to_vec()),
        Just(b"%5c".to_vec()),
        Just(b"%00".to_vec()),
        Just(b"%c0%ae".to_vec()),
        Just(b"%".to_vec()),
        Just(b"?".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"index.html".to_vec()),
        Just(b"architecture".to_vec()),
        Just(b"search/search_index.json".to_vec()),
        Just(b".healthz".to_vec()),
        prop::collection::vec(any::<u8>(), 0..4),
        "[a-zA-Z0-9._~-]{0,8}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(pieces, 0..12).prop_map(|parts| parts.concat())
}

fn header_value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        "(br|gzip|identity|\\*|x-gzip|dcb|dcz)(;q=[0-9.]{0,6})?(, ?(br|gzip|dcb|dcz|\\*)(;q=[01](\\.[0-9]{0,4})?)?){0,3}"
            .prop_map(String::into_bytes),
        // Available-Dictionary: byte sequences of any length, and the site's own dictionary.
        ":[A-Za-z0-9+/]{0,48}=?:".prop_map(String::into_bytes),
        Just(site_dictionary()),
        "(W/)?\"[0-9a-f]{0,16}\"(, ?(W/)?\"[0-9a-f]{16}\"){0,2}|\\*".prop_map(String::into_bytes),
        "(bytes|BYTES|pages)=([0-9]{0,25})?-([0-9]{0,25})?(,[0-9]{0,3}-[0-9]{0,3}){0,2}".prop_map(String::into_bytes),
        "(Sun|Mon), [0-9]{2} (Nov|Feb) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT".prop_map(String::into_bytes),
    ]
}

/// `Available-Dictionary` naming the dictionary the site's pages have dcz variants against.
fn site_dictionary() -> Vec<u8> {
    hello_world::site::assets()
        .iter()
        .find_map(|a| a.dcz.as_ref())
        .map_or_else(Vec::new, |dcz| {
            format!(":{}=:", dcz.dictionary).into_bytes()
        })
}

const HEADER_NAMES: &[&str] = &[
    "accept-encoding",
    "available-dictionary",
    "if-none-match",
    "if-match",
    "if-modified-since",
    "if-unmodified-since",
    "range",
    "if-range",
    "Range",
    "x-other",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn no_request_yields_a_5xx_or_bytes_outside_the_table(
        method in prop_oneof![Just(b"GET".to_vec()), Just(b"HEAD".to_vec()), prop::collection::vec(any::<u8>(), 0..8)],
        target in target_strategy(),
        headers in prop::collection::vec((0..HEADER_NAMES.len(), header_value_strategy()), 0..6),
    ) {
        let fields: Vec<(&[u8], &[u8])> = headers
            .iter()
            .map(|(name, value)| (HEADER_NAMES[*name].as_bytes(), value.as_slice()))
            .collect();
        let request = Request {
            method: &method,
            target: &target,
            headers: RequestHeaders::from_fields(fields),
        };
        check_response(&respond(&request))?;
    }
}

#[test]
fn the_bad_input_corpus_gets_its_expected_status_from_the_core() {
    let vectors = corpus::load();
    assert!(
        vectors.len() >= 200,
        "the corpus has only {} vectors",
        vectors.len()
    );
    let mut wrong = Vec::new();
    for vector in vectors.iter().filter(|v| !v.http_only) {
        // Raw control bytes and backslashes never reach the core over HTTP (either runtime's
        // HTTP parser refuses them first); the core must refuse them all the same.
        let mut fields = vec![(&b"accept-encoding"[..], &b"br"[..])];
        if let Some((name, value)) = &vector.header {
            fields.push((name.as_bytes(), value.as_slice()));
        }
        let response = respond(&Request {
            method: b"GET",
            target: &vector.target,
            headers: RequestHeaders::from_fields(fields),
        });
        if !vector.expected.matches(response.status) {
            wrong.push(format!(
                "bad-requests.txt:{}: expected {:?}, the core says {}",
                vector.line, vector.expected, response.status
            ));
        }
        check_response(&response).unwrap();
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
