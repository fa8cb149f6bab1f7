//! `GET /cita`: the citizen's appointment page (cita previa). It opens the browser's booking
//! (or finds it with the reference and the ID number), shows it in Madrid and local time with
//! the calendar file, cancels it, and from the check-in time takes the citizen into the queue
//! (through a short test call when theirs is older than 30 minutes). The queue page offers
//! slots with the same messages ([`slot_texts`]).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use super::messages;
use crate::Error;
use crate::state::AppState;
use agent_console::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new().route("/cita", get(page))
}

#[derive(Template)]
#[template(path = "booking.html")]
struct BookingPage {
    lang: Lang,
    always_open: bool,
    texts_json: String,
}

/// What offering and booking slots says (the queue page and this one).
pub(super) fn slot_texts(lang: Lang) -> serde_json::Map<String, serde_json::Value> {
    messages(
        lang,
        &[
            (
                "slots_loading",
                "Buscando horas libres…",
                "Looking for free times…",
            ),
            (
                "slots_unavailable",
                "No hemos podido cargar las horas libres. Inténtelo de nuevo en un momento.",
                "We could not load the free times. Try again in a moment.",
            ),
            (
                "no_slots",
                "No quedan horas libres en los próximos días. Puede esperar ahora o volver otro día.",
                "There are no free times in the next days. You may wait now or come back another day.",
            ),
            (
                "booking_failed",
                "No hemos podido reservar. Inténtelo de nuevo.",
                "We could not book. Try again.",
            ),
            (
                "change_booking",
                "Cambiar mi cita por esta hora",
                "Change my appointment to this time",
            ),
            ("booked", "Cita reservada.", "Appointment booked."),
            ("more_times", "Más horas de este día", "More times this day"),
            (
                "offer_long_wait",
                "La espera es larga. Si lo prefiere, elija una hora y le atenderemos entonces, antes que a quien llegue sin cita; dejará su sitio en la cola.",
                "The wait is long. If you prefer, choose a time and we will see you then, ahead of those without an appointment; you will give up your place in the queue.",
            ),
            (
                "offer_refused",
                "Elija una hora y le atenderemos entonces, antes que a quien llegue sin cita.",
                "Choose a time and we will see you then, ahead of those without an appointment.",
            ),
            (
                "appointment_kept",
                "Tiene cita a las {t} (hora de Madrid): le atenderemos a esa hora, antes que a quien llega sin cita.",
                "You have an appointment at {t} (Madrid time): we will see you then, ahead of those without one.",
            ),
            (
                "appointment_late",
                "Su cita era a las {t} y ha pasado el margen: entra en la cola como cualquier otra persona.",
                "Your appointment was at {t} and its grace time has passed: you join the queue like anyone else.",
            ),
        ],
    )
}

/// This page's messages.
fn page_texts(lang: Lang) -> serde_json::Value {
    let mut texts = slot_texts(lang);
    texts.extend(messages(lang, &[
        ("madrid_time", "hora de Madrid", "Madrid time"),
        ("your_time", "su hora", "your time"),
        ("status_booked", "Reservada", "Booked"),
        ("status_cancelled", "Anulada. Puede pedir otra desde el inicio.", "Cancelled. You may book another from the start page."),
        ("status_kept", "Atendida a su hora.", "Kept: you came in time."),
        ("status_late", "Llegó tarde y entró como cualquier otra persona.", "You came late and joined like anyone else."),
        ("status_no_show", "No se presentó. Puede pedir otra desde el inicio.", "You did not come. You may book another from the start page."),
        ("check_in_from", "Podrá entrar desde el {when}. Esta página se actualiza sola.", "You can come in from {when}. This page updates by itself."),
        ("check_in_now", "Ya puede entrar: haga una prueba corta de cámara si se le pide y entre en la cola.", "You can come in now: do a short camera test if asked and join the queue."),
        ("check_in_late", "Llega tarde: entrará en la cola como cualquier otra persona.", "You are late: you will join the queue like anyone else."),
        ("test_first", "Antes de entrar, haga una prueba corta de cámara y conexión.", "Before coming in, do a short camera and connection test."),
        ("confirm_cancel", "Pulse otra vez para anular la cita.", "Press again to cancel the appointment."),
        ("cancelled", "Cita anulada.", "Appointment cancelled."),
        ("failed", "Algo ha fallado. Inténtelo de nuevo.", "Something went wrong. Try again."),
    ]));
    serde_json::Value::Object(texts)
}

async fn page(State(state): State<AppState>, lang: Lang) -> Result<Html<String>, Error> {
    let page = BookingPage {
        lang,
        always_open: state.calendar.is_always_open(),
        // `</` cannot appear in this JSON (no message contains it), so it cannot close the tag.
        texts_json: page_texts(lang).to_string().replace("</", "<\\/"),
    };
    Ok(Html(page.render()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_messages() {
        let (es, en) = (page_texts(Lang::Es), page_texts(Lang::En));
        let keys =
            |v: &serde_json::Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        assert_eq!(keys(&es), keys(&en));
        assert_ne!(es, en);
    }
}
