//! The JavaScript example adapter (`examples/adapters/js`) built from source and served by the
//! real gateway against the mock OpenAI-compatible upstream: chat, a streamed chat that ends
//! with exactly one `stop`, a tool call round trip (plain and streamed), the model list, the
//! health check, embeddings, and upstream errors mapped to their HTTP statuses.
//!
//! The example is built from source by [`npm::js_example`] (the pinned npm toolchain cached in
//! `target/js-toolchain`, then `aratta adapter build`), once per test process. Fails loudly
//! when node or npm is missing.

use std::time::Duration;

use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::Gateway;
use aratta_tests::mock::{
    Behaviour, DEFAULT_DIMENSIONS, MockUpstream, Script, embedding_for, fixtures,
};
use aratta_tests::npm;
use aratta_tests::sse::{self, SseRead};
use serde_json::{Value, json};

/// The name the example's `describe` gives.
const ADAPTER: &str = npm::JS_EXAMPLE;
const STREAM_DEADLINE: Duration = Duration::from_secs(30);

/// A mock upstream following `script` and a gateway whose provider `js` uses the JS adapter.
async fn js_gateway(script: Script) -> (MockUpstream, Gateway) {
    let wasm = tokio::task::spawn_blocking(|| npm::js_example(ADAPTER))
        .await
        .unwrap();
    let mock = MockUpstream::start(script).await;
    let config = Config::new()
        .provider(Provider::new("js", &mock.base_url()).adapter(ADAPTER))
        .raw("[breaker]\nfailure_threshold = 1000");
    let gateway = Gateway::builder(&config).adapter_file(&wasm).start().await;
    (mock, gateway)
}

fn weather_tool() -> Value {
    json!({
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string", "description": "City and country"}},
                "required": ["location"]
            }
        }
    })
}

async fn chat(gateway: &Gateway, request: &Value) -> Answer {
    Answer::read(gateway.post_json("/v1/chat/completions", request).await).await
}

/// A streamed SCRI answer (`/api/v1/chat`) and its event types.
async fn scri_stream(gateway: &Gateway, request: &Value) -> (SseRead, Vec<String>) {
    let response = gateway.post_json("/api/v1/chat", request).await;
    assert_eq!(response.status(), 200);
    let read = sse::read(response, STREAM_DEADLINE).await;
    assert!(read.transport_error.is_none(), "{read:?}");
    let kinds = read
        .json_events()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect();
    (read, kinds)
}

#[tokio::test]
async fn chat_answers_in_openai_format_and_sends_what_a_local_server_expects() {
    let (mock, gateway) = js_gateway(Script::new()).await;
    let request = json!({
        "model": "js:llama3.2",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": "Hello"}
        ],
        "temperature": 0.2,
        "max_tokens": 64
    });
    let answer = chat(&gateway, &request).await;
    answer.assert_status(200);
    let body = answer.json();
    let choice = expect::chat_completion(&body);
    let fixture = fixtures::json(fixtures::CHAT_COMPLETION);
    assert_eq!(
        choice["message"]["content"],
        fixture["choices"][0]["message"]["content"]
    );
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(expect::usage(&body["usage"]), (2006, 10, 2016));
    assert_eq!(
        body["usage"]["prompt_tokens_details"]["cached_tokens"],
        1920
    );
    let lineage = expect::lineage_headers(&answer.headers);
    assert_eq!(lineage.adapter, ADAPTER);
    assert_eq!(lineage.model, "llama3.2");

    let sent = mock.last_chat_request();
    let sent = sent.json_body();
    assert_eq!(sent["model"], "llama3.2");
    assert_eq!(
        sent["messages"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"}
        ]),
        "developer goes out as system"
    );
    // An f32 goes out as its shortest decimal, as the Rust SDK sends it.
    assert_eq!(sent["temperature"], json!(0.2));
    assert_eq!(sent["max_tokens"], 64);
    assert!(sent.get("max_completion_tokens").is_none(), "{sent}");
    assert!(sent.get("stream").is_none(), "{sent}");
}

