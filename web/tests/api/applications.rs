use chrono::TimeDelta;
use web::config::ServeArgs;
use web::secrets::hash_token;

use crate::helpers::{Db, spawn_app, spawn_app_with, thursday_morning};

async fn a_dni_with_its_validity_date_gets_an_application_token(db: Db) {
    let app = spawn_app_with(db, ServeArgs::default()).await;
    let (status, body) = app.apply(" 12345678-z ", "15/03/2031").await;
    assert_eq!(status, 201, "{body}");
    let token = body["application"].as_str().expect("token");
    assert!(token.len() >= 43);
    assert_eq!(body["id_number"], "*****678Z");
    assert_eq!(
        body["expires_at"], "2026-11-26T15:00:00Z",
        "six hours by default"
    );
    let stored = app
        .store
        .find_application_by_token(&hash_token(token), thursday_morning())
        .await
        .expect("query")
        .expect("the application is stored under the token's hash");
    assert_eq!(stored.id_number, "12345678Z");
    let audit = app
        .store
        .audit_for_subject(&stored.id)
        .await
        .expect("audit");
    assert_eq!(
        audit.first().map(|e| e.action.as_str()),
        Some("application.created")
    );
}

#[tokio::test]
async fn a_dni_with_its_validity_date_gets_an_application_token_on_sqlite() {
    a_dni_with_its_validity_date_gets_an_application_token(Db::Sqlite).await;
}

#[tokio::test]
async fn a_dni_with_its_validity_date_gets_an_application_token_on_postgres() {
    a_dni_with_its_validity_date_gets_an_application_token(Db::Postgres).await;
}

#[tokio::test]
async fn a_permanent_dni_is_checked_against_its_issue_date() {
    let app = spawn_app().await;
    assert_eq!(app.apply("00000000T", "9999-01-01").await.0, 422);
    assert_eq!(app.apply("00000000T", "20-06-2019").await.0, 201);
}

#[tokio::test]
async fn a_nie_is_checked_against_its_support_number() {
    let app = spawn_app().await;
    assert_eq!(app.apply("x1234567l", "e-00012345").await.0, 201);
    let (status, body) = app.apply("X1234567L", "15/03/2031").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_contrast"))
    );
}

#[tokio::test]
async fn an_expired_dni_is_refused_with_its_own_reason() {
    let app = spawn_app().await;
    let (status, body) = app.apply("11111111H", "10-01-2024").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("document_expired"))
    );
}

#[tokio::test]
async fn an_unknown_id_and_a_wrong_contrast_value_get_the_same_answer() {
    let app = spawn_app().await;
    let unknown = app.apply("99999999R", "15/03/2031").await;
    let wrong = app.apply("12345678Z", "16/03/2031").await;
    assert_eq!(unknown.0, 422);
    assert_eq!(unknown, wrong, "indistinguishable status and body");
    assert_eq!(wrong.1["error"]["code"], "not_verified");
}

#[tokio::test]
async fn malformed_ids_are_refused_before_lookup_and_do_not_count_toward_the_limit() {
    let app = spawn_app().await;
    for bad in ["", "1234", "12345678A", "A1234567L", "12345678Z9"] {
        let (status, body) = app.apply(bad, "15/03/2031").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("invalid_id_number")),
            "{bad:?}"
        );
    }
    for _ in 0..10 {
        assert_eq!(app.apply("12345678A", "15/03/2031").await.0, 422);
    }
    assert_eq!(
        app.apply("12345678Z", "15/03/2031").await.0,
        201,
        "no limit was reached"
    );
}

#[tokio::test]
async fn five_failures_for_one_id_lock_it_for_an_hour_with_retry_after() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.clock.advance(TimeDelta::minutes(1));
        assert_eq!(
            app.apply("12345678Z", &format!("0{}/01/2030", i + 1))
                .await
                .0,
            422
        );
    }
    let response = app
        .client
        .post(app.url("/api/v1/applications"))
        .json(&serde_json::json!({ "id_number": "12345678Z", "contrast": "15/03/2031", "test_call": app.passed_test_call().await }))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status().as_u16(),
        429,
        "even the right value is refused now"
    );
    let retry_after: i64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After header in seconds");
    // The first failure was at +1 min, so the limit lifts at +61 min; now is +5 min.
    assert_eq!(retry_after, 56 * 60);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "too_many_attempts");
    assert_eq!(body["error"]["retry_after_seconds"], 56 * 60);

    // Another person is not affected.
    assert_eq!(app.apply("00000000T", "20-06-2019").await.0, 201);
    app.clock.advance(TimeDelta::minutes(56));
    assert_eq!(
        app.apply("12345678Z", "15/03/2031").await.0,
        201,
        "the window has passed"
    );
}

