//! The supervisors' dashboard: a scripted day whose figures, page, CSV and command-line
//! report agree; the live stream moving when a citizen joins and an agent changes state;
//! who may see any of it.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use store::StaffRole;

use crate::console_helpers::browser_json;
use crate::helpers::{TestApp, assert_ok_with_type, madrid, spawn_app};
use crate::staff_helpers::Browser;
use crate::ws_helpers::Ws;

pub(crate) async fn supervisor(app: &TestApp) -> Browser<'_> {
    app.add_staff("supervisora", StaffRole::Supervisor).await;
    let mut b = app.browser();
    b.sign_in("supervisora").await;
    b
}

async fn dashboard(app: &TestApp, b: &Browser<'_>) -> Value {
    let (status, d) = browser_json(app, b, "GET", "/supervisor/dashboard.json", None).await;
    assert_eq!(status, 200, "{d}");
    d
}

pub(crate) async fn join(app: &TestApp, id: &str, contrast: &str) -> Ws {
    let token = app.application(id, contrast).await;
    let mut citizen = app.citizen().await;
    citizen
        .send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    citizen.until("queued").await;
    citizen
}

pub(crate) async fn agent_socket<'a>(app: &'a TestApp, name: &str) -> (Browser<'a>, Ws) {
    app.add_staff(name, StaffRole::Agent).await;
    let mut b = app.browser();
    b.sign_in(name).await;
    let ws = app
        .try_ws("/ws/agent", Some(&app.base), Some(&b.cookie_header()))
        .await
        .expect("console");
    (b, ws)
}

