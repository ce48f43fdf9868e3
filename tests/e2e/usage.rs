//! Usage records end to end through the real binary: every request the gateway serves is
//! recorded once, with its client key, tokens and cost, never its content; sums by key, model
//! and provider match what the clients were told; a stream its client leaves is recorded; the
//! CLI and the metrics agree with the API.

use std::time::{Duration, Instant};

use aratta_tests::config::Config;
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, run_aratta};
use aratta_tests::mock::{MockUpstream, Script};
use serde_json::{Value, json};

/// Per million tokens, for `local`.
const PRICES: &str = "[prices.\"local:*\"]\ninput = 1.0\noutput = 2.0\ncache_read = 0.5\n";

async fn gateway(script: Script) -> (MockUpstream, Gateway) {
    let mock = MockUpstream::start(script).await;
    let config = Config::local(&mock.base_url())
        .raw(&format!("[server]\nrequire_client_keys = true\n{PRICES}"));
    (mock, Gateway::start(&config).await)
}

async fn make_key(gateway: &Gateway, name: &str) -> (String, String) {
    let made = Answer::read(
        gateway
            .post_json("/api/v1/keys", &json!({"name": name}))
            .await,
    )
    .await;
    made.assert_status(201);
    let made = made.json();
    (
        made["id"].as_str().unwrap().to_owned(),
        made["secret"].as_str().unwrap().to_owned(),
    )
}

async fn post(gateway: &Gateway, key: &str, path: &str, body: Value) -> Answer {
    let response = gateway
        .client()
        .post(gateway.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    Answer::read(response).await
}

/// The `usage` of an OpenAI chat answer, or of the last streamed chunk carrying one.
fn tokens(answer: &Answer) -> (u64, u64, u64) {
    let usage = if answer.text.starts_with('{') {
        answer.json()["usage"].clone()
    } else {
        answer
            .text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|c| c.get("usage").filter(|u| !u.is_null()).cloned())
            .next_back()
            .expect("a chunk with usage")
    };
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    (
        n(&usage["prompt_tokens"]),
        n(&usage["completion_tokens"]),
        n(&usage["prompt_tokens_details"]["cached_tokens"]),
    )
}

/// What `tokens` cost at [`PRICES`], in US dollars.
fn cost((input, output, cached): (u64, u64, u64)) -> f64 {
    ((input - cached) as f64 * 1.0 + cached as f64 * 0.5 + output as f64 * 2.0) / 1e6
}

async fn usage(gateway: &Gateway, query: &str) -> Value {
    let answer = Answer::read(gateway.get(&format!("/api/v1/usage{query}")).await).await;
    answer.assert_status(200);
    answer.json()
}

fn group<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == name)
        .unwrap_or_else(|| panic!("no group {name}: {report}"))
}

