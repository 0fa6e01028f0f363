//! Command line and environment settings.

use std::net::SocketAddr;
use std::time::Duration;

use crate::log::{Format, Level};

pub const USAGE: &str = "\
runtime-shim: serves the embedded docs site over HTTP/1.1

Usage: runtime-shim [options]

Options (an option beats its environment variable):
  --listen ADDR            address to bind [default: 0.0.0.0:8000, or 0.0.0.0:$PORT]
  --log-level LEVEL        error, warn, info (one line per request) or debug [env LOG_LEVEL; default: info]
  --log-format FORMAT      logfmt or json (one object per line, with an RFC 3339 time)
                           [env LOG_FORMAT; default: logfmt]
  --metrics-listen ADDR    serve Prometheus metrics at http://ADDR/metrics, such as
                           0.0.0.0:9100 [env METRICS_LISTEN; default: off]
  --header-timeout SECS    time from a request's first byte to its complete head [default: 10]
  --idle-timeout SECS      time a connection may sit without traffic, between requests or
                           while a client stops reading [default: 75]
  --drain-delay SECS       after SIGTERM/SIGINT, keep accepting for this long while the
                           endpoint leaves Services and ingress [default: 0]
  --shutdown-timeout SECS  time open connections then get to finish [default: 25]
  -h, --help               print this help
  -V, --version            print the version
";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub listen: SocketAddr,
    pub log_level: Level,
    pub log_format: Format,
    pub metrics_listen: Option<SocketAddr>,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub drain_delay: Duration,
    pub shutdown_timeout: Duration,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve(Config),
    Help,
    Version,
}

/// Parses arguments (without the program name) and the environment lookup `env`.
pub fn parse<I, F>(args: I, env: F) -> Result<Command, String>
where
    I: IntoIterator<Item = String>,
    F: Fn(&str) -> Option<String>,
{
    let port = match env("PORT") {
        Some(port) => port
            .parse::<u16>()
            .map_err(|_| format!("PORT={port:?} is not a port number (1-65535)"))?,
        None => 8000,
    };
    let mut config = Config {
        listen: SocketAddr::from(([0, 0, 0, 0], port)),
        log_level: match env("LOG_LEVEL") {
            Some(level) => level_from(&level, "LOG_LEVEL")?,
            None => Level::Info,
        },
        log_format: match env("LOG_FORMAT") {
            Some(format) => format_from(&format, "LOG_FORMAT")?,
            None => Format::Logfmt,
        },
        metrics_listen: match env("METRICS_LISTEN") {
            Some(address) => Some(address_from(&address, "METRICS_LISTEN", 9100)?),
            None => None,
        },
        header_timeout: Duration::from_secs(10),
        // Longer than ingress-nginx's upstream keep-alive (60 s), so the proxy closes idle
        // connections first and never sends a request into one this server is closing.
        idle_timeout: Duration::from_secs(75),
        drain_delay: Duration::ZERO,
        // With the drain delay, shorter than the pod's grace period before SIGKILL (the chart
        // sets both).
        shutdown_timeout: Duration::from_secs(25),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--listen" => config.listen = address_from(&value()?, "--listen", 8000)?,
            "--metrics-listen" => {
                config.metrics_listen = Some(address_from(&value()?, "--metrics-listen", 9100)?)
            }
            "--log-level" => config.log_level = level_from(&value()?, "--log-level")?,
            "--log-format" => config.log_format = format_from(&value()?, "--log-format")?,
            "--header-timeout" => config.header_timeout = seconds(&value()?, &name, 1)?,
            "--idle-timeout" => config.idle_timeout = seconds(&value()?, &name, 1)?,
            "--shutdown-timeout" => config.shutdown_timeout = seconds(&value()?, &name, 1)?,
            "--drain-delay" => config.drain_delay = seconds(&value()?, &name, 0)?,
            _ => return Err(format!("unknown option {arg:?} (see --help)")),
        }
    }
    Ok(Command::Serve(config))
}

