//! The messages on `/ws/citizen` and `/ws/agent`: JSON text frames, one object each, tagged
//! by `"type"`. `docs/protocol.md` documents every message and `docs/asyncapi.yaml` describes them for
//! machines (a test checks it against these types); keep the three in step.

use serde::{Deserialize, Serialize};

pub use media::{IceServer, Quality};

/// An SDP offer or answer, as browsers' `RTCSessionDescription` serialises it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDescription {
    /// `offer` or `answer`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The SDP text.
    pub sdp: String,
}

/// An ICE candidate, as browsers' `RTCIceCandidate.toJSON()` has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidate {
    /// The `candidate:` attribute.
    pub candidate: String,
    /// The media section's id.
    #[serde(default)]
    pub sdp_mid: Option<String>,
    /// The media section's index.
    #[serde(default, rename = "sdpMLineIndex")]
    pub sdp_m_line_index: Option<u16>,
    /// The ICE user fragment.
    #[serde(default)]
    pub username_fragment: Option<String>,
}

/// What a citizen's browser sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CitizenMessage {
    /// Join the queue with the application token from `POST /api/v1/applications`.
    Join {
        /// The application token.
        application: String,
        /// The citizen accepts the call and its recording (required: `true`).
        #[serde(default)]
        consent: bool,
    },
    /// Take back a place after a dropped connection.
    Resume {
        /// The resume token from `queued`.
        resume_token: String,
    },
    /// Leave the queue.
    Leave,
    /// End the call with the agent (the agent is told; no decision is made).
    HangUp,
    /// Start a test call (before applying): videoreg sends the browser's media back.
    EchoStart,
    /// End the test call.
    EchoStop,
    /// What the browser measured during the test call, and its verdict; answered with
    /// `test_passed` once videoreg has received media.
    EchoResult {
        /// `good`, `fair` or `poor`.
        verdict: String,
        /// Round-trip time in milliseconds, if measured.
        #[serde(default)]
        rtt_ms: Option<f64>,
        /// Packets lost, in percent.
        loss_pct: f64,
        /// Jitter in milliseconds.
        jitter_ms: f64,
        /// Received bitrate in kbit/s.
        kbps: f64,
        /// The network path of the browser's selected candidate pair: `udp` or `tcp`
        /// straight to videoreg, `turn_udp`, `turn_tcp` or `turn_tls` through a relay.
        #[serde(default)]
        path: Option<String>,
        /// Milliseconds from the offer to the connection being up.
        #[serde(default)]
        connect_ms: Option<f64>,
    },
    /// The browser's SDP offer for its connection with videoreg (after `call_started` or
    /// `echo_ready`).
    Offer {
        /// The offer.
        description: SessionDescription,
    },
    /// One of the browser's ICE candidates.
    Ice {
        /// The candidate.
        candidate: IceCandidate,
    },
    /// The page is showing the liveness challenge (sent once, when it appears).
    ChallengeShown {
        /// The challenge's id, from `challenge`.
        challenge: String,
    },
    /// The code the citizen typed for the liveness challenge.
    ChallengeAnswer {
        /// The challenge's id, from `challenge`.
        challenge: String,
        /// What the citizen typed (at most 64 characters).
        code: String,
    },
}

