//! The heal worker's test kit, shared by `tests/e2e/heal.rs` and the heal benchmark: an
//! Anthropic upstream whose API drifts on a switch (in Anthropic's real wire format, JSON and
//! server-sent events), a scripted heal model behind the `local` adapter (OpenAI Chat
//! Completions answering the `aratta_heal_diagnosis` and `aratta_heal_fix` schemas: no real
//! LLM is reachable here), Responses API researchers (xAI, OpenAI) with `web_search`
//! citations, the config, and reading cycles from the API.
//!
//! Heal builds share one directory under `target/heal-test`, so only the first build on a
//! machine is cold.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::bins;
use crate::config::quote;
use crate::gateway::Gateway;
use crate::upstream::{Reply, Seen, Upstream};

/// The Anthropic model the client asks for.
pub const MODEL: &str = "claude-sonnet-4-5";
/// What the client writes: it must never reach the heal model or the research provider.
pub const USER_TEXT: &str = "the quarterly numbers for project bluebird";
/// The file the scripted fixes edit, relative to the adapter's source root.
pub const RESPONSE_RS: &str = "adapters/anthropic/src/response.rs";
/// Text that occurs exactly once in it: the field the drift renames.
pub const CONTENT_FIELD: &str = "    content: Option<Vec<Box<RawValue>>>,\n";

/// A cold heal build compiles the guest SDK's dependencies to wasm; allow for a slow machine.
pub const CYCLE_TIMEOUT: Duration = Duration::from_secs(900);

/// How the Anthropic upstream has changed its API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Drift {
    /// Not at all.
    None,
    /// The response's `content` is now `output`.
    RenamedField,
    /// The stream's `message_start` event is now `message_begin`.
    RenamedStreamEvent,
    /// `max_tokens` is refused with a 400 naming its replacement, `max_output_tokens`.
    RefusedParameter,
    /// `anthropic-version: 2023-06-01` is refused with a 400 naming the new version.
    NewVersion,
}

/// The upstream's current drift, switched by the test while the gateway serves.
#[derive(Clone, Default)]
pub struct DriftSwitch(Arc<AtomicU8>);

impl DriftSwitch {
    /// Switch the upstream to `drift`.
    pub fn set(&self, drift: Drift) {
        self.0.store(drift as u8, Ordering::SeqCst);
    }

    /// The drift in force.
    pub fn get(&self) -> Drift {
        [
            Drift::None,
            Drift::RenamedField,
            Drift::RenamedStreamEvent,
            Drift::RefusedParameter,
            Drift::NewVersion,
        ][usize::from(self.0.load(Ordering::SeqCst))]
    }
}

/// The API version the drifted upstream requires.
pub const NEW_VERSION: &str = "2026-11-01";

pub fn anthropic_error(status: u16, message: &str) -> Reply {
    (
        status,
        "application/json",
        json!({"type": "error", "error": {"type": "invalid_request_error", "message": message}})
            .to_string(),
    )
}

/// The Anthropic upstream: answers in the Messages wire format (JSON or server-sent events),
/// changed as the switch says.
pub fn anthropic(drift: DriftSwitch) -> impl Fn(&Seen) -> Reply + Send + Sync {
    move |req| {
        let drift = drift.get();
        if drift == Drift::NewVersion && req.header("anthropic-version") != Some(NEW_VERSION) {
            return anthropic_error(
                400,
                &format!(
                    "anthropic-version: {} is no longer supported; send anthropic-version: {NEW_VERSION}",
                    req.header("anthropic-version").unwrap_or("(none)")
                ),
            );
        }
        match (req.method.as_str(), req.path.split('?').next().unwrap_or("")) {
            ("GET", "/v1/models") => (
                200,
                "application/json",
                json!({
                    "data": [{"type": "model", "id": MODEL, "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"}],
                    "has_more": false, "first_id": MODEL, "last_id": MODEL
                })
                .to_string(),
            ),
            ("POST", "/v1/messages") => {
                if drift == Drift::RefusedParameter && req.body.get("max_tokens").is_some() {
                    return anthropic_error(
                        400,
                        "max_tokens: Extra inputs are not permitted; this parameter was renamed to max_output_tokens",
                    );
                }
                if req.body["stream"] == true {
                    return (200, "text/event-stream", stream(drift == Drift::RenamedStreamEvent));
                }
                let blocks = json!([{"type": "text", "text": "ok"}]);
                let field = if drift == Drift::RenamedField { "output" } else { "content" };
                let mut message = json!({
                    "id": "msg_01", "type": "message", "role": "assistant", "model": MODEL,
                    "stop_reason": "end_turn", "stop_sequence": null,
                    "usage": {"input_tokens": 12, "output_tokens": 1}
                });
                message[field] = blocks;
                (200, "application/json", message.to_string())
            }
            _ => anthropic_error(404, "no route"),
        }
    }
}

