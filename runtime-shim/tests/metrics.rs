//! The metrics listener on the real binary: after a known set of requests, the exposition's
//! counters equal that set, the histogram counts each request once, and the bytes by coding are
//! the bodies' bytes. And `--log-format json`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::client::Connection;
use testkit::runtime_shim;
use testkit::servers::Server;

fn start(args: &[&str]) -> (Server, SocketAddr) {
    let mut all = vec!["--metrics-listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let server = Server::native(runtime_shim!(), &all, &[]).expect("runtime-shim starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let output = server.output.lock().unwrap().clone();
        let metrics = output
            .lines()
            .filter(|line| line.contains("msg=\"metrics listening\""))
            .find_map(|line| line.split(' ').find_map(|f| f.strip_prefix("addr=")))
            .and_then(|addr| addr.parse().ok());
        if let Some(metrics) = metrics {
            return (server, metrics);
        }
        assert!(Instant::now() < deadline, "no metrics address in {output}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The samples of a Prometheus text exposition, by name and sorted labels: `# HELP`/`# TYPE`
/// lines are checked to come before their samples, every sample line to be `name{labels}
/// value` with a number.
fn samples(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
        };
        let key = match series.split_once('{') {
            Some((name, labels)) => {
                let mut labels: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
                labels.sort_unstable();
                format!("{name}{{{}}}", labels.join(","))
            }
            None => series.to_owned(),
        };
        assert!(
            samples.insert(key, value).is_none(),
            "a series twice: {line}"
        );
    }
    samples
}

fn scrape(metrics: SocketAddr) -> (String, HashMap<String, f64>) {
    let reply = Connection::open(metrics)
        .unwrap()
        .send("GET", b"/metrics", &[])
        .unwrap();
    assert_eq!(reply.status, 200);
    let content_type = reply.header("content-type").unwrap();
    let text = String::from_utf8(reply.body).unwrap();
    let parsed = samples(&text);
    (content_type, parsed)
}

fn requests(samples: &HashMap<String, f64>, method: &str, status: &str, answered: &str) -> f64 {
    let key = format!(
        "http_requests_total{{answered=\"{answered}\",method=\"{method}\",status=\"{status}\"}}"
    );
    *samples.get(&key).unwrap_or_else(|| panic!("no {key}"))
}

#[test]
fn the_counters_equal_the_requests_made() {
    let (server, metrics) = start(&[]);
    let get = |target: &[u8], headers: &[(&str, &str)]| {
        Connection::open(server.addr)
            .unwrap()
            .send("GET", target, headers)
            .unwrap()
    };
    let mut bodies = HashMap::<&str, usize>::new();
    for _ in 0..3 {
        let page = get(b"/", &[]);
        assert_eq!(page.status, 200);
        *bodies.entry("identity").or_default() += page.body.len();
    }
    let brotli = get(b"/", &[("Accept-Encoding", "br")]);
    assert_eq!(brotli.header("content-encoding").as_deref(), Some("br"));
    *bodies.entry("br").or_default() += brotli.body.len();
    let missing = get(b"/no/such/page/", &[]);
    assert_eq!(missing.status, 404);
    *bodies.entry("identity").or_default() += missing.body.len();
    let redirect = get(b"/architecture", &[]);
    assert_eq!(redirect.status, 308);
    *bodies.entry("identity").or_default() += redirect.body.len();
    let health = Connection::open(server.addr)
        .unwrap()
        .send("HEAD", b"/.healthz", &[])
        .unwrap();
    assert_eq!(health.status, 200);
    let post = Connection::open(server.addr)
        .unwrap()
        .send("POST", b"/", &[("Content-Length", "0")])
        .unwrap();
    assert_eq!(post.status, 405);
    *bodies.entry("identity").or_default() += post.body.len();
    std::thread::sleep(Duration::from_millis(100)); // the last bodies' drop records them

    let (content_type, samples) = scrape(metrics);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(requests(&samples, "GET", "2xx", "page"), 4.0);
    assert_eq!(requests(&samples, "GET", "4xx", "not_found"), 1.0);
    assert_eq!(requests(&samples, "GET", "3xx", "redirect"), 1.0);
    assert_eq!(requests(&samples, "HEAD", "2xx", "health"), 1.0);
    // testkit's readiness check, before the test's own requests.
    assert_eq!(requests(&samples, "GET", "2xx", "health"), 1.0);
    assert_eq!(requests(&samples, "other", "4xx", "rejected"), 1.0);
    let all: f64 = samples
        .iter()
        .filter(|(k, _)| k.starts_with("http_requests_total{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(all, 9.0, "no other series counted anything");
    assert_eq!(samples["http_request_duration_seconds_count"], 9.0);
    assert_eq!(
        samples["http_request_duration_seconds_bucket{le=\"+Inf\"}"],
        9.0
    );
    assert!(samples["http_request_duration_seconds_sum"] > 0.0);
    *bodies.entry("identity").or_default() += "ok\n".len(); // the readiness check's body
    for (encoding, bytes) in &bodies {
        let key = format!("http_response_body_bytes_total{{encoding=\"{encoding}\"}}");
        assert_eq!(samples[&key], *bytes as f64, "{key}");
    }
    assert_eq!(samples["http_connections_accepted_total"], 9.0);
    assert_eq!(samples["http_connections_open"], 0.0);
    let build = samples
        .keys()
        .find(|k| k.starts_with("runtime_shim_build_info{"))
        .expect("build info");
    assert!(build.contains(&format!("site_digest=\"{}\"", hello_world::site::DIGEST)));
    assert!(build.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))));
    assert!(samples["process_resident_memory_bytes"] > 0.0);
    assert!(samples["process_open_fds"] > 0.0);
}

