//! What every response of the core must satisfy, whatever the request: no 5xx, a body that is
//! bytes of the embedded site or a short plain-text reason, and valid header values. The property
//! test (`tests/never_5xx.rs`) and the fuzz target both check these.

use hello_world::{site, Body, HeaderName, Response};
use http_text::field_value;

pub fn check(response: &Response) -> Result<(), String> {
    if response.status >= 500 {
        return Err(format!("status {}", response.status));
    }
    let short_reason = response.body.len() < 256
        && response
            .header(HeaderName::ContentType)
            .is_some_and(|t| t.to_string().starts_with("text/plain"));
    let from_site = match response.body {
        Body::Site(pieces) => site::contains(pieces),
        Body::Text(_) => false,
    };
    if !(response.body.is_empty() || short_reason || from_site) {
        return Err(format!(
            "a body of {} bytes from outside the table",
            response.body.len()
        ));
    }
    for (name, value) in response.headers() {
        let mut digits = [0; 20];
        if !field_value::is_valid(value.as_bytes(&mut digits)) {
            return Err(format!("invalid {} value {value:?}", name.as_str()));
        }
    }
    Ok(())
}
