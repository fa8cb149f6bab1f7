//! The agent console's options: wrap-up and offer timers, activation-code lifetime and still
//! limits, the live-person check, second review (flags, environment or the file's `[console]` table), and the checklist with its
//! reason codes (the file's `[console.rules]` table only: it is too rich for flags).

use agent_console::checklist::VerificationRules;
use agent_console::second_review::ReviewPolicy;
use agent_console::stills::StillLimits;
use agent_console::{LivenessPolicy, VerificationPolicy};
use chrono::TimeDelta;
use clap::Args;
use serde::Deserialize;
use signaling::agent_state::AgentPolicy;
use signaling::liveness::{AnswerMode, CodeKind};

use super::layer::layered;
use super::settings::{at_least_one, given, seconds};
use super::{LivenessAnswer, LivenessCode, Toggle};
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
    /// Whether approval needs a live-person challenge passed during the call (a random code
    /// said or typed, and a random action).
    #[arg(
        long,
        env = "VIDEOREG_LIVENESS_REQUIRED",
        value_enum,
        value_name = "on|off",
        default_value = "on"
    )]
    pub liveness_required: Option<Toggle>,
    /// How the citizen answers the challenge: typed into the page (checked by the server),
    /// spoken (the agent ticks "code heard"), or both.
    #[arg(
        long,
        env = "VIDEOREG_LIVENESS_ANSWER",
        value_enum,
        value_name = "typed|spoken|both",
        default_value = "both"
    )]
    pub liveness_answer: Option<LivenessAnswer>,
    /// What challenge codes are made of: six digits, or two words in the language the
    /// agent picks.
    #[arg(
        long,
        env = "VIDEOREG_LIVENESS_CODE",
        value_enum,
        value_name = "digits|words",
        default_value = "digits"
    )]
    pub liveness_code: Option<LivenessCode>,
    /// How long a challenge may be answered, in seconds (10 to 600).
    #[arg(
        long,
        env = "VIDEOREG_LIVENESS_SECONDS",
        value_name = "SECONDS",
        default_value = "60"
    )]
    pub liveness_seconds: Option<u32>,
    /// The share of approvals a second agent (with the reviewer flag) reviews, in percent
    /// (0–100); approvals by new agents and after poor-quality calls are always reviewed.
    #[arg(
        long,
        env = "VIDEOREG_REVIEW_SAMPLE_PERCENT",
        value_name = "PERCENT",
        default_value = "10"
    )]
    pub review_sample_percent: Option<u32>,
    /// An agent's first this many approvals all go to second review (0: none).
    #[arg(
        long,
        env = "VIDEOREG_REVIEW_NEW_AGENT_APPROVALS",
        value_name = "COUNT",
        default_value = "20"
    )]
    pub review_new_agent_approvals: Option<u32>,
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
    let liveness_secs = at_least_one(c.liveness_seconds, "liveness-seconds")?;
    if !(10..=600).contains(&liveness_secs) {
        return Err(Error::Config(
            "liveness-seconds must be between 10 and 600".into(),
        ));
    }
    let liveness = LivenessPolicy {
        required: given(c.liveness_required, "liveness-required")? == Toggle::On,
        answer: match given(c.liveness_answer, "liveness-answer")? {
            LivenessAnswer::Typed => AnswerMode::Typed,
            LivenessAnswer::Spoken => AnswerMode::Spoken,
            LivenessAnswer::Both => AnswerMode::Both,
        },
        code: match given(c.liveness_code, "liveness-code")? {
            LivenessCode::Digits => CodeKind::Digits,
            LivenessCode::Words => CodeKind::Words,
        },
        ttl: TimeDelta::seconds(i64::from(liveness_secs)),
    };
    let sample_percent = given(c.review_sample_percent, "review-sample-percent")?;
    if sample_percent > 100 {
        return Err(Error::Config(
            "review-sample-percent must be between 0 and 100".into(),
        ));
    }
    let review = ReviewPolicy {
        sample_percent,
        new_agent_approvals: given(c.review_new_agent_approvals, "review-new-agent-approvals")?,
    };
    let verification = VerificationPolicy {
        liveness,
        review,
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
