//! `/metrics`: Prometheus text that parses, figures that move when tickets move, and who may
//! scrape (loopback always; other addresses with the configured bearer token).

use std::time::Duration;

use serde_json::json;
use web::config::ServeArgs;

use crate::helpers::{Db, TestApp, assert_ok_with_type, spawn_app, spawn_app_with};

/// Checks the exposition format line by line: `# HELP`/`# TYPE` comments, blank lines, or
/// `name{label="value",…} number`. Returns the samples as (name with labels, value).
fn parse_exposition(text: &str) -> Vec<(String, f64)> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.split(' ');
            let kind = words.next().unwrap_or("");
            assert!(matches!(kind, "HELP" | "TYPE"), "comment {line:?}");
            if kind == "TYPE" {
                let _name = words.next().expect("a name");
                let t = words.next().expect("a type");
                assert!(
                    matches!(t, "counter" | "gauge" | "histogram" | "summary" | "untyped"),
                    "{line:?}"
                );
            }
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value of {line:?}")),
        };
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "metric name in {line:?}"
        );
        if name_end < series.len() {
            let labels = series[name_end..]
                .strip_prefix('{')
                .and_then(|l| l.strip_suffix('}'))
                .unwrap_or_else(|| panic!("labels of {line:?}"));
            for pair in labels.split(',').filter(|p| !p.is_empty()) {
                let (k, v) = pair
                    .split_once('=')
                    .unwrap_or_else(|| panic!("label in {line:?}"));
                assert!(
                    k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "label name in {line:?}"
                );
                assert!(
                    v.starts_with('"') && v.ends_with('"') && v.len() >= 2,
                    "label value in {line:?}"
                );
            }
        }
        samples.push((series.to_owned(), value));
    }
    samples
}

async fn scrape(app: &TestApp) -> Vec<(String, f64)> {
    let r = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_ok_with_type(&r, "text/plain; version=0.0.4");
    parse_exposition(&r.text().await.expect("body"))
}

fn value(samples: &[(String, f64)], series: &str) -> Option<f64> {
    samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v)
}

