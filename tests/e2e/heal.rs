//! Self-healing end to end, with the real binary: Anthropic's Messages API drifts under a
//! running gateway (a mock in Anthropic's wire format renames a response field, a stream event,
//! refuses a parameter or an API version), the health monitor fires, and the heal worker
//! diagnoses it with a scripted heal model, researches it with a mock xAI or OpenAI Responses
//! API using `web_search`, patches the real `anthropic` adapter source, builds it to a
//! component with cargo, replays the failing call through it and swaps it in (or queues it).
//! The same client request then succeeds. The mocks are in the test kit (`aratta_tests::heal`).
//!
//! Refusals leave the serving version untouched: edits that do not apply, that break a safety
//! rule, that do not compile, a fix that compiles but does not fix, a trigger in the cooldown,
//! a caller's own repeated mistake.

use std::time::{Duration, Instant};

use aratta_tests::gateway::{Gateway, run_aratta};
use aratta_tests::heal::*;
use aratta_tests::otlp::Collector;
use aratta_tests::upstream::Upstream;
use serde_json::{Value, json};

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
        build_dir: None,
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
    // The samples are JSON in the prompt, so the body is there as a JSON string: the drifted
    // field's key with its quotes escaped once.
    let user_turn = prompts[0].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(
        user_turn.contains(r#""provider_body": "{\"id\":\"msg_01\""#)
            && user_turn.contains(r#"\"output\":[{\"type\":\"text\""#),
        "the raw provider body is in the prompt: {user_turn}"
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
    // (The background model-list refresh asks every provider for its list; nothing else.)
    assert!(
        openai.seen().iter().all(|s| s.path == "/v1/models"),
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
        build_dir: None,
    };
    // This cycle is also exported as a trace.
    let collector = Collector::start().await;
    let toml = config(&anthropic_up.url(), &model.upstream.url(), &setup)
        + &format!("\n[traces]\nendpoint = \"{}\"\n", collector.endpoint());
    let gateway = Gateway::builder_toml(&toml)
        .env("ANTHROPIC_API_KEY", "sk-ant-test")
        .env("XAI_API_KEY", "xai-test")
        .env("OPENAI_API_KEY", "sk-test")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .start()
        .await;
    let before = serving_sha(&gateway).await;
    drift_and_fail(&gateway, &drifted).await;
    let cycle = finished_cycle(&gateway, None).await;
    assert_eq!(cycle["status"], "queued", "{cycle:#}\n{}", gateway.logs());
    heal_trace_matches(&collector, &cycle).await;
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
        build_dir: None,
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

/// The cycle's trace: a span from trigger to decision with the outcome and approval, and under
/// it a span per phase, in order, at the cycle's own times; research's span cites its URLs.
async fn heal_trace_matches(collector: &Collector, cycle: &Value) {
    let spans = collector
        .wait_for(Duration::from_secs(10), |s| {
            s.iter().any(|s| s.name == "heal anthropic")
        })
        .await;
    let root = spans
        .iter()
        .find(|s| s.name == "heal anthropic")
        .unwrap_or_else(|| panic!("no heal span: {spans:#?}"));
    assert_eq!(root.parent_span_id, "");
    assert_eq!(root.attr("aratta.heal.cycle.id"), &cycle["id"]);
    assert_eq!(root.attr("aratta.heal.outcome"), "queued");
    assert_eq!(
        root.attr("aratta.heal.approval_id"),
        &cycle["decision"]["approval_id"]
    );
    assert_eq!(
        root.start_ns / 1_000_000,
        cycle["started_at_ms"].as_u64().unwrap()
    );
    let mut phases: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_span_id == root.span_id)
        .collect();
    phases.sort_by_key(|s| s.start_ns);
    let names: Vec<String> = phases.iter().map(|s| s.name.clone()).collect();
    let expected: Vec<String> = phase_names(cycle)
        .iter()
        .map(|n| format!("heal.{n}"))
        .collect();
    assert_eq!(names, expected);
    let research = phases.iter().find(|s| s.name == "heal.research").unwrap();
    assert_eq!(
        research.attr("aratta.heal.research.urls")[0],
        "https://docs.anthropic.com/en/api/messages"
    );
    assert_eq!(
        research.attr("aratta.heal.research.provider"),
        "openai:gpt-5-mini"
    );
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
        build_dir: None,
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
    // This one through the CLI, following the cycle to its end.
    let url = gateway.base_url().to_owned();
    let cli = run_aratta(
        gateway.home(),
        &["heal", "run", "anthropic", "--wait", "--url", &url],
        &[],
    )
    .await;
    let (out, err) = (
        String::from_utf8_lossy(&cli.stdout).into_owned(),
        String::from_utf8_lossy(&cli.stderr).into_owned(),
    );
    assert!(cli.status.success(), "{out}{err}");
    assert!(
        out.contains("failed: refused: the fix breaks a safety rule") && out.contains("unsafe"),
        "{out}{err}"
    );
    assert!(
        err.contains("diagnose") && err.contains("fix"),
        "phases as they end: {err}"
    );
    assert_eq!(serving_sha(&gateway).await, before);
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
        build_dir: None,
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
        build_dir: None,
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
        build_dir: None,
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

#[tokio::test]
async fn without_a_toolchain_the_proposal_waits_for_a_human_not_built() {
    let drifted = DriftSwitch::default();
    let anthropic_up = Upstream::start(anthropic(drifted.clone())).await;
    let model = HealModel::start(vec![
        ("aratta_heal_diagnosis", diagnosis()),
        ("aratta_heal_fix", fix(0.95, good_edits())),
    ])
    .await;
    let setup = Setup {
        auto_apply: true,
        ..Setup::default()
    };
    // No cargo on PATH: nothing can be built.
    let gateway =
        Gateway::builder_toml(&config(&anthropic_up.url(), &model.upstream.url(), &setup))
            .env("ANTHROPIC_API_KEY", "sk-ant-test")
            .env("PATH", "/usr/bin:/bin")
            .start()
            .await;
    let before = serving_sha(&gateway).await;
    drift_and_fail(&gateway, &drifted).await;
    let cycle = finished_cycle(&gateway, None).await;
    assert_eq!(cycle["status"], "queued", "{cycle:#}");
    let reason = cycle["decision"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("not built") && reason.contains("is Rust installed"),
        "{reason}"
    );
    assert_eq!(serving_sha(&gateway).await, before);

    // The human gets the diagnosis and the edits; approving says what to do instead.
    let approvals: Value = gateway.get("/api/v1/approvals").await.json().await.unwrap();
    let entry = &approvals[0];
    assert!(entry["heal"]["not_built"].is_string(), "{entry:#}");
    assert!(
        entry["heal"]["diff"]
            .as_str()
            .unwrap()
            .contains("alias = \"output\"")
    );
    let id = entry["id"].as_str().unwrap();
    let approve = gateway
        .post_json(&format!("/api/v1/approvals/{id}/approve"), &json!({}))
        .await;
    assert_eq!(approve.status(), 409);
    assert!(
        approve
            .text()
            .await
            .unwrap()
            .contains("aratta adapter build")
    );
    let reject = gateway
        .post_json(
            &format!("/api/v1/approvals/{id}/reject"),
            &json!({"reason": "applied by hand"}),
        )
        .await;
    assert_eq!(reject.status(), 200);
    assert_eq!(serving_sha(&gateway).await, before);
}

#[tokio::test]
async fn a_heal_model_that_twice_answers_no_json_fails_the_cycle_with_its_answer_kept() {
    let drifted = DriftSwitch::default();
    let anthropic_up = Upstream::start(anthropic(drifted.clone())).await;
    let model = HealModel::start(vec![
        (
            "aratta_heal_diagnosis",
            json!("Sure! The field was renamed."),
        ),
        (
            "aratta_heal_diagnosis",
            json!("{\"classification\": \"renamed_response_field\"}"),
        ),
    ])
    .await;
    let gateway = start(&anthropic_up, &model, &Setup::default()).await;
    let before = serving_sha(&gateway).await;
    drift_and_fail(&gateway, &drifted).await;
    let cycle = finished_cycle(&gateway, None).await;
    assert_eq!(cycle["status"], "failed", "{cycle:#}");
    assert_eq!(phase_names(&cycle), ["diagnose"]);
    assert_eq!(
        model.schemas(),
        ["aratta_heal_diagnosis", "aratta_heal_diagnosis"]
    );
    // The retry told the model why, and the record keeps its last answer.
    let retry = model.upstream.seen_at("/v1/chat/completions")[1]
        .body
        .to_string();
    assert!(retry.contains("That answer is not valid"), "{retry}");
    let output = cycle["phases"][0]["output"].as_str().unwrap();
    assert!(
        output.contains("missing field `summary`") && output.contains("renamed_response_field"),
        "{output}"
    );
    assert_eq!(serving_sha(&gateway).await, before);
}
