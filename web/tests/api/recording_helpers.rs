//! Real media for the recording tests: a VP8 clip and an Opus clip that Debian's ffmpeg
//! encodes (libvpx, libopus), sent at real rate as RTP by a test peer, with packet loss and a
//! pause of the video when asked; and what ffprobe and ffmpeg say of a recorded file.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rtc::media::io::ivf_reader::IVFReader;
use rtc::media::io::ogg_reader::OggReader;
use rtc::rtp;
use rtc::rtp::codec::vp8::Vp8Payloader;
use rtc::rtp::packetizer::Payloader;
use tokio::task::JoinHandle;
use webrtc::media_stream::Track;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;

/// Encoded frames: VP8 at 30 frames/s with a keyframe each second, Opus in 20 ms packets.
pub struct Clips {
    video: Vec<Bytes>,
    audio: Vec<Bytes>,
}

/// Runs Debian's ffmpeg quietly; fails the test with its message when it fails.
pub async fn ffmpeg(args: &[&str]) {
    let out = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .await
        .expect("ffmpeg (Debian's ffmpeg package) runs");
    assert!(
        out.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Encodes 4 s of a test picture and a tone into `dir` and reads their frames.
pub async fn clips(dir: &Path) -> Arc<Clips> {
    let (ivf, ogg) = (dir.join("clip.ivf"), dir.join("clip.ogg"));
    let (ivf_s, ogg_s) = (ivf.to_string_lossy(), ogg.to_string_lossy());
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=30",
        "-t",
        "4",
        "-c:v",
        "libvpx",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-g",
        "30",
        "-lag-in-frames",
        "0",
        "-b:v",
        "400k",
        &ivf_s,
    ])
    .await;
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "4",
        "-c:a",
        "libopus",
        "-b:a",
        "32k",
        "-frame_duration",
        "20",
        "-page_duration",
        "20000",
        &ogg_s,
    ])
    .await;
    let (mut reader, _) = IVFReader::new(std::fs::File::open(&ivf).expect("ivf")).expect("ivf");
    let mut video = Vec::new();
    while let Ok((frame, _)) = reader.parse_next_frame() {
        video.push(frame.freeze());
    }
    let (mut reader, _) =
        OggReader::new(std::fs::File::open(&ogg).expect("ogg"), true).expect("ogg");
    let mut audio = Vec::new();
    while let Ok((page, _)) = reader.parse_next_page() {
        if !page.starts_with(b"OpusTags") {
            audio.push(page.freeze());
        }
    }
    assert!(video.len() >= 100 && audio.len() >= 150, "clips encoded");
    Arc::new(Clips { video, audio })
}

/// What goes wrong on the way: a share of packets lost, and a time span of the sending
/// (from the start) in which no video is sent while its clock runs on, as when a camera
/// stalls.
#[derive(Clone, Copy, Default)]
pub struct Impairment {
    pub loss_percent: u32,
    pub video_pause: Option<(Duration, Duration)>,
}

/// Sends the clips (looped) on a peer's outgoing tracks for `length` at real rate: Opus
/// every 20 ms, a VP8 frame every 33 ms split into RTP packets of at most 1,200 bytes.
/// Returns how many packets were dropped on purpose.
pub fn send_clips(
    outgoing: [(Arc<TrackLocalStaticRTP>, u8); 2],
    clips: Arc<Clips>,
    length: Duration,
    impairment: Impairment,
    seed: u32,
) -> JoinHandle<u64> {
    tokio::spawn(async move {
        let [(video, vpt), (audio, apt)] = outgoing;
        let (vssrc, assrc) = (video.ssrcs().await[0], audio.ssrcs().await[0]);
        let start = tokio::time::Instant::now();
        let mut audio_tick = tokio::time::interval(Duration::from_millis(20));
        let mut video_tick = tokio::time::interval(Duration::from_micros(33_333));
        let mut payloader = Vp8Payloader::default();
        payloader.enable_picture_id = true;
        let (mut aseq, mut vseq, mut na, mut nv) = (0u16, 0u16, 0u32, 0u32);
        let (mut rng, mut dropped) = (seed, 0u64);
        let mut lose = move || {
            rng = rng.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (rng >> 16) % 100 < impairment.loss_percent
        };
        let header = |pt, seq, ts, ssrc, marker| rtp::header::Header {
            version: 2,
            payload_type: pt,
            sequence_number: seq,
            timestamp: ts,
            ssrc,
            marker,
            ..Default::default()
        };
        while start.elapsed() < length {
            tokio::select! {
                _ = audio_tick.tick() => {
                    let payload = clips.audio[na as usize % clips.audio.len()].clone();
                    aseq = aseq.wrapping_add(1);
                    let h = header(apt, aseq, na.wrapping_mul(960), assrc, false);
                    na += 1;
                    if lose() { dropped += 1; continue; }
                    let _ = audio.write_rtp(rtp::Packet { header: h, payload }).await;
                }
                _ = video_tick.tick() => {
                    let ts = nv.wrapping_mul(3000);
                    let frame = clips.video[nv as usize % clips.video.len()].clone();
                    nv += 1;
                    let paused = impairment
                        .video_pause
                        .is_some_and(|(from, to)| (from..to).contains(&start.elapsed()));
                    if paused { continue; }
                    let parts = payloader.payload(1200, &frame).expect("vp8 payloads");
                    let last = parts.len().saturating_sub(1);
                    for (k, payload) in parts.into_iter().enumerate() {
                        vseq = vseq.wrapping_add(1);
                        let h = header(vpt, vseq, ts, vssrc, k == last);
                        if lose() { dropped += 1; continue; }
                        let _ = video.write_rtp(rtp::Packet { header: h, payload }).await;
                    }
                }
            }
        }
        dropped
    })
}

/// What ffprobe reads in a file: its streams as (codec type, codec name) and its duration;
/// and whether ffprobe and a full decode by ffmpeg said nothing at all (no error).
pub struct Probe {
    pub streams: Vec<(String, String)>,
    pub duration: f64,
    pub errors: String,
}

pub async fn probe(path: &Path) -> Probe {
    let out = tokio::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries"])
        .args([
            "stream=codec_type,codec_name:format=duration",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .await
        .expect("ffprobe (Debian's ffmpeg package) runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    let streams = json["streams"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|s| {
                    let field = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
                    (field("codec_type"), field("codec_name"))
                })
                .collect()
        })
        .unwrap_or_default();
    let duration = json["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0.0);
    let decoded = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        // Every frame decoded at its own time (1 ms ticks, as in the file): without these,
        // ffmpeg retimes video to the guessed 30 frames/s and complains of its own rounding
        // wherever a gap shifts the frames' phase.
        .args(["-fps_mode", "passthrough", "-enc_time_base", "-1"])
        .args(["-f", "null", "-"])
        .output()
        .await
        .expect("ffmpeg runs");
    let errors = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&decoded.stderr)
    );
    Probe {
        streams,
        duration,
        errors,
    }
}

/// A fresh directory under the system's temporary one.
pub fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("videoreg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}
