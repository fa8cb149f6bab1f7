//! An agent in a call with a citizen, as the console sees it, and the images the still tests
//! upload (made here with `image`, with EXIF added or headers forged by hand).

use chrono::{DateTime, Utc};
use image::{ImageEncoder, RgbImage};
use serde_json::Value;
use store::StaffRole;

use crate::helpers::TestApp;
use crate::staff_helpers::Browser;
use crate::ws_helpers::Ws;

/// A citizen in a call with agent `name`, the agent's console socket and signed-in browser,
/// its CSRF token and the ticket.
pub struct Call<'a> {
    pub citizen: Ws,
    /// The citizen's resume token.
    pub citizen_resume_token: String,
    pub agent: Ws,
    pub browser: Browser<'a>,
    pub csrf: String,
    pub ticket: String,
}

impl TestApp {
    /// The citizen `id_number` (a demo identity) joins; agent `name` takes and accepts them.
    pub async fn call_with(&self, name: &str, id_number: &str, contrast: &str) -> Call<'_> {
        let token = self.application(id_number, contrast).await;
        let mut citizen = self.citizen().await;
        citizen
            .send(serde_json::json!({ "type": "join", "application": token, "consent": true }))
            .await;
        let queued = citizen.until("queued").await;
        let citizen_resume_token = queued["resume_token"]
            .as_str()
            .expect("resume token")
            .to_owned();
        if self
            .store
            .find_staff_by_name(name)
            .await
            .expect("find")
            .is_none()
        {
            self.add_staff(name, StaffRole::Agent).await;
        }
        let mut browser = self.browser();
        browser.sign_in(name).await;
        let csrf = browser.session_csrf().await;
        let mut agent = self
            .try_ws(
                "/ws/agent",
                Some(&self.base),
                Some(&browser.cookie_header()),
            )
            .await
            .expect("console");
        agent.send(serde_json::json!({ "type": "take_next" })).await;
        agent.until("offered").await;
        agent.send(serde_json::json!({ "type": "accept" })).await;
        agent.until("call_started").await;
        citizen.until("call_started").await;
        let (status, details) =
            browser_json(self, &browser, "GET", "/staff/console/call", None).await;
        assert_eq!(status, 200, "{details}");
        let ticket = details["ticket"].as_str().expect("ticket").to_owned();
        Call {
            citizen,
            citizen_resume_token,
            agent,
            browser,
            csrf,
            ticket,
        }
    }
}

