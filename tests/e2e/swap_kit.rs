//! Shared by the hot-swap and approval tests: the builds of the `versioned` test adapter
//! (`tests/adapters/versioned`, one build per feature), a gateway serving provider `main`
//! through it against a mock upstream, and helpers to drop files and read what serves.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use aratta_tests::bins;
use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::Answer;
use aratta_tests::gateway::Gateway;
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use serde_json::{Value, json};

/// The builds of the `versioned` adapter.
pub struct Builds {
    /// 1.0.0: works.
    pub v1: Vec<u8>,
    /// 2.0.0: works.
    pub v2: Vec<u8>,
    /// 3.0.0: its health check fails, so verification refuses it.
    pub bad_health: Vec<u8>,
    /// 4.0.0: passes verification, then every chat fails.
    pub bad_chat: Vec<u8>,
}

/// Every build, made once per test process with
/// `cargo build --release --target wasm32-wasip2 [--features F]` into `target/adapters`.
pub fn builds() -> &'static Builds {
    static BUILDS: OnceLock<Builds> = OnceLock::new();
    BUILDS.get_or_init(|| Builds {
        v1: build(None),
        v2: build(Some("v2")),
        bad_health: build(Some("bad-health")),
        bad_chat: build(Some("bad-chat")),
    })
}

fn build(feature: Option<&str>) -> Vec<u8> {
    let manifest = bins::workspace_root().join("tests/adapters/versioned/Cargo.toml");
    let target = bins::target_dir().join("adapters");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target);
    if let Some(feature) = feature {
        command.args(["--features", feature]);
    }
    let output = command.output().expect("run cargo");
    assert!(
        output.status.success(),
        "building the versioned adapter ({feature:?}) failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let wasm = target.join("wasm32-wasip2/release/aratta_adapter_versioned.wasm");
    std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()))
}

/// `component` with a custom section appended: the same adapter, another SHA-256.
pub fn with_marker(component: &[u8], n: u32) -> Vec<u8> {
    let name = b"aratta-test-marker";
    let mut content = vec![name.len() as u8];
    content.extend_from_slice(name);
    content.extend_from_slice(&n.to_le_bytes());
    let mut out = component.to_vec();
    out.push(0);
    out.push(u8::try_from(content.len()).expect("a short section"));
    out.extend(content);
    out
}

/// Model `slow` waits this long upstream, so calls are in flight across a swap.
pub const SLOW: Duration = Duration::from_millis(300);

/// Model `hold` waits this long upstream: a verification chat to it keeps the reload lock.
pub const HOLD: Duration = Duration::from_secs(3);

/// A mock upstream and a gateway whose provider `main` uses adapter `versioned` (1.0.0
/// installed as `<home>/adapters/versioned.wasm`), with `extra` TOML appended.
pub async fn setup(extra: &str) -> (MockUpstream, Gateway) {
    setup_with(extra, &[]).await
}

/// [`setup`] with environment variables for the server.
pub async fn setup_with(extra: &str, env: &[(&str, &str)]) -> (MockUpstream, Gateway) {
    let mock = MockUpstream::start(
        Script::new()
            .with_model("slow", Behaviour::Delay(SLOW))
            .with_model("hold", Behaviour::Delay(HOLD)),
    )
    .await;
    let config = Config::new()
        .provider(Provider::new("main", &mock.base_url()).adapter("versioned"))
        .raw(&format!("[reload]\ndebounce_ms = 100\n{extra}"));
    let mut builder =
        Gateway::builder(&config).adapter_bytes("versioned.wasm", builds().v1.clone());
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    (mock, builder.start().await)
}

/// Write `bytes` as `<home>/adapters/<name>` the way an installer should: a temporary file,
/// then a rename.
pub fn drop_file(gateway: &Gateway, name: &str, bytes: &[u8]) -> PathBuf {
    let dir = gateway.home().join("adapters");
    let temp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temp, bytes).expect("write the temporary file");
    let path = dir.join(name);
    std::fs::rename(&temp, &path).expect("rename into place");
    path
}

/// `GET /api/v1/adapters`.
pub async fn adapters(gateway: &Gateway) -> Value {
    Answer::read(gateway.get("/api/v1/adapters").await)
        .await
        .assert_status(200)
        .json()
}

/// The `versioned` entry of `GET /api/v1/adapters`.
pub async fn versioned(gateway: &Gateway) -> Value {
    let all = adapters(gateway).await;
    all["adapters"]
        .as_array()
        .expect("a list of adapters")
        .iter()
        .find(|a| a["name"] == "versioned")
        .unwrap_or_else(|| panic!("no versioned adapter: {all}"))
        .clone()
}

/// Waits (10 s at most) until `versioned` serves `version`.
pub async fn wait_for_version(gateway: &Gateway, version: &str) {
    for _ in 0..200 {
        if versioned(gateway).await["version"] == version {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "versioned never served {version}: {}\n{}",
        adapters(gateway).await,
        gateway.logs()
    );
}

/// Waits (10 s at most) for an event with `action` (and `sha256`, when given) and returns it.
pub async fn wait_for_event(gateway: &Gateway, action: &str, sha256: Option<&str>) -> Value {
    for _ in 0..200 {
        let all = adapters(gateway).await;
        let found = all["events"].as_array().and_then(|events| {
            events
                .iter()
                .find(|e| e["action"] == action && sha256.is_none_or(|s| e["sha256"] == s))
                .cloned()
        });
        if let Some(event) = found {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no {action} event: {}\n{}",
        adapters(gateway).await,
        gateway.logs()
    );
}

/// One chat through provider `main`: the status and the adapter version that answered.
pub async fn ask(gateway: &Gateway, model: &str) -> (u16, String) {
    let response = gateway
        .post_json(
            "/api/v1/chat",
            &json!({"model": format!("main:{model}"), "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    let answer = Answer::read(response).await;
    let body = answer.json();
    let version = body["lineage"]["adapter_version"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (answer.status.as_u16(), version)
}

/// SHA-256 of `bytes`, as the gateway reports versions.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `path` exists.
pub fn exists(path: &Path) -> bool {
    path.exists()
}