#[tokio::test]
async fn a_streamed_chat_is_start_deltas_usage_and_exactly_one_stop() {
    let (mock, gateway) = js_gateway(Script::new()).await;
    let request = json!({
        "model": "js:m",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": true
    });
    let (read, kinds) = scri_stream(&gateway, &request).await;
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("start"),
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("stop"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| *k == "stop").count(),
        1,
        "{kinds:?}"
    );
    assert!(!kinds.iter().any(|k| k == "error"), "{}", read.raw);
    let text: String = read
        .of_type("text_delta")
        .iter()
        .map(|e| e["text"].as_str().expect("text_delta.text").to_string())
        .collect();
    assert_eq!(text, "Hello! How can I assist you today?");
    let usage = read.of_type("usage");
    let usage = &usage.last().expect("a usage event")["usage"];
    assert_eq!(usage["input_tokens"], 2006);
    assert_eq!(usage["output_tokens"], 10);
    assert_eq!(usage["cache_read_tokens"], 1920);
    assert_eq!(read.of_type("stop")[0]["finish_reason"], "stop");
    let sent = mock.last_chat_request();
    assert_eq!(sent.json_body()["stream"], true);
    assert_eq!(sent.json_body()["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn a_stream_cut_midway_ends_with_one_error_and_no_stop() {
    let (_mock, gateway) = js_gateway(Script::new().with_model("cut", Behaviour::EndEarly)).await;
    let request = json!({
        "model": "js:cut",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": true
    });
    let (read, kinds) = scri_stream(&gateway, &request).await;
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("error"),
        "{}",
        read.raw
    );
    assert_eq!(kinds.iter().filter(|k| *k == "error").count(), 1);
    assert!(!kinds.iter().any(|k| k == "stop"), "{kinds:?}");
}

