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
