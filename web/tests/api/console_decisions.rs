//! Decisions through the real server: the checklist and stills are enforced there, approval
//! issues the registration and a hashed activation code at once and the citizen receives the
//! code, an ID number is approved once, and rejections and aborts tell the citizen why.

use serde_json::json;

use crate::console_helpers::FULL_CHECKLIST;
use crate::helpers::spawn_app;

#[tokio::test]
async fn approval_needs_the_checklist_and_the_stills_on_the_server() {
    let app = spawn_app().await;
    let call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    // Nothing ticked, no stills: refused, with what is missing.
    let (status, body) = call.decide(&app, json!({ "decision": "approve" })).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "checklist_incomplete");
    let missing = body["error"]["missing"].as_array().expect("list");
    // Four items, the security-features group, three stills and the live-person check.
    assert_eq!(missing.len(), 4 + 1 + 3 + 1, "{body}");
    assert!(
        missing.contains(&json!({ "missing": "challenge" })),
        "{body}"
    );
    // Everything ticked but two security features and no stills: still refused.
    let partial: Vec<&str> = FULL_CHECKLIST
        .iter()
        .copied()
        .filter(|c| *c != "material" && *c != "hologram")
        .collect();
    let (status, body) = call
        .decide(&app, json!({ "decision": "approve", "checklist": partial }))
        .await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["missing"]
            .to_string()
            .contains("security_features"),
        "{body}"
    );
    assert!(!app.is_registered("12345678Z").await);
}

#[tokio::test]
async fn approval_writes_registration_and_hashed_code_and_the_citizen_gets_the_code() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    call.take_every_still(&app).await;
    call.pass_challenge(&app).await;
    let (status, body) = call
        .decide(
            &app,
            json!({ "decision": "approve", "checklist": FULL_CHECKLIST, "note": "ok" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let registration = body["registration"]
        .as_str()
        .expect("registration")
        .to_owned();
    let approved = call.citizen.until("approved").await;
    let code = approved["activation_code"].as_str().expect("code");
    assert_eq!(code.len(), 19, "{approved}");
    assert_eq!(approved["registration"], registration.as_str());
    // Stored only as a hash; the code appears in no audit detail.
    let (hash, _, used) = app.stored_code(&registration).await;
    assert_ne!(hash, code);
    assert_eq!(
        hash,
        signaling::activation::ActivationCode::parse(code)
            .expect("parses")
            .hash()
    );
    assert_eq!(used, None);
    let events = call.audit(&app).await;
    assert!(events.iter().any(|e| e.action == "decision.approved"));
    assert!(
        events
            .iter()
            .all(|e| !e.detail.contains(code) && !e.detail.contains(&code.replace('-', "")))
    );
    let ticket = app
        .store
        .ticket(&call.ticket)
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!(ticket.outcome.as_deref(), Some("approved"));
    // The agent is told and goes to wrap-up.
    assert_eq!(call.agent.until("call_ended").await["reason"], "approved");
    assert_eq!(call.agent.until("state").await["state"], "wrap_up");
    let report = app.store.verify_audit_chain().await.expect("verify");
    assert_eq!(report.broken, None);
}

#[tokio::test]
async fn an_id_number_with_a_registration_cannot_be_approved_again() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    call.take_every_still(&app).await;
    call.pass_challenge(&app).await;
    let (status, _) = call
        .decide(
            &app,
            json!({ "decision": "approve", "checklist": FULL_CHECKLIST }),
        )
        .await;
    assert_eq!(status, 200);
    // The same citizen comes back and reaches another agent.
    let mut again = app.call_with("bea", "12345678Z", "15/03/2031").await;
    let (status, details) = crate::console_helpers::browser_json(
        &app,
        &again.browser,
        "GET",
        "/staff/console/call",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(details["already_registered"], true, "the console warns");
    again.take_every_still(&app).await;
    again.pass_challenge(&app).await;
    let (status, body) = again
        .decide(
            &app,
            json!({ "decision": "approve", "checklist": FULL_CHECKLIST }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "already_registered");
}

#[tokio::test]
async fn a_rejection_tells_the_citizen_why_and_needs_a_listed_reason() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    // No reason, an empty one (the console's unchosen list) or one not listed: refused,
    // for a rejection and for an abort alike, and the call goes on.
    for asked in [
        json!({ "decision": "reject", "reason": "made_up" }),
        json!({ "decision": "reject" }),
        json!({ "decision": "reject", "reason": "" }),
        json!({ "decision": "reject", "reason": null }),
        json!({ "decision": "abort" }),
        json!({ "decision": "abort", "reason": "" }),
    ] {
        let (status, body) = call.decide(&app, asked.clone()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("reason_required")),
            "{asked}"
        );
    }
    let (status, _) = call.decide(&app, json!({ "decision": "maybe" })).await;
    assert_eq!(status, 422);
    call.reject_expired(&app).await;
    let rejected = call.citizen.until("rejected").await;
    assert_eq!(rejected["reason"], "document_expired");
    assert!(
        rejected["message_en"]
            .as_str()
            .is_some_and(|m| m.contains("expired"))
    );
    assert!(!app.is_registered("12345678Z").await);
}

#[tokio::test]
async fn an_abort_puts_the_citizen_back_at_the_head_of_the_queue() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    // Someone else joins behind.
    let token = app.application("00000000T", "20/06/2019").await;
    let mut other = app.citizen().await;
    other
        .send(json!({ "type": "join", "application": token, "consent": true }))
        .await;
    other.until("queued").await;
    let (status, _) = call
        .decide(
            &app,
            json!({ "decision": "abort", "reason": "video_quality" }),
        )
        .await;
    assert_eq!(status, 200);
    let requeued = call.citizen.until("requeued").await;
    assert_eq!(
        (requeued["position"].as_u64(), requeued["reason"].as_str()),
        (Some(1), Some("video_quality"))
    );
    let waiting = app
        .store
        .waiting_queue(chrono::Utc::now())
        .await
        .expect("queue");
    assert_eq!(waiting[0].id, call.ticket, "back at the head");
}

