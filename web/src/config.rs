//! The one typed configuration: command-line flags, `VIDEOREG_*` environment variables and
//! an optional TOML file, in that order of precedence, then built-in defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeDelta};
use clap::{Args, Parser, Subcommand};
use scheduler::{AtClosing, Calendar, DailyHours, QueuePolicy, SpecialHours};
use serde::Deserialize;

use agent_console::supervisor::SupervisionPolicy;
use agent_console::{StaffPolicy, VerificationPolicy};
use signaling::agent_state::AgentPolicy;
use signaling::echo::EchoLimits;
use signaling::media::turn::TurnSecret;
use signaling::media::{IceServer, MediaConfig};

use crate::Error;
use crate::console_config::{self, ConsoleArgs, ConsoleFile};
use crate::identity::VerifyPolicy;

/// Where the server listens unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The database unless told otherwise.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/videoreg.db";
/// The demo's own database unless told otherwise, kept apart from real data.
pub const DEFAULT_DEMO_DATABASE_URL: &str = "sqlite://./data/demo.db";

/// videoreg: registration for Cl@ve by video call.
#[derive(Debug, Parser)]
#[command(
    name = "videoreg",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Options every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Server options when no subcommand is given (the same as `serve`).
    #[command(flatten)]
    pub serve: ServeArgs,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve citizens and staff (the default).
    Serve(ServeArgs),
    /// Serve with a seeded fictional identity registry, for trying videoreg out.
    Demo(ServeArgs),
    /// Manage the identity registry.
    #[command(subcommand)]
    Identities(IdentitiesCommand),
    /// Manage staff accounts (agents, supervisors, auditors).
    #[command(subcommand)]
    User(UserCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print the daily report as CSV: one row per ticket that joined on a Madrid date.
    Report(ReportArgs),
}

/// `videoreg report …`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The Madrid date to report. [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
}

/// `videoreg audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit trail's hash chain and name the first broken link, if any
    /// (exit status 1 when broken).
    Verify,
}

/// `videoreg user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is typed twice at a prompt unless `--generate` or
    /// `--password-stdin` is given.
    Add {
        /// The account's role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Sign-in name: 2 to 64 lower-case letters, digits, '.', '_' or '-'.
        name: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Disable an account and end its sessions.
    Disable {
        /// Sign-in name.
        name: String,
    },
    /// Set a new password; also re-enables the account and lifts a lockout.
    ResetPassword {
        /// Sign-in name.
        name: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Forget the account's second factor; it enrols again at the next sign-in.
    ResetMfa {
        /// Sign-in name.
        name: String,
    },
    /// List accounts with their role and state.
    List,
}

/// Where a new password comes from.
#[derive(Debug, Args, Clone, Copy)]
pub struct PasswordSource {
    /// Generate a strong password and print it once.
    #[arg(long, conflicts_with = "password_stdin")]
    pub generate: bool,
    /// Read the password from the first line of standard input (for scripts).
    #[arg(long)]
    pub password_stdin: bool,
}

/// A staff role as typed on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    /// Verifies citizens in the console.
    Agent,
    /// Watches the queue and the agents.
    Supervisor,
    /// Reads decisions and evidence.
    Auditor,
}

