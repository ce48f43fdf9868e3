//! Builds the mock's HTTP answer for one request and one [`Behaviour`].

use std::convert::Infallible;
use std::io;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::fixtures::{self, SseData};
use super::{Behaviour, RecordedRequest};

/// The body type the mock answers with: whole, or streamed and possibly cut.
pub(crate) type Body = BoxBody<Bytes, io::Error>;

/// The routes the mock knows, below its `/v1` base.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Route {
    Chat,
    Embeddings,
    Models,
    Model,
    Echo,
    Unknown,
}

impl Route {
    pub(crate) fn of(method: &str, path: &str) -> Route {
        match (method, path) {
            (_, "/v1/echo") => Route::Echo,
            ("POST", "/v1/chat/completions") => Route::Chat,
            ("POST", "/v1/embeddings") => Route::Embeddings,
            ("GET", "/v1/models") => Route::Models,
            ("GET", p) if p.starts_with("/v1/models/") => Route::Model,
            _ => Route::Unknown,
        }
    }

    /// Whether a queued behaviour may answer this route.
    pub(crate) fn takes_queue(self) -> bool {
        matches!(self, Route::Chat | Route::Embeddings)
    }
}

/// How a streamed body ends.
#[derive(Clone, Copy, PartialEq)]
enum End {
    /// The HTTP body ends properly (terminating chunk).
    Clean,
    /// The connection is dropped: the client sees an incomplete body.
    Abort,
}

/// Answers `request` on `route` with `behaviour`.
pub(crate) async fn respond(
    route: Route,
    behaviour: Behaviour,
    request: &RecordedRequest,
    chunk_delay: Duration,
) -> Response<Body> {
    if route == Route::Echo {
        return json_response(StatusCode::OK, &echo(request));
    }
    if route == Route::Unknown {
        let body = json!({"error": {
            "message": format!("Invalid URL ({} {})", request.method, request.path),
            "type": "invalid_request_error", "param": null, "code": null}});
        return json_response(StatusCode::NOT_FOUND, &body);
    }
    match behaviour {
        Behaviour::Error(status) => error_response(status),
        Behaviour::Delay(delay) => {
            tokio::time::sleep(delay).await;
            normal(route, Behaviour::Normal, request, chunk_delay)
        }
        Behaviour::Garbage => Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(full(fixtures::GARBAGE))
            .expect("valid response"),
        Behaviour::MissingChoices => {
            let mut body = fixtures::json(fixtures::MISSING_CHOICES);
            fixtures::set_model(&mut body, request.model());
            json_response(StatusCode::OK, &body)
        }
        Behaviour::CutMidway => truncated(route, request, chunk_delay, End::Abort),
        Behaviour::EndEarly => truncated(route, request, chunk_delay, End::Clean),
        other => normal(route, other, request, chunk_delay),
    }
}

/// The route's ordinary answer, shaped by a chat behaviour where the route is chat.
fn normal(
    route: Route,
    behaviour: Behaviour,
    request: &RecordedRequest,
    chunk_delay: Duration,
) -> Response<Body> {
    let body = request.json.as_ref().unwrap_or(&Value::Null);
    if route == Route::Chat && body["stream"] == json!(true) {
        let include_usage = body["stream_options"]["include_usage"] == json!(true);
        let (_, streamed) = chat_fixtures(&behaviour);
        let events = fixtures::stream_for(streamed, request.model(), include_usage);
        return sse_response(events, chunk_delay, End::Clean);
    }
    let (status, answer) = whole_answer(route, &behaviour, request);
    json_response(status, &answer)
}

/// The route's ordinary non-streamed answer.
fn whole_answer(
    route: Route,
    behaviour: &Behaviour,
    request: &RecordedRequest,
) -> (StatusCode, Value) {
    let body = request.json.as_ref().unwrap_or(&Value::Null);
    match route {
        Route::Chat => {
            let mut answer = fixtures::json(chat_fixtures(behaviour).0);
            fixtures::set_model(&mut answer, request.model());
            (StatusCode::OK, answer)
        }
        Route::Embeddings => match fixtures::embeddings_response(body) {
            Some(answer) => (StatusCode::OK, answer),
            None => (
                StatusCode::BAD_REQUEST,
                json!({"error": {"message": "'input' is a required property",
                    "type": "invalid_request_error", "param": "input", "code": null}}),
            ),
        },
        Route::Models => (StatusCode::OK, fixtures::json(fixtures::MODELS)),
        Route::Model => {
            let id = request.path.trim_start_matches("/v1/models/");
            let models = fixtures::json(fixtures::MODELS);
            let found = models["data"]
                .as_array()
                .and_then(|all| all.iter().find(|m| m["id"] == id).cloned());
            match found {
                Some(model) => (StatusCode::OK, model),
                None => (
                    StatusCode::NOT_FOUND,
                    json!({"error": {"message": format!("The model '{id}' does not exist"),
                        "type": "invalid_request_error", "param": "model",
                        "code": "model_not_found"}}),
                ),
            }
        }
        Route::Echo | Route::Unknown => unreachable!("answered before"),
    }
}

