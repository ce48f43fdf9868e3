//! Bare model names routed by priority: `model = "llama3.2"` (no provider, not an alias) goes
//! to every provider whose model list has it, `local` first, falling back like an alias; the
//! lists load in the background, and a name nobody lists is each dialect's 404.
//!
//! Both mocks list Ollama's `llama3.2:latest` (`fixtures/openai-compatible/models.json`), which
//! an untagged `llama3.2` matches.

use std::time::{Duration, Instant};

use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::{Gateway, hello};
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use aratta_tests::sse;
use serde_json::{Value, json};

/// The id both mocks list for `llama3.2`.
const LISTED: &str = "llama3.2:latest";

/// Waits until the gateway has fetched the model list of each of `providers`.
async fn wait_for_lists(gateway: &Gateway, providers: &[&str]) {
    for provider in providers {
        let needle = format!("provider={provider} ");
        gateway
            .wait_for_log(&["model list updated", &needle], Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("no model list from {provider}:\n{}", gateway.logs()));
    }
}

/// `local` (priority 0, the default for the local adapter) and `backup` (priority 100),
/// both listing `llama3.2:latest`. By name `backup` would come first, so the order seen is
/// priority's. Returns once the gateway has both lists.
async fn two_providers(local: Script, config: Config) -> (MockUpstream, MockUpstream, Gateway) {
    let local = MockUpstream::start(local).await;
    let backup = MockUpstream::start(Script::new()).await;
    let config = config
        .provider(Provider::new("local", &local.base_url()))
        .provider(
            Provider::new("backup", &backup.base_url())
                .adapter("local")
                .raw("priority", "100"),
        );
    let gateway = Gateway::start(&config).await;
    wait_for_lists(&gateway, &["local", "backup"]).await;
    (local, backup, gateway)
}

