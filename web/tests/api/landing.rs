use store::{AgentStatus, StaffRole};
use web::config::ServeArgs;

use crate::helpers::{Db, madrid, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_start_page_says_open_with_todays_hours_in_spanish() {
    let app = spawn_app().await;
    let (status, html) = app.page("/", "es-ES,es;q=0.9").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("Abierto ahora"), "{html}");
    assert!(html.contains("jueves, 26 de noviembre de 2026"));
    assert!(html.contains("09:00–14:00"));
    // Instants for the visitor's own time zone, filled in by the script.
    assert!(html.contains("data-local-from=\"2026-11-26T08:00:00+00:00\""));
    assert!(
        html.contains("viernes, 27 de noviembre de 2026"),
        "next opening is tomorrow"
    );
    assert!(!html.contains("Modo demostración"));
}

#[tokio::test]
async fn the_start_page_on_a_saturday_says_closed_and_gives_monday_in_english() {
    let app = spawn_app().await;
    app.clock.set(madrid("2026-11-28 11:00"));
    let (status, html) = app.page("/", "en").await;
    assert_eq!(status, 200);
    assert!(html.contains("Closed now"), "{html}");
    assert!(html.contains("No service today"));
    assert!(
        html.contains("We open again on Monday, 30 November 2026, at <strong>09:00</strong>"),
        "{html}"
    );
    assert!(html.contains("data-local-from=\"2026-11-30T08:00:00+00:00\""));
    let (_, es) = app.page("/?lang=es", "en").await;
    assert!(es.contains("Cerrado ahora"), "?lang= beats Accept-Language");
}

#[tokio::test]
async fn always_open_says_open_at_all_hours_and_hides_closing_and_next_opening() {
    let args = ServeArgs {
        always_open: true,
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    app.clock.set(madrid("2026-11-29 22:00"));
    let (_, html) = app.page("/", "es").await;
    assert!(html.contains("Abierto ahora"));
    assert!(html.contains("Modo demostración"));
    assert!(
        html.contains("Abierto a todas horas (demostración)"),
        "{html}"
    );
    for stale in ["Atendemos hasta", "00:00–00:00", "Próxima apertura"] {
        assert!(!html.contains(stale), "{stale} in {html}");
    }
    let (_, en) = app.page("/", "en").await;
    assert!(en.contains("Demonstration mode"));
    assert!(en.contains("Open at all hours (demo)"), "{en}");
    for stale in ["serving until", "00:00–00:00", "Next opening"] {
        assert!(!en.contains(stale), "{stale} in {en}");
    }
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_request_id() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/")).send().await.expect("request");
    let h = r.headers();
    assert_eq!(
        h.get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    assert!(h.get("content-security-policy").is_some());
    assert!(h.get("x-request-id").is_some_and(|v| v.len() >= 32));
    let css = app
        .client
        .get(app.url("/static/app.css"))
        .send()
        .await
        .expect("request");
    assert_eq!(css.status().as_u16(), 200);
    assert!(
        css.headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("text/css")))
    );
}

#[tokio::test]
async fn the_start_page_tells_the_wait_for_someone_joining_now_while_open() {
    let app = spawn_app().await;
    let (_, nobody) = app.page("/", "en").await;
    assert!(
        !nobody.contains("Estimated wait"),
        "no agent working: no estimate"
    );
    assert!(
        nobody.contains("we will tell you the estimated wait as soon as one is"),
        "no agent working: it says when the estimate comes: {nobody}"
    );
    assert!(
        !nobody.contains("Typical wait today"),
        "nobody answered yet today: no typical wait"
    );
    app.add_staff("ana", StaffRole::Agent).await;
    let ana = app
        .store
        .find_staff_by_name("ana")
        .await
        .expect("find")
        .expect("ana");
    app.store
        .set_agent_state(&ana.id, AgentStatus::Available, None, app.clock.now())
        .await
        .expect("state");
    let (_, free) = app.page("/", "en").await;
    assert!(
        free.contains("Estimated wait if you join now: <strong>under a minute</strong>"),
        "{free}"
    );
    app.store
        .set_agent_state(&ana.id, AgentStatus::InCall, None, app.clock.now())
        .await
        .expect("state");
    let (_, busy) = app.page("/", "es").await;
    assert!(busy.contains("Espera estimada si entra ahora:"), "{busy}");
    assert!(busy.contains(" min</strong>"), "{busy}");
    app.clock.set(madrid("2026-11-26 13:58"));
    let (_, late) = app.page("/", "en").await;
    assert!(
        late.contains("probably not be seen before closing"),
        "{late}"
    );
}

#[tokio::test]
async fn with_no_agent_working_the_start_page_gives_todays_typical_wait_so_far() {
    use serde_json::json;
    let app = spawn_app().await;
    let (_ana, mut agent) = crate::supervisor::agent_socket(&app, "ana").await;
    app.clock.set(madrid("2026-11-26 10:00"));
    agent.until("state").await;
    agent
        .send(json!({ "type": "set_state", "state": "available" }))
        .await;
    while agent.until("state").await["state"] != "available" {}
    let mut citizen = crate::supervisor::join(&app, "12345678Z", "15/03/2031").await;
    app.clock.set(madrid("2026-11-26 10:06"));
    agent.send(json!({ "type": "take_next" })).await;
    agent.until("offered").await;
    agent.send(json!({ "type": "accept" })).await;
    citizen.until("call_started").await;
    let ana = app
        .store
        .find_staff_by_name("ana")
        .await
        .expect("find")
        .expect("ana");
    app.store
        .set_agent_state(&ana.id, AgentStatus::Offline, None, app.clock.now())
        .await
        .expect("state");
    let (_, html) = app.page("/", "en").await;
    assert!(
        html.contains("Typical wait today so far: <strong>about 6 min</strong>"),
        "{html}"
    );
    let (_, es) = app.page("/", "es").await;
    assert!(es.contains("Espera habitual hoy hasta ahora: <strong>unos 6 min</strong>"));
}
