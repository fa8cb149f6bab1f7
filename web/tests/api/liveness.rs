//! The live-person check through the real server: a typed code is accepted once and refused
//! when wrong, reused or late; a spoken one is confirmed by the agent; each step is in the
//! audit chain; approval needs a passed challenge unless the service says otherwise; only the
//! agent in the call may issue or confirm one.

use chrono::TimeDelta;
use serde_json::{Value, json};
use store::StaffRole;
use web::config::{ServeArgs, Toggle};

use crate::console_helpers::{Call, FULL_CHECKLIST, browser_json};
use crate::helpers::{Db, TestApp, spawn_app, spawn_app_with};

/// Issues a challenge and returns what the console got and what the citizen's page got.
async fn issue(app: &TestApp, call: &mut Call<'_>) -> (Value, Value) {
    let (status, issued) = call.challenge(app).await;
    assert_eq!(status, 201, "{issued}");
    let shown = call.citizen.until("challenge").await;
    (issued, shown)
}

async fn answer(call: &mut Call<'_>, challenge: &Value, code: &str) -> Value {
    call.citizen
        .send(json!({ "type": "challenge_answer", "challenge": challenge, "code": code }))
        .await;
    call.citizen.until("challenge_result").await
}

#[tokio::test]
async fn a_typed_code_is_accepted_once_and_both_sides_see_each_step() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let (issued, shown) = issue(&app, &mut call).await;
    let code = issued["code"].as_str().expect("code").to_owned();
    assert_eq!(code.len(), 6, "six digits: {issued}");
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{issued}");
    assert_eq!(
        shown["code"],
        code.as_str(),
        "the citizen's page shows the same code"
    );
    assert_eq!(shown["challenge"], issued["challenge"]);
    assert_eq!(shown["action_en"], issued["action"]["en"]);
    assert_eq!(shown["expires_in_secs"], 60);
    assert_eq!(
        (shown["typed"].clone(), shown["spoken"].clone()),
        (json!(true), json!(true))
    );
    let id = shown["challenge"].clone();

    call.citizen
        .send(json!({ "type": "challenge_shown", "challenge": id }))
        .await;
    assert_eq!(call.agent.until("challenge").await["state"], "shown");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let result = answer(&mut call, &id, wrong).await;
    assert_eq!(result["result"], "wrong_code", "{result}");
    assert_eq!(result["attempts_left"], 2);
    assert_eq!(call.agent.until("challenge").await["state"], "wrong_code");

    // Typed with a space in the middle, as people do: still the code.
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let result = answer(&mut call, &id, &spaced).await;
    assert_eq!(result["result"], "passed", "{result}");
    let told = call.agent.until("challenge").await;
    assert_eq!(told["state"], "passed");
    assert!(told["after_ms"].as_i64().is_some(), "{told}");

    // Single use: the same code again is refused.
    let again = answer(&mut call, &id, &code).await;
    assert_eq!(again["result"], "used", "{again}");

    let events = call.audit(&app).await;
    let actions: Vec<&str> = events
        .iter()
        .filter(|e| e.action.starts_with("challenge."))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        ["challenge.issued", "challenge.shown", "challenge.passed"]
    );
    let passed = events
        .iter()
        .find(|e| e.action == "challenge.passed")
        .expect("passed");
    let detail: Value = serde_json::from_str(&passed.detail).expect("JSON");
    assert_eq!(detail["how"], "typed");
    assert_eq!(detail["wrong_codes"], 1);
    assert!(detail["after_ms"].as_i64().is_some() && detail["after_shown_ms"].as_i64().is_some());
    assert!(
        !events.iter().any(|e| e.detail.contains(&code)),
        "the code itself is in no audit detail"
    );
    let stored = app
        .store
        .challenges_for_ticket(&call.ticket)
        .await
        .expect("read");
    assert_ne!(
        stored[0].code_hash, code,
        "only a hash of the code is stored"
    );
}

