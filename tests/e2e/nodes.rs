//! One server per SQLite database, and a demo that never resets a database in service.

use std::time::Duration;

use store::testing::TestDatabase;

use crate::helpers::{Server, run, scratch_dir, secrets_key_file, sqlite_url, start, start_in};

/// `serve` on port 0 on `db`, with a secrets key.
async fn serve(db: &str) -> Server {
    start(
        &["serve", "--bind", "127.0.0.1:0", "--database-url", db],
        &[],
    )
    .await
}

/// Runs `serve` on `db` to completion, expecting a refusal: (stderr).
async fn serve_refused(db: &str) -> String {
    let key = secrets_key_file();
    let key = key.to_str().expect("path");
    let (ok, _, err) = run(
        &["serve", "--bind", "127.0.0.1:0", "--database-url", db],
        &[("VIDEOREG_SECRETS_KEY_FILE", key)],
    )
    .await;
    assert!(!ok, "the second server must not start: {err}");
    err
}

/// Sends `signal` (`-TERM`, `-KILL`) and waits for the process to end.
async fn stop(server: &mut Server, signal: &str) {
    crate::cluster::signal(server, signal);
    tokio::time::timeout(Duration::from_secs(20), server.child.wait())
        .await
        .expect("stopped within 20 s")
        .expect("exit status");
}

#[tokio::test]
async fn a_second_server_on_the_same_sqlite_file_refuses_until_the_first_stops() {
    let db = sqlite_url(&scratch_dir());
    let mut first = serve(&db).await;
    let pid = first.child.id().expect("running");
    let err = serve_refused(&db).await;
    assert!(
        err.contains("already served by process")
            && err.contains(&pid.to_string())
            && err.contains("only one videoreg server")
            && err.contains("PostgreSQL"),
        "{err}"
    );
    // The demo is a server too.
    let (ok, _, err) = run(
        &["demo", "--bind", "127.0.0.1:0", "--database-url", &db],
        &[],
    )
    .await;
    assert!(!ok && err.contains("already served by process"), "{err}");

    stop(&mut first, "-TERM").await;
    let second = serve(&db).await;
    let health = reqwest::get(second.url("/healthz")).await.expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test]
async fn a_server_killed_with_sigkill_leaves_no_lock_behind() {
    let db = sqlite_url(&scratch_dir());
    let mut first = serve(&db).await;
    stop(&mut first, "-KILL").await;
    let second = serve(&db).await;
    let health = reqwest::get(second.url("/healthz")).await.expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test]
async fn one_shot_commands_run_beside_the_server_that_holds_the_sqlite_file() {
    let dir = scratch_dir();
    let db = sqlite_url(&dir);
    let _server = serve(&db).await;
    let csv = dir.join("registry.csv");
    std::fs::write(
        &csv,
        "id_number,full_name,valid_until,issued_on,support_number\n\
         12345678Z,Ana Ficticia,2031-01-01,,\n",
    )
    .expect("write csv");
    let csv = csv.to_str().expect("path");
    let commands: [&[&str]; 6] = [
        &["identities", "import", csv],
        &["user", "add", "--role", "agent", "--generate", "marta"],
        &["user", "list"],
        &["audit", "verify"],
        &["audit", "anchor"],
        &["report", "--date", "2026-01-05"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.extend(["--database-url", &db]);
        let (ok, _, err) = run(&args, &[]).await;
        assert!(ok, "{command:?} beside a running server: {err}");
    }
}

/// `demo` on `db` is refused for the staff account `ana`, and starts with --reset-demo.
async fn demo_refuses_a_database_in_service(db: &str) {
    let add = ["user", "add", "--role", "supervisor", "--generate", "ana"];
    let (ok, _, err) = run(&[&add[..], &["--database-url", db]].concat(), &[]).await;
    assert!(ok, "{err}");
    let demo = [
        "demo",
        "--staff-mfa",
        "off",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        db,
    ];
    let (ok, out, err) = run(&demo, &[]).await;
    assert!(!ok, "the demo must refuse: {out}");
    assert!(
        err.contains("staff accounts that the demo did not create (ana)")
            && err.contains("videoreg serve")
            && err.contains("--reset-demo"),
        "{err}"
    );
    assert!(!out.contains("agente"), "no account was seeded: {out}");
    let (_, list, _) = run(&["user", "list", "--database-url", db], &[]).await;
    assert!(!list.contains("agente"), "{list}");

    let server = start(&[&demo[..], &["--reset-demo"]].concat(), &[]).await;
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.trim_start().starts_with("agente")),
        "{:#?}",
        server.banner
    );
}

#[tokio::test]
async fn demo_refuses_a_sqlite_database_with_other_staff_unless_reset_demo() {
    demo_refuses_a_database_in_service(&sqlite_url(&scratch_dir())).await;
}

#[tokio::test]
async fn demo_refuses_a_postgres_database_with_other_staff_unless_reset_demo() {
    let db = TestDatabase::postgres()
        .await
        .expect("PostgreSQL must be reachable at VIDEOREG_TEST_POSTGRES or 127.0.0.1:5432");
    demo_refuses_a_database_in_service(&db.url).await;
}

#[tokio::test]
async fn serve_refuses_reset_demo() {
    let db = sqlite_url(&scratch_dir());
    let key = secrets_key_file();
    let key = key.to_str().expect("path");
    let (ok, _, err) = run(
        &["serve", "--reset-demo", "--database-url", &db],
        &[("VIDEOREG_SECRETS_KEY_FILE", key)],
    )
    .await;
    assert!(
        !ok && err.contains("--reset-demo is for `demo` only"),
        "{err}"
    );
}

#[tokio::test]
async fn serve_refuses_the_test_clock_from_flags_and_from_the_environment() {
    let db = sqlite_url(&scratch_dir());
    let key = secrets_key_file();
    let key = key.to_str().expect("path");
    let key_env = ("VIDEOREG_SECRETS_KEY_FILE", key);
    for (args, env) in [
        (vec!["serve", "--clock-speed", "60"], vec![key_env]),
        (
            vec!["serve", "--clock-start", "2026-12-02T07:59:00Z"],
            vec![key_env],
        ),
        (vec!["serve"], vec![key_env, ("VIDEOREG_CLOCK_SPEED", "60")]),
    ] {
        let (ok, _, err) = run(&[&args[..], &["--database-url", &db]].concat(), &env).await;
        assert!(
            !ok && err.contains("--clock-start and --clock-speed are for `demo` only"),
            "{args:?} {env:?}: {err}"
        );
    }
}

#[tokio::test]
async fn the_readme_demo_command_starts_again_on_its_own_database() {
    // `demo --always-open --staff-mfa off`, as the README has it, in a fresh directory:
    // its database is ./data/demo.db there.
    let dir = scratch_dir();
    let args = [
        "demo",
        "--always-open",
        "--staff-mfa",
        "off",
        "--bind",
        "127.0.0.1:0",
    ];
    let mut first = start_in(&dir, &args, &[]).await;
    assert!(dir.join("data/demo.db").exists());
    stop(&mut first, "-TERM").await;
    let second = start_in(&dir, &args, &[]).await;
    assert!(
        second
            .banner
            .iter()
            .any(|l| l.trim_start().starts_with("supervisora")),
        "new passwords are printed again: {:#?}",
        second.banner
    );
}
