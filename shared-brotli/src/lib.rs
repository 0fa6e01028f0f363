//! Brotli against a raw prefix dictionary ("shared brotli", the stream inside RFC 9842's `dcb`),
//! by Google's reference library through `brotlic-sys`. The Rust `brotli` crate can prepend a
//! custom dictionary too, but no decoder here could check its streams: PyPI's `brotli` has no
//! dictionary API. The reference library has both sides, and its decoder is the one browsers
//! ship, so the site compiler encodes with it and the conformance suite decodes with it.

use std::ptr;

use brotlic_sys as ffi;

/// Quality 11, as the plain brotli variants (`compress.rs`).
const QUALITY: u32 = 11;
/// A 4 MiB window: RFC 9842 §4 lets a client refuse a `dcb` window over 16 MiB, and a page with
/// its dictionary is far below 4 MiB.
const WINDOW_BITS: u32 = 22;

/// A raw dictionary digested once for the encoder at [`QUALITY`] (its hash chains and a copy of
/// its bytes), then used by every file compressed against it: preparing it per file cost 4 ms a
/// page, about 4 s of CPU on the 1,063 pages of Python's docs.
pub struct PreparedDictionary(ptr::NonNull<ffi::BrotliEncoderPreparedDictionary>);

// SAFETY: the library writes a prepared dictionary only in `BrotliEncoderPrepareDictionary` and
// `BrotliEncoderDestroyPreparedDictionary`; an encoder it is attached to keeps a `const`
// pointer and only reads it (`AttachPreparedDictionary` in `enc/compound_dictionary.c`), so
// encoders on several threads may share one. Destroying it needs `&mut`, after every borrow.
unsafe impl Send for PreparedDictionary {}
unsafe impl Sync for PreparedDictionary {}

impl PreparedDictionary {
    pub fn new(dictionary: &[u8]) -> Result<PreparedDictionary, String> {
        // SAFETY: `dictionary` is valid for its length; the library copies it.
        let prepared = unsafe {
            ffi::BrotliEncoderPrepareDictionary(
                ffi::BrotliSharedDictionaryType_BROTLI_SHARED_DICTIONARY_RAW,
                dictionary.len(),
                dictionary.as_ptr(),
                QUALITY as i32,
                None,
                None,
                ptr::null_mut(),
            )
        };
        ptr::NonNull::new(prepared)
            .map(PreparedDictionary)
            .ok_or_else(|| "brotli could not prepare the dictionary".to_owned())
    }

    /// `input` compressed with the dictionary as the bytes before it.
    pub fn compress(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        // SAFETY: the encoder is created and destroyed here, and the dictionary outlives it.
        unsafe {
            let encoder = ffi::BrotliEncoderCreateInstance(None, None, ptr::null_mut());
            if encoder.is_null() {
                return Err("brotli could not create an encoder".to_owned());
            }
            let result = encode(encoder, self.0.as_ptr(), input);
            ffi::BrotliEncoderDestroyInstance(encoder);
            result
        }
    }
}

impl Drop for PreparedDictionary {
    fn drop(&mut self) {
        // SAFETY: made by `BrotliEncoderPrepareDictionary`, destroyed once; no encoder holds it
        // (each is destroyed at the end of `compress`, which borrows `self`).
        unsafe { ffi::BrotliEncoderDestroyPreparedDictionary(self.0.as_ptr()) }
    }
}

/// # Safety
/// `encoder` and `prepared` are live; `prepared` outlives this call.
unsafe fn encode(
    encoder: *mut ffi::BrotliEncoderState,
    prepared: *const ffi::BrotliEncoderPreparedDictionary,
    input: &[u8],
) -> Result<Vec<u8>, String> {
    let size_hint = u32::try_from(input.len()).unwrap_or(u32::MAX);
    for (parameter, value) in [
        (ffi::BrotliEncoderParameter_BROTLI_PARAM_QUALITY, QUALITY),
        (ffi::BrotliEncoderParameter_BROTLI_PARAM_LGWIN, WINDOW_BITS),
        (
            ffi::BrotliEncoderParameter_BROTLI_PARAM_SIZE_HINT,
            size_hint,
        ),
    ] {
        if ffi::BrotliEncoderSetParameter(encoder, parameter, value) != ffi::BROTLI_TRUE {
            return Err(format!("brotli refused parameter {parameter} = {value}"));
        }
    }
    if ffi::BrotliEncoderAttachPreparedDictionary(encoder, prepared) != ffi::BROTLI_TRUE {
        return Err("brotli could not attach the dictionary".to_owned());
    }
    let mut out = vec![0; ffi::BrotliEncoderMaxCompressedSize(input.len()).max(1024)];
    let (mut available_in, mut next_in) = (input.len(), input.as_ptr());
    let (mut available_out, mut next_out) = (out.len(), out.as_mut_ptr());
    let finished = ffi::BrotliEncoderCompressStream(
        encoder,
        ffi::BrotliEncoderOperation_BROTLI_OPERATION_FINISH,
        &mut available_in,
        &mut next_in,
        &mut available_out,
        &mut next_out,
        ptr::null_mut(),
    ) == ffi::BROTLI_TRUE
        && ffi::BrotliEncoderIsFinished(encoder) == ffi::BROTLI_TRUE;
    if !finished {
        return Err("brotli did not finish the stream in its bound".to_owned());
    }
    out.truncate(out.len() - available_out);
    Ok(out)
}

