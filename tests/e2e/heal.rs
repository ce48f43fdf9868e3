//! Self-healing end to end, with the real binary: Anthropic's Messages API drifts under a
//! running gateway (a mock in Anthropic's wire format renames the response's `content` to
//! `output`), the health monitor fires, and the heal worker diagnoses it with a scripted heal
//! model (a mock local server in OpenAI's wire format answering the `aratta_heal_diagnosis` and
//! `aratta_heal_fix` schemas: no real LLM is reachable here), researches it with a mock xAI or
//! OpenAI Responses API using `web_search`, patches the real `anthropic` adapter source, builds
//! it to a component with cargo, replays the failing call through it and swaps it in (or
//! queues it). The same client request then succeeds.
//!
//! Refusals leave the serving version untouched: edits that do not apply, that break a safety
//! rule, that do not compile, a fix that compiles but does not fix, a trigger in the cooldown.
//!
//! Heal builds share one cargo target directory under `target/heal-test`, so only the first
//! build on a machine is cold.

#[path = "heal/upstream.rs"]
mod upstream;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aratta_tests::bins;
use aratta_tests::config::quote;
use aratta_tests::gateway::{Gateway, run_aratta};
use serde_json::{Value, json};

use upstream::{Reply, Seen, Upstream};

/// The Anthropic model the client asks for.
const MODEL: &str = "claude-sonnet-4-5";
/// What the client writes: it must never reach the heal model or the research provider.
const USER_TEXT: &str = "the quarterly numbers for project bluebird";
/// The file the scripted fixes edit, relative to the adapter's source root.
const RESPONSE_RS: &str = "adapters/anthropic/src/response.rs";
/// Text that occurs exactly once in it: the field the drift renames.
const CONTENT_FIELD: &str = "    content: Option<Vec<Box<RawValue>>>,\n";

/// A cold heal build compiles the guest SDK's dependencies to wasm; allow for a slow machine.
const CYCLE_TIMEOUT: Duration = Duration::from_secs(900);

/// How the Anthropic upstream has changed its API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Drift {
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
struct DriftSwitch(Arc<AtomicU8>);

impl DriftSwitch {
    fn set(&self, drift: Drift) {
        self.0.store(drift as u8, Ordering::SeqCst);
    }

