//! `/staff/console`: the page agents work in all day (supervisors may open it to watch), and
//! its script.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use store::StaffRole;

use super::{Chrome, chrome};
use crate::auth::{AgentPages, Staff};
use crate::checklist::{CheckItem, Reason};
use crate::i18n::Lang;
use crate::{ConsoleState, Error};

const CONSOLE_JS: &str = include_str!("../../static/console.js");
const CONSOLE_KEYS_JS: &str = include_str!("../../static/console-keys.js");
const CONSOLE_DECISION_JS: &str = include_str!("../../static/console-decision.js");
const CONSOLE_SCRIPT_JS: &str = include_str!("../../static/console-script.js");
const CONSOLE_STILLS_JS: &str = include_str!("../../static/console-stills.js");
const CONSOLE_CHALLENGE_JS: &str = include_str!("../../static/console-challenge.js");
const CONSOLE_MONITOR_JS: &str = include_str!("../../static/console-monitor.js");

/// A checklist heading and its items, as the page lists them.
pub struct Section<'a> {
    title: Option<String>,
    min: usize,
    items: Vec<&'a CheckItem>,
}

#[derive(Template)]
#[template(path = "console.html")]
struct ConsolePage<'a> {
    lang: Lang,
    chrome: Chrome,
    read_only: bool,
    csrf: String,
    sections: Vec<Section<'a>>,
    reject_reasons: &'a [Reason],
    abort_reasons: &'a [Reason],
    required_stills: String,
    offer_timeout_secs: i64,
    wrap_up_secs: i64,
    /// Whether approval needs a passed live-person challenge.
    liveness_required: bool,
    /// Whether codes are words (the agent picks their language).
    words: bool,
}

pub async fn page(
    State(state): State<ConsoleState>,
    State(signaling): State<signaling::SignalingState>,
    lang: Lang,
    staff: Staff<AgentPages>,
) -> Result<Html<String>, Error> {
    let rules = &state.verification.rules;
    let mut sections = vec![Section {
        title: None,
        min: 0,
        items: rules.items.iter().filter(|i| i.group.is_none()).collect(),
    }];
    for g in &rules.groups {
        sections.push(Section {
            title: Some(lang.pick(&g.label.es, &g.label.en).to_owned()),
            min: g.min,
            items: rules
                .items
                .iter()
                .filter(|i| i.group.as_ref() == Some(&g.id))
                .collect(),
        });
    }
    let page = ConsolePage {
        lang,
        chrome: chrome(&state, &staff),
        read_only: staff.user.role != StaffRole::Agent,
        csrf: staff.session.csrf_token.clone(),
        sections,
        reject_reasons: &rules.reject_reasons,
        abort_reasons: &rules.abort_reasons,
        required_stills: rules.required_stills.join(","),
        offer_timeout_secs: signaling.agent_policy.offer_timeout.num_seconds(),
        wrap_up_secs: signaling.agent_policy.wrap_up.num_seconds(),
        liveness_required: state.verification.liveness.required,
        words: state.verification.liveness.code == signaling::liveness::CodeKind::Words,
    };
    Ok(Html(page.render()?))
}

/// The console's script (compiled in; no build step).
pub async fn script() -> impl IntoResponse {
    super::javascript(CONSOLE_JS)
}

/// The console's keyboard shortcuts and their help overlay.
pub async fn keys_script() -> impl IntoResponse {
    super::javascript(CONSOLE_KEYS_JS)
}

/// The console's reject, abort and hang-up guards (reason chosen, confirmation).
pub async fn decision_script() -> impl IntoResponse {
    super::javascript(CONSOLE_DECISION_JS)
}

/// The call script panel, ticked as the checklist and stills progress.
pub async fn call_script() -> impl IntoResponse {
    super::javascript(CONSOLE_SCRIPT_JS)
}

/// The console's thumbnails with their quality, and the full-size viewer.
pub async fn stills_script() -> impl IntoResponse {
    super::javascript(CONSOLE_STILLS_JS)
}

/// What the agent is told of supervisors watching, and their hints.
pub async fn monitor_script() -> impl IntoResponse {
    super::javascript(CONSOLE_MONITOR_JS)
}

/// The live-person check panel: issuing, following and confirming a challenge.
pub async fn challenge_script() -> impl IntoResponse {
    super::javascript(CONSOLE_CHALLENGE_JS)
}
