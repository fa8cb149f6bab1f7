//! The figures on a scripted day whose answers are worked out by hand (UTC instants; the
//! service-level threshold is 5 min).

use chrono::{DateTime, TimeDelta, Utc};

use super::series::{AgentPhase, AgentTimeline};
use super::*;
use crate::{Abandonment, Activity, AgentSnapshot, QueueSnapshot, WaitingCitizen};

fn at(hm: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2026-11-26T{hm}:00Z"))
        .unwrap()
        .to_utc()
}

fn ticket(
    joined: &str,
    answered: Option<&str>,
    ended: Option<&str>,
    told: Option<i64>,
) -> TicketFacts {
    TicketFacts {
        joined_at: at(joined),
        answered_at: answered.map(at),
        ended_at: ended.map(at),
        told_estimate_secs: told,
        abandoned: false,
    }
}

/// A: waited 2 min (told 3), handled 8 min. B: waited 8 min (told 5), handled 6 min.
/// C: left after 3 min unanswered. D: waited 6 min (told nothing), still in the call.
/// E: still waiting (told 10 min). Now is 08:30.
fn scripted_day() -> Vec<TicketFacts> {
    vec![
        ticket("08:00", Some("08:02"), Some("08:10"), Some(180)),
        ticket("08:01", Some("08:09"), Some("08:15"), Some(300)),
        TicketFacts {
            abandoned: true,
            ..ticket("08:03", None, Some("08:06"), Some(240))
        },
        ticket("08:05", Some("08:11"), None, None),
        ticket("08:20", None, None, Some(600)),
    ]
}

#[test]
fn the_scripted_day_gives_the_figures_worked_out_by_hand() {
    let f = day_figures(&scripted_day(), at("08:30"), TimeDelta::minutes(5));
    assert_eq!(f.joined, 5);
    assert_eq!(f.answered, 3);
    assert_eq!(f.answered_within_threshold, 1, "only A within 5 min");
    assert_eq!(f.abandoned, 1);
    assert_eq!(f.calls_finished, 2);
    assert_eq!(
        f.service_level,
        Some(0.25),
        "1 ÷ (3 answered + 1 abandoned)"
    );
    assert_eq!(
        f.average_speed_of_answer_secs,
        Some(320.0),
        "(120 + 480 + 360) ÷ 3"
    );
    assert_eq!(f.average_handle_time_secs, Some(420.0), "(480 + 360) ÷ 2");
    assert_eq!(f.abandonment, Some(0.2), "1 ÷ 5");
    assert_eq!(f.accuracy.compared, 2, "A and B were told and answered");
    assert_eq!(
        f.accuracy.mean_abs_error_secs,
        Some(120.0),
        "(60 + 180) ÷ 2"
    );
    assert_eq!(f.accuracy.bias_secs, Some(-60.0), "(60 − 180) ÷ 2");
    assert_eq!(
        f.accuracy.within_share,
        Some(0.5),
        "A within ±2 min, B 3 min out"
    );
}

#[test]
fn earlier_in_the_day_only_what_had_happened_counts() {
    let f = day_figures(&scripted_day(), at("08:04"), TimeDelta::minutes(5));
    assert_eq!(
        (f.joined, f.answered, f.abandoned, f.calls_finished),
        (3, 1, 0, 0)
    );
    assert_eq!(f.service_level, Some(1.0));
    assert_eq!(f.average_handle_time_secs, None);
}

#[test]
fn an_empty_day_has_no_ratios() {
    let f = day_figures(&[], at("08:30"), TimeDelta::minutes(5));
    assert_eq!(f.joined, 0);
    assert_eq!(f.service_level, None);
    assert_eq!(f.abandonment, None);
    assert_eq!(f.accuracy, EstimateAccuracy::default());
}

#[test]
fn within_means_two_minutes_or_a_quarter_of_the_wait_told() {
    let s = TimeDelta::seconds;
    assert!(within_tolerance(s(600), s(750)), "25 % of 10 min is 150 s");
    assert!(!within_tolerance(s(600), s(751)));
    assert!(within_tolerance(s(600), s(450)));
    assert!(within_tolerance(s(60), s(180)), "2 min floor");
    assert!(!within_tolerance(s(60), s(181)));
}

#[test]
fn outcomes_are_counted_by_reason() {
    let d = |kind, reason: Option<&str>| DecisionFacts {
        kind,
        reason: reason.map(str::to_owned),
    };
    let o = outcomes(&[
        d(DecisionKind::Approved, None),
        d(DecisionKind::Approved, None),
        d(DecisionKind::Rejected, Some("document_expired")),
        d(DecisionKind::Rejected, Some("face_mismatch")),
        d(DecisionKind::Rejected, Some("document_expired")),
        d(DecisionKind::Aborted, Some("video_quality")),
    ]);
    assert_eq!(o.approved, 2);
    assert_eq!(o.rejected.get("document_expired"), Some(&2));
    assert_eq!(o.rejected_total(), 3);
    assert_eq!(o.aborted.get("video_quality"), Some(&1));
    assert_eq!(o.aborted_total(), 1);
}

