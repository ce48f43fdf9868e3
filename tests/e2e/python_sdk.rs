//! The official OpenAI Python SDK against the gateway: a chat, a stream, a tool call (plain and
//! streamed) and embeddings, checked by `tests/sdk/openai_sdk_check.py`. The SDK is installed
//! into `target/sdk-venv` from `tests/sdk/requirements.txt` (once; again when the file changes).
//! Fails loudly when python3 is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use aratta_tests::bins;
use aratta_tests::gateway::local_gateway;
use aratta_tests::mock::{
    Behaviour, DEFAULT_DIMENSIONS, MockUpstream, Script, embedding_for, fixtures, sha256_hex,
};
use serde_json::json;

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk")
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot {what}: {e}"));
    assert!(
        output.status.success(),
        "cannot {what} ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `target/sdk-venv` with the pinned SDK installed (set up once per process); returns its python.
fn sdk_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(setup_venv).clone()
}

fn setup_venv() -> PathBuf {
    let version = Command::new("python3").arg("--version").output();
    match version {
        Ok(out) if out.status.success() => {}
        other => panic!(
            "python3 is required for the OpenAI SDK test and was not found or failed: {other:?}"
        ),
    }
    let venv = bins::target_dir().join("sdk-venv");
    let python = venv.join("bin/python");
    if !python.is_file() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "create the venv",
        );
    }
    let requirements = sdk_dir().join("requirements.txt");
    let wanted = sha256_hex(&std::fs::read_to_string(&requirements).expect("requirements.txt"));
    let stamp = venv.join(".requirements.sha256");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "-q",
                    "-r",
                ])
                .arg(&requirements),
            "pip-install tests/sdk/requirements.txt",
        );
        std::fs::write(&stamp, &wanted).expect("write the venv stamp");
    }
    python
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

/// Runs the SDK check against `base_url`; panics with its output (and `context`) on failure.
async fn run_check(base_url: &str, expectations: &serde_json::Value, context: &dyn Fn() -> String) {
    let python = tokio::task::spawn_blocking(sdk_python)
        .await
        .expect("venv setup");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), expectations.to_string()).unwrap();
    let run = tokio::process::Command::new(&python)
        .arg(sdk_dir().join("openai_sdk_check.py"))
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
        "the OpenAI SDK check failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        context()
    );
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
