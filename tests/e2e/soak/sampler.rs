//! What the soak watches on the server process, every few seconds: resident memory and open
//! file descriptors (`/proc/PID`), UDP sockets (the process's socket inodes found in
//! `/proc/PID/net/udp` and `udp6`), tokio tasks alive (`videoreg_tokio_alive_tasks` on
//! `/metrics`) and database connections (`pg_stat_activity` rows with the run's
//! `application_name`); and whether any of them grows without bound.
//!
//! The load moves (the queue lengthens when the shared cores are busy), and every open socket
//! is a descriptor and a few tasks on the server: so descriptors, UDP sockets, tasks and
//! database connections are first corrected for the driver's open sockets (their per-socket
//! cost fitted over the whole run, ramp-up and wind-down included), and only what is left is
//! judged against time. Resident memory is judged as it is (a high-water mark).

use std::collections::HashSet;

/// One reading.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Seconds since the server started listening.
    pub t: f64,
    pub rss_mib: f64,
    pub fds: f64,
    pub udp: f64,
    pub tasks: f64,
    pub db: f64,
    /// Citizens waiting in the queue (the load, not a figure that is judged).
    pub waiting: f64,
    /// The driver's WebSockets open on the server (the load).
    pub clients: f64,
}

/// The figures, by name, with how much a half may grow before it counts (absolute floor,
/// share of the median).
pub const FIGURES: [(&str, f64, f64); 5] = [
    ("rss_mib", 16.0, 0.10),
    ("fds", 16.0, 0.15),
    ("udp", 8.0, 0.20),
    ("tasks", 50.0, 0.15),
    ("db", 3.0, 0.0),
];

impl Sample {
    fn set(&mut self, figure: &str, value: f64) {
        match figure {
            "rss_mib" => self.rss_mib = value,
            "fds" => self.fds = value,
            "udp" => self.udp = value,
            "tasks" => self.tasks = value,
            _ => self.db = value,
        }
    }

    pub fn get(&self, figure: &str) -> f64 {
        match figure {
            "rss_mib" => self.rss_mib,
            "fds" => self.fds,
            "udp" => self.udp,
            "tasks" => self.tasks,
            _ => self.db,
        }
    }
}

/// Reads every figure of `pid` now.
pub async fn sample(t: f64, pid: u32, day: &super::Day, application_name: &str) -> Sample {
    let (base, store) = (&day.base, &day.store);
    let clients = day.sockets.load(std::sync::atomic::Ordering::Relaxed) as f64;
    let rss_kib = super::proc_stats::rss_kib(pid) as f64;
    let mut fds = 0usize;
    let mut sockets = HashSet::new();
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for entry in dir.flatten() {
            fds += 1;
            let target = std::fs::read_link(entry.path()).unwrap_or_default();
            if let Some(inode) = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
            {
                sockets.insert(inode.to_owned());
            }
        }
    }
    let udp = ["udp", "udp6"]
        .iter()
        .flat_map(|table| {
            std::fs::read_to_string(format!("/proc/{pid}/net/{table}"))
                .unwrap_or_default()
                .lines()
                .skip(1)
                .filter_map(|l| l.split_whitespace().nth(9).map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .filter(|inode| sockets.contains(inode))
        .count();
    let tasks = match reqwest::get(format!("{base}/metrics")).await {
        Ok(r) => r
            .text()
            .await
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("videoreg_tokio_alive_tasks "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(f64::NAN),
        Err(_) => f64::NAN,
    };
    let sql = format!(
        "SELECT count(*)::text FROM pg_stat_activity WHERE application_name = '{application_name}'"
    );
    let number = |sql: String| async move {
        store::testing::fetch_raw_texts(store, &sql)
            .await
            .ok()
            .and_then(|rows| rows.into_iter().next().flatten())
            .and_then(|n| n.parse().ok())
            .unwrap_or(f64::NAN)
    };
    let db = number(sql).await;
    let waiting =
        number("SELECT count(*)::text FROM tickets WHERE status = 'waiting'".into()).await;
    Sample {
        t,
        rss_mib: rss_kib / 1024.0,
        fds: fds as f64,
        udp: udp as f64,
        tasks,
        db,
        waiting,
        clients,
    }
}

/// Least-squares slope of `figure` over `samples`, per minute.
fn slope(samples: &[Sample], figure: &str) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mt, mv) = samples
        .iter()
        .fold((0.0, 0.0), |(a, b), s| (a + s.t / n, b + s.get(figure) / n));
    let (num, den) = samples.iter().fold((0.0, 0.0), |(num, den), s| {
        let dt = s.t - mt;
        (num + dt * (s.get(figure) - mv), den + dt * dt)
    });
    if den == 0.0 { 0.0 } else { num / den * 60.0 }
}

/// One figure's verdict over the settled part of the run.
#[derive(Debug)]
pub struct Growth {
    pub figure: &'static str,
    /// What each open client socket adds to it (fitted over the whole run).
    pub per_socket: f64,
    pub first_slope: f64,
    pub second_slope: f64,
    /// What the second half grew by at its slope, and how much it may.
    pub second_growth: f64,
    pub tolerance: f64,
    pub unbounded: bool,
}

/// What one more open client socket adds to `figure`: the least-squares fit over `all`.
fn per_socket(all: &[Sample], figure: &str) -> f64 {
    let n = all.len() as f64;
    let (mc, mv) = all.iter().fold((0.0, 0.0), |(a, b), s| {
        (a + s.clients / n, b + s.get(figure) / n)
    });
    let (num, den) = all.iter().fold((0.0, 0.0), |(num, den), s| {
        let dc = s.clients - mc;
        (num + dc * (s.get(figure) - mv), den + dc * dc)
    });
    if den == 0.0 {
        0.0
    } else {
        (num / den).max(0.0)
    }
}

/// Corrects each figure of the `settled` samples for the load (per socket, fitted over
/// `all`), splits them in two halves and compares the slopes: a figure grows without bound
/// when the second half still grows by more than its tolerance and no slower than half the
/// first half's pace (bounded growth, a warm-up, slows down).
pub fn growth(all: &[Sample], settled: &[Sample]) -> Vec<Growth> {
    FIGURES
        .iter()
        .map(|&(figure, floor, share)| {
            // Resident memory is a high-water mark (freed memory stays with the allocator): it
            // follows the peak load, not the current one, and is judged as it is.
            let k = if figure == "rss_mib" {
                0.0
            } else {
                per_socket(all, figure)
            };
            let corrected: Vec<Sample> = settled
                .iter()
                .map(|s| {
                    let mut c = *s;
                    c.set(figure, s.get(figure) - k * s.clients);
                    c
                })
                .collect();
            let (first, second) = corrected.split_at(corrected.len() / 2);
            let mut values: Vec<f64> = settled.iter().map(|s| s.get(figure)).collect();
            values.sort_by(f64::total_cmp);
            let median = values.get(values.len() / 2).copied().unwrap_or(0.0);
            let tolerance = floor.max(share * median);
            let (s1, s2) = (slope(first, figure), slope(second, figure));
            let span = match (second.first(), second.last()) {
                (Some(a), Some(b)) => (b.t - a.t) / 60.0,
                _ => 0.0,
            };
            let second_growth = s2 * span;
            Growth {
                figure,
                per_socket: k,
                first_slope: s1,
                second_slope: s2,
                second_growth,
                tolerance,
                unbounded: second_growth > tolerance && s2 > 0.5 * s1.max(0.0),
            }
        })
        .collect()
}
