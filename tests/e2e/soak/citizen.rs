//! One citizen's day, as a browser lives it: the test call (real media for a share, else a
//! passed test call written into the database as the other end-to-end tests do), the
//! application (a few type the contrast data wrong first), the queue, and then one fate:
//! served (approved, rejected, or aborted for quality and served again), leaving, vanishing
//! (the grace period lets the place go), reconnecting and resuming, or hanging up in the
//! call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::media::{self, good_echo_result};
use super::ws::Ws;
use super::{Day, Rng, dni};

const STEP: Duration = Duration::from_secs(20);
/// Messages a waiting or served citizen reacts to.
const CITIZEN_EVENTS: [&str; 8] = [
    "agent_found",
    "call_started",
    "requeued",
    "approved",
    "rejected",
    "call_ended",
    "left",
    "reconnect",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Stay,
    Leave,
    Vanish,
    Reconnect,
    HangUp,
}

pub async fn citizen(day: Arc<Day>, i: usize) {
    let mut rng = Rng::new(i as u64);
    let real_echo = rng.chance(day.plan.test_call_share);
    let token = match real_echo {
        true => match real_test_call(&day, i).await {
            Some(token) => token,
            None => day.passed_test_call().await,
        },
        false => day.passed_test_call().await,
    };
    if rng.chance(0.03) {
        let status = day.apply(&dni(i), "01/01/2001", &token).await.0;
        day.tally(&format!("apply_wrong_contrast_{status}"));
    }
    let (status, body) = day.apply(&dni(i), super::VALID_UNTIL, &token).await;
    if status != 201 {
        day.tally(&format!("apply_failed_{status}"));
        return;
    }
    let Some(application) = body["application"].as_str() else {
        return day.tally("apply_without_token");
    };
    let Some(mut ws) = Ws::connect(&day, "/ws/citizen", None).await else {
        return day.tally("citizen_socket_refused");
    };
    let join = json!({ "type": "join", "application": application, "consent": true });
    let mut answer = None;
    for _ in 0..10 {
        ws.send(join.clone()).await;
        answer = ws.until(&["queued", "refused"], STEP).await;
        match &answer {
            // The queue page sends its last message again after 2 s.
            Some(m) if m["code"] == "unavailable" => {
                day.tally("join_unavailable_sent_again");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            // The join sent again found the first one done after all: its answer follows.
            Some(m) if m["code"] == "already_joined" => {
                day.tally("join_already_joined_after_unavailable");
                answer = ws.until(&["queued", "refused"], STEP).await;
                break;
            }
            _ => break,
        }
    }
    let Some(m) = answer else {
        return day.tally("join_unanswered");
    };
    if m["type"] != "queued" {
        let what = m["reason"].as_str().or(m["code"].as_str()).unwrap_or("?");
        return day.tally(&format!(
            "join_{}_{what}",
            m["type"].as_str().unwrap_or("?")
        ));
    }
    day.tally("joined");
    let ticket = m["ticket"].as_str().unwrap_or_default().to_owned();
    let resume_token = m["resume_token"].as_str().unwrap_or_default().to_owned();
    let camera = rng.chance(day.plan.call_media_share);
    if camera {
        day.media_tickets
            .lock()
            .expect("lock")
            .insert(ticket.clone());
    }
    let fate = match rng.below(100) {
        0..8 => Fate::Leave,
        8..12 => Fate::Vanish,
        12..22 => Fate::Reconnect,
        22..24 => Fate::HangUp,
        _ => Fate::Stay,
    };
    let mut fate_at = Some(Instant::now() + Duration::from_millis(200 + rng.below(3_000)));
    let mut peer = None;
    // Offered to an agent or in a call: the citizen stays until it ends.
    let mut held = false;
    loop {
        let wait = fate_at.map_or(Duration::from_secs(2), |at| {
            at.saturating_duration_since(Instant::now())
                .min(Duration::from_secs(2))
        });
        let Some(m) = ws.until(&CITIZEN_EVENTS, wait).await else {
            if fate_at.is_some_and(|at| Instant::now() >= at) {
                fate_at = None;
                match fate {
                    Fate::Leave => {
                        ws.send(json!({ "type": "leave" })).await;
                        let answer = ws.until(&["left"], STEP).await;
                        let kind = answer.as_ref().and_then(|m| m["type"].as_str());
                        day.tally(&format!("leave_{}", kind.unwrap_or("unanswered")));
                        if kind == Some("left") {
                            break;
                        }
                    }
                    Fate::Vanish => {
                        day.tally("vanished");
                        day.vanished.lock().expect("lock").push(ticket.clone());
                        break;
                    }
                    Fate::Reconnect => match resume(&day, ws, &resume_token, &mut rng).await {
                        Some(back) => ws = back,
                        None => return day.tally("resume_failed"),
                    },
                    Fate::Stay | Fate::HangUp => {}
                }
            } else if day.closing() && !held {
                ws.send(json!({ "type": "leave" })).await;
                day.tally("gave_up_at_end");
                break;
            }
            continue;
        };
        match m["type"].as_str().unwrap_or_default() {
            "agent_found" => {
                held = true;
                fate_at = fate_at.filter(|_| fate == Fate::HangUp);
            }
            "call_started" => {
                held = true;
                fate_at = None;
                if camera {
                    peer = call_media(&day, &mut ws, i).await;
                }
                if fate == Fate::HangUp {
                    tokio::time::sleep(Duration::from_millis(300 + rng.below(1500))).await;
                    ws.send(json!({ "type": "hang_up" })).await;
                    // The agent may have decided first: then the outcome comes instead, and
                    // the hang-up, finding no call, may be refused (`no_call`) before the
                    // outcome arrives.
                    let mut answer = ws
                        .until(&["call_ended", "approved", "rejected"], STEP)
                        .await;
                    if answer.as_ref().is_some_and(|m| m["code"] == "no_call") {
                        day.tally("citizen_hang_up_no_call");
                        answer = ws
                            .until(&["call_ended", "approved", "rejected"], STEP)
                            .await;
                    }
                    match answer.as_ref().and_then(|m| m["type"].as_str()) {
                        Some(outcome @ ("approved" | "rejected")) => day.tally(outcome),
                        _ => {
                            let reason = answer.as_ref().and_then(|m| m["reason"].as_str());
                            day.tally(&format!(
                                "citizen_hang_up_{}",
                                reason.unwrap_or("unanswered")
                            ));
                        }
                    }
                    break;
                }
            }
            "requeued" => {
                let reason = m["reason"].as_str().unwrap_or("agent");
                day.tally(&format!("requeued_{reason}"));
                held = false;
                if let Some(p) = peer.take() {
                    media::MediaPeer::close(p).await;
                }
            }
            "approved" | "rejected" => {
                day.tally(m["type"].as_str().unwrap_or_default());
                break;
            }
            "call_ended" => {
                let reason = m["reason"].as_str().unwrap_or("?");
                day.tally(&format!("call_ended_{reason}"));
                break;
            }
            "reconnect" | "closed" => {
                day.tally("citizen_socket_closed");
                match resume(&day, ws, &resume_token, &mut rng).await {
                    Some(back) => ws = back,
                    None => return,
                }
            }
            "error" => day.tally(&format!(
                "citizen_error_{}",
                m["code"].as_str().unwrap_or("?")
            )),
            other => day.tally(&format!("citizen_unexpected_{other}")),
        }
    }
    if let Some(p) = peer {
        p.close().await;
    }
    ws.close().await;
}

/// Drops the socket as a lost network would, comes back within a second and resumes.
async fn resume(day: &Day, ws: Ws, resume_token: &str, rng: &mut Rng) -> Option<Ws> {
    drop(ws);
    tokio::time::sleep(Duration::from_millis(200 + rng.below(800))).await;
    let mut back = Ws::connect(day, "/ws/citizen", None).await?;
    let mut answer = Value::Null;
    for _ in 0..10 {
        back.send(json!({ "type": "resume", "resume_token": resume_token }))
            .await;
        // A ticket decided while the citizen was away answers with its outcome again.
        answer = back
            .until(
                &[
                    "queued",
                    "agent_found",
                    "call_started",
                    "approved",
                    "rejected",
                ],
                STEP,
            )
            .await?;
        // The queue page sends its last message again after 2 s.
        if answer["code"] != "unavailable" {
            break;
        }
        day.tally("resume_unavailable_sent_again");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let kind = answer["type"].as_str().unwrap_or_default().to_owned();
    let code = answer["code"]
        .as_str()
        .map_or(String::new(), |c| format!("_{c}"));
    day.tally(&format!("resumed_{kind}{code}"));
    if kind == "error" || kind == "closed" {
        return None;
    }
    if kind != "queued" {
        back.keep(answer);
    }
    Some(back)
}

/// The citizen's camera in the call: negotiates with videoreg and sends a second of media.
async fn call_media(day: &Day, ws: &mut Ws, i: usize) -> Option<media::MediaPeer> {
    let ssrc = 0x1000_0000 + 2 * u32::try_from(i).unwrap_or(0);
    let Some(peer) = media::connect(ws, ssrc, Duration::from_secs(15)).await else {
        day.tally("call_media_citizen_not_connected");
        return None;
    };
    let got = peer.send(50).await;
    day.tally(if got > 0 {
        "call_media_citizen_received"
    } else {
        "call_media_citizen_nothing_back"
    });
    Some(peer)
}

/// The test call with real media: `echo_start`, a negotiated peer sending a second of
/// media, the browser's result, `test_passed`; the token, or `None` (then counted).
async fn real_test_call(day: &Day, i: usize) -> Option<String> {
    let mut ws = Ws::connect(day, "/ws/citizen", None).await?;
    let mut ready = false;
    for _ in 0..20 {
        ws.send(json!({ "type": "echo_start" })).await;
        let m = ws.until(&["echo_ready", "echo_busy"], STEP).await?;
        if m["type"] == "echo_ready" {
            ready = true;
            break;
        }
        day.tally("echo_busy");
        let secs = m["retry_after_secs"].as_u64().unwrap_or(1).clamp(1, 3);
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
    if !ready {
        day.tally("echo_gave_up_busy");
        return None;
    }
    let ssrc = 0x2000_0000 + 2 * u32::try_from(i).unwrap_or(0);
    let Some(peer) = media::connect(&mut ws, ssrc, Duration::from_secs(15)).await else {
        day.tally("echo_not_connected");
        return None;
    };
    let echoed = peer.send(50).await;
    ws.send(good_echo_result()).await;
    let passed: Option<Value> = ws.until(&["test_passed"], STEP).await;
    ws.send(json!({ "type": "echo_stop" })).await;
    let _ = ws.until(&["echo_ended"], STEP).await;
    peer.close().await;
    ws.close().await;
    let token = passed.and_then(|m| m["test_token"].as_str().map(str::to_owned));
    day.tally(match (&token, echoed) {
        (Some(_), 1..) => "echo_passed_with_media_back",
        (Some(_), 0) => "echo_passed_nothing_back",
        (None, _) => "echo_not_passed",
    });
    token
}
