//! Replaying a recording: auditors get it with range requests (206) and every request is
//! audited; supervisors, agents and anonymous clients do not get it; a purged recording is
//! gone; the decision page shows the player with the call's events on its timeline.

use chrono::TimeDelta;
use store::StaffRole;

use crate::helpers::{Db, spawn_app_with};
use crate::retention::{actions, args, decided_and_undecided, record, recordings_dir};

#[tokio::test]
async fn an_auditor_replays_a_recording_by_ranges_and_nobody_else_can() {
    let dir = recordings_dir();
    let app = spawn_app_with(Db::Sqlite, args(&dir)).await;
    let (decided, _) = decided_and_undecided(&app).await;
    let file = record(&app, &dir, &decided, app.clock.now()).await;
    let whole = std::fs::read(dir.join(&file)).expect("read");
    let id = app
        .store
        .recordings_for_ticket(&decided)
        .await
        .expect("list")[0]
        .id
        .clone();
    let path = format!("/staff/recordings/{id}");

    let anonymous = app
        .client
        .get(app.url(&path))
        .header("range", "bytes=0-99")
        .send()
        .await
        .expect("GET");
    assert_eq!(
        anonymous.status().as_u16(),
        401,
        "anonymous clients are asked to sign in"
    );
    for (name, role) in [("sara", StaffRole::Supervisor), ("pepe", StaffRole::Agent)] {
        app.add_staff(name, role).await;
        let mut b = app.browser();
        b.sign_in(name).await;
        let r = app
            .client
            .get(app.url(&path))
            .header("cookie", b.cookie_header())
            .header("range", "bytes=0-99")
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status().as_u16(), 403, "{name}");
    }

    app.add_staff("auditora", StaffRole::Auditor).await;
    let mut b = app.browser();
    b.sign_in("auditora").await;
    let r = app
        .client
        .get(app.url(&path))
        .header("cookie", b.cookie_header())
        .header("range", "bytes=100-199")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(
        r.headers()["content-range"].to_str().expect("ascii"),
        format!("bytes 100-199/{}", whole.len())
    );
    assert_eq!(r.headers()["content-type"], "video/webm");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.bytes().await.expect("body").as_ref(), &whole[100..200]);
    let viewed = actions(&app, &decided)
        .await
        .iter()
        .filter(|a| *a == "recording.viewed")
        .count();
    assert_eq!(
        viewed, 1,
        "the auditor's request is audited, refused ones are not served"
    );

    let page = b.get(&format!("/staff/decisions/{decided}")).await;
    assert!(
        page.body.contains(&format!("src=\"{path}\"")),
        "{}",
        page.body
    );
    // The recording ran for the minute before the decision: it sits 60 s in.
    assert!(
        page.body
            .contains("data-seek=\"60\">1:00</button> decision.rejected"),
        "the call's events are on the timeline: {}",
        page.body
    );

    let policy = app.state().evidence.clone();
    let later = app.clock.now() + TimeDelta::days(60);
    web::evidence::purge_once(&app.store, &policy, later)
        .await
        .expect("purge");
    let r = app
        .client
        .get(app.url(&path))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status().as_u16(), 404, "a purged recording is gone");
    let page = b.get(&format!("/staff/decisions/{decided}")).await;
    assert!(
        page.body.contains("Deleted when its retention ended") || page.body.contains("Borrada")
    );
    std::fs::remove_dir_all(&dir).ok();
}