#[tokio::test]
async fn decisions_need_the_agents_own_call_and_the_csrf_token() {
    let app = spawn_app().await;
    let call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let path = format!("/staff/calls/{}/decision", call.ticket);
    let (status, _) = crate::console_helpers::browser_json(
        &app,
        &call.browser,
        "POST",
        &path,
        Some((
            "nope",
            json!({ "decision": "abort", "reason": "video_quality" }),
        )),
    )
    .await;
    assert_eq!(status, 403);
    app.add_staff("bea", store::StaffRole::Agent).await;
    let mut bea = app.browser();
    bea.sign_in("bea").await;
    let csrf = bea.session_csrf().await;
    let (status, body) = crate::console_helpers::browser_json(
        &app,
        &bea,
        "POST",
        &path,
        Some((
            &csrf,
            json!({ "decision": "abort", "reason": "video_quality" }),
        )),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("not_in_call"))
    );
}

#[tokio::test]
async fn a_citizen_who_missed_the_approval_gets_a_fresh_code_on_coming_back() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let resume = call.citizen_resume_token.clone();
    call.take_every_still(&app).await;
    call.pass_challenge(&app).await;
    // The citizen's connection drops just before the decision.
    call.citizen
        .send_raw(tokio_tungstenite::tungstenite::Message::Close(None))
        .await
        .expect("close");
    // Wait until the server has seen the connection go.
    let ticket = call.ticket.clone();
    for _ in 0..200 {
        if !app.state().signaling.hub.has_citizen(&ticket) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(!app.state().signaling.hub.has_citizen(&ticket));
    let (status, body) = call
        .decide(
            &app,
            json!({ "decision": "approve", "checklist": FULL_CHECKLIST }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let registration = body["registration"].as_str().expect("registration");
    let (first_hash, expires, _) = app.stored_code(registration).await;
    let mut back = app.citizen().await;
    back.send(json!({ "type": "resume", "resume_token": resume }))
        .await;
    let approved = back.until("approved").await;
    let code = approved["activation_code"].as_str().expect("a code");
    let (hash, same_expiry, _) = app.stored_code(registration).await;
    assert_ne!(
        hash, first_hash,
        "a new code replaced the one never received"
    );
    assert_eq!(
        hash,
        signaling::activation::ActivationCode::parse(code)
            .expect("parses")
            .hash()
    );
    assert_eq!(same_expiry, expires);
    let events = call.audit(&app).await;
    assert!(
        events
            .iter()
            .any(|e| e.action == "activation_code.reissued")
    );
}
