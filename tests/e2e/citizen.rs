//! The whole citizen side in real headless Chromium with a fake camera and microphone: the
//! start page, the test call, the application, the queue, the call with an agent (the
//! console in a second browser), and the activation code on screen. A screenshot of each
//! step goes to `target/screenshots/`.

use base64::Engine as _;
use fantoccini::{Client, Locator};

use crate::accessibility::violations;
use crate::chromium::{
    attr, browser_sized, click, eventually, screenshot_path, script_number, text,
};
use crate::console_steps::{demo_password, open_console, take_and_accept, verify_and_approve};
use crate::helpers::demo_server;

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path(&format!("citizen-{name}.png")), png).expect("screenshot");
}

async fn type_into(c: &Client, id: &str, value: &str) {
    let field = c.find(Locator::Id(id)).await.expect("field");
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

/// Bytes received on the page's `#remote` video, as its script measured with getStats.
async fn bytes_received(c: &Client) -> f64 {
    script_number(
        c,
        "return Number(document.getElementById('remote').dataset.bytesReceived || 0)",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_goes_from_the_start_page_to_the_activation_code() {
    let (server, _db) = demo_server("42400-42599").await;
    let (_citizen_driver, citizen) = browser_sized(true, (360, 800)).await;

    // Start.
    citizen
        .goto(&server.url("/?lang=es"))
        .await
        .expect("start page");
    shot(&citizen, "1-start-es").await;
    click(&citizen, "#begin").await;

    // The test call.
    eventually("the camera preview", || async {
        attr(&citizen, "start", "disabled").await.is_none()
    })
    .await;
    click(&citizen, "#start").await;
    eventually("Continue after media came back", || async {
        attr(&citizen, "continue", "hidden").await.is_none()
    })
    .await;
    shot(&citizen, "2-test-call-es").await;
    click(&citizen, "#continue").await;

    // The application: a wrong check letter is caught in the page first.
    eventually("the application form", || async {
        citizen
            .current_url()
            .await
            .is_ok_and(|u| u.path() == "/apply")
    })
    .await;
    type_into(&citizen, "id_number", "12345678A").await;
    type_into(&citizen, "contrast", "15-03-2031").await;
    click(&citizen, "#submit").await;
    eventually("the check-letter error", || async {
        text(&citizen, "id_error").await.contains("letra")
    })
    .await;
    shot(&citizen, "3-apply-error-es").await;
    type_into(&citizen, "id_number", "12345678Z").await;
    eventually("the DNI help", || async {
        text(&citizen, "contrast_label").await.contains("validez")
    })
    .await;
    click(&citizen, "#submit").await;

    // The queue: consent, then a place.
    eventually("the application accepted", || async {
        citizen
            .current_url()
            .await
            .is_ok_and(|u| u.path() == "/queue")
    })
    .await;
    eventually("the queue page", || async {
        attr(&citizen, "consent-step", "hidden").await.is_none()
    })
    .await;
    click(&citizen, "#consent").await;
    click(&citizen, "#join").await;
    eventually("a position", || async {
        text(&citizen, "position").await == "1"
    })
    .await;
    // Reopening the page takes the place back (resume within the grace period).
    citizen.refresh().await.expect("reload");
    eventually("the place taken back", || async {
        attr(&citizen, "waiting", "hidden").await.is_none()
            && text(&citizen, "position").await == "1"
    })
    .await;
    shot(&citizen, "4-queue-es").await;
    let found = violations(&citizen).await;
    assert!(found.is_empty(), "the waiting page: {found:?}");

    // The agent takes the call in the console.
    let (_agent_driver, agent) = browser_sized(true, (1280, 1000)).await;
    let password = demo_password(&server, "agente");
    open_console(&agent, &server, "agente", &password).await;
    take_and_accept(&agent).await;
    eventually("the agent's video at the citizen", || async {
        script_number(
            &citizen,
            "return document.getElementById('remote').videoWidth",
        )
        .await
            > 0.0
    })
    .await;
    // Media both ways: bytes received grow on both sides.
    for (who, page) in [("citizen", &citizen), ("agent", &agent)] {
        eventually(&format!("bytes at the {who}"), || async {
            bytes_received(page).await > 0.0
        })
        .await;
        let first = bytes_received(page).await;
        eventually(&format!("bytes growing at the {who}"), || async {
            bytes_received(page).await > first
        })
        .await;
    }
    // A network change: the page restarts ICE, videoreg answers the new offer, media goes on.
    let ufrag = |c: &Client| {
        let c = c.clone();
        async move {
            c.execute("return window.videoregCall.iceUfrag()", vec![])
                .await
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
        }
    };
    let before = ufrag(&citizen).await.expect("an ICE user fragment");
    citizen
        .execute("window.videoregCall.restartIce()", vec![])
        .await
        .expect("restart ICE");
    eventually("new ICE credentials negotiated", || async {
        ufrag(&citizen).await.is_some_and(|u| u != before)
    })
    .await;
    let after_restart = bytes_received(&citizen).await;
    eventually("media after the ICE restart", || async {
        bytes_received(&citizen).await > after_restart
    })
    .await;
    assert!(
        citizen.title().await.expect("title").contains("atienden"),
        "the title says it is the citizen's turn"
    );
    shot(&citizen, "5-call-es").await;
    verify_and_approve(&agent, "citizen-flow-en").await;

    // The result: the code, large and copyable, and the receipt form.
    eventually("the activation code", || async {
        attr(&citizen, "approved", "hidden").await.is_none()
    })
    .await;
    let code = text(&citizen, "code").await;
    assert_eq!(code.len(), 19, "{code}");
    let receipt_code = attr(&citizen, "receipt-code", "value")
        .await
        .unwrap_or_default();
    assert_eq!(receipt_code, code);
    assert_eq!(
        attr(&citizen, "receipt-id", "value").await.as_deref(),
        Some("12345678Z")
    );
    shot(&citizen, "6-approved-es").await;
    let found = violations(&citizen).await;
    assert!(found.is_empty(), "the result page: {found:?}");
    agent.close().await.expect("close");

    // The receipt, with the code, as the page's form posts it.
    click(&citizen, "#receipt input[name=include_code]").await;
    let pdf = citizen
        .execute_async(RECEIPT_JS, vec![])
        .await
        .expect("the receipt");
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(pdf.as_str().expect("base64"))
        .expect("decodes");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let text = pdf_text(&pdf);
    let registration = attr(&citizen, "code", "data-registration")
        .await
        .unwrap_or_default();
    let reference_start: String = registration.to_ascii_uppercase().chars().take(4).collect();
    assert!(text.contains("*****678Z"), "masked ID in {text}");
    assert!(text.contains(&reference_start), "reference in {text}");
    assert!(text.contains(&code), "the code, as chosen, in {text}");

    // Permanent Cl@ve: the code and a new password, then sign in with it.
    citizen
        .goto(&server.url("/activate?lang=es"))
        .await
        .expect("activation page");
    type_into(&citizen, "id_number", "12345678Z").await;
    type_into(&citizen, "code", &code).await;
    type_into(&citizen, "password", "Cuaderno-azul-7").await;
    type_into(&citizen, "repeat", "Cuaderno-azul-7").await;
    shot(&citizen, "7-activate-es").await;
    click(&citizen, "form button[type=submit]").await;
    eventually("the password set", || async {
        citizen
            .source()
            .await
            .is_ok_and(|s| s.contains("Su Cl@ve Permanente está activada"))
    })
    .await;
    shot(&citizen, "8-activated-es").await;
    citizen
        .goto(&server.url("/login?lang=es"))
        .await
        .expect("sign-in page");
    type_into(&citizen, "id_number", "12345678Z").await;
    type_into(&citizen, "password", "Cuaderno-azul-7").await;
    click(&citizen, "form button[type=submit]").await;
    eventually("the registration shown", || async {
        citizen.source().await.is_ok_and(|s| {
            s.contains("Su registro en Cl@ve") && s.contains("Lucía Martín Ficticia")
        })
    })
    .await;
    shot(&citizen, "9-signed-in-es").await;
    citizen.close().await.expect("close");
}

/// Posts the page's receipt form with `fetch` and returns the PDF as base64.
const RECEIPT_JS: &str = r#"
const done = arguments[arguments.length - 1];
fetch("/receipt", { method: "POST", body: new URLSearchParams(new FormData(document.getElementById("receipt"))) })
  .then((r) => r.arrayBuffer())
  .then((b) => { let s = ""; new Uint8Array(b).forEach((x) => { s += String.fromCharCode(x); }); done(btoa(s)); })
  .catch((e) => done(String(e)));
"#;

/// The PDF's text, from poppler's `pdftotext` (scripts/test installs poppler-utils).
fn pdf_text(pdf: &[u8]) -> String {
    let path = crate::helpers::scratch_dir().join("receipt.pdf");
    std::fs::write(&path, pdf).expect("write the PDF");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed: scripts/test installs it");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).expect("UTF-8")
}
