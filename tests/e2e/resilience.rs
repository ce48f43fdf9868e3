//! Circuit breakers and metrics, end to end: a provider that keeps failing is no longer called
//! and its traffic falls back with no error the client can see; it recovers through half-open
//! probes; operators force states through the API; both metrics endpoints count what happened.

use std::time::Duration;

use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, hello};
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use serde_json::Value;

/// `local` answering per `first`, a healthy `backup`, alias `fast` over both, and a breaker
/// that opens after 2 failures and probes again after 1 s.
async fn setup(first: Script) -> (MockUpstream, MockUpstream, Gateway) {
    let first = MockUpstream::start(first).await;
    let backup = MockUpstream::start(Script::new()).await;
    let config = Config::local(&first.base_url())
        .provider(Provider::new("backup", &backup.base_url()).adapter("local"))
        .alias("fast", &["local:a", "backup:b"])
        .raw("[breaker]\nfailure_threshold = 2\nwindow_seconds = 60\nrecovery_seconds = 1\nhalf_open_successes = 1\n");
    let gateway = Gateway::start(&config).await;
    (first, backup, gateway)
}

async fn ask(gateway: &Gateway) -> Value {
    Answer::read(gateway.post_json("/api/v1/chat", &hello("fast")).await)
        .await
        .assert_status(200)
        .json()
}

