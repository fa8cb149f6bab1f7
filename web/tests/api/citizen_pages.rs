//! The citizen pages render in both languages with every message their scripts may show,
//! and the language chosen is kept in a cookie.

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_citizen_pages_render_in_both_languages_with_their_messages() {
    let app = spawn_app().await;
    let cases = [
        (
            "/",
            "es",
            vec!["Cómo funciona", "Empezar", "/test-call?lang=es"],
        ),
        (
            "/",
            "en",
            vec!["How it works", "Start", "/test-call?lang=en"],
        ),
        (
            "/apply",
            "es",
            vec![
                "Su DNI o NIE",
                "La letra no corresponde",
                "Demasiados intentos",
                "número de soporte",
                "/static/apply.js",
            ],
        ),
        (
            "/apply",
            "en",
            vec![
                "Your DNI or NIE",
                "The letter does not match",
                "Too many attempts",
                "support number",
                "/static/apply.js",
            ],
        ),
        (
            "/queue",
            "es",
            vec![
                "Acepto la videollamada y su grabación",
                "Salir de la cola",
                "Vuelve a estar el primero de la cola",
                "Volvemos a abrir el",
                "Descargar justificante (PDF)",
            ],
        ),
        (
            "/queue",
            "en",
            vec![
                "I accept the video call and its recording",
                "Leave the queue",
                "You are back at the head of the queue",
                "We open again on",
                "Download receipt (PDF)",
            ],
        ),
        ("/test-call", "en", vec!["/apply?lang=en"]),
    ];
    for (path, lang, expected) in cases {
        let (status, body) = app.page(&format!("{path}?lang={lang}"), lang).await;
        assert_eq!(status, 200, "{path} {lang}");
        assert!(
            body.contains(&format!("<html lang=\"{lang}\"")),
            "{path} {lang}"
        );
        for text in expected {
            assert!(body.contains(text), "{path} ({lang}) lacks {text:?}");
        }
    }
}

#[tokio::test]
async fn the_language_chosen_is_kept_in_a_cookie() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/?lang=en"))
        .send()
        .await
        .expect("GET");
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
    let r = app
        .client
        .get(app.url("/apply"))
        .header("cookie", "lang=en")
        .header("accept-language", "es")
        .send()
        .await
        .expect("GET");
    assert!(r.text().await.expect("body").contains("<html lang=\"en\""));
    let r = app
        .client
        .get(app.url("/?lang=xx"))
        .send()
        .await
        .expect("GET");
    assert!(
        r.headers().get("set-cookie").is_none(),
        "only known languages"
    );
}
