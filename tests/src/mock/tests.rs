//! The mock's own tests: each behaviour puts the documented bytes on the wire.

use std::time::Duration;

use serde_json::{Value, json};

use super::fixtures::{self, SseData};
use super::*;
use crate::sse;

async fn post(mock: &MockUpstream, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{}{path}", mock.addr()))
        .header("authorization", "Bearer sk-test")
        .json(&body)
        .send()
        .await
        .expect("request to the mock")
}

fn chat(model: &str, stream: bool) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream})
}

#[tokio::test]
async fn answers_a_chat_with_the_fixture_and_records_the_request() {
    let mock = MockUpstream::start(Script::new()).await;
    let answer: Value = post(&mock, "/v1/chat/completions", chat("llama3.2", false))
        .await
        .json()
        .await
        .unwrap();
    let mut expected = fixtures::json(fixtures::CHAT_COMPLETION);
    expected["model"] = json!("llama3.2");
    assert_eq!(answer, expected);
    let sent = mock.last_chat_request();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.header("Authorization"), Some("Bearer sk-test"));
    assert_eq!(sent.json_body()["messages"][0]["content"], "hi");
}

#[tokio::test]
async fn streams_with_openai_framing_and_the_usage_chunk_only_on_request() {
    let mock = MockUpstream::start(Script::new()).await;
    let plain = sse::read(
        post(&mock, "/v1/chat/completions", chat("m", true)).await,
        Duration::from_secs(5),
    )
    .await;
    assert!(plain.transport_error.is_none(), "{plain:?}");
    assert!(plain.raw.starts_with("data: {"), "{}", plain.raw);
    assert!(plain.raw.ends_with("data: [DONE]\n\n"), "{}", plain.raw);
    let chunks = plain.json_events();
    assert!(
        chunks
            .iter()
            .all(|c| c.get("usage").is_none() && c["model"] == "m")
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello! How can I assist you today?");

    let mut body = chat("m", true);
    body["stream_options"] = json!({"include_usage": true});
    let with_usage = sse::read(
        post(&mock, "/v1/chat/completions", body).await,
        Duration::from_secs(5),
    )
    .await;
    let chunks = with_usage.json_events();
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(
        last["usage"]["prompt_tokens_details"]["cached_tokens"],
        1920
    );
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["usage"].is_null())
    );
}

#[tokio::test]
async fn queue_then_model_then_default_choose_the_behaviour() {
    let script = Script::always(Behaviour::Error(500))
        .with_model("limited", Behaviour::Error(429))
        .with_queue([Behaviour::ToolCall]);
    let mock = MockUpstream::start(script).await;
    let first = post(&mock, "/v1/chat/completions", chat("limited", false)).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["choices"][0]["finish_reason"], "tool_calls");
    let second = post(&mock, "/v1/chat/completions", chat("limited", false)).await;
    assert_eq!(second.status(), 429);
    assert_eq!(second.headers()["retry-after"], "20");
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    let third = post(&mock, "/v1/chat/completions", chat("other", false)).await;
    assert_eq!(third.status(), 500);
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["error"]["type"], "server_error");
}

#[tokio::test]
async fn streamed_tool_calls_come_in_the_documented_styles() {
    let script = Script::new()
        .with_model("openai", Behaviour::ToolCall)
        .with_model("ollama", Behaviour::OllamaToolCall)
        .with_model("llamacpp", Behaviour::ToolCallWithoutId);
    let mock = MockUpstream::start(script).await;
    let calls = |read: &sse::SseRead| -> Vec<Value> {
        read.json_events()
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array().cloned())
            .flatten()
            .collect()
    };
    let openai = sse::read(
        post(&mock, "/v1/chat/completions", chat("openai", true)).await,
        Duration::from_secs(5),
    )
    .await;
    let openai = calls(&openai);
    assert_eq!(openai[0]["function"]["name"], "get_weather");
    assert_eq!(openai[0]["function"]["arguments"], "");
    assert!(openai.len() > 3 && openai[1].get("id").is_none());
    let ollama = sse::read(
        post(&mock, "/v1/chat/completions", chat("ollama", true)).await,
        Duration::from_secs(5),
    )
    .await;
    let ollama = calls(&ollama);
    assert_eq!(ollama.len(), 1);
    assert_eq!(
        ollama[0]["function"]["arguments"],
        "{\"location\":\"Paris, France\"}"
    );
    let llamacpp = sse::read(
        post(&mock, "/v1/chat/completions", chat("llamacpp", true)).await,
        Duration::from_secs(5),
    )
    .await;
    assert!(calls(&llamacpp).iter().all(|c| c.get("id").is_none()));
}

