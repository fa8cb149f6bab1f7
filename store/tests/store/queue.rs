use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use store::{AgentStatus, NewApplication, NewTicket, StaffRole, Store, TicketStatus};

use crate::helpers::{dni, utc};

pub const T0: &str = "2026-11-26T09:00:00Z";

/// Registers `n` citizens with an application each; returns their ID numbers.
pub async fn citizens(store: &Store, n: usize, now: DateTime<Utc>) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|i| format!("{i:08}Q")).collect();
    let records: Vec<_> = ids.iter().map(|id| dni(id, "2031-01-01")).collect();
    store
        .upsert_identities(&records, now)
        .await
        .expect("identities");
    for id in &ids {
        store
            .insert_application(&NewApplication {
                id: &format!("app-{id}"),
                token_hash: &format!("tok-{id}"),
                id_number: id,
                client_addr: "127.0.0.1",
                created_at: now,
                expires_at: now + TimeDelta::hours(6),
                test_call: None,
            })
            .await
            .expect("application");
    }
    ids
}

pub async fn join(
    store: &Store,
    id: &str,
    at: DateTime<Utc>,
    resume: &str,
) -> (store::Ticket, bool) {
    store
        .join_queue(
            &NewTicket {
                id: &format!("t-{id}-{resume}"),
                application_id: &format!("app-{id}"),
                id_number: id,
                priority: 0,
                joined_at: at,
                told_estimate_secs: Some(360),
                resume_token_hash: &format!("{resume}-{id}"),
                consent_at: at,
                appointment_at: None,
                told_range_secs: None,
            },
            None,
        )
        .await
        .expect("join")
}

pub async fn one_live_ticket_per_id_number_and_a_second_tab_gets_the_same_place(store: Store) {
    let t0 = utc(T0);
    let ids = citizens(&store, 1, t0).await;
    let (first, new) = join(&store, &ids[0], t0, "r1").await;
    assert!(new);
    assert_eq!(
        (first.status, first.told_estimate_secs),
        (TicketStatus::Waiting, Some(360))
    );
    let (second, new) = join(&store, &ids[0], t0 + TimeDelta::seconds(5), "r2").await;
    assert!(!new, "the same place");
    assert_eq!(second.id, first.id);
    assert!(
        store
            .ticket_by_resume_token(&format!("r1-{}", ids[0]))
            .await
            .expect("find")
            .is_none(),
        "the newest tab holds the resume token"
    );
    assert_eq!(
        store
            .ticket_by_resume_token(&format!("r2-{}", ids[0]))
            .await
            .expect("find")
            .map(|t| t.id),
        Some(first.id.clone())
    );
    // Once left, the citizen may join again with a new ticket.
    assert!(
        store
            .leave_ticket(&first.id, t0, "left")
            .await
            .expect("leave")
    );
    let (third, new) = join(&store, &ids[0], t0 + TimeDelta::minutes(1), "r3").await;
    assert!(new);
    assert_ne!(third.id, first.id);
}

pub async fn the_queue_is_fifo_and_requeued_tickets_go_to_the_head(store: Store) {
    let t0 = utc(T0);
    let ids = citizens(&store, 3, t0).await;
    for (i, id) in ids.iter().enumerate() {
        join(&store, id, t0 + TimeDelta::seconds(i as i64), "r").await;
    }
    let order: Vec<String> = store
        .waiting_queue(chrono::Utc::now())
        .await
        .expect("queue")
        .into_iter()
        .map(|t| t.id_number)
        .collect();
    assert_eq!(order, ids);
    let first = store
        .claim_next("agent-1", t0 + TimeDelta::minutes(1))
        .await
        .expect("claim")
        .expect("a ticket");
    assert_eq!(
        (first.id_number.as_str(), first.status),
        (ids[0].as_str(), TicketStatus::Offered)
    );
    assert_eq!(first.agent_id.as_deref(), Some("agent-1"));
    assert!(
        store
            .answer_ticket(&first.id, t0 + TimeDelta::minutes(2))
            .await
            .expect("answer")
    );
    // Abort for quality: back to the head, ahead of earlier arrivals.
    assert!(
        store
            .requeue_ticket(&first.id, scheduler::REQUEUE_PRIORITY)
            .await
            .expect("requeue")
    );
    let order: Vec<String> = store
        .waiting_queue(chrono::Utc::now())
        .await
        .expect("queue")
        .into_iter()
        .map(|t| t.id_number)
        .collect();
    assert_eq!(order, [ids[0].clone(), ids[1].clone(), ids[2].clone()]);
    let again = store
        .claim_next("agent-2", t0 + TimeDelta::minutes(3))
        .await
        .expect("claim")
        .expect("a ticket");
    assert_eq!(again.id, first.id);
    assert!(!store.requeue_ticket("no-such", 1).await.expect("requeue"));
}

