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

/// Applies for `id` with `contrast`: the status and the `Retry-After` seconds.
async fn apply_timed(app: &crate::helpers::TestApp, id: &str, contrast: &str) -> (u16, i64) {
    let response = app
        .client
        .post(app.url("/api/v1/applications"))
        .json(&serde_json::json!({ "id_number": id, "contrast": contrast, "test_call": app.passed_test_call().await }))
        .send()
        .await
        .expect("request");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (response.status().as_u16(), retry_after)
}

#[tokio::test]
async fn five_failures_for_one_id_hold_it_a_minute_with_retry_after() {
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
    assert_eq!(
        apply_timed(&app, "12345678Z", "15/03/2031").await,
        (429, 60),
        "even the right value waits the first minute of the back-off"
    );
    let (_, es) = app.apply("12345678A", "").await;
    assert!(
        es["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("letra")),
        "{es}"
    );
    app.clock.advance(TimeDelta::minutes(1));
    assert_eq!(apply_timed(&app, "12345678Z", "15/03/2031").await.0, 201);
}

#[tokio::test]
async fn a_stranger_cannot_hold_an_applicant_back_for_longer_than_the_cap() {
    let app = spawn_app().await;
    // A stranger fails as soon as each wait ends, and keeps trying during it.
    let mut longest = 0;
    for i in 0..40 {
        let (status, retry_after) = apply_timed(&app, "12345678Z", "01/01/2030").await;
        match status {
            422 => {}
            429 => {
                longest = longest.max(retry_after);
                for _ in 0..3 {
                    let again = apply_timed(&app, "12345678Z", "02/01/2030").await;
                    assert_eq!(again.0, 429, "attempt {i}");
                    assert!(
                        again.1 <= retry_after,
                        "refused tries do not extend the wait"
                    );
                }
                app.clock.advance(TimeDelta::seconds(retry_after));
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        longest,
        15 * 60,
        "the wait doubles up to the 15-minute cap, no more"
    );
    // The genuine applicant, at worst, waits out one capped wait.
    let (status, retry_after) = apply_timed(&app, "12345678Z", "15/03/2031").await;
    if status == 429 {
        assert!(retry_after <= 15 * 60);
        app.clock.advance(TimeDelta::seconds(retry_after));
    }
    assert_eq!(apply_timed(&app, "12345678Z", "15/03/2031").await.0, 201);
}

#[tokio::test]
async fn a_test_call_allows_three_contrast_checks_then_a_new_one_is_needed() {
    let app = spawn_app().await;
    let token = app.passed_test_call().await;
    let post = |contrast: &str| {
        let body = serde_json::json!({ "id_number": "12345678Z", "contrast": contrast, "test_call": token });
        let request = app.client.post(app.url("/api/v1/applications")).json(&body);
        async move {
            let r = request.send().await.expect("request");
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.expect("JSON");
            (status, body["error"]["code"].as_str().map(str::to_owned))
        }
    };
    for day in ["01/01/2030", "02/01/2030", "03/01/2030"] {
        assert_eq!(post(day).await, (422, Some("not_verified".to_owned())));
    }
    assert_eq!(
        post("15/03/2031").await,
        (422, Some("test_call_required".to_owned())),
        "one test call is not enough for a fourth guess, even the right one"
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
        2,
        "the ID number's counter and the address's"
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
