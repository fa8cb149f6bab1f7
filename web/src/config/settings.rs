//! Resolving the options: flags and environment, over the TOML file, over the declared
//! defaults (see [`super::layer`]), into the one `Settings` the server runs with.

use std::net::SocketAddr;
use std::path::Path;

use chrono::TimeDelta;
use scheduler::{AtClosing, Calendar, QueuePolicy};

use agent_console::supervisor::SupervisionPolicy;
use agent_console::{StaffPolicy, VerificationPolicy};
use media::echo::EchoLimits;
use media::turn::TurnSecret;
use media::{IceServer, MediaConfig, MediaThreads};
use signaling::agent_state::AgentPolicy;
use signaling::monitoring::MonitorPolicy;
use signaling::presence::PresencePolicy;

use crate::Error;
use crate::evidence::{EvidencePolicy, Retention};
use crate::identity::VerifyPolicy;

use super::layer::{Layer, declared_defaults};
use super::serve_args::ServeArgs;
use super::values::AtClosingArg;
use super::{CommandDefaults, DEFAULT_DATABASE_URL, GlobalArgs, Toggle, booking, console};

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen.
    pub bind: SocketAddr,
    /// The database URL.
    pub database_url: String,
    /// How the database's pool behaves (its acquire timeout).
    pub store: store::StoreOptions,
    /// The service calendar (hours, extra dates, always-open).
    pub calendar: Calendar,
    /// Verification limits and token lifetime.
    pub verify: VerifyPolicy,
    /// Whether `X-Forwarded-For` is believed.
    pub trust_forwarded_for: bool,
    /// Staff sign-in and session rules.
    pub staff: StaffPolicy,
    /// Queue rules.
    pub queue: QueuePolicy,
    /// Extra WebSocket origins.
    pub allowed_origins: Vec<String>,
    /// How long a disconnected waiting citizen keeps the place.
    pub grace: TimeDelta,
    /// Citizen sockets one client address may have open at once.
    pub citizen_sockets_per_address: usize,
    /// Password checks one client address may have waiting or running at once.
    pub password_checks_per_address: usize,
    /// Test-call limits.
    pub echo: EchoLimits,
    /// The media forwarder's sockets and ICE servers.
    pub media: MediaConfig,
    /// How many threads carry media.
    pub media_threads: usize,
    /// The shared media port to bind, when the node has one (`--media-udp-port`).
    pub media_port: Option<MediaPortSettings>,
    /// Wrap-up and offer timers.
    pub agents: AgentPolicy,
    /// Heartbeat, dead-node and drain timings.
    pub presence: PresencePolicy,
    /// Checklist, stills and activation codes.
    pub verification: VerificationPolicy,
    /// The supervisors' dashboard rules.
    pub supervision: SupervisionPolicy,
    /// Whether agents see that a supervisor watches.
    pub monitoring: MonitorPolicy,
    /// Appointment slots, their capacity, grace and when they are offered.
    pub booking: scheduler::booking::BookingPolicy,
    /// SHA-256 (hex) of the token that opens `/metrics` beyond loopback.
    pub metrics_token_hash: Option<String>,
    /// The file holding the secrets key, if configured (read by [`crate::secrets_key`]).
    pub secrets_key_file: Option<std::path::PathBuf>,
    /// `demo` may start on a database holding staff accounts it did not create.
    pub reset_demo: bool,
    /// Where recordings live and how long evidence is kept.
    pub evidence: EvidencePolicy,
    /// `demo` only: a clock that starts elsewhere or runs faster than real time.
    pub test_clock: Option<TestClock>,
}

/// A clock other than the system's, for rehearsing a service day (`--clock-start`,
/// `--clock-speed`; `demo` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestClock {
    /// Where it starts; now when not given.
    pub start: Option<chrono::DateTime<chrono::Utc>>,
    /// How many of its seconds pass per real second.
    pub speed: u32,
}

