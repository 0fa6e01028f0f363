//! The conformance suite's runner: every case against every target (see the crate's docs).

fn main() {
    conformance::run()
}
