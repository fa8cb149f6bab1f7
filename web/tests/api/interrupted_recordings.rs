//! A recording a stopped node left under its temporary name is kept as evidence: once its
//! call is over and the file untouched for a while, the housekeeping round seals it as an
//! incomplete recording of its call and gives it its final name; two nodes doing it at once
//! seal it once, and what is still being written is left alone.

use std::path::Path;
use std::time::SystemTime;

use chrono::{DateTime, TimeDelta, Utc};
use web::evidence::recovery::{INTERRUPTED, STALE};
use web::evidence::{recover_interrupted, sha256_of, verify_files};

use crate::helpers::{Db, second_node, spawn_app_with};
use crate::recording_helpers::{ffmpeg, probe, scratch_dir};
use crate::retention::{actions, args, decided_and_undecided};

/// What a node that stops mid-call leaves: a WebM cut off part way, without its seek index
/// or duration (made here by Debian's ffmpeg from a test picture and a tone, VP8 and Opus).
async fn cut_off_recording(scratch: &Path, to: &Path, modified: DateTime<Utc>) {
    let whole = scratch.join("whole.webm");
    let whole_s = whole.to_string_lossy();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "4",
        "-c:v",
        "libvpx",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-c:a",
        "libopus",
        &whole_s,
    ])
    .await;
    let bytes = std::fs::read(&whole).expect("read");
    std::fs::write(to, &bytes[..bytes.len() * 7 / 10]).expect("write");
    let file = std::fs::File::options().write(true).open(to).expect("open");
    file.set_modified(SystemTime::from(modified))
        .expect("set its time");
}

#[tokio::test]
async fn a_recording_a_stopped_node_left_is_sealed_once_as_incomplete_and_kept() {
    let scratch = scratch_dir("interrupted");
    let dir = crate::retention::recordings_dir();
    let app = spawn_app_with(Db::Postgres, args(&dir)).await;
    let other = second_node(&app).await;
    let (decided, undecided) = decided_and_undecided(&app).await;
    // The calls' own recordings (no media came: no file) are over.
    app.state().signaling.calls.recordings_sealed().await;
    let now = app.clock.now();
    let started = now - TimeDelta::minutes(30);
    let started = DateTime::from_timestamp_millis(started.timestamp_millis()).expect("time");
    let name = |ticket: &str| format!("{ticket}-{}.webm", started.timestamp_millis());
    let left = dir.join(format!(".{}.partial", name(&undecided)));
    let stopped = now - STALE - TimeDelta::minutes(1);
    cut_off_recording(&scratch, &left, stopped).await;
    // Touched a minute ago: somebody may still be writing it.
    let recent = dir.join(format!(".{}.partial", name(&decided)));
    cut_off_recording(&scratch, &recent, now - TimeDelta::minutes(1)).await;

    let (a, b) = tokio::join!(
        recover_interrupted(&app.store, &dir, now),
        recover_interrupted(&other.store, &dir, now)
    );
    let (a, b) = (a.expect("first node"), b.expect("second node"));
    assert_eq!(a + b, 1, "sealed once: {a} + {b}");

    let kept = dir.join(name(&undecided));
    assert!(!left.exists() && kept.exists(), "renamed to its final name");
    assert!(recent.exists(), "a file written a minute ago is left alone");
    let sealed = app
        .store
        .recordings_for_ticket(&undecided)
        .await
        .expect("read");
    assert_eq!(sealed.len(), 1, "{sealed:?}");
    let r = &sealed[0];
    assert_eq!(r.incomplete_reason.as_deref(), Some(INTERRUPTED));
    assert_eq!(sha256_of(&kept).expect("hash"), (r.sha256.clone(), r.bytes));
    let stopped_ms = (stopped - started).num_milliseconds();
    assert_eq!(r.started_at, started);
    assert_eq!(i64::try_from(r.duration_ms), Ok(stopped_ms));
    let sealed_events = actions(&app, &undecided)
        .await
        .into_iter()
        .filter(|a| a == "recording.sealed")
        .count();
    assert_eq!(sealed_events, 1);
    let files = verify_files(&app.store, &dir).await.expect("verify files");
    assert_eq!((files.checked, files.broken), (1, None));
    let chain = app.store.verify_audit_chain().await.expect("verify chain");
    assert_eq!(chain.broken, None);
    let probed = probe(&kept).await;
    let kinds: Vec<&str> = probed.streams.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["video", "audio"], "what was written still plays");

    // Nothing more to do in the next round, and a call still running keeps its file.
    assert_eq!(
        recover_interrupted(&app.store, &dir, now)
            .await
            .expect("again"),
        0
    );
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&scratch).ok();
}

#[tokio::test]
async fn the_file_of_a_call_still_running_is_never_taken() {
    let scratch = scratch_dir("still-running");
    let dir = crate::retention::recordings_dir();
    let app = spawn_app_with(Db::Sqlite, args(&dir)).await;
    let call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let now = app.clock.now();
    // Its own recorder's file is there too, under the acceptance's time.
    let started = (now - TimeDelta::hours(3)).timestamp_millis();
    let partial = dir.join(format!(".{}-{started}.webm.partial", call.ticket));
    cut_off_recording(&scratch, &partial, now - TimeDelta::hours(2)).await;
    let recovered = recover_interrupted(&app.store, &dir, now)
        .await
        .expect("round");
    assert_eq!(recovered, 0);
    assert!(partial.exists());
    let unknown = dir.join(".nosuchticket-1765000000000.webm.partial");
    std::fs::copy(&partial, &unknown).expect("copy");
    let file = std::fs::File::options()
        .write(true)
        .open(&unknown)
        .expect("open");
    file.set_modified(SystemTime::from(now - TimeDelta::hours(2)))
        .expect("set its time");
    let recovered = recover_interrupted(&app.store, &dir, now)
        .await
        .expect("round");
    assert_eq!(
        recovered, 0,
        "a file naming no call is left for an operator"
    );
    assert!(unknown.exists());
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&scratch).ok();
}
