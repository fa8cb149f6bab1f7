//! Cita previa through the API and the citizen socket: booking when refused, one live
//! booking per ID number, cancelling and rebooking, finding a booking elsewhere, checking in
//! at the slot with priority, a late arrival joining as a walk-in, no-shows, and the
//! calendar file read by a real iCalendar parser.

use reqwest::Method;
use serde_json::json;
use store::AgentStatus;

use crate::booking_helpers::Browser;
use crate::helpers::{Db, madrid, spawn_app, spawn_app_with};

const LUCIA: (&str, &str) = ("12345678Z", "15/03/2031");
const NIE: (&str, &str) = ("X1234567L", "E00012345");
const SATURDAY: &str = "2026-11-28 10:00";
/// Monday 30 November 2026, 09:10 Madrid.
const MONDAY_0910: &str = "2026-11-30T08:10:00Z";

#[tokio::test]
async fn a_citizen_refused_while_closed_books_one_slot_per_id_number_and_may_rebook() {
    let app = spawn_app().await;
    app.clock.set(madrid(SATURDAY));
    let token = app.application(LUCIA.0, LUCIA.1).await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    assert_eq!(ws.until("refused").await["reason"], "closed");

    let slots = app.free_slots().await;
    assert_eq!(slots[0], "2026-11-30T08:00:00Z", "Monday 09:00 first");
    assert_eq!(slots[1], MONDAY_0910);
    let mut browser = Browser::default();
    let booked = app.book(&mut browser, &token, MONDAY_0910, false).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert_eq!(booked.body["status"], "booked");
    assert_eq!(booked.body["when"], "lunes, 30 de noviembre de 2026, 09:10");
    assert_eq!(booked.body["check_in_from"], "2026-11-30T08:00:00Z");
    assert_eq!(booked.body["priority_until"], "2026-11-30T08:20:00Z");
    assert!(!browser.cookie.is_empty(), "the browser keeps its booking");
    assert!(
        !app.free_slots().await.contains(&MONDAY_0910.to_owned()),
        "one place per slot, taken"
    );

    // The slot is full for someone else.
    let other = app.application(NIE.0, NIE.1).await;
    let full = app
        .book(&mut Browser::default(), &other, MONDAY_0910, false)
        .await;
    assert_eq!(
        (full.status, full.body["error"]["code"].clone()),
        (409, json!("slot_full"))
    );
    // One live booking per ID number; `replace` moves it and frees the first slot.
    let second = app
        .book(&mut browser, &token, "2026-11-30T08:20:00Z", false)
        .await;
    assert_eq!(second.status, 409);
    assert_eq!(second.body["error"]["code"], "already_booked");
    assert!(
        second.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("09:10")
    );
    let moved = app
        .book(&mut browser, &token, "2026-11-30T08:20:00Z", true)
        .await;
    assert_eq!(moved.status, 201, "{}", moved.body);
    assert!(app.free_slots().await.contains(&MONDAY_0910.to_owned()));
    let live = app
        .store
        .live_booking_for(LUCIA.0)
        .await
        .expect("read")
        .expect("live");
    assert_eq!(live.slot_at.to_rfc3339(), "2026-11-30T08:20:00+00:00");

    // Bad input, each with its reason.
    let odd = app
        .book(
            &mut Browser::default(),
            &other,
            "2026-11-30T08:15:00Z",
            false,
        )
        .await;
    assert_eq!(
        (odd.status, odd.body["error"]["code"].clone()),
        (422, json!("no_such_slot"))
    );
    let unknown = app
        .book(&mut Browser::default(), "no-such-token", MONDAY_0910, false)
        .await;
    assert_eq!(
        (unknown.status, unknown.body["error"]["code"].clone()),
        (422, json!("not_verified"))
    );
    let r = app
        .client
        .post(app.url("/api/v1/bookings"))
        .header("content-type", "application/json")
        .body("{\"slot\": 3}")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_booking_is_cancelled_from_its_browser_and_found_elsewhere_with_reference_and_id() {
    let app = spawn_app_with(Db::Postgres, Default::default()).await;
    app.clock.set(madrid(SATURDAY));
    let token = app.application(LUCIA.0, LUCIA.1).await;
    let mut browser = Browser::default();
    let booked = app.book(&mut browser, &token, MONDAY_0910, false).await;
    let reference = booked.body["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    assert_eq!(reference.len(), 9, "ABCD-EFGH");

    // Another browser: nothing until it finds the booking; a wrong number finds nothing.
    let mut phone = Browser::default();
    let none = app
        .my_booking(&phone, Method::GET, "/api/v1/bookings/mine", None)
        .await;
    assert_eq!(
        (none.status, none.body["error"]["code"].clone()),
        (404, json!("no_booking"))
    );
    let wrong = app.find_booking(&mut phone, &reference, NIE.0).await;
    assert_eq!(
        (wrong.status, wrong.body["error"]["code"].clone()),
        (404, json!("not_found"))
    );
    let typed = reference.to_lowercase().replace('-', " ");
    let found = app.find_booking(&mut phone, &typed, "12345678z").await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["reference"], reference);
    let mine = app
        .my_booking(&phone, Method::GET, "/api/v1/bookings/mine", None)
        .await;
    assert_eq!(mine.body["slot"], MONDAY_0910);

    let cancelled = app
        .my_booking(&phone, Method::DELETE, "/api/v1/bookings/mine", None)
        .await;
    assert_eq!(
        (cancelled.status, cancelled.body["status"].clone()),
        (200, json!("cancelled"))
    );
    let again = app
        .my_booking(&phone, Method::DELETE, "/api/v1/bookings/mine", None)
        .await;
    assert_eq!(
        (again.status, again.body["error"]["code"].clone()),
        (409, json!("not_live"))
    );
    // Found elsewhere, the booking moved to that browser: the first one no longer opens it.
    let moved = app
        .my_booking(&browser, Method::GET, "/api/v1/bookings/mine", None)
        .await;
    assert_eq!(moved.status, 404);
    assert!(app.free_slots().await.contains(&MONDAY_0910.to_owned()));
    // Cancelled, the ID number may book again.
    let rebooked = app.book(&mut browser, &token, MONDAY_0910, false).await;
    assert_eq!(rebooked.status, 201, "{}", rebooked.body);

    // Guessing from one address is held after 20 failures; the citizen elsewhere is not.
    let mut stranger = Browser::default();
    let mut last = 0;
    for _ in 0..21 {
        last = app
            .find_booking(&mut stranger, "AAAA-AAAA", LUCIA.0)
            .await
            .status;
    }
    assert_eq!(last, 429);
    let events = app.store.recent_audit(50).await.expect("audit");
    for action in ["booking.made", "booking.found", "booking.cancelled"] {
        assert!(
            events.iter().any(|e| e.action == action),
            "{action} audited"
        );
    }
}

#[tokio::test]
async fn at_the_slot_the_citizen_checks_in_and_is_served_before_walk_ins() {
    let app = spawn_app().await;
    app.clock.set(madrid(SATURDAY));
    let token = app.application(NIE.0, NIE.1).await;
    let mut browser = Browser::default();
    assert_eq!(
        app.book(&mut browser, &token, MONDAY_0910, false)
            .await
            .status,
        201
    );

    let check_in = "/api/v1/bookings/mine/check-in";
    app.clock.set(madrid("2026-11-30 08:59"));
    let early = app
        .my_booking(&browser, Method::POST, check_in, Some(json!({})))
        .await;
    assert_eq!(
        (early.status, early.body["error"]["code"].clone()),
        (409, json!("too_early"))
    );
    assert!(
        early.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("09:00")
    );

    // A walk-in is waiting when the citizen comes in, five minutes early.
    app.clock.set(madrid("2026-11-30 09:05"));
    let walk_in = app.application(LUCIA.0, LUCIA.1).await;
    let mut w = app.citizen().await;
    w.send(json!({ "type": "join", "application": walk_in, "consent": true }))
        .await;
    w.until("queued").await;
    let stale = app
        .my_booking(&browser, Method::POST, check_in, Some(json!({})))
        .await;
    assert_eq!(
        (stale.status, stale.body["error"]["code"].clone()),
        (422, json!("test_call_required")),
        "the booking's test call is two days old"
    );
    let test_call = app.passed_test_call().await;
    let checked = app
        .my_booking(
            &browser,
            Method::POST,
            check_in,
            Some(json!({ "test_call": test_call })),
        )
        .await;
    assert_eq!(checked.status, 200, "{}", checked.body);
    assert_eq!(checked.body["late"], false);
    let mut ws = app.citizen().await;
    let application = checked.body["application"].clone();
    ws.send(json!({ "type": "join", "application": application, "consent": true }))
        .await;
    let appointment = ws.until("appointment").await;
    assert_eq!(
        (appointment["slot"].clone(), appointment["kept"].clone()),
        (json!(MONDAY_0910), json!(true))
    );
    let queued = ws.until("queued").await;
    assert_eq!(queued["position"], 2, "early: after whoever walked in");
    let booking = app.store.live_booking_for(NIE.0).await.expect("read");
    assert!(booking.is_none(), "settled");

    // At 09:10 the appointment is served first.
    app.clock.set(madrid("2026-11-30 09:10"));
    let first = app
        .store
        .claim_next("agent", app.clock.now())
        .await
        .expect("claim")
        .expect("a ticket");
    assert_eq!(first.id_number, NIE.0);
    assert_eq!(
        first.appointment_at.map(|t| t.to_rfc3339()),
        Some("2026-11-30T08:10:00+00:00".into())
    );
    let kept = app
        .my_booking(&browser, Method::GET, "/api/v1/bookings/mine", None)
        .await;
    assert_eq!(kept.body["status"], "kept");
}

#[tokio::test]
async fn a_citizen_past_the_grace_joins_as_a_walk_in_and_is_told() {
    let app = spawn_app_with(Db::Postgres, Default::default()).await;
    app.clock.set(madrid(SATURDAY));
    let token = app.application(NIE.0, NIE.1).await;
    let mut browser = Browser::default();
    assert_eq!(
        app.book(&mut browser, &token, MONDAY_0910, false)
            .await
            .status,
        201
    );
    app.clock.set(madrid("2026-11-30 09:21"));
    let test_call = app.passed_test_call().await;
    let checked = app
        .my_booking(
            &browser,
            Method::POST,
            "/api/v1/bookings/mine/check-in",
            Some(json!({ "test_call": test_call })),
        )
        .await;
    assert_eq!(
        (checked.status, checked.body["late"].clone()),
        (200, json!(true))
    );
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "join", "application": checked.body["application"], "consent": true }))
        .await;
    assert_eq!(ws.until("appointment").await["kept"], false);
    let ticket_id = ws.until("queued").await["ticket"]
        .as_str()
        .expect("ticket")
        .to_owned();
    let ticket = app
        .store
        .ticket(&ticket_id)
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!(ticket.appointment_at, None, "a walk-in");
    let late = app
        .my_booking(&browser, Method::GET, "/api/v1/bookings/mine", None)
        .await;
    assert_eq!(late.body["status"], "late");
}

