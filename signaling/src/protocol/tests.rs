//! Every message round-trips through JSON as `docs/protocol.md` shows it; unknown fields and
//! missing ones are refused.

use super::*;

fn round_trip<T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug>(
    m: T,
) -> String {
    let json = serde_json::to_string(&m).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m, "{json}");
    json
}

#[test]
fn every_citizen_message_round_trips() {
    assert_eq!(
        round_trip(CitizenMessage::Join {
            application: "t".into(),
            consent: true,
        }),
        r#"{"type":"join","application":"t","consent":true}"#
    );
    round_trip(CitizenMessage::Resume {
        resume_token: "r".into(),
    });
    assert_eq!(round_trip(CitizenMessage::Leave), r#"{"type":"leave"}"#);
    assert_eq!(
        round_trip(CitizenMessage::EchoStart),
        r#"{"type":"echo_start"}"#
    );
    assert_eq!(
        round_trip(CitizenMessage::EchoStop),
        r#"{"type":"echo_stop"}"#
    );
    let offer = CitizenMessage::Offer {
        description: SessionDescription {
            kind: "offer".into(),
            sdp: "v=0".into(),
        },
    };
    assert_eq!(
        round_trip(offer),
        r#"{"type":"offer","description":{"type":"offer","sdp":"v=0"}}"#
    );
    let ice = CitizenMessage::Ice {
        candidate: IceCandidate {
            candidate: "candidate:1".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        },
    };
    assert!(round_trip(ice).contains(r#""sdpMid":"0","sdpMLineIndex":0"#));
    for m in [
        ToCitizen::Queued {
            ticket: "t".into(),
            resume_token: "r".into(),
            position: 1,
            estimate_secs: Some(60),
            estimate_low_secs: None,
            estimate_high_secs: None,
            grace_secs: 60,
            offer_booking: false,
        },
        ToCitizen::Appointment {
            slot: "2026-11-30T08:10:00Z".into(),
            kept: true,
        },
        ToCitizen::Position {
            position: 2,
            estimate_secs: None,
            estimate_low_secs: None,
            estimate_high_secs: None,
        },
        ToCitizen::Position {
            position: 9,
            estimate_secs: Some(900),
            estimate_low_secs: Some(600),
            estimate_high_secs: Some(1200),
        },
        ToCitizen::Refused {
            reason: RefusalReason::TooLateToday,
            closes: Some("x".into()),
            next_opening: None,
        },
        ToCitizen::AgentFound,
        ToCitizen::EchoReady {
            ice_servers: vec![],
            max_secs: 120,
        },
        ToCitizen::EchoBusy {
            retry_after_secs: 5,
        },
        ToCitizen::EchoEnded {
            reason: "stopped".into(),
            report: Quality {
                packets: 1,
                bytes: 2,
                lost: 0,
                rtt_ms: None,
                keyframe_requests: 0,
                path: None,
            },
        },
        ToCitizen::CallStarted {
            ice_servers: vec![IceServer {
                urls: vec!["stun:x".into()],
                username: None,
                credential: None,
            }],
        },
        ToCitizen::Answer {
            description: SessionDescription {
                kind: "answer".into(),
                sdp: "v=0".into(),
            },
        },
        ToCitizen::Ice {
            candidate: IceCandidate {
                candidate: "candidate:1".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
                username_fragment: None,
            },
        },
        ToCitizen::Requeued {
            position: 1,
            reason: None,
        },
        ToCitizen::Requeued {
            position: 1,
            reason: Some("video_quality".into()),
        },
        ToCitizen::Approved {
            registration: "r".into(),
            activation_code: "ABCD-EFGH-JKLM-NPQR".into(),
            code_expires_at: "2026-12-26T10:00:00Z".into(),
        },
        ToCitizen::Rejected {
            reason: "document_expired".into(),
            message_es: "m".into(),
            message_en: "m".into(),
        },
        ToCitizen::CallEnded {
            reason: "hang_up".into(),
        },
        ToCitizen::Left,
        ToCitizen::Reconnect {
            retry_after_ms: 1000,
        },
        ToCitizen::Error {
            code: "c".into(),
            message: "m".into(),
        },
    ] {
        round_trip(m);
    }
}

#[test]
fn every_agent_message_round_trips() {
    assert_eq!(
        round_trip(AgentMessage::SetState {
            state: AgentSettableState::Break,
            reason: Some("café".into())
        }),
        r#"{"type":"set_state","state":"break","reason":"café"}"#
    );
    for m in [
        AgentMessage::TakeNext,
        AgentMessage::Accept,
        AgentMessage::Requeue,
        AgentMessage::HangUp,
    ] {
        round_trip(m);
    }
    for m in [
        ToAgent::State {
            state: "available".into(),
            reason: None,
            read_only: false,
        },
        ToAgent::Queue {
            waiting: 3,
            longest_wait_secs: 120,
        },
        ToAgent::Offered {
            ticket: "t".into(),
            id_number: "*****678Z".into(),
            waited_secs: 30,
        },
        ToAgent::QueueEmpty,
        ToAgent::Quality {
            citizen: Quality {
                packets: 10,
                bytes: 1000,
                lost: 1,
                rtt_ms: Some(12.5),
                keyframe_requests: 0,
                path: None,
            },
            agent: Quality {
                packets: 9,
                bytes: 900,
                lost: 0,
                rtt_ms: None,
                keyframe_requests: 2,
                path: None,
            },
        },
        ToAgent::CallStarted {
            ice_servers: vec![],
        },
        ToAgent::Answer {
            description: SessionDescription {
                kind: "answer".into(),
                sdp: "v=0".into(),
            },
        },
        ToAgent::Ice {
            candidate: IceCandidate {
                candidate: "candidate:1".into(),
                sdp_mid: None,
                sdp_m_line_index: Some(0),
                username_fragment: None,
            },
        },
        ToAgent::CallEnded {
            reason: "hang_up".into(),
        },
        ToAgent::Reconnect {
            retry_after_ms: 1000,
        },
        ToAgent::Error {
            code: "c".into(),
            message: "m".into(),
        },
    ] {
        round_trip(m);
    }
}

#[test]
fn unknown_types_and_fields_are_refused() {
    assert!(serde_json::from_str::<CitizenMessage>(r#"{"type":"teleport"}"#).is_err());
    assert!(
        serde_json::from_str::<CitizenMessage>(r#"{"type":"join","application":"t","x":1}"#)
            .is_err()
    );
    assert!(
        serde_json::from_str::<CitizenMessage>(r#"{"type":"join"}"#).is_err(),
        "missing field"
    );
    assert!(
        serde_json::from_str::<AgentMessage>(r#"{"type":"set_state","state":"in_call"}"#).is_err()
    );
}

#[test]
fn numbers_survive_a_round_trip_exactly() {
    // Found by fuzzing: without correctly rounded parsing, 6.666…e83 came back one unit off.
    let text = format!(
        r#"{{"type":"echo_result","verdict":"good","rtt_ms":12.5,"loss_pct":{}0.1,"jitter_ms":3,"kbps":900}}"#,
        "6".repeat(83)
    );
    let m: CitizenMessage = serde_json::from_str(&text).expect("parses");
    let again: CitizenMessage =
        serde_json::from_str(&serde_json::to_string(&m).expect("serialises")).expect("parses");
    assert_eq!(again, m);
}
