use serde_json::json;
use store::{StaffRole, TicketStatus};

use crate::helpers::{TestApp, spawn_app};
use crate::ws_helpers::Ws;

/// Signs `name` in and opens their console socket.
pub(crate) async fn console(app: &TestApp, name: &str, role: StaffRole) -> Ws {
    app.add_staff(name, role).await;
    let mut b = app.browser();
    b.sign_in(name).await;
    let cookie = b.cookie_header();
    app.try_ws("/ws/agent", Some(&app.base), Some(&cookie))
        .await
        .expect("console socket")
}

pub(crate) async fn waiting_citizen(app: &TestApp) -> (Ws, String) {
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    let ticket = ws.until("queued").await["ticket"]
        .as_str()
        .expect("ticket")
        .to_owned();
    (ws, ticket)
}

#[tokio::test]
async fn an_agent_takes_accepts_and_hangs_up_and_the_citizen_is_told_each_step() {
    let app = spawn_app().await;
    let (mut citizen, ticket) = waiting_citizen(&app).await;
    let mut agent = console(&app, "ana", StaffRole::Agent).await;
    let hello = agent.until("state").await;
    assert_eq!(
        (hello["state"].as_str(), hello["read_only"].as_bool()),
        (Some("offline"), Some(false))
    );

    agent
        .send(json!({ "type": "set_state", "state": "available" }))
        .await;
    assert_eq!(agent.until("state").await["state"], "available");
    // With an agent working, the citizen now gets an estimate: the agent is free, so no wait.
    let update = loop {
        let m = citizen.until("position").await;
        if !m["estimate_secs"].is_null() {
            break m;
        }
    };
    assert_eq!(
        (
            update["position"].as_i64(),
            update["estimate_secs"].as_i64()
        ),
        (Some(1), Some(0))
    );

    agent.send(json!({ "type": "take_next" })).await;
    let offered = agent.until("offered").await;
    assert_eq!(
        (offered["ticket"].as_str(), offered["id_number"].as_str()),
        (Some(ticket.as_str()), Some("*****678Z"))
    );
    citizen.until("agent_found").await;
    agent.send(json!({ "type": "accept" })).await;
    agent.until("call_started").await;
    citizen.until("call_started").await;
    agent.send(json!({ "type": "hang_up" })).await;
    agent.until("call_ended").await;
    assert_eq!(citizen.until("call_ended").await["reason"], "hang_up");
    let t = app
        .store
        .ticket(&ticket)
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(t.status, TicketStatus::Done);
    assert!(t.offered_at.is_some() && t.answered_at.is_some() && t.ended_at.is_some());

    agent.send(json!({ "type": "take_next" })).await;
    agent.until("queue_empty").await;
}

#[tokio::test]
async fn a_lost_agent_puts_the_citizen_back_at_the_head() {
    let app = spawn_app().await;
    let (mut citizen, ticket) = waiting_citizen(&app).await;
    let mut agent = console(&app, "ana", StaffRole::Agent).await;
    agent.send(json!({ "type": "take_next" })).await;
    agent.until("offered").await;
    citizen.until("agent_found").await;
    agent.close().await;
    assert_eq!(citizen.until("requeued").await["position"], 1);
    let t = app
        .store
        .ticket(&ticket)
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(
        (t.status, t.priority),
        (TicketStatus::Waiting, scheduler::REQUEUE_PRIORITY)
    );
}

#[tokio::test]
async fn an_agent_can_requeue_a_citizen_at_the_head() {
    let app = spawn_app().await;
    let (mut citizen, _) = waiting_citizen(&app).await;
    let mut agent = console(&app, "ana", StaffRole::Agent).await;
    agent.send(json!({ "type": "take_next" })).await;
    agent.until("offered").await;
    agent.send(json!({ "type": "accept" })).await;
    citizen.until("call_started").await;
    agent.send(json!({ "type": "requeue" })).await;
    assert_eq!(agent.until("call_ended").await["reason"], "requeued");
    assert_eq!(citizen.until("requeued").await["position"], 1);
}

#[tokio::test]
async fn a_supervisor_watches_read_only_and_an_auditor_is_refused() {
    let app = spawn_app().await;
    let mut sup = console(&app, "sara", StaffRole::Supervisor).await;
    assert_eq!(sup.until("state").await["read_only"], true);
    sup.send(json!({ "type": "take_next" })).await;
    assert_eq!(sup.until("error").await["code"], "read_only");

    app.add_staff("olga", StaffRole::Auditor).await;
    let mut b = app.browser();
    b.sign_in("olga").await;
    let err = app
        .try_ws("/ws/agent", Some(&app.base), Some(&b.cookie_header()))
        .await
        .err()
        .expect("refused");
    let tokio_tungstenite::tungstenite::Error::Http(response) = err else {
        panic!("HTTP refusal expected: {err}")
    };
    assert_eq!(response.status().as_u16(), 403);

    let err = app
        .try_ws("/ws/agent", Some(&app.base), None)
        .await
        .err()
        .expect("refused");
    let tokio_tungstenite::tungstenite::Error::Http(response) = err else {
        panic!("HTTP refusal expected: {err}")
    };
    assert_eq!(response.status().as_u16(), 401, "no session");
}

#[tokio::test]
async fn two_agents_taking_at_once_never_get_the_same_citizen() {
    let app = spawn_app().await;
    let (mut citizen, _) = waiting_citizen(&app).await;
    let mut ana = console(&app, "ana", StaffRole::Agent).await;
    let mut luis = console(&app, "luis", StaffRole::Agent).await;
    ana.send(json!({ "type": "take_next" })).await;
    luis.send(json!({ "type": "take_next" })).await;
    let mut outcomes = Vec::new();
    for ws in [&mut ana, &mut luis] {
        loop {
            let m = ws.recv().await;
            if m["type"] == "offered" || m["type"] == "queue_empty" {
                outcomes.push(m["type"].as_str().expect("type").to_owned());
                break;
            }
        }
    }
    outcomes.sort();
    assert_eq!(outcomes, ["offered", "queue_empty"]);
    citizen.until("agent_found").await;
}
