//! What one client address may hold anonymously: so many citizen sockets open at once, and
//! so many test calls running at once. Other addresses are unaffected.

use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::tungstenite;
use web::config::ServeArgs;

use crate::helpers::{Db, spawn_app_with};

const ONE: &str = "198.51.100.7";
const OTHER: &str = "198.51.100.8";

#[tokio::test]
async fn one_address_holds_at_most_its_citizen_sockets_and_others_still_connect() {
    let args = ServeArgs {
        trust_forwarded_for: true,
        citizen_sockets_per_address: Some(3),
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(app.citizen_from(ONE).await.expect("within the cap"));
    }
    match app.citizen_from(ONE).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
            assert!(response.headers().contains_key("retry-after"));
        }
        Err(e) => panic!("refused otherwise: {e}"),
        Ok(_) => panic!("a fourth socket from one address was let in"),
    }
    let _other = app.citizen_from(OTHER).await.expect("another address");

    // A closed socket gives its place back (once the server has seen it go).
    held.pop().expect("held").close().await;
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(ws) = app.citizen_from(ONE).await {
            reopened = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "the place was given back");
}

#[tokio::test]
async fn one_address_runs_at_most_two_test_calls_at_once_and_others_still_start() {
    let args = ServeArgs {
        trust_forwarded_for: true,
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    let mut running = Vec::new();
    for _ in 0..2 {
        let mut ws = app.citizen_from(ONE).await.expect("socket");
        ws.send(json!({ "type": "echo_start" })).await;
        ws.until("echo_ready").await;
        running.push(ws);
    }
    let mut third = app.citizen_from(ONE).await.expect("socket");
    third.send(json!({ "type": "echo_start" })).await;
    let busy = third.until("echo_busy").await;
    assert_eq!(busy["retry_after_secs"], 5, "{busy}");

    let mut other = app.citizen_from(OTHER).await.expect("socket");
    other.send(json!({ "type": "echo_start" })).await;
    other.until("echo_ready").await;

    let mut first = running.remove(0);
    first.send(json!({ "type": "echo_stop" })).await;
    first.until("echo_ended").await;
    third.send(json!({ "type": "echo_start" })).await;
    third.until("echo_ready").await;
}