#[tokio::test]
async fn a_missed_appointment_is_recorded_as_a_no_show() {
    let app = spawn_app().await;
    app.clock.set(madrid(SATURDAY));
    let token = app.application(LUCIA.0, LUCIA.1).await;
    let mut browser = Browser::default();
    assert_eq!(
        app.book(&mut browser, &token, MONDAY_0910, false)
            .await
            .status,
        201
    );
    // Past the grace but within the hour, a late citizen would still be told so.
    let state = app.state();
    app.clock.set(madrid("2026-11-30 10:00"));
    assert_eq!(
        web::housekeeping::no_shows(&state, app.clock.now())
            .await
            .expect("sweep"),
        0
    );
    app.clock.set(madrid("2026-11-30 10:11"));
    assert_eq!(
        web::housekeeping::no_shows(&state, app.clock.now())
            .await
            .expect("sweep"),
        1
    );
    let missed = app
        .my_booking(&browser, Method::GET, "/api/v1/bookings/mine", None)
        .await;
    assert_eq!(missed.body["status"], "no_show");
    let test_call = app.passed_test_call().await;
    let late = app
        .my_booking(
            &browser,
            Method::POST,
            "/api/v1/bookings/mine/check-in",
            Some(json!({ "test_call": test_call })),
        )
        .await;
    assert_eq!(
        (late.status, late.body["error"]["code"].clone()),
        (409, json!("not_live"))
    );
    let events = app.store.recent_audit(20).await.expect("audit");
    assert!(
        events
            .iter()
            .any(|e| e.action == "booking.no_show" && e.actor == "system")
    );
}

