use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_ok_while_the_database_answers() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!(
        (status, body),
        (200, json!({ "status": "ok", "database": "up" }))
    );
}

#[tokio::test]
async fn service_hours_lists_every_window_opening_in_the_range_with_madrid_offsets() {
    let app = spawn_app().await;
    // Friday 27 November to Tuesday 1 December, exclusive: Friday and Monday.
    let (status, body) = app
        .get_json("/api/v1/service-hours?from=2026-11-27T00:00:00%2B01:00&days=4")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "timezone": "Europe/Madrid",
            "windows": [
                { "opens": "2026-11-27T09:00:00+01:00", "closes": "2026-11-27T14:00:00+01:00" },
                { "opens": "2026-11-30T09:00:00+01:00", "closes": "2026-11-30T14:00:00+01:00" },
            ]
        })
    );
}

#[tokio::test]
async fn service_hours_crosses_the_spring_dst_change_in_summer_time() {
    let app = spawn_app().await;
    let (_, body) = app
        .get_json("/api/v1/service-hours?from=2026-03-27T00:00:00Z&days=4")
        .await;
    let opens: Vec<&str> = body["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .map(|w| w["opens"].as_str().expect("opens"))
        .collect();
    assert_eq!(
        opens,
        ["2026-03-27T09:00:00+01:00", "2026-03-30T09:00:00+02:00"]
    );
}

#[tokio::test]
async fn service_hours_defaults_to_a_week_from_now() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/service-hours").await;
    assert_eq!(status, 200);
    // From Thursday 26 November 10:00: Friday, Monday to Wednesday (Thursday 10:00 is past
    // its opening, and Thursday 3 December opens 7 days minus one hour later).
    assert_eq!(body["windows"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn service_hours_refuses_bad_parameters_with_a_json_error() {
    let app = spawn_app().await;
    for query in [
        "from=yesterday",
        "from=2026-11-27",
        "days=0",
        "days=367",
        "days=seven",
        "from=2026-11-27T00:00:00Z&days=-1",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/v1/service-hours?{query}"))
            .await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "{query}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{query}"
        );
    }
    let (status, _) = app.get_json("/api/v1/service-hours?days=366").await;
    assert_eq!(status, 200);
}

/// Found while checking the contract by hand: windows past year 9999 or before year 0000 came out
/// as `+10000-01-02T…` and `-0001-12-31T…`, which are not RFC 3339 date-times.
#[tokio::test]
async fn service_hours_refuses_spans_whose_windows_rfc_3339_cannot_write() {
    let app = spawn_app().await;
    for query in [
        "from=9999-12-31T23:59:59Z&days=366",
        "from=9999-12-20T00:00:00Z&days=30",
        "from=0000-01-01T00:00:00%2B23:59&days=1",
        "from=0000-01-01T00:00:00Z&days=1",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/v1/service-hours?{query}"))
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "{query}");
    }
    let (status, body) = app
        .get_json("/api/v1/service-hours?from=9999-12-01T00:00:00Z&days=7")
        .await;
    assert_eq!(status, 200, "{body}");
    let opens = body["windows"][0]["opens"].as_str().unwrap_or_default();
    assert!(opens.starts_with("9999-12-"), "{body}");
}
