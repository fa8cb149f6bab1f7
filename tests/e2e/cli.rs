use crate::helpers::{passed_test_call, run, scratch_dir, secrets_key_file, sqlite_url, start};

#[tokio::test]
async fn help_lists_every_option() {
    let (ok, out, _) = run(&["--help"], &[]).await;
    assert!(ok);
    for option in [
        "--config",
        "--database-url",
        "--bind",
        "--always-open",
        "--hours",
        "--closed-date",
        "--special-hours",
        "--verify-limit-per-id",
        "--verify-limit-per-address",
        "--verify-limit-window-minutes",
        "--application-ttl-minutes",
        "--trust-forwarded-for",
        "VIDEOREG_BIND",
        "DATABASE_URL",
        "serve",
        "demo",
        "identities",
        "audit",
        "--wrap-up-seconds",
        "--offer-timeout-seconds",
        "--activation-code-days",
        "--still-max-kib",
        "--service-level-seconds",
        "--metrics-token",
        "report",
    ] {
        assert!(out.contains(option), "--help lacks {option}:\n{out}");
    }
    let (ok, out, _) = run(&["identities", "import", "--help"], &[]).await;
    assert!(ok);
    assert!(
        out.contains("--database-url") && out.contains("support_number"),
        "{out}"
    );
}

#[tokio::test]
async fn a_bad_option_is_refused_with_a_reason() {
    let key = secrets_key_file();
    let (ok, _, err) = run(&["--hours", "9-14"], &[]).await;
    assert!(!ok);
    assert!(err.contains("HH:MM-HH:MM"), "{err}");
    let (ok, _, err) = run(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            "mysql://x",
        ],
        &[("VIDEOREG_SECRETS_KEY_FILE", &key.display().to_string())],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("unsupported database URL"), "{err}");
}

#[tokio::test]
async fn import_reports_every_bad_line_and_imports_nothing() {
    let dir = scratch_dir();
    let db = sqlite_url(&dir);
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "id_number,full_name,valid_until,issued_on,support_number\n\
         12345678Z,Ana Ficticia,2031-01-01,,\n\
         12345678A,Wrong Letter,2031-01-01,,\n\
         X1234567L,No Support,,,\n",
    )
    .expect("write csv");
    let (ok, _, err) = run(
        &[
            "identities",
            "import",
            "--database-url",
            &db,
            bad.to_str().expect("path"),
        ],
        &[],
    )
    .await;
    assert!(!ok, "a bad file fails");
    assert!(
        err.contains("line 3") && err.contains("line 4") && err.contains("nothing was imported"),
        "{err}"
    );

    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "id_number,full_name,valid_until,issued_on,support_number\n\
         12345678Z,Ana Ficticia,2031-01-01,,\n\
         X1234567L,Amina Ficticia,,,E00012345\n",
    )
    .expect("write csv");
    let (ok, out, err) = run(
        &["identities", "import", good.to_str().expect("path")],
        &[("DATABASE_URL", &db)],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("imported 2 identity records"), "{out}");

    // Nothing from the bad file got in: its only good line is the one imported now, and
    // the server answers for exactly the imported people.
    let server = start(
        &[
            "--bind",
            "127.0.0.1:0",
            "--always-open",
            "--database-url",
            &db,
        ],
        &[],
    )
    .await;
    let client = reqwest::Client::new();
    for (id, contrast, status) in [
        ("12345678Z", "01/01/2031", 201),
        ("X1234567L", "E00012345", 201),
        ("00000000T", "01/01/2031", 422),
    ] {
        let r = client
            .post(server.url("/api/v1/applications"))
            .json(&serde_json::json!({ "id_number": id, "contrast": contrast, "test_call": passed_test_call(&db).await }))
            .send()
            .await
            .expect("apply");
        assert_eq!(r.status().as_u16(), status, "{id}");
    }
}

