//! HTTP-date (RFC 9110 §5.6.7): formatting for `Last-Modified`, parsing for
//! `If-Modified-Since`, `If-Unmodified-Since` and `If-Range`.

const DAY_NAMES: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const SECONDS_PER_DAY: u64 = 86_400;

/// Formats seconds since the Unix epoch as an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn format(unix_seconds: u64) -> String {
    let days = unix_seconds / SECONDS_PER_DAY;
    let secs = unix_seconds % SECONDS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAY_NAMES[(days % 7) as usize],
        day,
        MONTH_NAMES[(month - 1) as usize],
        year,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses any of the three HTTP-date forms a recipient must accept into seconds since the Unix
/// epoch. `None` for anything else, including dates before 1970.
pub fn parse(value: &[u8]) -> Option<u64> {
    let value = core::str::from_utf8(value).ok()?.trim_matches([' ', '\t']);
    parse_imf_fixdate(value)
        .or_else(|| parse_rfc850(value))
        .or_else(|| parse_asctime(value))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn parse_imf_fixdate(s: &str) -> Option<u64> {
    let (day_name, rest) = s.split_once(", ")?;
    if day_name.len() != 3 || !rest.ends_with(" GMT") {
        return None;
    }
    let mut parts = rest[..rest.len() - 4].split(' ');
    let day = two_digits(parts.next()?)?;
    let month = month_number(parts.next()?)?;
    let year = four_digits(parts.next()?)?;
    let time = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    to_unix(year, month, day, time)
}

/// `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete).
fn parse_rfc850(s: &str) -> Option<u64> {
    let (day_name, rest) = s.split_once(", ")?;
    if day_name.len() < 6 || !rest.ends_with(" GMT") {
        return None;
    }
    let (date, time) = rest[..rest.len() - 4].split_once(' ')?;
    let mut parts = date.split('-');
    let day = two_digits(parts.next()?)?;
    let month = month_number(parts.next()?)?;
    let yy = two_digits(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    // RFC 9110 reads a two-digit year as the most recent matching year that is not more than 50
    // years in the future. A pure function has no clock, so the pivot is fixed at 1970, which
    // is right for every date this server can have produced.
    let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
    to_unix(year, month, day, time)
}

/// `Sun Nov  6 08:49:37 1994` (C's asctime, obsolete).
fn parse_asctime(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    if bytes.len() != 24 || bytes[3] != b' ' || bytes[7] != b' ' || bytes[10] != b' ' {
        return None;
    }
    let month = month_number(s.get(4..7)?)?;
    let day_text = s.get(8..10)?;
    let day = two_digits(&day_text.replacen(' ', "0", 1))?;
    let time = s.get(11..19)?;
    if bytes[19] != b' ' {
        return None;
    }
    let year = four_digits(s.get(20..24)?)?;
    to_unix(year, month, day, time)
}

fn to_unix(year: u64, month: u64, day: u64, time: &str) -> Option<u64> {
    let mut hms = time.split(':');
    let hour = two_digits(hms.next()?)?;
    let minute = two_digits(hms.next()?)?;
    let second = two_digits(hms.next()?)?;
    if hms.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if year < 1970 || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second)
}

fn two_digits(s: &str) -> Option<u64> {
    digits(s, 2)
}

fn four_digits(s: &str) -> Option<u64> {
    digits(s, 4)
}

fn digits(s: &str, count: usize) -> Option<u64> {
    if s.len() != count || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn month_number(name: &str) -> Option<u64> {
    MONTH_NAMES
        .iter()
        .position(|m| *m == name)
        .map(|i| i as u64 + 1)
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), year ≥ 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_EXAMPLE: u64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn formats_imf_fixdate() {
        assert_eq!(format(RFC_EXAMPLE), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(format(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(format(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn parses_all_three_forms() {
        assert_eq!(parse(b"Sun, 06 Nov 1994 08:49:37 GMT"), Some(RFC_EXAMPLE));
        assert_eq!(parse(b"Sunday, 06-Nov-94 08:49:37 GMT"), Some(RFC_EXAMPLE));
        assert_eq!(parse(b"Sun Nov  6 08:49:37 1994"), Some(RFC_EXAMPLE));
    }

    #[test]
    fn round_trips() {
        for t in [
            0,
            1,
            59,
            86_399,
            86_400,
            951_782_400,
            1_764_150_000,
            4_102_444_800,
        ] {
            assert_eq!(parse(format(t).as_bytes()), Some(t), "{}", format(t));
        }
    }

    #[test]
    fn rejects_junk() {
        for bad in [
            &b""[..],
            b"yesterday",
            b"Sun, 06 Nov 1994 08:49:37 UTC",
            b"Sun, 6 Nov 1994 08:49:37 GMT",
            b"Sun, 31 Feb 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 24:00:00 GMT",
            b"Sun, 06 Foo 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1969 08:49:37 GMT",
            b"Sun, 06 Nov 1994 08:49:37 GMT extra",
            b"Sun, 06 Nov +994 08:49:37 GMT",
            b"\xff\xfe",
            b"Sun Nov  6 08:49:37 94",
        ] {
            assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
