//! Wall-clock deadlines and the instance pool, proved with the misbehaving adapter
//! (`tests/adapters/misbehaving`): an adapter that sleeps in `describe` (at startup), `chat`, a
//! stream's next event or `get-models` is cut off at its deadline with an error naming the
//! adapter and the call, its instance slot is freed, and the server keeps serving; a stream
//! whose client disconnects frees its slot at once; a full
//! instance pool is a 503 with `retry-after` in every dialect that opens no breaker.

use std::time::{Duration, Instant};

use aratta_tests::bins;
use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, GatewayBuilder, hello};
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use aratta_tests::sse;
use serde_json::{Value, json};

/// The variable the misbehaving provider reads its credential from.
const KEY_VAR: &str = "MISBEHAVING_API_KEY";

/// A gateway with `local` and `misbehaving` providers pointing at `mock`; the misbehaving one
/// has a 1 s upstream timeout, so its calls' deadline is 1 s + 5 s.
fn builder(mock: &MockUpstream, misbehaving_url: &str, config: Config) -> GatewayBuilder {
    let config = config
        .provider(Provider::new("local", &mock.base_url()))
        .provider(
            Provider::new("misbehaving", misbehaving_url)
                .api_key_env(KEY_VAR)
                .raw("timeout_seconds", "1"),
        );
    Gateway::builder(&config)
        .adapter_file(&bins::misbehaving_adapter())
        .env(KEY_VAR, "k")
}

/// The deadline of a misbehaving call (timeout_seconds + 5 s), with room for a slow machine.
const CUT_OFF_WITHIN: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_chat_that_sleeps_is_cancelled_at_its_deadline_and_its_slot_is_freed() {
    let mock = MockUpstream::start(Script::new()).await;
    // Three slots: if cancelled calls kept theirs, the calls after them would find none.
    let config = Config::new().behaviour("adapter_max_instances", "3");
    let gateway = builder(&mock, &mock.base_url(), config).start().await;
    let started = Instant::now();
    let sleepers: Vec<_> = (0..3)
        .map(|_| {
            let request = hello("misbehaving:sleep");
            let gateway = &gateway;
            async move { Answer::read(gateway.post_json("/api/v1/chat", &request).await).await }
        })
        .collect();
    for answer in futures_util::future::join_all(sleepers).await {
        assert_eq!(answer.status.as_u16(), 504, "{}", answer.text);
        let error = &answer.json()["error"];
        assert_eq!(error["code"], "adapter_timeout", "{}", answer.text);
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("adapter 'misbehaving' did not answer chat within 6s"),
            "names the adapter, the call and the deadline: {message}"
        );
    }
    assert!(
        started.elapsed() < CUT_OFF_WITHIN,
        "cut off after {:?}",
        started.elapsed()
    );
    // The slots are free again: calls into both adapters answer.
    for _ in 0..3 {
        let again = Answer::read(
            gateway
                .post_json("/api/v1/chat", &hello("misbehaving:ok"))
                .await,
        )
        .await;
        again.assert_status(200);
    }
    gateway.assert_answers("local:m").await;
    let logs = gateway.logs();
    assert!(
        logs.contains("adapter call cancelled: past its deadline"),
        "the host logs the cancellation:\n{logs}"
    );
}

#[tokio::test]
async fn a_stream_that_sleeps_after_its_start_ends_with_a_timeout_error_event() {
    let mock = MockUpstream::start(Script::new()).await;
    let gateway = builder(&mock, &mock.base_url(), Config::new())
        .start()
        .await;
    let started = Instant::now();
    let mut request = hello("misbehaving:sleep-stream");
    request["stream"] = json!(true);
    let response = gateway.post_json("/api/v1/chat", &request).await;
    assert_eq!(response.status().as_u16(), 200, "the stream opened");
    let read = sse::read(response, Duration::from_secs(60)).await;
    assert!(
        started.elapsed() < CUT_OFF_WITHIN,
        "cut off after {:?}",
        started.elapsed()
    );
    assert_eq!(read.of_type("start").len(), 1, "{}", read.raw);
    let errors = read.of_type("error");
    assert_eq!(
        errors.len(),
        1,
        "one error event ends the stream: {}",
        read.raw
    );
    let error = &errors[0]["error"];
    assert_eq!(error["code"], "adapter_timeout", "{}", read.raw);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("adapter 'misbehaving' did not answer a stream's next event"),
        "{}",
        read.raw
    );
    gateway.assert_answers("local:m").await;
}

