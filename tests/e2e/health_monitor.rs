//! The health monitor, end to end: a burst of schema mismatches from a drifted upstream crosses
//! `[healing] error_threshold` and fires exactly one heal trigger per cooldown, seen by a real
//! webhook receiver and at `GET /api/v1/health/triggers`; transient errors are counted and never
//! trigger; a dead webhook never holds a request up; the metrics count what happened.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aratta_tests::config::{Config, quote};
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, hello};
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A tiny webhook receiver: answers 204 to every POST and keeps the JSON bodies.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/aratta", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let kept = kept.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let kept = kept.clone();
                        async move {
                            let ok = req.method() == hyper::Method::POST
                                && req.uri().path() == "/hooks/aratta"
                                && req.headers()["content-type"] == "application/json";
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let value: Value = serde_json::from_slice(&body)
                                .unwrap_or_else(|_| json!({"not_json": true}));
                            if ok {
                                kept.lock().unwrap().push(value);
                            }
                            let status = if ok { 204 } else { 400 };
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::new()))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver { url, bodies }
    }

    fn received(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    /// Waits until `n` posts arrived (or 5 s passed) and returns what arrived.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let until = Instant::now() + Duration::from_secs(5);
        while self.received().len() < n && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.received()
    }
}

/// A chat request with a system prompt, a user message and a tool: its shape is what a
/// trigger must carry; the words in it must not leave the gateway.
fn shaped(model: &str) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "my secret plans for tuesday"},
        ],
        "tools": [{"name": "get_weather", "parameters": {"type": "object", "properties": {}}}],
    })
}

async fn chat(gateway: &Gateway, body: &Value) -> Answer {
    Answer::read(gateway.post_json("/api/v1/chat", body).await).await
}

async fn triggers(gateway: &Gateway) -> Value {
    Answer::read(gateway.get("/api/v1/health/triggers").await)
        .await
        .assert_status(200)
        .json()
}

async fn prometheus(gateway: &Gateway) -> String {
    Answer::read(gateway.get("/metrics").await)
        .await
        .assert_status(200)
        .text
        .clone()
}

fn healing(threshold: u32, cooldown: u64, webhook: &str) -> String {
    format!(
        "[healing]\nerror_threshold = {threshold}\nwindow_seconds = 60\ncooldown_seconds = {cooldown}\nalert_webhook_url = {}\n\n[breaker]\nfailure_threshold = 1000\n",
        quote(webhook)
    )
}

