//! runtime-shim: the native server for hosts and clusters without a Wasm runtime. It serves
//! the site embedded in the hello-world core on 0.0.0.0:8000, as the old
//! `python3 -m http.server 8000` container did, with the core's HTTP rules.

use std::process::ExitCode;

use runtime_shim::config::{self, Command};
use runtime_shim::log::{self, Level, Value};
use runtime_shim::server;

fn main() -> ExitCode {
    let command = config::parse(std::env::args().skip(1), |key| std::env::var(key).ok());
    let config = match command {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Help) => {
            print!("{}", config::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("runtime-shim {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("runtime-shim: {message}");
            return ExitCode::from(2);
        }
    };
    log::set_level(config.log_level);
    log::set_format(config.log_format);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("runtime-shim: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(config.listen).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("runtime-shim: cannot listen on {}: {error}", config.listen);
                return ExitCode::FAILURE;
            }
        };
        let signal = server::shutdown_signal();
        let address = listener.local_addr().unwrap_or(config.listen);
        let figures = hello_world::site::figures();
        log::event(
            Level::Info,
            "listening",
            &[
                ("addr", Value::Text(&address.to_string())),
                ("version", Value::Text(env!("CARGO_PKG_VERSION"))),
                ("site_digest", Value::Text(hello_world::site::DIGEST)),
                ("files", Value::from(figures.files)),
                ("raw_bytes", Value::from(figures.raw_bytes)),
                ("brotli_bytes", Value::from(figures.brotli_bytes)),
                ("gzip_bytes", Value::from(figures.gzip_bytes)),
                ("dcb_bytes", Value::from(figures.dcb_bytes)),
                ("dcz_bytes", Value::from(figures.dcz_bytes)),
                ("stored_bytes", Value::from(figures.stored_bytes)),
                ("health", Value::Text(hello_world::HEALTH_PATH)),
            ],
        );
        match server::serve(listener, config, signal).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("runtime-shim: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
