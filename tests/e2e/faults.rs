//! Faults: bad client requests (4xx naming the problem), and upstreams that fail, stall, cut a
//! stream, send garbage or drift from the schema (5xx naming the cause). After each, the server
//! keeps serving.

use std::time::{Duration, Instant};

use aratta_tests::config::Config;
use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::{Gateway, hello, local_gateway};
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use aratta_tests::sse::{self, SseRead};
use serde_json::json;

/// Both chat routes: OpenAI-compatible and SCRI.
const CHAT_ROUTES: [&str; 2] = ["/v1/chat/completions", "/api/v1/chat"];

/// What status an upstream failure must become.
#[derive(Clone, Copy)]
enum Status {
    /// Exactly this status.
    Exact(u16),
    /// Any 5xx.
    ServerError,
}

#[tokio::test]
async fn malformed_json_is_a_400_that_says_so() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    for route in CHAT_ROUTES {
        let answer = Answer::read(
            gateway
                .post_raw(route, "{\"model\": \"local:m\", \"messages\": [")
                .await,
        )
        .await;
        let text = expect::error_answer(&answer, 4);
        assert_eq!(answer.status.as_u16(), 400, "{route}: {}", answer.text);
        assert!(text.contains("json"), "{route}: {}", answer.text);
    }
    assert!(mock.chat_requests().is_empty());
}

#[tokio::test]
async fn a_missing_model_is_a_400_naming_the_field() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    for route in CHAT_ROUTES {
        let body = json!({"messages": [{"role": "user", "content": "hi"}]});
        let answer = Answer::read(gateway.post_json(route, &body).await).await;
        let text = expect::error_answer(&answer, 4);
        assert_eq!(answer.status.as_u16(), 400, "{route}: {}", answer.text);
        assert!(text.contains("model"), "{route}: {}", answer.text);
    }
    assert!(mock.chat_requests().is_empty());
}

#[tokio::test]
async fn an_unknown_provider_or_alias_is_a_4xx_naming_it() {
    let (mock, gateway) = local_gateway(Script::new()).await;
    for route in CHAT_ROUTES {
        for model in ["nosuchprovider:m", "nosuchalias"] {
            let answer = Answer::read(gateway.post_json(route, &hello(model)).await).await;
            let text = expect::error_answer(&answer, 4);
            let name = model.split(':').next().unwrap();
            assert!(text.contains(name), "{route} {model}: {}", answer.text);
        }
    }
    assert!(mock.chat_requests().is_empty());
}

#[tokio::test]
async fn a_model_the_upstream_does_not_have_is_a_4xx() {
    let (_mock, gateway) =
        local_gateway(Script::new().with_model("llama3.3:70b", Behaviour::Error(404))).await;
    let answer = Answer::read(
        gateway
            .post_json("/v1/chat/completions", &hello("local:llama3.3:70b"))
            .await,
    )
    .await;
    let text = expect::error_answer(&answer, 4);
    assert!(text.contains("llama3.3:70b"), "{}", answer.text);
}

#[tokio::test]
async fn upstream_http_errors_become_typed_errors() {
    let script = Script::new()
        .with_model("limited", Behaviour::Error(429))
        .with_model("unauthorized", Behaviour::Error(401))
        .with_model("invalid", Behaviour::Error(400))
        .with_model("broken", Behaviour::Error(500))
        .with_model("overloaded", Behaviour::Error(503));
    let (_mock, gateway) = local_gateway(script).await;
    // The provider's own status is the client's only where the client can act on it (429,
    // 400); a bad credential or a broken provider is the gateway's problem, so 5xx.
    let cases = [
        ("limited", Status::Exact(429), "rate_limit_error"),
        ("unauthorized", Status::ServerError, "authentication_error"),
        ("invalid", Status::Exact(400), "invalid_request_error"),
        ("broken", Status::ServerError, "upstream_error"),
        ("overloaded", Status::ServerError, "overloaded_error"),
    ];
    for (model, status, kind) in cases {
        let answer = Answer::read(
            gateway
                .post_json("/v1/chat/completions", &hello(&format!("local:{model}")))
                .await,
        )
        .await;
        match status {
            Status::Exact(code) => {
                answer.assert_status(code);
            }
            Status::ServerError => {
                expect::error_answer(&answer, 5);
            }
        }
        let body = answer.json();
        assert_eq!(body["error"]["type"], kind, "{model}: {body}");
        if model == "limited" {
            assert_eq!(
                answer.header("retry-after"),
                Some("20"),
                "the provider's retry-after reaches the client"
            );
        }
    }
    gateway.assert_answers("local:m").await;
}