#[tokio::test]
async fn a_schema_mismatch_burst_fires_exactly_one_trigger_per_cooldown() {
    let receiver = Receiver::start().await;
    let mock =
        MockUpstream::start(Script::new().with_model("drift", Behaviour::MissingChoices)).await;
    let config = Config::local(&mock.base_url()).raw(&healing(3, 3, &receiver.url));
    let gateway = Gateway::start(&config).await;

    // Five mismatches in a row: the third crosses the threshold; the rest are in the cooldown.
    for _ in 0..5 {
        chat(&gateway, &shaped("local:drift"))
            .await
            .assert_status(502);
    }
    // A healthy model on the same provider is unaffected.
    chat(&gateway, &hello("local:fine"))
        .await
        .assert_status(200);

    let posted = receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posted_later = receiver.received();
    assert_eq!(
        posted.len(),
        1,
        "one trigger per cooldown: {posted_later:#?}"
    );
    assert_eq!(
        posted_later.len(),
        1,
        "no second trigger: {posted_later:#?}"
    );
    let trigger = &posted[0];
    assert_eq!(trigger["provider"], "local");
    assert_eq!(trigger["adapter"], "local");
    assert_eq!(trigger["class"], "missing_field");
    assert_eq!(trigger["errors_in_window"], 3);
    assert_eq!(trigger["threshold"], 3);
    let samples = trigger["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 3);
    for s in samples {
        assert_eq!(s["status"], 200, "the provider's status: {s}");
        assert!(
            s["body"]
                .as_str()
                .unwrap_or_default()
                .contains("chat.completion"),
            "the provider's raw body: {s}"
        );
        assert_eq!(s["path"], "choices", "{s}");
        let shape = &s["request"];
        assert_eq!(shape["model"], "drift");
        assert_eq!(shape["stream"], false);
        assert_eq!(shape["message_count"], 2);
        assert_eq!(shape["roles"], json!(["system", "user"]));
        assert_eq!(shape["tool_names"], json!(["get_weather"]));
    }
    let text = trigger.to_string();
    assert!(
        !text.contains("secret plans") && !text.contains("You are terse"),
        "the user's content never leaves in a trigger: {text}"
    );

    // The route shows the same trigger and the counts.
    let report = triggers(&gateway).await;
    assert_eq!(report["triggers"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["triggers"][0]["id"], trigger["id"]);
    let counted = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["provider"] == "local" && w["class"] == "missing_field")
        .cloned()
        .unwrap_or_else(|| panic!("missing_field counted: {report}"));
    assert_eq!(counted["total"], 5);
    assert!(counted["cooldown_remaining_seconds"].is_u64(), "{counted}");

    // After the cooldown a new burst fires once more.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    for _ in 0..3 {
        chat(&gateway, &shaped("local:drift"))
            .await
            .assert_status(502);
    }
    let posted = receiver.wait_for(2).await;
    assert_eq!(posted.len(), 2, "{posted:#?}");
    assert_ne!(posted[0]["id"], posted[1]["id"]);
    assert_eq!(
        triggers(&gateway).await["triggers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let metrics = prometheus(&gateway).await;
    assert!(metrics.contains("heal_triggers_total 2"), "{metrics}");
    assert!(
        metrics.contains("adapter_errors_total{class=\"missing_field\",provider=\"local\"} 8"),
        "{metrics}"
    );
    let json = Answer::read(gateway.get("/api/v1/metrics").await)
        .await
        .assert_status(200)
        .json();
    assert_eq!(json["heal_triggers_total"]["samples"][0]["value"], 2.0);
    assert!(
        gateway.logs().contains("heal trigger"),
        "the log sink wrote a line"
    );
}

#[tokio::test]
async fn transient_errors_are_counted_but_never_trigger() {
    let receiver = Receiver::start().await;
    let script = Script::new()
        .with_model("limited", Behaviour::Error(429))
        .with_model("overloaded", Behaviour::Error(503));
    let mock = MockUpstream::start(script).await;
    let config = Config::local(&mock.base_url()).raw(&healing(2, 60, &receiver.url));
    let gateway = Gateway::start(&config).await;

    for _ in 0..6 {
        chat(&gateway, &hello("local:limited"))
            .await
            .assert_status(429);
        chat(&gateway, &hello("local:overloaded"))
            .await
            .assert_status(503);
    }
    assert_eq!(mock.chat_requests().len(), 12);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.received().is_empty(), "{:?}", receiver.received());

    let report = triggers(&gateway).await;
    assert_eq!(report["triggers"], json!([]), "{report}");
    let total = |class: &str| {
        report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["class"] == class)
            .map(|w| (w["total"].clone(), w["in_window"].clone()))
    };
    assert_eq!(
        total("rate_limited"),
        Some((json!(6), json!(0))),
        "{report}"
    );
    assert_eq!(total("overloaded"), Some((json!(6), json!(0))), "{report}");

    let metrics = prometheus(&gateway).await;
    assert!(metrics.contains("heal_triggers_total 0"), "{metrics}");
    assert!(
        metrics.contains("adapter_errors_total{class=\"rate_limited\",provider=\"local\"} 6"),
        "{metrics}"
    );
    assert!(
        metrics.contains("provider_errors_total{provider=\"local\",type=\"overloaded_error\"} 6"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_dead_webhook_is_logged_and_never_holds_a_request_up() {
    // A port nothing listens on: the delivery fails, the requests do not wait for it.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mock =
        MockUpstream::start(Script::new().with_model("drift", Behaviour::MissingChoices)).await;
    let config =
        Config::local(&mock.base_url()).raw(&healing(1, 60, &format!("http://{dead}/hook")));
    let gateway = Gateway::start(&config).await;
    let t0 = Instant::now();
    chat(&gateway, &shaped("local:drift"))
        .await
        .assert_status(502);
    assert!(t0.elapsed() < Duration::from_secs(3));
    let line = gateway
        .wait_for_log(&["alert webhook failed"], Duration::from_secs(5))
        .await;
    assert!(line.is_some(), "{}", gateway.logs());
    assert_eq!(
        triggers(&gateway).await["triggers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    gateway.assert_answers("local:m").await;
}

#[tokio::test]
async fn beyond_loopback_the_triggers_route_needs_the_admin_token() {
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::local(&mock.base_url()).raw("[server]\nhost = \"0.0.0.0\"\n");
    let gateway = Gateway::builder(&config)
        .env("ARATTA_ADMIN_TOKEN", "t0ken")
        .start()
        .await;
    let url = gateway.url("/api/v1/health/triggers");
    let client = gateway.client();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    let ok = client.get(&url).bearer_auth("t0ken").send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_bad_webhook_url_is_a_config_error_naming_the_key() {
    let mock = MockUpstream::start(Script::new()).await;
    let config =
        Config::local(&mock.base_url()).raw("[healing]\nalert_webhook_url = \"ftp://x\"\n");
    let failure = Gateway::builder(&config)
        .try_start()
        .await
        .err()
        .expect("the gateway refuses the config");
    let text = failure.to_string();
    assert!(text.contains("healing.alert_webhook_url"), "{text}");
}
