//! Retries with jittered backoff, end to end: a provider's transient failure is retried on the
//! same provider before falling back, its `retry-after` is honoured (the upstream sees the
//! second attempt no earlier than it asked), a `retry-after` beyond `[retry] max_delay_ms`
//! falls back at once, the caller's invalid request is never retried, a stream is retried
//! before its first event, and each retry is an attempt of its own in the lineage.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aratta_tests::config::{Config, Provider};
use aratta_tests::expect::Answer;
use aratta_tests::gateway::{Gateway, hello};
use aratta_tests::mock::{Behaviour, MockUpstream, Script};
use aratta_tests::sse;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

const MESSAGE: &str = include_str!("../fixtures/anthropic/message.json");
const RATE_LIMITED: &str = include_str!("../fixtures/anthropic/error_429.json");

/// An Anthropic Messages API upstream that rate-limits the first `limited` requests with
/// `retry-after: <seconds>` (the recorded 429 body), then answers with the recorded message.
/// It keeps each request's arrival time.
struct Anthropic {
    url: String,
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl Anthropic {
    async fn start(limited: usize, retry_after_seconds: u64) -> Anthropic {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let seen = arrivals.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let seen = seen.clone();
                        async move {
                            let path = req.uri().path().to_owned();
                            let _ = req.into_body().collect().await;
                            let response = hyper::Response::builder()
                                .header("content-type", "application/json");
                            let response = if path != "/v1/messages" {
                                response.status(404).body(Full::new(Bytes::from_static(
                                    b"{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"Not found\"}}",
                                )))
                            } else {
                                let n = {
                                    let mut seen = seen.lock().unwrap();
                                    seen.push(Instant::now());
                                    seen.len()
                                };
                                if n <= limited {
                                    response
                                        .status(429)
                                        .header("retry-after", retry_after_seconds.to_string())
                                        .header("anthropic-ratelimit-requests-remaining", "0")
                                        .body(Full::new(Bytes::from_static(
                                            RATE_LIMITED.as_bytes(),
                                        )))
                                } else {
                                    response.body(Full::new(Bytes::from_static(MESSAGE.as_bytes())))
                                }
                            };
                            Ok::<_, std::convert::Infallible>(response.unwrap())
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Anthropic { url, arrivals }
    }

    fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().unwrap().clone()
    }
}

const RETRY: &str = "[retry]\nmax_retries = 2\nbase_delay_ms = 50\nmax_delay_ms = 5000\n";

async fn scri_chat(gateway: &Gateway, model: &str) -> Answer {
    Answer::read(gateway.post_json("/api/v1/chat", &hello(model)).await).await
}

fn outcomes(body: &Value) -> Vec<(String, String)> {
    body["lineage"]["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("attempts in the lineage: {body}"))
        .iter()
        .map(|a| {
            (
                a["provider"].as_str().unwrap_or_default().to_owned(),
                a["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pair(provider: &str, outcome: &str) -> (String, String) {
    (provider.to_owned(), outcome.to_owned())
}

#[tokio::test]
async fn a_rate_limit_is_retried_no_earlier_than_its_retry_after() {
    let upstream = Anthropic::start(1, 1).await;
    let config = Config::new()
        .provider(Provider::new("anthropic", &upstream.url).api_key_env("ANTHROPIC_API_KEY"))
        .raw(RETRY);
    let gateway = Gateway::builder(&config)
        .env("ANTHROPIC_API_KEY", "test-key")
        .start()
        .await;

    let answer = scri_chat(&gateway, "anthropic:claude-sonnet-4-5").await;
    let body = answer.assert_status(200).json();
    let arrivals = upstream.arrivals();
    assert_eq!(arrivals.len(), 2, "one retry after the 429");
    let waited = arrivals[1] - arrivals[0];
    assert!(
        waited >= Duration::from_secs(1),
        "the retry came {waited:?} after the 429, before its retry-after of 1 s"
    );
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(
        outcomes(&body),
        [
            pair("anthropic", "rate_limit_error"),
            pair("anthropic", "ok")
        ]
    );

    let metrics = Answer::read(gateway.get("/metrics").await).await.text;
    assert!(
        metrics.contains("provider_retries_total{provider=\"anthropic\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("adapter_errors_total{class=\"rate_limited\",provider=\"anthropic\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_falls_back_at_once() {
    // The mock's 429 says `retry-after: 20`; the cap is 5 s.
    let first = MockUpstream::start(Script::always(Behaviour::Error(429))).await;
    let backup = MockUpstream::start(Script::new()).await;
    let config = Config::local(&first.base_url())
        .provider(Provider::new("backup", &backup.base_url()).adapter("local"))
        .alias("fast", &["local:a", "backup:b"])
        .raw(RETRY);
    let gateway = Gateway::start(&config).await;
    let t0 = Instant::now();
    let body = scri_chat(&gateway, "fast").await.assert_status(200).json();
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert_eq!(first.chat_requests().len(), 1);
    assert_eq!(
        outcomes(&body),
        [pair("local", "rate_limit_error"), pair("backup", "ok")]
    );
}

#[tokio::test]
async fn overload_is_retried_with_backoff_then_falls_back_when_retries_run_out() {
    let first = MockUpstream::start(
        Script::new().with_queue([Behaviour::Error(503), Behaviour::Error(503)]),
    )
    .await;
    let backup = MockUpstream::start(Script::new()).await;
    let config = Config::local(&first.base_url())
        .provider(Provider::new("backup", &backup.base_url()).adapter("local"))
        .alias("fast", &["local:a", "backup:b"])
        .raw(RETRY);
    let gateway = Gateway::start(&config).await;

    // Two 503s, then the third attempt on the same provider answers.
    let body = scri_chat(&gateway, "fast").await.assert_status(200).json();
    assert_eq!(
        outcomes(&body),
        [
            pair("local", "overloaded_error"),
            pair("local", "overloaded_error"),
            pair("local", "ok")
        ]
    );
    assert_eq!(first.chat_requests().len(), 3);
    assert_eq!(backup.chat_requests().len(), 0);

    // Always failing: 1 + 2 retries, then the next provider.
    first.set_script(Script::always(Behaviour::Error(503)));
    let body = scri_chat(&gateway, "fast").await.assert_status(200).json();
    assert_eq!(
        outcomes(&body),
        [
            pair("local", "overloaded_error"),
            pair("local", "overloaded_error"),
            pair("local", "overloaded_error"),
            pair("backup", "ok")
        ]
    );
    assert_eq!(first.chat_requests().len(), 6);
}

#[tokio::test]
async fn the_callers_invalid_request_is_never_retried() {
    let mock = MockUpstream::start(Script::always(Behaviour::Error(400))).await;
    let gateway = Gateway::start(&Config::local(&mock.base_url()).raw(RETRY)).await;
    scri_chat(&gateway, "local:m").await.assert_status(400);
    assert_eq!(mock.chat_requests().len(), 1);
}

#[tokio::test]
async fn a_stream_is_retried_before_its_first_event() {
    let mock = MockUpstream::start(Script::new().with_queue([Behaviour::Error(503)])).await;
    let gateway = Gateway::start(&Config::local(&mock.base_url()).raw(RETRY)).await;
    let mut request = hello("local:m");
    request["stream"] = true.into();
    let response = gateway.post_json("/v1/chat/completions", &request).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let events = sse::parse(&text);
    assert!(!events.is_empty(), "{text}");
    assert!(text.contains("[DONE]"), "{text}");
    assert_eq!(mock.chat_requests().len(), 2);
}