#[tokio::test]
async fn an_upstream_slower_than_the_timeout_is_a_quick_5xx_and_the_server_keeps_serving() {
    let mock = MockUpstream::start(
        Script::new().with_model("slow", Behaviour::Delay(Duration::from_secs(15))),
    )
    .await;
    let config = Config::local(&mock.base_url()).behaviour("upstream_timeout_seconds", "1");
    let gateway = Gateway::start(&config).await;
    let started = Instant::now();
    let answer = Answer::read(
        gateway
            .post_json("/v1/chat/completions", &hello("local:slow"))
            .await,
    )
    .await;
    let elapsed = started.elapsed();
    let text = expect::error_answer(&answer, 5);
    assert!(
        elapsed < Duration::from_secs(8),
        "gave up after {elapsed:?}"
    );
    assert!(
        text.contains("timeout") || text.contains("timed out"),
        "{}",
        answer.text
    );
    gateway.assert_answers("local:m").await;
}

/// A cut stream must end with an error, never look complete.
fn assert_openai_stream_failed(read: &SseRead, what: &str) {
    assert!(
        !read.events.iter().any(sse::SseEvent::is_done),
        "{what}: a cut stream must not end with [DONE]: {}",
        read.raw
    );
    let chunks = read.json_events();
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"][0]["finish_reason"].is_null()),
        "{what}: no finish_reason on a cut stream: {}",
        read.raw
    );
    let last = chunks
        .last()
        .unwrap_or_else(|| panic!("{what}: no events: {}", read.raw));
    assert!(
        last["error"]["message"].is_string(),
        "{what}: the last event is an error: {}",
        read.raw
    );
}

fn assert_scri_stream_failed(read: &SseRead, what: &str) {
    let kinds: Vec<String> = read
        .json_events()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!kinds.iter().any(|k| k == "stop"), "{what}: {kinds:?}");
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("error"),
        "{what}: {}",
        read.raw
    );
    let error = read.of_type("error").pop().unwrap();
    assert!(error["error"]["message"].is_string(), "{what}: {error}");
}

#[tokio::test]
async fn an_upstream_stream_cut_midway_ends_the_client_stream_with_an_error() {
    let script = Script::new()
        .with_model("cut", Behaviour::CutMidway)
        .with_model("early", Behaviour::EndEarly);
    let (_mock, gateway) = local_gateway(script).await;
    for model in ["cut", "early"] {
        let mut request = hello(&format!("local:{model}"));
        request["stream"] = json!(true);
        let response = gateway.post_json("/v1/chat/completions", &request).await;
        let read = sse::read(response, Duration::from_secs(20)).await;
        assert_openai_stream_failed(&read, model);
        let response = gateway.post_json("/api/v1/chat", &request).await;
        let read = sse::read(response, Duration::from_secs(20)).await;
        assert_scri_stream_failed(&read, model);
    }
    gateway.assert_answers("local:m").await;
}

#[tokio::test]
async fn garbage_or_a_missing_choices_field_is_a_5xx_schema_mismatch() {
    let script = Script::new()
        .with_model("garbage", Behaviour::Garbage)
        .with_model("nochoices", Behaviour::MissingChoices);
    let (_mock, gateway) = local_gateway(script).await;
    for route in CHAT_ROUTES {
        for model in ["garbage", "nochoices"] {
            let answer = Answer::read(
                gateway
                    .post_json(route, &hello(&format!("local:{model}")))
                    .await,
            )
            .await;
            let text = expect::error_answer(&answer, 5);
            assert!(text.contains("schema"), "{route} {model}: {}", answer.text);
            if model == "nochoices" {
                assert!(
                    text.contains("choices"),
                    "names the missing field: {}",
                    answer.text
                );
            }
        }
    }
    gateway.assert_answers("local:m").await;
}
