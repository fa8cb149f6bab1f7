//! The whole citizen side in real headless Chromium with a fake camera and microphone: the
//! start page, the test call, the application, the queue, the call with an agent (the
//! console in a second browser), the activation code on screen, and activating it. Once on a
//! phone (360 px, Spanish) and once on a desktop (1280 px, English), with what a person
//! would stumble on checked at each width. A screenshot of each step goes to
//! `target/screenshots/`.

use base64::Engine as _;
use fantoccini::Client;

use crate::accessibility::violations;
use crate::chromium::{
    attr, browser_sized, click, eventually, screenshot_path, script_number, text,
};
use crate::citizen_checks::{
    RECEIPT_JS, bytes_received, code_layout, current_step, field_value, join_queue, pdf_text,
    top_difference, type_into,
};
use crate::console_steps::{
    challenge_passed, demo_password, issue_challenge, open_console, take_and_accept,
    verify_and_approve,
};
use crate::helpers::demo_server;

/// Where the citizen is: the page's language and the window's size, for the screenshots'
/// names and the texts to look for.
struct Visit {
    lang: &'static str,
    size: (u32, u32),
}

impl Visit {
    fn pick<'a>(&self, es: &'a str, en: &'a str) -> &'a str {
        if self.lang == "es" { es } else { en }
    }

