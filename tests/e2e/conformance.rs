//! The conformance matrix: one set of end-to-end cases every adapter runs through the real
//! gateway, against a mock upstream replaying that provider's recorded wire fixtures
//! (`aratta_tests::conformance`). One `#[test]` per adapter; each prints its column, and the
//! last one to finish prints the whole matrix (cases × adapters) to the real stdout.
//!
//! A case an adapter does not support is declared in [`declared`]: `unsupported` when the
//! gateway must say so (and that answer is asserted), `n/a` when there is nothing to send. A
//! known adapter bug is declared in [`KNOWN_FAILURES`]: still run and printed, not failing.
//!
//! Run: `cargo test --release --test conformance`.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use aratta_tests::config::{Config, Provider};
use aratta_tests::conformance::{self, ConformanceMock, Seen, Spec, Wire, checks, fixture_json};
use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::Gateway;
use aratta_tests::sse::{self, SseRead};
use futures_util::FutureExt as _;
use serde_json::{Value, json};

const STREAM_DEADLINE: Duration = Duration::from_secs(20);

/// What each adapter's fixtures say the answers hold.
struct Expect {
    text: &'static str,
    tool: &'static str,
    tool_args: fn() -> Value,
    cached: u64,
    reasoning: Option<u64>,
}

fn expect_for(adapter: &str) -> Expect {
    match adapter {
        "local" => Expect {
            text: "Hello! How can I assist you today?",
            tool: "get_weather",
            tool_args: || json!({"location": "Paris, France"}),
            cached: 1920,
            reasoning: None,
        },
        "openai" => Expect {
            text: "Hello! How can I assist you today?",
            tool: "get_weather",
            tool_args: || json!({"location": "Paris, France"}),
            cached: 1920,
            reasoning: Some(192),
        },
        "xai" => Expect {
            text: "I am Grok, an AI assistant built by xAI.",
            tool: "weather",
            tool_args: || json!({"location": "San Francisco"}),
            cached: 654,
            reasoning: Some(124),
        },
        "anthropic" => Expect {
            text: "Hi! My name is Claude.",
            tool: "get_weather",
            tool_args: || json!({"location": "San Francisco, CA", "unit": "celsius"}),
            cached: 188086,
            reasoning: Some(96),
        },
        "google" => Expect {
            text: "The capital of France is Paris.",
            tool: "get_weather",
            tool_args: || json!({"location": "Paris, France", "unit": "celsius"}),
            cached: 4096,
            reasoning: Some(258),
        },
        other => panic!("no expectations for {other}"),
    }
}

/// Cases an adapter declares it does not support: `(adapter, case, asserted?, why)`.
const DECLARED: &[(&str, &str, bool, &str)] = &[
    ("xai", "embeddings", true, "xAI offers no embedding model"),
    (
        "anthropic",
        "embeddings",
        true,
        "Anthropic has no embeddings API",
    ),
    (
        "local",
        "reasoning-signature",
        false,
        "Chat Completions has no signatures",
    ),
    (
        "openai",
        "reasoning-signature",
        false,
        "Chat Completions has no signatures",
    ),
    (
        "xai",
        "reasoning-signature",
        false,
        "Chat Completions has no signatures",
    ),
];

/// Known adapter bugs: `(adapter, case, what)`. Run and printed as `KNOWN-FAIL`, not failing.
const KNOWN_FAILURES: &[(&str, &str, &str)] = &[];

fn declared(adapter: &str, case: &str) -> Option<(bool, &'static str)> {
    DECLARED
        .iter()
        .find(|(a, c, _, _)| *a == adapter && *c == case)
        .map(|(_, _, asserted, why)| (*asserted, *why))
}

/// One adapter's gateway and mock.
struct Ctx {
    spec: &'static Spec,
    expect: Expect,
    mock: ConformanceMock,
    gateway: Gateway,
}

type Fut<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;
type Case = for<'a> fn(&'a Ctx) -> Fut<'a>;