async fn until_value(app: &TestApp, series: &str, expected: f64) -> Vec<(String, f64)> {
    for _ in 0..100 {
        let samples = scrape(app).await;
        if value(&samples, series) == Some(expected) {
            return samples;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{series} never became {expected}: {:?}", scrape(app).await);
}

#[tokio::test]
async fn metrics_parse_and_move_when_a_citizen_joins_is_answered_and_leaves() {
    let app = spawn_app().await;
    parse_exposition(
        &app.client
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("body"),
    );
    let token = app.application("00000000T", "20-06-2019").await;
    let mut waiting = app.citizen().await;
    waiting
        .send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    waiting.until("queued").await;
    let samples = until_value(&app, "videoreg_queue_waiting", 1.0).await;
    assert_eq!(value(&samples, "videoreg_queue_joins_total"), Some(1.0));
    waiting.send(json!({ "type": "leave" })).await;
    waiting.until("left").await;
    let samples = until_value(&app, "videoreg_queue_waiting", 0.0).await;
    assert_eq!(
        value(&samples, "videoreg_queue_abandons_total{how=\"left\"}"),
        Some(1.0)
    );

    let call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    app.clock.advance(chrono::TimeDelta::minutes(4));
    call.reject_expired(&app).await;
    let samples = until_value(&app, "videoreg_agents{state=\"wrap_up\"}", 1.0).await;
    assert_eq!(value(&samples, "videoreg_queue_joins_total"), Some(2.0));
    assert_eq!(value(&samples, "videoreg_queue_answers_total"), Some(1.0));
    assert_eq!(
        value(
            &samples,
            "videoreg_decisions_total{outcome=\"rejected\",reason=\"document_expired\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "videoreg_queue_wait_seconds_count"),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "videoreg_call_handle_seconds_count"),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "videoreg_call_handle_seconds_sum"),
        Some(240.0)
    );
    assert_eq!(
        value(&samples, "videoreg_call_handle_seconds_bucket{le=\"300\"}"),
        Some(1.0)
    );
    // An estimate error is recorded only for a citizen who was told a wait (an agent was
    // working when they joined).
    let told = app
        .store
        .ticket(&call.ticket)
        .await
        .expect("read")
        .expect("ticket")
        .told_estimate_secs;
    assert_eq!(
        value(&samples, "videoreg_estimate_abs_error_seconds_count"),
        Some(told.map_or(0.0, |_| 1.0))
    );
    assert!(
        value(
            &samples,
            "videoreg_signaling_messages_total{endpoint=\"citizen\",direction=\"in\"}"
        )
        .is_some_and(|v| v >= 3.0)
    );
    assert!(
        value(
            &samples,
            "videoreg_signaling_messages_total{endpoint=\"agent\",direction=\"out\"}"
        )
        .is_some_and(|v| v >= 2.0)
    );
    assert!(value(&samples, "videoreg_queue_longest_wait_seconds").is_some());
}

#[tokio::test]
async fn signaling_errors_are_counted() {
    let app = spawn_app().await;
    let mut citizen = app.citizen().await;
    citizen.send(json!({ "type": "leave" })).await;
    assert_eq!(citizen.recv().await["type"], "error");
    until_value(
        &app,
        "videoreg_signaling_errors_total{endpoint=\"citizen\"}",
        1.0,
    )
    .await;
}

#[tokio::test]
async fn other_addresses_need_the_bearer_token() {
    let forwarded = |app: &TestApp, auth: Option<&str>| {
        let mut r = app
            .client
            .get(app.url("/metrics"))
            .header("x-forwarded-for", "203.0.113.7");
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    // Without a token configured, only loopback is served.
    let closed = spawn_app_with(
        Db::Sqlite,
        ServeArgs {
            trust_forwarded_for: true,
            ..ServeArgs::default()
        },
    )
    .await;
    assert_eq!(
        forwarded(&closed, Some("Bearer anything"))
            .await
            .expect("scrape")
            .status(),
        401
    );
    assert_eq!(
        closed
            .client
            .get(closed.url("/metrics"))
            .send()
            .await
            .expect("scrape")
            .status(),
        200,
        "loopback"
    );

    let app = spawn_app_with(
        Db::Sqlite,
        ServeArgs {
            trust_forwarded_for: true,
            metrics_token: Some("s3cret-scrape-token".into()),
            ..ServeArgs::default()
        },
    )
    .await;
    let refused = forwarded(&app, None).await.expect("scrape");
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        forwarded(&app, Some("Bearer wrong"))
            .await
            .expect("scrape")
            .status(),
        401
    );
    let ok = forwarded(&app, Some("Bearer s3cret-scrape-token"))
        .await
        .expect("scrape");
    assert_eq!(ok.status(), 200);
    parse_exposition(&ok.text().await.expect("body"));
}

/// The metric names `docs/operations.md` lists in its table.
fn documented_metrics() -> std::collections::BTreeSet<String> {
    let page = include_str!("../../../docs/operations.md");
    page.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|name| name.starts_with("videoreg_") || name.starts_with("process_"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_fresh_server_shows_every_documented_series_at_zero_from_the_first_scrape() {
    let app = spawn_app().await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    let families: std::collections::BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect();
    assert_eq!(families, documented_metrics(), "exposed = documented");
    let samples = parse_exposition(&text);
    let value = |series: &str| {
        samples
            .iter()
            .find(|(s, _)| s == series)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{series} missing from the first scrape"))
    };
    for series in [
        "videoreg_queue_joins_total",
        "videoreg_queue_abandons_total{how=\"gone\"}",
        "videoreg_agents{state=\"available\"}",
        "videoreg_signaling_errors_total{endpoint=\"agent\"}",
        "videoreg_decisions_total{outcome=\"approved\",reason=\"none\"}",
        "videoreg_decisions_total{outcome=\"rejected\",reason=\"document_expired\"}",
        "videoreg_decisions_total{outcome=\"aborted\",reason=\"video_quality\"}",
        "videoreg_queue_wait_seconds_count",
    ] {
        assert_eq!(value(series), 0.0, "{series}");
    }
    assert_eq!(value("videoreg_build_info{version=\"0.1.0\"}"), 1.0);
    assert!(value("process_resident_memory_bytes") > 0.0);
    assert!(value("process_open_fds") > 0.0);
}
