//! Silent monitoring as a supervisor does it, in Chromium: the demo's supervisor opens the
//! dashboard, presses "Watch the call" on the agent in a call, sees both sides' video play,
//! sends the agent a hint; the agent's console shows "supervisor watching" and the hint; the
//! supervisor stops and the console's notice goes. Screenshots go to `target/screenshots/`.

use fantoccini::{Client, Locator};

use crate::chromium::{attr, browser_sized, click, eventually, screenshot_path, script_number};
use crate::console_steps::{demo_password, sign_in};
use crate::helpers::Server;

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path(name), png).expect("screenshot");
}

/// Whether video `id` plays: frames decoded and time moving.
async fn playing(c: &Client, id: &str) -> bool {
    let js = format!(
        "const v = document.getElementById({id:?}); return v && v.videoWidth > 0 && v.currentTime > 0.2 ? 1 : 0"
    );
    script_number(c, &js).await == 1.0
}

/// Watches `agent`'s live call as the demo's supervisor, whispers, and stops.
pub async fn watch_the_call(server: &Server, agent: &Client) {
    let (_driver, sup) = browser_sized(true, (1280, 1000)).await;
    let password = demo_password(server, "supervisora");
    sign_in(&sup, &server.base, "supervisora", &password).await;
    sup.goto(&server.url("/supervisor?lang=en"))
        .await
        .expect("dashboard");
    eventually("the agent in a call, with a Watch button", || async {
        script_number(
            &sup,
            "return document.querySelectorAll('button.watch').length",
        )
        .await
            >= 1.0
    })
    .await;
    // The table is redrawn every second: click in one step.
    sup.execute("document.querySelector('button.watch').click()", vec![])
        .await
        .expect("watch");
    eventually("both sides' video on the supervisor's page", || async {
        playing(&sup, "monitor-citizen").await && playing(&sup, "monitor-agent-video").await
    })
    .await;
    eventually("the console says a supervisor is watching", || async {
        attr(agent, "watched", "hidden").await.is_none()
    })
    .await;
    let hint = sup.find(Locator::Id("whisper-text")).await.expect("hint");
    hint.send_keys("Ask them to tilt the document towards the light.")
        .await
        .expect("type");
    click(&sup, "#whisper button[type=submit]").await;
    eventually("the hint in the console", || async {
        attr(agent, "whispers", "hidden").await.is_none()
    })
    .await;
    shot(&sup, "supervisor-watching-en.png").await;
    shot(agent, "console-watched-en.png").await;
    click(&sup, "#monitor-stop").await;
    eventually("the console's notice gone", || async {
        attr(agent, "watched", "hidden").await.is_some()
    })
    .await;
    sup.close().await.expect("close");
}
