//! Real headless Chromium with a fake camera and microphone, driven over WebDriver
//! (chromedriver + fantoccini), against the real binary. Screenshots go to
//! `target/screenshots/` for people to look at.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::{Server, scratch_dir, sqlite_url, start};

/// A step in the browser never waits longer than this.
const STEP: Duration = Duration::from_secs(45);

/// chromedriver on a free port and a WebDriver session in headless Chromium. Fails (never
/// skips) if either is missing: scripts/test installs them.
async fn browser(allow_media: bool) -> (Child, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver (Debian package chromium-driver) must be installed: scripts/test installs it");
    let status = format!("http://127.0.0.1:{port}/status");
    let ready = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if reqwest::get(&status)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(ready.is_ok(), "chromedriver did not start");
    let profile = scratch_dir().join("chromium-profile");
    let mut args = vec![
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--window-size=360,900".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        "--use-fake-device-for-media-stream".to_owned(),
        "--allow-loopback-in-peer-connection".to_owned(),
    ];
    if allow_media {
        args.push("--use-fake-ui-for-media-stream".to_owned());
    } else {
        args.push("--deny-permission-prompts".to_owned());
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": "/usr/lib/chromium/chromium", "args": args }),
    );
    let client = tokio::time::timeout(
        STEP,
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}")),
    )
    .await
    .expect("browser session in time")
    .expect("browser session");
    (driver, client)
}

async fn server() -> Server {
    let dir = scratch_dir();
    start(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--media-ports",
            "42000-42199",
            "--database-url",
            &sqlite_url(&dir),
        ],
        &[],
    )
    .await
}

async fn text(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id))
        .await
        .expect("element")
        .text()
        .await
        .expect("text")
}

async fn attr(c: &Client, id: &str, name: &str) -> Option<String> {
    c.find(Locator::Id(id))
        .await
        .expect("element")
        .attr(name)
        .await
        .expect("attribute")
}

/// Polls the page until `check` holds, within `STEP`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let done = tokio::time::timeout(STEP, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(done.is_ok(), "{what} did not happen within {STEP:?}");
}

fn screenshot_path(name: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.parent()
                .and_then(|d| d.parent())
                .and_then(|d| d.parent())
                .map(|t| t.join("screenshots"))
        })
        .unwrap_or_else(|| PathBuf::from("target/screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir.join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_call_page_gets_the_fake_camera_back_and_gives_a_verdict() {
    let server = server().await;
    let (_driver, c) = browser(true).await;
    c.goto(&server.url("/test-call?lang=es"))
        .await
        .expect("open the page");
    eventually("the camera preview", || async {
        attr(&c, "start", "disabled").await.is_none()
    })
    .await;
    c.find(Locator::Id("start"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    eventually("media coming back", || async {
        text(&c, "bytes").await.parse::<u64>().unwrap_or(0) > 0
    })
    .await;
    let first_bytes: u64 = text(&c, "bytes").await.parse().unwrap_or(0);
    eventually("received bytes growing", || async {
        text(&c, "bytes").await.parse::<u64>().unwrap_or(0) > first_bytes
    })
    .await;
    eventually("a verdict", || async {
        attr(&c, "verdict", "data-verdict")
            .await
            .is_some_and(|v| !v.is_empty())
    })
    .await;
    let verdict = attr(&c, "verdict", "data-verdict")
        .await
        .unwrap_or_default();
    assert!(
        ["good", "fair", "poor"].contains(&verdict.as_str()),
        "{verdict}"
    );
    assert!(text(&c, "rtt").await.ends_with("ms"));
    assert!(
        attr(&c, "continue", "hidden").await.is_none(),
        "Continue appears once media came back"
    );
    let cont = c.find(Locator::Id("continue")).await.expect("continue");
    assert!(
        cont.is_displayed().await.expect("visibility"),
        "Continue is visible"
    );
    eventually("the test call's token kept for the application", || async {
        c.execute(
            "return sessionStorage.getItem('videoreg.test_call')",
            vec![],
        )
        .await
        .is_ok_and(|v| v.as_str().is_some_and(|t| t.len() >= 43))
    })
    .await;
    c.execute(
        "document.getElementById('results').scrollIntoView()",
        vec![],
    )
    .await
    .expect("scroll");
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path("test-call-es.png"), png).expect("write screenshot");
    c.close().await.expect("close the browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_camera_refused_the_page_says_how_to_allow_it() {
    let server = server().await;
    let (_driver, c) = browser(false).await;
    c.goto(&server.url("/test-call?lang=en"))
        .await
        .expect("open the page");
    eventually("the refusal message", || async {
        attr(&c, "message", "data-key").await.as_deref() == Some("denied")
    })
    .await;
    assert!(text(&c, "message").await.contains("not allowed"));
    assert!(
        attr(&c, "start", "disabled").await.is_some(),
        "no test without a camera"
    );
    let cont = c.find(Locator::Id("continue")).await.expect("continue");
    assert!(
        !cont.is_displayed().await.expect("visibility"),
        "no Continue without a test"
    );
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path("test-call-denied-en.png"), png).expect("write screenshot");
    c.close().await.expect("close the browser");
}