#[tokio::test]
async fn the_calendar_file_parses_with_a_real_icalendar_parser_at_the_madrid_time() {
    let app = spawn_app().await;
    app.clock.set(madrid(SATURDAY));
    let token = app.application(LUCIA.0, LUCIA.1).await;
    let mut browser = Browser::default();
    let booked = app.book(&mut browser, &token, MONDAY_0910, false).await;
    let r = app
        .client
        .get(app.url("/api/v1/bookings/mine/calendar.ics"))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/calendar")
    );
    let text = r.text().await.expect("body");
    let dir = tempfile_dir();
    let path = dir.join("cita.ics");
    std::fs::write(&path, &text).expect("write");
    // Python's icalendar (scripts/test installs it): the event at 09:10 Madrid, 08:10 UTC.
    let script = r#"
import sys, icalendar, datetime
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
tz = [c for c in cal.walk('VTIMEZONE')]
ev = [c for c in cal.walk('VEVENT')][0]
start = ev.decoded('DTSTART'); end = ev.decoded('DTEND')
print(tz[0]['TZID'], start.strftime('%H:%M'), start.utcoffset(), start.astimezone(datetime.timezone.utc).isoformat(), (end - start).seconds // 60, ev['DESCRIPTION'])
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "icalendar refused the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("Europe/Madrid 09:10 1:00:00 2026-11-30T08:10:00+00:00 10 "),
        "{stdout}"
    );
    assert!(stdout.contains(booked.body["reference"].as_str().expect("reference")));
}

