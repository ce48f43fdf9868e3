//! The OpenAI-compatible routes (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`) through
//! the `local` adapter: what the client gets back must be valid OpenAI format with Aratta's
//! lineage headers, and what the upstream received must be what a local server expects.

use std::time::Duration;

use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::{Gateway, local_gateway};
use aratta_tests::mock::{Behaviour, DEFAULT_DIMENSIONS, Script, embedding_for, fixtures};
use aratta_tests::sse;
use serde_json::{Value, json};

const STREAM_DEADLINE: Duration = Duration::from_secs(20);

fn weather_tool() -> Value {
    json!({
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string", "description": "City and country"}},
                "required": ["location"],
                "additionalProperties": false
            }
        }
    })
}

/// The fixture's streamed text, in order.
fn fixture_stream_text(fixture: &str) -> String {
    fixtures::sse_events(fixture)
        .iter()
        .filter_map(|e| match e {
            fixtures::SseData::Chunk(c) => c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string),
            fixtures::SseData::Done => None,
        })
        .collect()
}

/// Every `tool_calls` delta of an OpenAI stream, in order.
fn tool_call_deltas(chunks: &[Value]) -> Vec<Value> {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array().cloned())
        .flatten()
        .collect()
}

/// Reassembles streamed tool calls by `index`: (id, name, arguments).
fn reassemble(deltas: &[Value]) -> Vec<(String, String, String)> {
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for delta in deltas {
        let index = delta["index"]
            .as_u64()
            .unwrap_or_else(|| panic!("tool call delta without index: {delta}"))
            as usize;
        if index == calls.len() {
            let id = delta["id"].as_str().unwrap_or_else(|| {
                panic!("the first delta of call {index} must carry its id: {delta}")
            });
            let name = delta["function"]["name"].as_str().unwrap_or_else(|| {
                panic!("the first delta of call {index} must carry its name: {delta}")
            });
            calls.push((id.to_string(), name.to_string(), String::new()));
        }
        assert!(index < calls.len(), "call index {index} skipped ahead");
        if let Some(piece) = delta["function"]["arguments"].as_str() {
            calls[index].2.push_str(piece);
        }
    }
    calls
}

/// Streams `request` through `/v1/chat/completions` and returns its chunks, after checking that
/// the stream ends with `[DONE]` and every other event is a `chat.completion.chunk`.
async fn stream_chunks(gateway: &Gateway, request: &Value, what: &str) -> Vec<Value> {
    let read = sse::read(
        gateway.post_json("/v1/chat/completions", request).await,
        STREAM_DEADLINE,
    )
    .await;
    assert!(
        read.events.last().is_some_and(sse::SseEvent::is_done),
        "{what}: the stream ends with [DONE]: {}",
        read.raw
    );
    let chunks = read.json_events();
    assert_eq!(
        chunks.len() + 1,
        read.events.len(),
        "{what}: only [DONE] is not JSON"
    );
    chunks.iter().for_each(expect::chat_chunk);
    chunks
}

#[tokio::test]
async fn chat_completion_is_openai_format_with_lineage_and_sends_what_a_local_server_expects() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    let request = json!({
        "model": "local:llama3.2",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"}
        ],
        "temperature": 0.2,
        "max_tokens": 64
    });
    let answer = Answer::read(gateway.post_json("/v1/chat/completions", &request).await).await;
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
    assert_eq!(lineage.provider, "local");
    assert_eq!(lineage.model, "llama3.2");
    assert_eq!(lineage.adapter, "local");

    let sent = mock.last_chat_request();
    let sent = sent.json_body();
    assert_eq!(sent["model"], "llama3.2", "the provider prefix is stripped");
    assert_eq!(
        sent["messages"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"}
        ])
    );
    let temperature = sent["temperature"].as_f64().expect("temperature sent");
    assert!(
        (temperature - 0.2).abs() < 1e-6,
        "temperature {temperature}"
    );
    assert_eq!(sent["max_tokens"], 64);
    assert_ne!(sent["stream"], true);
    assert_eq!(mock.chat_requests().len(), 1);
}

