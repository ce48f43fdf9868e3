//! Aratta's own API (SCRI): `/api/v1/chat` (JSON and typed SSE events), `/api/v1/embed`,
//! `/api/v1/models`, `/api/v1/health` and `/api/v1/openapi.json`, through the `local` adapter.
//!
//! The SCRI wire names these tests expect are all in this file: request
//! `{"model","messages","tools":[{"name","description","parameters"}],"tool_choice","temperature",
//! "max_tokens","stream","extra"}`; content blocks `text`, `image` (`source: {type: url}`),
//! `tool_use` (`id`, `name`, `arguments` object), `tool_result` (`tool_call_id`, `content`),
//! `reasoning` (`text`, `signature`); response `{"id","model","content","finish_reason","usage",
//! "lineage"}`; stream events `start`, `text_delta` (`text`), `reasoning_delta` (`text`),
//! `tool_call_start` (`index`, `id`, `name`), `tool_call_delta` (`index`, `arguments`), `usage`
//! (`usage`), `stop` (`finish_reason`, `lineage`), `error` (`error`).

use std::time::Duration;

use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::{Gateway, local_gateway};
use aratta_tests::mock::{
    Behaviour, DEFAULT_DIMENSIONS, MockUpstream, Script, embedding_for, fixtures,
};
use aratta_tests::sse::{self, SseRead};
use serde_json::{Value, json};

const STREAM_DEADLINE: Duration = Duration::from_secs(20);

fn weather_tool() -> Value {
    json!({
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"]
        }
    })
}

/// Checks a `lineage` object and returns it.
fn lineage<'a>(value: &'a Value, provider: &str, model: &str) -> &'a Value {
    assert_eq!(value["provider"], provider, "lineage: {value}");
    assert_eq!(value["model"], model, "lineage: {value}");
    assert_eq!(value["adapter"], "local", "lineage: {value}");
    let version = value["adapter_version"].as_str().unwrap_or_default();
    assert!(expect::is_semver(version), "adapter_version: {value}");
    assert!(value["latency_us"].is_u64(), "latency_us: {value}");
    assert!(
        value["request_id"].as_str().is_some_and(|s| !s.is_empty()),
        "request_id: {value}"
    );
    value
}

/// The streamed answer: SSE events, each with `event:` equal to its data's `type`.
async fn stream(gateway: &Gateway, request: &Value) -> SseRead {
    let response = gateway.post_json("/api/v1/chat", request).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let read = sse::read(response, STREAM_DEADLINE).await;
    assert!(read.transport_error.is_none(), "{read:?}");
    for event in &read.events {
        let data = event
            .json()
            .unwrap_or_else(|| panic!("SCRI event data must be JSON: {event:?}"));
        assert_eq!(
            event.event.as_deref(),
            data["type"].as_str(),
            "event name and type differ: {event:?}"
        );
    }
    read
}

fn types(read: &SseRead) -> Vec<String> {
    read.json_events()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn chat_answers_with_content_blocks_usage_and_lineage() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    let request = json!({
        "model": "local:m",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "max_tokens": 64,
        "stream": false
    });
    let answer = Answer::read(gateway.post_json("/api/v1/chat", &request).await).await;
    answer.assert_status(200);
    let body = answer.json();
    let fixture = fixtures::json(fixtures::CHAT_COMPLETION);
    assert_eq!(body["id"], fixture["id"]);
    assert!(body["model"].is_string());
    assert_eq!(
        body["content"],
        json!([{"type": "text", "text": fixture["choices"][0]["message"]["content"]}])
    );
    assert_eq!(body["finish_reason"], "stop");
    assert_eq!(body["usage"]["input_tokens"], 2006);
    assert_eq!(body["usage"]["output_tokens"], 10);
    assert_eq!(body["usage"]["cache_read_tokens"], 1920);
    let lineage = lineage(&body["lineage"], "local", "m");
    let attempts = lineage["attempts"].as_array().expect("lineage.attempts");
    assert_eq!(attempts.len(), 1, "{lineage}");
    assert_eq!(attempts[0]["provider"], "local");
    assert_eq!(attempts[0]["outcome"], "ok");

    let sent = mock.last_chat_request();
    let sent = sent.json_body();
    assert_eq!(sent["model"], "m");
    assert_eq!(sent["messages"], json!([{"role": "user", "content": "hi"}]));
    assert_eq!(sent["max_tokens"], 64);
}