impl Settings {
    /// Resolves flags and environment (already in `args`) over the file named by
    /// `--config`, over the declared defaults, over the command's own `defaults` (the demo
    /// keeps its data apart).
    pub fn resolve(
        global: &GlobalArgs,
        args: &ServeArgs,
        defaults: CommandDefaults,
    ) -> Result<Self, Error> {
        let file = match &global.config {
            Some(path) => read_file(path)?,
            None => ServeArgs::default(),
        };
        let declared = declared_defaults::<ServeArgs>()
            .map_err(|e| Error::Config(format!("built-in defaults: {e}")))?;
        let mut options = args.clone().over(file).over(declared);
        let database_url = global
            .database_url
            .clone()
            .or_else(|| options.database_url.clone())
            .unwrap_or_else(|| defaults.database_url.to_owned());
        options.recordings_dir = Some(
            global
                .recordings_dir
                .clone()
                .or_else(|| options.recordings_dir.clone())
                .unwrap_or_else(|| defaults.recordings_dir.into()),
        );
        Self::from_options(options, database_url)
    }

    /// The settings of a command that does not serve (flag or environment, then the file,
    /// then `serve`'s defaults): its database URL and its recordings' directory.
    pub fn for_tools(global: &GlobalArgs) -> Result<Self, Error> {
        Self::resolve(global, &ServeArgs::default(), CommandDefaults::SERVE)
    }

    /// The settings a configuration file's text gives over the declared defaults (no flags,
    /// no environment): what `--config FILE` does with the file, for tests and fuzzing.
    pub fn from_file_text(text: &str) -> Result<Self, Error> {
        let file: ServeArgs = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        let defaults = declared_defaults::<ServeArgs>()
            .map_err(|e| Error::Config(format!("built-in defaults: {e}")))?;
        let options = file.over(defaults);
        let database_url = options
            .database_url
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        Self::from_options(options, database_url)
    }

    /// Turns the layered options into the policies of the crates that apply them.
    fn from_options(o: ServeArgs, database_url: String) -> Result<Self, Error> {
        let bind = given(o.bind, "bind")?;
        let (agents, verification) = console::resolve(o.console.clone())?;
        let mut queue = queue_policy(&o)?;
        // The estimator plans with the same wrap-up the agents get.
        queue.wrap_up = agents.wrap_up;
        let booking = booking::resolve(&o.booking, queue.default_handle_time + queue.wrap_up)?;
        Ok(Self {
            bind,
            database_url,
            store: store::StoreOptions {
                acquire_timeout: std::time::Duration::from_millis(u64::from(at_least_one(
                    o.database_acquire_timeout_ms,
                    "database-acquire-timeout-ms",
                )?)),
            },
            calendar: calendar(&o)?,
            verify: verify_policy(&o)?,
            trust_forwarded_for: o.trust_forwarded_for,
            staff: staff_policy(&o)?,
            queue,
            allowed_origins: o.allowed_origins.clone(),
            grace: TimeDelta::seconds(i64::from(given(
                o.queue_grace_seconds,
                "queue-grace-seconds",
            )?)),
            citizen_sockets_per_address: at_least_one(
                o.citizen_sockets_per_address,
                "citizen-sockets-per-address",
            )? as usize,
            password_checks_per_address: at_least_one(
                o.password_checks_per_address,
                "password-checks-per-address",
            )? as usize,
            echo: echo_limits(&o)?,
            media: media_config(&o, bind)?,
            media_threads: media_threads(&o)?,
            media_port: media_port(&o)?,
            agents,
            presence: presence_policy(&o)?,
            verification,
            supervision: SupervisionPolicy {
                service_level_threshold: seconds(o.service_level_seconds, "service-level-seconds")?,
            },
            booking,
            monitoring: MonitorPolicy {
                notice: given(o.monitor_notice, "monitor-notice")? == Toggle::On,
            },
            secrets_key_file: o.secrets_key_file.clone(),
            reset_demo: o.reset_demo,
            evidence: EvidencePolicy {
                recordings_dir: o
                    .recordings_dir
                    .clone()
                    .unwrap_or_else(|| CommandDefaults::SERVE.recordings_dir.into()),
                retention: match o.retention_days {
                    Some(days) => Some(
                        Retention::from_days(days, o.incomplete_retention_days)
                            .map_err(Error::Config)?,
                    ),
                    None if o.incomplete_retention_days.is_some() => {
                        return Err(Error::Config(
                            "incomplete-retention-days needs retention-days".into(),
                        ));
                    }
                    None => None,
                },
            },
            test_clock: test_clock(&o)?,
            metrics_token_hash: o
                .metrics_token
                .filter(|t| !t.is_empty())
                .map(|t| store::secrets::hash_token(&t)),
        })
    }
}