impl From<RoleArg> for store::StaffRole {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Agent => Self::Agent,
            RoleArg::Supervisor => Self::Supervisor,
            RoleArg::Auditor => Self::Auditor,
        }
    }
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Toggle {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// `videoreg identities …`
#[derive(Debug, Subcommand)]
pub enum IdentitiesCommand {
    /// Import identity records from a CSV file (columns: id_number, full_name, valid_until,
    /// issued_on, support_number; dates YYYY-MM-DD). Every line is checked first; if any is
    /// bad, each bad line is reported and nothing is imported.
    Import {
        /// The CSV file, with a header row.
        file: PathBuf,
    },
}

/// Options every subcommand accepts, before or after its name.
#[derive(Debug, Args, Default)]
pub struct GlobalArgs {
    /// TOML configuration file; its keys are the long option names with `_` for `-`.
    #[arg(long, env = "VIDEOREG_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database: `sqlite://PATH` (created if missing) or `postgres://…`.
    /// [default: sqlite://./data/videoreg.db; demo: sqlite://./data/demo.db]
    #[arg(long, env = "DATABASE_URL", global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Options of the server (`serve` and `demo`).
#[derive(Debug, Args, Default, Clone)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. [default: 127.0.0.1:8080]
    #[arg(long, env = "VIDEOREG_BIND", value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    /// Ignore the calendar and stay open around the clock (for demonstrations; every page
    /// says so while it is on).
    #[arg(long, env = "VIDEOREG_ALWAYS_OPEN")]
    pub always_open: bool,
    /// Opening hours Monday to Friday, Madrid time. [default: 09:00-14:00]
    #[arg(long, env = "VIDEOREG_HOURS", value_name = "HH:MM-HH:MM")]
    pub hours: Option<DailyHours>,
    /// Extra dates on which the service is closed (repeat, or separate with commas).
    #[arg(
        long = "closed-date",
        env = "VIDEOREG_CLOSED_DATES",
        value_delimiter = ',',
        value_name = "YYYY-MM-DD"
    )]
    pub closed_dates: Vec<NaiveDate>,
    /// Different hours on a date (repeat, or separate with commas).
    #[arg(
        long = "special-hours",
        env = "VIDEOREG_SPECIAL_HOURS",
        value_delimiter = ',',
        value_name = "YYYY-MM-DD=HH:MM-HH:MM"
    )]
    pub special_hours: Vec<SpecialHours>,
    /// Failed contrast checks allowed per ID number within the limit window. [default: 5]
    #[arg(long, env = "VIDEOREG_VERIFY_LIMIT_PER_ID", value_name = "N")]
    pub verify_limit_per_id: Option<u32>,
    /// Failed contrast checks allowed per client address within the limit window. [default: 20]
    #[arg(long, env = "VIDEOREG_VERIFY_LIMIT_PER_ADDRESS", value_name = "N")]
    pub verify_limit_per_address: Option<u32>,
    /// Length of the failed-check limit window, in minutes. [default: 60]
    #[arg(
        long,
        env = "VIDEOREG_VERIFY_LIMIT_WINDOW_MINUTES",
        value_name = "MINUTES"
    )]
    pub verify_limit_window_minutes: Option<u32>,
    /// How long an application token stays valid, in minutes. [default: 360]
    #[arg(long, env = "VIDEOREG_APPLICATION_TTL_MINUTES", value_name = "MINUTES")]
    pub application_ttl_minutes: Option<u32>,
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a proxy
    /// that sets it).
    #[arg(long, env = "VIDEOREG_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Second factor (TOTP) for staff sign-in; `off` is for demonstrations only and every
    /// staff page says so. [default: on]
    #[arg(long, env = "VIDEOREG_STAFF_MFA", value_enum, value_name = "on|off")]
    pub staff_mfa: Option<Toggle>,
    /// A staff session unused this long ends, in minutes. [default: 30]
    #[arg(
        long,
        env = "VIDEOREG_STAFF_SESSION_IDLE_MINUTES",
        value_name = "MINUTES"
    )]
    pub staff_session_idle_minutes: Option<u32>,
    /// A staff session ends this long after sign-in, in hours. [default: 10]
    #[arg(long, env = "VIDEOREG_STAFF_SESSION_MAX_HOURS", value_name = "HOURS")]
    pub staff_session_max_hours: Option<u32>,
    /// Mark cookies `Secure` (set this when users reach videoreg over HTTPS, as they should).
    #[arg(long, env = "VIDEOREG_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// A browser origin allowed to open the WebSockets besides the server's own (repeat, or
    /// separate with commas), e.g. `https://cita.example.es` behind a proxy.
    #[arg(
        long = "allowed-origin",
        env = "VIDEOREG_ALLOWED_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub allowed_origins: Vec<String>,
    /// How long a waiting citizen keeps the place after the connection drops, in seconds.
    /// [default: 60]
    #[arg(long, env = "VIDEOREG_QUEUE_GRACE_SECONDS", value_name = "SECONDS")]
    pub queue_grace_seconds: Option<u32>,
    /// What happens to citizens still waiting at closing: `serve` (agents serve everyone
    /// admitted) or `expire` (they are told to come back at the next opening). [default: serve]
    #[arg(
        long,
        env = "VIDEOREG_AT_CLOSING",
        value_enum,
        value_name = "serve|expire"
    )]
    pub at_closing: Option<AtClosingArg>,
    /// Handle time assumed before any call has been measured, in minutes. [default: 6]
    #[arg(long, env = "VIDEOREG_DEFAULT_HANDLE_MINUTES", value_name = "MINUTES")]
    pub default_handle_minutes: Option<u32>,
    /// Address the media forwarder's UDP sockets bind to. [default: the --bind address's IP]
    #[arg(long, env = "VIDEOREG_MEDIA_IP", value_name = "IP")]
    pub media_ip: Option<std::net::IpAddr>,
    /// UDP ports for media, one per browser connection (two per call). [default: 40000-40999]
    #[arg(long, env = "VIDEOREG_MEDIA_PORTS", value_name = "FIRST-LAST")]
    pub media_ports: Option<PortRange>,
    /// Address announced to browsers instead of --media-ip (behind 1:1 NAT).
    #[arg(long, env = "VIDEOREG_MEDIA_ANNOUNCE_IP", value_name = "IP")]
    pub media_announce_ip: Option<std::net::IpAddr>,
    /// A STUN or TURN URL handed to browsers and used by the forwarder (repeat, or separate
    /// with commas), e.g. `stun:stun.example.es:3478`.
    #[arg(
        long = "ice-server",
        env = "VIDEOREG_ICE_SERVERS",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub ice_servers: Vec<String>,
    /// Secret shared with the TURN server (coturn `static-auth-secret`): browsers get
    /// per-call credentials for the `turn:` URLs.
    #[arg(
        long,
        env = "VIDEOREG_TURN_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub turn_secret: Option<String>,
    /// How long handed-out TURN credentials last, in minutes. [default: 240]
    #[arg(long, env = "VIDEOREG_TURN_TTL_MINUTES", value_name = "MINUTES")]
    pub turn_ttl_minutes: Option<u32>,
    /// Test calls running at once on this node; more are told to retry. [default: 20]
    #[arg(long, env = "VIDEOREG_TEST_CALL_MAX_CONCURRENT", value_name = "N")]
    pub test_call_max_concurrent: Option<u32>,
    /// The longest a test call may last, in seconds. [default: 120]
    #[arg(long, env = "VIDEOREG_TEST_CALL_MAX_SECONDS", value_name = "SECONDS")]
    pub test_call_max_seconds: Option<u32>,
    /// Test calls one client address may start per 10 minutes. [default: 20]
    #[arg(long, env = "VIDEOREG_TEST_CALL_PER_ADDRESS", value_name = "N")]
    pub test_call_per_address: Option<u32>,
    /// A citizen answered within this many seconds counts toward the service level on the
    /// supervisors' dashboard. [default: 300]
    #[arg(long, env = "VIDEOREG_SERVICE_LEVEL_SECONDS", value_name = "SECONDS")]
    pub service_level_seconds: Option<u32>,
    /// Bearer token that opens `/metrics` to addresses other than loopback (without it,
    /// only loopback may scrape).
    #[arg(
        long,
        env = "VIDEOREG_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// The agent console's options.
    #[command(flatten)]
    pub console: ConsoleArgs,
}

