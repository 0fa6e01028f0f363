//! The request as the core sees it: borrowed bytes, no runtime types. Each shell builds one
//! from its own request type with [`RequestHeaders::from_fields`].

/// Lines kept per header field. Real clients send one; a request with more lines than this of
/// one field has the field treated as unusable rather than read in part.
const MAX_LINES: usize = 4;

pub struct Request<'a> {
    pub method: &'a [u8],
    /// The request target in origin form: `/path?query`.
    pub target: &'a [u8],
    pub headers: RequestHeaders<'a>,
}

/// The header fields the core reads. Everything else is ignored.
#[derive(Default, Debug)]
pub struct RequestHeaders<'a> {
    pub(crate) accept_encoding: FieldLines<'a>,
    pub(crate) if_match: FieldLines<'a>,
    pub(crate) if_none_match: FieldLines<'a>,
    pub(crate) if_modified_since: FieldLines<'a>,
    pub(crate) if_unmodified_since: FieldLines<'a>,
    pub(crate) range: FieldLines<'a>,
    pub(crate) if_range: FieldLines<'a>,
    pub(crate) available_dictionary: FieldLines<'a>,
}

impl<'a> RequestHeaders<'a> {
    /// Picks the fields the core reads out of `(name, value)` pairs; names match ignoring case.
    pub fn from_fields<I>(fields: I) -> Self
    where
        I: IntoIterator<Item = (&'a [u8], &'a [u8])>,
    {
        let mut headers = Self::default();
        for (name, value) in fields {
            let slot = match name.len() {
                5 if name.eq_ignore_ascii_case(b"range") => &mut headers.range,
                8 if name.eq_ignore_ascii_case(b"if-match") => &mut headers.if_match,
                8 if name.eq_ignore_ascii_case(b"if-range") => &mut headers.if_range,
                13 if name.eq_ignore_ascii_case(b"if-none-match") => &mut headers.if_none_match,
                15 if name.eq_ignore_ascii_case(b"accept-encoding") => &mut headers.accept_encoding,
                17 if name.eq_ignore_ascii_case(b"if-modified-since") => {
                    &mut headers.if_modified_since
                }
                19 if name.eq_ignore_ascii_case(b"if-unmodified-since") => {
                    &mut headers.if_unmodified_since
                }
                20 if name.eq_ignore_ascii_case(b"available-dictionary") => {
                    &mut headers.available_dictionary
                }
                _ => continue,
            };
            slot.push(value);
        }
        headers
    }
}

/// All lines of one header field, in order.
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct FieldLines<'a> {
    lines: [&'a [u8]; MAX_LINES],
    count: usize,
}

/// What a field's lines amount to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Field<'a> {
    Absent,
    /// Present, but not usable: more lines than the core keeps, or (for fields defined as a
    /// single value) more than one line.
    Unusable,
    Lines(&'a [&'a [u8]]),
}

impl<'a> FieldLines<'a> {
    fn push(&mut self, value: &'a [u8]) {
        if let Some(slot) = self.lines.get_mut(self.count) {
            *slot = value;
        }
        self.count += 1;
    }

    /// A list-valued field (RFC 9110 §5.3): its lines are one comma-separated list.
    pub(crate) fn list(&self) -> Field<'_> {
        match self.count {
            0 => Field::Absent,
            n if n > MAX_LINES => Field::Unusable,
            n => Field::Lines(&self.lines[..n]),
        }
    }

    /// A singleton field (a date, a range set, an If-Range validator): exactly one line.
    pub(crate) fn single(&self) -> Field<'_> {
        match self.count {
            0 => Field::Absent,
            1 => Field::Lines(&self.lines[..1]),
            _ => Field::Unusable,
        }
    }

    pub(crate) fn is_present(&self) -> bool {
        self.count > 0
    }
}

/// The comma-separated elements of a list field's lines, trimmed, empty elements skipped
/// (RFC 9110 §5.6.1).
pub(crate) fn list_elements<'a>(lines: &'a [&'a [u8]]) -> impl Iterator<Item = &'a [u8]> {
    lines
        .iter()
        .flat_map(|line| line.split(|&b| b == b','))
        .map(trim_ows)
        .filter(|element| !element.is_empty())
}

/// Strips optional whitespace (spaces and tabs) from both ends.
pub(crate) fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ' && b != b'\t');
    let end = bytes.iter().rposition(|&b| b != b' ' && b != b'\t');
    match (start, end) {
        (Some(s), Some(e)) => &bytes[s..=e],
        _ => &[],
    }
}
