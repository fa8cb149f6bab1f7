//! The estimator on hand-built snapshots at a fixed `now`.

use chrono::{DateTime, TimeDelta, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
        .unwrap()
        .to_utc()
}

fn agent(activity: Activity, for_minutes: i64) -> AgentSnapshot {
    AgentSnapshot {
        activity,
        since: now() - TimeDelta::minutes(for_minutes),
        recent_handle_times: Vec::new(),
    }
}

fn waiting(n: usize) -> Vec<WaitingCitizen> {
    (0..n)
        .map(|i| WaitingCitizen {
            waited: TimeDelta::minutes(i64::try_from(n - i).unwrap()),
            requeued: false,
            appointment: None,
        })
        .collect()
}

fn snapshot(waiting: Vec<WaitingCitizen>, agents: Vec<AgentSnapshot>) -> QueueSnapshot {
    QueueSnapshot {
        now: now(),
        waiting,
        agents,
        recent_handle_times: Vec::new(),
        default_handle_time: TimeDelta::minutes(6),
        wrap_up: TimeDelta::zero(),
        expected_break: None,
        abandonment: Abandonment::default(),
        closes: Some(now() + TimeDelta::hours(4)),
        booked: Vec::new(),
    }
}

fn newcomer_secs(s: &QueueSnapshot) -> f64 {
    secs(estimate_wait(s).newcomer.unwrap().point)
}

#[test]
fn an_empty_queue_with_a_free_agent_is_about_zero() {
    let s = snapshot(
        Vec::new(),
        vec![agent(Activity::Available, 3), agent(Activity::InCall, 1)],
    );
    let e = estimate_wait(&s).newcomer.unwrap();
    assert_eq!(e.point, TimeDelta::zero());
    assert_eq!(e.high, TimeDelta::zero());
    assert!(!e.is_uncertain());
}

#[test]
fn without_a_working_agent_nobody_gets_an_estimate() {
    let s = snapshot(waiting(3), vec![agent(Activity::Break, 5)]);
    let e = estimate_wait(&s);
    assert_eq!(e.newcomer, None);
    assert_eq!(e.waiting, vec![None; 3]);
    assert_eq!(
        estimate_wait(&snapshot(Vec::new(), Vec::new())).newcomer,
        None
    );
}

#[test]
fn with_every_agent_busy_and_exponential_calls_it_is_the_queue_length_estimate() {
    // No history: exponential 6-minute calls. 9 ahead, 5 busy agents: (9 + 1) · 6 / 5 = 12 min.
    let agents = (0..5).map(|i| agent(Activity::InCall, i)).collect();
    let got = newcomer_secs(&snapshot(waiting(9), agents));
    assert!((got - 720.0).abs() < 0.06 * 720.0, "{got}");
}

#[test]
fn adding_agents_lowers_the_estimate() {
    let mut previous = f64::INFINITY;
    for s in 1..=6 {
        let agents = (0..s).map(|i| agent(Activity::InCall, i)).collect();
        let got = newcomer_secs(&snapshot(waiting(12), agents));
        assert!(
            got < previous,
            "{s} agents: {got} s, not below {previous} s"
        );
        previous = got;
    }
}

#[test]
fn positions_further_back_wait_longer_and_the_range_holds_the_point() {
    let agents = (0..3).map(|i| agent(Activity::InCall, i)).collect();
    let e = estimate_wait(&snapshot(waiting(8), agents));
    let points: Vec<TimeDelta> = e.waiting.iter().map(|w| w.unwrap().point).collect();
    assert!(points.windows(2).all(|p| p[0] < p[1]), "{points:?}");
    let last = e.newcomer.unwrap();
    assert!(last.point > points[7]);
    for w in e.waiting.iter().flatten().chain([&last]) {
        assert!(w.low <= w.point && w.point <= w.high, "{w:?}");
    }
    assert!(last.is_uncertain(), "nine exponential calls deep: a range");
}

#[test]
fn a_requeued_citizen_goes_first() {
    let mut queue = waiting(6);
    queue[5].requeued = true;
    let agents = vec![agent(Activity::InCall, 2), agent(Activity::InCall, 4)];
    let e = estimate_wait(&snapshot(queue, agents));
    let requeued = e.waiting[5].unwrap().point;
    for (i, w) in e.waiting.iter().enumerate().take(5) {
        assert!(requeued < w.unwrap().point, "requeued not before #{i}");
    }
    // Everyone else moved one place back: the first in arrival order is now second.
    let plain = estimate_wait(&snapshot(
        waiting(6),
        vec![agent(Activity::InCall, 2), agent(Activity::InCall, 4)],
    ));
    assert_eq!(e.waiting[0], plain.waiting[1]);
}

#[test]
fn no_estimate_crosses_closing_time_silently() {
    let agents = vec![agent(Activity::InCall, 1)];
    let mut s = snapshot(waiting(10), agents);
    s.closes = Some(now() + TimeDelta::minutes(30));
    let e = estimate_wait(&s);
    let last = e.newcomer.unwrap();
    assert!(now() + last.point >= s.closes.unwrap());
    assert!(last.ends_after_closing && last.may_end_after_closing);
    let first = e.waiting[0].unwrap();
    assert!(now() + first.point < s.closes.unwrap());
    assert!(!first.ends_after_closing);
    // Every estimate whose range reaches closing says so.
    for w in e.waiting.iter().flatten().chain([&last]) {
        assert_eq!(w.may_end_after_closing, now() + w.high >= s.closes.unwrap());
        assert_eq!(w.ends_after_closing, now() + w.point >= s.closes.unwrap());
    }
}

