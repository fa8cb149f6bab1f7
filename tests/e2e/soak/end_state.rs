//! After the day: every ticket in a terminal state that its columns explain, no call left
//! with a side open, no agent busy, no connection recorded, and the registrations, decisions
//! and approvals agreeing with each other and with what the citizens were told.

use store::Store;
use store::testing::fetch_raw_texts;

/// The first column of the first row of `sql`, as a number.
async fn count(store: &Store, sql: &str) -> i64 {
    fetch_raw_texts(store, sql)
        .await
        .expect("query the run's schema")
        .into_iter()
        .next()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

/// Tickets by status and outcome, for the report.
pub async fn outcomes(store: &Store) -> Vec<String> {
    fetch_raw_texts(
        store,
        "SELECT status || ' ' || coalesce(outcome, '-') || ': ' || count(*) FROM tickets
         GROUP BY status, outcome ORDER BY count(*) DESC",
    )
    .await
    .expect("query")
    .into_iter()
    .flatten()
    .collect()
}

/// Tickets still waiting (a citizen gone without leaving keeps the place for the grace
/// period).
pub async fn waiting(store: &Store) -> i64 {
    count(
        store,
        "SELECT count(*)::text FROM tickets WHERE status = 'waiting'",
    )
    .await
}

/// What is impossible after the day, each with how many rows show it; `approved_told` is
/// how many citizens were told `approved`, and `vanished` the tickets of citizens who went
/// without a word (an agent who had just been offered one may still approve it, unheard).
pub async fn impossible(
    store: &Store,
    approved_told: i64,
    vanished: &[String],
) -> Vec<(String, i64)> {
    let checks = [
        (
            "tickets still offered, in a call or waiting",
            "SELECT count(*)::text FROM tickets WHERE status IN ('offered', 'in_call', 'waiting')",
        ),
        (
            "ended tickets without an end time or outcome",
            "SELECT count(*)::text FROM tickets WHERE status IN ('done', 'left', 'expired')
             AND (ended_at IS NULL OR outcome IS NULL)",
        ),
        (
            "calls done without an agent, an offer, an answer, or in the wrong order",
            "SELECT count(*)::text FROM tickets WHERE status = 'done' AND (agent_id IS NULL
             OR offered_at IS NULL OR answered_at IS NULL OR offered_at > answered_at
             OR answered_at > ended_at)",
        ),
        (
            "decided tickets without their decision",
            "SELECT count(*)::text FROM tickets t WHERE status = 'done'
             AND (outcome = 'approved' OR outcome LIKE 'rejected%')
             AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.ticket_id = t.id
                 AND d.outcome = split_part(t.outcome, ':', 1))",
        ),
        (
            "approvals without a registration, or registrations without an approval",
            "SELECT (abs((SELECT count(*) FROM decisions WHERE outcome = 'approved')
                       - (SELECT count(*) FROM registrations))
                   + (SELECT count(*) FROM decisions WHERE outcome = 'approved'
                      AND registration_id IS NULL))::text",
        ),
        (
            "ID numbers approved twice",
            "SELECT count(*)::text FROM (SELECT id_number FROM tickets WHERE outcome = 'approved'
             GROUP BY id_number HAVING count(*) > 1) twice",
        ),
        (
            "agents not offline after signing off",
            "SELECT count(*)::text FROM agent_states WHERE state <> 'offline'",
        ),
        (
            "connections still recorded",
            "SELECT count(*)::text FROM connections",
        ),
    ];
    let mut found = Vec::new();
    for (what, sql) in checks {
        let n = count(store, sql).await;
        if n != 0 {
            found.push((what.to_owned(), n));
        }
    }
    // Ticket ids are the server's own (letters, digits, dashes); quoted all the same.
    let away: Vec<String> = vanished
        .iter()
        .map(|id| format!("'{}'", id.replace('\'', "''")))
        .collect();
    let not_away = match away.is_empty() {
        true => String::new(),
        false => format!(" AND id NOT IN ({})", away.join(", ")),
    };
    let approved = count(
        store,
        &format!("SELECT count(*)::text FROM tickets WHERE outcome = 'approved'{not_away}"),
    )
    .await;
    if approved != approved_told {
        found.push((
            format!("approved tickets ({approved}) differ from citizens told approved"),
            approved_told,
        ));
    }
    found
}
