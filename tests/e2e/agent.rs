//! Agents end to end: the real `aratta` binary runs the ReAct loop against scripted model
//! upstreams speaking real provider wire formats (OpenAI Chat Completions for `local`,
//! Anthropic Messages for `anthropic`), over `POST /api/v1/agents/run` (SSE) and over
//! `aratta agent run`. Checked: a multi-step run reaches its answer; the same agent gives the
//! same tool sequence whichever provider the alias names; `max_iterations` stops a looping
//! model; permission refusals are audited, returned to the model and the loop goes on; HTTP
//! tools; the audit log has one complete line per call. (The sandbox escape corpus runs as a
//! host lib test, `agent::sandbox::tests`, against the same sandbox code.)

#[path = "agent/http_tool.rs"]
mod http_tool;
#[path = "agent/scripted.rs"]
mod scripted;

use std::path::{Path, PathBuf};
use std::time::Duration;

use aratta_host::agent::sandbox::{ComponentSource, Sandbox, SandboxConfig};
use aratta_tests::config::{Config, Provider};
use aratta_tests::gateway::{Gateway, run_aratta};
use aratta_tests::{bins, sse, venv};
use serde_json::{Value, json};

use scripted::{Scripted, Turn, Wire};

/// The pinned componentize-py that builds the `python` tool's sandbox component (installed into
/// `target/sandbox-venv` once), as the value of `ARATTA_COMPONENTIZE_PY`. The component is built
/// and compiled into the shared test cache here, once, so no gateway's first `python` call
/// waits for it.
async fn componentize_py() -> String {
    static BUILT: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    BUILT
        .get_or_init(|| async {
            let tool = tokio::task::spawn_blocking(venv::componentize_py)
                .await
                .expect("install componentize-py");
            let sandbox = Sandbox::new(SandboxConfig {
                source: ComponentSource {
                    componentize_py: Some(tool.clone()),
                    cache_dir: Some(bins::cache_dir()),
                },
                ..SandboxConfig::default()
            })
            .expect("the sandbox's engine");
            sandbox.ready().await.expect("the sandbox component builds");
            tool.to_str().unwrap().to_string()
        })
        .await
        .clone()
}

/// A gateway whose `local` provider is a scripted OpenAI-format model, auditing to a file.
async fn gateway_for(mock: &Scripted, audit: &Path) -> Gateway {
    Gateway::builder(&Config::local(&mock.base_url()).alias("brain", &["local:m"]))
        .env("ARATTA_AGENT_AUDIT", audit.to_str().unwrap())
        .env("ARATTA_COMPONENTIZE_PY", &componentize_py().await)
        .start()
        .await
}

/// Run an agent over HTTP and read every step.
async fn run_http(gateway: &Gateway, request: &Value) -> Vec<Value> {
    let response = gateway.post_json("/api/v1/agents/run", request).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let read = sse::read(response, Duration::from_secs(60)).await;
    assert!(read.transport_error.is_none(), "{read:?}");
    // Each SSE event's name is the step's type.
    for event in &read.events {
        assert_eq!(
            event.event.as_deref(),
            event.json().unwrap()["type"].as_str()
        );
    }
    read.json_events()
}

fn types(steps: &[Value]) -> Vec<&str> {
    steps.iter().map(|s| s["type"].as_str().unwrap()).collect()
}

fn tool_sequence(steps: &[Value]) -> Vec<(String, String)> {
    steps
        .iter()
        .filter(|s| s["type"] == "tool_result")
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn audit_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("audit line {l}: {e}")))
        .collect()
}

fn temp_audit() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    (dir, path)
}

/// The script every "same agent" run follows: compute with python, read the clock, answer.
fn sum_script() -> Vec<Turn> {
    vec![
        Turn::Calls(
            Some("I will compute the sum with Python."),
            vec![("python", json!({"code": "print(sum(range(1, 11)))"}))],
        ),
        Turn::Calls(None, vec![("current_time", json!({}))]),
        Turn::Answer("The sum of 1..10 is 55."),
    ]
}

