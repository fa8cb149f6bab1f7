//! TURN for real: coturn on loopback with `use-auth-secret`; a citizen peer limited to relay
//! candidates connects with the credentials videoreg handed out, and fails with wrong or
//! expired ones.

use std::process::Stdio;
use std::time::Duration;

use chrono::TimeDelta;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use web::config::ServeArgs;
use webrtc::peer_connection::RTCIceServer;

use crate::helpers::{Db, TestApp, spawn_app_with};
use crate::media_helpers::TestPeer;

const SECRET: &str = "turn-secret-for-tests";

/// coturn on a free loopback port, killed when dropped. Fails (never skips) if coturn is
/// missing: `.ci/run` installs it.
async fn coturn() -> (Child, u16) {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = Command::new("turnserver")
        .args([
            "-n",
            "--listening-ip",
            "127.0.0.1",
            "--relay-ip",
            "127.0.0.1",
            "--listening-port",
            &port.to_string(),
        ])
        .args([
            "--use-auth-secret",
            "--static-auth-secret",
            SECRET,
            "--realm",
            "videoreg.test",
        ])
        .args([
            "--allow-loopback-peers",
            "--no-tls",
            "--no-dtls",
            "--no-tcp",
            "--no-cli",
            "--simple-log",
        ])
        .args([
            "--min-port",
            "49200",
            "--max-port",
            "49400",
            "--log-file",
            "stdout",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("coturn (Debian package coturn) must be installed: .ci/run installs it");
    // Drain its log so it never blocks on a full pipe.
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    // Ready when it answers a STUN binding request.
    let probe = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("probe socket");
    let mut request = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42];
    request.extend_from_slice(b"videoreg-rdy");
    let ready = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 512];
        loop {
            probe
                .send_to(&request, ("127.0.0.1", port))
                .await
                .expect("send STUN");
            let reply =
                tokio::time::timeout(Duration::from_millis(200), probe.recv_from(&mut buf)).await;
            if let Ok(Ok((n, _))) = reply
                && n >= 20
                && buf[0..2] == [0x01, 0x01]
            {
                return;
            }
        }
    })
    .await;
    assert!(ready.is_ok(), "coturn did not answer STUN within 20 s");
    (child, port)
}

fn servers(v: &Value) -> Vec<RTCIceServer> {
    v.as_array()
        .expect("ice servers")
        .iter()
        .map(|s| RTCIceServer {
            urls: s["urls"]
                .as_array()
                .expect("urls")
                .iter()
                .map(|u| u.as_str().expect("url").to_owned())
                .collect(),
            username: s["username"].as_str().unwrap_or_default().to_owned(),
            credential: s["credential"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

async fn app_with_turn(port: u16) -> TestApp {
    let args = ServeArgs {
        ice_servers: vec![format!("turn:127.0.0.1:{port}")],
        turn_secret: Some(SECRET.to_owned()),
        turn_ttl_minutes: Some(10),
        always_open: true,
        ..ServeArgs::default()
    };
    let app = spawn_app_with(Db::Sqlite, args).await;
    // coturn judges the credentials' expiry by the real clock: mint them at the real time
    // (the service is always open here, so the queue does not depend on the hour).
    app.clock.set(chrono::Utc::now());
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_only_citizen_connects_through_coturn_with_the_credentials_handed_out() {
    let (_coturn, port) = coturn().await;
    let app = app_with_turn(port).await;
    let (mut citizen, ice, _agent) = app.accepted_call().await;
    let given = servers(&ice);
    assert_eq!(given[0].urls, [format!("turn:127.0.0.1:{port}")]);
    assert!(
        given[0].username.ends_with(":") || given[0].username.contains(':'),
        "expiry:tag"
    );

    let mut peer = TestPeer::with_ice(0x0C00_0000, "citizen", given, true).await;
    assert!(
        peer.try_connect(&mut citizen, Duration::from_secs(20))
            .await,
        "connected through the relay"
    );
    let sent = peer.sent_candidates();
    assert!(
        !sent.is_empty() && sent.iter().all(|c| c.contains("typ relay")),
        "{sent:?}"
    );
    peer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_or_expired_turn_credentials_do_not_connect() {
    let (_coturn, port) = coturn().await;
    let app = app_with_turn(port).await;
    let (mut citizen, ice, _agent) = app.accepted_call().await;
    let mut wrong = servers(&ice);
    wrong[0].credential = "not-the-password".to_owned();
    let mut peer = TestPeer::with_ice(0x0C00_0000, "citizen", wrong, true).await;
    assert!(
        !peer.try_connect(&mut citizen, Duration::from_secs(6)).await,
        "wrong password"
    );
    assert!(peer.sent_candidates().is_empty(), "no relay was allocated");
    peer.close().await;

    // Expired: credentials minted as if an hour ago, with a ten-minute lifetime.
    let secret = media::turn::TurnSecret::new(SECRET, TimeDelta::minutes(10));
    let (username, credential) =
        secret.credentials("old", chrono::Utc::now() - TimeDelta::hours(1));
    let expired = vec![RTCIceServer {
        urls: vec![format!("turn:127.0.0.1:{port}")],
        username,
        credential,
    }];
    let mut late = TestPeer::with_ice(0x0D00_0000, "citizen2", expired, true).await;
    assert!(
        !late.try_connect(&mut citizen, Duration::from_secs(6)).await,
        "expired credentials"
    );
    assert!(late.sent_candidates().is_empty(), "no relay was allocated");
    late.close().await;
}
