//! `POST /receipt`: the PDF downloads with and without the code, its text (read back with
//! poppler's `pdftotext`) holds the reference and the masked ID, page 1 is rendered to PNG
//! for people to look at, and wrong pairs count like activation failures.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::TimeDelta;
use web::citizen::receipt::grouped_reference;

use crate::account_helpers::{AMINA, Answer, GOOD_PASSWORD, LUCIA, register};
use crate::helpers::{TestApp, spawn_app};

/// Runs a poppler tool; a missing tool fails the test with what to install.
fn poppler(tool: &str, args: &[&str]) -> std::process::Output {
    let output = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} is needed to read receipts back ({e}): install Debian's poppler-utils (scripts/test does)")
    });
    assert!(
        output.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `target/screenshots/NAME`, next to the other tests' screenshots.
fn screenshot_path(name: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.parent()
                .and_then(Path::parent)
                .and_then(Path::parent)
                .map(|t| t.join("screenshots"))
        })
        .unwrap_or_else(|| PathBuf::from("target/screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir.join(name)
}

/// The text of a PDF, through a temporary file.
fn pdf_text(pdf: &[u8], name: &str) -> String {
    let path = std::env::temp_dir().join(format!("{name}-{}.pdf", std::process::id()));
    std::fs::write(&path, pdf).expect("write the PDF");
    let out = poppler("pdftotext", &["-layout", path.to_str().expect("path"), "-"]);
    let _ = std::fs::remove_file(&path);
    String::from_utf8(out.stdout).expect("UTF-8 text")
}

async fn receipt(
    app: &TestApp,
    id: &str,
    code: &str,
    include_code: bool,
    lang: &str,
) -> (Answer, Vec<u8>) {
    let mut form = vec![("id_number", id), ("code", code), ("lang", lang)];
    if include_code {
        form.push(("include_code", "1"));
    }
    let r = app
        .client
        .post(app.url("/receipt"))
        .form(&form)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.expect("body").to_vec();
    let body = String::from_utf8_lossy(&bytes).into_owned();
    (
        Answer {
            status,
            headers,
            body,
        },
        bytes,
    )
}

#[tokio::test]
async fn the_receipt_downloads_without_the_code_unless_asked() {
    let app = spawn_app().await;
    let reg = register(&app, LUCIA, TimeDelta::days(30)).await;
    let code = reg.code.to_string();
    let (answer, pdf) = receipt(&app, LUCIA, &code, false, "es").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let header = |name: &str| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("application/pdf"));
    assert_eq!(
        header("content-disposition"),
        Some(format!(
            "attachment; filename=\"clave-registro-{}.pdf\"",
            reg.reference
        ))
    );
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf, "receipt-es");
    for expected in [
        "Justificante de registro en Cl@ve",
        "Lucía Martín Ficticia",
        "*****678Z",
        "básico",
        &grouped_reference(&reg.reference),
        "26 de noviembre de 2026, 10:00",
        "26 de diciembre de 2026, 10:00",
        "No incluido en este justificante",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    assert!(!text.contains(&code), "the code only when asked");
    assert!(!text.contains(LUCIA), "the ID only masked");

    let (answer, pdf) = receipt(
        &app,
        &LUCIA.to_lowercase(),
        &code.to_lowercase(),
        true,
        "en",
    )
    .await;
    assert_eq!(answer.status, 200);
    let text = pdf_text(&pdf, "receipt-en");
    for expected in [
        "Cl@ve registration receipt",
        "basic",
        &code,
        &grouped_reference(&reg.reference),
        "26 November 2026, 10:00",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
}

#[tokio::test]
async fn the_spanish_receipt_with_the_code_is_rendered_to_png() {
    let app = spawn_app().await;
    let reg = register(&app, AMINA, TimeDelta::days(30)).await;
    let (answer, pdf) = receipt(&app, AMINA, &reg.code.to_string(), true, "es").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let text = pdf_text(&pdf, "receipt-nie");
    assert!(
        text.contains("X****567L") && text.contains(&reg.code.to_string()),
        "{text}"
    );
    let pdf_path = screenshot_path("receipt-es.pdf");
    std::fs::write(&pdf_path, &pdf).expect("write the PDF");
    let png = screenshot_path("receipt-es.png");
    let stem = png.with_extension("");
    poppler(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "80",
            "-singlefile",
            pdf_path.to_str().expect("path"),
            stem.to_str().expect("path"),
        ],
    );
    let bytes = std::fs::read(&png).expect("the PNG");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG at {}", png.display());
}

#[tokio::test]
async fn a_used_code_still_gives_the_receipt_and_an_expired_one_says_so() {
    let app = spawn_app().await;
    let reg = register(&app, LUCIA, TimeDelta::days(30)).await;
    let code = reg.code.to_string();
    assert_eq!(
        app.activate(LUCIA, &code, GOOD_PASSWORD, GOOD_PASSWORD, "es")
            .await
            .status,
        200
    );
    app.clock.advance(TimeDelta::days(40));
    let (answer, pdf) = receipt(&app, LUCIA, &code, false, "en").await;
    assert_eq!(answer.status, 200, "a used code is still proof");
    assert!(pdf_text(&pdf, "receipt-used").contains("already used on"));

    let other = spawn_app().await;
    let reg = register(&other, LUCIA, TimeDelta::days(30)).await;
    other.clock.advance(TimeDelta::days(31));
    let (answer, _) = receipt(&other, LUCIA, &reg.code.to_string(), false, "es").await;
    assert_eq!(answer.status, 410);
    assert!(
        answer.body.contains("Este código de activación caducó el"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn wrong_pairs_are_refused_alike_and_counted() {
    let app = spawn_app().await;
    let reg = register(&app, LUCIA, TimeDelta::days(30)).await;
    let other = signaling::activation::ActivationCode::generate()
        .expect("code")
        .to_string();
    for (id, code) in [
        (LUCIA, other.as_str()),
        ("00000000T", &reg.code.to_string()),
    ] {
        let (answer, _) = receipt(&app, id, code, true, "en").await;
        assert_eq!(answer.status, 422);
        assert!(
            answer
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"))
        );
        assert!(
            answer
                .body
                .contains("The DNI/NIE or the activation code is not correct.")
        );
        assert!(answer.body.contains(
            "name=\"include_code\" value=\"1\" aria-describedby=\"include_code-hint\" checked"
        ));
    }
    assert_eq!(app.code_failures(LUCIA, "127.0.0.1").await, 1);
    let (answer, _) = receipt(&app, "12345678A", "x", false, "es").await;
    assert_eq!(answer.status, 422);
    assert!(answer.body.contains("La letra no corresponde al número"));
    assert!(answer.body.contains("El código tiene 16 letras y cifras"));
}
