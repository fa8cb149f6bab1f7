//! The second review as its people do it, in Chromium: the demo's reviewer (`agente2`) finds
//! the approval at `/staff/reviews`, opens its decision page, plays the recording and flags
//! it; the citizen's activation page then says the registration is under review; an auditor
//! clears the flag. Screenshots go to `target/screenshots/`.

use fantoccini::{Client, Locator};

use crate::chromium::{browser_sized, click, eventually, screenshot_path, script_number};
use crate::console_steps::{demo_password, sign_in};
use crate::helpers::Server;

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path(name), png).expect("screenshot");
}

/// The page's text (empty while a new page loads).
async fn body(c: &Client) -> String {
    c.execute(
        "return document.body ? document.body.innerText : ''",
        vec![],
    )
    .await
    .ok()
    .and_then(|v| v.as_str().map(str::to_owned))
    .unwrap_or_default()
}

/// Flags the approval on `ticket` as `agente2`, and checks that `code` no longer activates.
pub async fn flag_as_reviewer(server: &Server, ticket: &str, code: &str) {
    let (_driver, reviewer) = browser_sized(false, (1280, 1000)).await;
    sign_in(
        &reviewer,
        &server.base,
        "agente2",
        &demo_password(server, "agente2"),
    )
    .await;
    reviewer
        .goto(&server.url("/staff/reviews?lang=en"))
        .await
        .expect("reviews");
    let list = body(&reviewer).await;
    assert!(list.contains("agent in their first approvals"), "{list}");
    click(&reviewer, &format!("a[href='/staff/decisions/{ticket}']")).await;
    reviewer
        .execute(
            "const v = document.querySelector('video'); v.muted = true; v.play();",
            vec![],
        )
        .await
        .expect("play");
    eventually("the recording plays for the reviewer", || async {
        script_number(
            &reviewer,
            "const v = document.querySelector('video'); return v.readyState >= 3 && v.currentTime > 0.3 ? 1 : 0",
        )
        .await
            == 1.0
    })
    .await;
    shot(&reviewer, "review-decision-en.png").await;
    reviewer
        .find(Locator::Css("#review-reason option[value='face_mismatch']"))
        .await
        .expect("reason")
        .click()
        .await
        .expect("choose");
    click(&reviewer, "button[name=outcome][value=flag]").await;
    eventually("back at the list, nothing waiting", || async {
        body(&reviewer).await.contains("Nothing is waiting")
    })
    .await;
    reviewer.close().await.expect("close");

    // The citizen tries to activate: told, in plain words, that it is under review.
    let (_driver, citizen) = browser_sized(false, (360, 800)).await;
    citizen
        .goto(&server.url("/activate?lang=en"))
        .await
        .expect("activate");
    for (id, value) in [
        ("id_number", "12345678Z"),
        ("code", code),
        ("password", "Verde-Mar-2026"),
        ("repeat", "Verde-Mar-2026"),
    ] {
        let f = citizen.find(Locator::Id(id)).await.expect("field");
        f.send_keys(value).await.expect("type");
    }
    click(&citizen, "form button[type=submit]").await;
    eventually("the under-review message", || async {
        body(&citizen)
            .await
            .contains("Your registration is under review")
    })
    .await;
    shot(&citizen, "activation-under-review-360-en.png").await;
    citizen.close().await.expect("close");
}

/// Clears the flag on `ticket` as the demo's auditor.
pub async fn clear_as_auditor(server: &Server, ticket: &str) {
    let (_driver, auditor) = browser_sized(false, (1280, 1000)).await;
    sign_in(
        &auditor,
        &server.base,
        "auditora",
        &demo_password(server, "auditora"),
    )
    .await;
    auditor
        .goto(&server.url("/staff/reviews?lang=en"))
        .await
        .expect("flags");
    assert!(body(&auditor).await.contains("does not clearly match"));
    auditor
        .goto(&server.url(&format!("/staff/decisions/{ticket}?lang=en")))
        .await
        .expect("decision");
    let note = auditor
        .find(Locator::Id("resolve-note"))
        .await
        .expect("note");
    note.send_keys("Same person: checked against the registry photo")
        .await
        .expect("type");
    shot(&auditor, "review-resolve-en.png").await;
    click(&auditor, "button[name=resolution][value=clear]").await;
    eventually("the flag cleared", || async {
        body(&auditor).await.contains("flag cleared by an auditor")
    })
    .await;
    auditor.close().await.expect("close");
}
