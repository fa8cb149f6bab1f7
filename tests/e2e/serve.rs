use std::time::Duration;

use store::testing::TestDatabase;

use crate::helpers::{passed_test_call, scratch_dir, sqlite_url, start};

#[tokio::test]
async fn the_binary_serves_on_port_0_and_creates_its_sqlite_file() {
    let dir = scratch_dir();
    let url = format!("sqlite://{}", dir.join("nested/dir/videoreg.db").display());
    let server = start(
        &["serve", "--bind", "127.0.0.1:0", "--database-url", &url],
        &[],
    )
    .await;
    let health = reqwest::get(server.url("/healthz")).await.expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    let page = reqwest::get(server.url("/")).await.expect("start page");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("body").contains("Cl@ve"));
    assert!(
        dir.join("nested/dir/videoreg.db").exists(),
        "the file and its directories were created"
    );
}

#[tokio::test]
async fn the_binary_serves_from_postgres() {
    let db = TestDatabase::postgres()
        .await
        .expect("PostgreSQL must be reachable at VIDEOREG_TEST_POSTGRES or 127.0.0.1:5432");
    let server = start(&["--bind", "127.0.0.1:0"], &[("DATABASE_URL", &db.url)]).await;
    let health = reqwest::get(server.url("/healthz")).await.expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    let hours = reqwest::get(server.url("/api/v1/service-hours?days=14"))
        .await
        .expect("hours");
    let body: serde_json::Value = hours.json().await.expect("JSON");
    assert_eq!(body["timezone"], "Europe/Madrid");
    assert!(
        body["windows"].as_array().is_some_and(|w| w.len() >= 8),
        "{body}"
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let dir = scratch_dir();
    let mut server = start(
        &["--bind", "127.0.0.1:0", "--database-url", &sqlite_url(&dir)],
        &[],
    )
    .await;
    let pid = server.child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), server.child.wait())
        .await
        .expect("stopped within 20 s")
        .expect("exit status");
    assert!(status.success(), "exit status {status}");
    let mut rest = Vec::new();
    while let Ok(Some(line)) =
        tokio::time::timeout(Duration::from_secs(5), server.stdout.recv()).await
    {
        rest.push(line);
    }
    assert!(
        rest.iter().any(|l| l.contains("shutting down")),
        "{rest:#?}"
    );
}

#[tokio::test]
async fn the_demo_prints_its_fictional_registry_and_accepts_it() {
    let dir = scratch_dir();
    let server = start(
        &[
            "demo",
            "--always-open",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &sqlite_url(&dir),
        ],
        &[],
    )
    .await;
    assert!(
        server.banner.iter().any(|l| l.contains("12345678Z")),
        "{:#?}",
        server.banner
    );
    for account in ["agente", "supervisora", "auditora"] {
        let printed = server
            .banner
            .iter()
            .any(|l| l.trim_start().starts_with(account));
        assert!(printed, "{account} in {:#?}", server.banner);
    }
    let client = reqwest::Client::new();
    let r = client
        .post(server.url("/api/v1/applications"))
        .json(&serde_json::json!({ "id_number": "12345678Z", "contrast": "15-03-2031", "test_call": passed_test_call(&sqlite_url(&dir)).await }))
        .send()
        .await
        .expect("apply");
    assert_eq!(r.status().as_u16(), 201);
    let page = reqwest::get(server.url("/"))
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("Modo demostración"),
        "always-open is announced"
    );
}

#[tokio::test]
async fn a_config_file_named_in_the_environment_is_read() {
    let dir = scratch_dir();
    let config = dir.join("videoreg.toml");
    std::fs::write(
        &config,
        format!(
            "bind = \"127.0.0.1:0\"\ndatabase_url = \"{}\"\nalways_open = true\n",
            sqlite_url(&dir)
        ),
    )
    .expect("write config");
    let server = start(
        &[],
        &[("VIDEOREG_CONFIG", config.to_str().expect("utf-8 path"))],
    )
    .await;
    let page = reqwest::get(server.url("/?lang=en"))
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(page.contains("Demonstration mode"));
}
