//! What runtime-shim counts for Prometheus, and how it is exposed.
//!
//! Recording is a few relaxed atomic additions into fixed arrays: no lock, no label lookup, no
//! allocation per request. Every label's values are known in advance (the method's class, the
//! status class, the core's `Answered`, the content coding), so each series has its own counter
//! from the start. `prometheus-client` encodes them at scrape time, through a `Collector`.
//! Nothing is recorded unless the metrics listener is on (`--metrics-listen`).

pub mod listener;
mod process;
pub mod recorded_body;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use hello_world::Answered;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

const METHODS: [&str; 3] = ["GET", "HEAD", "other"];
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const ANSWERED: usize = Answered::ALL.len();
/// Identity first: a response without `Content-Encoding` counts there.
const ENCODINGS: [&str; 5] = ["identity", "br", "gzip", "dcb", "dcz"];
const TIMEOUTS: [&str; 2] = ["header", "idle"];

/// Upper bounds in nanoseconds: a page from memory takes tens of microseconds, the largest files
/// a few milliseconds to hand to the socket (see the performance page), so the buckets are dense
/// from 10 µs to 5 ms and sparse beyond, where only a slow client or a stalled pod lands.
const BUCKETS_NS: [u64; 14] = [
    10_000,
    25_000,
    50_000,
    75_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    50_000_000,
    250_000_000,
    1_000_000_000,
];

/// The request a connection's handler is recording: its labels, fixed before the body is sent.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    method: usize,
    status_class: usize,
    answered: usize,
    encoding: usize,
}

impl Request {
    pub fn new(method: &str, status: u16, answered: Answered, encoding: Option<&str>) -> Self {
        Request {
            method: match method {
                "GET" => 0,
                "HEAD" => 1,
                _ => 2,
            },
            status_class: usize::from(status / 100)
                .saturating_sub(1)
                .min(STATUS_CLASSES.len() - 1),
            // `Answered::ALL` lists the variants in declaration order (a test holds it).
            answered: answered as usize,
            encoding: encoding
                .and_then(|coding| ENCODINGS.iter().position(|&e| e == coding))
                .unwrap_or(0),
        }
    }
}

pub struct Metrics {
    enabled: AtomicBool,
    requests: [[[AtomicU64; ANSWERED]; STATUS_CLASSES.len()]; METHODS.len()],
    /// Per bucket, not cumulative; the last is +Inf.
    duration_buckets: [AtomicU64; BUCKETS_NS.len() + 1],
    duration_sum_ns: AtomicU64,
    response_bytes: [AtomicU64; ENCODINGS.len()],
    connections_open: AtomicI64,
    connections_accepted: AtomicU64,
    connections_timed_out: [AtomicU64; TIMEOUTS.len()],
}

/// The process's one set of metrics: the handler, the connections and the timeouts record into
/// it wherever they run, without passing it around.
pub static METRICS: Metrics = Metrics::new();

impl Metrics {
    #[allow(clippy::declare_interior_mutable_const)] // a template for the arrays, copied
    const fn new() -> Self {
        const ZERO: AtomicU64 = AtomicU64::new(0);
        const BY_ANSWERED: [AtomicU64; ANSWERED] = [ZERO; ANSWERED];
        const BY_STATUS: [[AtomicU64; ANSWERED]; STATUS_CLASSES.len()] =
            [BY_ANSWERED; STATUS_CLASSES.len()];
        Metrics {
            enabled: AtomicBool::new(false),
            requests: [BY_STATUS; METHODS.len()],
            duration_buckets: [ZERO; BUCKETS_NS.len() + 1],
            duration_sum_ns: ZERO,
            response_bytes: [ZERO; ENCODINGS.len()],
            connections_open: AtomicI64::new(0),
            connections_accepted: ZERO,
            connections_timed_out: [ZERO; TIMEOUTS.len()],
        }
    }

    /// Turns recording on: the server does, when it starts the metrics listener.
    pub fn enable(&self) {
        self.enabled.store(true, Relaxed);
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Relaxed)
    }

    /// A request answered: its body of `bytes` handed to the socket after `duration`.
    pub fn request(&self, request: Request, bytes: usize, duration: Duration) {
        self.requests[request.method][request.status_class][request.answered].fetch_add(1, Relaxed);
        self.response_bytes[request.encoding].fetch_add(bytes as u64, Relaxed);
        let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BUCKETS_NS
            .iter()
            .position(|bound| ns <= *bound)
            .unwrap_or(BUCKETS_NS.len());
        self.duration_buckets[bucket].fetch_add(1, Relaxed);
        self.duration_sum_ns.fetch_add(ns, Relaxed);
    }

    pub fn connection_opened(&self) {
        if self.enabled() {
            self.connections_accepted.fetch_add(1, Relaxed);
            self.connections_open.fetch_add(1, Relaxed);
        }
    }

    pub fn connection_closed(&self) {
        if self.enabled() {
            self.connections_open.fetch_sub(1, Relaxed);
        }
    }

    /// A connection closed by a timeout: `header` (a request head too slow) or `idle`.
    pub fn timed_out(&self, header: bool) {
        if self.enabled() {
            self.connections_timed_out[usize::from(!header)].fetch_add(1, Relaxed);
        }
    }
}

/// The exposition of [`METRICS`], the build's identity and the process, for a
/// `prometheus_client` registry.
#[derive(Debug)]
pub struct Exposition;

