//! Second review through the real server: which approvals are chosen, a reviewer never
//! reviews their own, a flag suspends the activation code (the citizen is told in plain words,
//! in both languages) until an auditor clears it or revokes the registration, and every role
//! other than the one a step needs gets 403.

use serde_json::json;
use store::StaffRole;
use web::config::ServeArgs;

use crate::account_helpers::GOOD_PASSWORD;
use crate::console_helpers::FULL_CHECKLIST;
use crate::helpers::{Db, TestApp, spawn_app_with};
use crate::staff_helpers::Browser;

/// A server choosing `percent` of approvals (and no new-agent rule).
async fn sampling(percent: u32) -> TestApp {
    let mut args = ServeArgs::default();
    args.console.review_sample_percent = Some(percent);
    args.console.review_new_agent_approvals = Some(0);
    spawn_app_with(Db::Sqlite, args).await
}

/// Agent `agent` approves `id_number`; returns the ticket and the activation code.
async fn approve(app: &TestApp, agent: &str, id_number: &str, contrast: &str) -> (String, String) {
    let mut call = app.call_with(agent, id_number, contrast).await;
    call.take_every_still(app).await;
    call.pass_challenge(app).await;
    let (status, body) = call
        .decide(
            app,
            json!({ "decision": "approve", "checklist": FULL_CHECKLIST }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let approved = call.citizen.until("approved").await;
    let code = approved["activation_code"]
        .as_str()
        .expect("code")
        .to_owned();
    (call.ticket.clone(), code)
}

/// A signed-in browser for `name` with `role`; a reviewer when `reviewer`.
async fn staff<'a>(
    app: &'a TestApp,
    name: &str,
    role: StaffRole,
    reviewer: bool,
) -> (Browser<'a>, String) {
    match app.store.find_staff_by_name(name).await.expect("find") {
        None => app.add_staff(name, role).await,
        // Signed in elsewhere already: enrol this browser afresh.
        Some(_) => agent_console::accounts::reset_mfa(&app.store, "test", name, app.clock.now())
            .await
            .expect("reset the second factor"),
    }
    if reviewer {
        agent_console::accounts::set_reviewer(&app.store, "test", name, true, app.clock.now())
            .await
            .expect("reviewer");
    }
    let mut b = app.browser();
    b.sign_in(name).await;
    let csrf = b.session_csrf().await;
    (b, csrf)
}

#[tokio::test]
async fn every_approval_is_chosen_at_100_percent_and_none_at_0() {
    let all = sampling(100).await;
    let (ticket, _) = approve(&all, "ana", "12345678Z", "15/03/2031").await;
    let review = all
        .store
        .review(&ticket)
        .await
        .expect("read")
        .expect("queued");
    assert_eq!(review.sampled_for, "sample");
    assert_eq!(review.outcome, None);
    let events = all.store.audit_for_subject(&ticket).await.expect("audit");
    let approved = events
        .iter()
        .find(|e| e.action == "decision.approved")
        .expect("approved");
    assert!(
        approved.detail.contains("\"sampled_for\":\"sample\""),
        "{}",
        approved.detail
    );

    let none = sampling(0).await;
    let (ticket, _) = approve(&none, "ana", "12345678Z", "15/03/2031").await;
    assert_eq!(none.store.review(&ticket).await.expect("read"), None);
}

#[tokio::test]
async fn a_new_agents_approvals_are_all_reviewed() {
    let mut args = ServeArgs::default();
    args.console.review_sample_percent = Some(0);
    args.console.review_new_agent_approvals = Some(1);
    let app = spawn_app_with(Db::Postgres, args).await;
    let (first, _) = approve(&app, "ana", "12345678Z", "15/03/2031").await;
    let review = app
        .store
        .review(&first)
        .await
        .expect("read")
        .expect("queued");
    assert_eq!(review.sampled_for, "new_agent");
    // Her console signs in again from a fresh browser, enrolling afresh.
    agent_console::accounts::reset_mfa(&app.store, "test", "ana", app.clock.now())
        .await
        .expect("reset");
    let (second, _) = approve(&app, "ana", "00000000T", "20/06/2019").await;
    assert_eq!(
        app.store.review(&second).await.expect("read"),
        None,
        "past the first one"
    );
}

#[tokio::test]
async fn a_reviewer_cannot_review_their_own_decision() {
    let app = sampling(100).await;
    let (ticket, _) = approve(&app, "ana", "12345678Z", "15/03/2031").await;
    let (mut ana, csrf) = staff(&app, "ana", StaffRole::Agent, true).await;
    let list = ana.get("/staff/reviews").await;
    assert_eq!(list.status, 200);
    assert!(
        !list.body.contains(&ticket),
        "their own approval is not offered"
    );
    let page = ana.get(&format!("/staff/decisions/{ticket}")).await;
    assert_eq!(page.status, 403, "nor shown");
    let path = format!("/staff/decisions/{ticket}/review");
    let r = ana
        .post(&path, &[("csrf", csrf.as_str()), ("outcome", "confirm")])
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("own decisions"), "{}", r.body);
    assert_eq!(
        app.store
            .review(&ticket)
            .await
            .expect("read")
            .expect("queued")
            .outcome,
        None
    );
}

