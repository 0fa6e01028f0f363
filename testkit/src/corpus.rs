//! The bad-input corpus, `corpus/bad-requests.txt`: hostile requests, each with the status it
//! must get. Every test that runs it (the core's property test, the HTTP conformance suite, the
//! fuzz target's seeds) reads it here, so the notation is parsed in one place.

#[derive(Debug, Clone)]
pub struct Vector {
    /// Line number in bad-requests.txt.
    pub line: usize,
    pub expected: Expected,
    /// Only the HTTP layer sees this request whole (`http:`): the core's test skips it.
    pub http_only: bool,
    pub target: Vec<u8>,
    /// The target was padded to its length (`{N}`): a limit's edge, which a suite that moves
    /// the target elsewhere must keep.
    pub padded: bool,
    /// One extra header: name and raw value.
    pub header: Option<(String, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy)]
pub enum Expected {
    Status(u16),
    /// The hundreds digit of a class: `4xx` → 4.
    Class(u16),
}

impl Expected {
    pub fn matches(self, status: u16) -> bool {
        match self {
            Expected::Status(expected) => status == expected,
            Expected::Class(class) => status / 100 == class,
        }
    }
}

pub const TEXT: &str = include_str!("../corpus/bad-requests.txt");

pub fn load() -> Vec<Vector> {
    TEXT.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            parse_line(i + 1, l).unwrap_or_else(|e| panic!("bad-requests.txt:{}: {e}", i + 1))
        })
        .collect()
}

fn parse_line(line: usize, text: &str) -> Result<Vector, String> {
    let (expected, rest) = text.split_once(' ').ok_or("expected `STATUS TARGET`")?;
    let (http_only, expected) = match expected.strip_prefix("http:") {
        Some(expected) => (true, expected),
        None => (false, expected),
    };
    let expected = match expected.strip_suffix("xx") {
        Some(class) => Expected::Class(class.parse().map_err(|_| "bad class")?),
        None => Expected::Status(expected.parse().map_err(|_| "bad status")?),
    };
    let (target, header) = match rest.split_once(' ') {
        Some((target, header)) => {
            let (name, value) = header.split_once(": ").ok_or("expected `Name: value`")?;
            (target, Some((name.to_owned(), unescape(value)?)))
        }
        None => (rest, None),
    };
    Ok(Vector {
        line,
        expected,
        http_only,
        target: unescape(target)?,
        padded: target.ends_with('}'),
        header,
    })
}

/// `\xNN` → the byte; a trailing `{N}` pads with 'a' to N bytes.
fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let (text, pad) = match text.strip_suffix('}').and_then(|t| t.rsplit_once('{')) {
        Some((head, n)) => (head, Some(n.parse::<usize>().map_err(|_| "bad {N}")?)),
        None => (text, None),
    };
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x') {
            let hex = text.get(i + 2..i + 4).ok_or("short \\x escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad \\x escape")?);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    if let Some(n) = pad {
        out.resize(n.max(out.len()), b'a');
    }
    Ok(out)
}
