//! The one typed configuration: command-line flags, `VIDEOREG_*` environment variables and
//! an optional TOML file, in that order of precedence, then built-in defaults.
//!
//! Each option is declared once, as a field of [`ServeArgs`] (or of [`ConsoleArgs`] and
//! [`BookingArgs`], the file's `[console]` and `[booking]` tables) that clap and serde both read: see [`layer`] for how the
//! sources are combined. `docs/configuration.md` and `docs/videoreg.example.toml` list the
//! same options; a test checks that they agree with `videoreg --help`.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

mod booking;
mod console;
#[cfg(test)]
mod docs_tests;
pub mod layer;
mod serve_args;
mod settings;
#[cfg(test)]
mod tests;
mod values;

pub use booking::BookingArgs;
pub use console::ConsoleArgs;
pub use serve_args::ServeArgs;
pub use settings::{MediaPortSettings, Settings, TestClock};
pub use values::{AtClosingArg, HourRow, PortRange};

/// The database unless told otherwise.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/videoreg.db";
/// The demo's own database unless told otherwise, kept apart from real data.
pub const DEFAULT_DEMO_DATABASE_URL: &str = "sqlite://./data/demo.db";
/// Where call recordings are written unless told otherwise.
pub const DEFAULT_RECORDINGS_DIR: &str = "./data/recordings";
/// The demo's recordings unless told otherwise, kept apart from real ones.
pub const DEFAULT_DEMO_RECORDINGS_DIR: &str = "./data/demo-recordings";

/// Where a command keeps its data unless told otherwise: the demo keeps its own apart from
/// real data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandDefaults {
    pub database_url: &'static str,
    pub recordings_dir: &'static str,
}

impl CommandDefaults {
    /// `serve` and the commands that work on its data.
    pub const SERVE: Self = Self {
        database_url: DEFAULT_DATABASE_URL,
        recordings_dir: DEFAULT_RECORDINGS_DIR,
    };
    /// `demo`.
    pub const DEMO: Self = Self {
        database_url: DEFAULT_DEMO_DATABASE_URL,
        recordings_dir: DEFAULT_DEMO_RECORDINGS_DIR,
    };
}

/// videoreg: registration for Cl@ve by video call.
#[derive(Debug, Parser)]
#[command(
    name = "videoreg",
    version,
    about,
    args_conflicts_with_subcommands = true,
    // Here and on `serve` and `demo`: defaults apply after the file (see `layer`).
    mut_args(layer::defaults_shown_not_applied)
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
    #[command(mut_args(layer::defaults_shown_not_applied))]
    Serve(ServeArgs),
    /// Serve with a seeded fictional identity registry, for trying videoreg out.
    #[command(mut_args(layer::defaults_shown_not_applied))]
    Demo(ServeArgs),
    /// Manage the identity registry.
    #[command(subcommand)]
    Identities(IdentitiesCommand),
    /// Manage staff accounts (agents, supervisors, auditors).
    #[command(subcommand)]
    User(UserCommand),
    /// Help citizens with their access to activation, receipts and sign-in.
    #[command(subcommand)]
    Citizen(CitizenCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print the daily report as CSV: one row per ticket that joined on a Madrid date.
    Report(ReportArgs),
    /// Print the HTTP API's OpenAPI 3.1 description (as served at /api/v1/openapi.json);
    /// `videoreg openapi > docs/openapi.json` refreshes the committed copy.
    Openapi,
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
    Verify {
        /// An anchor printed earlier by `audit anchor` (COUNT:HASH): the chain must still
        /// hold that many events, the last of them with that hash.
        #[arg(long, value_name = "COUNT:HASH")]
        anchor: Option<store::AuditAnchor>,
    },
    /// Verify the chain and print its head as COUNT:HASH, to keep outside the database
    /// (e.g. with the daily report) and give to `audit verify --anchor` later.
    Anchor,
}

/// `videoreg citizen …`
#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// Lift every wait on an ID number's sign-in, activation, receipts and contrast checks
    /// (written to the audit trail as `citizen.unlocked`).
    Unlock {
        /// The DNI or NIE number.
        id_number: String,
        /// Why (kept in the audit trail), e.g. a support ticket number.
        #[arg(long)]
        reason: Option<String>,
    },
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
    /// Let an agent review other agents' approvals (second review), or stop it.
    Reviewer {
        /// Sign-in name (an agent).
        name: String,
        /// `on` or `off`.
        #[arg(value_enum)]
        state: Toggle,
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

/// How a citizen answers the live-person check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LivenessAnswer {
    /// Typed into the page; the server checks it.
    Typed,
    /// Said aloud; the agent confirms hearing it.
    Spoken,
    /// Either.
    Both,
}

/// What live-person codes are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LivenessCode {
    /// Six digits.
    Digits,
    /// Two words in the language the agent picks.
    Words,
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
    /// TOML configuration file: the options' names with `_` for `-`, console options under
    /// `[console]` (see docs/videoreg.example.toml).
    #[arg(long, env = "VIDEOREG_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database: `sqlite://PATH` (created if missing) or `postgres://…`
    /// [default: sqlite://./data/videoreg.db; demo: sqlite://./data/demo.db]
    #[arg(long, env = "DATABASE_URL", global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Directory of call recordings (created if missing; shared storage when many nodes
    /// serve, so that any node can replay, verify and purge them)
    /// [default: ./data/recordings; demo: ./data/demo-recordings]
    #[arg(
        long,
        env = "VIDEOREG_RECORDINGS_DIR",
        global = true,
        value_name = "DIR"
    )]
    pub recordings_dir: Option<PathBuf>,
}
