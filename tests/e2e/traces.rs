//! Traces over OTLP/HTTP, received by a mock collector that decodes the protobuf as a real one
//! does: a request is a server span (under the caller's `traceparent`) with a client span per
//! attempt, so a retry and a fallback are both visible; usage and the answering provider are
//! on the request's span and no content is on any span; a stream's span ends with the stream;
//! a request no provider answers is an error span; collector credentials come from the
//! standard `OTEL_EXPORTER_OTLP_HEADERS`; and without `[traces] endpoint` nothing is sent,
//! whatever the environment says.

use std::time::Duration;

use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::Answer;
use aratta_tests::gateway::Gateway;
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use aratta_tests::otlp::{Collector, Span};
use serde_json::{Value, json};

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const SECRET: &str = "the words of a private prompt";

/// `first` fails with 503 (retried once), `backup` answers; alias `fast` tries them in order.
async fn setup(collector: &Collector) -> (MockUpstream, MockUpstream, Gateway) {
    let first = MockUpstream::start(Script::always(Behaviour::Error(503))).await;
    let backup = MockUpstream::start(Script::new()).await;
    let config = Config::new()
        .provider(Provider::new("first", &first.base_url()).adapter("local"))
        .provider(Provider::new("backup", &backup.base_url()).adapter("local"))
        .alias("fast", &["first:a", "backup:b"])
        .raw(&format!(
            "[retry]\nmax_retries = 1\nbase_delay_ms = 1\nmax_delay_ms = 5\n\
             [traces]\nendpoint = \"{}\"\nservice_name = \"aratta-under-test\"\n",
            collector.endpoint()
        ));
    let gateway = Gateway::builder(&config)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-collector-token=t0ken")
        .start()
        .await;
    (first, backup, gateway)
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": SECRET}]})
}

fn children<'a>(spans: &'a [Span], parent: &Span) -> Vec<&'a Span> {
    let mut found: Vec<&Span> = spans
        .iter()
        .filter(|s| s.parent_span_id == parent.span_id && s.trace_id == parent.trace_id)
        .collect();
    found.sort_by_key(|s| s.start_ns);
    found
}

fn server_spans(spans: &[Span]) -> Vec<&Span> {
    spans
        .iter()
        .filter(|s| s.kind == "SPAN_KIND_SERVER")
        .collect()
}

