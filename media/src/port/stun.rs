//! The one thing the port reads from a packet: the leg a STUN binding request is for. ICE
//! checks carry `USERNAME` as `receiver:sender` fragments (RFC 8445 §7.2.2), so the part
//! before the colon is the fragment the forwarder gave the leg. The request's integrity is
//! the leg's to check; the port only routes.

use rtc::stun::attributes::ATTR_USERNAME;
use rtc::stun::message::{BINDING_REQUEST, Message, is_stun_message};

/// The forwarder's fragment a binding request names, or `None` for any other packet.
pub(super) fn binding_ufrag(data: &[u8]) -> Option<String> {
    // STUN's first two bits are zero; RTP, RTCP and DTLS never start so (RFC 7983).
    if !is_stun_message(data) || data[0] > 3 {
        return None;
    }
    let mut m = Message {
        raw: data.to_vec(),
        ..Message::default()
    };
    m.decode().ok()?;
    if m.typ != BINDING_REQUEST {
        return None;
    }
    let username = m.get(ATTR_USERNAME).ok()?;
    let username = std::str::from_utf8(&username).ok()?;
    let (ours, _theirs) = username.split_once(':')?;
    (!ours.is_empty()).then(|| ours.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::stun::message::{BINDING_SUCCESS, MessageType};

    fn message(typ: MessageType, username: Option<&str>) -> Vec<u8> {
        let mut m = Message::new();
        m.set_type(typ);
        m.new_transaction_id().expect("transaction id");
        if let Some(u) = username {
            m.add(ATTR_USERNAME, u.as_bytes());
        }
        m.encode();
        m.raw
    }

    #[test]
    fn a_binding_request_names_the_receivers_fragment() {
        let raw = message(BINDING_REQUEST, Some("serverfrag:browserfrag"));
        assert_eq!(binding_ufrag(&raw).as_deref(), Some("serverfrag"));
    }

    #[test]
    fn other_packets_name_no_fragment() {
        assert_eq!(binding_ufrag(&message(BINDING_SUCCESS, Some("a:b"))), None);
        assert_eq!(binding_ufrag(&message(BINDING_REQUEST, None)), None);
        assert_eq!(
            binding_ufrag(&message(BINDING_REQUEST, Some("nocolon"))),
            None
        );
        assert_eq!(binding_ufrag(&message(BINDING_REQUEST, Some(":b"))), None);
        // An RTP packet (version 2) and a DTLS record.
        assert_eq!(
            binding_ufrag(&[0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]),
            None
        );
        assert_eq!(binding_ufrag(&[22, 254, 253, 0, 0]), None);
        // A truncated request.
        let raw = message(BINDING_REQUEST, Some("a:b"));
        assert_eq!(binding_ufrag(&raw[..raw.len() - 3]), None);
    }
}
