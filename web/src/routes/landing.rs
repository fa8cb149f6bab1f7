//! `GET /`: is the service open, today's hours (Madrid time and the visitor's own), the next
//! opening, and, while open, how long someone joining now would probably wait.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use chrono::{DateTime, Utc};
use scheduler::{Estimate, SERVICE_TZ, Window, local_date};
use signaling::queue_view::QueueView;

use crate::Error;
use crate::state::AppState;
use agent_console::i18n::Lang;

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

/// The wait someone joining now is told, in the visitor's language.
struct ShownEstimate {
    /// E.g. `unos 12 min`, `10–15 min`.
    wait: String,
    /// Probably not served before closing today.
    after_closing: bool,
}

impl ShownEstimate {
    fn new(lang: Lang, e: &Estimate) -> Self {
        let ceil = |d: chrono::TimeDelta| (d.num_seconds() + 59).div_euclid(60);
        let wait = if e.is_uncertain() {
            let low = e.low.num_seconds().div_euclid(60);
            format!("{low}–{} min", ceil(e.high).max(low + 1))
        } else if e.point < chrono::TimeDelta::minutes(1) {
            lang.pick("menos de 1 min", "under a minute").to_owned()
        } else {
            format!("{} {} min", lang.pick("unos", "about"), ceil(e.point))
        };
        Self {
            wait,
            after_closing: e.ends_after_closing,
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
    /// While open and an agent is working: the wait someone joining now would be told.
    estimate: Option<ShownEstimate>,
}

async fn landing(State(state): State<AppState>, lang: Lang) -> Result<Html<String>, Error> {
    let now: DateTime<Utc> = state.clock.now();
    let cal = &state.calendar;
    let open_now = cal.is_open(now);
    let estimate = if open_now {
        // The page stays up without the estimate if the queue cannot be read.
        match QueueView::load(&state.signaling).await {
            Ok(view) => view.newcomer().map(|e| ShownEstimate::new(lang, &e)),
            Err(e) => {
                tracing::warn!(error = %e, "landing page: queue estimate unavailable");
                None
            }
        }
    } else {
        None
    };
    let page = LandingPage {
        lang,
        always_open: cal.is_always_open(),
        open_now,
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
        estimate,
    };
    Ok(Html(page.render()?))
}
