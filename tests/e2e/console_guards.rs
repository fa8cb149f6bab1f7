//! The console against slips, in real Chromium: the first screen enables only what applies
//! and says why "Next citizen" is off; the keyboard takes, accepts, captures and mutes, but
//! does nothing while the agent types in a field; rejecting needs a reason the agent chooses
//! and a confirmation naming the outcome, and Cancel leaves the call as it was. axe-core finds
//! nothing serious on the console in either language. Screenshots go to `target/screenshots/`.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::accessibility::violations;
use crate::chromium::{
    attr, browser_sized, click, eventually, screenshot_path, script_number, text,
};
use crate::console::{CITIZEN_JS, citizen_message};
use crate::console_steps::{current_step, demo_password, press, script_steps, sign_in_to_console};
use crate::helpers::{Server, apply, demo_server};

async fn shot(agent: &Client, name: &str) {
    let png = agent.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path(name), png).expect("write screenshot");
}

async fn stills(agent: &Client) -> f64 {
    script_number(
        agent,
        "return document.querySelectorAll('#stills img').length",
    )
    .await
}

async fn disabled(agent: &Client, id: &str) -> bool {
    attr(agent, id, "disabled").await.is_some()
}

async fn dialog_open(agent: &Client, id: &str) -> bool {
    attr(agent, id, "open").await.is_some()
}

