//! Recording a call through the real server: webrtc-rs citizen and agent send real VP8 and
//! Opus (encoded by ffmpeg) through the forwarder while the call's media is recorded; ffprobe
//! and a full decode read the file. With loss and a paused camera, or a citizen who
//! reconnects (new SSRCs, sequence numbers and RTP clock), the file still reads clean and
//! lasts the call; with a directory that cannot be written the call goes on and the
//! recording says it is incomplete.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use media::Side;
use media::recorder::{Incomplete, RecordingReport, TrackKind};
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;

use web::config::ServeArgs;

use crate::helpers::{Db, spawn_app, spawn_app_with};
use crate::media_helpers::{TestPeer, exchange, received_from};
use crate::recording_helpers::{Impairment, clips, probe, scratch_dir, send_clips};

/// Records a call in which both sides send the clips for `length`, the citizen's with
/// `impairment`; returns the report, the time from start to stop, and the citizen's side
/// keyframe requests.
async fn record_call(
    name: &str,
    length: Duration,
    impairment: Impairment,
) -> (RecordingReport, Duration, u64) {
    let dir = scratch_dir(name);
    let clips = clips(&dir).await;
    let app = spawn_app().await;
    let (mut citizen, _, mut agent) = app.accepted_call().await;
    // The call is recorded from its acceptance.
    let started = Instant::now();
    let mut citizen_peer = TestPeer::new(0x0C00_0000, "citizen").await;
    let mut agent_peer = TestPeer::new(0x0A00_0000, "agent").await;
    citizen_peer.connect(&mut citizen).await;
    agent_peer.connect(&mut agent).await;
    let call = app.state().signaling.calls.only().expect("one call");
    let trouble = call
        .recording_trouble()
        .expect("recording since the call was accepted");
    let from_citizen = send_clips(
        citizen_peer.outgoing().await,
        clips.clone(),
        length,
        impairment,
        7,
    );
    let from_agent = send_clips(
        agent_peer.outgoing().await,
        clips,
        length,
        Impairment::default(),
        11,
    );
    let dropped = from_citizen.await.expect("citizen sent");
    from_agent.await.expect("agent sent");
    if impairment.loss_percent > 0 {
        assert!(dropped > 0, "the citizen's loss happened");
    }
    let report = call.stop_recording().await.expect("a report");
    let elapsed = started.elapsed();
    assert_eq!(*trouble.borrow(), None, "no trouble while recording");
    let requests = call
        .counters(Side::Citizen)
        .keyframe_requests
        .load(Ordering::Relaxed);
    citizen_peer.close().await;
    agent_peer.close().await;
    (report, elapsed, requests)
}