#[tokio::test]
async fn streamed_chat_is_openai_sse_with_the_usage_chunk_and_done() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    let request = json!({
        "model": "local:llama3.2",
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    let response = gateway.post_json("/v1/chat/completions", &request).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let lineage = expect::lineage_headers(response.headers());
    assert_eq!(
        (lineage.provider.as_str(), lineage.model.as_str()),
        ("local", "llama3.2")
    );

    let read = sse::read(response, STREAM_DEADLINE).await;
    assert!(read.transport_error.is_none(), "{read:?}");
    let last = read.events.last().expect("some events");
    assert!(
        last.is_done(),
        "the stream must end with data: [DONE]: {}",
        read.raw
    );
    let chunks = read.json_events();
    assert_eq!(
        chunks.len() + 1,
        read.events.len(),
        "only [DONE] is not JSON"
    );
    chunks.iter().for_each(expect::chat_chunk);
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, fixture_stream_text(fixtures::CHAT_COMPLETION_STREAM));
    let finishes: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str().map(|_| c))
        .collect();
    assert_eq!(finishes.len(), 1, "exactly one finish_reason");
    assert_eq!(finishes[0]["choices"][0]["finish_reason"], "stop");
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(
        usage_chunk["choices"],
        json!([]),
        "usage chunk: {usage_chunk}"
    );
    assert_eq!(expect::usage(&usage_chunk["usage"]), (2006, 10, 2016));
    assert_eq!(
        usage_chunk["usage"]["prompt_tokens_details"]["cached_tokens"],
        1920
    );

    let sent = mock.last_chat_request();
    assert_eq!(sent.json_body()["stream"], true);
    assert_eq!(sent.json_body()["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn a_stream_without_include_usage_has_no_usage_chunk_but_the_adapter_still_asks_for_usage() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    let request = json!({
        "model": "local:llama3.2",
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": true
    });
    let chunks = stream_chunks(&gateway, &request, "without include_usage").await;
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"].as_array().is_some_and(|a| !a.is_empty())),
        "no usage-only chunk unless the client asks: {chunks:?}"
    );
    // Aratta keeps its own accounting, so it always asks the upstream for usage.
    assert_eq!(
        mock.last_chat_request().json_body()["stream_options"]["include_usage"],
        true
    );
}

