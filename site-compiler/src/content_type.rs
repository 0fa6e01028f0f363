//! Content type of each file, and whether compressing it is worth trying.

/// The `Content-Type` value: mime_guess's answer, with `; charset=utf-8` on textual types whose
/// bytes are valid UTF-8 (browsers otherwise guess the charset of text/* and may guess wrong).
pub fn content_type(key: &str, bytes: &[u8]) -> String {
    let essence = match key.rsplit_once('.').map(|(_, ext)| ext) {
        // Source maps are JSON; mime_guess calls them text/plain.
        Some("map") => "application/json".to_owned(),
        _ => mime_guess::from_path(key)
            .first_or_octet_stream()
            .essence_str()
            .to_owned(),
    };
    if is_textual(&essence) && std::str::from_utf8(bytes).is_ok() {
        format!("{essence}; charset=utf-8")
    } else {
        essence
    }
}

fn is_textual(essence: &str) -> bool {
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence,
            "application/javascript" | "application/json" | "application/xml"
        )
}

/// Types that compress well. Images (other than SVG and icons), fonts in woff/woff2, archives
/// and media are compressed already: compressing them again wastes build time for nothing.
pub fn is_compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default();
    is_textual(essence)
        || matches!(
            essence,
            "application/wasm"
                | "application/vnd.ms-fontobject"
                | "font/ttf"
                | "font/otf"
                | "image/bmp"
                | "image/x-icon"
                | "image/vnd.microsoft.icon"
        )
}