#[tokio::test]
async fn get_models_that_sleeps_is_listed_as_unavailable_and_the_rest_are_listed() {
    let mock = MockUpstream::start(Script::new()).await;
    let sleepy = format!("{}/sleep", mock.base_url());
    let gateway = builder(&mock, &sleepy, Config::new()).start().await;
    let started = Instant::now();
    let list = Answer::read(gateway.get("/api/v1/models").await).await;
    list.assert_status(200);
    assert!(
        started.elapsed() < CUT_OFF_WITHIN,
        "answered after {:?}",
        started.elapsed()
    );
    let body = list.json();
    let unavailable = body["unavailable"].as_array().expect("unavailable");
    let problem = unavailable
        .iter()
        .find(|p| p["provider"] == "misbehaving")
        .unwrap_or_else(|| panic!("misbehaving is not listed as unavailable: {body}"));
    assert_eq!(problem["error"]["code"], "adapter_timeout", "{body}");
    assert!(
        problem["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not answer get-models"),
        "{body}"
    );
    assert!(
        body["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["provider"] == "local"),
        "local's models are listed: {body}"
    );
}

#[tokio::test]
async fn an_adapter_that_sleeps_in_describe_is_refused_at_startup_and_the_rest_serve() {
    let mock = MockUpstream::start(Script::new()).await;
    let config = Config::local(&mock.base_url())
        .provider(Provider::new("misbehaving", &mock.base_url()).api_key_env(KEY_VAR))
        .raw("[reload]\nverify_timeout_seconds = 2\n");
    let sleepy = bins::misbehaving_variant("sleep-in-describe");
    let started = Instant::now();
    let gateway = Gateway::builder(&config)
        .adapter_file(&sleepy)
        .env(KEY_VAR, "k")
        .start()
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "started after {:?}",
        started.elapsed()
    );
    let logs = gateway.logs();
    let refusal = logs
        .lines()
        .find(|l| l.contains("aratta_adapter_misbehaving.wasm") && l.contains("describe()"))
        .unwrap_or_else(|| panic!("no log line refuses the sleeping adapter:\n{logs}"));
    assert!(
        refusal.contains("did not answer within 2s") && refusal.contains("refused"),
        "the refusal gives the timeout as the reason: {refusal}"
    );
    gateway.assert_answers("local:m").await;
    let answer = Answer::read(
        gateway
            .post_json("/api/v1/chat", &hello("misbehaving:ok"))
            .await,
    )
    .await;
    assert_eq!(answer.status.as_u16(), 503, "{}", answer.text);
    assert_eq!(answer.json()["error"]["code"], "adapter_not_loaded");
}