#[test]
fn the_queue_series_counts_who_was_waiting_at_each_minute() {
    let s = queue_series(&scripted_day(), at("08:00"), at("08:30"), 31);
    let v: Vec<u32> = s.iter().map(|p| p.value).collect();
    assert_eq!(s[4].at, at("08:04"));
    assert_eq!(v[0], 1, "A joined");
    assert_eq!(v[4], 2, "B and C");
    assert_eq!(v[5], 3, "B, C and D");
    assert_eq!(v[6], 2, "C left at 08:06");
    assert_eq!(v[12], 0);
    assert_eq!(v[25], 1, "E");
}

#[test]
fn the_queue_steps_miss_no_change() {
    let s = queue_steps(&scripted_day(), at("08:00"), at("08:30"));
    let got: Vec<(DateTime<Utc>, u32)> = s.iter().map(|p| (p.at, p.value)).collect();
    assert_eq!(
        got,
        vec![
            (at("08:00"), 1),
            (at("08:01"), 2),
            (at("08:02"), 1),
            (at("08:03"), 2),
            (at("08:05"), 3),
            (at("08:06"), 2),
            (at("08:09"), 1),
            (at("08:11"), 0),
            (at("08:20"), 1),
            (at("08:30"), 1),
        ]
    );
}

#[test]
fn agent_steps_show_even_a_brief_state() {
    let one = AgentTimeline {
        initial: AgentPhase::Offline,
        changes: vec![
            (at("08:00") + TimeDelta::seconds(10), AgentPhase::Available),
            (at("08:00") + TimeDelta::seconds(12), AgentPhase::InCall),
        ],
    };
    let s = agents_in_state_steps(&[one], AgentPhase::Available, at("08:00"), at("08:01"));
    let v: Vec<u32> = s.iter().map(|p| p.value).collect();
    assert_eq!(v, vec![0, 1, 0, 0]);
}

#[test]
fn agent_series_follow_each_agents_changes() {
    let one = AgentTimeline {
        initial: AgentPhase::Offline,
        changes: vec![
            (at("08:00"), AgentPhase::Available),
            (at("08:02"), AgentPhase::InCall),
            (at("08:10"), AgentPhase::WrapUp),
            (at("08:11"), AgentPhase::Available),
        ],
    };
    let two = AgentTimeline {
        initial: AgentPhase::Available,
        changes: vec![(at("08:05"), AgentPhase::Break)],
    };
    assert_eq!(state_at(&one, at("07:59")), AgentPhase::Offline);
    assert_eq!(state_at(&one, at("08:05")), AgentPhase::InCall);
    let avail = agents_in_state_series(
        &[one, two],
        AgentPhase::Available,
        at("08:00"),
        at("08:12"),
        13,
    );
    let v: Vec<u32> = avail.iter().map(|p| p.value).collect();
    assert_eq!(v, vec![2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1]);
}

fn snapshot(waiting: usize, agents: Vec<Activity>, closes_in: TimeDelta) -> QueueSnapshot {
    let now = at("10:00");
    QueueSnapshot {
        now,
        waiting: (0..waiting)
            .map(|_| WaitingCitizen {
                waited: TimeDelta::minutes(1),
                requeued: false,
                appointment: None,
            })
            .collect(),
        agents: agents
            .into_iter()
            .map(|activity| AgentSnapshot {
                activity,
                since: now,
                recent_handle_times: Vec::new(),
            })
            .collect(),
        recent_handle_times: Vec::new(),
        default_handle_time: TimeDelta::minutes(6),
        wrap_up: TimeDelta::zero(),
        expected_break: None,
        abandonment: Abandonment::default(),
        closes: Some(now + closes_in),
        booked: Vec::new(),
    }
}

#[test]
fn a_short_queue_with_time_to_spare_needs_nobody_more() {
    let f = forecast(
        &snapshot(2, vec![Activity::Available; 2], TimeDelta::hours(2)),
        20,
    );
    assert_eq!(
        f,
        Forecast {
            still_waiting_at_closing: 0,
            extra_agents_needed: Some(0)
        }
    );
}

#[test]
fn a_long_queue_near_closing_needs_the_fewest_agents_that_clear_it() {
    let s = snapshot(12, vec![Activity::Available], TimeDelta::minutes(20));
    let f = forecast(&s, 20);
    assert!(
        f.still_waiting_at_closing >= 8,
        "one agent takes about 3 in 20 min: {f:?}"
    );
    let k = f.extra_agents_needed.expect("20 agents clear 12 citizens");
    assert!(k >= 1);
    assert_eq!(
        forecast(&forecast::with_extra(&s, k), 20).still_waiting_at_closing,
        0
    );
    assert!(forecast(&forecast::with_extra(&s, k - 1), 20).still_waiting_at_closing > 0);
}

#[test]
fn nobody_working_means_everyone_waits_past_closing() {
    let f = forecast(&snapshot(3, Vec::new(), TimeDelta::hours(1)), 20);
    assert_eq!(f.still_waiting_at_closing, 3);
    assert!(f.extra_agents_needed.is_some_and(|k| k >= 1));
}

#[test]
fn too_few_agents_even_at_the_limit_is_said() {
    let f = forecast(
        &snapshot(50, vec![Activity::Available], TimeDelta::minutes(10)),
        3,
    );
    assert_eq!(f.extra_agents_needed, None);
}

#[test]
fn a_closed_service_forecasts_nothing() {
    let mut s = snapshot(3, vec![Activity::Available], TimeDelta::hours(1));
    s.closes = None;
    assert_eq!(forecast(&s, 20).still_waiting_at_closing, 0);
}
