//! The supervisors' dashboard in real headless Chromium: it updates without reloading when
//! an agent (in a second Chromium, in the console) changes state and when a citizen joins
//! the queue (over the citizen WebSocket); screenshots go to `target/screenshots/`.

use fantoccini::{Client, Locator};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::chromium::{browser_sized, click, eventually, screenshot_path, script_number};
use crate::console_steps::{demo_password, open_console};
use crate::helpers::{Server, apply, demo_server};

/// The text of the first element matching `css`.
async fn text_of(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn sign_in(c: &Client, server: &Server, name: &str, password: &str) {
    c.goto(&server.url("/staff/login"))
        .await
        .expect("login page");
    let field = c.find(Locator::Id("name")).await.expect("name");
    field.send_keys(name).await.expect("type");
    let field = c.find(Locator::Id("password")).await.expect("password");
    field.send_keys(password).await.expect("type");
    click(c, "form button[type=submit]").await;
    eventually("signed in", || async {
        c.current_url().await.is_ok_and(|u| u.path() == "/staff")
    })
    .await;
}

/// A citizen applies (with a passed test call) and joins over the citizen WebSocket; the
/// socket is returned so that the place is kept.
async fn citizen_joins(
    server: &Server,
    db: &str,
    id_number: &str,
    contrast: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let token = apply(server, db, id_number, contrast).await;
    let url = server.url("/ws/citizen").replacen("http://", "ws://", 1);
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("citizen socket");
    let join = json!({ "type": "join", "application": token, "consent": true });
    ws.send(Message::Text(join.to_string().into()))
        .await
        .expect("join");
    let queued = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Text(t) = m
                && serde_json::from_str::<Value>(t.as_str()).is_ok_and(|v| v["type"] == "queued")
            {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(queued, Ok(true), "the citizen is queued");
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_updates_without_reload_when_a_citizen_joins_and_an_agent_changes_state() {
    let (server, db) = demo_server("42600-42799").await;
    let (_sup_driver, sup) = browser_sized(false, (1280, 1500)).await;
    sign_in(
        &sup,
        &server,
        "supervisora",
        &demo_password(&server, "supervisora"),
    )
    .await;
    sup.goto(&server.url("/supervisor?lang=es"))
        .await
        .expect("dashboard");
    eventually("the first snapshot", || async {
        text_of(&sup, "[data-field=waiting]").await == "0"
    })
    .await;
    // Anything the page keeps survives only if it is never reloaded.
    sup.execute("window.notReloaded = 42; return true", vec![])
        .await
        .expect("mark");
    let seen = script_number(
        &sup,
        "return Number(document.getElementById('dashboard').dataset.updates)",
    )
    .await;
    assert!(seen >= 1.0);

    // An agent signs in to the console and becomes available.
    let (_agent_driver, agent) = browser_sized(false, (1280, 900)).await;
    open_console(&agent, &server, "agente", &demo_password(&server, "agente")).await;
    eventually("the agent shown available", || async {
        text_of(&sup, "#agents tr [data-state=available]").await == "Disponible"
    })
    .await;

    // Two citizens join.
    let _first = citizen_joins(&server, &db, "12345678Z", "15-03-2031").await;
    eventually("one citizen waiting", || async {
        text_of(&sup, "[data-field=waiting]").await == "1"
    })
    .await;
    let _second = citizen_joins(&server, &db, "X1234567L", "E00012345").await;
    eventually("two citizens waiting", || async {
        text_of(&sup, "[data-field=waiting]").await == "2"
    })
    .await;
    assert_eq!(text_of(&sup, "[data-field='figures.joined']").await, "2");

    // The agent goes on a break: the dashboard shows it, with the reason.
    click(&agent, "#go-break").await;
    eventually("the agent shown on break", || async {
        text_of(&sup, "#agents tr [data-state=break]").await == "En pausa"
    })
    .await;
    assert!(
        text_of(&sup, "#agents").await.contains("descanso"),
        "the break's reason"
    );
    assert!(text_of(&sup, "#agent-counts").await.contains("1 en pausa"));
    assert!(
        sup.find(Locator::Css("#chart-queue svg")).await.is_ok(),
        "the queue chart is drawn"
    );
    assert_eq!(
        script_number(&sup, "return window.notReloaded").await,
        42.0,
        "the page was never reloaded"
    );
    let png = sup.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path("supervisor-es.png"), png).expect("write screenshot");

    sup.goto(&server.url("/supervisor?lang=en"))
        .await
        .expect("dashboard in English");
    eventually("the English dashboard filled", || async {
        text_of(&sup, "[data-field=waiting]").await == "2"
    })
    .await;
    assert!(text_of(&sup, "#agents").await.contains("On break"));
    let png = sup.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path("supervisor-en.png"), png).expect("write screenshot");

    // The daily report lists both citizens.
    sup.goto(&server.url("/supervisor/report?lang=en"))
        .await
        .expect("report");
    assert!(text_of(&sup, "#r-joined").await == "2");
    agent.close().await.expect("close");
    sup.close().await.expect("close");
}