fn test_clock(o: &ServeArgs) -> Result<Option<TestClock>, Error> {
    if o.clock_start.is_none() && o.clock_speed.is_none() {
        return Ok(None);
    }
    Ok(Some(TestClock {
        start: o.clock_start,
        speed: at_least_one(o.clock_speed.or(Some(1)), "clock-speed")?,
    }))
}

fn presence_policy(o: &ServeArgs) -> Result<PresencePolicy, Error> {
    let heartbeat = at_least_one(o.heartbeat_seconds, "heartbeat-seconds")?;
    let dead_after = at_least_one(o.node_dead_after_seconds, "node-dead-after-seconds")?;
    if dead_after < 2 * heartbeat {
        return Err(Error::Config(format!(
            "--node-dead-after-seconds ({dead_after}) must be at least two heartbeats (2 × {heartbeat} s): a node is not dead for missing one"
        )));
    }
    Ok(PresencePolicy {
        heartbeat: std::time::Duration::from_secs(u64::from(heartbeat)),
        dead_after: TimeDelta::seconds(i64::from(dead_after)),
        drain: std::time::Duration::from_secs(u64::from(given(o.drain_seconds, "drain-seconds")?)),
        ..PresencePolicy::default()
    })
}

fn calendar(o: &ServeArgs) -> Result<Calendar, Error> {
    Ok(Calendar::new(given(o.hours, "hours")?)
        .with_closed_dates(o.closed_dates.clone())
        .with_special_hours(o.special_hours.clone())
        .with_always_open(o.always_open))
}

fn verify_policy(o: &ServeArgs) -> Result<VerifyPolicy, Error> {
    Ok(VerifyPolicy {
        per_id: at_least_one(o.verify_limit_per_id, "verify-limit-per-id")?,
        per_address: at_least_one(o.verify_limit_per_address, "verify-limit-per-address")?,
        window: minutes(o.verify_limit_window_minutes, "verify-limit-window-minutes")?,
        max_wait: minutes(o.verify_max_wait_minutes, "verify-max-wait-minutes")?,
        application_ttl: minutes(o.application_ttl_minutes, "application-ttl-minutes")?,
    })
}

fn staff_policy(o: &ServeArgs) -> Result<StaffPolicy, Error> {
    Ok(StaffPolicy {
        mfa_required: given(o.staff_mfa, "staff-mfa")? == Toggle::On,
        idle_timeout: minutes(o.staff_session_idle_minutes, "staff-session-idle-minutes")?,
        absolute_lifetime: minutes(
            o.staff_session_max_hours.map(|h| h.saturating_mul(60)),
            "staff-session-max-hours",
        )?,
        secure_cookies: o.secure_cookies,
        ..StaffPolicy::default()
    })
}

fn queue_policy(o: &ServeArgs) -> Result<QueuePolicy, Error> {
    Ok(QueuePolicy {
        default_handle_time: minutes(o.default_handle_minutes, "default-handle-minutes")?,
        at_closing: match given(o.at_closing, "at-closing")? {
            AtClosingArg::Expire => AtClosing::Expire,
            AtClosingArg::Serve => AtClosing::ServeAdmitted,
        },
        ..QueuePolicy::default()
    })
}

fn echo_limits(o: &ServeArgs) -> Result<EchoLimits, Error> {
    let max_seconds = at_least_one(o.test_call_max_seconds, "test-call-max-seconds")?;
    Ok(EchoLimits {
        max_concurrent: at_least_one(o.test_call_max_concurrent, "test-call-max-concurrent")?
            as usize,
        max_duration: std::time::Duration::from_secs(u64::from(max_seconds)),
        per_address: at_least_one(o.test_call_per_address, "test-call-per-address")? as usize,
        per_address_window: std::time::Duration::from_secs(600),
        at_once_per_address: at_least_one(
            o.test_call_at_once_per_address,
            "test-call-at-once-per-address",
        )? as usize,
    })
}

