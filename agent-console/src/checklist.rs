//! The verification checklist and the reason codes, from configuration, and the rule an
//! approval must pass: every required item ticked, every group's minimum met, every
//! required still taken. The server applies it; the console only mirrors it.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use store::StillKind;

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Spanish.
    pub es: String,
    /// English.
    pub en: String,
}

impl Label {
    fn new(es: &str, en: &str) -> Self {
        Self {
            es: es.to_owned(),
            en: en.to_owned(),
        }
    }
}

/// One item an agent ticks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckItem {
    /// Stable id (stored with the decision).
    pub id: String,
    /// What the agent checks.
    pub label: Label,
    /// Whether approval needs it ticked (items in a group count toward the group instead).
    #[serde(default)]
    pub required: bool,
    /// The group it belongs to, if any.
    #[serde(default)]
    pub group: Option<String>,
}

/// Items of which at least `min` must be ticked (e.g. 3 of 4 security features).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckGroup {
    /// Stable id.
    pub id: String,
    /// Its heading.
    pub label: Label,
    /// How many of its items approval needs.
    pub min: usize,
}

/// A reason code for rejecting or aborting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Stable code (stored with the decision and shown to the citizen in plain words).
    pub code: String,
    /// For the agent.
    pub label: Label,
    /// For the citizen: what happened and what to do next.
    pub citizen: Label,
}

/// An action a citizen may be asked to do during the live-person check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessAction {
    /// Stable id (stored with the challenge).
    pub id: String,
    /// What the citizen is asked, in both languages.
    pub label: Label,
}

/// A reason a second reviewer flags an approval for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagReason {
    /// Stable code (stored with the review).
    pub code: String,
    /// For the reviewer and the auditor.
    pub label: Label,
}

/// The longest action text, in characters.
const MAX_ACTION_TEXT: usize = 200;

/// Everything configurable about a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationRules {
    /// The checklist, in display order.
    pub items: Vec<CheckItem>,
    /// Groups with a minimum.
    #[serde(default)]
    pub groups: Vec<CheckGroup>,
    /// Stills approval needs.
    pub required_stills: Vec<String>,
    /// Reasons for rejecting.
    pub reject_reasons: Vec<Reason>,
    /// Reasons for aborting (the citizen goes back to the head of the queue).
    pub abort_reasons: Vec<Reason>,
    /// Actions the live-person check picks from at random.
    #[serde(default = "default_actions")]
    pub liveness_actions: Vec<LivenessAction>,
    /// Reasons a second reviewer may flag an approval for.
    #[serde(default = "default_flags")]
    pub review_flags: Vec<FlagReason>,
}

/// What stands between a call and its approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "missing", rename_all = "snake_case")]
pub enum Missing {
    /// A required item is not ticked.
    Item {
        /// Its id.
        id: String,
    },
    /// A group has fewer ticks than its minimum.
    Group {
        /// Its id.
        id: String,
        /// Ticked.
        ticked: usize,
        /// Needed.
        min: usize,
    },
    /// A required still has not been taken.
    Still {
        /// Its kind.
        kind: String,
    },
    /// No live-person challenge has passed in this call (when one is required).
    Challenge,
}

