//! A claim is committed and told to its agent, or undone: never left offered to an agent
//! who was not told. On PostgreSQL through a proxy that strikes the claim's transaction at
//! its `COMMIT` (cut before it, its answer lost, the database gone right after it); on
//! SQLite, an agent whose connections are gone when the offer is to be told.

use chrono::TimeDelta;
use serde_json::json;
use signaling::calls::Taken;
use store::{AgentStatus, StaffRole, Ticket, TicketStatus};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, spawn_app};
use crate::outage_proxy::app_behind_proxy;
use crate::staff_helpers::Browser;
use crate::supervisor::{supervisor, until_event};
use crate::ws_agent::waiting_citizen;
use crate::ws_helpers::Ws;
use store::outage_proxy::CommitFault;

/// The audit action of a claim: the proxy's marker for the claim's transaction.
const OFFERED: &str = "ticket.offered";

/// Signs in `name`, an agent already added, for the first time.
async fn signed_in<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    let mut b = app.browser();
    b.sign_in(name).await;
    b
}

/// Opens a console in a signed-in browser.
async fn open_console(app: &TestApp, b: &Browser<'_>) -> Ws {
    let mut ws = app
        .try_ws("/ws/agent", Some(&app.base), Some(&b.cookie_header()))
        .await
        .expect("console socket");
    ws.until("state").await;
    ws
}

/// A new agent `name`, available, with its console, its staff user id and its browser.
async fn available_agent<'a>(app: &'a TestApp, name: &str) -> (Ws, String, Browser<'a>) {
    app.add_staff(name, StaffRole::Agent).await;
    let b = signed_in(app, name).await;
    let mut ws = open_console(app, &b).await;
    ws.send(json!({ "type": "set_state", "state": "available" }))
        .await;
    assert_eq!(ws.until("state").await["state"], "available");
    (ws, user_id(app, name).await, b)
}

async fn user_id(app: &TestApp, name: &str) -> String {
    let user = app.store.find_staff_by_name(name).await.expect("find");
    user.expect("added").id
}

async fn ticket(app: &TestApp, id: &str) -> Ticket {
    app.store.ticket(id).await.expect("read").expect("stored")
}

async fn agent_state(app: &TestApp, user: &str) -> (AgentStatus, Option<String>) {
    let state = app.store.agent_state(user).await.expect("read");
    state.map_or((AgentStatus::Offline, None), |s| (s.status, s.reason))
}

async fn actions(app: &TestApp, ticket: &str) -> Vec<String> {
    let events = app.store.audit_for_subject(ticket).await.expect("audit");
    events.into_iter().map(|e| e.action).collect()
}

/// Lets the offer timeout pass and applies the timers, as the publisher's round does.
async fn offer_timeout_passes(app: &TestApp) {
    app.clock.advance(TimeDelta::seconds(31));
    signaling::agent_state::sweep(&app.state.signaling, app.clock.now())
        .await
        .expect("sweep");
}

#[tokio::test]
async fn a_claim_whose_commit_answer_was_lost_is_read_back_and_told_to_its_agent() {
    let (app, proxy) = app_behind_proxy().await;
    let (mut citizen, id) = waiting_citizen(&app).await;
    let (mut agent, ana, _) = available_agent(&app, "ana").await;
    proxy.at_commit_of(OFFERED, CommitFault::AnswerLost);

    agent.send(json!({ "type": "take_next" })).await;
    let offered = agent.until_unrefused("offered").await;
    proxy.struck().await;
    assert_eq!(offered["ticket"], id.as_str());
    citizen.until("agent_found").await;
    let t = ticket(&app, &id).await;
    assert_eq!(
        (t.status, t.agent_id.as_deref()),
        (TicketStatus::Offered, Some(ana.as_str()))
    );
    agent.send(json!({ "type": "accept" })).await;
    agent.until_unrefused("call_started").await;
    citizen.until("call_started").await;
}

#[tokio::test]
async fn a_claim_cut_before_its_commit_changes_nothing_and_the_agent_takes_again() {
    let (app, proxy) = app_behind_proxy().await;
    let (_citizen, id) = waiting_citizen(&app).await;
    let priority = ticket(&app, &id).await.priority;
    let (mut agent, ana, _) = available_agent(&app, "ana").await;
    proxy.at_commit_of(OFFERED, CommitFault::CutBeforeCommit);

    agent.send(json!({ "type": "take_next" })).await;
    let refused = loop {
        let m = agent.recv().await;
        assert_ne!(m["type"], "offered", "an offer that was never written");
        if m["type"] == "error" {
            break m;
        }
    };
    proxy.struck().await;
    assert_eq!(refused["code"], "unavailable", "{refused}");
    let t = ticket(&app, &id).await;
    assert_eq!(
        (t.status, t.agent_id, t.priority),
        (TicketStatus::Waiting, None, priority)
    );
    assert_eq!(
        agent_state(&app, &ana).await,
        (AgentStatus::Available, None)
    );
    assert!(!actions(&app, &id).await.iter().any(|a| a == OFFERED));

    agent.send(json!({ "type": "take_next" })).await;
    let offered = agent.until_unrefused("offered").await;
    assert_eq!(offered["ticket"], id.as_str());
}

