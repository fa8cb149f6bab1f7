use crate::helpers::spawn_app;

#[tokio::test]
async fn an_internal_error_shows_a_generic_message_with_the_request_id() {
    let app = spawn_app().await;
    let test_call = app.passed_test_call().await;
    // Break the database under the running server.
    app.store.close().await;
    let r = app
        .client
        .post(app.url("/api/v1/applications"))
        .json(&serde_json::json!({ "id_number": "12345678Z", "contrast": "15/03/2031", "test_call": test_call }))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 500);
    let id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("request id header")
        .to_owned();
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "internal");
    assert_eq!(body["error"]["request_id"], id.as_str());
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains(&id));
    assert!(
        !message.to_lowercase().contains("pool"),
        "no internals leak: {message}"
    );

    let (status, html) = app.page("/healthz", "es").await;
    assert_eq!(status, 503, "{html}");
}

#[tokio::test]
async fn an_unknown_path_is_404() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/nothing-here"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 404);
}