#[tokio::test]
async fn a_tool_call_and_its_result_round_trip() {
    let (mock, gateway) =
        js_gateway(Script::new().with_model("qwen2.5-coder:7b", Behaviour::ToolCall)).await;
    let question = json!({"role": "user", "content": "Weather in Paris?"});
    let request = json!({
        "model": "js:qwen2.5-coder:7b",
        "messages": [question],
        "tools": [weather_tool()],
        "tool_choice": "auto"
    });
    let answer = chat(&gateway, &request).await;
    answer.assert_status(200);
    let body = answer.json();
    let choice = expect::chat_completion(&body);
    assert_eq!(choice["finish_reason"], "tool_calls");
    let calls = choice["message"]["tool_calls"]
        .as_array()
        .expect("tool_calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["id"], "call_DdmO9pD3xa9XTPNJ32zg2hcA");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let arguments: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"location": "Paris, France"}));
    let sent = mock.last_chat_request();
    assert_eq!(sent.json_body()["tools"], json!([weather_tool()]));
    assert_eq!(sent.json_body()["tool_choice"], "auto");

    let result = json!({"role": "tool", "tool_call_id": calls[0]["id"], "content": "18°C, clear"});
    let request = json!({
        "model": "js:qwen2.5-coder:7b",
        "messages": [question, choice["message"], result],
        "tools": [weather_tool()]
    });
    chat(&gateway, &request).await.assert_status(200);
    let sent = mock.last_chat_request();
    let messages = sent.json_body()["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["tool_calls"][0]["id"], calls[0]["id"]);
    assert_eq!(
        messages[1]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    let sent_arguments: Value = serde_json::from_str(
        messages[1]["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sent_arguments, arguments);
    assert_eq!(messages[2]["role"], "tool");
    assert_eq!(messages[2]["tool_call_id"], calls[0]["id"]);
    assert_eq!(messages[2]["content"], "18°C, clear");
}

#[tokio::test]
async fn streamed_tool_calls_arrive_as_start_then_arguments_whatever_the_upstream_style() {
    let script = Script::new()
        .with_model("vllm-style", Behaviour::ToolCall)
        .with_model("ollama-style", Behaviour::OllamaToolCall)
        .with_model("parallel", Behaviour::ParallelToolCalls);
    let (_mock, gateway) = js_gateway(script).await;
    let cases = [
        (
            "vllm-style",
            vec![("call_DdmO9pD3xa9XTPNJ32zg2hcA", "Paris, France")],
        ),
        ("ollama-style", vec![("call_ejieksiz", "Paris, France")]),
        (
            "parallel",
            vec![
                ("call_12345xyz", "Paris, France"),
                ("call_67890abc", "Bogotá, Colombia"),
            ],
        ),
    ];
    // SCRI's own tool shape (`/api/v1/chat`).
    let tool = &weather_tool()["function"];
    for (model, expected) in cases {
        let request = json!({
            "model": format!("js:{model}"),
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "tools": [tool],
            "stream": true
        });
        let (read, kinds) = scri_stream(&gateway, &request).await;
        assert_eq!(
            kinds.iter().filter(|k| *k == "stop").count(),
            1,
            "{model}: {kinds:?}"
        );
        let starts = read.of_type("tool_call_start");
        assert_eq!(starts.len(), expected.len(), "{model}: {}", read.raw);
        for (index, (id, location)) in expected.iter().enumerate() {
            assert_eq!(starts[index]["index"], index, "{model}");
            assert_eq!(starts[index]["id"], *id, "{model}");
            assert_eq!(starts[index]["name"], "get_weather", "{model}");
            let args: String = read
                .of_type("tool_call_delta")
                .iter()
                .filter(|d| d["index"] == index)
                .map(|d| d["arguments"].as_str().unwrap().to_string())
                .collect();
            let args: Value = serde_json::from_str(&args)
                .unwrap_or_else(|e| panic!("{model}: call {index} arguments {args:?}: {e}"));
            assert_eq!(args, json!({"location": location}), "{model}");
        }
        assert_eq!(
            read.of_type("stop")[0]["finish_reason"],
            "tool_calls",
            "{model}"
        );
    }
}

#[tokio::test]
async fn models_health_and_embeddings_go_through_the_adapter() {
    let (mock, gateway) = js_gateway(Script::new()).await;
    let body = Answer::read(gateway.get("/v1/models").await)
        .await
        .assert_status(200)
        .json();
    let ids: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    let fixture = fixtures::json(fixtures::MODELS);
    for model in fixture["data"].as_array().unwrap() {
        let id = format!("js:{}", model["id"].as_str().unwrap());
        assert!(ids.contains(&id.as_str()), "{id} missing from {ids:?}");
    }

    let health = Answer::read(gateway.get("/api/v1/health").await)
        .await
        .assert_status(200)
        .json();
    let entry = health["providers"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["provider"] == "js").cloned())
        .unwrap_or_else(|| panic!("no health entry for js: {health}"));
    assert_eq!(entry["reachable"], true, "{entry}");
    assert_eq!(entry["adapter"], ADAPTER);
    assert!(
        mock.requests_to("/v1/models").len() >= 2,
        "the check asks the provider"
    );

    let request = json!({"model": "js:nomic-embed-text", "input": ["alpha", "beta gamma"]});
    let body = Answer::read(gateway.post_json("/v1/embeddings", &request).await)
        .await
        .assert_status(200)
        .json();
    for (i, text) in ["alpha", "beta gamma"].iter().enumerate() {
        let got: Vec<f64> = body["data"][i]["embedding"]
            .as_array()
            .unwrap_or_else(|| panic!("embedding {i}: {body}"))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let want = embedding_for(text, DEFAULT_DIMENSIONS);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - f64::from(w)).abs() < 1e-6, "{i}: {got:?}");
        }
    }
}

#[tokio::test]
async fn upstream_errors_keep_their_meaning_through_the_gateway() {
    let script = Script::new()
        .with_model("e429", Behaviour::Error(429))
        .with_model("e401", Behaviour::Error(401))
        .with_model("e400", Behaviour::Error(400))
        .with_model("e503", Behaviour::Error(503))
        .with_model("e500", Behaviour::Error(500))
        .with_model("garbage", Behaviour::Garbage);
    let (_mock, gateway) = js_gateway(script).await;
    let ask = |model: &str| json!({"model": format!("js:{model}"), "messages": [{"role": "user", "content": "hi"}]});
    let cases = [
        ("e429", 429, "rate_limit_error"),
        // A key the provider refuses is the gateway's problem, not the client's.
        ("e401", 502, "authentication_error"),
        ("e400", 400, "invalid_request_error"),
        ("e503", 503, "overloaded_error"),
        ("e500", 502, "upstream_error"),
        ("garbage", 502, "schema_mismatch_error"),
    ];
    for (model, status, kind) in cases {
        let answer = Answer::read(gateway.post_json("/api/v1/chat", &ask(model)).await).await;
        let body = answer.json();
        assert_eq!(answer.status.as_u16(), status, "{model}: {}", answer.text);
        assert_eq!(body["error"]["type"], kind, "{model}: {}", answer.text);
        if model == "e429" {
            assert_eq!(answer.header("retry-after"), Some("20"), "{model}");
        }
    }
}
