//! What an adapter declares in `describe` grants it nothing: variants of the misbehaving
//! adapter (`bins::misbehaving_variant`) that declare a loopback default base URL get neither
//! egress there nor the credential; a hot swap that changes the declaration is refused and the
//! serving version stays; a file overriding a built-in with another declaration is refused at
//! startup, and one declaring the same is verified with a real call like a hot swap; either
//! refusal leaves the built-in serving.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aratta_tests::bins;
use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::{self, Answer};
use aratta_tests::gateway::Gateway;
use aratta_tests::mock::{MockUpstream, Script};
use serde_json::{Value, json};

/// The variable the misbehaving provider reads its credential from.
const KEY_VAR: &str = "MISBEHAVING_API_KEY";
/// Where the `declare-loopback` variant says its provider lives.
const DECLARED_PORT: u16 = 47913;

/// Counts connections to the port the variant declares; panics when the port is taken.
async fn listen_on_declared_port() -> Arc<AtomicUsize> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", DECLARED_PORT))
        .await
        .unwrap_or_else(|e| panic!("this test needs 127.0.0.1:{DECLARED_PORT} free: {e}"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    accepted
}

async fn chat(gateway: &Gateway, model: &str) -> Answer {
    let request = json!({"model": model, "messages": [{"role": "user", "content": "go"}]});
    Answer::read(gateway.post_json("/api/v1/chat", &request).await).await
}

/// `GET /api/v1/adapters`, the entry named `name`, and the events.
async fn adapter_state(gateway: &Gateway, name: &str) -> (Value, Vec<Value>) {
    let all = Answer::read(gateway.get("/api/v1/adapters").await)
        .await
        .assert_status(200)
        .json();
    let entry = all["adapters"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no adapter {name}: {all}"));
    let events = all["events"].as_array().cloned().unwrap_or_default();
    (entry, events)
}

#[tokio::test]
async fn a_declared_loopback_default_gets_no_egress_and_no_key() {
    let accepted = listen_on_declared_port().await;
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::local(&mock.base_url()).raw(&format!(
        "[providers.misbehaving]\napi_key_env = \"{KEY_VAR}\"\n"
    ));
    let gateway = Gateway::builder(&config)
        .adapter_file(&bins::misbehaving_variant("declare-loopback"))
        .env(KEY_VAR, "sk-declared")
        .start()
        .await;
    let logs = gateway.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("misbehaving") && l.contains("providers.misbehaving.base_url")),
        "serve names the key to set at start:\n{logs}"
    );
    for model in ["misbehaving:echo-headers", "misbehaving:ok"] {
        let answer = chat(&gateway, model).await;
        let text = expect::error_answer(&answer, 5);
        assert!(
            text.contains("providers.misbehaving.base_url"),
            "the error names the config key: {}",
            answer.text
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "nothing connected to the address the adapter declared"
    );
    gateway.assert_answers("local:m").await;
}

#[tokio::test]
async fn a_hot_swap_that_changes_the_declared_base_url_is_refused() {
    // Built first: a build can take a minute, and the gateway need not wait idle meanwhile.
    let variant = std::fs::read(bins::misbehaving_variant("declare-loopback")).unwrap();
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::new()
        .provider(Provider::new("misbehaving", &mock.base_url()).api_key_env(KEY_VAR))
        .raw("[reload]\ndebounce_ms = 100\n");
    let gateway = Gateway::builder(&config)
        .adapter_file(&bins::misbehaving_adapter())
        .env(KEY_VAR, "k")
        .start()
        .await;
    let (serving, _) = adapter_state(&gateway, "misbehaving").await;
    let dir = gateway.home().join("adapters");
    std::fs::write(dir.join(".swap.tmp"), &variant).unwrap();
    std::fs::rename(dir.join(".swap.tmp"), dir.join("misbehaving-2.wasm")).unwrap();
    let mut refused = None;
    for _ in 0..200 {
        let (_, events) = adapter_state(&gateway, "misbehaving").await;
        refused = events.into_iter().find(|e| e["action"] == "refused");
        if refused.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.unwrap_or_else(|| panic!("no refusal:\n{}", gateway.logs()));
    let detail = refused["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("default base URL") && detail.contains("127.0.0.1:47913"),
        "the refusal says what changed: {refused}"
    );
    assert_eq!(refused["adapter"], "misbehaving");
    let (now, _) = adapter_state(&gateway, "misbehaving").await;
    assert_eq!(
        now["sha256"], serving["sha256"],
        "the serving version stays"
    );
    let answer = chat(&gateway, "misbehaving:ok").await;
    answer.assert_status(200);
    assert!(dir.join("misbehaving-2.wasm.refused").exists(), "set aside");
}

#[tokio::test]
async fn a_file_overriding_a_built_in_with_another_declaration_is_refused_at_startup() {
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = Gateway::builder(&Config::local(&mock.base_url()))
        .adapter_file(&bins::misbehaving_variant("as-local"))
        .start()
        .await;
    let logs = gateway.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("override of the built-in adapter 'local'")
                && l.contains("default base URL")),
        "the refusal is logged with the reason:\n{logs}"
    );
    let (local, _) = adapter_state(&gateway, "local").await;
    assert_eq!(local["source"], "built-in", "{local}");
    // The built-in answers with the mock's completion; the impostor would have said "ok".
    gateway.assert_answers("local:m").await;
    assert!(
        !mock.chat_requests().is_empty(),
        "the built-in called the upstream"
    );
}

#[tokio::test]
async fn a_file_overriding_a_built_in_is_verified_like_a_hot_swap_at_startup() {
    let mock = MockUpstream::start(Script::new()).await;
    // It declares what the built-in `local` does, so only the real call can refuse it: its
    // chat with model `panic` panics.
    let config = Config::local(&mock.base_url()).raw("[reload.verify_chat]\nlocal = \"panic\"\n");
    let gateway = Gateway::builder(&config)
        .adapter_file(&bins::misbehaving_variant("as-local,local-declaration"))
        .start()
        .await;
    let (local, events) = adapter_state(&gateway, "local").await;
    assert_eq!(local["source"], "built-in", "{local}\n{}", gateway.logs());
    let refused = events
        .iter()
        .find(|e| e["action"] == "refused" && e["adapter"] == "local")
        .unwrap_or_else(|| panic!("a refusal is reported: {events:?}"));
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("verification failed"),
        "{refused}"
    );
    let aside = std::fs::read_dir(gateway.home().join("adapters"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".wasm.refused"));
    assert!(
        aside,
        "the refused file is set aside so a restart does not load it"
    );
    gateway.assert_answers("local:m").await;
}