    async fn shot(&self, c: &Client, step: &str) {
        let png = c.screenshot().await.expect("screenshot");
        let name = format!("citizen-{}-{step}-{}.png", self.size.0, self.lang);
        std::fs::write(screenshot_path(&name), png).expect("screenshot");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_on_a_phone_goes_from_the_start_page_to_the_activation_code() {
    let visit = Visit {
        lang: "es",
        size: (360, 800),
    };
    citizen_flow(&visit, "42400-42599").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_on_a_desktop_goes_from_the_start_page_to_the_activation_code() {
    let visit = Visit {
        lang: "en",
        size: (1280, 900),
    };
    citizen_flow(&visit, "44200-44399").await;
}

async fn citizen_flow(v: &Visit, media_ports: &str) {
    let (server, _db) = demo_server(media_ports).await;
    let (_citizen_driver, citizen) = browser_sized(true, v.size).await;
    let lang = v.lang;

    // Start.
    citizen
        .goto(&server.url(&format!("/?lang={lang}")))
        .await
        .expect("start page");
    v.shot(&citizen, "1-start").await;
    citizen
        .execute("document.querySelector('.status').scrollIntoView()", vec![])
        .await
        .expect("scroll");
    v.shot(&citizen, "1-start-status").await;
    click(&citizen, "#begin").await;

    test_call(v, &citizen).await;
    application(v, &citizen).await;

    // The queue: consent, then a place.
    join_queue(&citizen).await;
    // Reopening the page takes the place back (resume within the grace period).
    citizen.refresh().await.expect("reload");
    eventually("the place taken back", || async {
        attr(&citizen, "waiting", "hidden").await.is_none()
            && text(&citizen, "position").await == "1"
    })
    .await;
    // First of one at joining: nothing moved yet, so the bar is empty, not half full; the
    // time of the last update says its zone.
    assert_eq!(
        attr(&citizen, "progressbar", "aria-valuenow")
            .await
            .as_deref(),
        Some("0")
    );
    assert!(text(&citizen, "updated").await.contains("Madrid"));
    assert_eq!(current_step(&citizen).await, "step-queue");
    v.shot(&citizen, "4-queue").await;
    let found = violations(&citizen).await;
    assert!(found.is_empty(), "the waiting page: {found:?}");

    call(v, &server, &citizen).await;
    let code = result(v, &citizen).await;
    activation(v, &server, &citizen, &code).await;
    citizen.close().await.expect("close");
}

/// The test call: the start button and its outcome come before the videos, the 10 s of
/// measurement show their progress, and the data received is said in kB or MB.
async fn test_call(v: &Visit, citizen: &Client) {
    eventually("the camera preview", || async {
        attr(citizen, "start", "disabled").await.is_none()
    })
    .await;
    assert!(
        top_difference(citizen, "start", "preview").await < 0.0,
        "the start button comes before the videos"
    );
    click(citizen, "#start").await;
    eventually("the measurement's progress shown", || async {
        attr(citizen, "measuring", "hidden").await.is_none()
            && (1.0..10.0).contains(
                &script_number(
                    citizen,
                    "return document.getElementById('measure-progress').value",
                )
                .await,
            )
    })
    .await;
    assert!(text(citizen, "measure-label").await.contains(" s"));
    v.shot(citizen, "2-test-call-measuring").await;
    eventually("Continue after media came back", || async {
        attr(citizen, "continue", "hidden").await.is_none()
    })
    .await;
    let bytes = text(citizen, "bytes").await;
    assert!(
        bytes.ends_with(" kB") || bytes.ends_with(" MB"),
        "data received in kB or MB: {bytes}"
    );
    assert!(
        top_difference(citizen, "continue", "results").await < 0.0,
        "Continue comes before the numbers"
    );
    v.shot(citizen, "2-test-call").await;
    citizen
        .execute(
            "document.getElementById('results').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    v.shot(citizen, "2-test-call-numbers").await;
    let found = violations(citizen).await;
    assert!(found.is_empty(), "the test call: {found:?}");
    click(citizen, "#continue").await;
}

/// The application: a wrong check letter is caught in the page first, and the red summary
/// goes as soon as the number is corrected.
async fn application(v: &Visit, citizen: &Client) {
    eventually("the application form", || async {
        citizen
            .current_url()
            .await
            .is_ok_and(|u| u.path() == "/apply")
    })
    .await;
    type_into(citizen, "id_number", "12345678A").await;
    type_into(citizen, "contrast", "15-03-2031").await;
    click(citizen, "#submit").await;
    let letter = v.pick("letra", "letter");
    eventually("the check-letter error", || async {
        text(citizen, "id_error").await.contains(letter)
    })
    .await;
    assert!(text(citizen, "summary").await.contains(letter));
    v.shot(citizen, "3-apply-error").await;
    type_into(citizen, "id_number", "12345678Z").await;
    eventually("the DNI help", || async {
        text(citizen, "contrast_label")
            .await
            .contains(v.pick("validez", "validity"))
    })
    .await;
    eventually("the summary cleared with the field's error", || async {
        attr(citizen, "summary", "hidden").await.is_some()
            && text(citizen, "id_error").await.is_empty()
    })
    .await;
    v.shot(citizen, "3-apply-corrected").await;
    click(citizen, "#submit").await;
    eventually("the application accepted", || async {
        citizen
            .current_url()
            .await
            .is_ok_and(|u| u.path() == "/queue")
    })
    .await;
}

/// The agent takes the call in the console; media flows both ways and survives an ICE
/// restart.
async fn call(v: &Visit, server: &crate::helpers::Server, citizen: &Client) {
    let (_agent_driver, agent) = browser_sized(true, (1280, 1000)).await;
    let password = demo_password(server, "agente");
    open_console(&agent, server, "agente", &password).await;
    take_and_accept(&agent).await;
    eventually("the agent's video at the citizen", || async {
        script_number(
            citizen,
            "return document.getElementById('remote').videoWidth",
        )
        .await
            > 0.0
    })
    .await;
    // Media both ways: bytes received grow on both sides.
    for (who, page) in [("citizen", citizen), ("agent", &agent)] {
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
    let before = ufrag(citizen).await.expect("an ICE user fragment");
    citizen
        .execute("window.videoregCall.restartIce()", vec![])
        .await
        .expect("restart ICE");
    eventually("new ICE credentials negotiated", || async {
        ufrag(citizen).await.is_some_and(|u| u != before)
    })
    .await;
    let after_restart = bytes_received(citizen).await;
    eventually("media after the ICE restart", || async {
        bytes_received(citizen).await > after_restart
    })
    .await;
    let title = citizen.title().await.expect("title");
    assert!(
        title.contains(v.pick("atienden", "turn")),
        "the title says it is the citizen's turn: {title}"
    );
    assert_eq!(current_step(citizen).await, "step-call");
    // The call is recorded: a discreet indicator says so (and survived the ICE restart).
    assert!(
        attr(citizen, "recording", "hidden").await.is_none(),
        "the recording indicator shows during the call"
    );
    v.shot(citizen, "5-call").await;
    typed_challenge(v, citizen, &agent).await;
    verify_and_approve(&agent, &format!("citizen-flow-{}", v.size.0)).await;
    eventually("the activation code", || async {
        attr(citizen, "approved", "hidden").await.is_none()
    })
    .await;
    agent.close().await.expect("close");
}

/// The live-person check as the citizen meets it: the agent issues a challenge, the page
/// shows the same code and an action large, a wrong code is refused with the tries left, and
/// the right one typed passes it in the console.
async fn typed_challenge(v: &Visit, citizen: &Client, agent: &Client) {
    let code = issue_challenge(agent).await;
    eventually("the challenge on the citizen's page", || async {
        attr(citizen, "challenge", "hidden").await.is_none()
    })
    .await;
    assert_eq!(text(citizen, "challenge-code").await, code);
    assert!(!text(citizen, "challenge-action").await.is_empty());
    assert!(
        !overflows(citizen, "challenge").await,
        "the challenge fits the screen"
    );
    v.shot(citizen, "5b-challenge").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    type_into(citizen, "challenge-input", wrong).await;
    click(citizen, "#challenge-form button").await;
    eventually("the wrong code refused", || async {
        text(citizen, "challenge-status").await.contains('2')
    })
    .await;
    type_into(citizen, "challenge-input", &code).await;
    click(citizen, "#challenge-form button").await;
    eventually("the challenge passed in the console", || async {
        challenge_passed(agent).await
    })
    .await;
    let status = text(citizen, "challenge-status").await;
    assert!(
        status.contains(v.pick("superada", "passed")),
        "the citizen is told it passed: {status}"
    );
    v.shot(citizen, "5c-challenge-passed").await;
}

/// Whether the element `id` is wider than the screen.
async fn overflows(c: &Client, id: &str) -> bool {
    script_number(
        c,
        &format!(
            "const r = document.getElementById({id:?}).getBoundingClientRect(); return r.right > document.documentElement.clientWidth + 1 ? 1 : 0"
        ),
    )
    .await
        == 1.0
}

/// The result: the code on one line or broken only at its dashes, the last step marked, and
/// all of it still there after a reload. Returns the code.
async fn result(v: &Visit, citizen: &Client) -> String {
    let code = text(citizen, "code").await;
    assert_eq!(code.len(), 19, "{code}");
    assert_eq!(current_step(citizen).await, "step-done");
    let layout = code_layout(citizen).await;
    assert_eq!(layout.text, code);
    assert!(
        layout.breaks_not_at_dash.is_empty() && !layout.overflows,
        "the code breaks only at dashes, inside the screen: {layout:?}"
    );
    if v.size.0 >= 360 {
        assert_eq!(layout.lines, 1, "the code fits one line: {layout:?}");
    }
    assert_eq!(
        attr(citizen, "receipt-code", "value").await.as_deref(),
        Some(code.as_str())
    );
    assert_eq!(
        attr(citizen, "receipt-id", "value").await.as_deref(),
        Some("12345678Z")
    );
    v.shot(citizen, "6-approved").await;
    let found = violations(citizen).await;
    assert!(found.is_empty(), "the result page: {found:?}");

    citizen.refresh().await.expect("reload");
    eventually("the result after a reload", || async {
        attr(citizen, "approved", "hidden").await.is_none() && text(citizen, "code").await == code
    })
    .await;
    assert_eq!(current_step(citizen).await, "step-done");
    v.shot(citizen, "6-approved-reloaded").await;

    // The receipt, with the code (chosen by default), as the page's form posts it.
    let pdf = citizen
        .execute_async(RECEIPT_JS, vec![])
        .await
        .expect("the receipt");
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(pdf.as_str().expect("base64"))
        .expect("decodes");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let text = pdf_text(&pdf);
    let registration = attr(citizen, "code", "data-registration")
        .await
        .unwrap_or_default();
    let reference_start: String = registration.to_ascii_uppercase().chars().take(4).collect();
    assert!(text.contains("*****678Z"), "masked ID in {text}");
    assert!(text.contains(&reference_start), "reference in {text}");
    assert!(text.contains(&code), "the code, as chosen, in {text}");
    code
}

/// Permanent Cl@ve: the result page's link opens the form with the ID number and the code
/// already in (never through the URL), Back shows the code again, then a new password and
/// signing in with it.
async fn activation(v: &Visit, server: &crate::helpers::Server, citizen: &Client, code: &str) {
    click(citizen, "#activate-link").await;
    eventually("the activation form, filled in", || async {
        field_value(citizen, "code").await == code
            && field_value(citizen, "id_number").await == "12345678Z"
    })
    .await;
    let url = citizen.current_url().await.expect("url");
    assert!(
        !url.as_str().contains(code) && !url.as_str().contains("12345678Z"),
        "{url}"
    );
    v.shot(citizen, "7-activate-prefilled").await;
    let found = violations(citizen).await;
    assert!(found.is_empty(), "the activation page: {found:?}");

    citizen.back().await.expect("back");
    eventually("the result again after Back", || async {
        attr(citizen, "approved", "hidden").await.is_none() && text(citizen, "code").await == code
    })
    .await;
    v.shot(citizen, "7-back-to-result").await;
    click(citizen, "#activate-link").await;
    eventually("the activation form, filled in again", || async {
        field_value(citizen, "code").await == code
    })
    .await;
    type_into(citizen, "password", "Cuaderno-azul-7").await;
    type_into(citizen, "repeat", "Cuaderno-azul-7").await;
    click(citizen, "form button[type=submit]").await;
    let activated = v.pick(
        "Su Cl@ve Permanente está activada",
        "Your Permanent Cl@ve is activated",
    );
    eventually("the password set", || async {
        citizen.source().await.is_ok_and(|s| s.contains(activated))
    })
    .await;
    v.shot(citizen, "8-activated").await;
    citizen
        .goto(&server.url(&format!("/login?lang={}", v.lang)))
        .await
        .expect("sign-in page");
    type_into(citizen, "id_number", "12345678Z").await;
    type_into(citizen, "password", "Cuaderno-azul-7").await;
    click(citizen, "form button[type=submit]").await;
    let signed_in = v.pick("Su registro en Cl@ve", "Your Cl@ve registration");
    eventually("the registration shown", || async {
        citizen
            .source()
            .await
            .is_ok_and(|s| s.contains(signed_in) && s.contains("Lucía Martín Ficticia"))
    })
    .await;
    v.shot(citizen, "9-signed-in").await;
}