impl Ctx {
    async fn start(adapter: &str) -> Ctx {
        let spec = conformance::spec(adapter);
        let mock = ConformanceMock::start(spec).await;
        let mut provider = Provider::new(adapter, &mock.base_url());
        if let Some(var) = spec.key_env {
            provider = provider.api_key_env(var);
        }
        // Every error case counts as a provider failure: keep the circuit breaker out of the way.
        let config = Config::new()
            .provider(provider)
            .raw("[breaker]\nfailure_threshold = 1000")
            .alias(
                "fallback-e400",
                &[
                    &format!("{adapter}:e400"),
                    &format!("{adapter}:fallback-target"),
                ],
            );
        let mut builder = Gateway::builder(&config);
        if let (Some(var), Some(key)) = (spec.key_env, spec.key()) {
            builder = builder.env(var, &key);
        }
        Ctx {
            spec,
            expect: expect_for(adapter),
            mock,
            gateway: builder.start().await,
        }
    }

    fn model(&self, case: &str) -> String {
        format!("{}:{case}", self.spec.adapter)
    }

    /// `POST /api/v1/chat` for `case` with `body` (its `model` is set here).
    async fn chat(&self, case: &str, mut body: Value) -> Answer {
        body["model"] = json!(self.model(case));
        Answer::read(self.gateway.post_json("/api/v1/chat", &body).await).await
    }

    /// A successful SCRI chat: 200, lineage of this adapter, the upstream request checked.
    async fn chat_ok(&self, case: &str, body: Value) -> Value {
        let answer = self.chat(case, body).await;
        answer.assert_status(200);
        let json = answer.json();
        assert_eq!(json["lineage"]["adapter"], self.spec.adapter, "{json}");
        self.sent(case);
        json
    }

    /// Streams `POST route` for `case`; 200 and `text/event-stream` asserted.
    async fn stream(&self, route: &str, case: &str, mut body: Value) -> SseRead {
        body["model"] = json!(self.model(case));
        body["stream"] = json!(true);
        let response = self.gateway.post_json(route, &body).await;
        assert_eq!(response.status(), 200, "streamed {case} did not start");
        let read = sse::read(response, STREAM_DEADLINE).await;
        assert!(read.transport_error.is_none(), "{case}: {read:?}");
        read
    }

    /// The upstream request for `case`, with its route, headers and body checked.
    fn sent(&self, case: &str) -> Seen {
        let seen = self.mock.checked(case);
        if let Err(problem) = checks::body(self.spec, case, &seen) {
            panic!("{case}: {problem}");
        }
        seen
    }
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

fn blocks<'a>(body: &'a Value, kind: &str) -> Vec<&'a Value> {
    body["content"]
        .as_array()
        .map(|c| c.iter().filter(|b| b["type"] == kind).collect())
        .unwrap_or_default()
}

fn text_of(body: &Value) -> String {
    blocks(body, "text")
        .iter()
        .filter_map(|b| b["text"].as_str())
        .collect()
}

fn kinds(read: &SseRead) -> Vec<String> {
    read.json_events()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Tool calls assembled from SCRI stream events: (id, name, arguments text) by index.
fn scri_stream_calls(read: &SseRead) -> BTreeMap<u64, (String, String, String)> {
    let mut calls: BTreeMap<u64, (String, String, String)> = BTreeMap::new();
    for e in read.json_events() {
        let index = e["index"].as_u64().unwrap_or(0);
        match e["type"].as_str() {
            Some("tool_call_start") => {
                let id = e["id"].as_str().unwrap_or_default().to_string();
                let name = e["name"].as_str().unwrap_or_default().to_string();
                calls.insert(index, (id, name, String::new()));
            }
            Some("tool_call_delta") => {
                let call = calls.get_mut(&index).expect("a delta after its start");
                call.2.push_str(e["arguments"].as_str().unwrap_or_default());
            }
            _ => {}
        }
    }
    calls
}

fn assert_calls(calls: &BTreeMap<u64, (String, String, String)>, expect: &Expect, raw: &str) {
    assert!(!calls.is_empty(), "no tool calls: {raw}");
    for (id, name, args) in calls.values() {
        assert!(!id.is_empty(), "a call without id: {raw}");
        assert_eq!(name, expect.tool, "{raw}");
        let args: Value =
            serde_json::from_str(args).unwrap_or_else(|e| panic!("arguments {args:?}: {e}"));
        assert!(args.is_object(), "arguments: {args}");
    }
}

fn with_tools(messages: Value) -> Value {
    json!({"messages": messages, "tools": [checks::weather_tool()]})
}

macro_rules! case {
    ($name:ident, |$c:ident| $body:block) => {
        fn $name<'a>($c: &'a Ctx) -> Fut<'a> {
            Box::pin(async move { $body })
        }
    };
}