    fn get(&self) -> Drift {
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
const NEW_VERSION: &str = "2026-11-01";

fn anthropic_error(status: u16, message: &str) -> Reply {
    (
        status,
        "application/json",
        json!({"type": "error", "error": {"type": "invalid_request_error", "message": message}})
            .to_string(),
    )
}

/// The Anthropic upstream: answers in the Messages wire format (JSON or server-sent events),
/// changed as the switch says.
fn anthropic(drift: DriftSwitch) -> impl Fn(&Seen) -> Reply + Send + Sync {
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
fn stream(renamed: bool) -> String {
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
struct HealModel {
    upstream: Upstream,
}

impl HealModel {
    async fn start(answers: Vec<(&'static str, Value)>) -> HealModel {
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
    fn schemas(&self) -> Vec<String> {
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
async fn researcher(fail_with: Option<u16>) -> Upstream {
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

fn diagnosis() -> Value {
    json!({
        "classification": "renamed_response_field",
        "summary": "Anthropic's Messages API now returns the content blocks under `output`; the adapter reads `content`.",
        "search_queries": ["anthropic messages api response output field"]
    })
}

fn fix(confidence: f64, edits: Value) -> Value {
    json!({"summary": "read the content blocks from `output` too", "confidence": confidence, "edits": edits})
}

/// The real fix: accept `output` as another name of `content`.
fn good_edits() -> Value {
    json!([{
        "file": RESPONSE_RS,
        "search": CONTENT_FIELD,
        "replace": format!("    #[serde(alias = \"output\")]\n{CONTENT_FIELD}")
    }])
}

/// What a test sets up.
struct Setup {
    auto_apply: bool,
    /// `(xai, openai)` research upstreams; none: no research provider configured.
    research: Option<(String, String)>,
    webhook: Option<String>,
    /// A second provider, `claude2`, served by the same `anthropic` adapter.
    twin: bool,
}

fn config(anthropic: &str, heal_model: &str, setup: &Setup) -> String {
    let target = bins::workspace_root().join("target").join("heal-test");
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

async fn start(anthropic: &Upstream, model: &HealModel, setup: &Setup) -> Gateway {
    Gateway::builder_toml(&config(&anthropic.url(), &model.upstream.url(), setup))
        .env("ANTHROPIC_API_KEY", "sk-ant-test")
        .env("XAI_API_KEY", "xai-test")
        .env("OPENAI_API_KEY", "sk-test")
        .start()
        .await
}

fn client_request() -> Value {
    json!({"model": format!("anthropic:{MODEL}"), "messages": [{"role": "user", "content": USER_TEXT}]})
}

async fn chat_status(gateway: &Gateway) -> (u16, Value) {
    let response = gateway.post_json("/api/v1/chat", &client_request()).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The serving anthropic adapter's SHA-256.
async fn serving_sha(gateway: &Gateway) -> String {
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
async fn finished_cycle(gateway: &Gateway, id: Option<&str>) -> Value {
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

async fn cycle_count(gateway: &Gateway) -> usize {
    let cycles: Value = gateway.get("/api/v1/heal").await.json().await.unwrap();
    cycles.as_array().unwrap().len()
}

fn phase_names(cycle: &Value) -> Vec<String> {
    cycle["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Make the drift fire a trigger: two failing requests (the threshold).
async fn drift_and_fail(gateway: &Gateway, drifted: &DriftSwitch) {
    drifted.set(Drift::RenamedField);
    for _ in 0..2 {
        let (status, body) = chat_status(gateway).await;
        assert_eq!(status, 502, "the drift makes the adapter fail: {body}");
        assert!(body.to_string().contains("content"), "{body}");
    }
}

#[tokio::test]
async fn a_renamed_response_field_is_healed_end_to_end_and_survives_a_restart() {
    let drifted = DriftSwitch::default();
    let anthropic_up = Upstream::start(anthropic(drifted.clone())).await;
    let model = HealModel::start(vec![
        ("aratta_heal_diagnosis", diagnosis()),
        ("aratta_heal_fix", fix(0.95, good_edits())),
    ])
    .await;
    let (xai, openai) = (researcher(None).await, researcher(None).await);
    let webhook = Upstream::start(|_| (204, "application/json", String::new())).await;
    let setup = Setup {
        auto_apply: true,
        research: Some((xai.url(), openai.url())),
        webhook: Some(format!("{}/hooks/aratta", webhook.url())),
        twin: false,
    };
    let gateway = start(&anthropic_up, &model, &setup).await;
    assert_eq!(
        chat_status(&gateway).await.0,
        200,
        "before the drift the adapter works"
    );
    let before = serving_sha(&gateway).await;

    let t0 = Instant::now();
    drift_and_fail(&gateway, &drifted).await;
    let cycle = finished_cycle(&gateway, None).await;
    let healed_after = t0.elapsed();
    assert_eq!(cycle["status"], "swapped", "{cycle:#}\n{}", gateway.logs());
    assert_eq!(
        phase_names(&cycle),
        ["diagnose", "research", "fix", "build", "verify", "decide"],
        "{cycle:#}"
    );
    assert_eq!(cycle["started_by"], "trigger");
    assert_eq!(cycle["class"], "missing_field");
    assert_eq!(
        model.schemas(),
        ["aratta_heal_diagnosis", "aratta_heal_fix"]
    );

    // The heal model saw the provider's raw body and the source, never the user's words.
    let prompts = model.upstream.seen_at("/v1/chat/completions");
    let diagnose_prompt = prompts[0].body.to_string();
    assert!(
        diagnose_prompt.contains("\\\"output\\\""),
        "the raw provider body is in the prompt"
    );
    assert!(
        diagnose_prompt.contains("MessageWire"),
        "the adapter's source is in the prompt"
    );
    for p in &prompts {
        assert!(
            !p.body.to_string().contains(USER_TEXT),
            "user content reached the heal model"
        );
    }
    // Research went to xAI's Responses API with its web_search tool; the URL is kept.
    let searches = xai.seen_at("/v1/responses");
    assert_eq!(searches.len(), 1);
    assert!(
        searches[0].body["tools"].to_string().contains("web_search"),
        "{:#}",
        searches[0].body
    );
    assert!(!searches[0].body.to_string().contains(USER_TEXT));
    assert!(
        openai.seen().is_empty(),
        "the first usable researcher answered"
    );
    assert_eq!(
        cycle["research"]["urls"][0],
        "https://docs.anthropic.com/en/api/messages"
    );
    let fix_prompt = prompts[1].body.to_string();
    assert!(fix_prompt.contains("https://docs.anthropic.com/en/api/messages"));
    // The diff, the build and the replay are on the record.
    let diff = cycle["diff"].as_str().unwrap();
    assert!(
        diff.contains(RESPONSE_RS) && diff.contains("+    #[serde(alias = \"output\")]"),
        "{diff}"
    );
    assert_eq!(cycle["build"]["ok"], true);
    assert!(
        cycle["verification"]["serving"]
            .as_str()
            .unwrap()
            .starts_with("failed")
    );
    assert!(
        cycle["verification"]["candidate"]
            .as_str()
            .unwrap()
            .starts_with("ok")
    );

    // The same client request now succeeds, through the new version.
    let (status, body) = chat_status(&gateway).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["content"][0]["text"], "ok");
    let after = serving_sha(&gateway).await;
    assert_ne!(before, after);
    assert_eq!(cycle["build"]["sha256"], after.as_str());
    eprintln!(
        "healed in {:.1} s from the first drifted response (build {} ms)",
        healed_after.as_secs_f64(),
        cycle["build"]["duration_ms"]
    );

    // Metrics and the webhook.
    let metrics = gateway.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("heal_requests_total{adapter=\"anthropic\",outcome=\"swapped\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("heal_duration_seconds_count{phase=\"build\"} 1"),
        "{metrics}"
    );
    let until = Instant::now() + Duration::from_secs(5);
    while !webhook
        .seen()
        .iter()
        .any(|s| s.body["event"] == "heal_cycle")
        && Instant::now() < until
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered: Vec<Value> = webhook.seen().into_iter().map(|s| s.body).collect();
    let outcome = delivered
        .iter()
        .find(|b| b["event"] == "heal_cycle")
        .expect("the webhook got the outcome");
    assert_eq!(outcome["outcome"], "swapped");
    assert_eq!(outcome["id"], cycle["id"]);

    // The CLI shows it.
    let id = cycle["id"].as_str().unwrap().to_owned();
    let url = gateway.base_url().to_owned();
    let listed = run_aratta(gateway.home(), &["heal", "list", "--url", &url], &[]).await;
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains(&id) && listed.contains("swapped"),
        "{listed}"
    );
    let shown = run_aratta(gateway.home(), &["heal", "show", &id, "--url", &url], &[]).await;
    let (shown, errors) = (
        String::from_utf8_lossy(&shown.stdout).into_owned(),
        String::from_utf8_lossy(&shown.stderr).into_owned(),
    );
    assert!(
        shown.contains("research") && shown.contains("alias = \"output\""),
        "{shown}{errors}"
    );

    // After a restart the cycle is still on record and the healed version still serves.
    let gateway = gateway.restart().await;
    let kept: Value = gateway
        .get(&format!("/api/v1/heal/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["status"], "swapped");
    assert_eq!(serving_sha(&gateway).await, after);
    assert_eq!(chat_status(&gateway).await.0, 200);
}

#[tokio::test]
async fn research_falls_through_and_a_fix_below_the_bar_waits_for_a_human() {
    let drifted = DriftSwitch::default();
    let anthropic_up = Upstream::start(anthropic(drifted.clone())).await;
    let model = HealModel::start(vec![
        ("aratta_heal_diagnosis", diagnosis()),
        ("aratta_heal_fix", fix(0.6, good_edits())),
    ])
    .await;
    // xAI is down: OpenAI researches.
    let (xai, openai) = (researcher(Some(500)).await, researcher(None).await);
    let setup = Setup {
        auto_apply: true,
        research: Some((xai.url(), openai.url())),
        webhook: None,
        twin: false,
    };
    let gateway = start(&anthropic_up, &model, &setup).await;
    let before = serving_sha(&gateway).await;
    drift_and_fail(&gateway, &drifted).await;
    let cycle = finished_cycle(&gateway, None).await;
    assert_eq!(cycle["status"], "queued", "{cycle:#}\n{}", gateway.logs());
    assert!(
        !xai.seen_at("/v1/responses").is_empty(),
        "xAI was asked first"
    );
    assert_eq!(openai.seen_at("/v1/responses").len(), 1, "then OpenAI");
    assert_eq!(cycle["research"]["provider"], "openai:gpt-5-mini");
    let attempts = cycle["research"]["attempts"].to_string();
    assert!(attempts.contains("xai:grok-4-fast"), "{attempts}");
    assert!(
        cycle["decision"]["reason"]
            .as_str()
            .unwrap()
            .contains("below auto_apply_confidence")
    );
    assert_eq!(serving_sha(&gateway).await, before, "nothing swapped");
    assert_eq!(chat_status(&gateway).await.0, 502, "still drifted");

    // The approval carries what a human needs, and approving swaps it through the usual path.
    let approvals: Value = gateway.get("/api/v1/approvals").await.json().await.unwrap();
    let entry = &approvals[0];
    assert_eq!(entry["proposed_by"], "heal");
    assert_eq!(entry["id"], cycle["decision"]["approval_id"]);
    assert_eq!(entry["heal"]["cycle_id"], cycle["id"]);
    assert_eq!(
        entry["heal"]["sources"][0],
        "https://docs.anthropic.com/en/api/messages"
    );
    assert!(entry["heal"]["diff"].as_str().unwrap().contains("alias"));
    assert!(
        entry["heal"]["verification"]
            .as_str()
            .unwrap()
            .contains("candidate: ok")
    );
    let id = entry["id"].as_str().unwrap();
    let approved = gateway
        .post_json(&format!("/api/v1/approvals/{id}/approve"), &json!({}))
        .await;
    assert_eq!(approved.status(), 200, "{}", approved.text().await.unwrap());
    assert_ne!(serving_sha(&gateway).await, before);
    assert_eq!(chat_status(&gateway).await.0, 200);
}

#[tokio::test]
async fn without_research_the_cycle_goes_on_with_its_confidence_capped() {
    let drifted = DriftSwitch::default();
    let anthropic_up = Upstream::start(anthropic(drifted.clone())).await;
    let model = HealModel::start(vec![
        ("aratta_heal_diagnosis", diagnosis()),
        ("aratta_heal_fix", fix(0.99, good_edits())),
    ])
    .await;
    let setup = Setup {
        auto_apply: true,
        research: None,
        webhook: None,
        twin: false,
    };
    let gateway = start(&anthropic_up, &model, &setup).await;
    let before = serving_sha(&gateway).await;
    drift_and_fail(&gateway, &drifted).await;
    let cycle = finished_cycle(&gateway, None).await;
    assert_eq!(cycle["status"], "queued", "{cycle:#}");
    let research = cycle["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "research")
        .unwrap();
    assert_eq!(research["outcome"], "skipped");
    assert!(
        research["output"]
            .as_str()
            .unwrap()
            .contains("capped at 0.5")
    );
    let approvals: Value = gateway.get("/api/v1/approvals").await.json().await.unwrap();
    assert_eq!(approvals[0]["heal"]["confidence"], 0.5);
    assert_eq!(serving_sha(&gateway).await, before);
}

/// One refused cycle, started by an operator (`POST /api/v1/heal/run`), checked to have left
/// the serving version and the queue as they were.
async fn refused(gateway: &Gateway, before: &str, expect: &str) -> Value {
    let started = gateway
        .post_json("/api/v1/heal/run", &json!({"adapter": "anthropic"}))
        .await;
    assert_eq!(started.status(), 202, "{}", started.text().await.unwrap());
    let started: Value = started.json().await.unwrap();
    let cycle = finished_cycle(gateway, started["id"].as_str()).await;
    assert_eq!(cycle["status"], "failed", "{cycle:#}");
    let summary = cycle["summary"].as_str().unwrap();
    assert!(
        summary.contains(expect),
        "expected {expect:?} in {summary:?}"
    );
    assert_eq!(
        serving_sha(gateway).await,
        before,
        "the serving version is untouched"
    );
    let approvals: Value = gateway.get("/api/v1/approvals").await.json().await.unwrap();
    assert_eq!(approvals.as_array().unwrap().len(), 0, "nothing queued");
    cycle
}

#[tokio::test]
async fn refused_fixes_leave_the_serving_version_untouched() {
    let drifted = DriftSwitch::default();
    let anthropic_up = Upstream::start(anthropic(drifted.clone())).await;
    let d = || ("aratta_heal_diagnosis", diagnosis());
    let f = |edits: Value| ("aratta_heal_fix", fix(0.95, edits));
    let one = |file: &str, search: &str, replace: &str| json!([{"file": file, "search": search, "replace": replace}]);
    let model = HealModel::start(vec![
        // 1. The trigger's cycle: edits that do not apply, twice.
        d(),
        f(one(RESPONSE_RS, "no such text", "x")),
        f(one(RESPONSE_RS, "still no such text", "x")),
        // 2. A safety rule: `unsafe` added.
        d(),
        f(one(RESPONSE_RS, CONTENT_FIELD, &format!("{CONTENT_FIELD}    // unsafe {{ }}\n"))),
        // 3. A safety rule: not a .rs file under the sources.
        d(),
        f(one("adapters/anthropic/Cargo.toml", "[dependencies]", "[dependencies]\nlibc = \"0.2\"")),
        // 4. A safety rule: include_str! reads a file at build time.
        d(),
        f(one(RESPONSE_RS, CONTENT_FIELD, &format!("{CONTENT_FIELD}    #[serde(skip)]\n    secret: Option<&'static str>, // include_str!(\"/etc/passwd\")\n"))),
        // 5. Does not compile, twice.
        d(),
        f(one(RESPONSE_RS, CONTENT_FIELD, "    content: Option<Vec<Box<RawValue>>>, this is not rust\n")),
        f(one(RESPONSE_RS, CONTENT_FIELD, "    content: Option<Vec<Box<RawValue>>>, still not rust\n")),
        // 6. Compiles, but reads the wrong name: verification refuses it.
        d(),
        f(json!([{"file": RESPONSE_RS, "search": CONTENT_FIELD, "replace": format!("    #[serde(alias = \"outputs\")]\n{CONTENT_FIELD}")}])),
    ])
    .await;
    let setup = Setup {
        auto_apply: true,
        research: None,
        webhook: None,
        twin: true,
    };
    let gateway = start(&anthropic_up, &model, &setup).await;
    let before = serving_sha(&gateway).await;
    drift_and_fail(&gateway, &drifted).await;

    let first = finished_cycle(&gateway, None).await;
    assert_eq!(first["status"], "failed", "{first:#}");
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .contains("do not apply, twice"),
        "{first:#}"
    );
    assert_eq!(phase_names(&first), ["diagnose", "research", "fix", "fix"]);
    refused(&gateway, &before, "refused: the fix breaks a safety rule").await;
    let cargo = refused(&gateway, &before, "refused: the fix breaks a safety rule").await;
    assert!(
        cargo["summary"].as_str().unwrap().contains("Cargo.toml"),
        "{cargo:#}"
    );
    let include = refused(&gateway, &before, "refused: the fix breaks a safety rule").await;
    assert!(
        include["summary"]
            .as_str()
            .unwrap()
            .contains("include_str!"),
        "{include:#}"
    );
    let compile = refused(&gateway, &before, "did not build").await;
    assert_eq!(
        phase_names(&compile),
        ["diagnose", "research", "fix", "build", "fix", "build"]
    );
    assert!(
        compile["build"]["log_tail"]
            .as_str()
            .unwrap()
            .contains("error"),
        "{compile:#}"
    );
    let unfixed = refused(&gateway, &before, "does not fix the failure").await;
    assert_eq!(unfixed["build"]["ok"], true);
    assert_eq!(unfixed["decision"]["action"], "refused");
    assert_eq!(
        chat_status(&gateway).await.0,
        502,
        "still drifted, still the old version"
    );

    // Another trigger for the adapter (from another provider it serves) within the cooldown
    // starts no cycle.
    let known = cycle_count(&gateway).await;
    for _ in 0..2 {
        let twin = json!({"model": format!("claude2:{MODEL}"), "messages": [{"role": "user", "content": USER_TEXT}]});
        assert_eq!(gateway.post_json("/api/v1/chat", &twin).await.status(), 502);
    }
    let until = Instant::now() + Duration::from_secs(10);
    while cycle_count(&gateway).await == known && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let skipped = finished_cycle(&gateway, None).await;
    let triggers: Value = gateway
        .get("/api/v1/health/triggers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skipped["status"], "skipped", "{skipped:#}\n{triggers:#}");
    assert_eq!(skipped["provider"], "claude2");
    assert!(
        skipped["summary"].as_str().unwrap().contains("cooldown"),
        "{skipped:#}"
    );
    assert!(skipped["phases"].as_array().unwrap().is_empty());
    let metrics = gateway.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("heal_requests_total{adapter=\"anthropic\",outcome=\"failed\"} 6"),
        "{metrics}"
    );
    assert!(
        metrics.contains("heal_requests_total{adapter=\"anthropic\",outcome=\"skipped\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn operators_are_told_why_a_cycle_cannot_start() {
    let drifted = DriftSwitch::default();
    let anthropic_up = Upstream::start(anthropic(drifted.clone())).await;
    let model = HealModel::start(Vec::new()).await;
    let setup = Setup {
        auto_apply: false,
        research: None,
        webhook: None,
        twin: false,
    };
    let gateway = start(&anthropic_up, &model, &setup).await;
    let none = gateway
        .post_json("/api/v1/heal/run", &json!({"adapter": "anthropic"}))
        .await;
    assert_eq!(none.status(), 409);
    assert!(none.text().await.unwrap().contains("no recent errors"));
    let unknown = gateway
        .post_json("/api/v1/heal/run", &json!({"adapter": "nope"}))
        .await;
    assert_eq!(unknown.status(), 404);
    let bad = gateway
        .post_json("/api/v1/heal/run", &json!({"adapter": 1}))
        .await;
    assert_eq!(bad.status(), 400);
    let missing = gateway.get("/api/v1/heal/heal_nope").await;
    assert_eq!(missing.status(), 404);
    let listed = run_aratta(
        gateway.home(),
        &["heal", "list", "--url", gateway.base_url()],
        &[],
    )
    .await;
    assert!(String::from_utf8_lossy(&listed.stdout).contains("no heal cycle yet"));
}

/// Heal one drift end to end with auto-apply: `drift` is switched on, two client requests
/// (streamed when `stream`) fail with `failing_status`, the cycle applies `edits` and the
/// same request then succeeds.
async fn heals(drift: Drift, stream: bool, failing_status: u16, edits: Value) -> Value {
    let switch = DriftSwitch::default();
    let anthropic_up = Upstream::start(anthropic(switch.clone())).await;
    let model = HealModel::start(vec![
        ("aratta_heal_diagnosis", diagnosis()),
        ("aratta_heal_fix", fix(0.95, edits)),
    ])
    .await;
    let (xai, openai) = (researcher(None).await, researcher(None).await);
    let setup = Setup {
        auto_apply: true,
        research: Some((xai.url(), openai.url())),
        webhook: None,
        twin: false,
    };
    let gateway = start(&anthropic_up, &model, &setup).await;
    let mut request = client_request();
    request["stream"] = json!(stream);
    let send = || async {
        let response = gateway.post_json("/api/v1/chat", &request).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    };
    assert_eq!(send().await.0, 200, "before the drift");
    let before = serving_sha(&gateway).await;
    switch.set(drift);
    for _ in 0..2 {
        let (status, body) = send().await;
        assert_eq!(status, failing_status, "{drift:?}: {body}");
    }
    let cycle = finished_cycle(&gateway, None).await;
    assert_eq!(
        cycle["status"],
        "swapped",
        "{drift:?}: {cycle:#}\n{}",
        gateway.logs()
    );
    let (status, body) = send().await;
    assert_eq!(status, 200, "{drift:?}: after healing: {body}");
    assert!(body.contains("ok"), "{body}");
    assert_ne!(serving_sha(&gateway).await, before);
    cycle
}

#[tokio::test]
async fn a_renamed_stream_event_is_healed() {
    let edits = json!([{
        "file": "adapters/anthropic/src/stream/decoder.rs",
        "search": "\"message_start\" => self.on_start(wire, out),",
        "replace": "\"message_start\" | \"message_begin\" => self.on_start(wire, out),"
    }]);
    let cycle = heals(Drift::RenamedStreamEvent, true, 502, edits).await;
    assert_eq!(cycle["class"], "stream_format_change");
    assert_eq!(cycle["verification"]["operation"], "chat_stream");
}

#[tokio::test]
async fn a_parameter_the_provider_now_refuses_is_healed() {
    let edits = json!([{
        "file": "adapters/anthropic/src/request.rs",
        "search": "    model: &'a str,\n    max_tokens: u32,\n",
        "replace": "    model: &'a str,\n    #[serde(rename = \"max_output_tokens\")]\n    max_tokens: u32,\n"
    }]);
    let cycle = heals(Drift::RefusedParameter, false, 400, edits).await;
    assert_eq!(cycle["class"], "invalid_request");
    assert_eq!(
        phase_names(&cycle)[0],
        "confirm",
        "a minimal request was refused too"
    );
    assert!(
        cycle["phases"][0]["output"]
            .as_str()
            .unwrap()
            .contains("refused too")
    );
}

#[tokio::test]
async fn a_newly_required_api_version_is_healed() {
    let edits = json!([{
        "file": "adapters/anthropic/src/lib.rs",
        "search": "pub const API_VERSION: &str = \"2023-06-01\";",
        "replace": format!("pub const API_VERSION: &str = \"{NEW_VERSION}\";")
    }]);
    let cycle = heals(Drift::NewVersion, false, 400, edits).await;
    assert_eq!(cycle["class"], "invalid_request");
}

#[tokio::test]
async fn a_caller_repeating_its_own_invalid_request_starts_no_heal() {
    let anthropic_up = Upstream::start(|req| {
        if req.body["temperature"].as_f64().is_some_and(|t| t > 1.0) {
            anthropic_error(400, "temperature: must be at most 1.0")
        } else {
            anthropic(DriftSwitch::default())(req)
        }
    })
    .await;
    let model = HealModel::start(Vec::new()).await;
    let setup = Setup {
        auto_apply: true,
        research: None,
        webhook: None,
        twin: false,
    };
    let gateway = start(&anthropic_up, &model, &setup).await;
    let mut request = client_request();
    request["temperature"] = json!(1.5);
    for _ in 0..2 {
        assert_eq!(
            gateway.post_json("/api/v1/chat", &request).await.status(),
            400
        );
    }
    let cycle = finished_cycle(&gateway, None).await;
    assert_eq!(cycle["status"], "skipped", "{cycle:#}");
    assert!(
        cycle["summary"].as_str().unwrap().starts_with("not drift"),
        "{cycle:#}"
    );
    assert_eq!(phase_names(&cycle), ["confirm"]);
    assert!(model.schemas().is_empty(), "no model was asked");
}