pub async fn concurrent_claims_never_give_two_agents_the_same_citizen(store: Store) {
    let t0 = utc(T0);
    let ids = citizens(&store, 40, t0).await;
    for (i, id) in ids.iter().enumerate() {
        join(&store, id, t0 + TimeDelta::milliseconds(i as i64), "r").await;
    }
    let mut tasks = Vec::new();
    for agent in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(t) = store
                .claim_next(&format!("agent-{agent}"), t0)
                .await
                .expect("claim")
            {
                mine.push(t.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 40, "every ticket claimed");
    assert_eq!(distinct.len(), 40, "no ticket claimed twice");
    assert!(
        store
            .waiting_queue(chrono::Utc::now())
            .await
            .expect("queue")
            .is_empty()
    );
}

pub async fn calls_record_every_instant_and_handle_times_come_from_them(store: Store) {
    let t0 = utc(T0);
    let ids = citizens(&store, 2, t0).await;
    for (i, id) in ids.iter().enumerate() {
        let (t, _) = join(&store, id, t0, "r").await;
        let claimed = store
            .claim_next("agent", t0 + TimeDelta::minutes(1))
            .await
            .expect("claim")
            .expect("ticket");
        assert_eq!(claimed.id, t.id);
        store
            .answer_ticket(&t.id, t0 + TimeDelta::minutes(2))
            .await
            .expect("answer");
        let ended = t0 + TimeDelta::minutes(2 + 4 * (i as i64 + 1));
        assert!(
            store
                .end_ticket(&t.id, ended, "approved")
                .await
                .expect("end")
        );
        let done = store.ticket(&t.id).await.expect("find").expect("present");
        assert_eq!(done.status, TicketStatus::Done);
        assert_eq!(done.offered_at, Some(t0 + TimeDelta::minutes(1)));
        assert_eq!(done.answered_at, Some(t0 + TimeDelta::minutes(2)));
        assert_eq!(done.ended_at, Some(ended));
        assert_eq!(done.outcome.as_deref(), Some("approved"));
    }
    let times = store.recent_handle_times(10).await.expect("times");
    assert_eq!(
        times,
        vec![TimeDelta::minutes(8), TimeDelta::minutes(4)],
        "newest first"
    );
    let calls = store.recent_calls(10).await.expect("calls");
    assert_eq!(
        calls
            .iter()
            .map(|c| (c.agent_id.as_deref(), c.handle_time))
            .collect::<Vec<_>>(),
        vec![
            (Some("agent"), TimeDelta::minutes(8)),
            (Some("agent"), TimeDelta::minutes(4))
        ],
        "with the agent who took each call"
    );
    assert!(!store.end_ticket("missing", t0, "x").await.expect("end"));
}

pub async fn abandonment_counts_who_left_and_how_long_everyone_waited(store: Store) {
    let t0 = utc(T0);
    let ids = citizens(&store, 3, t0).await;
    let mut tickets = Vec::new();
    for id in &ids {
        tickets.push(join(&store, id, t0, "r").await.0);
    }
    store
        .claim_next("agent", t0 + TimeDelta::minutes(5))
        .await
        .expect("claim")
        .expect("ticket");
    assert!(
        store
            .leave_ticket(&tickets[1].id, t0 + TimeDelta::minutes(10), "left")
            .await
            .expect("leave")
    );
    let now = t0 + TimeDelta::minutes(20);
    let a = store
        .queue_abandonment(t0 - TimeDelta::days(7), now)
        .await
        .expect("abandonment");
    assert_eq!(a.left, 1);
    assert_eq!(
        a.waited,
        TimeDelta::minutes(5 + 10 + 20),
        "until taken, until gone, until now"
    );
    let later = store
        .queue_abandonment(t0 + TimeDelta::minutes(1), now)
        .await
        .expect("abandonment");
    assert_eq!((later.left, later.waited), (0, TimeDelta::zero()));
}

pub async fn disconnected_citizens_are_abandoned_after_the_grace_period(store: Store) {
    let t0 = utc(T0);
    let ids = citizens(&store, 2, t0).await;
    let (a, _) = join(&store, &ids[0], t0, "ra").await;
    let (b, _) = join(&store, &ids[1], t0, "rb").await;
    store
        .set_ticket_disconnected(&a.id, Some(t0))
        .await
        .expect("drop");
    store
        .set_ticket_disconnected(&b.id, Some(t0 + TimeDelta::seconds(50)))
        .await
        .expect("drop");
    store
        .set_ticket_disconnected(&b.id, None)
        .await
        .expect("back");
    let gone = store
        .abandon_disconnected(t0 + TimeDelta::seconds(1), t0 + TimeDelta::seconds(61))
        .await
        .expect("abandon");
    assert_eq!(gone, vec![a.id.clone()]);
    let a = store.ticket(&a.id).await.expect("find").expect("present");
    assert_eq!(
        (a.status, a.outcome.as_deref()),
        (TicketStatus::Left, Some("abandoned"))
    );
    assert_eq!(
        store
            .expire_waiting(t0 + TimeDelta::hours(5))
            .await
            .expect("expire"),
        vec![b.id]
    );
}

pub async fn agent_states_are_kept_and_counted(store: Store) {
    let t0 = utc(T0);
    for (id, name) in [("u1", "ana"), ("u2", "luis"), ("u3", "eva")] {
        store
            .insert_staff_user(id, name, StaffRole::Agent, "h", t0)
            .await
            .expect("user");
    }
    store
        .set_agent_state("u1", AgentStatus::Available, None, t0)
        .await
        .expect("state");
    store
        .set_agent_state("u2", AgentStatus::Break, Some("comida"), t0)
        .await
        .expect("state");
    store
        .set_agent_state("u3", AgentStatus::InCall, None, t0)
        .await
        .expect("state");
    assert_eq!(store.working_agents().await.expect("count"), 2);
    store
        .set_agent_state("u3", AgentStatus::Offline, None, t0 + TimeDelta::hours(1))
        .await
        .expect("state");
    assert_eq!(store.working_agents().await.expect("count"), 1);
    let states = store.agent_states().await.expect("states");
    assert_eq!(states.len(), 3);
    assert_eq!(
        (states[1].status, states[1].reason.as_deref()),
        (AgentStatus::Break, Some("comida"))
    );
    assert_eq!(states[2].since, t0 + TimeDelta::hours(1));
    let one = store.agent_state("u2").await.expect("state").expect("set");
    assert_eq!(
        (one.status, one.reason.as_deref()),
        (AgentStatus::Break, Some("comida"))
    );
    assert!(store.agent_state("nobody").await.expect("state").is_none());
}

pub async fn simultaneous_joins_all_get_a_place_in_arrival_order(store: Store) {
    let t0 = utc(T0);
    let ids = citizens(&store, 20, t0).await;
    let mut tasks = Vec::new();
    for id in ids.clone() {
        let store = store.clone();
        tasks.push(tokio::spawn(
            async move { join(&store, &id, t0, "r").await.0 },
        ));
    }
    let mut joined = Vec::new();
    for t in tasks {
        joined.push(t.await.expect("task"));
    }
    let queue = store
        .waiting_queue(chrono::Utc::now())
        .await
        .expect("queue");
    assert_eq!(queue.len(), 20, "every citizen has a place");
    let distinct: HashSet<&str> = queue.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(distinct.len(), 20);
}