/// The non-streamed and streamed fixtures for a chat behaviour.
fn chat_fixtures(behaviour: &Behaviour) -> (&'static str, &'static str) {
    match behaviour {
        Behaviour::ToolCall => (fixtures::TOOL_CALL, fixtures::TOOL_CALL_STREAM),
        Behaviour::ParallelToolCalls => (
            fixtures::PARALLEL_TOOL_CALLS,
            fixtures::PARALLEL_TOOL_CALLS_STREAM,
        ),
        Behaviour::OllamaToolCall => (
            fixtures::OLLAMA_TOOL_CALL,
            fixtures::OLLAMA_TOOL_CALL_STREAM,
        ),
        Behaviour::ToolCallWithoutId => (
            fixtures::LLAMACPP_TOOL_CALL_NO_ID,
            fixtures::LLAMACPP_TOOL_CALL_NO_ID_STREAM,
        ),
        Behaviour::Reasoning => (fixtures::REASONING, fixtures::REASONING_STREAM),
        _ => (fixtures::CHAT_COMPLETION, fixtures::CHAT_COMPLETION_STREAM),
    }
}

/// Half an answer, then `end`. Streams stop before any `finish_reason`; JSON stops mid-object.
fn truncated(
    route: Route,
    request: &RecordedRequest,
    chunk_delay: Duration,
    end: End,
) -> Response<Body> {
    let body = request.json.clone().unwrap_or(Value::Null);
    if route == Route::Chat && body["stream"] == json!(true) {
        let events = fixtures::stream_for(fixtures::CHAT_COMPLETION_STREAM, request.model(), false);
        let half = events.len() / 2;
        let events: Vec<SseData> = events
            .into_iter()
            .take(half)
            .take_while(
                |e| matches!(e, SseData::Chunk(c) if c["choices"][0]["finish_reason"].is_null()),
            )
            .collect();
        return sse_response(events, chunk_delay, end);
    }
    let whole = Bytes::from(
        whole_answer(route, &Behaviour::Normal, request)
            .1
            .to_string(),
    );
    let half = whole.slice(..whole.len() / 2);
    let mut builder = Response::builder().header("content-type", "application/json");
    if end == End::Abort {
        // Promise the whole body, deliver half, drop the connection.
        builder = builder.header("content-length", whole.len());
    }
    builder
        .body(stream_body(vec![half], chunk_delay, end))
        .expect("valid response")
}

/// An OpenAI error response for `status`, with the rate-limit headers on 429.
fn error_response(status: u16) -> Response<Body> {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder()
        .status(code)
        .header("content-type", "application/json");
    if status == 429 {
        builder = builder
            .header("retry-after", "20")
            .header("x-ratelimit-limit-requests", "3")
            .header("x-ratelimit-remaining-requests", "0")
            .header("x-ratelimit-reset-requests", "20s");
    }
    builder
        .body(full(fixtures::error_body(status)))
        .expect("valid response")
}

/// What `/v1/echo` answers: the request's header names, each with the SHA-256 and length of its
/// values but never the values themselves, so an adapter relaying this answer cannot leak a
/// credential the host injected.
fn echo(request: &RecordedRequest) -> Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in &request.headers {
        let entry = headers
            .entry(name.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(json!({"sha256": sha256_hex(value), "len": value.len()}));
        }
    }
    json!({"method": request.method, "path": request.path, "headers": headers})
}

/// Lower-case hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sse_response(events: Vec<SseData>, chunk_delay: Duration, end: End) -> Response<Body> {
    let frames = events
        .iter()
        .map(|e| Bytes::from(fixtures::frame(e)))
        .collect();
    Response::builder()
        .header("content-type", "text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache")
        .body(stream_body(frames, chunk_delay, end))
        .expect("valid response")
}

fn stream_body(frames: Vec<Bytes>, delay: Duration, end: End) -> Body {
    let state = (frames.into_iter(), false);
    let stream = futures_util::stream::unfold(state, move |(mut frames, finished)| async move {
        if finished {
            return None;
        }
        match frames.next() {
            Some(frame) => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Some((Ok(Frame::data(frame)), (frames, false)))
            }
            None if end == End::Abort => {
                let cut = io::Error::new(io::ErrorKind::ConnectionAborted, "mock cut the answer");
                Some((Err(cut), (frames, true)))
            }
            None => None,
        }
    });
    BodyExt::boxed(StreamBody::new(stream))
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full(body.to_string()))
        .expect("valid response")
}

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}