async fn breaker_state(gateway: &Gateway, provider: &str) -> String {
    let all = Answer::read(gateway.get("/api/v1/breakers").await)
        .await
        .assert_status(200)
        .json();
    let entry = all
        .as_array()
        .expect("a list of breakers")
        .iter()
        .find(|b| b["provider"] == provider)
        .unwrap_or_else(|| panic!("no breaker for {provider}: {all}"))
        .clone();
    entry["state"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_failing_provider_opens_its_breaker_and_traffic_falls_back_without_calling_it() {
    let (first, backup, gateway) = setup(Script::always(Behaviour::Error(503))).await;
    for _ in 0..2 {
        assert_eq!(ask(&gateway).await["lineage"]["provider"], "backup");
    }
    assert_eq!(first.chat_requests().len(), 2);
    assert_eq!(breaker_state(&gateway, "local").await, "open");

    // Open: the failing provider is skipped, the client still gets an answer.
    let body = ask(&gateway).await;
    assert_eq!(body["lineage"]["provider"], "backup");
    assert_eq!(body["lineage"]["attempts"][0]["outcome"], "circuit_open");
    assert_eq!(
        first.chat_requests().len(),
        2,
        "an open breaker must not call upstream"
    );
    assert_eq!(backup.chat_requests().len(), 3);

    // After the recovery timeout one probe goes through; it fails, so the breaker reopens.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ask(&gateway).await;
    assert_eq!(first.chat_requests().len(), 3);
    assert_eq!(breaker_state(&gateway, "local").await, "open");

    let metrics = Answer::read(gateway.get("/metrics").await)
        .await
        .assert_status(200)
        .text
        .clone();
    assert!(
        metrics.contains("circuit_opens_total{provider=\"local\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("open_circuits 1"), "{metrics}");
    assert!(
        metrics.contains("provider_errors_total{provider=\"local\",type=\"overloaded_error\"} 3"),
        "{metrics}"
    );
    let json = Answer::read(gateway.get("/api/v1/metrics").await)
        .await
        .assert_status(200)
        .json();
    let ok = json["aratta_requests_total"]["samples"]
        .as_array()
        .expect("request samples")
        .iter()
        .find(|s| s["labels"]["provider"] == "backup" && s["labels"]["outcome"] == "ok")
        .expect("backup's successes are counted")
        .clone();
    assert_eq!(ok["value"], 4.0);
}

#[tokio::test]
async fn a_recovered_provider_closes_its_breaker_through_a_half_open_probe() {
    let (first, _backup, gateway) =
        setup(Script::new().with_queue([Behaviour::Error(500), Behaviour::Error(500)])).await;
    for _ in 0..2 {
        ask(&gateway).await;
    }
    assert_eq!(breaker_state(&gateway, "local").await, "open");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let body = ask(&gateway).await;
    assert_eq!(
        body["lineage"]["provider"], "local",
        "the probe succeeded: {body}"
    );
    assert_eq!(breaker_state(&gateway, "local").await, "closed");
    assert_eq!(first.chat_requests().len(), 3);
}

#[tokio::test]
async fn operators_force_breakers_open_and_closed_and_reset_them() {
    let (first, backup, gateway) = setup(Script::new()).await;
    let post = |action: &str| {
        let path = format!("/api/v1/breakers/local/{action}");
        let gateway = &gateway;
        async move { gateway.post_raw(&path, "").await }
    };

    Answer::read(post("open").await).await.assert_status(200);
    assert_eq!(breaker_state(&gateway, "local").await, "forced_open");
    assert_eq!(ask(&gateway).await["lineage"]["provider"], "backup");
    assert_eq!(first.chat_requests().len(), 0);

    Answer::read(post("close").await).await.assert_status(200);
    assert_eq!(breaker_state(&gateway, "local").await, "forced_closed");
    assert_eq!(ask(&gateway).await["lineage"]["provider"], "local");

    Answer::read(post("reset").await).await.assert_status(200);
    assert_eq!(breaker_state(&gateway, "local").await, "closed");
    assert_eq!(backup.chat_requests().len(), 1);

    Answer::read(post("explode").await).await.assert_status(400);
    Answer::read(gateway.post_raw("/api/v1/breakers/nobody/open", "").await)
        .await
        .assert_status(404);
}

#[tokio::test]
async fn beyond_loopback_admin_routes_need_the_token() {
    let upstream = MockUpstream::start(Script::new()).await;
    let config = Config::local(&upstream.base_url()).raw("[server]\nhost = \"0.0.0.0\"\n");
    let gateway = Gateway::builder(&config)
        .env("ARATTA_ADMIN_TOKEN", "t0ken")
        .start()
        .await;
    let url = gateway.url("/api/v1/breakers/local/open");
    let client = gateway.client();
    assert_eq!(client.post(&url).send().await.unwrap().status(), 401);
    let wrong = client.post(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right = client.post(&url).bearer_auth("t0ken").send().await.unwrap();
    assert_eq!(right.status(), 200);
}

/// The value of the Prometheus sample `line_start` (`name{labels}`), if it is listed.
fn prometheus_value(text: &str, line_start: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.strip_prefix(' ')?.parse().ok())
}

/// The JSON samples of `metric` whose labels include every `(name, value)` of `labels`.
fn json_samples(json: &Value, metric: &str, labels: &[(&str, &str)]) -> Vec<Value> {
    json[metric]["samples"]
        .as_array()
        .unwrap_or_else(|| panic!("{metric} is not listed: {json}"))
        .iter()
        .filter(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_metric_is_listed_at_zero_for_each_provider_before_the_first_request() {
    let upstream = MockUpstream::start(Script::new()).await;
    // Two providers on two adapters; `claude` is never called.
    let config = Config::local(&upstream.base_url())
        .provider(Provider::new("claude", "http://127.0.0.1:9").adapter("anthropic"));
    let gateway = Gateway::start(&config).await;
    let text = Answer::read(gateway.get("/metrics").await)
        .await
        .assert_status(200)
        .text
        .clone();
    let json = Answer::read(gateway.get("/api/v1/metrics").await)
        .await
        .assert_status(200)
        .json();

    for (provider, adapter) in [("local", "local"), ("claude", "anthropic")] {
        let p = format!("provider=\"{provider}\"");
        let a = format!("adapter=\"{adapter}\"");
        for line in [
            format!("circuit_opens_total{{{p}}}"),
            format!("provider_retries_total{{{p}}}"),
            format!("provider_errors_total{{{p},type=\"rate_limit_error\"}}"),
            format!("provider_errors_total{{{p},type=\"provider_unavailable_error\"}}"),
            format!("adapter_errors_total{{class=\"missing_field\",{p}}}"),
            format!("circuit_transitions_total{{{p},to=\"open\"}}"),
            format!("circuit_transitions_total{{{p},to=\"closed\"}}"),
            format!("aratta_requests_total{{outcome=\"ok\",{p},route=\"chat\"}}"),
            format!(
                "aratta_requests_total{{outcome=\"upstream_error\",{p},route=\"chat_stream\"}}"
            ),
            format!("aratta_request_duration_seconds_count{{{p},route=\"embed\"}}"),
            format!("heal_requests_total{{{a},outcome=\"swapped\"}}"),
            format!("heal_requests_total{{{a},outcome=\"failed\"}}"),
            format!("adapter_swaps_total{{action=\"refused\",{a}}}"),
        ] {
            assert_eq!(prometheus_value(&text, &line), Some(0.0), "{line}:\n{text}");
        }
        for (metric, label, value) in [
            ("circuit_opens_total", "provider", provider),
            ("provider_retries_total", "provider", provider),
            ("provider_errors_total", "provider", provider),
            ("adapter_errors_total", "provider", provider),
            ("circuit_transitions_total", "provider", provider),
            ("aratta_requests_total", "provider", provider),
            ("heal_requests_total", "adapter", adapter),
            ("adapter_swaps_total", "adapter", adapter),
        ] {
            let samples = json_samples(&json, metric, &[(label, value)]);
            assert!(
                !samples.is_empty(),
                "{metric} has no {value} series: {json}"
            );
            assert!(
                samples.iter().all(|s| s["value"] == 0.0),
                "{metric}: {samples:?}"
            );
        }
        let durations = json_samples(
            &json,
            "aratta_request_duration_seconds",
            &[("provider", provider)],
        );
        assert_eq!(durations.len(), 3, "one per route: {durations:?}");
        assert!(durations.iter().all(|s| s["count"] == 0), "{durations:?}");
    }
    assert_eq!(prometheus_value(&text, "open_circuits"), Some(0.0));
    assert_eq!(prometheus_value(&text, "heal_triggers_total"), Some(0.0));

    // The series made up front are the ones that get counted: answering adds none.
    let series = |json: &Value, metric: &str| json_samples(json, metric, &[]).len();
    Answer::read(gateway.post_json("/api/v1/chat", &hello("local:m")).await)
        .await
        .assert_status(200);
    let mut stream = hello("local:m");
    stream["stream"] = serde_json::json!(true);
    let streamed = gateway.post_json("/api/v1/chat", &stream).await;
    assert_eq!(streamed.status(), 200);
    streamed.text().await.expect("the stream ends");
    let after = Answer::read(gateway.get("/api/v1/metrics").await)
        .await
        .assert_status(200)
        .json();
    for metric in ["aratta_requests_total", "aratta_request_duration_seconds"] {
        assert_eq!(series(&after, metric), series(&json, metric), "{metric}");
    }
    for route in ["chat", "chat_stream"] {
        let ok = json_samples(
            &after,
            "aratta_requests_total",
            &[("provider", "local"), ("route", route), ("outcome", "ok")],
        );
        assert_eq!(ok.len(), 1, "{route}: {ok:?}");
        assert_eq!(ok[0]["value"], 1.0, "{route}: {ok:?}");
    }
}