#[tokio::test]
async fn a_long_wait_offers_booking_and_a_short_one_does_not() {
    for (offer_above, offered) in [(30, false), (1, true)] {
        let mut args = web::config::ServeArgs::default();
        args.booking.offer_above_minutes = Some(offer_above);
        let app = spawn_app_with(Db::Sqlite, args).await;
        app.agent_in("ana", AgentStatus::InCall).await;
        let token = app.application(LUCIA.0, LUCIA.1).await;
        let mut ws = app.citizen().await;
        ws.send(json!({ "type": "join", "application": token, "consent": true }))
            .await;
        let queued = ws.until("queued").await;
        assert!(
            queued["estimate_secs"].as_i64().is_some_and(|s| s > 60),
            "{queued}"
        );
        assert_eq!(
            queued["offer_booking"].as_bool().unwrap_or(false),
            offered,
            "{queued}"
        );
    }
}

#[tokio::test]
async fn a_booking_is_moved_from_its_browser_or_after_finding_it_without_verifying_again() {
    let app = spawn_app().await;
    app.clock.set(madrid(SATURDAY));
    let token = app.application(LUCIA.0, LUCIA.1).await;
    let mut browser = Browser::default();
    let first = app.book(&mut browser, &token, MONDAY_0910, false).await;
    assert_eq!(first.status, 201);
    let move_to = |b: &Browser, slot: &str| {
        let (app, b, slot) = (&app, b.clone(), slot.to_owned());
        async move {
            app.my_booking(
                &b,
                Method::POST,
                "/api/v1/bookings/mine/slot",
                Some(json!({ "slot": slot })),
            )
            .await
        }
    };
    // Monday 09:20 instead: the 09:10 place is free again, one live booking.
    let moved = move_to(&browser, "2026-11-30T08:20:00Z").await;
    assert_eq!(moved.status, 201, "{}", moved.body);
    assert_eq!(moved.body["slot"], "2026-11-30T08:20:00Z");
    assert_ne!(moved.body["reference"], first.body["reference"]);
    assert!(app.free_slots().await.contains(&MONDAY_0910.to_owned()));
    let mine = app
        .my_booking(&browser, Method::GET, "/api/v1/bookings/mine", None)
        .await;
    assert_eq!(mine.body["slot"], "2026-11-30T08:20:00Z");
    // From a phone, with the reference and the number; after a cancel too.
    let mut phone = Browser::default();
    let reference = moved.body["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    assert_eq!(
        app.find_booking(&mut phone, &reference, LUCIA.0)
            .await
            .status,
        200
    );
    let cancelled = app
        .my_booking(&phone, Method::DELETE, "/api/v1/bookings/mine", None)
        .await;
    assert_eq!(cancelled.status, 200);
    let again = move_to(&phone, "2026-11-30T08:30:00Z").await;
    assert_eq!(again.status, 201, "{}", again.body);
    let live = app
        .store
        .live_booking_for(LUCIA.0)
        .await
        .expect("read")
        .expect("live");
    assert_eq!(live.slot_at.to_rfc3339(), "2026-11-30T08:30:00+00:00");
    // Refusals: a full slot, an odd time, no booking in this browser.
    let other = app.application(NIE.0, NIE.1).await;
    assert_eq!(
        app.book(&mut Browser::default(), &other, MONDAY_0910, false)
            .await
            .status,
        201
    );
    let full = move_to(&phone, MONDAY_0910).await;
    assert_eq!(
        (full.status, full.body["error"]["code"].clone()),
        (409, json!("slot_full"))
    );
    let odd = move_to(&phone, "2026-11-30T08:31:00Z").await;
    assert_eq!(
        (odd.status, odd.body["error"]["code"].clone()),
        (422, json!("no_such_slot"))
    );
    let none = move_to(&Browser::default(), MONDAY_0910).await;
    assert_eq!(none.status, 404);
}

