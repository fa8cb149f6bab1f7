use super::*;
use rtc::stun::attributes::ATTR_USERNAME;
use rtc::stun::message::{BINDING_REQUEST, Message};

fn check(ufrag: &str) -> Vec<u8> {
    let mut m = Message::new();
    m.set_type(BINDING_REQUEST);
    m.new_transaction_id().expect("transaction id");
    m.add(ATTR_USERNAME, format!("{ufrag}:browser").as_bytes());
    m.encode();
    m.raw
}

fn route(session: u64, leg: LegKey) -> (Route, mpsc::Receiver<Inbound>) {
    let (queue, inbox) = mpsc::channel(4);
    (
        Route {
            session,
            leg,
            queue,
        },
        inbox,
    )
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], port))
}

const RTP: &[u8] = &[0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];

fn routed(table: &mut Table, tcp: bool, from: SocketAddr, data: &[u8]) -> Option<(u64, LegKey)> {
    table.route(tcp, from, data).map(|r| (r.session, r.leg))
}

#[test]
fn media_from_an_address_goes_nowhere_until_a_check_names_a_leg() {
    let mut table = Table::default();
    let (r, _inbox) = route(1, LegKey::Call(0));
    table.learn_ufrag(r, "frag-a".into());
    assert_eq!(routed(&mut table, false, addr(5000), RTP), None);
    assert_eq!(
        routed(&mut table, false, addr(5000), &check("frag-a")),
        Some((1, LegKey::Call(0)))
    );
    assert_eq!(
        routed(&mut table, false, addr(5000), RTP),
        Some((1, LegKey::Call(0)))
    );
    // The same address over TCP is another path, not learnt yet.
    assert_eq!(routed(&mut table, true, addr(5000), RTP), None);
    // An unknown fragment teaches nothing.
    assert_eq!(
        routed(&mut table, false, addr(5001), &check("frag-x")),
        None
    );
}

#[test]
fn a_restart_from_a_new_port_moves_the_leg_and_a_reused_port_moves_to_its_new_leg() {
    let mut table = Table::default();
    let (a, _ia) = route(1, LegKey::Call(0));
    let (b, _ib) = route(2, LegKey::Call(1));
    table.learn_ufrag(a.clone(), "a1".into());
    table.learn_ufrag(b, "b1".into());
    routed(&mut table, false, addr(5000), &check("a1"));
    // The restart's new fragment, from a new port.
    table.learn_ufrag(a, "a2".into());
    assert_eq!(
        routed(&mut table, false, addr(6000), &check("a2")),
        Some((1, LegKey::Call(0)))
    );
    // Port 5000 given to another browser, whose check names session 2.
    assert_eq!(
        routed(&mut table, false, addr(5000), &check("b1")),
        Some((2, LegKey::Call(1)))
    );
    assert_eq!(
        routed(&mut table, false, addr(5000), RTP),
        Some((2, LegKey::Call(1)))
    );
    assert!(!table.taught[&1].addresses.contains(&(false, addr(5000))));
}

#[test]
fn a_forgotten_session_leaves_nothing_and_spares_the_others() {
    let mut table = Table::default();
    let (a, _ia) = route(1, LegKey::Call(0));
    let (b, _ib) = route(2, LegKey::Monitor(7));
    table.learn_ufrag(a, "a".into());
    table.learn_ufrag(b, "b".into());
    routed(&mut table, false, addr(1), &check("a"));
    routed(&mut table, true, addr(2), &check("b"));
    table.forget(1);
    assert_eq!(routed(&mut table, false, addr(1), RTP), None);
    assert_eq!(routed(&mut table, false, addr(1), &check("a")), None);
    assert_eq!(
        routed(&mut table, true, addr(2), RTP),
        Some((2, LegKey::Monitor(7)))
    );
    assert!(!table.taught.contains_key(&1));
}

#[test]
fn one_session_cannot_fill_the_table() {
    let mut table = Table::default();
    let (a, _ia) = route(1, LegKey::Call(0));
    for i in 0..100 {
        table.learn_ufrag(a.clone(), format!("f{i}"));
    }
    for port in 0..200u16 {
        routed(&mut table, false, addr(port), &check("f99"));
    }
    assert_eq!(table.by_ufrag.len(), MAX_UFRAGS);
    assert_eq!(table.by_address.len(), MAX_ADDRESSES);
    // The newest stay.
    assert_eq!(
        routed(&mut table, false, addr(199), RTP),
        Some((1, LegKey::Call(0)))
    );
    assert_eq!(routed(&mut table, false, addr(0), RTP), None);
}
