//! The mock upstream: a server for the three wires ([`Wire`]) on its own thread and
//! single-threaded runtime. It answers OpenAI's `POST /v1/chat/completions` (or, in
//! [`Mode::FailEveryOther`], OpenAI's 503 body for every other request), Anthropic's
//! `POST /v1/messages` and Gemini's `:generateContent` / `:streamGenerateContent`, streamed or
//! not as the request asks, and `GET /v1/models`. A streamed answer is written one event per
//! frame, yielding between them, so each event reaches the gateway on its own as a provider's
//! tokens would. Anthropic and Gemini requests without the provider's key are refused (401): an
//! answer through the gateway proves the host injected it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::wire::Wire;

/// The key the Anthropic and Gemini routes require (the gateway's config hands it to the host).
pub(crate) const API_KEY: &str = "bench-key-7f3a";

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

/// A response body: a whole answer, or a stream of SSE events one frame at a time.
type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;

async fn answer(
    req: Request<Incoming>,
    mode: Mode,
    (hits, arrivals): (Arc<AtomicU64>, Arc<AtomicU64>),
) -> Result<Response<Body>, Infallible> {
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
            .body(Full::new(Bytes::from_static(text.as_bytes())).boxed_unsync())
            .expect("a valid response")
    };
    let path = parts.uri.path();
    let wire = match (&parts.method, path) {
        (&Method::POST, "/v1/chat/completions") => Wire::OpenAi,
        (&Method::POST, "/v1/messages") => Wire::Anthropic,
        (&Method::POST, p) if p.starts_with("/v1beta/models/") && p.contains(":") => Wire::Gemini,
        (&Method::GET, "/v1/models") => return Ok(reply(StatusCode::OK, MODELS)),
        _ => {
            return Ok(reply(
                StatusCode::NOT_FOUND,
                r#"{"error":{"message":"not found","type":"invalid_request_error"}}"#,
            ));
        }
    };
    let key = match wire {
        Wire::OpenAi => None,
        Wire::Anthropic => Some("x-api-key"),
        Wire::Gemini => Some("x-goog-api-key"),
    };
    if let Some(header) = key
        && parts.headers.get(header).and_then(|v| v.to_str().ok()) != Some(API_KEY)
    {
        return Ok(reply(
            StatusCode::UNAUTHORIZED,
            r#"{"error":{"message":"missing or wrong API key","type":"authentication_error"}}"#,
        ));
    }
    let asks = match wire {
        Wire::Gemini => contains(&body, b"\"contents\""),
        _ => contains(&body, b"\"messages\""),
    };
    if !asks {
        return Ok(reply(
            StatusCode::BAD_REQUEST,
            r#"{"error":{"message":"no messages","type":"invalid_request_error"}}"#,
        ));
    }
    let n = arrivals.fetch_add(1, Ordering::Relaxed);
    if mode == Mode::FailEveryOther && n % 2 == 0 {
        return Ok(reply(StatusCode::SERVICE_UNAVAILABLE, OVERLOADED));
    }
    hits.fetch_add(1, Ordering::Relaxed);
    let stream = match wire {
        Wire::Gemini => path.ends_with(":streamGenerateContent"),
        _ => contains(&body, b"\"stream\":true"),
    };
    if !stream {
        return Ok(reply(StatusCode::OK, wire.answer()));
    }
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .body(
            Events {
                events: wire.stream_events().into(),
                yielded: false,
            }
            .boxed_unsync(),
        )
        .expect("a valid response"))
}

/// SSE events written one per frame, with a yield to the runtime before each, so hyper flushes
/// them one at a time.
struct Events {
    events: std::collections::VecDeque<Bytes>,
    yielded: bool,
}

impl hyper::body::Body for Events {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.events.is_empty() {
            return std::task::Poll::Ready(None);
        }
        if !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        self.yielded = false;
        let event = self.events.pop_front().expect("not empty");
        std::task::Poll::Ready(Some(Ok(Frame::data(event))))
    }
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