case!(plain, |c| {
    let body = c.chat_ok("plain", json!({"messages": [user("hi")]})).await;
    assert_eq!(text_of(&body), c.expect.text, "{body}");
    assert_eq!(body["finish_reason"], "stop", "{body}");
});

case!(system, |c| {
    let messages = json!([{"role": "system", "content": checks::SYSTEM}, user("hi")]);
    c.chat_ok("system", json!({"messages": messages})).await;
});

case!(multi_turn, |c| {
    let messages = json!([user("hi"), {"role": "assistant", "content": "Hello."}, user("again")]);
    c.chat_ok("multi", json!({"messages": messages})).await;
});

case!(image, |c| {
    let content = json!([
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "url", "url": checks::IMAGE_URL}}
    ]);
    let messages = json!([{"role": "user", "content": content}]);
    c.chat_ok("image", json!({"messages": messages})).await;
});

case!(tools, |c| {
    let body = c
        .chat_ok("tools", with_tools(json!([user("Weather?")])))
        .await;
    let calls = blocks(&body, "tool_use");
    assert!(!calls.is_empty(), "{body}");
    assert_eq!(calls[0]["name"], c.expect.tool, "{body}");
    assert_eq!(calls[0]["arguments"], (c.expect.tool_args)(), "{body}");
    assert!(
        calls[0]["id"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert_eq!(body["finish_reason"], "tool_calls", "{body}");
});

case!(tool_result, |c| {
    let messages = json!([
        user("Weather in Paris?"),
        {"role": "assistant", "content": [{"type": "tool_use", "id": checks::CALL_ID,
            "name": "get_weather", "arguments": {"location": "Paris"}}]},
        {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": checks::CALL_ID,
            "content": "18 C, clear"}]}
    ]);
    let body = c.chat_ok("tool-result", with_tools(messages)).await;
    assert!(!text_of(&body).is_empty(), "{body}");
});

case!(parallel, |c| {
    let body = c
        .chat_ok("parallel", with_tools(json!([user("Weather?")])))
        .await;
    let calls = blocks(&body, "tool_use");
    assert_eq!(calls.len(), 2, "{body}");
    assert_ne!(calls[0]["id"], calls[1]["id"], "{body}");
    assert_eq!(body["finish_reason"], "tool_calls", "{body}");
});

case!(stream_text, |c| {
    let read = c
        .stream(
            "/api/v1/chat",
            "stream-text",
            json!({"messages": [user("hi")]}),
        )
        .await;
    let kinds = kinds(&read);
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("start"),
        "{}",
        read.raw
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("stop"),
        "{}",
        read.raw
    );
    assert!(
        kinds.iter().any(|k| k == "usage"),
        "no usage event: {}",
        read.raw
    );
    let text: String = read
        .of_type("text_delta")
        .iter()
        .filter_map(|e| e["text"].as_str().map(str::to_string))
        .collect();
    assert!(!text.is_empty(), "{}", read.raw);
    c.sent("stream-text");
});

case!(stream_tools, |c| {
    let read = c
        .stream(
            "/api/v1/chat",
            "stream-tools",
            with_tools(json!([user("Weather?")])),
        )
        .await;
    assert_calls(&scri_stream_calls(&read), &c.expect, &read.raw);
    let stop = read
        .of_type("stop")
        .pop()
        .unwrap_or_else(|| panic!("no stop: {}", read.raw));
    assert_eq!(stop["finish_reason"], "tool_calls", "{}", read.raw);
    c.sent("stream-tools");
});

