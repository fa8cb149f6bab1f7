//! Running the `videoreg` binary for the end-to-end tests: a server on its own scratch
//! database, one-shot commands, and the steps that set a citizen up through the API.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// How long the binary may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The `videoreg` binary that `cargo test --workspace` / `cargo nextest run --workspace`
/// builds next to this test binary.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let bin = dir.join(format!("videoreg{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the suite for the whole workspace (cargo nextest run --workspace), which builds it",
        bin.display()
    );
    bin
}

/// A running `videoreg` process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Every stdout line after the `listening on` line, as it arrives.
    pub stdout: mpsc::UnboundedReceiver<String>,
    /// The stdout lines before it (the demo prints its registry there).
    pub banner: Vec<String>,
}

/// Starts `videoreg ARGS…` and waits for its `listening on http://ADDR` line.
pub async fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(binary());
    let chosen = args.contains(&"--recordings-dir")
        || env.iter().any(|(k, _)| *k == "VIDEOREG_RECORDINGS_DIR");
    if !chosen {
        // Every call is recorded: a directory of the test's own, not one under the crate.
        cmd.env("VIDEOREG_RECORDINGS_DIR", scratch_dir().join("recordings"));
    }
    start_command(cmd, args, env).await
}

/// [`start`] in the working directory `dir`, as a person who types the README's command
/// there (the default databases are under `./data/`).
pub async fn start_in(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(binary());
    cmd.current_dir(dir);
    start_command(cmd, args, env).await
}

async fn start_command(mut cmd: Command, args: &[&str], env: &[(&str, &str)]) -> Server {
    cmd.args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let keyed = args.contains(&"--secrets-key-file")
        || env.iter().any(|(k, _)| *k == "VIDEOREG_SECRETS_KEY_FILE");
    if !args.contains(&"demo") && !keyed {
        // Serving with the second factor on needs a secrets key; the demo keeps its own.
        cmd.env("VIDEOREG_SECRETS_KEY_FILE", secrets_key_file());
    }
    let mut child = cmd.spawn().expect("spawn videoreg");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut banner = Vec::new();
    let base = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = rx.recv().await {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.split_whitespace().next().map(str::to_owned);
            }
            banner.push(line);
        }
        None
    })
    .await
    .expect("videoreg did not start listening in time")
    .expect("videoreg exited before listening");
    Server {
        child,
        base,
        stdout: rx,
        banner,
    }
}

/// Runs `videoreg ARGS…` to completion: (success, stdout, stderr).
pub async fn run(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(binary());
    cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("videoreg finished in time")
        .expect("run videoreg");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh secrets key file in a scratch directory (as `openssl rand -hex 32` makes one).
pub fn secrets_key_file() -> PathBuf {
    let path = scratch_dir().join("secrets.key");
    let (_, text) = store::sealing::SecretsKey::generate().expect("random key");
    std::fs::write(&path, format!("{text}\n")).expect("write the key file");
    path
}

/// A fresh directory for one test's files.
pub fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir()
        .join("videoreg-e2e")
        .join(uuid::Uuid::new_v4().simple().to_string());
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("videoreg.db").display())
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A passed test call's token, written straight into the server's database (the real test
/// call is tested in web's echo tests and in the browser test).
pub async fn passed_test_call(database_url: &str) -> String {
    passed_test_call_at(database_url, chrono::Utc::now()).await
}

/// [`passed_test_call`] made at `now` by the server's clock (a demo with `--clock-start`).
pub async fn passed_test_call_at(database_url: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let store = store::Store::open(database_url)
        .await
        .expect("open the server's database");
    let (token, hash) = store::secrets::new_token().expect("token");
    store
        .insert_test_call(
            &hash,
            r#"{"verdict":"good"}"#,
            now,
            now + chrono::TimeDelta::minutes(30),
        )
        .await
        .expect("store a test call");
    store.close().await;
    token
}

/// Applies as `id_number` with `contrast` and a passed test call (written into `database_url`);
/// returns the application token.
pub async fn apply(server: &Server, database_url: &str, id_number: &str, contrast: &str) -> String {
    apply_at(
        server,
        database_url,
        id_number,
        contrast,
        chrono::Utc::now(),
    )
    .await
}

/// [`apply`] with the test call made at `now` by the server's clock.
pub async fn apply_at(
    server: &Server,
    database_url: &str,
    id_number: &str,
    contrast: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let test_call = passed_test_call_at(database_url, now).await;
    let r = reqwest::Client::new()
        .post(server.url("/api/v1/applications"))
        .json(&serde_json::json!({ "id_number": id_number, "contrast": contrast, "test_call": test_call }))
        .send()
        .await
        .expect("apply");
    assert_eq!(r.status().as_u16(), 201);
    r.json::<serde_json::Value>().await.expect("JSON")["application"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// Runs `videoreg ARGS…` with `input` on standard input.
pub async fn run_with_stdin(args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.as_bytes())
        .await
        .expect("write stdin");
    drop(stdin);
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("finished in time")
        .expect("output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The demo on port 0, open around the clock, without the staff second factor, on its own
/// SQLite file and UDP `media_ports`; returns it with its database URL.
pub async fn demo_server(media_ports: &str) -> (Server, String) {
    let db = sqlite_url(&scratch_dir());
    let server = start(
        &[
            "demo",
            "--always-open",
            "--staff-mfa",
            "off",
            "--bind",
            "127.0.0.1:0",
            "--media-ports",
            media_ports,
            "--database-url",
            &db,
        ],
        &[],
    )
    .await;
    (server, db)
}

/// A fictional citizen (`12345678Z`) in the registry of `store`, with an application
/// (`app-1`) made at `at`, ready to join the queue.
pub async fn applicant(store: &store::Store, at: chrono::DateTime<chrono::Utc>) {
    let identity = store::IdentityRecord {
        id_number: "12345678Z".into(),
        kind: store::IdentityKind::Dni,
        full_name: "Lucía Prueba Ficticia".into(),
        valid_until: Some("2031-03-15".into()),
        issued_on: None,
        support_number: None,
        birth_date: None,
    };
    store
        .upsert_identities(&[identity], at)
        .await
        .expect("identity");
    store
        .insert_application(&store::NewApplication {
            id: "app-1",
            token_hash: "hash-1",
            id_number: "12345678Z",
            client_addr: "127.0.0.1",
            created_at: at,
            expires_at: at + chrono::TimeDelta::hours(6),
            test_call: None,
        })
        .await
        .expect("application");
}