#[tokio::test]
async fn tools_go_out_in_openai_form_and_calls_come_back_as_tool_use_blocks() {
    let (mock, gateway) = local_gateway(Script::new().with_model("m", Behaviour::ToolCall)).await;
    let request = json!({
        "model": "local:m",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [weather_tool()],
        "tool_choice": "auto"
    });
    let body = Answer::read(gateway.post_json("/api/v1/chat", &request).await)
        .await
        .assert_status(200)
        .json();
    assert_eq!(body["finish_reason"], "tool_calls");
    let tool_use: Vec<&Value> = body["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .collect();
    assert_eq!(tool_use.len(), 1, "{body}");
    assert_eq!(tool_use[0]["id"], "call_DdmO9pD3xa9XTPNJ32zg2hcA");
    assert_eq!(tool_use[0]["name"], "get_weather");
    assert_eq!(
        tool_use[0]["arguments"],
        json!({"location": "Paris, France"})
    );

    let sent = mock.last_chat_request();
    let sent = sent.json_body();
    assert_eq!(
        sent["tools"],
        json!([{"type": "function", "function": weather_tool()}])
    );
    assert_eq!(sent["tool_choice"], "auto");
}

#[tokio::test]
async fn images_tool_calls_and_tool_results_reach_the_upstream_in_openai_form() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    let image_url = "https://example.com/paris.png";
    let request = json!({
        "model": "local:m",
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "What city is this, and its weather?"},
                {"type": "image", "source": {"type": "url", "url": image_url}}
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_1", "name": "get_weather",
                 "arguments": {"location": "Paris, France"}}
            ]},
            {"role": "tool", "content": [
                {"type": "tool_result", "tool_call_id": "call_1", "content": "18°C, clear"}
            ]}
        ],
        "tools": [weather_tool()]
    });
    Answer::read(gateway.post_json("/api/v1/chat", &request).await)
        .await
        .assert_status(200);
    let sent = mock.last_chat_request();
    let messages = sent.json_body()["messages"]
        .as_array()
        .expect("messages")
        .clone();
    assert_eq!(messages.len(), 3, "{messages:?}");
    let parts = messages[0]["content"]
        .as_array()
        .expect("user content parts");
    assert_eq!(
        parts[0],
        json!({"type": "text", "text": "What city is this, and its weather?"})
    );
    assert_eq!(parts[1]["type"], "image_url");
    assert_eq!(parts[1]["image_url"]["url"], image_url);
    assert_eq!(messages[1]["role"], "assistant");
    let call = &messages[1]["tool_calls"][0];
    assert_eq!(call["id"], "call_1");
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().expect("JSON text")).unwrap();
    assert_eq!(arguments, json!({"location": "Paris, France"}));
    assert_eq!(messages[2]["role"], "tool");
    assert_eq!(messages[2]["tool_call_id"], "call_1");
    assert_eq!(messages[2]["content"], "18°C, clear");
}