#[tokio::test]
async fn a_tool_call_and_its_result_round_trip() {
    let (mock, gateway) =
        local_gateway(Script::new().with_model("qwen2.5-coder:7b", Behaviour::ToolCall)).await;
    let question = json!({"role": "user", "content": "Weather in Paris?"});
    let request = json!({
        "model": "local:qwen2.5-coder:7b",
        "messages": [question],
        "tools": [weather_tool()],
        "tool_choice": "auto"
    });
    let answer = Answer::read(gateway.post_json("/v1/chat/completions", &request).await).await;
    answer.assert_status(200);
    let body = answer.json();
    let choice = expect::chat_completion(&body);
    assert_eq!(choice["finish_reason"], "tool_calls");
    let calls = choice["message"]["tool_calls"]
        .as_array()
        .expect("tool_calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["id"], "call_DdmO9pD3xa9XTPNJ32zg2hcA");
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let arguments: Value = serde_json::from_str(
        calls[0]["function"]["arguments"]
            .as_str()
            .expect("arguments string"),
    )
    .expect("arguments are JSON text");
    assert_eq!(arguments, json!({"location": "Paris, France"}));
    assert_eq!(
        expect::lineage_headers(&answer.headers).model,
        "qwen2.5-coder:7b",
        "the model is everything after the first colon"
    );

    let sent = mock.last_chat_request();
    let sent = sent.json_body();
    assert_eq!(sent["model"], "qwen2.5-coder:7b");
    assert_eq!(sent["tools"], json!([weather_tool()]));
    assert_eq!(sent["tool_choice"], "auto");

    // Second turn: the call and its result go back to the model.
    let assistant = choice["message"].clone();
    let result = json!({"role": "tool", "tool_call_id": calls[0]["id"], "content": "18°C, clear"});
    let request = json!({
        "model": "local:qwen2.5-coder:7b",
        "messages": [question, assistant, result],
        "tools": [weather_tool()]
    });
    // Any answer will do; the point is what reached the upstream.
    gateway.post_json("/v1/chat/completions", &request).await;
    let sent = mock.last_chat_request();
    let messages = sent.json_body()["messages"]
        .as_array()
        .expect("messages")
        .clone();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(
        messages[1]["tool_calls"][0]["id"],
        "call_DdmO9pD3xa9XTPNJ32zg2hcA"
    );
    assert_eq!(
        messages[1]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    let sent_arguments: Value = serde_json::from_str(
        messages[1]["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .expect("arguments are sent as JSON text"),
    )
    .unwrap();
    assert_eq!(sent_arguments, arguments);
    assert_eq!(messages[2]["role"], "tool");
    assert_eq!(messages[2]["tool_call_id"], "call_DdmO9pD3xa9XTPNJ32zg2hcA");
    assert_eq!(messages[2]["content"], "18°C, clear");
}

#[tokio::test]
async fn parallel_tool_calls_keep_their_order_ids_and_arguments() {
    let (_mock, gateway) =
        local_gateway(Script::new().with_model("m", Behaviour::ParallelToolCalls)).await;
    let request = json!({
        "model": "local:m",
        "messages": [{"role": "user", "content": "Weather in Paris and Bogotá?"}],
        "tools": [weather_tool()]
    });
    let answer = Answer::read(gateway.post_json("/v1/chat/completions", &request).await).await;
    answer.assert_status(200);
    let body = answer.json();
    let calls = expect::chat_completion(&body)["message"]["tool_calls"]
        .as_array()
        .expect("tool_calls")
        .clone();
    let got: Vec<(String, Value)> = calls
        .iter()
        .map(|c| {
            let args = serde_json::from_str(c["function"]["arguments"].as_str().unwrap()).unwrap();
            (c["id"].as_str().unwrap().to_string(), args)
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "call_12345xyz".to_string(),
                json!({"location": "Paris, France"})
            ),
            (
                "call_67890abc".to_string(),
                json!({"location": "Bogotá, Colombia"})
            ),
        ]
    );
}

#[tokio::test]
async fn streamed_tool_calls_are_openai_deltas_whatever_the_upstream_style() {
    let script = Script::new()
        .with_model("vllm-style", Behaviour::ToolCall)
        .with_model("ollama-style", Behaviour::OllamaToolCall)
        .with_model("parallel", Behaviour::ParallelToolCalls);
    let (_mock, gateway) = local_gateway(script).await;
    let cases = [
        (
            "vllm-style",
            vec![(
                "call_DdmO9pD3xa9XTPNJ32zg2hcA",
                r#"{"location":"Paris, France"}"#,
            )],
        ),
        (
            "ollama-style",
            vec![("call_ejieksiz", r#"{"location":"Paris, France"}"#)],
        ),
        (
            "parallel",
            vec![
                ("call_12345xyz", r#"{"location":"Paris, France"}"#),
                ("call_67890abc", r#"{"location":"Bogotá, Colombia"}"#),
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
        let chunks = stream_chunks(&gateway, &request, model).await;
        let calls = reassemble(&tool_call_deltas(&chunks));
        let calls: Vec<(&str, Value)> = calls
            .iter()
            .map(|(id, name, args)| {
                assert_eq!(name, "get_weather", "{model}");
                let args: Value = serde_json::from_str(args)
                    .unwrap_or_else(|e| panic!("{model}: arguments {args:?} are not JSON: {e}"));
                (id.as_str(), args)
            })
            .collect();
        let expected: Vec<(&str, Value)> = expected
            .iter()
            .map(|(id, args)| (*id, serde_json::from_str(args).unwrap()))
            .collect();
        assert_eq!(calls, expected, "{model}");
        let finish: Vec<&str> = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
            .collect();
        assert_eq!(finish, ["tool_calls"], "{model}");
    }
}

#[tokio::test]
async fn tool_calls_without_ids_get_unique_ids_from_the_adapter() {
    let (_mock, gateway) =
        local_gateway(Script::new().with_model("m", Behaviour::ToolCallWithoutId)).await;
    let request = json!({
        "model": "local:m",
        "messages": [{"role": "user", "content": "Weather?"}],
        "tools": [weather_tool()]
    });
    let body = Answer::read(gateway.post_json("/v1/chat/completions", &request).await)
        .await
        .assert_status(200)
        .json();
    let call = &expect::chat_completion(&body)["message"]["tool_calls"][0];
    let id = call["id"].as_str().unwrap_or_default();
    assert!(!id.is_empty(), "a generated id is required: {body}");

    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    let chunks = stream_chunks(&gateway, &streamed, "llama.cpp style").await;
    let calls = reassemble(&tool_call_deltas(&chunks));
    assert_eq!(calls.len(), 1, "{chunks:?}");
    assert!(!calls[0].0.is_empty());
    let args: Value = serde_json::from_str(&calls[0].2).unwrap();
    assert_eq!(args, json!({"location": "Paris, France"}));
}

#[tokio::test]
async fn embeddings_come_back_in_order_as_floats_or_base64() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    let inputs = ["alpha", "beta gamma"];
    let request = json!({"model": "local:nomic-embed-text", "input": inputs});
    let answer = Answer::read(gateway.post_json("/v1/embeddings", &request).await).await;
    answer.assert_status(200);
    let body = answer.json();
    assert_eq!(body["object"], "list");
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 2);
    for (i, text) in inputs.iter().enumerate() {
        assert_eq!(data[i]["object"], "embedding");
        assert_eq!(data[i]["index"], i);
        let vector: Vec<f32> = serde_json::from_value(data[i]["embedding"].clone()).unwrap();
        assert_eq!(vector, embedding_for(text, DEFAULT_DIMENSIONS), "input {i}");
    }
    assert_eq!(body["usage"]["prompt_tokens"], 3);
    let lineage = expect::lineage_headers(&answer.headers);
    assert_eq!(
        (lineage.provider.as_str(), lineage.model.as_str()),
        ("local", "nomic-embed-text")
    );
    let sent = mock.requests_to("/v1/embeddings");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].json_body()["model"], "nomic-embed-text");
    assert_eq!(sent[0].json_body()["input"], json!(inputs));

    let request = json!({
        "model": "local:nomic-embed-text",
        "input": "alpha",
        "encoding_format": "base64",
        "dimensions": 4
    });
    let body = Answer::read(gateway.post_json("/v1/embeddings", &request).await)
        .await
        .assert_status(200)
        .json();
    let encoded = body["data"][0]["embedding"]
        .as_str()
        .unwrap_or_else(|| panic!("encoding_format base64 must give a base64 string: {body}"));
    let decoded =
        aratta_tests::mock::decode_embedding_base64(encoded).expect("valid base64 of f32s");
    assert_eq!(decoded, embedding_for("alpha", 4));
    let sent = mock.requests_to("/v1/embeddings");
    assert_eq!(sent.last().unwrap().json_body()["dimensions"], 4);
}

#[tokio::test]
async fn the_model_list_names_every_upstream_model_as_provider_colon_model() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    let answer = Answer::read(gateway.get("/v1/models").await).await;
    answer.assert_status(200);
    let body = answer.json();
    assert_eq!(body["object"], "list");
    let listed: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| {
            assert_eq!(m["object"], "model", "{m}");
            assert!(m["owned_by"].is_string(), "{m}");
            assert!(m["created"].is_u64(), "{m}");
            m["id"].as_str().expect("id")
        })
        .collect();
    let upstream = fixtures::json(fixtures::MODELS);
    for model in upstream["data"].as_array().unwrap() {
        let id = format!("local:{}", model["id"].as_str().unwrap());
        assert!(
            listed.contains(&id.as_str()),
            "{id} missing from {listed:?}"
        );
    }
    assert!(!mock.requests_to("/v1/models").is_empty());
}

#[tokio::test]
async fn a_stream_is_forwarded_as_it_arrives() {
    // 200 ms between upstream events: about 2 s from the first text to [DONE].
    let script = Script::new().with_chunk_delay(Duration::from_millis(200));
    let (_mock, gateway) = local_gateway(script).await;
    let request = json!({
        "model": "local:m",
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": true
    });
    let read = sse::read(
        gateway.post_json("/v1/chat/completions", &request).await,
        STREAM_DEADLINE,
    )
    .await;
    let first_text = read
        .events
        .iter()
        .position(|e| {
            e.json().is_some_and(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty())
            })
        })
        .unwrap_or_else(|| panic!("no text: {}", read.raw));
    let spread = *read.arrivals.last().unwrap() - read.arrivals[first_text];
    assert!(
        spread >= Duration::from_millis(1200),
        "the first text arrived only {spread:?} before the end: the gateway buffered the stream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_each_get_their_own_answer() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    let gateway = &gateway;
    let answers = futures_util::future::join_all((0..16).map(|i| async move {
        let request = json!({
            "model": format!("local:m{i}"),
            "messages": [{"role": "user", "content": format!("question {i}")}]
        });
        let answer = Answer::read(gateway.post_json("/v1/chat/completions", &request).await).await;
        (i, answer)
    }))
    .await;
    for (i, answer) in answers {
        answer.assert_status(200);
        assert_eq!(
            expect::lineage_headers(&answer.headers).model,
            format!("m{i}")
        );
        assert_eq!(
            answer.json()["model"],
            format!("m{i}"),
            "the upstream echoes the model"
        );
    }
    let mut received: Vec<(String, String)> = mock
        .chat_requests()
        .iter()
        .map(|r| {
            let body = r.json_body();
            let text = body["messages"][0]["content"].as_str().unwrap_or_default();
            (
                body["model"].as_str().unwrap_or_default().to_string(),
                text.to_string(),
            )
        })
        .collect();
    received.sort();
    let mut expected: Vec<(String, String)> = (0..16)
        .map(|i| (format!("m{i}"), format!("question {i}")))
        .collect();
    expected.sort();
    assert_eq!(received, expected);
}
