//! Headless Chromium for the end-to-end tests: chromedriver on a free port, a WebDriver
//! session with a fake camera and microphone, and bounded waits on the page.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::scratch_dir;

/// A step in the browser never waits longer than this.
pub const STEP: Duration = Duration::from_secs(45);

/// A running chromedriver. Dropped, it ends its whole process group: chromedriver and the
/// browsers it started, also when a test fails before closing its session (killing
/// chromedriver alone left its Chromium running, adopted by init).
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.0.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// chromedriver on a free port and a WebDriver session in headless Chromium. Fails (never
/// skips) if either is missing: scripts/test installs them.
pub async fn browser(allow_media: bool) -> (Driver, Client) {
    browser_sized(allow_media, (360, 900)).await
}

/// The same, with a window of `width`×`height` CSS pixels.
pub async fn browser_sized(allow_media: bool, size: (u32, u32)) -> (Driver, Client) {
    browser_with(&Launch {
        allow_media,
        size,
        ..Launch::default()
    })
    .await
}

/// How to start a browser for a test.
#[derive(Debug, Clone)]
pub struct Launch<'a> {
    /// Camera and microphone granted (else refused).
    pub allow_media: bool,
    /// The window's `width`×`height` in CSS pixels.
    pub size: (u32, u32),
    /// A network namespace to run chromedriver and Chromium in (`crate::netns`).
    pub netns: Option<&'a crate::netns::BrowserNet>,
    /// More Chromium switches.
    pub extra_args: Vec<String>,
}

impl Default for Launch<'_> {
    fn default() -> Self {
        Self {
            allow_media: true,
            size: (360, 900),
            netns: None,
            extra_args: Vec::new(),
        }
    }
}

/// chromedriver and a WebDriver session in headless Chromium, as `launch` says.
pub async fn browser_with(launch: &Launch<'_>) -> (Driver, Client) {
    let (width, height) = launch.size;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let mut command = match launch.netns {
        // In the namespace, reachable from the test on the namespace's address.
        Some(net) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &net.name, "chromedriver"])
                .arg(format!("--allowed-ips={}", net.host_ip))
                .arg("--allowed-origins=*");
            c
        }
        None => Command::new("chromedriver"),
    };
    let driver = command
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group, which the browsers it starts join: see `Driver`.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver (Debian package chromium-driver) must be installed: scripts/test installs it");
    let driver = Driver(driver);
    let host = launch.netns.map_or("127.0.0.1", |net| net.ns_ip.as_str());
    let base = format!("http://{host}:{port}");
    let status = format!("{base}/status");
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
        format!("--window-size={width},{height}"),
        format!("--user-data-dir={}", profile.display()),
        "--use-fake-device-for-media-stream".to_owned(),
        "--allow-loopback-in-peer-connection".to_owned(),
    ];
    if launch.allow_media {
        args.push("--use-fake-ui-for-media-stream".to_owned());
    } else {
        args.push("--deny-permission-prompts".to_owned());
    }
    args.extend(launch.extra_args.iter().cloned());
    let mut caps = serde_json::Map::new();
    let mut options = json!({ "binary": "/usr/lib/chromium/chromium", "args": args });
    // A desktop window is never narrower than 500 px: phone widths are emulated instead.
    if width < 500 {
        options["mobileEmulation"] =
            json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0 } });
    }
    caps.insert("goog:chromeOptions".into(), options);
    let client = tokio::time::timeout(
        STEP,
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&base),
    )
    .await
    .expect("browser session in time")
    .expect("browser session");
    (driver, client)
}

pub async fn text(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id))
        .await
        .expect("element")
        .text()
        .await
        .expect("text")
}

pub async fn attr(c: &Client, id: &str, name: &str) -> Option<String> {
    c.find(Locator::Id(id))
        .await
        .expect("element")
        .attr(name)
        .await
        .expect("attribute")
}

/// Polls the page until `check` holds, within `STEP`.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
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

pub fn screenshot_path(name: &str) -> PathBuf {
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

/// Clicks the element matching `css`.
pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// A number the page's script returns (0 when it returns none).
pub async fn script_number(c: &Client, js: &str) -> f64 {
    c.execute(js, vec![])
        .await
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
}
