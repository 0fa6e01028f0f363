//! runtime-shim under attack and restart, on loopback, with bounded loops: slow-header
//! connections must not starve normal clients, and a SIGTERM under load must lose nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use testkit::client::Connection;
use testkit::runtime_shim;
use testkit::servers::{Server, Signal};

#[test]
fn five_hundred_slowloris_connections_do_not_stall_a_normal_client() {
    // A header timeout longer than the test: the slow connections stay open throughout.
    let server = Server::native(runtime_shim!(), &["--header-timeout", "60"], &[]).unwrap();
    let mut slow = Vec::new();
    for _ in 0..500 {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .unwrap();
        slow.push(stream);
    }
    // Every normal request must be answered; the client's read timeout (10 s) fails the test
    // if the server were stuck behind the slow ones.
    for _ in 0..50 {
        let reply = Connection::open(server.addr)
            .unwrap()
            .send("GET", b"/", &[])
            .unwrap();
        assert_eq!(reply.status, 200);
    }
    // The slow connections are still there, waiting: nothing was sacrificed to serve others.
    for stream in &mut slow[..10] {
        stream.write_all(b"1\r\n\r\n").unwrap();
    }
    let mut stream = slow.pop().unwrap();
    stream.write_all(b"1\r\n\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
}

enum Outcome {
    Served,
    /// The connection was refused: only allowed once the listener is closed.
    Refused,
    /// Accepted, but the answer was cut or wrong: never allowed.
    Lost(String),
}

#[test]
fn sigterm_under_load_serves_every_accepted_request_and_exits_0() {
    let server = Server::native(runtime_shim!(), &["--log-level", "info"], &[]).unwrap();
    let addr = server.addr;
    let page = hello_world::site::lookup("index.html")
        .unwrap()
        .identity
        .body
        .len();
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (stop, outcomes) = (Arc::clone(&stop), Arc::clone(&outcomes));
            std::thread::spawn(move || {
                // Bounded: at most 20 000 requests per client.
                for _ in 0..20_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let outcome = match Connection::open(addr) {
                        Err(_) => Outcome::Refused,
                        Ok(mut c) => match c.send("GET", b"/", &[("Connection", "close")]) {
                            Ok(reply) if reply.status == 200 && reply.body.len() == page => {
                                Outcome::Served
                            }
                            Ok(reply) => Outcome::Lost(format!(
                                "status {} with {} bytes",
                                reply.status,
                                reply.body.len()
                            )),
                            Err(e) => Outcome::Lost(e.to_string()),
                        },
                    };
                    let refused = matches!(outcome, Outcome::Refused);
                    outcomes.lock().unwrap().push(outcome);
                    if refused {
                        break;
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    server.send_signal(Signal::Term);
    assert_eq!(server.wait(Duration::from_secs(30)), Some(0), "exit status");
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    let outcomes = outcomes.lock().unwrap();
    let served = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Served))
        .count();
    let lost: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Lost(why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        served > 100,
        "the load was too light to mean anything: {served} requests"
    );
    assert!(
        lost.is_empty(),
        "{} of {} accepted requests were lost: {:?}",
        lost.len(),
        outcomes.len(),
        &lost[..lost.len().min(5)]
    );
    let output = server.output.lock().unwrap().clone();
    let closed = output
        .find("msg=\"listener closed\"")
        .expect("the listener closed");
    assert!(output.find("msg=\"shutting down\" signal=SIGTERM").unwrap() < closed);
    assert!(
        output.contains("msg=stopped open_connections=0"),
        "{output}"
    );
}

#[test]
fn during_the_drain_delay_kept_alive_connections_close_and_new_ones_serve_one_request() {
    let server = Server::native(runtime_shim!(), &["--drain-delay", "3"], &[]).unwrap();
    let mut kept = Connection::open(server.addr).unwrap();
    assert_eq!(kept.send("GET", b"/", &[]).unwrap().status, 200);
    server.send_signal(Signal::Term);
    std::thread::sleep(Duration::from_millis(500));
    // The idle keep-alive connection is closed, so the client's next request reconnects
    // (through the Service: to a pod that stays).
    assert_eq!(kept.read_rest().unwrap(), b"");
    // A connection made during the drain is served, once.
    let reply = Connection::open(server.addr)
        .unwrap()
        .send("GET", b"/", &[])
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("connection").as_deref(), Some("close"));
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
}

#[test]
fn drain_delay_keeps_serving_new_connections_after_sigterm() {
    let server = Server::native(runtime_shim!(), &["--drain-delay", "2"], &[]).unwrap();
    server.send_signal(Signal::Term);
    std::thread::sleep(Duration::from_millis(500));
    // Within the drain delay: a new connection is accepted and served.
    let reply = Connection::open(server.addr)
        .unwrap()
        .send("GET", b"/", &[])
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
    assert!(TcpStream::connect_timeout(&server.addr, Duration::from_secs(1)).is_err());
}
