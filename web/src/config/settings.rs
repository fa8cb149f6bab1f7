//! Resolving the options: flags and environment, then the TOML file, then defaults, into the
//! one `Settings` the server runs with.

use std::net::SocketAddr;
use std::path::Path;

use chrono::{NaiveDate, TimeDelta};
use scheduler::{AtClosing, Calendar, DailyHours, QueuePolicy, SpecialHours};
use serde::Deserialize;

use agent_console::supervisor::SupervisionPolicy;
use agent_console::{StaffPolicy, VerificationPolicy};
use media::echo::EchoLimits;
use media::turn::TurnSecret;
use media::{IceServer, MediaConfig, MediaThreads};
use signaling::agent_state::AgentPolicy;

use crate::Error;
use crate::console_config::{self, ConsoleFile};
use crate::identity::VerifyPolicy;

use super::Toggle;
use super::serve_args::{AtClosingArg, PortRange, ServeArgs};
use super::{DEFAULT_BIND, DEFAULT_DATABASE_URL, GlobalArgs};

/// The TOML file: the same settings, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    bind: Option<SocketAddr>,
    always_open: Option<bool>,
    hours: Option<DailyHours>,
    #[serde(default)]
    closed_dates: Vec<NaiveDate>,
    #[serde(default)]
    special_hours: Vec<SpecialHours>,
    verify_limit_per_id: Option<u32>,
    verify_limit_per_address: Option<u32>,
    verify_limit_window_minutes: Option<u32>,
    application_ttl_minutes: Option<u32>,
    trust_forwarded_for: Option<bool>,
    staff_mfa: Option<Toggle>,
    staff_session_idle_minutes: Option<u32>,
    staff_session_max_hours: Option<u32>,
    secure_cookies: Option<bool>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    queue_grace_seconds: Option<u32>,
    at_closing: Option<AtClosingArg>,
    default_handle_minutes: Option<u32>,
    media_ip: Option<std::net::IpAddr>,
    media_ports: Option<PortRange>,
    media_announce_ip: Option<std::net::IpAddr>,
    media_threads: Option<u32>,
    #[serde(default)]
    ice_servers: Vec<String>,
    turn_secret: Option<String>,
    turn_ttl_minutes: Option<u32>,
    test_call_max_concurrent: Option<u32>,
    test_call_max_seconds: Option<u32>,
    test_call_per_address: Option<u32>,
    service_level_seconds: Option<u32>,
    metrics_token: Option<String>,
    #[serde(default)]
    console: ConsoleFile,
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen.
    pub bind: SocketAddr,
    /// The database URL.
    pub database_url: String,
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
    /// Test-call limits.
    pub echo: EchoLimits,
    /// The media forwarder's sockets and ICE servers.
    pub media: MediaConfig,
    /// How many threads carry media.
    pub media_threads: usize,
    /// Wrap-up and offer timers.
    pub agents: AgentPolicy,
    /// Checklist, stills and activation codes.
    pub verification: VerificationPolicy,
    /// The supervisors' dashboard rules.
    pub supervision: SupervisionPolicy,
    /// SHA-256 (hex) of the token that opens `/metrics` beyond loopback.
    pub metrics_token_hash: Option<String>,
}

