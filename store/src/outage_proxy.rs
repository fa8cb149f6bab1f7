//! For tests (feature `testing`): a TCP proxy in front of PostgreSQL that a test stops and
//! starts again: a real outage, or a database restart, as the server sees one (connections
//! cut, new ones refused), on one port that stays the same.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The proxy: forwards its port to the database while running.
pub struct OutageProxy {
    /// The address it listens on while running.
    pub addr: SocketAddr,
    upstream: String,
    stop: Option<watch::Sender<bool>>,
}

impl OutageProxy {
    /// Starts forwarding a free local port to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let mut proxy = Self {
            addr,
            upstream: upstream.to_owned(),
            stop: None,
        };
        proxy.serve(listener);
        proxy
    }

    /// `url` with its `host:port` replaced by the proxy's address.
    pub fn url_through(&self, url: &str) -> String {
        url.replacen(&self.upstream, &self.addr.to_string(), 1)
    }

    /// The outage: every forwarded connection is cut and the port refuses new ones.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }

    /// The database is back, on the same port.
    pub async fn resume(&mut self) {
        let listener = TcpListener::bind(self.addr).await.expect("rebind proxy");
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let (stop, stopped) = watch::channel(false);
        self.stop = Some(stop);
        let upstream = self.upstream.clone();
        tokio::spawn(async move {
            let mut accept_stopped = stopped.clone();
            loop {
                let client = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((client, _)) => client,
                        Err(_) => return,
                    },
                    _ = accept_stopped.changed() => return,
                };
                tokio::spawn(forward(client, upstream.clone(), stopped.clone()));
            }
        });
    }
}

impl Drop for OutageProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Copies both ways until either side closes or the proxy stops.
async fn forward(mut client: TcpStream, upstream: String, mut stopped: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = stopped.changed() => {}
    }
}

/// The `host:port` of a `postgres://user@host:port/db…` URL.
pub fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest).to_owned()
}
