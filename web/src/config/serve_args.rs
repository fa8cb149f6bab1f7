//! The server's options (`serve` and `demo`), each declared once: its doc comment is its
//! help, `env` its variable, `default_value` its default (applied after the file, see
//! [`super::layer`]) and its field name its key in the TOML file.

use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use scheduler::{DailyHours, SpecialHours};
use serde::Deserialize;

use super::Toggle;
use super::booking::BookingArgs;
use super::console::ConsoleArgs;
use super::layer::layered;
use super::values::{AtClosingArg, PortRange};

layered! {
/// Options of the server (`serve` and `demo`); also the TOML file's keys.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "VIDEOREG_BIND", value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub bind: Option<SocketAddr>,
    /// The file's `database_url`; on the command line it is the global `--database-url`.
    #[arg(skip)]
    pub database_url: Option<String>,
    /// The file's `recordings_dir`; on the command line it is the global `--recordings-dir`.
    #[arg(skip)]
    pub recordings_dir: Option<std::path::PathBuf>,
    /// How long a request waits for a database connection, in milliseconds, before it is
    /// answered 503 `unavailable` (people are told to wait and their pages retry).
    #[arg(
        long,
        env = "VIDEOREG_DATABASE_ACQUIRE_TIMEOUT_MS",
        value_name = "MS",
        default_value = "2000"
    )]
    pub database_acquire_timeout_ms: Option<u32>,
    /// How often this node records that it is alive (and looks for nodes that are not), in
    /// seconds.
    #[arg(
        long,
        env = "VIDEOREG_HEARTBEAT_SECONDS",
        value_name = "SECONDS",
        default_value = "5"
    )]
    pub heartbeat_seconds: Option<u32>,
    /// A node silent this long is dead: another node marks its citizens disconnected, sets
    /// its agents offline and puts its calls' citizens back at the head, in seconds (at least
    /// two heartbeats).
    #[arg(
        long,
        env = "VIDEOREG_NODE_DEAD_AFTER_SECONDS",
        value_name = "SECONDS",
        default_value = "15"
    )]
    pub node_dead_after_seconds: Option<u32>,
    /// On SIGTERM or SIGINT, how long this node waits for the calls whose media it forwards
    /// before ending them (citizens back at the head), in seconds.
    #[arg(
        long,
        env = "VIDEOREG_DRAIN_SECONDS",
        value_name = "SECONDS",
        default_value = "30"
    )]
    pub drain_seconds: Option<u32>,

    /// Ignore the calendar and stay open around the clock (for demonstrations; every page
    /// says so while it is on).
    #[arg(long, env = "VIDEOREG_ALWAYS_OPEN", help_heading = "Calendar")]
    pub always_open: bool,
    /// Opening hours Monday to Friday, Madrid time.
    #[arg(
        long,
        env = "VIDEOREG_HOURS",
        value_name = "HH:MM-HH:MM",
        default_value = "09:00-14:00",
        help_heading = "Calendar"
    )]
    pub hours: Option<DailyHours>,
    /// Extra dates on which the service is closed (repeat, or separate with commas);
    /// national holidays are built in.
    #[arg(
        long = "closed-date",
        env = "VIDEOREG_CLOSED_DATES",
        value_delimiter = ',',
        value_name = "YYYY-MM-DD",
        help_heading = "Calendar"
    )]
    pub closed_dates: Vec<NaiveDate>,
    /// Different hours on a date (repeat, or separate with commas); may open a Saturday, and
    /// a closed date wins.
    #[arg(
        long = "special-hours",
        env = "VIDEOREG_SPECIAL_HOURS",
        value_delimiter = ',',
        value_name = "YYYY-MM-DD=HH:MM-HH:MM",
        help_heading = "Calendar"
    )]
    pub special_hours: Vec<SpecialHours>,

    /// Failed contrast checks per ID number before each further check waits (1 min, doubling).
    #[arg(
        long,
        env = "VIDEOREG_VERIFY_LIMIT_PER_ID",
        value_name = "N",
        default_value = "5",
        help_heading = "Citizens"
    )]
    pub verify_limit_per_id: Option<u32>,
    /// Failed contrast checks per client address before each further check waits.
    #[arg(
        long,
        env = "VIDEOREG_VERIFY_LIMIT_PER_ADDRESS",
        value_name = "N",
        default_value = "20",
        help_heading = "Citizens"
    )]
    pub verify_limit_per_address: Option<u32>,
    /// Failed contrast checks are forgotten after this many minutes without one.
    #[arg(
        long,
        env = "VIDEOREG_VERIFY_LIMIT_WINDOW_MINUTES",
        value_name = "MINUTES",
        default_value = "60",
        help_heading = "Citizens"
    )]
    pub verify_limit_window_minutes: Option<u32>,
    /// The longest wait after failed contrast checks, in minutes (what a stranger typing wrong
    /// values for someone else's ID number can impose).
    #[arg(
        long,
        env = "VIDEOREG_VERIFY_MAX_WAIT_MINUTES",
        value_name = "MINUTES",
        default_value = "15",
        help_heading = "Citizens"
    )]
    pub verify_max_wait_minutes: Option<u32>,
    /// How long an application token stays valid, in minutes.
    #[arg(
        long,
        env = "VIDEOREG_APPLICATION_TTL_MINUTES",
        value_name = "MINUTES",
        default_value = "360",
        help_heading = "Citizens"
    )]
    pub application_ttl_minutes: Option<u32>,
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a proxy
    /// that sets it).
    #[arg(long, env = "VIDEOREG_TRUST_FORWARDED_FOR", help_heading = "Citizens")]
    pub trust_forwarded_for: bool,
    /// A browser origin allowed to open the WebSockets and post the account forms besides
    /// the server's own (repeat, or separate with commas), e.g. `https://cita.example.es`
    /// behind a proxy.
    #[arg(
        long = "allowed-origin",
        env = "VIDEOREG_ALLOWED_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN",
        help_heading = "Citizens"
    )]
    pub allowed_origins: Vec<String>,
    /// Citizen sockets (`/ws/citizen`) one client address may have open at once; more are
    /// refused with 429.
    #[arg(
        long,
        env = "VIDEOREG_CITIZEN_SOCKETS_PER_ADDRESS",
        value_name = "N",
        default_value = "20",
        help_heading = "Citizens"
    )]
    pub citizen_sockets_per_address: Option<u32>,
    /// Password checks (citizen sign-in and activation, staff sign-in) one client address
    /// may have waiting or running at once; more are refused with 429 before any hashing.
    #[arg(
        long,
        env = "VIDEOREG_PASSWORD_CHECKS_PER_ADDRESS",
        value_name = "N",
        default_value = "2",
        help_heading = "Citizens"
    )]
    pub password_checks_per_address: Option<u32>,
    /// How long a waiting citizen keeps the place after the connection drops, in seconds.
    #[arg(
        long,
        env = "VIDEOREG_QUEUE_GRACE_SECONDS",
        value_name = "SECONDS",
        default_value = "60",
        help_heading = "Citizens"
    )]
    pub queue_grace_seconds: Option<u32>,
    /// What happens to citizens still waiting at closing: `serve` (agents serve everyone
    /// admitted) or `expire` (they are told to come back at the next opening).
    #[arg(
        long,
        env = "VIDEOREG_AT_CLOSING",
        value_enum,
        value_name = "serve|expire",
        default_value = "serve",
        help_heading = "Citizens"
    )]
    pub at_closing: Option<AtClosingArg>,
    /// Handle time assumed before any call has been measured, in minutes.
    #[arg(
        long,
        env = "VIDEOREG_DEFAULT_HANDLE_MINUTES",
        value_name = "MINUTES",
        default_value = "6",
        help_heading = "Citizens"
    )]
    pub default_handle_minutes: Option<u32>,

    /// Second factor (TOTP) for staff sign-in; `off` is for demonstrations only and every
    /// staff page says so.
    #[arg(
        long,
        env = "VIDEOREG_STAFF_MFA",
        value_enum,
        value_name = "on|off",
        default_value = "on",
        help_heading = "Staff"
    )]
    pub staff_mfa: Option<Toggle>,
    /// A staff session unused this long ends, in minutes.
    #[arg(
        long,
        env = "VIDEOREG_STAFF_SESSION_IDLE_MINUTES",
        value_name = "MINUTES",
        default_value = "30",
        help_heading = "Staff"
    )]
    pub staff_session_idle_minutes: Option<u32>,
    /// A staff session ends this long after sign-in, in hours.
    #[arg(
        long,
        env = "VIDEOREG_STAFF_SESSION_MAX_HOURS",
        value_name = "HOURS",
        default_value = "10",
        help_heading = "Staff"
    )]
    pub staff_session_max_hours: Option<u32>,
    /// Mark cookies `Secure` (set this when users reach videoreg over HTTPS, as they should).
    #[arg(long, env = "VIDEOREG_SECURE_COOKIES", help_heading = "Staff")]
    pub secure_cookies: bool,
    /// File holding the secrets key (64 hexadecimal digits, e.g. `openssl rand -hex 32`):
    /// TOTP secrets are sealed with it and ID numbers in the audit trail linked by it.
    /// Required while --staff-mfa is on; `demo` keeps its own beside its database.
    #[arg(
        long,
        env = "VIDEOREG_SECRETS_KEY_FILE",
        value_name = "FILE",
        help_heading = "Staff"
    )]
    pub secrets_key_file: Option<std::path::PathBuf>,
    /// `demo` only: start even though the database holds staff accounts the demo did not
    /// create, resetting the passwords of the demo's own accounts. Never on a database in
    /// service; `serve` refuses it.
    #[arg(long, env = "VIDEOREG_RESET_DEMO", help_heading = "Staff")]
    pub reset_demo: bool,

    /// Address the media forwarder's UDP sockets bind to (`0.0.0.0`: every interface)
    /// [default: the --bind address's IP]
    #[arg(long, env = "VIDEOREG_MEDIA_IP", value_name = "IP", help_heading = "Media")]
    pub media_ip: Option<IpAddr>,
    /// UDP ports for media, one per browser connection (two per call).
    #[arg(
        long,
        env = "VIDEOREG_MEDIA_PORTS",
        value_name = "FIRST-LAST",
        default_value = "40000-40999",
        help_heading = "Media"
    )]
    pub media_ports: Option<PortRange>,
    /// One UDP port for every browser connection (e.g. 3478 or 50000), instead of
    /// --media-ports: the firewall opens one port. 0 picks a free one (tests)
    #[arg(long, env = "VIDEOREG_MEDIA_UDP_PORT", value_name = "PORT", help_heading = "Media")]
    pub media_udp_port: Option<u16>,
    /// A TCP port for ICE-TCP, with --media-udp-port: browsers whose network blocks UDP
    /// connect here (e.g. 443 on an address of its own). 0 picks a free one (tests)
    #[arg(long, env = "VIDEOREG_MEDIA_TCP_PORT", value_name = "PORT", help_heading = "Media")]
    pub media_tcp_port: Option<u16>,
    /// Threads that carry media (test calls and calls) [default: half the cores, at least 1]
    #[arg(long, env = "VIDEOREG_MEDIA_THREADS", value_name = "N", help_heading = "Media")]
    pub media_threads: Option<u32>,
    /// Address announced to browsers instead of --media-ip (behind 1:1 NAT).
    #[arg(
        long,
        env = "VIDEOREG_MEDIA_ANNOUNCE_IP",
        value_name = "IP",
        help_heading = "Media"
    )]
    pub media_announce_ip: Option<IpAddr>,
    /// A STUN or TURN URL handed to browsers (repeat, or separate with commas), e.g.
    /// `stun:stun.example.es:3478`.
    #[arg(
        long = "ice-server",
        env = "VIDEOREG_ICE_SERVERS",
        value_delimiter = ',',
        value_name = "URL",
        help_heading = "Media"
    )]
    pub ice_servers: Vec<String>,
    /// Secret shared with the TURN server (coturn `static-auth-secret`): browsers get
    /// per-call credentials for the `turn:` URLs.
    #[arg(
        long,
        env = "VIDEOREG_TURN_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        help_heading = "Media"
    )]
    pub turn_secret: Option<String>,
    /// How long handed-out TURN credentials last, in minutes.
    #[arg(
        long,
        env = "VIDEOREG_TURN_TTL_MINUTES",
        value_name = "MINUTES",
        default_value = "240",
        help_heading = "Media"
    )]
    pub turn_ttl_minutes: Option<u32>,

    /// Test calls running at once on this node; more are told to retry.
    #[arg(
        long,
        env = "VIDEOREG_TEST_CALL_MAX_CONCURRENT",
        value_name = "N",
        default_value = "20",
        help_heading = "Test call"
    )]
    pub test_call_max_concurrent: Option<u32>,
    /// The longest a test call may last, in seconds.
    #[arg(
        long,
        env = "VIDEOREG_TEST_CALL_MAX_SECONDS",
        value_name = "SECONDS",
        default_value = "120",
        help_heading = "Test call"
    )]
    pub test_call_max_seconds: Option<u32>,
    /// Test calls one client address may start per 10 minutes.
    #[arg(
        long,
        env = "VIDEOREG_TEST_CALL_PER_ADDRESS",
        value_name = "N",
        default_value = "20",
        help_heading = "Test call"
    )]
    pub test_call_per_address: Option<u32>,
    /// Test calls one client address may have running at once.
    #[arg(
        long,
        env = "VIDEOREG_TEST_CALL_AT_ONCE_PER_ADDRESS",
        value_name = "N",
        default_value = "2",
        help_heading = "Test call"
    )]
    pub test_call_at_once_per_address: Option<u32>,

    /// A citizen answered within this many seconds counts toward the service level on the
    /// supervisors' dashboard.
    #[arg(
        long,
        env = "VIDEOREG_SERVICE_LEVEL_SECONDS",
        value_name = "SECONDS",
        default_value = "300",
        help_heading = "Supervision"
    )]
    pub service_level_seconds: Option<u32>,
    /// Whether an agent sees "supervisor watching" while a supervisor monitors the call
    /// (the citizen is told of the recording and of no monitor either way).
    #[arg(
        long,
        env = "VIDEOREG_MONITOR_NOTICE",
        value_enum,
        value_name = "on|off",
        default_value = "on",
        help_heading = "Supervision"
    )]
    pub monitor_notice: Option<Toggle>,
    /// Bearer token that opens `/metrics` to addresses other than loopback (without it,
    /// only loopback may scrape).
    #[arg(
        long,
        env = "VIDEOREG_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        help_heading = "Supervision"
    )]
    pub metrics_token: Option<String>,

    /// Delete call recordings and stills this many days after the call, unless the decision
    /// is on legal hold (see docs/operations.md for the legal context). No default: without
    /// it nothing is ever deleted, and the server says so when it starts.
    #[arg(long, env = "VIDEOREG_RETENTION_DAYS", value_name = "DAYS", help_heading = "Evidence")]
    pub retention_days: Option<u32>,
    /// Delete recordings of calls that ended without any decision (a hang-up, a lost
    /// connection) this many days after the call; at most --retention-days
    /// [default: --retention-days]
    #[arg(
        long,
        env = "VIDEOREG_INCOMPLETE_RETENTION_DAYS",
        value_name = "DAYS",
        help_heading = "Evidence"
    )]
    pub incomplete_retention_days: Option<u32>,

    /// `demo` only: the server's clock starts at this time (RFC 3339) instead of now, to
    /// rehearse a service day (the soak test); `serve` refuses it.
    #[arg(
        long,
        env = "VIDEOREG_CLOCK_START",
        value_name = "RFC3339",
        help_heading = "Test clock"
    )]
    pub clock_start: Option<DateTime<Utc>>,
    /// `demo` only: the server's clock runs this many times as fast as real time (60: a
    /// five-hour day in five minutes); `serve` refuses it. Rules read that clock (timeouts,
    /// grace, expiries); heartbeats, pings and rate limits stay real [default: 1]
    #[arg(
        long,
        env = "VIDEOREG_CLOCK_SPEED",
        value_name = "N",
        help_heading = "Test clock"
    )]
    pub clock_speed: Option<u32>,

    /// The agent console's options: the file's `[console]` table.
    #[command(flatten, next_help_heading = "Agent console")]
    pub console: ConsoleArgs,

    /// Appointment options: the file's `[booking]` table.
    #[command(flatten, next_help_heading = "Appointments")]
    pub booking: BookingArgs,
}
}
