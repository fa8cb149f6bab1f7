//! The OpenAPI description: served at `/api/v1/openapi.json`, committed as
//! `docs/openapi.json`, and whole (its links name operations it has).

use serde_json::Value;

use crate::helpers::spawn_app;

/// The one command that rewrites the committed copy from the code.
const REGENERATE: &str = "cargo run -q -p web -- openapi > docs/openapi.json";

async fn served() -> Value {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200, "{doc}");
    doc
}

#[tokio::test]
async fn the_served_description_is_the_committed_one() {
    let served = served().await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let committed: Value = serde_json::from_str(&committed).unwrap_or(Value::Null);
    assert!(
        served == committed,
        "docs/openapi.json is not the description the server serves; regenerate it with\n\n    {REGENERATE}\n"
    );
    assert_eq!(served["openapi"], "3.1.0");
}

#[tokio::test]
async fn every_link_names_an_operation_of_the_description() {
    let doc = served().await;
    let operations: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let links: Vec<&Value> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .filter_map(|op| op["responses"].as_object())
        .flat_map(|responses| responses.values())
        .filter_map(|r| r["links"].as_object())
        .flat_map(|links| links.values())
        .collect();
    assert!(
        !links.is_empty(),
        "the console's call links to its ticket's operations"
    );
    for link in links {
        let target = link["operationId"].as_str();
        assert!(
            target.is_some_and(|t| operations.contains(&t)),
            "a link must name an operation by `operationId`: {link}"
        );
    }
}

#[tokio::test]
async fn staff_operations_name_their_security_schemes() {
    let doc = served().await;
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("schemes");
    assert_eq!(schemes["staff_session"]["in"], "cookie");
    assert_eq!(schemes["staff_session"]["name"], "videoreg_staff");
    assert_eq!(schemes["csrf"]["in"], "header");
    let post = &doc["paths"]["/staff/calls/{ticket}/decision"]["post"];
    assert_eq!(post["security"][0]["staff_session"], serde_json::json!([]));
    assert_eq!(post["security"][0]["csrf"], serde_json::json!([]));
    let citizen = &doc["paths"]["/api/v1/applications"]["post"];
    assert!(
        citizen.get("security").is_none(),
        "the citizen API is anonymous"
    );
}