#[tokio::test]
async fn a_walk_ins_wait_counts_the_appointments_booked_before_their_turn() {
    let mut second_walk_in = Vec::new();
    for with_booking in [false, true] {
        let app = spawn_app().await;
        app.agent_in("ana", AgentStatus::InCall).await;
        let mut sockets = Vec::new();
        let mut estimates = Vec::new();
        for (i, id) in [LUCIA, ("00000000T", "20/06/2019")].into_iter().enumerate() {
            if i == 1 && with_booking {
                // Someone books 10:10: due before the next walk-in's turn, served first.
                let booker = app.application(NIE.0, NIE.1).await;
                let booked = app
                    .book(
                        &mut Browser::default(),
                        &booker,
                        "2026-11-26T09:10:00Z",
                        false,
                    )
                    .await;
                assert_eq!(booked.status, 201, "{}", booked.body);
            }
            let token = app.application(id.0, id.1).await;
            let mut ws = app.citizen().await;
            ws.send(json!({ "type": "join", "application": token, "consent": true }))
                .await;
            let queued = ws.until("queued").await;
            estimates.push(queued["estimate_secs"].as_i64().expect("an estimate"));
            sockets.push(ws);
        }
        second_walk_in.push(estimates[1]);
    }
    let (without, with) = (second_walk_in[0], second_walk_in[1]);
    assert!(
        with >= without + 120,
        "the appointment due at 10:10 comes before the second walk-in: {with} s, against {without} s without it"
    );
}

#[tokio::test]
async fn admission_at_the_close_counts_the_appointments_booked_before_a_walk_in() {
    // Thursday 13:45, one agent in a call, six-minute calls by default: a second walk-in
    // would be taken about 13:59 — unless the 13:50 appointment (booked at 13:30) comes
    // first.
    let mut answers = Vec::new();
    for with_booking in [false, true] {
        let app = spawn_app().await;
        app.clock.set(madrid("2026-11-26 13:30"));
        if with_booking {
            let booker = app.application(NIE.0, NIE.1).await;
            let booked = app
                .book(
                    &mut Browser::default(),
                    &booker,
                    "2026-11-26T12:50:00Z",
                    false,
                )
                .await;
            assert_eq!(booked.status, 201, "{}", booked.body);
        }
        app.clock.set(madrid("2026-11-26 13:45"));
        app.agent_in("ana", AgentStatus::InCall).await;
        let mut sockets = Vec::new();
        for id in [LUCIA, ("00000000T", "20/06/2019")] {
            let token = app.application(id.0, id.1).await;
            let mut ws = app.citizen().await;
            ws.send(json!({ "type": "join", "application": token, "consent": true }))
                .await;
            let answer = loop {
                let m = ws.recv().await;
                if m["type"] == "queued" || m["type"] == "refused" {
                    break m;
                }
            };
            sockets.push(ws);
            answers.push((
                with_booking,
                answer["type"].clone(),
                answer["reason"].clone(),
            ));
        }
    }
    assert_eq!(
        answers,
        [
            (false, json!("queued"), json!(null)),
            (false, json!("queued"), json!(null)),
            (true, json!("queued"), json!(null)),
            (true, json!("refused"), json!("too_late_today")),
        ],
        "the booked load pushes the second walk-in past 14:00"
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir()
        .join("videoreg-api-ics")
        .join(store::secrets::new_id().expect("id"));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}