/// Uploads a fixture of `agent-console/tests/fixtures/stills/` as a still of `kind` from the
/// console's page, shows it as a capture would, and returns the server's verdict.
async fn upload_fixture(agent: &Client, kind: &str, fixture: &str) -> serde_json::Value {
    let path = format!(
        "{}/../agent-console/tests/fixtures/stills/{fixture}.png",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    agent
        .execute_async(
            r#"const [kind, bytes, done] = arguments;
               const root = document.getElementById("console");
               const ticket = await fetch("/staff/console/call", { headers: { accept: "application/json" } })
                 .then((r) => r.json()).then((d) => d.ticket);
               const r = await fetch(`/staff/calls/${ticket}/stills/${kind}`, {
                 method: "POST", body: new Uint8Array(bytes),
                 headers: { accept: "application/json", "content-type": "image/png", "x-csrf-token": root.dataset.csrf },
               });
               const body = await r.json();
               (await import("/staff/static/console-stills.js")).addStill(body);
               done(body.quality ? body.quality.verdict : null);"#,
            vec![json!(kind), json!(bytes)],
        )
        .await
        .expect("upload a fixture")
}

/// A citizen with a passed test call joins the queue from their own browser.
async fn citizen_joins(server: &Server, db: &str) -> (crate::chromium::Driver, Client) {
    let token = apply(server, db, "12345678Z", "15-03-2031").await;
    let (driver, citizen) = browser_sized(true, (800, 600)).await;
    citizen.goto(&server.url("/")).await.expect("citizen page");
    let joined = citizen
        .execute_async(CITIZEN_JS, vec![json!(token)])
        .await
        .expect("citizen script");
    assert_eq!(joined, json!(true));
    eventually("the citizen queued", || async {
        citizen_message(&citizen, "queued").await.is_some()
    })
    .await;
    (driver, citizen)
}

/// The offline console enables only "Available" and "Start break", says why "Next citizen"
/// is off, and passes axe in Spanish and in English.
async fn first_screen(agent: &Client, server: &Server) {
    for lang in ["es", "en"] {
        agent
            .goto(&server.url(&format!("/staff/console?lang={lang}")))
            .await
            .expect("console");
        eventually("offline, connected", || async {
            attr(agent, "state", "data-state").await.as_deref() == Some("offline")
                && !disabled(agent, "go-available").await
        })
        .await;
        assert!(
            disabled(agent, "go-offline").await,
            "Go offline while offline"
        );
        assert!(!disabled(agent, "go-break").await);
        assert!(disabled(agent, "take-next").await);
        let why = text(agent, "take-next-why").await;
        let expected = match lang {
            "es" => "Pulse Disponible para recibir ciudadanos.",
            _ => "Press Available to receive citizens.",
        };
        assert_eq!(why, expected);
        let found = violations(agent).await;
        assert!(found.is_empty(), "console ({lang}): {found:?}");
        shot(agent, &format!("console-first-screen-{lang}.png")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejecting_needs_a_chosen_reason_and_a_confirmation_and_keys_skip_text_fields() {
    let (server, db) = demo_server("46200-46399").await;
    let password = demo_password(&server, "agente");
    let (_citizen_driver, citizen) = citizen_joins(&server, &db).await;
    let (_agent_driver, agent) = browser_sized(true, (1280, 1000)).await;
    sign_in_to_console(&agent, &server.base, "agente", &password).await;
    first_screen(&agent, &server).await;

    // Offline, N does nothing; available, N takes the next citizen and A accepts.
    press(&agent, 'n').await;
    click(&agent, "#go-available").await;
    eventually("available, Go offline enabled", || async {
        attr(&agent, "state", "data-state").await.as_deref() == Some("available")
            && !disabled(&agent, "go-offline").await
            && !disabled(&agent, "take-next").await
    })
    .await;
    assert!(
        disabled(&agent, "go-available").await,
        "Available while available"
    );
    assert!(
        attr(&agent, "offer", "hidden").await.is_some(),
        "N taken offline"
    );
    press(&agent, 'n').await;
    eventually("the citizen offered by N", || async {
        attr(&agent, "offer", "hidden").await.is_none()
    })
    .await;
    assert!(text(&agent, "notice").await.contains("Citizen offered"));
    press(&agent, 'a').await;
    eventually("the call's video and details after A", || async {
        script_number(
            &agent,
            "return document.getElementById('remote').videoWidth",
        )
        .await
            > 0.0
            && script_number(
                &agent,
                "return document.querySelectorAll('#details dt').length",
            )
            .await
                >= 5.0
    })
    .await;
    assert!(
        !text(&agent, "notice").await.contains("offered"),
        "the offer's notice outlived the offer"
    );

    // 1 captures the front; inside the note, 2, 3, M, N and ? are just typed.
    press(&agent, '1').await;
    eventually("the front still by key 1", || async {
        stills(&agent).await >= 1.0
    })
    .await;
    // The script ticks the front (and the greeting before it) and asks for the recording
    // notice, not yet ticked.
    assert_eq!(script_steps(&agent).await, json!(["greeting", "front"]));
    assert_eq!(current_step(&agent).await, json!("recording"));
    agent
        .execute("window.scrollTo(0, 0)", vec![])
        .await
        .expect("scroll");
    shot(&agent, "console-script-en.png").await;
    // The still's verdict is beside its thumbnail; the thumbnail opens it at full size, zoomable.
    let verdict = agent
        .execute(
            "return document.querySelector('#stills .still-quality')?.dataset.verdict ?? null",
            vec![],
        )
        .await
        .expect("verdict");
    assert!(
        matches!(verdict.as_str(), Some("good" | "blurred" | "glare")),
        "{verdict}"
    );
    click(&agent, "#stills button.thumb").await;
    eventually("the full-size still", || async {
        dialog_open(&agent, "zoom").await
            && script_number(
                &agent,
                "return document.getElementById('zoom-img').naturalWidth",
            )
            .await
                >= 320.0
    })
    .await;
    click(&agent, "#zoom-in").await;
    click(&agent, "#zoom-in").await;
    assert_eq!(text(&agent, "zoom-level").await, "200 %");
    shot(&agent, "console-still-zoom-en.png").await;
    click(&agent, "#zoom-close").await;
    // The made-up card, blurred and glared, uploaded as the back and the face: the thumbnails
    // say to capture again.
    for (kind, fixture) in [("document_back", "blurred"), ("face", "glare")] {
        let verdict = upload_fixture(&agent, kind, fixture).await;
        assert_eq!(verdict, json!(fixture));
    }
    agent
        .execute(
            "document.getElementById('stills').scrollIntoView({ block: 'center' })",
            vec![],
        )
        .await
        .expect("scroll");
    eventually("every thumbnail loaded", || async {
        script_number(
            &agent,
            "return [...document.querySelectorAll('#stills img')].every((i) => i.complete && i.naturalWidth > 0) ? 1 : 0",
        )
        .await
            == 1.0
    })
    .await;
    shot(&agent, "console-still-quality-en.png").await;
    let before = stills(&agent).await;
    assert_eq!(before, 3.0);
    let note = agent.find(Locator::Id("note")).await.expect("note");
    note.send_keys("23mn?").await.expect("type in the note");
    let typed = agent
        .execute("return document.getElementById('note').value", vec![])
        .await
        .expect("note value");
    assert_eq!(typed, json!("23mn?"));
    assert_eq!(
        stills(&agent).await,
        before,
        "a key in the note captured a still"
    );
    assert_eq!(
        attr(&agent, "mute", "aria-pressed").await.as_deref(),
        Some("false")
    );
    assert!(
        !dialog_open(&agent, "keys").await,
        "? in the note opened the help"
    );
    // Out of the field, M mutes and ? shows the help.
    agent
        .execute("document.getElementById('note').blur()", vec![])
        .await
        .expect("blur");
    press(&agent, 'm').await;
    eventually("muted by M", || async {
        attr(&agent, "mute", "aria-pressed").await.as_deref() == Some("true")
    })
    .await;
    press(&agent, '?').await;
    eventually("the help by ?", || async {
        dialog_open(&agent, "keys").await
    })
    .await;
    shot(&agent, "console-keys-en.png").await;
    click(&agent, "#keys-close").await;
    let found = violations(&agent).await;
    assert!(found.is_empty(), "console in a call: {found:?}");
    let title = attr(&agent, "take-next", "title").await.unwrap_or_default();
    assert!(title.contains("key N"), "{title}");

    // Reject: no reason chosen, no rejecting; then a confirmation naming the outcome.
    assert_eq!(
        agent
            .execute(
                "return document.getElementById('reject-reason').value",
                vec![]
            )
            .await
            .expect("reason"),
        json!("")
    );
    assert!(disabled(&agent, "reject").await, "reject without a reason");
    assert!(disabled(&agent, "abort").await, "abort without a reason");
    let select = agent
        .find(Locator::Id("reject-reason"))
        .await
        .expect("select");
    select
        .select_by_value("document_expired")
        .await
        .expect("choose");
    eventually("reject enabled", || async {
        !disabled(&agent, "reject").await
    })
    .await;
    click(&agent, "#reject").await;
    eventually("the confirmation", || async {
        dialog_open(&agent, "confirm").await
    })
    .await;
    assert_eq!(
        text(&agent, "confirm-title").await,
        "Reject: document expired?"
    );
    assert!(
        text(&agent, "confirm-text")
            .await
            .starts_with("The citizen will be told")
    );
    shot(&agent, "console-confirm-reject-en.png").await;
    click(&agent, "#confirm-cancel").await;
    eventually("the confirmation closed", || async {
        !dialog_open(&agent, "confirm").await
    })
    .await;
    assert_eq!(
        attr(&agent, "state", "data-state").await.as_deref(),
        Some("in_call")
    );
    assert!(
        citizen_message(&citizen, "rejected").await.is_none(),
        "cancel rejected"
    );
    click(&agent, "#reject").await;
    eventually("the confirmation again", || async {
        dialog_open(&agent, "confirm").await
    })
    .await;
    click(&agent, "#confirm-yes").await;
    eventually("the citizen told of the rejection", || async {
        citizen_message(&citizen, "rejected").await.is_some()
    })
    .await;
    let rejected = citizen_message(&citizen, "rejected")
        .await
        .expect("rejected");
    assert_eq!(rejected["reason"], "document_expired");
    eventually("wrap-up, the reason cleared", || async {
        attr(&agent, "state", "data-state").await.as_deref() == Some("wrap_up")
    })
    .await;
    shot(&agent, "console-after-reject-en.png").await;
    agent.close().await.expect("close");
    citizen.close().await.expect("close");
}
