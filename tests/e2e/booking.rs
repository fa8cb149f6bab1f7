//! Cita previa in real headless Chromium on a phone (360 px), in both languages, as the issue
//! tells it: on Friday at 13:55 the queue refuses the citizen as too late and offers slots;
//! they book Monday 09:10, see the booking and get its calendar file. Then the server is
//! started again on the same database with its clock at Monday 09:05: the booking page asks
//! for a short test call (theirs is three days old), and leads into the queue at the head,
//! as an appointment. Screenshots go to `target/screenshots/`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use fantoccini::Client;

use crate::accessibility::violations;
use crate::chromium::{attr, browser_sized, click, eventually, screenshot_path, text};
use crate::helpers::{Server, apply_at, scratch_dir, sqlite_url, start};

/// Friday 4 December 2026, 13:55 Madrid.
const FRIDAY: &str = "2026-12-04T12:55:00Z";
/// Monday 7 December 2026, 09:05 Madrid.
const MONDAY: &str = "2026-12-07T08:05:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_as_too_late_a_citizen_books_monday_09_10_and_comes_in_for_it_in_spanish() {
    book_and_come_in("es", "45200-45399").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_as_too_late_a_citizen_books_monday_09_10_and_comes_in_for_it_in_english() {
    book_and_come_in("en", "45400-45599").await;
}

async fn server(db: &str, clock: &str, media_ports: &str) -> Server {
    start(
        &[
            "demo",
            "--staff-mfa",
            "off",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            db,
            "--media-ports",
            media_ports,
            "--clock-start",
            clock,
        ],
        &[],
    )
    .await
}

async fn book_and_come_in(lang: &str, media_ports: &str) {
    let db = sqlite_url(&scratch_dir());
    let friday = server(&db, FRIDAY, media_ports).await;
    let token = apply_at(&friday, &db, "12345678Z", "15-03-2031", utc(FRIDAY)).await;
    // An agent is in a call: someone joining at 13:55 would not be taken before 14:00.
    let store = store::Store::open(&db)
        .await
        .expect("open the server's database");
    let agent = store
        .find_staff_by_name("agente")
        .await
        .expect("find")
        .expect("the demo's agent");
    store
        .set_agent_state(&agent.id, store::AgentStatus::InCall, None, utc(FRIDAY))
        .await
        .expect("in a call");
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

    // Friday 13:55: refused as too late, slots offered.
    c.goto(&friday.url(&format!("/?lang={lang}")))
        .await
        .expect("start page");
    js(&c, &format!("sessionStorage.setItem('videoreg.application', '{token}'); sessionStorage.setItem('videoreg.id_number', '12345678Z'); return true;")).await;
    c.goto(&friday.url(&format!("/queue?lang={lang}")))
        .await
        .expect("queue page");
    click(&c, "#consent").await;
    click(&c, "#join").await;
    eventually("slots offered beside the refusal", || async {
        js(&c, "return !document.getElementById('ended').hidden && document.querySelectorAll('#slots button.slot').length > 0").await
    })
    .await;
    let title = text(&c, "ended-title").await;
    assert!(
        title.contains(if lang == "es" {
            "Hoy ya no"
        } else {
            "cannot see you today"
        }),
        "{title}"
    );
    shot("1-too-late-offer").await;
    let mut failures = violations(&c).await;
    assert!(
        js(&c, "const b = [...document.querySelectorAll('#slots button.slot')].find((b) => b.getAttribute('aria-label').includes('7') && b.textContent === '09:10'); if (b) b.click(); return !!b;").await,
        "Monday 09:10 is offered"
    );

    // The appointment page: the booking, its reference and its calendar file.
    eventually("the appointment page", || async {
        js(&c, "return location.pathname === '/cita' && !document.getElementById('booking').hidden && document.getElementById('ref').textContent.length === 9").await
    })
    .await;
    assert!(text(&c, "when").await.contains("09:10"));
    shot("2-booked").await;
    failures.extend(violations(&c).await);
    // Changing the time there and back: 09:20, then 09:10 again.
    for time in ["09:20", "09:10"] {
        click(&c, "#change-time").await;
        eventually("other times offered", || async {
            js(
                &c,
                "return document.querySelectorAll('#change-slots button.slot').length > 0",
            )
            .await
        })
        .await;
        if time == "09:20" {
            js(
                &c,
                "document.getElementById('change').scrollIntoView(); return true;",
            )
            .await;
            shot("2-change").await;
        }
        let pick = format!(
            "const b = [...document.querySelectorAll('#change-slots button.slot')].find((b) => b.getAttribute('aria-label').includes('7') && b.textContent === '{time}'); if (b) b.click(); return !!b;"
        );
        assert!(js(&c, &pick).await, "{time} is offered");
        eventually("the booking moved", || async {
            js(&c, &format!("return document.getElementById('change').hidden && document.getElementById('when').textContent.includes('{time}')")).await
        })
        .await;
    }
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
    drop(friday);

    // Monday 09:05, the same database: the cookie (host-wide) opens the booking on the new
    // server. The test call is three days old: a short one first.
    let monday = server(&db, MONDAY, media_ports).await;
    c.goto(&monday.url(&format!("/cita?lang={lang}")))
        .await
        .expect("appointment page");
    eventually("the check-in open", || async {
        js(&c, "return !document.getElementById('enter').hidden").await
    })
    .await;
    shot("3-check-in").await;
    failures.extend(violations(&c).await);
    click(&c, "#enter").await;
    eventually("asked for a test call", || async {
        attr(&c, "test-link", "hidden").await.is_none()
    })
    .await;
    click(&c, "#test-link").await;
    eventually("the camera preview", || async {
        attr(&c, "start", "disabled").await.is_none()
    })
    .await;
    click(&c, "#start").await;
    let passed = tokio::time::timeout(Duration::from_secs(60), async {
        while attr(&c, "continue", "hidden").await.is_some() {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    })
    .await;
    assert!(passed.is_ok(), "the test call passed");
    click(&c, "#continue").await;
    eventually("back on the appointment page", || async {
        js(
            &c,
            "return location.pathname === '/cita' && !document.getElementById('enter').hidden",
        )
        .await
    })
    .await;
    click(&c, "#enter").await;
    eventually("the queue page's consent", || async {
        js(&c, "return location.pathname === '/queue' && !document.getElementById('consent-step').hidden").await
    })
    .await;
    click(&c, "#consent").await;
    click(&c, "#join").await;
    eventually("in the queue, at the head, as an appointment", || async {
        js(&c, "return !document.getElementById('waiting').hidden && !document.getElementById('appointment-note').hidden && document.getElementById('position').textContent === '1'").await
    })
    .await;
    assert!(text(&c, "appointment-note").await.contains("09:10"));
    shot("4-queued").await;
    failures.extend(violations(&c).await);
    assert!(failures.is_empty(), "{failures:#?}");

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
    // The first two were moved (cancelled, their places given back); the last one kept.
    assert_eq!(
        status.iter().flatten().filter(|s| *s == "kept").count(),
        1,
        "{status:?}"
    );
    assert_eq!(
        status
            .iter()
            .flatten()
            .filter(|s| *s == "cancelled")
            .count(),
        2,
        "{status:?}"
    );
    store.close().await;
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").to_utc()
}

/// Runs `script` in the page; its boolean result (false for anything else).
async fn js(c: &Client, script: &str) -> bool {
    c.execute(script, vec![])
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}
