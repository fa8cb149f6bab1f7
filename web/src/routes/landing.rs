//! `GET /`: is the service open, today's hours (Madrid time and the visitor's own), and the
//! next opening.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use chrono::{DateTime, Utc};
use scheduler::{SERVICE_TZ, Window, local_date};

use crate::Error;
use crate::i18n::Lang;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(landing))
}

/// A window as the page shows it: Madrid wall-clock times, and instants for the script that
/// adds the visitor's own time zone.
struct ShownWindow {
    date: String,
    opens: String,
    closes: String,
    opens_utc: String,
    closes_utc: String,
}

impl ShownWindow {
    fn new(lang: Lang, w: &Window) -> Self {
        Self {
            date: lang.long_date(&w.opens_local()),
            opens: w.opens_local().format("%H:%M").to_string(),
            closes: w.closes_local().format("%H:%M").to_string(),
            opens_utc: w.opens.to_rfc3339(),
            closes_utc: w.closes.to_rfc3339(),
        }
    }
}

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage {
    lang: Lang,
    always_open: bool,
    open_now: bool,
    today: String,
    today_window: Option<ShownWindow>,
    next: Option<ShownWindow>,
    /// Monday-to-Friday hours, e.g. `09:00–14:00`.
    weekday_hours: String,
}

async fn landing(State(state): State<AppState>, lang: Lang) -> Result<Html<String>, Error> {
    let now: DateTime<Utc> = state.clock.now();
    let cal = &state.calendar;
    let page = LandingPage {
        lang,
        always_open: cal.is_always_open(),
        open_now: cal.is_open(now),
        today: lang.long_date(&now.with_timezone(&SERVICE_TZ)),
        today_window: cal
            .window_on(local_date(now))
            .map(|w| ShownWindow::new(lang, &w)),
        next: cal.next_window(now).map(|w| ShownWindow::new(lang, &w)),
        weekday_hours: {
            let h = cal.weekday_hours();
            format!(
                "{}–{}",
                h.opens().format("%H:%M"),
                h.closes().format("%H:%M")
            )
        },
    };
    Ok(Html(page.render()?))
}
