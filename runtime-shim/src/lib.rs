//! The native server as a library: the binary (`main.rs`) parses its settings and serves, and
//! the conformance suite (`conformance/`) serves the same way in its own process.

mod blob_file;
pub mod config;
mod handler;
mod listener_close;
pub mod log;
mod metrics;
mod not_ready;
mod sendfile;
pub mod server;
mod timeouts;
mod unread_body;