/// A streamed Messages answer saying "ok"; `renamed` calls its first event `message_begin`.
pub fn stream(renamed: bool) -> String {
    let start = if renamed {
        "message_begin"
    } else {
        "message_start"
    };
    let events = [
        (
            start,
            json!({"type": start, "message": {"id": "msg_01", "type": "message", "role": "assistant", "model": MODEL, "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 12, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 1}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    events
        .iter()
        .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
        .collect()
}

/// A scripted heal model behind the `local` adapter (OpenAI Chat Completions, as Ollama
/// serves it): each request gets the next scripted answer for its `response_format` schema.
pub struct HealModel {
    /// The upstream, to read what it was asked.
    pub upstream: Upstream,
}

impl HealModel {
    /// Serve `answers` (schema name, JSON answer) in order per schema.
    pub async fn start(answers: Vec<(&'static str, Value)>) -> HealModel {
        let queue: Arc<Mutex<VecDeque<(&'static str, Value)>>> =
            Arc::new(Mutex::new(answers.into()));
        let upstream = Upstream::start(move |req| match req.path.as_str() {
            "/v1/models" => (
                200,
                "application/json",
                json!({"object": "list", "data": [{"id": "heal-coder", "object": "model", "created": 0, "owned_by": "library"}]}).to_string(),
            ),
            "/v1/chat/completions" => {
                let schema = req.body["response_format"]["json_schema"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let mut queue = queue.lock().unwrap();
                let answer = match queue.iter().position(|(s, _)| *s == schema) {
                    Some(i) => queue.remove(i).unwrap().1,
                    None => json!("no scripted answer left"),
                };
                let content = match answer {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                (
                    200,
                    "application/json",
                    json!({
                        "id": "chatcmpl-heal", "object": "chat.completion", "created": 1_764_930_000,
                        "model": "heal-coder",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
                    })
                    .to_string(),
                )
            }
            _ => (404, "application/json", json!({"error": {"message": "no route"}}).to_string()),
        })
        .await;
        HealModel { upstream }
    }

    /// The schema names asked for, in order.
    pub fn schemas(&self) -> Vec<String> {
        self.upstream
            .seen_at("/v1/chat/completions")
            .iter()
            .map(|s| {
                s.body["response_format"]["json_schema"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }
}

/// A Responses API upstream (xAI or OpenAI) that answers web searches with a cited finding,
/// or fails with `status` when given.
pub async fn researcher(fail_with: Option<u16>) -> Upstream {
    Upstream::start(move |req| {
        if let Some(status) = fail_with {
            return (status, "application/json", json!({"error": {"message": "upstream is down", "type": "server_error"}}).to_string());
        }
        match req.path.as_str() {
            "/v1/responses" => (
                200,
                "application/json",
                json!({
                    "id": "resp_01", "object": "response", "created_at": 1_764_930_000, "status": "completed",
                    "model": "grok-4-fast",
                    "output": [
                        {"type": "web_search_call", "id": "ws_01", "status": "completed", "action": {"type": "search", "query": "anthropic messages output"}},
                        {"type": "message", "id": "msg_01", "role": "assistant", "status": "completed", "content": [{
                            "type": "output_text",
                            "text": "The Messages API now returns the content blocks under `output` instead of `content`.",
                            "annotations": [{"type": "url_citation", "url": "https://docs.anthropic.com/en/api/messages", "title": "Messages", "start_index": 0, "end_index": 16}]
                        }]}
                    ],
                    "usage": {"input_tokens": 40, "output_tokens": 20, "total_tokens": 60}
                })
                .to_string(),
            ),
            _ => (404, "application/json", json!({"error": {"message": "no route"}}).to_string()),
        }
    })
    .await
}

pub fn diagnosis() -> Value {
    json!({
        "classification": "renamed_response_field",
        "summary": "Anthropic's Messages API now returns the content blocks under `output`; the adapter reads `content`.",
        "search_queries": ["anthropic messages api response output field"]
    })
}

pub fn fix(confidence: f64, edits: Value) -> Value {
    json!({"summary": "read the content blocks from `output` too", "confidence": confidence, "edits": edits})
}

/// The real fix: accept `output` as another name of `content`.
pub fn good_edits() -> Value {
    json!([{
        "file": RESPONSE_RS,
        "search": CONTENT_FIELD,
        "replace": format!("    #[serde(alias = \"output\")]\n{CONTENT_FIELD}")
    }])
}

/// What a test sets up.
#[derive(Default)]
pub struct Setup {
    /// `[healing] auto_apply`.
    pub auto_apply: bool,
    /// `(xai, openai)` research upstreams; none: no research provider configured.
    pub research: Option<(String, String)>,
    /// `[healing] alert_webhook_url`.
    pub webhook: Option<String>,
    /// A second provider, `claude2`, served by the same `anthropic` adapter.
    pub twin: bool,
    /// `[healing] build_dir`; default the shared `target/heal-test`.
    pub build_dir: Option<std::path::PathBuf>,
}

pub fn config(anthropic: &str, heal_model: &str, setup: &Setup) -> String {
    let target = setup
        .build_dir
        .clone()
        .unwrap_or_else(|| bins::workspace_root().join("target").join("heal-test"));
    let mut toml = format!(
        "[providers.local]\nadapter = \"local\"\nbase_url = \"{heal_model}/v1\"\n\n\
         [providers.anthropic]\nadapter = \"anthropic\"\nbase_url = \"{anthropic}\"\n\n"
    );
    let mut order = Vec::new();
    if let Some((xai, openai)) = &setup.research {
        toml.push_str(&format!(
            "[providers.xai]\nadapter = \"xai\"\nbase_url = \"{xai}/v1\"\n\n\
             [providers.openai]\nadapter = \"openai\"\nbase_url = \"{openai}/v1\"\n\n"
        ));
        order = vec!["\"xai\"", "\"openai\""];
    }
    toml.push_str(&format!(
        "[breaker]\nfailure_threshold = 1000\n\n\
         [healing]\nenabled = true\nauto_apply = {}\nheal_model = \"local:heal-coder\"\n\
         error_threshold = 2\nwindow_seconds = 60\ncooldown_seconds = 600\n\
         research_order = [{}]\nbuild_timeout_seconds = 900\nbuild_dir = {}\n{}",
        setup.auto_apply,
        order.join(", "),
        quote(&target.display().to_string()),
        setup
            .webhook
            .as_ref()
            .map(|url| format!("alert_webhook_url = {}\n", quote(url)))
            .unwrap_or_default()
    ));
    if setup.twin {
        toml.push_str(&format!(
            "\n[providers.claude2]\nadapter = \"anthropic\"\nbase_url = \"{anthropic}\"\napi_key_env = \"ANTHROPIC_API_KEY\"\n"
        ));
    }
    toml
}

pub async fn start(anthropic: &Upstream, model: &HealModel, setup: &Setup) -> Gateway {
    Gateway::builder_toml(&config(&anthropic.url(), &model.upstream.url(), setup))
        .env("ANTHROPIC_API_KEY", "sk-ant-test")
        .env("XAI_API_KEY", "xai-test")
        .env("OPENAI_API_KEY", "sk-test")
        .start()
        .await
}

pub fn client_request() -> Value {
    json!({"model": format!("anthropic:{MODEL}"), "messages": [{"role": "user", "content": USER_TEXT}]})
}

pub async fn chat_status(gateway: &Gateway) -> (u16, Value) {
    let response = gateway.post_json("/api/v1/chat", &client_request()).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The serving anthropic adapter's SHA-256.
pub async fn serving_sha(gateway: &Gateway) -> String {
    let list: Value = gateway.get("/api/v1/adapters").await.json().await.unwrap();
    list["adapters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "anthropic")
        .map(|a| a["sha256"].as_str().unwrap().to_owned())
        .unwrap()
}

/// Waits until the newest cycle (or cycle `id`) is no longer running; returns it.
pub async fn finished_cycle(gateway: &Gateway, id: Option<&str>) -> Value {
    let until = Instant::now() + CYCLE_TIMEOUT;
    loop {
        let cycle: Value = match id {
            Some(id) => gateway
                .get(&format!("/api/v1/heal/{id}"))
                .await
                .json()
                .await
                .unwrap(),
            None => gateway
                .get("/api/v1/heal")
                .await
                .json::<Value>()
                .await
                .unwrap()[0]
                .clone(),
        };
        if !cycle.is_null() && cycle["status"] != "running" {
            return cycle;
        }
        assert!(
            Instant::now() < until,
            "no heal cycle ended within {CYCLE_TIMEOUT:?}: {cycle:#}\n{}",
            gateway.logs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn cycle_count(gateway: &Gateway) -> usize {
    let cycles: Value = gateway.get("/api/v1/heal").await.json().await.unwrap();
    cycles.as_array().unwrap().len()
}

pub fn phase_names(cycle: &Value) -> Vec<String> {
    cycle["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Make the drift fire a trigger: two failing requests (the threshold).
pub async fn drift_and_fail(gateway: &Gateway, drifted: &DriftSwitch) {
    drifted.set(Drift::RenamedField);
    for _ in 0..2 {
        let (status, body) = chat_status(gateway).await;
        assert_eq!(status, 502, "the drift makes the adapter fail: {body}");
        assert!(body.to_string().contains("content"), "{body}");
    }
}
