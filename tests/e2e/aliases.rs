//! Aliases and fallback: `fast = ["local:a", "backup:b"]` tries `local` first and falls back to
//! `backup` (a second provider using the `local` adapter) on transient failures only, and the
//! lineage records every attempt.

use std::time::Duration;

use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::{Gateway, hello};
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use aratta_tests::sse;
use serde_json::{Value, json};

/// Two providers behind alias `fast`: `local` (first) answers per `first`, `backup` normally.
async fn setup(first: Script) -> (MockUpstream, MockUpstream, Gateway) {
    let first = MockUpstream::start(first).await;
    let backup = MockUpstream::start(Script::new()).await;
    let config = Config::local(&first.base_url())
        .provider(Provider::new("backup", &backup.base_url()).adapter("local"))
        .alias("fast", &["local:a", "backup:b"]);
    let gateway = Gateway::start(&config).await;
    (first, backup, gateway)
}

/// (provider, model, outcome) of each `lineage.attempts` entry.
fn attempts(lineage: &Value) -> Vec<(String, String, String)> {
    lineage["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("lineage.attempts: {lineage}"))
        .iter()
        .map(|a| {
            let field = |k: &str| a[k].as_str().unwrap_or_default().to_string();
            (field("provider"), field("model"), field("outcome"))
        })
        .collect()
}

#[tokio::test]
async fn an_overloaded_first_provider_falls_back_and_the_lineage_shows_both_attempts() {
    let (first, backup, gateway) = setup(Script::always(Behaviour::Error(503))).await;

    let answer = Answer::read(
        gateway
            .post_json("/v1/chat/completions", &hello("fast"))
            .await,
    )
    .await;
    answer.assert_status(200);
    expect::chat_completion(&answer.json());
    let lineage = expect::lineage_headers(&answer.headers);
    assert_eq!(
        (lineage.provider.as_str(), lineage.model.as_str()),
        ("backup", "b")
    );
    let attempts_header = answer
        .header("x-aratta-attempts")
        .expect("x-aratta-attempts");
    assert!(
        attempts_header.contains("local") && attempts_header.contains("backup"),
        "x-aratta-attempts: {attempts_header}"
    );
    assert_eq!(first.chat_requests().len(), 1);
    assert_eq!(first.last_chat_request().model(), Some("a"));
    assert_eq!(backup.last_chat_request().model(), Some("b"));

    let body = Answer::read(gateway.post_json("/api/v1/chat", &hello("fast")).await)
        .await
        .assert_status(200)
        .json();
    let tried = attempts(&body["lineage"]);
    assert_eq!(tried.len(), 2, "{tried:?}");
    assert_eq!((tried[0].0.as_str(), tried[0].1.as_str()), ("local", "a"));
    assert_ne!(tried[0].2, "ok", "the failed attempt says why: {tried:?}");
    assert_eq!(tried[1], ("backup".into(), "b".into(), "ok".into()));
    assert_eq!(body["lineage"]["provider"], "backup");
}

#[tokio::test]
async fn a_rate_limited_first_provider_falls_back() {
    let (first, backup, gateway) = setup(Script::always(Behaviour::Error(429))).await;
    let answer = Answer::read(
        gateway
            .post_json("/v1/chat/completions", &hello("fast"))
            .await,
    )
    .await;
    answer.assert_status(200);
    assert_eq!(expect::lineage_headers(&answer.headers).provider, "backup");
    assert_eq!(first.chat_requests().len(), 1);
    assert_eq!(backup.chat_requests().len(), 1);
}

#[tokio::test]
async fn an_invalid_request_does_not_fall_back() {
    let (first, backup, gateway) = setup(Script::always(Behaviour::Error(400))).await;
    let answer = Answer::read(
        gateway
            .post_json("/v1/chat/completions", &hello("fast"))
            .await,
    )
    .await;
    let text = expect::error_answer(&answer, 4);
    assert_eq!(answer.status.as_u16(), 400, "{}", answer.text);
    assert!(
        text.contains("messages[0].content"),
        "the provider's reason reaches the client: {}",
        answer.text
    );
    assert_eq!(first.chat_requests().len(), 1);
    assert!(
        backup.chat_requests().is_empty(),
        "a request the provider called malformed must not be retried elsewhere"
    );
}

#[tokio::test]
async fn a_stream_falls_back_before_its_first_byte() {
    let (first, backup, gateway) = setup(Script::always(Behaviour::Error(503))).await;
    let mut request = hello("fast");
    request["stream"] = json!(true);
    let response = gateway.post_json("/v1/chat/completions", &request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        expect::lineage_headers(response.headers()).provider,
        "backup"
    );
    let read = sse::read(response, Duration::from_secs(20)).await;
    assert!(
        read.events.last().is_some_and(sse::SseEvent::is_done),
        "{}",
        read.raw
    );
    let text: String = read
        .json_events()
        .iter()
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(text, "Hello! How can I assist you today?");
    assert_eq!(first.chat_requests().len(), 1);
    assert_eq!(backup.chat_requests().len(), 1);
}

#[tokio::test]
async fn when_every_target_fails_the_error_names_the_alias_and_each_attempt_was_made() {
    let first = MockUpstream::start(Script::always(Behaviour::Error(503))).await;
    let second = MockUpstream::start(Script::always(Behaviour::Error(500))).await;
    let config = Config::local(&first.base_url())
        .provider(Provider::new("backup", &second.base_url()).adapter("local"))
        .alias("fast", &["local:a", "backup:b"]);
    let gateway = Gateway::start(&config).await;
    let answer = Answer::read(
        gateway
            .post_json("/v1/chat/completions", &hello("fast"))
            .await,
    )
    .await;
    let text = expect::error_answer(&answer, 5);
    assert!(
        text.contains("fast"),
        "the error names the alias: {}",
        answer.text
    );
    assert_eq!(first.chat_requests().len(), 1);
    assert_eq!(second.chat_requests().len(), 1);
}
