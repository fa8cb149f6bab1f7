//! Citizens behind strict networks, for real: Chromium runs in a network namespace of the
//! test's own (`netns`) whose nftables firewall drops what an office network drops.
//! - UDP dropped: the test call and the call to an agent go over ICE-TCP to videoreg's one
//!   TCP media port; the test-call page says "Direct (TCP)", the agent's console shows it.
//! - Only TCP to the web port and 443: coturn serves TURN over TLS on 443 (a certificate made
//!   here) and the test call says "Relayed: TURN (TLS)".
//! - Only the web port: the test call ends within its limit with what to try, es and en.

use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::Client;
use tokio::process::{Child, Command};

use crate::chromium::{
    Launch, attr, browser_with, click, eventually, screenshot_path, script_number, text,
};
use crate::citizen_checks::{bytes_received, join_queue, type_into};
use crate::console_steps::{demo_password, open_console_at, take_and_accept};
use crate::helpers::{Server, scratch_dir, sqlite_url, start};
use crate::netns::{BrowserNet, no_udp, only_tcp_to};

const TURN_SECRET: &str = "turn-secret-for-e2e";

/// The demo on `net`'s host address with one UDP and one ICE-TCP media port (both picked
/// free), plus `extra` options.
async fn demo_on(net: &BrowserNet, extra: &[&str]) -> Server {
    let bind = format!("{}:0", net.host_ip);
    let db = sqlite_url(&scratch_dir());
    let mut args = vec![
        "demo",
        "--always-open",
        "--staff-mfa",
        "off",
        "--bind",
        &bind,
        "--media-ip",
        &net.host_ip,
        "--media-udp-port",
        "0",
        "--media-tcp-port",
        "0",
        "--database-url",
        &db,
    ];
    args.extend_from_slice(extra);
    start(&args, &[]).await
}

fn port_of(server: &Server) -> u16 {
    server
        .base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("the server's port")
}

/// A citizen's browser inside `net`, treating the server's origin as secure.
async fn citizen_in(
    net: &BrowserNet,
    server: &Server,
    extra: &[&str],
) -> (crate::chromium::Driver, Client) {
    let mut extra_args = vec![BrowserNet::secure_origin_flag(&server.base)];
    extra_args.extend(extra.iter().map(|s| (*s).to_owned()));
    browser_with(&Launch {
        size: (1280, 900),
        netns: Some(net),
        extra_args,
        ..Launch::default()
    })
    .await
}

/// Runs the test call on `/test-call?lang=…` and waits for the page's path and verdict.
async fn test_call(citizen: &Client, server: &Server, lang: &str) -> String {
    citizen
        .goto(&server.url(&format!("/test-call?lang={lang}")))
        .await
        .expect("the test-call page");
    eventually("the camera preview", || async {
        attr(citizen, "start", "disabled").await.is_none()
    })
    .await;
    click(citizen, "#start").await;
    eventually("a verdict", || async {
        attr(citizen, "verdict", "data-verdict")
            .await
            .is_some_and(|v| !v.is_empty())
    })
    .await;
    eventually("the path", || async {
        attr(citizen, "path", "data-path")
            .await
            .is_some_and(|p| !p.is_empty())
    })
    .await;
    attr(citizen, "path", "data-path").await.unwrap_or_default()
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path(name), png).expect("screenshot");
}