#[tokio::test]
async fn import_of_a_missing_file_says_so() {
    let dir = scratch_dir();
    let (ok, _, err) = run(
        &[
            "identities",
            "import",
            "--database-url",
            &sqlite_url(&dir),
            "/nonexistent/registry.csv",
        ],
        &[],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("/nonexistent/registry.csv"), "{err}");
}

#[tokio::test]
async fn report_prints_a_days_tickets_as_csv() {
    let dir = scratch_dir();
    let db = sqlite_url(&dir);
    let store = store::Store::open(&db).await.expect("open");
    let joined = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:15:00+01:00")
        .expect("instant")
        .to_utc();
    crate::helpers::applicant(&store, joined).await;
    store
        .join_queue(
            &store::NewTicket {
                id: "ticket-1",
                application_id: "app-1",
                id_number: "12345678Z",
                priority: 0,
                joined_at: joined,
                told_estimate_secs: Some(240),
                resume_token_hash: "resume-1",
                consent_at: joined,
                appointment_at: None,
                told_range_secs: None,
            },
            None,
        )
        .await
        .expect("join");
    store.close().await;

    let (ok, out, err) = run(
        &["report", "--date", "2026-11-26", "--database-url", &db],
        &[],
    )
    .await;
    assert!(ok, "{err}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "ticket,joined,answered,ended,told_estimate_secs,real_wait_secs,agent,outcome,reason,appointment,appointment_status,wait_after_slot_secs"
        )
    );
    assert_eq!(
        lines.next(),
        Some("ticket-1,2026-11-26 10:15:00,,,240,,,waiting,,,,")
    );
    assert_eq!(lines.next(), None);
    let (ok, out, _) = run(
        &["report", "--date", "2026-11-25", "--database-url", &db],
        &[],
    )
    .await;
    assert!(ok);
    assert_eq!(
        out.lines().count(),
        1,
        "a day without tickets: the header only"
    );
    let (ok, _, err) = run(
        &["report", "--date", "26/11/2026", "--database-url", &db],
        &[],
    )
    .await;
    assert!(!ok && err.contains("26/11/2026"), "{err}");
}

#[tokio::test]
async fn citizen_unlock_clears_the_id_numbers_counters_and_is_audited_by_the_cli() {
    let dir = scratch_dir();
    let url = sqlite_url(&dir);
    let store = store::Store::open(&url).await.expect("open");
    let now = chrono::Utc::now();
    let mut tx = store.begin().await.expect("begin");
    tx.count_attempt(store::ThrottleScope::CitizenId, "12345678Z", now, None)
        .await
        .expect("count");
    tx.commit().await.expect("commit");

    let args = [
        "citizen",
        "unlock",
        "12345678z",
        "--reason",
        "call 4711",
        "--database-url",
        &url,
    ];
    let (ok, out, err) = run(&args, &[]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("unlocked *****678Z: 1 counters cleared"),
        "{out}"
    );
    let left = store
        .throttle(store::ThrottleScope::CitizenId, "12345678Z")
        .await
        .expect("read");
    assert_eq!(left, None);
    let events = store.audit_for_subject("*****678Z").await.expect("audit");
    let unlock = events
        .iter()
        .find(|e| e.action == "citizen.unlocked")
        .expect("audited");
    assert_eq!(unlock.actor, "cli");
    assert!(unlock.detail.contains("call 4711"));

    let (ok, _, err) = run(
        &["citizen", "unlock", "12345678A", "--database-url", &url],
        &[],
    )
    .await;
    assert!(!ok && err.contains("not a DNI or NIE"), "{err}");
    store.close().await;
}

#[tokio::test]
async fn serving_with_the_second_factor_and_no_secrets_key_is_refused() {
    let dir = scratch_dir();
    let db = sqlite_url(&dir);
    let (ok, _, err) = run(
        &["serve", "--bind", "127.0.0.1:0", "--database-url", &db],
        &[],
    )
    .await;
    assert!(!ok, "refused");
    assert!(err.contains("--secrets-key-file"), "{err}");
}
