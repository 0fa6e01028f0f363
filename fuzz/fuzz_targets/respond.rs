//! The core on arbitrary requests. Input layout: the method, a newline, the request target,
//! a newline, then header lines `name: value` separated by newlines (the seeds in
//! fuzz/corpus/respond follow it; the fuzzer mutates freely).
//!
//! Fails on a panic, a 5xx, an invalid header value, or a body that is neither bytes of the
//! embedded site nor a short plain-text reason.

#![no_main]

use hello_world::{respond, Request, RequestHeaders};
use libfuzzer_sys::fuzz_target;
use testkit::invariants;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let method = lines.next().unwrap_or_default();
    let target = lines.next().unwrap_or_default();
    let fields: Vec<(&[u8], &[u8])> = lines
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            Some((&line[..colon], line[colon + 1..].trim_ascii()))
        })
        .collect();
    let response = respond(&Request {
        method,
        target,
        headers: RequestHeaders::from_fields(fields),
    });

    if let Err(broken) = invariants::check(&response) {
        panic!("{broken}");
    }
});