impl Settings {
    /// Resolves flags and environment (already in `args`), then the file, then defaults.
    pub fn resolve(
        global: &GlobalArgs,
        args: &ServeArgs,
        default_database_url: &str,
    ) -> Result<Self, Error> {
        let file = match &global.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let minutes = |flag: Option<u32>,
                       file: Option<u32>,
                       default: u32,
                       name: &str|
         -> Result<TimeDelta, Error> {
            let m = flag.or(file).unwrap_or(default);
            if m == 0 {
                return Err(Error::Config(format!("{name} must be at least 1 minute")));
            }
            Ok(TimeDelta::minutes(i64::from(m)))
        };
        let verify = VerifyPolicy {
            per_id: at_least_one(
                args.verify_limit_per_id,
                file.verify_limit_per_id,
                5,
                "verify-limit-per-id",
            )?,
            per_address: at_least_one(
                args.verify_limit_per_address,
                file.verify_limit_per_address,
                20,
                "verify-limit-per-address",
            )?,
            window: minutes(
                args.verify_limit_window_minutes,
                file.verify_limit_window_minutes,
                60,
                "verify-limit-window-minutes",
            )?,
            application_ttl: minutes(
                args.application_ttl_minutes,
                file.application_ttl_minutes,
                360,
                "application-ttl-minutes",
            )?,
        };
        let closed = if args.closed_dates.is_empty() {
            file.closed_dates
        } else {
            args.closed_dates.clone()
        };
        let special = if args.special_hours.is_empty() {
            file.special_hours
        } else {
            args.special_hours.clone()
        };
        let calendar = Calendar::new(args.hours.or(file.hours).unwrap_or_default())
            .with_closed_dates(closed)
            .with_special_hours(special)
            .with_always_open(args.always_open || file.always_open.unwrap_or(false));
        let staff = StaffPolicy {
            mfa_required: args.staff_mfa.or(file.staff_mfa).unwrap_or(Toggle::On) == Toggle::On,
            idle_timeout: minutes(
                args.staff_session_idle_minutes,
                file.staff_session_idle_minutes,
                30,
                "staff-session-idle-minutes",
            )?,
            absolute_lifetime: minutes(
                args.staff_session_max_hours.map(|h| h.saturating_mul(60)),
                file.staff_session_max_hours.map(|h| h.saturating_mul(60)),
                600,
                "staff-session-max-hours",
            )?,
            secure_cookies: args.secure_cookies || file.secure_cookies.unwrap_or(false),
            ..StaffPolicy::default()
        };
        let mut queue = QueuePolicy {
            default_handle_time: minutes(
                args.default_handle_minutes,
                file.default_handle_minutes,
                6,
                "default-handle-minutes",
            )?,
            at_closing: match args.at_closing.or(file.at_closing) {
                Some(AtClosingArg::Expire) => AtClosing::Expire,
                _ => AtClosing::ServeAdmitted,
            },
            ..QueuePolicy::default()
        };
        let grace = TimeDelta::seconds(i64::from(
            args.queue_grace_seconds
                .or(file.queue_grace_seconds)
                .unwrap_or(60),
        ));
        let allowed_origins = if args.allowed_origins.is_empty() {
            file.allowed_origins
        } else {
            args.allowed_origins.clone()
        };
        let bind = match args.bind.or(file.bind) {
            Some(b) => b,
            None => DEFAULT_BIND
                .parse()
                .map_err(|e| Error::Config(format!("default bind: {e}")))?,
        };
        let ports = args.media_ports.or(file.media_ports).unwrap_or(PortRange {
            first: 40_000,
            last: 40_999,
        });
        let ice_urls = if args.ice_servers.is_empty() {
            file.ice_servers
        } else {
            args.ice_servers.clone()
        };
        for url in &ice_urls {
            if !(url.starts_with("stun:") || url.starts_with("turn:") || url.starts_with("turns:"))
            {
                return Err(Error::Config(format!(
                    "ice-server {url:?} must start with stun:, turn: or turns:"
                )));
            }
        }
        let echo = EchoLimits {
            max_concurrent: at_least_one(
                args.test_call_max_concurrent,
                file.test_call_max_concurrent,
                20,
                "test-call-max-concurrent",
            )? as usize,
            max_duration: std::time::Duration::from_secs(u64::from(at_least_one(
                args.test_call_max_seconds,
                file.test_call_max_seconds,
                120,
                "test-call-max-seconds",
            )?)),
            per_address: at_least_one(
                args.test_call_per_address,
                file.test_call_per_address,
                20,
                "test-call-per-address",
            )? as usize,
            per_address_window: std::time::Duration::from_secs(600),
        };
        let media_threads = at_least_one(
            args.media_threads,
            file.media_threads,
            u32::try_from(MediaThreads::default_count()).unwrap_or(1),
            "media-threads",
        )? as usize;
        let media = MediaConfig {
            bind_ip: args.media_ip.or(file.media_ip).unwrap_or(bind.ip()),
            ports: ports.first..=ports.last,
            announce_ip: args.media_announce_ip.or(file.media_announce_ip),
            ice_servers: ice_urls
                .into_iter()
                .map(|u| IceServer {
                    urls: vec![u],
                    username: None,
                    credential: None,
                })
                .collect(),
            turn: match args.turn_secret.clone().or(file.turn_secret) {
                Some(secret) if !secret.is_empty() => Some(TurnSecret::new(
                    secret,
                    minutes(
                        args.turn_ttl_minutes,
                        file.turn_ttl_minutes,
                        240,
                        "turn-ttl-minutes",
                    )?,
                )),
                _ => None,
            },
        };
        let (agents, verification) = console_config::resolve(&args.console, file.console)?;
        let supervision = SupervisionPolicy {
            service_level_threshold: TimeDelta::seconds(i64::from(at_least_one(
                args.service_level_seconds,
                file.service_level_seconds,
                300,
                "service-level-seconds",
            )?)),
        };
        let metrics_token_hash = args
            .metrics_token
            .clone()
            .or(file.metrics_token)
            .filter(|t| !t.is_empty())
            .map(|t| store::secrets::hash_token(&t));
        // The estimator plans with the same wrap-up the agents get.
        queue.wrap_up = agents.wrap_up;
        Ok(Self {
            bind,
            database_url: global
                .database_url
                .clone()
                .or(file.database_url)
                .unwrap_or_else(|| default_database_url.to_owned()),
            calendar,
            verify,
            trust_forwarded_for: args.trust_forwarded_for
                || file.trust_forwarded_for.unwrap_or(false),
            staff,
            queue,
            allowed_origins,
            grace,
            media,
            media_threads,
            echo,
            agents,
            verification,
            supervision,
            metrics_token_hash,
        })
    }

    /// The database URL for commands that do not serve: flag or environment, then the file,
    /// then the default.
    pub fn database_url_only(global: &GlobalArgs) -> Result<String, Error> {
        Ok(Self::resolve(global, &ServeArgs::default(), DEFAULT_DATABASE_URL)?.database_url)
    }
}

fn read_file(path: &Path) -> Result<FileConfig, Error> {
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

/// A count from the flag, else the file, else `default`; zero is refused with the option's
/// name.
pub(crate) fn at_least_one(
    flag: Option<u32>,
    file: Option<u32>,
    default: u32,
    name: &str,
) -> Result<u32, Error> {
    match flag.or(file).unwrap_or(default) {
        0 => Err(Error::Config(format!("{name} must be at least 1"))),
        n => Ok(n),
    }
}
