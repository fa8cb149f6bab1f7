//! The agent console's options: wrap-up and offer timers, activation-code lifetime and still
//! limits (flags, environment or the file's `[console]` table), and the checklist with its
//! reason codes (the file's `[console.rules]` table only: it is too rich for flags).

use agent_console::VerificationPolicy;
use agent_console::checklist::VerificationRules;
use agent_console::stills::StillLimits;
use chrono::TimeDelta;
use clap::Args;
use serde::Deserialize;
use signaling::agent_state::AgentPolicy;

use super::layer::layered;
use super::settings::{at_least_one, seconds};
use crate::Error;

/// The largest `--still-max-side` accepted, in pixels.
const STILL_MAX_SIDE_LIMIT: u32 = 8192;
/// The largest `--still-max-kib` accepted.
const STILL_MAX_KIB_LIMIT: u32 = 32 * 1024;

layered! {
/// Console options of the server; in the TOML file, the `[console]` table.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleArgs {
    /// Wrap-up after each call before the agent is available again, in seconds.
    #[arg(
        long,
        env = "VIDEOREG_WRAP_UP_SECONDS",
        value_name = "SECONDS",
        default_value = "30"
    )]
    pub wrap_up_seconds: Option<u32>,
    /// An offered citizen not accepted within this time goes back to the head of the queue
    /// and the agent goes on break, in seconds.
    #[arg(
        long,
        env = "VIDEOREG_OFFER_TIMEOUT_SECONDS",
        value_name = "SECONDS",
        default_value = "30"
    )]
    pub offer_timeout_seconds: Option<u32>,
    /// How long an activation code stays valid, in days.
    #[arg(
        long,
        env = "VIDEOREG_ACTIVATION_CODE_DAYS",
        value_name = "DAYS",
        default_value = "30"
    )]
    pub activation_code_days: Option<u32>,
    /// Largest still upload, in KiB (at most 32768); larger bodies are refused unread.
    #[arg(
        long,
        env = "VIDEOREG_STILL_MAX_KIB",
        value_name = "KIB",
        default_value = "8192"
    )]
    pub still_max_kib: Option<u32>,
    /// Widest and tallest still accepted, in pixels (at most 8192).
    #[arg(
        long,
        env = "VIDEOREG_STILL_MAX_SIDE",
        value_name = "PIXELS",
        default_value = "4096"
    )]
    pub still_max_side: Option<u32>,
    /// The checklist, the stills approval needs and the reason codes: the file's
    /// `[console.rules]` table only; without it the built-in rules apply.
    #[arg(skip)]
    pub rules: Option<VerificationRules>,
}
}

/// The console's policies from its options (already layered over the file and the
/// defaults); refuses zeros, limits beyond the caps and broken rules.
pub(crate) fn resolve(c: ConsoleArgs) -> Result<(AgentPolicy, VerificationPolicy), Error> {
    let agents = AgentPolicy {
        wrap_up: seconds(c.wrap_up_seconds, "wrap-up-seconds")?,
        offer_timeout: seconds(c.offer_timeout_seconds, "offer-timeout-seconds")?,
    };
    let side = at_least_one(c.still_max_side, "still-max-side")?;
    if side > STILL_MAX_SIDE_LIMIT {
        return Err(Error::Config(format!(
            "still-max-side must be at most {STILL_MAX_SIDE_LIMIT}"
        )));
    }
    let kib = at_least_one(c.still_max_kib, "still-max-kib")?;
    if kib > STILL_MAX_KIB_LIMIT {
        return Err(Error::Config(format!(
            "still-max-kib must be at most {STILL_MAX_KIB_LIMIT}"
        )));
    }
    let rules = c.rules.unwrap_or_default();
    rules
        .validate()
        .map_err(|e| Error::Config(format!("[console.rules]: {e}")))?;
    let verification = VerificationPolicy {
        rules,
        stills: StillLimits {
            max_bytes: kib as usize * 1024,
            max_width: side,
            max_height: side,
            // Four bytes a pixel, twice over for the decoder's working buffers.
            max_alloc: u64::from(side) * u64::from(side) * 8,
            ..StillLimits::default()
        },
        activation_ttl: TimeDelta::days(i64::from(at_least_one(
            c.activation_code_days,
            "activation-code-days",
        )?)),
    };
    Ok((agents, verification))
}