impl Collector for Exposition {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let m = &METRICS;

        let mut family = encoder.encode_descriptor(
            "http_requests",
            "Requests answered, by method, status class and what answered them (the core's route)",
            None,
            MetricType::Counter,
        )?;
        for (method, by_status) in METHODS.iter().zip(&m.requests) {
            for (status, by_answered) in STATUS_CLASSES.iter().zip(by_status) {
                for (answered, count) in Answered::ALL.iter().zip(by_answered) {
                    let labels = [
                        ("method", *method),
                        ("status", *status),
                        ("answered", answered.as_str()),
                    ];
                    ConstCounter::new(count.load(Relaxed))
                        .encode(family.encode_family(&labels)?)?;
                }
            }
        }

        let histogram = encoder.encode_descriptor(
            "http_request_duration",
            "From the request's head, parsed, to its body handed to the socket",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        // Per bucket: the encoder sums them into the cumulative `le` counts.
        let buckets: Vec<(f64, u64)> = m
            .duration_buckets
            .iter()
            .enumerate()
            .map(|(i, count)| {
                let bound = BUCKETS_NS
                    .get(i)
                    .map_or(f64::INFINITY, |ns| *ns as f64 / 1e9);
                (bound, count.load(Relaxed))
            })
            .collect();
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = m.duration_sum_ns.load(Relaxed) as f64 / 1e9;
        encode_histogram(histogram, sum, count, &buckets)?;

        let mut family = encoder.encode_descriptor(
            "http_response_body",
            "Bytes of response bodies handed to the socket, by content coding",
            Some(&Unit::Bytes),
            MetricType::Counter,
        )?;
        for (encoding, bytes) in ENCODINGS.iter().zip(&m.response_bytes) {
            ConstCounter::new(bytes.load(Relaxed))
                .encode(family.encode_family(&[("encoding", *encoding)])?)?;
        }

        let gauge = encoder.encode_descriptor(
            "http_connections_open",
            "Connections open now",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(m.connections_open.load(Relaxed)).encode(gauge)?;
        let counter = encoder.encode_descriptor(
            "http_connections_accepted",
            "Connections accepted",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(m.connections_accepted.load(Relaxed)).encode(counter)?;
        let mut family = encoder.encode_descriptor(
            "http_connections_timed_out",
            "Connections closed by a timeout: header (--header-timeout) or idle (--idle-timeout)",
            None,
            MetricType::Counter,
        )?;
        for (timeout, count) in TIMEOUTS.iter().zip(&m.connections_timed_out) {
            ConstCounter::new(count.load(Relaxed))
                .encode(family.encode_family(&[("timeout", *timeout)])?)?;
        }

        let info = encoder.encode_descriptor(
            "runtime_shim_build",
            "The running release: its version and the digest of the site it serves",
            None,
            MetricType::Info,
        )?;
        prometheus_client::metrics::info::Info::new([
            ("version", env!("CARGO_PKG_VERSION")),
            ("site_digest", hello_world::site::DIGEST),
        ])
        .encode(info)?;

        process::encode(&mut encoder)
    }
}

fn encode_histogram(
    mut encoder: prometheus_client::encoding::MetricEncoder<'_>,
    sum: f64,
    count: u64,
    buckets: &[(f64, u64)],
) -> Result<(), std::fmt::Error> {
    encoder.encode_histogram::<prometheus_client::encoding::NoLabelSet>(sum, count, buckets, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_fall_into_their_class() {
        for (status, class) in [(101, "1xx"), (200, "2xx"), (308, "3xx"), (404, "4xx")] {
            let request = Request::new("GET", status, Answered::Page, None);
            assert_eq!(STATUS_CLASSES[request.status_class], class);
        }
        let odd = Request::new("GET", 999, Answered::Page, None);
        assert_eq!(STATUS_CLASSES[odd.status_class], "5xx");
    }

    #[test]
    fn each_answered_is_counted_under_its_own_label() {
        for (i, answered) in Answered::ALL.iter().enumerate() {
            let request = Request::new("GET", 200, *answered, None);
            assert_eq!(request.answered, i);
        }
    }

    #[test]
    fn methods_other_than_get_and_head_share_one_label() {
        for (method, label) in [("GET", "GET"), ("HEAD", "HEAD"), ("POST", "other")] {
            let request = Request::new(method, 200, Answered::Page, None);
            assert_eq!(METHODS[request.method], label);
        }
    }

    #[test]
    fn a_duration_lands_in_the_first_bucket_that_holds_it() {
        let metrics = Metrics::new();
        let request = Request::new("GET", 200, Answered::Page, Some("br"));
        metrics.request(request, 100, Duration::from_micros(50));
        metrics.request(request, 100, Duration::from_micros(51));
        metrics.request(request, 100, Duration::from_secs(5));
        let counts: Vec<u64> = metrics
            .duration_buckets
            .iter()
            .map(|b| b.load(Relaxed))
            .collect();
        assert_eq!(counts[2], 1, "50 µs is in the 50 µs bucket");
        assert_eq!(counts[3], 1, "51 µs is in the 75 µs bucket");
        assert_eq!(counts[BUCKETS_NS.len()], 1, "5 s is only in +Inf");
        assert_eq!(metrics.response_bytes[1].load(Relaxed), 300);
    }
}