#[tokio::test]
async fn a_claim_committed_just_before_the_database_goes_away_is_still_told_to_its_agent() {
    let (app, mut proxy) = app_behind_proxy().await;
    let (mut citizen, id) = waiting_citizen(&app).await;
    let (mut agent, ana, _) = available_agent(&app, "ana").await;
    proxy.at_commit_of(OFFERED, CommitFault::OutageAfterCommit);

    agent.send(json!({ "type": "take_next" })).await;
    let offered = agent.until_unrefused("offered").await;
    proxy.struck().await;
    assert_eq!(offered["ticket"], id.as_str());
    citizen.until("agent_found").await;
    // The queue-changed notice after the offer found no database. A socket handles one
    // message at a time, and a malformed one is answered without the database: its answer
    // comes once the take is over, and nothing came before it.
    let probe = Message::Text("not a message".into());
    agent.send_raw(probe).await.expect("send");
    let next = agent.until("error").await;
    assert_eq!(next["code"], "malformed", "{next}");

    proxy.resume().await;
    agent.send(json!({ "type": "accept" })).await;
    agent.until_unrefused("call_started").await;
    citizen.until("call_started").await;
    assert_eq!(agent_state(&app, &ana).await, (AgentStatus::InCall, None));
}

#[tokio::test]
async fn a_claim_whose_offer_cannot_be_told_is_undone() {
    let app = spawn_app().await;
    let (_first, id) = waiting_citizen(&app).await;
    let priority = ticket(&app, &id).await.priority;
    app.add_staff("ana", StaffRole::Agent).await;
    let ana = user_id(&app, "ana").await;
    let s = &app.state.signaling;
    s.store
        .set_agent_state(&ana, AgentStatus::Available, None, app.clock.now())
        .await
        .expect("available");
    // Ana's only connection here is gone: nothing takes what is sent to it.
    let (gone, closed) = tokio::sync::mpsc::channel(1);
    drop(closed);
    let connection = s.hub.connection_id();
    s.hub.add_agent(&ana, connection, gone);

    let taken = s.lifecycle().take(&ana).await.expect("take");
    s.hub.remove_agent(&ana, connection);
    assert_eq!(taken, Taken::Withdrawn);
    let t = ticket(&app, &id).await;
    assert_eq!(
        (t.status, t.agent_id, t.priority),
        (TicketStatus::Waiting, None, priority),
        "back in its own place, not at the head"
    );
    assert_eq!(
        agent_state(&app, &ana).await,
        (AgentStatus::Available, None)
    );
    assert_eq!(
        actions(&app, &id).await,
        [OFFERED, "ticket.offer_withdrawn"]
    );

    offer_timeout_passes(&app).await;
    assert_eq!(
        agent_state(&app, &ana).await,
        (AgentStatus::Available, None)
    );
    let mut agent = open_console(&app, &signed_in(&app, "ana").await).await;
    agent.send(json!({ "type": "take_next" })).await;
    assert_eq!(
        agent.until_unrefused("offered").await["ticket"],
        id.as_str()
    );
}

#[tokio::test]
async fn an_agent_gone_right_after_take_next_leaves_the_citizen_waiting_and_no_no_answer() {
    let app = spawn_app().await;
    let watcher = supervisor(&app).await;
    let (_citizen, id) = waiting_citizen(&app).await;
    let (mut agent, ana, browser) = available_agent(&app, "ana").await;
    let stream = app
        .client
        .get(app.url("/supervisor/stream"))
        .header("accept", "text/event-stream")
        .header("cookie", watcher.cookie_header())
        .send()
        .await
        .expect("stream");
    let (mut events, mut buffer) = (stream.bytes_stream(), String::new());
    until_event(&mut events, &mut buffer, |d| {
        d["agents_by_state"]["available"] == 1
    })
    .await;

    agent.send(json!({ "type": "take_next" })).await;
    agent.close().await;
    until_event(&mut events, &mut buffer, |d| {
        d["waiting"] == 1 && d["agents_by_state"]["offline"] == 1
    })
    .await;
    assert_eq!(ticket(&app, &id).await.status, TicketStatus::Waiting);
    offer_timeout_passes(&app).await;
    assert_eq!(agent_state(&app, &ana).await, (AgentStatus::Offline, None));
    assert!(
        !actions(&app, &id)
            .await
            .iter()
            .any(|a| a == "ticket.offer_lapsed")
    );

    let mut agent = open_console(&app, &browser).await;
    agent.send(json!({ "type": "take_next" })).await;
    assert_eq!(
        agent.until_unrefused("offered").await["ticket"],
        id.as_str()
    );
}

#[tokio::test]
async fn take_next_while_holding_an_offer_tells_that_offer_again() {
    let app = spawn_app().await;
    let (_citizen, id) = waiting_citizen(&app).await;
    let (mut agent, ..) = available_agent(&app, "ana").await;
    agent.send(json!({ "type": "take_next" })).await;
    agent.until_unrefused("offered").await;

    agent.send(json!({ "type": "take_next" })).await;
    let again = agent.until_unrefused("offered").await;
    assert_eq!(again["ticket"], id.as_str());
    agent.send(json!({ "type": "accept" })).await;
    agent.until_unrefused("call_started").await;
    agent.send(json!({ "type": "take_next" })).await;
    assert_eq!(agent.until("error").await["code"], "busy");
}

#[tokio::test]
async fn a_console_opened_while_an_offer_is_held_is_told_that_offer() {
    let app = spawn_app().await;
    let (_citizen, id) = waiting_citizen(&app).await;
    let (mut agent, _, browser) = available_agent(&app, "ana").await;
    agent.send(json!({ "type": "take_next" })).await;
    agent.until_unrefused("offered").await;

    let mut reloaded = app
        .try_ws("/ws/agent", Some(&app.base), Some(&browser.cookie_header()))
        .await
        .expect("console socket");
    assert_eq!(reloaded.until("state").await["state"], "in_call");
    let offered = reloaded.until_unrefused("offered").await;
    assert_eq!(offered["ticket"], id.as_str());
}
