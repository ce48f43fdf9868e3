//! A mock OpenAI-compatible upstream (what Ollama, vLLM or llama.cpp serve), for end-to-end tests.
//!
//! [`MockUpstream::start`] binds `127.0.0.1:0`, serves `/v1/chat/completions`, `/v1/embeddings`,
//! `/v1/models`, `/v1/models/{id}` and `/v1/echo`, and records every request it receives. What it
//! answers is chosen per request by a [`Script`] (see [`Behaviour`]); the answers are the recorded
//! wire fixtures in `tests/fixtures/openai-compatible/`.
//!
//! ```no_run
//! # async fn demo() {
//! use aratta_tests::mock::{Behaviour, MockUpstream, Script};
//! let mock = MockUpstream::start(Script::new().with_model("broken", Behaviour::Error(503))).await;
//! let base_url = mock.base_url(); // http://127.0.0.1:PORT/v1
//! // ... point a gateway at base_url, send requests ...
//! let sent = mock.last_chat_request();
//! assert_eq!(sent.json_body()["stream_options"]["include_usage"], true);
//! # }
//! ```

pub mod fixtures;
mod respond;
mod script;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use fixtures::{DEFAULT_DIMENSIONS, decode_embedding_base64, embedding_for};
pub use respond::sha256_hex;
pub use script::{Behaviour, Script};

/// One request as the mock received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path without the query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The query string, when there was one.
    pub query: Option<String>,
    /// Headers in arrival order; names are lower-case.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Bytes,
    /// The body parsed as JSON, when it was JSON.
    pub json: Option<Value>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    /// Every value of header `name` (case-insensitive), in arrival order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The JSON body; panics with the raw body when the request was not JSON.
    pub fn json_body(&self) -> &Value {
        self.json.as_ref().unwrap_or_else(|| {
            panic!(
                "{} {} had no JSON body: {:?}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The JSON body's `model`, when it has one.
    pub fn model(&self) -> Option<&str> {
        self.json.as_ref()?.get("model")?.as_str()
    }
}

struct Shared {
    script: Mutex<Script>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// A running mock upstream. Stops accepting and closes its connections when dropped.
pub struct MockUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

impl MockUpstream {
    /// Starts a mock on `127.0.0.1` at a free port, answering as `script` says.
    pub async fn start(script: Script) -> MockUpstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the mock upstream");
        Self::serve(listener, script)
    }

    /// Starts a mock on `127.0.0.1:port`, for a test adapter that has the address built in;
    /// panics when the port is taken.
    pub async fn start_on(port: u16, script: Script) -> MockUpstream {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("this test needs 127.0.0.1:{port} free: {e}"));
        Self::serve(listener, script)
    }

    fn serve(listener: TcpListener, script: Script) -> MockUpstream {
        let addr = listener.local_addr().expect("mock listener address");
        let shared = Arc::new(Shared {
            script: Mutex::new(script),
            requests: Mutex::new(Vec::new()),
        });
        let (shutdown, stopped) = watch::channel(false);
        tokio::spawn(accept_loop(listener, shared.clone(), stopped));
        MockUpstream {
            addr,
            shared,
            shutdown,
        }
    }

    /// The base URL a provider config points at: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The socket address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().expect("mock lock").clone()
    }

    /// The requests received on `path` (e.g. `/v1/embeddings`), in arrival order.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// The requests received on `/v1/chat/completions`.
    pub fn chat_requests(&self) -> Vec<RecordedRequest> {
        self.requests_to("/v1/chat/completions")
    }

    /// The last chat request; panics, listing what did arrive, when there was none.
    pub fn last_chat_request(&self) -> RecordedRequest {
        self.chat_requests().pop().unwrap_or_else(|| {
            let seen: Vec<String> = self
                .requests()
                .iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect();
            panic!("the mock received no chat request; it received: {seen:?}")
        })
    }

    /// Queues behaviours for the next chat or embedding requests.
    pub fn push(&self, behaviours: impl IntoIterator<Item = Behaviour>) {
        self.shared
            .script
            .lock()
            .expect("mock lock")
            .queue
            .extend(behaviours);
    }

    /// Replaces the script for requests that arrive from now on.
    pub fn set_script(&self, script: Script) {
        *self.shared.script.lock().expect("mock lock") = script;
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(shared.clone(), req));
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stopped.changed() => {}
            }
        });
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<respond::Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        json: serde_json::from_slice(&body).ok(),
        body,
    };
    shared
        .requests
        .lock()
        .expect("mock lock")
        .push(recorded.clone());
    let route = respond::Route::of(&recorded.method, &recorded.path);
    let (behaviour, chunk_delay) = {
        let mut script = shared.script.lock().expect("mock lock");
        let behaviour = script.choose(route.takes_queue(), recorded.model());
        (behaviour, script.chunk_delay)
    };
    Ok(respond::respond(route, behaviour, &recorded, chunk_delay).await)
}

#[cfg(test)]
mod tests;
