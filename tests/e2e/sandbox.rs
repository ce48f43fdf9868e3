//! The sandbox, proved with the misbehaving adapter (`tests/adapters/misbehaving`): outbound HTTP
//! only to granted hosts, the credential added by the host and never visible to the adapter,
//! panics / endless loops / memory hogs contained as clear errors, and broken adapter files
//! refused at startup without taking the server down.

use std::time::{Duration, Instant};

use aratta_tests::bins;
use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::{Gateway, GatewayBuilder};
use aratta_tests::mock::{MockUpstream, Script, sha256_hex};
use serde_json::{Value, json};

/// The variable the misbehaving provider reads its credential from.
const KEY_VAR: &str = "MISBEHAVING_API_KEY";

/// A gateway with `local` and `misbehaving` providers, both pointing at `mock`.
fn builder(mock: &MockUpstream, config: Config) -> GatewayBuilder {
    let config = config
        .provider(Provider::new("local", &mock.base_url()))
        .provider(Provider::new("misbehaving", &mock.base_url()).api_key_env(KEY_VAR));
    Gateway::builder(&config).adapter_file(&bins::misbehaving_adapter())
}

/// Asks the misbehaving adapter to act out `model` through SCRI.
async fn misbehave(gateway: &Gateway, model: &str, extra: Option<Value>) -> Answer {
    let mut request = json!({
        "model": format!("misbehaving:{model}"),
        "messages": [{"role": "user", "content": "go"}]
    });
    if let Some(extra) = extra {
        request["extra"] = extra;
    }
    Answer::read(gateway.post_json("/api/v1/chat", &request).await).await
}

/// The text of a SCRI answer's first block.
fn answer_text(answer: &Answer) -> String {
    let body = answer.json();
    body["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text block: {body}"))
        .to_string()
}

/// Checks a contained adapter failure: a 5xx JSON error that names the adapter and says what
/// happened with one of `reasons` (lower case).
fn assert_contained(answer: &Answer, what: &str, reasons: &[&str]) {
    let text = expect::error_answer(answer, 5);
    assert!(
        text.contains("misbehaving"),
        "the error for {what} names the adapter: {}",
        answer.text
    );
    assert!(
        reasons.iter().any(|r| text.contains(r)),
        "the error for {what} says so (one of {reasons:?}): {}",
        answer.text
    );
}

async fn exfiltration_is_denied(target_host: &str) {
    let granted = MockUpstream::start(Script::new()).await;
    let other = MockUpstream::start(Script::new()).await;
    let gateway = builder(&granted, Config::new())
        .env(KEY_VAR, "k")
        .start()
        .await;
    let url = format!("http://{target_host}:{}/v1/steal", other.addr().port());
    let answer = misbehave(&gateway, "exfiltrate", Some(json!({"url": url}))).await;
    answer.assert_status(200);
    let text = answer_text(&answer);
    assert!(
        text.starts_with("exfiltrate: request failed:") && text.contains("HttpRequestDenied"),
        "the adapter saw an ordinary denial: {text}"
    );
    assert!(
        other.requests().is_empty(),
        "the ungranted host received {:?}",
        other.requests()
    );
    let logs = gateway.logs().to_lowercase();
    let target = format!("{target_host}:{}", other.addr().port());
    assert!(
        logs.lines()
            .any(|l| l.contains("denied") && l.contains(&target)),
        "the host logs the denial naming {target}:\n{logs}"
    );
}

#[tokio::test]
async fn an_outbound_request_to_an_ungranted_host_is_denied() {
    exfiltration_is_denied("localhost").await;
}

#[tokio::test]
async fn an_outbound_request_to_another_port_of_the_granted_host_is_denied() {
    exfiltration_is_denied("127.0.0.1").await;
}

#[tokio::test]
async fn a_missing_credential_is_a_clear_error_naming_the_variable() {
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = builder(&mock, Config::new()).start().await;
    let answer = misbehave(&gateway, "echo-headers", None).await;
    assert!(answer.status.as_u16() >= 400, "{}", answer.text);
    expect::error_message(&answer.json());
    assert!(
        answer.text.contains(KEY_VAR),
        "names {KEY_VAR}: {}",
        answer.text
    );
    assert!(
        mock.requests_to("/v1/echo").is_empty(),
        "nothing is sent without the credential"
    );
}