#[tokio::test]
async fn a_multi_step_tool_run_reaches_the_answer_and_audits_every_call() {
    let mock = Scripted::start(Wire::OpenAi, sum_script(), None).await;
    let (_dir, audit) = temp_audit();
    let gateway = gateway_for(&mock, &audit).await;
    let steps = run_http(
        &gateway,
        &json!({"model": "brain", "task": "Sum 1..10", "tier": "elevated", "name": "summer"}),
    )
    .await;
    assert_eq!(
        types(&steps),
        [
            "start",
            "thought",
            "tool_call",
            "tool_result",
            "tool_call",
            "tool_result",
            "answer"
        ]
    );
    let run_id = steps[0]["run_id"].as_str().unwrap();
    assert_eq!(steps[0]["tools"], json!(["current_time", "python"]));
    assert_eq!(steps[3]["outcome"], "ok");
    assert_eq!(steps[3]["content"].as_str().unwrap().trim(), "55");
    assert_eq!(steps[5]["name"], "current_time");
    assert_eq!(steps[6]["text"], "The sum of 1..10 is 55.");
    assert_eq!(steps[6]["iteration"], 3);
    assert_eq!(steps[6]["usage"]["input_tokens"], 60);
    assert_eq!(steps[6]["lineage"]["provider"], "local");

    // The model saw the tool's output in OpenAI's wire form on its next turn.
    let bodies = mock.bodies();
    assert_eq!(bodies.len(), 3);
    let tool_msg = bodies[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap_or_else(|| panic!("no tool message: {}", bodies[1]));
    assert_eq!(tool_msg["tool_call_id"], "call_1_0");
    assert_eq!(tool_msg["content"].as_str().unwrap().trim(), "55");
    assert_eq!(bodies[0]["tools"].as_array().unwrap().len(), 2);

    // One complete audit line per call.
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (line, tool) in lines.iter().zip(["python", "current_time"]) {
        for field in [
            "time",
            "agent",
            "run_id",
            "tool",
            "call_id",
            "arguments",
            "outcome",
            "tier",
            "duration_ms",
        ] {
            assert!(!line[field].is_null(), "audit line misses {field}: {line}");
        }
        assert_eq!(line["tool"], tool);
        assert_eq!(line["run_id"], run_id);
        assert_eq!(line["agent"], "summer");
        assert_eq!(line["outcome"], "ok");
        assert_eq!(line["tier"], "elevated");
    }
    assert_eq!(lines[0]["arguments"]["code"], "print(sum(range(1, 11)))");
}

/// `aratta agent run --model brain --json` with `brain` naming `target` in the config.
async fn cli_run(
    target: &str,
    providers: &[Provider],
    extra: &[&str],
) -> (std::process::Output, Vec<Value>, Vec<Value>) {
    let home = tempfile::tempdir().unwrap();
    let mut config = Config::new().alias("brain", &[target]);
    for p in providers {
        config = config.provider(p.clone());
    }
    std::fs::write(home.path().join("config.toml"), config.to_toml()).unwrap();
    let audit = home.path().join("audit.jsonl");
    let mut args = vec![
        "agent",
        "run",
        "--model",
        "brain",
        "--tier",
        "elevated",
        "--tools",
        "python,current_time",
    ];
    args.extend_from_slice(extra);
    args.push("Sum 1..10");
    let componentize_py = componentize_py().await;
    let out = run_aratta(
        home.path(),
        &args,
        &[
            ("ANTHROPIC_API_KEY", "test-key-anthropic"),
            ("ARATTA_AGENT_AUDIT", audit.to_str().unwrap()),
            ("ARATTA_COMPONENTIZE_PY", &componentize_py),
        ],
    )
    .await;
    let steps = if extra.contains(&"--json") {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("step line {l}: {e}")))
            .collect()
    } else {
        Vec::new()
    };
    (out, steps, audit_lines(&audit))
}