/// The media forwarder's sockets, ICE servers and TURN credentials.
fn media_config(o: &ServeArgs, bind: SocketAddr) -> Result<MediaConfig, Error> {
    for url in &o.ice_servers {
        if !(url.starts_with("stun:") || url.starts_with("turn:") || url.starts_with("turns:")) {
            return Err(Error::Config(format!(
                "ice-server {url:?} must start with stun:, turn: or turns:"
            )));
        }
    }
    let ports = given(o.media_ports, "media-ports")?;
    let turn = match o.turn_secret.clone() {
        Some(secret) if !secret.is_empty() => Some(TurnSecret::new(
            secret,
            minutes(o.turn_ttl_minutes, "turn-ttl-minutes")?,
        )),
        _ => None,
    };
    Ok(MediaConfig {
        bind_ip: o.media_ip.unwrap_or(bind.ip()),
        ports: ports.first..=ports.last,
        // Bound when the server starts (`crate::media_port`).
        shared: None,
        announce_ip: o.media_announce_ip,
        ice_servers: o
            .ice_servers
            .iter()
            .map(|u| IceServer {
                urls: vec![u.clone()],
                username: None,
                credential: None,
            })
            .collect(),
        turn,
    })
}

/// The shared media port: UDP (and ICE-TCP) addresses to bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaPortSettings {
    /// The one UDP port every browser connection uses.
    pub udp: u16,
    /// The ICE-TCP port, when browsers may fall back to TCP.
    pub tcp: Option<u16>,
}

fn media_port(o: &ServeArgs) -> Result<Option<MediaPortSettings>, Error> {
    match (o.media_udp_port, o.media_tcp_port) {
        (Some(udp), tcp) => Ok(Some(MediaPortSettings { udp, tcp })),
        (None, Some(_)) => Err(Error::Config(
            "media-tcp-port needs media-udp-port: ICE-TCP shares the one-port forwarder".into(),
        )),
        (None, None) => Ok(None),
    }
}

/// Threads that carry media: the option, else half the cores (at least one).
fn media_threads(o: &ServeArgs) -> Result<usize, Error> {
    let default = || u32::try_from(MediaThreads::default_count()).unwrap_or(1);
    let n = at_least_one(
        Some(o.media_threads.unwrap_or_else(default)),
        "media-threads",
    )?;
    Ok(n as usize)
}

/// Reads the TOML file (at most 1 MiB): the same keys as the options, unknown keys refused.
fn read_file(path: &Path) -> Result<ServeArgs, Error> {
    const MAX: u64 = 1024 * 1024;
    let meta =
        std::fs::metadata(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    if meta.len() > MAX {
        return Err(Error::Config(format!(
            "{} is larger than 1 MiB",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

/// An option's value after the layers. Every option read this way declares a default, so
/// `None` means a declaration lost its default (a unit test guards against it).
pub(super) fn given<T>(value: Option<T>, name: &str) -> Result<T, Error> {
    value.ok_or_else(|| Error::Config(format!("{name} has no value and no default")))
}

/// A count; zero is refused with the option's name.
pub(super) fn at_least_one(value: Option<u32>, name: &str) -> Result<u32, Error> {
    match given(value, name)? {
        0 => Err(Error::Config(format!("{name} must be at least 1"))),
        n => Ok(n),
    }
}

/// A duration in seconds, at least one.
pub(super) fn seconds(value: Option<u32>, name: &str) -> Result<TimeDelta, Error> {
    Ok(TimeDelta::seconds(i64::from(at_least_one(value, name)?)))
}

/// A duration in minutes, at least one.
fn minutes(value: Option<u32>, name: &str) -> Result<TimeDelta, Error> {
    match given(value, name)? {
        0 => Err(Error::Config(format!("{name} must be at least 1 minute"))),
        m => Ok(TimeDelta::minutes(i64::from(m))),
    }
}
