//! The HTTP text rules that both sides of the build need: the site compiler writes dates and
//! checks configured header values at build time, the core parses dates at request time, and
//! the tests check every value the core sends. One crate, so the date the table stores and the
//! date the core compares with are written and read by the same code.

pub mod field_value;
pub mod http_date;
pub mod path;