#[tokio::test]
async fn a_late_answer_is_refused_and_audited_and_a_new_code_is_never_an_old_one() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let mut codes = Vec::new();
    let (_, first) = issue(&app, &mut call).await;
    codes.push(first["code"].clone());
    app.clock.advance(TimeDelta::seconds(61));
    let late = answer(
        &mut call,
        &first["challenge"],
        first["code"].as_str().expect("code"),
    )
    .await;
    assert_eq!(late["result"], "expired", "{late}");
    assert_eq!(call.agent.until("challenge").await["state"], "expired");
    assert!(
        call.audit(&app)
            .await
            .iter()
            .any(|e| e.action == "challenge.late")
    );

    // A new challenge replaces a live one: the older code no longer counts.
    let (_, second) = issue(&app, &mut call).await;
    let (_, third) = issue(&app, &mut call).await;
    codes.push(second["code"].clone());
    codes.push(third["code"].clone());
    let replaced = answer(
        &mut call,
        &second["challenge"],
        second["code"].as_str().expect("code"),
    )
    .await;
    assert_eq!(replaced["result"], "used", "{replaced}");
    for _ in 0..20 {
        let (_, next) = issue(&app, &mut call).await;
        codes.push(next["code"].clone());
    }
    let distinct: std::collections::HashSet<String> = codes.iter().map(Value::to_string).collect();
    assert_eq!(
        distinct.len(),
        codes.len(),
        "no code twice in one call: {codes:?}"
    );
    let result = answer(
        &mut call,
        &third["challenge"],
        third["code"].as_str().expect("code"),
    )
    .await;
    assert_eq!(result["result"], "used", "the third was replaced too");
}

#[tokio::test]
async fn three_wrong_codes_fail_the_challenge() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let (issued, shown) = issue(&app, &mut call).await;
    let code = issued["code"].as_str().expect("code");
    let wrong = if code == "999999" { "888888" } else { "999999" };
    for left in [2, 1] {
        let r = answer(&mut call, &shown["challenge"], wrong).await;
        assert_eq!(r["attempts_left"], left, "{r}");
    }
    let r = answer(&mut call, &shown["challenge"], wrong).await;
    assert_eq!(r["result"], "failed", "{r}");
    let r = answer(&mut call, &shown["challenge"], code).await;
    assert_eq!(
        r["result"], "used",
        "a failed challenge cannot pass afterwards: {r}"
    );
    assert!(
        call.audit(&app)
            .await
            .iter()
            .any(|e| e.action == "challenge.failed")
    );
}

#[tokio::test]
async fn approval_without_a_passed_challenge_gets_422_and_a_heard_code_lets_it_through() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    call.take_every_still(&app).await;
    let approve = json!({ "decision": "approve", "checklist": FULL_CHECKLIST });
    let (status, body) = call.decide(&app, approve.clone()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["missing"],
        json!([{ "missing": "challenge" }]),
        "{body}"
    );

    let (issued, _) = issue(&app, &mut call).await;
    let heard = format!(
        "/staff/calls/{}/challenge/{}/heard",
        call.ticket,
        issued["challenge"].as_str().expect("id")
    );
    let (status, body) = browser_json(
        &app,
        &call.browser,
        "POST",
        &heard,
        Some((&call.csrf, json!(null))),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        call.citizen.until("challenge_result").await["result"],
        "passed"
    );
    let (status, body) = browser_json(
        &app,
        &call.browser,
        "POST",
        &heard,
        Some((&call.csrf, json!(null))),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("challenge_used")),
        "{body}"
    );
    let (status, details) =
        browser_json(&app, &call.browser, "GET", "/staff/console/call", None).await;
    assert_eq!(
        (status, details["challenge_passed"].clone()),
        (200, json!(true))
    );
    let (status, body) = call.decide(&app, approve).await;
    assert_eq!(status, 200, "{body}");
    let events = call.audit(&app).await;
    let passed = events
        .iter()
        .find(|e| e.action == "challenge.passed")
        .expect("passed");
    assert!(
        passed.detail.contains("\"how\":\"heard\""),
        "{}",
        passed.detail
    );
}

