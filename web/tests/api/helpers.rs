use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use scheduler::{Clock, SERVICE_TZ};
use store::Store;
use store::testing::TestDatabase;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use web::AppState;
use web::config::{CommandDefaults, GlobalArgs, ServeArgs, Settings};

/// Which database a test app runs on.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A running server on a real port with its own database and a clock the test sets.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub store: Store,
    /// The state the running server was started with (same hub, store and clock).
    pub state: AppState,
    /// The database, owned by the first node (dropped with it); `None` on a second node.
    _db: Option<TestDatabase>,
    /// Its URL, for starting a second node.
    pub database_url: String,
    _stop: oneshot::Sender<()>,
}

/// Madrid wall-clock time `YYYY-MM-DD HH:MM` as an instant.
pub fn madrid(s: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("YYYY-MM-DD HH:MM");
    SERVICE_TZ
        .from_local_datetime(&naive)
        .single()
        .expect("unambiguous")
        .to_utc()
}

/// A Thursday morning, when the service is open.
pub fn thursday_morning() -> DateTime<Utc> {
    madrid("2026-11-26 10:00")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Db::Sqlite, ServeArgs::default()).await
}

pub async fn spawn_app_with(db: Db, args: ServeArgs) -> TestApp {
    let test_db = match db {
        Db::Sqlite => TestDatabase::sqlite(),
        Db::Postgres => TestDatabase::postgres()
            .await
            .expect("PostgreSQL must be reachable at VIDEOREG_TEST_POSTGRES or 127.0.0.1:5432"),
    };
    let store = test_db.open().await.expect("open the test database");
    let mut app = start(store, args).await;
    app.database_url = test_db.url.clone();
    app._db = Some(test_db);
    app
}

/// A server on `store`, an already opened handle to `test_db` (e.g. through a proxy).
pub async fn spawn_app_on(test_db: TestDatabase, store: Store) -> TestApp {
    let mut app = start(store, ServeArgs::default()).await;
    app.database_url = test_db.url.clone();
    app._db = Some(test_db);
    app
}

/// A second server on the same database, as another node of a PostgreSQL deployment.
pub async fn second_node(first: &TestApp) -> TestApp {
    let store = Store::open(&first.database_url)
        .await
        .expect("open the shared database")
        .with_secrets_key(first.store.secrets_key().cloned());
    let node = start(store, ServeArgs::default()).await;
    node.clock.set(first.clock.now());
    node
}

async fn start(store: Store, mut args: ServeArgs) -> TestApp {
    // Presence rounds judge other nodes by the clock, and tests move their manual clocks
    // freely: one round at start (registration), no more. The node tests run real processes.
    args.heartbeat_seconds.get_or_insert(3600);
    args.node_dead_after_seconds.get_or_insert(7200);
    // Every call is recorded: each server writes its recordings in a directory of its own.
    args.recordings_dir.get_or_insert_with(|| {
        std::env::temp_dir()
            .join("videoreg-api-recordings")
            .join(store::secrets::new_id().expect("id"))
    });
    let settings =
        Settings::resolve(&GlobalArgs::default(), &args, CommandDefaults::SERVE).expect("settings");
    let clock = Clock::manual(thursday_morning());
    web::import::seed_demo(&store, clock.now())
        .await
        .expect("seed the fictional registry");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("bound address");
    let state = web::media_port::attach(
        AppState::new(&settings, store.clone(), clock.clone()),
        &settings,
    )
    .expect("media port");
    let state_for_test = state.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(web::run(listener, state, async move {
        let _ = stopped.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        clock,
        store,
        state: state_for_test,
        database_url: String::new(),
        _db: None,
        _stop: stop,
    }
}

impl TestApp {
    /// The running server's state.
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn apply(&self, id_number: &str, contrast: &str) -> (u16, serde_json::Value) {
        self.apply_via(id_number, contrast, None).await
    }

    /// Applies as if through a proxy that reports the client as `forwarded_for`.
    pub async fn apply_via(
        &self,
        id_number: &str,
        contrast: &str,
        forwarded_for: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.client.post(self.url("/api/v1/applications"));
        if let Some(f) = forwarded_for {
            request = request.header("x-forwarded-for", f);
        }
        let test_call = self.passed_test_call().await;
        let r = request
            .json(&serde_json::json!({ "id_number": id_number, "contrast": contrast, "test_call": test_call }))
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    }

    /// A passed test call's token, stored directly (the real test call is tested in echo.rs).
    pub async fn passed_test_call(&self) -> String {
        let (token, hash) = store::secrets::new_token().expect("token");
        let now = self.clock.now();
        self.store
            .insert_test_call(
                &hash,
                r#"{"verdict":"good"}"#,
                now,
                now + chrono::TimeDelta::minutes(30),
            )
            .await
            .expect("store a test call");
        token
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    }

    pub async fn page(&self, path: &str, lang: &str) -> (u16, String) {
        let r = self
            .client
            .get(self.url(path))
            .header("accept-language", lang)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }
}

/// Asserts that `r` is a 200 whose content type starts with `content_type`.
pub fn assert_ok_with_type(r: &reqwest::Response, content_type: &str) {
    assert_eq!(r.status(), 200);
    let got = r.headers()["content-type"].to_str().expect("header text");
    assert!(got.starts_with(content_type), "{got}");
}
