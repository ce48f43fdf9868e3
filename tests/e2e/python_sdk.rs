//! The official Python SDKs against the gateway, each checked by its script in `tests/sdk/`:
//! OpenAI (`openai_sdk_check.py`: a chat, a stream, a tool call plain and streamed, embeddings),
//! Anthropic (`anthropic_sdk_check.py`) and Google Gen AI (`genai_sdk_check.py`), the last two
//! through Aratta's native routes to an OpenAI-format, an Anthropic and a Gemini upstream: chat,
//! streaming, a tool round trip, errors and model listing. The SDKs are installed into
//! `target/sdk-venv` from `tests/sdk/requirements.txt` in one pip run (once; again when the
//! file changes). Fails loudly when python3 is missing.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use aratta_tests::config::{Config, Provider};
use aratta_tests::conformance::{self, ConformanceMock, fixture, fixture_json};
use aratta_tests::gateway::{Gateway, local_gateway};
use aratta_tests::mock::{
    Behaviour, DEFAULT_DIMENSIONS, MockUpstream, Script, embedding_for, fixtures,
};
use aratta_tests::venv;
use serde_json::json;

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk")
}

/// `target/sdk-venv` with the pinned SDKs installed (set up once per process); returns its python.
fn sdk_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            venv::install("sdk-venv", &sdk_dir().join("requirements.txt")).join("bin/python")
        })
        .clone()
}

/// What the script must find, from the fixtures the mock serves. `provider` is checked against
/// `x-aratta-provider` when given; `prefix` is put before every model name.
fn expectations(prefix: &str, provider: Option<&str>) -> serde_json::Value {
    let chat = fixtures::json(fixtures::CHAT_COMPLETION);
    let tool = fixtures::json(fixtures::TOOL_CALL);
    let call = &tool["choices"][0]["message"]["tool_calls"][0];
    let arguments: serde_json::Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    let embeddings: serde_json::Map<_, _> = ["alpha", "beta gamma"]
        .iter()
        .map(|t| (t.to_string(), json!(embedding_for(t, DEFAULT_DIMENSIONS))))
        .collect();
    json!({
        "provider": provider,
        "chat_model": format!("{prefix}llama3.2"),
        "text": chat["choices"][0]["message"]["content"],
        "prompt_tokens": chat["usage"]["prompt_tokens"],
        "cached_tokens": chat["usage"]["prompt_tokens_details"]["cached_tokens"],
        "tool_model": format!("{prefix}{TOOL_MODEL}"),
        "tool_call_id": call["id"],
        "tool_arguments": arguments,
        "embedding_model": format!("{prefix}nomic-embed-text"),
        "embeddings": embeddings,
    })
}

/// The model the mock answers with a tool call.
const TOOL_MODEL: &str = "qwen2.5-coder:7b";

/// Runs the OpenAI SDK check against `base_url`; panics with its output (and `context`) on failure.
async fn run_check(base_url: &str, expectations: &serde_json::Value, context: &dyn Fn() -> String) {
    run_script("openai_sdk_check.py", base_url, expectations, context).await;
}

/// Runs `tests/sdk/<script>` against `base_url`; panics with its output (and `context`) on failure.
async fn run_script(
    script: &str,
    base_url: &str,
    expectations: &serde_json::Value,
    context: &dyn Fn() -> String,
) {
    let python = tokio::task::spawn_blocking(sdk_python)
        .await
        .expect("venv setup");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), expectations.to_string()).unwrap();
    let run = tokio::process::Command::new(&python)
        .arg(sdk_dir().join(script))
        .arg(base_url)
        .arg(file.path())
        .env("NO_PROXY", "*")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the SDK check finishes within 120 s")
        .expect("run the SDK check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("all checks passed"),
        "{script} failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        context()
    );
    // Each step's time, for `--nocapture` runs.
    println!("{script}:\n{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_openai_python_sdk_works_against_the_gateway() {
    let (mock, gateway) =
        local_gateway(Script::new().with_model(TOOL_MODEL, Behaviour::ToolCall)).await;
    let logs = || format!("--- gateway ---\n{}", gateway.logs());
    run_check(
        &gateway.url("/v1"),
        &expectations("local:", Some("local")),
        &logs,
    )
    .await;
    // The SDK's requests really went through to the upstream: chat, stream, two tool calls,
    // two embedding calls.
    assert_eq!(mock.chat_requests().len(), 4);
    assert_eq!(mock.requests_to("/v1/embeddings").len(), 2);
}

