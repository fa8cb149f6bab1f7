//! A NAT that changes its mapping: the browser sends to the rebinder's front socket, which
//! passes datagrams on to the forwarder from a back socket; `rebind` swaps the back socket for
//! one on a new port and closes the old one, as a NAT (or a phone moving between networks)
//! does. The forwarder then sees the same browser on a new client port, and must follow it
//! once the browser restarts ICE, never sending its media anywhere else.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

pub struct Rebinder {
    front: Arc<UdpSocket>,
    /// The forwarder's address.
    target: SocketAddr,
    /// The back socket in use and its reader. Locked to swap or copy it, never across an
    /// `.await`.
    back: Mutex<(Arc<UdpSocket>, JoinHandle<()>)>,
    /// Where the browser sends from, once it has.
    browser: Arc<Mutex<Option<SocketAddr>>>,
    front_task: JoinHandle<()>,
}

impl Drop for Rebinder {
    fn drop(&mut self) {
        self.front_task.abort();
        self.back.lock().expect("lock").1.abort();
    }
}

/// A reader of back socket `back`: what the forwarder sends goes on to the browser.
fn back_reader(
    back: Arc<UdpSocket>,
    front: Arc<UdpSocket>,
    browser: Arc<Mutex<Option<SocketAddr>>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0; 2048];
        while let Ok((n, _)) = back.recv_from(&mut buf).await {
            let to = *browser.lock().expect("lock");
            if let Some(to) = to {
                let _ = front.send_to(&buf[..n], to).await;
            }
        }
    })
}

impl Rebinder {
    pub async fn new(target: SocketAddr) -> Arc<Self> {
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("front"));
        let back = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("back"));
        let browser: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let reader = back_reader(back.clone(), front.clone(), browser.clone());
        Arc::new_cyclic(|me: &std::sync::Weak<Rebinder>| {
            let me = me.clone();
            let (f, b) = (front.clone(), browser.clone());
            let front_task = tokio::spawn(async move {
                let mut buf = vec![0; 2048];
                while let Ok((n, from)) = f.recv_from(&mut buf).await {
                    *b.lock().expect("lock") = Some(from);
                    let Some(me) = me.upgrade() else { return };
                    let back = me.back.lock().expect("lock").0.clone();
                    let _ = back.send_to(&buf[..n], target).await;
                }
            });
            Self {
                front,
                target,
                back: Mutex::new((back, reader)),
                browser,
                front_task,
            }
        })
    }

    /// The client port the forwarder sees now.
    pub fn client_port(&self) -> u16 {
        let back = self.back.lock().expect("lock").0.clone();
        back.local_addr().expect("addr").port()
    }

    /// A new mapping: a new back socket; the old one is closed.
    pub async fn rebind(&self) {
        let back = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("back"));
        let reader = back_reader(back.clone(), self.front.clone(), self.browser.clone());
        let (_old, old_reader) =
            std::mem::replace(&mut *self.back.lock().expect("lock"), (back, reader));
        old_reader.abort();
    }

    /// `text` (a candidate or a description) with the forwarder's address replaced by the
    /// front socket's, so that the browser sends through the rebinder.
    pub fn rewrite(&self, text: &str) -> String {
        let front = self.front.local_addr().expect("addr");
        text.replace(
            &format!("{} {} typ", self.target.ip(), self.target.port()),
            &format!("{} {} typ", front.ip(), front.port()),
        )
    }
}