#[tokio::test]
async fn a_streamed_chat_is_start_deltas_usage_stop() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    let request = json!({
        "model": "local:m",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": true
    });
    let read = stream(&gateway, &request).await;
    let kinds = types(&read);
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("start"),
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("stop"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "stop").count(), 1);
    assert!(!kinds.iter().any(|k| k == "error"), "{}", read.raw);
    let start = &read.of_type("start")[0];
    assert_eq!(start["id"], "chatcmpl-123");
    let text: String = read
        .of_type("text_delta")
        .iter()
        .map(|e| e["text"].as_str().expect("text_delta.text").to_string())
        .collect();
    assert_eq!(text, "Hello! How can I assist you today?");
    let usage = read.of_type("usage");
    let last_usage = &usage.last().expect("a usage event")["usage"];
    assert_eq!(last_usage["input_tokens"], 2006);
    assert_eq!(last_usage["output_tokens"], 10);
    assert_eq!(last_usage["cache_read_tokens"], 1920);
    let stop = read.of_type("stop").pop().unwrap();
    assert_eq!(stop["finish_reason"], "stop");
    lineage(&stop["lineage"], "local", "m");

    let sent = mock.last_chat_request();
    assert_eq!(sent.json_body()["stream"], true);
    assert_eq!(sent.json_body()["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn streamed_tool_calls_are_start_then_argument_deltas_per_index() {
    let script = Script::new()
        .with_model("one", Behaviour::ToolCall)
        .with_model("two", Behaviour::ParallelToolCalls)
        .with_model("whole", Behaviour::OllamaToolCall);
    let (_mock, gateway) = local_gateway(script).await;
    let cases = [
        (
            "one",
            vec![("call_DdmO9pD3xa9XTPNJ32zg2hcA", "Paris, France")],
        ),
        ("whole", vec![("call_ejieksiz", "Paris, France")]),
        (
            "two",
            vec![
                ("call_12345xyz", "Paris, France"),
                ("call_67890abc", "Bogotá, Colombia"),
            ],
        ),
    ];
    for (model, expected) in cases {
        let request = json!({
            "model": format!("local:{model}"),
            "messages": [{"role": "user", "content": "Weather?"}],
            "tools": [weather_tool()],
            "stream": true
        });
        let read = stream(&gateway, &request).await;
        let starts = read.of_type("tool_call_start");
        assert_eq!(starts.len(), expected.len(), "{model}: {}", read.raw);
        for (index, (id, location)) in expected.iter().enumerate() {
            let start = starts
                .iter()
                .find(|s| s["index"] == index)
                .unwrap_or_else(|| panic!("{model}: no tool_call_start for index {index}"));
            assert_eq!(start["id"], *id, "{model}");
            assert_eq!(start["name"], "get_weather", "{model}");
            let arguments: String = read
                .of_type("tool_call_delta")
                .iter()
                .filter(|d| d["index"] == index)
                .map(|d| d["arguments"].as_str().unwrap().to_string())
                .collect();
            let arguments: Value = serde_json::from_str(&arguments)
                .unwrap_or_else(|e| panic!("{model}: {arguments:?} is not JSON: {e}"));
            assert_eq!(arguments, json!({"location": location}), "{model}");
        }
        let stop = read.of_type("stop").pop().expect("stop");
        assert_eq!(stop["finish_reason"], "tool_calls", "{model}");
    }
}

#[tokio::test]
async fn reasoning_comes_back_as_reasoning_blocks_and_deltas() {
    let (_mock, gateway) = local_gateway(Script::new().with_model("m", Behaviour::Reasoning)).await;
    let fixture = fixtures::json(fixtures::REASONING);
    let message = &fixture["choices"][0]["message"];
    let request =
        json!({"model": "local:m", "messages": [{"role": "user", "content": "9.11 or 9.8?"}]});
    let body = Answer::read(gateway.post_json("/api/v1/chat", &request).await)
        .await
        .assert_status(200)
        .json();
    let content = body["content"].as_array().expect("content");
    assert_eq!(content[0]["type"], "reasoning", "{body}");
    assert_eq!(content[0]["text"], message["reasoning"]);
    assert_eq!(
        content[1],
        json!({"type": "text", "text": message["content"]})
    );

    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    let read = stream(&gateway, &streamed).await;
    let reasoning: String = read
        .of_type("reasoning_delta")
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reasoning, message["reasoning"].as_str().unwrap());
    let kinds = types(&read);
    let first_reasoning = kinds.iter().position(|k| k == "reasoning_delta").unwrap();
    let first_text = kinds.iter().position(|k| k == "text_delta").expect("text");
    assert!(first_reasoning < first_text, "{kinds:?}");
}

#[tokio::test]
async fn embed_returns_the_vectors_in_input_order_with_lineage() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    let inputs = ["alpha", "beta gamma", "delta"];
    let request = json!({"model": "local:nomic-embed-text", "inputs": inputs});
    let body = Answer::read(gateway.post_json("/api/v1/embed", &request).await)
        .await
        .assert_status(200)
        .json();
    let vectors: Vec<Vec<f32>> = serde_json::from_value(body["embeddings"].clone())
        .unwrap_or_else(|e| panic!("embeddings: {e}: {body}"));
    let expected: Vec<Vec<f32>> = inputs
        .iter()
        .map(|t| embedding_for(t, DEFAULT_DIMENSIONS))
        .collect();
    assert_eq!(vectors, expected);
    lineage(&body["lineage"], "local", "nomic-embed-text");
    let sent = mock.requests_to("/v1/embeddings");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].json_body()["input"], json!(inputs));
}

#[tokio::test]
async fn models_lists_each_provider_model_and_the_aliases() {
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::local(&mock.base_url()).alias("fast", &["local:llama3.2:latest"]);
    let gateway = Gateway::start(&config).await;
    let body = Answer::read(gateway.get("/api/v1/models").await)
        .await
        .assert_status(200)
        .json();
    let models = body["models"].as_array().expect("models");
    let upstream = fixtures::json(fixtures::MODELS);
    for model in upstream["data"].as_array().unwrap() {
        let id = model["id"].as_str().unwrap();
        let entry = models
            .iter()
            .find(|m| m["model"] == id)
            .unwrap_or_else(|| panic!("{id} missing: {body}"));
        assert_eq!(entry["provider"], "local");
        assert_eq!(entry["id"], format!("local:{id}"));
    }
    assert_eq!(body["aliases"]["fast"], json!(["local:llama3.2:latest"]));
}