#[test]
fn a_connection_cut_off_by_the_header_timeout_is_counted() {
    let (server, metrics) = start(&["--header-timeout", "1"]);
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, samples) = scrape(metrics);
        if samples["http_connections_timed_out_total{timeout=\"header\"}"] == 1.0 {
            assert_eq!(
                samples["http_connections_timed_out_total{timeout=\"idle\"}"],
                0.0
            );
            break;
        }
        assert!(Instant::now() < deadline, "not counted: {samples:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn prometheus_gets_openmetrics_when_it_asks() {
    let (_server, metrics) = start(&[]);
    let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let reply = Connection::open(metrics)
        .unwrap()
        .send("GET", b"/metrics", &[("Accept", accept)])
        .unwrap();
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(String::from_utf8(reply.body).unwrap().ends_with("# EOF\n"));
}

#[test]
fn the_metrics_listener_answers_only_get_metrics() {
    let (_server, metrics) = start(&[]);
    let other = Connection::open(metrics)
        .unwrap()
        .send("GET", b"/", &[])
        .unwrap();
    assert_eq!(other.status, 404);
    let post = Connection::open(metrics)
        .unwrap()
        .send("POST", b"/metrics", &[("Content-Length", "0")])
        .unwrap();
    assert_eq!(post.status, 405);
}

#[test]
fn the_site_is_not_served_on_the_metrics_port_and_metrics_are_off_by_default() {
    let server = Server::native(runtime_shim!(), &[], &[]).unwrap();
    let reply = Connection::open(server.addr)
        .unwrap()
        .send("GET", b"/metrics", &[])
        .unwrap();
    assert_eq!(reply.status, 404, "the site's own 404, not the exposition");
    assert!(!server.output.lock().unwrap().contains("metrics listening"));
}

#[test]
fn json_logs_are_one_object_per_line_with_the_access_fields() {
    let mut child = Command::new(runtime_shim!())
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr: SocketAddr = first
        .split("\"addr\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no addr in {first}"));
    assert!(
        first.starts_with("{\"time\":\"20") && first.ends_with('}'),
        "{first}"
    );
    Connection::open(addr)
        .unwrap()
        .send("GET", b"/a\"b", &[])
        .unwrap();
    let access = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        access.contains(
            "\"level\":\"info\",\"method\":\"GET\",\"path\":\"/a\\\"b\",\"status\":404,\"bytes\":"
        ),
        "{access}"
    );
    assert!(access.contains("\"duration_us\":"), "{access}");
}