fn address_from(value: &str, setting: &str, port: u16) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        format!("{setting} {value:?}: expected IP:PORT, such as 0.0.0.0:{port} or [::]:{port}")
    })
}

fn format_from(value: &str, setting: &str) -> Result<Format, String> {
    Format::parse(value).ok_or_else(|| format!("{setting} {value:?}: use logfmt or json"))
}

fn level_from(value: &str, setting: &str) -> Result<Level, String> {
    Level::parse(value)
        .ok_or_else(|| format!("{setting} {value:?}: use error, warn, info or debug"))
}

/// A whole number of seconds, at least `minimum` (timeouts must be positive; a delay may be 0).
fn seconds(value: &str, option: &str, minimum: u64) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(s) if s >= minimum => Ok(Duration::from_secs(s)),
        _ => Err(format!(
            "{option} {value:?}: expected a whole number of seconds, at least {minimum}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Command, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(args.iter().map(|s| s.to_string()), |key| {
            env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        })
    }

    fn config(args: &[&str], env: &[(&str, &str)]) -> Config {
        match parse_with(args, env).unwrap() {
            Command::Serve(config) => config,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_to_port_8000_on_all_interfaces() {
        assert_eq!(config(&[], &[]).listen, "0.0.0.0:8000".parse().unwrap());
    }

    #[test]
    fn port_env_then_listen_option_override() {
        assert_eq!(config(&[], &[("PORT", "9000")]).listen.port(), 9000);
        let c = config(&["--listen", "127.0.0.1:7000"], &[("PORT", "9000")]);
        assert_eq!(c.listen, "127.0.0.1:7000".parse().unwrap());
        assert_eq!(config(&["--listen=[::1]:7001"], &[]).listen.port(), 7001);
    }

    #[test]
    fn log_level_from_env_or_option() {
        assert_eq!(config(&[], &[("LOG_LEVEL", "warn")]).log_level, Level::Warn);
        assert_eq!(
            config(&["--log-level", "debug"], &[("LOG_LEVEL", "warn")]).log_level,
            Level::Debug
        );
    }

    #[test]
    fn metrics_are_off_unless_an_address_is_given() {
        assert_eq!(config(&[], &[]).metrics_listen, None);
        let on = config(&["--metrics-listen", "127.0.0.1:9100"], &[]);
        assert_eq!(on.metrics_listen, Some("127.0.0.1:9100".parse().unwrap()));
        let env = config(&[], &[("METRICS_LISTEN", "0.0.0.0:9200")]);
        assert_eq!(env.metrics_listen.map(|a| a.port()), Some(9200));
    }

    #[test]
    fn log_format_from_env_or_option() {
        assert_eq!(config(&[], &[]).log_format, Format::Logfmt);
        assert_eq!(
            config(&[], &[("LOG_FORMAT", "json")]).log_format,
            Format::Json
        );
        let option = config(&["--log-format=logfmt"], &[("LOG_FORMAT", "json")]);
        assert_eq!(option.log_format, Format::Logfmt);
    }

    #[test]
    fn bad_values_are_errors_that_name_the_setting() {
        for (args, env, needle) in [
            (&["--listen", "localhost"][..], &[][..], "--listen"),
            (&[], &[("PORT", "http")][..], "PORT"),
            (&["--log-level", "loud"], &[], "--log-level"),
            (&["--log-format", "xml"], &[], "--log-format"),
            (&["--metrics-listen", ":9100"], &[], "--metrics-listen"),
            (&[], &[("METRICS_LISTEN", "9100")][..], "METRICS_LISTEN"),
            (&["--idle-timeout", "0"], &[], "--idle-timeout"),
            (&["--listen"], &[], "needs a value"),
            (&["--frobnicate"], &[], "unknown option"),
        ] {
            let err = parse_with(args, env).unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
    }
}
