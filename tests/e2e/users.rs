//! `videoreg user …` against SQLite and PostgreSQL.

use store::testing::TestDatabase;

use crate::helpers::{run, run_with_stdin, scratch_dir, sqlite_url};

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

async fn account_commands_work(db: &str) {
    let with_db = |rest: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec!["user".into()];
        v.extend(rest.iter().map(|s| s.to_string()));
        v.extend(["--database-url".into(), db.to_owned()]);
        v
    };

    let add = with_db(&["add", "--role", "agent", "--generate", "marta"]);
    let (ok, out, err) = run(&as_strs(&add), &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("created agent account marta"), "{out}");
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password for marta (shown once): "))
        .expect("generated password printed once");
    assert_eq!(password.len(), 20);

    let (ok, _, err) = run(&as_strs(&add), &[]).await;
    assert!(!ok && err.contains("already exists"), "{err}");

    let weak = with_db(&["add", "--role", "supervisor", "--password-stdin", "luis"]);
    let (ok, _, err) = run_with_stdin(&as_strs(&weak), "password1234\n").await;
    assert!(!ok && err.contains("common"), "{err}");
    let (ok, out, err) = run_with_stdin(&as_strs(&weak), "tres tristes tigres comen trigo\n").await;
    assert!(ok, "{err}");
    assert!(out.contains("created supervisor account luis"));

    let bad_name = with_db(&["add", "--role", "auditor", "--generate", "Bad Name"]);
    let (ok, _, err) = run(&as_strs(&bad_name), &[]).await;
    assert!(!ok && err.contains("invalid user name"), "{err}");

    let (ok, out, _) = run(&as_strs(&with_db(&["list"])), &[]).await;
    assert!(ok);
    assert!(
        out.contains("luis")
            && out.contains("supervisor")
            && out.contains("marta")
            && out.contains("active"),
        "{out}"
    );

    let (ok, out, err) = run(&as_strs(&with_db(&["disable", "marta"])), &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("disabled marta"));
    let (_, out, _) = run(&as_strs(&with_db(&["list"])), &[]).await;
    assert!(
        out.lines()
            .any(|l| l.starts_with("marta") && l.ends_with("disabled")),
        "{out}"
    );

    let reset = with_db(&["reset-password", "--generate", "marta"]);
    let (ok, out, err) = run(&as_strs(&reset), &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("password for marta (shown once): "));
    let (_, out, _) = run(&as_strs(&with_db(&["list"])), &[]).await;
    assert!(
        out.lines()
            .any(|l| l.starts_with("marta") && l.ends_with("active")),
        "re-enabled: {out}"
    );

    let (ok, out, err) = run(&as_strs(&with_db(&["reset-mfa", "marta"])), &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("enrol again"));
    let (ok, _, err) = run(&as_strs(&with_db(&["disable", "nobody"])), &[]).await;
    assert!(!ok && err.contains("no staff account named"), "{err}");
}

#[tokio::test]
async fn account_commands_work_on_sqlite() {
    let dir = scratch_dir();
    account_commands_work(&sqlite_url(&dir)).await;
}

#[tokio::test]
async fn account_commands_work_on_postgres() {
    let db = TestDatabase::postgres()
        .await
        .expect("PostgreSQL must be reachable at VIDEOREG_TEST_POSTGRES or 127.0.0.1:5432");
    account_commands_work(&db.url).await;
}

#[tokio::test]
async fn the_password_prompt_needs_a_terminal_and_says_what_to_use_instead() {
    let dir = scratch_dir();
    let (ok, _, err) = run(
        &[
            "user",
            "add",
            "--role",
            "agent",
            "marta",
            "--database-url",
            &sqlite_url(&dir),
        ],
        &[],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("--generate or --password-stdin"), "{err}");
}
