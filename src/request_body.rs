//! Request bodies. No answer of the site reads one, but a client may send one with any request,
//! and it must not cost the client its answer: a server that answers and closes with the body
//! still arriving makes the kernel reset the connection, and a proxy in front turns that into a
//! `502` (RFC 9112, 9.6). So each shell reads and drops the body before it answers, up to this
//! many bytes; past that it answers first, then drops the rest for a while before it closes.

/// The most body bytes a shell reads and drops before it answers.
pub const READ_FIRST_BYTES: u64 = 16 * 1024 * 1024;
