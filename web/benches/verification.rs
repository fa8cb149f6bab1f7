//! Measures the application endpoint and the registry import on a real database.
//!
//! `cargo bench -p web --bench verification` (add `-- --postgres` for PostgreSQL).
//!
//! 1. Latency of `POST /api/v1/applications` for an unknown ID, a known ID with a wrong
//!    contrast value, and a right one, interleaved, against a registry of 20,000 records:
//!    the first two must be indistinguishable.
//! 2. Import throughput: checking and writing 100,000 CSV records.

use std::time::{Duration, Instant};

use scheduler::Clock;
use store::testing::TestDatabase;
use tokio::net::TcpListener;
use web::AppState;
use web::config::{CommandDefaults, GlobalArgs, ServeArgs, Settings};
use web::identity::check_letter;

const REGISTRY: u32 = 20_000;
const ROUNDS: usize = 300;
const IMPORT: u32 = 100_000;

fn dni(n: u32) -> String {
    format!("{n:08}{}", char::from(check_letter(n)))
}

fn registry_csv(count: u32, offset: u32) -> String {
    let mut csv = String::from("id_number,full_name,valid_until,issued_on,support_number\n");
    for i in 0..count {
        csv.push_str(&format!(
            "{},Persona Ficticia {i},2031-03-15,2021-03-15,\n",
            dni(offset + i)
        ));
    }
    csv
}

fn summary(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let pct = |p: f64| v[((v.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    let mean = v.iter().map(Duration::as_secs_f64).sum::<f64>() / v.len() as f64 * 1000.0;
    println!(
        "{name:<28} n={:<4} median {:>7.3} ms  p90 {:>7.3} ms  mean {:>7.3} ms",
        v.len(),
        pct(0.5),
        pct(0.9),
        mean
    );
}

#[tokio::main]
async fn main() {
    let postgres = std::env::args().any(|a| a == "--postgres");
    let db = if postgres {
        TestDatabase::postgres()
            .await
            .expect("PostgreSQL at 127.0.0.1:5432")
    } else {
        TestDatabase::sqlite()
    };
    println!(
        "backend: {}",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    let store = db.open().await.expect("open");
    let clock = Clock::System;

    let records =
        web::import::parse_csv(registry_csv(REGISTRY, 10_000_000).as_bytes()).expect("valid CSV");
    store
        .upsert_identities(&records, clock.now())
        .await
        .expect("seed");

    let args = ServeArgs {
        always_open: true,
        verify_limit_per_id: Some(100_000),
        verify_limit_per_address: Some(100_000),
        ..ServeArgs::default()
    };
    let settings =
        Settings::resolve(&GlobalArgs::default(), &args, CommandDefaults::SERVE).expect("settings");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(web::run(
        listener,
        AppState::new(&settings, store.clone(), clock),
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    // Every request carries a passed test call (stored directly; failed attempts do not use
    // it up, so a fresh one is minted before each request, outside the timed part).
    let mint = |store: store::Store| async move {
        let (token, hash) = store::secrets::new_token().expect("token");
        let now = Clock::System.now();
        store
            .insert_test_call(&hash, "{}", now, now + chrono::TimeDelta::minutes(30))
            .await
            .expect("test call");
        token
    };
    let post = |id: String, contrast: &'static str, test_call: String| {
        let client = client.clone();
        let url = format!("{base}/api/v1/applications");
        async move {
            let t = Instant::now();
            let r = client
                .post(url)
                .json(&serde_json::json!({ "id_number": id, "contrast": contrast, "test_call": test_call }))
                .send()
                .await
                .expect("request");
            let status = r.status().as_u16();
            let _ = r.bytes().await;
            (t.elapsed(), status)
        }
    };
    // Warm up connections and caches.
    for i in 0..20 {
        post(dni(10_000_000 + i), "01/01/2030", mint(store.clone()).await).await;
    }
    let (mut unknown, mut wrong, mut right) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..ROUNDS as u32 {
        let (t, s) = post(dni(50_000_000 + i), "15/03/2031", mint(store.clone()).await).await;
        assert_eq!(s, 422);
        unknown.push(t);
        let (t, s) = post(dni(10_000_100 + i), "16/03/2031", mint(store.clone()).await).await;
        assert_eq!(s, 422);
        wrong.push(t);
        let (t, s) = post(dni(10_001_000 + i), "15/03/2031", mint(store.clone()).await).await;
        assert_eq!(s, 201);
        right.push(t);
    }
    summary("unknown ID", unknown);
    summary("known ID, wrong contrast", wrong);
    summary("known ID, right contrast", right);

    let csv = registry_csv(IMPORT, 20_000_000);
    let t = Instant::now();
    let records = web::import::parse_csv(csv.as_bytes()).expect("valid CSV");
    let checked = t.elapsed();
    let t = Instant::now();
    store
        .upsert_identities(&records, Clock::System.now())
        .await
        .expect("import");
    let written = t.elapsed();
    println!(
        "import {IMPORT} records: check {:.2} s ({:.0}/s), write {:.2} s ({:.0}/s)",
        checked.as_secs_f64(),
        f64::from(IMPORT) / checked.as_secs_f64(),
        written.as_secs_f64(),
        f64::from(IMPORT) / written.as_secs_f64()
    );
}
