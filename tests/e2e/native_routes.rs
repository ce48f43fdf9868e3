//! The Anthropic- and Gemini-compatible routes at the HTTP level, for what the official SDKs
//! never send (`tests/e2e/python_sdk.rs` drives the SDKs): which shape `GET /v1/models`
//! answers by the caller's headers, model names with colons and slashes in Gemini paths,
//! snake_case Gemini bodies, and each dialect's error body for a malformed request.

use aratta_tests::gateway::{Gateway, local_gateway};
use aratta_tests::mock::{MockUpstream, Script, fixtures};
use serde_json::{Value, json};

async fn gateway() -> (MockUpstream, Gateway) {
    local_gateway(Script::new()).await
}

async fn get_with(gw: &Gateway, path: &str, header: Option<(&str, &str)>) -> (u16, Value) {
    let mut request = gw.client().get(gw.url(path));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_models_answers_each_sdk_in_its_own_shape() {
    let (_mock, gw) = gateway().await;
    let (_, openai) = get_with(&gw, "/v1/models", None).await;
    assert_eq!(openai["object"], "list", "{openai}");
    let (_, anthropic) = get_with(
        &gw,
        "/v1/models?limit=1",
        Some(("anthropic-version", "2023-06-01")),
    )
    .await;
    assert_eq!(anthropic["data"][0]["type"], "model", "{anthropic}");
    assert_eq!(anthropic["has_more"], true, "{anthropic}");
    let (_, gemini) = get_with(&gw, "/v1/models", Some(("x-goog-api-key", "unused"))).await;
    assert!(
        gemini["models"][0]["name"]
            .as_str()
            .unwrap()
            .starts_with("models/local:"),
        "{gemini}"
    );
    let id = openai["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, one) = get_with(&gw, &format!("/v1/models/{id}"), None).await;
    assert_eq!(
        (status, one["id"].as_str()),
        (200, Some(id.as_str())),
        "{one}"
    );
    let (status, missing) = get_with(
        &gw,
        "/v1/models/nope",
        Some(("anthropic-version", "2023-06-01")),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["type"], "not_found_error", "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_paths_keep_colons_and_take_snake_case() {
    let (mock, gw) = gateway().await;
    let body = json!({
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
        "generation_config": {"max_output_tokens": 16},
    });
    let answer = gw
        .post_json("/v1beta/models/local:llama3.2:3b:generateContent", &body)
        .await;
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    let chat = fixtures::json(fixtures::CHAT_COMPLETION);
    assert_eq!(
        answer["candidates"][0]["content"]["parts"][0]["text"],
        chat["choices"][0]["message"]["content"]
    );
    let sent = mock.last_chat_request();
    assert_eq!(sent.model(), Some("llama3.2:3b"));
    assert_eq!(sent.json_body()["messages"][0]["role"], "system");
    assert_eq!(sent.json_body()["max_tokens"], 16, "{}", sent.json_body());

    let unknown = gw
        .post_json("/v1beta/models/local:x:countTokens", &body)
        .await;
    assert_eq!(unknown.status(), 404);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(unknown["error"]["status"], "NOT_FOUND", "{unknown}");
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("countTokens")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_each_dialects_error_body() {
    let (_mock, gw) = gateway().await;
    let anthropic = gw.post_raw("/v1/messages", "{\"model\": ").await;
    assert_eq!(anthropic.status(), 400);
    let anthropic: Value = anthropic.json().await.unwrap();
    assert_eq!(anthropic["type"], "error");
    assert_eq!(anthropic["error"]["type"], "invalid_request_error");
    let missing = gw
        .post_json("/v1/messages", &json!({"model": "local:m", "messages": []}))
        .await;
    let missing: Value = missing.json().await.unwrap();
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_tokens"),
        "{missing}"
    );
    let gemini = gw
        .post_json(
            "/v1beta/models/local:m:generateContent",
            &json!({"contents": [{"parts": [{"text": 7}]}]}),
        )
        .await;
    assert_eq!(gemini.status(), 400);
    let gemini: Value = gemini.json().await.unwrap();
    assert_eq!(gemini["error"]["code"], 400);
    assert_eq!(gemini["error"]["status"], "INVALID_ARGUMENT");
    assert!(
        gemini["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("contents[0].parts[0].text"),
        "{gemini}"
    );
}