/// (provider, model, outcome) of each `lineage.attempts` entry of a SCRI answer.
fn attempts(body: &Value) -> Vec<(String, String, String)> {
    body["lineage"]["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("lineage.attempts: {body}"))
        .iter()
        .map(|a| {
            let field = |k: &str| a[k].as_str().unwrap_or_default().to_string();
            (field("provider"), field("model"), field("outcome"))
        })
        .collect()
}

async fn scri_chat(gateway: &Gateway, model: &str) -> Value {
    Answer::read(gateway.post_json("/api/v1/chat", &hello(model)).await)
        .await
        .assert_status(200)
        .json()
}

#[tokio::test]
async fn a_bare_name_goes_to_the_listing_provider_with_the_lowest_priority() {
    let (local, backup, gateway) = two_providers(Script::new(), Config::new()).await;
    let answer = Answer::read(
        gateway
            .post_json("/v1/chat/completions", &hello("llama3.2"))
            .await,
    )
    .await;
    answer.assert_status(200);
    expect::chat_completion(&answer.json());
    let lineage = expect::lineage_headers(&answer.headers);
    assert_eq!(
        (lineage.provider.as_str(), lineage.model.as_str()),
        ("local", LISTED)
    );
    assert_eq!(local.last_chat_request().model(), Some(LISTED));

    let body = scri_chat(&gateway, LISTED).await;
    assert_eq!(
        attempts(&body),
        [("local".into(), LISTED.into(), "ok".into())]
    );
    assert!(backup.chat_requests().is_empty());
}

#[tokio::test]
async fn a_failing_first_provider_falls_back_to_the_next_and_the_lineage_shows_both() {
    // `local` lists the model but fails every call to it (its list itself comes fine).
    let failing = Script::new().with_model(LISTED, Behaviour::Error(503));
    let (local, backup, gateway) = two_providers(failing, Config::new()).await;

    let answer = Answer::read(
        gateway
            .post_json("/v1/chat/completions", &hello("llama3.2"))
            .await,
    )
    .await;
    answer.assert_status(200);
    expect::chat_completion(&answer.json());
    assert_eq!(expect::lineage_headers(&answer.headers).provider, "backup");
    let tried = answer
        .header("x-aratta-attempts")
        .expect("x-aratta-attempts");
    assert!(
        tried.contains("local") && tried.contains("backup"),
        "x-aratta-attempts: {tried}"
    );

    let body = scri_chat(&gateway, "llama3.2").await;
    let tried = attempts(&body);
    assert_eq!(tried.len(), 2, "{tried:?}");
    assert_eq!(
        (tried[0].0.as_str(), tried[0].1.as_str()),
        ("local", LISTED)
    );
    assert_ne!(tried[0].2, "ok", "the failed attempt says why: {tried:?}");
    assert_eq!(tried[1], ("backup".into(), LISTED.into(), "ok".into()));

    // A stream falls back the same way before its first event.
    let mut request = hello("llama3.2");
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
    assert_eq!(local.chat_requests().len(), 3);
    assert_eq!(backup.chat_requests().len(), 3);
}

#[tokio::test]
async fn a_provider_gone_away_keeps_its_list_and_its_requests_fall_back() {
    let config = Config::new().behaviour("model_list_refresh_seconds", "1");
    let (local, backup, gateway) = two_providers(Script::new(), config).await;
    // Connections to `local` are refused from now on; its next listing fails.
    drop(local);
    gateway
        .wait_for_log(
            &["model list not refreshed", "provider=local "],
            Duration::from_secs(20),
        )
        .await
        .unwrap_or_else(|| panic!("no failed listing of local:\n{}", gateway.logs()));

    // Its last good list stands, so it is still tried first, and the request falls back.
    let body = scri_chat(&gateway, "llama3.2").await;
    let tried = attempts(&body);
    assert_eq!(tried.len(), 2, "{tried:?}");
    assert_eq!(
        (tried[0].0.as_str(), tried[0].2.as_str()),
        ("local", "connection_error"),
        "{tried:?}"
    );
    assert_eq!(tried[1], ("backup".into(), LISTED.into(), "ok".into()));
    assert_eq!(body["lineage"]["provider"], "backup");
    assert_eq!(backup.chat_requests().len(), 1);
}

#[tokio::test]
async fn a_bare_name_nobody_lists_is_each_dialects_404() {
    let (local, _backup, gateway) = two_providers(Script::new(), Config::new()).await;
    let says_what_is_known = |text: &str| {
        assert!(text.contains("nosuchmodel"), "{text}");
        assert!(text.contains("local lists 3 models"), "{text}");
    };

    for route in ["/v1/chat/completions", "/api/v1/chat"] {
        let answer = Answer::read(gateway.post_json(route, &hello("nosuchmodel")).await).await;
        answer.assert_status(404);
        let body = answer.json();
        assert_eq!(body["error"]["type"], "not_found_error", "{route}: {body}");
        assert_eq!(body["error"]["code"], "model_not_found", "{route}: {body}");
        says_what_is_known(&expect::error_message(&body));
    }

    let anthropic = json!({"model": "nosuchmodel", "max_tokens": 8,
        "messages": [{"role": "user", "content": "hi"}]});
    let answer = Answer::read(gateway.post_json("/v1/messages", &anthropic).await).await;
    answer.assert_status(404);
    let body = answer.json();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "not_found_error", "{body}");
    says_what_is_known(body["error"]["message"].as_str().unwrap_or_default());

    let gemini = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    let answer = Answer::read(
        gateway
            .post_json("/v1beta/models/nosuchmodel:generateContent", &gemini)
            .await,
    )
    .await;
    answer.assert_status(404);
    let body = answer.json();
    assert_eq!(body["error"]["status"], "NOT_FOUND", "{body}");
    says_what_is_known(body["error"]["message"].as_str().unwrap_or_default());

    assert!(local.chat_requests().is_empty());
}

#[tokio::test]
async fn the_server_answers_while_a_model_list_is_still_loading() {
    // `slow` takes 20 s for everything, its model list included.
    let slow = MockUpstream::start(Script::always(Behaviour::Delay(Duration::from_secs(20)))).await;
    let local = MockUpstream::start(Script::new()).await;
    let config = Config::local(&local.base_url())
        .provider(Provider::new("slow", &slow.base_url()).adapter("local"));
    let started = Instant::now();
    let gateway = Gateway::start(&config).await;
    wait_for_lists(&gateway, &["local"]).await;

    gateway.assert_answers("local:m").await;
    gateway.assert_answers("llama3.2").await;
    let answer = Answer::read(
        gateway
            .post_json("/v1/chat/completions", &hello("nosuchmodel"))
            .await,
    )
    .await;
    answer.assert_status(404);
    let text = expect::error_message(&answer.json());
    assert!(
        text.contains("slow's model list is still loading"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "nothing waited for the slow list: {:?}",
        started.elapsed()
    );
}
