//! The agent's timers: an offer not accepted in time lapses (the citizen back at the head,
//! the agent on break), and wrap-up ends by itself.

use chrono::TimeDelta;
use serde_json::json;
use store::StaffRole;
use web::config::ConsoleArgs;
use web::config::ServeArgs;

use crate::helpers::{Db, spawn_app_with};

fn short_timers() -> ServeArgs {
    ServeArgs {
        console: ConsoleArgs {
            wrap_up_seconds: Some(1),
            offer_timeout_seconds: Some(1),
            ..ConsoleArgs::default()
        },
        ..ServeArgs::default()
    }
}

#[tokio::test]
async fn an_offer_not_accepted_in_time_goes_back_and_the_agent_goes_on_break() {
    let app = spawn_app_with(Db::Sqlite, short_timers()).await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut citizen = app.citizen().await;
    citizen
        .send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    citizen.until("queued").await;
    app.add_staff("ana", StaffRole::Agent).await;
    let mut b = app.browser();
    b.sign_in("ana").await;
    let mut agent = app
        .try_ws("/ws/agent", Some(&app.base), Some(&b.cookie_header()))
        .await
        .expect("console");
    agent.send(json!({ "type": "take_next" })).await;
    agent.until("offered").await;
    citizen.until("agent_found").await;
    // The server's clock moves past the timeout; the wake-up timer applies it.
    app.clock.advance(TimeDelta::seconds(2));
    assert_eq!(agent.until("call_ended").await["reason"], "offer_timeout");
    let state = agent.until("state").await;
    assert_eq!(
        (state["state"].as_str(), state["reason"].as_str()),
        (Some("break"), Some("no_answer"))
    );
    assert_eq!(citizen.until("requeued").await["position"], 1);
    let waiting = app
        .store
        .waiting_queue(chrono::Utc::now())
        .await
        .expect("queue");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].priority, scheduler::REQUEUE_PRIORITY);
}

#[tokio::test]
async fn wrap_up_ends_by_itself_after_a_call() {
    let app = spawn_app_with(Db::Sqlite, short_timers()).await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    call.agent.send(json!({ "type": "hang_up" })).await;
    call.agent.until("call_ended").await;
    assert_eq!(call.agent.until("state").await["state"], "wrap_up");
    app.clock.advance(TimeDelta::seconds(2));
    assert_eq!(call.agent.until("state").await["state"], "available");
    let events = app
        .store
        .audit_for_subject(
            &app.store
                .find_staff_by_name("ana")
                .await
                .expect("read")
                .expect("ana")
                .id,
        )
        .await
        .expect("audit");
    let states: Vec<String> = events
        .iter()
        .filter(|e| e.action == "agent.state")
        .map(|e| e.detail.clone())
        .collect();
    assert!(
        states.iter().any(|d| d.contains("wrap_up_over")),
        "{states:?}"
    );
}