impl VerificationRules {
    /// Checks the rules themselves (at start-up): ids unique, groups known and reachable,
    /// still kinds known, at least one reason of each kind.
    pub fn validate(&self) -> Result<(), String> {
        let mut ids = HashSet::new();
        for item in &self.items {
            if item.id.is_empty() || !ids.insert(item.id.as_str()) {
                return Err(format!(
                    "checklist item id {:?} is empty or repeated",
                    item.id
                ));
            }
            if let Some(g) = &item.group
                && !self.groups.iter().any(|x| &x.id == g)
            {
                return Err(format!(
                    "checklist item {:?} names unknown group {g:?}",
                    item.id
                ));
            }
        }
        for g in &self.groups {
            let size = self
                .items
                .iter()
                .filter(|i| i.group.as_ref() == Some(&g.id))
                .count();
            if g.min == 0 || g.min > size {
                return Err(format!(
                    "checklist group {:?} needs {} of {size} items",
                    g.id, g.min
                ));
            }
        }
        for s in &self.required_stills {
            if StillKind::parse(s).is_none() {
                return Err(format!(
                    "required still {s:?} is not document_front, document_back or face"
                ));
            }
        }
        for (name, list) in [
            ("reject", &self.reject_reasons),
            ("abort", &self.abort_reasons),
        ] {
            let mut codes = HashSet::new();
            if list.is_empty() {
                return Err(format!("at least one {name} reason is needed"));
            }
            if list
                .iter()
                .any(|r| r.code.is_empty() || !codes.insert(r.code.as_str()))
            {
                return Err(format!("{name} reason codes must be non-empty and unique"));
            }
        }
        let mut flags = HashSet::new();
        if self.review_flags.is_empty()
            || self
                .review_flags
                .iter()
                .any(|f| f.code.is_empty() || !flags.insert(f.code.as_str()))
        {
            return Err("review flag codes must be at least one, non-empty and unique".into());
        }
        let mut actions = HashSet::new();
        if self.liveness_actions.is_empty() {
            return Err("at least one liveness action is needed".into());
        }
        for a in &self.liveness_actions {
            if a.id.is_empty() || !actions.insert(a.id.as_str()) {
                return Err(format!(
                    "liveness action id {:?} is empty or repeated",
                    a.id
                ));
            }
            if [&a.label.es, &a.label.en]
                .iter()
                .any(|t| t.trim().is_empty() || t.chars().count() > MAX_ACTION_TEXT)
            {
                return Err(format!(
                    "liveness action {:?} needs both texts, each at most {MAX_ACTION_TEXT} characters",
                    a.id
                ));
            }
        }
        Ok(())
    }

    /// What approval still needs, given the ticked items and the stills taken; empty when
    /// approval is allowed. Unknown ticked ids are ignored.
    pub fn missing_for_approval(&self, ticked: &[String], stills: &[StillKind]) -> Vec<Missing> {
        let ticked: HashSet<&str> = ticked.iter().map(String::as_str).collect();
        let mut missing = Vec::new();
        for item in self
            .items
            .iter()
            .filter(|i| i.required && i.group.is_none())
        {
            if !ticked.contains(item.id.as_str()) {
                missing.push(Missing::Item {
                    id: item.id.clone(),
                });
            }
        }
        for g in &self.groups {
            let count = self
                .items
                .iter()
                .filter(|i| i.group.as_ref() == Some(&g.id) && ticked.contains(i.id.as_str()))
                .count();
            if count < g.min {
                missing.push(Missing::Group {
                    id: g.id.clone(),
                    ticked: count,
                    min: g.min,
                });
            }
        }
        for kind in &self.required_stills {
            if !stills.iter().any(|s| s.as_str() == kind) {
                missing.push(Missing::Still { kind: kind.clone() });
            }
        }
        missing
    }

    /// The ticked ids that name items, in checklist order (what is stored).
    pub fn known_ticks(&self, ticked: &[String]) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| ticked.contains(&i.id))
            .map(|i| i.id.clone())
            .collect()
    }

    /// The reject reason with `code`.
    pub fn reject_reason(&self, code: &str) -> Option<&Reason> {
        self.reject_reasons.iter().find(|r| r.code == code)
    }

    /// The review flag with `code`.
    pub fn flag_reason(&self, code: &str) -> Option<&FlagReason> {
        self.review_flags.iter().find(|f| f.code == code)
    }

    /// The abort reason with `code`.
    pub fn abort_reason(&self, code: &str) -> Option<&Reason> {
        self.abort_reasons.iter().find(|r| r.code == code)
    }
}

/// The built-in actions: each defeats a replayed or injected video in its own way.
fn default_actions() -> Vec<LivenessAction> {
    let action = |id: &str, es: &str, en: &str| LivenessAction {
        id: id.to_owned(),
        label: Label::new(es, en),
    };
    vec![
        action(
            "turn_head_left",
            "Gire la cabeza hacia la izquierda",
            "Turn your head to the left",
        ),
        action(
            "turn_head_right",
            "Gire la cabeza hacia la derecha",
            "Turn your head to the right",
        ),
        action(
            "cover_left_eye",
            "Tápese el ojo izquierdo con la mano",
            "Cover your left eye with your hand",
        ),
        action(
            "tilt_document",
            "Incline el documento hacia la luz",
            "Tilt the document towards the light",
        ),
        action(
            "touch_nose",
            "Tóquese la nariz con el dedo índice",
            "Touch your nose with your index finger",
        ),
        action(
            "raise_hand",
            "Levante la mano abierta junto a la cara",
            "Raise your open hand beside your face",
        ),
    ]
}

