//! What the supervisors' figures and the daily report read: a day's tickets with their
//! agent and last decision, the day's decisions, and audit events of one kind.

use chrono::TimeDelta;
use store::{AgentStatus, NewAuditEvent, NewDecision, Outcome, StaffRole, Store};

use crate::helpers::utc;
use crate::queue::{citizens, join};

pub async fn a_days_tickets_decisions_and_state_changes_are_read_back(store: Store) {
    let day = utc("2026-11-25T23:00:00Z");
    let next_day = day + TimeDelta::days(1);
    let t0 = utc("2026-11-26T09:00:00Z");
    let ids = citizens(&store, 3, t0).await;
    store
        .insert_staff_user("a1", "agente", StaffRole::Agent, "h", t0)
        .await
        .expect("agent");
    let (yesterday, _) = join(&store, &ids[2], day - TimeDelta::hours(1), "r").await;
    assert!(
        store
            .leave_ticket(&yesterday.id, day - TimeDelta::minutes(30), "left")
            .await
            .expect("leave")
    );
    let (first, _) = join(&store, &ids[0], t0, "r").await;
    let (second, _) = join(&store, &ids[1], t0 + TimeDelta::minutes(1), "r").await;
    store
        .claim_next("a1", t0 + TimeDelta::minutes(2))
        .await
        .expect("claim")
        .expect("first");
    assert!(
        store
            .answer_ticket(&first.id, t0 + TimeDelta::minutes(2))
            .await
            .expect("answer")
    );
    store
        .record_decision(
            &NewDecision {
                id: "d1",
                ticket_id: &first.id,
                agent_id: "a1",
                outcome: Outcome::Rejected,
                reason: Some("document_expired"),
                note: "",
                checklist: "[]",
                registration: None,
                review: None,
                requeue_priority: 1,
                at: t0 + TimeDelta::minutes(9),
            },
            &NewAuditEvent {
                at: t0 + TimeDelta::minutes(9),
                actor: "a1",
                action: "decision.rejected",
                subject: &first.id,
                detail: "{}",
            },
        )
        .await
        .expect("decide");
    assert!(
        store
            .leave_ticket(&second.id, t0 + TimeDelta::minutes(4), "left")
            .await
            .expect("leave")
    );

    let tickets = store
        .tickets_joined_between(day, next_day)
        .await
        .expect("tickets");
    assert_eq!(tickets.len(), 2, "yesterday's ticket is not today's");
    assert_eq!(tickets[0].ticket.id, first.id);
    assert_eq!(tickets[0].agent_name.as_deref(), Some("agente"));
    assert_eq!(tickets[0].decision.as_deref(), Some("rejected"));
    assert_eq!(
        tickets[0].decision_reason.as_deref(),
        Some("document_expired")
    );
    assert_eq!(
        tickets[0].ticket.answered_at,
        Some(t0 + TimeDelta::minutes(2))
    );
    assert_eq!(
        tickets[0].ticket.outcome.as_deref(),
        Some("rejected:document_expired")
    );
    assert_eq!(tickets[1].ticket.id, second.id);
    assert_eq!(tickets[1].agent_name, None);
    assert_eq!(tickets[1].ticket.outcome.as_deref(), Some("left"));

    let decisions = store
        .decisions_between(day, next_day)
        .await
        .expect("decisions");
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].reason.as_deref(), Some("document_expired"));
    assert!(
        store
            .decisions_between(next_day, next_day + TimeDelta::days(1))
            .await
            .expect("none")
            .is_empty()
    );

    for (at, state) in [
        (day - TimeDelta::minutes(1), "available"),
        (t0, "available"),
        (t0 + TimeDelta::minutes(2), "in_call"),
    ] {
        store
            .append_audit(&NewAuditEvent {
                at,
                actor: "a1",
                action: "agent.state",
                subject: "a1",
                detail: &format!(r#"{{"state":"{state}","reason":null}}"#),
            })
            .await
            .expect("audit");
    }
    store
        .set_agent_state("a1", AgentStatus::InCall, None, t0 + TimeDelta::minutes(2))
        .await
        .expect("state");
    let changes = store
        .audit_between("agent.state", day, next_day)
        .await
        .expect("changes");
    assert_eq!(changes.len(), 2, "only the day's changes");
    assert!(changes[1].detail.contains("in_call"));
    assert!(changes.iter().all(|e| e.action == "agent.state"));
}