#[tokio::test]
async fn a_scripted_day_gives_the_same_figures_on_the_dashboard_the_report_and_the_csv() {
    let app = spawn_app().await;
    let sup = supervisor(&app).await;
    let (ana, mut agent) = agent_socket(&app, "ana").await;
    app.clock.set(madrid("2026-11-26 10:00"));
    agent.until("state").await; // the greeting (offline)
    agent
        .send(json!({ "type": "set_state", "state": "available" }))
        .await;
    // Joins are estimated with the agent working: wait for the change, not the greeting.
    while agent.until("state").await["state"] != "available" {}
    let mut first = join(&app, "12345678Z", "15/03/2031").await;
    app.clock.set(madrid("2026-11-26 10:01"));
    let mut second = join(&app, "00000000T", "20-06-2019").await;
    app.clock.set(madrid("2026-11-26 10:02"));
    agent.send(json!({ "type": "take_next" })).await;
    let offered = agent.until("offered").await;
    agent.send(json!({ "type": "accept" })).await;
    agent.until("call_started").await;
    first.until("call_started").await;
    app.clock.set(madrid("2026-11-26 10:03"));
    second.send(json!({ "type": "leave" })).await;
    second.until("left").await;
    app.clock.set(madrid("2026-11-26 10:08"));
    let mut ana = ana;
    let csrf = ana.session_csrf().await;
    let ticket = offered["ticket"].as_str().expect("ticket");
    let (status, body) = browser_json(
        &app,
        &ana,
        "POST",
        &format!("/staff/calls/{ticket}/decision"),
        Some((
            &csrf,
            json!({ "decision": "reject", "reason": "document_expired" }),
        )),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    first.until("rejected").await;

    let told = app
        .store
        .ticket(ticket)
        .await
        .expect("read")
        .expect("ticket")
        .told_estimate_secs
        .expect("told at joining");
    let d = dashboard(&app, &sup).await;
    let f = &d["figures"];
    assert_eq!(
        (
            f["joined"].as_u64(),
            f["answered"].as_u64(),
            f["abandoned"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(
        f["service_level"].as_f64(),
        Some(0.5),
        "1 within 5 min ÷ (1 answered + 1 abandoned)"
    );
    assert_eq!(f["average_speed_of_answer_secs"].as_f64(), Some(120.0));
    assert_eq!(f["average_handle_time_secs"].as_f64(), Some(360.0));
    assert_eq!(f["abandonment"].as_f64(), Some(0.5));
    assert_eq!(f["accuracy"]["compared"].as_u64(), Some(1));
    assert_eq!(
        f["accuracy"]["mean_abs_error_secs"].as_f64(),
        Some((told - 120).abs() as f64)
    );
    assert_eq!(
        d["outcomes"]["rejected"]["document_expired"].as_u64(),
        Some(1)
    );
    let ana_line = d["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["name"] == "ana")
        .cloned()
        .expect("ana listed");
    assert_eq!(ana_line["state"], "wrap_up");
    assert_eq!(ana_line["calls_today"].as_u64(), Some(1));
    assert_eq!(d["date"], "2026-11-26");
    for chart in ["queue", "waits", "outcomes"] {
        assert!(
            d["charts"][chart]
                .as_str()
                .is_some_and(|s| s.starts_with("<svg")),
            "{chart}"
        );
    }

    let r = app
        .client
        .get(app.url("/supervisor/report?date=2026-11-26&format=csv"))
        .header("cookie", sup.cookie_header())
        .send()
        .await
        .expect("csv");
    assert_ok_with_type(&r, "text/csv");
    let csv_text = r.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let header = reader.headers().expect("header").clone();
    let col = |row: &csv::StringRecord, name: &str| {
        row.get(header.iter().position(|h| h == name).expect(name))
            .expect("cell")
            .to_owned()
    };
    assert_eq!(rows.len(), 2);
    assert_eq!(col(&rows[0], "joined"), "2026-11-26 10:00:00");
    assert_eq!(col(&rows[0], "answered"), "2026-11-26 10:02:00");
    assert_eq!(col(&rows[0], "ended"), "2026-11-26 10:08:00");
    assert_eq!(col(&rows[0], "real_wait_secs"), "120");
    assert_eq!(col(&rows[0], "told_estimate_secs"), told.to_string());
    assert_eq!(col(&rows[0], "agent"), "ana");
    assert_eq!(
        (col(&rows[0], "outcome"), col(&rows[0], "reason")),
        ("rejected".into(), "document_expired".into())
    );
    assert_eq!(col(&rows[1], "outcome"), "left");
    assert_eq!(col(&rows[1], "answered"), "");
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
    assert_eq!(
        web::report::csv_for(&app.store, date)
            .await
            .expect("cli csv"),
        csv_text,
        "the command line prints the same"
    );

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    let error_sum = format!(
        "videoreg_estimate_abs_error_seconds_sum {}",
        (told - 120).abs()
    );
    assert!(
        metrics.contains("videoreg_estimate_abs_error_seconds_count 1")
            && metrics.contains(&error_sum),
        "{metrics}"
    );

    let mut sup = sup;
    let page = sup.get("/supervisor/report?date=2026-11-26&lang=en").await;
    assert_eq!(page.status, 200);
    for expected in [
        "id=\"r-joined\">2<",
        "id=\"r-sl\">50 %<",
        "id=\"r-asa\">2:00<",
        "id=\"r-aht\">6:00<",
        "document_expired",
    ] {
        assert!(
            page.body.contains(expected),
            "{expected} in the report page"
        );
    }
    assert_eq!(
        sup.get("/supervisor/report?date=26-11-2026").await.status,
        400
    );
    let empty = sup
        .get("/supervisor/report?date=2026-11-25&format=csv")
        .await;
    assert_eq!(
        empty.body.lines().count(),
        1,
        "only the header on a day without tickets"
    );
}

/// Reads server-sent events until one whose JSON satisfies `ok`.
pub(crate) async fn until_event(
    events: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut String,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(data) = block
                .lines()
                .find_map(|l| l.strip_prefix("data: ").or(l.strip_prefix("data:")))
            {
                let v: Value = serde_json::from_str(data).expect("JSON event");
                if ok(&v) {
                    return v;
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("an event in time")
            .expect("stream open")
            .expect("chunk");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_stream_moves_when_a_citizen_joins_and_an_agent_changes_state() {
    let app = spawn_app().await;
    let sup = supervisor(&app).await;
    let (_ana, mut agent) = agent_socket(&app, "ana").await;
    let r = app
        .client
        .get(app.url("/supervisor/stream"))
        .header("accept", "text/event-stream")
        .header("cookie", sup.cookie_header())
        .send()
        .await
        .expect("stream");
    assert_ok_with_type(&r, "text/event-stream");
    let mut events = r.bytes_stream();
    let mut buffer = String::new();
    let first = until_event(&mut events, &mut buffer, |_| true).await;
    assert_eq!(first["waiting"], 0);
    agent
        .send(json!({ "type": "set_state", "state": "available" }))
        .await;
    until_event(&mut events, &mut buffer, |d| {
        d["agents_by_state"]["available"] == 1
    })
    .await;
    let _citizen = join(&app, "12345678Z", "15/03/2031").await;
    let joined = until_event(&mut events, &mut buffer, |d| d["waiting"] == 1).await;
    assert_eq!(joined["figures"]["joined"], 1);
    agent
        .send(json!({ "type": "set_state", "state": "break", "reason": "comida" }))
        .await;
    let on_break = until_event(&mut events, &mut buffer, |d| {
        d["agents_by_state"]["break"] == 1
    })
    .await;
    let ana = on_break["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["name"] == "ana")
        .cloned()
        .expect("ana");
    assert_eq!(ana["reason"], "comida");

    // Signing out ends the stream at its next snapshot.
    let mut sup = sup;
    let csrf = sup.session_csrf().await;
    sup.post("/staff/logout", &[("csrf", &csrf)]).await;
    agent
        .send(json!({ "type": "set_state", "state": "available" }))
        .await;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(chunk) = events.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ended after sign-out");
}

#[tokio::test]
async fn agents_auditors_and_citizens_cannot_reach_the_dashboard_its_stream_or_the_csv() {
    let app = spawn_app().await;
    for (name, role) in [
        ("agente", StaffRole::Agent),
        ("auditora", StaffRole::Auditor),
    ] {
        app.add_staff(name, role).await;
        let mut b = app.browser();
        b.sign_in(name).await;
        for path in [
            "/supervisor",
            "/supervisor/dashboard.json",
            "/supervisor/stream",
            "/supervisor/report?format=csv",
        ] {
            let r = app
                .client
                .get(app.url(path))
                .header("cookie", b.cookie_header())
                .send()
                .await
                .expect("request");
            assert_eq!(r.status(), 403, "{path} as {name}");
        }
    }
    // A citizen has no staff session: not a page → 401, a page → sign-in.
    for path in [
        "/supervisor/dashboard.json",
        "/supervisor/stream",
        "/supervisor/report?format=csv",
    ] {
        let r = app.client.get(app.url(path)).send().await.expect("request");
        assert_eq!(r.status(), 401, "{path} without a session");
    }
    let r = app
        .client
        .get(app.url("/supervisor"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn always_open_forecasts_the_end_of_the_day_not_a_closing() {
    let args = web::config::ServeArgs {
        always_open: true,
        ..web::config::ServeArgs::default()
    };
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, args).await;
    app.clock.set(madrid("2026-11-29 22:00"));
    let b = supervisor(&app).await;
    let d = dashboard(&app, &b).await;
    let closes = d["forecast"]["closes"].as_str().unwrap_or_default();
    assert!(
        closes.contains("demo") && closes.ends_with("00:00"),
        "the heading says open at all hours: {d}"
    );
}
