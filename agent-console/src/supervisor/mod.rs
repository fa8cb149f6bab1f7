//! The supervisors' dashboard: loads today's facts (the day's tickets, decisions and
//! agents' state changes from the audit trail, the live queue) from the store, hands them to
//! `scheduler::metrics` for every figure and the forecast, and renders the charts
//! ([`charts`]). The same [`Dashboard`] is the page's JSON snapshot, pushed on every queue
//! change; the daily report ([`report`]) reads the same tickets.

pub mod bookings;
pub mod charts;
pub mod day;
pub mod report;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use scheduler::SERVICE_TZ;
use scheduler::metrics::{
    AgentPhase, DayFigures, Forecast, Outcomes, day_figures, forecast, outcomes,
};
use serde::Serialize;
use signaling::SignalingState;
use signaling::queue_view::QueueView;
use signaling::test_call::NetworkPath;
use store::StaffRole;

use crate::i18n::Lang;
use crate::{ConsoleState, Error};
use day::DayFacts;

/// The most extra agents the forecast tries.
pub const FORECAST_MAX_EXTRA_AGENTS: u32 = 20;

/// Dashboard rules from configuration.
#[derive(Debug, Clone)]
pub struct SupervisionPolicy {
    /// A citizen answered within this counts toward the service level.
    pub service_level_threshold: TimeDelta,
}

impl Default for SupervisionPolicy {
    fn default() -> Self {
        Self {
            service_level_threshold: TimeDelta::minutes(5),
        }
    }
}

/// One agent's line on the dashboard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentLine {
    /// Sign-in name.
    pub name: String,
    /// Current state.
    pub state: AgentPhase,
    /// Why, for a break.
    pub reason: Option<String>,
    /// How long in the current state, in seconds (`None` if never set).
    pub state_secs: Option<i64>,
    /// Calls answered today.
    pub calls_today: u32,
    /// The ticket of the call the agent is in (for watching it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// The forecast with the closing time it is about.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForecastView {
    /// The figures.
    #[serde(flatten)]
    pub forecast: Forecast,
    /// Today's closing, Madrid time (`HH:MM`), while open.
    pub closes: Option<String>,
}

/// The SVG charts, rendered in the viewer's language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Charts {
    /// Citizens waiting and agents available over today's window.
    pub queue: String,
    /// Told against real wait, per answered citizen.
    pub waits: String,
    /// Today's decisions by outcome and reason.
    pub outcomes: String,
}

/// Today's test calls that took one network path.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PathCount {
    /// `udp`, `tcp`, `turn_udp`, `turn_tcp`, `turn_tls`, or `unreported`.
    pub path: String,
    /// The path in the viewer's language.
    pub label: String,
    /// Passed test calls today.
    pub count: i64,
}

/// Everything the dashboard shows, as of `at`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// When (RFC 3339).
    pub at: String,
    /// Madrid date (`YYYY-MM-DD`) the day's figures are about.
    pub date: String,
    /// Citizens waiting now.
    pub waiting: usize,
    /// Longest current wait, in seconds.
    pub longest_wait_secs: i64,
    /// Agents by state now.
    pub agents_by_state: BTreeMap<AgentPhase, u32>,
    /// Each agent.
    pub agents: Vec<AgentLine>,
    /// The service-level threshold, in seconds.
    pub threshold_secs: i64,
    /// The day's queue figures.
    pub figures: DayFigures,
    /// The day's decisions.
    pub outcomes: Outcomes,
    /// The rest of the day.
    pub forecast: ForecastView,
    /// Today's passed test calls by network path (most first): how many citizens need TCP
    /// or a relay to reach videoreg.
    pub test_call_paths: Vec<PathCount>,
    /// The charts.
    pub charts: Charts,
}

