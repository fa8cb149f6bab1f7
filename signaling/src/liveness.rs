//! The live-person check during a call: the agent issues a challenge (a fresh random code
//! and an action), the citizen's page shows it large, and the citizen types the code (checked
//! here) or says it aloud (the agent confirms it was heard). A code is single use, expires,
//! and is never issued twice in one call. Each step is written with its audit event
//! (`challenge.issued`, `.shown`, `.passed`, `.failed`, `.late`), so the recording's timeline
//! shows them, and both sides are told wherever they are connected.

use chrono::{DateTime, TimeDelta, Utc};
use store::{Challenge, NewAuditEvent, NewChallenge, secrets};

use crate::deliver;
use crate::protocol::{ChallengeOutcome, ToAgent, ToCitizen};
use crate::{Error, SignalingState};

/// Wrong typed codes before a challenge fails.
pub const MAX_WRONG_CODES: i64 = 3;
/// Longest typed code read, in characters.
pub const MAX_TYPED: usize = 64;

/// How a challenge may be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerMode {
    /// Typed into the page and checked by the server.
    Typed,
    /// Said aloud; the agent ticks "code heard".
    Spoken,
    /// Either.
    Both,
}

impl AnswerMode {
    /// From configuration: `typed`, `spoken` or `both`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "typed" => Some(Self::Typed),
            "spoken" => Some(Self::Spoken),
            "both" => Some(Self::Both),
            _ => None,
        }
    }

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Typed => "typed",
            Self::Spoken => "spoken",
            Self::Both => "both",
        }
    }

    /// Whether the page offers a box for the code.
    pub fn typed(self) -> bool {
        self != Self::Spoken
    }

    /// Whether the agent may confirm a spoken code.
    pub fn spoken(self) -> bool {
        self != Self::Typed
    }
}

/// What the code is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// Six digits.
    Digits,
    /// Two words from a list in the citizen's language.
    Words,
}

impl CodeKind {
    /// From configuration: `digits` or `words`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "digits" => Some(Self::Digits),
            "words" => Some(Self::Words),
            _ => None,
        }
    }
}

/// Words for two-word codes: common, short, unambiguous when spoken, no accents.
const WORDS_ES: [&str; 64] = [
    "agua", "arbol", "arena", "azul", "barco", "blanco", "bosque", "brazo", "cafe", "calle",
    "campo", "carta", "casa", "cielo", "cinco", "coche", "dedo", "diente", "dulce", "fuego",
    "flor", "fruta", "gato", "grande", "hoja", "huevo", "isla", "jardin", "lago", "leche", "libro",
    "limon", "lluvia", "luna", "madera", "mano", "mesa", "monte", "nieve", "noche", "nube", "ocho",
    "oro", "pan", "papel", "perro", "piedra", "playa", "plaza", "puerta", "queso", "rojo", "rio",
    "rosa", "siete", "sol", "tarde", "tierra", "tren", "uva", "vaso", "verde", "viento", "zapato",
];
/// English words for two-word codes.
const WORDS_EN: [&str; 64] = [
    "apple", "bank", "bird", "black", "blue", "boat", "bread", "bridge", "brown", "cake", "chair",
    "cloud", "coat", "corn", "desk", "door", "dream", "field", "fish", "floor", "forest", "garden",
    "glass", "gold", "green", "grass", "hand", "hill", "horse", "house", "island", "lake", "lamp",
    "leaf", "lemon", "light", "milk", "moon", "mountain", "north", "ocean", "orange", "paper",
    "pencil", "piano", "plate", "rain", "river", "road", "rock", "salt", "seven", "silver", "snow",
    "south", "stone", "summer", "table", "tiger", "train", "tree", "water", "window", "winter",
];

/// A uniformly random number below `n` (`n` > 0).
fn random_below(n: u32) -> Result<u32, Error> {
    secrets::random_below(n).map_err(|e| Error::Random(e.to_string()))
}

/// A fresh code of `kind`; `english` picks the English word list.
pub fn new_code(kind: CodeKind, english: bool) -> Result<String, Error> {
    Ok(match kind {
        CodeKind::Digits => format!("{:06}", random_below(1_000_000)?),
        CodeKind::Words => {
            let words = if english { &WORDS_EN } else { &WORDS_ES };
            let a = words[random_below(64)? as usize];
            let b = words[random_below(64)? as usize];
            format!("{a} {b}")
        }
    })
}

/// A code as compared: lower case, without spaces, dashes or dots (`482 915`, `482-915`
/// and `Nube Verde` are taken as typed).
pub fn canonical(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '.')
        .flat_map(char::to_lowercase)
        .collect()
}

