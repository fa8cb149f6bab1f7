//! Starts a real `videoreg` process for a benchmark and waits for its "listening" line.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Runs `binary ARGS…` (killed when the child is dropped) and returns it with the address it
/// listens on (`host:port`).
#[allow(dead_code, reason = "not every benchmark starts it this way")]
pub async fn spawn_videoreg(binary: &str, args: &[&str]) -> (Child, String) {
    let mut command = Command::new(binary);
    command.args(args);
    start(command).await
}

/// Runs a command that starts videoreg (perhaps through `ip netns exec`), killed when the
/// child is dropped, and returns it with the address it listens on (`host:port`). Its log is
/// read and dropped so that it never blocks on a pipe.
pub async fn start(mut command: Command) -> (Child, String) {
    // Every call is recorded: under the system's temporary directory, not the crate.
    let recordings =
        std::env::temp_dir().join(format!("videoreg-bench-recordings-{}", std::process::id()));
    let mut child = command
        .env("RUST_LOG", "warn,web=info")
        .env("VIDEOREG_RECORDINGS_DIR", recordings)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("videoreg binary");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await
            .expect("log")
            .expect("listening line");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().expect("addr").to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}
