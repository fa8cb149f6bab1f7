//! The staff of the soak: agents taking, accepting and deciding over `/ws/agent` and the
//! console's HTTP calls (stills, decisions), and supervisors watching the dashboard's event
//! stream and the read-only console socket.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::media;
use super::ws::Ws;
use super::{Day, Rng};

const STEP: Duration = Duration::from_secs(20);
/// A real still: the made-up test card the still tests use.
const STILL: &[u8] = include_bytes!("../../../agent-console/tests/fixtures/stills/sharp.png");
/// Every checklist item of the default rules.
const CHECKLIST: [&str; 8] = [
    "document_original",
    "data_match",
    "face_match",
    "hologram",
    "personalisation",
    "material",
    "security_print",
    "consent",
];

/// A signed-in staff member: the session cookie and its CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Signs `name` in (second factor off) and reads the session's CSRF token from `/staff`.
pub async fn sign_in(day: &Day, name: &str, password: &str) -> Session {
    let cookie = crate::cluster::sign_in_at(&day.base, name, password).await;
    let staff = reqwest::Client::new()
        .get(format!("{}/staff", day.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("/staff");
    let csrf = crate::cluster::csrf_of(&staff.text().await.expect("body"));
    Session { cookie, csrf }
}

/// One agent's day: available, then `take_next` until the day is over; each citizen is
/// accepted, looked at (real media when the citizen has a camera), photographed and decided:
/// mostly approved, some rejected, some aborted for quality, a few hung up on; then
/// available again, with an occasional break. Offline at the end.
pub async fn agent(day: Arc<Day>, k: usize, session: Session) {
    let mut rng = Rng::new(1_000_000 + k as u64);
    let mut ws = Ws::connect(&day, "/ws/agent", Some(&session.cookie))
        .await
        .expect("the agent's socket");
    set_state(&mut ws, "available").await;
    let mut calls = 0u32;
    while !day.agents_stop() {
        ws.send(json!({ "type": "take_next" })).await;
        let Some(m) = ws.until(&["offered", "queue_empty"], STEP).await else {
            day.tally("agent_take_unanswered");
            continue;
        };
        if m["type"] != "offered" {
            if m["type"] == "error" {
                day.tally(&format!(
                    "agent_error_{}",
                    m["code"].as_str().unwrap_or("?")
                ));
            }
            tokio::time::sleep(Duration::from_millis(300 + rng.below(400))).await;
            continue;
        }
        let ticket = m["ticket"].as_str().unwrap_or_default().to_owned();
        let offered_at = std::time::Instant::now();
        ws.send(json!({ "type": "accept" })).await;
        let Some(started) = ws.until(&["call_started", "call_ended"], STEP).await else {
            day.tally("agent_accept_unanswered");
            continue;
        };
        if started["type"] != "call_started" {
            let why = started["reason"].as_str().or(started["code"].as_str());
            day.tally(&format!(
                "agent_accept_{}_{}",
                started["type"].as_str().unwrap_or("?"),
                why.unwrap_or("?")
            ));
            set_state(&mut ws, "available").await;
            continue;
        }
        calls += 1;
        let camera = day.media_tickets.lock().expect("lock").remove(&ticket);
        let peer = match camera {
            true => call_media(&day, &mut ws, k, calls).await,
            false => None,
        };
        // Looking at the citizen and the document.
        let looking = day.plan.handle_time(&mut rng);
        tokio::time::sleep(looking).await;
        day.add("agent_ms_looking", looking.as_millis() as u64);
        let deciding = std::time::Instant::now();
        let decision = match rng.below(100) {
            0..84 => json!({ "decision": "approve", "checklist": CHECKLIST, "note": "soak" }),
            84..92 => json!({ "decision": "reject", "reason": "document_expired" }),
            92..98 => json!({ "decision": "abort", "reason": "video_quality" }),
            _ => Value::Null,
        };
        let mut decided = "hang_up".to_owned();
        if !decision.is_null() {
            // What the agent does when the server says no: capture again and decide again.
            for _ in 0..5 {
                if decision["decision"] == "approve" {
                    for kind in ["document_front", "document_back", "face"] {
                        upload(&day, &session, &ticket, kind).await;
                    }
                    live_person_check(&day, &session, &ticket).await;
                }
                decided = decide(&day, &session, &ticket, &decision).await;
                if !decided.ends_with("_503") && !decided.ends_with("_422") {
                    break;
                }
                day.tally(&format!("agent_decided_again_after_{decided}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if decided.ends_with("_503") || decided.ends_with("_422") || decision.is_null() {
            ws.send(json!({ "type": "hang_up" })).await;
        }
        day.tally(&format!("agent_{decided}"));
        let ended = ws.until(&["call_ended"], STEP).await;
        day.add(
            "agent_ms_stills_and_decision",
            deciding.elapsed().as_millis() as u64,
        );
        let reason = ended.as_ref().and_then(|m| m["reason"].as_str());
        day.tally(&format!(
            "agent_call_ended_{}",
            reason.unwrap_or("unanswered")
        ));
        if let Some(p) = peer {
            p.close().await;
        }
        if rng.chance(0.05) {
            ws.send(json!({ "type": "set_state", "state": "break", "reason": "pausa" }))
                .await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        set_state(&mut ws, "available").await;
        day.add(
            "agent_ms_offered_to_available",
            offered_at.elapsed().as_millis() as u64,
        );
    }
    set_state(&mut ws, "offline").await;
    ws.close().await;
}

/// Asks for `state` and waits until the console says so.
async fn set_state(ws: &mut Ws, state: &str) {
    ws.send(json!({ "type": "set_state", "state": state }))
        .await;
    for _ in 0..20 {
        match ws.until(&["state"], STEP).await {
            Some(m) if m["state"] == state || m["type"] != "state" => return,
            Some(_) => {}
            None => return,
        }
    }
}

/// The agent's camera: negotiates with videoreg and sends a second of media to the citizen.
async fn call_media(day: &Day, ws: &mut Ws, k: usize, call: u32) -> Option<media::MediaPeer> {
    let ssrc = 0x3000_0000 + (u32::try_from(k).unwrap_or(0) << 16) + 2 * call;
    let Some(peer) = media::connect(ws, ssrc, Duration::from_secs(15)).await else {
        day.tally("call_media_agent_not_connected");
        return None;
    };
    let got = peer.send(50).await;
    day.tally(if got > 0 {
        "call_media_agent_received"
    } else {
        "call_media_agent_nothing_back"
    });
    Some(peer)
}

/// Uploads a still; a 503 is sent again after a second, as the agent would.
async fn upload(day: &Day, session: &Session, ticket: &str, kind: &str) {
    for _ in 0..5 {
        let r = day
            .client
            .post(format!("{}/staff/calls/{ticket}/stills/{kind}", day.base))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .header("content-type", "image/png")
            .body(STILL)
            .send()
            .await;
        let status = r.map_or(0, |r| r.status().as_u16());
        if status == 201 {
            return;
        }
        day.tally(&format!("still_{status}"));
        if status != 503 {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Issues a live-person challenge and confirms the code as heard (the citizen said it), as
/// an agent does before approving; tallies any refusal.
async fn live_person_check(day: &Day, session: &Session, ticket: &str) {
    for _ in 0..5 {
        let r = day
            .client
            .post(format!("{}/staff/calls/{ticket}/challenge", day.base))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .json(&json!({}))
            .send()
            .await;
        let Ok(r) = r else {
            day.tally("challenge_0");
            return;
        };
        let status = r.status().as_u16();
        if status == 503 {
            day.tally("challenge_503");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let Some(id) = body["challenge"].as_str().filter(|_| status == 201) else {
            day.tally(&format!("challenge_{status}"));
            return;
        };
        let heard = day
            .client
            .post(format!(
                "{}/staff/calls/{ticket}/challenge/{id}/heard",
                day.base
            ))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .send()
            .await
            .map_or(0, |r| r.status().as_u16());
        if heard == 200 {
            return;
        }
        day.tally(&format!("challenge_heard_{heard}"));
        if heard != 503 && heard != 410 {
            return;
        }
    }
}

/// Posts a decision; returns what happened, e.g. `approve` or `approve_409`.
async fn decide(day: &Day, session: &Session, ticket: &str, body: &Value) -> String {
    let what = body["decision"].as_str().unwrap_or("?").to_owned();
    let r = day
        .client
        .post(format!("{}/staff/calls/{ticket}/decision", day.base))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .header("accept", "application/json")
        .json(body)
        .send()
        .await;
    match r.map(|r| r.status().as_u16()) {
        Ok(200) => what,
        Ok(status) => format!("{what}_{status}"),
        Err(_) => format!("{what}_unanswered"),
    }
}

/// A supervisor watching: the dashboard's event stream until the day is over; counts the
/// snapshots received.
pub async fn dashboard(day: Arc<Day>, session: Session) {
    let r = day
        .client
        .get(format!("{}/supervisor/stream", day.base))
        .header("cookie", &session.cookie)
        .header("accept", "text/event-stream")
        .send()
        .await;
    let Ok(mut r) = r else {
        return day.tally("dashboard_refused");
    };
    while !day.agents_stop() {
        match tokio::time::timeout(Duration::from_secs(1), r.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let events = chunk.windows(5).filter(|w| *w == b"data:").count();
                for _ in 0..events {
                    day.tally("dashboard_snapshots");
                }
            }
            Ok(_) => return day.tally("dashboard_stream_ended"),
            Err(_) => {}
        }
    }
}

/// A supervisor on the console's socket (read-only): counts the queue updates seen.
pub async fn console_watch(day: Arc<Day>, session: Session) {
    let Some(mut ws) = Ws::connect(&day, "/ws/agent", Some(&session.cookie)).await else {
        return day.tally("supervisor_socket_refused");
    };
    while !day.agents_stop() {
        // Read-only, it has nothing to say: a ping keeps it from being taken for silent.
        ws.ping().await;
        if let Some(m) = ws.until(&["queue"], Duration::from_secs(5)).await {
            match m["type"].as_str() {
                Some("queue") => day.tally("supervisor_queue_updates"),
                Some("closed") => return day.tally("supervisor_socket_closed"),
                _ => {}
            }
        }
    }
    ws.close().await;
}