#[tokio::test]
async fn every_request_is_recorded_with_its_key_tokens_and_cost() {
    let (_mock, gateway) = gateway(Script::new()).await;
    let (a_id, a) = make_key(&gateway, "a").await;
    let (b_id, b) = make_key(&gateway, "b").await;
    let secret_prompt = "the zebra quartz phrase 7781 is content and must never be stored";
    let chat = json!({"model": "local:llama3.2", "messages": [{"role": "user", "content": secret_prompt}]});
    let mut told = Vec::new();
    for _ in 0..2 {
        let answer = post(&gateway, &a, "/v1/chat/completions", chat.clone()).await;
        answer.assert_status(200);
        told.push(tokens(&answer));
    }
    let mut streamed = chat.clone();
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let answer = post(&gateway, &a, "/v1/chat/completions", streamed).await;
    answer.assert_status(200);
    told.push(tokens(&answer));
    let embedded = post(
        &gateway,
        &b,
        "/v1/embeddings",
        json!({"model": "local:nomic-embed-text", "input": "x"}),
    )
    .await;
    embedded.assert_status(200);
    let embed_tokens = embedded.json()["usage"]["prompt_tokens"]
        .as_u64()
        .unwrap_or(0);
    post(
        &gateway,
        &b,
        "/v1/chat/completions",
        json!({"model": "nowhere:m", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await
    .assert_status(404);

    let by_key = usage(&gateway, "?by=key").await;
    let ga = group(&by_key, &a_id);
    assert_eq!(
        (ga["requests"].as_u64(), ga["errors"].as_u64()),
        (Some(3), Some(0)),
        "{ga}"
    );
    let sum = |f: fn(&(u64, u64, u64)) -> u64| told.iter().map(f).sum::<u64>();
    assert_eq!(ga["input_tokens"].as_u64(), Some(sum(|t| t.0)), "{ga}");
    assert_eq!(ga["output_tokens"].as_u64(), Some(sum(|t| t.1)), "{ga}");
    assert_eq!(ga["cache_read_tokens"].as_u64(), Some(sum(|t| t.2)), "{ga}");
    let expected: f64 = told.iter().copied().map(cost).sum();
    let recorded = ga["cost_usd"].as_f64().unwrap();
    assert!(
        (recorded - expected).abs() < 1e-9,
        "cost {recorded} != {expected}"
    );
    assert_eq!(ga["unpriced_requests"], 0);
    let gb = group(&by_key, &b_id);
    assert_eq!(
        (gb["requests"].as_u64(), gb["errors"].as_u64()),
        (Some(2), Some(1)),
        "{gb}"
    );

    let by_provider = usage(&gateway, "?by=provider").await;
    assert_eq!(group(&by_provider, "local")["requests"], 4);
    assert_eq!(
        group(&by_provider, "(none)")["requests"],
        1,
        "the 404 reached no provider"
    );
    let by_model = usage(&gateway, "?by=model").await;
    assert_eq!(group(&by_model, "local:llama3.2")["requests"], 3);
    let only_b = usage(&gateway, &format!("?key={b_id}")).await;
    assert_eq!(only_b["groups"].as_array().unwrap().len(), 1);
    let future = usage(&gateway, "?since=2999-01-01").await;
    assert!(future["groups"].as_array().unwrap().is_empty());
    let bad = Answer::read(gateway.get("/api/v1/usage?by=colour").await).await;
    bad.assert_status(400);
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("by: `colour`")
    );

    // The latest requests, one by one: routes, outcomes and request ids.
    let recent: Value = gateway
        .get("/api/v1/usage/requests?limit=10")
        .await
        .json()
        .await
        .unwrap();
    let recent = recent.as_array().unwrap();
    assert_eq!(recent.len(), 5, "{recent:?}");
    assert_eq!(recent[0]["outcome"], "not_found_error");
    assert_eq!(recent[0]["attempts"], 0);
    assert_eq!(recent[1]["route"], "embed");
    assert_eq!(recent[2]["route"], "chat_stream");
    assert_eq!(recent[2]["outcome"], "ok");

    // The CLI reads the same store.
    let out = run_aratta(gateway.home(), &["usage", "--by", "key", "--json"], &[]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, by_key["groups"]);

    // The metrics count the same tokens and requests.
    let metrics = gateway.get("/metrics").await.text().await.unwrap();
    let line = format!(
        "aratta_tokens_total{{kind=\"input\",provider=\"local\"}} {}",
        sum(|t| t.0) + embed_tokens
    );
    assert!(metrics.contains(&line), "{line} not in\n{metrics}");
    let line = format!("aratta_client_requests_total{{key=\"{a_id}\",outcome=\"ok\"}} 3");
    assert!(metrics.contains(&line), "{line}");

    // Ids and models are recorded; the prompt is not, anywhere in the store's files.
    let mut found_id = false;
    for entry in std::fs::read_dir(gateway.home()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("aratta.db")
        {
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("zebra quartz"),
                "the prompt was stored in {}",
                path.display()
            );
            found_id |= text.contains(recent[0]["request_id"].as_str().unwrap());
        }
    }
    assert!(
        found_id,
        "the store's files were read (a request id is in them)"
    );

    // Records are durable: they survive a crash and restart.
    let gateway = gateway.restart().await;
    let again = usage(&gateway, "?by=key").await;
    assert_eq!(group(&again, &a_id)["requests"], 3);
}

#[tokio::test]
async fn a_stream_its_client_leaves_is_recorded_as_client_closed() {
    let (_mock, gateway) =
        gateway(Script::new().with_chunk_delay(Duration::from_millis(300))).await;
    let (id, key) = make_key(&gateway, "leaver").await;
    let mut response = gateway
        .client()
        .post(gateway.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&json!({"model": "local:llama3.2", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let first = response.chunk().await.unwrap();
    assert!(first.is_some(), "the stream started");
    drop(response);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let recent: Value = gateway
            .get(&format!("/api/v1/usage/requests?key={id}"))
            .await
            .json()
            .await
            .unwrap();
        if let Some(row) = recent.as_array().unwrap().first() {
            assert_eq!(row["outcome"], "client_closed", "{row}");
            assert_eq!(row["route"], "chat_stream");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the abandoned stream was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let by_key = usage(&gateway, "").await;
    assert_eq!(
        group(&by_key, &id)["errors"],
        0,
        "a client leaving is not a failure"
    );
}

#[tokio::test]
async fn prices_are_listed_with_their_sources_and_the_operators_first() {
    let (_mock, gateway) = gateway(Script::new()).await;
    let listed: Value = gateway.get("/api/v1/prices").await.json().await.unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed[0]["provider"], "local");
    assert_eq!(listed[0]["model"], "*");
    assert_eq!(listed[0]["source"], "config");
    let gpt = listed
        .iter()
        .find(|p| p["provider"] == "openai" && p["model"] == "gpt-4o")
        .expect("gpt-4o is priced");
    assert!(
        gpt["source"].as_str().unwrap().starts_with("https://"),
        "{gpt}"
    );
    assert!(gpt["as_of"].as_str().unwrap().starts_with("20"), "{gpt}");
    // A bad price in the config is refused at start, naming the key.
    let bad = Config::new().raw("[prices.\"openai:gpt-4o\"]\ninput = -1\n");
    let failure = Gateway::builder(&bad)
        .try_start()
        .await
        .err()
        .expect("refused");
    assert!(
        failure
            .to_string()
            .contains("prices.\"openai:gpt-4o\".input"),
        "{failure}"
    );
}
