//! The dialects: the APIs clients speak to Aratta (SCRI itself, OpenAI's chat completions,
//! Anthropic's messages, Gemini's generateContent), each in a folder of its own holding its
//! pure translator to and from SCRI and its routes.
//!
//! A dialect supplies four things, as an impl of [`Dialect`]: how a body decodes to a SCRI
//! request, how a SCRI answer encodes, how SCRI stream events become its server-sent events,
//! and its error body. [`chat`] does the rest once for all of them: the gateway's defaults, the
//! call bounded by the request's deadline, the lineage headers, JSON or a stream, and failures
//! in the dialect's shape with `Retry-After` when the provider gave one. Bad requests are one
//! [`RequestError`] in every dialect, found by one JSON reader ([`json`]). Adding a dialect is a
//! folder with an impl of [`Dialect`], and its routes in [`router`].

#[cfg(test)]
mod answer_bytes_tests;
pub mod anthropic;
pub mod gemini;
pub mod json;
mod lineage;
mod models;
pub mod openai;
mod request_error;
pub mod scri;
mod shape;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use http::{HeaderValue, StatusCode};
use tokio::time::Instant;

use crate::gateway::{Gateway, GatewayError, request_id};
use crate::scri::{ApiErrorBody, ChatRequest, ChatResponse, StreamEvent};

pub use lineage::lineage_headers;
pub use request_error::RequestError;
pub use scri::Failure;
pub use shape::Shape;

tokio::task_local! {
    /// When the request being served must have been answered by: `[server]
    /// request_timeout_seconds` after its headers arrived. Set by the server's ingress layer
    /// around each request.
    pub static DEADLINE: Instant;
}

/// Every dialect's routes: chat, embeddings and model listings in SCRI (`/api/v1`), OpenAI's
/// and Anthropic's (`/v1`) and Gemini's (`/v1beta`, and `/v1` as the SDK's other version).
pub fn router() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/api/v1/chat", post(scri::routes::chat))
        .route("/api/v1/embed", post(scri::routes::embed))
        .route("/api/v1/models", get(scri::routes::models))
        .route("/api/v1/health", get(scri::routes::health))
        .route(
            "/v1/chat/completions",
            post(openai::routes::chat_completions),
        )
        .route("/v1/embeddings", post(openai::routes::embeddings))
        .route("/v1/messages", post(anthropic::routes::messages))
        .route("/v1/models", get(models::list))
        .route(
            "/v1/models/{*rest}",
            get(models::get).post(gemini::routes::call),
        )
        .route("/v1beta/models", get(gemini::routes::models))
        .route(
            "/v1beta/models/{*rest}",
            get(gemini::routes::model).post(gemini::routes::call),
        )
}

/// Bound a call by the request's deadline ([`DEADLINE`]; none outside a served request).
pub async fn with_timeout<T>(
    gw: &Gateway,
    call: impl Future<Output = Result<T, GatewayError>>,
) -> Result<T, Failure> {
    let deadline = DEADLINE.try_with(|d| *d).ok();
    gw.bounded(deadline, call).await.map_err(Failure)
}

/// What a route's path says about a chat request: Gemini names the model and whether to
/// stream there; the other dialects say it in the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct PathArgs<'a> {
    /// The model named by the path.
    pub model: Option<&'a str>,
    /// Whether the path asks for a stream.
    pub stream: bool,
}

/// A request a dialect refuses before it reaches the gateway, answered in the dialect's
/// error shape. Boxed where it is returned: it is large and rare.
#[derive(Debug)]
pub struct Refusal {
    /// The HTTP status.
    pub status: StatusCode,
    /// What is wrong, and with which field.
    pub error: ApiErrorBody,
}

impl Refusal {
    /// A boxed refusal, as [`Dialect::decode`] returns it.
    pub fn boxed(status: StatusCode, error: ApiErrorBody) -> Box<Self> {
        Box::new(Refusal { status, error })
    }
}

impl From<RequestError> for Box<Refusal> {
    fn from(e: RequestError) -> Self {
        Refusal::boxed(e.status(), e.to_api_error())
    }
}

/// One API's wire format around SCRI.
pub trait Dialect {
    /// What decoding learned that the encoders need (OpenAI's `stream_options`).
    type Options: Send + 'static;
    /// Turns SCRI stream events into this dialect's server-sent events.
    type Encoder: StreamEncoder;

    /// The SCRI request a body stands for, or why it is refused (answered in [`Dialect::error`]'s
    /// shape).
    fn decode(
        body: &[u8],
        path: PathArgs<'_>,
    ) -> Result<(ChatRequest, Self::Options), Box<Refusal>>;

    /// A whole answer as this dialect's JSON body.
    fn encode(answer: &ChatResponse, options: &Self::Options) -> impl serde::Serialize;

    /// The encoder for one stream, `request_id` being the gateway's (`req_…`).
    fn encoder(request_id: &str, model: String, options: Self::Options) -> Self::Encoder;

    /// An error body in this dialect's shape.
    fn error(status: StatusCode, error: &ApiErrorBody) -> Response;
}

/// Encodes one stream's SCRI events.
pub trait StreamEncoder: Send + 'static {
    /// The server-sent events `event` becomes: none, one or several (a terminal event may add
    /// a trailer, as OpenAI's `[DONE]`).
    fn push(&mut self, event: &StreamEvent) -> Vec<Event>;
}

/// A gateway failure in dialect `D`'s shape, with `Retry-After` when the provider gave one.
pub fn failure<D: Dialect>(e: &GatewayError) -> Response {
    let mut response = D::error(e.status(), &e.to_api_error());
    if let Some(seconds) = e.retry_after_seconds() {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Answer a chat request in dialect `D`: decode, default, call the gateway within the
/// request's deadline, and encode the answer (JSON, or server-sent events when it streams).
pub async fn chat<D: Dialect>(gw: &Gateway, body: &[u8], path: PathArgs<'_>) -> Response {
    let (mut request, options) = match D::decode(body, path) {
        Ok(decoded) => decoded,
        Err(refusal) => return D::error(refusal.status, &refusal.error),
    };
    if let Err(e) = gw.prepare_chat(&mut request) {
        return failure::<D>(&e);
    }
    let id = request_id();
    if !request.stream {
        return match with_timeout(gw, gw.chat(&request, &id)).await {
            Ok(answer) => (
                lineage_headers(&answer.lineage),
                axum::Json(D::encode(&answer, &options)),
            )
                .into_response(),
            Err(Failure(e)) => failure::<D>(&e),
        };
    }
    let open = match with_timeout(gw, gw.chat_stream(&request, &id)).await {
        Ok(open) => open,
        Err(Failure(e)) => return failure::<D>(&e),
    };
    let headers = lineage_headers(open.lineage());
    let mut encoder = D::encoder(&id, open.lineage().model.clone(), options);
    let events = open.flat_map(move |event| {
        futures::stream::iter(encoder.push(&event).into_iter().map(Ok::<_, Infallible>))
    });
    (headers, Sse::new(events)).into_response()
}
