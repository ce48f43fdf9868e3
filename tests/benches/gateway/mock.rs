//! The mock upstream: an OpenAI-compatible server on its own thread and single-threaded
//! runtime, answering `POST /v1/chat/completions` with a fixed `chat.completion` (or, in
//! [`Mode::FailEveryOther`], OpenAI's 503 body for every other request) and `GET /v1/models`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The mock's answer: a realistic non-streamed completion (OpenAI's documented shape).
pub(crate) const CHAT_COMPLETION: &str = r#"{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"llama3.2","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_44709d6fcb"}"#;

const MODELS: &str = r#"{"object":"list","data":[{"id":"llama3.2","object":"model","created":1741569952,"owned_by":"library"}]}"#;

/// OpenAI's answer when it is overloaded (503), as the recorded fixture has it.
const OVERLOADED: &str = r#"{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}"#;

/// How the mock answers chat completions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every request answers 200.
    Healthy,
    /// Every other request (by arrival) answers 503: a provider failing half its requests.
    FailEveryOther,
}

pub(crate) struct Mock {
    pub(crate) addr: SocketAddr,
    /// Chat completions answered with 200.
    hits: Arc<AtomicU64>,
    /// Chat completion requests received, answered or failed.
    arrivals: Arc<AtomicU64>,
}

impl Mock {
    /// Serves on its own thread and single-threaded runtime until the process exits.
    pub(crate) fn start(mode: Mode) -> Mock {
        let hits = Arc::new(AtomicU64::new(0));
        let arrivals = Arc::new(AtomicU64::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        let counters = (hits.clone(), arrivals.clone());
        std::thread::Builder::new()
            .name("mock-upstream".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("mock runtime");
                rt.block_on(async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind mock");
                    tx.send(listener.local_addr().expect("mock address"))
                        .expect("report mock address");
                    loop {
                        let Ok((tcp, _)) = listener.accept().await else {
                            continue;
                        };
                        let _ = tcp.set_nodelay(true);
                        let counters = counters.clone();
                        tokio::spawn(async move {
                            let service =
                                service_fn(move |req| answer(req, mode, counters.clone()));
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(tcp), service)
                                .await;
                        });
                    }
                });
            })
            .expect("spawn the mock upstream");
        let addr = rx.recv().expect("the mock upstream started");
        Mock {
            addr,
            hits,
            arrivals,
        }
    }

    /// Chat completions answered with 200 so far.
    pub(crate) fn chat_hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Chat completion requests received so far, failed ones included.
    pub(crate) fn chat_arrivals(&self) -> u64 {
        self.arrivals.load(Ordering::Relaxed)
    }
}

async fn answer(
    req: Request<Incoming>,
    mode: Mode,
    (hits, arrivals): (Arc<AtomicU64>, Arc<AtomicU64>),
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let reply = |status: StatusCode, text: &'static str| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(text.as_bytes())))
            .expect("a valid response")
    };
    Ok(match (parts.method, parts.uri.path()) {
        (Method::POST, "/v1/chat/completions") => {
            if contains(&body, b"\"messages\"") {
                let n = arrivals.fetch_add(1, Ordering::Relaxed);
                if mode == Mode::FailEveryOther && n % 2 == 0 {
                    reply(StatusCode::SERVICE_UNAVAILABLE, OVERLOADED)
                } else {
                    hits.fetch_add(1, Ordering::Relaxed);
                    reply(StatusCode::OK, CHAT_COMPLETION)
                }
            } else {
                reply(
                    StatusCode::BAD_REQUEST,
                    r#"{"error":{"message":"no messages","type":"invalid_request_error"}}"#,
                )
            }
        }
        (Method::GET, "/v1/models") => reply(StatusCode::OK, MODELS),
        _ => reply(
            StatusCode::NOT_FOUND,
            r#"{"error":{"message":"not found","type":"invalid_request_error"}}"#,
        ),
    })
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