/// What is stored of a code: SHA-256 of `ticket:code` (canonical), so equal codes in one
/// call have equal hashes and a code is never issued twice in a call.
pub fn code_hash(ticket: &str, code: &str) -> String {
    secrets::sha256_hex(format!("{ticket}:{}", canonical(code)).as_bytes())
}

/// One action a citizen may be asked to do, in both languages.
#[derive(Debug, Clone)]
pub struct Action<'a> {
    /// Stable id (stored and audited).
    pub id: &'a str,
    /// In Spanish.
    pub es: &'a str,
    /// In English.
    pub en: &'a str,
}

/// A challenge to issue in the agent's call.
#[derive(Debug, Clone)]
pub struct Ask<'a> {
    /// The call's ticket.
    pub ticket: &'a str,
    /// The agent in the call.
    pub agent: &'a str,
    /// The actions to choose from (at least one).
    pub actions: &'a [Action<'a>],
    /// How it may be answered.
    pub answer: AnswerMode,
    /// What the code is made of.
    pub code: CodeKind,
    /// Words in English (else Spanish).
    pub english: bool,
    /// How long it may be answered.
    pub ttl: TimeDelta,
}

/// An issued challenge, for the agent's console.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Its id.
    pub id: String,
    /// The code.
    pub code: String,
    /// The action's index in [`Ask::actions`].
    pub action: usize,
    /// When it stops being answerable.
    pub expires_at: DateTime<Utc>,
}

/// Issues a challenge in the call: a code not used before in it, an action other than the
/// last one's (when there is a choice), written with `challenge.issued` (replacing any live
/// one), then shown to the citizen.
pub async fn issue(
    state: &SignalingState,
    ask: &Ask<'_>,
    now: DateTime<Utc>,
) -> Result<Issued, Error> {
    let earlier = state.store.challenges_for_ticket(ask.ticket).await?;
    let (code, hash) = loop {
        let code = new_code(ask.code, ask.english)?;
        let hash = code_hash(ask.ticket, &code);
        if !earlier.iter().any(|c| c.code_hash == hash) {
            break (code, hash);
        }
    };
    let last_action = earlier.last().map(|c| c.action.as_str());
    let action = loop {
        let i = random_below(u32::try_from(ask.actions.len().max(1)).unwrap_or(1))? as usize;
        if ask.actions.len() < 2 || Some(ask.actions[i].id) != last_action {
            break i;
        }
    };
    let chosen = ask.actions.get(action).ok_or(Error::NoCall)?;
    let id = secrets::new_id()?;
    let expires_at = now + ask.ttl;
    let detail = serde_json::json!({
        "challenge": id,
        "action": chosen.id,
        "answer": ask.answer.as_str(),
        "expires_at": expires_at,
    })
    .to_string();
    state
        .store
        .issue_challenge(
            &NewChallenge {
                id: &id,
                ticket_id: ask.ticket,
                agent_id: ask.agent,
                code_hash: &hash,
                action: chosen.id,
                answer: ask.answer.as_str(),
                issued_at: now,
                expires_at,
            },
            &NewAuditEvent {
                at: now,
                actor: ask.agent,
                action: "challenge.issued",
                subject: ask.ticket,
                detail: &detail,
            },
        )
        .await?;
    let message = ToCitizen::Challenge {
        challenge: id.clone(),
        code: code.clone(),
        action_es: chosen.es.to_owned(),
        action_en: chosen.en.to_owned(),
        expires_in_secs: ask.ttl.num_seconds(),
        typed: ask.answer.typed(),
        spoken: ask.answer.spoken(),
    };
    deliver::to_citizen(state, ask.ticket, &message).await?;
    Ok(Issued {
        id,
        code,
        action,
        expires_at,
    })
}

/// The challenge `id` of the call on `ticket`, if it is one.
async fn of_call(
    state: &SignalingState,
    ticket: &str,
    id: &str,
) -> Result<Option<Challenge>, Error> {
    Ok(state
        .store
        .challenge(id)
        .await?
        .filter(|c| c.ticket_id == ticket))
}

/// Tells the agent how their challenge moved on.
async fn tell_agent(
    state: &SignalingState,
    c: &Challenge,
    outcome: ChallengeOutcome,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let message = ToAgent::Challenge {
        challenge: c.id.clone(),
        state: outcome,
        after_ms: (now - c.issued_at).num_milliseconds(),
    };
    deliver::to_agent(state, &c.agent_id, &message).await
}

