//! CPU time and resident memory of a process, read from `/proc` (Linux), for the benchmarks.

/// User plus system CPU seconds used so far by `pid` (`None`: this process).
pub fn cpu_seconds(pid: Option<u32>) -> f64 {
    let path = pid.map_or_else(
        || "/proc/self/stat".to_owned(),
        |p| format!("/proc/{p}/stat"),
    );
    stat_seconds(&path, 11)
}

/// User plus system CPU seconds used by this process's children that have ended and been
/// waited for.
#[allow(dead_code, reason = "not every benchmark runs child processes")]
pub fn children_cpu_seconds() -> f64 {
    stat_seconds("/proc/self/stat", 13)
}

/// The sum of the two clock-tick fields of `/proc/<pid>/stat` from `first` (counted after the
/// command name), in seconds.
fn stat_seconds(path: &str, first: usize) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(first) + ticks(first + 1)) / 100.0
}

/// Resident memory of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The machine's one-minute load average (other work on the shared cores skews latency).
#[allow(dead_code, reason = "not every benchmark prints it")]
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Scheduler figures summed over `pid`'s threads, from `/proc/<pid>/task/*/schedstat`:
/// (seconds on a CPU, seconds runnable but waiting for a CPU, times scheduled in).
#[allow(dead_code, reason = "not every benchmark prints it")]
pub fn sched(pid: u32) -> (f64, f64, u64) {
    let mut total = (0.0, 0.0, 0);
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return total;
    };
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        let v: Vec<u64> = text
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if let [run, wait, slices] = v[..] {
            total.0 += run as f64 / 1e9;
            total.1 += wait as f64 / 1e9;
            total.2 += slices;
        }
    }
    total
}

/// The mean time `pid`'s threads waited for a CPU each time they became runnable, in µs,
/// between two `sched` readings: how contended the shared cores were.
#[allow(dead_code, reason = "not every benchmark prints it")]
pub fn cpu_wait_us(before: (f64, f64, u64), after: (f64, f64, u64)) -> f64 {
    let slices = after.2.saturating_sub(before.2).max(1);
    (after.1 - before.1) * 1e6 / slices as f64
}
