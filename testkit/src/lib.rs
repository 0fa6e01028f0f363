//! What the tests share, so each rule of testing is written once: a raw HTTP/1.1 client that
//! sends the exact bytes a test wants ([`client`]), the servers under test on free loopback
//! ports ([`servers`]), the bad-input corpus ([`corpus`]), and what every response of the
//! core must satisfy ([`invariants`]). Dev-only: no shipped crate depends on it.

pub mod client;
pub mod corpus;
pub mod invariants;
pub mod servers;