/// The citizen's page shows the challenge: noted once, audited, and the agent told.
pub async fn shown(state: &SignalingState, ticket: &str, id: &str) -> Result<(), Error> {
    let Some(c) = of_call(state, ticket, id).await? else {
        return Ok(());
    };
    let now = state.clock.now();
    let detail = serde_json::json!({
        "challenge": c.id,
        "after_ms": (now - c.issued_at).num_milliseconds(),
    })
    .to_string();
    let event = NewAuditEvent {
        at: now,
        actor: "citizen",
        action: "challenge.shown",
        subject: ticket,
        detail: &detail,
    };
    if state.store.challenge_shown(&c.id, now, &event).await? {
        tell_agent(state, &c, ChallengeOutcome::Shown, now).await?;
    }
    Ok(())
}

/// How a settling step went, for whoever asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The challenge passed.
    Passed,
    /// A wrong typed code; this many tries are left.
    WrongCode(i64),
    /// Too many wrong codes.
    Failed,
    /// Too late.
    Expired,
    /// Already settled or replaced, or not this call's.
    Used,
    /// This way of answering is not allowed for it.
    NotAllowed,
}

impl Settled {
    /// As the citizen and the agent are told.
    pub fn outcome(self) -> ChallengeOutcome {
        match self {
            Self::Passed => ChallengeOutcome::Passed,
            Self::WrongCode(_) => ChallengeOutcome::WrongCode,
            Self::Failed => ChallengeOutcome::Failed,
            Self::Expired => ChallengeOutcome::Expired,
            Self::Used | Self::NotAllowed => ChallengeOutcome::Used,
        }
    }
}

/// Settles `c` as `outcome` (`passed` or `failed`) with its audit event; `None` when it was
/// settled already or has expired.
async fn settle(
    state: &SignalingState,
    c: &Challenge,
    outcome: &str,
    how: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let detail = serde_json::json!({
        "challenge": c.id,
        "how": how,
        "after_ms": (now - c.issued_at).num_milliseconds(),
        "after_shown_ms": c.shown_at.map(|s| (now - s).num_milliseconds()),
        "wrong_codes": c.attempts,
    })
    .to_string();
    let action = format!("challenge.{outcome}");
    let event = NewAuditEvent {
        at: now,
        actor,
        action: &action,
        subject: &c.ticket_id,
        detail: &detail,
    };
    Ok(state
        .store
        .settle_challenge(&c.id, outcome, how, now, &event)
        .await?)
}

