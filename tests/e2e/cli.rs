use crate::helpers::{passed_test_call, run, scratch_dir, sqlite_url, start};

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
        &[],
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