#[tokio::test]
async fn a_provider_that_cannot_list_its_models_does_not_hide_the_others() {
    let up = MockUpstream::start(Script::new()).await;
    let down = MockUpstream::start(Script::always(Behaviour::Error(503))).await;
    let config = Config::local(&up.base_url())
        .provider(Provider::new("backup", &down.base_url()).adapter("local"));
    let gateway = Gateway::start(&config).await;
    let body = Answer::read(gateway.get("/api/v1/models").await)
        .await
        .assert_status(200)
        .json();
    let providers: Vec<&str> = body["models"]
        .as_array()
        .expect("models")
        .iter()
        .filter_map(|m| m["provider"].as_str())
        .collect();
    assert!(providers.contains(&"local"), "{body}");
    assert!(!providers.contains(&"backup"), "{body}");
    let unavailable = body["unavailable"].as_array().expect("unavailable");
    assert_eq!(unavailable.len(), 1, "{body}");
    assert_eq!(unavailable[0]["provider"], "backup");
    assert!(unavailable[0]["error"]["message"].is_string(), "{body}");

    let openai = Answer::read(gateway.get("/v1/models").await)
        .await
        .assert_status(200)
        .json();
    let ids: Vec<&str> = openai["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(ids.iter().any(|id| id.starts_with("local:")), "{openai}");
}

#[tokio::test]
async fn health_reports_each_provider_state() {
    let up = MockUpstream::start(Script::new()).await;
    let down = MockUpstream::start(Script::always(Behaviour::Error(503))).await;
    let config = Config::local(&up.base_url())
        .provider(Provider::new("backup", &down.base_url()).adapter("local"));
    let gateway = Gateway::start(&config).await;
    let answer = Answer::read(gateway.get("/api/v1/health").await).await;
    answer.assert_status(200);
    let body = answer.json();
    let entry = |name: &str| -> Value {
        body["providers"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["provider"] == name).cloned())
            .unwrap_or_else(|| panic!("no health entry for {name}: {body}"))
    };
    let (local, backup) = (entry("local"), entry("backup"));
    assert_eq!(local["reachable"], true, "{local}");
    assert_eq!(local["adapter"], "local");
    assert!(expect::is_semver(
        local["adapter_version"].as_str().unwrap_or_default()
    ));
    assert_eq!(backup["reachable"], false, "{backup}");
    let error = backup["error"]
        .as_str()
        .unwrap_or_else(|| panic!("says why: {backup}"));
    assert!(error.contains("503"), "{error}");
    assert!(
        !up.requests_to("/v1/models").is_empty(),
        "the check asks the provider"
    );
    assert!(
        !down.requests_to("/v1/models").is_empty(),
        "the check asks the provider"
    );
}

#[tokio::test]
async fn a_path_no_route_serves_is_not_found_not_an_unknown_model() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    for (method, path) in [
        (reqwest::Method::GET, "/nope"),
        (reqwest::Method::POST, "/v1/chat/completion"),
        (reqwest::Method::GET, "/api/v2/models"),
    ] {
        let response = gateway
            .client()
            .request(method.clone(), gateway.url(path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("request sent");
        let answer = Answer::read(response).await;
        expect::error_answer(&answer, 4);
        assert_eq!(answer.status, 404, "{method} {path}: {}", answer.text);
        let error = &answer.json()["error"];
        assert_eq!(error["type"], "not_found_error", "{}", answer.text);
        assert_eq!(error["code"], "not_found", "{}", answer.text);
        assert_eq!(
            error["param"],
            Value::Null,
            "no model was named: {}",
            answer.text
        );
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("no route {path}")) && message.contains("openapi.json"),
            "{message}"
        );
    }
    assert!(
        mock.chat_requests().is_empty(),
        "nothing reached the provider"
    );
}

#[tokio::test]
async fn openapi_document_describes_the_scri_routes() {
    let (_mock, gateway) = local_gateway(Script::new()).await;
    let body = Answer::read(gateway.get("/api/v1/openapi.json").await)
        .await
        .assert_status(200)
        .json();
    assert!(
        body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "openapi version: {}",
        body["openapi"]
    );
    for path in [
        "/api/v1/chat",
        "/api/v1/embed",
        "/api/v1/models",
        "/api/v1/health",
    ] {
        assert!(
            body["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI paths"
        );
    }
}

#[tokio::test]
async fn a_streamed_answer_is_forwarded_as_it_arrives() {
    // 200 ms between upstream events: about 2 s from the first text to the end.
    let script = Script::new().with_chunk_delay(Duration::from_millis(200));
    let (_mock, gateway) = local_gateway(script).await;
    let request = json!({
        "model": "local:m",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": true
    });
    let read = stream(&gateway, &request).await;
    let first_text = types(&read)
        .iter()
        .position(|k| k == "text_delta")
        .unwrap_or_else(|| panic!("no text: {}", read.raw));
    let spread = *read.arrivals.last().unwrap() - read.arrivals[first_text];
    assert!(
        spread >= Duration::from_millis(1200),
        "the first text arrived only {spread:?} before the end: the gateway buffered the stream"
    );
}
