use chrono::{DateTime, Utc};
use store::testing::TestDatabase;
use store::{IdentityKind, IdentityRecord, Store};

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instants are RFC 3339")
        .to_utc()
}

pub async fn sqlite() -> (TestDatabase, Store) {
    let db = TestDatabase::sqlite();
    let store = db.open().await.expect("open a fresh SQLite file");
    (db, store)
}

pub async fn postgres() -> (TestDatabase, Store) {
    let db = TestDatabase::postgres()
        .await
        .expect("PostgreSQL must be reachable at VIDEOREG_TEST_POSTGRES or 127.0.0.1:5432");
    let store = db.open().await.expect("open a fresh PostgreSQL schema");
    (db, store)
}

pub fn dni(id: &str, valid_until: &str) -> IdentityRecord {
    IdentityRecord {
        id_number: id.to_owned(),
        kind: IdentityKind::Dni,
        full_name: "Lucía Prueba Ficticia".to_owned(),
        valid_until: Some(valid_until.to_owned()),
        issued_on: Some("2021-05-04".to_owned()),
        support_number: None,
        birth_date: Some("1985-07-02".to_owned()),
    }
}

/// Runs each listed case (`module::name`, an `async fn(Store)`) once on SQLite and once on
/// PostgreSQL, as two tests named after the backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let (_db, store) = $crate::helpers::sqlite().await;
                    $crate::$module::$case(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let (_db, store) = $crate::helpers::postgres().await;
                    $crate::$module::$case(store).await;
                }
            )*
        }
    };
}