/// Loads the dashboard now, in `lang` (for the charts).
pub async fn load(
    console: &ConsoleState,
    signaling: &SignalingState,
    lang: Lang,
) -> Result<Dashboard, Error> {
    let view = QueueView::load(signaling).await.map_err(Error::Signaling)?;
    let now = view.snapshot.now;
    let facts = DayFacts::load(&console.store, scheduler::local_date(now)).await?;
    let staff = console.store.list_staff().await?;
    let in_call: HashMap<String, String> = console
        .store
        .calls_in_progress()
        .await?
        .into_iter()
        .filter_map(|t| Some((t.agent_id?, t.id)))
        .collect();
    let current: HashMap<&str, &store::AgentState> = view
        .agents
        .iter()
        .map(|a| (a.user_id.as_str(), a))
        .collect();
    let mut agents: Vec<AgentLine> = staff
        .iter()
        .filter(|u| u.role == StaffRole::Agent || current.contains_key(u.id.as_str()))
        .filter(|u| !u.disabled)
        .map(|u| {
            let state = current.get(u.id.as_str());
            AgentLine {
                name: u.name.clone(),
                state: state
                    .and_then(|s| AgentPhase::parse(s.status.as_str()))
                    .unwrap_or(AgentPhase::Offline),
                reason: state.and_then(|s| s.reason.clone()),
                state_secs: state.map(|s| (now - s.since).num_seconds().max(0)),
                calls_today: facts.calls_by_agent.get(&u.id).copied().unwrap_or(0),
                ticket: in_call.get(&u.id).cloned(),
            }
        })
        .collect();
    agents.sort_by(|a, b| (a.state, &a.name).cmp(&(b.state, &b.name)));
    let mut agents_by_state: BTreeMap<AgentPhase, u32> = [
        AgentPhase::Available,
        AgentPhase::InCall,
        AgentPhase::WrapUp,
        AgentPhase::Break,
        AgentPhase::Offline,
    ]
    .into_iter()
    .map(|p| (p, 0))
    .collect();
    for a in &agents {
        *agents_by_state.entry(a.state).or_default() += 1;
    }
    let threshold = console.supervision.service_level_threshold;
    let figures = day_figures(&facts.tickets, now, threshold);
    let outcomes = outcomes(&facts.decisions);
    // Always open (the demo): the day's end is no closing, and the heading says so.
    let closes = view.snapshot.closes.map(|c| {
        let at = c.with_timezone(&SERVICE_TZ).format("%H:%M");
        if signaling.calendar.is_always_open() {
            lang.pick(
                "(abierto a todas horas, demo): fin del día",
                "(open at all hours, demo): end of the day",
            )
            .to_owned()
                + &format!(", {at}")
        } else {
            at.to_string()
        }
    });
    let test_call_paths = test_call_paths(console, facts.date, lang).await?;
    let (from, to) = facts.chart_span(&signaling.calendar, now);
    let charts = Charts {
        queue: charts::queue_chart(lang, &facts, from, to),
        waits: charts::waits_chart(lang, &facts.tickets),
        outcomes: charts::outcomes_chart(lang, &outcomes),
    };
    Ok(Dashboard {
        at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        date: facts.date.to_string(),
        waiting: view.waiting.len(),
        longest_wait_secs: view.longest_wait_secs(now),
        agents_by_state,
        agents,
        threshold_secs: threshold.num_seconds(),
        figures,
        outcomes,
        forecast: ForecastView {
            forecast: forecast(&view.snapshot, FORECAST_MAX_EXTRA_AGENTS),
            closes,
        },
        test_call_paths,
        charts,
    })
}

/// The day's passed test calls by network path.
async fn test_call_paths(
    console: &ConsoleState,
    date: chrono::NaiveDate,
    lang: Lang,
) -> Result<Vec<PathCount>, Error> {
    let (from, to) = day::day_bounds(date);
    let counted = console.store.test_call_paths(from, to).await?;
    Ok(counted
        .into_iter()
        .map(|(path, count)| {
            let known = path.as_deref().and_then(NetworkPath::parse);
            PathCount {
                path: known.map_or("unreported", NetworkPath::as_str).to_owned(),
                label: match known {
                    Some(p) => p.label(lang == Lang::Es).to_owned(),
                    None => lang.pick("No indicado", "Not reported").to_owned(),
                },
                count,
            }
        })
        .collect())
}

/// Seconds as `m:ss` (or `h:mm:ss`), for charts and the report.
pub fn clock(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// An instant as Madrid wall-clock `HH:MM`.
pub fn madrid_hm(t: DateTime<Utc>) -> String {
    t.with_timezone(&SERVICE_TZ).format("%H:%M").to_string()
}
