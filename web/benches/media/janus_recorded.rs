//! Side by side, recording: what it costs to turn a participant's media into a playable file,
//! videoreg against Janus, with the same webrtc-rs peers sending the same media.
//!
//! - videoreg: N calls through the forwarder, plain and recorded (as in `recorded.rs`). The
//!   recorder muxes while the call runs; the file plays once it is closed.
//! - Janus (Debian `janus` and `janus-tools`): N EchoTests in the benchmark's namespace
//!   (`janus.rs`), plain and with the plugin's recording on, which dumps each stream's packets
//!   as they came (`.mjr`); then what Janus's users run to get a file that plays:
//!   `janus-pp-rec` for each stream (VP8 into WebM, Opus into Ogg) and `ffmpeg -c copy` to put
//!   the two in one file.
//!
//! Both are reported per participant-minute (one person's audio and video for a minute of
//! call): CPU seconds while the media ran (the recorded run's server CPU minus the plain
//! run's) plus CPU seconds after it until the file plays (Janus's post-processing, counted
//! from this process's waited-for children).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::echo::{Target, run as echo_run};
use super::janus::{HOST_IP, Janus, Netns};
use super::proc_stats::children_cpu_seconds;
use super::{Forwarder, run};

/// Makes each Janus recording in `dir` playable as its users do; returns the files made and
/// the seconds of media they hold (by ffprobe).
fn post_process(dir: &Path) -> (Vec<PathBuf>, f64) {
    let mut made = Vec::new();
    let mut seconds = 0.0;
    let mut videos: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("recordings")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with("-video.mjr"))
        .collect();
    videos.sort();
    for video in videos {
        let base = video
            .to_string_lossy()
            .trim_end_matches("-video.mjr")
            .to_owned();
        let (webm, opus, out) = (
            format!("{base}-video.webm"),
            format!("{base}-audio.opus"),
            format!("{base}.webm"),
        );
        let ok = |program: &str, args: &[&str]| {
            let status = std::process::Command::new(program)
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("{program} runs: {e}"));
            assert!(status.success(), "{program} {args:?} failed");
        };
        ok("janus-pp-rec", &[&video.to_string_lossy(), &webm]);
        ok("janus-pp-rec", &[&format!("{base}-audio.mjr"), &opus]);
        ok(
            "ffmpeg",
            &[
                "-v", "error", "-y", "-i", &webm, "-i", &opus, "-c", "copy", &out,
            ],
        );
        seconds += duration(&out);
        made.push(PathBuf::from(out));
    }
    (made, seconds)
}

/// A file's duration and its streams' count, by ffprobe; the duration.
fn duration(path: &str) -> f64 {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration:stream=codec_name",
        ])
        .args(["-of", "csv=p=0", path])
        .output()
        .expect("ffprobe runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        lines.iter().any(|l| l.contains("vp8")) && lines.iter().any(|l| l.contains("opus")),
        "{path} holds VP8 and Opus: {lines:?}"
    );
    lines
        .iter()
        .filter_map(|l| l.parse::<f64>().ok())
        .next_back()
        .unwrap_or(0.0)
}

/// Runs both for each N and prints the table.
pub async fn compare(ns: &[usize]) {
    for tool in ["janus", "janus-pp-rec", "ffmpeg", "ffprobe"] {
        assert!(
            std::process::Command::new("which")
                .arg(tool)
                .stdout(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
            "`{tool}` is needed (Debian: apt-get install janus janus-tools ffmpeg)"
        );
    }
    let scratch =
        std::env::temp_dir().join(format!("videoreg-rec-vs-janus-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch");
    let fwd = Forwarder::start();
    let netns = Netns::create();
    let janus = Janus::start(&scratch).await;
    let jpid = janus.pid();
    println!(
        "| N | server | CPU per participant, plain | recorded | added while the media ran | after it, to a playable file | recording's CPU per participant-minute | files that play |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &n in ns {
        let dir = scratch.join(format!("videoreg-{n}"));
        std::fs::create_dir_all(&dir).expect("dir");
        let plain = run(n, Some(&fwd), None).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let recorded = run(n, Some(&fwd), Some(&dir)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let participants = 2.0 * n as f64;
        let per = |cores: f64| cores / participants;
        let added = per(recorded.forwarder_cores) - per(plain.forwarder_cores);
        let (_, _, incomplete) = recorded.recorded;
        println!(
            "| {n} calls | videoreg | {:.4} cores | {:.4} cores | {added:+.4} cores | 0 (playable when closed) | {:.2} s | {} of {} |",
            per(plain.forwarder_cores),
            per(recorded.forwarder_cores),
            added * 60.0,
            n as u64 - incomplete,
            n,
        );

        let dir = scratch.join(format!("janus-{n}"));
        std::fs::create_dir_all(&dir).expect("dir");
        let plain = echo_run(n, jpid, &Target::Janus(&janus), HOST_IP).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let recorded = echo_run(n, jpid, &Target::JanusRecorded(&janus, &dir), HOST_IP).await;
        // Janus closes a recording when its session goes.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = children_cpu_seconds();
        let (files, media_seconds) = post_process(&dir);
        let after_cpu = children_cpu_seconds() - before;
        let added = recorded.cpu_per_test - plain.cpu_per_test;
        let media_minutes = (media_seconds / 60.0).max(1e-9);
        println!(
            "| {n} tests | Janus EchoTest | {:.4} cores | {:.4} cores | {added:+.4} cores | {:.2} s for {:.0} s of media | {:.2} s | {} of {} |",
            plain.cpu_per_test,
            recorded.cpu_per_test,
            after_cpu,
            media_seconds,
            added * 60.0 + after_cpu / media_minutes,
            files.len(),
            n,
        );
    }
    drop(janus);
    drop(netns);
    let _ = std::fs::remove_dir_all(&scratch);
}