#[tokio::test]
async fn failures_are_also_limited_per_client_address() {
    let args = ServeArgs {
        verify_limit_per_address: Some(3),
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    for id in ["12345678Z", "00000000T", "99999999R"] {
        assert_eq!(app.apply(id, "01/01/2030").await.0, 422);
    }
    let (status, body) = app.apply("X1234567L", "E00012345").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("too_many_attempts"))
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_against_the_forwarded_address() {
    let args = ServeArgs {
        verify_limit_per_address: Some(2),
        trust_forwarded_for: true,
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    // The proxy appends the address it saw; what the client wrote before it is ignored.
    for (id, spoof) in [("12345678Z", "1.1.1.1"), ("00000000T", "2.2.2.2")] {
        let header = format!("{spoof}, 203.0.113.7");
        assert_eq!(app.apply_via(id, "01/01/2030", Some(&header)).await.0, 422);
    }
    let (status, _) = app
        .apply_via("X1234567L", "E00012345", Some("9.9.9.9, 203.0.113.7"))
        .await;
    assert_eq!(status, 429, "both failures counted against 203.0.113.7");
    let (status, _) = app
        .apply_via("X1234567L", "E00012345", Some("203.0.113.8"))
        .await;
    assert_eq!(status, 201, "another client is not affected");
}

#[tokio::test]
async fn without_a_trusted_proxy_the_forwarded_header_is_ignored() {
    let args = ServeArgs {
        verify_limit_per_address: Some(2),
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    assert_eq!(
        app.apply_via("12345678Z", "01/01/2030", Some("1.1.1.1"))
            .await
            .0,
        422
    );
    assert_eq!(
        app.apply_via("00000000T", "01/01/2030", Some("2.2.2.2"))
            .await
            .0,
        422
    );
    let (status, _) = app
        .apply_via("X1234567L", "E00012345", Some("3.3.3.3"))
        .await;
    assert_eq!(status, 429, "all three came from the same peer");
}

#[tokio::test]
async fn a_body_that_is_not_the_expected_json_gets_a_json_error() {
    let app = spawn_app().await;
    for body in ["not json", "{\"contrast\": \"x\"}", "[]"] {
        let r = app
            .client
            .post(app.url("/api/v1/applications"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 400, "{body}");
        let json: serde_json::Value = r.json().await.expect("JSON");
        assert_eq!(json["error"]["code"], "invalid_body");
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_parsing() {
    let app = spawn_app().await;
    let huge = format!(
        "{{\"id_number\": \"{}\", \"contrast\": \"x\"}}",
        "1".repeat(64 * 1024)
    );
    let r = app
        .client
        .post(app.url("/api/v1/applications"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 413);
}

#[tokio::test]
async fn messages_follow_the_visitors_language() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/v1/applications"))
        .header("accept-language", "en-GB,en;q=0.8")
        .json(&serde_json::json!({ "id_number": "12345678A", "contrast": "" }))
        .send()
        .await
        .expect("request");
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("letter")),
        "{body}"
    );
    let (_, es) = app.apply("12345678A", "").await;
    assert!(
        es["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("letra")),
        "{es}"
    );
}

#[tokio::test]
async fn housekeeping_forgets_failures_that_can_no_longer_count() {
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(app.apply("12345678Z", "01/01/2030").await.0, 422);
    }
    let state = app.state();
    let now = app.clock.now();
    assert_eq!(
        web::housekeeping::run_once(&state, now)
            .await
            .expect("prune"),
        0,
        "still inside the window"
    );
    let later = now + TimeDelta::minutes(61);
    assert_eq!(
        web::housekeeping::run_once(&state, later)
            .await
            .expect("prune"),
        3
    );
}

#[tokio::test]
async fn an_application_needs_a_passed_test_call_used_once_within_its_time() {
    let app = spawn_app().await;
    let post = |body: serde_json::Value| {
        let request = app.client.post(app.url("/api/v1/applications")).json(&body);
        async move {
            let r = request.send().await.expect("request");
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.expect("JSON"))
        }
    };
    let (status, body) =
        post(serde_json::json!({ "id_number": "12345678Z", "contrast": "15/03/2031" })).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("test_call_required"))
    );
    let (_, body) = post(serde_json::json!({ "id_number": "12345678Z", "contrast": "15/03/2031", "test_call": "forged" })).await;
    assert_eq!(body["error"]["code"], "test_call_required");

    let token = app.passed_test_call().await;
    // A failed attempt does not use the test up.
    let (status, _) = post(serde_json::json!({ "id_number": "12345678Z", "contrast": "16/03/2031", "test_call": token })).await;
    assert_eq!(status, 422);
    let (status, _) = post(serde_json::json!({ "id_number": "12345678Z", "contrast": "15/03/2031", "test_call": token })).await;
    assert_eq!(status, 201);
    let (_, body) = post(serde_json::json!({ "id_number": "00000000T", "contrast": "20/06/2019", "test_call": token })).await;
    assert_eq!(body["error"]["code"], "test_call_required", "single use");

    let late = app.passed_test_call().await;
    app.clock.advance(TimeDelta::minutes(31));
    let (_, body) = post(serde_json::json!({ "id_number": "00000000T", "contrast": "20/06/2019", "test_call": late })).await;
    assert_eq!(body["error"]["code"], "test_call_required", "expired");
}
