//! Per-provider mock upstreams for the conformance matrix (`tests/e2e/conformance.rs`).
//!
//! A [`ConformanceMock`] speaks one provider's real wire format by replaying the recorded fixtures
//! in `tests/fixtures/<dir>/`. It is stateless: the requested model names the case (`plain`,
//! `stream-tools`, `e429`, ...), found in the JSON body's `model` (OpenAI, xAI, local, Anthropic)
//! or in the URL path (`/v1beta/models/{case}:generateContent` for Gemini). Every request is
//! recorded and checked on arrival ([`checks`]): method and path, the auth header the host injected
//! and the absence of every other provider's auth header, provider headers (`anthropic-version`).
//! The test then compares each body whole with the provider's expected body ([`bodies`]).
//! What the mock found wrong is kept per request ([`Seen::problems`]) for the test to assert.
//!
//! | wire | adapters | base URL suffix | key variable |
//! | --- | --- | --- | --- |
//! | [`Wire::OpenAi`] (+ Responses API for `openai`, `xai`) | `openai`, `xai`, `local` | `/v1` | `OPENAI_API_KEY`, `XAI_API_KEY`, none |
//! | [`Wire::Anthropic`] | `anthropic` | (bare host) | `ANTHROPIC_API_KEY` |
//! | [`Wire::Google`] | `google` | `/v1beta` | `GEMINI_API_KEY` |

pub mod bodies;
pub mod checks;
mod replies;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::mock::RecordedRequest;

/// The three wire formats the adapters speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// OpenAI Chat Completions (`openai`, `xai`, `local`).
    OpenAi,
    /// Anthropic Messages API.
    Anthropic,
    /// Gemini API `v1beta`.
    Google,
}

/// One adapter's place in the matrix: how to reach it and which fixtures its mock replays.
#[derive(Debug)]
pub struct Spec {
    /// Adapter (and provider) name.
    pub adapter: &'static str,
    /// Wire format.
    pub wire: Wire,
    /// Directory under `tests/fixtures/`.
    pub fixtures: &'static str,
    /// Appended to the mock's root URL to form the provider's `base_url`.
    pub base_suffix: &'static str,
    /// The credential's environment variable, when the provider takes one.
    pub key_env: Option<&'static str>,
}

impl Spec {
    /// The fake credential the gateway is given for this provider.
    pub fn key(&self) -> Option<String> {
        self.key_env.map(|_| format!("test-key-{}", self.adapter))
    }
}

/// Every adapter in the matrix.
pub const SPECS: [Spec; 5] = [
    Spec {
        adapter: "local",
        wire: Wire::OpenAi,
        fixtures: "openai-compatible",
        base_suffix: "/v1",
        key_env: None,
    },
    Spec {
        adapter: "openai",
        wire: Wire::OpenAi,
        fixtures: "openai",
        base_suffix: "/v1",
        key_env: Some("OPENAI_API_KEY"),
    },
    Spec {
        adapter: "xai",
        wire: Wire::OpenAi,
        fixtures: "xai",
        base_suffix: "/v1",
        key_env: Some("XAI_API_KEY"),
    },
    Spec {
        adapter: "anthropic",
        wire: Wire::Anthropic,
        fixtures: "anthropic",
        base_suffix: "",
        key_env: Some("ANTHROPIC_API_KEY"),
    },
    Spec {
        adapter: "google",
        wire: Wire::Google,
        fixtures: "google",
        base_suffix: "/v1beta",
        key_env: Some("GEMINI_API_KEY"),
    },
];

/// The spec of adapter `name`.
pub fn spec(name: &str) -> &'static Spec {
    SPECS
        .iter()
        .find(|s| s.adapter == name)
        .unwrap_or_else(|| panic!("no conformance spec for {name}"))
}

/// One request the mock received, with the case it was for and what was wrong with it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The case (the requested model), or `None` for model listings and probes.
    pub case: Option<String>,
    /// Whether it asked for a stream.
    pub stream: bool,
    /// The request itself.
    pub request: RecordedRequest,
    /// Everything the header and path checks found wrong.
    pub problems: Vec<String>,
}

/// An answer the mock sends.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

struct Shared {
    spec: &'static Spec,
    seen: Mutex<Vec<Seen>>,
}

/// A running mock upstream for one provider. Stops when dropped.
pub struct ConformanceMock {
    addr: SocketAddr,
    spec: &'static Spec,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

impl ConformanceMock {
    /// Starts a mock for `spec` on `127.0.0.1` at a free port.
    pub async fn start(spec: &'static Spec) -> ConformanceMock {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the conformance mock");
        let addr = listener.local_addr().expect("mock address");
        let shared = Arc::new(Shared {
            spec,
            seen: Mutex::new(Vec::new()),
        });
        let (shutdown, stopped) = watch::channel(false);
        tokio::spawn(accept_loop(listener, shared.clone(), stopped));
        ConformanceMock {
            addr,
            spec,
            shared,
            shutdown,
        }
    }

    /// The provider's `base_url` (root URL plus the wire's suffix).
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, self.spec.base_suffix)
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("mock lock").clone()
    }

    /// The requests for `case`, in arrival order.
    pub fn for_case(&self, case: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.case.as_deref() == Some(case))
            .collect()
    }

    /// The last request for `case`; panics when there was none. Panics too when the header or
    /// path checks found something wrong with any request for it.
    pub fn checked(&self, case: &str) -> Seen {
        let seen = self.for_case(case);
        for s in &seen {
            assert!(
                s.problems.is_empty(),
                "{case}: the upstream request was wrong: {:?} ({} {})",
                s.problems,
                s.request.method,
                s.request.path
            );
        }
        seen.last().cloned().unwrap_or_else(|| {
            let all: Vec<String> = self
                .seen()
                .iter()
                .map(|s| format!("{} {}", s.request.method, s.request.path))
                .collect();
            panic!("{case}: the upstream received no request for it; it received {all:?}")
        })
    }
}

impl Drop for ConformanceMock {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stopped: watch::Receiver<bool>) {
    loop {
        let mut stop = stopped.clone();
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let shared = shared.clone();
        let mut stop = stopped.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(shared.clone(), req));
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stop.changed() => {}
            }
        });
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let request = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_string(), value)
            })
            .collect(),
        json: serde_json::from_slice(&body).ok(),
        body,
    };
    let spec = shared.spec;
    let (case, stream) = checks::case_of(spec.wire, &request);
    let problems = checks::request_problems(spec, &request);
    let reply = replies::reply(spec, case.as_deref(), stream, &request);
    shared.seen.lock().expect("mock lock").push(Seen {
        case,
        stream,
        request,
        problems,
    });
    let mut response = Response::builder()
        .status(reply.status)
        .header("content-type", reply.content_type);
    for (name, value) in &reply.headers {
        response = response.header(*name, value);
    }
    Ok(response
        .body(Full::new(Bytes::from(reply.body)))
        .expect("mock response"))
}

/// The text of `tests/fixtures/<dir>/<file>`.
pub fn fixture(dir: &str, file: &str) -> String {
    let path = format!("{}/fixtures/{dir}/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// A JSON fixture, parsed.
pub fn fixture_json(dir: &str, file: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(dir, file))
        .unwrap_or_else(|e| panic!("fixture {dir}/{file} is not JSON: {e}"))
}
