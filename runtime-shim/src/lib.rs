//! The native server as a library: the binary (`main.rs`) parses its settings and serves, and
//! the conformance suite (`conformance/`) serves the same way in its own process.

pub mod config;
mod handler;
mod listener_close;
pub mod log;
mod metrics;
mod metrics_listener;
mod not_ready;
mod process_metrics;
mod recorded_body;
mod sendfile;
pub mod server;
mod timeouts;
mod unread_body;
