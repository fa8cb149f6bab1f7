//! A Madrid day's facts as the figures need them: its tickets (joined that day), its
//! decisions, each agent's state changes (from the audit trail's `agent.state` events) and
//! calls answered per agent (`ticket.answered` events).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use scheduler::metrics::{AgentPhase, AgentTimeline, DecisionFacts, DecisionKind, TicketFacts};
use scheduler::{Calendar, SERVICE_TZ};
use store::{Outcome, ReportTicket, Store, TicketStatus};

use crate::Error;

/// The instants a Madrid date runs between: `[its midnight, the next midnight)`.
pub fn day_bounds(date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |d: NaiveDate| {
        SERVICE_TZ
            .from_local_datetime(&d.and_time(NaiveTime::MIN))
            .earliest()
            .map_or_else(|| d.and_time(NaiveTime::MIN).and_utc(), |t| t.to_utc())
    };
    let next = date.succ_opt().unwrap_or(date);
    (midnight(date), midnight(next))
}

/// One day's facts.
#[derive(Debug, Clone)]
pub struct DayFacts {
    /// The Madrid date.
    pub date: NaiveDate,
    /// Its first instant.
    pub from: DateTime<Utc>,
    /// The first instant of the next day.
    pub to: DateTime<Utc>,
    /// The tickets that joined that day, as the report lists them.
    pub rows: Vec<ReportTicket>,
    /// The same tickets, as the figures see them.
    pub tickets: Vec<TicketFacts>,
    /// The decisions made that day.
    pub decisions: Vec<DecisionFacts>,
    /// Each agent's states over the day, by staff user id.
    pub timelines: HashMap<String, AgentTimeline>,
    /// Calls answered that day, by staff user id.
    pub calls_by_agent: HashMap<String, u32>,
}

/// The figures' view of a stored ticket.
pub fn ticket_facts(t: &store::Ticket) -> TicketFacts {
    TicketFacts {
        joined_at: t.joined_at,
        answered_at: t.answered_at,
        ended_at: t.ended_at,
        told_estimate_secs: t.told_estimate_secs,
        abandoned: t.status == TicketStatus::Left,
    }
}

impl DayFacts {
    /// Reads the facts of `date`.
    pub async fn load(store: &Store, date: NaiveDate) -> Result<Self, Error> {
        let (from, to) = day_bounds(date);
        let rows = store.tickets_joined_between(from, to).await?;
        let tickets = rows.iter().map(|r| ticket_facts(&r.ticket)).collect();
        let decisions = store
            .decisions_between(from, to)
            .await?
            .into_iter()
            .map(|d| DecisionFacts {
                kind: match d.outcome {
                    Outcome::Approved => DecisionKind::Approved,
                    Outcome::Rejected => DecisionKind::Rejected,
                    Outcome::Aborted => DecisionKind::Aborted,
                },
                reason: d.reason,
            })
            .collect();
        let mut timelines: HashMap<String, AgentTimeline> = HashMap::new();
        for e in store.audit_between("agent.state", from, to).await? {
            let state = serde_json::from_str::<serde_json::Value>(&e.detail)
                .ok()
                .and_then(|v| {
                    v.get("state")
                        .and_then(|s| s.as_str())
                        .and_then(AgentPhase::parse)
                });
            if let Some(state) = state {
                timelines
                    .entry(e.subject)
                    .or_insert_with(|| AgentTimeline {
                        initial: AgentPhase::Offline,
                        changes: Vec::new(),
                    })
                    .changes
                    .push((e.at, state));
            }
        }
        // An agent whose state has not changed today has been in it all day.
        for a in store.agent_states().await? {
            if a.since < from
                && let Some(state) = AgentPhase::parse(a.status.as_str())
            {
                timelines.entry(a.user_id).or_insert(AgentTimeline {
                    initial: state,
                    changes: Vec::new(),
                });
            }
        }
        let mut calls_by_agent: HashMap<String, u32> = HashMap::new();
        for e in store.audit_between("ticket.answered", from, to).await? {
            *calls_by_agent.entry(e.actor).or_default() += 1;
        }
        Ok(Self {
            date,
            from,
            to,
            rows,
            tickets,
            decisions,
            timelines,
            calls_by_agent,
        })
    }

    /// The span the day's charts cover up to `now`: the service window while the calendar
    /// has one (from opening to now or closing), otherwise (always open, or a closed day)
    /// from the day's first event, at least the last half hour.
    pub fn chart_span(
        &self,
        calendar: &Calendar,
        now: DateTime<Utc>,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let end = now.min(self.to);
        if !calendar.is_always_open()
            && let Some(w) = calendar.window_on(self.date)
            && end > w.opens
        {
            return (
                w.opens,
                end.min(w.closes).max(w.opens + TimeDelta::minutes(1)),
            );
        }
        let first = self
            .tickets
            .iter()
            .map(|t| t.joined_at)
            .chain(
                self.timelines
                    .values()
                    .flat_map(|t| t.changes.first().map(|(at, _)| *at)),
            )
            .min()
            .unwrap_or(end);
        let start = first.min(end - TimeDelta::minutes(30)).max(self.from);
        (start, end.max(start + TimeDelta::minutes(1)))
    }
}
