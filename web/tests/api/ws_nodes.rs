//! Two servers on one PostgreSQL database, as two nodes: a citizen on one, an agent on the
//! other; messages cross over the bus (LISTEN/NOTIFY).

use serde_json::json;
use store::StaffRole;
use web::config::ServeArgs;

use crate::helpers::{Db, second_node, spawn_app_with};

#[tokio::test]
async fn a_citizen_on_one_node_is_served_by_an_agent_on_another() {
    let a = spawn_app_with(Db::Postgres, ServeArgs::default()).await;
    let b = second_node(&a).await;
    let token = a.application("12345678Z", "15/03/2031").await;
    let mut citizen = a.citizen().await;
    citizen
        .send(json!({ "type": "join", "application": token }))
        .await;
    citizen.until("queued").await;

    b.add_staff("ana", StaffRole::Agent).await;
    let mut browser = b.browser();
    browser.sign_in("ana").await;
    let mut agent = b
        .try_ws("/ws/agent", Some(&b.base), Some(&browser.cookie_header()))
        .await
        .expect("console");
    agent.until("state").await;
    agent
        .send(json!({ "type": "set_state", "state": "available" }))
        .await;
    // The agent's node changed the queue; the citizen's node hears it and updates the estimate.
    loop {
        if !citizen.until("position").await["estimate_secs"].is_null() {
            break;
        }
    }
    agent.send(json!({ "type": "take_next" })).await;
    agent.until("offered").await;
    citizen.until("agent_found").await;
    agent.send(json!({ "type": "accept" })).await;
    citizen.until("call_started").await;
    agent.send(json!({ "type": "hang_up" })).await;
    assert_eq!(citizen.until("call_ended").await["reason"], "hang_up");
}