/// What videoreg sends a citizen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToCitizen {
    /// In the queue (after `join` or `resume`).
    Queued {
        /// The ticket id.
        ticket: String,
        /// Keep it: it takes the place back after a dropped connection.
        resume_token: String,
        /// 1 is next.
        position: u32,
        /// Expected wait in seconds; absent when no agent is working.
        estimate_secs: Option<i64>,
        /// Short end of the likely range, in seconds; only when the range is wide (show it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        estimate_low_secs: Option<i64>,
        /// Long end of the likely range, in seconds; only when the range is wide (show it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        estimate_high_secs: Option<i64>,
        /// How long the place is kept after the connection drops, in seconds.
        grace_secs: i64,
        /// The wait is long: the page offers appointment slots beside waiting now
        /// (`GET /api/v1/bookings/slots`). Absent when false.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        offer_booking: bool,
    },
    /// Joined for an appointment (sent before `queued`): served at the slot's time, ahead of
    /// walk-ins, or, past the grace, joined as a walk-in.
    Appointment {
        /// The slot's start (RFC 3339).
        slot: String,
        /// True: in time, served at the slot. False: late, joined as a walk-in.
        kept: bool,
    },
    /// The position or the estimate changed (also sent at least every 15 s).
    Position {
        /// 1 is next.
        position: u32,
        /// Expected wait in seconds; absent when no agent is working.
        estimate_secs: Option<i64>,
        /// Short end of the likely range, in seconds; only when the range is wide (show it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        estimate_low_secs: Option<i64>,
        /// Long end of the likely range, in seconds; only when the range is wide (show it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        estimate_high_secs: Option<i64>,
    },
    /// The test call may start: create the peer connection and send `offer`.
    EchoReady {
        /// STUN/TURN servers for the browser's peer connection.
        ice_servers: Vec<IceServer>,
        /// The test call ends by itself after this many seconds.
        max_secs: u64,
    },
    /// Too many test calls right now: try again after the given seconds.
    EchoBusy {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The test call passed: present this token with the application (single use).
    TestPassed {
        /// The token.
        test_token: String,
        /// How long it stays valid, in seconds.
        expires_secs: i64,
    },
    /// The test call ended.
    EchoEnded {
        /// `stopped`, `time_limit`.
        reason: String,
        /// What videoreg received from the browser (and sent back).
        report: Quality,
    },
    /// Joining was refused.
    Refused {
        /// `closed` or `too_late_today`.
        reason: RefusalReason,
        /// Today's closing time (RFC 3339), for `too_late_today`.
        closes: Option<String>,
        /// The next opening (RFC 3339).
        next_opening: Option<String>,
    },
    /// An agent has taken the citizen; the call is being set up.
    AgentFound,
    /// The agent accepted: the call has started; send an `offer` now.
    CallStarted {
        /// STUN/TURN servers for the browser's peer connection.
        ice_servers: Vec<IceServer>,
    },
    /// videoreg's SDP answer to the browser's offer.
    Answer {
        /// The answer.
        description: SessionDescription,
    },
    /// One of videoreg's ICE candidates.
    Ice {
        /// The candidate.
        candidate: IceCandidate,
    },
    /// Put back at the head of the queue (the agent's connection was lost, or the agent
    /// asked to try again).
    Requeued {
        /// 1 is next.
        position: u32,
        /// The agent's abort reason code (e.g. `video_quality`), when the agent asked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The agent verified the identity: the registration is made. The code is shown once
    /// and stored only as a hash.
    Approved {
        /// The registration's reference number.
        registration: String,
        /// The activation code, grouped (`ABCD-EFGH-JKLM-NPQR`).
        activation_code: String,
        /// When the code stops working (RFC 3339).
        code_expires_at: String,
    },
    /// The agent could not verify the identity.
    Rejected {
        /// The reason code, e.g. `document_expired`.
        reason: String,
        /// What happened and what to do next, in Spanish.
        message_es: String,
        /// The same in English.
        message_en: String,
    },
    /// The call ended without a decision.
    CallEnded {
        /// Why: `hang_up` (the agent hung up) or `citizen_hung_up`.
        reason: String,
    },
    /// Left the queue.
    Left,
    /// The call is being recorded (sent when recording starts, and again after a
    /// reconnection): the page shows a discreet indicator.
    Recording {
        /// `on`.
        state: RecordingState,
    },
    /// The agent asks for a live-person check: the page shows the code and the action large
    /// until `expires_in_secs` pass, and answers `challenge_shown`.
    Challenge {
        /// Its id.
        challenge: String,
        /// The code to say aloud or type: six digits, or two words.
        code: String,
        /// What to do, in Spanish.
        action_es: String,
        /// What to do, in English.
        action_en: String,
        /// Seconds left to answer.
        expires_in_secs: i64,
        /// Whether the page offers a box to type the code (`challenge_answer`).
        typed: bool,
        /// Whether the citizen may say the code aloud instead.
        spoken: bool,
    },
    /// How the citizen's typed code was taken.
    ChallengeResult {
        /// The challenge's id.
        challenge: String,
        /// `passed`, `wrong_code` (try again), `failed` (too many wrong codes), `expired` or
        /// `used` (already answered or replaced).
        result: ChallengeOutcome,
        /// Typed codes left, for `wrong_code`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempts_left: Option<i64>,
    },
    /// This server is stopping (a deploy): connect again, through the same address, after
    /// `retry_after_ms`, and resume with the resume token. The place is kept; the server
    /// closes this connection right after.
    Reconnect {
        /// How long to wait before connecting again, in milliseconds.
        retry_after_ms: u64,
    },
    /// The request could not be done; the connection stays open unless said otherwise.
    Error {
        /// Stable code, e.g. `malformed`, `rate_limited`, `not_verified`.
        code: String,
        /// For people, in Spanish and English.
        message: String,
    },
}

/// A call's recording as the pages show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingState {
    /// The call is being recorded.
    On,
    /// The recording has trouble (a disk error, the recorder falling behind): the call goes
    /// on, the recording will be incomplete, and the decision says so. Agents only.
    Trouble,
}

