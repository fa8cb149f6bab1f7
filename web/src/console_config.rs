//! The agent console's settings: wrap-up and offer timers, activation-code lifetime, still
//! limits (flags, environment or the file's `[console]` table), and the checklist with its
//! reason codes (the file's `[console.rules]` table only: it is too rich for flags).

use agent_console::VerificationPolicy;
use agent_console::checklist::VerificationRules;
use agent_console::stills::StillLimits;
use chrono::TimeDelta;
use clap::Args;
use serde::Deserialize;
use signaling::agent_state::AgentPolicy;

use crate::Error;
use crate::config::at_least_one;

/// Console options of the server.
#[derive(Debug, Args, Default, Clone)]
pub struct ConsoleArgs {
    /// Wrap-up after each call before the agent is available again, in seconds. [default: 30]
    #[arg(long, env = "VIDEOREG_WRAP_UP_SECONDS", value_name = "SECONDS")]
    pub wrap_up_seconds: Option<u32>,
    /// An offered citizen not accepted within this time goes back to the head of the queue
    /// and the agent goes on break, in seconds. [default: 30]
    #[arg(long, env = "VIDEOREG_OFFER_TIMEOUT_SECONDS", value_name = "SECONDS")]
    pub offer_timeout_seconds: Option<u32>,
    /// How long an activation code stays valid, in days. [default: 30]
    #[arg(long, env = "VIDEOREG_ACTIVATION_CODE_DAYS", value_name = "DAYS")]
    pub activation_code_days: Option<u32>,
    /// Largest still upload, in KiB. [default: 8192]
    #[arg(long, env = "VIDEOREG_STILL_MAX_KIB", value_name = "KIB")]
    pub still_max_kib: Option<u32>,
    /// Widest and tallest still accepted, in pixels. [default: 4096]
    #[arg(long, env = "VIDEOREG_STILL_MAX_SIDE", value_name = "PIXELS")]
    pub still_max_side: Option<u32>,
}

/// The file's `[console]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleFile {
    wrap_up_seconds: Option<u32>,
    offer_timeout_seconds: Option<u32>,
    activation_code_days: Option<u32>,
    still_max_kib: Option<u32>,
    still_max_side: Option<u32>,
    rules: Option<VerificationRules>,
}

/// Resolves flags, then the file, then defaults; refuses zeros and broken rules.
pub fn resolve(
    args: &ConsoleArgs,
    file: ConsoleFile,
) -> Result<(AgentPolicy, VerificationPolicy), Error> {
    let agents = AgentPolicy {
        wrap_up: TimeDelta::seconds(i64::from(at_least_one(
            args.wrap_up_seconds,
            file.wrap_up_seconds,
            30,
            "wrap-up-seconds",
        )?)),
        offer_timeout: TimeDelta::seconds(i64::from(at_least_one(
            args.offer_timeout_seconds,
            file.offer_timeout_seconds,
            30,
            "offer-timeout-seconds",
        )?)),
    };
    let side = at_least_one(
        args.still_max_side,
        file.still_max_side,
        4096,
        "still-max-side",
    )?;
    if side > 8192 {
        return Err(Error::Config("still-max-side must be at most 8192".into()));
    }
    let kib = at_least_one(
        args.still_max_kib,
        file.still_max_kib,
        8192,
        "still-max-kib",
    )?;
    if kib > 32 * 1024 {
        return Err(Error::Config("still-max-kib must be at most 32768".into()));
    }
    let rules = file.rules.unwrap_or_default();
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
            args.activation_code_days,
            file.activation_code_days,
            30,
            "activation-code-days",
        )?)),
    };
    Ok((agents, verification))
}
