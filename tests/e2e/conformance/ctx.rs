//! One adapter's context for the matrix (its mock upstream and a gateway pointed at it), what
//! its fixtures say the answers hold, and the helpers the cases share.

use std::collections::BTreeMap;
use std::time::Duration;

use aratta_tests::config::{Config, Provider};
use aratta_tests::conformance::{self, ConformanceMock, Seen, Spec, bodies, checks};
use aratta_tests::expect::Answer;
use aratta_tests::gateway::Gateway;
use aratta_tests::sse::{self, SseRead};
use serde_json::{Value, json};

/// How long a streamed answer may take.
pub const STREAM_DEADLINE: Duration = Duration::from_secs(20);

/// What each adapter's fixtures say the answers hold.
pub struct Expect {
    pub text: &'static str,
    pub tool: &'static str,
    pub tool_args: fn() -> Value,
    pub cached: u64,
    pub reasoning: Option<u64>,
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

/// One adapter's gateway and mock.
pub struct Ctx {
    pub spec: &'static Spec,
    pub expect: Expect,
    pub mock: ConformanceMock,
    pub gateway: Gateway,
}

impl Ctx {
    /// Starts the mock for `adapter` and a gateway whose only provider is that mock; with
    /// `component`, that file is installed in the gateway's adapters directory (a component
    /// named like the built-in replaces it).
    pub async fn start(adapter: &str, component: Option<&std::path::Path>) -> Ctx {
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
        if let Some(file) = component {
            builder = builder.adapter_file(file);
        }
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

    /// `adapter:case`, the model that routes a request to this adapter's mock as `case`.
    pub fn model(&self, case: &str) -> String {
        format!("{}:{case}", self.spec.adapter)
    }

    /// `POST /api/v1/chat` for `case` with `body` (its `model` is set here).
    pub async fn chat(&self, case: &str, mut body: Value) -> Answer {
        body["model"] = json!(self.model(case));
        Answer::read(self.gateway.post_json("/api/v1/chat", &body).await).await
    }

    /// `POST /v1/chat/completions` for `case` with `body` (its `model` is set here).
    pub async fn openai_chat(&self, case: &str, mut body: Value) -> Answer {
        body["model"] = json!(self.model(case));
        Answer::read(self.gateway.post_json("/v1/chat/completions", &body).await).await
    }

    /// A successful SCRI chat: 200, lineage of this adapter, the upstream request checked.
    pub async fn chat_ok(&self, case: &str, body: Value) -> Value {
        let answer = self.chat(case, body).await;
        answer.assert_status(200);
        let json = answer.json();
        assert_eq!(json["lineage"]["adapter"], self.spec.adapter, "{json}");
        self.sent(case);
        json
    }

    /// Streams `POST route` for `case`; 200 and `text/event-stream` asserted.
    pub async fn stream(&self, route: &str, case: &str, mut body: Value) -> SseRead {
        body["model"] = json!(self.model(case));
        body["stream"] = json!(true);
        let response = self.gateway.post_json(route, &body).await;
        assert_eq!(response.status(), 200, "streamed {case} did not start");
        let read = sse::read(response, STREAM_DEADLINE).await;
        assert!(read.transport_error.is_none(), "{case}: {read:?}");
        read
    }

    /// The last upstream request for `case`. Every request for it is checked: route, headers,
    /// the parts of the body the case is about, and the whole body against the expected one.
    pub fn sent(&self, case: &str) -> Seen {
        let last = self.mock.checked(case);
        for seen in self.mock.for_case(case) {
            if let Err(problem) = checks::body(self.spec, case, &seen) {
                panic!("{case}: {problem}");
            }
            if let Err(problem) = bodies::check(self.spec, case, seen.request.json_body()) {
                panic!("{case}: {problem}");
            }
        }
        last
    }
}

/// A user message.
pub fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

/// The content blocks of `kind` in a SCRI answer.
pub fn blocks<'a>(body: &'a Value, kind: &str) -> Vec<&'a Value> {
    body["content"]
        .as_array()
        .map(|c| c.iter().filter(|b| b["type"] == kind).collect())
        .unwrap_or_default()
}

/// The text of a SCRI answer's text blocks.
pub fn text_of(body: &Value) -> String {
    blocks(body, "text")
        .iter()
        .filter_map(|b| b["text"].as_str())
        .collect()
}

/// The `type` of every SCRI stream event, in order.
pub fn kinds(read: &SseRead) -> Vec<String> {
    read.json_events()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Tool calls as (id, name, arguments text), by index.
pub type Calls = BTreeMap<u64, (String, String, String)>;

/// Tool calls assembled from SCRI stream events.
pub fn scri_stream_calls(read: &SseRead) -> Calls {
    let mut calls = Calls::new();
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

/// Every call has an id, the expected tool's name and object arguments.
pub fn assert_calls(calls: &Calls, expect: &Expect, raw: &str) {
    assert!(!calls.is_empty(), "no tool calls: {raw}");
    for (id, name, args) in calls.values() {
        assert!(!id.is_empty(), "a call without id: {raw}");
        assert_eq!(name, expect.tool, "{raw}");
        let args: Value =
            serde_json::from_str(args).unwrap_or_else(|e| panic!("arguments {args:?}: {e}"));
        assert!(args.is_object(), "arguments: {args}");
    }
}

/// A SCRI request body offering the weather tool.
pub fn with_tools(messages: Value) -> Value {
    json!({"messages": messages, "tools": [checks::weather_tool()]})
}
