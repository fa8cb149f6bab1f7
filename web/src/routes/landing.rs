//! `GET /`: is the service open, today's hours (Madrid time and the visitor's own), the next
//! opening, and, while open, how long someone joining now would probably wait; with no agent
//! working, that the estimate comes once one is, and today's typical wait so far (the median
//! wait of the citizens answered today).

use agent_console::supervisor::day::{day_bounds, ticket_facts};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use chrono::{DateTime, TimeDelta, Utc};
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
    /// While open without an estimate: today's median wait so far, e.g. `unos 6 min`.
    typical_wait: Option<String>,
}

/// The median of `waits` (None when empty).
fn median(mut waits: Vec<TimeDelta>) -> Option<TimeDelta> {
    waits.sort();
    let n = waits.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => waits.get(n / 2).copied(),
        _ => Some((waits[n / 2 - 1] + waits[n / 2]) / 2),
    }
}

/// Today's typical wait so far, as the page says it; None before anyone was answered, or if
/// the tickets cannot be read (the page stays up without it).
async fn typical_wait(state: &AppState, lang: Lang, now: DateTime<Utc>) -> Option<String> {
    let (from, to) = day_bounds(local_date(now));
    let rows = match state.store.tickets_joined_between(from, to).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "landing page: today's waits unavailable");
            return None;
        }
    };
    let waits = rows.iter().filter_map(|r| ticket_facts(&r.ticket).waited());
    let m = median(waits.collect())?;
    Some(if m < TimeDelta::minutes(1) {
        lang.pick("menos de 1 min", "under a minute").to_owned()
    } else {
        let mins = (m.num_seconds() + 30).div_euclid(60);
        format!("{} {mins} min", lang.pick("unos", "about"))
    })
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
    let typical_wait = if open_now && estimate.is_none() {
        typical_wait(&state, lang, now).await
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
        typical_wait,
    };
    Ok(Html(page.render()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typical_wait_is_the_median_so_one_long_wait_does_not_move_it() {
        let m = |s: &[i64]| median(s.iter().map(|&x| TimeDelta::seconds(x)).collect());
        assert_eq!(m(&[]), None);
        assert_eq!(m(&[300]), Some(TimeDelta::seconds(300)));
        assert_eq!(m(&[60, 7200, 240]), Some(TimeDelta::seconds(240)));
        assert_eq!(m(&[60, 120, 180, 240]), Some(TimeDelta::seconds(150)));
    }
}
