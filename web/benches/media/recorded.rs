//! Recorded calls against the same calls not recorded: N calls through the forwarder process
//! (as in `main.rs`), once plain and once with each call recorded into a WebM file in a
//! temporary directory (the recorder's threads run in the forwarder process, so their CPU is
//! in its figure). Reports the forwarder's CPU per call both ways, the added one-way latency
//! p99, the bytes written per call-minute, and recordings that came out incomplete.

use std::time::Duration;

use super::{Forwarder, Run, run};

pub async fn compare(ns: &[usize]) {
    let fwd = Forwarder::start();
    let dir =
        std::env::temp_dir().join(format!("videoreg-bench-recordings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("recordings directory");
    println!(
        "| calls | forwarder CPU per call, not recorded | recorded | added | latency p99 not recorded / recorded | added p99 | bytes per call-minute | incomplete recordings |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &n in ns {
        let plain = run(n, Some(&fwd), None).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let recorded = run(n, Some(&fwd), Some(&dir)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let per_call = |r: &Run| r.forwarder_cores / n as f64;
        let (bytes, seconds, incomplete) = recorded.recorded;
        println!(
            "| {n} | {:.4} | {:.4} | {:+.0} % | {:.2} / {:.2} ms | {:+.2} ms | {:.1} MB | {incomplete} |",
            per_call(&plain),
            per_call(&recorded),
            (per_call(&recorded) / per_call(&plain).max(1e-9) - 1.0) * 100.0,
            plain.p99_ms,
            recorded.p99_ms,
            recorded.p99_ms - plain.p99_ms,
            bytes as f64 / seconds.max(1e-9) * 60.0 / 1e6,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
