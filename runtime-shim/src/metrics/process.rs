//! The process metrics every Prometheus client exports under the same names (the Go and Python
//! clients' `process_*`): CPU time, resident and virtual memory, open and allowed file
//! descriptors, start time. Read from `/proc/self` at scrape time, so they cost nothing between
//! scrapes. Where `/proc` cannot be read (not Linux), they are left out.

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

/// The fields of `/proc/self/stat` (proc(5)) these metrics need.
#[derive(Debug, PartialEq)]
struct Stat {
    /// User and system time, in clock ticks.
    cpu_ticks: u64,
    /// Since boot, in clock ticks.
    start_ticks: u64,
    virtual_bytes: u64,
    resident_pages: u64,
}

/// Parses `/proc/self/stat`. The second field, the command, is in parentheses and may itself
/// hold spaces and parentheses, so the fields are counted from the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let after_command = &text[text.rfind(')')? + 1..];
    // Field 3 (state) is the first after the command; proc(5) numbers them from 1.
    let fields: Vec<&str> = after_command.split_whitespace().collect();
    let field = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
    Some(Stat {
        cpu_ticks: field(14)? + field(15)?,
        start_ticks: field(22)?,
        virtual_bytes: field(23)?,
        resident_pages: field(24)?,
    })
}

/// The boot time in seconds since the epoch, from `/proc/stat`'s `btime` line.
fn parse_boot_time(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
}

pub fn encode(encoder: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
    let Some(stat) = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|text| parse_stat(&text))
    else {
        return Ok(());
    };
    // SAFETY: sysconf and getrlimit only read; getrlimit writes into the struct given.
    let (ticks, page_size, max_fds) = unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        let max_fds = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            Some(limit.rlim_cur)
        } else {
            None
        };
        (
            libc::sysconf(libc::_SC_CLK_TCK).max(1) as f64,
            libc::sysconf(libc::_SC_PAGESIZE).max(1) as u64,
            max_fds,
        )
    };

    let counter = encoder.encode_descriptor(
        "process_cpu",
        "User and system CPU time spent",
        Some(&Unit::Seconds),
        MetricType::Counter,
    )?;
    ConstCounter::new(stat.cpu_ticks as f64 / ticks).encode(counter)?;
    gauge(
        encoder,
        "process_resident_memory",
        "Resident memory size",
        Some(&Unit::Bytes),
        (stat.resident_pages * page_size) as f64,
    )?;
    gauge(
        encoder,
        "process_virtual_memory",
        "Virtual memory size",
        Some(&Unit::Bytes),
        stat.virtual_bytes as f64,
    )?;
    if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
        gauge(
            encoder,
            "process_open_fds",
            "Open file descriptors",
            None,
            entries.count() as f64,
        )?;
    }
    if let Some(max_fds) = max_fds {
        gauge(
            encoder,
            "process_max_fds",
            "The limit on open file descriptors",
            None,
            max_fds as f64,
        )?;
    }
    if let Some(boot) = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|text| parse_boot_time(&text))
    {
        gauge(
            encoder,
            "process_start_time",
            "Start time of the process since the Unix epoch",
            Some(&Unit::Seconds),
            boot as f64 + stat.start_ticks as f64 / ticks,
        )?;
    }
    Ok(())
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: f64,
) -> Result<(), std::fmt::Error> {
    let metric = encoder.encode_descriptor(name, help, unit, MetricType::Gauge)?;
    ConstGauge::new(value).encode(metric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stat_fields_are_counted_from_the_end_of_the_command() {
        let line = "7372 (a (b) c) R 7325 7325 10352 0 -1 4194304 128 0 0 0 31 9 0 0 20 0 1 0 \
                    4700540 3133440 388 18446744073709551615 94904221061120";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                cpu_ticks: 40,
                start_ticks: 4700540,
                virtual_bytes: 3133440,
                resident_pages: 388,
            })
        );
        assert_eq!(parse_stat("7372 (cat) R 1 2"), None);
    }

    #[test]
    fn the_boot_time_is_the_btime_line() {
        let text = "cpu  1 2 3\nintr 5\nbtime 1795943383\nprocesses 9\n";
        assert_eq!(parse_boot_time(text), Some(1795943383));
    }

    #[test]
    fn this_process_reads_its_own_stat() {
        let text = std::fs::read_to_string("/proc/self/stat").unwrap();
        let stat = parse_stat(&text).unwrap();
        assert!(stat.resident_pages > 0 && stat.virtual_bytes > 0);
    }
}