#[tokio::test]
async fn the_same_agent_makes_the_same_tool_calls_on_openai_and_anthropic_wire_formats() {
    let openai = Scripted::start(Wire::OpenAi, sum_script(), None).await;
    let anthropic = Scripted::start(Wire::Anthropic, sum_script(), None).await;
    let providers = [
        Provider::new("local", &openai.base_url()),
        Provider::new("anthropic", &anthropic.base_url()).api_key_env("ANTHROPIC_API_KEY"),
    ];
    // Only the alias's target differs between the two runs: no code, no flag changes.
    let (out_a, steps_a, audit_a) = cli_run("local:m", &providers, &["--json"]).await;
    let (out_b, steps_b, audit_b) = cli_run("anthropic:claude-test", &providers, &["--json"]).await;
    for out in [&out_a, &out_b] {
        assert!(
            out.status.success(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        tool_sequence(&steps_a),
        [
            ("python".into(), "ok".into()),
            ("current_time".into(), "ok".into())
        ]
    );
    assert_eq!(tool_sequence(&steps_a), tool_sequence(&steps_b));
    assert_eq!(types(&steps_a), types(&steps_b));
    let answer = |steps: &[Value]| steps.last().unwrap()["lineage"]["provider"].clone();
    assert_eq!(
        (answer(&steps_a), answer(&steps_b)),
        (json!("local"), json!("anthropic"))
    );
    assert_eq!(openai.bodies().len(), 3);
    assert_eq!(anthropic.bodies().len(), 3);
    // Anthropic got the python output back as a tool_result block for its tool_use id.
    let second = &anthropic.bodies()[1];
    let result = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .find(|b| b["type"] == "tool_result")
        .unwrap_or_else(|| panic!("no tool_result block: {second}"));
    assert_eq!(result["tool_use_id"], "toolu_1_0");
    assert_eq!(
        anthropic.bodies()[0]["tools"][0]["input_schema"]["type"],
        "object"
    );
    assert_eq!(audit_a.len(), 2);
    assert_eq!(audit_b.len(), 2);
}

#[tokio::test]
async fn the_cli_prints_each_step_for_people() {
    let openai = Scripted::start(Wire::OpenAi, sum_script(), None).await;
    let (out, _, _) = cli_run(
        "local:m",
        &[Provider::new("local", &openai.base_url())],
        &[],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("[start] run_") && lines[0].ends_with("tools=current_time,python"),
        "{stdout}"
    );
    assert_eq!(lines[1], "[1] thought: I will compute the sum with Python.");
    assert_eq!(
        lines[2],
        r#"[1] call python {"code":"print(sum(range(1, 11)))"}"#
    );
    assert!(
        lines[3].starts_with("[1] result python ok (") && lines[3].ends_with("): 55"),
        "{stdout}"
    );
    assert_eq!(
        lines.last().unwrap(),
        &"[3] answer: The sum of 1..10 is 55."
    );
}

#[tokio::test]
async fn max_iterations_stops_a_model_that_keeps_calling_tools() {
    let looping = Turn::Calls(None, vec![("current_time", json!({}))]);
    let mock = Scripted::start(Wire::OpenAi, vec![], Some(looping)).await;
    let (_dir, audit) = temp_audit();
    let gateway = gateway_for(&mock, &audit).await;
    let steps = run_http(
        &gateway,
        &json!({"model": "brain", "task": "loop", "max_iterations": 3}),
    )
    .await;
    assert_eq!(
        steps.last().unwrap(),
        &json!({"type": "max_iterations", "iterations": 3})
    );
    assert_eq!(tool_sequence(&steps).len(), 3);
    assert!(!types(&steps).contains(&"answer"));
    assert_eq!(mock.bodies().len(), 3);
    assert_eq!(audit_lines(&audit).len(), 3);

    // The CLI says so and exits non-zero.
    let (out, steps, _) = cli_run(
        "local:m",
        &[Provider::new("local", &mock.base_url())],
        &["--json", "--max-iterations", "2"],
    )
    .await;
    assert!(!out.status.success());
    assert_eq!(steps.last().unwrap()["type"], "max_iterations");
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped after 2 iterations"));
}

#[tokio::test]
async fn refused_calls_are_audited_returned_to_the_model_and_the_loop_goes_on() {
    let script = vec![
        // Above the agent's tier.
        Turn::Calls(None, vec![("python", json!({"code": "print(1)"}))]),
        // Not a tool at all.
        Turn::Calls(None, vec![("rm_rf", json!({"path": "/"}))]),
        // Allowed.
        Turn::Calls(None, vec![("current_time", json!({}))]),
        Turn::Answer("done despite refusals"),
    ];
    let mock = Scripted::start(Wire::OpenAi, script, None).await;
    let (_dir, audit) = temp_audit();
    let gateway = gateway_for(&mock, &audit).await;
    let steps = run_http(
        &gateway,
        &json!({"model": "brain", "task": "try things", "tier": "restricted", "name": "low"}),
    )
    .await;
    // A restricted agent is offered only what it may call.
    assert_eq!(steps[0]["tools"], json!(["current_time"]));
    assert_eq!(
        tool_sequence(&steps),
        [
            ("python".into(), "denied".into()),
            ("rm_rf".into(), "denied".into()),
            ("current_time".into(), "ok".into())
        ]
    );
    let results: Vec<&Value> = steps
        .iter()
        .filter(|s| s["type"] == "tool_result")
        .collect();
    assert_eq!(
        results[0]["content"],
        "permission denied: tool `python` requires the `elevated` tier; this agent runs at `restricted`"
    );
    assert!(
        results[1]["content"]
            .as_str()
            .unwrap()
            .starts_with("no tool named `rm_rf`")
    );
    assert_eq!(steps.last().unwrap()["text"], "done despite refusals");

    // The refusal reached the model as its tool result.
    let bodies = mock.bodies();
    let tool_msg = bodies[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap();
    assert!(
        tool_msg["content"]
            .as_str()
            .unwrap()
            .contains("requires the `elevated` tier"),
        "{tool_msg}"
    );

    let lines = audit_lines(&audit);
    let outcomes: Vec<&str> = lines
        .iter()
        .map(|l| l["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["denied", "denied", "ok"]);
    assert!(lines[0]["detail"].as_str().unwrap().contains("elevated"));
    assert_eq!(lines[0]["tier"], "restricted");
    assert_eq!(lines[1]["arguments"], json!({"path": "/"}));
}

#[tokio::test]
async fn sandbox_refusals_and_the_allow_list_come_back_as_tool_errors() {
    let script = vec![
        Turn::Calls(
            None,
            vec![("python", json!({"code": "import os\nprint(os.environ)"}))],
        ),
        Turn::Calls(None, vec![("current_time", json!({}))]),
        Turn::Answer("ok"),
    ];
    let mock = Scripted::start(Wire::OpenAi, script, None).await;
    let (_dir, audit) = temp_audit();
    let gateway = gateway_for(&mock, &audit).await;
    let steps = run_http(
        &gateway,
        &json!({"model": "brain", "task": "t", "tier": "system", "tools": ["python"]}),
    )
    .await;
    let results: Vec<&Value> = steps
        .iter()
        .filter(|s| s["type"] == "tool_result")
        .collect();
    assert_eq!(results[0]["outcome"], "error");
    assert!(
        results[0]["content"]
            .as_str()
            .unwrap()
            .starts_with("code refused: line 1: `import os`"),
        "{}",
        results[0]
    );
    assert_eq!(results[1]["outcome"], "denied");
    assert!(
        results[1]["content"]
            .as_str()
            .unwrap()
            .contains("not among this agent's allowed tools (python)")
    );
    assert_eq!(steps.last().unwrap()["type"], "answer");
    assert_eq!(audit_lines(&audit).len(), 2);
}

#[tokio::test]
async fn bad_agent_requests_are_refused_naming_the_field() {
    let mock = Scripted::start(Wire::OpenAi, vec![], None).await;
    let (_dir, audit) = temp_audit();
    let gateway = gateway_for(&mock, &audit).await;
    let cases = [
        (
            json!({"model": "brain", "task": "x", "tools": ["nope"]}),
            "tools: no tool named `nope`",
        ),
        (
            json!({"model": "brain", "task": "  "}),
            "task: must not be empty",
        ),
        (
            json!({"model": "brain", "task": "x", "max_iterations": 0}),
            "max_iterations",
        ),
        (
            json!({"model": "brain", "task": "x", "tier": "root"}),
            "tier",
        ),
        (json!({"model": "nowhere", "task": "x"}), "nowhere"),
        (
            json!({"model": "brain", "task": "x", "tools": ["python"]}),
            "tools: `python` requires the `elevated` tier and this agent runs at `standard`",
        ),
    ];
    for (body, needle) in cases {
        let response = gateway.post_json("/api/v1/agents/run", &body).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert!((400..500).contains(&status), "{body}: {status} {text}");
        assert!(text.contains(needle), "{body}: {text}");
    }
    assert!(mock.bodies().is_empty());
    let doc: Value = gateway
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        doc["paths"]["/api/v1/agents/run"]["post"].is_object(),
        "{}",
        doc["paths"]
    );
    assert!(doc["components"]["schemas"]["Step"].is_object());
}
