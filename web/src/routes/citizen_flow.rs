//! `GET /apply` and `GET /queue`: the citizen's application form, and the page that carries
//! them through the queue, the call and its outcome. Both are plain pages with a script
//! module; every message the scripts show comes from here, in the visitor's language, as a
//! JSON data block.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use crate::Error;
use crate::state::AppState;
use agent_console::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/apply", get(apply))
        .route("/queue", get(queue))
}

/// Messages as a JSON object: key → the text in `lang`.
fn messages(lang: Lang, pairs: &[(&str, &str, &str)]) -> serde_json::Value {
    serde_json::Value::Object(super::messages(lang, pairs))
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage {
    lang: Lang,
    always_open: bool,
    texts_json: String,
}

/// The application form's messages.
fn apply_texts(lang: Lang) -> serde_json::Value {
    messages(
        lang,
        &[
            (
                "dni_dated_label",
                "Fecha de validez del DNI",
                "DNI validity date",
            ),
            (
                "dni_dated_help",
                "En el anverso del DNI, bajo «VALIDEZ». Escríbala como DD-MM-AAAA (por ejemplo 15-03-2031).",
                "On the front of the DNI, under “VALIDEZ”. Type it as DD-MM-YYYY (for example 15-03-2031).",
            ),
            (
                "dni_permanent_label",
                "Fecha de expedición del DNI",
                "DNI issue date",
            ),
            (
                "dni_permanent_help",
                "Su DNI es permanente: en su lugar le pedimos la fecha de expedición, en el anverso bajo «EXPEDICIÓN» (DD-MM-AAAA).",
                "Your DNI is permanent: we ask for its issue date instead, on the front under “EXPEDICIÓN” (DD-MM-YYYY).",
            ),
            (
                "nie_label",
                "Número de soporte del NIE",
                "NIE support number",
            ),
            (
                "nie_help",
                "En la tarjeta de extranjero (TIE), arriba a la derecha: una E y 8 cifras (E00012345). En el certificado de registro de ciudadano de la UE, junto a «Nº»: una C y 8 cifras (C00012345).",
                "On the foreigner's card (TIE), top right: an E and 8 digits (E00012345). On the EU citizen registration certificate, next to “Nº”: a C and 8 digits (C00012345).",
            ),
            ("date_placeholder", "DD-MM-AAAA", "DD-MM-YYYY"),
            (
                "id_format",
                "Escriba 8 cifras y una letra (DNI) o X, Y o Z, 7 cifras y una letra (NIE).",
                "Type 8 digits and a letter (DNI), or X, Y or Z, 7 digits and a letter (NIE).",
            ),
            (
                "id_letter",
                "La letra no corresponde a los números: revise el número.",
                "The letter does not match the digits: check the number.",
            ),
            (
                "date_format",
                "Escriba la fecha como DD-MM-AAAA, por ejemplo 15-03-2031.",
                "Type the date as DD-MM-YYYY, for example 15-03-2031.",
            ),
            (
                "nie_support_format",
                "El número de soporte es una E o una C seguida de 8 cifras.",
                "The support number is an E or a C followed by 8 digits.",
            ),
            (
                "checking",
                "Comprobando sus datos…",
                "Checking your details…",
            ),
            (
                "wait_until",
                "Demasiados intentos. Podrá volver a intentarlo a las {t}.",
                "Too many attempts. You can try again at {t}.",
            ),
            (
                "network",
                "No hemos podido contactar con el servidor. Compruebe su conexión e inténtelo de nuevo.",
                "We could not reach the server. Check your connection and try again.",
            ),
            (
                "generic",
                "No hemos podido comprobar sus datos. Inténtelo de nuevo.",
                "We could not check your details. Please try again.",
            ),
        ],
    )
}

async fn apply(State(state): State<AppState>, lang: Lang) -> Result<Html<String>, Error> {
    let page = ApplyPage {
        lang,
        always_open: state.calendar.is_always_open(),
        texts_json: apply_texts(lang).to_string(),
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    lang: Lang,
    always_open: bool,
    texts_json: String,
    /// Reject reason code → what the citizen is told, in the visitor's language (for an
    /// outcome told again after a reconnection, which carries only the code).
    reasons_json: String,
}

/// The queue page's messages.
fn queue_texts(lang: Lang) -> serde_json::Value {
    messages(
        lang,
        &[
            (
                "no_estimate",
                "se lo diremos en cuanto haya un agente atendiendo",
                "we will tell you as soon as an agent is working",
            ),
            ("under_a_minute", "menos de 1 minuto", "under a minute"),
            ("about_minutes", "unos {n} min", "about {n} min"),
            (
                "updated_at",
                "Actualizado a las {t} (hora de Madrid)",
                "Updated at {t} (Madrid time)",
            ),
            (
                "progress_text",
                "Delante de usted: {a} (al entrar: {b}).",
                "Ahead of you: {a} (when you joined: {b}).",
            ),
            (
                "progress_next",
                "Es el siguiente: no hay nadie delante de usted.",
                "You are next: nobody is ahead of you.",
            ),
            (
                "called",
                "Le toca: un agente le atiende.",
                "Your turn: an agent is taking your call.",
            ),
            (
                "position_now",
                "Su posición: {n}. Espera estimada: {w}.",
                "Your position: {n}. Estimated wait: {w}.",
            ),
            ("madrid_time", "hora de Madrid", "Madrid time"),
            ("your_time", "su hora", "your time"),
            (
                "title_answered",
                "¡Le atienden! · Cl@ve",
                "It's your turn! · Cl@ve",
            ),
            (
                "agent_found",
                "Un agente va a atenderle. Preparando la videollamada…",
                "An agent is taking your call. Setting up the video call…",
            ),
            (
                "connecting",
                "Conectando con el agente…",
                "Connecting you to the agent…",
            ),
            (
                "in_call",
                "En videollamada con el agente",
                "In the video call with the agent",
            ),
            (
                "camera_problem",
                "No podemos usar su cámara o micrófono ({e}). Permítalo en la barra de direcciones y recargue la página: conservamos su turno.",
                "We cannot use your camera or microphone ({e}). Allow them from the address bar and reload the page: we keep your place.",
            ),
            (
                "reconnecting_media",
                "La conexión ha cambiado; reconectando el vídeo…",
                "The connection changed; reconnecting the video…",
            ),
            (
                "reconnecting",
                "Conexión perdida; reconectando… Su turno está guardado.",
                "Connection lost; reconnecting… Your place is kept.",
            ),
            (
                "server_moving",
                "Estamos actualizando el servicio; reconectando… Su turno y su llamada se conservan.",
                "We are updating the service; reconnecting… Your place and your call are kept.",
            ),
            ("connection", "Conexión", "Connection"),
            ("unknown", "midiendo", "measuring"),
            ("good", "buena", "good"),
            ("fair", "regular", "fair"),
            ("poor", "mala", "poor"),
            (
                "one_camera",
                "Solo encontramos una cámara.",
                "We found only one camera.",
            ),
            ("camera_switched", "Cámara cambiada.", "Camera switched."),
            ("challenge_seconds", "Quedan {n} s", "{n} s left"),
            ("challenge_or_type", "O escríbalo aquí:", "Or type it here:"),
            (
                "challenge_type",
                "Escriba este código aquí:",
                "Type this code here:",
            ),
            (
                "challenge_passed",
                "Comprobación superada. Gracias.",
                "Check passed. Thank you.",
            ),
            (
                "challenge_wrong",
                "Ese código no es correcto. Le quedan {n} intentos.",
                "That code is not right. {n} tries left.",
            ),
            (
                "challenge_failed",
                "El código no era correcto. El agente le pedirá otro.",
                "The code was not right. The agent will give you another.",
            ),
            (
                "challenge_expired",
                "Se acabó el tiempo. El agente le pedirá otro código.",
                "Time is up. The agent will give you another code.",
            ),
            (
                "challenge_used",
                "Ese código ya no vale. Espere al siguiente.",
                "That code is no longer valid. Wait for the next one.",
            ),
            ("mute", "Silenciar micrófono", "Mute microphone"),
            ("unmute", "Activar micrófono", "Unmute microphone"),
            (
                "requeued",
                "Se ha cortado la llamada con el agente. Vuelve a estar el primero de la cola.",
                "The call with the agent was cut. You are back at the head of the queue.",
            ),
            (
                "aborted",
                "El agente no ha podido completar la comprobación por la calidad de la llamada. Vuelve a estar el primero de la cola.",
                "The agent could not finish the check because of the call quality. You are back at the head of the queue.",
            ),
            (
                "approved",
                "Registro completado. Su código de activación está en pantalla.",
                "Registration complete. Your activation code is on screen.",
            ),
            ("copied", "Código copiado.", "Code copied."),
            (
                "copy_failed",
                "No se pudo copiar: selecciónelo y cópielo a mano.",
                "Could not copy: select it and copy it by hand.",
            ),
            (
                "call_ended_title",
                "La llamada ha terminado",
                "The call has ended",
            ),
            (
                "call_ended",
                "La llamada terminó sin completar el registro. Puede volver a empezar cuando quiera.",
                "The call ended without completing the registration. You can start again whenever you like.",
            ),
            ("left_title", "Ha salido de la cola", "You left the queue"),
            (
                "left",
                "Puede volver cuando quiera; tendrá que hacer de nuevo la prueba y la solicitud.",
                "You can come back whenever you like; you will do the test and the application again.",
            ),
            (
                "closed_title",
                "El servicio está cerrado",
                "The service is closed",
            ),
            (
                "closed",
                "Volvemos a abrir el {when}.",
                "We open again on {when}.",
            ),
            (
                "too_late_title",
                "Hoy ya no podremos atenderle",
                "We cannot see you today",
            ),
            (
                "too_late",
                "Con la cola actual no llegaríamos antes del cierre. Vuelva el {when}.",
                "With the current queue we would not reach you before closing. Please come back on {when}.",
            ),
            ("no_opening", "próximo día hábil", "the next working day"),
            (
                "resume_title",
                "Su turno ha caducado",
                "Your place has lapsed",
            ),
            (
                "resume_expired",
                "Su turno ya no estaba reservado. Vuelva a entrar en la cola.",
                "Your place was no longer held. Join the queue again.",
            ),
            ("expired_title", "Solicitud caducada", "Application expired"),
            (
                "application_expired",
                "Su solicitud ha caducado. Vuelva a empezar desde el inicio.",
                "Your application has expired. Please start again from the beginning.",
            ),
            (
                "start_title",
                "Empiece desde el inicio",
                "Start from the beginning",
            ),
            (
                "start_first",
                "Para entrar en la cola, haga primero la prueba de cámara y rellene sus datos.",
                "To join the queue, first do the camera test and fill in your details.",
            ),
            (
                "consent_needed",
                "Para entrar en la cola debe aceptar la videollamada y su grabación.",
                "To join the queue you must accept the video call and its recording.",
            ),
            (
                "unsupported",
                "Este navegador no permite videollamadas. Use una versión reciente de Chrome, Edge, Firefox o Safari.",
                "This browser cannot make video calls. Use a recent Chrome, Edge, Firefox or Safari.",
            ),
        ],
    )
}

/// The queue page's messages with those of the slots it may offer.
fn queue_texts_with_slots(lang: Lang) -> serde_json::Value {
    let mut texts = queue_texts(lang);
    if let Some(all) = texts.as_object_mut() {
        all.extend(super::booking_page::slot_texts(lang));
    }
    texts
}

async fn queue(State(state): State<AppState>, lang: Lang) -> Result<Html<String>, Error> {
    let reasons: serde_json::Map<String, serde_json::Value> = state
        .console
        .verification
        .rules
        .reject_reasons
        .iter()
        .map(|r| {
            (
                r.code.clone(),
                lang.pick(&r.citizen.es, &r.citizen.en).into(),
            )
        })
        .collect();
    let page = QueuePage {
        lang,
        always_open: state.calendar.is_always_open(),
        texts_json: queue_texts_with_slots(lang).to_string(),
        reasons_json: serde_json::Value::Object(reasons).to_string(),
    };
    Ok(Html(page.render()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_messages() {
        for texts in [apply_texts, queue_texts_with_slots] {
            let es = texts(Lang::Es);
            let en = texts(Lang::En);
            let keys = |v: &serde_json::Value| {
                v.as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
            };
            assert_eq!(keys(&es), keys(&en));
            assert_ne!(es, en);
        }
    }
}