#[tokio::test]
async fn a_request_is_a_server_span_with_a_client_span_per_attempt() {
    let collector = Collector::start().await;
    let (first, backup, gateway) = setup(&collector).await;
    let response = gateway
        .client()
        .post(gateway.url("/api/v1/chat"))
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .json(&chat("fast"))
        .send()
        .await
        .unwrap();
    let body = Answer::read(response).await.assert_status(200).json();
    assert_eq!(first.chat_requests().len(), 2, "tried, then retried once");
    assert_eq!(backup.chat_requests().len(), 1);

    let spans = collector
        .wait_for(Duration::from_secs(10), |s| s.len() >= 4)
        .await;
    let servers = server_spans(&spans);
    assert_eq!(servers.len(), 1, "{spans:#?}");
    let request = servers[0];
    assert_eq!(request.name, "chat fast");
    assert_eq!(request.trace_id, CALLER_TRACE, "under the caller's trace");
    assert_eq!(request.parent_span_id, CALLER_SPAN);
    assert_eq!(request.attr("gen_ai.operation.name"), "chat");
    assert_eq!(request.attr("gen_ai.request.model"), "fast");
    assert_eq!(request.attr("gen_ai.response.model"), "b");
    assert_eq!(request.attr("gen_ai.provider.name"), "local");
    assert_eq!(request.attr("aratta.provider"), "backup");
    assert_eq!(request.attr("aratta.attempts"), 3);
    assert_eq!(
        request.attr("aratta.request_id"),
        &body["lineage"]["request_id"]
    );
    assert_eq!(
        request.attr("gen_ai.usage.input_tokens"),
        &body["usage"]["input_tokens"]
    );
    assert_eq!(
        request.attr("gen_ai.usage.output_tokens"),
        &body["usage"]["output_tokens"]
    );
    assert!(
        body["usage"]["input_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    assert_ne!(request.status, "STATUS_CODE_ERROR");
    assert_eq!(request.resource["service.name"], "aratta-under-test");

    let attempts = children(&spans, request);
    let summary: Vec<(String, Value, Value, Value)> = attempts
        .iter()
        .map(|a| {
            (
                a.kind.clone(),
                a.attr("aratta.provider").clone(),
                a.attr("aratta.attempt.retry").clone(),
                a.attr("aratta.attempt.outcome").clone(),
            )
        })
        .collect();
    let client = "SPAN_KIND_CLIENT".to_owned();
    assert_eq!(
        summary,
        [
            (
                client.clone(),
                json!("first"),
                json!(false),
                json!("overloaded_error")
            ),
            (
                client.clone(),
                json!("first"),
                json!(true),
                json!("overloaded_error")
            ),
            (client, json!("backup"), json!(false), json!("ok")),
        ],
        "{attempts:#?}"
    );
    for failed in &attempts[..2] {
        assert_eq!(failed.status, "STATUS_CODE_ERROR");
        assert_eq!(failed.attr("error.type"), "overloaded_error");
        assert_eq!(failed.attr("gen_ai.request.model"), "a");
        assert_eq!(failed.attr("server.address"), "127.0.0.1");
    }
    assert_eq!(attempts[2].attr("gen_ai.request.model"), "b");
    for attempt in &attempts {
        assert!(attempt.start_ns >= request.start_ns && attempt.end_ns <= request.end_ns);
    }
    // What the caller said is on no span.
    let exported = format!("{spans:?}");
    assert!(!exported.contains(SECRET), "content leaked into a span");
    // Credentials for the collector come from the standard variable.
    let requests = collector.requests();
    assert!(
        requests.iter().all(|(path, headers)| path == "/v1/traces"
            && headers.contains(&("x-collector-token".into(), "t0ken".into()))),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_stream_ends_its_span_and_a_request_nobody_answers_is_an_error_span() {
    let collector = Collector::start().await;
    let (_first, _backup, gateway) = setup(&collector).await;
    let mut streamed = chat("backup:b");
    streamed["stream"] = json!(true);
    let answer = Answer::read(gateway.post_json("/api/v1/chat", &streamed).await).await;
    let text = &answer.assert_status(200).text;
    assert!(text.contains("data:"), "{text}");
    let failed = Answer::read(gateway.post_json("/api/v1/chat", &chat("first:a")).await).await;
    assert_eq!(failed.status.as_u16(), 503, "{}", failed.text);

    let spans = collector
        .wait_for(Duration::from_secs(10), |s| server_spans(s).len() >= 2)
        .await;
    let servers = server_spans(&spans);
    let stream = servers
        .iter()
        .find(|s| s.attr("aratta.route") == "chat_stream")
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(stream.name, "chat backup:b");
    assert_eq!(stream.attr("aratta.outcome"), "ok");
    assert!(
        stream
            .attr("gen_ai.usage.output_tokens")
            .as_i64()
            .is_some_and(|n| n > 0)
    );
    assert_eq!(children(&spans, stream).len(), 1);

    let error = servers
        .iter()
        .find(|s| s.attr("gen_ai.request.model") == "first:a")
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(error.status, "STATUS_CODE_ERROR");
    assert_eq!(error.attr("error.type"), "overloaded_error");
    assert!(!error.status_message.is_empty());
    assert_eq!(
        children(&spans, error).len(),
        2,
        "the attempt and its retry"
    );
    assert_eq!(
        error.trace_id.len(),
        32,
        "a new trace without a traceparent"
    );
}

#[tokio::test]
async fn without_an_endpoint_in_the_config_nothing_is_sent() {
    let collector = Collector::start().await;
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = Gateway::builder(&Config::local(&mock.base_url()))
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint())
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .start()
        .await;
    Answer::read(gateway.post_json("/api/v1/chat", &chat("local:m")).await)
        .await
        .assert_status(200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        collector.requests().is_empty(),
        "{:?}",
        collector.requests()
    );
}