/// Why a live challenge cannot be settled now, if it cannot (audited when late).
async fn unsettleable(
    state: &SignalingState,
    c: &Challenge,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<Settled>, Error> {
    if c.outcome.is_some() {
        return Ok(Some(Settled::Used));
    }
    if now >= c.expires_at {
        let detail = serde_json::json!({
            "challenge": c.id,
            "after_ms": (now - c.issued_at).num_milliseconds(),
        })
        .to_string();
        state
            .store
            .append_audit(&NewAuditEvent {
                at: now,
                actor,
                action: "challenge.late",
                subject: &c.ticket_id,
                detail: &detail,
            })
            .await?;
        return Ok(Some(Settled::Expired));
    }
    Ok(None)
}

/// A code the citizen typed: checked against the stored hash, accepted once while live.
/// Both sides are told the result.
pub async fn typed(
    state: &SignalingState,
    ticket: &str,
    id: &str,
    code: &str,
) -> Result<Settled, Error> {
    let now = state.clock.now();
    let settled = match of_call(state, ticket, id).await? {
        None => Settled::Used,
        Some(c) => typed_for(state, &c, code, now).await?,
    };
    let attempts_left = match settled {
        Settled::WrongCode(left) => Some(left),
        _ => None,
    };
    let result = ToCitizen::ChallengeResult {
        challenge: id.to_owned(),
        result: settled.outcome(),
        attempts_left,
    };
    deliver::to_citizen(state, ticket, &result).await?;
    Ok(settled)
}

async fn typed_for(
    state: &SignalingState,
    c: &Challenge,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Settled, Error> {
    if !AnswerMode::parse(&c.answer).is_some_and(AnswerMode::typed) {
        return Ok(Settled::NotAllowed);
    }
    if let Some(refused) = unsettleable(state, c, "citizen", now).await? {
        if refused == Settled::Expired {
            tell_agent(state, c, ChallengeOutcome::Expired, now).await?;
        }
        return Ok(refused);
    }
    let hash = code_hash(&c.ticket_id, code);
    let settled = if secrets::constant_time_eq(hash.as_bytes(), c.code_hash.as_bytes()) {
        if settle(state, c, "passed", "typed", "citizen", now).await? {
            Settled::Passed
        } else {
            Settled::Used
        }
    } else {
        match state.store.challenge_wrong_code(&c.id).await? {
            None => Settled::Used,
            Some(n) if n >= MAX_WRONG_CODES => {
                let failed = Challenge {
                    attempts: n,
                    ..c.clone()
                };
                if settle(state, &failed, "failed", "typed", "citizen", now).await? {
                    Settled::Failed
                } else {
                    Settled::Used
                }
            }
            Some(n) => Settled::WrongCode(MAX_WRONG_CODES - n),
        }
    };
    if settled != Settled::Used {
        tell_agent(state, c, settled.outcome(), now).await?;
    }
    Ok(settled)
}

/// The agent heard the citizen say the code: the challenge passes, while live. The
/// citizen's page is told too.
pub async fn heard(
    state: &SignalingState,
    ticket: &str,
    agent: &str,
    id: &str,
) -> Result<Settled, Error> {
    let now = state.clock.now();
    let Some(c) = of_call(state, ticket, id)
        .await?
        .filter(|c| c.agent_id == agent)
    else {
        return Ok(Settled::Used);
    };
    if !AnswerMode::parse(&c.answer).is_some_and(AnswerMode::spoken) {
        return Ok(Settled::NotAllowed);
    }
    if let Some(refused) = unsettleable(state, &c, agent, now).await? {
        return Ok(refused);
    }
    if !settle(state, &c, "passed", "heard", agent, now).await? {
        return Ok(Settled::Used);
    }
    let result = ToCitizen::ChallengeResult {
        challenge: c.id.clone(),
        result: ChallengeOutcome::Passed,
        attempts_left: None,
    };
    deliver::to_citizen(state, ticket, &result).await?;
    Ok(Settled::Passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_codes_have_six_digits() {
        for _ in 0..200 {
            let c = new_code(CodeKind::Digits, false).expect("random");
            assert_eq!(c.len(), 6, "{c}");
            assert!(c.chars().all(|d| d.is_ascii_digit()), "{c}");
        }
    }

    #[test]
    fn word_codes_are_two_words_from_the_chosen_language() {
        let es = new_code(CodeKind::Words, false).expect("random");
        let en = new_code(CodeKind::Words, true).expect("random");
        let (a, b) = es.split_once(' ').expect("two words");
        assert!(WORDS_ES.contains(&a) && WORDS_ES.contains(&b), "{es}");
        let (a, b) = en.split_once(' ').expect("two words");
        assert!(WORDS_EN.contains(&a) && WORDS_EN.contains(&b), "{en}");
    }

    #[test]
    fn word_lists_hold_distinct_plain_words() {
        for list in [&WORDS_ES, &WORDS_EN] {
            let set: std::collections::HashSet<_> = list.iter().collect();
            assert_eq!(set.len(), 64);
            assert!(
                list.iter()
                    .all(|w| w.chars().all(|c| c.is_ascii_lowercase()))
            );
        }
    }

    #[test]
    fn typed_codes_compare_without_spaces_dashes_or_case() {
        let h = code_hash("t1", "482915");
        assert_eq!(code_hash("t1", " 482 915 "), h);
        assert_eq!(code_hash("t1", "482-915"), h);
        assert_ne!(code_hash("t2", "482915"), h, "salted by the call");
        assert_eq!(code_hash("t1", "Nube Verde"), code_hash("t1", "nube verde"));
        assert_ne!(code_hash("t1", "482916"), h);
    }

    #[test]
    fn answer_modes_parse_and_say_what_they_allow() {
        assert_eq!(AnswerMode::parse("both"), Some(AnswerMode::Both));
        assert!(AnswerMode::Both.typed() && AnswerMode::Both.spoken());
        assert!(AnswerMode::Typed.typed() && !AnswerMode::Typed.spoken());
        assert!(!AnswerMode::Spoken.typed() && AnswerMode::Spoken.spoken());
        assert_eq!(AnswerMode::parse("loud"), None);
        assert_eq!(CodeKind::parse("words"), Some(CodeKind::Words));
        assert_eq!(CodeKind::parse("letters"), None);
    }

    #[test]
    fn random_numbers_stay_below_their_bound() {
        for n in [1, 2, 7, 64, 1_000_000] {
            for _ in 0..100 {
                assert!(random_below(n).expect("random") < n);
            }
        }
    }
}