/// The file probes and decodes clean with VP8 and Opus for each side, and lasts the call.
async fn assert_plays(report: &RecordingReport, elapsed: Duration) {
    let file = report.file.as_ref().expect("a finished file");
    assert!(file.path.exists(), "renamed into place");
    let size = std::fs::metadata(&file.path).expect("file").len();
    assert_eq!(file.size, size);
    assert_eq!(file.sha256.len(), 64);
    let name = file.path.file_name().expect("name").to_string_lossy();
    let partial = file.path.with_file_name(format!(".{name}.partial"));
    assert!(!partial.exists(), "no temporary file left");
    let probe = probe(&file.path).await;
    assert_eq!(
        probe.errors, "",
        "ffprobe and ffmpeg read it without errors"
    );
    let streams: Vec<(&str, &str)> = probe
        .streams
        .iter()
        .map(|(t, c)| (t.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        streams,
        [
            ("video", "vp8"),
            ("audio", "opus"),
            ("video", "vp8"),
            ("audio", "opus")
        ]
    );
    let call = elapsed.as_secs_f64();
    assert!(
        (probe.duration - call).abs() <= call * 0.10,
        "the file lasts {:.2} s, the call {call:.2} s",
        probe.duration
    );
    let reported = report.duration_ms as f64 / 1000.0;
    assert!(
        (reported - probe.duration).abs() < 0.5,
        "{reported} s reported"
    );
    assert_eq!(report.tracks.len(), 4);
    for t in &report.tracks {
        assert!(t.frames > 0, "track {} has frames: {t:?}", t.number);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_recorded_into_one_webm_with_both_sides_vp8_and_opus() {
    let (report, elapsed, _) =
        record_call("recorded", Duration::from_secs(6), Impairment::default()).await;
    assert!(report.is_complete(), "{:?}", report.incomplete);
    assert_plays(&report, elapsed).await;
    let video = report.tracks.iter().find(|t| t.kind == TrackKind::Video);
    // 30 frames/s for 6 s; the first may be dropped before a keyframe.
    assert!(video.is_some_and(|t| t.frames >= 150), "{video:?}");
    assert!(
        report.tracks.iter().all(|t| t.synced),
        "every track placed by its sender's reports: {:?}",
        report.tracks
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loss_and_a_paused_camera_leave_a_clean_file_of_the_calls_length() {
    let impairment = Impairment {
        loss_percent: 5,
        video_pause: Some((Duration::from_secs(3), Duration::from_secs(6))),
    };
    let (report, elapsed, requests) =
        record_call("lossy", Duration::from_secs(9), impairment).await;
    assert_plays(&report, elapsed).await;
    let citizen_video = &report.tracks[0];
    assert!(
        citizen_video.frames_dropped > 0,
        "frames broken by loss were left out: {citizen_video:?}"
    );
    assert!(requests > 0, "the recorder asked the citizen for keyframes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_directory_leaves_the_call_running_and_the_recording_incomplete() {
    let dir = scratch_dir("unwritable");
    // A directory cannot be made under a file, not even by root.
    let blocker = dir.join("not-a-directory");
    std::fs::write(&blocker, b"x").expect("file");
    let args = ServeArgs {
        recordings_dir: Some(blocker.join("recordings")),
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    let (mut citizen, _, mut agent) = app.accepted_call().await;
    let mut citizen_peer = TestPeer::new(0x0C00_0000, "citizen").await;
    let mut agent_peer = TestPeer::new(0x0A00_0000, "agent").await;
    citizen_peer.connect(&mut citizen).await;
    agent_peer.connect(&mut agent).await;
    let call = app.state().signaling.calls.only().expect("one call");

    let mut trouble = call
        .recording_trouble()
        .expect("recording starts; the disk's answer comes later");
    let seen = tokio::time::timeout(Duration::from_secs(5), trouble.wait_for(Option::is_some))
        .await
        .expect("trouble is told within 5 s")
        .expect("watch")
        .clone();
    assert!(matches!(seen, Some(Incomplete::Disk { .. })), "{seen:?}");

    exchange(&citizen_peer, "C", &agent_peer, "G").await;
    for kind in [RtpCodecKind::Video, RtpCodecKind::Audio] {
        received_from(&agent_peer, kind, "C", "agent");
        received_from(&citizen_peer, kind, "G", "citizen");
    }
    let report = call.stop_recording().await.expect("a report");
    assert!(!report.is_complete());
    assert!(report.file.is_none());
    assert!(
        matches!(report.incomplete.as_slice(), [Incomplete::Disk { .. }]),
        "{:?}",
        report.incomplete
    );
    assert!(
        call.stop_recording().await.is_none(),
        "stopped once; nothing more to stop"
    );
    citizen_peer.close().await;
    agent_peer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_who_reconnects_mid_call_goes_on_in_the_same_file() {
    let dir = scratch_dir("reconnected");
    let clips = clips(&dir).await;
    let app = spawn_app().await;
    let (mut citizen, _, mut agent) = app.accepted_call().await;
    // The call is recorded from its acceptance.
    let started = Instant::now();
    let mut first = TestPeer::new(0x0C00_0000, "citizen").await;
    let mut agent_peer = TestPeer::new(0x0A00_0000, "agent").await;
    first.connect(&mut citizen).await;
    agent_peer.connect(&mut agent).await;
    let call = app.state().signaling.calls.only().expect("one call");
    let length = Duration::from_secs(8);
    let from_agent = send_clips(
        agent_peer.outgoing().await,
        clips.clone(),
        length,
        Impairment::default(),
        11,
    );
    let before = Duration::from_secs(3);
    send_clips(
        first.outgoing().await,
        clips.clone(),
        before,
        Impairment::default(),
        7,
    )
    .await
    .expect("first connection sent");
    first.close().await;

    // The reloaded page: a new connection, new SSRCs, sequence numbers and RTP clock.
    let mut second = TestPeer::new(0x0D00_0000, "citizen-again").await;
    second.connect(&mut citizen).await;
    let rest = length.saturating_sub(started.elapsed());
    send_clips(
        second.outgoing().await,
        clips,
        rest,
        Impairment::default(),
        13,
    )
    .await
    .expect("second connection sent");
    from_agent.await.expect("agent sent");
    let report = call.stop_recording().await.expect("a report");
    let elapsed = started.elapsed();
    assert!(report.is_complete(), "{:?}", report.incomplete);
    assert_plays(&report, elapsed).await;
    // About 3 s before and the rest after the reconnection, at 30 frames/s.
    let citizen_video = &report.tracks[0];
    assert!(
        citizen_video.frames as f64 >= (elapsed.as_secs_f64() - 2.0) * 30.0 * 0.8,
        "the citizen's video on both sides of the reconnection: {citizen_video:?}"
    );
    second.close().await;
    agent_peer.close().await;
}