/// A request with the browser's cookies; `body` is JSON. Returns status and JSON (or Null).
pub async fn browser_json(
    app: &TestApp,
    browser: &Browser<'_>,
    method: &str,
    path: &str,
    body: Option<(&str, Value)>,
) -> (u16, Value) {
    let mut r = match method {
        "GET" => app.client.get(app.url(path)),
        _ => app.client.post(app.url(path)),
    }
    .header("accept", "application/json")
    .header("cookie", browser.cookie_header());
    if let Some((csrf, json)) = body {
        r = r.header("x-csrf-token", csrf).json(&json);
    }
    let r = r.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

impl Call<'_> {
    /// Uploads a still; returns status and JSON.
    pub async fn upload(
        &self,
        app: &TestApp,
        kind: &str,
        bytes: Vec<u8>,
        csrf: &str,
    ) -> (u16, Value) {
        let r = app
            .client
            .post(app.url(&format!("/staff/calls/{}/stills/{kind}", self.ticket)))
            .header("cookie", self.browser.cookie_header())
            .header("x-csrf-token", csrf)
            .header("content-type", "image/png")
            .body(bytes)
            .send()
            .await
            .expect("upload");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Posts a decision; returns status and JSON.
    pub async fn decide(&self, app: &TestApp, body: Value) -> (u16, Value) {
        let path = format!("/staff/calls/{}/decision", self.ticket);
        browser_json(app, &self.browser, "POST", &path, Some((&self.csrf, body))).await
    }

    /// Rejects the call for an expired document, as an agent would; fails the test unless
    /// the decision is recorded.
    pub async fn reject_expired(&self, app: &TestApp) -> Value {
        let decision = serde_json::json!({ "decision": "reject", "reason": "document_expired" });
        let (status, body) = self.decide(app, decision).await;
        assert_eq!(status, 200, "the rejection is recorded: {body}");
        body
    }

    /// Issues a live-person challenge as the agent; returns status and JSON.
    pub async fn challenge(&self, app: &TestApp) -> (u16, Value) {
        let path = format!("/staff/calls/{}/challenge", self.ticket);
        browser_json(
            app,
            &self.browser,
            "POST",
            &path,
            Some((&self.csrf, serde_json::json!({}))),
        )
        .await
    }

    /// Issues a challenge and has the citizen type its code, as they would from the page;
    /// fails the test unless it passes.
    pub async fn pass_challenge(&mut self, app: &TestApp) {
        let (status, issued) = self.challenge(app).await;
        assert_eq!(status, 201, "{issued}");
        let shown = self.citizen.until("challenge").await;
        let id = shown["challenge"].clone();
        self.citizen
            .send(serde_json::json!({ "type": "challenge_answer", "challenge": id, "code": shown["code"] }))
            .await;
        let result = self.citizen.until("challenge_result").await;
        assert_eq!(result["result"], "passed", "{result}");
    }

    /// The audit events about the call's ticket.
    pub async fn audit(&self, app: &TestApp) -> Vec<store::AuditEvent> {
        app.store
            .audit_for_subject(&self.ticket)
            .await
            .expect("audit")
    }

    /// Takes all three stills.
    pub async fn take_every_still(&self, app: &TestApp) {
        for kind in ["document_front", "document_back", "face"] {
            let (status, body) = self.upload(app, kind, png(64, 48), &self.csrf).await;
            assert_eq!(status, 201, "{body}");
        }
    }
}

impl TestApp {
    /// Whether `id_number` has a registration.
    pub async fn is_registered(&self, id_number: &str) -> bool {
        self.store
            .registration_for(id_number)
            .await
            .expect("read")
            .is_some()
    }

    /// The activation code stored for `registration`: its hash, expiry and use.
    pub async fn stored_code(
        &self,
        registration: &str,
    ) -> (String, DateTime<Utc>, Option<DateTime<Utc>>) {
        self.store
            .activation_code_for(registration)
            .await
            .expect("read")
            .expect("stored")
    }
}

/// Every checklist item of the default rules.
pub const FULL_CHECKLIST: [&str; 8] = [
    "document_original",
    "data_match",
    "face_match",
    "hologram",
    "personalisation",
    "material",
    "security_print",
    "consent",
];

/// A PNG of `width`×`height` pixels.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .expect("encode PNG");
    out
}

/// A JPEG carrying an EXIF segment with `marker` in it.
pub fn jpeg_with_exif(marker: &[u8]) -> Vec<u8> {
    let img = RgbImage::from_pixel(64, 48, image::Rgb([10, 120, 200]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .write_image(img.as_raw(), 64, 48, image::ExtendedColorType::Rgb8)
        .expect("encode JPEG");
    let mut payload = b"Exif\0\0MM\0*".to_vec();
    payload.extend(marker);
    let mut out = plain[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(
        u16::try_from(payload.len() + 2)
            .expect("short")
            .to_be_bytes(),
    );
    out.extend(payload);
    out.extend(&plain[2..]);
    out
}

/// A tiny PNG whose header claims `width`×`height` pixels.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(&ihdr);
    out.extend(crc32fast::hash(&ihdr).to_be_bytes());
    let mut idat = b"IDAT".to_vec();
    idat.extend([0x78, 0x9c, 0x03, 0x00]);
    out.extend(4u32.to_be_bytes());
    out.extend(&idat);
    out.extend(crc32fast::hash(&idat).to_be_bytes());
    out
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