case!(reasoning_signature, |c| {
    let request = json!({"messages": [user("Weather in Paris?")], "tools": [checks::weather_tool()],
        "reasoning": {"budget_tokens": 2048, "include_reasoning": true}});
    let first = c.chat_ok("reasoning", request).await;
    let mut signatures: Vec<String> = blocks(&first, "reasoning")
        .iter()
        .chain(blocks(&first, "tool_use").iter())
        .filter_map(|b| b["signature"].as_str().map(str::to_string))
        .filter(|s| !s.is_empty())
        .collect();
    assert!(!signatures.is_empty(), "no signature came back: {first}");
    signatures.sort();
    let mut messages = vec![
        user("Weather in Paris?"),
        json!({"role": "assistant", "content": first["content"]}),
    ];
    for call in blocks(&first, "tool_use") {
        messages.push(json!({"role": "tool", "content": [{"type": "tool_result",
            "tool_call_id": call["id"], "name": call["name"], "content": "18 C"}]}));
    }
    let second = json!({"messages": messages, "tools": [checks::weather_tool()]});
    c.chat_ok("reasoning-2", second).await;
    let sent = c.mock.checked("reasoning-2");
    let sent_text = String::from_utf8_lossy(&sent.request.body).to_string();
    for signature in &signatures {
        assert!(
            sent_text.contains(signature.as_str()),
            "signature {signature} not sent back: {sent_text}"
        );
    }
    if c.spec.wire == Wire::Anthropic {
        let thinking = &sent.request.json_body()["messages"][1]["content"][0];
        assert_eq!(thinking["type"], "thinking", "{thinking}");
        assert_eq!(thinking["signature"], signatures[0].as_str(), "{thinking}");
    }
});

case!(usage, |c| {
    let body = c.chat_ok("usage", json!({"messages": [user("hi")]})).await;
    assert_eq!(
        body["usage"]["cache_read_tokens"], c.expect.cached,
        "{body}"
    );
    assert!(
        body["usage"]["input_tokens"].as_u64() >= Some(c.expect.cached),
        "{body}"
    );
    if let Some(reasoning) = c.expect.reasoning {
        let body = c
            .chat_ok("usage-r", json!({"messages": [user("hi")]}))
            .await;
        assert_eq!(body["usage"]["reasoning_tokens"], reasoning, "{body}");
        assert!(
            body["usage"]["output_tokens"].as_u64() >= Some(reasoning),
            "{body}"
        );
    }
});

case!(json_schema, |c| {
    let request = json!({"messages": [user("Answer in JSON")], "response_format":
        {"type": "json_schema", "name": "answer", "schema": checks::answer_schema()}});
    let body = c.chat_ok("json", request).await;
    assert!(!text_of(&body).is_empty(), "{body}");
});

/// The vectors the fixture holds, in input order.
fn fixture_vectors(spec: &Spec) -> Vec<Vec<f64>> {
    let body = fixture_json(spec.fixtures, "embeddings.json");
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_f64)
            .collect()
    };
    if spec.wire == Wire::Google {
        return body["embeddings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| floats(&e["values"]))
            .collect();
    }
    let mut data = body["data"].as_array().unwrap().clone();
    data.sort_by_key(|d| d["index"].as_u64());
    data.iter().map(|d| floats(&d["embedding"])).collect()
}

case!(embeddings, |c| {
    if declared(c.spec.adapter, "embeddings").is_some() {
        let request = json!({"model": c.model("embed"), "inputs": ["a"]});
        let answer = Answer::read(c.gateway.post_json("/api/v1/embed", &request).await).await;
        answer.assert_status(400);
        assert_eq!(
            answer.json()["error"]["type"],
            "unsupported_error",
            "{}",
            answer.text
        );
        assert!(
            c.mock.for_case("embed").is_empty(),
            "the upstream was called"
        );
        return;
    }
    let expected = fixture_vectors(c.spec);
    let inputs: Vec<String> = (0..expected.len()).map(|i| format!("text {i}")).collect();
    let request = json!({"model": c.model("embed"), "inputs": inputs});
    let answer = Answer::read(c.gateway.post_json("/api/v1/embed", &request).await).await;
    answer.assert_status(200);
    let body = answer.json();
    let got: Vec<Vec<f64>> =
        serde_json::from_value(body["embeddings"].clone()).expect("embeddings");
    assert_eq!(got.len(), expected.len(), "{body}");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g.len(), e.len(), "{body}");
        assert!(g.iter().zip(e).all(|(a, b)| (a - b).abs() < 1e-6), "{body}");
    }
    c.sent("embed");
});