/// The test-call page's measurement details, path included, in view for a screenshot.
async fn shot_details(c: &Client, name: &str) {
    c.execute(
        "document.getElementById('results').scrollIntoView()",
        vec![],
    )
    .await
    .expect("scroll");
    shot(c, name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_firewall_that_drops_udp_the_test_call_and_the_call_go_over_ice_tcp() {
    let net = BrowserNet::create(1);
    let server = demo_on(&net, &[]).await;
    net.firewall(&no_udp());
    let (_citizen_driver, citizen) = citizen_in(&net, &server, &[]).await;

    assert_eq!(test_call(&citizen, &server, "en").await, "tcp");
    assert!(
        text(&citizen, "path").await.starts_with("Direct (TCP)"),
        "{}",
        text(&citizen, "path").await
    );
    shot_details(&citizen, "network-udp-blocked-test-call-en.png").await;

    // The application and the queue.
    click(&citizen, "#continue").await;
    eventually("the application form", || async {
        citizen
            .current_url()
            .await
            .is_ok_and(|u| u.path() == "/apply")
    })
    .await;
    type_into(&citizen, "id_number", "12345678Z").await;
    type_into(&citizen, "contrast", "15-03-2031").await;
    click(&citizen, "#submit").await;
    eventually("the application accepted", || async {
        citizen
            .current_url()
            .await
            .is_ok_and(|u| u.path() == "/queue")
    })
    .await;
    join_queue(&citizen).await;

    // The agent's browser is on the host's network: UDP for the agent, TCP for the citizen.
    let (_agent_driver, agent) = browser_with(&Launch {
        size: (1280, 1000),
        extra_args: vec![BrowserNet::secure_origin_flag(&server.base)],
        ..Launch::default()
    })
    .await;
    let password = demo_password(&server, "agente");
    open_console_at(&agent, &server.base, "agente", &password).await;
    take_and_accept(&agent).await;
    eventually("the agent's video at the citizen", || async {
        script_number(
            &citizen,
            "return document.getElementById('remote').videoWidth",
        )
        .await
            > 0.0
    })
    .await;
    for (who, page) in [("citizen", &citizen), ("agent", &agent)] {
        let first = bytes_received(page).await;
        eventually(&format!("bytes growing at the {who}"), || async {
            bytes_received(page).await > first
        })
        .await;
    }
    // The citizen's call itself runs over TCP: the page's own selected pair says so.
    let call_path = citizen
        .execute("return await window.videoregCall.path()", vec![])
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    assert_eq!(call_path.as_deref(), Some("tcp"));
    // The agent's quality indicator says the citizen comes over TCP (the forwarder's view).
    eventually("the citizen's path in the quality indicator", || async {
        attr(&agent, "quality", "data-path").await.as_deref() == Some("tcp")
    })
    .await;
    assert!(text(&agent, "quality").await.contains("over TCP"));
    // The agent sees the path of the citizen's test call with the call's details.
    let details = text(&agent, "details").await;
    assert!(details.contains("direct (TCP)"), "{details}");
    agent
        .execute(
            "document.getElementById('details').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    shot(&agent, "network-udp-blocked-console-en.png").await;
    agent.close().await.expect("close");
    citizen.close().await.expect("close");
}

/// coturn serving TURN over TLS on `ip`:443 with a self-signed certificate made here, and
/// nothing else (no plain UDP or TCP listener), killed when dropped.
async fn coturn_tls(ip: &str) -> Child {
    let dir = scratch_dir();
    let (cert, key) = (dir.join("turn-cert.pem"), dir.join("turn-key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=turn.videoreg.test", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl (Debian package openssl) must be installed: scripts/test installs it");
    assert!(made.success(), "a self-signed certificate");
    let child = Command::new("turnserver")
        .args([
            "-n",
            "--listening-ip",
            ip,
            "--relay-ip",
            ip,
            "--tls-listening-port",
            "443",
        ])
        .arg("--cert")
        .arg(&cert)
        .arg("--pkey")
        .arg(&key)
        .args([
            "--use-auth-secret",
            "--static-auth-secret",
            TURN_SECRET,
            "--realm",
            "videoreg.test",
        ])
        .args([
            "--no-udp",
            "--no-tcp",
            "--no-dtls",
            "--no-cli",
            "--simple-log",
        ])
        .args([
            "--min-port",
            "49700",
            "--max-port",
            "49800",
            "--log-file",
            "stdout",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("coturn (Debian package coturn) must be installed: scripts/test installs it");
    // Ready when its TLS port takes a connection.
    let ready = tokio::time::timeout(Duration::from_secs(20), async {
        while tokio::net::TcpStream::connect((ip, 443)).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        ready.is_ok(),
        "coturn did not listen on {ip}:443 within 20 s"
    );
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_only_443_is_open_the_test_call_goes_through_turn_over_tls() {
    let net = BrowserNet::create(2);
    let _coturn = coturn_tls(&net.host_ip).await;
    let turns = format!("turns:{}:443?transport=tcp", net.host_ip);
    let server = demo_on(
        &net,
        &["--ice-server", &turns, "--turn-secret", TURN_SECRET],
    )
    .await;
    net.firewall(&only_tcp_to(&[port_of(&server), 443]));
    // The certificate is self-signed; a real deployment's comes from a public authority.
    let (_driver, citizen) = citizen_in(&net, &server, &["--ignore-certificate-errors"]).await;
    assert_eq!(test_call(&citizen, &server, "en").await, "turn_tls");
    let shown = text(&citizen, "path").await;
    assert!(shown.starts_with("Relayed: TURN (TLS)"), "{shown}");
    shot_details(&citizen, "network-turn-tls-test-call-en.png").await;
    citizen.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_no_path_works_the_test_call_ends_with_what_to_try_in_both_languages() {
    let net = BrowserNet::create(3);
    let server = demo_on(&net, &[]).await;
    // Only the web pages: no UDP, no ICE-TCP, no TURN.
    net.firewall(&only_tcp_to(&[port_of(&server)]));
    let (_driver, citizen) = citizen_in(&net, &server, &[]).await;
    for (lang, heading) in [
        ("es", "Su red no deja pasar"),
        ("en", "Your network does not let"),
    ] {
        citizen
            .goto(&server.url(&format!("/test-call?lang={lang}")))
            .await
            .expect("the test-call page");
        eventually("the camera preview", || async {
            attr(&citizen, "start", "disabled").await.is_none()
        })
        .await;
        let started = Instant::now();
        click(&citizen, "#start").await;
        eventually("the advice", || async {
            attr(&citizen, "advice", "hidden").await.is_none()
        })
        .await;
        // The page's own limit is 15 s without a connection.
        assert!(
            started.elapsed() < Duration::from_secs(25),
            "{:?}",
            started.elapsed()
        );
        let message = citizen
            .find(fantoccini::Locator::Id("message"))
            .await
            .expect("message");
        assert_eq!(
            message.attr("data-key").await.expect("key").as_deref(),
            Some("no_path")
        );
        assert!(text(&citizen, "advice").await.contains(heading));
        assert!(
            attr(&citizen, "start", "disabled").await.is_none(),
            "the test can be tried again"
        );
        shot(&citizen, &format!("network-no-path-test-call-{lang}.png")).await;
    }
    citizen.close().await.expect("close");
}
