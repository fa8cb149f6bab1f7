//! Supervisors and appointments: the slots of the coming days against capacity, and the
//! day's report with the appointments kept, late and missed, the wait after the slot
//! (p50/p90) and the CSV's appointment columns.

use reqwest::Method;
use serde_json::json;

use crate::booking_helpers::Browser;
use crate::helpers::{madrid, spawn_app};
use crate::supervisor::supervisor;

#[tokio::test]
async fn supervisors_see_slots_against_capacity_and_the_days_appointments() {
    let app = spawn_app().await;
    app.clock.set(madrid("2026-11-28 10:00"));
    // Three bookings for Monday: 09:10 (will be kept), 09:20 (late), 09:30 (missed).
    let people = [
        (("12345678Z", "15/03/2031"), "2026-11-30T08:10:00Z"),
        (("X1234567L", "E00012345"), "2026-11-30T08:20:00Z"),
        (("00000000T", "20/06/2019"), "2026-11-30T08:30:00Z"),
    ];
    let mut browsers = Vec::new();
    for (id, slot) in people {
        let token = app.application(id.0, id.1).await;
        let mut b = Browser::default();
        assert_eq!(app.book(&mut b, &token, slot, false).await.status, 201);
        browsers.push(b);
    }
    let check_in = |i: usize, at: &'static str| {
        let app = &app;
        let b = browsers[i].clone();
        async move {
            app.clock.set(madrid(at));
            let test_call = app.passed_test_call().await;
            let r = app
                .my_booking(
                    &b,
                    Method::POST,
                    "/api/v1/bookings/mine/check-in",
                    Some(json!({ "test_call": test_call })),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            let mut ws = app.citizen().await;
            ws.send(
                json!({ "type": "join", "application": r.body["application"], "consent": true }),
            )
            .await;
            ws.until("queued").await;
            ws
        }
    };
    let _kept = check_in(0, "2026-11-30 09:05").await;
    let _late = check_in(1, "2026-11-30 09:35").await;
    // The kept appointment is taken at 09:13: three minutes after its slot.
    app.clock.set(madrid("2026-11-30 09:12"));
    let t = app
        .store
        .claim_next("agent", madrid("2026-11-30 09:12"))
        .await
        .expect("claim")
        .expect("the appointment first");
    assert_eq!(t.id_number, "12345678Z");
    assert!(
        app.store
            .answer_ticket(&t.id, madrid("2026-11-30 09:13"))
            .await
            .expect("answer")
    );
    app.clock.set(madrid("2026-11-30 10:40"));
    let state = app.state();
    assert_eq!(
        web::housekeeping::no_shows(&state, app.clock.now())
            .await
            .expect("sweep"),
        1
    );

    let mut sup = supervisor(&app).await;
    let page = sup.get("/supervisor/bookings").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("lunes, 30 de noviembre de 2026"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("3 / 30"),
        "three of thirty places taken: {}",
        page.body
    );
    assert!(
        page.body
            .contains("<td>09:10</td><td>1</td><td>0</td><td>1</td><td>0</td><td>0</td><td>0</td>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<td>09:30</td><td>1</td><td>0</td><td>0</td><td>0</td><td>1</td><td>0</td>")
    );

    let report = sup.get("/supervisor/report?date=2026-11-30").await;
    assert_eq!(report.status, 200);
    let figures = report
        .body
        .split("id=\"appointments\"")
        .nth(1)
        .expect("figures");
    assert!(figures.contains("<dd id=\"r-booked\">3</dd>"), "{figures}");
    assert!(
        figures.contains("<dd id=\"r-kept\">1 / 1 / 1</dd>"),
        "{figures}"
    );
    assert!(
        figures.contains("<dd id=\"r-punctuality\">3:00 / 3:00</dd>"),
        "{figures}"
    );
    let r = app
        .client
        .get(app.url("/supervisor/report?date=2026-11-30&format=csv"))
        .header("cookie", sup.cookie_header())
        .send()
        .await
        .expect("csv");
    let text = r.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let col = |row: &csv::StringRecord, name: &str| {
        row.get(header.iter().position(|h| h == name).expect(name))
            .expect("cell")
            .to_owned()
    };
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(
        (
            col(&rows[0], "appointment"),
            col(&rows[0], "appointment_status"),
            col(&rows[0], "wait_after_slot_secs")
        ),
        (
            "2026-11-30 09:10:00".to_owned(),
            "kept".to_owned(),
            "180".to_owned()
        )
    );
    assert_eq!(
        (
            col(&rows[1], "appointment_status"),
            col(&rows[1], "wait_after_slot_secs")
        ),
        ("late".to_owned(), String::new())
    );
}
