//! A load balancer for the node tests: a TCP front that hands each new connection to the
//! first node whose `/healthz` answers 200, as a balancer with health checks does. Bytes pass
//! through untouched (HTTP, WebSocket upgrades), so pages see one address for the whole
//! cluster.

use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::helpers::Server;

/// How long a health check may take before the node counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_millis(500);

/// The balancer's address; it runs until the test's runtime ends.
pub struct Balancer {
    pub base: String,
}

impl Balancer {
    /// Starts balancing over `nodes`, in order of preference.
    pub async fn start(nodes: &[&Server]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let nodes: Vec<String> = nodes.iter().map(|s| s.base.clone()).collect();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(forward(client, nodes.clone()));
            }
        });
        Self { base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// The first node that answers its health check with 200.
async fn healthy(nodes: &[String]) -> Option<String> {
    let client = reqwest::Client::builder()
        .timeout(CHECK_TIMEOUT)
        .build()
        .ok()?;
    for node in nodes {
        let up = client
            .get(format!("{node}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            return Some(node.trim_start_matches("http://").to_owned());
        }
    }
    None
}

async fn forward(mut client: TcpStream, nodes: Vec<String>) {
    let Some(node) = healthy(&nodes).await else {
        return;
    };
    let Ok(mut server) = TcpStream::connect(&node).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}