/// The same check straight against the mock upstream: the official SDK parses every answer the
/// mock serves, so the mock speaks the real wire format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_openai_python_sdk_accepts_the_mock_upstream() {
    let mock = MockUpstream::start(Script::new().with_model(TOOL_MODEL, Behaviour::ToolCall)).await;
    run_check(&mock.base_url(), &expectations("", None), &String::new).await;
    assert_eq!(mock.chat_requests().len(), 4);
}

/// A gateway in front of three upstreams, one per wire format: `local` (OpenAI format, the
/// scripted mock), `anthropic` and `google` (the conformance mocks, which answer by the case
/// named as the model: `plain`, `stream-tools`, `e429`, ...).
struct ThreeWires {
    local: MockUpstream,
    _anthropic: ConformanceMock,
    _google: ConformanceMock,
    gateway: Gateway,
}

async fn three_wires() -> ThreeWires {
    let local =
        MockUpstream::start(Script::new().with_model(TOOL_MODEL, Behaviour::ToolCall)).await;
    let mut config = Config::local(&local.base_url()).raw("[breaker]\nfailure_threshold = 1000");
    let mut mocks = Vec::new();
    let mut env = Vec::new();
    for name in ["anthropic", "google"] {
        let spec = conformance::spec(name);
        let mock = ConformanceMock::start(spec).await;
        let var = spec.key_env.expect("cloud providers take a key");
        config = config.provider(Provider::new(name, &mock.base_url()).api_key_env(var));
        env.push((var, spec.key().expect("a test key")));
        mocks.push(mock);
    }
    let mut builder = Gateway::builder(&config);
    for (var, key) in &env {
        builder = builder.env(var, key);
    }
    let gateway = builder.start().await;
    let google = mocks.pop().expect("google mock");
    let anthropic = mocks.pop().expect("anthropic mock");
    ThreeWires {
        local,
        _anthropic: anthropic,
        _google: google,
        gateway,
    }
}

