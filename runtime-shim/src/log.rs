//! Log lines on stdout in logfmt (`key=value`), one line per event: what container log
//! collectors parse without configuration. Timestamps are the collector's job.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

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

static LEVEL: OnceLock<Level> = OnceLock::new();

pub fn set_level(level: Level) {
    let _ = LEVEL.set(level);
}

pub fn enabled(level: Level) -> bool {
    level <= *LEVEL.get().unwrap_or(&Level::Info)
}

/// Writes `level=… msg=… <fields>` if `level` is enabled. `fields` is already logfmt.
pub fn event(level: Level, msg: &str, fields: &str) {
    if !enabled(level) {
        return;
    }
    let mut line = format!("level={} msg={}", level.as_str(), quoted(msg));
    if !fields.is_empty() {
        line.push(' ');
        line.push_str(fields);
    }
    line.push('\n');
    // One write per line, so concurrent lines never interleave. A closed stdout is no reason
    // to stop serving.
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

/// The access line: `level=info method=GET path="/guide/" status=200 bytes=5120 duration_us=41`.
pub fn access(method: &str, target: &[u8], status: u16, bytes: usize, duration: Duration) {
    if !enabled(Level::Info) {
        return;
    }
    let mut line = String::with_capacity(96 + target.len().min(MAX_LOGGED_TARGET));
    let _ = writeln!(
        line,
        "level=info method={} path={} status={status} bytes={bytes} duration_us={}",
        quoted(method),
        quoted(&String::from_utf8_lossy(
            &target[..target.len().min(MAX_LOGGED_TARGET)]
        )),
        duration.as_micros()
    );
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

/// Long enough for any real URL; a hostile 8 KiB target is cut so it cannot flood the log.
const MAX_LOGGED_TARGET: usize = 1024;

/// A logfmt value: bare when safe, else quoted with `"` and `\` escaped and control
/// characters shown as `\xNN`, so a request cannot forge log lines.
pub fn quoted(value: &str) -> String {
    let bare = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'=');
    if bare {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
