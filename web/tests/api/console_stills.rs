//! Document stills through the real server: accepted and re-encoded, refused without a
//! large allocation, and readable only by the agent whose call it is and by auditors.

use store::StaffRole;

use crate::console_helpers::{browser_json, contains, jpeg_with_exif, png, png_claiming};
use crate::helpers::spawn_app;

#[tokio::test]
async fn png_and_jpeg_stills_are_accepted_and_re_encoded_without_exif() {
    let app = spawn_app().await;
    let call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let (status, body) = call
        .upload(&app, "document_front", png(640, 480), &call.csrf)
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["width"].as_u64(), body["height"].as_u64()),
        (Some(640), Some(480))
    );
    let (status, body) = call
        .upload(
            &app,
            "face",
            jpeg_with_exif(b"secret-gps-position"),
            &call.csrf,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id");
    let (still, stored) = app
        .store
        .still_bytes(id, false)
        .await
        .expect("read")
        .expect("stored");
    assert!(
        !contains(&stored, b"secret-gps-position"),
        "metadata is gone"
    );
    assert!(!contains(&stored, b"Exif"));
    assert_eq!(still.sha256, store::secrets::sha256_hex(&stored));
    assert_eq!(body["sha256"], still.sha256.as_str());
    // The agent reads it back as a JPEG; the audit trail names its hash.
    let r = app
        .client
        .get(app.url(&format!("/staff/stills/{id}/thumbnail")))
        .header("cookie", call.browser.cookie_header())
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let events = call.audit(&app).await;
    assert!(
        events
            .iter()
            .any(|e| e.action == "still.captured" && e.detail.contains(&still.sha256))
    );
}

#[tokio::test]
async fn broken_forged_and_oversized_uploads_are_refused() {
    let app = spawn_app().await;
    let call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let mut truncated = png(200, 200);
    truncated.truncate(truncated.len() / 2);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("truncated PNG", truncated, 422),
        (
            "wrong magic number",
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            422,
        ),
        (
            "a PNG claiming 30000×30000 pixels",
            png_claiming(30_000, 30_000),
            422,
        ),
        ("an empty body", Vec::new(), 422),
        ("9 MiB", vec![0x89; 9 * 1024 * 1024], 413),
    ];
    for (what, bytes, expected) in cases {
        let (status, body) = call.upload(&app, "document_back", bytes, &call.csrf).await;
        assert_eq!(status, expected, "{what}: {body}");
    }
    assert!(
        app.store
            .stills_for_ticket(&call.ticket)
            .await
            .expect("read")
            .is_empty()
    );
    let (status, _) = call
        .upload(&app, "document_back", png(8, 8), "wrong-token")
        .await;
    assert_eq!(status, 403, "the CSRF token is checked");
    let (status, _) = call.upload(&app, "passport", png(8, 8), &call.csrf).await;
    assert_eq!(status, 404, "unknown kinds are refused");
}

#[tokio::test]
async fn only_the_agent_in_the_call_and_auditors_see_a_still() {
    let app = spawn_app().await;
    let call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let (_, body) = call.upload(&app, "face", png(32, 32), &call.csrf).await;
    let path = format!("/staff/stills/{}", body["id"].as_str().expect("id"));
    let mut signed_in = Vec::new();
    for (name, role, expected) in [
        ("bea", StaffRole::Agent, 404),
        ("sara", StaffRole::Supervisor, 403),
        ("olga", StaffRole::Auditor, 200),
    ] {
        app.add_staff(name, role).await;
        let mut b = app.browser();
        b.sign_in(name).await;
        let (status, _) = browser_json(&app, &b, "GET", &path, None).await;
        assert_eq!(status, expected, "{name}");
        signed_in.push(b);
    }
    // Another agent cannot upload into ana's call either.
    let mut bea = signed_in.swap_remove(0);
    let csrf = bea.session_csrf().await;
    let r = app
        .client
        .post(app.url(&format!("/staff/calls/{}/stills/face", call.ticket)))
        .header("cookie", bea.cookie_header())
        .header("x-csrf-token", csrf)
        .body(png(8, 8))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status().as_u16(), 409);
}

/// A fixture of `agent-console/tests/fixtures/stills/`.
fn card(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../agent-console/tests/fixtures/stills/{name}.png",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn a_stills_sharpness_and_glare_are_measured_on_upload_and_listed_with_the_call() {
    let app = spawn_app().await;
    let call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let mut verdicts = Vec::new();
    for (kind, fixture) in [
        ("document_front", "sharp"),
        ("document_back", "blurred"),
        ("face", "glare"),
    ] {
        let (status, body) = call.upload(&app, kind, card(fixture), &call.csrf).await;
        assert_eq!(status, 201, "{body}");
        verdicts.push(body["quality"]["verdict"].as_str().map(str::to_owned));
    }
    let expected = ["good", "blurred", "glare"].map(|v| Some(v.to_owned()));
    assert_eq!(verdicts, expected);
    // The call's details list the same figures, as stored (in any order: the test clock
    // stands still).
    let (status, details) =
        browser_json(&app, &call.browser, "GET", "/staff/console/call", None).await;
    assert_eq!(status, 200, "{details}");
    let stills = details["stills"].as_array().expect("stills");
    let of = |kind: &str| {
        stills
            .iter()
            .find(|s| s["kind"] == kind)
            .map(|s| s["quality"].clone())
            .unwrap_or_default()
    };
    let listed = ["document_front", "document_back", "face"]
        .map(|k| of(k)["verdict"].as_str().map(str::to_owned));
    assert_eq!(listed, expected);
    assert!(of("document_front")["sharpness"].as_u64() > of("document_back")["sharpness"].as_u64());
}