/// The `data:` JSON objects of an SSE fixture.
fn sse_data(dir: &str, file: &str) -> Vec<serde_json::Value> {
    fixture(dir, file)
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

/// What both native-SDK scripts must find, from the fixtures all three upstreams serve.
fn native_expectations() -> serde_json::Value {
    let chat = fixtures::json(fixtures::CHAT_COMPLETION);
    let tool = fixtures::json(fixtures::TOOL_CALL);
    let call = &tool["choices"][0]["message"]["tool_calls"][0];
    let arguments: serde_json::Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    let anthropic_stream = sse_data("anthropic", "message.stream.sse");
    let delta = |kind: &str, field: &str, events: &[serde_json::Value]| -> String {
        events
            .iter()
            .filter(|e| e["type"] == "content_block_delta" && e["delta"]["type"] == kind)
            .filter_map(|e| e["delta"][field].as_str())
            .collect()
    };
    let anthropic_tool_json = delta(
        "input_json_delta",
        "partial_json",
        &sse_data("anthropic", "tool_use.stream.sse"),
    );
    let google_stream_text: String = sse_data("google", "stream_text.sse")
        .iter()
        .filter_map(|c| c["candidates"][0]["content"]["parts"].as_array().cloned())
        .flatten()
        .filter(|p| p["thought"] != true)
        .filter_map(|p| p["text"].as_str().map(str::to_owned))
        .collect();
    let google_chat = fixture_json("google", "chat.json");
    let embeddings: serde_json::Map<_, _> = ["alpha", "beta gamma"]
        .iter()
        .map(|t| (t.to_string(), json!(embedding_for(t, DEFAULT_DIMENSIONS))))
        .collect();
    json!({
        "local_model": "local:llama3.2",
        "local_text": chat["choices"][0]["message"]["content"],
        "local_prompt_tokens": chat["usage"]["prompt_tokens"],
        "local_cached_tokens": chat["usage"]["prompt_tokens_details"]["cached_tokens"],
        "tool_model": format!("local:{TOOL_MODEL}"),
        "tool_call_id": call["id"],
        "tool_arguments": arguments,
        "anthropic_text": fixture_json("anthropic", "message.json")["content"][0]["text"],
        "anthropic_stream_text": delta("text_delta", "text", &anthropic_stream),
        "anthropic_tool_arguments": serde_json::from_str::<serde_json::Value>(&anthropic_tool_json).unwrap(),
        "google_text": google_chat["candidates"][0]["content"]["parts"][0]["text"],
        "google_cached_tokens": google_chat["usageMetadata"]["cachedContentTokenCount"],
        "google_stream_text": google_stream_text,
        "embedding_model": "local:nomic-embed-text",
        "embeddings": embeddings,
    })
}

/// The OpenAI-format upstream received the tool round trip's second turn: the call, then its
/// result as a `tool` message answering the call's id.
fn assert_tool_result_reached_upstream(local: &MockUpstream) {
    let expected = native_expectations();
    let id = expected["tool_call_id"].as_str().unwrap();
    let sent = local.chat_requests();
    let turn = sent
        .iter()
        .map(|r| r.json_body()["messages"].clone())
        .find(|m| {
            m.as_array()
                .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"))
        })
        .unwrap_or_else(|| panic!("no request with a tool message reached the upstream: {sent:?}"));
    let messages = turn.as_array().unwrap();
    let tool = messages.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(tool["tool_call_id"], id, "{turn}");
    assert!(tool["content"].as_str().unwrap().contains("18C"), "{turn}");
    let assistant = messages.iter().find(|m| m["role"] == "assistant").unwrap();
    assert_eq!(assistant["tool_calls"][0]["id"], id, "{turn}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_anthropic_python_sdk_works_against_the_gateway() {
    let wires = three_wires().await;
    let logs = || format!("--- gateway ---\n{}", wires.gateway.logs());
    run_script(
        "anthropic_sdk_check.py",
        wires.gateway.base_url(),
        &native_expectations(),
        &logs,
    )
    .await;
    assert_tool_result_reached_upstream(&wires.local);
    let first = &wires.local.chat_requests()[0];
    assert_eq!(first.json_body()["messages"][0]["role"], "system");
    assert_eq!(first.json_body()["user"], "user-1");
    // Without Anthropic's headers, `/v1/models` is still OpenAI's list.
    let openai: serde_json::Value = wires.gateway.get("/v1/models").await.json().await.unwrap();
    assert_eq!(openai["object"], "list", "{openai}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_google_genai_python_sdk_works_against_the_gateway() {
    let wires = three_wires().await;
    let logs = || format!("--- gateway ---\n{}", wires.gateway.logs());
    run_script(
        "genai_sdk_check.py",
        wires.gateway.base_url(),
        &native_expectations(),
        &logs,
    )
    .await;
    assert_tool_result_reached_upstream(&wires.local);
    let embedded = wires.local.requests_to("/v1/embeddings");
    assert_eq!(embedded.len(), 1, "one batch, one upstream call");
    assert_eq!(
        embedded[0].json_body()["input"],
        json!(["alpha", "beta gamma"])
    );
}

/// Client keys through all three official SDKs, on a server that requires them: each SDK's
/// own key header carries the key, and each raises its own authentication or permission error
/// (with Aratta's message) for a placeholder, a revoked key and a model the key may not use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_sdks_send_client_keys_and_raise_their_own_errors() {
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::local(&mock.base_url()).raw("[server]\nrequire_client_keys = true\n");
    let gateway = Gateway::start(&config).await;
    let make = |spec: serde_json::Value| {
        let gateway = &gateway;
        async move {
            let made: serde_json::Value = gateway
                .post_json("/api/v1/keys", &spec)
                .await
                .json()
                .await
                .unwrap();
            made
        }
    };
    let good = make(json!({"name": "good"})).await;
    let limited = make(json!({"name": "limited", "models": ["local:llama3.2"]})).await;
    let revoked = make(json!({"name": "revoked"})).await;
    let id = revoked["id"].as_str().unwrap();
    let deleted = gateway
        .client()
        .delete(gateway.url(&format!("/api/v1/keys/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let keys = json!({
        "good": good["secret"],
        "limited": limited["secret"],
        "revoked": revoked["secret"],
        "model": "local:llama3.2",
        "other_model": "local:other",
    });
    let logs = || format!("--- gateway ---\n{}", gateway.logs());
    run_script("client_keys_check.py", gateway.base_url(), &keys, &logs).await;
    assert_eq!(
        mock.chat_requests().len(),
        4,
        "only the answered requests reached the provider"
    );
}
