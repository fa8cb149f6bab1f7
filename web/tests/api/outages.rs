//! Database outages: people are told at once, honestly, that the service is temporarily
//! unavailable (503 `unavailable` with `Retry-After`, or an `unavailable` socket error), the
//! sockets stay open, and `/healthz` names the database. One outage is a closed pool (a node
//! whose pool is gone); the others are real: a proxy in front of PostgreSQL that is stopped.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::outage_proxy::app_behind_proxy;

/// Well above the acquire timeout, and the old 10 s a request used to hang.
const GENEROUS: Duration = Duration::from_secs(10);

async fn apply(app: &TestApp, test_call: &str, lang: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/applications"))
        .header("accept-language", lang)
        .json(
            &json!({ "id_number": "12345678Z", "contrast": "15/03/2031", "test_call": test_call }),
        )
        .send()
        .await
        .expect("request")
}

/// Asserts a 503 `unavailable` answer with `Retry-After`, a message in `lang`'s words and
/// nothing of the cause.
async fn assert_unavailable(r: reqwest::Response, words: &str) {
    assert_eq!(r.status().as_u16(), 503);
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .expect("a Retry-After in seconds");
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert_eq!(body["error"]["retry_after_seconds"], retry_after, "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains(words), "{message}");
    let lower = message.to_lowercase();
    assert!(
        !lower.contains("pool") && !lower.contains("sqlx") && !lower.contains("connection"),
        "no internals leak: {message}"
    );
}

#[tokio::test]
async fn a_citizen_request_on_a_closed_pool_answers_503_unavailable_in_the_visitors_language() {
    let app = spawn_app().await;
    let test_call = app.passed_test_call().await;
    app.store.close().await;
    assert_unavailable(
        apply(&app, &test_call, "en").await,
        "temporarily unavailable",
    )
    .await;
    assert_unavailable(apply(&app, &test_call, "es").await, "no está disponible").await;
}

#[tokio::test]
async fn healthz_names_the_database_when_it_is_down() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!(
        (status, body),
        (200, json!({ "status": "ok", "database": "up" }))
    );
    app.store.close().await;
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!(
        (status, body),
        (503, json!({ "status": "unavailable", "database": "down" }))
    );
}

#[tokio::test]
async fn during_a_real_postgres_outage_requests_fail_fast_as_unavailable_and_succeed_once_it_is_back()
 {
    let (app, mut proxy) = app_behind_proxy().await;
    let test_call = app.passed_test_call().await;
    proxy.stop();

    let started = Instant::now();
    let r = apply(&app, &test_call, "en").await;
    assert!(started.elapsed() < GENEROUS, "answered before the old 10 s");
    assert_unavailable(r, "temporarily unavailable").await;
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!((status, body["database"].clone()), (503, json!("down")));

    proxy.resume().await;
    let r = apply(&app, &test_call, "en").await;
    assert_eq!(
        r.status().as_u16(),
        201,
        "the same request, retried, succeeds"
    );
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!((status, body["database"].clone()), (200, json!("up")));
}

#[tokio::test]
async fn a_socket_message_during_a_real_outage_gets_unavailable_and_the_socket_stays_usable() {
    let (app, mut proxy) = app_behind_proxy().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut ws = app.citizen().await;
    proxy.stop();

    let join = json!({ "type": "join", "application": token, "consent": true });
    ws.send(join.clone()).await;
    let error = ws.until("error").await;
    assert_eq!(error["code"], "unavailable", "{error}");
    let message = error["message"].as_str().expect("message");
    assert!(
        message.contains("no está disponible") && message.contains("temporarily unavailable"),
        "{message}"
    );

    proxy.resume().await;
    ws.send(join).await;
    let queued = ws.until("queued").await;
    assert_eq!(
        queued["position"], 1,
        "the retried join on the same socket succeeds"
    );
}

#[tokio::test]
async fn a_citizen_socket_closed_during_an_outage_is_recorded_as_gone_once_the_database_is_back() {
    let (app, mut proxy) = app_behind_proxy().await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    let queued = ws.until("queued").await;
    let ticket = queued["ticket"].as_str().expect("ticket").to_owned();
    proxy.stop();
    ws.close().await;
    // The outage outlasts several acquire timeouts (500 ms here) while the socket is gone.
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.resume().await;

    let deadline = Instant::now() + GENEROUS;
    loop {
        let t = app
            .store
            .ticket(&ticket)
            .await
            .expect("read")
            .expect("ticket");
        if t.disconnected_at.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the place is kept for the grace period from the close, not held for a socket that is gone"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows =
        store::testing::fetch_raw_texts(&app.store, "SELECT count(*)::text FROM connections")
            .await
            .expect("read");
    assert_eq!(
        rows,
        vec![Some("0".to_owned())],
        "no connection row outlives its socket"
    );
}