#[test]
fn calls_near_their_usual_end_free_agents_sooner() {
    // Calls always take 9–11 minutes: an agent 9 minutes in is nearly done.
    let history: Vec<TimeDelta> = (0..100)
        .map(|i| TimeDelta::seconds(540 + i64::from(i) * 120 / 100))
        .collect();
    let mut early = snapshot(Vec::new(), vec![agent(Activity::InCall, 1)]);
    early.recent_handle_times = history.clone();
    let mut late = snapshot(Vec::new(), vec![agent(Activity::InCall, 9)]);
    late.recent_handle_times = history;
    let (early, late) = (newcomer_secs(&early), newcomer_secs(&late));
    assert!((480.0..=600.0).contains(&early), "{early}");
    assert!(late < 120.0, "{late}");
}

#[test]
fn citizens_ahead_who_may_give_up_shorten_the_wait() {
    let agents: Vec<AgentSnapshot> = (0..2).map(|i| agent(Activity::InCall, i)).collect();
    let patient = newcomer_secs(&snapshot(waiting(20), agents.clone()));
    let mut s = snapshot(waiting(20), agents);
    s.abandonment = Abandonment {
        left: 10,
        exposure: TimeDelta::hours(5),
    };
    let impatient = newcomer_secs(&s);
    assert!(impatient < 0.8 * patient, "{impatient} vs {patient}");
}

#[test]
fn agents_on_a_break_count_only_when_breaks_have_a_usual_length() {
    let agents = vec![agent(Activity::InCall, 1), agent(Activity::Break, 10)];
    let mut s = snapshot(waiting(10), agents);
    let without = newcomer_secs(&s);
    s.expected_break = Some(TimeDelta::minutes(15));
    let with = newcomer_secs(&s);
    assert!(with < without, "{with} vs {without}");
}

#[test]
fn a_slow_agent_with_history_makes_the_wait_longer() {
    let pooled: Vec<TimeDelta> = (0..200).map(|i| TimeDelta::seconds(200 + i * 2)).collect();
    let mut s = snapshot(waiting(4), vec![agent(Activity::InCall, 1)]);
    s.recent_handle_times = pooled;
    let average = newcomer_secs(&s);
    s.agents[0].recent_handle_times = vec![TimeDelta::minutes(12); 60];
    let slow = newcomer_secs(&s);
    assert!(slow > 1.3 * average, "{slow} vs {average}");
}

#[test]
fn the_same_snapshot_always_gives_the_same_estimate() {
    let agents = (0..4).map(|i| agent(Activity::InCall, i)).collect();
    let s = snapshot(waiting(7), agents);
    assert_eq!(estimate_wait(&s), estimate_wait(&s.clone()));
}

/// An agent in a call with exactly 6-minute calls on record (so free in about 6 min).
fn six_minute_agent() -> (Vec<TimeDelta>, AgentSnapshot) {
    (vec![TimeDelta::minutes(6); 100], agent(Activity::InCall, 0))
}

fn appointment_at(minutes: i64) -> WaitingCitizen {
    WaitingCitizen {
        waited: TimeDelta::minutes(1),
        requeued: false,
        appointment: Some(now() + TimeDelta::minutes(minutes)),
    }
}

#[test]
fn a_booked_appointment_due_before_a_walk_ins_turn_goes_first() {
    let (history, a) = six_minute_agent();
    let mut s = snapshot(Vec::new(), vec![a]);
    s.recent_handle_times = history;
    let alone = newcomer_secs(&s);
    assert!((alone - 360.0).abs() < 5.0, "{alone}");
    // Booked for 10:03, not here yet: at 10:06 it is due and is served first.
    s.booked = vec![now() + TimeDelta::minutes(3)];
    let behind = newcomer_secs(&s);
    assert!((behind - 720.0).abs() < 5.0, "{behind}");
    // Booked for 11:00: the walk-in is long served by then.
    s.booked = vec![now() + TimeDelta::hours(1)];
    assert!((newcomer_secs(&s) - alone).abs() < 1.0);
}

#[test]
fn a_waiting_appointment_is_served_at_its_time_and_early_only_when_nobody_else_waits() {
    let (history, a) = six_minute_agent();
    // A walk-in, an appointment due at 10:03 and one due at 10:30, in that arrival order.
    let walk_in = WaitingCitizen {
        waited: TimeDelta::minutes(5),
        requeued: false,
        appointment: None,
    };
    let mut s = snapshot(
        vec![walk_in, appointment_at(30), appointment_at(3)],
        vec![a],
    );
    s.recent_handle_times = history;
    let e = estimate_wait(&s);
    let at = |i: usize| secs(e.waiting[i].unwrap().point);
    // 10:06: the 10:03 appointment; 10:12: the walk-in; 10:18: the newcomer; 10:24: the
    // 10:30 appointment, early, as nobody else is left.
    assert!((at(2) - 360.0).abs() < 5.0, "{}", at(2));
    assert!((at(0) - 720.0).abs() < 5.0, "{}", at(0));
    assert!((newcomer_secs(&s) - 1080.0).abs() < 5.0);
    assert!((at(1) - 1440.0).abs() < 5.0, "{}", at(1));
}

#[test]
fn requeued_citizens_go_before_due_appointments() {
    let (history, a) = six_minute_agent();
    let requeued = WaitingCitizen {
        waited: TimeDelta::minutes(1),
        requeued: true,
        appointment: None,
    };
    let mut s = snapshot(vec![appointment_at(-5), requeued], vec![a]);
    s.recent_handle_times = history;
    let e = estimate_wait(&s);
    let at = |i: usize| secs(e.waiting[i].unwrap().point);
    assert!(at(1) < at(0), "{} vs {}", at(1), at(0));
}