/// One slow chat (`local:slow`, held upstream) in each dialect, as its SDKs send it.
fn dialects() -> [(&'static str, String, Value); 4] {
    let hello = hello("local:slow");
    [
        ("scri", "/api/v1/chat".into(), hello.clone()),
        ("openai", "/v1/chat/completions".into(), hello.clone()),
        (
            "anthropic",
            "/v1/messages".into(),
            json!({"model": "local:slow", "max_tokens": 16,
                   "messages": [{"role": "user", "content": "hi"}]}),
        ),
        (
            "gemini",
            "/v1beta/models/local:slow:generateContent".into(),
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
        ),
    ]
}

#[tokio::test]
async fn a_full_instance_pool_is_a_503_with_retry_after_in_every_dialect_and_opens_no_breaker() {
    let mock = MockUpstream::start(
        Script::new().with_model("slow", Behaviour::Delay(Duration::from_millis(1500))),
    )
    .await;
    let config = Config::local(&mock.base_url())
        .behaviour("adapter_max_instances", "2")
        .raw("[breaker]\nfailure_threshold = 2\n");
    let gateway = Gateway::start(&config).await;
    // Eight at once in each dialect, 32 in all, for two slots.
    let calls = dialects().into_iter().flat_map(|(dialect, path, body)| {
        let gateway = &gateway;
        (0..8).map(move |_| {
            let (path, body) = (path.clone(), body.clone());
            async move {
                (
                    dialect,
                    Answer::read(gateway.post_json(&path, &body).await).await,
                )
            }
        })
    });
    let answers = futures_util::future::join_all(calls).await;
    let mut refused = std::collections::BTreeMap::<&str, usize>::new();
    let mut answered = 0;
    for (dialect, answer) in &answers {
        match answer.status.as_u16() {
            200 => answered += 1,
            503 => {
                *refused.entry(dialect).or_default() += 1;
                assert_eq!(
                    answer.header("retry-after"),
                    Some("1"),
                    "{dialect}: {}",
                    answer.text
                );
                let body = answer.json();
                let message = body["error"]["message"].as_str().unwrap_or_else(|| {
                    panic!("{dialect}: the error in the dialect's shape: {body}")
                });
                assert!(
                    message.contains("instance slots are busy"),
                    "{dialect}: {message}"
                );
            }
            other => panic!("{dialect}: {other}: {}", answer.text),
        }
    }
    assert!(answered >= 1, "the slots served someone");
    assert_eq!(
        refused.len(),
        4,
        "every dialect was refused at least once: {refused:?}"
    );
    // Only the calls that had a slot reached the provider (the background model-list refresh
    // asks too, on another path).
    assert_eq!(
        mock.chat_requests().len(),
        answered,
        "calls refused never left the gateway"
    );

    // Not the provider's fault, nor the adapter's: no breaker opened, no failure counted,
    // nothing for the health monitor.
    let breakers = Answer::read(gateway.get("/api/v1/breakers").await).await;
    let local = breakers
        .json()
        .as_array()
        .and_then(|all| all.iter().find(|b| b["provider"] == "local").cloned())
        .unwrap_or_else(|| panic!("no breaker for local: {}", breakers.text));
    assert_eq!(local["state"], "closed", "{local}");
    assert_eq!(local["recent_failures"], 0, "{local}");
    let metrics = Answer::read(gateway.get("/metrics").await).await;
    assert!(
        metrics
            .text
            .contains("adapter_errors_total{class=\"overloaded\",provider=\"local\"} 0"),
        "an overload is not an adapter error (the series exists from the start, at 0):\n{}",
        metrics.text
    );
    gateway.assert_answers("local:m").await;
}

/// Reads a stream's body until its `start` event has arrived, and returns the open response.
async fn until_started(mut response: reqwest::Response) -> reqwest::Response {
    assert_eq!(response.status().as_u16(), 200, "the stream opened");
    let mut seen = String::new();
    while !seen.contains("start") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("the start event arrives")
            .expect("the body reads")
            .expect("the stream is still open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    response
}

#[tokio::test]
async fn a_never_ending_stream_whose_client_disconnects_frees_its_slot_at_once() {
    let mock = MockUpstream::start(Script::new()).await;
    // Two slots, both taken by streams that would run until their 6 s deadline.
    let config = Config::new().behaviour("adapter_max_instances", "2");
    let gateway = builder(&mock, &mock.base_url(), config).start().await;
    let mut request = hello("misbehaving:sleep-stream");
    request["stream"] = json!(true);
    let first = until_started(gateway.post_json("/api/v1/chat", &request).await).await;
    let second = until_started(gateway.post_json("/api/v1/chat", &request).await).await;
    let full = Answer::read(
        gateway
            .post_json("/api/v1/chat", &hello("misbehaving:ok"))
            .await,
    )
    .await;
    assert_eq!(
        full.status.as_u16(),
        503,
        "with both streams open the pool is full: {}",
        full.text
    );
    // The clients go away; their streams' instances must be dropped now, not at the deadline.
    let disconnected = Instant::now();
    drop((first, second));
    let mut answered = None;
    while disconnected.elapsed() < Duration::from_secs(3) {
        let answer = Answer::read(
            gateway
                .post_json("/api/v1/chat", &hello("misbehaving:ok"))
                .await,
        )
        .await;
        if answer.status.as_u16() == 200 {
            answered = Some(disconnected.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after =
        answered.expect("a call is served within 3 s of the disconnect (the deadline is 6 s)");
    println!("slot freed {after:?} after the clients disconnected");
}
