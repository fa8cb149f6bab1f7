//! Real headless Chromium with a fake camera and microphone, driven over WebDriver
//! (chromedriver + fantoccini), against the real binary. Screenshots go to
//! `target/screenshots/` for people to look at.

use fantoccini::Locator;

use crate::chromium::{attr, browser, eventually, screenshot_path, text};
use crate::helpers::{Server, scratch_dir, sqlite_url, start};

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
    // The page shows kB or MB; the exact count is in `data-bytes`.
    let bytes = || async {
        attr(&c, "bytes", "data-bytes")
            .await
            .and_then(|b| b.parse::<u64>().ok())
            .unwrap_or(0)
    };
    eventually("media coming back", || async { bytes().await > 0 }).await;
    let first_bytes = bytes().await;
    eventually("received bytes growing", || async {
        bytes().await > first_bytes
    })
    .await;
    assert!(text(&c, "bytes").await.ends_with("kB") || text(&c, "bytes").await.ends_with("MB"));
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
