//! The wait range's recalibration, live: after a week of citizens told "about 10 min
//! (9–11)" whose real waits spread over 0–20 min, the range learnt again by housekeeping
//! widens to about 4–16 min, and a citizen joining is shown that range.

use chrono::TimeDelta;
use serde_json::json;
use store::{AgentStatus, IdentityKind, IdentityRecord, NewApplication, NewTicket};

use crate::helpers::{madrid, spawn_app};

#[tokio::test]
async fn ranges_learnt_from_last_weeks_waits_are_what_a_joining_citizen_is_shown() {
    let app = spawn_app().await;
    let (n, day) = (200usize, madrid("2026-11-25 10:00"));
    let ids: Vec<String> = (0..n).map(|i| format!("9{i:07}X")).collect();
    let records: Vec<IdentityRecord> = ids
        .iter()
        .map(|id| IdentityRecord {
            id_number: id.clone(),
            kind: IdentityKind::Dni,
            full_name: "Ficticia".into(),
            valid_until: Some("2031-01-01".into()),
            issued_on: None,
            support_number: None,
            birth_date: None,
        })
        .collect();
    app.store
        .upsert_identities(&records, day)
        .await
        .expect("identities");
    for (i, id) in ids.iter().enumerate() {
        let joined = day + TimeDelta::seconds(i as i64);
        app.store
            .insert_application(&NewApplication {
                id: &format!("app-{id}"),
                token_hash: &format!("tok-{id}"),
                id_number: id,
                client_addr: "127.0.0.1",
                created_at: joined,
                expires_at: joined + TimeDelta::hours(6),
                test_call: None,
            })
            .await
            .expect("application");
        let (t, _) = app
            .store
            .join_queue(
                &NewTicket {
                    id: &format!("t-{id}"),
                    application_id: &format!("app-{id}"),
                    id_number: id,
                    priority: 0,
                    joined_at: joined,
                    told_estimate_secs: Some(600),
                    resume_token_hash: &format!("r-{id}"),
                    consent_at: joined,
                    appointment_at: None,
                    told_range_secs: Some((540, 660)),
                },
                None,
            )
            .await
            .expect("join");
        app.store.claim_next("agent", joined).await.expect("claim");
        // Real waits spread evenly over 0–20 minutes.
        let waited = TimeDelta::seconds((1200 * (i + 1) / n) as i64);
        assert!(
            app.store
                .answer_ticket(&t.id, joined + waited)
                .await
                .expect("answer")
        );
    }
    let state = app.state();
    assert_eq!(
        signaling::queue_view::relearn(&state.signaling)
            .await
            .expect("learn"),
        n
    );

    app.agent_in("ana", AgentStatus::InCall).await;
    let token = app.application("12345678Z", "15/03/2031").await;
    let mut ws = app.citizen().await;
    ws.send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    let queued = ws.until("queued").await;
    let point = queued["estimate_secs"].as_i64().expect("point");
    let (low, high) = (
        queued["estimate_low_secs"]
            .as_i64()
            .expect("a range is shown"),
        queued["estimate_high_secs"]
            .as_i64()
            .expect("a range is shown"),
    );
    // The replay's own range for one call still to end is narrower than ±40 % of the point;
    // the learnt one moves each end by about 0.6 of the point.
    assert!(
        low <= point * 6 / 10 && high >= point * 14 / 10,
        "{low}–{high} around {point}"
    );
    let ticket = app
        .store
        .ticket(queued["ticket"].as_str().expect("id"))
        .await
        .expect("read")
        .expect("ticket");
    let (raw_low, raw_high) = ticket.told_range_secs.expect("the raw range is kept");
    assert!(raw_low > low && raw_high < high, "raw {raw_low}–{raw_high}");
}
