use chrono::TimeDelta;
use serde_json::json;
use store::AgentStatus;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{madrid, spawn_app};

#[tokio::test]
async fn a_citizen_joins_and_is_told_the_position_and_the_grace_period() {
    let app = spawn_app().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    let queued = ws.until("queued").await;
    assert_eq!(queued["position"], 1);
    assert_eq!(
        queued["estimate_secs"],
        json!(null),
        "no agent working: no estimate"
    );
    assert_eq!(queued["grace_secs"], 60);
    assert!(
        queued["resume_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 43)
    );
    let ticket = app
        .store
        .ticket(queued["ticket"].as_str().expect("id"))
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(ticket.id_number, "12345678Z");
}

#[tokio::test]
async fn a_second_tab_gets_the_same_place_not_a_second_one() {
    let app = spawn_app().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut first = app.citizen().await;
    first
        .send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    let a = first.until("queued").await;
    let mut second = app.citizen().await;
    second
        .send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    let b = second.until("queued").await;
    assert_eq!(a["ticket"], b["ticket"]);
    assert_eq!(
        app.store
            .waiting_queue(chrono::Utc::now())
            .await
            .expect("queue")
            .len(),
        1
    );
}

#[tokio::test]
async fn joining_while_closed_is_refused_with_the_next_opening() {
    let app = spawn_app().await;
    app.clock.set(madrid("2026-11-28 10:00"));
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    let refused = ws.until("refused").await;
    assert_eq!(refused["reason"], "closed");
    assert_eq!(refused["next_opening"], "2026-11-30T08:00:00Z");
    assert!(
        ws.try_recv().await.is_none(),
        "the socket closes after a refusal"
    );
}

#[tokio::test]
async fn joining_too_close_to_closing_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    app.agent_in("ana", AgentStatus::InCall).await;
    // One agent, in a call, six-minute calls on average: someone joining at 13:57 would be
    // taken after 14:00.
    app.clock.set(madrid("2026-11-26 13:57"));
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    let refused = ws.until("refused").await;
    assert_eq!(refused["reason"], "too_late_today");
    assert_eq!(refused["closes"], "2026-11-26T13:00:00Z");
    assert_eq!(refused["next_opening"], "2026-11-27T08:00:00Z");
}

#[tokio::test]
async fn positions_are_pushed_when_someone_ahead_leaves() {
    let app = spawn_app().await;
    let first = app.application("12345678Z", "15/03/2031").await;
    let second = app.application("00000000T", "20/06/2019").await;
    let mut a = app.citizen().await;
    a.send(json!({ "type": "join", "application": first, "consent": true }))
        .await;
    a.until("queued").await;
    let mut b = app.citizen().await;
    b.send(json!({ "type": "join", "application": second, "consent": true }))
        .await;
    assert_eq!(b.until("queued").await["position"], 2);
    a.send(json!({ "type": "leave" })).await;
    assert_eq!(a.until("left").await["type"], "left");
    // Earlier updates may still say 2; the one after the leave says 1.
    loop {
        if b.until("position").await["position"] == 1 {
            break;
        }
    }
}

#[tokio::test]
async fn a_dropped_citizen_resumes_inside_the_grace_period_and_not_after() {
    let app = spawn_app().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    let queued = ws.until("queued").await;
    let resume = queued["resume_token"].as_str().expect("token").to_owned();
    ws.close().await;
    let id = queued["ticket"].as_str().expect("ticket").to_owned();
    disconnected(&app, &id).await;

    app.clock.advance(TimeDelta::seconds(50));
    let mut back = app.citizen().await;
    back.send(json!({ "type": "resume", "resume_token": resume }))
        .await;
    let again = back.until("queued").await;
    assert_eq!(again["ticket"], queued["ticket"], "the same place");
    back.close().await;
    disconnected(&app, &id).await;

    // Gone for longer than the grace period: one publisher round releases the place.
    app.clock.advance(TimeDelta::seconds(61));
    signaling::publisher::publish_once(&app.state().signaling, &mut Default::default())
        .await
        .expect("publish");
    let mut late = app.citizen().await;
    late.send(json!({ "type": "resume", "resume_token": resume }))
        .await;
    assert_eq!(late.recv().await["code"], "resume_expired");
    let t = app.store.ticket(&id).await.expect("find").expect("stored");
    assert_eq!(t.outcome.as_deref(), Some("abandoned"));
}

/// Waits (bounded) until the server has noticed that the ticket's citizen disconnected.
async fn disconnected(app: &crate::helpers::TestApp, ticket: &str) {
    for _ in 0..500 {
        let t = app
            .store
            .ticket(ticket)
            .await
            .expect("find")
            .expect("stored");
        if t.disconnected_at.is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the server never noticed the disconnection");
}

#[tokio::test]
async fn malformed_messages_get_an_error_and_the_connection_stays_usable() {
    let app = spawn_app().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut ws = app.citizen().await;
    ws.send_raw(Message::Text("not json".into()))
        .await
        .expect("send");
    assert_eq!(ws.recv().await["code"], "malformed");
    ws.send(json!({ "type": "teleport" })).await;
    assert_eq!(ws.recv().await["code"], "malformed");
    ws.send_raw(Message::Binary(vec![1, 2, 3].into()))
        .await
        .expect("send");
    assert_eq!(ws.recv().await["code"], "malformed");
    ws.send(json!({ "type": "join", "application": "forged", "consent": true }))
        .await;
    assert_eq!(ws.recv().await["code"], "not_verified");
    ws.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    assert_eq!(ws.until("queued").await["position"], 1);
}

#[tokio::test]
async fn an_oversized_or_flooding_client_is_cut_off_and_others_are_unaffected() {
    let app = spawn_app().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut good = app.citizen().await;
    good.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    good.until("queued").await;

    let mut big = app.citizen().await;
    let huge = format!(
        "{{\"type\":\"join\",\"application\":\"{}\"}}",
        "x".repeat(64 * 1024)
    );
    let _ = big.send_raw(Message::Text(huge.into())).await;
    assert!(
        big.try_recv().await.is_none(),
        "closed for an oversized message"
    );

    let mut flood = app.citizen().await;
    for _ in 0..60 {
        flood
            .send_raw(Message::Text("{\"type\":\"leave\"}".into()))
            .await
            .expect("send");
    }
    let mut rate_limited = false;
    for _ in 0..60 {
        if flood.recv().await["code"] == "rate_limited" {
            rate_limited = true;
            break;
        }
    }
    assert!(rate_limited, "told to slow down");
    for _ in 0..400 {
        if flood
            .send_raw(Message::Text("{\"type\":\"leave\"}".into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let mut closed = false;
    for _ in 0..1000 {
        if flood.try_recv().await.is_none() {
            closed = true;
            break;
        }
    }
    assert!(closed, "a client that keeps flooding is cut off");

    good.send(json!({ "type": "leave" })).await;
    assert_eq!(
        good.until("left").await["type"],
        "left",
        "the well-behaved client still works"
    );
}

#[tokio::test]
async fn a_foreign_origin_is_refused_before_the_upgrade() {
    let app = spawn_app().await;
    let err = app
        .try_ws("/ws/citizen", Some("http://evil.example"), None)
        .await
        .err()
        .expect("refused");
    let tokio_tungstenite::tungstenite::Error::Http(response) = err else {
        panic!("HTTP refusal expected: {err}")
    };
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        app.try_ws("/ws/citizen", None, None).await.is_ok(),
        "non-browser clients send no Origin"
    );
}
