//! Content negotiation on `Accept-Encoding` (RFC 9110 §12.5.3): which representation to send.

use crate::dictionary;
use crate::request::{list_elements, trim_ows, Field, RequestHeaders};
use crate::site::{Asset, DictionaryCompressed, Representation};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// Brotli against a dictionary the client holds (RFC 9842 §4).
    Dcb,
    /// Zstandard against a dictionary the client holds (RFC 9842 §5).
    Dcz,
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    /// The `Content-Encoding` value, `None` for identity.
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Coding::Dcb => Some("dcb"),
            Coding::Dcz => Some("dcz"),
            Coding::Brotli => Some("br"),
            Coding::Gzip => Some("gzip"),
            Coding::Identity => None,
        }
    }
}

/// The representation to send and its coding. On equal preference the smaller of dcb and dcz
/// beats the other, both beat brotli, brotli beats gzip and gzip beats identity: smaller first.
/// dcb and dcz only where the client names, in `Available-Dictionary`, the dictionary the
/// variant was made against. When the client refuses everything the file has (even identity),
/// identity is sent anyway, as RFC 9110 §12.5.3 allows: a usable answer beats a 406 for a
/// static page.
pub fn choose(
    asset: &'static Asset,
    headers: &RequestHeaders<'_>,
) -> (Coding, &'static Representation) {
    let identity = (Coding::Identity, &asset.identity);
    let Field::Lines(lines) = headers.accept_encoding.list() else {
        return identity;
    };
    if !asset.has_variants() {
        return identity;
    }
    let weights = Weights::parse(lines);
    let offered = dictionary::offered(&headers.available_dictionary);
    let held = |variant: &'static Option<DictionaryCompressed>| {
        variant
            .as_ref()
            .filter(|v| offered == Some(v.dictionary.as_bytes()))
            .map(|v| &v.representation)
    };
    let (dcb, dcz) = (held(&asset.dcb), held(&asset.dcz));
    // The first of equal weights wins below, so the smaller dictionary coding goes first.
    let dcb_smaller = matches!((dcb, dcz), (Some(b), Some(z)) if b.body.len < z.body.len);
    let dictionary_codings = if dcb_smaller {
        [(Coding::Dcb, dcb), (Coding::Dcz, dcz)]
    } else {
        [(Coding::Dcz, dcz), (Coding::Dcb, dcb)]
    };
    let candidates = [
        dictionary_codings[0],
        dictionary_codings[1],
        (Coding::Brotli, asset.brotli.as_ref()),
        (Coding::Gzip, asset.gzip.as_ref()),
        (Coding::Identity, Some(&asset.identity)),
    ];
    let mut best: Option<(u16, Coding, &'static Representation)> = None;
    for (coding, representation) in candidates {
        let Some(representation) = representation else {
            continue;
        };
        let q = weights.of(coding);
        // Strictly greater: earlier candidates win ties.
        if q > 0 && best.is_none_or(|(best_q, _, _)| q > best_q) {
            best = Some((q, coding, representation));
        }
    }
    best.map_or(identity, |(_, coding, representation)| {
        (coding, representation)
    })
}

/// q-values in thousandths, as listed by the client.
#[derive(Default)]
struct Weights {
    dcb: Option<u16>,
    dcz: Option<u16>,
    brotli: Option<u16>,
    gzip: Option<u16>,
    identity: Option<u16>,
    any: Option<u16>,
}

impl Weights {
    fn parse(lines: &[&[u8]]) -> Self {
        let mut weights = Weights::default();
        for element in list_elements(lines) {
            let mut parts = element.split(|&b| b == b';');
            let coding = trim_ows(parts.next().unwrap_or_default());
            let Some(q) = qvalue(parts) else {
                continue; // an element with a malformed weight says nothing usable
            };
            let slot = if coding.eq_ignore_ascii_case(b"dcb") {
                &mut weights.dcb
            } else if coding.eq_ignore_ascii_case(b"dcz") {
                &mut weights.dcz
            } else if coding.eq_ignore_ascii_case(b"br") {
                &mut weights.brotli
            } else if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip")
            {
                &mut weights.gzip
            } else if coding.eq_ignore_ascii_case(b"identity") {
                &mut weights.identity
            } else if coding == b"*" {
                &mut weights.any
            } else {
                continue;
            };
            // A coding listed twice keeps its highest weight.
            *slot = Some(slot.map_or(q, |old| old.max(q)));
        }
        weights
    }

    fn of(&self, coding: Coding) -> u16 {
        match coding {
            // Only by name: a client offers it only while it holds a dictionary (RFC 9842
            // §6.1), so `*` does not stand for it.
            Coding::Dcb => self.dcb.unwrap_or(0),
            Coding::Dcz => self.dcz.unwrap_or(0),
            Coding::Brotli => self.brotli.or(self.any).unwrap_or(0),
            Coding::Gzip => self.gzip.or(self.any).unwrap_or(0),
            // identity is acceptable unless refused by name or by `*;q=0` (RFC 9110 §12.5.3).
            Coding::Identity => self.identity.or(self.any.filter(|&q| q == 0)).unwrap_or(1),
        }
    }
}

/// The weight of one element from its parameters: `q=1` when absent, `None` when malformed.
fn qvalue<'a>(params: impl Iterator<Item = &'a [u8]>) -> Option<u16> {
    let mut q = 1000;
    for param in params {
        let param = trim_ows(param);
        let eq = param.iter().position(|&b| b == b'=')?;
        let (name, value) = (trim_ows(&param[..eq]), trim_ows(&param[eq + 1..]));
        if name.eq_ignore_ascii_case(b"q") {
            q = parse_qvalue(value)?;
        }
    }
    Some(q)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn parse_qvalue(value: &[u8]) -> Option<u16> {
    let (int, frac) = match value.iter().position(|&b| b == b'.') {
        Some(dot) => (&value[..dot], &value[dot + 1..]),
        None => (value, &[][..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for i in 0..3 {
        thousandths = thousandths * 10 + frac.get(i).map_or(0, |d| u16::from(d - b'0'));
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dcb_and_dcz_are_acceptable_only_by_name() {
        for coding in [Coding::Dcb, Coding::Dcz] {
            assert_eq!(Weights::parse(&[b"*"]).of(coding), 0);
            assert_eq!(
                Weights::parse(&[b"gzip, br, zstd, dcb, dcz"]).of(coding),
                1000
            );
        }
        assert_eq!(Weights::parse(&[b"dcz;q=0, *"]).of(Coding::Dcz), 0);
        assert_eq!(Weights::parse(&[b"dcb;q=0, dcz"]).of(Coding::Dcb), 0);
        assert_eq!(Weights::parse(&[b"DCB;q=0.5"]).of(Coding::Dcb), 500);
    }

    #[test]
    fn qvalues_parse_to_thousandths() {
        assert_eq!(parse_qvalue(b"1"), Some(1000));
        assert_eq!(parse_qvalue(b"1.000"), Some(1000));
        assert_eq!(parse_qvalue(b"0"), Some(0));
        assert_eq!(parse_qvalue(b"0.5"), Some(500));
        assert_eq!(parse_qvalue(b"0.001"), Some(1));
        assert_eq!(parse_qvalue(b"0."), Some(0));
        for bad in [
            &b"1.5"[..],
            b"2",
            b"0.0001",
            b"-1",
            b"",
            b"0.5x",
            b"abc",
            b".5",
        ] {
            assert_eq!(parse_qvalue(bad), None, "{:?}", bad);
        }
    }
}
