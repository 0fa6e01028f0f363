//! Precompressed variants, made once at build time.

use std::io::Write;

/// A variant is kept only when it saves at least this share of the original (in percent):
/// below that, the CPU a client spends decoding buys almost nothing.
const MIN_SAVING_PERCENT: usize = 5;

#[derive(Clone)]
pub struct Variants {
    pub brotli: Option<Vec<u8>>,
    pub gzip: Option<Vec<u8>>,
}

pub fn variants(bytes: &[u8]) -> Variants {
    Variants {
        brotli: worth_keeping(bytes, brotli(bytes)),
        gzip: worth_keeping(bytes, gzip(bytes)),
    }
}

fn worth_keeping(original: &[u8], compressed: Vec<u8>) -> Option<Vec<u8>> {
    (compressed.len() * 100 <= original.len() * (100 - MIN_SAVING_PERCENT)).then_some(compressed)
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        // The largest window (16 MiB) only where the file needs it: decoders allocate it.
        lgwin: if bytes.len() > 1 << 22 { 24 } else { 22 },
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(bytes.len() / 3);
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
        .expect("brotli compression into a Vec cannot fail");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    // GzEncoder writes mtime 0 and no file name, so the output depends on the bytes alone.
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::best(),
    );
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .expect("gzip compression into a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_must_save_at_least_5_percent() {
        let original = [0u8; 100];
        assert!(worth_keeping(&original, vec![0; 95]).is_some());
        assert!(worth_keeping(&original, vec![0; 96]).is_none());
    }

    #[test]
    fn variants_decode_to_the_original() {
        use std::io::Read;
        let text = b"hello hello hello hello hello hello hello hello".repeat(20);
        let v = variants(&text);
        let mut out = Vec::new();
        brotli::Decompressor::new(&v.brotli.unwrap()[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, text);
        out.clear();
        flate2::read::GzDecoder::new(&v.gzip.unwrap()[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, text);
    }
}
