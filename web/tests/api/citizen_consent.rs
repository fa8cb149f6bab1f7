//! Consent before queueing (kept with the ticket), and the citizen hanging up a call.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn joining_needs_consent_and_its_time_is_kept_with_the_ticket() {
    let app = spawn_app().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut citizen = app.citizen().await;
    citizen
        .send(json!({ "type": "join", "application": token }))
        .await;
    let refused = citizen.until("error").await;
    assert_eq!(refused["code"], "consent_required", "{refused}");
    assert!(
        app.store
            .waiting_queue(chrono::Utc::now())
            .await
            .expect("queue")
            .is_empty()
    );
    citizen
        .send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    let queued = citizen.until("queued").await;
    let ticket = queued["ticket"].as_str().expect("ticket");
    let consent = app.store.ticket_consent(ticket).await.expect("read");
    assert_eq!(consent, Some(app.clock.now()));
}

#[tokio::test]
async fn a_citizen_hanging_up_ends_the_call_and_the_agent_is_told() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    call.citizen.send(json!({ "type": "hang_up" })).await;
    assert_eq!(
        call.citizen.until("call_ended").await["reason"],
        "citizen_hung_up"
    );
    assert_eq!(
        call.agent.until("call_ended").await["reason"],
        "citizen_left"
    );
    assert_eq!(call.agent.until("state").await["state"], "wrap_up");
    let t = app
        .store
        .ticket(&call.ticket)
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!(t.outcome.as_deref(), Some("citizen_hung_up"));
}