#[tokio::test]
async fn a_flag_suspends_activation_until_an_auditor_clears_it() {
    let app = sampling(100).await;
    let (ticket, code) = approve(&app, "ana", "12345678Z", "15/03/2031").await;
    let (mut bea, csrf) = staff(&app, "bea", StaffRole::Agent, true).await;
    let list = bea.get("/staff/reviews").await;
    assert!(list.body.contains(&ticket), "offered to another reviewer");
    let page = bea.get(&format!("/staff/decisions/{ticket}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("name=\"outcome\" value=\"flag\""),
        "the review form"
    );
    assert!(
        page.body.contains("Lucía Martín Ficticia"),
        "the registry's record beside the evidence"
    );
    assert!(
        !page.body.contains("/hold\""),
        "no legal hold form for a reviewer"
    );
    let path = format!("/staff/decisions/{ticket}/review");
    let r = bea
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("outcome", "flag"),
                ("reason", "no_such_reason"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "a flag needs a listed reason");
    let r = bea
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("outcome", "flag"),
                ("reason", "face_mismatch"),
                ("note", "ears differ"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some("/staff/reviews")),
        "{}",
        r.body
    );
    let r = bea
        .post(&path, &[("csrf", csrf.as_str()), ("outcome", "confirm")])
        .await;
    assert_eq!(r.status, 409, "reviewed once");

    for (lang, words) in [
        ("es", "Su registro está en revisión"),
        ("en", "Your registration is under review"),
    ] {
        let answer = app
            .activate("12345678Z", &code, GOOD_PASSWORD, GOOD_PASSWORD, lang)
            .await;
        assert_eq!(answer.status, 409, "{}", answer.body);
        assert!(answer.body.contains(words), "{lang}: {}", answer.body);
    }
    assert!(!app.has_password("12345678Z").await);

    let (mut auditor, csrf) = staff(&app, "olga", StaffRole::Auditor, false).await;
    let flags = auditor.get("/staff/reviews").await;
    assert!(
        flags.body.contains(&ticket),
        "the auditor sees the flag to resolve"
    );
    let resolve = format!("/staff/decisions/{ticket}/review/resolve");
    let r = auditor
        .post(
            &resolve,
            &[("csrf", csrf.as_str()), ("resolution", "clear")],
        )
        .await;
    assert_eq!(r.status, 422, "a resolution needs its explanation");
    let r = auditor
        .post(
            &resolve,
            &[
                ("csrf", &csrf),
                ("resolution", "clear"),
                ("note", "same person, checked the ID photo"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let answer = app
        .activate("12345678Z", &code, GOOD_PASSWORD, GOOD_PASSWORD, "en")
        .await;
    assert_eq!(answer.status, 200, "the code works again: {}", answer.body);
    let actions: Vec<String> = app
        .store
        .audit_for_subject(&ticket)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("review."))
        .collect();
    assert_eq!(actions, ["review.flagged", "review.cleared"]);
}

#[tokio::test]
async fn a_revoked_registration_tells_the_citizen_it_could_not_be_confirmed() {
    let app = sampling(100).await;
    let (ticket, code) = approve(&app, "ana", "12345678Z", "15/03/2031").await;
    let (mut bea, csrf) = staff(&app, "bea", StaffRole::Agent, true).await;
    let path = format!("/staff/decisions/{ticket}/review");
    bea.post(
        &path,
        &[
            ("csrf", &csrf),
            ("outcome", "flag"),
            ("reason", "liveness_doubt"),
        ],
    )
    .await;
    let (mut auditor, csrf) = staff(&app, "olga", StaffRole::Auditor, false).await;
    let resolve = format!("/staff/decisions/{ticket}/review/resolve");
    let r = auditor
        .post(
            &resolve,
            &[
                ("csrf", &csrf),
                ("resolution", "revoke"),
                ("note", "replayed video"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let answer = app
        .activate("12345678Z", &code, GOOD_PASSWORD, GOOD_PASSWORD, "es")
        .await;
    assert_eq!(answer.status, 409);
    assert!(
        answer.body.contains("no se ha podido confirmar"),
        "{}",
        answer.body
    );
    let r = auditor
        .post(
            &resolve,
            &[
                ("csrf", csrf.as_str()),
                ("resolution", "clear"),
                ("note", "again"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "resolved once");
}

#[tokio::test]
async fn each_review_step_is_refused_to_the_other_roles() {
    let app = sampling(100).await;
    let (ticket, _) = approve(&app, "ana", "12345678Z", "15/03/2031").await;
    let review = format!("/staff/decisions/{ticket}/review");
    let resolve = format!("{review}/resolve");
    let page = format!("/staff/decisions/{ticket}");
    // An agent without the reviewer flag, and a supervisor: nothing.
    let (mut carla, csrf) = staff(&app, "carla", StaffRole::Agent, false).await;
    assert_eq!(carla.get("/staff/reviews").await.status, 403);
    assert_eq!(carla.get(&page).await.status, 403);
    assert_eq!(
        carla
            .post(&review, &[("csrf", csrf.as_str()), ("outcome", "confirm")])
            .await
            .status,
        403
    );
    let (mut sara, csrf) = staff(&app, "sara", StaffRole::Supervisor, false).await;
    assert_eq!(sara.get("/staff/reviews").await.status, 403);
    assert_eq!(
        sara.post(&review, &[("csrf", csrf.as_str()), ("outcome", "confirm")])
            .await
            .status,
        403
    );
    assert_eq!(
        sara.post(
            &resolve,
            &[
                ("csrf", csrf.as_str()),
                ("resolution", "clear"),
                ("note", "x")
            ]
        )
        .await
        .status,
        403
    );
    // A reviewer cannot resolve; an auditor cannot review.
    let (mut bea, csrf) = staff(&app, "bea", StaffRole::Agent, true).await;
    assert_eq!(
        bea.post(
            &resolve,
            &[
                ("csrf", csrf.as_str()),
                ("resolution", "clear"),
                ("note", "x")
            ]
        )
        .await
        .status,
        403
    );
    assert_eq!(
        bea.post(&review, &[("csrf", "wrong"), ("outcome", "confirm")])
            .await
            .status,
        403,
        "CSRF"
    );
    let (mut olga, csrf) = staff(&app, "olga", StaffRole::Auditor, false).await;
    assert_eq!(
        olga.post(&review, &[("csrf", csrf.as_str()), ("outcome", "confirm")])
            .await
            .status,
        403
    );
    // The reviewer sees the approval's stills; not those of a call not under review.
    let stills = app.store.stills_for_ticket(&ticket).await.expect("stills");
    let still = format!("/staff/stills/{}", stills[0].id);
    assert_eq!(bea.get(&still).await.status, 200);
    let none = sampling(0).await;
    let (other, _) = approve(&none, "ana", "12345678Z", "15/03/2031").await;
    let (mut bea2, _) = staff(&none, "bea", StaffRole::Agent, true).await;
    assert_eq!(
        bea2.get(&format!("/staff/decisions/{other}")).await.status,
        403
    );
    // The supervisors' report counts the review per approving agent.
    let token = csrf_of(&mut bea).await;
    let r = bea
        .post(&review, &[("csrf", token.as_str()), ("outcome", "confirm")])
        .await;
    assert_eq!(r.status, 303);
    let (mut sara_again, _) = staff(&app, "sara", StaffRole::Supervisor, false).await;
    let report = sara_again.get("/supervisor/report").await;
    assert!(
        report.body.contains("<table id=\"reviews\">"),
        "{}",
        report.body
    );
    let row = report
        .body
        .split("<table id=\"reviews\">")
        .nth(1)
        .expect("table");
    assert!(
        row.contains("<td>ana</td><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td>"),
        "{row}"
    );
}

async fn csrf_of(b: &mut Browser<'_>) -> String {
    b.session_csrf().await
}