/// `input` decompressed with `dictionary`, by the reference decoder: what a browser does with a
/// `dcb` body after its header. `None` where the stream is not valid against it.
pub fn decompress(input: &[u8], dictionary: &[u8]) -> Option<Vec<u8>> {
    // SAFETY: as in `compress`; the decoder is created and destroyed here.
    unsafe {
        let decoder = ffi::BrotliDecoderCreateInstance(None, None, ptr::null_mut());
        if decoder.is_null() {
            return None;
        }
        let mut out = Vec::new();
        let attached = ffi::BrotliDecoderAttachDictionary(
            decoder,
            ffi::BrotliSharedDictionaryType_BROTLI_SHARED_DICTIONARY_RAW,
            dictionary.len(),
            dictionary.as_ptr(),
        ) == ffi::BROTLI_TRUE;
        let (mut available_in, mut next_in) = (input.len(), input.as_ptr());
        let mut result = ffi::BrotliDecoderResult_BROTLI_DECODER_RESULT_ERROR;
        if attached {
            loop {
                let mut chunk = [0u8; 64 * 1024];
                let (mut available_out, mut next_out) = (chunk.len(), chunk.as_mut_ptr());
                result = ffi::BrotliDecoderDecompressStream(
                    decoder,
                    &mut available_in,
                    &mut next_in,
                    &mut available_out,
                    &mut next_out,
                    ptr::null_mut(),
                );
                out.extend_from_slice(&chunk[..chunk.len() - available_out]);
                if result != ffi::BrotliDecoderResult_BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT {
                    break;
                }
            }
        }
        ffi::BrotliDecoderDestroyInstance(decoder);
        // Whole: the stream ended, and nothing follows it.
        let whole =
            result == ffi::BrotliDecoderResult_BROTLI_DECODER_RESULT_SUCCESS && available_in == 0;
        whole.then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DICTIONARY: &[u8] = b"<header><nav>the site's navigation, the same on every page</nav>\n";

    fn compress(input: &[u8], dictionary: &[u8]) -> Result<Vec<u8>, String> {
        PreparedDictionary::new(dictionary)?.compress(input)
    }

    #[test]
    fn a_stream_made_with_a_dictionary_decodes_only_with_it() {
        let page = b"<header><nav>the site's navigation, the same on every page</nav>\n<p>own</p>";
        let other = b"<footer>something else entirely, of the same length as the one</footer>\n";
        let with = compress(page, DICTIONARY).unwrap();
        let with_other = compress(page, other).unwrap();
        assert!(
            with.len() < with_other.len(),
            "{} vs {}",
            with.len(),
            with_other.len()
        );
        assert_eq!(decompress(&with, DICTIONARY).as_deref(), Some(&page[..]));
        assert_ne!(decompress(&with, other).as_deref(), Some(&page[..]));
    }

    #[test]
    fn one_prepared_dictionary_serves_encoders_on_several_threads_alike() {
        let prepared = PreparedDictionary::new(DICTIONARY).unwrap();
        let page = b"<header><nav>the site's navigation, the same on every page</nav>\n<p>one</p>";
        let alone = prepared.compress(page).unwrap();
        std::thread::scope(|scope| {
            let encoders: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| prepared.compress(page).unwrap()))
                .collect();
            for encoder in encoders {
                assert_eq!(encoder.join().unwrap(), alone);
            }
        });
        assert_eq!(decompress(&alone, DICTIONARY).as_deref(), Some(&page[..]));
    }

    #[test]
    fn a_damaged_stream_is_refused() {
        let stream = compress(b"some page text, long enough to matter", DICTIONARY).unwrap();
        assert_eq!(decompress(&stream[..stream.len() / 2], DICTIONARY), None);
        assert_eq!(decompress(&[&stream[..], b"x"].concat(), DICTIONARY), None);
    }
}