/// The built-in reasons for flagging an approval.
fn default_flags() -> Vec<FlagReason> {
    let flag = |code: &str, es: &str, en: &str| FlagReason {
        code: code.to_owned(),
        label: Label::new(es, en),
    };
    vec![
        flag(
            "document_doubt",
            "Dudas sobre el documento (autenticidad, vigencia)",
            "Doubts about the document (genuine, valid)",
        ),
        flag(
            "face_mismatch",
            "La cara no coincide claramente con la foto",
            "The face does not clearly match the photo",
        ),
        flag(
            "liveness_doubt",
            "Dudas de que sea una persona en directo",
            "Doubts that it is a live person",
        ),
        flag(
            "checklist_unsupported",
            "Lo marcado no se ve en la grabación ni en las imágenes",
            "What was ticked is not borne out by the recording or stills",
        ),
        flag(
            "evidence_missing",
            "Falta la grabación o imágenes necesarias",
            "The recording or needed stills are missing",
        ),
    ]
}

impl Default for VerificationRules {
    fn default() -> Self {
        let item = |id: &str, es: &str, en: &str, group: Option<&str>| CheckItem {
            id: id.to_owned(),
            label: Label::new(es, en),
            required: group.is_none(),
            group: group.map(str::to_owned),
        };
        let reason = |code: &str, es: &str, en: &str, ces: &str, cen: &str| Reason {
            code: code.to_owned(),
            label: Label::new(es, en),
            citizen: Label::new(ces, cen),
        };
        let sf = Some("security_features");
        Self {
            items: vec![
                item(
                    "document_original",
                    "Documento original y en vigor",
                    "Original document, not expired",
                    None,
                ),
                item(
                    "data_match",
                    "Los datos coinciden con el registro",
                    "Data match the registry",
                    None,
                ),
                item(
                    "face_match",
                    "La cara coincide con la foto del documento",
                    "Face matches the document photo",
                    None,
                ),
                item(
                    "hologram",
                    "Holograma / elemento óptico variable (pida que incline el documento)",
                    "Hologram / optically variable device (ask the citizen to tilt the document)",
                    sf,
                ),
                item(
                    "personalisation",
                    "Personalización (grabado láser, imagen fantasma)",
                    "Personalisation (laser engraving, ghost image)",
                    sf,
                ),
                item(
                    "material",
                    "Material del soporte (policarbonato, tacto, relieve)",
                    "Card material (polycarbonate, relief)",
                    sf,
                ),
                item(
                    "security_print",
                    "Impresión de seguridad (fondos de seguridad, microtexto)",
                    "Security print (guilloches, microtext)",
                    sf,
                ),
                item(
                    "consent",
                    "Consentimiento a la llamada y su grabación registrado",
                    "Consent to the call and its recording recorded",
                    None,
                ),
            ],
            groups: vec![CheckGroup {
                id: "security_features".into(),
                label: Label::new(
                    "Medidas de seguridad (al menos 3 de 4)",
                    "Security features (at least 3 of 4)",
                ),
                min: 3,
            }],
            required_stills: StillKind::ALL
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect(),
            reject_reasons: vec![
                reason(
                    "document_expired",
                    "Documento caducado",
                    "Document expired",
                    "Su documento está caducado. Renuévelo y vuelva a solicitar el registro.",
                    "Your document has expired. Renew it and apply again.",
                ),
                reason(
                    "document_not_original",
                    "No es el documento original",
                    "Not the original document",
                    "Necesitamos ver el documento original, no una copia ni una foto. Vuelva a intentarlo con el original.",
                    "We need to see the original document, not a copy or a photo. Try again with the original.",
                ),
                reason(
                    "data_mismatch",
                    "Los datos no coinciden",
                    "Data do not match",
                    "Los datos del documento no coinciden con los del registro. Acuda a una oficina de registro presencial.",
                    "The document's data do not match the registry. Please visit a registration office in person.",
                ),
                reason(
                    "face_mismatch",
                    "La cara no coincide",
                    "Face does not match",
                    "No hemos podido comprobar que usted es el titular del documento. Acuda a una oficina de registro presencial.",
                    "We could not confirm that you hold the document. Please visit a registration office in person.",
                ),
                reason(
                    "security_features",
                    "Medidas de seguridad no verificadas",
                    "Security features not verified",
                    "No hemos podido comprobar las medidas de seguridad del documento. Acuda a una oficina de registro presencial.",
                    "We could not check the document's security features. Please visit a registration office in person.",
                ),
                reason(
                    "other",
                    "Otro motivo (ver nota)",
                    "Other (see the note)",
                    "No hemos podido completar su registro. Puede volver a intentarlo o acudir a una oficina de registro presencial.",
                    "We could not complete your registration. You may try again or visit a registration office in person.",
                ),
            ],
            abort_reasons: vec![
                reason(
                    "video_quality",
                    "Calidad de vídeo insuficiente",
                    "Video quality too poor",
                    "La imagen no era suficientemente clara. Vuelve a estar el primero de la cola.",
                    "The picture was not clear enough. You are back at the head of the queue.",
                ),
                reason(
                    "audio_quality",
                    "Calidad de audio insuficiente",
                    "Audio quality too poor",
                    "El sonido no era suficientemente claro. Vuelve a estar el primero de la cola.",
                    "The sound was not clear enough. You are back at the head of the queue.",
                ),
                reason(
                    "connection",
                    "Conexión inestable",
                    "Unstable connection",
                    "La conexión se cortaba. Vuelve a estar el primero de la cola.",
                    "The connection kept dropping. You are back at the head of the queue.",
                ),
            ],
            liveness_actions: default_actions(),
            review_flags: default_flags(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    const ALL_REQUIRED: [&str; 4] = ["document_original", "data_match", "face_match", "consent"];

    #[test]
    fn the_default_rules_are_valid() {
        VerificationRules::default().validate().unwrap();
    }

    #[test]
    fn approval_needs_required_items_three_security_features_and_three_stills() {
        let rules = VerificationRules::default();
        let mut ticked = ticks(&ALL_REQUIRED);
        ticked.extend(ticks(&["hologram", "material"]));
        let missing = rules.missing_for_approval(&ticked, &[StillKind::Face]);
        assert_eq!(
            missing,
            vec![
                Missing::Group {
                    id: "security_features".into(),
                    ticked: 2,
                    min: 3
                },
                Missing::Still {
                    kind: "document_front".into()
                },
                Missing::Still {
                    kind: "document_back".into()
                },
            ]
        );
        ticked.push("security_print".into());
        assert!(
            rules
                .missing_for_approval(&ticked, &StillKind::ALL)
                .is_empty()
        );
        ticked.retain(|t| t != "consent");
        assert_eq!(
            rules.missing_for_approval(&ticked, &StillKind::ALL),
            vec![Missing::Item {
                id: "consent".into()
            }]
        );
    }

    #[test]
    fn unknown_ticks_count_for_nothing() {
        let rules = VerificationRules::default();
        let ticked = ticks(&["made_up", "document_original"]);
        assert_eq!(rules.known_ticks(&ticked), ["document_original"]);
        assert!(
            !rules
                .missing_for_approval(&ticked, &StillKind::ALL)
                .is_empty()
        );
    }

    #[test]
    fn liveness_actions_need_ids_and_both_texts() {
        let mut rules = VerificationRules::default();
        rules.liveness_actions.clear();
        assert!(rules.validate().unwrap_err().contains("liveness action"));
        let mut rules = VerificationRules::default();
        let first = rules.liveness_actions[0].clone();
        rules.liveness_actions.push(first);
        assert!(rules.validate().unwrap_err().contains("repeated"));
        let mut rules = VerificationRules::default();
        rules.liveness_actions[0].label.en = " ".into();
        assert!(rules.validate().unwrap_err().contains("both texts"));
    }

    #[test]
    fn broken_rules_are_refused_with_a_reason() {
        let mut rules = VerificationRules::default();
        rules.groups[0].min = 5;
        assert!(rules.validate().unwrap_err().contains("needs 5 of 4"));
        let mut rules = VerificationRules::default();
        rules.items[1].id = "document_original".into();
        assert!(rules.validate().is_err());
        let mut rules = VerificationRules::default();
        rules.required_stills.push("selfie".into());
        assert!(rules.validate().is_err());
        let mut rules = VerificationRules::default();
        rules.abort_reasons.clear();
        assert!(rules.validate().is_err());
    }
}
