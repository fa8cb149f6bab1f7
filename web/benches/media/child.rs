//! A helper process of the benchmark: this same binary re-run with a mode argument, talking
//! over its stdin and stdout one JSON object per line. Requests carry an `id` and are answered
//! with it; anything the child says unasked goes to a callback (the forwarder's candidates).
//! Used by the forwarder's process (`forwarder.rs`) and the monitors' (`monitored.rs`).

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

/// The parent's handle on a helper process.
pub struct Helper {
    child: Child,
    requests: mpsc::UnboundedSender<String>,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>,
    next_id: AtomicU64,
}

impl Helper {
    /// Starts this binary with `arg`, under `launcher` if it is not empty (a command that
    /// execs the rest of its arguments, such as `taskset -c 0` or `chrt -i 0`, so that the
    /// helper keeps the process id it is given); `unasked` gets every line that answers no
    /// request.
    pub fn start(launcher: &[&str], arg: &str, unasked: impl Fn(Value) + Send + 'static) -> Self {
        let exe = std::env::current_exe().expect("own executable");
        let mut command = match launcher.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        let mut child = command
            .arg(arg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("helper process");
        let mut stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (requests, mut rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                if stdin.write_all(line.as_bytes()).await.is_err() {
                    break;
                }
                let _ = stdin.flush().await;
            }
        });
        let pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>> = Arc::default();
        let p = pending.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let waiting = v["id"]
                    .as_u64()
                    .and_then(|id| p.lock().expect("pending").remove(&id));
                match waiting {
                    Some(tx) => {
                        let _ = tx.send(v);
                    }
                    None => unasked(v),
                }
            }
        });
        Self {
            child,
            requests,
            pending,
            next_id: AtomicU64::new(1),
        }
    }

    /// The helper's process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("helper running")
    }

    /// A fresh number (request ids and anything else the parent names).
    pub fn next(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends `req` with a fresh `id` and waits for its answer; an answer with `error` fails.
    pub async fn request(&self, mut req: Value) -> Value {
        let id = self.next();
        req["id"] = json!(id);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().expect("pending").insert(id, tx);
        self.requests
            .send(format!("{req}\n"))
            .expect("helper stdin");
        let reply = rx.await.expect("helper reply");
        assert!(reply.get("error").is_none(), "helper: {reply}");
        reply
    }
}

/// Where a child says things unasked.
pub type Out = mpsc::UnboundedSender<Value>;

/// The child's side: answers each request line with `handle`'s value, on its own task;
/// `handle` may also say things unasked on the `Out` it is given.
pub async fn serve<F, Fut>(handle: F)
where
    F: Fn(Value, Out) -> Fut,
    Fut: std::future::Future<Output = Value> + Send + 'static,
{
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Value>();
    tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(v) = out_rx.recv().await {
            if stdout.write_all(format!("{v}\n").as_bytes()).await.is_err() {
                break;
            }
            let _ = stdout.flush().await;
        }
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(req) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let id = req["id"].clone();
        let reply = handle(req, out_tx.clone());
        let out = out_tx.clone();
        tokio::spawn(async move {
            let mut v = reply.await;
            v["id"] = id;
            let _ = out.send(v);
        });
    }
}