/// Where a liveness challenge stands, as the citizen and the agent are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeOutcome {
    /// The citizen's page shows it (agents only).
    Shown,
    /// Answered in time with the right code (typed, or heard by the agent).
    Passed,
    /// A typed code was wrong; the citizen may try again.
    WrongCode,
    /// Too many wrong codes: the agent issues a new challenge.
    Failed,
    /// Answered after its time.
    Expired,
    /// Already answered, or replaced by a newer challenge.
    Used,
}

/// Why joining was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The service is closed.
    Closed,
    /// The citizen would probably not be served before closing.
    TooLateToday,
}

/// What an agent's console sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentMessage {
    /// Change state: `available`, `break` (with a reason) or `offline`.
    SetState {
        /// The new state.
        state: AgentSettableState,
        /// Why, for a break.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Claim the citizen at the head of the queue.
    TakeNext,
    /// Accept the offered citizen: the call starts.
    Accept,
    /// Put the current citizen back at the head of the queue.
    Requeue,
    /// End the call.
    HangUp,
    /// The console's SDP offer for its connection with videoreg (after `call_started`).
    Offer {
        /// The offer.
        description: SessionDescription,
    },
    /// One of the console's ICE candidates.
    Ice {
        /// The candidate.
        candidate: IceCandidate,
    },
}

/// The states an agent may choose; `in_call` and `wrap_up` follow from calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentSettableState {
    /// Ready for citizens.
    Available,
    /// On a break.
    Break,
    /// Not working.
    Offline,
}

/// What videoreg sends an agent's console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToAgent {
    /// The agent's current state.
    State {
        /// `available`, `in_call`, `wrap_up`, `break`, `offline`.
        state: String,
        /// Why, for a break.
        reason: Option<String>,
        /// Whether this connection may change anything (supervisors watch read-only).
        read_only: bool,
    },
    /// The queue at a glance (sent on change and every 15 s).
    Queue {
        /// Citizens waiting.
        waiting: u32,
        /// The longest current wait in seconds.
        longest_wait_secs: i64,
    },
    /// A citizen has been claimed for this agent.
    Offered {
        /// The ticket id.
        ticket: String,
        /// The citizen's ID number, partly hidden.
        id_number: String,
        /// How long they waited, in seconds.
        waited_secs: i64,
    },
    /// Nobody is waiting.
    QueueEmpty,
    /// The call has started; send an `offer` now.
    CallStarted {
        /// STUN/TURN servers for the console's peer connection.
        ice_servers: Vec<IceServer>,
    },
    /// videoreg's SDP answer to the console's offer.
    Answer {
        /// The answer.
        description: SessionDescription,
    },
    /// One of videoreg's ICE candidates.
    Ice {
        /// The candidate.
        candidate: IceCandidate,
    },
    /// The call ended.
    CallEnded {
        /// Why: `hang_up`, `citizen_left`, `requeued`.
        reason: String,
    },
    /// This server is stopping (a deploy): connect again after `retry_after_ms`. The agent's
    /// state, an offer and a call in progress are kept; the server closes this connection
    /// right after.
    Reconnect {
        /// How long to wait before connecting again, in milliseconds.
        retry_after_ms: u64,
    },
    /// The call's recording: `on` when it starts (and again after a reconnection), `trouble`
    /// when it cannot record all of the call (the call goes on).
    Recording {
        /// `on` or `trouble`.
        state: RecordingState,
        /// What went wrong, for `trouble`, in Spanish and English.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A liveness challenge of the agent's call moved on: shown on the citizen's page,
    /// passed, a wrong code typed, failed or answered late.
    Challenge {
        /// The challenge's id.
        challenge: String,
        /// What happened.
        state: ChallengeOutcome,
        /// Milliseconds from issue to this moment.
        after_ms: i64,
    },
    /// How many supervisors are watching the call now (sent when one starts or stops; `0`:
    /// nobody). Not sent when the service turns the notice off.
    Monitored {
        /// Supervisors watching.
        watching: u32,
    },
    /// A private hint from a supervisor, for the agent's eyes only.
    Whisper {
        /// The supervisor's sign-in name.
        from: String,
        /// The hint (at most 280 characters).
        text: String,
    },
    /// Connection quality of both sides of the call (every 2 s during a call).
    Quality {
        /// The citizen's side.
        citizen: Quality,
        /// The agent's own side.
        agent: Quality,
    },
    /// The request could not be done.
    Error {
        /// Stable code.
        code: String,
        /// For people.
        message: String,
    },
}

#[cfg(test)]
mod asyncapi_tests;
#[cfg(test)]
mod tests;