case!(models, |c| {
    let body = Answer::read(c.gateway.get("/api/v1/models").await)
        .await
        .assert_status(200)
        .json();
    let ids: Vec<&str> = body["models"]
        .as_array()
        .expect("models")
        .iter()
        .filter(|m| m["provider"] == c.spec.adapter)
        .filter_map(|m| m["model"].as_str())
        .collect();
    let wanted: &[&str] = match c.spec.adapter {
        "local" => &["llama3.2:latest"],
        "openai" => &["gpt-4o"],
        "xai" => &["grok-4"],
        "anthropic" => &["claude-sonnet-4-5-20250929", "claude-3-5-haiku-20241022"],
        _ => &["gemini-2.5-flash", "gemini-embedding-001"],
    };
    for id in wanted {
        assert!(
            ids.iter().any(|i| i.starts_with(id)),
            "{id} missing from {ids:?}"
        );
    }
    let problems: Vec<Vec<String>> = c
        .mock
        .seen()
        .into_iter()
        .map(|s| s.problems)
        .filter(|p| !p.is_empty())
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    let openai = Answer::read(c.gateway.get("/v1/models").await)
        .await
        .assert_status(200)
        .json();
    let prefix = format!("{}:", c.spec.adapter);
    assert!(
        openai["data"].as_array().is_some_and(|d| d
            .iter()
            .any(|m| m["id"].as_str().is_some_and(|i| i.starts_with(&prefix)))),
        "{openai}"
    );
});

async fn error_case(c: &Ctx, case: &str) -> Answer {
    let answer = c.chat(case, json!({"messages": [user("hi")]})).await;
    c.sent(case);
    expect::error_message(&answer.json());
    answer
}

case!(error_429, |c| {
    let answer = error_case(c, "e429").await;
    answer.assert_status(429);
    assert_eq!(
        answer.json()["error"]["type"],
        "rate_limit_error",
        "{}",
        answer.text
    );
    let retry = answer
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry.is_some_and(|r| r > 0),
        "Retry-After: {:?}",
        answer.header("retry-after")
    );
});

case!(error_401, |c| {
    let answer = error_case(c, "e401").await;
    assert!(answer.status.as_u16() >= 400, "{}", answer.text);
    assert_eq!(
        answer.json()["error"]["type"],
        "authentication_error",
        "{}",
        answer.text
    );
});

case!(error_400, |c| {
    let answer = error_case(c, "e400").await;
    answer.assert_status(400);
    assert_eq!(
        answer.json()["error"]["type"],
        "invalid_request_error",
        "{}",
        answer.text
    );
    let answer = Answer::read(
        c.gateway
            .post_json(
                "/api/v1/chat",
                &json!({"model": "fallback-e400", "messages": [user("hi")]}),
            )
            .await,
    )
    .await;
    answer.assert_status(400);
    assert!(
        c.mock.for_case("fallback-target").is_empty(),
        "a 400 fell back to the next target"
    );
});

case!(error_500, |c| {
    let answer = error_case(c, "e500").await;
    expect::error_answer(&answer, 5);
});

case!(error_503, |c| {
    let answer = error_case(c, "e503").await;
    expect::error_answer(&answer, 5);
    assert_eq!(
        answer.json()["error"]["type"],
        "overloaded_error",
        "{}",
        answer.text
    );
});

case!(truncated, |c| {
    let mut body = json!({"messages": [user("hi")], "model": c.model("truncated"), "stream": true});
    let response = c.gateway.post_json("/api/v1/chat", &body).await;
    if response.status() != 200 {
        expect::error_answer(&Answer::read(response).await, 5);
    } else {
        let read = sse::read(response, STREAM_DEADLINE).await;
        let kinds = kinds(&read);
        assert!(
            !kinds.iter().any(|k| k == "stop"),
            "a cut stream ended with stop: {}",
            read.raw
        );
        assert_eq!(
            kinds.last().map(String::as_str),
            Some("error"),
            "{}",
            read.raw
        );
    }
    c.sent("truncated");
    // The OpenAI route: no [DONE], no finish_reason, an error last.
    body["model"] = json!(c.model("oai-truncated"));
    let response = c.gateway.post_json("/v1/chat/completions", &body).await;
    if response.status() == 200 {
        let read = sse::read(response, STREAM_DEADLINE).await;
        assert!(
            !read.events.iter().any(sse::SseEvent::is_done),
            "[DONE] on a cut stream: {}",
            read.raw
        );
        let chunks = read.json_events();
        assert!(
            chunks
                .iter()
                .all(|ch| ch["choices"][0]["finish_reason"].is_null()),
            "{}",
            read.raw
        );
        assert!(
            chunks
                .last()
                .is_some_and(|l| l["error"]["message"].is_string()),
            "{}",
            read.raw
        );
    } else {
        expect::error_answer(&Answer::read(response).await, 5);
    }
});

