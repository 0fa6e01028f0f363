//! What runtime-shim adds around the core, tested on the real binary over loopback: limits,
//! timeouts, graceful shutdown, logging and configuration.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::client::Connection;
use testkit::runtime_shim;
use testkit::servers::{send_signal, Server, Signal};

fn start(args: &[&str]) -> Server {
    Server::native(runtime_shim!(), args, &[]).expect("runtime-shim starts")
}

fn raw(addr: std::net::SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection; how long that took.
fn time_until_closed(mut stream: TcpStream) -> Duration {
    let started = Instant::now();
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
    started.elapsed()
}

#[test]
fn header_block_over_16_kib_gets_431() {
    let server = start(&[]);
    let big = "x".repeat(20 * 1024);
    let reply = Connection::open(server.addr)
        .unwrap()
        .send("GET", b"/", &[("X-Big", &big)])
        .unwrap();
    assert_eq!(reply.status, 431);
}

#[test]
fn more_than_64_header_fields_get_431() {
    let server = start(&[]);
    let names: Vec<String> = (0..80).map(|i| format!("X-Field-{i}")).collect();
    let headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let reply = Connection::open(server.addr)
        .unwrap()
        .send("GET", b"/", &headers)
        .unwrap();
    assert_eq!(reply.status, 431);
}

#[test]
fn slow_request_head_is_cut_off_by_the_header_timeout() {
    let server = start(&["--header-timeout", "1", "--idle-timeout", "30"]);
    let mut stream = raw(server.addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    // Keep trickling bytes: each one is progress, but the head as a whole takes too long.
    let trickle = std::thread::spawn({
        let mut stream = stream.try_clone().unwrap();
        move || {
            for _ in 0..20 {
                std::thread::sleep(Duration::from_millis(200));
                if stream.write_all(b"X-Slow: 1\r\n").is_err() {
                    break;
                }
            }
        }
    });
    let waited = time_until_closed(stream);
    assert!(waited < Duration::from_secs(3), "closed after {waited:?}");
    trickle.join().unwrap();
}

#[test]
fn silent_new_connection_is_closed_by_the_header_timeout() {
    let server = start(&["--header-timeout", "1"]);
    let waited = time_until_closed(raw(server.addr));
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[test]
fn idle_keep_alive_connection_lives_until_the_idle_timeout() {
    let server = start(&["--header-timeout", "1", "--idle-timeout", "2"]);
    let mut connection = Connection::open(server.addr).unwrap();
    assert_eq!(connection.send("GET", b"/", &[]).unwrap().status, 200);
    // Longer than the header timeout, shorter than the idle timeout: still open.
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(connection.send("GET", b"/", &[]).unwrap().status, 200);
    let started = Instant::now();
    let rest = connection.read_rest();
    assert!(rest.map(|r| r.is_empty()).unwrap_or(true));
    let waited = started.elapsed();
    assert!(
        waited > Duration::from_millis(1500) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
}

#[test]
fn sigterm_lets_in_flight_responses_finish_then_exits_0() {
    let server = start(&[]);
    let big = hello_world::site::assets()
        .iter()
        .max_by_key(|a| a.identity.body.len())
        .unwrap();
    let expected = big.identity.body.len();
    // Ask for the largest file and do not read yet: the response stays in flight, blocked on
    // the socket buffers.
    let mut slow = raw(server.addr);
    slow.write_all(format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", big.path).as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));

    server.send_signal(Signal::Term);
    std::thread::sleep(Duration::from_millis(200));
    // The listener is closed: new connections are refused, not accepted and dropped.
    assert!(
        TcpStream::connect_timeout(&server.addr, Duration::from_secs(1)).is_err(),
        "listener still open"
    );

    let mut response = Vec::new();
    slow.read_to_end(&mut response).unwrap();
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(response.starts_with(b"HTTP/1.1 200"));
    assert_eq!(
        response.len() - head_end,
        expected,
        "the in-flight body arrived whole"
    );
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
    let output = server.output.lock().unwrap().clone();
    assert!(
        output.contains("msg=\"shutting down\" signal=SIGTERM"),
        "{output}"
    );
}

#[test]
fn a_request_body_is_read_before_the_answer_and_the_connection_stays_open() {
    let server = start(&[]);
    let mut connection = Connection::open(server.addr).unwrap();
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n".to_vec();
    request.resize(request.len() + (1 << 20), b'x');
    let reply = connection.send_raw(&request, false).unwrap();
    assert_eq!(reply.status, 200);
    assert!(!reply.has("connection"), "{:?}", reply.headers);
    assert_eq!(connection.send("GET", b"/", &[]).unwrap().status, 200);
}

#[test]
fn a_body_too_long_to_read_first_is_read_after_the_answer_but_not_waited_for_long() {
    // Past what is read before answering, the answer says `Connection: close`, and the server
    // shuts its side; it keeps reading while the body arrives (so the client is not reset
    // before it reads), but not for a client that stops sending and stays open.
    let server = start(&[]);
    let mut stream = raw(server.addr);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        .unwrap();
    stream.write_all(&vec![b'x'; 17 << 20]).unwrap();
    let mut answer = Vec::new();
    stream
        .try_clone()
        .unwrap()
        .read_to_end(&mut answer)
        .unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    let head = String::from_utf8_lossy(&answer[..answer.len().min(2048)]).to_ascii_lowercase();
    assert!(head.contains("connection: close"), "{head}");
    // Still read: more of the body is taken in after the answer has ended.
    std::thread::sleep(Duration::from_millis(1000));
    stream.write_all(&[b'x'; 1 << 20]).unwrap();
    // Then nothing for longer than the server waits: its socket is gone, and the next bytes
    // meet a reset.
    std::thread::sleep(Duration::from_millis(3500));
    let refused = (0..3).any(|_| {
        let failed = stream.write_all(b"x").is_err();
        std::thread::sleep(Duration::from_millis(50));
        failed
    });
    assert!(refused, "the server still reads after 3.5 s of silence");
}

#[test]
fn while_draining_the_health_path_says_503_and_the_site_is_still_served() {
    let server = start(&["--drain-delay", "2"]);
    let health = |server: &Server| {
        Connection::open(server.addr)
            .and_then(|mut c| c.send("GET", hello_world::HEALTH_PATH.as_bytes(), &[]))
            .unwrap()
    };
    assert_eq!(health(&server).status, 200);
    server.send_signal(Signal::Term);
    std::thread::sleep(Duration::from_millis(200));
    let probe = health(&server);
    assert_eq!(
        probe.status, 503,
        "the readiness probe fails while draining"
    );
    assert_eq!(probe.header("connection").as_deref(), Some("close"));
    assert_eq!(probe.header("cache-control").as_deref(), Some("no-store"));
    let page = Connection::open(server.addr)
        .and_then(|mut c| c.send("GET", b"/", &[]))
        .unwrap();
    assert_eq!(
        page.status, 200,
        "pages are served until the listener closes"
    );
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
}

#[test]
fn idle_connections_do_not_delay_shutdown() {
    let server = start(&[]);
    let mut idle = Connection::open(server.addr).unwrap();
    assert_eq!(idle.send("GET", b"/", &[]).unwrap().status, 200);
    let started = Instant::now();
    server.send_signal(Signal::Int);
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn access_log_has_one_line_per_request() {
    let server = start(&[]);
    let reply = Connection::open(server.addr)
        .unwrap()
        .send("GET", b"/architecture/?x=1", &[])
        .unwrap();
    let missing = Connection::open(server.addr)
        .unwrap()
        .send("HEAD", b"/nope", &[])
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let output = server.output.lock().unwrap().clone();
    // logfmt quotes a value with '=' in it.
    let line = format!(
        "level=info method=GET path=\"/architecture/?x=1\" status=200 bytes={} duration_us=",
        reply.body.len()
    );
    assert!(output.contains(&line), "{output}");
    assert_eq!(missing.status, 404);
    assert!(
        output.contains("method=HEAD path=/nope status=404 bytes=0 duration_us="),
        "{output}"
    );
}

#[test]
fn log_level_warn_silences_access_lines() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_runtime-shim"))
        .args(["--listen", &free.to_string()])
        .env("LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let reply = loop {
        match Connection::open(free).and_then(|mut c| c.send("GET", b"/", &[])) {
            Ok(reply) => break reply,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("runtime-shim never answered: {e}"),
        }
    };
    assert_eq!(reply.status, 200);
    send_signal(child.id(), Signal::Term);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "",
        "warn prints neither start-up nor access lines"
    );
}

#[test]
fn startup_line_reports_the_site_figures() {
    let server = start(&[]);
    let output = server.output.lock().unwrap().clone();
    let figures = hello_world::site::figures();
    let expected = format!(
        "files={} raw_bytes={} brotli_bytes={} gzip_bytes={} dcb_bytes={} dcz_bytes={} stored_bytes={}",
        figures.files,
        figures.raw_bytes,
        figures.brotli_bytes,
        figures.gzip_bytes,
        figures.dcb_bytes,
        figures.dcz_bytes,
        figures.stored_bytes
    );
    assert!(
        output.lines().next().unwrap().contains(&expected),
        "{output}"
    );
}

#[test]
fn port_env_sets_the_port_and_listen_beats_it() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server::native(
        runtime_shim!(),
        &["--listen", &format!("127.0.0.1:{free}")],
        &[("PORT", "1")],
    )
    .unwrap();
    assert_eq!(server.addr.port(), free);
    let output = Command::new(env!("CARGO_BIN_EXE_runtime-shim"))
        .env("PORT", "http")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("PORT=\"http\""));
}

#[test]
fn bad_arguments_exit_2_and_say_why() {
    for args in [
        &["--listen", "nowhere"][..],
        &["--bogus"],
        &["--idle-timeout", "-1"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_runtime-shim"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!output.stderr.is_empty());
    }
    let help = Command::new(env!("CARGO_BIN_EXE_runtime-shim"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success() && String::from_utf8_lossy(&help.stdout).contains("--listen"));
}