#[tokio::test]
async fn a_cut_stream_has_no_finish_reason_and_no_done() {
    let script = Script::new()
        .with_model("cut", Behaviour::CutMidway)
        .with_model("early", Behaviour::EndEarly);
    let mock = MockUpstream::start(script).await;
    for (model, cut) in [("cut", true), ("early", false)] {
        let read = sse::read(
            post(&mock, "/v1/chat/completions", chat(model, true)).await,
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(read.transport_error.is_some(), cut, "{model}: {read:?}");
        assert!(!read.events.is_empty(), "{model}: {read:?}");
        assert!(!read.events.iter().any(sse::SseEvent::is_done), "{model}");
        assert!(
            read.json_events()
                .iter()
                .all(|c| c["choices"][0]["finish_reason"].is_null()),
            "{model}"
        );
    }
    let whole = post(&mock, "/v1/chat/completions", chat("cut", false)).await;
    assert!(
        whole.bytes().await.is_err(),
        "a cut JSON body must fail to read"
    );
}

#[tokio::test]
async fn embeddings_are_deterministic_in_float_and_base64() {
    let mock = MockUpstream::start(Script::new()).await;
    let floats: Value = post(
        &mock,
        "/v1/embeddings",
        json!({"model": "nomic-embed-text", "input": ["alpha", "beta gamma"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(floats["object"], "list");
    assert_eq!(floats["usage"]["prompt_tokens"], 3);
    for (i, text) in ["alpha", "beta gamma"].iter().enumerate() {
        let got: Vec<f32> = serde_json::from_value(floats["data"][i]["embedding"].clone()).unwrap();
        assert_eq!(got, embedding_for(text, DEFAULT_DIMENSIONS));
        assert_eq!(floats["data"][i]["index"], i);
    }
    assert_ne!(embedding_for("alpha", 8), embedding_for("beta gamma", 8));
    let b64: Value = post(
        &mock,
        "/v1/embeddings",
        json!({"model": "m", "input": "alpha", "encoding_format": "base64", "dimensions": 4}),
    )
    .await
    .json()
    .await
    .unwrap();
    let encoded = b64["data"][0]["embedding"].as_str().unwrap();
    assert_eq!(
        decode_embedding_base64(encoded).unwrap(),
        embedding_for("alpha", 4)
    );
}

#[tokio::test]
async fn echo_reports_header_digests_never_values() {
    let mock = MockUpstream::start(Script::always(Behaviour::Error(503))).await;
    let answer = reqwest::Client::new()
        .get(format!("{}/echo", mock.base_url()))
        .header("x-test-key", "secret-value")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "echo is never scripted");
    let text = answer.text().await.unwrap();
    assert!(!text.contains("secret-value"));
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["headers"]["x-test-key"][0]["sha256"],
        sha256_hex("secret-value")
    );
}

#[tokio::test]
async fn garbage_missing_choices_delay_and_unknown_routes() {
    let script = Script::new()
        .with_model("garbage", Behaviour::Garbage)
        .with_model("nochoices", Behaviour::MissingChoices)
        .with_model("slow", Behaviour::Delay(Duration::from_millis(300)));
    let mock = MockUpstream::start(script).await;
    let garbage = post(&mock, "/v1/chat/completions", chat("garbage", false)).await;
    assert_eq!(garbage.status(), 200);
    assert!(serde_json::from_str::<Value>(&garbage.text().await.unwrap()).is_err());
    let missing: Value = post(&mock, "/v1/chat/completions", chat("nochoices", false))
        .await
        .json()
        .await
        .unwrap();
    assert!(missing.get("choices").is_none() && missing["object"] == "chat.completion");
    let started = std::time::Instant::now();
    let slow = post(&mock, "/v1/chat/completions", chat("slow", false)).await;
    assert_eq!(slow.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let unknown = post(&mock, "/v1/unknown", json!({})).await;
    assert_eq!(unknown.status(), 404);
    let models: Value = reqwest::get(format!("{}/models", mock.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models, fixtures::json(fixtures::MODELS));
    assert_eq!(mock.requests().len(), 5);
    assert_eq!(mock.requests_to("/v1/models").len(), 1);
}

#[test]
fn every_stream_fixture_is_well_formed() {
    for fixture in [
        fixtures::CHAT_COMPLETION_STREAM,
        fixtures::TOOL_CALL_STREAM,
        fixtures::PARALLEL_TOOL_CALLS_STREAM,
        fixtures::OLLAMA_TOOL_CALL_STREAM,
        fixtures::LLAMACPP_TOOL_CALL_NO_ID_STREAM,
        fixtures::REASONING_STREAM,
    ] {
        let events = fixtures::sse_events(fixture);
        assert_eq!(events.last(), Some(&SseData::Done));
        let finishes = events
            .iter()
            .filter(
                |e| matches!(e, SseData::Chunk(c) if c["choices"][0]["finish_reason"].is_string()),
            )
            .count();
        assert_eq!(finishes, 1, "exactly one finish_reason per stream");
        let framed: String = events.iter().map(fixtures::frame).collect();
        assert_eq!(fixtures::sse_events(&framed), events);
    }
}
