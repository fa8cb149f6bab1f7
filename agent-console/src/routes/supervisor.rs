//! `/supervisor`: the supervisors' live dashboard, its JSON snapshot, its event stream and
//! its script. The stream (server-sent events) sends a fresh snapshot after each of the
//! queue publisher's rounds (every change, and at least every 15 s), so the page updates
//! without reloading. The stream ends when its session does (sign-out, lifetime, account
//! disabled or role changed).

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse};
use futures_util::Stream;
use signaling::SignalingState;
use store::StaffRole;
use tokio::sync::watch;

use super::{Chrome, chrome};
use crate::auth::{Staff, SupervisorsOnly};
use crate::i18n::Lang;
use crate::refusal::ErrorBody;
use crate::routes::openapi::StaffRefusals;
use crate::supervisor::{self, Dashboard};
use crate::{ConsoleState, Error};

const SUPERVISOR_JS: &str = include_str!("../../static/supervisor.js");
const SUPERVISOR_MONITOR_JS: &str = include_str!("../../static/supervisor-monitor.js");

/// A snapshot is sent at least this often, even without a publisher round.
const REFRESH: Duration = Duration::from_secs(15);
/// Rounds closer together than this are sent as one snapshot.
const MIN_GAP: Duration = Duration::from_millis(250);

#[derive(Template)]
#[template(path = "supervisor.html")]
struct SupervisorPage {
    lang: Lang,
    chrome: Chrome,
    threshold_min: i64,
    /// For the monitor's and the whisper's requests.
    csrf: String,
}

pub async fn page(
    State(state): State<ConsoleState>,
    lang: Lang,
    staff: Staff<SupervisorsOnly>,
) -> Result<Html<String>, Error> {
    let page = SupervisorPage {
        lang,
        chrome: chrome(&state, &staff),
        threshold_min: state.supervision.service_level_threshold.num_minutes(),
        csrf: staff.session.csrf_token.clone(),
    };
    Ok(Html(page.render()?))
}

/// One snapshot of the supervisors' dashboard, as JSON.
#[utoipa::path(
    get,
    path = "/supervisor/dashboard.json",
    tag = "supervision",
    operation_id = "dashboard",
    security(("staff_session" = [])),
    responses(
        (status = 200, description = "The dashboard now", body = Dashboard),
        (status = 403, description = "`forbidden`: not a supervisor (a page for a browser)",
            content((ErrorBody = "application/json"), (String = "text/html"))),
        StaffRefusals,
    )
)]
pub async fn snapshot(
    State(console): State<ConsoleState>,
    State(signaling): State<SignalingState>,
    lang: Lang,
    _staff: Staff<SupervisorsOnly>,
) -> Result<Json<Dashboard>, Error> {
    Ok(Json(supervisor::load(&console, &signaling, lang).await?))
}

struct Follow {
    /// The session the stream was opened with (its hash).
    session: String,
    console: ConsoleState,
    signaling: SignalingState,
    lang: Lang,
    rounds: watch::Receiver<u64>,
    first: bool,
}

async fn next_event(mut f: Follow) -> Option<(Result<Event, Infallible>, Follow)> {
    if f.first {
        f.first = false;
    } else {
        tokio::time::sleep(MIN_GAP).await;
        // A closed channel means the hub is gone: the server is stopping. A timeout only
        // means nothing changed for a while: send a fresh snapshot anyway.
        if let Ok(Err(_)) = tokio::time::timeout(REFRESH, f.rounds.changed()).await {
            return None;
        }
    }
    f.rounds.borrow_and_update();
    if !still_signed_in(&f.console, &f.session).await {
        return None;
    }
    let event = match supervisor::load(&f.console, &f.signaling, f.lang).await {
        Ok(d) => Event::default()
            .event("dashboard")
            .json_data(&d)
            .unwrap_or_else(|_| Event::default().comment("unserialisable")),
        Err(e) => {
            tracing::warn!(error = %e, "supervisor dashboard");
            Event::default().comment("unavailable")
        }
    };
    Some((Ok(event), f))
}

/// Whether the stream's session still holds a supervisor: not signed out, not past its
/// absolute lifetime, the account enabled and still a supervisor. (An open dashboard does
/// not refresh the idle timer; a new connection after it lapsed needs a new sign-in.)
async fn still_signed_in(console: &ConsoleState, session: &str) -> bool {
    let now = console.clock.now();
    let Ok(Some(s)) = console.store.find_staff_session(session).await else {
        return false;
    };
    if now >= s.expires_at {
        return false;
    }
    matches!(
        console.store.find_staff_by_id(&s.user_id).await,
        Ok(Some(u)) if !u.disabled && u.role == StaffRole::Supervisor
    )
}

/// The live stream: a `dashboard` event with the JSON snapshot now and after every change.
pub async fn stream(
    State(console): State<ConsoleState>,
    State(signaling): State<SignalingState>,
    lang: Lang,
    staff: Staff<SupervisorsOnly>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let follow = Follow {
        session: staff.session.id_hash,
        rounds: signaling.hub.rounds(),
        console,
        signaling,
        lang,
        first: true,
    };
    Sse::new(futures_util::stream::unfold(follow, next_event)).keep_alive(KeepAlive::default())
}

/// The dashboard's silent monitoring: watching a call, and whispering to its agent.
pub async fn monitor_script() -> impl IntoResponse {
    super::javascript(SUPERVISOR_MONITOR_JS)
}

/// The dashboard's script (compiled in; no build step).
pub async fn script() -> impl IntoResponse {
    super::javascript(SUPERVISOR_JS)
}
