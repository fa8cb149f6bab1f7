//! What the staff routes need from the server, taken through `FromRef`.

use std::sync::Arc;

use chrono::TimeDelta;
use scheduler::Clock;
use signaling::liveness::{AnswerMode, CodeKind};
use store::Store;

use crate::checklist::VerificationRules;
use crate::passwords::hashing::HashPool;
use crate::second_review::ReviewPolicy;
use crate::stills::StillLimits;
use crate::supervisor::SupervisionPolicy;

/// Sign-in and session rules, fixed at start-up.
#[derive(Debug, Clone)]
pub struct StaffPolicy {
    /// Whether a TOTP code is required after the password (off only for demonstrations).
    pub mfa_required: bool,
    /// A session unused this long ends.
    pub idle_timeout: TimeDelta,
    /// A session ends this long after sign-in, however active.
    pub absolute_lifetime: TimeDelta,
    /// Whether cookies carry `Secure` (served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Failed sign-ins allowed per client address within `address_window`.
    pub address_limit: i64,
    /// The window of `address_limit`.
    pub address_window: TimeDelta,
}

impl Default for StaffPolicy {
    fn default() -> Self {
        Self {
            mfa_required: true,
            idle_timeout: TimeDelta::minutes(30),
            absolute_lifetime: TimeDelta::hours(10),
            secure_cookies: false,
            address_limit: 30,
            address_window: TimeDelta::minutes(15),
        }
    }
}

/// How verifications are done, fixed at start-up.
#[derive(Debug, Clone, Default)]
pub struct VerificationPolicy {
    /// The checklist, the required stills and the reason codes.
    pub rules: VerificationRules,
    /// Limits on uploaded stills.
    pub stills: StillLimits,
    /// How long an activation code stays valid.
    pub activation_ttl: TimeDelta,
    /// The live-person check.
    pub liveness: LivenessPolicy,
    /// Which approvals a second person reviews.
    pub review: ReviewPolicy,
}

/// How the live-person check is done, fixed at start-up.
#[derive(Debug, Clone, Copy)]
pub struct LivenessPolicy {
    /// Whether approval needs a challenge passed in the call.
    pub required: bool,
    /// How the citizen may answer.
    pub answer: AnswerMode,
    /// What codes are made of.
    pub code: CodeKind,
    /// How long a challenge may be answered.
    pub ttl: TimeDelta,
}

impl Default for LivenessPolicy {
    fn default() -> Self {
        Self {
            required: true,
            answer: AnswerMode::Both,
            code: CodeKind::Digits,
            ttl: TimeDelta::seconds(60),
        }
    }
}

/// The staff side's view of the server state. Cheap to clone; nothing in it is locked.
#[derive(Debug, Clone)]
pub struct ConsoleState {
    /// The database (its pool does its own locking).
    pub store: Store,
    /// Where `now` comes from.
    pub clock: Clock,
    /// Sign-in and session rules (read-only, shared).
    pub policy: Arc<StaffPolicy>,
    /// Whether the service calendar is overridden (shown on staff pages too).
    pub always_open: bool,
    /// Whether the client address is taken from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// Checklist, stills and activation rules (read-only, shared).
    pub verification: Arc<VerificationPolicy>,
    /// The supervisors' dashboard rules (read-only, shared).
    pub supervision: Arc<SupervisionPolicy>,
    /// The bounded pool every password check (staff and citizen) runs on.
    pub hashing: HashPool,
    /// The directory of call recordings, read when an auditor replays one (read-only,
    /// shared).
    pub recordings_dir: Arc<std::path::Path>,
}
