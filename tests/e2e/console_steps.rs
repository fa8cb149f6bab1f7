//! The agent's steps in the console, shared by the end-to-end tests: sign in, become
//! available, take and accept the next citizen, take the three stills from the citizen's
//! video, tick the checklist, pass the live-person check and approve.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, Locator};

use crate::chromium::{attr, click, eventually, screenshot_path, script_number, text};
use crate::helpers::Server;

/// The password the demo printed for `name`.
pub fn demo_password(server: &Server, name: &str) -> String {
    server
        .banner
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .expect("the demo prints the account's password")
        .to_owned()
}

/// Signs in (second factor off) and opens the console, available.
pub async fn open_console(agent: &Client, server: &Server, name: &str, password: &str) {
    open_console_at(agent, &server.base, name, password).await;
}

/// [`open_console`] at `base` (`http://host:port`: a node, or a balancer in front of nodes).
pub async fn open_console_at(agent: &Client, base: &str, name: &str, password: &str) {
    sign_in_to_console(agent, base, name, password).await;
    click(agent, "#go-available").await;
    eventually("available", || async {
        attr(agent, "state", "data-state").await.as_deref() == Some("available")
    })
    .await;
}

/// Signs a member of staff in (second factor off), in English; waits for the staff home.
pub async fn sign_in(c: &Client, base: &str, name: &str, password: &str) {
    c.goto(&format!("{base}/staff/login?lang=en"))
        .await
        .expect("login page");
    let field = c.find(Locator::Id("name")).await.expect("name");
    field.send_keys(name).await.expect("type");
    let field = c.find(Locator::Id("password")).await.expect("password");
    field.send_keys(password).await.expect("type");
    click(c, "form button[type=submit]").await;
    eventually("signed in", || async {
        c.current_url().await.is_ok_and(|u| u.path() == "/staff")
    })
    .await;
}

/// Signs in (second factor off) and opens the console in English, as it first is: offline.
pub async fn sign_in_to_console(agent: &Client, base: &str, name: &str, password: &str) {
    sign_in(agent, base, name, password).await;
    agent
        .goto(&format!("{base}/staff/console?lang=en"))
        .await
        .expect("console");
    eventually("the console connected and told its state", || async {
        attr(agent, "console", "data-connected").await.as_deref() == Some("true")
            && attr(agent, "state", "data-state").await.as_deref() == Some("offline")
    })
    .await;
}

/// Presses and releases `key` on whatever has the focus.
pub async fn press(agent: &Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    agent.perform_actions(keys).await.expect("press a key");
}

/// Takes the next citizen and accepts; waits for their video and the call's details.
pub async fn take_and_accept(agent: &Client) {
    click(agent, "#take-next").await;
    eventually("the citizen offered", || async {
        attr(agent, "offer", "hidden").await.is_none()
    })
    .await;
    click(agent, "#accept").await;
    eventually("the citizen's video in the console", || async {
        script_number(agent, "return document.getElementById('remote').videoWidth").await > 0.0
    })
    .await;
    eventually("the call's details", || async {
        script_number(
            agent,
            "return document.querySelectorAll('#details dt').length",
        )
        .await
            >= 5.0
    })
    .await;
}

/// Captures the three stills, ticks every item, screenshots the console as
/// `console-{shot}.png` and approves.
pub async fn verify_and_approve(agent: &Client, shot: &str) {
    for (i, kind) in ["document_front", "document_back", "face"]
        .into_iter()
        .enumerate()
    {
        click(agent, &format!("button.capture[data-kind={kind}]")).await;
        eventually("the still's thumbnail", || async {
            script_number(
                agent,
                "return document.querySelectorAll('#stills img').length",
            )
            .await
                >= (i + 1) as f64
        })
        .await;
    }
    let boxes = agent
        .find_all(Locator::Css("#checklist input[name=check]"))
        .await
        .expect("checkboxes");
    assert_eq!(boxes.len(), 8);
    for b in boxes {
        b.click().await.expect("tick");
    }
    if !challenge_passed(agent).await {
        let missing = text(agent, "missing").await;
        assert!(
            missing.contains("live-person check") || missing.contains("persona real"),
            "the summary names the missing check: {missing}"
        );
        heard_challenge(agent).await;
    }
    eventually("approval enabled", || async {
        attr(agent, "approve", "disabled").await.is_none()
    })
    .await;
    // The call script has every line ticked but the closing, which is the current one.
    assert_eq!(
        script_steps(agent).await,
        serde_json::json!(["greeting", "recording", "front", "hologram", "back", "face"])
    );
    assert_eq!(current_step(agent).await, serde_json::json!("closing"));
    let png = agent.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path(&format!("console-{shot}.png")), png).expect("screenshot");
    click(agent, "#approve").await;
}

/// Whether the console shows the call's live-person challenge as passed.
pub async fn challenge_passed(agent: &Client) -> bool {
    script_number(
        agent,
        "return document.getElementById('challenge-passed').checked ? 1 : 0",
    )
    .await
        == 1.0
}

/// Issues a live-person challenge and waits until the console shows its code; returns it.
pub async fn issue_challenge(agent: &Client) -> String {
    click(agent, "#challenge-issue").await;
    eventually("the challenge's code in the console", || async {
        attr(agent, "challenge-live", "hidden").await.is_none()
            && !text(agent, "challenge-code").await.is_empty()
    })
    .await;
    text(agent, "challenge-code").await
}

/// Issues a challenge and ticks "code heard", as an agent does when the citizen says it.
pub async fn heard_challenge(agent: &Client) {
    issue_challenge(agent).await;
    click(agent, "#challenge-heard").await;
    eventually("the challenge passed in the console", || async {
        challenge_passed(agent).await
    })
    .await;
}

/// The call script's lines ticked as done, in order.
pub async fn script_steps(agent: &Client) -> serde_json::Value {
    agent
        .execute(
            "return [...document.querySelectorAll('#script li[data-done=true]')].map((li) => li.dataset.step)",
            vec![],
        )
        .await
        .expect("script steps")
}

/// The call script's current line.
pub async fn current_step(agent: &Client) -> serde_json::Value {
    agent
        .execute(
            "const li = document.querySelector('#script li[aria-current]'); return li ? li.dataset.step : null",
            vec![],
        )
        .await
        .expect("current step")
}
