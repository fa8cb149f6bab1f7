//! A server on PostgreSQL behind the outage proxy (`store::outage_proxy`), for the outage and
//! claim tests.

use std::time::Duration;

use store::StoreOptions;
use store::outage_proxy::{OutageProxy, authority};
use store::testing::TestDatabase;

use crate::helpers::{TestApp, spawn_app_on};

/// A server on PostgreSQL reached through a proxy the test can stop, with a short acquire
/// timeout.
pub async fn app_behind_proxy() -> (TestApp, OutageProxy) {
    let db = TestDatabase::postgres()
        .await
        .expect("PostgreSQL must be reachable at VIDEOREG_TEST_POSTGRES or 127.0.0.1:5432");
    let proxy = OutageProxy::start(&authority(&db.url)).await;
    let options = StoreOptions {
        acquire_timeout: Duration::from_millis(500),
    };
    let store = db
        .open_via(&proxy.url_through(&db.url), options)
        .await
        .expect("open through the proxy");
    (spawn_app_on(db, store).await, proxy)
}