/// A range of UDP ports, `FIRST-LAST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PortRange {
    /// First port.
    pub first: u16,
    /// Last port (inclusive).
    pub last: u16,
}

impl std::str::FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid port range {s:?}: expected FIRST-LAST, e.g. 40000-40999");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let (first, last): (u16, u16) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if first == 0 || last < first {
            return Err(bad());
        }
        Ok(Self { first, last })
    }
}

impl TryFrom<String> for PortRange {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// What happens at closing, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AtClosingArg {
    /// Serve everyone admitted.
    Serve,
    /// End the waiting tickets.
    Expire,
}

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
        let count = |flag: Option<u32>,
                     file: Option<u32>,
                     default: u32,
                     name: &str|
         -> Result<u32, Error> {
            match flag.or(file).unwrap_or(default) {
                0 => Err(Error::Config(format!("{name} must be at least 1"))),
                n => Ok(n),
            }
        };
        let verify = VerifyPolicy {
            per_id: count(
                args.verify_limit_per_id,
                file.verify_limit_per_id,
                5,
                "verify-limit-per-id",
            )?,
            per_address: count(
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
            max_concurrent: count(
                args.test_call_max_concurrent,
                file.test_call_max_concurrent,
                20,
                "test-call-max-concurrent",
            )? as usize,
            max_duration: std::time::Duration::from_secs(u64::from(count(
                args.test_call_max_seconds,
                file.test_call_max_seconds,
                120,
                "test-call-max-seconds",
            )?)),
            per_address: count(
                args.test_call_per_address,
                file.test_call_per_address,
                20,
                "test-call-per-address",
            )? as usize,
            per_address_window: std::time::Duration::from_secs(600),
        };
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
            service_level_threshold: TimeDelta::seconds(i64::from(count(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("videoreg").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn defaults_apply_when_nothing_is_given() {
        let cli = parse(&[]);
        let s = Settings::resolve(&cli.global, &cli.serve, DEFAULT_DATABASE_URL).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.verify.per_id, 5);
        assert!(!s.calendar.is_always_open());
    }

    #[test]
    fn global_options_are_accepted_after_the_subcommand() {
        let cli = parse(&[
            "identities",
            "import",
            "--database-url",
            "sqlite://x.db",
            "f.csv",
        ]);
        assert_eq!(cli.global.database_url.as_deref(), Some("sqlite://x.db"));
        let cli = parse(&["serve", "--bind", "127.0.0.1:0", "--config", "c.toml"]);
        assert!(matches!(
            cli.command,
            Some(Command::Serve(ServeArgs { bind: Some(_), .. }))
        ));
        assert_eq!(cli.global.config.as_deref(), Some(Path::new("c.toml")));
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = std::env::temp_dir().join(format!("videoreg-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("videoreg.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\nhours = \"08:00-15:00\"\nverify_limit_per_id = 3\nclosed_dates = [\"2026-12-24\"]\n",
        )
        .unwrap();
        let config = path.to_str().unwrap();
        let cli = parse(&[
            "--config",
            config,
            "--bind",
            "127.0.0.1:0",
            "--verify-limit-per-address",
            "7",
        ]);
        let s = Settings::resolve(&cli.global, &cli.serve, DEFAULT_DATABASE_URL).unwrap();
        assert_eq!(s.bind.port(), 0, "the flag wins");
        assert_eq!(s.verify.per_id, 3, "the file fills what flags leave out");
        assert_eq!(s.verify.per_address, 7);
        let eve = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
        assert_eq!(s.calendar.hours_on(eve), None);
        let ordinary = NaiveDate::from_ymd_opt(2026, 12, 23).unwrap();
        assert_eq!(
            s.calendar.hours_on(ordinary).map(|h| h.to_string()),
            Some("08:00-15:00".into())
        );
    }

    #[test]
    fn bad_files_and_values_are_refused_with_a_reason() {
        let dir = std::env::temp_dir().join(format!("videoreg-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        std::fs::write(&path, "bindd = \"x\"\n").unwrap();
        let cli = parse(&["--config", path.to_str().unwrap()]);
        let err = Settings::resolve(&cli.global, &cli.serve, DEFAULT_DATABASE_URL).unwrap_err();
        assert!(err.to_string().contains("bindd"), "{err}");
        let cli = parse(&["--verify-limit-per-id", "0"]);
        assert!(Settings::resolve(&cli.global, &cli.serve, DEFAULT_DATABASE_URL).is_err());
        assert!(Cli::try_parse_from(["videoreg", "--hours", "9-14"]).is_err());
    }
}
