//! `docs/asyncapi.yaml` is checked against the Rust types: each direction lists exactly the
//! message types its enum has (serde names them), every example deserialises into the real
//! type and serialises back to itself, and every example fits its payload schema.
//!
//! The schemas use a small subset of JSON Schema, checked here by hand: a validator crate
//! would bring a regex engine and an HTTP client for remote references into the build for
//! six keywords; any keyword outside the subset fails the test, so nothing is skipped.

use serde_json::{Map, Value};

use super::*;

const DOCUMENT: &str = include_str!("../../../docs/asyncapi.yaml");

fn document() -> Value {
    yaml_serde::from_str(DOCUMENT).expect("docs/asyncapi.yaml parses as YAML")
}

/// Follows a local `$ref` (`#/a/b/c`).
fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let path = reference
        .strip_prefix("#/")
        .unwrap_or_else(|| panic!("only local references: {reference}"));
    path.split('/').fold(doc, |node, key| {
        node.get(key)
            .unwrap_or_else(|| panic!("{reference} points nowhere (at {key})"))
    })
}

/// The node itself, or what its `$ref` points to (repeatedly).
fn deref<'a>(doc: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => deref(doc, resolve(doc, r)),
        None => node,
    }
}

/// The messages of one operation, by their `name` (the `type` tag).
fn operation_messages<'a>(doc: &'a Value, operation: &str) -> Vec<(String, &'a Value)> {
    let op = &doc["operations"][operation];
    assert!(op.is_object(), "operation {operation} is missing");
    op["messages"]
        .as_array()
        .expect("messages list")
        .iter()
        .map(|m| {
            let message = deref(doc, m);
            let name = message["name"].as_str().expect("message name").to_owned();
            (name, message)
        })
        .collect()
}

/// The variant names serde knows for `T`, read from its own refusal of an unknown type.
fn variant_names<T: for<'de> Deserialize<'de> + std::fmt::Debug>() -> Vec<String> {
    let err = serde_json::from_str::<T>(r#"{"type":"no_such_message"}"#)
        .expect_err("an unknown type is refused")
        .to_string();
    let listed = err
        .split("expected one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("serde lists the variants: {err}"));
    let mut names: Vec<String> = listed
        .split(", ")
        .map(|n| n.trim_matches(|c: char| c == '`' || c == ' ').to_owned())
        .map(|n| n.split('`').next().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

/// Checks `value` against `schema` (the subset the document uses); `at` names the place.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = deref(doc, schema);
    let keywords = schema.as_object().expect("a schema is an object");
    for key in keywords.keys() {
        assert!(
            [
                "type",
                "const",
                "enum",
                "properties",
                "required",
                "additionalProperties",
                "items",
                "description",
            ]
            .contains(&key.as_str()),
            "{at}: schema keyword {key} is outside the checked subset"
        );
    }
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            other => panic!("{at}: bad type {other}"),
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let fits =
            allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        assert!(
            fits,
            "{at}: {value} is {actual}, the schema says {allowed:?}"
        );
    }
    if let Some(c) = schema.get("const") {
        assert_eq!(value, c, "{at}: const");
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        assert!(options.contains(value), "{at}: {value} not in {options:?}");
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, item) in list.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{i}]"));
        }
    }
    if let Some(object) = value.as_object() {
        check_object(doc, schema, object, at);
    }
}

fn check_object(doc: &Value, schema: &Value, object: &Map<String, Value>, at: &str) {
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = required.as_str().expect("required names");
        assert!(object.contains_key(name), "{at}: {name} is required");
    }
    let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
    for (key, v) in object {
        match properties.get(key) {
            Some(p) => check(doc, p, v, &format!("{at}.{key}")),
            None => assert!(!closed, "{at}: {key} is not in the schema"),
        }
    }
}