#[tokio::test]
async fn the_host_injects_the_credential_and_the_adapter_never_sees_it() {
    let mock = MockUpstream::start(Script::new()).await;
    let secret = format!("sk-test-{}", std::process::id());
    let gateway = builder(&mock, Config::new())
        .env(KEY_VAR, &secret)
        .start()
        .await;
    let answer = misbehave(&gateway, "echo-headers", None).await;
    answer.assert_status(200);
    assert!(
        !answer.text.contains(&secret),
        "the credential leaked into the adapter's answer"
    );
    let report: Value = serde_json::from_str(&answer_text(&answer)).expect("the adapter's report");

    let received = mock.requests_to("/v1/echo");
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].header_values("x-test-key"),
        [secret.as_str()],
        "the host adds exactly the configured credential"
    );
    assert_eq!(
        received[0].header("authorization"),
        None,
        "auth is header(x-test-key)"
    );
    // The request the adapter made is the one that carried it.
    assert_eq!(
        report["echo"]["headers"]["x-test-key"][0]["sha256"],
        sha256_hex(&secret)
    );
    let env = report["env"].as_array().expect("the adapter's environment");
    assert!(
        env.iter()
            .all(|v| !v.as_str().unwrap_or_default().contains(KEY_VAR)),
        "the adapter's environment exposes {KEY_VAR}: {env:?}"
    );
}

#[tokio::test]
async fn a_panicking_adapter_is_a_clear_5xx_and_the_server_keeps_serving() {
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = builder(&mock, Config::new())
        .env(KEY_VAR, "k")
        .start()
        .await;
    let answer = misbehave(&gateway, "panic", None).await;
    assert_contained(&answer, "a panic", &["panic", "crash", "trap"]);
    gateway.assert_answers("local:m").await;
    let again = misbehave(&gateway, "ok", None).await;
    again.assert_status(200);
    assert_eq!(
        answer_text(&again),
        "ok",
        "the adapter works again after a panic"
    );
}

#[tokio::test]
async fn an_endless_loop_is_stopped_by_the_cpu_budget() {
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::new().behaviour("adapter_fuel", "200000000");
    let gateway = builder(&mock, config).env(KEY_VAR, "k").start().await;
    let started = Instant::now();
    let answer = misbehave(&gateway, "spin", None).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "stopped in {:?}",
        started.elapsed()
    );
    assert_contained(&answer, "an endless loop", &["cpu", "fuel"]);
    gateway.assert_answers("local:m").await;
}

#[tokio::test]
async fn an_adapter_that_allocates_without_end_hits_the_memory_limit() {
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::new().behaviour("adapter_memory_mib", "32");
    let gateway = builder(&mock, config).env(KEY_VAR, "k").start().await;
    let answer = misbehave(&gateway, "alloc", None).await;
    assert_contained(&answer, "memory exhaustion", &["memory"]);
    gateway.assert_answers("local:m").await;
}

#[tokio::test]
async fn corrupt_and_core_module_files_are_refused_and_local_still_serves() {
    // Deterministic noise with no wasm header.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    // The smallest valid core module: magic and version, no sections.
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = Gateway::builder(&Config::local(&mock.base_url()))
        .adapter_bytes("corrupt.wasm", noise)
        .adapter_bytes("core.wasm", core_module)
        .start()
        .await;
    let logs = gateway.logs();
    let corrupt = logs
        .lines()
        .find(|l| l.contains("corrupt.wasm"))
        .unwrap_or_else(|| panic!("no log line names corrupt.wasm:\n{logs}"));
    let lower = corrupt.to_lowercase();
    assert!(
        lower.contains("invalid") || lower.contains("not a"),
        "the line says why: {corrupt}"
    );
    let core = logs
        .lines()
        .find(|l| l.contains("core.wasm"))
        .unwrap_or_else(|| panic!("no log line names core.wasm:\n{logs}"));
    assert!(
        core.to_lowercase().contains("component"),
        "the line says it is not a component: {core}"
    );
    gateway.assert_answers("local:m").await;
}
