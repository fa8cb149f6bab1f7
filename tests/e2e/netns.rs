//! A network of its own for a test's browser: a network namespace joined to the host by a
//! veth pair, with an nftables firewall inside it, so that a test can drop what a citizen's
//! office network drops (UDP, or everything but a few TCP ports). Needs root, `ip`
//! (iproute2) and `nft` (nftables): scripts/test installs them; a test fails, never skips,
//! without them.

use std::process::Command;

#[derive(Debug)]
/// A browser's namespace `vr-e2e-N` on `10.80.N.0/30`: the host side is `.1`, the
/// namespace `.2`. Dropped, the namespace and its veth pair are deleted.
pub struct BrowserNet {
    pub name: String,
    /// The host's address on the pair: servers listen here.
    pub host_ip: String,
    /// The namespace's address: the test reaches chromedriver here.
    pub ns_ip: String,
    host_if: String,
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| {
            panic!("`{program}` must be installed (scripts/test installs it): {e}")
        });
    assert!(
        status.success(),
        "`{program} {}` failed (needs root)",
        args.join(" ")
    );
}

impl BrowserNet {
    /// Namespace number `n` (each test its own, so that tests run side by side), with no
    /// firewall yet.
    pub fn create(n: u8) -> Self {
        let name = format!("vr-e2e-{n}");
        let (host_if, ns_if) = (format!("vrh{n}"), format!("vrb{n}"));
        // Left over from an interrupted run: gone first.
        remove(&name, &host_if);
        let (host_ip, ns_ip) = (format!("10.80.{n}.1"), format!("10.80.{n}.2"));
        run("ip", &["netns", "add", &name]);
        run(
            "ip",
            &[
                "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if,
            ],
        );
        run("ip", &["link", "set", &ns_if, "netns", &name]);
        run(
            "ip",
            &["addr", "add", &format!("{host_ip}/30"), "dev", &host_if],
        );
        run("ip", &["link", "set", &host_if, "up"]);
        run(
            "ip",
            &[
                "-n",
                &name,
                "addr",
                "add",
                &format!("{ns_ip}/30"),
                "dev",
                &ns_if,
            ],
        );
        run("ip", &["-n", &name, "link", "set", &ns_if, "up"]);
        run("ip", &["-n", &name, "link", "set", "lo", "up"]);
        Self {
            name,
            host_ip,
            ns_ip,
            host_if,
        }
    }

    /// Loads an nftables ruleset inside the namespace (replacing any earlier one).
    pub fn firewall(&self, rules: &str) {
        run(
            "ip",
            &["netns", "exec", &self.name, "nft", "flush", "ruleset"],
        );
        let path = crate::helpers::scratch_dir().join("firewall.nft");
        std::fs::write(&path, rules).expect("write the ruleset");
        let file = path.display().to_string();
        run("ip", &["netns", "exec", &self.name, "nft", "-f", &file]);
    }

    /// `http://HOST:PORT` as the browser in the namespace must treat as a secure context
    /// (camera and microphone need one; only localhost is one without TLS).
    pub fn secure_origin_flag(origin: &str) -> String {
        format!("--unsafely-treat-insecure-origin-as-secure={origin}")
    }
}

impl Drop for BrowserNet {
    fn drop(&mut self) {
        remove(&self.name, &self.host_if);
    }
}

/// Deletes a namespace and the host end of its pair, whether or not they exist.
fn remove(name: &str, host_if: &str) {
    for args in [["netns", "del", name], ["link", "del", host_if]] {
        let _ = Command::new("ip")
            .args(args)
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// A network that drops UDP both ways and lets TCP through.
pub fn no_udp() -> String {
    "table inet citizen_network {
  chain out { type filter hook output priority 0; policy accept; meta l4proto udp drop; }
  chain in { type filter hook input priority 0; policy accept; meta l4proto udp drop; }
}
"
    .to_owned()
}

/// A network that lets out only TCP to `ports` (and the replies back in); UDP and every other
/// port are dropped. Incoming TCP stays open for chromedriver.
pub fn only_tcp_to(ports: &[u16]) -> String {
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    format!(
        "table inet citizen_network {{
  chain out {{ type filter hook output priority 0; policy drop; oif \"lo\" accept; ct state established,related accept; tcp dport {{ {} }} accept; }}
  chain in {{ type filter hook input priority 0; policy drop; iif \"lo\" accept; ct state established,related accept; meta l4proto tcp accept; }}
}}
",
        ports.join(", ")
    )
}