/// Every example of every message of `operation` is a `T` and serialises back to itself,
/// fits its schema, and the operation lists exactly `T`'s messages. Clients may leave out an
/// optional field that videoreg would write as `null` (`from_server` is false for them).
fn check_direction<T>(operation: &str, from_server: bool)
where
    T: Serialize + for<'de> Deserialize<'de> + std::fmt::Debug,
{
    let doc = document();
    let messages = operation_messages(&doc, operation);
    let mut documented: Vec<String> = messages.iter().map(|(n, _)| n.clone()).collect();
    documented.sort();
    assert_eq!(
        documented,
        variant_names::<T>(),
        "{operation}: the document's messages and the Rust type's differ"
    );
    for (name, message) in messages {
        let examples = message["examples"].as_array().expect("examples");
        assert!(!examples.is_empty(), "{operation}/{name} has no example");
        for (i, example) in examples.iter().enumerate() {
            let at = format!("{operation}/{name}/example {i}");
            let payload = &example["payload"];
            assert_eq!(payload["type"], name.as_str(), "{at}: type tag");
            let typed: T = serde_json::from_value(payload.clone())
                .unwrap_or_else(|e| panic!("{at} is not a valid message: {e}"));
            let mut back = serde_json::to_value(&typed).expect("serialises");
            if !from_server {
                drop_nulls_left_out(&mut back, payload);
            }
            assert_eq!(&back, payload, "{at} does not round-trip");
            check(&doc, &message["payload"], payload, &at);
        }
    }
}

/// Removes from `value` the `null` fields that `example` leaves out, at any depth.
fn drop_nulls_left_out(value: &mut Value, example: &Value) {
    if let Some(fields) = value.as_object_mut() {
        fields.retain(|k, v| !v.is_null() || example.get(k).is_some());
        for (k, v) in fields.iter_mut() {
            if let Some(e) = example.get(k) {
                drop_nulls_left_out(v, e);
            }
        }
    }
}

#[test]
fn citizen_messages_in_the_asyncapi_document_are_the_real_ones() {
    check_direction::<CitizenMessage>("citizenSends", false);
}

#[test]
fn messages_to_citizens_in_the_asyncapi_document_are_the_real_ones() {
    check_direction::<ToCitizen>("citizenReceives", true);
}

#[test]
fn agent_messages_in_the_asyncapi_document_are_the_real_ones() {
    check_direction::<AgentMessage>("agentSends", false);
}

#[test]
fn messages_to_agents_in_the_asyncapi_document_are_the_real_ones() {
    check_direction::<ToAgent>("agentReceives", true);
}

#[test]
fn the_asyncapi_document_is_version_3_and_every_reference_resolves() {
    let doc = document();
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    fn walk(doc: &Value, node: &Value) {
        match node {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    resolve(doc, r);
                }
                map.values().for_each(|v| walk(doc, v));
            }
            Value::Array(list) => list.iter().for_each(|v| walk(doc, v)),
            _ => {}
        }
    }
    walk(&doc, &doc);
    for channel in ["citizen", "agent"] {
        let listed = doc["channels"][channel]["messages"]
            .as_object()
            .expect("channel messages")
            .len();
        let in_operations: usize = doc["operations"]
            .as_object()
            .expect("operations")
            .values()
            .filter(|op| op["channel"]["$ref"] == format!("#/channels/{channel}"))
            .map(|op| op["messages"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(
            listed, in_operations,
            "{channel}: a message no operation uses"
        );
    }
}

#[test]
fn a_wrong_example_is_caught() {
    let doc = document();
    let schema = &doc["components"]["messages"]["ToAgentQueue"]["payload"];
    let bad = serde_json::json!({ "type": "queue", "waiting": "seven", "longest_wait_secs": 1 });
    let caught = std::panic::catch_unwind(|| check(&doc, schema, &bad, "bad"));
    assert!(caught.is_err(), "a string where an integer belongs fits");
    let extra =
        serde_json::json!({ "type": "queue", "waiting": 1, "longest_wait_secs": 1, "x": 1 });
    let caught = std::panic::catch_unwind(|| check(&doc, schema, &extra, "extra"));
    assert!(caught.is_err(), "an unknown field fits a closed schema");
}
