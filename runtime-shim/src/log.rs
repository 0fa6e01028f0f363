//! Log lines on stdout, one line per event, in one of two formats:
//!
//! - **logfmt** (`key=value`, the default): what container log collectors parse without
//!   configuration; timestamps are the collector's job;
//! - **JSON** (`--log-format json`): one object per line with the same fields, plus `time` in
//!   RFC 3339, for pipelines that index fields (Loki's `| json`, Elasticsearch, Cloud Logging).

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    /// Adds one access line per request.
    Info,
    /// Adds connection errors (resets, timeouts, malformed requests hyper answered itself).
    Debug,
}

impl Level {
    pub fn parse(value: &str) -> Option<Level> {
        match value.to_ascii_lowercase().as_str() {
            "error" => Some(Level::Error),
            "warn" | "warning" => Some(Level::Warn),
            "info" => Some(Level::Info),
            "debug" => Some(Level::Debug),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Logfmt,
    Json,
}

impl Format {
    pub fn parse(value: &str) -> Option<Format> {
        match value.to_ascii_lowercase().as_str() {
            "logfmt" => Some(Format::Logfmt),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// A field's value: text is quoted as each format needs, a number is written bare.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Text(&'a str),
    Number(u64),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(text: &'a str) -> Self {
        Value::Text(text)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(text: &'a String) -> Self {
        Value::Text(text)
    }
}

impl From<u64> for Value<'_> {
    fn from(number: u64) -> Self {
        Value::Number(number)
    }
}

impl From<usize> for Value<'_> {
    fn from(number: usize) -> Self {
        Value::Number(number as u64)
    }
}

impl From<u16> for Value<'_> {
    fn from(number: u16) -> Self {
        Value::Number(u64::from(number))
    }
}

static LEVEL: OnceLock<Level> = OnceLock::new();
static FORMAT: OnceLock<Format> = OnceLock::new();

pub fn set_level(level: Level) {
    let _ = LEVEL.set(level);
}

pub fn set_format(format: Format) {
    let _ = FORMAT.set(format);
}

pub fn enabled(level: Level) -> bool {
    level <= *LEVEL.get().unwrap_or(&Level::Info)
}

/// Writes `level=… msg=… <fields>` (or its JSON object) if `level` is enabled.
pub fn event(level: Level, msg: &str, fields: &[(&str, Value<'_>)]) {
    if !enabled(level) {
        return;
    }
    let format = *FORMAT.get().unwrap_or(&Format::Logfmt);
    write_line(&line(format, SystemTime::now(), level, Some(msg), fields));
}

/// The access line: `level=info method=GET path="/guide/" status=200 bytes=5120 duration_us=41`.
pub fn access(method: &str, target: &[u8], status: u16, bytes: usize, duration: Duration) {
    if !enabled(Level::Info) {
        return;
    }
    let format = *FORMAT.get().unwrap_or(&Format::Logfmt);
    let path = String::from_utf8_lossy(&target[..target.len().min(MAX_LOGGED_TARGET)]);
    let fields = [
        ("method", Value::Text(method)),
        ("path", Value::Text(&path)),
        ("status", Value::from(status)),
        ("bytes", Value::from(bytes)),
        ("duration_us", Value::Number(duration.as_micros() as u64)),
    ];
    write_line(&line(format, SystemTime::now(), Level::Info, None, &fields));
}

/// One write per line, so concurrent lines never interleave. A closed stdout is no reason to
/// stop serving.
fn write_line(line: &str) {
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

/// Long enough for any real URL; a hostile 8 KiB target is cut so it cannot flood the log.
const MAX_LOGGED_TARGET: usize = 1024;

/// One line, newline included. `time` is written in JSON only.
fn line(
    format: Format,
    time: SystemTime,
    level: Level,
    msg: Option<&str>,
    fields: &[(&str, Value<'_>)],
) -> String {
    let mut out = String::with_capacity(128);
    match format {
        Format::Logfmt => {
            out.push_str("level=");
            out.push_str(level.as_str());
            if let Some(msg) = msg {
                out.push_str(" msg=");
                push_logfmt(&mut out, msg);
            }
            for (key, value) in fields {
                out.push(' ');
                out.push_str(key);
                out.push('=');
                match value {
                    Value::Text(text) => push_logfmt(&mut out, text),
                    Value::Number(n) => {
                        let _ = write!(out, "{n}");
                    }
                }
            }
        }
        Format::Json => {
            let _ = write!(
                out,
                "{{\"time\":\"{}\",\"level\":\"{}\"",
                humantime::format_rfc3339_micros(time),
                level.as_str()
            );
            if let Some(msg) = msg {
                out.push_str(",\"msg\":");
                json_string(&mut out, msg);
            }
            for (key, value) in fields {
                out.push(',');
                json_string(&mut out, key);
                out.push(':');
                match value {
                    Value::Text(text) => json_string(&mut out, text),
                    Value::Number(n) => {
                        let _ = write!(out, "{n}");
                    }
                }
            }
            out.push('}');
        }
    }
    out.push('\n');
    out
}

/// A logfmt value: bare when safe, else quoted with `"` and `\` escaped and control
/// characters shown as `\xNN`, so a request cannot forge log lines.
fn push_logfmt(out: &mut String, value: &str) {
    let bare = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'=');
    if bare {
        out.push_str(value);
    } else {
        push_escaped(out, value, |out, c| {
            let _ = write!(out, "\\x{:02x}", c as u32);
        });
    }
}

/// A JSON string (RFC 8259 §7): control characters as `\uXXXX`, so a request can neither end
/// the object nor start a new line.
fn json_string(out: &mut String, value: &str) {
    push_escaped(out, value, |out, c| {
        let _ = write!(out, "\\u{:04x}", c as u32);
    });
}

/// `value` in double quotes with `"` and `\` escaped, and each control character written by
/// `control`: the quoting both formats share.
fn push_escaped(out: &mut String, value: &str, control: fn(&mut String, char)) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => control(out, c),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(value: &str) -> String {
        let mut out = String::new();
        push_logfmt(&mut out, value);
        out
    }

    const TIME: Duration = Duration::from_micros(1_795_982_400_123_456);

    fn access_line(format: Format, path: &str) -> String {
        let fields = [
            ("method", Value::Text("GET")),
            ("path", Value::Text(path)),
            ("status", Value::Number(200)),
        ];
        line(
            format,
            SystemTime::UNIX_EPOCH + TIME,
            Level::Info,
            None,
            &fields,
        )
    }

    #[test]
    fn values_are_quoted_only_when_needed() {
        assert_eq!(quoted("/guide/"), "/guide/");
        assert_eq!(quoted("a b"), "\"a b\"");
        assert_eq!(quoted(""), "\"\"");
        assert_eq!(quoted("x=1"), "\"x=1\"");
    }

    #[test]
    fn a_request_cannot_forge_a_log_line() {
        assert_eq!(quoted("a\n level=error"), "\"a\\x0a level=error\"");
        assert_eq!(quoted("\"\\"), "\"\\\"\\\\\"");
    }

    #[test]
    fn logfmt_lines_carry_no_time_and_bare_numbers() {
        assert_eq!(
            access_line(Format::Logfmt, "/a b"),
            "level=info method=GET path=\"/a b\" status=200\n"
        );
    }

    #[test]
    fn json_lines_are_one_object_with_an_rfc_3339_time_and_the_same_fields() {
        assert_eq!(
            access_line(Format::Json, "/guide/"),
            "{\"time\":\"2026-11-29T20:00:00.123456Z\",\"level\":\"info\",\
             \"method\":\"GET\",\"path\":\"/guide/\",\"status\":200}\n"
        );
        let event = line(
            Format::Json,
            SystemTime::UNIX_EPOCH,
            Level::Warn,
            Some("accept failed"),
            &[("error", Value::Text("too many open files"))],
        );
        assert!(event.contains("\"level\":\"warn\",\"msg\":\"accept failed\",\"error\":"));
    }

    #[test]
    fn a_request_cannot_end_a_json_object_or_start_a_line() {
        let line = access_line(Format::Json, "/\"}\n{\"level\":\"error\\");
        assert_eq!(line.matches('\n').count(), 1);
        assert!(
            line.contains(r#""path":"/\"}\u000a{\"level\":\"error\\""#),
            "{line}"
        );
    }
}
