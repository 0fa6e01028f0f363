//! Writes the seed corpus of the `respond` target from testkit/corpus/bad-requests.txt, in the
//! target's input layout (method, target, header lines, newline-separated), so the fuzzer
//! starts from every hostile shape the suites already know.

use std::path::PathBuf;

use testkit::corpus;

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: write-seeds DIR"));
    std::fs::create_dir_all(&dir).expect("cannot create the corpus folder");
    // `http:` vectors exist for the HTTP layer's size limits; the core never sees them.
    for vector in corpus::load().into_iter().filter(|v| !v.http_only) {
        let mut seed = b"GET\n".to_vec();
        seed.extend_from_slice(&vector.target);
        // dcb and dcz too, so that the Available-Dictionary vectors reach the dictionary rule.
        seed.extend_from_slice(b"\naccept-encoding: br, gzip, dcb, dcz");
        if let Some((name, value)) = &vector.header {
            seed.push(b'\n');
            seed.extend_from_slice(name.as_bytes());
            seed.extend_from_slice(b": ");
            seed.extend_from_slice(value);
        }
        std::fs::write(dir.join(format!("line-{:03}", vector.line)), seed)
            .expect("cannot write a seed");
    }
}