case!(unknown_field, |c| {
    let body = c
        .chat_ok("unknown", json!({"messages": [user("hi")]}))
        .await;
    assert!(
        !text_of(&body).is_empty() || !blocks(&body, "tool_use").is_empty(),
        "{body}"
    );
});

case!(renamed_field, |c| {
    let answer = error_case(c, "renamed").await;
    answer.assert_status(502);
    assert_eq!(
        answer.json()["error"]["type"],
        "schema_mismatch_error",
        "{}",
        answer.text
    );
});

case!(oai_plain, |c| {
    let request = json!({"model": c.model("oai-plain"), "messages": [user("hi")]});
    let answer = Answer::read(c.gateway.post_json("/v1/chat/completions", &request).await).await;
    answer.assert_status(200);
    let body = answer.json();
    let choice = expect::chat_completion(&body);
    assert_eq!(choice["message"]["content"], c.expect.text, "{body}");
    assert_eq!(
        expect::lineage_headers(&answer.headers).adapter,
        c.spec.adapter
    );
    c.sent("oai-plain");
});

case!(oai_stream_tools, |c| {
    let request = json!({"messages": [user("Weather?")], "stream_options": {"include_usage": true},
        "tools": [{"type": "function", "function": checks::weather_tool()}]});
    let read = c
        .stream("/v1/chat/completions", "oai-stream-tools", request)
        .await;
    assert!(
        read.events.last().is_some_and(sse::SseEvent::is_done),
        "no [DONE]: {}",
        read.raw
    );
    let mut calls: BTreeMap<u64, (String, String, String)> = BTreeMap::new();
    let mut finish = None;
    let mut usage = None;
    for chunk in read.json_events() {
        expect::chat_chunk(&chunk);
        if chunk["usage"].is_object() {
            usage = Some(chunk["usage"].clone());
        }
        let Some(choice) = chunk["choices"].get(0) else {
            continue;
        };
        if let Some(f) = choice["finish_reason"].as_str() {
            finish = Some(f.to_string());
        }
        for call in choice["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let entry = calls
                .entry(call["index"].as_u64().expect("tool_calls[].index"))
                .or_default();
            if let Some(id) = call["id"].as_str() {
                entry.0 = id.to_string();
            }
            if let Some(name) = call["function"]["name"].as_str() {
                entry.1 = name.to_string();
            }
            entry
                .2
                .push_str(call["function"]["arguments"].as_str().unwrap_or_default());
        }
    }
    assert_calls(&calls, &c.expect, &read.raw);
    assert_eq!(finish.as_deref(), Some("tool_calls"), "{}", read.raw);
    expect::usage(&usage.unwrap_or_else(|| panic!("no usage chunk: {}", read.raw)));
    c.sent("oai-stream-tools");
});

case!(oai_usage, |c| {
    let request = json!({"model": c.model("oai-usage"), "messages": [user("hi")]});
    let body = Answer::read(c.gateway.post_json("/v1/chat/completions", &request).await)
        .await
        .assert_status(200)
        .json();
    expect::usage(&body["usage"]);
    assert_eq!(
        body["usage"]["prompt_tokens_details"]["cached_tokens"], c.expect.cached,
        "{body}"
    );
    if let Some(reasoning) = c.expect.reasoning {
        let request = json!({"model": c.model("oai-usage-r"), "messages": [user("hi")]});
        let body = Answer::read(c.gateway.post_json("/v1/chat/completions", &request).await)
            .await
            .assert_status(200)
            .json();
        assert_eq!(
            body["usage"]["completion_tokens_details"]["reasoning_tokens"], reasoning,
            "{body}"
        );
    }
    c.sent("oai-usage");
});

