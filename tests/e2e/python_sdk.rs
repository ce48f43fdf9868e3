//! The official OpenAI Python SDK against the gateway: a chat, a stream, a tool call (plain and
//! streamed) and embeddings, checked by `tests/sdk/openai_sdk_check.py`. The SDK is installed
//! into `target/sdk-venv` from `tests/sdk/requirements.txt` (once; again when the file changes).
//! Fails loudly when python3 is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aratta_tests::bins;
use aratta_tests::gateway::local_gateway;
use aratta_tests::mock::{
    Behaviour, DEFAULT_DIMENSIONS, Script, embedding_for, fixtures, sha256_hex,
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

/// `target/sdk-venv` with the pinned SDK installed; returns its python.
fn sdk_python() -> PathBuf {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_openai_python_sdk_works_against_the_gateway() {
    let python = tokio::task::spawn_blocking(sdk_python)
        .await
        .expect("venv setup");
    let (mock, gateway) =
        local_gateway(Script::new().with_model("qwen2.5-coder:7b", Behaviour::ToolCall)).await;

    let chat = fixtures::json(fixtures::CHAT_COMPLETION);
    let tool = fixtures::json(fixtures::TOOL_CALL);
    let call = &tool["choices"][0]["message"]["tool_calls"][0];
    let inputs = ["alpha", "beta gamma"];
    let expectations = json!({
        "chat_model": "local:llama3.2",
        "text": chat["choices"][0]["message"]["content"],
        "prompt_tokens": chat["usage"]["prompt_tokens"],
        "cached_tokens": chat["usage"]["prompt_tokens_details"]["cached_tokens"],
        "tool_model": "local:qwen2.5-coder:7b",
        "tool_call_id": call["id"],
        "tool_arguments": serde_json::from_str::<serde_json::Value>(
            call["function"]["arguments"].as_str().unwrap()
        ).unwrap(),
        "embedding_model": "local:nomic-embed-text",
        "embeddings": inputs
            .iter()
            .map(|t| (t.to_string(), json!(embedding_for(t, DEFAULT_DIMENSIONS))))
            .collect::<serde_json::Map<_, _>>(),
    });
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), expectations.to_string()).unwrap();

    let script = sdk_dir().join("openai_sdk_check.py");
    let run = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(gateway.url("/v1"))
        .arg(file.path())
        .env("NO_PROXY", "*")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the SDK check finishes within 120 s")
        .expect("run the SDK check");
    assert!(
        output.status.success(),
        "the OpenAI SDK check failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- gateway ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        gateway.logs()
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("all checks passed"));
    // The SDK's requests really went through to the upstream: chat, stream, two tool calls,
    // two embedding calls.
    assert_eq!(mock.chat_requests().len(), 4);
    assert_eq!(mock.requests_to("/v1/embeddings").len(), 2);
}
