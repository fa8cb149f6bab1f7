//! Cita previa in real headless Chromium on a phone (360 px), in both languages: refused
//! while the service is still closed, the queue page offers slots and the citizen books
//! 09:10; the appointment page shows it and its calendar file; at the check-in time the
//! citizen comes in and joins the queue as an appointment. The server's clock starts on a
//! Monday at 08:45 Madrid and runs thirty times as fast. Screenshots go to
//! `target/screenshots/`.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use fantoccini::Client;

use crate::accessibility::violations;
use crate::chromium::{browser_sized, click, eventually, screenshot_path, text};
use crate::helpers::{Server, scratch_dir, sqlite_url, start};

/// Monday 7 December 2026, 08:45 Madrid.
const CLOCK_START: &str = "2026-12-07T07:45:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_before_opening_a_citizen_books_09_10_and_comes_in_for_it_in_spanish() {
    book_and_come_in("es").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_before_opening_a_citizen_books_09_10_and_comes_in_for_it_in_english() {
    book_and_come_in("en").await;
}

async fn book_and_come_in(lang: &str) {
    let db = sqlite_url(&scratch_dir());
    let server = start(
        &[
            "demo",
            "--staff-mfa",
            "off",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &db,
            "--clock-start",
            CLOCK_START,
            "--clock-speed",
            "30",
        ],
        &[],
    )
    .await;
    let token = apply_at(
        &server,
        &db,
        DateTime::parse_from_rfc3339(CLOCK_START)
            .expect("time")
            .to_utc(),
    )
    .await;
    let (_driver, c) = browser_sized(true, (360, 800)).await;
    let shot = |step: &'static str| {
        let c = c.clone();
        let lang = lang.to_owned();
        async move {
            let png = c.screenshot().await.expect("screenshot");
            std::fs::write(
                screenshot_path(&format!("booking-360-{step}-{lang}.png")),
                png,
            )
            .expect("write");
        }
    };

    // The queue refuses (closed until 09:00) and offers slots.
    c.goto(&server.url(&format!("/?lang={lang}")))
        .await
        .expect("start page");
    js(&c, &format!("sessionStorage.setItem('videoreg.application', '{token}'); sessionStorage.setItem('videoreg.id_number', '12345678Z'); return true;")).await;
    c.goto(&server.url(&format!("/queue?lang={lang}")))
        .await
        .expect("queue page");
    click(&c, "#consent").await;
    click(&c, "#join").await;
    eventually("slots offered beside the refusal", || async {
        js(&c, "return !document.getElementById('ended').hidden && document.querySelectorAll('#slots button.slot').length > 0").await
    })
    .await;
    shot("1-offer").await;
    let mut failures = violations(&c).await;
    assert!(
        js(&c, "const b = [...document.querySelectorAll('#slots button.slot')].find((b) => b.textContent === '09:10'); if (b) b.click(); return !!b;").await,
        "09:10 is offered"
    );

    // The appointment page: the booking, its reference and its calendar file.
    eventually("the appointment page", || async {
        js(&c, "return location.pathname === '/cita' && !document.getElementById('booking').hidden && document.getElementById('ref').textContent.length === 9").await
    })
    .await;
    assert!(text(&c, "when").await.contains("09:10"));
    shot("2-booked").await;
    failures.extend(violations(&c).await);
    let ics = c
        .execute_async(
            "fetch('/api/v1/bookings/mine/calendar.ics').then((r) => r.text()).then(arguments[0])",
            vec![],
        )
        .await
        .expect("calendar file");
    let ics = ics.as_str().unwrap_or_default();
    assert!(
        ics.contains("DTSTART;TZID=Europe/Madrid:20261207T091000"),
        "{ics}"
    );

    // From 09:00 (thirty seconds of real time after the start) the citizen may come in.
    let came = tokio::time::timeout(Duration::from_secs(90), async {
        loop {
            c.goto(&server.url(&format!("/cita?lang={lang}")))
                .await
                .expect("reload");
            tokio::time::sleep(Duration::from_millis(500)).await;
            if js(&c, "return !document.getElementById('enter').hidden").await {
                break;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
    .await;
    assert!(came.is_ok(), "the check-in opened");
    shot("3-check-in").await;
    failures.extend(violations(&c).await);
    assert!(failures.is_empty(), "{failures:#?}");
    click(&c, "#enter").await;
    eventually("the queue page's consent", || async {
        js(&c, "return location.pathname === '/queue' && !document.getElementById('consent-step').hidden").await
    })
    .await;
    click(&c, "#consent").await;
    click(&c, "#join").await;
    eventually("in the queue", || async {
        js(&c, "return !document.getElementById('waiting').hidden").await
    })
    .await;
    shot("4-queued").await;

    let store = store::Store::open(&db)
        .await
        .expect("open the server's database");
    let ticket = store
        .live_ticket_for("12345678Z")
        .await
        .expect("read")
        .expect("a ticket");
    assert_eq!(
        ticket.appointment_at.map(|t| t.to_rfc3339()),
        Some("2026-12-07T08:10:00+00:00".to_owned())
    );
    let status = store::testing::fetch_raw_texts(
        &store,
        "SELECT status FROM bookings WHERE id_number = '12345678Z'",
    )
    .await
    .expect("read the booking");
    assert_eq!(status, [Some("kept".to_owned())]);
    store.close().await;
}

/// Runs `script` in the page; its boolean result (false for anything else).
async fn js(c: &Client, script: &str) -> bool {
    c.execute(script, vec![])
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Applies as the demo's 12345678Z with a passed test call dated by the server's clock.
async fn apply_at(server: &Server, db: &str, now: DateTime<Utc>) -> String {
    let store = store::Store::open(db)
        .await
        .expect("open the server's database");
    let (test_call, hash) = store::secrets::new_token().expect("token");
    store
        .insert_test_call(
            &hash,
            r#"{"verdict":"good"}"#,
            now,
            now + TimeDelta::hours(2),
        )
        .await
        .expect("store a test call");
    store.close().await;
    let r = reqwest::Client::new()
        .post(server.url("/api/v1/applications"))
        .json(&serde_json::json!({ "id_number": "12345678Z", "contrast": "15-03-2031", "test_call": test_call }))
        .send()
        .await
        .expect("apply");
    assert_eq!(r.status().as_u16(), 201);
    r.json::<serde_json::Value>().await.expect("JSON")["application"]
        .as_str()
        .expect("token")
        .to_owned()
}
