//! Starting the servers under test on free loopback ports: the native binary, and the wasm
//! component under `wasmtime serve`.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client::Connection;

/// The signals a server is stopped with.
#[derive(Clone, Copy, Debug)]
pub enum Signal {
    Term,
    Int,
}

/// Sends `signal` to process `pid` with kill(2) itself: a minimal Debian image (CI's
/// `debian:bookworm`) has no `kill` command.
pub fn send_signal(pid: u32, signal: Signal) {
    let number = match signal {
        Signal::Term => libc::SIGTERM,
        Signal::Int => libc::SIGINT,
    };
    let pid = libc::pid_t::try_from(pid).expect("a pid fits pid_t");
    // SAFETY: kill(2) takes no pointers; a wrong pid or signal is an error return, not UB.
    let result = unsafe { libc::kill(pid, number) };
    assert_eq!(
        result,
        0,
        "kill({pid}): {}",
        std::io::Error::last_os_error()
    );
}

/// The runtime-shim binary of this build, for [`Server::native`]. A macro, because cargo tells
/// only the integration tests of the `runtime-shim` package where its binary is.
#[macro_export]
macro_rules! runtime_shim {
    () => {
        std::path::Path::new(env!("CARGO_BIN_EXE_runtime-shim"))
    };
}

pub struct Server {
    child: Mutex<Child>,
    pub addr: SocketAddr,
    /// Everything the server has printed on stdout so far.
    pub output: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the runtime-shim `binary` with `args` (plus `--listen 127.0.0.1:0` unless given)
    /// and waits until it answers.
    pub fn native(binary: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Server, String> {
        let mut command = Command::new(binary);
        if !args.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command.args(args).envs(env.iter().copied());
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start runtime-shim: {e}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let output = Arc::new(Mutex::new(String::new()));
        let (found, addr) = mpsc::channel();
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line
                    .split(' ')
                    .find_map(|field| field.strip_prefix("addr="))
                    .and_then(|a| a.parse::<SocketAddr>().ok())
                {
                    if let Some(tx) = found.take() {
                        let _ = tx.send(addr);
                    }
                }
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        Server::ready(child, addr, output, "runtime-shim")
    }

    /// Starts `wasmtime serve -Scli` on the component and waits until it answers.
    pub fn wasm(wasmtime: &str, component: &Path) -> Result<Server, String> {
        let mut child = Command::new(wasmtime)
            .args(["serve", "-Scli", "--addr", "127.0.0.1:0"])
            .arg(component)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {wasmtime}: {e}"))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let output = Arc::new(Mutex::new(String::new()));
        let (found, addr) = mpsc::channel();
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            // "Serving HTTP on http://127.0.0.1:PORT/" comes without a newline.
            const PREFIX: &str = "Serving HTTP on http://";
            let mut found = Some(found);
            let mut buf = [0u8; 4096];
            let mut stderr = stderr;
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut sink = sink.lock().unwrap();
                sink.push_str(&String::from_utf8_lossy(&buf[..n]));
                if let Some(start) = sink.find(PREFIX) {
                    let rest = &sink[start + PREFIX.len()..];
                    if let Some(addr) = rest.split('/').next().and_then(|a| a.parse().ok()) {
                        if rest.contains('/') {
                            if let Some(tx) = found.take() {
                                let _ = tx.send(addr);
                            }
                        }
                    }
                }
            }
        });
        Server::ready(child, addr, output, "wasmtime serve")
    }

    fn ready(
        child: Child,
        addr: mpsc::Receiver<SocketAddr>,
        output: Arc<Mutex<String>>,
        what: &str,
    ) -> Result<Server, String> {
        let server_addr = addr.recv_timeout(Duration::from_secs(30));
        let server = Server {
            child: Mutex::new(child),
            addr: server_addr.unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0))),
            output,
        };
        if server_addr.is_err() {
            return Err(format!(
                "{what} did not say where it listens; it printed:\n{}",
                server.output.lock().unwrap()
            ));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let probe = Connection::open(server.addr)
                .and_then(|mut c| c.send("GET", hello_world::HEALTH_PATH.as_bytes(), &[]));
            match probe {
                Ok(reply) if reply.status == 200 => return Ok(server),
                _ if Instant::now() > deadline => {
                    return Err(format!("{what} on {} never became healthy", server.addr))
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap().id()
    }

    /// Sends `signal` to the server, as the kubelet (SIGTERM) or a terminal (SIGINT) would.
    pub fn send_signal(&self, signal: Signal) {
        send_signal(self.pid(), signal);
    }

    /// Waits for the process to exit by itself and returns its exit code.
    pub fn wait(&self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.lock().unwrap().try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn stop(&self) {
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
