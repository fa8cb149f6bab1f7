//! Sign-in burst benchmark: N concurrent password sign-ins from one address against a real
//! `videoreg serve` process, while `/healthz` is polled; what the burst costs the server in
//! memory and what it does to everyone else's latency.
//!
//! `cargo bench -p web --bench sign_in_burst` (or `-- citizen 150`, `-- staff 150`,
//! `-- spread`)
//!
//! For each kind (citizen `POST /login`, staff `POST /staff/login`) a fresh server process is
//! started on a fresh SQLite database, warmed up, and sent N sign-ins at once (each on its own
//! connection, a wrong password for a different valid ID number or user name each, so that
//! no per-ID or per-name limit steps in; the staff form with its CSRF cookie and field). All
//! come from one address, or with `spread` from N addresses (the server trusts
//! `X-Forwarded-For`, and each request names its own address: what a botnet would send). Meanwhile another client asks `/healthz` every 10 ms, one request at a time,
//! from the start of the burst until every sign-in has been answered. Printed: the answers by
//! status, how long the burst took, the server's peak resident memory (`VmHWM`) and its
//! resident memory after the burst (`VmRSS`), and the `/healthz` latencies (p50, p99, max).
//!
//! `VIDEOREG_BIN=/path/to/videoreg` measures another build (for example one from before a
//! change) with the same driver.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use store::testing::TestDatabase;
use tokio::process::Child;

#[path = "common/proc_stats.rs"]
#[allow(dead_code, reason = "shared with the other benchmarks")]
mod proc_stats;
#[path = "common/server.rs"]
mod server;

const WRONG_PASSWORD: &str = "una frase que no es la suya";

/// A `videoreg serve` process on a port of its own.
struct Server {
    child: Child,
    pid: u32,
    base: String,
    _db: TestDatabase,
}

/// The `i`-th of a run of valid DNI numbers (check letter right), none with a password.
fn dni(i: usize) -> String {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let n = 10_000_000 + i;
    format!("{n}{}", char::from(LETTERS[n % 23]))
}

async fn start_server(spread: bool) -> Server {
    let db = TestDatabase::sqlite();
    let binary =
        std::env::var("VIDEOREG_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_videoreg").to_owned());
    let mut args = vec!["serve", "--bind", "127.0.0.1:0", "--database-url", &db.url];
    if spread {
        args.push("--trust-forwarded-for");
    }
    let (child, base) = server::spawn_videoreg(&binary, &args).await;
    let pid = child.id().expect("pid");
    Server {
        child,
        pid,
        base: format!("http://{base}"),
        _db: db,
    }
}

/// `VmHWM` (peak resident memory) of `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmHWM:")
}

/// A number from `/proc/<pid>/status`.
fn status_field(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Asks `/healthz` every 10 ms until `stop`; the latency of each answer.
async fn poll_health(base: String, stop: Arc<AtomicBool>) -> Vec<Duration> {
    let client = reqwest::Client::new();
    let mut latencies = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let ok = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            latencies.push(t.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    latencies
}

/// The `i`-th sign-in request of `kind`, ready to send (from address `i` when `spread`).
async fn sign_in_request(
    base: &str,
    kind: &str,
    spread: bool,
) -> impl Fn(usize) -> reqwest::RequestBuilder {
    let form_page = if kind == "staff" {
        let page = reqwest::get(format!("{base}/staff/login"))
            .await
            .expect("form");
        let cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("videoreg_login_csrf="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .expect("the form's CSRF cookie");
        let body = page.text().await.expect("body");
        let marker = "name=\"csrf\" value=\"";
        let from = body.find(marker).expect("csrf field") + marker.len();
        let csrf = body[from..].split('"').next().expect("value").to_owned();
        Some((cookie, csrf))
    } else {
        None
    };
    let base = base.to_owned();
    move |i| {
        // Each request on its own connection, as N browsers would send them.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let request = match &form_page {
            Some((cookie, csrf)) => client
                .post(format!("{base}/staff/login"))
                .header("cookie", cookie)
                .form(&[
                    ("name", format!("nadie{i}").as_str()),
                    ("password", WRONG_PASSWORD),
                    ("csrf", csrf.as_str()),
                ]),
            None => client
                .post(format!("{base}/login"))
                .form(&[("id_number", dni(i).as_str()), ("password", WRONG_PASSWORD)]),
        };
        if spread {
            request.header("x-forwarded-for", format!("198.51.100.{}", i % 250))
        } else {
            request
        }
    }
}

async fn burst(kind: &str, n: usize, spread: bool) {
    let mut server = start_server(spread).await;
    let health = reqwest::Client::new();
    for _ in 0..20 {
        let _ = health.get(format!("{}/healthz", server.base)).send().await;
    }
    let request = sign_in_request(&server.base, kind, spread).await;
    let (rss_before, peak_before) = (proc_stats::rss_kib(server.pid), peak_rss_kib(server.pid));
    let load = proc_stats::load_average();

    let stop = Arc::new(AtomicBool::new(false));
    let prober = tokio::spawn(poll_health(server.base.clone(), stop.clone()));
    let t = Instant::now();
    let answers = join_all((0..n).map(|i| {
        let r = request(i);
        async move { r.send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
    }))
    .await;
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut latencies = prober.await.expect("prober");
    latencies.sort();

    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for s in answers {
        *statuses.entry(s).or_default() += 1;
    }
    let peak = peak_rss_kib(server.pid);
    let rss_after = proc_stats::rss_kib(server.pid);
    let threads = status_field(server.pid, "Threads:");
    println!(
        "{kind} burst of {n} from {}: answers {statuses:?} in {:.2} s; server RSS {} MB before, peak {} MB (peak before the burst {} MB), {} MB after, {threads} threads; /healthz during the burst ({} answers) p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (machine load {load:.1})",
        if spread {
            "as many addresses"
        } else {
            "one address"
        },
        took.as_secs_f64(),
        rss_before / 1024,
        peak / 1024,
        peak_before / 1024,
        rss_after / 1024,
        latencies.len(),
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    let _ = server.child.kill().await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let n = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(150);
    let named: Vec<&str> = ["citizen", "staff"]
        .into_iter()
        .filter(|k| args.iter().any(|a| a == k))
        .collect();
    let kinds = if named.is_empty() {
        vec!["citizen", "staff"]
    } else {
        named
    };
    let spread = args.iter().any(|a| a == "spread");
    for kind in kinds {
        burst(kind, n, spread).await;
    }
}