const CASES: &[(&str, Case)] = &[
    ("plain", plain),
    ("system", system),
    ("multi-turn", multi_turn),
    ("image", image),
    ("tools", tools),
    ("tool-result", tool_result),
    ("parallel-tools", parallel),
    ("stream-text", stream_text),
    ("stream-tools", stream_tools),
    ("reasoning-signature", reasoning_signature),
    ("usage", usage),
    ("json-schema", json_schema),
    ("embeddings", embeddings),
    ("models", models),
    ("error-429", error_429),
    ("error-401", error_401),
    ("error-400", error_400),
    ("error-500", error_500),
    ("error-503", error_503),
    ("truncated-stream", truncated),
    ("unknown-field", unknown_field),
    ("renamed-field", renamed_field),
    ("openai-route-plain", oai_plain),
    ("openai-route-stream-tools", oai_stream_tools),
    ("openai-route-usage", oai_usage),
];

#[derive(Clone, Debug)]
enum Outcome {
    Pass,
    Unsupported,
    NotApplicable,
    Fail(String),
    KnownFail(String),
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Unsupported => "unsupported",
            Outcome::NotApplicable => "n/a",
            Outcome::Fail(_) => "FAIL",
            Outcome::KnownFail(_) => "KNOWN-FAIL",
        }
    }
}

static MATRIX: Mutex<BTreeMap<&'static str, Vec<Outcome>>> = Mutex::new(BTreeMap::new());

fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".to_string())
}

async fn run(adapter: &'static str) {
    let ctx = Ctx::start(adapter).await;
    let mut outcomes = Vec::new();
    for (name, case) in CASES {
        let declared = declared(adapter, name);
        if let Some((false, _)) = declared {
            outcomes.push(Outcome::NotApplicable);
            continue;
        }
        let result = AssertUnwindSafe(case(&ctx)).catch_unwind().await;
        let known = KNOWN_FAILURES
            .iter()
            .find(|(a, c, _)| *a == adapter && c == name);
        outcomes.push(match (result, declared, known) {
            (Ok(()), Some(_), _) => Outcome::Unsupported,
            (Ok(()), None, _) => Outcome::Pass,
            (Err(p), _, Some(_)) => Outcome::KnownFail(panic_text(p)),
            (Err(p), _, None) => Outcome::Fail(panic_text(p)),
        });
    }
    let failures: Vec<String> = CASES
        .iter()
        .zip(&outcomes)
        .filter_map(|((name, _), o)| match o {
            Outcome::Fail(why) => Some(format!("{name}: {why}")),
            _ => None,
        })
        .collect();
    for ((name, _), outcome) in CASES.iter().zip(&outcomes) {
        println!("{adapter:>10} {name:<28} {}", outcome.label());
        if let Outcome::KnownFail(why) = outcome {
            println!("           known failure: {why}");
        }
    }
    let matrix = {
        let mut all = MATRIX.lock().unwrap_or_else(|e| e.into_inner());
        all.insert(adapter, outcomes);
        if all.len() == conformance::SPECS.len() {
            Some(render(&all))
        } else {
            None
        }
    };
    if let Some(text) = matrix {
        // Past libtest's capture, so the matrix shows on a passing run too.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
    assert!(
        failures.is_empty(),
        "{adapter} failed {} case(s):\n{}\n--- gateway logs ---\n{}",
        failures.len(),
        failures.join("\n"),
        ctx.gateway.logs()
    );
}

fn render(all: &BTreeMap<&'static str, Vec<Outcome>>) -> String {
    let adapters: Vec<&str> = conformance::SPECS.iter().map(|s| s.adapter).collect();
    let mut out = format!("\nconformance matrix\n{:<28}", "case");
    for a in &adapters {
        out.push_str(&format!(" {a:<11}"));
    }
    out.push('\n');
    for (i, (name, _)) in CASES.iter().enumerate() {
        out.push_str(&format!("{name:<28}"));
        for a in &adapters {
            let label = all.get(a).map_or("-", |o| o[i].label());
            out.push_str(&format!(" {label:<11}"));
        }
        out.push('\n');
    }
    out
}

#[tokio::test]
async fn local() {
    run("local").await;
}

#[tokio::test]
async fn openai() {
    run("openai").await;
}

#[tokio::test]
async fn xai() {
    run("xai").await;
}

#[tokio::test]
async fn anthropic() {
    run("anthropic").await;
}

#[tokio::test]
async fn google() {
    run("google").await;
}
