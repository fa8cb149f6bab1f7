//! `GET /test-call`: the page where a citizen checks camera, microphone and connection
//! against videoreg's echo before applying.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use serde_json::json;

use crate::Error;
use crate::state::AppState;
use agent_console::i18n::Lang;
use signaling::test_call::NetworkPath;

pub fn routes() -> Router<AppState> {
    Router::new().route("/test-call", get(page))
}

#[derive(Template)]
#[template(path = "test_call.html")]
struct TestCallPage {
    lang: Lang,
    always_open: bool,
    /// The script's messages in the visitor's language, as JSON (a data block, not code).
    texts_json: String,
}

/// Every message the script may show, in one language.
fn texts(lang: Lang) -> serde_json::Value {
    let t = |es: &str, en: &str| lang.pick(es, en).to_owned();
    let mut texts = json!({
        "unsupported": t("Este navegador no permite videollamadas. Use una versión reciente de Chrome, Edge, Firefox o Safari.", "This browser cannot make video calls. Use a recent Chrome, Edge, Firefox or Safari."),
        "denied": t("No ha dado permiso para usar la cámara y el micrófono. Permítalo en la barra de direcciones (icono de la cámara) y recargue la página.", "You have not allowed the camera and microphone. Allow them from the address bar (camera icon) and reload the page."),
        "no_device": t("No encontramos ninguna cámara o micrófono. Conecte uno y recargue la página.", "We found no camera or microphone. Connect one and reload the page."),
        "busy_device": t("La cámara o el micrófono están ocupados por otra aplicación. Ciérrela y recargue la página.", "The camera or microphone is in use by another application. Close it and reload the page."),
        "ready": t("Cámara y micrófono listos. Pulse «Empezar la prueba».", "Camera and microphone ready. Press “Start the test”."),
        "connecting": t("Conectando con nuestro servidor…", "Connecting to our server…"),
        "measuring": t("Recibiendo su imagen de vuelta. Midiendo la conexión…", "Receiving your picture back. Measuring the connection…"),
        "server_busy": t("Hay muchas pruebas en curso. Lo intentamos de nuevo en {s} s…", "Many tests are running. Trying again in {s} s…"),
        "no_media": t("Su imagen no vuelve de nuestro servidor. Probablemente un cortafuegos bloquea la conexión: pruebe en otra red (por ejemplo, los datos del móvil).", "Your picture does not come back from our server. A firewall is probably blocking the connection: try another network (for example your mobile data)."),
        "no_path": t("No conseguimos conectar con nuestro servidor desde esta red. Vea abajo qué puede probar.", "We could not connect to our server from this network. See below what you can try."),
        "connected_in": t("conectada en {ms} ms", "connected in {ms} ms"),
        "socket": t("Se ha perdido la conexión con nuestro servidor. Recargue la página para repetir la prueba.", "The connection to our server was lost. Reload the page to try again."),
        "good": t("Conexión buena: todo listo para la videollamada.", "Good connection: all set for the video call."),
        "fair": t("Conexión aceptable: la llamada puede verse con cortes.", "Fair connection: the call may stutter."),
        "poor": t("Conexión débil: la llamada puede fallar. Acérquese al router o use otra red. Puede continuar igualmente.", "Weak connection: the call may fail. Move closer to the router or use another network. You may still continue."),
        "done": t("Prueba terminada.", "Test finished."),
        "seconds_left": t("Quedan {s} s de medida", "{s} s of measuring left"),
    });
    // The network paths as everyone else names them (`path_udp`, …, `path_turn_tls`).
    if let Some(texts) = texts.as_object_mut() {
        for path in NetworkPath::ALL {
            let label = path.label(lang == Lang::Es).to_owned();
            texts.insert(format!("path_{}", path.as_str()), label.into());
        }
    }
    texts
}

async fn page(State(state): State<AppState>, lang: Lang) -> Result<Html<String>, Error> {
    let page = TestCallPage {
        lang,
        always_open: state.calendar.is_always_open(),
        // `</` cannot appear in this JSON (no message contains it), so it cannot close the tag.
        texts_json: texts(lang).to_string().replace("</", "<\\/"),
    };
    Ok(Html(page.render()?))
}