#[tokio::test]
async fn a_heard_code_after_expiry_is_refused_with_410() {
    let app = spawn_app().await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let (issued, _) = issue(&app, &mut call).await;
    app.clock.advance(TimeDelta::seconds(60));
    let heard = format!(
        "/staff/calls/{}/challenge/{}/heard",
        call.ticket,
        issued["challenge"].as_str().expect("id")
    );
    let (status, body) = browser_json(
        &app,
        &call.browser,
        "POST",
        &heard,
        Some((&call.csrf, json!(null))),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (410, json!("challenge_expired")),
        "{body}"
    );
}

#[tokio::test]
async fn only_the_agent_in_the_call_issues_or_confirms_a_challenge() {
    let app = spawn_app_with(Db::Postgres, ServeArgs::default()).await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let (issued, _) = issue(&app, &mut call).await;
    let path = format!("/staff/calls/{}/challenge", call.ticket);
    let heard = format!("{path}/{}/heard", issued["challenge"].as_str().expect("id"));
    // Another agent: not their call.
    app.add_staff("bea", StaffRole::Agent).await;
    let mut bea = app.browser();
    bea.sign_in("bea").await;
    let csrf = bea.session_csrf().await;
    for p in [&path, &heard] {
        let (status, body) = browser_json(&app, &bea, "POST", p, Some((&csrf, json!({})))).await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (409, json!("not_in_call")),
            "{p}: {body}"
        );
    }
    // A supervisor: not an agent at all.
    app.add_staff("sara", StaffRole::Supervisor).await;
    let mut sara = app.browser();
    sara.sign_in("sara").await;
    let csrf = sara.session_csrf().await;
    let (status, _) = browser_json(&app, &sara, "POST", &path, Some((&csrf, json!({})))).await;
    assert_eq!(status, 403);
    // The agent without the CSRF header.
    let (status, _) = browser_json(
        &app,
        &call.browser,
        "POST",
        &path,
        Some(("wrong", json!({}))),
    )
    .await;
    assert_eq!(status, 403);
    // A language that is not offered.
    let (status, body) = browser_json(
        &app,
        &call.browser,
        "POST",
        &path,
        Some((&call.csrf, json!({ "language": "fr" }))),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (422, json!("unknown_language")),
        "{body}"
    );
    // A citizen cannot answer another call's challenge.
    let mut other = app.call_with("carla", "00000000T", "20/06/2019").await;
    let r = answer(
        &mut other,
        &issued["challenge"],
        issued["code"].as_str().expect("code"),
    )
    .await;
    assert_eq!(r["result"], "used", "{r}");
}

#[tokio::test]
async fn with_the_check_not_required_approval_goes_ahead_without_it_and_word_codes_are_two_words() {
    let mut args = ServeArgs::default();
    args.console.liveness_required = Some(Toggle::Off);
    args.console.liveness_code = Some(web::config::LivenessCode::Words);
    let app = spawn_app_with(Db::Sqlite, args).await;
    let mut call = app.call_with("ana", "12345678Z", "15/03/2031").await;
    let path = format!("/staff/calls/{}/challenge", call.ticket);
    let (status, issued) = browser_json(
        &app,
        &call.browser,
        "POST",
        &path,
        Some((&call.csrf, json!({ "language": "en" }))),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let words = issued["code"].as_str().expect("code");
    assert_eq!(words.split(' ').count(), 2, "{issued}");
    assert!(
        words.chars().all(|c| c.is_ascii_lowercase() || c == ' '),
        "{issued}"
    );
    let shown = call.citizen.until("challenge").await;
    // Typed in capitals without the space: the same words.
    let r = answer(
        &mut call,
        &shown["challenge"],
        &words.replace(' ', "").to_uppercase(),
    )
    .await;
    assert_eq!(r["result"], "passed", "{r}");
    let second = app.call_with("bea", "00000000T", "20/06/2019").await;
    second.take_every_still(&app).await;
    let (status, body) = second
        .decide(
            &app,
            json!({ "decision": "approve", "checklist": FULL_CHECKLIST }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
